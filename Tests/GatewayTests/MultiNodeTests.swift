import Foundation
import GRDB
import Jobs
import Testing
import TestSupport

@testable import Gateway

// Issue 8 end to end: several real `gateway run --once` processes on one PostgreSQL and one spool. Each file must
// be claimed once, each job run once, each receipt delivered once, whatever node does it, and a node killed with
// SIGKILL mid-run must leave nothing lost: what it held is taken over by the others.

private let template = (try? String(contentsOf: CLI.fixtures.appendingPathComponent("valid/cuscar-d95b-notes.edi"), encoding: .utf8)) ?? ""

private let config = """
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
    patterns = ["*.edi"]

    """

/// A spool on a fresh PostgreSQL database with `count` distinct manifests in the carrier's drop.
private func spool(files count: Int) throws -> Scratch {
    let spool = try Scratch(store: .postgres)
    try spool.write("gateway.toml", config)
    let drop = spool.url.appendingPathComponent("partners/CARRIERX/drop")
    try FileManager.default.createDirectory(at: drop, withIntermediateDirectories: true)
    for i in 0..<count {
        let reference = String(format: "N%08d", i)
        let text = template.replacingOccurrences(of: "CUS000123", with: reference).replacingOccurrences(of: "MAN2025-0042", with: "MAN-" + reference)
        try Data(text.utf8).write(to: drop.appendingPathComponent(reference + ".edi"))
    }
    return spool
}

/// Starts `gateway run --once` on the spool; its output goes to `name`.out in the spool.
private func node(_ spool: Scratch, _ name: String) throws -> Process {
    let process = Process()
    process.executableURL = try #require(CLI.executable, "build with `swift build --build-tests`")
    process.arguments = ["run", "--once", "--config", "gateway.toml"]
    process.currentDirectoryURL = spool.url
    let out = spool.url.appendingPathComponent(name + ".out")
    FileManager.default.createFile(atPath: out.path, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = process.standardOutput
    try process.run()
    return process
}

/// Every file accepted exactly once, answered by exactly one CONTRL in the pickup, every job finished.
private func expectEachOnce(_ spool: Scratch, files count: Int, _ context: String) throws {
    let drop = try FileManager.default.contentsOfDirectory(atPath: spool.url.appendingPathComponent("partners/CARRIERX/drop").path)
    let pickup = try FileManager.default.contentsOfDirectory(atPath: spool.url.appendingPathComponent("partners/CARRIERX/pickup").path)
    let work = (try? FileManager.default.contentsOfDirectory(atPath: spool.url.appendingPathComponent("work/CARRIERX").path)) ?? []
    #expect(drop.isEmpty && work.filter { !$0.hasPrefix(".") }.isEmpty, "left: drop \(drop.count), work \(work)\n\(context)")
    let contrl = pickup.filter { $0.hasPrefix("CONTRL-") && $0.hasSuffix(".edi") }
    #expect(contrl.count == count && pickup.count == count, "\(contrl.count) CONTRL of \(pickup.count) files in the pickup for \(count)\n\(context)")
    // One CONTRL per interchange reference: none answered twice under two names.
    let references = Set(contrl.map { $0.split(separator: "-")[2] })
    #expect(references.count == count, "\(references.count) interchanges answered\n\(context)")
    let store = try spool.openStore()
    try store.read { db in
        let batches = try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM batch GROUP BY state")
        #expect(batches.count == 1 && batches.first?["state"] == "accepted" && batches.first?["n"] == count,
                "batches: \(batches)\n\(context)")
        let perFile = try Int.fetchOne(db, sql: "SELECT max(n) FROM (SELECT count(*) AS n FROM batch GROUP BY original_name) AS b")
        #expect(perFile == 1, "a file recorded \(perFile ?? 0) times\n\(context)")
        let unfinished = try Int.fetchOne(db, sql: "SELECT count(*) FROM job WHERE state <> 'succeeded'")
        #expect(unfinished == 0, "\(unfinished ?? -1) jobs not succeeded\n\(context)")
        let receipts = try Int.fetchOne(db, sql: "SELECT count(*) FROM receipt")
        let deliveries = try Int.fetchOne(db, sql: "SELECT count(*) FROM job WHERE kind = 'deliver'")
        #expect(receipts == count && deliveries == count, "receipts \(receipts ?? -1), deliveries \(deliveries ?? -1)\n\(context)")
    }
}

/// Runs blocking work (waiting for a process, polling the ledger) on a thread of its own, so a wait of half a
/// minute does not hold one of the few threads of Swift's cooperative pool, which the scheduler's tests running
/// meanwhile need.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// Waits for the processes to end, off the cooperative pool.
func waitForAll(_ processes: [Process]) async throws {
    let boxed = UncheckedProcesses(processes)
    try await offPool { for p in boxed.processes { p.waitUntilExit() } }
}

struct UncheckedProcesses: @unchecked Sendable {
    let processes: [Process]
    init(_ processes: [Process]) { self.processes = processes }
}

