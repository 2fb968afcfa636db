import Foundation
import GRDB
import Jobs
import NIOConcurrencyHelpers
import Testing
import TestSupport

@testable import Gateway

// Issue 8 against a real PostgreSQL server on loopback (TestSupport/TestPostgres.swift starts a throwaway cluster
// for the test process; each test gets its own database): the job ledger shared by several nodes (each node one
// connection here), and `gateway db migrate` / `gateway db check` through the real executable on both stores.

func postgresSettings(_ server: TestPostgres, _ database: String) -> PostgresSettings {
    PostgresSettings(port: server.port, database: database, user: server.user, passwordFile: server.passwordFile, stateDirectory: "/unused")
}

/// `count` nodes (each its own store, so its own connection) on a fresh database with the schema.
private func nodes(_ count: Int) throws -> (settings: PostgresSettings, stores: [GatewayStore]) {
    let server = try TestPostgres.shared()
    let s = postgresSettings(server, try server.createDatabase())
    return (s, try (0..<count).map { _ in try GatewayStore(postgres: s) })
}

/// The job ids each node claimed and completed, the nodes working at once on threads of their own (off Swift's
/// cooperative pool, which other suites' services need meanwhile); a node's error is returned, not recorded there.
private func drainTogether(_ stores: [GatewayStore], limit: Int) async throws -> [[Int64]] {
    let boxed = UncheckedStores(stores)
    return try await offPool {
        let claimed = NIOLockedValueBox<[Int: Result<[Int64], any Error>]>([:])
        together(boxed.stores.count) { n in
            let outcome = Result { () throws -> [Int64] in
                var mine: [Int64] = []
                while true {
                    let jobs = try boxed.stores[n].claimDueJobs(limit: limit, now: Date(), leaseOwner: "node-\(n)", leaseSeconds: 60)
                    if jobs.isEmpty { return mine }
                    for job in jobs {
                        try boxed.stores[n].complete(job.id, leaseOwner: "node-\(n)", now: Date())
                        mine.append(job.id)
                    }
                }
            }
            claimed.withLockedValue { $0[n] = outcome }
        }
        return try claimed.withLockedValue { all in try (0..<boxed.stores.count).map { try all[$0]?.get() ?? [] } }
    }
}

private struct UncheckedStores: @unchecked Sendable {
    let stores: [GatewayStore]
    init(_ stores: [GatewayStore]) { self.stores = stores }
}

/// Runs `body(0..<count)` on `count` threads at once (not `concurrentPerform`, which runs as many as there are
/// cores, so a third node would start when the first two had finished), and waits for all.
func together(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for n in 0..<count {
        group.enter()
        Thread {
            body(n)
            group.leave()
        }.start()
    }
    group.wait()
}

@Suite("PostgreSQL store: the job ledger across nodes, gateway db")
struct PostgresStoreTests {
    @Test("three nodes claim 3 000 jobs at once: every job is claimed and completed exactly once")
    func claimOnce() async throws {
        let stores = try nodes(3).stores
        let now = Date()
        for i in 0..<3_000 {
            try stores[0].enqueue(JobRequest(kind: "process", partner: "P\(i % 7)", idempotencyKey: "job-\(i)"), now: now)
        }
        let claimed = try await drainTogether(stores, limit: 25)
        let every = claimed.flatMap { $0 }
        #expect(every.count == 3_000 && Set(every).count == 3_000, "\(every.count) claims, \(Set(every).count) distinct")
        #expect(claimed.allSatisfy { !$0.isEmpty }, "every node got work: \(claimed.map(\.count))")
        #expect(try stores[0].jobCounts() == [.succeeded: 3_000])
    }

