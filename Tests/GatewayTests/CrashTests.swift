import Foundation
import GRDB
import Testing
import TestSupport

@testable import Gateway

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Crash safety of `gateway run --once` (issue 3): the real executable is killed with SIGKILL at random
// points while it ingests a few hundred files, restarted, killed again, ... and finally left to finish.
// Then the file system and the ledger must show every dropped file ended exactly once: one batch row,
// one CONTRL in the pickup directory naming its interchange reference, one ledger receipt, raw bytes stored,
// nothing left in the drop or work areas, no temporary left in pickup.

/// The same one-carrier configuration as the run --once tests.
private let crashConfig = runOnceConfig


/// One dropped file and what it must end as.
private struct DroppedFile {
    var name: String
    var reference: String
    var bytes: [UInt8]
    var valid: Bool
}

private func everything(_ dir: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
}

/// `count` distinct CUSCARs (distinct interchange references and bytes); every `invalidEvery`-th one has a
/// wrong UNT segment count (rejected, but still answered with a CONTRL).
private func makeFiles(count: Int, invalidEvery: Int) throws -> [DroppedFile] {
    let template = try String(
        contentsOf: CLI.fixtures.appendingPathComponent("valid/cuscar-d95b-notes.edi"), encoding: .utf8)
    return (0..<count).map { i in
        let reference = "CRASH" + String(format: "%06d", i)
        let invalid = i % invalidEvery == invalidEvery - 1
        var text = template.replacingOccurrences(of: "CUS000123", with: reference)
            .replacingOccurrences(of: "MAN2025-0042", with: "MAN-\(i)")
        if invalid { text = text.replacingOccurrences(of: "UNT+34+M0001", with: "UNT+33+M0001") }
        return DroppedFile(name: "manifest-\(String(format: "%04d", i)).edi", reference: reference,
                           bytes: Array(text.utf8), valid: !invalid)
    }
}

private func drop(_ files: [DroppedFile], into spool: Scratch) throws {
    try spool.write("gateway.toml", crashConfig)
    let drop = spool.url.appendingPathComponent("partners/CARRIERX/drop")
    try FileManager.default.createDirectory(at: drop, withIntermediateDirectories: true)
    for file in files { try spool.write("partners/CARRIERX/drop/" + file.name, file.bytes) }
}

/// Starts `gateway run --once` in `spool`; output discarded (the crash tests kill it at random points).
func startRunOnce(in spool: Scratch) throws -> Process {
    let exe = try #require(CLI.executable, "the gateway executable was not found; build with `swift build --build-tests`")
    let process = Process()
    process.executableURL = exe
    process.arguments = ["run", "--once", "--config", "gateway.toml"]
    process.currentDirectoryURL = spool.url
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    return process
}

