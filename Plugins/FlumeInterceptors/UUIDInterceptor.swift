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
    /// Random bytes not yet used: pool[poolUsed..<poolSize].
    private let pool: UnsafeMutablePointer<UInt8>
    private var poolUsed: Int

    init(context: ComponentContext, properties: Properties) throws {
        headerKey = try headerNameBytes(properties, "headerName", default: "id")
        preserveExisting = try properties.bool("preserveExisting", default: true)
        let prefix = Array(properties.string("prefix", default: "").utf8)
        prefixLength = prefix.count
        value = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: prefix.count + 36)
        _ = value.initialize(from: prefix + [UInt8](repeating: UInt8(ascii: "-"), count: 36))
        pool = UnsafeMutablePointer<UInt8>.allocate(capacity: UUIDInterceptor.poolSize)
        pool.initialize(repeating: 0, count: UUIDInterceptor.poolSize)
        poolUsed = UUIDInterceptor.poolSize
    }

    deinit {
        value.deallocate()
        pool.deallocate()
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
        if poolUsed + 16 > UUIDInterceptor.poolSize { refillPool() }
        let r = pool + poolUsed
        poolUsed += 16
        r[6] = (r[6] & 0x0F) | 0x40 // version 4
        r[8] = (r[8] & 0x3F) | 0x80 // IETF variant
        guard let base = value.baseAddress else { return }
        var out = base + prefixLength
        for i in 0..<16 {
            if i == 4 || i == 6 || i == 8 || i == 10 {
                out.pointee = UInt8(ascii: "-")
                out += 1
            }
            out[0] = hexDigit(r[i] >> 4)
            out[1] = hexDigit(r[i] & 0x0F)
            out += 2
        }
    }

    @inline(__always)
    private func hexDigit(_ v: UInt8) -> UInt8 {
        v < 10 ? v &+ UInt8(ascii: "0") : v &+ (UInt8(ascii: "a") &- 10)
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
        poolUsed = 0
    }
}

/// glibc's getrandom(2) wrapper, looked up at run time: Swift's Glibc module
/// does not import <sys/random.h>.
private typealias GetRandomFunction = @convention(c) (UnsafeMutableRawPointer?, Int, UInt32) -> Int

private let systemGetRandom: GetRandomFunction? = {
    guard let symbol = dlsym(nil, "getrandom") else { return nil }
    return unsafeBitCast(symbol, to: GetRandomFunction.self)
}()