    @Test("a node dies holding jobs: once their leases lapse another node takes them, and the dead node's late answer is refused")
    func deadNode() throws {
        var (settings, stores) = try nodes(2)
        let now = Date()
        for i in 0..<10 {
            try stores[0].enqueue(JobRequest(kind: "deliver", partner: "CUSTOMS", input: "{\"n\": \(i)}"), now: now)
        }
        let taken = try stores[0].claimDueJobs(limit: 100, now: now, leaseOwner: "node-a", leaseSeconds: 30)
        #expect(taken.count == 10)
        stores.removeFirst()  // node A dies with its leases (its connection closes)
        let b = stores[0]
        // Before the leases lapse, node B finds nothing to do; after, it takes every one back, as a second attempt.
        #expect(try b.requeueExpiredLeases(now: now.addingTimeInterval(29)).isEmpty)
        #expect(try b.claimDueJobs(limit: 100, now: now.addingTimeInterval(29), leaseOwner: "node-b", leaseSeconds: 30).isEmpty)
        let later = now.addingTimeInterval(31)
        #expect(try b.requeueExpiredLeases(now: later) == taken.map(\.id))
        let retaken = try b.claimDueJobs(limit: 100, now: later, leaseOwner: "node-b", leaseSeconds: 30)
        #expect(retaken.map(\.id) == taken.map(\.id) && retaken.allSatisfy { $0.attempts == 2 }, "\(retaken)")
        // Node A comes back with a stale answer (a new connection, as after a restart): refused, the job stays B's.
        let revived = try GatewayStore(postgres: settings)
        #expect(throws: StoreError.self) { try revived.complete(taken[0].id, leaseOwner: "node-a", now: later) }
        #expect(throws: StoreError.self) { try revived.renewLease(taken[0].id, leaseOwner: "node-a", now: later, leaseSeconds: 30) }
        for job in retaken { try b.complete(job.id, leaseOwner: "node-b", now: later) }
        #expect(try b.jobCounts() == [.succeeded: 10])
    }

    @Test("a singleton (advisory lock) is held by one node at a time, and passes on when its holder's connection ends")
    func singleton() throws {
        var stores = try nodes(3).stores
        #expect(try stores[0].tryTakeSingleton("poll:CARRIERX"))
        #expect(try stores[1].tryTakeSingleton("poll:CARRIERX") == false)
        #expect(try stores[2].tryTakeSingleton("poll:CARRIERX") == false)
        #expect(try stores[1].tryTakeSingleton("poll:CUSTOMS"), "another name is another lock")
        stores.removeFirst()  // the holder dies
        // The server frees its locks once it has ended that session, a moment after the connection closes (under a
        // loaded test run, not yet at the next statement): the lock passes on within seconds.
        let deadline = Date().addingTimeInterval(10)
        var taken = try stores[1].tryTakeSingleton("poll:CARRIERX")
        while !taken && Date() < deadline {
            usleep(50_000)
            taken = try stores[1].tryTakeSingleton("poll:CARRIERX")
        }
        #expect(taken)
        try stores[1].releaseSingleton("poll:CARRIERX")
        #expect(try stores[0].tryTakeSingleton("poll:CARRIERX"))
    }

