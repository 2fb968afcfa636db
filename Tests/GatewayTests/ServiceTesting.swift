import Foundation
import Jobs
import Logging
import ServiceLifecycle

// Helpers for the tests of the long-running services: a fast clock, a gate, a log capture, and a
// ServiceGroup run that ends with a graceful shutdown.

/// A clock that runs `speed` times faster than real time from a fixed start, so `@every 1s` ticks every
/// `1/speed` seconds of test time while the scheduler computes real cron times.
func fastClock(speed: Double, start: Date = Date(timeIntervalSince1970: 1_700_000_000)) -> ServiceClock {
    let origin = ContinuousClock.now
    return ServiceClock(
        now: {
            let (seconds, attoseconds) = (ContinuousClock.now - origin).components
            return start.addingTimeInterval((Double(seconds) + Double(attoseconds) / 1e18) * speed)
        },
        sleep: { try await Task.sleep(for: $0 / speed) }
    )
}

/// A value shared between a service's closures and the test, behind a lock.
final class Shared<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    /// The value now.
    var current: Value { lock.withLock { value } }

    /// Changes the value under the lock and returns what `body` returns.
    @discardableResult
    func update<T>(_ body: (inout Value) -> T) -> T { lock.withLock { body(&value) } }
}

/// A gate that handlers wait at until the test opens it; waiting after it opened returns at once.
final class Gate: @unchecked Sendable {
    private let lock = NSLock()
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Waits until ``open()``.
    func wait() async {
        await withCheckedContinuation { continuation in
            let now = lock.withLock {
                if isOpen { return true }
                waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Lets every waiter, present and future, through.
    func open() {
        let waiting = lock.withLock {
            isOpen = true
            defer { waiters = [] }
            return waiters
        }
        for waiter in waiting { waiter.resume() }
    }
}

/// Polls `condition` every 5 ms until it holds or `seconds` pass; returns whether it held.
///
/// The deadline is generous on purpose: alone these tests take well under a second, but in the full
/// suite synchronous tests (the CLI ones wait for child processes) can hold both cooperative threads
/// for most of the run (25-30 s seen on 2 cores), and a tight deadline would fail on starvation
/// rather than on a fault.
func eventually(within seconds: Double = 120, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}

/// Log records kept in memory, so tests can check what a service said and how often.
final class LogCapture: @unchecked Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let lock = NSLock()
    private var stored: [Record] = []

    /// Everything logged so far.
    var records: [Record] { lock.withLock { stored } }

    fileprivate func append(_ record: Record) { lock.withLock { stored.append(record) } }

    /// A logger at `trace` level writing here only (the global logging system is left alone).
    func logger(_ label: String = "test") -> Logger {
        var logger = Logger(label: label) { _ in Handler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            capture.append(Record(level: event.level, message: "\(event.message)",
                                  metadata: merged.mapValues { "\($0)" }))
        }
    }
}

/// Runs `services` in one ServiceGroup, calls `body` while they run, then triggers a graceful shutdown
/// (as SIGTERM would) and waits for the group to return.
func runServices(_ services: [any Service], logger: Logger = LogCapture().logger(),
                 while body: (ServiceGroup) async throws -> Void) async throws {
    let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, logger: logger))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            try await body(group)
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}
