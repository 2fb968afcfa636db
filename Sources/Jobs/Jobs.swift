/// Where a job stands in its life; the raw values are stored in the job ledger, so never rename them.
public enum JobState: String, Codable, Sendable, CaseIterable {
    /// Waiting to be picked up by a worker.
    case queued
    /// Being worked on now.
    case running
    /// Finished without error; terminal.
    case succeeded
    /// Gave up after its last attempt; terminal until an operator reruns it.
    case failed
    /// Failed an attempt and is waiting for its backoff delay before the next one.
    case retrying
    /// Stopped by an operator or shutdown before finishing; terminal.
    case cancelled
    /// Failed permanently on bad input (syntax, signature) and set aside with its reason until an
    /// operator releases or discards it; terminal until then.
    case quarantined
}

/// How often and how patiently a failed job is retried: exponential backoff with a ceiling.
///
/// A value, not behaviour baked into workers, so each job type can carry its own strategy and the
/// ledger can record which one applied.
public struct RetryStrategy: Sendable, Codable, Equatable {
    /// Total attempts allowed, the first one included (1 = never retry).
    public var maxAttempts: Int
    /// Delay in seconds after the first failed attempt.
    public var initialDelaySeconds: Double
    /// Factor applied to the delay after each further failed attempt.
    public var multiplier: Double
    /// Ceiling in seconds that no single delay exceeds.
    public var maxDelaySeconds: Double

    /// Creates a strategy; the defaults suit remote transfers (5 attempts, 1 s doubling up to 5 min).
    public init(
        maxAttempts: Int = 5,
        initialDelaySeconds: Double = 1,
        multiplier: Double = 2,
        maxDelaySeconds: Double = 300
    ) {
        self.maxAttempts = maxAttempts
        self.initialDelaySeconds = initialDelaySeconds
        self.multiplier = multiplier
        self.maxDelaySeconds = maxDelaySeconds
    }

    /// Seconds to wait after failed attempt `n` (1-based): `initial * multiplier^(n-1)`, capped.
    ///
    /// Attempt numbers below 1 are treated as 1, and an overflow to infinity lands on the cap,
    /// so a long-failing job never computes a nonsensical delay.
    public func delay(afterAttempt n: Int) -> Double {
        let uncapped = initialDelaySeconds * Self.power(multiplier, max(n, 1) - 1)
        guard uncapped.isFinite else { return maxDelaySeconds }
        return min(uncapped, maxDelaySeconds)
    }

    /// `base^exponent` by squaring: exact for small integers, O(log n) for huge attempt numbers,
    /// and free of Foundation so this module stays dependency-light.
    private static func power(_ base: Double, _ exponent: Int) -> Double {
        var result = 1.0
        var factor = base
        var remaining = exponent
        while remaining > 0 {
            if remaining & 1 == 1 { result *= factor }
            remaining >>= 1
            if remaining > 0 { factor *= factor }
        }
        return result
    }

    /// Whether another attempt is allowed after failed attempt `n` (1-based).
    public func shouldRetry(afterAttempt n: Int) -> Bool {
        n < maxAttempts
    }
}
