import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// Flume's netcat source: every newline-terminated line a TCP client sends
/// becomes an event; with ack-every-event the client gets "OK" once the event
/// is committed (or "FAILED: ..." when it was not).
final class NetcatSource: EventDrivenSource {
    let context: ComponentContext
    let bind: String
    let port: Int
    let maxLineLength: Int
    let ackEveryEvent: Bool
    private var listenFD: Int32 = -1
    private var acceptThread: Thread?
    private let state = Locked(State())

    struct State {
        var connections: [Int32: Thread] = [:]
        var stopping = false
    }

    init(context: ComponentContext, properties: Properties) throws {
        self.context = context
        bind = try properties.requiredString("bind")
        port = try properties.int("port", default: -1)
        guard (0...65535).contains(port) else { throw SluiceError.config("port must be 0...65535 (got \(properties["port"] ?? "nothing"))") }
        maxLineLength = try properties.int("max-line-length", default: 512)
        ackEveryEvent = try properties.bool("ack-every-event", default: true)
    }

    func start() throws {
        listenFD = try listenTCP(host: bind, port: port)
        context.log(.info, "listening on \(bind):\(boundPort(listenFD))")
        acceptThread = Thread { [self] in acceptLoop() }
    }

    func stop() throws {
        let conns = state.withLock { s -> [Int32: Thread] in
            s.stopping = true
            return s.connections
        }
        if listenFD >= 0 { shutdown(listenFD, Int32(SHUT_RDWR)) }
        for fd in conns.keys { shutdown(fd, Int32(SHUT_RDWR)) }
        acceptThread?.join()
        for t in conns.values { t.join() }
        if listenFD >= 0 { close(listenFD) }
        listenFD = -1
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                return
            }
            let ok = state.withLock { s -> Bool in
                if s.stopping { return false }
                s.connections[fd] = Thread { [self] in serve(fd) }
                return true
            }
            if !ok { close(fd) }
        }
    }

    private func serve(_ fd: Int32) {
        defer {
            close(fd)
            // Threads of finished connections are detached from the table; stop() joins the rest.
            _ = state.withLock { s in s.stopping ? nil : s.connections.removeValue(forKey: fd)?.detach() }
        }
        let batch = context.newBatch(capacity: 1)
        var line: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 8192)
        var discarding = false
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            for b in buf[0..<n] {
                if b == 0x0a {
                    if discarding {
                        discarding = false
                        line.removeAll(keepingCapacity: true)
                        continue
                    }
                    if line.last == 0x0d { line.removeLast() }
                    if !deliver(line, batch, fd) { return }
                    line.removeAll(keepingCapacity: true)
                } else if !discarding {
                    line.append(b)
                    if line.count > maxLineLength {
                        // Flume delivers the first max-line-length bytes and drops the rest of the line.
                        line.removeLast()
                        if !deliver(line, batch, fd) { return }
                        line.removeAll(keepingCapacity: true)
                        discarding = true
                    }
                }
            }
        }
    }

    /// Submits one line; returns false when the connection should close.
    private func deliver(_ line: [UInt8], _ batch: OwnedBatch, _ fd: Int32) -> Bool {
        var reply = "OK\n"
        do {
            try line.withUnsafeBytes { try batch.append(body: $0) }
            switch try context.submit(batch) {
            case .committed: break
            case .channelFull(let why):
                batch.clear()
                reply = "FAILED: \(why)\n"
            }
        } catch {
            batch.clear()
            context.log(.error, "\(error)")
            reply = "FAILED: \(error)\n"
        }
        if ackEveryEvent {
            var r = reply
            let written = r.withUTF8 { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 { return false }
        }
        return !context.isStopping
    }
}

@_cdecl("sluice_plugin_entry")
public func sluicePluginEntry() -> UnsafeRawPointer {
    Plugin.export(name: "netcat-source", version: "1.0.0", components: [
        .source(NetcatSource.self, type: "netcat", aliases: ["org.apache.flume.source.NetcatSource"],
                description: "One event per line received over TCP",
                keys: [
                    ConfigKey("bind", .string, required: true, "address to listen on"),
                    ConfigKey("port", .int, required: true, "TCP port (0: any free port)"),
                    ConfigKey("max-line-length", .int, default: "512", "longer lines are truncated"),
                    ConfigKey("ack-every-event", .bool, default: "true", "reply OK for every committed event"),
                ]),
    ])
}
