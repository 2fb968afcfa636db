import Foundation
import GRDB
import Jobs

/// What one job's attempt produced, committed with every other attempt of its chunk in one transaction.
public struct JobCommit: Sendable {
    /// How the attempt ended.
    public enum Result: Sendable {
        /// Done; the output (JSON) is kept on the job.
        case succeeded(output: String?)
        /// Failed with a stable code; the disposition decides retry, failed or quarantined.
        case failed(code: String, message: String, disposition: FailureDisposition, output: String?)
    }

    /// The job.
    public var jobId: Int64
    /// The worker that holds its lease.
    public var leaseOwner: String
    /// How it ended.
    public var result: Result
    /// A batch state to set with it (id, state, reason).
    public var batchState: (Int64, BatchState, String?)?
    /// A receipt delivered by it, recorded in the ledger with it.
    public var receipt: (batchId: Int64, kind: ReceiptKind, fileName: String, digest: SHA256Digest)?
    /// Archive members recorded with it (each gets its own batch and the job in its `jobOnNew`).
    public var members: (archiveId: Int64, records: [IntakeRecord])?
    /// Follow-up jobs (deliveries) created with it; idempotency keys make a repeat a no-op.
    public var enqueue: [JobRequest]
    /// A note for the job's history.
    public var message: String?
    /// The signature verdict it reached, kept as evidence with it (batch = the job's batch).
    public var evidence: SignatureVerdictEvidence?
    /// Routing decisions and routed copies of the manifests it filed, recorded with it.
    public var routing: [RoutingRecord] = []
    /// Agency instructions read from its file, recorded with it as facts.
    public var instructions: [InstructionFact] = []

    /// Creates a commit; only `jobId`, `leaseOwner` and `result` are required.
    public init(jobId: Int64, leaseOwner: String, result: Result, batchState: (Int64, BatchState, String?)? = nil,
                receipt: (batchId: Int64, kind: ReceiptKind, fileName: String, digest: SHA256Digest)? = nil,
                members: (archiveId: Int64, records: [IntakeRecord])? = nil, enqueue: [JobRequest] = [],
                message: String? = nil, evidence: SignatureVerdictEvidence? = nil) {
        self.evidence = evidence
        self.jobId = jobId
        self.leaseOwner = leaseOwner
        self.result = result
        self.batchState = batchState
        self.receipt = receipt
        self.members = members
        self.enqueue = enqueue
        self.message = message
    }
}

/// What committing one `JobCommit` gave: the ids of the jobs it enqueued (existing ones for repeated
/// idempotency keys), the members' outcomes, and the job's new state; or the error that kept it out.
public struct JobCommitOutcome: Sendable {
    /// The job.
    public var jobId: Int64
    /// Its state after the commit; nil when the commit failed.
    public var state: JobState?
    /// Jobs enqueued (or found by idempotency key), in `enqueue` order.
    public var enqueued: [Int64]
    /// Outcomes of the archive members, in order.
    public var members: [IntakeOutcome]
    /// Why the commit was left out (lease lost, constraint), if it was.
    public var error: String?
}

/// The pipeline's chunked ledger writes: one transaction (one fsync) for a whole chunk of files or jobs,
/// each item in its own savepoint so one bad item never takes the chunk's other work down with it.
extension GatewayStore {
    /// Records arrivals like `recordIntake`, all in one transaction; each result is the outcome or the error.
    public func recordIntakes(_ records: [IntakeRecord]) throws -> [Result<IntakeOutcome, StoreError>] {
        try database.write { db in
            var results: [Result<IntakeOutcome, StoreError>] = []
            for record in records {
                var outcome: Result<IntakeOutcome, StoreError> = .failure(StoreError(.refused, "not recorded"))
                do {
                    try db.inSavepoint {
                        outcome = .success(try Self.recordIntake(record, db))
                        return .commit
                    }
                } catch let error as PostgresQueryError where error.mustRetryTransaction {
                    throw error  // another node's transaction conflicted: the whole chunk runs again
                } catch {
                    outcome = .failure(Self.storeError(error, "recording \(record.partner)/\(record.originalName)"))
                }
                results.append(outcome)
            }
            return results
        }
    }

