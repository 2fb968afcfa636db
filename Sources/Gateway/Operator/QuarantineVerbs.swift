import Foundation
import Jobs

/// `gateway quarantine list` and `gateway quarantine discard`: the jobs set aside for an operator, and
/// giving one up for good with a reason.
public enum QuarantineVerbs {
    /// Lists quarantined jobs, oldest first, with their file, error code, reason and since when.
    /// Exit status: 0 (an empty listing included), 1 when the ledger cannot be read, 2 on a configuration error.
    public static func list(configPath: String, partner: String?, json: Bool, out: OutputSink, err: OutputSink)
        -> OperatorStatus
    {
        OperatorSession.with(path: configPath, out: out, err: err) { session in
            let entries = try session.store?.quarantine(partner: partner) ?? []
            let lines = entries.map(Line.init)
            if json {
                out.line(OperatorFormat.json(ListDocument(jobs: lines)))
                return .success
            }
            if lines.isEmpty {
                var sentence = "no quarantined jobs" + (partner.map { " for partner \($0)" } ?? "")
                if let partner, session.configuration.partner(id: partner) == nil {
                    sentence += " (no partner '\(partner)' is configured)"
                }
                out.line(sentence)
                return .success
            }
            let rows = lines.map { q in
                [String(q.id), q.partner ?? "-", q.kind, q.batchId.map(String.init) ?? "-", q.fileName ?? "-",
                 q.errorCode ?? "-", q.since, q.reason ?? "-"]
            }
            for line in OperatorFormat.table(
                ["ID", "PARTNER", "KIND", "BATCH", "FILE", "ERROR", "SINCE", "REASON"], rows,
                alignments: [.right, .left, .left, .right])
            {
                out.line(line)
            }
            return .success
        }
    }

    /// Cancels a quarantined job with the operator's reason (kept in its history); refuses any other state.
    /// Exit status: 0 when discarded, 1 when there is no such job, it is not quarantined, or the ledger
    /// cannot be written, 2 on a configuration error.
    public static func discard(
        configPath: String, jobId: Int64, reason: String, now: Date, json: Bool, out: OutputSink, err: OutputSink
    ) -> OperatorStatus {
        OperatorSession.with(path: configPath, out: out, err: err) { session in
            guard let store = session.store, let job = try store.job(jobId) else {
                err.line("job \(jobId) not found")
                return .refused
            }
            guard job.state == .quarantined else {
                err.line("job \(jobId) is \(job.state.rawValue), not quarantined; nothing was discarded")
                return .refused
            }
            // Checked again inside `cancel`'s transaction: a release racing this command cannot be cancelled.
            do {
                try store.cancel(jobId, reason: "discarded by operator: \(reason)", now: now, expecting: .quarantined)
            } catch let error as StoreError {
                err.line("job \(jobId): \(error.message); nothing was discarded")
                return .refused
            }
            let batch = try job.batchId.flatMap { try store.batch($0) }
            let document = DiscardDocument(
                id: jobId, kind: job.kind, partner: job.partner, from: job.state.rawValue, to: JobState.cancelled.rawValue,
                reason: reason, at: OperatorFormat.time(now), batchId: batch?.id, fileName: batch?.originalName)
            if json {
                out.line(OperatorFormat.json(document))
            } else {
                var line = "job \(jobId) (\(job.kind)"
                if let partner = job.partner { line += ", \(partner)" }
                if let name = batch?.originalName { line += ", \(name)" }
                line += ") discarded: quarantined → cancelled at \(document.at); reason: \(OperatorFormat.cell(reason))"
                out.line(line)
                if let batch {
                    out.line("batch \(batch.id) and its raw bytes are kept in the ledger (batch state \(batch.state.rawValue))")
                }
            }
            return .success
        }
    }

    /// What `quarantine list --json` prints.
    struct ListDocument: Encodable {
        var jobs: [Line]
    }

    /// One quarantined job.
    struct Line: Encodable {
        var id: Int64
        var kind: String
        @Nullable var partner: String?
        var attempts: Int
        var maxAttempts: Int
        @Nullable var batchId: Int64?
        @Nullable var fileName: String?
        @Nullable var errorCode: String?
        @Nullable var errorMessage: String?
        /// The batch's reason, when it was set aside too.
        @Nullable var batchReason: String?
        /// What an operator reads first: the job's error message, else the batch's reason.
        @Nullable var reason: String?
        /// When the job was quarantined (its last change).
        var since: String

        init(_ entry: QuarantineEntry) {
            id = entry.job.id
            kind = entry.job.kind
            partner = entry.job.partner
            attempts = entry.job.attempts
            maxAttempts = entry.job.maxAttempts
            batchId = entry.job.batchId
            fileName = entry.batch?.originalName
            errorCode = entry.job.errorCode
            errorMessage = entry.job.errorMessage
            batchReason = entry.batch?.reason
            reason = entry.job.errorMessage ?? entry.batch?.reason
            since = OperatorFormat.time(entry.job.updatedAt)
        }
    }

    /// What `quarantine discard` did.
    struct DiscardDocument: Encodable {
        var id: Int64
        var kind: String
        @Nullable var partner: String?
        var from: String
        var to: String
        var reason: String
        var at: String
        @Nullable var batchId: Int64?
        @Nullable var fileName: String?
    }
}