    @Test("a node whose connection the server ends connects again: a transaction cut before COMMIT runs again, its advisory locks are taken again")
    func reconnects() throws {
        let server = try TestPostgres.shared()
        let (settings, stores) = try nodes(2)
        let (a, b) = (stores[0], stores[1])
        func terminate(_ store: GatewayStore) throws {
            let pid = try #require(try store.read { try Int64.fetchOne($0, sql: "SELECT pg_backend_pid()") })
            try server.psql("SELECT pg_terminate_backend(\(pid))")
        }
        #expect(try a.tryTakeSingleton("poll:CARRIERX"))

        // Ended between two calls: the next call connects again and works; the lock is A's again.
        try terminate(a)
        try a.enqueue(JobRequest(kind: "process", partner: "CARRIERX", idempotencyKey: "after-restart"), now: Date())
        #expect(try b.tryTakeSingleton("poll:CARRIERX") == false, "A took its lock again on its new connection")

        // Ended inside a transaction, before COMMIT: the transaction runs again from the start, once, on a new one.
        let pid = try #require(try a.read { try Int64.fetchOne($0, sql: "SELECT pg_backend_pid()") })
        var runs = 0
        try a.write { db in
            runs += 1
            if runs == 1 { try server.psql("SELECT pg_terminate_backend(\(pid))") }
            try db.execute(sql: "INSERT INTO job (kind, partner, state, max_attempts, next_run_at, created_at, updated_at) "
                           + "VALUES ('process', 'CARRIERX', 'queued', 1, '2026-01-01', '2026-01-01', '2026-01-01')")
        }
        #expect(runs == 2, "the cut transaction ran again")
        #expect(try b.jobCounts() == [.queued: 2], "one job from each transaction that committed")

        // While the server refuses connections, calls fail with a clear error; once it lets them in, they work.
        try server.psql("ALTER DATABASE \(settings.database) ALLOW_CONNECTIONS false")
        try terminate(a)
        _ = try? a.jobCounts()  // fails: the end of the old connection, or the refusal of a new one
        #expect { try a.jobCounts() } throws: { "\($0)".contains("cannot connect") }
        try server.psql("ALTER DATABASE \(settings.database) ALLOW_CONNECTIONS true")
        #expect(try a.jobCounts() == [.queued: 2])
    }

    @Test("three nodes migrating at once apply each migration once")
    func migrateTogether() throws {
        let server = try TestPostgres.shared()
        let s = postgresSettings(server, try server.createDatabase())
        let opened = NIOLockedValueBox<[GatewayStore]>([])
        together(3) { _ in
            do {
                let store = try GatewayStore(postgres: s)
                opened.withLockedValue { $0.append(store) }
            } catch {
                Issue.record("\(error)")
            }
        }
        let stores = opened.withLockedValue { $0 }
        #expect(stores.count == 3)
        for store in stores {
            #expect(try store.appliedMigrations() == PostgresStoreSchema.migrations.map(\.name))
        }
        let rows = try stores[0].read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM swg_migration") }
        #expect(rows == PostgresStoreSchema.migrations.count)
    }

