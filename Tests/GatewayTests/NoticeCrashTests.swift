import EDIFACT
import Foundation
import Testing
import TestSupport

@testable import Gateway

// Issue 7, crash safety of the notice sweep: `gateway run --once` is killed (SIGKILL) at random points while it
// records the agencies' instructions and sends the terminal its releases and the carrier and customs their
// statuses; after a final run, every container was released to the terminal exactly once, every partner got one
// status file per manifest, and no temporary is left in a pickup directory.

private let crashConfig = """
    [gateway]
    sender_id = "SWGATEWAY"
    sender_qualifier = "ZZZ"
    spool = "."

    [[partner]]
    id = "CARRIERX"
    role = "carrier"
    identities = ["CARRIERX:ZZZ"]
    drop = "partners/CARRIERX/drop"
    pickup = "partners/CARRIERX/pickup"

    [[partner]]
    id = "CUSTOMS"
    role = "agency"
    identities = ["CNCQCUSTOMS:ZZZ"]
    drop = "partners/CUSTOMS/drop"
    pickup = "partners/CUSTOMS/pickup"
    routing = { preset = "customs" }

    [[partner]]
    id = "KEMBATERM"
    role = "terminal"
    identities = ["KEMBATERM:ZZZ"]
    drop = "partners/KEMBATERM/drop"
    pickup = "partners/KEMBATERM/pickup"

    """

/// A container number with its ISO 6346 check digit: owner `MSCU`, serial `n`.
private func box(_ n: Int) -> String {
    let first10 = "MSCU" + String(format: "%06d", n)
    return first10 + String(ISO6346.checkDigit(first10)!)
}

/// Manifest `i`: two consignments, each in its own container.
private func manifest(_ i: Int) -> String {
    """
    UNA:+.? '
    UNB+UNOC:3+CARRIERX:ZZZ+SWGATEWAY:ZZZ+250131:0930+KM\(i)'
    UNH+1+CUSCAR:D:96A:UN'
    BGM+85+KMAN\(i)+9'
    TDT+20+V\(i)+1++MSC:172:20+++3FZO7:103::MSC GULSUN'
    LOC+60+KEMBA:139:6'
    EQD+CN+\(box(2 * i))+22G1:102:5++3+5'
    EQD+CN+\(box(2 * i + 1))+22G1:102:5++3+5'
    CNI+1+KBA\(i)'
    RFF+BM:KBA\(i)'
    GID+1+10:PK'
    FTX+AAA+++MACHINE PARTS'
    MEA+AAE+G+KGM:900'
    SGP+\(box(2 * i))+10'
    CST++847990:122'
    CNI+2+KBB\(i)'
    RFF+BM:KBB\(i)'
    GID+1+10:PK'
    FTX+AAA+++PUMPS'
    MEA+AAE+G+KGM:800'
    SGP+\(box(2 * i + 1))+10'
    CST++841370:122'
    UNT+21+1'
    UNZ+1+KM\(i)'

    """
}

/// Files and routes `count` manifests (a first run, not killed).
private func fileManifests(_ count: Int, in spool: Scratch) throws {
    _ = try spool.write("gateway.toml", crashConfig)
    for p in ["CARRIERX", "CUSTOMS", "KEMBATERM"] {
        try FileManager.default.createDirectory(at: spool.url.appendingPathComponent("partners/\(p)/drop"), withIntermediateDirectories: true)
    }
    for i in 0..<count { _ = try spool.write("partners/CARRIERX/drop/manifest-\(i).edi", manifest(i)) }
    let filed = try spool.gateway("run", "--once", "--config", "gateway.toml")
    try #require(filed.status == 0 && filed.stdout.contains("routed to CUSTOMS"), "\(filed)")
}

/// Customs' release of manifest `i`.
private func release(_ i: Int) -> String {
    String(decoding: cusres(["GIS+4", "RFF+AFB:KMAN\(i)"], reference: "REL-\(i)", interchange: "R\(i)"), as: UTF8.self)
}

