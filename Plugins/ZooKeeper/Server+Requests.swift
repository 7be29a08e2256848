import NIOCore
import ZooKeeperProtocol

extension Server {
    /// One request frame of a connected client. Throws (closing the
    /// connection) only for input that cannot be parsed.
    func process(_ conn: ClientConnection, _ frame: ByteBuffer) throws {
        var b = frame
        let h = try RequestHeader(from: &b)
        try locked {
            stats.packetsReceived += 1
            stats.currentRequest = monotonicNanos()
            defer { stats.currentRequest = 0 }
            conn.stats.received += 1
            conn.stats.lastOp = opAbbreviation(h.type)
            if h.xid > 0 { conn.stats.lastCxid = h.xid }
            defer { conn.stats.lastZxid = lastZxid }
            let sid = conn.sessionID
            guard sid != 0, sessions.touch(sid) else {
                send(conn, replyFrame(xid: h.xid, zxid: lastZxid, err: ErrorCode.sessionExpired), after: lastZxid, close: true)
                return
            }
            do {
                try dispatch(conn, h, &b, session: sid)
            } catch let e as ZKError {
                send(conn, replyFrame(xid: h.xid, zxid: lastZxid, err: e.code), after: lastZxid, started: stats.currentRequest)
            }
        }
    }

    private func reply<R: JuteRecord>(_ conn: ClientConnection, _ xid: Int32, _ r: R, zxid: Int64? = nil) {
        let z = zxid ?? lastZxid
        send(conn, replyFrame(xid: xid, zxid: z, r), after: z, started: stats.currentRequest)
    }

    private func replyEmpty(_ conn: ClientConnection, _ xid: Int32, zxid: Int64? = nil, close: Bool = false) {
        let z = zxid ?? lastZxid
        send(conn, replyFrame(xid: xid, zxid: z, err: 0), after: z, close: close, started: stats.currentRequest)
    }

    private func readable(_ path: String, _ conn: ClientConnection, perm: Int32 = Perms.read) throws -> ZNode {
        try validatePath(path)
        guard let n = tree.node(path) else { throw ZKError(ErrorCode.noNode) }
        guard AclCheck.permits(tree.acls.list(n.acl), perm, auth: conn.authIDs) else { throw ZKError(ErrorCode.noAuth) }
        return n
    }

    private func childNames(_ n: ZNode) -> [String] { Array(n.children) }

