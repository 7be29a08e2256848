import CSluiceCRC
import SluiceABI

/// The file channel's write-ahead log format. A record is one committed
/// transaction, written with one write() and made durable with one
/// fdatasync() before the commit returns, so a record on disk with a valid
/// checksum is a committed transaction and nothing else is:
///
///     u8  type ('P' put, 'T' take)   u8 version (1)   u16 reserved (0)
///     u32 payload length
///     u64 sequence number (increasing across the channel's life)
///     u32 CRC-32C of the 16 bytes above and the payload
///     payload
///
/// Put payload: u32 count, then per event: u32 length (of what follows),
/// u32 header count, per header u32 key length, u32 value length, key,
/// value; then u32 body length, body.
/// Take payload: u32 count, then per event its (u32 file id, u32 offset).
/// All integers little-endian. Not thread-safe: callers serialize.
enum LogRecord {
    static let headerSize = 20
    static let put: UInt8 = 0x50
    static let take: UInt8 = 0x54
    static let version: UInt8 = 1

    static func crc(_ p: UnsafeRawPointer, _ n: Int, _ start: UInt32 = 0) -> UInt32 {
        sluice_crc32c(start, p, n)
    }
}

/// Where an event lives: its data file, the offset of its length field, and
/// its encoded size. The queue of a file channel is a queue of these; log
/// order equals queue order.
struct EventRef: Hashable {
    var file: UInt32
    var offset: UInt32
    var length: UInt32

    var key: UInt64 { UInt64(file) << 32 | UInt64(offset) }
}

/// A growable byte buffer reused across records: no per-event allocation.
struct RecordBuffer {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    var count = 0

    init(capacity: Int = 1 << 16) {
        self.capacity = capacity
        base = .allocate(byteCount: capacity, alignment: 8)
    }

    func free() { base.deallocate() }

    mutating func reserve(_ n: Int) {
        guard count + n > capacity else { return }
        var c = capacity
        while c < count + n { c *= 2 }
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: c, alignment: 8)
        fresh.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = fresh
        capacity = c
    }

    @inline(__always) mutating func u32(_ v: UInt32) {
        reserve(4)
        (base + count).storeBytes(of: v.littleEndian, as: UInt32.self)
        count += 4
    }

    @inline(__always) mutating func bytes(_ p: UnsafeRawPointer?, _ n: Int) {
        guard n > 0, let p else { return }
        reserve(n)
        (base + count).copyMemory(from: p, byteCount: n)
        count += n
    }

    /// Starts a record: reserves its header, to be filled by `finish`.
    mutating func begin() {
        count = 0
        reserve(LogRecord.headerSize)
        count = LogRecord.headerSize
    }

    /// Fills the header of the record begun with `begin`.
    mutating func finish(type: UInt8, seq: UInt64) {
        let payload = count - LogRecord.headerSize
        base.storeBytes(of: type, toByteOffset: 0, as: UInt8.self)
        base.storeBytes(of: LogRecord.version, toByteOffset: 1, as: UInt8.self)
        base.storeBytes(of: UInt16(0), toByteOffset: 2, as: UInt16.self)
        base.storeBytes(of: UInt32(payload).littleEndian, toByteOffset: 4, as: UInt32.self)
        base.storeBytes(of: seq.littleEndian, toByteOffset: 8, as: UInt64.self)
        let c = LogRecord.crc(base + LogRecord.headerSize, payload, LogRecord.crc(base, 16))
        base.storeBytes(of: c.littleEndian, toByteOffset: 16, as: UInt32.self)
    }

    /// Encodes one event; returns its offset within the record and its length.
    mutating func event(_ e: sluice_event) -> (offset: Int, length: Int) {
        let start = count
        u32(0) // length, patched below
        u32(e.header_count)
        for i in 0..<Int(e.header_count) {
            let h = e.headers![i]
            u32(UInt32(h.key.len))
            u32(UInt32(h.value.len))
            bytes(h.key.ptr, h.key.len)
            bytes(h.value.ptr, h.value.len)
        }
        u32(UInt32(e.body.len))
        bytes(e.body.ptr, e.body.len)
        (base + start).storeBytes(of: UInt32(count - start - 4).littleEndian, as: UInt32.self)
        return (start, count - start)
    }
}

@inline(__always)
func loadU32(_ p: UnsafeRawPointer, _ at: Int) -> UInt32 {
    UInt32(littleEndian: p.loadUnaligned(fromByteOffset: at, as: UInt32.self))
}

@inline(__always)
func loadU64(_ p: UnsafeRawPointer, _ at: Int) -> UInt64 {
    UInt64(littleEndian: p.loadUnaligned(fromByteOffset: at, as: UInt64.self))
}

/// Decodes the event at `p` (its length field first, `n` bytes in all)
/// into `out`. The event points into `p`, which must live in `arena` (or
/// outlive the event); only the header array is allocated there. Returns
/// false when the encoding is inconsistent.
func decodeEvent(_ p: UnsafeRawPointer, _ n: Int, into out: inout sluice_event, arena: Arena) -> Bool {
    guard n >= 12, Int(loadU32(p, 0)) == n - 4 else { return false }
    var at = 4
    let hc = Int(loadU32(p, at)); at += 4
    guard hc <= (n - at) / 8 else { return false }
    var e = sluice_event()
    if hc > 0 {
        guard let mem = arena.allocate(hc * MemoryLayout<sluice_header>.stride) else { return false }
        let hs = mem.bindMemory(to: sluice_header.self, capacity: hc)
        for i in 0..<hc {
            guard at + 8 <= n else { return false }
            let kl = Int(loadU32(p, at)), vl = Int(loadU32(p, at + 4))
            at += 8
            guard kl <= n - at, vl <= n - at - kl else { return false }
            hs[i] = sluice_header(key: sluice_bytes(ptr: bytePointer(p + at), len: kl),
                                  value: sluice_bytes(ptr: bytePointer(p + at + kl), len: vl))
            at += kl + vl
        }
        e.headers = UnsafePointer(hs)
        e.header_count = UInt32(hc)
    }
    guard at + 4 <= n else { return false }
    let bl = Int(loadU32(p, at)); at += 4
    guard bl == n - at else { return false }
    e.body = sluice_bytes(ptr: bytePointer(p + at), len: bl)
    out = e
    return true
}

@inline(__always)
private func bytePointer(_ p: UnsafeRawPointer) -> UnsafePointer<UInt8> {
    p.assumingMemoryBound(to: UInt8.self)
}