@Suite("crash safety of the notice sweep", .serialized)
struct NoticeCrashTests {
    @Test("SIGKILL while instructions are recorded and notices sent, restart: each release and status exactly once")
    func killDuringNotices() throws {
        let count = 160
        let seed = UInt64(ProcessInfo.processInfo.environment["CRASH_SEED"] ?? "") ?? 0x7E57_2026
        var rng = SplitMix64(state: seed)
        let spool = try Scratch()
        try fileManifests(count, in: spool)
        var log: [String] = []
        var kills = 0, inSweep = 0
        // Customs releases the manifests in four waves of a quarter each, one file per manifest; each wave is run
        // and killed until a run finishes. Kill times home in on the sweep: `early` is the longest delay that
        // found the wave's instructions not all recorded, `late` the shortest that found all its releases delivered.
        var early = 0.005, late = 0.8
        let database = spool.url.appendingPathComponent("state/gateway.sqlite").path
        let wave = count / 4
        for w in 0..<4 {
            for i in (w * wave)..<((w + 1) * wave) {
                _ = try spool.write("partners/CUSTOMS/drop/release-\(i).edi", release(i))
            }
            let expected = (w + 1) * wave
            for round in 0..<20 {
                let delay = Double.random(in: early...max(early + 0.01, late), using: &rng)
                let process = try startRunOnce(in: spool)
                usleep(useconds_t(delay * 1_000_000))
                let wasRunning = process.isRunning
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                let killed = wasRunning && process.terminationReason == .uncaughtSignal
                if killed { kills += 1 }
                let store = try GatewayStore(path: database)
                let recorded = try store.instructionCount(), noticed = try store.lastNotices().count
                let delivered = ((try? FileManager.default.contentsOfDirectory(atPath: spool.url.appendingPathComponent("partners/KEMBATERM/pickup").path))
                                 ?? []).filter { $0.hasPrefix("COREOR-") }.count
                // Killed with the wave's instructions in and the terminal not yet told everything: in the sweep.
                if killed && recorded == expected && delivered < expected { inSweep += 1 }
                if recorded < expected { early = max(early, delay) } else if delivered == expected { late = min(late, delay) }
                log.append(String(format: "wave %d round %d: delay %.0f ms, %@, instructions %d, notices %d, COREOR delivered %d", w, round,
                                  delay * 1000, killed ? "killed" : "finished", recorded, noticed, delivered))
                // The wave is done once its releases are all out (a run killed after that had nothing left to do).
                if !killed || delivered == expected { break }
            }
        }
        let final = try spool.gateway("run", "--once", "--config", "gateway.toml")
        let story = "seed \(seed), \(kills) kills\n" + log.joined(separator: "\n") + "\nfinal run:\n\(final)"
        #expect(final.status == 0, "\(story)")
        #expect(inSweep >= 1, "no run was killed inside the notice sweep: \(story)")
        if ProcessInfo.processInfo.environment["CRASH_LOG"] != nil { print(story) }

        try expectReleasedOnce(spool, manifests: count, story)
    }

