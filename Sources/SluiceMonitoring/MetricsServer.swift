import NIOCore
import NIOHTTP1
import NIOPosix
import SluiceRuntime

/// Serves every component's counters over HTTP: `/metrics` as Flume's
/// monitoring JSON (format .json) or Prometheus text (.prometheus); the
/// other format is always at `/metrics.json` or `/metrics.prom`.
public final class MetricsServer: @unchecked Sendable {
    public enum Format: Sendable { case json, prometheus }

    private let group: MultiThreadedEventLoopGroup
    private let channel: Channel
    public let port: Int

    public init(host: String, port: Int, format: Format, registry: MetricsRegistry) throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { ch in
                ch.pipeline.configureHTTPServerPipeline().flatMap {
                    ch.pipeline.addHandler(MetricsHandler(format: format, registry: registry))
                }
            }
        do {
            channel = try bootstrap.bind(host: host, port: port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw MonitoringError(description: "cannot serve metrics on \(host):\(port): \(error)")
        }
        self.port = channel.localAddress?.port ?? port
    }

    public func close() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }
}

public struct MonitoringError: Error, CustomStringConvertible {
    public var description: String
}

final class MetricsHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let format: MetricsServer.Format
    let registry: MetricsRegistry
    private var head: HTTPRequestHead?

    init(format: MetricsServer.Format, registry: MetricsRegistry) {
        self.format = format
        self.registry = registry
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break
        case .end:
            guard let h = head else { return }
            respond(context, h)
            head = nil
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ h: HTTPRequestHead) {
        let path = h.uri.split(separator: "?").first.map(String.init) ?? h.uri
        var status = HTTPResponseStatus.ok
        var contentType = "text/plain; charset=utf-8"
        var body: String
        if h.method != .GET && h.method != .HEAD {
            status = .methodNotAllowed
            body = "only GET\n"
        } else {
            switch (path, format) {
            case ("/metrics", .json), ("/metrics.json", _):
                contentType = "application/json"
                body = MetricsFormat.json(registry)
            case ("/metrics", .prometheus), ("/metrics.prom", _):
                contentType = "text/plain; version=0.0.4"
                body = MetricsFormat.prometheus(registry)
            case ("/", _):
                contentType = "text/html"
                body = "<html><body><a href=\"/metrics\">metrics</a></body></html>\n"
            default:
                status = .notFound
                body = "not found\n"
            }
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: "\(body.utf8.count)")
        let keepAlive = h.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: h.version, status: status, headers: headers))), promise: nil)
        if h.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive { done.whenComplete { _ in context.close(promise: nil) } }
    }
}
