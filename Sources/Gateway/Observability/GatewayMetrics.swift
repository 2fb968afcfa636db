import CoreMetrics
import Jobs

/// The gateway's metrics, every name and label in one place, so dashboards and alerts have one source.
///
/// Library code only emits, through swift-metrics; the executable chooses the backend
/// (``MetricsBootstrap``), and until it does every call here is a no-op. Labels are kept to values
/// with a small, known set (partner ids, message types, error codes, job kinds and states): never a
/// file name, interchange reference or anything else that grows with traffic.
public enum GatewayMetrics {
    /// `swg_files_in_total{partner}`: files taken from a partner's drop directory.
    public static let filesIn = "swg_files_in_total"
    /// `swg_files_out_total{partner,kind}`: files written for a partner to pick up, by kind (`CONTRL`, `APERAK`, ...).
    public static let filesOut = "swg_files_out_total"
    /// `swg_failures_total{code}`: failures by stable error code (`intake.unreadable`, ...).
    public static let failures = "swg_failures_total"
    /// `swg_queue_depth{kind,state}`: jobs per job kind that are queued, retrying or running now.
    public static let queueDepth = "swg_queue_depth"
    /// `swg_oldest_waiting_seconds{partner}`: age of the oldest file of the partner still waiting to be handled.
    public static let oldestWaitingSeconds = "swg_oldest_waiting_seconds"
    /// `swg_job_seconds{kind}`: how long jobs take, by job kind (a histogram in Prometheus).
    public static let jobSeconds = "swg_job_seconds"

    /// Counts one file taken in from `partner`.
    public static func fileIn(partner: String) {
        Counter(label: filesIn, dimensions: [("partner", partner)]).increment()
    }

    /// Counts one file written for `partner`; `kind` is the message type, such as `CONTRL` or `APERAK`.
    public static func fileOut(partner: String, kind: String) {
        Counter(label: filesOut, dimensions: [("partner", partner), ("kind", kind)]).increment()
    }

    /// Counts one failure by its stable error code (the code, never the message: messages name files).
    public static func failure(code: String) {
        Counter(label: failures, dimensions: [("code", code)]).increment()
    }

    /// Sets how many jobs of `kind` are in `state` (a `JobState` raw value: queued, retrying, running) now.
    public static func setQueueDepth(kind: String, state: String, value: Int) {
        Gauge(label: queueDepth, dimensions: [("kind", kind), ("state", state)]).record(value)
    }

    /// Sets how many jobs of `kind` are in `state` now, the state named by the ledger's own type.
    public static func setQueueDepth(kind: String, state: JobState, value: Int) {
        setQueueDepth(kind: kind, state: state.rawValue, value: value)
    }

    /// Sets the age in seconds of `partner`'s oldest waiting file; 0 when nothing waits.
    public static func setOldestWaiting(partner: String, seconds: Double) {
        Gauge(label: oldestWaitingSeconds, dimensions: [("partner", partner)]).record(seconds)
    }

    /// Records how long one job of `kind` took.
    public static func jobDuration(kind: String, seconds: Double) {
        Timer(label: jobSeconds, dimensions: [("kind", kind)]).recordSeconds(seconds)
    }
}
