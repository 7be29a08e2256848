import SluiceSDK

/// Flume's null sink: takes batches and discards them.
final class NullSink: Sink {
    let context: ComponentContext
    let batchSize: Int
    let logEvery: Int
    private var sinceLog = 0
    private var total = 0

    init(context: ComponentContext, properties: Properties) throws {
        self.context = context
        batchSize = try properties.int("batchSize", default: 100)
        logEvery = try properties.int("logEveryNEvents", default: 10000)
        guard batchSize > 0 else { throw SluiceError.config("batchSize must be > 0") }
        guard logEvery > 0 else { throw SluiceError.config("logEveryNEvents must be > 0") }
    }

    func process() throws -> ProcessStatus {
        let batch = try context.take(max: batchSize)
        let n = batch.count
        try context.commit()
        if n == 0 { return .backoff }
        total += n
        sinceLog += n
        if sinceLog >= logEvery {
            sinceLog = 0
            context.log(.debug, "\(total) events consumed")
        }
        return .ready
    }
}

@_cdecl("sluice_plugin_entry")
public func sluicePluginEntry() -> UnsafeRawPointer {
    Plugin.export(name: "null-sink", version: "1.0.0", components: [
        .sink(NullSink.self, type: "null", aliases: ["org.apache.flume.sink.NullSink"],
              description: "Discards every event",
              keys: [
                  ConfigKey("batchSize", .int, default: "100", "events taken per transaction"),
                  ConfigKey("logEveryNEvents", .int, default: "10000", "log a debug line every N events"),
              ]),
    ])
}
