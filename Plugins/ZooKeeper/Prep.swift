import ZooKeeperProtocol

/// Checks write requests against the tree plus the changes of earlier ops in
/// the same multi (ZooKeeper's outstanding change records), and turns each into
/// the txn to log. Nothing here mutates the tree.
struct PrepView {
    struct Entry {
        var version: Int32
        var cversion: Int32
        var aversion: Int32
        var owner: Int64
        var children: Int
        var acl: [ACL]
    }

    let tree: DataTree
    let session: Int64
    let auth: [Id]
    private var overlay: [String: Entry?] = [:]

    init(tree: DataTree, session: Int64, auth: [Id]) {
        self.tree = tree
        self.session = session
        self.auth = auth
    }

    func get(_ path: String) -> Entry? {
        if let o = overlay[path] { return o }
        guard let n = tree.node(path) else { return nil }
        return Entry(version: n.version, cversion: n.cversion, aversion: n.aversion, owner: n.ephemeralOwner,
                     children: n.children.count, acl: tree.acls.list(n.acl))
    }

    func require(_ e: Entry, _ perm: Int32) throws {
        guard AclCheck.permits(e.acl, perm, auth: auth) else { throw ZKError(ErrorCode.noAuth) }
    }

    /// create / create2 / createContainer / createTTL: the txn and the final path.
    mutating func create(path: String, data: [UInt8], acl: [ACL], flags: Int32, ttl: Int64, op: Int32) throws -> (TxnBody, String) {
        let sequential = flags == CreateFlags.persistentSequential || flags == CreateFlags.ephemeralSequential
            || flags == CreateFlags.persistentSequentialWithTTL
        let ephemeral = flags == CreateFlags.ephemeral || flags == CreateFlags.ephemeralSequential
        let isTTL = flags == CreateFlags.persistentWithTTL || flags == CreateFlags.persistentSequentialWithTTL
        guard (0...6).contains(flags) else { throw ZKError(ErrorCode.badArguments) }
        if op == OpCode.createContainer, flags != CreateFlags.container { throw ZKError(ErrorCode.badArguments) }
        if op == OpCode.createTTL { guard isTTL, ttl > 0, ttl <= NodeKind.maxTTL else { throw ZKError(ErrorCode.badArguments) } }
        else if isTTL { throw ZKError(ErrorCode.badArguments) }
        try validatePath(path, sequential: sequential)
        let parentPath = DataTree.parent(of: path)
        guard var parent = get(parentPath) else { throw ZKError(ErrorCode.noNode) }
        try require(parent, Perms.create)
        guard let fixed = AclCheck.fixup(acl, auth: auth) else { throw ZKError(ErrorCode.invalidACL) }
        var final = path
        if sequential {
            let n = String(parent.cversion)
            final += String(repeating: "0", count: max(0, 10 - n.count)) + n
        }
        if path == "/" || get(final) != nil { throw ZKError(ErrorCode.nodeExists) }
        if NodeKind.isEphemeral(parent.owner) { throw ZKError(ErrorCode.noChildrenForEphemerals) }
        let newCVersion = parent.cversion &+ 1
        parent.cversion = newCVersion
        parent.children += 1
        overlay[parentPath] = parent
        let owner: Int64 = ephemeral ? session : flags == CreateFlags.container ? NodeKind.containerOwner : isTTL ? NodeKind.ttlOwner(ttl) : 0
        overlay[final] = Entry(version: 0, cversion: 0, aversion: 0, owner: owner, children: 0, acl: fixed)
        if flags == CreateFlags.container {
            return (.createContainer(CreateContainerTxn(path: final, data: data, acl: fixed, parentCVersion: newCVersion)), final)
        }
        if isTTL {
            return (.createTTL(CreateTTLTxn(path: final, data: data, acl: fixed, parentCVersion: newCVersion, ttl: ttl)), final)
        }
        return (.create(CreateTxn(path: final, data: data, acl: fixed, ephemeral: ephemeral, parentCVersion: newCVersion)), final)
    }

    mutating func delete(path: String, version: Int32) throws -> TxnBody {
        try validatePath(path)
        guard path != "/" else { throw ZKError(ErrorCode.badArguments) }
        let parentPath = DataTree.parent(of: path)
        guard let node = get(path), var parent = get(parentPath) else { throw ZKError(ErrorCode.noNode) }
        try require(parent, Perms.delete)
        if version != -1, node.version != version { throw ZKError(ErrorCode.badVersion) }
        if node.children > 0 { throw ZKError(ErrorCode.notEmpty) }
        parent.children -= 1
        parent.cversion &+= 1
        overlay[parentPath] = parent
        overlay[path] = .some(nil)
        return .delete(DeleteTxn(path: path))
    }

    mutating func setData(path: String, data: [UInt8], version: Int32) throws -> TxnBody {
        try validatePath(path)
        guard var node = get(path) else { throw ZKError(ErrorCode.noNode) }
        try require(node, Perms.write)
        if version != -1, node.version != version { throw ZKError(ErrorCode.badVersion) }
        node.version &+= 1
        overlay[path] = node
        return .setData(SetDataTxn(path: path, data: data, version: node.version))
    }

    mutating func setACL(path: String, acl: [ACL], version: Int32) throws -> TxnBody {
        try validatePath(path)
        guard var node = get(path) else { throw ZKError(ErrorCode.noNode) }
        try require(node, Perms.admin)
        guard let fixed = AclCheck.fixup(acl, auth: auth) else { throw ZKError(ErrorCode.invalidACL) }
        if version != -1, node.aversion != version { throw ZKError(ErrorCode.badVersion) }
        node.aversion &+= 1
        node.acl = fixed
        overlay[path] = node
        return .setACL(SetACLTxn(path: path, acl: fixed, version: node.aversion))
    }

    func check(path: String, version: Int32) throws -> TxnBody {
        try validatePath(path)
        guard let node = get(path) else { throw ZKError(ErrorCode.noNode) }
        try require(node, Perms.read)
        if version != -1, node.version != version { throw ZKError(ErrorCode.badVersion) }
        return .check(CheckVersionTxn(path: path, version: version))
    }
}
