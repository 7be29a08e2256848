import KafkaProtocol
import NIOCore
import NIOPosix
import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// A Kafka broker inside the agent: `a1.services.k1.type = kafka`.
final class KafkaBrokerService: Service {
    let context: ComponentContext
    let config: BrokerConfig
    private var broker: Broker?
    private var group: MultiThreadedEventLoopGroup?
    private var server: Channel?
    private var ticker: RepeatedTask?

    init(context: ComponentContext, properties: Properties) throws {
        self.context = context
        config = try BrokerConfig(properties)
    }

    func start() throws {
        let b = try Broker(config: config, context: context)
        let g = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let maxFrame = config.maxRequestBytes
        let ctx = context
        let bootstrap = ServerBootstrap(group: g)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { ch in
                ch.pipeline.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder(maxFrameLength: maxFrame)))
                    try ch.pipeline.syncOperations.addHandler(ConnectionHandler(handler: RequestHandler(broker: b), context: ctx,
                                                                                maxFrameBytes: maxFrame))
                }
            }
        do {
            server = try bootstrap.bind(host: config.listenHost, port: config.listenPort).wait()
        } catch {
            try? g.syncShutdownGracefully()
            b.close()
            throw SluiceError.io("cannot listen on \(config.listenHost):\(config.listenPort): \(error)")
        }
        broker = b
        group = g
        // Retention, flush policy and recovery-point checkpoints.
        ticker = g.next().scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            let report = b.logs.tick()
            for (tp, e) in report.errors { ctx.log(.error, "log maintenance \(tp.map { "\($0)" } ?? ""): \(e)") }
        }
        let port = server?.localAddress?.port ?? config.listenPort
        context.log(.info, "Kafka broker \(config.brokerID) listening on \(config.listenHost):\(port), logs in \(config.logDirs.joined(separator: ","))")
    }

    func stop() throws {
        ticker?.cancel()
        try? server?.close().wait()
        try? group?.syncShutdownGracefully()
        broker?.close()
        server = nil
        group = nil
        broker = nil
    }
}

/// One client connection: requests are answered one at a time, in order,
/// as Kafka clients expect; a bad frame closes only this connection.
final class ConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = IOData
    let handler: RequestHandler
    let context: ComponentContext
    let maxFrameBytes: Int
    private var pending: [ByteBuffer] = []
    private var busy = false

    init(handler: RequestHandler, context: ComponentContext, maxFrameBytes: Int) {
        self.handler = handler
        self.context = context
        self.maxFrameBytes = maxFrameBytes
    }

    func channelRead(context ctx: ChannelHandlerContext, data: NIOAny) {
        pending.append(unwrapInboundIn(data))
        next(ctx)
    }

    private func next(_ ctx: ChannelHandlerContext) {
        guard !busy, !pending.isEmpty else { return }
        busy = true
        let frame = pending.removeFirst()
        handler.handle(frame, on: ctx.eventLoop).whenComplete { [self] result in
            busy = false
            switch result {
            case .success(let out?):
                for part in out.parts.dropLast() { ctx.write(wrapOutboundOut(part), promise: nil) }
                if let last = out.parts.last {
                    let written = ctx.eventLoop.makePromise(of: Void.self)
                    if !out.files.isEmpty { written.futureResult.whenComplete { _ in out.release() } }
                    ctx.writeAndFlush(wrapOutboundOut(last), promise: written)
                }
                next(ctx)
            case .success(nil):
                next(ctx)
            case .failure(let error):
                close(ctx, "\(error)")
            }
        }
    }

    func errorCaught(context ctx: ChannelHandlerContext, error: Error) {
        // The shared frame decoder knows nothing of server.properties: name the key here.
        if let e = error as? IOError, e.errnoCode == ECONNRESET || e.errnoCode == EPIPE {
            // A client that went away: normal, not worth a warning.
            pending.removeAll()
            ctx.close(promise: nil)
        } else if let e = error as? KafkaDecodeError, case .invalidLength(let n) = e.problem {
            close(ctx, "request frame of \(n) bytes is negative or exceeds socket.request.max.bytes (\(maxFrameBytes))")
        } else {
            close(ctx, "\(error)")
        }
    }

    private func close(_ ctx: ChannelHandlerContext, _ why: String) {
        pending.removeAll()
        context.log(.warn, "closing connection from \(ctx.remoteAddress.map { "\($0)" } ?? "a client"): \(why)")
        ctx.close(promise: nil)
    }
}

@_cdecl("sluice_plugin_entry")
public func sluicePluginEntry() -> UnsafeRawPointer {
    Plugin.export(name: "kafka-broker", version: "0.1.0", components: [
        .service(KafkaBrokerService.self, type: "kafka", aliases: ["kafka-broker"],
                 description: "A Kafka broker speaking the Kafka wire protocol", keys: BrokerConfig.keys),
    ])
}
