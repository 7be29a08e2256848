import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// Flume's netcat source: every newline-terminated line a TCP client sends
/// becomes an event; with ack-every-event the client gets "OK" once the event
/// is committed. A refused event always gets "FAILED: <reason>".
final class NetcatSource: EventDrivenSource {
    let context: ComponentContext
    let bind: String
    let port: Int
    let maxLineLength: Int
    let ackEveryEvent: Bool
    private var listenFD: Int32 = -1
    private var acceptThread: PluginThread?
    private let state = Locked(State())

    struct State {
        var connections: [Int32: PluginThread] = [:]
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
        acceptThread = try PluginThread { [self] in acceptLoop() }
    }

    func stop() throws {
        let conns = state.withLock { s -> [Int32: PluginThread] in
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
                guard let t = try? PluginThread({ [self] in serve(fd) }) else {
                    context.log(.error, "cannot serve a new connection: no thread")
                    return false
                }
                s.connections[fd] = t
                return true
            }
            if !ok { close(fd) }
        }
    }

    private func serve(_ fd: Int32) {
        defer {
            close(fd)
            // Threads of finished connections are detached from the table; stop() joins the rest.
            state.withLock { s in
                if !s.stopping { s.connections.removeValue(forKey: fd)?.detach() }
            }
        }
        let batch = context.newBatch(capacity: 1)
        var line: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            for b in buf[0..<n] {
                if b == 0x0a {
                    // As Flume: the body is the line without its "\n" ("\r" stays).
                    if !deliver(line, batch, fd) { return }
                    line.removeAll(keepingCapacity: true)
                } else {
                    line.append(b)
                    if line.count + 1 > maxLineLength {
                        // Flume's answer to an over-long line, then it hangs up.
                        reply("FAILED: Event exceeds the maximum length (\(maxLineLength) chars, including newline)\n", fd)
                        return
                    }
                }
            }
        }
    }

    /// Submits one line; returns false when the connection should close.
    private func deliver(_ line: [UInt8], _ batch: OwnedBatch, _ fd: Int32) -> Bool {
        do {
            try line.withUnsafeBytes { try batch.append(body: $0) }
            switch try context.submit(batch) {
            case .committed:
                if ackEveryEvent, !reply("OK\n", fd) { return false }
            case .channelFull(let why):
                batch.clear()
                if !reply("FAILED: \(why)\n", fd) { return false }
            }
        } catch {
            batch.clear()
            context.log(.error, "\(error)")
            if !reply("FAILED: \(error)\n", fd) { return false }
        }
        return !context.isStopping
    }

    @discardableResult
    private func reply(_ text: String, _ fd: Int32) -> Bool {
        var r = text
        return r.withUTF8 { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } >= 0
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
                    ConfigKey("max-line-length", .int, default: "512", "longest line accepted, newline included; a longer one gets FAILED and the connection closes"),
                    ConfigKey("ack-every-event", .bool, default: "true", "reply OK for every committed event"),
                ]),
    ])
}
