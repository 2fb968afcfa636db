import Foundation
import Jobs

/// What `gateway jobs rerun` / `gateway quarantine release` did, in the operator's words.
public struct RerunReport: Sendable, Codable, Equatable {
    /// The job rerun.
    public var jobId: Int64
    /// Its kind (process, deliver).
    public var kind: String
    /// Its state before the rerun.
    public var previousState: String
    /// Its state after (nil when nothing was run).
    public var state: String?
    /// The file it is about.
    public var file: String?
    /// The outcome (accepted, rejected, quarantined, ...), for a process job.
    public var outcome: String?
    /// Why, or a note.
    public var reason: String?
    /// What was done and what was deliberately not done, one sentence each.
    public var actions: [String]
}

/// Why a rerun was not done.
public struct RerunRefusal: Error, Sendable, CustomStringConvertible {
    /// True when the job does not exist (the other refusals are about its kind or state).
    public var notFound: Bool
    /// The operator-facing reason.
    public var message: String
    /// The reason.
    public var description: String { message }
}

extension GatewayPipeline {
    /// Reruns one job now, in this process, from the stored bytes (no pickup, no outside I/O), and then the
    /// deliveries it asks for that were never made. A receipt already delivered is never delivered again:
    /// the report says so instead. With `onlyQuarantined` (`quarantine release`), only a quarantined job.
    public func rerun(jobId: Int64, onlyQuarantined: Bool = false) throws -> RerunReport {
        guard let job = try store.job(jobId) else {
            throw RerunRefusal(notFound: true, message: "job \(jobId) not found")
        }
        if onlyQuarantined && job.state != .quarantined {
            throw RerunRefusal(notFound: false,
                               message: "job \(jobId) is \(job.state.rawValue), not quarantined; `gateway jobs rerun` reruns any finished job")
        }
        guard job.kind == JobKind.process || job.kind == JobKind.deliver else {
            throw RerunRefusal(notFound: false, message: "job \(jobId) is a \(job.kind) job: it is not rerun (a pickup reads the "
                + "partner's drop, which is outside I/O; the next poll picks up whatever is there)")
        }
        if job.state == .running {
            throw RerunRefusal(notFound: false, message: "job \(jobId) is running under \(job.leaseOwner ?? "?") until "
                + "\(job.leaseExpiresAt.map { ConfigurationCheck.timestamp($0) } ?? "?"); wait for it")
        }
        var report = RerunReport(jobId: jobId, kind: job.kind, previousState: job.state.rawValue, actions: [])
        if job.kind == JobKind.deliver, job.state == .succeeded {
            let input = JobJSON.decode(DeliverInput.self, job.input)
            report.file = input?.file
            report.actions.append("\(input?.kind ?? "file") \(input?.file ?? "?") was delivered at "
                + "\(ConfigurationCheck.timestamp(job.updatedAt)); not sent again (a rerun never sends a delivery twice)")
            return report
        }
        // The deliveries that exist already, to tell the operator which ones are not sent again.
        let before = try job.batchId.map { try store.jobs(forBatches: [$0])[$0] ?? [] } ?? []
        let deliveriesBefore = Dictionary(uniqueKeysWithValues: before.filter { $0.kind == JobKind.deliver }.map { ($0.id, $0) })

        if [.failed, .quarantined, .cancelled, .succeeded].contains(job.state) {
            try store.rerun(jobId, now: now(), message: onlyQuarantined ? "released from quarantine by operator" : "rerun by operator")
        } else {
            try store.makeDue(jobId, now: now(), message: "run now by operator (backoff cut short)")
        }
        guard let run = try runDueJobs(ids: [jobId]).first(where: { $0.jobId == jobId }) else {
            throw RerunRefusal(notFound: false, message: "job \(jobId) could not be leased (another gateway took it?)")
        }
        report.state = run.state?.rawValue
        report.file = run.line.file
        report.outcome = job.kind == JobKind.process ? run.line.outcome.rawValue : nil
        report.reason = run.reason
        if job.kind == JobKind.process, let batchId = job.batchId {
            report.actions.append("judged the stored bytes of batch \(batchId) again: \(run.line.outcome.rawValue)")
        } else if let receipt = run.receipt {
            report.actions.append("delivered \(receipt)")
        }
        // Follow-ups: deliveries that existed are reported, new or still-due ones are run now.
        var due: [Int64] = []
        for id in run.enqueued {
            if let existing = deliveriesBefore[id], existing.state == .succeeded {
                let file = JobJSON.decode(DeliverInput.self, existing.input)?.file ?? "?"
                report.actions.append("\(file) was delivered at \(ConfigurationCheck.timestamp(existing.updatedAt)) "
                    + "(job \(id)); not sent again")
            } else if let existing = deliveriesBefore[id], existing.state == .failed || existing.state == .cancelled {
                report.actions.append("delivery job \(id) is \(existing.state.rawValue); `gateway jobs rerun \(id)` retries it")
            } else {
                due.append(id)
            }
        }
        while !due.isEmpty {
            let runs = try runDueJobs(ids: due)
            if runs.isEmpty { break }
            for r in runs {
                due.removeAll { $0 == r.jobId }
                if r.kind == JobKind.deliver {
                    report.actions.append(r.state == .succeeded
                        ? "delivered \(r.receipt ?? r.line.file) (job \(r.jobId))"
                        : "delivery job \(r.jobId) \(r.state?.rawValue ?? "not committed"): \(r.reason ?? "")")
                } else {
                    report.actions.append("ran \(r.kind) job \(r.jobId): \(r.line.outcome.rawValue)")
                    due += r.enqueued
                }
            }
        }
        return report
    }
}
