import EDIFACT
import Foundation
import Testing

@testable import Gateway

// End-to-end tests of the `gateway` executable: every test runs the real binary, built next to this
// test bundle by `swift build --build-tests`, and checks what an operator sees (standard output,
// standard error, exit status). Golden files live in `Golden/`; `UPDATE_GOLDEN=1 swift test` rewrites them.

/// What one run of the executable printed and how it ended.
struct CLIRun: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String
    /// Peak resident set of the process in KiB (VmHWM, sampled from /proc while it ran); nil where not available.
    var peakResidentKiB: Int?

    var description: String { "exit \(status)\n--- stdout:\n\(stdout)--- stderr:\n\(stderr)" }
}

/// Finds and runs the `gateway` executable.
enum CLI {
    /// The package root, from this file's path (Tests/GatewayTests/CLITests.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// The EDIFACT fixtures shared with EDIFACTTests.
    static let fixtures = packageRoot.appendingPathComponent("Tests/EDIFACTTests/Fixtures")
    /// The golden files of these tests.
    static let golden = packageRoot.appendingPathComponent("Tests/GatewayTests/Golden")

    /// Where the executable may be: next to the test binary (SwiftPM puts every product of a build in one
    /// directory), else in the package's default debug build directory.
    static let candidates: [URL] = {
        var dirs: [URL] = []
        if let exe = Bundle.main.executableURL { dirs.append(exe.deletingLastPathComponent()) }
        if let first = CommandLine.arguments.first { dirs.append(URL(fileURLWithPath: first).deletingLastPathComponent()) }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            dirs.append(bundle.bundleURL.deletingLastPathComponent())
        }
        dirs.append(packageRoot.appendingPathComponent(".build/debug"))
        return dirs.map { $0.appendingPathComponent("gateway").standardizedFileURL }
    }()

    /// The executable, or nil when it was not built.
    static let executable: URL? = candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }

    /// Runs `gateway ARGS` in `directory` (relative paths in output stay machine-independent), with
    /// 80-column help and optional standard input from a file.
    static func run(_ arguments: [String], in directory: URL, stdin: URL? = nil) throws -> CLIRun {
        let exe = try #require(
            executable,
            "the gateway executable was not found; build it with `swift build --build-tests`. Looked in: \(candidates.map(\.path))")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)

        let process = Process()
        process.executableURL = exe
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["COLUMNS"] = "80"
        environment["LINES"] = "24"
        process.environment = environment
        process.standardOutput = out
        process.standardError = err
        process.standardInput = try stdin.map { try FileHandle(forReadingFrom: $0) } ?? FileHandle.nullDevice
        try process.run()
        // VmHWM is the process's own high-water mark (reset by exec, so the test process's memory is not
        // in it); the last sample before exit is the peak, give or take the final few milliseconds.
        var peak: Int?
        while process.isRunning {
            if let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
               let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
               let kib = Int(line.split(separator: " ").dropFirst().first ?? "") {
                peak = max(peak ?? 0, kib)
            }
            usleep(20_000)
        }
        process.waitUntilExit()
        try out.close()
        try err.close()
        return CLIRun(
            status: process.terminationStatus,
            stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self),
            peakResidentKiB: peak)
    }

    /// Runs with the fixtures directory as working directory.
    static func inFixtures(_ arguments: String...) throws -> CLIRun {
        try run(arguments, in: fixtures)
    }
}

/// A temporary directory for inputs a test makes itself; removed when the test is done.
///
/// The store: a gateway configuration (`*.toml` with a `[gateway]` table) written here is pointed at `store`. On
/// SQLite it is written as it is; on PostgreSQL its `[store]` table is replaced by one naming a fresh database of
/// the test server, with the batches in `state/`. The kind is `kind`, or by default `StoreKind.pipelineDefault`
/// (`SWG_TEST_STORE=postgres` runs the pipeline suites on PostgreSQL: `scripts/test.sh` does, after the whole
/// suite on SQLite).
final class Scratch {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-cli-\(UUID().uuidString)")
    let storeKind: StoreKind
    private var testStore: TestStore?

    init(store kind: StoreKind = .pipelineDefault) throws {
        storeKind = kind
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }

    /// The store the configurations written here use (created on first use).
    var store: TestStore {
        get throws {
            if let testStore { return testStore }
            let made = try TestStore(storeKind)
            testStore = made
            return made
        }
    }

