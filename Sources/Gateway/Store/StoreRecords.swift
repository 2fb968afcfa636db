import Foundation
import GRDB
import Jobs

/// Where a batch stands in the ledger; raw values are stored, so never rename them.
public enum BatchState: String, Sendable, Codable, CaseIterable {
    /// Stored and ledgered, waiting to be processed.
    case received
    /// An archive whose members were unpacked into their own batches.
    case unpacked
    /// Processed and accepted (routed, receipts written).
    case accepted
    /// Judged and rejected (syntax or content); the receipt says why.
    case rejected
    /// Set aside with a reason for an operator to release or discard.
    case quarantined
    /// Reused an interchange reference with different bytes (ISO 9735 code 26); kept for the operator.
    case conflict
}

/// The two receipts a batch can get; raw values are stored.
public enum ReceiptKind: String, Sendable, Codable, CaseIterable {
    /// Syntax receipt.
    case contrl = "CONTRL"
    /// Application receipt.
    case aperak = "APERAK"
}

/// A failure of the ledger itself, with a stable code operators and scripts can match on.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, growable code: new codes are added, existing ones never change meaning.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The printed form, e.g. "store.lease-lost".
        public let rawValue: String
        /// Wraps a code string; prefer the named constants.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The code as printed.
        public var description: String { rawValue }

        /// No job with that id.
        public static let jobNotFound = Code(rawValue: "store.job-not-found")
        /// No batch with that id.
        public static let batchNotFound = Code(rawValue: "store.batch-not-found")
        /// The job is not running under this worker's lease any more (it expired and was requeued).
        public static let leaseLost = Code(rawValue: "store.lease-lost")
        /// The requested transition is not allowed from the job's current state.
        public static let invalidTransition = Code(rawValue: "store.invalid-transition")
        /// A stored value does not decode (a state this build does not know).
        public static let corrupt = Code(rawValue: "store.corrupt")
        /// The database refused a write: it would break an invariant of the schema (or the disk refused it).
        public static let refused = Code(rawValue: "store.refused")
    }

    /// What went wrong, stably.
    public var code: Code
    /// Operator-facing detail naming the job or batch.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// "store.lease-lost: job 12 ...".
    public var description: String { "\(code): \(message)" }
}

/// A job to create: what it does, for whom, its input, and how it retries.
public struct JobRequest: Sendable, Hashable {
    /// Stable job type name ("process", "deliver", ...).
    public var kind: String
    /// The partner the work is for; nil for gateway-wide work.
    public var partner: String?
    /// The batch the work is about; filled in by `recordIntake` for the batch it creates.
    public var batchId: Int64?
    /// Input parameters as JSON text (the schema checks it is valid JSON).
    public var input: String
    /// Attempts allowed, the first included (from the job type's `RetryStrategy`).
    public var maxAttempts: Int
    /// Earliest run time; nil means "now" (the time passed to the call).
    public var runAt: Date?
    /// When set, enqueueing the same key again returns the existing job instead of a second one.
    public var idempotencyKey: String?

    /// Creates a request; `retry` supplies the attempt limit.
    public init(
        kind: String, partner: String? = nil, batchId: Int64? = nil, input: String = "{}",
        retry: RetryStrategy = RetryStrategy(), runAt: Date? = nil, idempotencyKey: String? = nil
    ) {
        self.kind = kind
        self.partner = partner
        self.batchId = batchId
        self.input = input
        self.maxAttempts = max(1, retry.maxAttempts)
        self.runAt = runAt
        self.idempotencyKey = idempotencyKey
    }
}

