import Foundation
import GRDB
import Testing

@testable import Gateway

// `gateway run --once` end to end: the real executable on a temporary spool with one carrier.

/// One carrier, relative directories: the configuration the run --once and crash tests share.
let runOnceConfig = """
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
    patterns = ["*.edi"]
    readiness = { convention = "rename" }
    """

/// Two carriers, CARRIERX and CARRIERY.
let twoCarriersConfig = runOnceConfig + """


    [[partner]]
    id = "CARRIERY"
    role = "carrier"
    identities = ["CARRIERY:ZZZ"]
    drop = "partners/CARRIERY/drop"
    pickup = "partners/CARRIERY/pickup"
    patterns = ["*.edi"]
    readiness = { convention = "rename" }
    """

private func fixture(_ path: String) throws -> String {
    try String(contentsOf: CLI.fixtures.appendingPathComponent(path), encoding: .utf8)
}

private func files(_ dir: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
}

private func batchStates(_ scratch: Scratch) throws -> [String] {
    let store = try scratch.openStore()
    return try store.read { try String.fetchAll($0, sql: "SELECT state FROM batch ORDER BY id") }
}

@Suite("gateway run --once")
struct RunOnceTests {
    @Test("good, bad, replay, conflict, half-written and idle runs")
    func cycle() throws {
        let scratch = try Scratch()
        _ = try scratch.write("gateway.toml", runOnceConfig)
        let drop = scratch.url.appendingPathComponent("partners/CARRIERX/drop")
        let pickup = scratch.url.appendingPathComponent("partners/CARRIERX/pickup")
        try FileManager.default.createDirectory(at: drop, withIntermediateDirectories: true)
        let good = try fixture("valid/cuscar-d95b-notes.edi")
        let bad = try fixture("invalid/29-unt-count.edi").replacingOccurrences(of: "CUS000123", with: "CUS000999")

        // 1. A good CUSCAR: accepted, CONTRL with UCI action 7, drop empty, one batch.
        _ = try scratch.write("partners/CARRIERX/drop/manifest.edi", good)
        var run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.hasPrefix("CARRIERX manifest.edi: accepted — receipt partners/CARRIERX/pickup/CONTRL-1-CUS000123-"),
                "\(run)")
        #expect(run.stdout.hasSuffix("1 file: 1 accepted\n"), "\(run)")
        #expect(files(drop).isEmpty)
        #expect(files(scratch.url.appendingPathComponent("work/CARRIERX")).isEmpty)
        var receipts = files(pickup)
        try #require(receipts.count == 1)
        let first = try String(contentsOf: pickup.appendingPathComponent(receipts[0]), encoding: .utf8)
        #expect(first.contains("UCI+CUS000123+CARRIERX:ZZZ+SWGATEWAY:ZZZ+7'"), "\(first)")
        #expect(first.contains("UNB+UNOC:3+SWGATEWAY:ZZZ+CARRIERX:ZZZ+"), "\(first)")
        #expect(try batchStates(scratch) == ["accepted"])

