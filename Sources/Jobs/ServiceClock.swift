#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The wall clock and the sleeper the long-running services use, injected so tests can run time faster.
///
/// `sleep` must throw when its task is cancelled (as `Task.sleep` does): graceful shutdown ends a
/// wait by cancelling it.
public struct ServiceClock: Sendable {
    /// The current wall-clock time; schedules are computed from it.
    public var now: @Sendable () -> Date
    /// Suspends for about the given duration; throws `CancellationError` when cancelled.
    public var sleep: @Sendable (Duration) async throws -> Void

    /// Creates a clock from its two halves.
    public init(now: @escaping @Sendable () -> Date, sleep: @escaping @Sendable (Duration) async throws -> Void) {
        self.now = now
        self.sleep = sleep
    }

    /// The system clock and `Task.sleep`, for production.
    public static let system = ServiceClock(now: { Date() }, sleep: { try await Task.sleep(for: $0) })
}

extension Duration {
    /// The duration in seconds as a `Double`, for logs and date arithmetic.
    var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
