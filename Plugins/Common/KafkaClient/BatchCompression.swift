import KafkaCompression
import KafkaProtocol

/// The one place where the producer compresses a batch's records (the
/// bytes after the 61-byte batch header; Kafka compresses exactly those),
/// with the codecs of Plugins/Common/KafkaCompression.
enum BatchCompression {
    /// Codecs `compress` can produce; `compression.type` is checked against it.
    static let available: Set<KafkaCompression> = [.none, .gzip, .snappy, .lz4, .zstd]

    static func compress(_ codec: KafkaCompression, _ records: UnsafeRawBufferPointer, level: Int?) throws -> [UInt8] {
        do {
            return try KafkaCodecs.compress(codec, records, level: level)
        } catch {
            throw KafkaProduceError("cannot compress a batch with \(codec): \(error)", retriable: false)
        }
    }
}

extension ProducerConfig {
    /// The codecs this producer can write.
    public static var availableCodecs: Set<KafkaCompression> { BatchCompression.available }
}