        // 2. A bad one (UNT count wrong): rejected, UCM action 4 code 29.
        _ = try scratch.write("partners/CARRIERX/drop/bad.edi", bad)
        run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("CARRIERX bad.edi: rejected — receipt partners/CARRIERX/pickup/CONTRL-2-CUS000999-"), "\(run)")
        receipts = files(pickup)
        let badReceipt = try #require(receipts.first { $0.hasPrefix("CONTRL-2-") })
        let rejected = try String(contentsOf: pickup.appendingPathComponent(badReceipt), encoding: .utf8)
        #expect(rejected.contains("UCM+M0001+CUSCAR:D:95B:UN+4+29+"), "\(rejected)")
        #expect(try batchStates(scratch) == ["accepted", "rejected"])

        // 3. The same good file again: replay, a second CONTRL for batch 1, no new batch.
        _ = try scratch.write("partners/CARRIERX/drop/manifest-again.edi", good)
        run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("CARRIERX manifest-again.edi: replay — receipt partners/CARRIERX/pickup/CONTRL-1-CUS000123-"),
                "\(run)")
        receipts = files(pickup)
        #expect(receipts.filter { $0.hasPrefix("CONTRL-1-") }.count == 2)
        #expect(try batchStates(scratch) == ["accepted", "rejected"])

        // 4. Same interchange reference, different content: conflict, code 26 at UCI.
        _ = try scratch.write("partners/CARRIERX/drop/changed.edi",
                              good.replacingOccurrences(of: "MACHINE PARTS", with: "MACHINE TOOLS"))
        // 5. A half-uploaded file under the rename convention is left alone.
        _ = try scratch.write("partners/CARRIERX/drop/next.edi.part", String(good.prefix(100)))
        run = try scratch.gateway("run", "--once", "--config", "gateway.toml", "--json")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("\"outcome\": \"conflict\""), "\(run)")
        let conflictName = try #require(files(pickup).first { $0.hasPrefix("CONTRL-3-") })
        let conflict = try String(contentsOf: pickup.appendingPathComponent(conflictName), encoding: .utf8)
        #expect(conflict.contains("UCI+CUS000123+CARRIERX:ZZZ+SWGATEWAY:ZZZ+4+26"), "\(conflict)")
        #expect(files(drop) == ["next.edi.part"])
        #expect(try batchStates(scratch) == ["accepted", "rejected", "conflict"])

        // 6. Nothing new: nothing done.
        let before = files(pickup)
        run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout == "0 files\n", "\(run)")
        #expect(files(pickup) == before)
        #expect(files(drop) == ["next.edi.part"])
        #expect(try batchStates(scratch).count == 3)
        #expect(files(scratch.url.appendingPathComponent("work/CARRIERX")).isEmpty)
    }

    @Test("a file whose UNB sender is not the partner's is rejected with code 23 at UNB S002")
    func foreignSender() throws {
        let scratch = try Scratch()
        _ = try scratch.write("gateway.toml", runOnceConfig)
        let pickup = scratch.url.appendingPathComponent("partners/CARRIERX/pickup")
        try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("partners/CARRIERX/drop"),
                                                withIntermediateDirectories: true)
        let foreign = try fixture("valid/cuscar-d95b-notes.edi").replacingOccurrences(of: "+CARRIERX:ZZZ+", with: "+STRANGER:ZZZ+")
        _ = try scratch.write("partners/CARRIERX/drop/foreign.edi", foreign)
        let run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.hasPrefix("CARRIERX foreign.edi: rejected"), "\(run)")
        let receipt = try #require(files(pickup).first)
        let contrl = try String(contentsOf: pickup.appendingPathComponent(receipt), encoding: .utf8)
        #expect(contrl.contains("UCI+CUS000123+STRANGER:ZZZ+SWGATEWAY:ZZZ+4+23+UNB+3'"), "\(contrl)")
        #expect(try batchStates(scratch) == ["rejected"])
    }

    @Test("contrl = on-request: an accepted file without UNB 0031 = 1 gets no CONTRL, a rejected one does")
    func contrlOnRequest() throws {
        let scratch = try Scratch()
        _ = try scratch.write("gateway.toml", runOnceConfig + "\nacknowledgement = { contrl = \"on-request\" }\n")
        let pickup = scratch.url.appendingPathComponent("partners/CARRIERX/pickup")
        try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("partners/CARRIERX/drop"),
                                                withIntermediateDirectories: true)
        _ = try scratch.write("partners/CARRIERX/drop/good.edi", try fixture("valid/cuscar-d95b-notes.edi"))
        var run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("good.edi: accepted") && run.stdout.contains("contrl = on-request"), "\(run)")
        #expect(files(pickup).isEmpty)
        _ = try scratch.write("partners/CARRIERX/drop/bad.edi",
                              try fixture("invalid/29-unt-count.edi").replacingOccurrences(of: "CUS000123", with: "CUS000999"))
        run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.stdout.contains("bad.edi: rejected — receipt"), "\(run)")
        #expect(files(pickup).count == 1)
        #expect(try batchStates(scratch) == ["accepted", "rejected"])
    }

    @Test("drops of several chunks from two partners: every file processed and answered in the one run that polls them")
    func pollsBesideProcessing() throws {
        // The run processes each chunk of 256 files a poll records while the poll claims the next: it must still
        // end only after the last chunk of the last partner, with every file processed once.
        let scratch = try Scratch()
        _ = try scratch.write("gateway.toml", twoCarriersConfig)
        let good = try fixture("valid/cuscar-d95b-notes.edi")
        let counts = ["CARRIERX": 600, "CARRIERY": 270]
        for (partner, count) in counts {
            try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("partners/\(partner)/drop"),
                                                    withIntermediateDirectories: true)
            for i in 0..<count {
                let body = good.replacingOccurrences(of: "CUS000123", with: "R\(partner.suffix(1))\(100_000 + i)")
                    .replacingOccurrences(of: "CARRIERX:ZZZ", with: partner + ":ZZZ")
                _ = try scratch.write("partners/\(partner)/drop/m\(i).edi", body)
            }
        }
        let run = try scratch.gateway("run", "--once", "--config", "gateway.toml", "--json")
        #expect(run.status == 0, "\(run.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let lines = try #require(report["files"] as? [[String: Any]])
        #expect(lines.count == 870)
        #expect((report["summary"] as? [String: Int])?["accepted"] == 870, "\(report["summary"] ?? "")")
        #expect(lines.allSatisfy { ($0["receipt"] as? String)?.contains("/pickup/CONTRL-") == true })
        for (partner, count) in counts {
            #expect(files(scratch.url.appendingPathComponent("partners/\(partner)/drop")).isEmpty)
            #expect(files(scratch.url.appendingPathComponent("partners/\(partner)/pickup")).count == count, "\(partner)")
        }
        let store = try scratch.openStore()
        let jobs = try store.read {
            try Row.fetchAll($0, sql: "SELECT kind, state, count(*) AS n FROM job GROUP BY kind, state ORDER BY kind, state")
                .map { "\($0["kind"] as String) \($0["state"] as String) \($0["n"] as Int)" }
        }
        #expect(jobs == ["deliver succeeded 870", "pickup succeeded 2", "process succeeded 870"])
    }

    @Test("a file left in the work area by a crash is finished on the next run, once")
    func recovery() throws {
        let scratch = try Scratch()
        _ = try scratch.write("gateway.toml", runOnceConfig)
        let work = scratch.url.appendingPathComponent("work/CARRIERX")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        _ = try scratch.write("work/CARRIERX/CARRIERX.1700000000000000000.abc.manifest.edi",
                              try fixture("valid/cuscar-d95b-notes.edi"))
        let run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("CARRIERX manifest.edi: accepted — receipt partners/CARRIERX/pickup/CONTRL-1-CUS000123-1700000000000000000.abc.edi (left in the work area by an earlier run (a crash or a full disk); finished now)"), "\(run)")
        #expect(files(work).isEmpty)
        #expect(try batchStates(scratch) == ["accepted"])
    }

    @Test("--due-only polls a partner only when its schedule fired since its last poll")
    func dueOnly() throws {
        let scratch = try Scratch()
        _ = try scratch.write("gateway.toml", runOnceConfig + "\nschedule = \"@every 1h\"\n")
        try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("partners/CARRIERX/drop"),
                                                withIntermediateDirectories: true)
        // Never polled: due.
        _ = try scratch.write("partners/CARRIERX/drop/first.edi", try fixture("valid/cuscar-d95b-notes.edi"))
        var run = try scratch.gateway("run", "--once", "--due-only", "--config", "gateway.toml")
        #expect(run.status == 0 && run.stdout.contains("first.edi: accepted"), "\(run)")
        // Polled a moment ago, next tick within the hour: not due, the file waits.
        _ = try scratch.write("partners/CARRIERX/drop/second.edi",
                              try fixture("valid/cuscar-d95b-notes.edi").replacingOccurrences(of: "CUS000123", with: "CUS000777"))
        run = try scratch.gateway("run", "--once", "--due-only", "--config", "gateway.toml")
        #expect(run.status == 0 && run.stdout == "0 files\n", "\(run)")
        #expect(files(scratch.url.appendingPathComponent("partners/CARRIERX/drop")) == ["second.edi"])
        // Without --due-only every partner is polled.
        run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 0 && run.stdout.contains("second.edi: accepted"), "\(run)")
        // --due-only belongs to --once.
        run = try scratch.gateway("run", "--due-only", "--config", "gateway.toml")
        #expect(run.status == 2 && run.stderr.contains("--due-only goes with --once"), "\(run)")
    }

    @Test("configuration mistakes exit 2 and are printed")
    func usage() throws {
        let scratch = try Scratch()
        _ = try scratch.write("bad.toml", "[gateway]\nspol = \".\"\n")
        var run = try scratch.gateway("run", "--once", "--config", "bad.toml")
        #expect(run.status == 2, "\(run)")
        #expect(run.stderr.contains("bad.toml:2: gateway.spol: unknown key"), "\(run)")
        run = try scratch.gateway("run", "--config", "bad.toml")
        #expect(run.status == 2, "\(run)")
    }
}
