import ZooKeeperProtocol

/// One znode. A class so the path map holds references and updates do not copy.
final class ZNode {
    var data: [UInt8]
    var acl: Int32           // key into AclCache
    var czxid: Int64
    var mzxid: Int64
    var ctime: Int64
    var mtime: Int64
    var version: Int32 = 0
    var cversion: Int32 = 0
    var aversion: Int32 = 0
    var ephemeralOwner: Int64
    var pzxid: Int64
    var children: Set<String> = []

    init(data: [UInt8], acl: Int32, zxid: Int64, time: Int64, ephemeralOwner: Int64) {
        self.data = data
        self.acl = acl
        czxid = zxid
        mzxid = zxid
        ctime = time
        mtime = time
        self.ephemeralOwner = ephemeralOwner
        pzxid = zxid
    }

    var stat: Stat {
        Stat(czxid: czxid, mzxid: mzxid, ctime: ctime, mtime: mtime, version: version, cversion: cversion,
             aversion: aversion, ephemeralOwner: ephemeralOwner, dataLength: Int32(data.count),
             numChildren: Int32(children.count), pzxid: pzxid)
    }
}

/// How ephemeralOwner marks the node kinds that are not owned by a session
/// (ZooKeeper's EphemeralType): containers and TTL nodes.
enum NodeKind {
    static let containerOwner = Int64.min
    static let ttlMask: Int64 = Int64(bitPattern: 0xFF00_0000_0000_0000)
    static let maxTTL: Int64 = 0x00FF_FFFF_FFFF_FFFF

    static func ttlOwner(_ ttl: Int64) -> Int64 { ttlMask | ttl }
    static func isTTL(_ owner: Int64) -> Bool { owner != containerOwner && owner & ttlMask == ttlMask }
    static func ttl(_ owner: Int64) -> Int64 { owner & maxTTL }
    /// A session-owned ephemeral (not a container, not TTL, not 0).
    static func isEphemeral(_ owner: Int64) -> Bool { owner != 0 && owner != containerOwner && !isTTL(owner) }
}

/// The znode tree: a map from full path to node (ZooKeeper's DataTree shape),
/// the ephemerals of every session and the containers and TTL nodes to reap.
/// Not thread-safe: the server calls it under its lock.
final class DataTree {
    private(set) var nodes: [String: ZNode] = [:]
    private(set) var ephemerals: [Int64: Set<String>] = [:]
    private(set) var reapable: Set<String> = []
    let acls = AclCache()
    var approximateDataSize = 0

    init() {
        nodes["/"] = ZNode(data: [], acl: acls.intern(AclCache.openACL), zxid: 0, time: 0, ephemeralOwner: 0)
        let zk = ZNode(data: [], acl: acls.intern(AclCache.openACL), zxid: 0, time: 0, ephemeralOwner: 0)
        nodes["/zookeeper"] = zk
        nodes["/"]!.children.insert("zookeeper")
        let quota = ZNode(data: [], acl: acls.intern(AclCache.openACL), zxid: 0, time: 0, ephemeralOwner: 0)
        nodes["/zookeeper/quota"] = quota
        zk.children.insert("quota")
        // Where an ensemble keeps its dynamic configuration; read-only, as in ZooKeeper.
        let readOnly = [ACL(perms: Perms.read, id: Id(scheme: "world", id: "anyone"))]
        nodes["/zookeeper/config"] = ZNode(data: [], acl: acls.intern(readOnly), zxid: 0, time: 0, ephemeralOwner: 0)
        zk.children.insert("config")
    }

    var nodeCount: Int { nodes.count }

    func node(_ path: String) -> ZNode? { nodes[path] }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    static func name(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// Adds a node; the caller has checked that the parent exists and the path does not.
    func insert(path: String, data: [UInt8], acl: Int32, ephemeralOwner: Int64, parentCVersion: Int32, zxid: Int64, time: Int64) {
        guard let parent = nodes[Self.parent(of: path)], nodes[path] == nil else { return }
        let n = ZNode(data: data, acl: acl, zxid: zxid, time: time, ephemeralOwner: ephemeralOwner)
        nodes[path] = n
        parent.children.insert(Self.name(of: path))
        parent.cversion = parentCVersion
        parent.pzxid = zxid
        approximateDataSize += path.utf8.count + data.count
        if NodeKind.isEphemeral(ephemeralOwner) {
            ephemerals[ephemeralOwner, default: []].insert(path)
        } else if ephemeralOwner != 0 {
            reapable.insert(path)
        }
    }

    /// Removes a leaf node.
    func remove(path: String, zxid: Int64) {
        guard path != "/", let n = nodes.removeValue(forKey: path) else { return }
        approximateDataSize -= path.utf8.count + n.data.count
        if let parent = nodes[Self.parent(of: path)] {
            parent.children.remove(Self.name(of: path))
            parent.cversion &+= 1
            parent.pzxid = zxid
        }
        if NodeKind.isEphemeral(n.ephemeralOwner) {
            ephemerals[n.ephemeralOwner]?.remove(path)
            if ephemerals[n.ephemeralOwner]?.isEmpty == true { ephemerals.removeValue(forKey: n.ephemeralOwner) }
        }
        reapable.remove(path)
    }

    func setData(path: String, data: [UInt8], version: Int32, zxid: Int64, time: Int64) {
        guard let n = nodes[path] else { return }
        approximateDataSize += data.count - n.data.count
        n.data = data
        n.version = version
        n.mzxid = zxid
        n.mtime = time
    }

    func setACL(path: String, acl: Int32, version: Int32) {
        guard let n = nodes[path] else { return }
        n.acl = acl
        n.aversion = version
    }

    /// Number of nodes below `path` (not counting it).
    func descendantCount(_ path: String) -> Int {
        guard let n = nodes[path] else { return 0 }
        var total = 0
        let prefix = path == "/" ? "/" : path + "/"
        for c in n.children {
            total += 1 + descendantCount(prefix + c)
        }
        return total
    }

    /// Rebuilds a node from a snapshot.
    func restore(path: String, node: ZNode) {
        nodes[path] = node
        if NodeKind.isEphemeral(node.ephemeralOwner) {
            ephemerals[node.ephemeralOwner, default: []].insert(path)
        } else if node.ephemeralOwner != 0 {
            reapable.insert(path)
        }
        approximateDataSize += path.utf8.count + node.data.count
    }

    /// After restoring every node: rebuild the children sets.
    func linkChildren() {
        for path in nodes.keys where path != "/" {
            nodes[Self.parent(of: path)]?.children.insert(Self.name(of: path))
        }
    }

    func removeAllForRestore() {
        nodes.removeAll()
        ephemerals.removeAll()
        reapable.removeAll()
        approximateDataSize = 0
    }
}
