import Foundation
import Testing
import TestSupport

@testable import Gateway

// Issue 8 against a real PostgreSQL server on loopback (TestSupport/TestPostgres.swift starts a throwaway cluster
// for the test process; each test gets its own database): the job ledger shared by several nodes (each node one
// connection here), and `gateway db migrate` / `gateway db check` through the real executable on both stores.

private func settings(_ server: TestPostgres, _ database: String) -> PostgresSettings {
    PostgresSettings(port: server.port, database: database, user: server.user, passwordFile: server.passwordFile, stateDirectory: "/unused")
}

/// Runs `body` with `count` node connections to a fresh database with the schema; every connection is closed
/// after, whatever happens (a connection must be closed before it goes; closing one twice is harmless).
private func withNodes(_ count: Int, _ body: ([PostgresLedger]) async throws -> Void) async throws {
    let server = try TestPostgres.shared()
    let s = settings(server, try server.createDatabase())
    var ledgers: [PostgresLedger] = []
    do {
        for _ in 0..<count { ledgers.append(try await PostgresLedger.connect(s)) }
        try await ledgers[0].migrate()
        try await body(ledgers)
    } catch {
        for ledger in ledgers { await ledger.close() }
        throw error
    }
    for ledger in ledgers { await ledger.close() }
}

