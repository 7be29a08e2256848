#if canImport(Glibc)
import Glibc
#endif

/// A topic the producer writes to: its partitions as the last metadata
/// described them, the batch being filled for each partition, and the next
/// sequence number per partition (idempotent producers). Obtain one with
/// `KafkaProducer.topic(_:)` and keep it: looking it up again costs a
/// dictionary lookup. Owned by its producer; not thread-safe.
public final class ProducerTopic {
    public let name: String
    let nameBytes: [UInt8]
    /// Small number unique within the producer, for per-partition keys.
    let id: Int
    public private(set) var partitionCount: Int
    private(set) var available: [Int32]
    var open: [ProducerBatch?]
    var nextSequence: [Int32]
    var sticky: StickyPartitioner

    init(name: String, id: Int, metadata: TopicMetadata) {
        self.name = name
        nameBytes = Array(name.utf8)
        self.id = id
        partitionCount = metadata.partitionCount
        available = metadata.availablePartitions
        open = Array(repeating: nil, count: metadata.partitionCount)
        nextSequence = Array(repeating: 0, count: metadata.partitionCount)
        sticky = StickyPartitioner(seed: Int.random(in: 0..<1 << 20))
    }

    /// Takes in newer metadata; partitions are only ever added in Kafka.
    func update(_ metadata: TopicMetadata) {
        guard metadata.errorCode == 0, metadata.partitionCount >= partitionCount else { return }
        if metadata.partitionCount > partitionCount {
            open += Array(repeating: nil, count: metadata.partitionCount - partitionCount)
            nextSequence += Array(repeating: 0, count: metadata.partitionCount - partitionCount)
            partitionCount = metadata.partitionCount
        }
        available = metadata.availablePartitions
    }

    /// Key of one of this topic's partitions, unique within the producer.
    @inline(__always)
    func key(_ partition: Int32) -> Int { id << 32 | Int(partition) }
}

extension ProducerTopic {
    /// Whether the topic's name is exactly these bytes (no String made).
    public func hasName(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count == nameBytes.count else { return false }
        return nameBytes.withUnsafeBytes { mine in
            bytes.count == 0 || memcmp(mine.baseAddress!, bytes.baseAddress!, bytes.count) == 0
        }
    }
}
