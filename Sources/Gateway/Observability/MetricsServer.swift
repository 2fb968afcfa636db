#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle

/// Serves the Prometheus text exposition of a registry at `GET /metrics`, as a `Service`.
///
/// It binds when `run()` starts (a taken port fails the run with a ``MetricsServerError`` naming the
/// address) and closes its listening socket on graceful shutdown. Put it first in the `ServiceGroup`:
/// services stop in reverse order, so it is scraped while the others drain.
public final class MetricsServer: Service, Sendable {
    /// The media type of the Prometheus text format.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private let host: String
    private let port: Int
    private let registry: PrometheusCollectorRegistry
    private let group: any EventLoopGroup
    private let logger: Logger
    private let state = NIOLockedValueBox(State.notStarted(waiters: []))

    private enum State {
        case notStarted(waiters: [CheckedContinuation<SocketAddress, any Error>])
        case bound(SocketAddress)
        case failed(any Error)
        case stopped
    }

    /// Creates a server for `registry` on `host:port` (port 0: any free port, see ``localAddress()``).
    public init(host: String, port: Int, registry: PrometheusCollectorRegistry,
                eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger = Logger(label: "swg.metrics")) {
        self.host = host
        self.port = port
        self.registry = registry
        self.group = eventLoopGroup
        self.logger = logger
    }

    /// Creates a server on a configured address (`[metrics] listen`).
    public convenience init(address: ListenAddress, registry: PrometheusCollectorRegistry,
                            eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                            logger: Logger = Logger(label: "swg.metrics")) {
        self.init(host: address.host, port: address.port, registry: registry, eventLoopGroup: eventLoopGroup, logger: logger)
    }

    /// The address written as configured, for messages.
    private var addressText: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The address actually bound, waiting until `run()` has bound it; throws if binding failed or the
    /// server has stopped. Tests bind port 0 and read the port here.
    public func localAddress() async throws -> SocketAddress {
        try await withCheckedThrowingContinuation { continuation in
            let result: Result<SocketAddress, any Error>? = state.withLockedValue { state in
                switch state {
                case .notStarted(var waiters):
                    waiters.append(continuation)
                    state = .notStarted(waiters: waiters)
                    return nil
                case .bound(let address): return .success(address)
                case .failed(let error): return .failure(error)
                case .stopped: return .failure(MetricsServerError(code: "metrics.stopped", address: addressText,
                                                                  message: "the metrics server has stopped"))
                }
            }
            if let result { continuation.resume(with: result) }
        }
    }

    /// Binds, serves until graceful shutdown or cancellation, then closes the listening socket.
    public func run() async throws {
        let registry = self.registry
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.backlog, value: 64)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(registry: registry))
                    }
                }
                .bind(host: host, port: port)
                .get()
        } catch {
            let failure = MetricsServerError.bind(address: addressText, error: error)
            settle(.failed(failure))
            logger.error("cannot serve metrics", metadata: ["address": "\(addressText)", "error": "\(failure.message)"])
            throw failure
        }
        let bound = channel.localAddress
        settle(bound.map(State.bound) ?? .failed(MetricsServerError(code: "metrics.bind", address: addressText,
                                                                     message: "the socket has no local address")))
        // The bound port, not the configured one: they differ when port 0 asked for any free port.
        let boundPort = bound?.port ?? port
        logger.info("serving metrics", metadata: [
            "address": "\(host.contains(":") ? "[\(host)]" : host):\(boundPort)", "path": "/metrics",
        ])
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            channel.close(promise: nil)
        }
        settle(.stopped)
        logger.info("metrics server stopped")
    }

    /// Moves to `next`, answering everyone waiting for the bound address.
    private func settle(_ next: State) {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<SocketAddress, any Error>] in
            defer { state = next }
            if case .notStarted(let waiters) = state { return waiters }
            return []
        }
        for waiter in waiters {
            switch next {
            case .bound(let address): waiter.resume(returning: address)
            case .failed(let error): waiter.resume(throwing: error)
            case .notStarted, .stopped:
                waiter.resume(throwing: MetricsServerError(code: "metrics.stopped", address: addressText,
                                                           message: "the metrics server stopped before binding"))
            }
        }
    }
}

/// Why the metrics server could not serve, with a stable code and the address it tried.
public struct MetricsServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Stable, dotted code: `metrics.bind` (the address could not be bound), `metrics.stopped`.
    public var code: String
    /// The `HOST:PORT` concerned, as configured.
    public var address: String
    /// The operator-facing explanation.
    public var message: String

    /// Creates an error.
    public init(code: String, address: String, message: String) {
        self.code = code
        self.address = address
        self.message = message
    }

    /// A bind failure, with the system's words for it (`Address already in use`, an unknown host).
    static func bind(address: String, error: any Error) -> MetricsServerError {
        let reason: String
        if let io = error as? IOError {
            // strerror rather than `io.description`, which leads with NIO's internal call name.
            reason = "\(String(cString: strerror(io.errnoCode))) (errno \(io.errnoCode))"
        } else if case SocketAddressError.unknown(let host, _)? = error as? SocketAddressError {
            reason = "the host '\(host)' cannot be resolved"
        } else {
            reason = "\(error)"
        }
        return MetricsServerError(code: "metrics.bind", address: address,
                                  message: "cannot listen for metrics on \(address): \(reason)")
    }

    /// "[code] message".
    public var description: String { "[\(code)] \(message)" }
}

/// Answers one HTTP/1.1 request at a time: the exposition at `GET /metrics`, 404 and 405 otherwise.
final class MetricsHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let registry: PrometheusCollectorRegistry
    private var request: HTTPRequestHead?

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break  // No request here has a meaningful body; drop it rather than buffer it.
        case .end:
            guard let head = request else { return }
            request = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        var headers = HTTPHeaders()
        let status: HTTPResponseStatus
        let body: ByteBuffer
        if path != "/metrics" {
            status = .notFound
            body = context.channel.allocator.buffer(string: "not found: metrics are at /metrics\n")
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        } else if head.method != .GET {
            status = .methodNotAllowed
            body = context.channel.allocator.buffer(string: "method not allowed: use GET\n")
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
            headers.add(name: "Allow", value: "GET")
        } else {
            status = .ok
            var bytes: [UInt8] = []
            registry.emit(into: &bytes)
            body = context.channel.allocator.buffer(bytes: bytes)
            headers.add(name: "Content-Type", value: MetricsServer.contentType)
        }
        headers.add(name: "Content-Length", value: "\(body.readableBytes)")
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }

        context.write(Self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
                      promise: nil)
        context.write(Self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let written = context.writeAndFlush(Self.wrapOutboundOut(.end(nil)))
        if !keepAlive {
            // Close only once the response is on the wire: closing with writes pending would drop them.
            let boundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
            written.whenComplete { _ in boundContext.value.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
