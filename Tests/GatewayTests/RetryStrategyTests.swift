import Foundation
import Jobs
import Testing

/// Exponential backoff with a ceiling, checked against exact values.
@Suite("Retry strategy")
struct RetryStrategyTests {
    let strategy = RetryStrategy(maxAttempts: 6, initialDelaySeconds: 2, multiplier: 3, maxDelaySeconds: 60)

    @Test("delays grow by the multiplier until the cap")
    func exponentialThenCapped() {
        let delays = (1...7).map { strategy.delay(afterAttempt: $0) }
        #expect(delays == [2, 6, 18, 54, 60, 60, 60])
    }

    @Test("attempt numbers below 1 count as the first attempt")
    func clampsLowAttempts() {
        #expect(strategy.delay(afterAttempt: 0) == 2)
        #expect(strategy.delay(afterAttempt: -5) == 2)
    }

    @Test("huge attempt numbers land on the cap instead of overflowing")
    func hugeAttemptIsCapped() {
        #expect(strategy.delay(afterAttempt: 10_000) == 60)
        #expect(strategy.delay(afterAttempt: Int.max) == 60)
    }

    @Test("a multiplier of 1 gives a constant delay")
    func constantDelay() {
        let constant = RetryStrategy(maxAttempts: 3, initialDelaySeconds: 0.5, multiplier: 1, maxDelaySeconds: 10)
        #expect((1...4).map { constant.delay(afterAttempt: $0) } == [0.5, 0.5, 0.5, 0.5])
    }

    @Test("defaults double from 1 s up to 5 minutes")
    func defaults() {
        let defaults = RetryStrategy()
        #expect(defaults.maxAttempts == 5)
        #expect((1...10).map { defaults.delay(afterAttempt: $0) } == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300])
    }

    @Test("retries stop once maxAttempts is used up")
    func shouldRetry() {
        #expect(strategy.shouldRetry(afterAttempt: 5))
        #expect(!strategy.shouldRetry(afterAttempt: 6))
        #expect(!RetryStrategy(maxAttempts: 1).shouldRetry(afterAttempt: 1))
    }

    @Test("the strategy round-trips through Codable")
    func codable() throws {
        let data = try JSONEncoder().encode(strategy)
        #expect(try JSONDecoder().decode(RetryStrategy.self, from: data) == strategy)
    }

    @Test("job state raw values are the stored ledger names")
    func jobStateNames() {
        #expect(JobState.allCases.map(\.rawValue) == ["queued", "running", "succeeded", "failed", "retrying", "cancelled", "quarantined"])
    }
}