    /// Opens the store of the spool here (SQLite: `state/gateway.sqlite`).
    func openStore() throws -> GatewayStore {
        storeKind == .sqlite ? try GatewayStore(path: url.appendingPathComponent("state/gateway.sqlite").path) : try store.open()
    }

    /// Writes `bytes` to `name` in the directory.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> URL {
        let file = url.appendingPathComponent(name)
        var bytes = bytes
        if storeKind == .postgres, name.hasSuffix(".toml"), var text = String(bytes: bytes, encoding: .utf8), text.contains("[gateway]") {
            if let start = text.range(of: "[store]\n") {
                let end = text.range(of: "\n[", range: start.upperBound..<text.endIndex)?.lowerBound ?? text.endIndex
                text.removeSubrange(start.lowerBound..<end)
            }
            bytes = Array((text + "\n" + (try store.table(stateDirectory: "state"))).utf8)
        }
        try Data(bytes).write(to: file)
        return file
    }

    /// Writes text (UTF-8) to `name` in the directory.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> URL { try write(name, Array(text.utf8)) }

    /// Runs the gateway with this directory as working directory.
    func gateway(_ arguments: String..., stdin: URL? = nil) throws -> CLIRun {
        try CLI.run(arguments, in: url, stdin: stdin)
    }
}

