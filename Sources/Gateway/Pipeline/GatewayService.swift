import Dispatch
import Foundation
import Jobs
import Logging
import NIOConcurrencyHelpers
import Prometheus
import ServiceLifecycle

/// `gateway run`: the pipeline as long-running services in one `ServiceGroup`.
///
/// - the **scheduler** polls each partner's drop on its own cron schedule (a poll still running when the
///   next tick comes is not doubled), then nudges the worker;
/// - the **worker** runs due process and deliver jobs, chunk after chunk, and sleeps when none is due;
/// - the **metrics server** serves Prometheus text at `/metrics` while the gateway is up.
///
/// SIGTERM or SIGINT starts a graceful shutdown: the scheduler stops polling (a poll in progress finishes
/// the chunk of files in hand; the rest stay in the drop), the worker finishes the chunk in hand, then the
/// metrics server closes. Past `[run] shutdown_grace_seconds` the group is cancelled.
///
/// The pipeline's work is blocking (file system, SQLite), so it runs on threads of its own, never on the
/// few threads of Swift's cooperative pool, which the services and signal handling need to stay responsive.
public enum GatewayService {
    /// Runs until a shutdown signal; returns when every service has stopped.
    public static func run(configuration: GatewayConfiguration, logger: Logger) async throws {
        let registry = MetricsBootstrap.bootstrapPrometheus()
        let pipeline = try GatewayPipeline(configuration: configuration, logger: logger)
        let requeued = pipeline.recover()
        logger.notice("gateway started", metadata: [
            "partners": "\(configuration.partners.count)", "requeued": "\(requeued.count)",
            "metrics": "\(configuration.metrics.listen.map { "\($0)" } ?? "off")",
        ])
        pipeline.updateGauges()
        let jobs = BlockingQueue(label: "gateway.jobs")
        let pickups = BlockingQueue(label: "gateway.pickups")
        // Terminals are told what changed once the jobs run dry after some work, and once a minute anyway (a
        // silence window may have closed): the sweep reads every active consignment, too much for every poll.
        let sweep = NIOLockedValueBox((due: true, at: Date.distantPast))
        // Jobs a dead process left running go back to the queue, at start and every 30 s after: with several
        // nodes on one PostgreSQL, another node may die at any time.
        let recovered = NIOLockedValueBox(Date())
        let worker = WorkerService(name: "jobs", idleInterval: configuration.run.idleInterval, logger: logger) {
            // A ledger error is thrown on to the worker, which logs it and backs off before trying again.
            try await jobs.run {
                Result { () throws -> Bool in
                    if recovered.withLockedValue({ Date().timeIntervalSince($0) >= 30 }) {
                        pipeline.recover()
                        recovered.withLockedValue { $0 = Date() }
                    }
                    let done = try pipeline.runDueJobs()
                    if !done.isEmpty {
                        pipeline.updateGauges()
                        sweep.withLockedValue { $0.due = true }
                        return true
                    }
                    let due = sweep.withLockedValue { $0.due || Date().timeIntervalSince($0.at) >= 60 }
                    guard due else { return false }
                    let sent = try pipeline.sendNotices()
                    sweep.withLockedValue { $0 = (false, Date()) }
                    return !sent.jobs.isEmpty
                }
            }.get()
        }
        let entries = configuration.partners.map { ScheduleService.Entry(name: $0.id, schedule: $0.schedule.schedule) }
        let scheduler = ScheduleService(entries: entries, logger: logger) { name, _ in
            guard let partner = configuration.partner(id: name) else { return }
            let stopping = NIOLockedValueBox(false)
            let lines = await withGracefulShutdownHandler {
                await pickups.run { pipeline.pickupJob(partner, shouldStop: { stopping.withLockedValue { $0 } }) }
            } onGracefulShutdown: {
                stopping.withLockedValue { $0 = true }
            }
            if lines.contains(where: { $0.processJob != nil }) { worker.nudge() }
            pipeline.updateGauges()
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let listen = configuration.metrics.listen {
            services.append(.init(service: MetricsServer(address: listen, registry: registry, logger: logger),
                                  serviceName: "metrics"))
        }
        // Stopped in reverse order: the scheduler first (no new pickups), then the worker, then metrics.
        services.append(.init(service: worker, serviceName: "worker"))
        services.append(.init(service: scheduler, serviceName: "scheduler"))
        var group = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint],
                                              logger: logger)
        group.maximumGracefulShutdownDuration = configuration.run.shutdownGrace
        try await ServiceGroup(configuration: group).run()
        logger.notice("gateway stopped")
    }
}

/// A serial queue for blocking work, awaited without holding a cooperative thread.
final class BlockingQueue: Sendable {
    private let queue: DispatchQueue

    init(label: String) { queue = DispatchQueue(label: label) }

    func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }
}

extension GatewayPipeline {
    /// Sets the queue-depth and oldest-waiting gauges from the ledger (cheap: two indexed queries).
    public func updateGauges() {
        do {
            var seen: Set<String> = []
            for (kind, state, count) in try store.queueDepth() {
                GatewayMetrics.setQueueDepth(kind: kind, state: state.rawValue, value: count)
                seen.insert(kind + "/" + state.rawValue)
            }
            // Queues that emptied since the last update go back to zero rather than keep their last value.
            for kind in [JobKind.process, JobKind.deliver] {
                for state in [JobState.queued, .retrying, .running] where !seen.contains(kind + "/" + state.rawValue) {
                    GatewayMetrics.setQueueDepth(kind: kind, state: state.rawValue, value: 0)
                }
            }
            // Waiting: a job not finished yet, or a file still in the drop (not ready, or not polled yet).
            let clock = now()
            let oldest = try store.oldestWaiting(now: clock)
            for partner in configuration.partners {
                var age = oldest[partner.id] ?? 0
                if let entries = try? DropDirectory.listRegularFiles(partner.dropDirectory) {
                    let nowTime = FileTime(seconds: Int64(clock.timeIntervalSince1970))
                    for (name, entry) in entries where !name.hasPrefix(".") {
                        age = max(age, nowTime.seconds(since: entry.modified))
                    }
                }
                GatewayMetrics.setOldestWaiting(partner: partner.id, seconds: age)
            }
        } catch {
            logger.warning("cannot read the ledger for the gauges: \(error)")
        }
    }
}

extension GatewayService {
    /// `gateway run`: loads the configuration at `path` and runs the services until a shutdown signal, blocking
    /// the calling thread. Exit status: 0 after a graceful stop, 1 when a service failed (the store cannot be
    /// opened, the metrics address is taken), 2 when the configuration is unreadable or has mistakes.
    public static func runUntilStopped(path: String, err: OutputSink) -> Int32 {
        defer { err.flush() }
        guard let configuration = ConfigurationLoader.loadReporting(path: path, err: err, nothingWas: "run") else {
            return 2
        }
        let outcome = NIOLockedValueBox<Int32>(0)
        let done = DispatchSemaphore(value: 0)
        let logger = Logger(label: "gateway")
        Task {
            do {
                try await run(configuration: configuration, logger: logger)
            } catch {
                logger.critical("gateway stopped on an error: \(error)")
                outcome.withLockedValue { $0 = 1 }
            }
            done.signal()
        }
        done.wait()
        return outcome.withLockedValue { $0 }
    }
}
