import NIOConcurrencyHelpers
import NIOCore
import SluiceSDK
import ZooKeeperProtocol
#if canImport(Glibc)
import Glibc
#endif

/// The coordination service's state and its one lock: the data tree, the
/// session table, the watches, the transaction log and the output gate.
///
/// Requests are handled on the connections' event loops, one at a time under
/// `lock`, in the order ZooKeeper's request pipeline gives: a write is checked
/// (prep), numbered, appended to the log and applied to the tree at once.
/// Nothing a client could learn from it — the write's own answer, a watch
/// event, a later read of the new data — leaves the server before the log has
/// fsynced that zxid: every outgoing frame carries the zxid it depends on and
/// waits in the gate until the log is durable up to there.
final class Server: @unchecked Sendable {
    let config: ZooConfig
    let context: ComponentContext
    let tree = DataTree()
    let watches = WatchManager()
    var sessions: SessionTable
    var log: TxnLog!
    private let lock = NIOLock()

    // Guarded by the lock:
    var lastZxid: Int64 = 0
    var durableZxid: Int64 = 0
    var connections: [Int: ClientConnection] = [:]
    var perIP: [String: Int] = [:]
    private var nextConnectionID = 1
    private var gate: [(conn: ClientConnection, frame: ByteBuffer?, close: Bool, zxid: Int64, started: UInt64)] = []
    private var gateHead = 0
    var txnsSinceSnapshot = 0
    /// Between snapCount/2 and snapCount, drawn again after each snapshot (as
    /// ZooKeeper does, so the servers of an ensemble do not snapshot together).
    var snapshotThreshold = 1
    var snapshotInProgress = false
    /// Where fuzzy snapshot chunks run (set at start).
    var snapshotLoop: EventLoop?
    var stats = ServerStats()
    var logFailed = false

    init(config: ZooConfig, context: ComponentContext, secret: UInt64) {
        self.config = config
        self.context = context
        sessions = SessionTable(tickTime: config.tickTime, secret: secret)
    }

    @inline(__always)
    func locked<R>(_ body: () throws -> R) rethrows -> R {
        try lock.withLock(body)
    }

    // MARK: Output gate

    /// Sends `frame` to `conn` once the log is durable up to `zxid`. Under the
    /// lock. `started` (monotonic ns, 0 for events) is when the request it
    /// answers arrived: the latency mntr and srvr report ends when it leaves.
    func send(_ conn: ClientConnection, _ frame: ByteBuffer?, after zxid: Int64, close: Bool = false, started: UInt64 = 0) {
        stats.packetsSent += 1
        conn.stats.sent += 1
        if zxid <= durableZxid && gateHead == gate.count {
            conn.enqueue(frame, close: close)
            if started != 0 { recordAnswer(conn, started: started) }
        } else {
            gate.append((conn, frame, close, zxid, started))
        }
    }

    /// The log thread: everything up to `zxid` is on disk.
    func logDurable(_ zxid: Int64) {
        locked {
            durableZxid = zxid
            while gateHead < gate.count, gate[gateHead].zxid <= zxid {
                let g = gate[gateHead]
                g.conn.enqueue(g.frame, close: g.close)
                if g.started != 0 { recordAnswer(g.conn, started: g.started) }
                gateHead += 1
            }
            if gateHead == gate.count || gateHead > 4096 {
                gate.removeFirst(gateHead)
                gateHead = 0
            }
        }
    }

    var outstanding: Int { gate.count - gateHead }

    // MARK: Connections

    /// A new TCP connection; nil when maxClientCnxns from its address is reached.
    func open(channel: Channel, remoteIP: String, remotePort: Int) -> ClientConnection? {
        locked {
            if config.maxClientCnxns > 0, perIP[remoteIP, default: 0] >= config.maxClientCnxns { return nil }
            perIP[remoteIP, default: 0] += 1
            let c = ClientConnection(id: nextConnectionID, channel: channel, remoteIP: remoteIP, remotePort: remotePort)
            nextConnectionID += 1
            connections[c.id] = c
            return c
        }
    }