/// Golden-file comparison: exact, with a line diff on mismatch; `UPDATE_GOLDEN=1` rewrites the file.
enum Golden {
    static func check(_ actual: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let file = CLI.golden.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: CLI.golden, withIntermediateDirectories: true)
            try Data(actual.utf8).write(to: file)
            return
        }
        guard let data = FileManager.default.contents(atPath: file.path) else {
            Issue.record("golden file \(name) is missing; run `UPDATE_GOLDEN=1 swift test --filter CLITests` to create it",
                         sourceLocation: sourceLocation)
            return
        }
        let expected = String(decoding: data, as: UTF8.self)
        if expected != actual {
            Issue.record("output differs from golden file \(name) (- golden, + actual):\n\(diff(expected, actual))",
                         sourceLocation: sourceLocation)
        }
    }

    /// A line diff (longest common subsequence) showing only changed lines with one line of context.
    static func diff(_ a: String, _ b: String) -> String {
        let x = a.split(separator: "\n", omittingEmptySubsequences: false)
        let y = b.split(separator: "\n", omittingEmptySubsequences: false)
        var lcs = Array(repeating: Array(repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in stride(from: x.count - 1, through: 0, by: -1) {
            for j in stride(from: y.count - 1, through: 0, by: -1) {
                lcs[i][j] = x[i] == y[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var ops: [(Character, Substring)] = []
        var i = 0, j = 0
        while i < x.count || j < y.count {
            if i < x.count, j < y.count, x[i] == y[j] {
                ops.append((" ", x[i])); i += 1; j += 1
            } else if i < x.count, j == y.count || lcs[i + 1][j] >= lcs[i][j + 1] {
                ops.append(("-", x[i])); i += 1
            } else {
                ops.append(("+", y[j])); j += 1
            }
        }
        var shown = Set<Int>()
        for (k, op) in ops.enumerated() where op.0 != " " { shown.formUnion(max(0, k - 1)...min(ops.count - 1, k + 1)) }
        var lines: [String] = []
        var last = -1
        for k in shown.sorted() {
            if last >= 0 && k > last + 1 { lines.append("...") }
            lines.append("\(ops[k].0) \(ops[k].1.replacingOccurrences(of: "\t", with: "\\t"))")
            last = k
        }
        return lines.joined(separator: "\n")
    }
}

/// Inputs derived from the shared fixtures.
enum Inputs {
    static let validName = "valid/cuscar-d95b-notes.edi"

    static func fixture(_ name: String) throws -> String {
        try String(contentsOf: CLI.fixtures.appendingPathComponent(name), encoding: .isoLatin1)
    }

    /// The clean CUSCAR with three faults at three levels: a document number longer than an..35 (element),
    /// a wrong UNT segment count (message) and a UNZ reference that does not match UNB (interchange).
    static func rejected() throws -> String {
        var text = try fixture(validName)
        for (old, new) in [
            ("BGM+85+MAN2025-0042+9'", "BGM+85+MAN2025-0042-THIS-DOCUMENT-NUMBER-IS-TOO-LONG+9'"),
            ("UNT+34+M0001'", "UNT+33+M0001'"),
            ("UNZ+1+CUS000123'", "UNZ+1+CUS000999'"),
        ] {
            try #require(text.contains(old), "fixture \(validName) no longer contains \(old)")
            text = text.replacingOccurrences(of: old, with: new)
        }
        return text
    }
}

@Suite("gateway CLI, end to end")
struct CLITests {
    // MARK: Help and version

    @Test("help of gateway, gateway edifact and its subcommands matches the golden files", arguments: [
        (["--help"], "help-gateway.txt"),
        (["edifact", "--help"], "help-edifact.txt"),
        (["run", "--help"], "help-run.txt"),
        (["sshd-config", "--help"], "help-sshd-config.txt"),
        (["edifact", "validate", "--help"], "help-edifact-validate.txt"),
        (["edifact", "parse", "--help"], "help-edifact-parse.txt"),
        (["edifact", "contrl", "--help"], "help-edifact-contrl.txt"),
    ])
    func help(arguments: [String], golden: String) throws {
        let run = try CLI.run(arguments, in: CLI.fixtures)
        #expect(run.status == 0, "\(run)")
        #expect(run.stderr.isEmpty)
        try Golden.check(run.stdout, golden)
    }

    @Test("--version prints the gateway version")
    func version() throws {
        let run = try CLI.inFixtures("--version")
        #expect(run.status == 0)
        #expect(run.stdout == GatewayInfo.version + "\n")
    }

    @Test("gateway version names the gateway and every C library, as text and as JSON")
    func versionCommand() throws {
        let libraries = NativeLibraryVersions.current()
        let text = try CLI.inFixtures("version")
        #expect(text.status == 0)
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "gateway     \(GatewayInfo.version)")
        #expect(lines.contains("openssl     \(libraries.openssl)"))
        #expect(lines.contains("libxml2     \(libraries.libxml2)"))
        // The executable links mimalloc (Package.swift); this test process does not.
        #expect(lines.contains { $0.hasPrefix("allocator   mimalloc 2.") }, "\(lines)")
        #expect(lines.count == 7)
        #expect(VersionReport.currentAllocator() == "glibc")

        let json = try CLI.inFixtures("version", "--json")
        #expect(json.status == 0)
        let decoded = try JSONDecoder().decode(VersionReport.self, from: Data(json.stdout.utf8))
        #expect(decoded == VersionReport(gateway: GatewayInfo.version, libraries: libraries, allocator: decoded.allocator))
        #expect(decoded.allocator.hasPrefix("mimalloc 2."))
    }

    // MARK: validate

    @Test("validate: a clean file gets one summary line and exit 0")
    func validateValidText() throws {
        let run = try CLI.inFixtures("edifact", "validate", Inputs.validName)
        #expect(run.status == 0, "\(run)")
        #expect(run.stderr.isEmpty)
        try Golden.check(run.stdout, "validate-valid.txt")
    }

    @Test("validate --json: a clean file as one JSON document")
    func validateValidJSON() throws {
        let run = try CLI.inFixtures("edifact", "validate", "--json", Inputs.validName)
        #expect(run.status == 0, "\(run)")
        try Golden.check(run.stdout, "validate-valid.json")
        let doc = try JSONDecoder().decode(ValidationDocument.self, from: Data(run.stdout.utf8))
        #expect(doc.files.map(\.valid) == [true])
        #expect(doc.files[0].interchanges.first?.messages.map(\.type) == ["CUSCAR"])
    }

    @Test("validate: every finding on its own line with position, code and reason, then INVALID and exit 1")
    func validateInvalidText() throws {
        let scratch = try Scratch()
        try scratch.write("rejected.edi", try Inputs.rejected())
        let run = try scratch.gateway("edifact", "validate", "rejected.edi")
        #expect(run.status == 1, "\(run)")
        #expect(run.stderr.isEmpty)
        try Golden.check(run.stdout, "validate-invalid.txt")
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("rejected.edi: segment 35 (UNT) element 2 byte ") && $0.contains(": code 29 (") })
        #expect(lines.last?.hasPrefix("rejected.edi: INVALID: 3 findings in 1 interchange") == true)
    }

    @Test("validate --json: findings with code, name, level and position")
    func validateInvalidJSON() throws {
        let scratch = try Scratch()
        try scratch.write("rejected.edi", try Inputs.rejected())
        let run = try scratch.gateway("edifact", "validate", "--json", "rejected.edi")
        #expect(run.status == 1, "\(run)")
        try Golden.check(run.stdout, "validate-invalid.json")
        let doc = try JSONDecoder().decode(ValidationDocument.self, from: Data(run.stdout.utf8))
        let findings = try #require(doc.files.first?.findings)
        #expect(findings.map(\.code) == [39, 29, 28])
        #expect(findings.map(\.level) == ["element", "message", "interchange"])
        let unt = findings[1]
        #expect(unt.tag == "UNT" && unt.segment == 35 && unt.element == 2 && unt.positionInMessage == 34)
        #expect(unt.name == "Control count does not match number of instances received")
    }

    @Test("validate: every shared valid fixture is valid")
    func validateAllValidFixtures() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: CLI.fixtures.appendingPathComponent("valid").path)
            .filter { $0.hasSuffix(".edi") }.sorted().map { "valid/\($0)" }
        try #require(!names.isEmpty)
        let run = try CLI.run(["edifact", "validate"] + names, in: CLI.fixtures)
        #expect(run.status == 0, "\(run)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == names.count)
        for (line, name) in zip(lines, names) { #expect(line.hasPrefix("\(name): valid: "), "\(line)") }
    }

    @Test("validate: every shared negative fixture is rejected (exit 1) with exactly its expected codes and positions")
    func validateAllNegativeFixtures() throws {
        let dir = CLI.fixtures.appendingPathComponent("invalid")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".edi") }.sorted()
        try #require(names.count >= 20)
        for name in names {
            let expectText = try String(contentsOf: dir.appendingPathComponent(name.replacingOccurrences(of: ".edi", with: ".expect")),
                                        encoding: .utf8)
            var arguments = ["edifact", "validate", "--json"]
            if expectText.contains("# options: strict-release") { arguments.append("--strict-release") }
            let run = try CLI.run(arguments + ["invalid/\(name)"], in: CLI.fixtures)
            #expect(run.status == 1, "\(name): \(run)")
            let report = try JSONDecoder().decode(ValidateOutput.self, from: Data(run.stdout.utf8))
            let found = report.files.flatMap(\.findings).map { "\($0.code) \($0.segment) \($0.byteOffset) \($0.element) \($0.component)" }
            let expected = expectText.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
            #expect(found.sorted() == expected.sorted(), "\(name)")
        }
    }

    /// The parts of `validate --json` the negative-fixture test reads.
    struct ValidateOutput: Decodable {
        struct File: Decodable { var findings: [Finding] }
        struct Finding: Decodable { var code: Int; var segment: Int; var byteOffset: Int; var element: Int; var component: Int }
        var files: [File]
    }

    @Test("validate: memory stays flat on a 30 MB interchange of 40 000 messages")
    func validateLargeFileInFlatMemory() throws {
        let text = try Inputs.fixture(Inputs.validName)
        let unh = try #require(text.range(of: "UNH+")), unz = try #require(text.range(of: "UNZ+"))
        let head = Array(text[..<unh.lowerBound].utf8), message = String(text[unh.lowerBound..<unz.lowerBound])
        var bytes = head
        let count = 40_000
        bytes.reserveCapacity(head.count + count * (message.utf8.count + 4) + 64)
        for i in 0..<count {
            let reference = "M" + String(i)
            bytes += message.replacingOccurrences(of: "M0001", with: reference).utf8
        }
        bytes += "UNZ+\(count)+CUS000123'\n".utf8
        let scratch = try Scratch()
        try scratch.write("large.edi", bytes)
        #expect(bytes.count > 30_000_000)

        let run = try scratch.gateway("edifact", "validate", "large.edi")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.hasPrefix("large.edi: valid: 1 interchange, 40000 messages (CUSCAR), "))
        // A gateway that held the file (30 MB) or a report per message would exceed this; a streaming one
        // stays near its baseline (about 28 MB for a debug build).
        #if os(Linux)
        let peak = try #require(run.peakResidentKiB, "no VmHWM sample from /proc")
        #expect(peak < 48 * 1024, "peak resident set of the gateway was \(peak / 1024) MB")
        #endif
    }

    @Test("validate: an unreadable file is named with the OS error, the others are still checked, exit 2")
    func validateMissingFile() throws {
        let run = try CLI.inFixtures("edifact", "validate", "no-such-file.edi", Inputs.validName, "valid")
        #expect(run.status == 2, "\(run)")
        #expect(run.stderr == "no-such-file.edi: cannot open: No such file or directory\nvalid: cannot read: Is a directory\n")
        #expect(run.stdout.hasPrefix("\(Inputs.validName): valid: 1 interchange, 1 message (CUSCAR)"))
    }

    @Test("validate --json: an unreadable file is an entry with its error")
    func validateMissingFileJSON() throws {
        let run = try CLI.inFixtures("edifact", "validate", "--json", "no-such-file.edi")
        #expect(run.status == 2)
        #expect(run.stderr == "no-such-file.edi: cannot open: No such file or directory\n")
        let doc = try JSONDecoder().decode(ValidationDocument.self, from: Data(run.stdout.utf8))
        #expect(doc.files.first?.error == "cannot open: No such file or directory")
        #expect(doc.files.first?.valid == false)
    }

    @Test("validate: one invalid file among valid ones makes exit 1")
    func validateMixed() throws {
        let run = try CLI.inFixtures("edifact", "validate", Inputs.validName, "invalid/29-unt-count.edi")
        #expect(run.status == 1, "\(run)")
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.last?.hasPrefix("invalid/29-unt-count.edi: INVALID: 1 finding in 1 interchange") == true)
    }

    @Test("validate: an empty file and a file that is not EDIFACT are invalid")
    func validateNotEDIFACT() throws {
        let run = try CLI.inFixtures("edifact", "validate", "invalid/32-empty-file.edi", "invalid/13-not-edifact.edi")
        #expect(run.status == 1, "\(run)")
        #expect(run.stdout.contains("invalid/32-empty-file.edi: segment 1 byte 0: code 32 (Lower level empty): "))
        #expect(run.stdout.contains("invalid/13-not-edifact.edi: segment 1 byte 0: code 13 (Missing): "))
    }

    @Test("validate --strict-release reports a release character before an ordinary one as code 22")
    func validateStrictRelease() throws {
        let name = "invalid/22-release-before-ordinary-character.edi"
        let lenient = try CLI.inFixtures("edifact", "validate", name)
        #expect(lenient.status == 0, "\(lenient)")
        let strict = try CLI.inFixtures("edifact", "validate", "--strict-release", name)
        #expect(strict.status == 1, "\(strict)")
        #expect(strict.stdout.contains(": code 22 (Invalid service character(s)): "))
    }

    @Test("validate reads standard input as '-'")
    func validateStandardInput() throws {
        let run = try CLI.run(["edifact", "validate", "-"], in: CLI.fixtures,
                                  stdin: CLI.fixtures.appendingPathComponent(Inputs.validName))
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.hasPrefix("-: valid: 1 interchange, 1 message (CUSCAR)"))
    }

    // MARK: Usage errors

    @Test("usage errors explain themselves on standard error and exit 2", arguments: [
        (["edifact", "validate"], "Error: Missing expected argument '<file> ...'"),
        (["edifact", "validate", "--bogus", "x.edi"], "Error: Unknown option '--bogus'"),
        (["edifact", "frobnicate"], "Error: Unexpected argument 'frobnicate'"),
        (["edifact", "parse"], "Error: Missing expected argument '<file>'"),
        (["edifact", "contrl", "x.edi", "--at", "2025013109"], "Error: Invalid --at: '2025013109' is not a date and time as YYYYMMDDHHMM"),
        (["edifact", "contrl", "x.edi", "--at", "202502301200"], "Error: Invalid --at: '202502301200' is not a real date and time"),
        (["edifact", "contrl", "x.edi", "--sender", ":ZZZ"], "Error: Invalid --sender: the sender identification before ':' is empty"),
        (["edifact", "contrl", "x.edi", "--sender", "A:B:C"], "Error: Invalid --sender: 'A:B:C' has more than one ':'"),
        (["edifact", "contrl", "x.edi", "--reference", "FIFTEEN-CHARS-X"], "Error: Invalid --reference: 'FIFTEEN-CHARS-X' must be 1 to 14 characters"),
    ])
    func usageError(arguments: [String], message: String) throws {
        let run = try CLI.run(arguments, in: CLI.fixtures)
        #expect(run.status == 2, "\(run)")
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.hasPrefix(message), "\(run.stderr)")
        #expect(run.stderr.contains("Usage: gateway "))
    }

    // MARK: parse

    @Test("parse --json: one JSON object per segment, values unescaped")
    func parseJSON() throws {
        let run = try CLI.inFixtures("edifact", "parse", "--json", Inputs.validName)
        #expect(run.status == 0, "\(run)")
        #expect(run.stderr.isEmpty)
        try Golden.check(run.stdout, "parse-valid.jsonl")
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.count == 36)
        for line in lines { #expect(throws: Never.self) { try JSONSerialization.jsonObject(with: Data(line.utf8)) } }
        // `?,` in the file is a released comma: the listing shows the value, not the escape.
        #expect(run.stdout.contains(#""tag":"FTX","elements":[["AAA"],[""],[""],["COTTON T-SHIRTS, KNITTED"]]"#))
    }

    @Test("parse: an indented listing by envelope, elements numbered as findings number them")
    func parseListing() throws {
        let run = try CLI.inFixtures("edifact", "parse", "valid/cuscar-d95b-grouped.edi")
        #expect(run.status == 0, "\(run)")
        try Golden.check(run.stdout, "parse-grouped.txt")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "UNB (segment 1, byte 10)")
        #expect(lines.contains("  UNG (segment 2, byte 71)"))
        #expect(lines.contains("    UNH (segment 3, byte 135)"))
        #expect(lines.contains("      BGM (segment 4, byte 162)"))
        #expect(lines.last?.hasPrefix("    3: ") == true)
    }

    @Test("parse --json: repeated elements (syntax version 4) as repeats; findings on standard error, exit 1")
    func parseRepeatsAndFindings() throws {
        let scratch = try Scratch()
        try scratch.write("repeats.edi", """
            UNA:+.?*'
            UNB+UNOY:4+CARRIERX:ZZZ+SWGATEWAY:ZZZ+20250131:0930+CUS000400'
            UNH+M1+CUSCAR:D:95B:UN'
            BGM+85+MAN?*1+9'
            FTX+AAA+++LINE ONE*LINE?:TWO:X'
            UNT+4+M1'
            UNZ+1+CUS000400'

            """)
        let run = try scratch.gateway("edifact", "parse", "--json", "repeats.edi")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 6)
        #expect(lines[2] == #"{"segment":3,"offset":97,"tag":"BGM","elements":[["85"],["MAN*1"],["9"]]}"#)
        #expect(lines[3] == #"{"segment":4,"offset":114,"tag":"FTX","elements":[["AAA"],[""],[""],{"repeats":[["LINE ONE"],["LINE:TWO","X"]]}]}"#)
        // D95B FTX C108 does not repeat: the finding goes to standard error, the listing is still complete.
        #expect(run.status == 1, "\(run)")
        #expect(run.stderr == "repeats.edi: segment 4 (FTX) element 5 occurrence 2 byte 133: code 35 (Too many data element or segment repetitions): FTX C108 occurs more than 1 times\n")
    }

    @Test("parse --json decodes by the syntax identifier: UNOC (Latin-1) bytes come out as UTF-8")
    func parseDecodesLatin1() throws {
        let scratch = try Scratch()
        var bytes = Array("UNB+UNOC:3+CARRIERX:ZZZ+SWGATEWAY:ZZZ+250131:0930+CUS000500'UNH+M1+CUSCAR:D:95B:UN'BGM+85+CAF".utf8)
        bytes += [0xC9] + Array("+9'UNT+3+M1'UNZ+1+CUS000500'".utf8)
        try scratch.write("latin1.edi", bytes)
        let run = try scratch.gateway("edifact", "parse", "--json", "latin1.edi")
        #expect(run.stdout.contains(#"["85"],["CAFÉ"],["9"]"#), "\(run)")
    }

    @Test("parse: an unreadable file exits 2")
    func parseMissingFile() throws {
        let run = try CLI.inFixtures("edifact", "parse", "no-such-file.edi")
        #expect(run.status == 2)
        #expect(run.stderr == "no-such-file.edi: cannot open: No such file or directory\n")
    }

    // MARK: contrl

    @Test("contrl: a clean interchange is accepted (UCI action 7)")
    func contrlAccepted() throws {
        let run = try CLI.inFixtures("edifact", "contrl", Inputs.validName, "--at", "202501310931", "--reference", "ACK000987", "--newline")
        #expect(run.status == 0, "\(run)")
        #expect(run.stderr.isEmpty)
        try Golden.check(run.stdout, "contrl-accepted.edi")
        #expect(run.stdout.contains("UCI+CUS000123+CARRIERX:ZZZ+SWGATEWAY:ZZZ+7'\n"))
    }

    @Test("contrl: a rejected interchange reports each finding with its code and position")
    func contrlRejected() throws {
        let scratch = try Scratch()
        try scratch.write("rejected.edi", try Inputs.rejected())
        let run = try scratch.gateway("edifact", "contrl", "rejected.edi", "--at", "202501310931", "--reference", "ACK000988", "--newline")
        #expect(run.status == 0, "\(run)")
        try Golden.check(run.stdout, "contrl-rejected.edi")
        #expect(run.stdout.contains("UCI+CUS000123+CARRIERX:ZZZ+SWGATEWAY:ZZZ+4+28+UNZ+3'\n"))

        // Without --newline: the same interchange with no line breaks, as it would be sent.
        let raw = try scratch.gateway("edifact", "contrl", "rejected.edi", "--at", "202501310931", "--reference", "ACK000988")
        #expect(raw.stdout == run.stdout.replacingOccurrences(of: "\n", with: ""))
    }

    @Test("contrl: default sender SWGATEWAY:ZZZ and reference 'C' + the received reference; --sender overrides")
    func contrlDefaults() throws {
        let run = try CLI.inFixtures("edifact", "contrl", Inputs.validName, "--at", "202501310931", "--newline")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("UNB+UNOC:3+SWGATEWAY:ZZZ+CARRIERX:ZZZ+250131:0931+CCUS000123'\n"))
        #expect(run.stdout.hasSuffix("UNZ+1+CCUS000123'\n"))

        let custom = try CLI.inFixtures("edifact", "contrl", Inputs.validName, "--at", "202501310931", "--sender", "CNCQCUSTOMS:ZZZ", "--newline")
        #expect(custom.stdout.contains("UNB+UNOC:3+CNCQCUSTOMS:ZZZ+CARRIERX:ZZZ+250131:0931+CCUS000123'\n"))
    }

    @Test("contrl: one CONTRL per interchange of the file")
    func contrlTwoInterchanges() throws {
        let run = try CLI.inFixtures("edifact", "contrl", "valid/cuscar-d95b-two-interchanges.edi", "--at", "202501310931",
                                         "--reference", "ACK1", "--newline")
        #expect(run.status == 0, "\(run)")
        let unbs = run.stdout.split(separator: "\n").filter { $0.hasPrefix("UNB+") }
        #expect(unbs.count == 2)
        #expect(unbs.map { $0.hasSuffix("+ACK1'") } == [true, false])
        #expect(unbs.last?.hasSuffix("+ACK12'") == true)
    }

    @Test("contrl: its output is itself a valid CONTRL interchange")
    func contrlRoundTrip() throws {
        let scratch = try Scratch()
        try scratch.write("rejected.edi", try Inputs.rejected())
        let run = try scratch.gateway("edifact", "contrl", "rejected.edi", "--at", "202501310931")
        try scratch.write("reply.edi", run.stdout)
        let check = try scratch.gateway("edifact", "validate", "reply.edi")
        #expect(check.status == 0, "\(check)")
        #expect(check.stdout.hasPrefix("reply.edi: valid: 1 interchange, 1 message (CONTRL)"))
    }

    @Test("contrl: no CONTRL in reply to a CONTRL; a note on standard error, exit 0")
    func contrlForContrl() throws {
        let run = try CLI.inFixtures("edifact", "contrl", "valid/contrl-v4.edi", "--at", "202501310931")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == "valid/contrl-v4.edi: interchange 'ACK000991' is a CONTRL: no CONTRL is sent in reply to a CONTRL\n")
    }

    @Test("contrl: an unreadable file exits 2")
    func contrlMissingFile() throws {
        let run = try CLI.inFixtures("edifact", "contrl", "no-such-file.edi")
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == "no-such-file.edi: cannot open: No such file or directory\n")
    }
}