private func outputs(_ spool: Scratch, _ names: [String]) -> String {
    names.map { name in
        let text = (try? String(contentsOf: spool.url.appendingPathComponent(name + ".out"), encoding: .utf8)) ?? ""
        return "--- \(name): " + (text.split(separator: "\n").suffix(3).joined(separator: "\n"))
    }.joined(separator: "\n")
}

@Suite("several gateway nodes on one PostgreSQL and one spool", .serialized)
struct MultiNodeTests {
    @Test("two nodes ingest 1 200 files together: each file once, each receipt once, and both did work")
    func twoNodes() async throws {
        let count = 1_200
        let spool = try spool(files: count)
        let nodes = try ["node1", "node2"].map { try node(spool, $0) }
        try await waitForAll(nodes)
        let context = outputs(spool, ["node1", "node2"])
        #expect(nodes.allSatisfy { $0.terminationStatus == 0 }, "\(context)")
        try expectEachOnce(spool, files: count, context)
        // Both nodes ran process jobs (the lease owner names the process).
        let owners = try spool.openStore().read { db in
            try String.fetchAll(db, sql: """
                SELECT DISTINCT substr(message, strpos(message, 'leased to ') + 10) FROM job_event
                WHERE message LIKE '%leased to %'
                """)
        }
        #expect(Set(owners).count >= 2, "jobs ran on \(Set(owners))\n\(context)")
    }

    @Test("three nodes, one killed with SIGKILL mid-run: the others take over what it held; after a later run every file is there once")
    func killOneOfThree() async throws {
        let count = 1_500
        let spool = try spool(files: count)
        let names = ["node1", "node2", "node3"]
        let nodes = try names.map { try node(spool, $0) }
        // Kill node1 once work is under way: some files processed, most not.
        let watcher = try spool.openStore()
        let started = Date()
        while Date().timeIntervalSince(started) < 120 {
            let done = try watcher.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM job WHERE kind = 'process' AND state = 'succeeded'") } ?? 0
            if done >= count / 10 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(nodes[0].processIdentifier, SIGKILL)
        try await waitForAll(nodes)
        var context = outputs(spool, names)
        #expect(nodes[0].terminationReason == .uncaughtSignal, "node1 had finished before it was killed\n\(context)")
        #expect(nodes[1].terminationStatus == 0 && nodes[2].terminationStatus == 0, "\(context)")
        // What the dead node was running when it died went back to the queue, and the others ran it.
        let takenOver = try watcher.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM job_event WHERE message LIKE '%is no longer running; requeued%'")
        } ?? 0
        // A later poll (any node) finishes what the dead node had claimed from the drop and not recorded yet.
        let later = try node(spool, "node2-again")
        try await waitForAll([later])
        context += "\n" + outputs(spool, ["node2-again"]) + "\ntaken over: \(takenOver) job(s)"
        #expect(later.terminationStatus == 0, "\(context)")
        try expectEachOnce(spool, files: count, context)
        let survivorsRan = try watcher.read { db in
            try Int.fetchOne(db, sql: """
                SELECT count(*) FROM job_event WHERE message LIKE '%leased to %' AND message NOT LIKE '%:\(nodes[0].processIdentifier):%'
                """)
        } ?? 0
        #expect(survivorsRan > 0, "\(context)")
    }
    @Test("the server ends every node's connection twice mid-run: the nodes connect again and go on; every file ends there once")
    func connectionsEnded() async throws {
        let count = 600
        let spool = try spool(files: count)
        let server = try TestPostgres.shared()
        let names = ["node1", "node2"]
        let nodes = try names.map { try node(spool, $0) }
        let watcher = try spool.openStore()
        var ended = 0
        for fraction in [5, 2] {
            let started = Date()
            while Date().timeIntervalSince(started) < 120 {
                let done = try watcher.read { db in
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM job WHERE kind = 'process' AND state = 'succeeded'")
                } ?? 0
                if done >= count / fraction { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            // As a server restart or failover does: every connection of the gateway's login ends at once.
            try server.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '\(server.user)'")
            ended += 1
        }
        try await waitForAll(nodes)
        var context = outputs(spool, names)
        #expect(ended == 2 && nodes.allSatisfy { $0.terminationStatus == 0 || $0.terminationStatus == 1 }, "\(context)")
        // A statement cut while committing fails its job (whether it committed is unknown) and the job is retried:
        // later runs finish those, as after a crash.
        for round in 0..<4 {
            let pending = try watcher.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM job WHERE state <> 'succeeded'") } ?? 0
            let left = try FileManager.default.contentsOfDirectory(atPath: spool.url.appendingPathComponent("partners/CARRIERX/drop").path)
            if pending == 0 && left.isEmpty { break }
            if round > 0 { try await Task.sleep(for: .seconds(6)) }  // a failed job's retry backoff
            let later = try node(spool, "later\(round)")
            try await waitForAll([later])
            context += "\n" + outputs(spool, ["later\(round)"])
        }
        try expectEachOnce(spool, files: count, context)
        let reconnected = names.map { name in
            ((try? String(contentsOf: spool.url.appendingPathComponent(name + ".out"), encoding: .utf8)) ?? "").contains("reconnected")
        }
        #expect(reconnected.contains(true), "a node says it reconnected: \(reconnected)\n\(context)")
    }
}