/// What the claim step learned about one file (or archive member): the facts the ledger keys on.
public struct IntakeRecord: Sendable, Hashable {
    /// Who dropped it.
    public var partner: String
    /// Its name in the drop directory (or inside the archive), for operators; never part of the key.
    public var originalName: String
    /// Size in bytes.
    public var size: Int64
    /// Modification time in the drop directory, when known.
    public var mtime: Date?
    /// SHA-256 of the exact bytes (as stored in the raw store).
    public var digest: SHA256Digest
    /// UNB interchange control reference (0020), when the bytes are EDIFACT and it could be read.
    public var interchangeRef: String?
    /// UNB sender identification (0004), when known.
    public var senderId: String?
    /// When the gateway claimed it (injected, never read from the clock here).
    public var receivedAt: Date
    /// The archive batch this is a member of; nil for a dropped file.
    public var parentBatchId: Int64?
    /// Name inside the archive; set exactly when `parentBatchId` is.
    public var memberName: String?
    /// The arrival's claim (its unique work-area name); recording the same claim again returns the outcome
    /// it had the first time, so crash recovery never records an arrival twice. nil for callers without one.
    public var claim: String?
    /// SHA-256 of the detached signature that came with it (`NAME.p7s`, in the raw store), if any.
    public var signatureDigest: SHA256Digest?
    /// The detached signature's file name as dropped.
    public var signatureName: String?
    /// Job created with a new batch, in the same transaction (typically "process").
    public var jobOnNew: JobRequest?
    /// Job created with a conflict, in the same transaction (typically the rejecting receipt).
    public var jobOnConflict: JobRequest?
    /// Job created for an identical replay (typically re-sending the existing receipt); nil = nothing.
    public var jobOnReplay: JobRequest?

    /// Creates an intake record for a dropped file; set `parentBatchId`/`memberName` for archive members.
    public init(
        partner: String, originalName: String, size: Int64, mtime: Date? = nil, digest: SHA256Digest,
        interchangeRef: String? = nil, senderId: String? = nil, receivedAt: Date,
        parentBatchId: Int64? = nil, memberName: String? = nil, claim: String? = nil,
        signatureDigest: SHA256Digest? = nil, signatureName: String? = nil,
        jobOnNew: JobRequest? = nil, jobOnConflict: JobRequest? = nil, jobOnReplay: JobRequest? = nil
    ) {
        self.claim = claim
        self.signatureDigest = signatureDigest
        self.signatureName = signatureName
        self.partner = partner
        self.originalName = originalName
        self.size = size
        self.mtime = mtime
        self.digest = digest
        self.interchangeRef = interchangeRef
        self.senderId = senderId
        self.receivedAt = receivedAt
        self.parentBatchId = parentBatchId
        self.memberName = memberName
        self.jobOnNew = jobOnNew
        self.jobOnConflict = jobOnConflict
        self.jobOnReplay = jobOnReplay
    }
}

/// How the ledger classified an arrival; decides what the pipeline does next.
public enum IntakeOutcome: Sendable, Hashable {
    /// First time these bytes arrive: a new batch (and its job, if one was requested).
    case new(batchId: Int64, jobId: Int64?)
    /// Same partner, same bytes as an existing batch: acknowledge again, do nothing else.
    case identicalReplay(existingBatchId: Int64, jobId: Int64?)
    /// Same partner, sender and interchange reference as an accepted batch but different bytes:
    /// a batch in state `conflict` plus an operator-visible conflict row; reject with 0085 code 26.
    case conflict(existingBatchId: Int64, batchId: Int64, conflictId: Int64, jobId: Int64?)

    /// The batch the caller should act on (the new one, the existing one, or the conflicting one).
    public var batchId: Int64 {
        switch self {
        case .new(let id, _): id
        case .identicalReplay(let id, _): id
        case .conflict(_, let id, _, _): id
        }
    }

    /// The job created with the outcome, if any.
    public var jobId: Int64? {
        switch self {
        case .new(_, let job), .identicalReplay(_, let job), .conflict(_, _, _, let job): job
        }
    }
}

/// How a failed attempt should be treated.
public enum FailureDisposition: String, Sendable, Codable {
    /// Worth retrying (network, disk full, lock): `retrying` with backoff until attempts run out, then `failed`.
    case transient
    /// Retrying cannot help (bad configuration, missing partner): straight to `failed`.
    case permanent
    /// Bad input (syntax, signature): straight to `quarantined` for an operator.
    case quarantine
}

