import Foundation
import GRDB
import Testing
import SplitMix

@testable import Gateway

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// `gateway run --once` end to end, as a partner and an operator see it: the real executable on temporary
// spools; every test checks the run's line for each file (text or --json), where the file ended, the receipt
// in the partner's pickup directory, and the ledger (read-only). Archives are built at test time with the
// real tools (zip, tar) and python3 for the hostile ones.

// MARK: - Helpers

/// A one-partner configuration: CARRIERX, relative directories; `extra` lines go into its [[partner]] table.
private func e2eConfig(patterns: [String]? = ["*.edi"], _ extra: String = "") -> String {
    var text = """
        [gateway]
        sender_id = "SWGATEWAY"
        sender_qualifier = "ZZZ"
        spool = "."

        [store]
        kind = "sqlite"
        path = "state/gateway.sqlite"

        [[partner]]
        id = "CARRIERX"
        role = "carrier"
        identities = ["CARRIERX:ZZZ"]
        drop = "partners/CARRIERX/drop"
        pickup = "partners/CARRIERX/pickup"

        """
    if let patterns { text += "patterns = [" + patterns.map { "\"\($0)\"" }.joined(separator: ", ") + "]\n" }
    return text + extra + "\n"
}

private let cuscarTemplate = (try? String(
    contentsOf: CLI.fixtures.appendingPathComponent("valid/cuscar-d95b-notes.edi"), encoding: .utf8)) ?? ""

/// A valid CUSCAR from CARRIERX:ZZZ with its own interchange reference (and so its own bytes).
private func cuscar(_ reference: String, sender: String = "CARRIERX:ZZZ") -> String {
    cuscarTemplate.replacingOccurrences(of: "CUS000123", with: reference)
        .replacingOccurrences(of: "MAN2025-0042", with: "MAN-" + reference)
        .replacingOccurrences(of: "+CARRIERX:ZZZ+", with: "+\(sender)+")
}

/// CONTRL accepting the whole interchange `reference` from CARRIERX (UCI action 7).
private func acceptsInterchange(_ contrl: String, _ reference: String, sender: String = "CARRIERX:ZZZ") -> Bool {
    contrl.contains("UCI+\(reference)+\(sender)+SWGATEWAY:ZZZ+7'")
}

/// The ledger, read-only, as plain values.
private struct Ledger {
    struct Batch {
        var id: Int64, name: String, parent: Int64?, member: String?, state: String, reason: String?, sha256: String
        var reference: String?
    }
    struct Job { var id: Int64, kind: String, batch: Int64?, state: String, errorCode: String?, nextRunAt: Date? }
    struct Receipt { var batch: Int64, kind: String, file: String }

    var batches: [Batch] = []
    var jobs: [Job] = []
    var receipts: [Receipt] = []
    var replays: [(batch: Int64, name: String)] = []

    /// Dropped files (not archive members) with this name.
    func top(_ name: String) -> [Batch] { batches.filter { $0.name == name && $0.parent == nil } }
    func members(of id: Int64) -> [Batch] { batches.filter { $0.parent == id } }
    func process(_ batch: Int64) -> [Job] { jobs.filter { $0.kind == "process" && $0.batch == batch } }
    func receipts(_ batch: Int64) -> [Receipt] { receipts.filter { $0.batch == batch } }
    var unfinished: [Job] { jobs.filter { ["queued", "running", "retrying"].contains($0.state) } }

    static func read(_ store: GatewayStore) throws -> Ledger {
        try store.read { db in
            var l = Ledger()
            l.batches = try Row.fetchAll(db, sql: """
                SELECT id, original_name, parent_batch_id, member_name, state, reason, sha256, interchange_ref
                FROM batch ORDER BY id
                """).map {
                Batch(id: $0["id"], name: $0["original_name"], parent: $0["parent_batch_id"], member: $0["member_name"],
                      state: $0["state"], reason: $0["reason"], sha256: $0["sha256"], reference: $0["interchange_ref"])
            }
            l.jobs = try Row.fetchAll(db, sql: "SELECT id, kind, batch_id, state, error_code, next_run_at FROM job ORDER BY id").map {
                Job(id: $0["id"], kind: $0["kind"], batch: $0["batch_id"], state: $0["state"], errorCode: $0["error_code"],
                    nextRunAt: $0["next_run_at"])
            }
            l.receipts = try Row.fetchAll(db, sql: "SELECT batch_id, kind, file_name FROM receipt ORDER BY id").map {
                Receipt(batch: $0["batch_id"], kind: $0["kind"], file: $0["file_name"])
            }
            l.replays = try Row.fetchAll(db, sql: "SELECT batch_id, original_name FROM replay ORDER BY id").map {
                (batch: $0["batch_id"] as Int64, name: $0["original_name"] as String)
            }
            return l
        }
    }
}

/// What `--json` prints.
private struct RunDocument: Decodable {
    var files: [IntakeFileResult]
    var summary: [String: Int]
}

private func decode(_ run: CLIRun) throws -> RunDocument {
    try JSONDecoder().decode(RunDocument.self, from: Data(run.stdout.utf8))
}

/// The first output line starting with `prefix` (stdout, then stderr where failed lines go).
private func line(_ run: CLIRun, _ prefix: String) -> String? {
    (run.stdout + run.stderr).split(separator: "\n").map(String.init).first { $0.hasPrefix(prefix) }
}

/// A temporary spool: the configuration in `gateway.toml`, the partner's directories below.
private final class Spool {
    let scratch: Scratch
    let root: URL

    /// `sub`: the spool is a subdirectory of the scratch directory (a mount point); the configuration is
    /// written by the caller then. `kind`: the store the configuration is pointed at (see `Scratch`).
    init(_ config: String?, sub: String? = nil, kind: StoreKind = .pipelineDefault) throws {
        let scratch = try Scratch(store: kind)
        self.scratch = scratch
        root = sub.map { scratch.url.appendingPathComponent($0) } ?? scratch.url
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: url("partners/CARRIERX/drop"), withIntermediateDirectories: true)
        if let config { try write("gateway.toml", config) }
    }

    func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    func write(_ relative: String, _ bytes: [UInt8]) throws {
        let file = url(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        // A configuration goes through the scratch directory, which points it at the test's store.
        let inScratch = String(file.path.dropFirst(scratch.url.path.count + 1))
        if relative.hasSuffix(".toml") { try scratch.write(inScratch, bytes) } else { try Data(bytes).write(to: file) }
    }

    func write(_ relative: String, _ text: String) throws { try write(relative, Array(text.utf8)) }

    func read(_ relative: String) -> [UInt8]? { FileManager.default.contents(atPath: url(relative).path).map { [UInt8]($0) } }

    func text(_ relative: String) -> String { String(decoding: read(relative) ?? [], as: UTF8.self) }

    /// Every entry of a directory (dotfiles included), sorted; empty when it does not exist.
    func list(_ relative: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url(relative).path)) ?? []).sorted()
    }

    func visible(_ relative: String) -> [String] { list(relative).filter { !$0.hasPrefix(".") } }

    var drop: [String] { list("partners/CARRIERX/drop") }
    var work: [String] { list("work/CARRIERX") }
    var pickup: [String] { visible("partners/CARRIERX/pickup") }
    func receipt(_ name: String) -> String { text("partners/CARRIERX/pickup/" + name) }

    /// `gateway run --once --config gateway.toml [extra]` in the spool.
    func run(_ extra: String...) throws -> CLIRun {
        try CLI.run(["run", "--once", "--config", "gateway.toml"] + extra, in: root)
    }

    func ledger() throws -> Ledger {
        if scratch.storeKind == .sqlite, !FileManager.default.fileExists(atPath: url("state/gateway.sqlite").path) { return Ledger() }
        return try Ledger.read(scratch.storeKind == .sqlite ? GatewayStore(path: url("state/gateway.sqlite").path) : scratch.store.open())
    }

    func setModified(_ relative: String, secondsAgo: Double) throws {
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-secondsAgo)],
                                              ofItemAtPath: url(relative).path)
    }
}

