import Logging
import ServiceLifecycle

/// Runs a unit of pipeline work over and over: at once while there is work, every `idleInterval`
/// (or on ``nudge()``) when there is none, and after a growing pause when it fails.
///
/// The step is never cancelled by graceful shutdown: a pipeline step is a synchronous unit (claim,
/// store, answer) and stopping it halfway would leave work for crash recovery. Shutdown ends the
/// idle or backoff wait at once, and `run()` returns after the step in hand. Only cancellation of the
/// whole group (its grace period over) cancels a step.
public final class WorkerService: Service, Sendable {
    /// One unit of work: true when it did something (call again at once), false when nothing was due.
    public typealias Step = @Sendable () async throws -> Bool

    private let name: String
    private let idleInterval: Duration
    private let errorBackoff: RetryStrategy
    private let clock: ServiceClock
    private let logger: Logger
    private let step: Step
    private let doorbell = Doorbell()

    /// Creates a worker named `name` (logged as `worker`).
    ///
    /// `errorBackoff` paces retries after consecutive failed steps; its `maxAttempts` is ignored, as a
    /// worker never gives up (the default: 1 s doubling up to 1 min). `clock` is injected for tests.
    public init(name: String = "worker", idleInterval: Duration = .seconds(1),
                errorBackoff: RetryStrategy = RetryStrategy(initialDelaySeconds: 1, multiplier: 2, maxDelaySeconds: 60),
                clock: ServiceClock = .system, logger: Logger = Logger(label: "swg.worker"), step: @escaping Step) {
        self.name = name
        self.idleInterval = idleInterval
        self.errorBackoff = errorBackoff
        self.clock = clock
        var logger = logger
        logger[metadataKey: "worker"] = "\(name)"
        self.logger = logger
        self.step = step
    }

    /// Wakes the worker from its idle wait now (the scheduler calls it after a pickup queued work).
    ///
    /// A nudge while a step runs is kept, so the worker looks once more instead of sleeping on work
    /// that arrived just after the step found none. It does not shorten the backoff after a failure.
    public func nudge() {
        doorbell.ring()
    }

    /// Calls the step until graceful shutdown; failures are logged and paced, never fatal.
    public func run() async throws {
        logger.info("worker started", metadata: ["idle_interval_seconds": "\(idleInterval.inSeconds)"])
        var failures = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let didWork: Bool
            do {
                didWork = try await step()
            } catch {
                // Cancelled by the group after its grace period: stopping, not failing.
                if Task.isCancelled { break }
                failures += 1
                let delay = errorBackoff.delay(afterAttempt: failures)
                logger.error("step failed; retrying after a pause", metadata: [
                    "error": "\(error)", "consecutive_failures": "\(failures)", "pause_seconds": "\(delay)",
                ])
                await pause(.seconds(delay), wakeOnNudge: false)
                continue
            }
            if failures > 0 {
                logger.notice("step succeeded again", metadata: ["after_failures": "\(failures)"])
                failures = 0
            }
            if !didWork { await pause(idleInterval, wakeOnNudge: true) }
        }
        logger.info("worker stopped")
    }

    /// Waits `duration`, less when shut down or cancelled, or when nudged if `wakeOnNudge`.
    private func pause(_ duration: Duration, wakeOnNudge: Bool) async {
        let sleep = clock.sleep, doorbell = self.doorbell
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await sleep(duration) }
                if wakeOnNudge { group.addTask { await doorbell.wait() } }
                await group.next()
                group.cancelAll()
            }
        }
    }
}

/// A one-slot wake-up signal: `ring()` from any thread wakes the single waiter, or the next one.
private final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Locked(State())

    func ring() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let waiter = s.waiter else {
                s.rung = true
                return nil
            }
            s.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns when rung (at once if rung since the last wait) or when the task is cancelled.
    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.rung {
                        s.rung = false
                        return true
                    }
                    // The cancellation flag is set before the handler runs, so a cancel that beat us
                    // here is seen now, and one that comes later finds the waiter stored. A ring is
                    // left for the next wait: the waiter that was cancelled never acted on it.
                    if Task.isCancelled { return true }
                    s.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume()
        }
    }
}
