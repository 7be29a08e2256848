import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// Flume's `timestamp` interceptor: sets `headerName` to the current time in
/// epoch milliseconds (decimal). The clock is read once per batch, so every
/// event of a batch gets the same value.
final class TimestampInterceptor: Interceptor {
    static let configKeys: [ConfigKey] = [
        ConfigKey("headerName", .string, default: "timestamp", "Header that receives the timestamp"),
        ConfigKey("preserveExisting", .bool, default: "false", "Keep the header when the event already has it"),
    ]

    private let headerKey: [UInt8]
    private let preserveExisting: Bool

    init(context: ComponentContext, properties: Properties) throws {
        headerKey = try headerNameBytes(properties, "headerName", default: "timestamp")
        preserveExisting = try properties.bool("preserveExisting", default: false)
    }

    func intercept(_ batch: MutableBatch) throws {
        let count = batch.count
        if count == 0 { return }
        let now = currentTimeMillis()
        let preserve = preserveExisting
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { tmp in
            guard let base = tmp.baseAddress else { return }
            let value = UnsafeRawBufferPointer(start: base, count: writeDecimal(now, to: base))
            headerKey.withUnsafeBufferPointer { key in
                for i in 0..<count {
                    if preserve && batch[i].headerBytes(key) != nil { continue }
                    batch.setHeader(i, key: key, value: value)
                }
            }
        }
    }
}

/// Wall-clock time in milliseconds since the Unix epoch.
func currentTimeMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) &* 1000 &+ Int64(ts.tv_nsec / 1_000_000)
}
