import ZooKeeperProtocol

extension Server {
    /// Applies a logged txn to the tree and session table: the same code runs
    /// live and during recovery, so replay gives the state clients saw.
    /// `events` collects the watch events (path, type) in the order they fire.
    func apply(_ txn: LoggedTxn, events: inout [(String, Int32)]) {
        applyBody(txn.body, header: txn.header, events: &events)
    }

    private func applyBody(_ body: TxnBody, header h: TxnHeader, events: inout [(String, Int32)]) {
        switch body {
        case .create(let t):
            create(t.path, t.data, t.acl, owner: t.ephemeral ? h.clientId : 0, parentCVersion: t.parentCVersion, h, &events)
        case .createTTL(let t):
            create(t.path, t.data, t.acl, owner: NodeKind.ttlOwner(t.ttl), parentCVersion: t.parentCVersion, h, &events)
        case .createContainer(let t):
            create(t.path, t.data, t.acl, owner: NodeKind.containerOwner, parentCVersion: t.parentCVersion, h, &events)
        case .delete(let t):
            delete(t.path, h.zxid, &events)
        case .setData(let t):
            guard tree.node(t.path) != nil else { return }
            tree.setData(path: t.path, data: t.data, version: t.version, zxid: h.zxid, time: h.time)
            events.append((t.path, EventType.nodeDataChanged))
        case .setACL(let t):
            tree.setACL(path: t.path, acl: tree.acls.intern(t.acl), version: t.version)
        case .check, .error:
            break
        case .createSession(let t):
            sessions.add(h.clientId, timeout: t.timeOut)
        case .closeSession:
            for path in (tree.ephemerals[h.clientId] ?? []).sorted(by: >) { delete(path, h.zxid, &events) }
            sessions.remove(h.clientId)
        case .multi(let parts):
            for p in parts { applyBody(p, header: h, events: &events) }
        }
    }

    private func create(_ path: String, _ data: [UInt8], _ acl: [ACL], owner: Int64, parentCVersion: Int32,
                        _ h: TxnHeader, _ events: inout [(String, Int32)]) {
        let parent = DataTree.parent(of: path)
        guard let p = tree.node(parent) else { return }
        if tree.node(path) != nil {
            // Replayed over a fuzzy snapshot that saved the child but not the parent's update.
            if p.pzxid < h.zxid { p.cversion = parentCVersion; p.pzxid = h.zxid }
            return
        }
        tree.insert(path: path, data: data, acl: tree.acls.intern(acl), ephemeralOwner: owner,
                    parentCVersion: parentCVersion, zxid: h.zxid, time: h.time)
        events.append((path, EventType.nodeCreated))
        events.append((parent, EventType.nodeChildrenChanged))
    }

    private func delete(_ path: String, _ zxid: Int64, _ events: inout [(String, Int32)]) {
        guard tree.node(path) != nil else {
            // Replayed over a fuzzy snapshot that saved the parent before this delete.
            if let p = tree.node(DataTree.parent(of: path)), p.pzxid < zxid { p.cversion &+= 1; p.pzxid = zxid }
            return
        }
        tree.remove(path: path, zxid: zxid)
        events.append((path, EventType.nodeDeleted))
        events.append((DataTree.parent(of: path), EventType.nodeChildrenChanged))
    }
}