@Suite("crash safety of gateway run --once", .serialized)
struct CrashTests {
    @Test("SIGKILL at random points, restart: every file ends exactly once")
    func killAndRestart() throws {
        let count = 300
        let seed = UInt64(ProcessInfo.processInfo.environment["CRASH_SEED"] ?? "") ?? 0x5EED_2026
        var rng = SplitMix64(state: seed)
        let files = try makeFiles(count: count, invalidEvery: 20)
        // A few files that are not EDIFACT at all: no CONTRL can be addressed, so they are quarantined.
        let unreadable = (0..<4).map { i in
            DroppedFile(name: "garbage-\(i).edi", reference: "", bytes: Array("not an interchange \(i)\n".utf8), valid: false)
        }

        // Calibrate: the same workload, unkilled, on its own spool (after a warm-up run on an empty spool, so
        // a freshly built executable's first start does not inflate the figure).
        let warmUp = try Scratch()
        try drop([], into: warmUp)
        _ = try warmUp.gateway("run", "--once", "--config", "gateway.toml")
        let calibration = try Scratch()
        try drop(files + unreadable, into: calibration)
        let t0 = Date()
        let calibrated = try calibration.gateway("run", "--once", "--config", "gateway.toml")
        let runSeconds = Date().timeIntervalSince(t0)
        try #require(calibrated.status == 0, "\(calibrated)")
        try #require(calibrated.stdout.contains("\(count + unreadable.count) files"), "\(calibrated)")

        // The crash run.
        let spool = try Scratch()
        try drop(files + unreadable, into: spool)
        let dropDir = spool.url.appendingPathComponent("partners/CARRIERX/drop")
        let workDir = spool.url.appendingPathComponent("work/CARRIERX")
        let pickupDir = spool.url.appendingPathComponent("partners/CARRIERX/pickup")
        var log: [String] = []
        var kills = 0
        for round in 0..<80 {
            // Kill anywhere from 1 ms to the expected end of this run (scaled to what is left), capped at a
            // tenth of the full run, or, every other round, at 1/30 of it, so that many kills land on the
            // start-up and the crash recovery of the work area, and the drop lasts for all the rounds.
            let left = Double(everything(dropDir).count + everything(workDir).count)
            let expected = max(0.005, runSeconds * left / Double(count + unreadable.count))
            let upper = min(expected, round % 2 == 0 ? runSeconds / 10 : runSeconds / 30)
            let delay = Double.random(in: 0.001...upper, using: &rng)
            let process = try startRunOnce(in: spool)
            usleep(useconds_t(delay * 1_000_000))
            let wasRunning = process.isRunning
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if wasRunning && process.terminationReason == .uncaughtSignal { kills += 1 }
            let dropLeft = everything(dropDir).count, workLeft = everything(workDir), receipts = everything(pickupDir)
            log.append(String(format: "round %d: delay %.1f ms, %@, drop %d, work %@, pickup %d", round, delay * 1000,
                              process.terminationReason == .uncaughtSignal ? "killed" : "finished (exit \(process.terminationStatus))",
                              dropLeft, workLeft.description, receipts.count))
            if kills >= 40 || (dropLeft == 0 && workLeft.isEmpty) { break }
        }
        let final = try spool.gateway("run", "--once", "--config", "gateway.toml", "--json")
        let story = "seed \(seed), unkilled run \(String(format: "%.2f", runSeconds)) s, \(kills) kills\n"
            + log.joined(separator: "\n") + "\nfinal run:\n\(final)"
        #expect(final.status == 0, "\(story)")
        #expect(kills >= 15, "too few runs were killed mid-way to prove anything: \(story)")

        // The drop and work areas are empty, dotfiles included.
        #expect(everything(dropDir).isEmpty, "\(story)")
        #expect(everything(workDir).isEmpty, "\(story)")

        // Pickup: only final receipts, a CONTRL per interchange and an APERAK per unreadable file; no temporary
        // (a delivery's temporary is named from its final name, so the recovery run rewrites and removes it).
        let pickup = everything(pickupDir)
        let unexpected = pickup.filter { !($0.hasPrefix("CONTRL-") || $0.hasPrefix("APERAK-")) || !$0.hasSuffix(".edi") }
        #expect(unexpected.isEmpty, "unexpected files in pickup: \(unexpected)\n\(story)")
        var receiptsByReference: [String: [String]] = [:]
        for name in pickup where name.hasPrefix("CONTRL-") {
            let text = try String(contentsOf: pickupDir.appendingPathComponent(name), encoding: .utf8)
            guard let uci = text.range(of: "UCI+") else {
                Issue.record("receipt \(name) has no UCI: \(text)")
                continue
            }
            let reference = String(text[uci.upperBound...].prefix { $0 != "+" })
            receiptsByReference[reference, default: []].append(name)
        }
        for file in files {
            let receipts = receiptsByReference[file.reference] ?? []
            #expect(receipts.count == 1, "\(file.name) (\(file.reference)): \(receipts.count) receipts \(receipts)\n\(story)")
        }
        #expect(pickup.count == count + unreadable.count, "\(pickup.count) files in pickup for \(count + unreadable.count) dropped\n\(story)")
        // The unreadable files: each answered by exactly one APERAK naming it.
        var aperaksByFile: [String: Int] = [:]
        for name in pickup where name.hasPrefix("APERAK-") {
            let text = try String(contentsOf: pickupDir.appendingPathComponent(name), encoding: .utf8)
            for file in unreadable where text.contains("RFF+ACE:\(file.name)'") { aperaksByFile[file.name, default: 0] += 1 }
        }
        for file in unreadable {
            #expect(aperaksByFile[file.name] == 1, "\(file.name): \(aperaksByFile[file.name] ?? 0) APERAKs\n\(story)")
        }

        // The ledger, read-only.
        var configuration = Configuration()
        configuration.readonly = true
        let db = try DatabaseQueue(path: spool.url.appendingPathComponent("state/gateway.sqlite").path,
                                   configuration: configuration)
        let batches = try db.read { db in
            try Row.fetchAll(db, sql: "SELECT id, interchange_ref, sha256, state FROM batch ORDER BY id")
        }
        let raw = try RawStore(root: spool.url.appendingPathComponent("state/raw").path)
        #expect(batches.count == count + unreadable.count,
                "\(batches.count) batch rows for \(count + unreadable.count) files\n\(story)")
        for file in unreadable {
            let digest = try SHA256Digest.hash(file.bytes)
            let rows = batches.filter { ($0["sha256"] as String) == digest.hex }
            #expect(rows.count == 1 && rows.first?["state"] == "quarantined", "\(file.name): \(rows)")
            #expect(rows.first?["interchange_ref"] as String? == nil)
            #expect(raw.contains(digest), "\(file.name): raw bytes missing from the raw store")
            let id: Int64? = rows.first?["id"]
            let jobs = try db.read { db in
                try Row.fetchAll(db, sql: "SELECT state, error_code FROM job WHERE kind = 'process' AND batch_id = ?",
                                 arguments: [id])
            }
            #expect(jobs.count == 1 && jobs.first?["state"] == "quarantined" && jobs.first?["error_code"] == "intake.unreadable",
                    "\(file.name): process jobs \(jobs)")
        }
        var batchByReference: [String: [Row]] = [:]
        for row in batches { batchByReference[row["interchange_ref"] ?? "", default: []].append(row) }
        for file in files {
            let rows = batchByReference[file.reference] ?? []
            #expect(rows.count == 1, "\(file.name): \(rows.count) batch rows\n\(story)")
            guard let row = rows.first else { continue }
            let digest = try SHA256Digest.hash(file.bytes)
            #expect(row["sha256"] as String == digest.hex, "\(file.name): ledger hash differs")
            #expect(row["state"] as String == (file.valid ? "accepted" : "rejected"), "\(file.name): state \(row["state"] as String)")
            #expect(raw.contains(digest), "\(file.name): raw bytes missing from the raw store")
            // The receipt in pickup is the one the ledger recorded, for this batch.
            let id: Int64 = row["id"]
            if let name = receiptsByReference[file.reference]?.first {
                #expect(name.hasPrefix("CONTRL-\(id)-\(file.reference)-"), "\(file.name): receipt \(name) for batch \(id)")
            }
        }
        let receiptRows = try db.read { db in
            try Row.fetchAll(db, sql: "SELECT batch_id, kind, file_name FROM receipt ORDER BY batch_id")
        }
        #expect(receiptRows.count == count + unreadable.count,
                "\(receiptRows.count) ledger receipts for \(count + unreadable.count) files\n\(story)")
        // Every job finished: none left queued, running or retrying.
        let unfinished = try db.read { db in
            try Row.fetchAll(db, sql: "SELECT id, kind, state FROM job WHERE state IN ('queued', 'running', 'retrying')")
        }
        #expect(unfinished.isEmpty, "unfinished jobs: \(unfinished)\n\(story)")
        #expect(Set(receiptRows.map { $0["file_name"] as String }) == Set(pickup), "ledger receipts differ from pickup")

        // Raw-store temporaries of puts cut short by a kill are invisible to readers, and the next run
        // removes those whose writer is gone (`RawStore.removeStaleTemporaries` at the start of a run).
        let rawRoot = spool.url.appendingPathComponent("state/raw").path
        let partials = (FileManager.default.subpaths(atPath: rawRoot) ?? []).filter { $0.hasSuffix(".part") }
        #expect(partials.isEmpty, "\(partials.count) raw-store temporaries left: \(partials)")

        // No file was dropped twice, so the ledger must not record a replay or a conflict.
        let replays = try db.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM replay") ?? 0 }
        let conflicts = try db.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM conflict") ?? 0 }
        #expect(conflicts == 0, "\(story)")
        // A kill between the ledger commit and the removal of the work file must not make the recovery
        // record a replay of the file itself (see `recoveryRecordsNoReplay` below).
        #expect(replays == 0, "\(replays) replay rows although no file was dropped twice\n\(story)")
    }

    /// The kill point the random kills found breaking a promise, made exact: anywhere after
    /// `store.recordIntake` committed the batch row and before the work file is unlinked. The recovery run
    /// records the same claim again; the ledger knows each arrival's claim (migration v2_claims) and
    /// returns the first outcome, so no `replay` row says an identical copy arrived a second time.
    @Test("a crash just before the work file is removed: recovery must not record a replay")
    func recoveryRecordsNoReplay() throws {
        let spool = try Scratch()
        let file = try makeFiles(count: 1, invalidEvery: 1_000)[0]
        try drop([file], into: spool)
        var run = try spool.gateway("run", "--once", "--config", "gateway.toml")
        try #require(run.status == 0, "\(run)")
        // Put the work file back as the crash would have left it: same work name (the claim stamp is in the
        // receipt name `CONTRL-<batch>-<ref>-<nanos>.<random>.edi`), same bytes.
        let pickupDir = spool.url.appendingPathComponent("partners/CARRIERX/pickup")
        let receipt = try #require(everything(pickupDir).first)
        let stamp = receipt.dropFirst("CONTRL-1-\(file.reference)-".count).dropLast(".edi".count)
        try spool.write("work/CARRIERX/CARRIERX.\(stamp).\(file.name)", file.bytes)
        run = try spool.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("accepted"), "\(run)")
        #expect(everything(pickupDir) == [receipt], "no second receipt")
        #expect(everything(spool.url.appendingPathComponent("work/CARRIERX")).isEmpty)
        let db = try DatabaseQueue(path: spool.url.appendingPathComponent("state/gateway.sqlite").path)
        let (batches, receipts, replays) = try db.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM batch") ?? -1,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM receipt") ?? -1,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM replay") ?? -1)
        }
        #expect(batches == 1)
        #expect(receipts == 1)
        #expect(replays == 0)
    }
}
