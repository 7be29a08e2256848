/// Big-endian integers and the variable-length integers of Hadoop
/// (`WritableUtils.writeVLong`) and Avro (zig-zag varints).
extension Array where Element == UInt8 {
    mutating func appendInt32(_ v: Int32) {
        let u = UInt32(bitPattern: v)
        append(contentsOf: [UInt8(u >> 24), UInt8(u >> 16 & 0xff), UInt8(u >> 8 & 0xff), UInt8(u & 0xff)])
    }

    mutating func appendInt64(_ v: Int64) {
        appendInt32(Int32(truncatingIfNeeded: v >> 32))
        appendInt32(Int32(truncatingIfNeeded: v))
    }

    /// Hadoop `WritableUtils.writeVLong` (also `writeVInt`).
    mutating func appendVLong(_ value: Int64) {
        if value >= -112 && value <= 127 {
            append(UInt8(bitPattern: Int8(value)))
            return
        }
        var v = value
        var len: Int = -112
        if v < 0 {
            v = ~v
            len = -120
        }
        var tmp = v
        while tmp != 0 {
            tmp >>= 8
            len -= 1
        }
        append(UInt8(bitPattern: Int8(len)))
        let n = len < -120 ? -(len + 120) : -(len + 112)
        for idx in stride(from: n, to: 0, by: -1) {
            append(UInt8((v >> Int64((idx - 1) * 8)) & 0xff))
        }
    }

    /// Hadoop `Text`: vlong length, then the bytes.
    mutating func appendHadoopText(_ bytes: [UInt8]) {
        appendVLong(Int64(bytes.count))
        append(contentsOf: bytes)
    }

    /// Avro `long`: zig-zag, then 7 bits per byte, low group first.
    mutating func appendAvroLong(_ value: Int64) {
        var n = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while n >= 0x80 {
            append(UInt8(n & 0x7f) | 0x80)
            n >>= 7
        }
        append(UInt8(n))
    }

    /// Avro `bytes` / `string`: long length, then the bytes.
    mutating func appendAvroBytes<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        appendAvroLong(Int64(bytes.count))
        append(contentsOf: bytes)
    }

    func int32(at: Int) -> Int? {
        guard at >= 0, at + 4 <= count else { return nil }
        return Int(Int32(bitPattern: UInt32(self[at]) << 24 | UInt32(self[at + 1]) << 16 | UInt32(self[at + 2]) << 8 | UInt32(self[at + 3])))
    }

    /// Hadoop vlong at `at`: (value, bytes used), or nil past the end.
    func vlong(at: Int) -> (Int, Int)? {
        guard at >= 0, at < count else { return nil }
        let first = Int8(bitPattern: self[at])
        if first >= -112 { return (Int(first), 1) }
        let negative = first < -120
        let n = negative ? -(Int(first) + 120) : -(Int(first) + 112)
        guard at + n < count else { return nil }
        var v = 0
        for i in 1...n { v = v << 8 | Int(self[at + i]) }
        return (negative ? ~v : v, n + 1)
    }

    /// Avro long at `at`: (value, bytes used), or nil past the end / too long.
    func avroLong(at: Int) -> (Int64, Int)? {
        var shift: UInt64 = 0, n: UInt64 = 0, i = at
        while i < count, shift < 64 {
            let byte = self[i]
            n |= UInt64(byte & 0x7f) << shift
            i += 1
            if byte & 0x80 == 0 {
                return (Int64(bitPattern: n >> 1) ^ -Int64(bitPattern: n & 1), i - at)
            }
            shift += 7
        }
        return nil
    }
}

/// Bytes `WritableUtils.writeVLong` uses for `value`.
func vintSize(_ value: Int64) -> Int {
    if value >= -112 && value <= 127 { return 1 }
    var v = value < 0 ? ~value : value
    var n = 1
    while v != 0 {
        v >>= 8
        n += 1
    }
    return n
}
