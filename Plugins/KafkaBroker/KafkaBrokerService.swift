import NIOCore
import NIOPosix
import SluiceSDK

/// A Kafka broker inside the agent: `a1.services.k1.type = kafka`.
final class KafkaBrokerService: Service {
    let context: ComponentContext
    let config: BrokerConfig
    private var group: MultiThreadedEventLoopGroup?
    private var server: Channel?

    init(context: ComponentContext, properties: Properties) throws {
        self.context = context
        config = try BrokerConfig(properties)
    }

    func start() throws {
        let g = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let maxFrame = config.maxRequestBytes
        let ctx = context
        let bootstrap = ServerBootstrap(group: g)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { ch in
                ch.pipeline.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder(maxFrameBytes: maxFrame)))
                    try ch.pipeline.syncOperations.addHandler(ConnectionHandler(context: ctx))
                }
            }
        do {
            server = try bootstrap.bind(host: config.listenHost, port: config.listenPort).wait()
        } catch {
            try? g.syncShutdownGracefully()
            throw SluiceError.io("cannot listen on \(config.listenHost):\(config.listenPort): \(error)")
        }
        group = g
        let port = server?.localAddress?.port ?? config.listenPort
        context.log(.info, "Kafka broker \(config.brokerID) listening on \(config.listenHost):\(port)")
    }

    func stop() throws {
        try? server?.close().wait()
        try? group?.syncShutdownGracefully()
        server = nil
        group = nil
    }
}

/// One client connection: frames in, responses out, in request order.
final class ConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let context: ComponentContext

    init(context: ComponentContext) { self.context = context }

    func channelRead(context ctx: ChannelHandlerContext, data: NIOAny) {
        _ = unwrapInboundIn(data)
        context.log(.warn, "closing \(ctx.remoteAddress.map { "\($0)" } ?? "a client"): no API is implemented yet")
        ctx.close(promise: nil)
    }

    func errorCaught(context ctx: ChannelHandlerContext, error: Error) {
        context.log(.warn, "closing \(ctx.remoteAddress.map { "\($0)" } ?? "a client"): \(error)")
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
