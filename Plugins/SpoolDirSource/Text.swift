import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// The character sets the source reads and writes. Event bodies are built
/// from UTF-8 text: input is decoded (validated) to UTF-8, then encoded to
/// the output charset. UTF-8 → UTF-8 of valid text copies nothing.
enum TextCharset: Equatable {
    case utf8, latin1, ascii

    var name: String {
        switch self {
        case .utf8: return "UTF-8"
        case .latin1: return "ISO-8859-1"
        case .ascii: return "US-ASCII"
        }
    }

    /// Java's canonical names and common aliases, case-insensitively.
    static func parse(_ value: String, key: String) throws -> TextCharset {
        let folded = String(value.trimmingSpaces.uppercased().filter { $0 != "-" && $0 != "_" })
        switch folded {
        case "UTF8": return .utf8
        case "ISO88591", "LATIN1", "L1", "ISOLATIN1", "88591", "CP819", "IBM819", "ISOIR100", "CSISOLATIN1": return .latin1
        case "USASCII", "ASCII", "ISO646US", "US", "ASCII7", "646", "CP367", "IBM367", "DEFAULT", "ISOIR6": return .ascii
        default:
            throw SluiceError.config("property '\(key)': charset '\(value)' is not supported (UTF-8, ISO-8859-1 or US-ASCII)")
        }
    }
}

enum DecodeErrorPolicy: Equatable {
    case fail, replace, ignore

    static func parse(_ value: String, key: String) throws -> DecodeErrorPolicy {
        switch value.trimmingSpaces.uppercased() {
        case "FAIL": return .fail
        case "REPLACE": return .replace
        case "IGNORE": return .ignore
        default: throw SluiceError.config("property '\(key)': '\(value)' is not FAIL, REPLACE or IGNORE")
        }
    }
}

/// A growable byte buffer for converted line bodies; reused, never shrunk.
final class ByteBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    @inline(__always) func reset() { count = 0 }

    @inline(__always) func reserve(_ extra: Int) {
        let need = count + extra
        if need <= capacity { return }
        var cap = capacity
        while cap < need { cap *= 2 }
        let fresh = UnsafeMutablePointer<UInt8>.allocate(capacity: cap)
        fresh.update(from: base, count: count)
        base.deallocate()
        base = fresh
        capacity = cap
    }

    @inline(__always) func append(_ b: UInt8) {
        reserve(1)
        base[count] = b
        count += 1
    }

    @inline(__always) func append(_ p: UnsafePointer<UInt8>, _ n: Int) {
        guard n > 0 else { return }
        reserve(n)
        (base + count).update(from: p, count: n)
        count += n
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}

/// The first ill-formed UTF-8 sequence in `p[0..<n]`: its offset and the
/// length of its maximal subpart (what one U+FFFD replaces, as in Unicode's
/// recommended practice), or nil when all of it is well-formed.
@inline(__always)
func firstInvalidUTF8(_ p: UnsafePointer<UInt8>, _ n: Int) -> (offset: Int, length: Int)? {
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i < n {
        // ASCII runs, eight bytes at a time.
        while i + 8 <= n, raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
            i += 8
        }
        guard i < n else { break }
        let b0 = p[i]
        if b0 < 0x80 {
            i += 1
            continue
        }
        var need = 0
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: need = 1
        case 0xE0: need = 2; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: need = 2
        case 0xED: need = 2; hi = 0x9F
        case 0xF0: need = 3; lo = 0x90
        case 0xF1...0xF3: need = 3
        case 0xF4: need = 3; hi = 0x8F
        default: return (i, 1)
        }
        var k = 1
        while k <= need {
            if i + k >= n { return (i, k) }
            let c = p[i + k]
            let ok = k == 1 ? (c >= lo && c <= hi) : (c & 0xC0 == 0x80)
            if !ok { return (i, k) }
            k += 1
        }
        i += need + 1
    }
    return nil
}

@inline(__always)
func isAllASCII(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i + 8 <= n {
        if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
        i += 8
    }
    while i < n {
        if p[i] >= 0x80 { return false }
        i += 1
    }
    return true
}

private let replacementCharacter: [UInt8] = [0xEF, 0xBF, 0xBD]

/// Turns input bytes into UTF-8 text and text into output bytes, following
/// the charsets and decodeErrorPolicy. One per source thread (scratch buffers).
final class LineCodec {
    let input: TextCharset
    let output: TextCharset
    let policy: DecodeErrorPolicy
    private let decoded = ByteBuffer(capacity: 4096)
    private let encoded = ByteBuffer(capacity: 4096)

