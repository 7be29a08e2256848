import SluiceSDK

/// Flume's logger sink: logs each event's headers and the first
/// `maxBytesToLog` body bytes (hex, then text) at INFO.
final class LoggerSink: Sink {
    let context: ComponentContext
    let maxBytes: Int
    let batchSize: Int

    init(context: ComponentContext, properties: Properties) throws {
        self.context = context
        maxBytes = try properties.int("maxBytesToLog", default: 16)
        batchSize = try properties.int("batchSize", default: 100)
        guard maxBytes >= 0 else { throw SluiceError.config("maxBytesToLog must be >= 0") }
        guard batchSize > 0 else { throw SluiceError.config("batchSize must be > 0") }
    }

    func process() throws -> ProcessStatus {
        let batch = try context.take(max: batchSize)
        for event in batch { context.log(.info, format(event)) }
        let n = batch.count
        try context.commit()
        return n == 0 ? .backoff : .ready
    }

    /// "Event: { headers:{k=v, ...} body: 68 69  hi }", as Flume prints it.
    func format(_ e: Event) -> String {
        let headers = e.headers.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        let body = e.body.prefix(maxBytes)
        let hexDigits = Array("0123456789ABCDEF".utf8)
        var hex: [UInt8] = []
        for b in body {
            hex.append(hexDigits[Int(b >> 4)])
            hex.append(hexDigits[Int(b & 15)])
            hex.append(0x20)
        }
        let text = String(decoding: body.map { $0 >= 0x20 && $0 < 0x7f ? $0 : 0x2e }, as: UTF8.self)
        return "Event: { headers:{\(headers)} body: \(String(decoding: hex, as: UTF8.self)) \(text) }"
    }
}

@_cdecl("sluice_plugin_entry")
public func sluicePluginEntry() -> UnsafeRawPointer {
    Plugin.export(name: "logger-sink", version: "1.0.0", components: [
        .sink(LoggerSink.self, type: "logger", aliases: ["org.apache.flume.sink.LoggerSink"],
              description: "Logs events at INFO level",
              keys: [
                  ConfigKey("maxBytesToLog", .int, default: "16", "body bytes shown per event"),
                  ConfigKey("batchSize", .int, default: "100", "events taken per transaction"),
              ]),
    ])
}
