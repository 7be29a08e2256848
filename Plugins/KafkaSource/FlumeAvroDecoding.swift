import NIOCore

/// Reads Flume's `AvroFlumeEvent { map<string> headers; bytes body; }` in
/// Avro's binary encoding (no container, no schema): what a Kafka sink or
/// channel with useFlumeEventFormat = true writes as the record value.
enum FlumeAvroDecoding {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func decode(_ value: ByteBuffer) throws -> (headers: [(String, String)], body: ByteBuffer) {
        var b = value
        var headers: [(String, String)] = []
        // The map comes in blocks: a count (negative: followed by the block's
        // byte size), that many key/value pairs, and a zero count at the end.
        while true {
            var count = try readLong(&b)
            if count == 0 { break }
            if count < 0 {
                count = -count
                _ = try readLong(&b)
            }
            guard count <= b.readableBytes else { throw Failure(description: "header count \(count) exceeds the record") }
            for _ in 0..<count {
                let k = try readString(&b)
                let v = try readString(&b)
                headers.append((k, v))
            }
        }
        let n = try readLong(&b)
        guard n >= 0, n <= b.readableBytes, let body = b.readSlice(length: Int(n)) else {
            throw Failure(description: "body length \(n) does not fit the record")
        }
        return (headers, body)
    }

    /// Avro long: zig-zag varint.
    private static func readLong(_ b: inout ByteBuffer) throws -> Int64 {
        var shift: UInt64 = 0
        var raw: UInt64 = 0
        while true {
            guard let byte: UInt8 = b.readInteger() else { throw Failure(description: "truncated varint") }
            raw |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
            guard shift < 64 else { throw Failure(description: "varint longer than 10 bytes") }
        }
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    private static func readString(_ b: inout ByteBuffer) throws -> String {
        let n = try readLong(&b)
        guard n >= 0, n <= b.readableBytes, let s = b.readString(length: Int(n)) else {
            throw Failure(description: "string length \(n) does not fit the record")
        }
        return s
    }
}
