import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

// Issue 8, the job ledger on PostgreSQL, for several gateway nodes on one server (postgres-nio; written by hand
// are only the SQL and the migration bookkeeping, which no library here does for PostgreSQL without an ORM):
//   - claiming with `SELECT ... FOR UPDATE SKIP LOCKED`: two nodes never take the same job, and neither waits for
//     the other's rows;
//   - leases with an expiry: a job whose node died (its lease lapsed) is claimed again by another node, and the
//     dead node's late `complete` is refused because the lease is no longer its own;
//   - session advisory locks for singleton work (one poller per drop directory, one scheduler tick): held by a
//     connection, so a node that dies releases them with its connection;
//   - migrations named and applied once, under a transaction-scoped advisory lock, so nodes starting together
//     do not apply one twice.
// The same invariants as the SQLite ledger's are in the schema (states, exactly the running jobs hold a lease, a
// job that gave up says why, unique delivery keys).
//
// Not yet: the rest of the store (batches, receipts, the manifest library, instructions) and the pipeline on it.

/// One job a node claimed: run it, then `complete` or `fail` it under the same owner.
public struct ClaimedJob: Sendable, Hashable {
    public var id: Int64
    public var kind: String
    public var partner: String?
    public var batchId: Int64?
    public var input: String
    /// This claim's attempt (1 for the first).
    public var attempt: Int
    public var maxAttempts: Int
}

/// The PostgreSQL ledger of one node: one connection (its advisory locks live as long as it does).
public final class PostgresLedger: Sendable {
    /// The migrations, in order; a released one is never edited (a change is a new one appended).
    static let migrations: [(name: String, sql: [String])] = [
        ("v1_jobs", [
            """
            CREATE TABLE job (
                id BIGSERIAL PRIMARY KEY,
                kind TEXT NOT NULL CHECK (kind <> ''),
                partner TEXT,
                batch_id BIGINT,
                idempotency_key TEXT UNIQUE,
                state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'retrying', 'cancelled', 'quarantined')),
                attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
                next_run_at TIMESTAMPTZ NOT NULL,
                lease_owner TEXT,
                lease_expires_at TIMESTAMPTZ,
                error_code TEXT,
                error_message TEXT,
                input JSONB NOT NULL DEFAULT '{}',
                output JSONB,
                created_at TIMESTAMPTZ NOT NULL,
                updated_at TIMESTAMPTZ NOT NULL,
                CHECK ((state = 'running') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
                CHECK (state NOT IN ('failed', 'quarantined', 'retrying') OR error_code IS NOT NULL)
            )
            """,
            "CREATE INDEX job_due ON job (next_run_at) WHERE state IN ('queued', 'retrying')",
            "CREATE INDEX job_running ON job (lease_expires_at) WHERE state = 'running'",
            "CREATE INDEX job_partner_state ON job (partner, state)",
        ]),
    ]

    public let settings: PostgresSettings
    let connection: PostgresConnection
    let logger: Logger

    private init(settings: PostgresSettings, connection: PostgresConnection, logger: Logger) {
        self.settings = settings
        self.connection = connection
        self.logger = logger
    }