    /// Leases up to `limit` due jobs of `kinds` (all kinds when nil; only `ids` and `partner`'s when given) to
    /// `leaseOwner` in one transaction, oldest due first.
    public func claimDueJobs(kinds: [String]? = nil, ids: [Int64]? = nil, partner: String? = nil, limit: Int, now: Date,
                             leaseOwner: String, leaseSeconds: Double) throws -> [JobRecord] {
        if kinds?.isEmpty == true || ids?.isEmpty == true { return [] }
        return try database.write(queue: true) { db in
            var arguments: StoreArguments = [now]
            if let kinds { arguments += StoreArguments(kinds) }
            if let ids { arguments += StoreArguments(ids) }
            if let partner { arguments += [partner] }
            arguments += [limit]
            let sql = Self.dueJobsSQL(db.dialect, kinds: kinds?.count, ids: ids?.count, partner: partner != nil)
            return try Self.lease(JobRecord.fetchAll(db, sql: sql, arguments: arguments), to: leaseOwner, now: now,
                                  seconds: leaseSeconds, db)
        }
    }

    /// The due jobs, oldest due first: `?` for the time, then `kinds` kinds, `ids` ids, the partner, the limit.
    ///
    /// On SQLite the query names the `job_due` index (due jobs by time), which gives them in the order asked: without
    /// statistics SQLite chose `job_state_updated` (every queued job, sorted again), 6 to 8 ms a lease with 5 363 queued
    /// deliveries against 2 ms (`StoreTests` checks the plan). Given ids, SQLite looks them up by id instead.
    static func dueJobsSQL(_ dialect: StoreDialect, kinds: Int?, ids: Int?, partner: Bool) -> String {
        var sql = "SELECT * FROM job" + (dialect == .sqlite && ids == nil ? " INDEXED BY job_due" : "")
            + " WHERE state IN ('queued', 'retrying') AND next_run_at <= ?"
        if let kinds { sql += " AND kind IN (\(storeQuestionMarks(count: kinds)))" }
        if let ids { sql += " AND id IN (\(storeQuestionMarks(count: ids)))" }
        if partner { sql += " AND partner = ?" }
        return sql + " ORDER BY next_run_at, id LIMIT ?" + StoreConnection.skipLocked(dialect)
    }

    /// Commits every attempt of a chunk in one transaction (see `JobCommit`).
    public func commit(_ commits: [JobCommit], now: Date, retry: RetryStrategy = RetryStrategy()) throws
        -> [JobCommitOutcome]
    {
        try database.write { db in
            var outcomes: [JobCommitOutcome] = []
            for c in commits {
                var outcome = JobCommitOutcome(jobId: c.jobId, state: nil, enqueued: [], members: [], error: nil)
                do {
                    try db.inSavepoint {
                        if let (batchId, state, reason) = c.batchState {
                            try db.execute(
                                sql: "UPDATE batch SET state = ?, reason = ?, updated_at = ? WHERE id = ?",
                                arguments: [state.rawValue, reason, now, batchId])
                        }
                        if let e = c.evidence {
                            try Self.insertEvidence(e, jobId: c.jobId, now: now, db)
                        }
                        if let r = c.receipt {
                            try db.execute(
                                sql: """
                                    INSERT INTO receipt (batch_id, kind, file_name, sha256, written_at) VALUES (?, ?, ?, ?, ?)
                                    ON CONFLICT (batch_id, kind) DO NOTHING
                                    """,
                                arguments: [r.batchId, r.kind.rawValue, r.fileName, r.digest.hex, now])
                        }
                        if let (archiveId, records) = c.members {
                            for var member in records {
                                member.parentBatchId = archiveId
                                member.memberName = member.memberName ?? member.originalName
                                outcome.members.append(try Self.recordIntake(member, db))
                            }
                        }
                        for record in c.routing { try Self.insertRouting(record, now: now, db) }
                        try Self.insertInstructions(c.instructions, db)
                        for request in c.enqueue {
                            outcome.enqueued.append(try Self.insertJob(request, now: now, message: "enqueued by job \(c.jobId)", db))
                        }
                        switch c.result {
                        case .succeeded(let output):
                            try Self.completeJob(c.jobId, leaseOwner: c.leaseOwner, output: output, now: now,
                                                 message: c.message, db)
                            outcome.state = .succeeded
                        case .failed(let code, let message, let disposition, let output):
                            outcome.state = try Self.failJob(c.jobId, leaseOwner: c.leaseOwner, code: code, message: message,
                                                             disposition: disposition, retry: retry, output: output, now: now, db)
                        }
                        return .commit
                    }
                } catch let error as PostgresQueryError where error.mustRetryTransaction {
                    throw error  // another node's transaction conflicted: the whole chunk runs again
                } catch {
                    outcome = JobCommitOutcome(jobId: c.jobId, state: nil, enqueued: [], members: [],
                                               error: Self.storeError(error, "job \(c.jobId)").description)
                }
                outcomes.append(outcome)
            }
            return outcomes
        }
    }

