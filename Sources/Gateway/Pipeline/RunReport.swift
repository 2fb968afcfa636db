import Foundation

/// What happened to one file in one `gateway run --once`.
public enum IntakeFileOutcome: String, Sendable, Codable, CaseIterable {
    /// Stored, ledgered, syntax accepted; CONTRL (UCI action 7) written.
    case accepted
    /// Stored, ledgered, syntax rejected; CONTRL with the errors written.
    case rejected
    /// The same bytes arrived again: acknowledged again, nothing else done.
    case replay
    /// Same interchange reference as an earlier batch with different bytes: rejected with 0085 code 26.
    case conflict
    /// Set aside in the ledger (job and batch quarantined, with a stable code and the reason) and answered
    /// by an APERAK; the bytes stay in the raw store until an operator releases or discards it.
    case quarantined
    /// Stored and ledgered; its process job has not run yet (it runs in the next cycle).
    case received
    /// Not complete yet (by content): left in the drop directory for a later run.
    case waiting
    /// Could not be handled (I/O error); the file stays where it was for the next run.
    case failed
}

/// One file's line in the run report.
public struct IntakeFileResult: Sendable, Codable, Equatable {
    /// The partner id.
    public var partner: String
    /// The file's name as the partner dropped it.
    public var file: String
    /// What happened.
    public var outcome: IntakeFileOutcome
    /// The ledger batch the file belongs to, when it reached the ledger.
    public var batchId: Int64?
    /// The receipt written (path relative to the spool root when inside it), if any.
    public var receipt: String?
    /// Why (quarantine reason, waiting reason, error text, or a note such as "recovered after a crash").
    public var reason: String?
    /// Copies of its manifests routed to agencies (`AGENCY/file`), when it held manifests.
    public var routed: [String]? = nil
}

/// The whole run: every file's result, in processing order.
public struct IntakeRunReport: Sendable, Codable, Equatable {
    /// One entry per file touched (or left waiting).
    public var files: [IntakeFileResult]
    /// Release orders and cancellations sent to terminals in the run.
    public var notices: [NoticeLine] = []

    /// Count of files per outcome (every outcome present, zero included).
    public var counts: [String: Int] {
        var c = Dictionary(uniqueKeysWithValues: IntakeFileOutcome.allCases.map { ($0.rawValue, 0) })
        for f in files { c[f.outcome.rawValue, default: 0] += 1 }
        return c
    }

    /// Whether any file could not be handled (exit status 1).
    public var hadFailures: Bool { files.contains { $0.outcome == .failed } }
}