    @Test("full disk while notices are sent: the run fails cleanly and loses nothing; once space is freed each goes out once",
          .enabled(if: Tmpfs.usable, "needs root with CAP_SYS_ADMIN to `mount -t tmpfs`"))
    func fullDisk() throws {
        let count = 24
        // The spool on a 16 MiB tmpfs, filled to several levels once the manifests are filed, so that recording the
        // instructions, storing the notices, committing them or delivering runs out of space first.
        for freeKiB in [0, 120, 300, 700, 1500] {
            let spool = try Scratch()
            try #require(Tmpfs.mount(spool.url, size: "16m"), "mount failed")
            defer { Tmpfs.unmount(spool.url) }
            try fileManifests(count, in: spool)
            for i in 0..<count { _ = try spool.write("partners/CUSTOMS/drop/release-\(i).edi", release(i)) }
            let filler = Tmpfs.fill(spool.url, leavingKiB: freeKiB)
            let full = try spool.gateway("run", "--once", "--config", "gateway.toml")
            var story = "[\(freeKiB) KiB left] full run: \(full)"
            #expect(full.status == 0 || full.status == 1, "no crash\n\(story)")
            #expect(!full.stderr.contains("Fatal error"), "\(story)")
            if full.status == 1 {
                #expect(full.stderr.contains("No space left on device") || full.stderr.contains("disk is full")
                            || full.stdout.contains("No space left on device") || full.stdout.contains("disk is full"), "says why\n\(story)")
            }
            try FileManager.default.removeItem(at: filler)
            // Space is back: retried jobs run when due (the first backoff is 5 s).
            for attempt in 0..<4 {
                let run = try spool.gateway("run", "--once", "--config", "gateway.toml")
                story += "\n--- after freeing space (\(attempt + 1)): \(run)"
                #expect(run.status == 0, "\(story)")
                let store = try GatewayStore(path: spool.url.appendingPathComponent("state/gateway.sqlite").path)
                let due = try store.pool.read { db in
                    try Date.fetchOne(db, sql: "SELECT max(next_run_at) FROM job WHERE state IN ('queued', 'retrying')")
                }
                guard let due else { break }
                Thread.sleep(forTimeInterval: min(max(due.timeIntervalSinceNow + 0.3, 0.1), 8))
            }
            if ProcessInfo.processInfo.environment["CRASH_LOG"] != nil { print(story) }
            try expectReleasedOnce(spool, manifests: count, story)
        }
    }
}

/// After the runs: one COREOR per manifest releasing each of its two containers exactly once, one status per
/// manifest to the carrier and to customs beside their receipts, no temporary, and the ledger agreeing.
private func expectReleasedOnce(_ spool: Scratch, manifests count: Int, _ story: String) throws {
    func pickup(_ partner: String) -> [String: String] {
        let dir = spool.url.appendingPathComponent("partners/\(partner)/pickup")
        var files: [String: String] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] {
            files[name] = (try? String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)) ?? ""
        }
        return files
    }
    // The terminal: one COREOR per manifest, every container released exactly once, nothing else.
    let terminal = pickup("KEMBATERM")
    #expect(terminal.keys.allSatisfy { $0.hasPrefix("COREOR-KMAN") && $0.hasSuffix("-1.edi") }, "\(terminal.keys.sorted())\n\(story)")
    #expect(terminal.count == count, "\(terminal.keys.sorted())\n\(story)")
    var released: [String: Int] = [:]
    for text in terminal.values {
        for line in text.split(separator: "\n") where line.hasPrefix("EQD+CN+") {
            released[String(line.dropFirst(7).prefix(11)), default: 0] += 1
        }
        #expect(EDIFACTValidator.validate(Array(text.utf8)).allSatisfy { $0.allDiagnostics.isEmpty })
    }
    #expect(released.count == 2 * count && released.values.allSatisfy { $0 == 1 }, "\(released.filter { $0.value != 1 })\n\(story)")
    // The carrier and customs: one status per manifest each, beside their receipts; no temporary anywhere.
    for partner in ["CARRIERX", "CUSTOMS"] {
        let files = pickup(partner)
        let statuses = files.keys.filter { $0.hasPrefix("CUSRES-") }
        #expect(statuses.count == count && statuses.allSatisfy { $0.hasSuffix("-1.edi") }, "\(partner): \(statuses.sorted())\n\(story)")
        #expect(files.keys.allSatisfy { $0.hasPrefix("CUSRES-") || $0.hasPrefix("CONTRL-") || $0.hasPrefix("APERAK-")
                                        || $0.hasPrefix("CUSCAR-") }, "\(partner): \(files.keys.sorted())")
    }
    #expect(pickup("KEMBATERM").keys.allSatisfy { !$0.hasPrefix(".") })
    // The ledger agrees: one release notice per container.
    let store = try GatewayStore(path: spool.url.appendingPathComponent("state/gateway.sqlite").path)
    let notices = try store.lastNotices()
    #expect(notices.count == 2 * count && notices.allSatisfy { $0.kind == .release }, "\(notices.count)")
}