    private func dispatch(_ conn: ClientConnection, _ h: RequestHeader, _ b: inout ByteBuffer, session sid: Int64) throws {
        let xid = h.xid
        switch h.type {
        case OpCode.ping:
            replyEmpty(conn, xid)
        case OpCode.getData:
            let r = try GetDataRequest(from: &b)
            let n = try readable(r.path, conn)
            if r.watch { watches.addData(r.path, conn.id) }
            reply(conn, xid, GetDataResponse(data: n.data, stat: n.stat))
        case OpCode.exists:
            let r = try ExistsRequest(from: &b)
            try validatePath(r.path)
            if r.watch { watches.addData(r.path, conn.id) }
            guard let n = tree.node(r.path) else { throw ZKError(ErrorCode.noNode) }
            reply(conn, xid, ExistsResponse(stat: n.stat))
        case OpCode.getChildren:
            let r = try GetChildrenRequest(from: &b)
            let n = try readable(r.path, conn)
            if r.watch { watches.addChild(r.path, conn.id) }
            reply(conn, xid, GetChildrenResponse(children: childNames(n)))
        case OpCode.getChildren2:
            let r = try GetChildren2Request(from: &b)
            let n = try readable(r.path, conn)
            if r.watch { watches.addChild(r.path, conn.id) }
            reply(conn, xid, GetChildren2Response(children: childNames(n), stat: n.stat))
        case OpCode.getAllChildrenNumber:
            let r = try GetAllChildrenNumberRequest(from: &b)
            _ = try readable(r.path, conn)
            reply(conn, xid, GetAllChildrenNumberResponse(totalNumber: Int32(tree.descendantCount(r.path))))
        case OpCode.getEphemerals:
            let r = try GetEphemeralsRequest(from: &b)
            let mine = (tree.ephemerals[sid] ?? []).filter { r.prefixPath == "/" || $0.hasPrefix(r.prefixPath) }.sorted()
            reply(conn, xid, GetEphemeralsResponse(ephemerals: mine))
        case OpCode.getACL:
            let r = try GetACLRequest(from: &b)
            try validatePath(r.path)
            guard let n = tree.node(r.path) else { throw ZKError(ErrorCode.noNode) }
            let acl = tree.acls.list(n.acl)
            guard AclCheck.permits(acl, Perms.read | Perms.admin, auth: conn.authIDs) else { throw ZKError(ErrorCode.noAuth) }
            reply(conn, xid, GetACLResponse(acl: acl, stat: n.stat))
        case OpCode.sync:
            let r = try SyncRequest(from: &b)
            reply(conn, xid, SyncResponse(path: r.path))
        case OpCode.whoAmI:
            reply(conn, xid, WhoAmIResponse(clientInfo: conn.authIDs.map { ClientInfo(authScheme: $0.scheme, user: $0.id) }))
        case OpCode.create, OpCode.create2, OpCode.createContainer, OpCode.createTTL:
            var view = PrepView(tree: tree, session: sid, auth: conn.authIDs)
            let (txn, path): (TxnBody, String)
            if h.type == OpCode.createTTL {
                let r = try CreateTTLRequest(from: &b)
                (txn, path) = try view.create(path: r.path, data: r.data, acl: r.acl, flags: r.flags, ttl: r.ttl, op: h.type)
            } else {
                let r = try CreateRequest(from: &b)
                (txn, path) = try view.create(path: r.path, data: r.data, acl: r.acl, flags: r.flags, ttl: 0, op: h.type)
            }
            guard let z = commit(txn, session: sid, cxid: xid) else { throw ZKError(ErrorCode.systemError) }
            if h.type == OpCode.create {
                reply(conn, xid, CreateResponse(path: path), zxid: z)
            } else {
                reply(conn, xid, Create2Response(path: path, stat: tree.node(path)?.stat ?? Stat()), zxid: z)
            }
        case OpCode.delete:
            let r = try DeleteRequest(from: &b)
            var view = PrepView(tree: tree, session: sid, auth: conn.authIDs)
            let txn = try view.delete(path: r.path, version: r.version)
            guard let z = commit(txn, session: sid, cxid: xid) else { throw ZKError(ErrorCode.systemError) }
            replyEmpty(conn, xid, zxid: z)
        case OpCode.setData:
            let r = try SetDataRequest(from: &b)
            var view = PrepView(tree: tree, session: sid, auth: conn.authIDs)
            let txn = try view.setData(path: r.path, data: r.data, version: r.version)
            guard let z = commit(txn, session: sid, cxid: xid) else { throw ZKError(ErrorCode.systemError) }
            reply(conn, xid, SetDataResponse(stat: tree.node(r.path)?.stat ?? Stat()), zxid: z)
        case OpCode.setACL:
            let r = try SetACLRequest(from: &b)
            var view = PrepView(tree: tree, session: sid, auth: conn.authIDs)
            let txn = try view.setACL(path: r.path, acl: r.acl, version: r.version)
            guard let z = commit(txn, session: sid, cxid: xid) else { throw ZKError(ErrorCode.systemError) }
            reply(conn, xid, SetACLResponse(stat: tree.node(r.path)?.stat ?? Stat()), zxid: z)
        case OpCode.check:
            let r = try CheckVersionRequest(from: &b)
            let view = PrepView(tree: tree, session: sid, auth: conn.authIDs)
            _ = try view.check(path: r.path, version: r.version)
            replyEmpty(conn, xid)
        case OpCode.multi:
            try multi(conn, xid, try MultiRequest(from: &b), session: sid)
        case OpCode.multiRead:
            let m = try MultiRequest(from: &b)
            var results: [MultiResult] = []
            for op in m.ops {
                do {
                    switch op {
                    case .getData(let r):
                        let n = try readable(r.path, conn)
                        if r.watch { watches.addData(r.path, conn.id) }
                        results.append(.getData(GetDataResponse(data: n.data, stat: n.stat)))
                    case .getChildren(let r):
                        let n = try readable(r.path, conn)
                        if r.watch { watches.addChild(r.path, conn.id) }
                        results.append(.getChildren(GetChildrenResponse(children: childNames(n))))
                    default:
                        throw ZKError(ErrorCode.badArguments)
                    }
                } catch let e as ZKError {
                    results.append(.error(e.code))
                }
            }
            reply(conn, xid, MultiResponse(results: results))
        case OpCode.closeSession:
            sessions.markClosing(sid)
            let z = commit(.closeSession(CloseSessionTxn(paths2Delete: [])), session: sid, cxid: xid) ?? lastZxid
            conn.sessionID = 0
            replyEmpty(conn, xid, zxid: z, close: true)
        case OpCode.auth:
            let r = try AuthPacket(from: &b)
            if r.scheme == "digest", let id = AclCheck.digestID(String(decoding: r.auth, as: UTF8.self)) {
                let ident = Id(scheme: "digest", id: id)
                if !conn.authIDs.contains(ident) { conn.authIDs.append(ident) }
                replyEmpty(conn, xid)
            } else {
                context.log(.warn, "authentication failed for scheme '\(r.scheme)' from \(conn.remoteIP)")
                send(conn, replyFrame(xid: xid, zxid: lastZxid, err: ErrorCode.authFailed), after: lastZxid, close: true)
            }
        case OpCode.setWatches, OpCode.setWatches2:
            let w: SetWatches2
            if h.type == OpCode.setWatches2 {
                w = try SetWatches2(from: &b)
            } else {
                let v = try SetWatches(from: &b)
                w = SetWatches2(relativeZxid: v.relativeZxid, dataWatches: v.dataWatches, existWatches: v.existWatches,
                                childWatches: v.childWatches)
            }
            setWatches(conn, w)
            replyEmpty(conn, xid)
        case OpCode.addWatch:
            let r = try AddWatchRequest(from: &b)
            try validatePath(r.path)
            guard r.mode == AddWatchMode.persistent || r.mode == AddWatchMode.persistentRecursive else { throw ZKError(ErrorCode.badArguments) }
            watches.addPersistent(r.path, conn.id, recursive: r.mode == AddWatchMode.persistentRecursive)
            reply(conn, xid, ErrorResponse(err: 0))  // ZooKeeper answers addWatch with an ErrorResponse
        case OpCode.checkWatches:
            let r = try CheckWatchesRequest(from: &b)
            guard watches.has(r.path, r.type, conn.id) else { throw ZKError(ErrorCode.noWatcher) }
            replyEmpty(conn, xid)
        case OpCode.removeWatches:
            let r = try RemoveWatchesRequest(from: &b)
            guard watches.remove(r.path, r.type, conn.id) else { throw ZKError(ErrorCode.noWatcher) }
            replyEmpty(conn, xid)
        case OpCode.reconfig:
            throw ZKError(ErrorCode.reconfigDisabled)
        default:
            throw ZKError(ErrorCode.unimplemented)
        }
    }

