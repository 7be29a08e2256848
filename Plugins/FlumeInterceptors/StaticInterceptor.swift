import SluiceSDK

/// Flume's `static` interceptor: sets header `key` to `value` on every event.
/// With `preserveExisting` (the default) an event that already has the
/// header keeps its own value.
final class StaticInterceptor: Interceptor {
    static let configKeys: [ConfigKey] = [
        ConfigKey("key", .string, default: "key", "Name of the header to set"),
        ConfigKey("value", .string, default: "value", "Value of the header"),
        ConfigKey("preserveExisting", .bool, default: "true", "Keep the header when the event already has it"),
    ]

    private let headerKey: [UInt8]
    private let headerValue: [UInt8]
    private let preserveExisting: Bool

    init(context: ComponentContext, properties: Properties) throws {
        headerKey = try headerNameBytes(properties, "key", default: "key")
        headerValue = Array(properties.string("value", default: "value").utf8)
        preserveExisting = try properties.bool("preserveExisting", default: true)
    }

    func intercept(_ batch: MutableBatch) throws {
        let count = batch.count
        if count == 0 { return }
        let preserve = preserveExisting
        headerKey.withUnsafeBufferPointer { key in
            headerValue.withUnsafeBytes { value in
                for i in 0..<count {
                    if preserve && batch[i].headerBytes(key) != nil { continue }
                    batch.setHeader(i, key: key, value: value)
                }
            }
        }
    }
}
