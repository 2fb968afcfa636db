#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import ServiceLifecycle

/// Fires named cron schedules (UTC) by calling one handler with the entry's name and the tick time.
///
/// Each entry runs on its own, so a slow handler for one partner never delays another's. A tick that
/// comes while the same entry's previous call is still running is coalesced: skipped, counted and
/// logged once, never queued, so a backlog cannot build up behind a slow pickup and the next call
/// still sees everything that arrived meanwhile.
///
/// On graceful shutdown no new tick starts and `run()` returns once the handlers in progress have
/// returned; they are not cancelled (only cancellation of the whole group, after its grace period,
/// cancels them). Put it after the worker in the `ServiceGroup`: services stop in reverse order, so
/// the scheduler stops feeding work before the worker drains.
public struct ScheduleService: Service {
    /// One schedule to fire: the name the handler is called with, and when.
    public struct Entry: Sendable, Hashable {
        /// Unique among the service's entries; handed to the handler and logged as `entry`.
        public var name: String
        /// When it fires, in UTC.
        public var schedule: CronSchedule

        /// Creates an entry.
        public init(name: String, schedule: CronSchedule) {
            self.name = name
            self.schedule = schedule
        }
    }

    /// What has happened to one entry's ticks since the service was created.
    public struct Statistics: Sendable, Hashable {
        /// Handler calls started.
        public var fired = 0
        /// Handler calls that have returned.
        public var completed = 0
        /// Ticks skipped because the previous call was still running.
        public var coalesced = 0

        /// Creates counts (all zero by default).
        public init(fired: Int = 0, completed: Int = 0, coalesced: Int = 0) {
            self.fired = fired
            self.completed = completed
            self.coalesced = coalesced
        }
    }

    /// Called on each tick with the entry's name and the scheduled tick time (not the time it woke).
    public typealias Handler = @Sendable (_ entry: String, _ tick: Date) async -> Void

    /// The longest single sleep: waking at least this often notices a wall-clock step (NTP, an operator
    /// setting the date) within this time instead of sleeping through a nightly run.
    static let longestSleep = 60.0

    private let entries: [Entry]
    private let clock: ServiceClock
    private let logger: Logger
    private let handler: Handler
    private let state: Locked<[String: EntryState]>

    private struct EntryState {
        var statistics = Statistics()
        var running = false
        /// Ticks skipped during the call in progress, so the skip is logged once and summed at its end.
        var skippedDuringCall = 0
    }

    /// Creates the service; entry names must be unique. `clock` is injected so tests can run time faster.
    public init(entries: [Entry], clock: ServiceClock = .system, logger: Logger = Logger(label: "swg.scheduler"),
                handler: @escaping Handler) {
        precondition(Set(entries.map(\.name)).count == entries.count, "schedule entry names must be unique")
        self.entries = entries
        self.clock = clock
        self.logger = logger
        self.handler = handler
        self.state = Locked(Dictionary(uniqueKeysWithValues: entries.map { ($0.name, EntryState()) }))
    }

    /// Counts per entry name so far, for tests, metrics and status output.
    public func statistics() -> [String: Statistics] {
        state.withLock { $0.mapValues(\.statistics) }
    }

    /// Fires the entries until graceful shutdown, then waits for the handlers in progress.
    public func run() async throws {
        logger.info("scheduler started", metadata: ["entries": "\(entries.count)"])
        await withTaskGroup(of: Void.self) { group in
            for entry in entries {
                group.addTask { await self.runEntry(entry) }
            }
            // Returning early would end the whole ServiceGroup, so stay until shutdown even when no
            // entry is left (none configured, or schedules that never fire again).
            group.addTask { try? await gracefulShutdown() }
            await group.waitForAll()
        }
        logger.info("scheduler stopped")
    }

    /// One entry's loop: sleep to the next tick, start the handler unless a call is still running.
    private func runEntry(_ entry: Entry) async {
        let logger = {
            var logger = self.logger
            logger[metadataKey: "entry"] = "\(entry.name)"
            return logger
        }()
        logger.debug("schedule armed", metadata: ["schedule": "\(entry.schedule)"])
        // Handlers run as children of this group, so leaving it waits for the call in progress.
        await withTaskGroup(of: Void.self) { calls in
            var after = clock.now()
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                guard let tick = entry.schedule.next(after: after) else {
                    logger.warning("schedule never fires again", metadata: ["schedule": "\(entry.schedule)"])
                    break
                }
                guard await sleep(until: tick), !Task.isShuttingDownGracefully else { break }
                if start(entry.name, logger: logger) {
                    logger.debug("tick", metadata: ["tick": "\(tick.ISO8601Format())"])
                    calls.addTask {
                        await self.handler(entry.name, tick)
                        self.finish(entry.name, logger: logger)
                    }
                }
                // From now, not from the tick: after a late wake (suspended host, overloaded machine) the
                // missed ticks collapse into the one just taken instead of firing in a burst.
                after = max(tick, clock.now())
            }
            if !calls.isEmpty { logger.debug("waiting for the call in progress") }
            await calls.waitForAll()
        }
    }

    /// Sleeps until `deadline` by the injected clock; false when shutdown or cancellation ended the wait.
    private func sleep(until deadline: Date) async -> Bool {
        while true {
            let remaining = deadline.timeIntervalSince(clock.now())
            if remaining <= 0 { return true }
            let sleep = clock.sleep
            do {
                try await cancelWhenGracefulShutdown {
                    try await sleep(.seconds(min(remaining, Self.longestSleep)))
                }
            } catch {
                return false
            }
            if Task.isShuttingDownGracefully || Task.isCancelled { return false }
        }
    }

    /// Marks a call started; false (and the skip counted, logged on the first) when one is running.
    private func start(_ name: String, logger: Logger) -> Bool {
        let skipped: Int? = state.withLock { all in
            if all[name]!.running {
                all[name]!.statistics.coalesced += 1
                all[name]!.skippedDuringCall += 1
                return all[name]!.skippedDuringCall
            }
            all[name]!.running = true
            all[name]!.statistics.fired += 1
            return nil
        }
        if skipped == 1 {
            logger.warning("previous run still going; skipping ticks until it ends")
        }
        return skipped == nil
    }

    /// Marks the call finished and reports how many ticks it made the entry skip.
    private func finish(_ name: String, logger: Logger) {
        let skipped = state.withLock { all in
            all[name]!.running = false
            all[name]!.statistics.completed += 1
            defer { all[name]!.skippedDuringCall = 0 }
            return all[name]!.skippedDuringCall
        }
        if skipped > 0 {
            logger.notice("slow run ended", metadata: ["skipped_ticks": "\(skipped)"])
        }
    }
}
