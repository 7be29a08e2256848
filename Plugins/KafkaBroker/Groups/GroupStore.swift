import KafkaLog
import NIOCore
import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// One committed offset of a group.
struct CommittedOffset {
    var offset: Int64
    var leaderEpoch: Int32
    var metadata: String?
    var commitTimestamp: Int64
}

struct GroupTP: Hashable, Comparable {
    var topic: String
    var partition: Int32
    static func < (a: GroupTP, b: GroupTP) -> Bool { (a.topic, a.partition) < (b.topic, b.partition) }
}

/// One durable change of the group state.
enum GroupRecord {
    case offset(group: String, tp: GroupTP, CommittedOffset)
    case deleteOffset(group: String, tp: GroupTP)
    case group(group: String, protocolType: String?, generation: Int32, protocolName: String?)
    case deleteGroup(group: String)
}

/// The append-only file of group records (`__sluice_offsets.log` in the
/// first log dir). Each record is `[u32 length][u32 crc32c][payload]`; a torn
/// or corrupt tail is cut off at replay. Rewritten from a snapshot when it
/// grows past `compactBytes`.
final class GroupStore {
    let path: String
    let compactBytes: Int
    private var fd: Int32
    private(set) var size: Int = 0

    init(dir: String, compactBytes: Int = 64 << 20) throws {
        path = dir + "/__sluice_offsets.log"
        self.compactBytes = compactBytes
        fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SluiceError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
    }

    func close() {
        if fd >= 0 { _ = Glibc.close(fd); fd = -1 }
    }

    /// Reads every intact record; truncates a bad tail.
    func replay() throws -> (records: [GroupRecord], truncated: Int) {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var off: off_t = 0
        while true {
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off) }
            if n < 0 { throw SluiceError.io("cannot read \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            off += off_t(n)
        }
        var out: [GroupRecord] = []
        var pos = 0
        while pos + 8 <= bytes.count {
            let len = Int(UInt32(bytes[pos]) << 24 | UInt32(bytes[pos + 1]) << 16 | UInt32(bytes[pos + 2]) << 8 | UInt32(bytes[pos + 3]))
            let crc = UInt32(bytes[pos + 4]) << 24 | UInt32(bytes[pos + 5]) << 16 | UInt32(bytes[pos + 6]) << 8 | UInt32(bytes[pos + 7])
            guard len > 0, pos + 8 + len <= bytes.count else { break }
            let payload = Array(bytes[(pos + 8)..<(pos + 8 + len)])
            guard CRC32C.checksum(payload) == crc, let rec = Self.decode(payload) else { break }
            out.append(rec)
            pos += 8 + len
        }
        let cut = bytes.count - pos
        if cut > 0 {
            guard ftruncate(fd, off_t(pos)) == 0 else { throw SluiceError.io("cannot truncate \(path): \(String(cString: strerror(errno)))") }
            _ = fsync(fd)
        }
        size = pos
        return (out, cut)
    }

    /// Appends records and (when `sync`) fsyncs before returning.
    func append(_ records: [GroupRecord], sync: Bool) throws {
        guard !records.isEmpty else { return }
        let data = records.flatMap(Self.frame)
        try writeAll(fd, data)
        if sync, fsync(fd) != 0 { throw SluiceError.io("cannot fsync \(path): \(String(cString: strerror(errno)))") }
        size += data.count
    }

    /// Replaces the file with `records` (a snapshot of the current state).
    func rewrite(_ records: [GroupRecord]) throws {
        let tmp = path + ".tmp"
        let t = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard t >= 0 else { throw SluiceError.io("cannot open \(tmp): \(String(cString: strerror(errno)))") }
        let data = records.flatMap(Self.frame)
        do { try writeAll(t, data) } catch { _ = Glibc.close(t); throw error }
        _ = fsync(t)
        _ = Glibc.close(t)
        guard rename(tmp, path) == 0 else { throw SluiceError.io("cannot rename \(tmp): \(String(cString: strerror(errno)))") }
        let dir = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        let d = open(dir.isEmpty ? "." : dir, O_RDONLY)
        if d >= 0 { _ = fsync(d); _ = Glibc.close(d) }
        close()
        fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SluiceError.io("cannot reopen \(path): \(String(cString: strerror(errno)))") }
        size = data.count
    }

    private func writeAll(_ f: Int32, _ data: [UInt8]) throws {
        var done = 0
        while done < data.count {
            let n = data.withUnsafeBytes { write(f, $0.baseAddress! + done, data.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SluiceError.io("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }

    // MARK: Encoding

    static func frame(_ r: GroupRecord) -> [UInt8] {
        var b = ByteBufferAllocator().buffer(capacity: 64)
        func str(_ s: String?) {
            guard let s else { b.writeInteger(Int32(-1)); return }
            b.writeInteger(Int32(s.utf8.count))
            b.writeString(s)
        }
        switch r {
        case let .offset(g, tp, o):
            b.writeInteger(UInt8(1)); str(g); str(tp.topic); b.writeInteger(tp.partition)
            b.writeInteger(o.offset); b.writeInteger(o.leaderEpoch); str(o.metadata); b.writeInteger(o.commitTimestamp)
        case let .deleteOffset(g, tp):
            b.writeInteger(UInt8(2)); str(g); str(tp.topic); b.writeInteger(tp.partition)
        case let .group(g, pt, gen, pn):
            b.writeInteger(UInt8(3)); str(g); str(pt); b.writeInteger(gen); str(pn)
        case let .deleteGroup(g):
            b.writeInteger(UInt8(4)); str(g)
        }
        let payload = Array(b.readableBytesView)
        let crc = CRC32C.checksum(payload)
        let len = UInt32(payload.count)
        return [UInt8(len >> 24), UInt8(len >> 16 & 0xff), UInt8(len >> 8 & 0xff), UInt8(len & 0xff),
                UInt8(crc >> 24), UInt8(crc >> 16 & 0xff), UInt8(crc >> 8 & 0xff), UInt8(crc & 0xff)] + payload
    }

    static func decode(_ payload: [UInt8]) -> GroupRecord? {
        var b = ByteBufferAllocator().buffer(capacity: payload.count)
        b.writeBytes(payload)
        func str() -> String?? {
            guard let n: Int32 = b.readInteger() else { return .none }
            if n < 0 { return .some(nil) }
            guard let s = b.readString(length: Int(n)) else { return .none }
            return .some(s)
        }
        guard let type: UInt8 = b.readInteger() else { return nil }
        switch type {
        case 1:
            guard let g = str(), let g, let t = str(), let t, let p: Int32 = b.readInteger(),
                  let off: Int64 = b.readInteger(), let ep: Int32 = b.readInteger(), let md = str(),
                  let ts: Int64 = b.readInteger() else { return nil }
            return .offset(group: g, tp: GroupTP(topic: t, partition: p), CommittedOffset(offset: off, leaderEpoch: ep, metadata: md, commitTimestamp: ts))
        case 2:
            guard let g = str(), let g, let t = str(), let t, let p: Int32 = b.readInteger() else { return nil }
            return .deleteOffset(group: g, tp: GroupTP(topic: t, partition: p))
        case 3:
            guard let g = str(), let g, let pt = str(), let gen: Int32 = b.readInteger(), let pn = str() else { return nil }
            return .group(group: g, protocolType: pt, generation: gen, protocolName: pn)
        case 4:
            guard let g = str(), let g else { return nil }
            return .deleteGroup(group: g)
        default:
            return nil
        }
    }
}
