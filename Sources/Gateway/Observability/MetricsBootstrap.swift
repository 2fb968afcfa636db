import CoreMetrics
import Prometheus

/// Chooses Prometheus as the process's metrics backend: only the executable calls it, once, at start.
public enum MetricsBootstrap {
    /// Job-duration buckets in seconds: pipeline jobs run from milliseconds (a small interchange) to
    /// minutes (a large archive), wider than the library's default of 5 ms to 10 s.
    public static let jobSecondsBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(120), .seconds(300),
    ]

    /// A factory that records into `registry` with the gateway's bucket choices; tests bind it with
    /// `withMetricsFactory` to read their own registry without touching the global one.
    public static func factory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[GatewayMetrics.jobSeconds] = jobSecondsBuckets
        return factory
    }

    /// The process-wide registry, created and bootstrapped on first use; later calls return the same one,
    /// since `MetricsSystem.bootstrap` may run only once per process.
    public static func bootstrapPrometheus() -> PrometheusCollectorRegistry { shared }

    private static let shared: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(factory(registry: registry))
        return registry
    }()
}