    init(input: TextCharset, output: TextCharset, policy: DecodeErrorPolicy) {
        self.input = input
        self.output = output
        self.policy = policy
    }

    enum Decoded {
        case text(UnsafeRawBufferPointer)
        /// FAIL policy and an undecodable byte at this offset in the input.
        case invalid(Int)
    }

    /// Decodes `n` input bytes to UTF-8. The result points into the input
    /// (when nothing had to change) or into a scratch buffer valid until the
    /// next call.
    @inline(__always)
    func decode(_ p: UnsafePointer<UInt8>, _ n: Int) -> Decoded {
        switch input {
        case .utf8:
            guard let bad = firstInvalidUTF8(p, n) else { return .text(UnsafeRawBufferPointer(start: p, count: n)) }
            if policy == .fail { return .invalid(bad.offset) }
            return .text(repairUTF8(p, n, firstBad: bad))
        case .latin1:
            if isAllASCII(p, n) { return .text(UnsafeRawBufferPointer(start: p, count: n)) }
            decoded.reset()
            decoded.reserve(n * 2)
            for i in 0..<n {
                let b = p[i]
                if b < 0x80 {
                    decoded.append(b)
                } else {
                    decoded.append(0xC0 | (b >> 6))
                    decoded.append(0x80 | (b & 0x3F))
                }
            }
            return .text(decoded.bytes)
        case .ascii:
            if isAllASCII(p, n) { return .text(UnsafeRawBufferPointer(start: p, count: n)) }
            decoded.reset()
            for i in 0..<n {
                let b = p[i]
                if b < 0x80 {
                    decoded.append(b)
                } else {
                    switch policy {
                    case .fail: return .invalid(i)
                    case .replace: replacementCharacter.withUnsafeBufferPointer { decoded.append($0.baseAddress!, 3) }
                    case .ignore: break
                    }
                }
            }
            return .text(decoded.bytes)
        }
    }

    private func repairUTF8(_ p: UnsafePointer<UInt8>, _ n: Int, firstBad: (offset: Int, length: Int)) -> UnsafeRawBufferPointer {
        decoded.reset()
        var at = 0
        var bad: (offset: Int, length: Int)? = firstBad
        while let b = bad {
            decoded.append(p + at, b.offset)
            if policy == .replace { replacementCharacter.withUnsafeBufferPointer { decoded.append($0.baseAddress!, 3) } }
            at += b.offset + b.length
            bad = firstInvalidUTF8(p + at, n - at)
        }
        decoded.append(p + at, n - at)
        return decoded.bytes
    }

    /// Encodes valid UTF-8 text in the output charset. Characters the output
    /// charset lacks become '?', as Java's String.getBytes does.
    @inline(__always)
    func encode(_ text: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard output != .utf8, let base = text.baseAddress?.assumingMemoryBound(to: UInt8.self),
              !isAllASCII(base, text.count) else { return text }
        encoded.reset()
        var i = 0
        let n = text.count
        while i < n {
            let b = base[i]
            if b < 0x80 {
                encoded.append(b)
                i += 1
                continue
            }
            let len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2
            if output == .latin1, len == 2, i + 1 < n {
                let cp = (UInt32(b & 0x1F) << 6) | UInt32(base[i + 1] & 0x3F)
                encoded.append(cp <= 0xFF ? UInt8(cp) : UInt8(ascii: "?"))
            } else {
                encoded.append(UInt8(ascii: "?"))
            }
            i += len
        }
        return encoded.bytes
    }
}

/// Where to cut valid UTF-8 `text` so it holds at most `maxChars` Java
/// characters (UTF-16 units: a 4-byte sequence counts two). Nil when it fits.
@inline(__always)
func truncationPoint(_ text: UnsafeRawBufferPointer, maxChars: Int) -> Int? {
    // Every character takes at least one byte.
    guard text.count > maxChars else { return nil }
    var units = 0
    var i = 0
    let n = text.count
    while i < n {
        let b = text[i]
        let (len, w) = b < 0x80 ? (1, 1) : b >= 0xF0 ? (4, 2) : b >= 0xE0 ? (3, 1) : (2, 1)
        if units + w > maxChars { return i }
        units += w
        i += len
    }
    return nil
}
