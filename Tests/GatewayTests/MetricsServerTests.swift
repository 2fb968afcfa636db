import CoreMetrics
import Foundation
import Gateway
import Prometheus
import ServiceLifecycle
import TestSupport
import Testing

/// The metrics endpoint over a real TCP connection, with metrics recorded through `GatewayMetrics` into
/// the test's own registry (bound as a task-local factory: the global MetricsSystem is never bootstrapped).
@Suite("MetricsServer and GatewayMetrics")
struct MetricsServerTests {
    @Test("GET /metrics serves what GatewayMetrics recorded; other paths 404, other methods 405")
    func scrape() async throws {
        let registry = PrometheusCollectorRegistry()
        withMetricsFactory(MetricsBootstrap.factory(registry: registry)) {
            GatewayMetrics.fileIn(partner: "CARRIERX")
            GatewayMetrics.fileIn(partner: "CARRIERX")
            GatewayMetrics.fileOut(partner: "CARRIERX", kind: "CONTRL")
            GatewayMetrics.failure(code: "intake.unreadable")
            GatewayMetrics.setQueueDepth(kind: "intake", state: .queued, value: 3)
            GatewayMetrics.setOldestWaiting(partner: "CUSTOMS", seconds: 42)
            GatewayMetrics.jobDuration(kind: "intake", seconds: 0.2)
        }
        let log = LogCapture()
        let server = MetricsServer(host: "127.0.0.1", port: 0, registry: registry, logger: log.logger())
        let bound = Shared(0)
        try await runServices([server]) { _ in
            let port = try #require(try await server.localAddress().port)
            #expect(port > 0)
            bound.update { $0 = port }

            let metrics = try await fetch(port: port, path: "/metrics")
            #expect(metrics.status == 200, "\(metrics)")
            #expect(metrics.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
            let lines = metrics.body.split(separator: "\n").map(String.init)
            #expect(lines.contains("# TYPE swg_files_in_total counter"), "\(metrics)")
            #expect(lines.contains(#"swg_files_in_total{partner="CARRIERX"} 2"#), "\(metrics)")
            #expect(lines.contains(#"swg_files_out_total{partner="CARRIERX",kind="CONTRL"} 1"#), "\(metrics)")
            #expect(lines.contains(#"swg_failures_total{code="intake.unreadable"} 1"#), "\(metrics)")
            #expect(lines.contains(#"swg_queue_depth{kind="intake",state="queued"} 3.0"#), "\(metrics)")
            #expect(lines.contains(#"swg_oldest_waiting_seconds{partner="CUSTOMS"} 42.0"#), "\(metrics)")
            #expect(lines.contains(#"swg_job_seconds_count{kind="intake"} 1"#), "\(metrics)")
            #expect(lines.contains(#"swg_job_seconds_bucket{kind="intake",le="0.25"} 1"#), "\(metrics)")

            // A scrape sees counts recorded after the server started.
            withMetricsFactory(MetricsBootstrap.factory(registry: registry)) { GatewayMetrics.fileIn(partner: "CARRIERX") }
            #expect(try await fetch(port: port, path: "/metrics?x=1").body.contains(#"swg_files_in_total{partner="CARRIERX"} 3"#))

            let elsewhere = try await fetch(port: port, path: "/")
            #expect(elsewhere.status == 404, "\(elsewhere)")
            let post = try await fetch(port: port, method: "POST", path: "/metrics")
            #expect(post.status == 405 && post.header("Allow") == "GET", "\(post)")
        }
        #expect(log.records.contains { $0.message == "serving metrics" && $0.metadata["address"] == "127.0.0.1:\(bound.current)" })
        #expect(log.records.contains { $0.message == "metrics server stopped" })
    }

    @Test("a port already taken fails the run with an error naming the address")
    func bindFailure() async throws {
        let first = MetricsServer(host: "127.0.0.1", port: 0, registry: PrometheusCollectorRegistry(), logger: LogCapture().logger())
        try await runServices([first]) { _ in
            let port = try #require(try await first.localAddress().port)
            let second = MetricsServer(host: "127.0.0.1", port: port, registry: PrometheusCollectorRegistry(),
                                       logger: LogCapture().logger())
            let error = await #expect(throws: MetricsServerError.self) { try await second.run() }
            #expect(error?.code == "metrics.bind")
            #expect(error?.message == "cannot listen for metrics on 127.0.0.1:\(port): Address already in use (errno \(EADDRINUSE))",
                    "\(String(describing: error))")
            await #expect(throws: MetricsServerError.self) { _ = try await second.localAddress() }
        }
    }

    /// One request on its own thread: the blocking socket calls must not hold a cooperative thread.
    private func fetch(port: Int, method: String = "GET", path: String) async throws -> HTTPFetchResult {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try httpFetch(port: port, method: method, path: path) })
            }
        }
    }
}
