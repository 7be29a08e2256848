import SluiceSDK

/// Flume's sequence generator: bodies are the decimal counter 0, 1, 2, ...
/// `bodySize` (a Sluice addition, for benchmarks) pads each body to that
/// many bytes with spaces after the number.
final class SequenceSource: PollableSource {
    let context: ComponentContext
    let totalEvents: Int
    let batchSize: Int
    let bodySize: Int
    private var next = 0
    private var batch: OwnedBatch?
    private var scratch: [UInt8]
    private let exhausted: Metric

    init(context: ComponentContext, properties: Properties) throws {
        self.context = context
        totalEvents = try properties.int("totalEvents", default: Int.max)
        batchSize = try properties.int("batchSize", default: 1)
        bodySize = try properties.int("bodySize", default: 0)
        guard batchSize > 0 else { throw SluiceError.config("batchSize must be > 0") }
        guard totalEvents >= 0 else { throw SluiceError.config("totalEvents must be >= 0") }
        scratch = [UInt8](repeating: 0x20, count: max(bodySize, 20))
        exhausted = context.gauge("SequenceExhausted")
    }

    func process() throws -> ProcessStatus {
        let b = batch ?? context.newBatch(capacity: batchSize)
        batch = b
        if b.isEmpty {
            // Refill only after the previous batch was committed: a refused
            // batch is retried as it was.
            let n = min(batchSize, totalEvents - next)
            if n <= 0 {
                exhausted.set(1)
                return .backoff
            }
            for _ in 0..<n {
                let len = writeNumber(next)
                try scratch.withUnsafeBytes { try b.append(body: UnsafeRawBufferPointer(rebasing: $0[0..<len])) }
                next += 1
            }
        }
        switch try context.submit(b) {
        case .committed: return .ready
        case .channelFull: return .backoff
        }
    }

    /// Writes `value` in decimal at the start of `scratch`; returns the body length.
    private func writeNumber(_ value: Int) -> Int {
        var digits: (UInt64, Int) = (UInt64(value), 0)
        var tmp = [UInt8](repeating: 0, count: 20)
        repeat {
            tmp[digits.1] = UInt8(48 + digits.0 % 10)
            digits.0 /= 10
            digits.1 += 1
        } while digits.0 > 0
        let count = digits.1
        for i in 0..<count { scratch[i] = tmp[count - 1 - i] }
        if bodySize > count {
            for i in count..<bodySize { scratch[i] = 0x20 }
            return bodySize
        }
        return count
    }
}

@_cdecl("sluice_plugin_entry")
public func sluicePluginEntry() -> UnsafeRawPointer {
    Plugin.export(name: "sequence-source", version: "1.0.0", components: [
        .source(SequenceSource.self, type: "seq",
                aliases: ["org.apache.flume.source.SequenceGeneratorSource"],
                description: "Generates events whose bodies are an increasing counter",
                keys: [
                    ConfigKey("totalEvents", .int, default: "\(Int.max)", "number of events to generate, then stop"),
                    ConfigKey("batchSize", .int, default: "1", "events per submitted batch"),
                    ConfigKey("bodySize", .int, default: "0", "pad bodies with spaces to this many bytes (0: no padding)"),
                ]),
    ])
}