@Suite("PostgreSQL store: the job ledger across nodes, gateway db")
struct PostgresStoreTests {
    @Test("three nodes claim 3 000 jobs at once: every job is claimed and completed exactly once")
    func claimOnce() async throws {
        try await withNodes(3) { ledgers in
        let now = Date()
        for i in 0..<3_000 {
            _ = try await ledgers[0].enqueue(kind: "process", partner: "P\(i % 7)", batchId: Int64(i), input: "{}", idempotencyKey: "job-\(i)",
                                             maxAttempts: 3, now: now)
        }
        let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for (n, ledger) in ledgers.enumerated() {
                group.addTask {
                    var mine: [Int64] = []
                    while true {
                        let jobs = try await ledger.claim(owner: "node-\(n)", limit: 25, leaseSeconds: 60, now: Date())
                        if jobs.isEmpty { break }
                        for job in jobs {
                            #expect(try await ledger.complete(job.id, owner: "node-\(n)", now: Date()))
                            mine.append(job.id)
                        }
                    }
                    return mine
                }
            }
            var all: [[Int64]] = []
            for try await ids in group { all.append(ids) }
            return all
        }
        let every = claimed.flatMap { $0 }
        #expect(every.count == 3_000 && Set(every).count == 3_000, "\(every.count) claims, \(Set(every).count) distinct")
        #expect(claimed.allSatisfy { !$0.isEmpty }, "every node got work: \(claimed.map(\.count))")
        #expect(try await ledgers[0].jobCounts() == ["succeeded": 3_000])
        }
    }

    @Test("a node dies holding jobs: once their leases lapse another node takes them, and the dead node's late answer is refused")
    func deadNode() async throws {
        try await withNodes(2) { ledgers in
        let now = Date()
        for i in 0..<10 {
            _ = try await ledgers[0].enqueue(kind: "deliver", partner: "CUSTOMS", batchId: nil, input: "{\"n\": \(i)}", idempotencyKey: nil,
                                             maxAttempts: 3, now: now)
        }
        let taken = try await ledgers[0].claim(owner: "node-a", limit: 100, leaseSeconds: 30, now: now)
        #expect(taken.count == 10)
        await ledgers[0].close()  // node A dies with its leases
        // Before the leases lapse, node B finds nothing to do; after, it takes every one, as a second attempt.
        #expect(try await ledgers[1].claim(owner: "node-b", limit: 100, leaseSeconds: 30, now: now.addingTimeInterval(29)).isEmpty)
        let later = now.addingTimeInterval(31)
        let retaken = try await ledgers[1].claim(owner: "node-b", limit: 100, leaseSeconds: 30, now: later)
        #expect(retaken.map(\.id) == taken.map(\.id) && retaken.allSatisfy { $0.attempt == 2 }, "\(retaken)")
        // Node A comes back with a stale answer: refused, the job stays node B's.
        // (A new connection for node A, as after a restart.)
        let revived = try await PostgresLedger.connect(ledgers[1].settings)
        let stale = try await revived.complete(taken[0].id, owner: "node-a", now: later)
        let renewed = try await revived.renew(taken[0].id, owner: "node-a", leaseSeconds: 30, now: later)
        await revived.close()
        #expect(stale == false && renewed == false)
        for job in retaken { #expect(try await ledgers[1].complete(job.id, owner: "node-b", now: later)) }
        #expect(try await ledgers[1].jobCounts() == ["succeeded": 10])
        }
    }

    @Test("a job whose node dies on every attempt is given up with why; a failed attempt waits for its retry")
    func exhausted() async throws {
        try await withNodes(1) { ledgers in
        let ledger = ledgers[0]
        let now = Date()
        let id = try #require(try await ledger.enqueue(kind: "deliver", partner: nil, batchId: nil, input: "{}", idempotencyKey: "k1",
                                                       maxAttempts: 2, now: now))
        #expect(try await ledger.enqueue(kind: "deliver", partner: nil, batchId: nil, input: "{}", idempotencyKey: "k1", maxAttempts: 2,
                                         now: now) == nil, "a delivery key is enqueued once")
        let first = try await ledger.claim(owner: "n1", limit: 1, leaseSeconds: 10, now: now)
        #expect(try await ledger.fail(id, owner: "n1", code: "io.disk-full", message: "No space left on device", retryAfter: 5, now: now))
        #expect(try await ledger.claim(owner: "n1", limit: 1, leaseSeconds: 10, now: now.addingTimeInterval(4)).isEmpty, "not before its retry")
        let second = try await ledger.claim(owner: "n2", limit: 1, leaseSeconds: 10, now: now.addingTimeInterval(6))
        #expect(first.first?.attempt == 1 && second.first?.attempt == 2)
        // n2 dies too: its last attempt's lease lapses, nobody claims it again, and it is given up.
        #expect(try await ledger.claim(owner: "n3", limit: 1, leaseSeconds: 10, now: now.addingTimeInterval(30)).isEmpty)
        #expect(try await ledger.failExhausted(now: now.addingTimeInterval(30)) == [id])
        #expect(try await ledger.jobCounts() == ["failed": 1])
        }
    }

    @Test("a singleton (advisory lock) is held by one node at a time, and passes on when its holder's connection ends")
    func singleton() async throws {
        try await withNodes(3) { ledgers in
        #expect(try await ledgers[0].tryTakeSingleton("poll:CARRIERX"))
        #expect(try await ledgers[1].tryTakeSingleton("poll:CARRIERX") == false)
        #expect(try await ledgers[2].tryTakeSingleton("poll:CARRIERX") == false)
        #expect(try await ledgers[1].tryTakeSingleton("poll:CUSTOMS"), "another name is another lock")
        await ledgers[0].close()  // the holder dies
        #expect(try await ledgers[2].tryTakeSingleton("poll:CARRIERX"))
        try await ledgers[2].releaseSingleton("poll:CARRIERX")
        #expect(try await ledgers[1].tryTakeSingleton("poll:CARRIERX"))
        }
    }

    @Test("three nodes migrating at once apply each migration once")
    func migrateTogether() async throws {
        let server = try TestPostgres.shared()
        let s = settings(server, try server.createDatabase())
        let applied = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<3 {
                group.addTask {
                    let ledger = try await PostgresLedger.connect(s)
                    do {
                        let done = try await ledger.migrate()
                        await ledger.close()
                        return done
                    } catch {
                        await ledger.close()
                        throw error
                    }
                }
            }
            var all: [String] = []
            for try await names in group { all += names }
            return all
        }
        #expect(applied == PostgresLedger.migrations.map(\.name), "\(applied)")
    }

    @Test("gateway db check and db migrate on PostgreSQL: pending, applied, current; a wrong password is a clear refusal")
    func dbCommandsPostgres() throws {
        let server = try TestPostgres.shared()
        let database = try server.createDatabase()
        let spool = try Scratch()
        let base = """
            [gateway]
            sender_id = "SWGATEWAY"
            spool = "."

            """
        _ = try spool.write("gateway.toml", base + server.storeTable(database: database))
        var run = try spool.gateway("db", "check", "--config", "gateway.toml")
        #expect(run.status == 1 && run.stdout.contains("store: postgres swg@127.0.0.1:\(server.port)/\(database) (server PostgreSQL 1")
                    && run.stdout.contains("pending: v1_jobs (run `gateway db migrate`)"), "\(run)")
        run = try spool.gateway("db", "migrate", "--config", "gateway.toml")
        #expect(run.status == 0 && run.stdout.contains("applied now: v1_jobs") && run.stdout.contains("none pending"), "\(run)")
        run = try spool.gateway("db", "check", "--config", "gateway.toml", "--json")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run)")
        #expect(run.status == 0 && report["ok"] as? Bool == true && report["applied"] as? [String] == ["v1_jobs"]
                    && report["pending"] as? [String] == [], "\(run)")
        run = try spool.gateway("db", "migrate", "--config", "gateway.toml")
        #expect(run.status == 0 && !run.stdout.contains("applied now"), "\(run)")
        // A wrong password: refused, saying why, the password never printed.
        _ = try spool.write("wrong.pw", "not-the-password\n")
        _ = try spool.write("gateway.toml", base + server.storeTable(database: database).replacingOccurrences(of: server.passwordFile, with: "wrong.pw"))
        run = try spool.gateway("db", "check", "--config", "gateway.toml")
        #expect(run.status == 1 && run.stderr.contains("postgres.connect: cannot connect to swg@127.0.0.1:\(server.port)/\(database)")
                    && run.stderr.contains("password authentication failed") && !run.stderr.contains("not-the-password"), "\(run)")
        // A password written in the configuration is a mistake.
        _ = try spool.write("gateway.toml", base + server.storeTable(database: database) + "password = \"secret\"\n")
        run = try spool.gateway("db", "check", "--config", "gateway.toml")
        #expect(run.status == 2 && run.stderr.contains("store.password") && run.stderr.contains("never written in the configuration"), "\(run)")
        // The pipeline does not run on it yet, and says so.
        _ = try spool.write("gateway.toml", base + server.storeTable(database: database))
        run = try spool.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status != 0 && (run.stderr + run.stdout).contains("postgres.not-yet"), "\(run)")
    }

    @Test("tls = \"require\": connects over TLS to a server whose certificate chains to tls_ca_file; refused against the system's trust store")
    func tlsRequired() throws {
        let server = try TestPostgres.shared()
        let database = try server.createDatabase()
        let spool = try Scratch()
        let base = "[gateway]\nsender_id = \"SWGATEWAY\"\nspool = \".\"\n\n" + server.storeTable(database: database) + "tls = \"require\"\n"
        _ = try spool.write("gateway.toml", base + "tls_ca_file = \"\(server.caFile)\"\n")
        var run = try spool.gateway("db", "migrate", "--config", "gateway.toml")
        #expect(run.status == 0 && run.stdout.contains("/\(database) (TLS) (server PostgreSQL") && run.stdout.contains("applied now: v1_jobs"), "\(run)")
        // The same server with the system's trust store: its private CA is not in it.
        _ = try spool.write("gateway.toml", base)
        run = try spool.gateway("db", "check", "--config", "gateway.toml")
        #expect(run.status == 1 && run.stderr.contains("postgres.connect: cannot connect to") && run.stderr.contains("(TLS)"), "\(run)")
    }

    @Test("gateway db check and db migrate on SQLite")
    func dbCommandsSQLite() throws {
        let spool = try Scratch()
        _ = try spool.write("gateway.toml", """
            [gateway]
            sender_id = "SWGATEWAY"
            spool = "."

            """)
        var run = try spool.gateway("db", "check", "--config", "gateway.toml")
        #expect(run.status == 1 && run.stdout.contains("store: sqlite") && run.stdout.contains("pending: v1_intake"), "\(run)")
        run = try spool.gateway("db", "migrate", "--config", "gateway.toml")
        #expect(run.status == 0 && run.stdout.contains("applied now: v1_intake") && run.stdout.contains("none pending"), "\(run)")
        run = try spool.gateway("db", "check", "--config", "gateway.toml")
        #expect(run.status == 0 && run.stdout.contains("(server SQLite 3.") && run.stdout.contains("the last v9_sweep_time; none pending"), "\(run)")
    }

    @Test("three node processes share 1 500 jobs; one is killed with SIGKILL mid-run; the others finish its work, each job once")
    func killOneNode() async throws {
        let gateway = try #require(CLI.executable, "build with `swift build --build-tests`")
        let bench = gateway.deletingLastPathComponent().appendingPathComponent("ledger-bench")
        try #require(FileManager.default.isExecutableFile(atPath: bench.path), "ledger-bench was not built beside gateway")
        let server = try TestPostgres.shared()
        let database = try server.createDatabase()
        let target = "127.0.0.1:\(server.port)/\(database)/\(server.user)\(server.passwordFile)"
        func start(_ arguments: [String], output: URL? = nil) throws -> Process {
            let process = Process()
            process.executableURL = bench
            process.arguments = arguments
            process.standardOutput = try output.map { url in
                FileManager.default.createFile(atPath: url.path, contents: nil)
                return try FileHandle(forWritingTo: url)
            } ?? FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
        let setup = try start(["setup", target, "1500"])
        setup.waitUntilExit()
        try #require(setup.terminationStatus == 0)
        let scratch = try Scratch()
        let nodes = try (1...3).map { n in try start(["work", target, "node\(n)", "1"], output: scratch.url.appendingPathComponent("node\(n).out")) }
        usleep(300_000)
        kill(nodes[0].processIdentifier, SIGKILL)
        for node in nodes { node.waitUntilExit() }
        #expect(nodes[0].terminationReason == .uncaughtSignal, "node1 was still working when killed")
        let outputs = try (2...3).map { try String(contentsOf: scratch.url.appendingPathComponent("node\($0).out"), encoding: .utf8) }
        #expect(nodes[1].terminationStatus == 0 && nodes[2].terminationStatus == 0, "\(outputs)")
        // Every job succeeded once; some were taken over from node1 (a second attempt), and node1 completed none of them twice.
        let ledger = try await PostgresLedger.connect(settings(server, database))
        let counts = try await ledger.jobCounts()
        let attempts = try await ledger.rows("SELECT max(attempts)::int, count(*) FILTER (WHERE attempts = 2)::int FROM job")
        await ledger.close()
        #expect(counts == ["succeeded": 1500], "\(counts) \(outputs)")
        let (most, retaken) = try attempts[0].decode((Int, Int).self)
        #expect(most == 2 && retaken >= 1, "jobs node1 held were claimed again once its leases lapsed: \(retaken) \(outputs)")
    }

}