/// One batch row: a dropped file or an archive member.
public struct BatchRecord: Sendable, Hashable, Codable, FetchableRecord {
    /// Ledger id.
    public var id: Int64
    /// Who dropped it.
    public var partner: String
    /// Name as dropped (or inside the archive).
    public var originalName: String
    /// Size in bytes.
    public var size: Int64
    /// Modification time in the drop directory, when known.
    public var mtime: Date?
    /// SHA-256 hex of the exact bytes: the raw store address.
    public var sha256: String
    /// UNB interchange reference, when known.
    public var interchangeRef: String?
    /// UNB sender, when known.
    public var senderId: String?
    /// When the gateway claimed it.
    public var receivedAt: Date
    /// Archive this is a member of.
    public var parentBatchId: Int64?
    /// Name inside the archive.
    public var memberName: String?
    /// Current state.
    public var state: BatchState
    /// Why it was rejected, quarantined or conflicting.
    public var reason: String?
    /// Last state change.
    public var updatedAt: Date
    /// The arrival's claim (`<partner>/<work name>`): names its receipts; nil for archive members.
    public var claim: String?
    /// SHA-256 (raw store address) of the detached signature that came with it, if any.
    public var signatureSha256: String?
    /// The detached signature's file name as dropped.
    public var signatureName: String?

    /// Decodes a `batch` row.
    public init(row: Row) throws {
        id = row["id"]
        partner = row["partner"]
        originalName = row["original_name"]
        size = row["size"]
        mtime = row["mtime"]
        sha256 = row["sha256"]
        interchangeRef = row["interchange_ref"]
        senderId = row["sender_id"]
        receivedAt = row["received_at"]
        parentBatchId = row["parent_batch_id"]
        memberName = row["member_name"]
        state = try storedValue(BatchState.self, row, "state", table: "batch", id: id)
        reason = row["reason"]
        updatedAt = row["updated_at"]
        claim = row["claim"]
        signatureSha256 = row["signature_sha256"]
        signatureName = row["signature_name"]
    }
}

/// One job row: a step of the pipeline with its state, attempts, error and data.
public struct JobRecord: Sendable, Hashable, Codable, FetchableRecord {
    /// Ledger id.
    public var id: Int64
    /// Stable job type name.
    public var kind: String
    /// Partner the work is for.
    public var partner: String?
    /// Batch the work is about.
    public var batchId: Int64?
    /// Deduplication key, if enqueued with one.
    public var idempotencyKey: String?
    /// Current state.
    public var state: JobState
    /// Attempts started so far.
    public var attempts: Int
    /// Attempts allowed.
    public var maxAttempts: Int
    /// Earliest time the next attempt may start.
    public var nextRunAt: Date
    /// Worker holding the lease while running.
    public var leaseOwner: String?
    /// When the lease runs out; past it, crash recovery requeues the job.
    public var leaseExpiresAt: Date?
    /// Stable code of the last error.
    public var errorCode: String?
    /// Operator-facing text of the last error.
    public var errorMessage: String?
    /// Input parameters, JSON.
    public var input: String
    /// Output, JSON, once succeeded.
    public var output: String?
    /// Creation time.
    public var createdAt: Date
    /// Last change.
    public var updatedAt: Date

    /// Decodes a `job` row.
    public init(row: Row) throws {
        id = row["id"]
        kind = row["kind"]
        partner = row["partner"]
        batchId = row["batch_id"]
        idempotencyKey = row["idempotency_key"]
        state = try storedValue(JobState.self, row, "state", table: "job", id: id)
        attempts = row["attempts"]
        maxAttempts = row["max_attempts"]
        nextRunAt = row["next_run_at"]
        leaseOwner = row["lease_owner"]
        leaseExpiresAt = row["lease_expires_at"]
        errorCode = row["error_code"]
        errorMessage = row["error_message"]
        input = row["input"]
        output = row["output"]
        createdAt = row["created_at"]
        updatedAt = row["updated_at"]
    }
}