    /// Crash recovery at start: running jobs whose lease expired, or whose owner `isGone` (a process of this
    /// host that no longer runs), go back to `queued`, each with a history entry. Returns their ids.
    @discardableResult
    public func requeueOrphanedJobs(now: Date, isGone: (String) -> Bool) throws -> [Int64] {
        // Rows another node is finishing right now are locked by it and passed over (PostgreSQL).
        try database.write(queue: true) { db in
            let running = try JobRecord.fetchAll(db, sql: "SELECT * FROM job WHERE state = 'running' ORDER BY id" + db.skipLocked)
            var requeued: [Int64] = []
            for job in running {
                let owner = job.leaseOwner ?? "?"
                let expired = job.leaseExpiresAt.map { $0 <= now } ?? true
                guard expired || isGone(owner) else { continue }
                try db.execute(
                    sql: """
                        UPDATE job SET state = 'queued', next_run_at = ?, lease_owner = NULL, lease_expires_at = NULL,
                                       updated_at = ?
                        WHERE id = ?
                        """,
                    arguments: [now, now, job.id])
                try Self.appendEvent(
                    job.id, from: .running, to: .queued, at: now,
                    message: expired ? "lease of \(owner) expired; requeued (crash recovery)"
                        : "\(owner) is no longer running; requeued (crash recovery)", db)
                requeued.append(job.id)
            }
            return requeued
        }
    }

    /// Records a job that already ran to its end in this process (a pickup), with its history, in one
    /// transaction: created at `startedAt`, leased to `owner`, finished at `now` with `state`.
    @discardableResult
    public func recordFinishedJob(kind: String, partner: String?, owner: String, startedAt: Date, now: Date,
                                  state: JobState, output: String?, errorCode: String?, errorMessage: String?) throws
        -> Int64
    {
        try database.write { db in
            let id = try db.insert(
                sql: """
                    INSERT INTO job (kind, partner, state, attempts, max_attempts, next_run_at, error_code, error_message,
                                     output, created_at, updated_at)
                    VALUES (?, ?, ?, 1, 1, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [kind, partner, state.rawValue, startedAt, errorCode, errorMessage, output, startedAt, now])
            try Self.appendEvent(id, from: nil, to: .running, at: startedAt, message: "run by \(owner)", db)
            try Self.appendEvent(id, from: .running, to: state, at: now,
                                 message: errorCode.map { "\($0): \(errorMessage ?? "")" }, db)
            return id
        }
    }

    /// An operator's "now": a queued or retrying job becomes due at once (its backoff is cut short).
    public func makeDue(_ jobId: Int64, now: Date, message: String) throws {
        try database.write { db in
            guard let job = try Self.fetchJob(db, jobId) else { throw StoreError(.jobNotFound, "job \(jobId) not found") }
            guard job.state == .queued || job.state == .retrying else {
                throw StoreError(.invalidTransition, "job \(jobId) is \(job.state.rawValue), not waiting")
            }
            try db.execute(sql: "UPDATE job SET next_run_at = ?, updated_at = ? WHERE id = ?", arguments: [now, now, jobId])
            try Self.appendEvent(jobId, from: job.state, to: job.state, at: now, message: message, db)
        }
    }

    /// Counts of jobs per kind and state among the unfinished ones (queued, retrying, running): queue depth.
    public func queueDepth() throws -> [(kind: String, state: JobState, count: Int)] {
        try database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT kind, state, count(*) AS n FROM job WHERE state IN ('queued', 'retrying', 'running')
                    GROUP BY kind, state ORDER BY kind, state
                    """
            ).map { row in
                (row["kind"], try storedValue(JobState.self, row, "state", table: "job", id: 0), row["n"])
            }
        }
    }

    /// A GRDB or store error as a store error with context, for per-item results.
    static func storeError(_ error: Error, _ context: String) -> StoreError {
        if let e = error as? StoreError { return e }
        return StoreError(.refused, "\(context): \(error)")
    }
}

