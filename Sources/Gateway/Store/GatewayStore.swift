import CGatewaySys
import Foundation
import GRDB
import Jobs

/// The gateway's ledger: batches, conflicts, receipts and jobs in one SQLite file (WAL).
///
/// Durability: WAL with `PRAGMA synchronous = FULL`, so every committed transaction is fsynced
/// before `write` returns — a ledger row the pipeline saw commit survives kill -9 and power loss,
/// which is what lets the drop file be removed right after. (`NORMAL` would be faster but may lose
/// the last commits on power loss, breaking "remove from the drop only after commit".) Each unit
/// of work is one IMMEDIATE write transaction, so the fsync cost is paid once per file, not per row.
///
/// Time is always injected (`now:`): the store never reads the clock, so tests and reruns agree.
public final class GatewayStore: Sendable {
    /// The database, SQLite or PostgreSQL.
    let database: StoreDatabase
    /// Where the database file lives (SQLite), or the server (PostgreSQL: `user@host:port/database`).
    public let path: String

    /// Which store this is.
    public var dialect: StoreDialect { database.dialect }

    /// The SQLite database, for tests that look inside it (SQLite only).
    public var pool: DatabasePool {
        guard case .sqlite(let pool) = database.kind else { preconditionFailure("pool: this store is PostgreSQL") }
        return pool
    }

