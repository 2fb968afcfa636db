import Foundation

/// `gateway jobs rerun ID` and `gateway quarantine release ID`: run a job again now, from the stored bytes,
/// and say what was done and what was deliberately not done again.
public enum RerunVerb {
    /// Exit status: 0 when the job ran (whatever it decided), 1 when it does not exist, is refused (a pickup,
    /// a running job, not quarantined for a release) or could not be committed, 2 on a configuration error.
    public static func run(configPath: String, jobId: Int64, release: Bool, json: Bool, out: OutputSink,
                           err: OutputSink) -> OperatorStatus {
        OperatorSession.with(path: configPath, out: out, err: err) { session in
            guard session.store != nil else {
                err.line("job \(jobId) not found")
                return .refused
            }
            let report: RerunReport
            do {
                report = try GatewayPipeline(configuration: session.configuration).rerun(jobId: jobId, onlyQuarantined: release)
            } catch let refusal as RerunRefusal {
                err.line(refusal.message + (refusal.notFound ? "" : "; nothing was run"))
                return .refused
            }
            if json {
                out.line(OperatorFormat.json(report))
            } else {
                var head = "job \(report.jobId) (\(report.kind)\(report.file.map { ", \($0)" } ?? "")): "
                head += report.state.map { "\(report.previousState) → \($0)" } ?? "\(report.previousState), not run"
                if let outcome = report.outcome { head += "; \(outcome)" }
                out.line(head)
                if let reason = report.reason { out.line("  why: \(reason)") }
                for action in report.actions { out.line("  - \(action)") }
            }
            return report.state == nil && report.actions.isEmpty ? .refused : .success
        }
    }
}
