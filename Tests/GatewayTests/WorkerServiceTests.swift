import Foundation
import Jobs
import ServiceLifecycle
import Testing

/// The worker service in a real ServiceGroup, stopped by a graceful shutdown as SIGTERM would.
@Suite("WorkerService")
struct WorkerServiceTests {
    struct StepFailure: Error {}

    @Test("steps back to back while there is work, then idles until nudged; shutdown ends the idle wait")
    func idleAndNudge() async throws {
        let calls = Shared(0), interruptedSleeps = Shared(0)
        // The real sleep, noting when one is cut short: that is how shutdown ends the 30 s idle wait.
        let clock = ServiceClock(now: { Date() }, sleep: { duration in
            do {
                try await Task.sleep(for: duration)
            } catch {
                interruptedSleeps.update { $0 += 1 }
                throw error
            }
        })
        let worker = WorkerService(idleInterval: .seconds(30), clock: clock, logger: LogCapture().logger()) {
            calls.update { $0 += 1; return $0 <= 5 }
        }
        try await runServices([worker]) { _ in
            // Five steps with work, then the sixth finds none and the worker sleeps (30 s).
            #expect(await eventually { calls.current == 6 })
            try await Task.sleep(for: .milliseconds(100))
            #expect(calls.current == 6, "an idle worker stepped before its interval or a nudge")
            worker.nudge()
            #expect(await eventually { calls.current == 7 })
            try await Task.sleep(for: .milliseconds(50))
            #expect(calls.current == 7)
        }
        // Idle twice (after step 6, nudged; after step 7, ended by the shutdown), never waited out.
        #expect(interruptedSleeps.current == 2, "graceful shutdown did not end the idle wait")
    }

    @Test("a nudge during a step is kept: the worker looks once more instead of sleeping")
    func nudgeDuringStep() async throws {
        let calls = Shared(0)
        let gate = Gate()
        let worker = WorkerService(idleInterval: .seconds(30), logger: LogCapture().logger()) {
            let n = calls.update { $0 += 1; return $0 }
            if n == 1 { await gate.wait() }
            return false
        }
        try await runServices([worker]) { _ in
            #expect(await eventually { calls.current == 1 })
            worker.nudge()
            gate.open()
            #expect(await eventually { calls.current == 2 })
            try await Task.sleep(for: .milliseconds(50))
            #expect(calls.current == 2)
        }
    }

    @Test("a failing step is logged and retried after a growing pause; the service keeps running")
    func failures() async throws {
        let log = LogCapture()
        let times = Shared<[ContinuousClock.Instant]>([])
        let worker = WorkerService(idleInterval: .seconds(30),
                                   errorBackoff: RetryStrategy(initialDelaySeconds: 0.05, multiplier: 2, maxDelaySeconds: 1),
                                   logger: log.logger()) {
            let n = times.update { $0.append(.now); return $0.count }
            if n <= 2 { throw StepFailure() }
            return false
        }
        try await runServices([worker]) { _ in
            #expect(await eventually { times.current.count == 3 })
        }
        let t = times.current
        try #require(t.count == 3)
        #expect(t[1] - t[0] >= .milliseconds(50) && t[2] - t[1] >= .milliseconds(100))
        let errors = log.records.filter { $0.level == .error }
        #expect(errors.map(\.metadata["consecutive_failures"]) == ["1", "2"])
        #expect(errors.allSatisfy { $0.metadata["worker"] == "worker" && $0.metadata["error"] == "StepFailure()" })
        #expect(log.records.contains { $0.message == "step succeeded again" })
    }

    @Test("graceful shutdown lets the step in hand finish, uncancelled, and starts no other")
    func drains() async throws {
        let gate = Gate()
        let calls = Shared(0), finished = Shared(false), cancelled = Shared(false)
        let worker = WorkerService(logger: LogCapture().logger()) {
            calls.update { $0 += 1 }
            await gate.wait()
            cancelled.update { $0 = Task.isCancelled }
            finished.update { $0 = true }
            return true  // more work: only the shutdown stops it
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [worker], logger: LogCapture().logger()))
        let returned = Shared(false)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                try await group.run()
                returned.update { $0 = true }
            }
            #expect(await eventually { calls.current == 1 })
            await group.triggerGracefulShutdown()
            try await Task.sleep(for: .milliseconds(150))
            #expect(!returned.current, "run() returned while a step was in progress")
            gate.open()
            try await tasks.waitForAll()
        }
        #expect(finished.current && !cancelled.current)
        #expect(calls.current == 1)
    }
}
