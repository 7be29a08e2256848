// Kafka's uuid type: 16 bytes on the wire, most significant half first.

/// A 128-bit identifier (topic ids, directory ids). `zero` is Kafka's "no id".
public struct KafkaUUID: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public static let zero = KafkaUUID(high: 0, low: 0)

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// From exactly 16 bytes, most significant first; nil for any other count.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        var h: UInt64 = 0
        var l: UInt64 = 0
        for i in 0..<8 { h = h << 8 | UInt64(bytes[i]) }
        for i in 8..<16 { l = l << 8 | UInt64(bytes[i]) }
        self.init(high: h, low: l)
    }

    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64($0))) }
    }

    /// A random version-4 (IETF variant) UUID, as Kafka uses for topic ids.
    public static func random() -> KafkaUUID {
        var rng = SystemRandomNumberGenerator()
        return random(using: &rng)
    }

    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> KafkaUUID {
        let rawHigh: UInt64 = generator.next()
        let rawLow: UInt64 = generator.next()
        let h = (rawHigh & ~0xF000) | 0x4000  // version 4
        let l = (rawLow & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // IETF variant
        return KafkaUUID(high: h, low: l)
    }

    /// URL-safe base64 without padding (22 characters), the form Kafka prints and accepts.
    public var description: String { base64URL }

    public var base64URL: String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        let b = bytes + [0, 0]  // pad to a multiple of 3 (18 bytes)
        var out: [UInt8] = []
        out.reserveCapacity(24)
        var i = 0
        while i < 18 {
            let n = UInt32(b[i]) << 16 | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2])
            for shift in [18, 12, 6, 0] { out.append(alphabet[Int((n >> UInt32(shift)) & 63)]) }
            i += 3
        }
        return String(decoding: out.prefix(22), as: UTF8.self)
    }

    /// Parses the 22-character URL-safe base64 form.
    public init?(base64URL text: String) {
        let chars = Array(text.utf8)
        guard chars.count == 22 else { return nil }
        var value: [UInt8] = []
        var acc: UInt32 = 0
        var bits = 0
        for c in chars {
            let v: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = UInt32(c - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt32(c - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "-"): v = 62
            case UInt8(ascii: "_"): v = 63
            default: return nil
            }
            acc = acc << 6 | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                value.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        self.init(bytes: Array(value.prefix(16)))
    }
}
