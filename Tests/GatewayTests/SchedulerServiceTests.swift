import Foundation
import Jobs
import ServiceLifecycle
import Testing

/// The schedule service in a real ServiceGroup, on a clock 20 times faster than real time: `@every 1s`
/// ticks every 50 ms, with the tick times a real clock would give.
@Suite("ScheduleService")
struct SchedulerServiceTests {
    static let speed = 20.0

    static func every(_ name: String, _ expression: String = "@every 1s") throws -> ScheduleService.Entry {
        ScheduleService.Entry(name: name, schedule: try CronSchedule(parsing: expression))
    }

    @Test("each tick calls the handler with the entry name and the scheduled time, until shutdown")
    func ticks() async throws {
        let seen = Shared<[(String, Date)]>([])
        let service = ScheduleService(entries: [try Self.every("CARRIERX")], clock: fastClock(speed: Self.speed),
                                      logger: LogCapture().logger()) { name, tick in
            seen.update { $0.append((name, tick)) }
        }
        try await runServices([service]) { _ in
            #expect(await eventually { seen.current.count >= 5 })
        }
        let ticks = seen.current
        let afterShutdown = ticks.count
        #expect(ticks.allSatisfy { $0.0 == "CARRIERX" })
        // Scheduled times, not wake-up times: whole seconds since the epoch, each later than the last.
        #expect(ticks.allSatisfy { $0.1.timeIntervalSince1970 == $0.1.timeIntervalSince1970.rounded() })
        #expect(zip(ticks, ticks.dropFirst()).allSatisfy { $0.1 < $1.1 })
        let stats = try #require(service.statistics()["CARRIERX"])
        #expect(stats.fired == afterShutdown && stats.completed == afterShutdown)
        try await Task.sleep(for: .milliseconds(120))
        #expect(seen.current.count == afterShutdown, "a tick fired after the service stopped")
    }

    @Test("a slow entry coalesces its ticks, logs that once, and does not delay the others")
    func coalescing() async throws {
        let gate = Gate()
        let fast = Shared(0)
        let log = LogCapture()
        let service = ScheduleService(entries: [try Self.every("slow"), try Self.every("fast")],
                                      clock: fastClock(speed: Self.speed), logger: log.logger()) { name, _ in
            if name == "fast" {
                fast.update { $0 += 1 }
            } else {
                await gate.wait()
            }
        }
        try await runServices([service]) { _ in
            // While the slow call hangs, its ticks are skipped and the fast entry keeps firing.
            #expect(await eventually { (service.statistics()["slow"]?.coalesced ?? 0) >= 3 && fast.current >= 4 })
            let stuck = try #require(service.statistics()["slow"])
            #expect(stuck.fired == 1 && stuck.completed == 0, "\(stuck)")
            let skips = log.records.filter { $0.message.hasPrefix("previous run still going") }
            #expect(skips.count == 1, "the skip is logged once per slow run, not per tick")
            #expect(skips.first?.metadata["entry"] == "slow")
            gate.open()
            #expect(await eventually { (service.statistics()["slow"]?.fired ?? 0) >= 2 })
        }
        let slow = try #require(service.statistics()["slow"])
        #expect(slow.completed == slow.fired)
        let ended = log.records.first { $0.message == "slow run ended" }
        #expect(ended?.metadata["entry"] == "slow")
        #expect((ended?.metadata["skipped_ticks"]).flatMap { Int($0) }.map { $0 >= 3 } == true)
    }

    @Test("graceful shutdown starts no new tick and waits for the handler in progress")
    func drains() async throws {
        let gate = Gate()
        let started = Shared(false), finished = Shared(false), cancelled = Shared(false)
        let service = ScheduleService(entries: [try Self.every("CUSTOMS")], clock: fastClock(speed: Self.speed),
                                      logger: LogCapture().logger()) { _, _ in
            started.update { $0 = true }
            await gate.wait()
            cancelled.update { $0 = Task.isCancelled }
            finished.update { $0 = true }
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [service], logger: LogCapture().logger()))
        let returned = Shared(false)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                try await group.run()
                returned.update { $0 = true }
            }
            #expect(await eventually { started.current })
            await group.triggerGracefulShutdown()
            try await Task.sleep(for: .milliseconds(150))
            #expect(!returned.current, "run() returned while a handler was still running")
            #expect(!finished.current)
            gate.open()
            try await tasks.waitForAll()
        }
        #expect(finished.current && !cancelled.current)
        #expect(service.statistics()["CUSTOMS"]?.fired == 1)
    }

    @Test("with no entry that will ever fire, the service still runs until shutdown")
    func neverFires() async throws {
        let service = ScheduleService(entries: [try Self.every("feb30", "0 0 30 2 *")], logger: LogCapture().logger()) { _, _ in }
        // Returning before the shutdown would end the group with an error, which runServices throws.
        try await runServices([service]) { _ in
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(service.statistics()["feb30"] == ScheduleService.Statistics())
    }
}
