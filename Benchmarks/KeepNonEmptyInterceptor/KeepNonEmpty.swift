import SluiceSDK

/// The cheapest real filter: keeps every event with a non-empty body. The
/// benchmark's measure of what crossing the ABI costs a Swift plugin.
final class KeepNonEmpty: Interceptor {
    init(context: ComponentContext, properties: Properties) throws {}
    func intercept(_ batch: MutableBatch) throws {
        batch.removeAll { $0.body.count == 0 }
    }
}

@_cdecl("sluice_plugin_entry")
public func sluicePluginEntry() -> UnsafeRawPointer {
    Plugin.export(name: "bench-noop", version: "1.0.0", components: [
        .interceptor(KeepNonEmpty.self, type: "bench_keep_nonempty_swift", description: "Benchmark: keeps events with a non-empty body"),
    ])
}