    /// All ops or none: each op is checked against the effects of the ones before it.
    private func multi(_ conn: ClientConnection, _ xid: Int32, _ m: MultiRequest, session sid: Int64) throws {
        var view = PrepView(tree: tree, session: sid, auth: conn.authIDs)
        var txns: [TxnBody] = []
        var paths: [String] = []
        var failedAt: Int?
        var failure: Int32 = 0
        for (i, op) in m.ops.enumerated() {
            do {
                switch op {
                case .create(let r, let code):
                    let (t, p) = try view.create(path: r.path, data: r.data, acl: r.acl, flags: r.flags, ttl: 0, op: code)
                    txns.append(t); paths.append(p)
                case .createTTL(let r):
                    let (t, p) = try view.create(path: r.path, data: r.data, acl: r.acl, flags: r.flags, ttl: r.ttl, op: OpCode.createTTL)
                    txns.append(t); paths.append(p)
                case .delete(let r): txns.append(try view.delete(path: r.path, version: r.version)); paths.append(r.path)
                case .setData(let r): txns.append(try view.setData(path: r.path, data: r.data, version: r.version)); paths.append(r.path)
                case .check(let r): txns.append(try view.check(path: r.path, version: r.version)); paths.append(r.path)
                case .getData, .getChildren: throw ZKError(ErrorCode.badArguments)
                }
            } catch let e as ZKError {
                failedAt = i
                failure = e.code
                break
            }
        }
        if let failedAt {
            // ZooKeeper's answer: OK for the ops before the failed one, its
            // error, RUNTIMEINCONSISTENCY after; nothing is applied.
            let results: [MultiResult] = m.ops.indices.map { i in
                .error(i < failedAt ? ErrorCode.ok : i == failedAt ? failure : ErrorCode.runtimeInconsistency)
            }
            reply(conn, xid, MultiResponse(results: results))
            return
        }
        guard let z = commit(.multi(txns), session: sid, cxid: xid) else { throw ZKError(ErrorCode.systemError) }
        var results: [MultiResult] = []
        for (op, path) in zip(m.ops, paths) {
            switch op {
            case .create(_, let code) where code == OpCode.create: results.append(.create(CreateResponse(path: path)))
            case .create, .createTTL: results.append(.create2(Create2Response(path: path, stat: tree.node(path)?.stat ?? Stat())))
            case .delete: results.append(.delete)
            case .setData: results.append(.setData(SetDataResponse(stat: tree.node(path)?.stat ?? Stat())))
            default: results.append(.check)
            }
        }
        reply(conn, xid, MultiResponse(results: results), zxid: z)
    }

    /// Re-registers watches after a reconnect; what changed since the client's
    /// last zxid fires at once.
    private func setWatches(_ conn: ClientConnection, _ w: SetWatches2) {
        let rel = w.relativeZxid
        func fire(_ path: String, _ type: Int32) { send(conn, notificationFrame(type: type, path: path), after: lastZxid) }
        for p in w.dataWatches {
            if let n = tree.node(p) {
                if n.mzxid > rel { fire(p, EventType.nodeDataChanged) } else { watches.addData(p, conn.id) }
            } else { fire(p, EventType.nodeDeleted) }
        }
        for p in w.existWatches {
            if tree.node(p) != nil { fire(p, EventType.nodeCreated) } else { watches.addData(p, conn.id) }
        }
        for p in w.childWatches {
            if let n = tree.node(p) {
                if n.pzxid > rel { fire(p, EventType.nodeChildrenChanged) } else { watches.addChild(p, conn.id) }
            } else { fire(p, EventType.nodeDeleted) }
        }
        for p in w.persistentWatches { watches.addPersistent(p, conn.id, recursive: false) }
        for p in w.persistentRecursiveWatches { watches.addPersistent(p, conn.id, recursive: true) }
    }
}