/// One entry of a job's append-only history.
public struct JobEventRecord: Sendable, Hashable, Codable, FetchableRecord {
    /// Ledger id (orders events).
    public var id: Int64
    /// The job.
    public var jobId: Int64
    /// When it happened.
    public var at: Date
    /// State before; nil for creation.
    public var fromState: String?
    /// State after.
    public var toState: String
    /// What happened, in words.
    public var message: String?

    /// Decodes a `job_event` row.
    public init(row: Row) throws {
        id = row["id"]
        jobId = row["job_id"]
        at = row["at"]
        fromState = row["from_state"]
        toState = row["to_state"]
        message = row["message"]
    }
}

/// A receipt written for a batch.
public struct ReceiptRecord: Sendable, Hashable, Codable, FetchableRecord {
    /// Ledger id.
    public var id: Int64
    /// The batch it answers.
    public var batchId: Int64
    /// CONTRL or APERAK.
    public var kind: ReceiptKind
    /// Final file name in the partner's pickup directory.
    public var fileName: String
    /// SHA-256 hex of the receipt bytes.
    public var sha256: String
    /// When it was written.
    public var writtenAt: Date

    /// Decodes a `receipt` row.
    public init(row: Row) throws {
        id = row["id"]
        batchId = row["batch_id"]
        kind = try storedValue(ReceiptKind.self, row, "kind", table: "receipt", id: id)
        fileName = row["file_name"]
        sha256 = row["sha256"]
        writtenAt = row["written_at"]
    }
}

/// An interchange-reference conflict, shown to operators until resolved.
public struct ConflictRecord: Sendable, Hashable, Codable, FetchableRecord {
    /// Ledger id.
    public var id: Int64
    /// Partner.
    public var partner: String
    /// UNB sender.
    public var senderId: String?
    /// The reused interchange reference.
    public var interchangeRef: String
    /// The batch that first used the reference.
    public var existingBatchId: Int64
    /// The conflicting batch (state `conflict`).
    public var batchId: Int64
    /// When it was detected.
    public var detectedAt: Date
    /// When an operator resolved it.
    public var resolvedAt: Date?
    /// How it was resolved.
    public var resolution: String?

    /// Decodes a `conflict` row.
    public init(row: Row) throws {
        id = row["id"]
        partner = row["partner"]
        senderId = row["sender_id"]
        interchangeRef = row["interchange_ref"]
        existingBatchId = row["existing_batch_id"]
        batchId = row["batch_id"]
        detectedAt = row["detected_at"]
        resolvedAt = row["resolved_at"]
        resolution = row["resolution"]
    }
}

/// Everything `gateway jobs show` prints: the job, its file and hash, its history and receipts.
public struct JobStory: Sendable, Hashable, Codable {
    /// The job.
    public var job: JobRecord
    /// The batch it is about, if any.
    public var batch: BatchRecord?
    /// The archive the batch came from, if it is a member.
    public var parentBatch: BatchRecord?
    /// The conflict the batch is part of, if any.
    public var conflict: ConflictRecord?
    /// Every state change, oldest first.
    public var events: [JobEventRecord]
    /// Receipts written for the batch.
    public var receipts: [ReceiptRecord]
    /// Count of identical replays of the batch acknowledged since.
    public var replayCount: Int
}

/// One line of `gateway status`.
public struct PartnerStatus: Sendable, Hashable, Codable {
    /// The partner.
    public var partner: String
    /// Jobs queued, retrying or running.
    public var waiting: Int
    /// Batches judged (process jobs that succeeded) since the given start of day.
    public var processedToday: Int
    /// Jobs failed (waiting for an operator).
    public var failed: Int
    /// Jobs quarantined.
    public var quarantined: Int
    /// Creation time of the oldest waiting job, nil when nothing waits.
    public var oldestWaiting: Date?
}

/// One line of `gateway quarantine list`: the job set aside and the batch it is about.
public struct QuarantineEntry: Sendable, Hashable, Codable {
    /// The quarantined job, with its error code and message.
    public var job: JobRecord
    /// Its batch, if the job is about one.
    public var batch: BatchRecord?
}

