import CSluiceCRC
import NIOCore
import SluiceSDK
import ZooKeeperProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Snapshots: `snapshot.<zxid, 20 digits>` in dataDir holding the session
/// table, every node and the ACL lists, with a CRC-32C of all of it at the end.
///
/// Fuzzy, as ZooKeeper's: the paths are listed at `zxid`, then the nodes are
/// serialised a chunk at a time between requests, so what is saved mixes
/// states from `zxid` onwards. Replaying the log from `zxid + 1` over it gives
/// exactly the tree: txns carry absolute versions and the parent's cversion,
/// and apply skips a create or delete already reflected (see Server+Apply).
enum Snapshot {
    static let magic: UInt32 = 0x535A_4B53  // "SZKS"
    static let version: UInt32 = 2

    static let prefix = "snapshot."

    /// Serialises one snapshot incrementally. Not thread-safe: each call
    /// runs under the server lock.
    final class Writer {
        let zxid: Int64
        private var paths: [String]
        private var next = 0
        private var count = 0
        private let countIndex: Int
        private(set) var buffer = ByteBuffer()

        init(tree: DataTree, sessions: [(Int64, Int32)], zxid: Int64) {
            self.zxid = zxid
            paths = Array(tree.nodes.keys)
            buffer.reserveCapacity(tree.approximateDataSize + tree.nodeCount * 96 + 64)
            buffer.writeInteger(magic, endianness: .big)
            buffer.writeInteger(version, endianness: .big)
            buffer.juteWriteLong(zxid)
            buffer.juteWriteInt(Int32(sessions.count))
            for (id, timeout) in sessions { buffer.juteWriteLong(id); buffer.juteWriteInt(timeout) }
            countIndex = buffer.writerIndex
            buffer.juteWriteInt(0)  // node count, patched by finish()
        }

        var done: Bool { next >= paths.count }

        /// Serialises up to `limit` more nodes in their current state.
        func step(_ tree: DataTree, limit: Int) {
            let end = min(paths.count, next + limit)
            for i in next..<end {
                guard let n = tree.node(paths[i]) else { continue }
                buffer.juteWriteString(paths[i])
                buffer.juteWriteBuffer(n.data)
                buffer.juteWriteInt(n.acl)
                StatPersisted(czxid: n.czxid, mzxid: n.mzxid, ctime: n.ctime, mtime: n.mtime, version: n.version,
                              cversion: n.cversion, aversion: n.aversion, ephemeralOwner: n.ephemeralOwner,
                              pzxid: n.pzxid).write(to: &buffer)
                count += 1
            }
            next = end
        }

        /// The ACL lists (they only grow, so taking them last covers every
        /// id a saved node refers to) and the CRC.
        func finish(_ tree: DataTree) -> ByteBuffer {
            paths = []
            buffer.setInteger(Int32(count), at: countIndex, endianness: .big)
            let lists = tree.acls.lists
            buffer.juteWriteInt(Int32(lists.count))
            for l in lists {
                buffer.juteWriteInt(Int32(l.count))
                for a in l { a.write(to: &buffer) }
            }
            let crc = buffer.withUnsafeReadableBytes { sluice_crc32c(0, $0.baseAddress, $0.count) }
            buffer.writeInteger(crc, endianness: .big)
            return buffer
        }
    }

    /// Writes to a temporary name, fsyncs, renames: a crash leaves the old
    /// snapshots and never a half one under the final name.
    static func write(_ buffer: ByteBuffer, zxid: Int64, dir: String) throws {
        let path = dir + "/" + zxidFileName(prefix, zxid)
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SluiceError.io("cannot create \(tmp): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try buffer.withUnsafeReadableBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 { if errno == EINTR { continue }; throw SluiceError.io("write \(tmp): \(String(cString: strerror(errno)))") }
                off += n
            }
        }
        guard fsync(fd) == 0 else { throw SluiceError.io("fsync \(tmp): \(String(cString: strerror(errno)))") }
        guard rename(tmp, path) == 0 else { throw SluiceError.io("rename \(tmp): \(String(cString: strerror(errno)))") }
        try syncDirectory(dir)
    }

    static func files(in dir: String) -> [(zxid: Int64, path: String)] { zxidFiles(in: dir, prefix: prefix) }

    /// Loads a snapshot into `tree`; returns its zxid and sessions, or nil when the file is damaged.
    static func load(_ path: String, into tree: DataTree) throws -> (zxid: Int64, sessions: [(Int64, Int32)])? {
        let bytes = try readFile(path)
        guard bytes.count >= 12 else { return nil }
        var b = ByteBuffer(bytes: bytes)
        let stored = b.getInteger(at: bytes.count - 4, endianness: .big, as: UInt32.self)!
        let crc = bytes.withUnsafeBytes { sluice_crc32c(0, $0.baseAddress, $0.count - 4) }
        guard crc == stored else { return nil }
        b.moveWriterIndex(to: bytes.count - 4)
        guard b.readInteger(endianness: .big, as: UInt32.self) == magic,
              b.readInteger(endianness: .big, as: UInt32.self) == version else { return nil }
        let zxid = try b.juteReadLong("snapshot.zxid")
        let sessions = try b.juteReadVector("snapshot.sessions", minimumElementSize: 12) { b in
            (try b.juteReadLong("session.id"), try b.juteReadInt("session.timeout"))
        }
        tree.removeAllForRestore()
        let count = try b.juteReadInt("snapshot.nodes")
        for _ in 0..<max(0, count) {
            let path = try b.juteReadString("node.path")
            let data = try b.juteReadBuffer("node.data")
            let acl = try b.juteReadInt("node.acl")
            let s = try StatPersisted(from: &b)
            let n = ZNode(data: data, acl: acl, zxid: s.czxid, time: s.ctime, ephemeralOwner: s.ephemeralOwner)
            n.mzxid = s.mzxid
            n.mtime = s.mtime
            n.version = s.version
            n.cversion = s.cversion
            n.aversion = s.aversion
            n.pzxid = s.pzxid
            tree.restore(path: path, node: n)
        }
        let lists = try b.juteReadVector("snapshot.acls", minimumElementSize: 4) { b in
            try b.juteReadVector("acl", minimumElementSize: 1) { b in try ACL(from: &b) }
        }
        tree.acls.restore(lists)
        tree.linkChildren()
        return (zxid, sessions)
    }
}