/// Runs a tool found on PATH in `directory`; returns its exit status and standard error.
@discardableResult
private func tool(_ name: String, _ arguments: [String], in directory: URL) throws -> (status: Int32, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [name] + arguments
    process.currentDirectoryURL = directory
    let err = Pipe()
    process.standardOutput = FileHandle.nullDevice
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let data = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

private func requireTool(_ name: String, _ arguments: [String], in directory: URL) throws {
    let result = try tool(name, arguments, in: directory)
    try #require(result.status == 0, "\(name) \(arguments) failed: \(result.stderr)")
}

/// tmpfs mounts for the full-disk test (root with CAP_SYS_ADMIN only).
enum Tmpfs {
    static func mount(_ directory: URL, size: String) -> Bool {
        (try? tool("mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", directory.path], in: URL(fileURLWithPath: "/")))?
            .status == 0
    }

    static func unmount(_ directory: URL) {
        _ = try? tool("umount", [directory.path], in: URL(fileURLWithPath: "/"))
    }

    /// Whether this process may mount a tmpfs (probed once on a throw-away directory).
    static let usable: Bool = {
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("swg-e2e-probe-\(UUID().uuidString)")
        guard (try? FileManager.default.createDirectory(at: probe, withIntermediateDirectories: true)) != nil else { return false }
        defer { try? FileManager.default.removeItem(at: probe) }
        guard mount(probe, size: "64k") else { return false }
        unmount(probe)
        return true
    }()

    /// Fills the file system of `directory` with a dot-named filler, leaving about `freeKiB` (0: until ENOSPC).
    static func fill(_ directory: URL, leavingKiB freeKiB: Int) -> URL {
        let filler = directory.appendingPathComponent(".filler")
        var info = statvfs()
        _ = statvfs(directory.path, &info)
        let available = Int(info.f_bavail) * Int(info.f_frsize)
        let target = freeKiB == 0 ? Int.max : max(0, available - freeKiB * 1024)
        let fd = open(filler.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return filler }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0, count: 65_536)
        var written = 0
        while written < target {
            let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress!, min($0.count, target - written)) }
            if n <= 0 { break }
            written += n
        }
        return filler
    }
}

/// One file dropped in the full-disk test and how it must end.
private struct Dropped {
    var name: String
    var bytes: [UInt8]
    var reference: String?  // nil: unreadable, quarantined with an APERAK
}

/// Nothing lost: each dropped file is still in the drop, or in the work area, or in the ledger with its raw
/// bytes; never both in the drop and claimed; no ledger row without its raw bytes.
private func expectNothingLost(_ spool: Spool, _ files: [Dropped], _ context: String) throws {
    let ledger = try spool.ledger()
    let raw = try RawStore(root: spool.url("state/raw").path)
    let work = spool.work
    for f in files {
        let digest = try SHA256Digest.hash(f.bytes)
        let inDrop = spool.read("partners/CARRIERX/drop/" + f.name) == f.bytes
        let inWork = work.contains { $0.hasSuffix("." + f.name) && spool.read("work/CARRIERX/" + $0) == f.bytes }
        let rows = ledger.top(f.name)
        #expect(rows.count <= 1, "\(f.name): \(rows.count) batch rows\n\(context)")
        let inLedger = rows.first.map { $0.sha256 == digest.hex && raw.contains(digest) } ?? false
        #expect(inDrop || inWork || inLedger, "\(f.name) is lost: not in the drop, the work area or the ledger\n\(context)")
        #expect(!(inDrop && (inWork || !rows.isEmpty)), "\(f.name) is both in the drop and claimed\n\(context)")
    }
    for row in ledger.batches {
        #expect(SHA256Digest(hex: row.sha256).map(raw.contains) == true,
                "batch \(row.id) (\(row.name)) is in the ledger without its raw bytes\n\(context)")
    }
}

/// Every file ended exactly once with its receipt, and the runs after the trouble said so.
private func expectAllDone(_ spool: Spool, _ files: [Dropped], reported stdout: String, _ context: String) throws {
    let ledger = try spool.ledger()
    #expect(ledger.batches.count == files.count, "\(ledger.batches.count) batch rows for \(files.count) files\n\(context)")
    var unreported: [String] = []
    for f in files {
        let rows = ledger.top(f.name)
        guard rows.count == 1, let row = rows.first else {
            Issue.record("\(f.name): \(rows.count) batch rows\n\(context)")
            continue
        }
        let receipts = ledger.receipts(row.id)
        #expect(receipts.count == 1, "\(f.name): \(receipts.count) receipt rows\n\(context)")
        guard let receipt = receipts.first else { continue }
        let delivered = spool.receipt(receipt.file)
        if let reference = f.reference {
            #expect(row.state == "accepted", "\(f.name): \(row.state)\n\(context)")
            #expect(receipt.kind == "CONTRL" && acceptsInterchange(delivered, reference),
                    "\(f.name): \(receipt.kind) \(receipt.file): \(delivered)\n\(context)")
        } else {
            #expect(row.state == "quarantined", "\(f.name): \(row.state)\n\(context)")
            #expect(receipt.kind == "APERAK" && AperakView(delivered).ace == [f.name],
                    "\(f.name): \(receipt.kind) \(receipt.file): \(delivered)\n\(context)")
        }
        if !stdout.contains(receipt.file) { unreported.append("\(f.name) → \(receipt.file)") }
    }
    // The user learns the outcome: the run that finished a file names it and its receipt.
    #expect(unreported.isEmpty, "delivered, but no run after the trouble reported it: \(unreported)\n\(context)")
    #expect(spool.pickup.count == files.count, "pickup: \(spool.pickup)\n\(context)")
    #expect(!spool.list("partners/CARRIERX/pickup").contains { $0.hasSuffix(".tmp") }, "temporaries left in pickup\n\(context)")
    #expect(spool.drop.isEmpty, "drop: \(spool.drop)\n\(context)")
    #expect(spool.work.isEmpty, "work: \(spool.work)\n\(context)")
    #expect(ledger.unfinished.isEmpty, "unfinished jobs: \(ledger.unfinished)\n\(context)")
}