    /// Connects to the server (the password read from its file or variable now).
    public static func connect(_ settings: PostgresSettings, logger: Logger = Logger(label: "gateway.postgres")) async throws -> PostgresLedger {
        var configuration = PostgresConnection.Configuration(
            host: settings.host, port: settings.port, username: settings.user, password: try settings.password(),
            database: settings.database, tls: .disable)
        if settings.tls == .require {
            var tls = TLSConfiguration.makeClientConfiguration()
            if let ca = settings.tlsCAFile { tls.trustRoots = .file(ca) }
            do {
                configuration.tls = .require(try NIOSSLContext(configuration: tls))
            } catch {
                throw PostgresStoreError(code: "postgres.tls", message: "cannot set up TLS for \(settings.description): \(error)")
            }
        }
        configuration.options.connectTimeout = .seconds(Int64(settings.connectTimeoutSeconds))
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
            return PostgresLedger(settings: settings, connection: connection, logger: logger)
        } catch {
            throw PostgresStoreError(code: "postgres.connect", message: "cannot connect to \(settings.description): \(Self.reason(error))")
        }
    }

    public func close() async {
        try? await connection.close()
    }

    /// What a PostgreSQL error says (the server's message, not the driver's generic text).
    static func reason(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            if let underlying = error.underlying { return "\(underlying)" }
            return "\(error.code)"
        }
        return "\(error)"
    }

    /// Runs a query on this node's connection; a failure says what the server said.
    @discardableResult
    func rows(_ query: PostgresQuery, file: String = #fileID, line: Int = #line) async throws -> [PostgresRow] {
        do {
            return try await connection.query(query, logger: logger).collect()
        } catch {
            throw PostgresStoreError(code: "postgres.query", message: "\(Self.reason(error)) (\(file):\(line))")
        }
    }

    // MARK: - Schema

    /// The server's version and the migrations applied and still to apply.
    public struct SchemaState: Sendable, Hashable {
        public var serverVersion: String
        public var applied: [String]
        public var pending: [String]
    }

    public func schemaState() async throws -> SchemaState {
        let version = try await rows("SHOW server_version").first?.decode(String.self) ?? "?"
        let exists = try await rows("SELECT to_regclass('swg_migration') IS NOT NULL").first?
            .decode(Bool.self) ?? false
        var applied: [String] = []
        if exists {
            for row in try await rows("SELECT name FROM swg_migration ORDER BY applied_at, name") {
                applied.append(try row.decode(String.self))
            }
        }
        return SchemaState(serverVersion: version, applied: applied, pending: Self.migrations.map(\.name).filter { !applied.contains($0) })
    }

    /// Applies the migrations not applied yet, each in its own transaction, under an advisory lock so two nodes
    /// starting at once apply each once. Returns the names applied now.
    @discardableResult
    public func migrate() async throws -> [String] {
        var done: [String] = []
        for migration in Self.migrations {
            let applied = try await connection.withTransaction(logger: logger) { c in
                try await c.query("SELECT pg_advisory_xact_lock(hashtextextended('swg.migrate', 0))", logger: logger)
                try await c.query("CREATE TABLE IF NOT EXISTS swg_migration (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)", logger: logger)
                let name = migration.name
                let found = try await c.query("SELECT 1 FROM swg_migration WHERE name = \(name)", logger: logger).collect()
                guard found.isEmpty else { return false }
                for sql in migration.sql { try await c.query(PostgresQuery(unsafeSQL: sql), logger: logger) }
                try await c.query("INSERT INTO swg_migration (name, applied_at) VALUES (\(name), now())", logger: logger)
                return true
            }
            if applied { done.append(migration.name) }
        }
        return done
    }

    // MARK: - Jobs

    /// Enqueues a job; one with a delivery key already enqueued is not enqueued again (returns nil).
    public func enqueue(kind: String, partner: String?, batchId: Int64?, input: String, idempotencyKey: String?, maxAttempts: Int,
                        now: Date) async throws -> Int64? {
        let rows = try await rows("""
            INSERT INTO job (kind, partner, batch_id, idempotency_key, state, max_attempts, next_run_at, input, created_at, updated_at)
            VALUES (\(kind), \(partner), \(batchId), \(idempotencyKey), 'queued', \(maxAttempts), \(now), \(input)::jsonb, \(now), \(now))
            ON CONFLICT (idempotency_key) DO NOTHING RETURNING id
            """)
        return try rows.first?.decode(Int64.self)
    }

    /// Claims up to `limit` due jobs for `owner` for `leaseSeconds`: queued or retrying ones whose time has come,
    /// and running ones whose lease lapsed (their node died). Rows another node is claiming are skipped, not waited
    /// for. A job that has had all its attempts is not claimed again; `requeueExpired` gives it up.
    public func claim(owner: String, limit: Int, leaseSeconds: Double, kinds: [String]? = nil, now: Date) async throws -> [ClaimedJob] {
        let expires = now.addingTimeInterval(leaseSeconds)
        let rows = try await rows("""
            WITH next AS (
                SELECT id FROM job
                WHERE ((state IN ('queued', 'retrying') AND next_run_at <= \(now))
                       OR (state = 'running' AND lease_expires_at <= \(now) AND attempts < max_attempts))
                  AND (\(kinds)::text[] IS NULL OR kind = ANY(\(kinds)::text[]))
                ORDER BY next_run_at, id
                LIMIT \(limit)
                FOR UPDATE SKIP LOCKED)
            UPDATE job j SET state = 'running', attempts = j.attempts + 1, lease_owner = \(owner), lease_expires_at = \(expires),
                             updated_at = \(now)
            FROM next WHERE j.id = next.id
            RETURNING j.id, j.kind, j.partner, j.batch_id, j.input::text, j.attempts, j.max_attempts
            """)
        return try rows.map { row in
            let (id, kind, partner, batch, input, attempt, maxAttempts) = try row.decode((Int64, String, String?, Int64?, String, Int, Int).self)
            return ClaimedJob(id: id, kind: kind, partner: partner, batchId: batch, input: input, attempt: attempt, maxAttempts: maxAttempts)
        }.sorted { $0.id < $1.id }
    }

    /// Extends `owner`'s lease; false when the lease is no longer its own (it lapsed and another node took the job).
    public func renew(_ jobId: Int64, owner: String, leaseSeconds: Double, now: Date) async throws -> Bool {
        let rows = try await rows("""
            UPDATE job SET lease_expires_at = \(now.addingTimeInterval(leaseSeconds)), updated_at = \(now)
            WHERE id = \(jobId) AND state = 'running' AND lease_owner = \(owner) RETURNING id
            """)
        return !rows.isEmpty
    }

    /// Marks `owner`'s job succeeded; false (nothing changed) when the lease is no longer its own.
    public func complete(_ jobId: Int64, owner: String, output: String? = nil, now: Date) async throws -> Bool {
        let rows = try await rows("""
            UPDATE job SET state = 'succeeded', output = \(output)::jsonb, lease_owner = NULL, lease_expires_at = NULL, updated_at = \(now)
            WHERE id = \(jobId) AND state = 'running' AND lease_owner = \(owner) RETURNING id
            """)
        return !rows.isEmpty
    }

    /// Marks `owner`'s job failed for now: retried after `retryAfter` seconds while it has attempts left, given up
    /// (failed) after. False when the lease is no longer its own.
    public func fail(_ jobId: Int64, owner: String, code: String, message: String, retryAfter: Double, now: Date) async throws -> Bool {
        let rows = try await rows("""
            UPDATE job SET state = CASE WHEN attempts < max_attempts THEN 'retrying' ELSE 'failed' END,
                           next_run_at = \(now.addingTimeInterval(retryAfter)), error_code = \(code), error_message = \(message),
                           lease_owner = NULL, lease_expires_at = NULL, updated_at = \(now)
            WHERE id = \(jobId) AND state = 'running' AND lease_owner = \(owner) RETURNING id
            """)
        return !rows.isEmpty
    }

    /// Gives up running jobs whose lease lapsed on their last attempt (their node died each time): failed, with why.
    @discardableResult
    public func failExhausted(now: Date) async throws -> [Int64] {
        try await rows("""
            UPDATE job SET state = 'failed', error_code = 'lease.lapsed', error_message = 'its node stopped on every attempt',
                           lease_owner = NULL, lease_expires_at = NULL, updated_at = \(now)
            WHERE state = 'running' AND lease_expires_at <= \(now) AND attempts >= max_attempts RETURNING id
            """).map { try $0.decode(Int64.self) }
    }

    /// How many jobs are in each state.
    public func jobCounts() async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try await rows("SELECT state, count(*)::int FROM job GROUP BY state") {
            let (state, count) = try row.decode((String, Int).self)
            counts[state] = count
        }
        return counts
    }

    // MARK: - Singletons

    /// Takes the advisory lock named `name` for this node's connection if no other node holds it; true when taken
    /// (or already held here). It is held until `releaseSingleton` or until the connection closes (the node stops
    /// or dies).
    public func tryTakeSingleton(_ name: String) async throws -> Bool {
        try await rows("SELECT pg_try_advisory_lock(hashtextextended(\(name), 0))").first?
            .decode(Bool.self) ?? false
    }

    public func releaseSingleton(_ name: String) async throws {
        try await rows("SELECT pg_advisory_unlock(hashtextextended(\(name), 0))")
    }
}
