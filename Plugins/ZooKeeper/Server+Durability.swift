import NIOCore
import SluiceSDK
import ZooKeeperProtocol
#if canImport(Glibc)
import Glibc
#endif

extension Server {
    /// Loads the newest intact snapshot, replays the log after it, then starts
    /// a new epoch so zxids keep growing across restarts. Before serving.
    func recover() throws {
        for dir in [config.dataDir, config.dataLogDir] {
            guard mkdirs(dir) else { throw SluiceError.io("cannot create \(dir): \(String(cString: strerror(errno)))") }
        }
        var snapZxid: Int64 = 0
        for (z, path) in Snapshot.files(in: config.dataDir).reversed() {
            if let s = try Snapshot.load(path, into: tree) {
                snapZxid = z
                for (id, timeout) in s.sessions { sessions.add(id, timeout: timeout) }
                break
            }
            context.log(.warn, "snapshot \(path) is damaged; trying an older one")
        }
        lastZxid = snapZxid
        var replayed = 0
        var events: [(String, Int32)] = []
        let logs = TxnLogReader.files(in: config.dataLogDir)
        // Start from the last file that begins at or before the snapshot's next zxid.
        let first = logs.lastIndex { $0.zxid <= snapZxid + 1 } ?? 0
        for (i, (_, path)) in logs.enumerated().dropFirst(first) {
            let (txns, cut) = try TxnLogReader.read(path, isLast: i == logs.count - 1)
            if let cut { context.log(.warn, "transaction log \(path): torn tail cut at byte \(cut)") }
            for t in txns where t.zxid > lastZxid {
                apply(t, events: &events)
                events.removeAll(keepingCapacity: true)
                lastZxid = t.zxid
                replayed += 1
            }
        }
        let epochFile = config.dataDir + "/currentEpoch"
        let stored = Int64(firstWord((try? readFile(epochFile)) ?? [])) ?? 0
        let epoch = max(stored, lastZxid >> 32) + 1
        try writeSmallFile(epochFile, "\(epoch)\n")
        context.log(.info, "recovered \(tree.nodeCount) znodes, \(sessions.count) sessions: snapshot 0x\(String(snapZxid, radix: 16)) + \(replayed) txns; epoch \(epoch)")
        lastZxid = epoch << 32
        durableZxid = lastZxid
        txnsSinceSnapshot = replayed
        snapshotThreshold = config.snapCount / 2 + Int.random(in: 0...(config.snapCount / 2))
    }

    /// Starts a fuzzy snapshot at the current zxid: the log rolls now, the
    /// nodes are serialised 2,000 at a time on `snapshotLoop` between
    /// requests, the file is written on its own thread. Under the lock.
    func takeSnapshot() {
        guard !snapshotInProgress else { return }
        snapshotInProgress = true
        txnsSinceSnapshot = 0
        snapshotThreshold = config.snapCount / 2 + Int.random(in: 0...(config.snapCount / 2))
        let writer = Snapshot.Writer(tree: tree, sessions: sessions.sessions.values.map { ($0.id, $0.timeout) }, zxid: lastZxid)
        log.roll()
        let started = monotonicNanos()
        guard let loop = snapshotLoop else {
            writer.step(tree, limit: Int.max)
            writeSnapshot(writer.finish(tree), zxid: writer.zxid, started: started)
            return
        }
        func chunk() {
            loop.execute { [self] in
                let finished: ByteBuffer? = locked {
                    writer.step(tree, limit: 2000)
                    return writer.done ? writer.finish(tree) : nil
                }
                if let finished { writeSnapshot(finished, zxid: writer.zxid, started: started) } else { chunk() }
            }
        }
        chunk()
    }

    private func writeSnapshot(_ snap: ByteBuffer, zxid: Int64, started: UInt64) {
        let dir = config.dataDir
        let ctx = context
        do {
            let t = try PluginThread { [self] in
                do {
                    try Snapshot.write(snap, zxid: zxid, dir: dir)
                    let ms = (monotonicNanos() - started) / 1_000_000
                    ctx.log(.info, "snapshot 0x\(String(zxid, radix: 16)): \(snap.readableBytes) bytes in \(ms) ms")
                } catch {
                    ctx.log(.error, "snapshot: \(error)")
                }
                locked { snapshotInProgress = false }
            }
            t.detach()
        } catch {
            locked { snapshotInProgress = false }
            ctx.log(.error, "snapshot thread: \(error)")
        }
    }