/// Runs again after the trouble, waiting out retry delays (at most twice); returns every run's stdout.
private func runUntilSettled(_ spool: Spool, _ context: inout String) throws -> String {
    var stdout = ""
    for attempt in 0..<3 {
        let run = try spool.run()
        context += "\n--- run after freeing space (\(attempt + 1)): \(run)"
        #expect(run.status == 0, "\(context)")
        stdout += run.stdout
        let pending = try spool.ledger().unfinished
        guard let due = pending.compactMap(\.nextRunAt).max() else { break }
        Thread.sleep(forTimeInterval: min(max(due.timeIntervalSinceNow + 0.3, 0.1), 8))
    }
    return stdout
}

// MARK: - Tests

@Suite("pipeline end to end (gateway run --once)")
struct PipelineEndToEndTests {
    // MARK: 1. Archives

    @Test("zip, tar.gz and tar built by the real tools: archive unpacked, every member its own batch and CONTRL", arguments: StoreKind.underTest)
    func goodArchives(_ kind: StoreKind) throws {
        let spool = try Spool(e2eConfig(patterns: ["*.edi", "*.zip", "*.tar", "*.tar.gz"]), kind: kind)
        let archives: [(file: String, kind: String, prefix: String, tool: String, arguments: [String])] = [
            ("good.zip", "zip", "ZIP", "zip", ["-q", "../good.zip"]),
            ("good.tar.gz", "tar.gz", "TGZ", "tar", ["czf", "../good.tar.gz"]),
            ("good.tar", "tar", "TAR", "tar", ["cf", "../good.tar"]),
        ]
        let members = ["m1.edi", "m2.edi", "m3.edi"]
        for a in archives {
            let stage = spool.url("stage/" + a.kind)
            for (i, m) in members.enumerated() { try spool.write("stage/\(a.kind)/\(m)", cuscar("\(a.prefix)00000\(i + 1)")) }
            try requireTool(a.tool, a.arguments + members, in: stage)
            try FileManager.default.moveItem(at: spool.url("stage/" + a.file), to: spool.url("partners/CARRIERX/drop/" + a.file))
        }

        let run = try spool.run("--json")
        #expect(run.status == 0, "\(run)")
        let document = try decode(run)
        #expect(document.files.count == 12, "\(run)")
        #expect(document.summary["accepted"] == 12, "\(run)")
        #expect(spool.drop.isEmpty && spool.work.isEmpty, "drop \(spool.drop) work \(spool.work)")

        let ledger = try spool.ledger()
        #expect(ledger.batches.count == 12)
        for a in archives {
            let rows = ledger.top(a.file)
            try #require(rows.count == 1, "\(a.file): \(rows)")
            let archive = rows[0]
            #expect(archive.state == "unpacked" && archive.reason == nil, "\(a.file): \(archive)")
            #expect(ledger.receipts(archive.id).isEmpty, "an archive itself gets no receipt")
            let entry = document.files.first { $0.file == a.file }
            #expect(entry?.outcome == .accepted && entry?.reason == "\(a.kind) archive unpacked: 3 members"
                        && entry?.batchId == archive.id && entry?.receipt == nil, "\(a.file): \(String(describing: entry))")
            let memberRows = ledger.members(of: archive.id)
            #expect(memberRows.map(\.member) == members, "\(a.file): \(memberRows)")
            for (i, m) in memberRows.enumerated() {
                let reference = "\(a.prefix)00000\(i + 1)"
                #expect(m.state == "accepted" && m.reference == reference, "\(a.file)/\(m.name): \(m)")
                #expect(ledger.process(m.id).map(\.state) == ["succeeded"])
                let receipts = ledger.receipts(m.id)
                try #require(receipts.count == 1 && receipts[0].kind == "CONTRL", "\(a.file)/\(m.name): \(receipts)")
                #expect(receipts[0].file.hasPrefix("CONTRL-\(m.id)-\(reference)-"), "\(receipts[0].file)")
                #expect(acceptsInterchange(spool.receipt(receipts[0].file), reference), "\(spool.receipt(receipts[0].file))")
                let memberEntry = document.files.first { $0.file == "\(a.file)/\(members[i])" }
                #expect(memberEntry?.outcome == .accepted && memberEntry?.batchId == m.id
                            && memberEntry?.receipt == "partners/CARRIERX/pickup/" + receipts[0].file,
                        "\(String(describing: memberEntry))\n\(run)")
            }
            #expect(ledger.process(archive.id).map(\.state) == ["succeeded"])
        }
        #expect(spool.pickup.count == 9 && spool.pickup.allSatisfy { $0.hasPrefix("CONTRL-") }, "\(spool.pickup)")
        #expect(ledger.receipts.count == 9)
    }

    /// (file, stable code, member at fault) for the hostile archives `hostileScript` builds.
    static let hostile: [(file: String, code: String, member: String)] = [
        ("traversal.zip", "archive.traversal", "../evil.edi"),
        ("traversal.tar", "archive.traversal", "sub/../../evil.edi"),
        ("absolute.zip", "archive.absolute", "/etc/x.edi"),
        ("absolute.tar", "archive.absolute", "/etc/x.edi"),
        ("symlink.tar.gz", "archive.link", "link.edi"),
        ("bomb.zip", "archive.bomb.ratio", "zeros.edi"),
        ("many.tar.gz", "archive.members", "m10000.edi"),
        ("longname.zip", "archive.name", String(repeating: "n", count: 64) + "..."),
    ]

    /// Each hostile archive also holds a valid CUSCAR (`good.edi`), so "nothing processed" can be seen.
    static let hostileScript = """
        import zipfile, tarfile, io
        good = open("good.edi", "rb").read()
        def reg(name, data):
            i = tarfile.TarInfo(name); i.size = len(data); return (i, data)
        def tar(name, mode, entries):
            with tarfile.open(name, mode, format=tarfile.PAX_FORMAT) as t:
                for info, data in entries:
                    t.addfile(info, io.BytesIO(data) if data is not None else None)
        with zipfile.ZipFile("traversal.zip", "w") as z:
            z.writestr("good.edi", good); z.writestr("../evil.edi", good)
        tar("traversal.tar", "w", [reg("good.edi", good), reg("sub/../../evil.edi", good)])
        with zipfile.ZipFile("absolute.zip", "w") as z:
            z.writestr("/etc/x.edi", good)
        tar("absolute.tar", "w", [reg("/etc/x.edi", good)])
        l = tarfile.TarInfo("link.edi"); l.type = tarfile.SYMTYPE; l.linkname = "/etc/passwd"
        tar("symlink.tar.gz", "w:gz", [reg("good.edi", good), (l, None)])
        # 200 MiB of zeros deflate to about 200 KB: 1000:1, over the 100:1 cap (under the 256 MiB member cap).
        with zipfile.ZipFile("bomb.zip", "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("good.edi", good)
            with z.open("zeros.edi", "w") as w:
                chunk = bytes(1 << 20)
                for _ in range(200): w.write(chunk)
        # One member over the 10 000-member cap.
        with tarfile.open("many.tar.gz", "w:gz") as t:
            for n in range(10001):
                i = tarfile.TarInfo("m%05d.edi" % n); i.size = 1; t.addfile(i, io.BytesIO(b"x"))
        # A member name of 3 000 bytes (over the 1 024 accepted; an index entry PostgreSQL would refuse).
        with zipfile.ZipFile("longname.zip", "w") as z:
            z.writestr("good.edi", good); z.writestr("n" * 2996 + ".edi", good)
        """

    @Test("hostile archives: quarantined with a stable code, answered by APERAK, nothing from them processed or written outside", arguments: StoreKind.underTest)
    func hostileArchives(_ kind: StoreKind) throws {
        let spool = try Spool(e2eConfig(patterns: ["*.edi", "*.zip", "*.tar", "*.tar.gz"]), kind: kind)
        let outside = spool.root.deletingLastPathComponent()
        let escapes = [outside.appendingPathComponent("evil.edi").path, "/etc/x.edi"]
        let before = escapes.map { FileManager.default.fileExists(atPath: $0) }
        try spool.write("stage/good.edi", cuscar("HOSTILE001"))
        try requireTool("python3", ["-c", Self.hostileScript], in: spool.url("stage"))
        for h in Self.hostile {
            try FileManager.default.moveItem(at: spool.url("stage/" + h.file), to: spool.url("partners/CARRIERX/drop/" + h.file))
        }

        let run = try spool.run()
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.hasSuffix("8 files: 8 quarantined\n"), "\(run)")
        let ledger = try spool.ledger()
        #expect(ledger.batches.count == Self.hostile.count, "no member batch may exist: \(ledger.batches)")
        #expect(ledger.batches.allSatisfy { $0.parent == nil })
        for h in Self.hostile {
            let l = line(run, "CARRIERX \(h.file): ")
            #expect(l?.hasPrefix("CARRIERX \(h.file): quarantined — receipt partners/CARRIERX/pickup/APERAK-") == true
                        && l?.contains("(archive refused: [\(h.code)] \(h.member): ") == true, "\(h.file): \(l ?? "no line")\n\(run)")
            let rows = ledger.top(h.file)
            try #require(rows.count == 1, "\(h.file): \(rows)")
            let batch = rows[0]
            #expect(batch.state == "quarantined", "\(h.file): \(batch)")
            #expect(batch.reason?.hasPrefix("[\(h.code)] archive refused: [\(h.code)] \(h.member): ") == true, "\(h.file): \(batch)")
            let jobs = ledger.process(batch.id)
            #expect(jobs.count == 1 && jobs.first?.state == "quarantined" && jobs.first?.errorCode == h.code, "\(h.file): \(jobs)")
            let receipts = ledger.receipts(batch.id)
            try #require(receipts.count == 1 && receipts[0].kind == "APERAK", "\(h.file): \(receipts)")
            #expect(l?.contains(receipts[0].file) == true)
            let aperak = AperakView(spool.receipt(receipts[0].file))
            #expect(aperak.erc == ["SWG-ARCH"], "\(h.file): \(aperak)")
            #expect(aperak.ace == [h.file], "\(h.file): \(aperak)")
            #expect(aperak.bgmStatus == "27", "\(h.file): \(aperak)")
            #expect(aperak.ftx.count == 1 && aperak.ftx[0].hasPrefix("\(h.file): archive refused: [\(h.code)] \(h.member): ")
                        && aperak.ftx[0].hasSuffix("(\(h.code))"), "\(h.file): \(aperak.ftx)")
        }
        // Nothing from them processed: only the APERAKs went out.
        #expect(spool.pickup.count == Self.hostile.count && spool.pickup.allSatisfy { $0.hasPrefix("APERAK-") }, "\(spool.pickup)")
        #expect(spool.drop.isEmpty && spool.work.isEmpty)
        // No member was written anywhere: not inside the spool, not beside it, not at its absolute name.
        let everything = FileManager.default.subpaths(atPath: spool.root.path) ?? []
        let names = Set(everything.map { ($0 as NSString).lastPathComponent })
        #expect(names.isDisjoint(with: ["evil.edi", "x.edi", "link.edi", "zeros.edi"]), "\(everything.sorted())")
        #expect(!everything.contains { ($0 as NSString).lastPathComponent.hasPrefix(".swg-member") }, "member temporaries left")
        #expect(escapes.map { FileManager.default.fileExists(atPath: $0) } == before, "\(escapes)")
    }

    @Test("interchange headers no repertoire or store can hold (NUL bytes, references of 3 000 characters): rejected and answered by CONTRL",
          arguments: StoreKind.underTest)
    func hostileHeaders(_ kind: StoreKind) throws {
        let spool = try Spool(e2eConfig(), kind: kind)
        var random = SplitMix64(state: 6)
        let long = String((0..<3_000).map { _ in Character(Unicode.Scalar(UInt8(65 + random.next() % 26))) })
        let headers = [("nulref.edi", "NUL\u{0}REF", "CARRIERX"), ("nulsender.edi", "NULSND", "CARRIER\u{0}X"),
                       ("longref.edi", long, "CARRIERX"), ("longsender.edi", "LONGSND", long)]
        for (file, reference, sender) in headers {
            try spool.write("partners/CARRIERX/drop/" + file, "UNA:+.? 'UNB+UNOC:3+\(sender):ZZZ+SWGATEWAY:ZZZ+260601:1200+\(reference)'"
                            + "UNH+1+CUSCAR:D:95B:UN'BGM+85+X+9'UNT+3+1'UNZ+1+\(reference)'")
        }
        let run = try spool.run()
        #expect(run.status == 0 && run.stdout.hasSuffix("4 files: 4 rejected\n"), "\(run)")
        let ledger = try spool.ledger()
        for (file, _, _) in headers {
            let rows = ledger.top(file)
            try #require(rows.count == 1, "\(file): \(rows)")
            #expect(rows[0].state == "rejected", "\(file): \(rows[0])")
            let receipts = ledger.receipts(rows[0].id)
            try #require(receipts.count == 1 && receipts[0].kind == "CONTRL", "\(file): \(receipts)")
            #expect(spool.receipt(receipts[0].file).contains("UCI+"), "\(file)")
        }
        // Over the syntax's maximum a reference names nothing: not recorded for duplicate detection.
        #expect(ledger.top("longref.edi").first?.reference == nil)
        // What no repertoire holds is echoed as '?' (escaped '??'): the partner can still match the answer.
        let nul = spool.receipt(ledger.receipts(ledger.top("nulref.edi")[0].id)[0].file)
        #expect(nul.contains("UCI+NUL??REF+CARRIERX:ZZZ+SWGATEWAY:ZZZ+4"), "\(nul)")
        #expect(spool.drop.isEmpty && spool.work.isEmpty)
    }

    @Test("file names that are not UTF-8 (GBK, stray bytes) are renamed in the drop to a %XX form, taken and answered; never over a file",
          arguments: StoreKind.underTest)
    func unreadableNames(_ kind: StoreKind) throws {
        let spool = try Spool(e2eConfig(), kind: kind)
        let drop = spool.url("partners/CARRIERX/drop").path
        try writeFile(named: Array("bad".utf8) + [0xFF, 0xFE] + Array("name.edi".utf8), in: drop, cuscar("UNREAD001"))
        try writeFile(named: [0xB2, 0xD5, 0xB5, 0xA5] + Array(".edi".utf8), in: drop, cuscar("UNREAD002"))
        // A name that escapes to one already there waits until that one is taken.
        try spool.write("partners/CARRIERX/drop/x%FF.edi", cuscar("UNREAD003"))
        try writeFile(named: [0x78, 0xFF] + Array(".edi".utf8), in: drop, cuscar("UNREAD004"))

        var run = try spool.run()
        #expect(run.status == 0 && run.stdout.hasSuffix("3 files: 3 accepted\n"), "\(run)")
        for name in ["bad%FF%FEname.edi", "%B2%D5%B5%A5.edi", "x%FF.edi"] {
            #expect(line(run, "CARRIERX \(name): accepted — receipt ") != nil, "\(name)\n\(run)")
        }
        #expect(spool.drop.count == 1, "the fourth waits: \(spool.drop)")
        run = try spool.run()
        #expect(line(run, "CARRIERX x%FF.edi: accepted — receipt ") != nil, "\(run)")
        #expect(spool.drop.isEmpty && spool.pickup.count == 4, "\(spool.drop) \(spool.pickup)")
        #expect(try spool.ledger().batches.map(\.name).sorted() == ["%B2%D5%B5%A5.edi", "bad%FF%FEname.edi", "x%FF.edi", "x%FF.edi"])
    }

    @Test("a file name holding a line break cannot forge a line of the run's report: control characters are shown escaped")
    func lineBreakInName() throws {
        let spool = try Spool(e2eConfig())
        try spool.write("partners/CARRIERX/drop/evil\nCARRIERX fake.edi: accepted.edi", cuscar("FORGED001"))
        let run = try spool.run()
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3 && lines[2].isEmpty, "one line for the file, one summary: \(run)")
        #expect(lines[0].hasPrefix("CARRIERX evil\\nCARRIERX fake.edi: accepted.edi: accepted — receipt "), "\(run)")
        #expect(lines[1] == "1 file: 1 accepted", "\(run)")
    }

    // MARK: 2. Readiness conventions

    @Test("done-marker: a file without its marker stays; with NAME.ok it is taken and the marker removed", arguments: StoreKind.underTest)
    func doneMarker(_ kind: StoreKind) throws {
        let spool = try Spool(e2eConfig(patterns: nil, #"readiness = { convention = "done-marker", markers = [".ok"] }"#), kind: kind)
        try spool.write("partners/CARRIERX/drop/a.edi", cuscar("MARKER0001"))
        try spool.write("partners/CARRIERX/drop/b.edi", cuscar("MARKER0002"))
        try spool.write("partners/CARRIERX/drop/b.edi.ok", "")

        var run = try spool.run()
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.hasPrefix("CARRIERX b.edi: accepted — receipt partners/CARRIERX/pickup/CONTRL-1-MARKER0002-"), "\(run)")
        #expect(run.stdout.hasSuffix("\n1 file: 1 accepted\n"), "\(run)")
        #expect(spool.drop == ["a.edi"], "the marker goes with its file; the unmarked file stays")
        #expect(try spool.ledger().batches.map(\.name) == ["b.edi"])

        try spool.write("partners/CARRIERX/drop/a.edi.ok", "")
        run = try spool.run()
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.hasPrefix("CARRIERX a.edi: accepted — receipt partners/CARRIERX/pickup/CONTRL-2-MARKER0001-"), "\(run)")
        #expect(spool.drop.isEmpty, "\(spool.drop)")
        let ledger = try spool.ledger()
        #expect(ledger.batches.map(\.name) == ["b.edi", "a.edi"], "a marker is never taken as data")
        #expect(ledger.batches.map(\.state) == ["accepted", "accepted"])
        #expect(spool.pickup.count == 2)
    }

    @Test("rename: .part uploads and dotfiles are left alone until renamed", arguments: StoreKind.underTest)
    func renameConvention(_ kind: StoreKind) throws {
        let spool = try Spool(e2eConfig(patterns: nil, #"readiness = { convention = "rename" }"#), kind: kind)
        try spool.write("partners/CARRIERX/drop/c.edi.part", cuscar("RENAME0001"))
        try spool.write("partners/CARRIERX/drop/.d.edi", cuscar("RENAME0002"))
        try spool.write("partners/CARRIERX/drop/e.edi", cuscar("RENAME0003"))

        var run = try spool.run()
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.hasPrefix("CARRIERX e.edi: accepted — receipt partners/CARRIERX/pickup/CONTRL-1-RENAME0003-"), "\(run)")
        #expect(run.stdout.hasSuffix("\n1 file: 1 accepted\n"), "\(run)")
        #expect(spool.drop == [".d.edi", "c.edi.part"])

        try FileManager.default.moveItem(at: spool.url("partners/CARRIERX/drop/c.edi.part"),
                                         to: spool.url("partners/CARRIERX/drop/c.edi"))
        run = try spool.run()
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.hasPrefix("CARRIERX c.edi: accepted — receipt partners/CARRIERX/pickup/CONTRL-2-RENAME0001-"), "\(run)")
        #expect(spool.drop == [".d.edi"])
        #expect(try spool.ledger().batches.map(\.name) == ["e.edi", "c.edi"])
    }

    @Test("stable, polls = 2: the first run only remembers a file, the next one takes it; a change restarts the count", arguments: StoreKind.underTest)
    func stableConvention(_ kind: StoreKind) throws {
        let spool = try Spool(e2eConfig(#"readiness = { convention = "stable", polls = 2, min_age_seconds = 0 }"#), kind: kind)
        try spool.write("partners/CARRIERX/drop/s.edi", cuscar("STABLE0001"))
        try spool.write("partners/CARRIERX/drop/t.edi", cuscar("STABLE0002"))

        var run = try spool.run()
        #expect(run.status == 0 && run.stdout == "0 files\n", "\(run)")
        #expect(spool.drop == ["s.edi", "t.edi"])
        #expect(try spool.ledger().batches.isEmpty)
        let memory = spool.text("state/stability-CARRIERX.json")
        #expect(memory.contains("s.edi") && memory.contains("t.edi"), "sightings are kept across runs: \(memory)")

        // t.edi is still being written (it grows): its count starts again.
        try spool.write("partners/CARRIERX/drop/t.edi", cuscar("STABLE0002") + "\n")
        run = try spool.run()
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.hasPrefix("CARRIERX s.edi: accepted — receipt partners/CARRIERX/pickup/CONTRL-1-STABLE0001-"), "\(run)")
        #expect(run.stdout.hasSuffix("\n1 file: 1 accepted\n"), "\(run)")
        #expect(spool.drop == ["t.edi"])

        run = try spool.run()
        #expect(run.stdout.hasPrefix("CARRIERX t.edi: accepted — receipt partners/CARRIERX/pickup/CONTRL-2-STABLE0002-"), "\(run)")
        #expect(spool.drop.isEmpty)
        #expect(try spool.ledger().batches.map(\.state) == ["accepted", "accepted"])
    }

    // MARK: 3. Half-written files

    @Test("EDIFACT without UNZ waits in the drop; past incomplete_deadline_seconds it is quarantined with an APERAK", arguments: StoreKind.underTest)
    func halfWritten(_ kind: StoreKind) throws {
        let spool = try Spool(e2eConfig("incomplete_deadline_seconds = 60"), kind: kind)
        let whole = cuscar("HALF000001")
        let half = String(whole[..<whole.range(of: "UNZ+")!.lowerBound])
        try spool.write("partners/CARRIERX/drop/half.edi", half)

        var run = try spool.run()
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout == """
            CARRIERX half.edi: waiting (EDIFACT: the last interchange is not closed (last segment is UNT, not UNZ))
            1 file: 1 waiting

            """, "\(run)")
        #expect(spool.drop == ["half.edi"])
        #expect(try spool.ledger().batches.isEmpty)
        #expect(spool.pickup.isEmpty)

        // The partner gave up two hours ago.
        try spool.setModified("partners/CARRIERX/drop/half.edi", secondsAgo: 7200)
        run = try spool.run()
        #expect(run.status == 0, "\(run)")
        let l = line(run, "CARRIERX half.edi: ")
        #expect(l?.hasPrefix("CARRIERX half.edi: quarantined — receipt partners/CARRIERX/pickup/APERAK-1-none-") == true, "\(run)")
        #expect(l?.hasSuffix("(incomplete: EDIFACT: the last interchange is not closed (last segment is UNT, not UNZ); "
                             + "still incomplete 60 s after its last change)") == true, "\(run)")
        #expect(spool.drop.isEmpty)
        var ledger = try spool.ledger()
        try #require(ledger.batches.count == 1)
        let batch = ledger.batches[0]
        #expect(batch.state == "quarantined")
        #expect(batch.reason?.hasPrefix("[intake.incomplete] incomplete: EDIFACT: the last interchange is not closed") == true,
                "\(batch)")
        #expect(batch.sha256 == (try SHA256Digest.hash(Array(half.utf8))).hex, "the half file's bytes are what is kept")
        #expect(ledger.process(batch.id).map { "\($0.state) \($0.errorCode ?? "-")" } == ["quarantined intake.incomplete"])
        let receipts = ledger.receipts(batch.id)
        try #require(receipts.count == 1 && receipts[0].kind == "APERAK", "\(receipts)")
        let aperak = AperakView(spool.receipt(receipts[0].file))
        #expect(aperak.erc == ["SWG-INCM"] && aperak.ace == ["half.edi"], "\(aperak)")
        #expect(aperak.ftx.first?.hasPrefix("half.edi: incomplete: EDIFACT: the last interchange is not closed") == true
                    && aperak.ftx.first?.hasSuffix("(intake.incomplete)") == true, "\(aperak.ftx)")

        // The partner uploads the whole interchange again: it was never received, so it is accepted, not a
        // duplicate of the abandoned half (ISO 9735 duplicate detection is about interchanges received).
        try spool.write("partners/CARRIERX/drop/half.edi", whole)
        run = try spool.run()
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.hasPrefix("CARRIERX half.edi: accepted — receipt partners/CARRIERX/pickup/CONTRL-2-HALF000001-"),
                "the complete re-send after a quarantined half upload must be accepted\n\(run)")
        ledger = try spool.ledger()
        #expect(ledger.batches.map(\.state) == ["quarantined", "accepted"], "\(ledger.batches)")
    }

    // MARK: 4. Unreadable files and replays

    @Test("unreadable files are quarantined (intake.unreadable) with an APERAK; the same bytes again are a replay", arguments: StoreKind.underTest)
    func unreadableAndReplay(_ kind: StoreKind) throws {
        let spool = try Spool(e2eConfig(), kind: kind)
        let text = Array("hello, this is not an interchange\n".utf8)
        let binary = (0..<512).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        try spool.write("partners/CARRIERX/drop/notes.edi", text)
        try spool.write("partners/CARRIERX/drop/blob.edi", binary)

        var run = try spool.run()
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.hasSuffix("2 files: 2 quarantined\n"), "\(run)")
        var ledger = try spool.ledger()
        #expect(ledger.batches.count == 2)
        for (name, bytes) in [("notes.edi", text), ("blob.edi", binary)] {
            let l = line(run, "CARRIERX \(name): ")
            #expect(l?.hasPrefix("CARRIERX \(name): quarantined — receipt partners/CARRIERX/pickup/APERAK-") == true
                        && l?.contains("(unreadable: ") == true, "\(run)")
            let rows = ledger.top(name)
            try #require(rows.count == 1)
            #expect(rows[0].state == "quarantined" && rows[0].reason?.hasPrefix("[intake.unreadable] unreadable: ") == true,
                    "\(rows[0])")
            #expect(rows[0].sha256 == (try SHA256Digest.hash(bytes)).hex)
            #expect(ledger.process(rows[0].id).map { "\($0.state) \($0.errorCode ?? "-")" } == ["quarantined intake.unreadable"])
            let receipts = ledger.receipts(rows[0].id)
            try #require(receipts.count == 1 && receipts[0].kind == "APERAK")
            let aperak = AperakView(spool.receipt(receipts[0].file))
            #expect(aperak.erc == ["SWG-UNRD"] && aperak.ace == [name], "\(aperak)")
            #expect(aperak.ftx.first?.hasPrefix("\(name): unreadable: ") == true
                        && aperak.ftx.first?.hasSuffix("(intake.unreadable)") == true, "\(aperak.ftx)")
        }
        #expect(spool.pickup.count == 2 && spool.drop.isEmpty)
        let notesBatch = ledger.top("notes.edi")[0].id

        // The same bytes as notes.edi, under another name: replay, answered again, no second batch.
        try spool.write("partners/CARRIERX/drop/notes-again.edi", text)
        run = try spool.run("--json")
        #expect(run.status == 0, "\(run)")
        let document = try decode(run)
        try #require(document.files.count == 1, "\(run)")
        let entry = document.files[0]
        #expect(entry.file == "notes-again.edi" && entry.outcome == .replay && entry.batchId == notesBatch, "\(entry)")
        #expect(entry.reason?.hasPrefix("identical replay of quarantined batch \(notesBatch): unreadable: ") == true, "\(entry)")
        let replayReceipt = try #require(entry.receipt, "the replay is answered again")
        #expect(replayReceipt.hasPrefix("partners/CARRIERX/pickup/APERAK-\(notesBatch)-none-"), "\(replayReceipt)")
        #expect(document.summary["replay"] == 1)
        ledger = try spool.ledger()
        #expect(ledger.batches.count == 2, "no second batch row")
        #expect(ledger.replays.map { $0.name } == ["notes-again.edi"] && ledger.replays.map { $0.batch } == [notesBatch])
        #expect(ledger.receipts(notesBatch).count == 1, "the ledger keeps the first receipt of the batch")
        #expect(spool.pickup.count == 3 && spool.drop.isEmpty)
        let again = AperakView(spool.text(replayReceipt))
        #expect(again.erc == ["SWG-UNRD"], "\(again)")
        // The answer is to the file the partner dropped this time.
        #expect(again.ace == ["notes-again.edi"], "the replay's APERAK names \(again.ace), not the file just dropped")
    }

    // MARK: 5. Partner acknowledgement settings

    @Test("aperak = never: quarantined without APERAK; contrl = never: accepted without CONTRL (other receipts unchanged)", arguments: StoreKind.underTest)
    func acknowledgementSettings(_ kind: StoreKind) throws {
        let config = e2eConfig(#"acknowledgement = { aperak = "never" }"#) + """

            [[partner]]
            id = "LINEY"
            role = "carrier"
            identities = ["LINEY:ZZZ"]
            drop = "partners/LINEY/drop"
            pickup = "partners/LINEY/pickup"
            patterns = ["*.edi"]
            acknowledgement = { contrl = "never" }
            """
        let spool = try Spool(config, kind: kind)
        try spool.write("partners/CARRIERX/drop/junk.edi", "not an interchange\n")
        try spool.write("partners/CARRIERX/drop/good.edi", cuscar("ACKNOW0001"))
        try spool.write("partners/LINEY/drop/junk2.edi", "not an interchange either\n")
        try spool.write("partners/LINEY/drop/good2.edi", cuscar("ACKNOW0002", sender: "LINEY:ZZZ"))

        let run = try spool.run()
        #expect(run.status == 0, "\(run)")
        #expect(line(run, "CARRIERX junk.edi: ")?.hasPrefix("CARRIERX junk.edi: quarantined (unreadable: ") == true, "\(run)")
        #expect(line(run, "CARRIERX junk.edi: ")?.hasSuffix("; no APERAK: the partner's setting is aperak = never)") == true,
                "\(run)")
        #expect(line(run, "CARRIERX good.edi: ")?.hasPrefix("CARRIERX good.edi: accepted — receipt partners/CARRIERX/pickup/CONTRL-")
                    == true, "\(run)")
        #expect(line(run, "LINEY good2.edi: ") == "LINEY good2.edi: accepted (no CONTRL: the partner's setting is contrl = never)",
                "\(run)")
        #expect(line(run, "LINEY junk2.edi: ")?.hasPrefix("LINEY junk2.edi: quarantined — receipt partners/LINEY/pickup/APERAK-")
                    == true, "\(run)")
        #expect(run.stdout.hasSuffix("4 files: 2 accepted, 2 quarantined\n"), "\(run)")

        #expect(spool.pickup.count == 1 && spool.pickup[0].hasPrefix("CONTRL-"), "CARRIERX gets its CONTRL only: \(spool.pickup)")
        let liney = spool.visible("partners/LINEY/pickup")
        #expect(liney.count == 1 && liney[0].hasPrefix("APERAK-"), "LINEY gets its APERAK only: \(liney)")
        let ledger = try spool.ledger()
        let states = Dictionary(uniqueKeysWithValues: ledger.batches.map { ($0.name, $0.state) })
        #expect(states == ["junk.edi": "quarantined", "good.edi": "accepted", "junk2.edi": "quarantined", "good2.edi": "accepted"])
        let junk = try #require(ledger.top("junk.edi").first)
        #expect(ledger.process(junk.id).map { "\($0.state) \($0.errorCode ?? "-")" } == ["quarantined intake.unreadable"])
        #expect(ledger.receipts(junk.id).isEmpty)
        #expect(ledger.receipts(try #require(ledger.top("good2.edi").first).id).isEmpty)
        #expect(!ledger.jobs.contains { $0.kind == "deliver" && ($0.batch == junk.id) }, "nothing to deliver for junk.edi")
    }

    // MARK: 6. Several interchanges in one file

    @Test("a file holding two interchanges: one CONTRL file with two CONTRL interchanges, batch accepted", arguments: StoreKind.underTest)
    func twoInterchanges(_ kind: StoreKind) throws {
        let spool = try Spool(e2eConfig(), kind: kind)
        try spool.write("partners/CARRIERX/drop/pair.edi",
                        try String(contentsOf: CLI.fixtures.appendingPathComponent("valid/cuscar-d95b-two-interchanges.edi"),
                                   encoding: .utf8))
        let run = try spool.run("--json")
        #expect(run.status == 0, "\(run)")
        let document = try decode(run)
        try #require(document.files.count == 1, "\(run)")
        let entry = document.files[0]
        #expect(entry.file == "pair.edi" && entry.outcome == .accepted && entry.reason == "2 interchanges in one file", "\(entry)")
        let receipt = try #require(entry.receipt)
        #expect(receipt.hasPrefix("partners/CARRIERX/pickup/CONTRL-1-CUS000123-"), "\(receipt)")
        #expect(spool.pickup.count == 1)
        let contrl = spool.text(receipt)
        #expect(contrl.components(separatedBy: "UNB+").count - 1 == 2, "two CONTRL interchanges: \(contrl)")
        #expect(contrl.components(separatedBy: "UCI+").count - 1 == 2, "\(contrl)")
        #expect(acceptsInterchange(contrl, "CUS000123") && acceptsInterchange(contrl, "CUS000124"), "\(contrl)")
        let ledger = try spool.ledger()
        #expect(ledger.batches.map(\.state) == ["accepted"])
        #expect(ledger.batches.first?.reference == "CUS000123")
        #expect(ledger.receipts.map(\.kind) == ["CONTRL"])
    }

    // MARK: 7. Full disk

    @Test("full disk: the run fails cleanly (exit 1, says why), loses nothing; after space is freed every file ends once",
          .enabled(if: Tmpfs.usable, "needs root with CAP_SYS_ADMIN to `mount -t tmpfs`"))
    func fullDisk() throws {
        var files = (1...9).map { i -> Dropped in
            let reference = "FULL00000\(i)"
            return Dropped(name: "f\(i).edi", bytes: Array(cuscar(reference).utf8), reference: reference)
        }
        files.append(Dropped(name: "junk.edi", bytes: Array("not an interchange\n".utf8), reference: nil))

        // A. The whole spool on a 2 MiB tmpfs, filled to several levels: each level makes a different step
        //    hit ENOSPC first (opening the store, recording the pickup, leasing, committing a process or a
        //    deliver chunk).
        for freeKiB in [0, 100, 180, 260, 380] {
            let spool = try Spool(nil, sub: "spool")
            try #require(Tmpfs.mount(spool.root, size: "2m"), "mount failed")
            defer { Tmpfs.unmount(spool.root) }
            try spool.write("gateway.toml", e2eConfig())
            try FileManager.default.createDirectory(at: spool.url("partners/CARRIERX/drop"), withIntermediateDirectories: true)
            let first = try spool.run()
            try #require(first.status == 0 && first.stdout == "0 files\n", "\(first)")
            for f in files { try spool.write("partners/CARRIERX/drop/" + f.name, f.bytes) }
            let filler = Tmpfs.fill(spool.root, leavingKiB: freeKiB)

            let run = try spool.run()
            var context = "[whole spool, \(freeKiB) KiB left]\n--- full run: \(run)"
            #expect(run.status == 0 || run.status == 1, "no crash\n\(context)")
            #expect(!run.stderr.contains("Fatal error"), "\(context)")
            try FileManager.default.removeItem(at: filler)
            let ledger = try spool.ledger()
            let finished = files.allSatisfy { f in
                ledger.top(f.name).first.map { ["accepted", "quarantined"].contains($0.state) && ledger.receipts($0.id).count == 1 }
                    ?? false
            }
            if !finished {
                #expect(run.status == 1, "files were left unfinished, yet the run exited \(run.status)\n\(context)")
                #expect(run.stderr.contains("No space left on device") || run.stderr.contains("disk is full"),
                        "the error does not say the disk is full\n\(context)")
            }
            try expectNothingLost(spool, files, context)
            let stdout = try runUntilSettled(spool, &context)
            try expectAllDone(spool, files, reported: run.stdout + stdout, context)
        }

        // B. The partner's pickup directory is full: receipts cannot be delivered.
        do {
            let spool = try Spool(e2eConfig())
            let pickup = spool.url("partners/CARRIERX/pickup")
            try FileManager.default.createDirectory(at: pickup, withIntermediateDirectories: true)
            try #require(Tmpfs.mount(pickup, size: "256k"), "mount failed")
            defer { Tmpfs.unmount(pickup) }
            for f in files { try spool.write("partners/CARRIERX/drop/" + f.name, f.bytes) }
            let filler = Tmpfs.fill(pickup, leavingKiB: 0)

            let run = try spool.run()
            var context = "[pickup full]\n--- full run: \(run)"
            #expect(run.status == 1, "\(context)")
            for f in files {
                let l = line(run, "CARRIERX \(f.name): failed (")
                #expect(l?.contains("receipt not delivered: [deliver.io] ") == true
                            && l?.contains(": cannot write: No space left on device") == true, "\(f.name)\n\(context)")
            }
            #expect(run.stdout.hasSuffix("10 files: 10 failed\n"), "\(context)")
            let ledger = try spool.ledger()
            #expect(ledger.receipts.isEmpty, "no receipt recorded that was not delivered")
            #expect(ledger.jobs.filter { $0.kind == "deliver" }.map { "\($0.state) \($0.errorCode ?? "-")" }
                        == Array(repeating: "retrying deliver.io", count: files.count), "\(ledger.jobs)\n\(context)")
            #expect(spool.list("partners/CARRIERX/pickup") == [".filler"], "no partial receipt left: \(spool.list("partners/CARRIERX/pickup"))")
            try FileManager.default.removeItem(at: filler)
            try expectNothingLost(spool, files, context)
            let stdout = try runUntilSettled(spool, &context)
            try expectAllDone(spool, files, reported: run.stdout + stdout, context)
        }

        // C. The raw store is full: claimed files cannot be stored; they wait in the work area.
        do {
            let spool = try Spool(e2eConfig())
            let first = try spool.run()
            try #require(first.status == 0, "\(first)")
            let raw = spool.url("state/raw")
            try #require(Tmpfs.mount(raw, size: "256k"), "mount failed")
            defer { Tmpfs.unmount(raw) }
            for f in files { try spool.write("partners/CARRIERX/drop/" + f.name, f.bytes) }
            let filler = Tmpfs.fill(raw, leavingKiB: 0)

            let run = try spool.run()
            var context = "[raw store full]\n--- full run: \(run)"
            #expect(run.status == 1, "\(context)")
            for f in files {
                let l = line(run, "CARRIERX \(f.name): failed (")
                #expect(l?.contains("state/raw/") == true && l?.contains("cannot write: No space left on device") == true,
                        "\(f.name)\n\(context)")
            }
            #expect(try spool.ledger().batches.isEmpty, "nothing recorded without its raw bytes")
            #expect(spool.drop.isEmpty && spool.work.count == files.count, "claimed files wait in the work area: \(spool.work)")
            try FileManager.default.removeItem(at: filler)
            try expectNothingLost(spool, files, context)
            let stdout = try runUntilSettled(spool, &context)
            try expectAllDone(spool, files, reported: run.stdout + stdout, context)
        }
    }

    // MARK: 8. What is not the gateway's

    @Test("unknown partner directories, files not matching the patterns, subdirectories and links are left alone", arguments: StoreKind.underTest)
    func leftAlone(_ kind: StoreKind) throws {
        let spool = try Spool(e2eConfig(), kind: kind)
        try spool.write("partners/STRANGER/drop/x.edi", cuscar("STRANGE001"))
        try spool.write("partners/CARRIERX/drop/readme.txt", cuscar("STRANGE002"))
        try spool.write("partners/CARRIERX/drop/sub/y.edi", cuscar("STRANGE003"))
        try spool.write("elsewhere/z.edi", cuscar("STRANGE004"))
        try FileManager.default.createSymbolicLink(atPath: spool.url("partners/CARRIERX/drop/link.edi").path,
                                                   withDestinationPath: spool.url("elsewhere/z.edi").path)
        let run = try spool.run()
        #expect(run.status == 0 && run.stdout == "0 files\n", "\(run)")
        #expect(spool.drop == ["link.edi", "readme.txt", "sub"])
        #expect(spool.list("partners/CARRIERX/drop/sub") == ["y.edi"])
        #expect(spool.list("partners/STRANGER") == ["drop"] && spool.list("partners/STRANGER/drop") == ["x.edi"])
        #expect(spool.read("elsewhere/z.edi") == Array(cuscar("STRANGE004").utf8))
        #expect(try spool.ledger().batches.isEmpty)
        #expect(spool.pickup.isEmpty)
    }
}

/// Writes `text` to a file whose name is raw bytes (not necessarily UTF-8, which Foundation cannot name).
func writeFile(named name: [UInt8], in directory: String, _ text: String) throws {
    let path = Array(directory.utf8) + [UInt8(ascii: "/")] + name + [0]
    let fd = path.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY | O_TRUNC, 0o644) } }
    guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    defer { close(fd) }
    let bytes = Array(text.utf8)
    guard write(fd, bytes, bytes.count) == bytes.count else { throw POSIXError(.EIO) }
}