    func closed(_ conn: ClientConnection) {
        locked {
            guard !conn.closed else { return }
            conn.closed = true
            connections.removeValue(forKey: conn.id)
            perIP[conn.remoteIP, default: 1] -= 1
            if perIP[conn.remoteIP] == 0 { perIP.removeValue(forKey: conn.remoteIP) }
            watches.removeWatcher(conn.id)
            if conn.sessionID != 0, sessions.sessions[conn.sessionID]?.connection == conn.id {
                sessions.setConnection(conn.sessionID, nil)
            }
        }
    }

    // MARK: Session establishment

    func connect(_ conn: ClientConnection, _ req: ConnectRequest, hasReadOnly: Bool) {
        locked {
            stats.packetsReceived += 1
            conn.stats.received += 1
            func respond(_ r: ConnectResponse, after zxid: Int64, close: Bool = false) {
                var b = ByteBuffer()
                b.writeInteger(Int32(0))
                b.juteWriteInt(r.protocolVersion)
                b.juteWriteInt(r.timeOut)
                b.juteWriteLong(r.sessionId)
                b.juteWriteBuffer(r.passwd)
                if hasReadOnly { b.juteWriteBool(r.readOnly) }
                b.setInteger(Int32(b.readableBytes - 4), at: 0)
                send(conn, b, after: zxid, close: close)
            }
            if req.lastZxidSeen > lastZxid {
                context.log(.warn, "refusing session from \(conn.remoteIP): client has seen zxid 0x\(String(req.lastZxidSeen, radix: 16)), this server is at 0x\(String(lastZxid, radix: 16))")
                conn.enqueue(nil, close: true)
                return
            }
            let timeout = Int32(min(max(Int(req.timeOut), config.minSessionTimeout), config.maxSessionTimeout))
            if req.sessionId == 0 {
                let id = sessions.newID()
                guard let zxid = commit(.createSession(CreateSessionTxn(timeOut: timeout)), session: id, cxid: 0) else {
                    conn.enqueue(nil, close: true)
                    return
                }
                conn.sessionID = id
                conn.connected = true
                sessions.setConnection(id, conn.id)
                respond(ConnectResponse(protocolVersion: 0, timeOut: timeout, sessionId: id, passwd: sessions.password(id)), after: zxid)
                return
            }
            guard let s = sessions.sessions[req.sessionId], !s.closing, req.passwd == sessions.password(req.sessionId) else {
                // Expired or never known: timeOut 0 tells the client its session is gone.
                respond(ConnectResponse(protocolVersion: 0, timeOut: 0, sessionId: 0, passwd: [UInt8](repeating: 0, count: 16)),
                        after: lastZxid, close: true)
                return
            }
            if let old = s.connection, old != conn.id, let oldConn = connections[old] {
                oldConn.sessionID = 0
                oldConn.enqueue(nil, close: true)
            }
            sessions.touch(s.id)
            conn.sessionID = s.id
            conn.connected = true
            sessions.setConnection(s.id, conn.id)
            respond(ConnectResponse(protocolVersion: 0, timeOut: s.timeout, sessionId: s.id, passwd: sessions.password(s.id)),
                    after: lastZxid)
        }
    }

    // MARK: Log and apply

    /// Numbers a txn, logs it and applies it to the tree, firing watches
    /// (gated on its zxid). Returns the zxid; nil when the log has failed.
    @discardableResult
    func commit(_ body: TxnBody, session: Int64, cxid: Int32, time: Int64 = nowMillis()) -> Int64? {
        guard !logFailed else { return nil }
        lastZxid += 1
        let txn = LoggedTxn(header: TxnHeader(clientId: session, cxid: cxid, zxid: lastZxid, time: time, type: body.type), body: body)
        log.append(txn)
        var events: [(String, Int32)] = []
        apply(txn, events: &events)
        for (path, type) in events {
            let targets = watches.trigger(path, type)
            if targets.isEmpty { continue }
            let frame = notificationFrame(type: type, path: path)
            for w in targets {
                if let c = connections[w] { send(c, frame, after: lastZxid) }
            }
        }
        txnsSinceSnapshot += 1
        if txnsSinceSnapshot >= snapshotThreshold { takeSnapshot() }
        return lastZxid
    }
}