    /// Every tick: expire sessions whose time ran out (their ephemerals go, watches fire).
    func expireSessions() {
        locked {
            for id in sessions.expired() {
                context.log(.info, "session 0x\(String(id, radix: 16)) expired")
                let conn = sessions.sessions[id]?.connection.flatMap { connections[$0] }
                let z = commit(.closeSession(CloseSessionTxn(paths2Delete: [])), session: id, cxid: 0) ?? lastZxid
                if let conn {
                    conn.sessionID = 0
                    send(conn, nil, after: z, close: true)
                }
            }
        }
    }

    /// Deletes empty containers that once had children and TTL nodes idle past their TTL.
    func reapContainers() {
        locked {
            let now = nowMillis()
            for path in tree.reapable.sorted(by: >) {
                guard let n = tree.node(path), n.children.isEmpty else { continue }
                let due = n.ephemeralOwner == NodeKind.containerOwner ? n.cversion > 0
                    : now - n.mtime > NodeKind.ttl(n.ephemeralOwner)
                if due { commit(.delete(DeleteTxn(path: path)), session: 0, cxid: 0) }
            }
        }
    }

    /// autopurge: keeps the newest snapRetainCount snapshots and the logs they need.
    func purge() {
        let snaps = Snapshot.files(in: config.dataDir)
        guard snaps.count > config.snapRetainCount else { return }
        let keepFrom = snaps[snaps.count - config.snapRetainCount].zxid
        for s in snaps where s.zxid < keepFrom { unlink(s.path) }
        let logs = TxnLogReader.files(in: config.dataLogDir)
        // The newest log starting at or before keepFrom may hold txns after it.
        let needed = logs.lastIndex { $0.zxid <= keepFrom } ?? 0
        for l in logs.prefix(needed) { unlink(l.path) }
        context.log(.info, "autopurge: kept \(config.snapRetainCount) snapshots from 0x\(String(keepFrom, radix: 16))")
    }
}

func mkdirs(_ path: String) -> Bool {
    var prefix = path.hasPrefix("/") ? "" : "."
    for part in path.split(separator: "/") {
        prefix += "/" + part
        if mkdir(prefix, 0o755) != 0 && errno != EEXIST { return false }
    }
    return true
}

/// `<prefix><zxid, 20 digits>`: names that sort in zxid order, as ZooKeeper's.
func zxidFileName(_ prefix: String, _ zxid: Int64) -> String {
    let digits = String(zxid)
    return prefix + String(repeating: "0", count: max(0, 20 - digits.count)) + digits
}

/// The files of `dir` named `<prefix><zxid>`, oldest first.
func zxidFiles(in dir: String, prefix: String) -> [(zxid: Int64, path: String)] {
    guard let d = opendir(dir) else { return [] }
    defer { closedir(d) }
    var out: [(Int64, String)] = []
    while let e = readdir(d) {
        let name = withUnsafeBytes(of: e.pointee.d_name) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
        if name.hasPrefix(prefix), let z = Int64(name.dropFirst(prefix.count)) { out.append((z, dir + "/" + name)) }
    }
    return out.sorted { $0.0 < $1.0 }
}

/// The first whitespace-separated word of a small text file's bytes.
func firstWord(_ bytes: [UInt8]) -> String {
    String(decoding: bytes.split(whereSeparator: { $0 == 0x20 || $0 == 0x0a || $0 == 0x09 || $0 == 0x0d }).first ?? [], as: UTF8.self)
}

func writeSmallFile(_ path: String, _ text: String) throws {
    let tmp = path + ".tmp"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw SluiceError.io("cannot write \(tmp): \(String(cString: strerror(errno)))") }
    _ = text.withCString { write(fd, $0, strlen($0)) }
    fsync(fd)
    close(fd)
    guard rename(tmp, path) == 0 else { throw SluiceError.io("cannot rename \(tmp): \(String(cString: strerror(errno)))") }
}
