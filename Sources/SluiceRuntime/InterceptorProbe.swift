import SluiceABI

/// Times one interceptor on a batch of synthetic events, without a source,
/// channel or sink around it: the cost of crossing the ABI plus the
/// interceptor's own work. Used by the benchmarks.
public final class InterceptorProbe {
    private let component: PluginComponent
    private let batch: HostBatch
    private let events: Int
    private let body: [UInt8]

    public init(type: ComponentTypeInfo, properties: [String: String] = [:], events: Int, bodySize: Int) throws {
        let handle = ComponentHandle(name: "probe", agent: "bench", kind: .interceptor,
                                     metrics: CounterGroup(category: "INTERCEPTOR", name: "probe", type: type.typeName))
        component = try PluginComponent(type: type, handle: handle)
        try component.configure(properties)
        try component.start()
        self.events = events
        batch = HostBatch(capacity: events)
        body = [UInt8](repeating: 0x61, count: bodySize)
    }

    deinit {
        try? component.stop()
        component.destroy()
    }

    /// Nanoseconds per event over `rounds` intercept calls, each on a
    /// freshly filled batch (the refill is not timed).
    public func nanosPerEvent(rounds: Int) throws -> Double {
        var total: UInt64 = 0
        for _ in 0..<rounds {
            batch.clear()
            for _ in 0..<events {
                _ = body.withUnsafeBufferPointer { batch.append(body: $0.baseAddress, length: $0.count, headers: nil, headerCount: 0) }
            }
            let start = monotonicNanos()
            try component.intercept(batch.raw)
            total += monotonicNanos() - start
        }
        return Double(total) / Double(rounds * events)
    }
}
