import KafkaProtocol
import NIOCore

/// Writes the body of a Produce request (v3 and later; flexible from v9)
/// around batches that are already encoded, copying each batch once into
/// the frame instead of building a `ProduceRequest` value per request.
/// The layout is ProduceRequest.json's: transactionalId, acks, timeoutMs,
/// then per topic its name and per partition its index and records.
enum ProduceRequestWriter {
    static let minVersion: Int16 = 3
    static let maxVersion: Int16 = 9

    /// `batches` hold at most one batch per partition (Kafka refuses more);
    /// batches of one topic are grouped, in order of first appearance.
    static func writeBody(_ batches: [ProducerBatch], acks: Int16, timeoutMs: Int32, version: Int16,
                          to out: inout ByteBuffer) {
        let flexible = version >= 9
        var topics: [(topic: ProducerTopic, batches: [ProducerBatch])] = []
        for b in batches {
            if let i = topics.firstIndex(where: { $0.topic === b.topic }) {
                topics[i].batches.append(b)
            } else {
                topics.append((b.topic, [b]))
            }
        }
        // transactionalId: null
        if flexible { out.kafkaWriteUnsignedVarint(0) } else { out.kafkaWriteInt16(-1) }
        out.kafkaWriteInt16(acks)
        out.kafkaWriteInt32(timeoutMs)
        writeCount(topics.count, flexible, &out)
        for t in topics {
            let name = t.topic.nameBytes
            if flexible { out.kafkaWriteUnsignedVarint(UInt32(name.count + 1)) } else { out.kafkaWriteInt16(Int16(name.count)) }
            out.writeBytes(name)
            writeCount(t.batches.count, flexible, &out)
            for b in t.batches {
                out.kafkaWriteInt32(b.partition)
                let bytes = b.bytes
                if flexible { out.kafkaWriteUnsignedVarint(UInt32(bytes.count + 1)) } else { out.kafkaWriteInt32(Int32(bytes.count)) }
                out.writeBytes(bytes)
                if flexible { out.kafkaWriteUnsignedVarint(0) }  // no tagged fields
            }
            if flexible { out.kafkaWriteUnsignedVarint(0) }
        }
        if flexible { out.kafkaWriteUnsignedVarint(0) }
    }

    private static func writeCount(_ n: Int, _ flexible: Bool, _ out: inout ByteBuffer) {
        if flexible { out.kafkaWriteUnsignedVarint(UInt32(n + 1)) } else { out.kafkaWriteInt32(Int32(n)) }
    }

    /// Bytes a request adds around its batches (upper bound), for the max.request.size check.
    static func overhead(topicNameBytes: Int) -> Int { 64 + topicNameBytes }
}