extension GatewayStore {
    /// The conflict a batch is the rejected duplicate in, if any.
    public func conflict(batchId: Int64) throws -> ConflictRecord? {
        try database.read { db in
            try ConflictRecord.fetchOne(db, sql: "SELECT * FROM conflict WHERE batch_id = ?", arguments: [batchId])
        }
    }
}

extension GatewayStore {
    /// Per partner, the age in seconds of its oldest unfinished job (queued, retrying, running).
    public func oldestWaiting(now: Date) throws -> [String: Double] {
        try database.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT partner, min(created_at) AS oldest FROM job
                    WHERE state IN ('queued', 'retrying', 'running') AND partner IS NOT NULL GROUP BY partner
                    """)
            var result: [String: Double] = [:]
            for row in rows {
                if let oldest: Date = row["oldest"] { result[row["partner"]] = max(0, now.timeIntervalSince(oldest)) }
            }
            return result
        }
    }
}

extension GatewayStore {
    static func insertEvidence(_ e: SignatureVerdictEvidence, jobId: Int64, now: Date, _ db: StoreConnection) throws {
        guard let batchId = try Int64.fetchOne(db, sql: "SELECT batch_id FROM job WHERE id = ?", arguments: [jobId]) else {
            throw StoreError(.jobNotFound, "job \(jobId) has no batch for its signature evidence")
        }
        try db.execute(
            sql: """
                INSERT INTO signature_verdict (batch_id, job_id, format, valid, code, reason, partner_reason,
                    signature_sha256, signer_subject, signer_issuer, signer_serial, signer_fingerprint, chain_pem,
                    crl_sha256, algorithms, trust, validation_time, verified_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [batchId, jobId, e.format, e.valid ? 1 : 0, e.code, e.reason, e.partnerReason,
                        e.signatureSha256, e.signerSubject, e.signerIssuer, e.signerSerial, e.signerFingerprint,
                        e.chainPEM, e.crlSha256, e.algorithms, e.trust, e.validationTime, now])
    }

    /// Every signature verdict reached for a batch, oldest first (`gateway jobs show`, `gateway verify`).
    public func signatureVerdicts(batchId: Int64) throws -> [SignatureVerdictRecord] {
        try database.read { db in
            try SignatureVerdictRecord.fetchAll(
                db, sql: "SELECT * FROM signature_verdict WHERE batch_id = ? ORDER BY id", arguments: [batchId])
        }
    }

    /// Whether a claim (`<partner>/<work name>`) is already in the ledger, as a batch or a replay: a remote
    /// file claimed before a crash is then only cleared from the server, never recorded again.
    public func hasClaim(_ claim: String) throws -> Bool {
        try database.read { db in
            try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM batch WHERE claim = ?1) OR EXISTS (SELECT 1 FROM replay WHERE claim = ?1)
                """, arguments: [claim]) ?? false
        }
    }

    /// `partner`'s delivered files not yet noticed collected, newest first (at most `limit`): job id and name.
    public func uncollectedDeliveries(partner: String, limit: Int = 1_000) throws -> [(jobId: Int64, file: String)] {
        try database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT j.id, \(db.dialect == .postgres ? "j.input::json ->> 'file'" : "json_extract(j.input, '$.file')") AS file FROM job j
                WHERE j.kind = 'deliver' AND j.state = 'succeeded' AND j.partner = ?
                  AND NOT EXISTS (SELECT 1 FROM collected c WHERE c.job_id = j.id)
                ORDER BY j.id DESC LIMIT ?
                """, arguments: [partner, limit]).compactMap { row in
                    (row["file"] as String?).map { (row["id"], $0) }
                }
        }
    }

    /// Records that these deliveries were gone from the pickup directory at `now`.
    public func recordCollected(_ deliveries: [(jobId: Int64, file: String)], partner: String, now: Date) throws {
        guard !deliveries.isEmpty else { return }
        try database.write { db in
            for delivery in deliveries {
                try db.execute(sql: "INSERT INTO collected (job_id, partner, file_name, noticed_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                               arguments: [delivery.jobId, partner, delivery.file, now])
            }
        }
    }

    /// When the delivery of job `jobId` was noticed collected, if it was.
    public func collectedAt(jobId: Int64) throws -> Date? {
        try database.read { db in try Date.fetchOne(db, sql: "SELECT noticed_at FROM collected WHERE job_id = ?", arguments: [jobId]) }
    }
}
