import SluiceSDK

/// A header name converted to bytes once, looked up in events without
/// making a String. Lives as long as the sink.
final class HeaderKey {
    let name: String
    private let bytes: UnsafeMutableBufferPointer<UInt8>

    init(_ name: String) {
        self.name = name
        bytes = .allocate(capacity: max(name.utf8.count, 1))
        _ = bytes.initialize(from: name.utf8)
    }

    deinit { bytes.deallocate() }

    /// The name's bytes (borrowed for the life of this object).
    var raw: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: bytes.baseAddress, count: name.utf8.count) }

    /// The event's value for this header, borrowed from the batch.
    @inline(__always)
    func value(in event: Event) -> UnsafeRawBufferPointer? {
        event.headerBytes(UnsafeBufferPointer(start: bytes.baseAddress, count: name.utf8.count))
    }
}

/// A growable byte buffer reused for every event (Avro values, rendered
/// topic names). Not thread-safe: the sink's runner thread owns it.
final class ScratchBuffer {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 1024) {
        self.capacity = capacity
        base = .allocate(byteCount: capacity, alignment: 8)
    }

    deinit { base.deallocate() }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    @inline(__always) func removeAll() { count = 0 }

    @inline(__always) func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        var c = capacity * 2
        while c < count + extra { c *= 2 }
        let p = UnsafeMutableRawPointer.allocate(byteCount: c, alignment: 8)
        p.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = p
        capacity = c
    }

    @inline(__always) func append(_ b: UnsafeRawBufferPointer) {
        guard let src = b.baseAddress, b.count > 0 else { return }
        reserve(b.count)
        (base + count).copyMemory(from: src, byteCount: b.count)
        count += b.count
    }

    /// Avro's `long`: zigzag, then 7 bits per byte, low groups first.
    @inline(__always) func appendAvroLong(_ v: Int64) {
        reserve(10)
        var z = UInt64(bitPattern: (v << 1) ^ (v >> 63))
        while z >= 0x80 {
            base.storeBytes(of: UInt8(truncatingIfNeeded: z) | 0x80, toByteOffset: count, as: UInt8.self)
            count += 1
            z >>= 7
        }
        base.storeBytes(of: UInt8(z), toByteOffset: count, as: UInt8.self)
        count += 1
    }
}
