import NIOCore
import NIOPosix
import SluiceSDK
import ZooKeeperProtocol
#if canImport(Glibc)
import Glibc
#endif

/// A ZooKeeper-compatible coordination service inside the agent:
/// `a1.services.zk.type = zookeeper`.
final class ZooKeeperService: Service {
    let context: ComponentContext
    let config: ZooConfig
    private var server: Server?
    private var group: MultiThreadedEventLoopGroup?
    private var channel: Channel?
    private var tasks: [RepeatedTask] = []

    init(context: ComponentContext, properties: Properties) throws {
        self.context = context
        config = try ZooConfig(properties)
    }

    func start() throws {
        let s = Server(config: config, context: context, secret: try Self.secret(config.dataDir))
        try s.recover()
        let ctx = context
        s.log = TxnLog(dir: config.dataLogDir, forceSync: config.forceSync,
                       onDurable: { [weak s] z in s?.logDurable(z) },
                       onError: { [weak s] why in
                           ctx.log(.error, why)
                           s?.locked { s?.logFailed = true }
                       })
        try s.log.start()
        let g = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let maxBuffer = config.juteMaxBuffer
        let bootstrap = ServerBootstrap(group: g)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(ByteToMessageHandler(ZooKeeperFrameDecoder(maxBuffer: maxBuffer, words: Server.knownWords)))
                    try ch.pipeline.syncOperations.addHandler(ConnectionHandler(server: s))
                }
            }
        do {
            channel = try bootstrap.bind(host: config.clientPortAddress, port: config.clientPort).wait()
        } catch {
            try? g.syncShutdownGracefully()
            s.log.stop()
            throw SluiceError.io("cannot listen on \(config.clientPortAddress):\(config.clientPort) (clientPort): \(error)")
        }
        server = s
        group = g
        let loop = g.next()
        s.locked { s.snapshotLoop = loop }
        let tick = Int64(config.tickTime)
        tasks.append(loop.scheduleRepeatedTask(initialDelay: .milliseconds(tick), delay: .milliseconds(max(1, tick / 2))) { _ in
            s.expireSessions()
        })
        let reap = Int64(config.containerCheckIntervalMs)
        tasks.append(loop.scheduleRepeatedTask(initialDelay: .milliseconds(reap), delay: .milliseconds(reap)) { _ in s.reapContainers() })
        if config.purgeIntervalHours > 0 {
            let h = Int64(config.purgeIntervalHours)
            // As ZooKeeper's DatadirCleanupManager: once at start, then every interval.
            tasks.append(loop.scheduleRepeatedTask(initialDelay: .zero, delay: .hours(h)) { _ in s.purge() })
        }
        let port = channel?.localAddress?.port ?? config.clientPort
        context.log(.info, "listening on \(config.clientPortAddress == "0.0.0.0" ? "127.0.0.1" : config.clientPortAddress):\(port) (ZooKeeper protocol), data in \(config.dataDir)")
    }

    /// Stops accepting, lets the log write and acknowledge what it holds
    /// (the event loops still deliver those answers), then closes the loops.
    func stop() throws {
        for t in tasks { t.cancel() }
        tasks = []
        try? channel?.close().wait()
        server?.log.stop()
        try? group?.syncShutdownGracefully()
        channel = nil
        group = nil
        server = nil
    }

    /// The secret that session passwords derive from, kept in dataDir so
    /// sessions survive a restart.
    static func secret(_ dir: String) throws -> UInt64 {
        guard mkdirs(dir) else { throw SluiceError.io("cannot create dataDir \(dir): \(String(cString: strerror(errno)))") }
        let path = dir + "/session-secret"
        if let text = try? readFile(path), let v = UInt64(firstWord(text)) { return v }
        let v = UInt64.random(in: 1 ... .max)
        try writeSmallFile(path, "\(v)\n")
        return v
    }
}

@_cdecl("sluice_plugin_entry")
public func sluicePluginEntry() -> UnsafeRawPointer {
    Plugin.export(name: "zookeeper", version: "0.1.0", components: [
        .service(ZooKeeperService.self, type: "zookeeper", aliases: ["zk"],
                 description: "A coordination service speaking ZooKeeper's client protocol", keys: ZooConfig.keys),
    ])
}