    /// Opens (creating if needed) the ledger at `path` and applies pending migrations.
    ///
    /// Several instances (threads or processes) may share one file: writers wait on each other for
    /// up to `busyTimeoutSeconds` instead of failing.
    public init(path: String, busyTimeoutSeconds: Double = 30) throws {
        _ = Self.sqliteMemoryStatusOff
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeoutSeconds)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // A pipeline transaction records a whole chunk (256 files and their jobs). With SQLite's default
            // 2 MB page cache such a transaction spilled dirty pages to the WAL again and again (84 page writes
            // per file, seen with strace); 64 MB keeps a chunk's pages in memory until its one commit.
            try db.execute(sql: "PRAGMA cache_size = -65536")
            // Each item of a chunk runs in a savepoint, whose statement journal SQLite otherwise keeps in a
            // temporary file (/var/tmp/etilqs_*): 60 small writes per file. In memory, it costs nothing.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        self.path = path
        let pool = try DatabasePool(path: path, configuration: configuration)
        self.database = StoreDatabase(.sqlite(pool))
        // GRDB's DatabasePool sets `synchronous = NORMAL` on its writer when it switches to WAL, after
        // `prepareDatabase` ran, which silently undid the FULL above (strace showed no WAL fsync per commit).
        // Set it again on the writer connection (the only one that commits), and check it took.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            let level = try Int.fetchOne(db, sql: "PRAGMA synchronous")
            if level != 2 { throw StoreError(.corrupt, "PRAGMA synchronous is \(level.map(String.init) ?? "?"), not FULL (2)") }
        }
        try StoreSchema.migrator.migrate(pool)
    }

    /// SQLite's allocation statistics off, once per process, before the first connection initializes SQLite (later,
    /// SQLite refuses the setting and keeps counting: only slower). SQLite updates those counts under one
    /// process-wide mutex on every allocation of every connection; nothing here reads them. A routed run of 1 000
    /// manifests took 3 % less CPU time without them (five alternations).
    private static let sqliteMemoryStatusOff: Void = { _ = swg_sqlite_disable_memstatus() }()

    /// Connects to the PostgreSQL store several nodes share and applies pending migrations (each once, however
    /// many nodes start together).
    public init(postgres settings: PostgresSettings) throws {
        let session = try PostgresSession.connect(settings)
        try PostgresStoreSchema.migrate(session)
        self.path = settings.description
        self.database = StoreDatabase(.postgres(session))
    }

    /// Opens the store a configuration names.
    public convenience init(_ store: StoreConfiguration) throws {
        switch store {
        case .sqlite(let path): try self.init(path: path)
        case .postgres(let settings): try self.init(postgres: settings)
        }
    }

    /// Names of the migrations applied to this database, in order (for `gateway check` and tests).
    public func appliedMigrations() throws -> [String] {
        switch database.kind {
        case .sqlite(let pool): try pool.read { db in try StoreSchema.migrator.appliedMigrations(db) }
        case .postgres(let session): try PostgresStoreSchema.state(session).applied
        }
    }

    /// Runs `body` in one write transaction (tests and the rare caller that needs raw SQL, on either store).
    public func write<T>(_ body: (StoreConnection) throws -> T) throws -> T {
        try database.write(body)
    }

    /// Runs `body` in one read-only transaction.
    public func read<T>(_ body: (StoreConnection) throws -> T) throws -> T {
        try database.read(body)
    }

    /// Takes the singleton `name` for this node if no other node holds it (a drop directory's poll, the notice
    /// sweep): a PostgreSQL advisory lock, held until `releaseSingleton` or until this node's connection ends. On
    /// SQLite there is one node, and it always may.
    public func tryTakeSingleton(_ name: String) throws -> Bool {
        guard case .postgres(let session) = database.kind else { return true }
        return try session.tryLock(name)
    }

    public func releaseSingleton(_ name: String) throws {
        guard case .postgres(let session) = database.kind else { return }
        try session.unlock(name)
    }

    // MARK: - Intake

    /// Classifies an arrival and records it, with the job it triggers, in ONE write transaction.
    ///
    /// Order of checks: same partner + same bytes → identical replay; else same partner + sender +
    /// interchange reference as a non-conflict batch → conflict; else new. The renamed path is never
    /// part of the key. Only after this returns may the file be removed from the drop directory.
    public func recordIntake(_ intake: IntakeRecord) throws -> IntakeOutcome {
        try database.write { db in try Self.recordIntake(intake, db) }
    }

    /// Records the members of an unpacked archive, and marks the archive `unpacked`, in one transaction
    /// (all members or none). A member without `memberName` is named by its `originalName`.
    public func recordMembers(_ members: [IntakeRecord], of archiveId: Int64, now: Date) throws -> [IntakeOutcome] {
        try database.write { db in
            guard try Self.fetchBatch(db, archiveId) != nil else {
                throw StoreError(.batchNotFound, "archive batch \(archiveId) not found")
            }
            var outcomes: [IntakeOutcome] = []
            for var member in members {
                member.parentBatchId = archiveId
                member.memberName = member.memberName ?? member.originalName
                outcomes.append(try Self.recordIntake(member, db))
            }
            try db.execute(
                sql: "UPDATE batch SET state = 'unpacked', updated_at = ? WHERE id = ?", arguments: [now, archiveId])
            return outcomes
        }
    }

    static func recordIntake(_ intake: IntakeRecord, _ db: StoreConnection) throws -> IntakeOutcome {
        let hex = intake.digest.hex
        // The same arrival again (a crash after this transaction, before the work file was removed):
        // the outcome it had, nothing new recorded.
        if let claim = intake.claim {
            if let row = try Row.fetchOne(db, sql: "SELECT id, state FROM batch WHERE claim = ?", arguments: [claim]) {
                let id: Int64 = row["id"]
                if (row["state"] as String) == "conflict",
                    let existing = try Row.fetchOne(db, sql: "SELECT id, existing_batch_id FROM conflict WHERE batch_id = ?", arguments: [id])
                {
                    return .conflict(existingBatchId: existing["existing_batch_id"], batchId: id,
                                     conflictId: existing["id"], jobId: nil)
                }
                return .new(batchId: id, jobId: nil)
            }
            if let existing = try Int64.fetchOne(db, sql: "SELECT batch_id FROM replay WHERE claim = ?", arguments: [claim]) {
                return .identicalReplay(existingBatchId: existing, jobId: nil)
            }
        }
        if let existing = try Int64.fetchOne(db, sql: "SELECT id FROM batch WHERE partner = ? AND sha256 = ? ORDER BY id LIMIT 1",
            arguments: [intake.partner, hex])
        {
            try db.execute(
                sql: """
                    INSERT INTO replay (batch_id, original_name, size, mtime, received_at, claim)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [existing, intake.originalName, intake.size, intake.mtime, intake.receivedAt, intake.claim])
            let job = try intake.jobOnReplay.map { request in
                var request = request
                request.batchId = request.batchId ?? existing
                return try insertJob(request, now: intake.receivedAt, message: "identical replay of batch \(existing)", db)
            }
            return .identicalReplay(existingBatchId: existing, jobId: job)
        }
        if let reference = intake.interchangeRef,
            let existing = try Int64.fetchOne(db, sql: duplicateInterchangeSQL(db.dialect),
                                               arguments: [intake.partner, intake.senderId, reference])
        {
            let reason =
                "interchange reference '\(reference)' from sender '\(intake.senderId ?? "")' was already received "
                + "in batch \(existing) with different content (ISO 9735 code 26, duplicate detected)"
            let batchId = try insertBatch(intake, state: .conflict, reason: reason, db)
            let conflictId = try db.insert(
                sql: """
                    INSERT INTO conflict (partner, sender_id, interchange_ref, existing_batch_id, batch_id, detected_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [intake.partner, intake.senderId, reference, existing, batchId, intake.receivedAt])
            let job = try intake.jobOnConflict.map { request in
                var request = request
                request.batchId = batchId
                return try insertJob(request, now: intake.receivedAt, message: "conflict with batch \(existing)", db)
            }
            return .conflict(existingBatchId: existing, batchId: batchId, conflictId: conflictId, jobId: job)
        }
        let batchId = try insertBatch(intake, state: .received, reason: nil, db)
        let job = try intake.jobOnNew.map { request in
            var request = request
            request.batchId = batchId
            return try insertJob(request, now: intake.receivedAt, message: "new batch \(batchId)", db)
        }
        return .new(batchId: batchId, jobId: job)
    }

    /// The accepted batch with a partner's sender and interchange reference (ISO 9735 duplicate detection), found
    /// through the `batch_interchange` index. Its expression is the index's own: SQLite's index says `ifnull`,
    /// PostgreSQL's `COALESCE`. With `COALESCE` SQLite only matched the partner and walked all its batches, one
    /// more row every file a partner ever sent, at every intake (`StoreTests` checks the plan).
    static func duplicateInterchangeSQL(_ dialect: StoreDialect) -> String {
        let sender = dialect == .postgres ? "COALESCE(sender_id, '') = COALESCE(?, '')" : "ifnull(sender_id, '') = ifnull(?, '')"
        return """
            SELECT id FROM batch
            WHERE partner = ? AND \(sender) AND interchange_ref = ? AND state <> 'conflict'
            ORDER BY id LIMIT 1
            """
    }

    private static func insertBatch(_ intake: IntakeRecord, state: BatchState, reason: String?, _ db: StoreConnection) throws
        -> Int64
    {
        return try db.insert(
            sql: """
                INSERT INTO batch (partner, original_name, size, mtime, sha256, interchange_ref, sender_id,
                                   received_at, parent_batch_id, member_name, state, reason, updated_at, claim,
                                   signature_sha256, signature_name)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                intake.partner, intake.originalName, intake.size, intake.mtime, intake.digest.hex,
                intake.interchangeRef, intake.senderId, intake.receivedAt, intake.parentBatchId,
                intake.memberName, state.rawValue, reason, intake.receivedAt, intake.claim,
                intake.signatureDigest?.hex, intake.signatureName,
            ])
    }

    /// Sets a batch's state (accepted, rejected, quarantined...) with the reason operators will read.
    public func setBatchState(_ batchId: Int64, _ state: BatchState, reason: String? = nil, now: Date) throws {
        try database.write { db in
            try db.execute(
                sql: "UPDATE batch SET state = ?, reason = ?, updated_at = ? WHERE id = ?",
                arguments: [state.rawValue, reason, now, batchId])
            if db.changes() == 0 { throw StoreError(.batchNotFound, "batch \(batchId) not found") }
        }
    }

    /// Marks a conflict resolved with the operator's words.
    public func resolveConflict(_ conflictId: Int64, resolution: String, now: Date) throws {
        try database.write { db in
            try db.execute(
                sql: "UPDATE conflict SET resolved_at = ?, resolution = ? WHERE id = ? AND resolved_at IS NULL",
                arguments: [now, resolution, conflictId])
        }
    }

    // MARK: - Receipts

    /// Records a receipt written for a batch; if one of that kind exists, returns it unchanged
    /// (`created == false`), so a rerun never records — or sends — a second one.
    ///
    /// With `settingBatchState` (state, reason, time), the batch's state is set in the same transaction, so
    /// recording an answer and closing its batch cost one commit.
    public func recordReceipt(
        batchId: Int64, kind: ReceiptKind, fileName: String, digest: SHA256Digest, writtenAt: Date,
        settingBatchState: (BatchState, String?, Date)? = nil
    ) throws -> (receipt: ReceiptRecord, created: Bool) {
        try database.write { db in
            if let (state, reason, now) = settingBatchState {
                try db.execute(
                    sql: "UPDATE batch SET state = ?, reason = ?, updated_at = ? WHERE id = ?",
                    arguments: [state.rawValue, reason, now, batchId])
                if db.changes() == 0 { throw StoreError(.batchNotFound, "batch \(batchId) not found") }
            }
            try db.execute(
                sql: """
                    INSERT INTO receipt (batch_id, kind, file_name, sha256, written_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (batch_id, kind) DO NOTHING
                    """,
                arguments: [batchId, kind.rawValue, fileName, digest.hex, writtenAt])
            let created = db.changes() > 0
            let receipt = try ReceiptRecord.fetchOne(db, sql: "SELECT * FROM receipt WHERE batch_id = ? AND kind = ?", arguments: [batchId, kind.rawValue])!
            return (receipt, created)
        }
    }

    /// The receipt of `kind` already written for a batch, if any: check before writing a file.
    public func receipt(batchId: Int64, kind: ReceiptKind) throws -> ReceiptRecord? {
        try database.read { db in
            try ReceiptRecord.fetchOne(db, sql: "SELECT * FROM receipt WHERE batch_id = ? AND kind = ?", arguments: [batchId, kind.rawValue])
        }
    }

    // MARK: - Jobs

    /// Creates a job (queued, due at `runAt` or `now`); with an idempotency key already used, returns that job's id.
    @discardableResult
    public func enqueue(_ request: JobRequest, now: Date) throws -> Int64 {
        try database.write { db in try Self.insertJob(request, now: now, message: "enqueued", db) }
    }

    static func insertJob(_ request: JobRequest, now: Date, message: String, _ db: StoreConnection) throws -> Int64 {
        let existing = { (key: String) in try Int64.fetchOne(db, sql: "SELECT id FROM job WHERE idempotency_key = ?", arguments: [key]) }
        // On SQLite the insert itself tells whether the key was there (nothing inserted), so a new job, nearly every
        // one, costs no query first; PostgreSQL asks first (an INSERT that does nothing returns no id there).
        let asksFirst = db.dialect == .postgres
        if asksFirst, let key = request.idempotencyKey, let id = try existing(key) { return id }
        let id = try db.insert(
            sql: """
                INSERT INTO job (kind, partner, batch_id, idempotency_key, state, attempts, max_attempts,
                                 next_run_at, input, created_at, updated_at)
                VALUES (?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?, ?)
                """ + (asksFirst ? "" : " ON CONFLICT (idempotency_key) DO NOTHING"),
            arguments: [
                request.kind, request.partner, request.batchId, request.idempotencyKey, request.maxAttempts,
                request.runAt ?? now, request.input, now, now,
            ])
        if !asksFirst && db.changes() == 0 {
            guard let key = request.idempotencyKey, let id = try existing(key) else {
                throw StoreError(.corrupt, "job \(request.kind) for \(request.partner ?? "-") was neither inserted nor found")
            }
            return id
        }
        try appendEvent(id, from: nil, to: .queued, at: now, message: message, db)
        return id
    }

    static func appendEvent(
        _ jobId: Int64, from: JobState?, to: JobState, at: Date, message: String?, _ db: StoreConnection
    ) throws {
        db.appendEvent(.init(jobId: jobId, at: at, from: from?.rawValue, to: to.rawValue, message: message))
    }

    /// Atomically takes the next due job (queued or retrying, `next_run_at <= now`) and leases it to
    /// `leaseOwner`: two workers, in one process or two, never get the same job. Nil when none is due.
    public func claimNextJob(kinds: [String]? = nil, now: Date, leaseOwner: String, leaseSeconds: Double)
        throws -> JobRecord?
    {
        try claimDueJobs(kinds: kinds, limit: 1, now: now, leaseOwner: leaseOwner, leaseSeconds: leaseSeconds).first
    }

    /// Moves due jobs to `running` under `owner`'s lease, counting the attempt; returns the rows as updated.
    ///
    /// One UPDATE for up to 500 jobs (a chunk leases hundreds, and one statement a job cost more than SQLite's
    /// work); the rows are not read back: they are as just written.
    static func lease(_ jobs: [JobRecord], to owner: String, now: Date, seconds: Double, _ db: StoreConnection) throws
        -> [JobRecord]
    {
        let expires = now.addingTimeInterval(seconds)
        var start = 0
        while start < jobs.count {
            let batch = jobs[start..<min(start + 500, jobs.count)]
            try db.execute(
                sql: """
                    UPDATE job SET state = 'running', attempts = attempts + 1, lease_owner = ?,
                                   lease_expires_at = ?, updated_at = ?
                    WHERE id IN (\(storeQuestionMarks(count: batch.count)))
                    """,
                arguments: [owner, expires, now] + StoreArguments(batch.map(\.id)))
            guard db.changes() == batch.count else {
                throw StoreError(.jobNotFound, "\(batch.count - db.changes()) of the \(batch.count) jobs \(batch.first!.id) to \(batch.last!.id) to lease not found")
            }
            start += batch.count
        }
        return try jobs.map { job in
            try appendEvent(
                job.id, from: job.state, to: .running, at: now,
                message: "attempt \(job.attempts + 1) of \(job.maxAttempts) leased to \(owner)", db)
            var leased = job
            leased.state = .running
            leased.attempts += 1
            leased.leaseOwner = owner
            leased.leaseExpiresAt = expires
            leased.updatedAt = now
            return leased
        }
    }

    /// Extends a running job's lease (a long transfer), so crash recovery does not take it away.
    public func renewLease(_ jobId: Int64, leaseOwner: String, now: Date, leaseSeconds: Double) throws {
        try database.write { db in
            _ = try Self.requireLease(jobId, leaseOwner, db)
            try db.execute(
                sql: "UPDATE job SET lease_expires_at = ?, updated_at = ? WHERE id = ?",
                arguments: [now.addingTimeInterval(leaseSeconds), now, jobId])
        }
    }

    /// Marks a running job succeeded with its output (JSON); throws `leaseLost` if the lease is gone.
    public func complete(_ jobId: Int64, leaseOwner: String, output: String? = nil, now: Date) throws {
        try database.write { db in try Self.completeJob(jobId, leaseOwner: leaseOwner, output: output, now: now, db) }
    }

    static func completeJob(_ jobId: Int64, leaseOwner: String, output: String?, now: Date, message: String? = nil,
                            _ db: StoreConnection) throws {
        // The lease is checked by the update itself (a chunk completes hundreds of jobs; reading each row first
        // was a tenth of the commit); when it changed nothing, `requireLease` says why.
        try db.execute(
            sql: """
                UPDATE job SET state = 'succeeded', output = ?, lease_owner = NULL, lease_expires_at = NULL,
                               error_code = NULL, error_message = NULL, updated_at = ?
                WHERE id = ? AND state = 'running' AND lease_owner = ?
                """,
            arguments: [output, now, jobId, leaseOwner])
        if db.changes() != 1 {
            _ = try requireLease(jobId, leaseOwner, db)
            throw StoreError(.leaseLost, "job \(jobId) was not completed")
        }
        try appendEvent(jobId, from: .running, to: .succeeded, at: now, message: message, db)
    }

    /// Records a failed attempt and decides what follows; returns the job's new state.
    ///
    /// Transient: `retrying` with `next_run_at = now + retry.delay(afterAttempt:)` while attempts
    /// remain (the job's `max_attempts`), else `failed`. Permanent: `failed`. Quarantine: `quarantined`.
    @discardableResult
    public func fail(
        _ jobId: Int64, leaseOwner: String, code: String, message: String,
        disposition: FailureDisposition = .transient, retry: RetryStrategy = RetryStrategy(), now: Date
    ) throws -> JobState {
        try database.write { db in
            try Self.failJob(jobId, leaseOwner: leaseOwner, code: code, message: message, disposition: disposition,
                             retry: retry, output: nil, now: now, db)
        }
    }

    static func failJob(
        _ jobId: Int64, leaseOwner: String, code: String, message: String, disposition: FailureDisposition,
        retry: RetryStrategy, output: String?, now: Date, _ db: StoreConnection
    ) throws -> JobState {
        let job = try requireLease(jobId, leaseOwner, db)
        let next: JobState
        var nextRun = job.nextRunAt
        var note = "\(code): \(message)"
        switch disposition {
        case .transient where job.attempts < job.maxAttempts:
            next = .retrying
            let delay = retry.delay(afterAttempt: job.attempts)
            nextRun = now.addingTimeInterval(delay)
            note += " (attempt \(job.attempts) of \(job.maxAttempts); retry in \(delay) s)"
        case .transient:
            next = .failed
            note += " (attempt \(job.attempts) of \(job.maxAttempts); no attempts left)"
        case .permanent:
            next = .failed
            note += " (permanent)"
        case .quarantine:
            next = .quarantined
        }
        try db.execute(
            sql: """
                UPDATE job SET state = ?, next_run_at = ?, error_code = ?, error_message = ?, output = COALESCE(?, output),
                               lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
                WHERE id = ?
                """,
            arguments: [next.rawValue, nextRun, code, message, output, now, jobId])
        try appendEvent(jobId, from: .running, to: next, at: now, message: note, db)
        return next
    }

    /// Crash recovery, run at start and periodically: running jobs whose lease expired go back to
    /// `queued` (due now), each with a history entry saying so. Returns the requeued job ids.
    ///
    /// The interrupted attempt still counts in `attempts`; it is not a failure, so it does not by
    /// itself move a job to `failed`.
    @discardableResult
    public func requeueExpiredLeases(now: Date) throws -> [Int64] {
        try requeueOrphanedJobs(now: now, isGone: { _ in false })
    }

    /// Operator rerun (`gateway jobs rerun`, `quarantine release`): a failed, quarantined, cancelled or
    /// succeeded job goes back to `queued` with a fresh attempt budget; its history is kept.
    public func rerun(_ jobId: Int64, now: Date, message: String = "rerun by operator") throws {
        try database.write { db in
            guard let job = try Self.fetchJob(db, jobId) else { throw StoreError(.jobNotFound, "job \(jobId) not found") }
            guard [.failed, .quarantined, .cancelled, .succeeded].contains(job.state) else {
                throw StoreError(.invalidTransition, "job \(jobId) is \(job.state.rawValue); only finished jobs are rerun")
            }
            try db.execute(
                sql: "UPDATE job SET state = 'queued', attempts = 0, next_run_at = ?, updated_at = ? WHERE id = ?",
                arguments: [now, now, jobId])
            try Self.appendEvent(jobId, from: job.state, to: .queued, at: now, message: message, db)
        }
    }

    /// Operator discard (`gateway quarantine discard`): a job that is not running becomes `cancelled`.
    /// With `expecting`, the job must be in that state when the transaction runs (no check-then-act race).
    public func cancel(_ jobId: Int64, reason: String, now: Date, expecting: JobState? = nil) throws {
        try database.write { db in
            guard let job = try Self.fetchJob(db, jobId) else { throw StoreError(.jobNotFound, "job \(jobId) not found") }
            if let expecting, job.state != expecting {
                throw StoreError(.invalidTransition, "job \(jobId) is \(job.state.rawValue), not \(expecting.rawValue)")
            }
            guard job.state != .running, job.state != .cancelled else {
                throw StoreError(.invalidTransition, "job \(jobId) is \(job.state.rawValue); cannot cancel it")
            }
            try db.execute(sql: "UPDATE job SET state = 'cancelled', updated_at = ? WHERE id = ?", arguments: [now, jobId])
            try Self.appendEvent(jobId, from: job.state, to: .cancelled, at: now, message: reason, db)
        }
    }

    static func requireLease(_ jobId: Int64, _ owner: String, _ db: StoreConnection) throws -> JobRecord {
        guard let job = try fetchJob(db, jobId) else { throw StoreError(.jobNotFound, "job \(jobId) not found") }
        guard job.state == .running, job.leaseOwner == owner else {
            throw StoreError(
                .leaseLost,
                "job \(jobId) is \(job.state.rawValue)\(job.leaseOwner.map { " leased to \($0)" } ?? ""), not running under \(owner)")
        }
        return job
    }

    // MARK: - Queries for the operator's verbs

    /// One job.
    public func job(_ jobId: Int64) throws -> JobRecord? {
        try database.read { db in try Self.fetchJob(db, jobId) }
    }

    /// One batch.
    public func batch(_ batchId: Int64) throws -> BatchRecord? {
        try database.read { db in try Self.fetchBatch(db, batchId) }
    }

    /// The members of an archive batch, in the order they were recorded.
    public func members(of archiveId: Int64) throws -> [BatchRecord] {
        try database.read { db in
            try BatchRecord.fetchAll(db, sql: "SELECT * FROM batch WHERE parent_batch_id = ? ORDER BY id", arguments: [archiveId])
        }
    }

    /// `gateway jobs list [--state S] [--partner P]`: newest first, at most `limit`.
    public func jobs(state: JobState? = nil, partner: String? = nil, kind: String? = nil, limit: Int = 1000) throws
        -> [JobRecord]
    {
        try database.read { db in
            var clauses: [String] = []
            var arguments = StoreArguments()
            if let state { clauses.append("state = ?"); arguments += [state.rawValue] }
            if let partner { clauses.append("partner = ?"); arguments += [partner] }
            if let kind { clauses.append("kind = ?"); arguments += [kind] }
            let filter = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
            arguments += [limit]
            return try JobRecord.fetchAll(db, sql: "SELECT * FROM job \(filter) ORDER BY id DESC LIMIT ?", arguments: arguments)
        }
    }

    /// `gateway jobs show ID`: the whole story, read in one consistent snapshot.
    public func jobStory(_ jobId: Int64) throws -> JobStory? {
        try database.read { db in
            guard let job = try Self.fetchJob(db, jobId) else { return nil }
            let batch = try job.batchId.flatMap { try Self.fetchBatch(db, $0) }
            let parent = try batch?.parentBatchId.flatMap { try Self.fetchBatch(db, $0) }
            let events = try JobEventRecord.fetchAll(db, sql: "SELECT * FROM job_event WHERE job_id = ? ORDER BY id", arguments: [jobId])
            var receipts: [ReceiptRecord] = []
            var conflict: ConflictRecord?
            var replays = 0
            if let batchId = job.batchId {
                receipts = try ReceiptRecord.fetchAll(db, sql: "SELECT * FROM receipt WHERE batch_id = ? ORDER BY id", arguments: [batchId])
                conflict = try ConflictRecord.fetchOne(db, sql: "SELECT * FROM conflict WHERE batch_id = ?", arguments: [batchId])
                replays = try Int.fetchOne(db, sql: "SELECT count(*) FROM replay WHERE batch_id = ?", arguments: [batchId]) ?? 0
            }
            return JobStory(
                job: job, batch: batch, parentBatch: parent, conflict: conflict, events: events, receipts: receipts,
                replayCount: replays)
        }
    }

    /// `gateway quarantine list`: quarantined jobs with their batches, oldest first.
    public func quarantine(partner: String? = nil) throws -> [QuarantineEntry] {
        try database.read { db in
            var sql = "SELECT * FROM job WHERE state = 'quarantined'"
            var arguments = StoreArguments()
            if let partner { sql += " AND partner = ?"; arguments += [partner] }
            let jobs = try JobRecord.fetchAll(db, sql: sql + " ORDER BY updated_at, id", arguments: arguments)
            return try jobs.map { job in
                QuarantineEntry(job: job, batch: try job.batchId.flatMap { try Self.fetchBatch(db, $0) })
            }
        }
    }

    /// Open (or all) interchange-reference conflicts, oldest first.
    public func conflicts(includeResolved: Bool = false) throws -> [ConflictRecord] {
        try database.read { db in
            try ConflictRecord.fetchAll(db, sql: "SELECT * FROM conflict \(includeResolved ? "" : "WHERE resolved_at IS NULL") ORDER BY id")
        }
    }

    /// How many jobs are in each state (every partner).
    public func jobCounts() throws -> [JobState: Int] {
        try database.read { db in
            var counts: [JobState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM job GROUP BY state") {
                if let state = JobState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }

    /// `gateway status`: per partner, jobs waiting, processed since `startOfDay`, failed, quarantined,
    /// and the oldest waiting. The caller picks the day boundary (site time zone), not the store.
    public func status(startOfDay: Date) throws -> [PartnerStatus] {
        try database.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT COALESCE(partner, '') AS partner,
                           sum(CASE WHEN state IN ('queued', 'retrying', 'running') THEN 1 ELSE 0 END) AS waiting,
                           sum(CASE WHEN kind = 'process' AND state = 'succeeded' AND updated_at >= ? THEN 1 ELSE 0 END) AS processed,
                           sum(CASE WHEN state = 'failed' THEN 1 ELSE 0 END) AS failed,
                           sum(CASE WHEN state = 'quarantined' THEN 1 ELSE 0 END) AS quarantined,
                           min(CASE WHEN state IN ('queued', 'retrying', 'running') THEN created_at END) AS oldest
                    FROM job GROUP BY COALESCE(partner, '') ORDER BY 1
                    """,
                arguments: [startOfDay])
            return rows.map { row in
                PartnerStatus(
                    partner: row["partner"], waiting: row["waiting"] ?? 0, processedToday: row["processed"] ?? 0,
                    failed: row["failed"] ?? 0, quarantined: row["quarantined"] ?? 0, oldestWaiting: row["oldest"])
            }
        }
    }

    static func fetchJob(_ db: StoreConnection, _ id: Int64) throws -> JobRecord? {
        try JobRecord.fetchOne(db, sql: "SELECT * FROM job WHERE id = ?", arguments: [id])
    }

    static func fetchBatch(_ db: StoreConnection, _ id: Int64) throws -> BatchRecord? {
        try BatchRecord.fetchOne(db, sql: "SELECT * FROM batch WHERE id = ?", arguments: [id])
    }
}