    @Test("gateway db check and db migrate on PostgreSQL: pending, applied, current; a wrong password is a clear refusal")
    func dbCommandsPostgres() throws {
        let server = try TestPostgres.shared()
        let database = try server.createDatabase()
        let spool = try Scratch(store: .sqlite)  // its configurations name their own store
        let base = """
            [gateway]
            sender_id = "SWGATEWAY"
            spool = "."

            """
        _ = try spool.write("gateway.toml", base + server.storeTable(database: database))
        var run = try spool.gateway("db", "check", "--config", "gateway.toml")
        #expect(run.status == 1 && run.stdout.contains("store: postgres swg@127.0.0.1:\(server.port)/\(database) (server PostgreSQL 1")
                    && run.stdout.contains("pending: v1_intake, v1_jobs,") && run.stdout.contains("v10_check_comparisons (run `gateway db migrate`)"), "\(run)")
        run = try spool.gateway("db", "migrate", "--config", "gateway.toml")
        #expect(run.status == 0 && run.stdout.contains("applied now: v1_intake, v1_jobs,") && run.stdout.contains("none pending"), "\(run)")
        run = try spool.gateway("db", "check", "--config", "gateway.toml", "--json")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run)")
        #expect(run.status == 0 && report["ok"] as? Bool == true && report["applied"] as? [String] == PostgresStoreSchema.migrations.map(\.name)
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
    }

    @Test("tls = \"require\": connects over TLS to a server whose certificate chains to tls_ca_file; refused against the system's trust store")
    func tlsRequired() throws {
        let server = try TestPostgres.shared()
        let database = try server.createDatabase()
        let spool = try Scratch(store: .sqlite)  // its configurations name their own store
        let base = "[gateway]\nsender_id = \"SWGATEWAY\"\nspool = \".\"\n\n" + server.storeTable(database: database) + "tls = \"require\"\n"
        _ = try spool.write("gateway.toml", base + "tls_ca_file = \"\(server.caFile)\"\n")
        var run = try spool.gateway("db", "migrate", "--config", "gateway.toml")
        #expect(run.status == 0 && run.stdout.contains("/\(database) (TLS) (server PostgreSQL") && run.stdout.contains("applied now: v1_intake"), "\(run)")
        // The same server with the system's trust store: its private CA is not in it.
        _ = try spool.write("gateway.toml", base)
        run = try spool.gateway("db", "check", "--config", "gateway.toml")
        #expect(run.status == 1 && run.stderr.contains("postgres.connect: cannot connect to") && run.stderr.contains("(TLS)"), "\(run)")
    }

    @Test("gateway db check and db migrate on SQLite")
    func dbCommandsSQLite() throws {
        let spool = try Scratch(store: .sqlite)  // its configurations name their own store
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
        #expect(run.status == 0 && run.stdout.contains("(server SQLite 3.") && run.stdout.contains("the last v10_check_comparisons; none pending"), "\(run)")
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
        try await waitForAll([setup])
        try #require(setup.terminationStatus == 0)
        let scratch = try Scratch(store: .sqlite)
        let store = try GatewayStore(postgres: postgresSettings(server, database))
        func start(node n: Int, msPerJob: Int) throws -> Process {
            try start(["work", target, "node\(n)", String(msPerJob)], output: scratch.url.appendingPathComponent("node\(n).out"))
        }
        /// Waits (up to 60 s) until node1 holds leased jobs.
        func node1Holds() async throws -> Bool {
            for _ in 0..<3_000 {
                let held = try store.read { db in
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM job WHERE lease_owner = 'node1' AND state = 'running'")
                } ?? 0
                if held > 0 { return true }
                try await Task.sleep(for: .milliseconds(20))
            }
            return false
        }
        // node1 starts first and alone, at 100 ms of "work" a job: a lease of 16 lasts it 1.6 s, inside the 2 s lease,
        // and the 1 500 jobs would take it 150 s, so it is still working when it is killed however late a loaded machine
        // starts the others. (With the three started together at 20 ms a job, node1 once exited on its own before the
        // kill came: a fresh clone's PostgreSQL pass, session 18.) The other two take 20 ms a job.
        let node1 = try start(node: 1, msPerJob: 100)
        try #require(try await node1Holds(), "node1 never leased a job")
        let others = try [2, 3].map { try start(node: $0, msPerJob: 20) }
        // Killed while it holds a lease: what it held then is what the others must take over.
        try #require(try await node1Holds(), "node1 stopped holding jobs before it was killed")
        kill(node1.processIdentifier, SIGKILL)
        let nodes = [node1] + others
        try await waitForAll(nodes)
        #expect(nodes[0].terminationReason == .uncaughtSignal, "node1 was still working when killed")
        let outputs = try (2...3).map { try String(contentsOf: scratch.url.appendingPathComponent("node\($0).out"), encoding: .utf8) }
        #expect(nodes[1].terminationStatus == 0 && nodes[2].terminationStatus == 0, "\(outputs)")
        // Every job succeeded once; some were taken over from node1 (a second attempt or, when a loaded machine
        // stalled a survivor past its 2 s lease too, a third).
        let counts = try store.jobCounts()
        let (most, retaken) = try store.read { db in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT max(attempts) AS most, count(*) FILTER (WHERE attempts = 2) AS retaken FROM job"))
            return (row["most"] as Int, row["retaken"] as Int)
        }
        #expect(counts == [.succeeded: 1500], "\(counts) \(outputs)")
        #expect(most >= 2 && retaken >= 1, "jobs node1 held were claimed again once its leases lapsed: \(retaken) \(outputs)")
    }

}