/// A stored enum column decoded, or a `corrupt` store error naming the row: a value no migration wrote
/// means the database was edited by hand or by a newer gateway.
func storedValue<T: RawRepresentable>(_ type: T.Type, _ row: Row, _ column: String, table: String, id: Int64) throws -> T
where T.RawValue == String {
    let raw: String = row[column]
    guard let value = T(rawValue: raw) else { throw StoreError(.corrupt, "\(table) \(id) has unknown \(column) '\(raw)'") }
    return value
}

/// The evidence of one signature verdict, as the ledger keeps it (append-only): an operator or auditor can
/// see later why a file was accepted or refused, and against what.
public struct SignatureVerdictEvidence: Sendable, Hashable, Codable {
    /// The format checked: cms-detached, cms-enveloping, xmldsig, or none (no signature arrived).
    public var format: String
    /// Whether the signature was accepted.
    public var valid: Bool
    /// Stable code of a refusal (`sig.untrusted`, ...); nil when valid.
    public var code: String?
    /// The operator's reason (may name the trust store's details).
    public var reason: String
    /// The reason in plain words for the partner (never the trust store's details).
    public var partnerReason: String
    /// SHA-256 of the signature bytes (raw store), when there were any.
    public var signatureSha256: String?
    /// The signer certificate's subject, issuer, serial (hex) and SHA-256 fingerprint.
    public var signerSubject: String?
    public var signerIssuer: String?
    public var signerSerial: String?
    public var signerFingerprint: String?
    /// The chain from the signer to the anchor, PEM.
    public var chainPEM: String?
    /// SHA-256 of the CRL consulted, if any.
    public var crlSha256: String?
    /// The algorithms seen (digest, signature), for the record.
    public var algorithms: String?
    /// The agencies whose anchors were used (comma-separated ids).
    public var trust: String
    /// The time the chain was validated at (the file's receipt time, so a rerun agrees).
    public var validationTime: Date

    /// Creates evidence; the signer fields stay nil when no certificate could be read.
    public init(format: String, valid: Bool, code: String?, reason: String, partnerReason: String,
                signatureSha256: String? = nil, signerSubject: String? = nil, signerIssuer: String? = nil,
                signerSerial: String? = nil, signerFingerprint: String? = nil, chainPEM: String? = nil,
                crlSha256: String? = nil, algorithms: String? = nil, trust: String, validationTime: Date) {
        self.format = format
        self.valid = valid
        self.code = code
        self.reason = reason
        self.partnerReason = partnerReason
        self.signatureSha256 = signatureSha256
        self.signerSubject = signerSubject
        self.signerIssuer = signerIssuer
        self.signerSerial = signerSerial
        self.signerFingerprint = signerFingerprint
        self.chainPEM = chainPEM
        self.crlSha256 = crlSha256
        self.algorithms = algorithms
        self.trust = trust
        self.validationTime = validationTime
    }
}

/// One stored signature verdict: its evidence, the batch and job it belongs to, and when it was reached.
public struct SignatureVerdictRecord: Sendable, Hashable, Codable, FetchableRecord {
    /// Ledger id.
    public var id: Int64
    /// The batch whose signature it judged.
    public var batchId: Int64
    /// The process job that reached it.
    public var jobId: Int64?
    /// What was checked and found.
    public var evidence: SignatureVerdictEvidence
    /// When.
    public var verifiedAt: Date

    /// Decodes a `signature_verdict` row.
    public init(row: Row) throws {
        id = row["id"]
        batchId = row["batch_id"]
        jobId = row["job_id"]
        verifiedAt = row["verified_at"]
        evidence = SignatureVerdictEvidence(
            format: row["format"], valid: (row["valid"] as Int) == 1, code: row["code"], reason: row["reason"],
            partnerReason: row["partner_reason"], signatureSha256: row["signature_sha256"],
            signerSubject: row["signer_subject"], signerIssuer: row["signer_issuer"], signerSerial: row["signer_serial"],
            signerFingerprint: row["signer_fingerprint"], chainPEM: row["chain_pem"], crlSha256: row["crl_sha256"],
            algorithms: row["algorithms"], trust: row["trust"], validationTime: row["validation_time"])
    }
}
