import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// The morphline module's UUID interceptor: sets `headerName` to `prefix`
/// followed by a random version-4 UUID in lowercase canonical form
/// (8-4-4-4-12 hex digits). With `preserveExisting` (the default) an event
/// that already has the header keeps it.
///
/// Randomness comes from getrandom(2) in blocks of 256 UUIDs (one system call
/// per block, not per event); where getrandom is unavailable, from
/// `SystemRandomNumberGenerator`.
final class UUIDInterceptor: Interceptor {
    static let configKeys: [ConfigKey] = [
        ConfigKey("headerName", .string, default: "id", "Header that receives the UUID"),
        ConfigKey("preserveExisting", .bool, default: "true", "Keep the header when the event already has it"),
        ConfigKey("prefix", .string, default: "", "Text put before the UUID"),
    ]

    private static let poolSize = 16 * 256

    private let headerKey: [UInt8]
    private let preserveExisting: Bool
    /// `prefix` followed by 36 bytes rewritten for every event.
    private let value: UnsafeMutableBufferPointer<UInt8>
    private let prefixLength: Int
    /// Random bytes not yet used: pool[poolUsed.pointee..<poolSize]. (The
    /// index lives behind a pointer so the per-event path pays no
    /// exclusivity checks.)
    private let pool: UnsafeMutablePointer<UInt8>
    private let poolUsed: UnsafeMutablePointer<Int>
    /// Byte → its two lowercase hex digits (a table: random nibbles make any
    /// digit-or-letter branch unpredictable).
    private let hexPairs: UnsafeMutablePointer<(UInt8, UInt8)>

    init(context: ComponentContext, properties: Properties) throws {
        headerKey = try headerNameBytes(properties, "headerName", default: "id")
        preserveExisting = try properties.bool("preserveExisting", default: true)
        let prefix = Array(properties.string("prefix", default: "").utf8)
        prefixLength = prefix.count
        value = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: prefix.count + 36)
        _ = value.initialize(from: prefix + [UInt8](repeating: UInt8(ascii: "-"), count: 36))
        pool = UnsafeMutablePointer<UInt8>.allocate(capacity: UUIDInterceptor.poolSize)
        pool.initialize(repeating: 0, count: UUIDInterceptor.poolSize)
        poolUsed = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        poolUsed.initialize(to: UUIDInterceptor.poolSize)
        hexPairs = UnsafeMutablePointer<(UInt8, UInt8)>.allocate(capacity: 256)
        let digits = Array("0123456789abcdef".utf8)
        for b in 0..<256 {
            (hexPairs + b).initialize(to: (digits[b >> 4], digits[b & 0x0F]))
        }
    }

    deinit {
        value.deallocate()
        pool.deallocate()
        poolUsed.deallocate()
        hexPairs.deallocate()
    }

    func intercept(_ batch: MutableBatch) throws {
        let count = batch.count
        if count == 0 { return }
        let preserve = preserveExisting
        let valueBytes = UnsafeRawBufferPointer(value)
        headerKey.withUnsafeBufferPointer { key in
            for i in 0..<count {
                if preserve && batch[i].headerBytes(key) != nil { continue }
                writeNextUUID()
                batch.setHeader(i, key: key, value: valueBytes)
            }
        }
    }

    /// Formats 16 fresh random bytes as a v4 UUID after the prefix.
    @inline(__always)
    private func writeNextUUID() {
        if poolUsed.pointee + 16 > UUIDInterceptor.poolSize { refillPool() }
        let r = pool + poolUsed.pointee
        poolUsed.pointee += 16
        r[6] = (r[6] & 0x0F) | 0x40 // version 4
        r[8] = (r[8] & 0x3F) | 0x80 // IETF variant
        guard let base = value.baseAddress else { return }
        var out = base + prefixLength
        for i in 0..<16 {
            if i == 4 || i == 6 || i == 8 || i == 10 {
                out.pointee = UInt8(ascii: "-")
                out += 1
            }
            let pair = hexPairs[Int(r[i])]
            out[0] = pair.0
            out[1] = pair.1
            out += 2
        }
    }

    private func refillPool() {
        let size = UUIDInterceptor.poolSize
        var filled = 0
        if let getrandom = systemGetRandom {
            while filled < size {
                let n = getrandom(UnsafeMutableRawPointer(pool + filled), size - filled, 0)
                if n > 0 {
                    filled += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
        }
        if filled < size {
            var generator = SystemRandomNumberGenerator()
            while filled < size {
                var word = generator.next()
                let take = min(8, size - filled)
                withUnsafeBytes(of: &word) { w in
                    for j in 0..<take { pool[filled + j] = w[j] }
                }
                filled += take
            }
        }
        poolUsed.pointee = 0
    }
}

/// glibc's getrandom(2) wrapper, looked up at run time: Swift's Glibc module
/// does not import <sys/random.h>.
private typealias GetRandomFunction = @convention(c) (UnsafeMutableRawPointer?, Int, UInt32) -> Int

private let systemGetRandom: GetRandomFunction? = {
    guard let symbol = dlsym(nil, "getrandom") else { return nil }
    return unsafeBitCast(symbol, to: GetRandomFunction.self)
}()
