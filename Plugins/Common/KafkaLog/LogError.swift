#if canImport(Glibc)
import Glibc
#endif

/// Everything this module throws. Input problems (a bad batch from a client)
/// name the byte position of the batch inside the append; I/O problems name
/// the operation, the path and errno.
public enum LogError: Error, Equatable, Sendable, CustomStringConvertible {
    // A produce request's bytes.
    case emptyAppend
    case batchTooShort(position: Int, available: Int)
    case invalidBatchLength(position: Int, batchLength: Int32, available: Int)
    case unsupportedMagic(position: Int, magic: Int8)
    case crcMismatch(position: Int, stored: UInt32, computed: UInt32)
    case recordCountMismatch(position: Int, recordCount: Int32, lastOffsetDelta: Int32)
    case unsupportedCompression(position: Int, codec: Int)
    case controlBatchNotAllowed(position: Int)
    case batchTooLarge(position: Int, size: Int, limit: Int)
    // Idempotent producers.
    case outOfOrderSequence(producerId: Int64, expected: Int32, received: Int32)
    case invalidProducerEpoch(producerId: Int64, current: Int16, received: Int16)
    // Reads and offsets.
    case offsetOutOfRange(offset: Int64, logStartOffset: Int64, logEndOffset: Int64)
    // Configuration and names.
    case invalidConfig(String)
    case invalidTopicPartition(String)
    // State of the log or its directory.
    case logClosed(String)
    case logFailed(String)
    case logDirInUse(String)
    case brokerIdMismatch(dir: String, found: Int32, expected: Int32)
    case duplicateLog(String)
    case invalidSegmentAppend(String)
    case corruptFile(path: String, reason: String)
    case io(operation: String, path: String, errno: Int32)

    public var description: String {
        switch self {
        case .emptyAppend: return "append carried no record batch"
        case let .batchTooShort(p, a): return "batch at byte \(p): only \(a) bytes, a header needs 61"
        case let .invalidBatchLength(p, l, a): return "batch at byte \(p): length \(l) inconsistent with \(a) bytes available"
        case let .unsupportedMagic(p, m): return "batch at byte \(p): magic \(m), only 2 is supported"
        case let .crcMismatch(p, s, c): return "batch at byte \(p): CRC-32C mismatch (stored \(hex(s)), computed \(hex(c)))"
        case let .recordCountMismatch(p, n, d): return "batch at byte \(p): record count \(n) but last offset delta \(d)"
        case let .unsupportedCompression(p, c): return "batch at byte \(p): unknown compression codec \(c)"
        case let .controlBatchNotAllowed(p): return "batch at byte \(p): clients may not write control batches"
        case let .batchTooLarge(p, s, l): return "batch at byte \(p): \(s) bytes exceeds the limit of \(l)"
        case let .outOfOrderSequence(id, e, r): return "producer \(id): out-of-order sequence \(r), expected \(e)"
        case let .invalidProducerEpoch(id, c, r): return "producer \(id): epoch \(r) is older than current epoch \(c)"
        case let .offsetOutOfRange(o, s, e): return "offset \(o) outside the log's range [\(s), \(e)]"
        case let .invalidConfig(m): return "invalid log config: \(m)"
        case let .invalidTopicPartition(m): return "invalid topic-partition: \(m)"
        case let .logClosed(tp): return "log \(tp) is closed"
        case let .logFailed(m): return "log unusable after an earlier I/O failure: \(m)"
        case let .logDirInUse(d): return "log directory \(d) is locked by another process"
        case let .brokerIdMismatch(d, f, e): return "\(d)/meta.properties has broker.id=\(f), this broker is \(e)"
        case let .duplicateLog(tp): return "log \(tp) found in more than one log directory"
        case let .invalidSegmentAppend(m): return m
        case let .corruptFile(p, r): return "\(p): \(r)"
        case let .io(op, p, e): return "\(op) \(p): \(String(cString: strerror(e)))"
        }
    }

    /// The Kafka protocol error code a broker should answer with.
    public var kafkaErrorCode: Int16 {
        switch self {
        case .batchTooShort, .invalidBatchLength, .unsupportedMagic, .crcMismatch, .emptyAppend: return 2   // CORRUPT_MESSAGE
        case .recordCountMismatch, .controlBatchNotAllowed: return 87                                       // INVALID_RECORD
        case .unsupportedCompression: return 76                                                             // UNSUPPORTED_COMPRESSION_TYPE
        case .batchTooLarge: return 10                                                                      // MESSAGE_TOO_LARGE
        case .outOfOrderSequence: return 45                                                                 // OUT_OF_ORDER_SEQUENCE_NUMBER
        case .invalidProducerEpoch: return 47                                                               // INVALID_PRODUCER_EPOCH
        case .offsetOutOfRange: return 1                                                                    // OFFSET_OUT_OF_RANGE
        case .invalidConfig: return 40                                                                      // INVALID_CONFIG
        case .invalidTopicPartition: return 17                                                              // INVALID_TOPIC_EXCEPTION
        case .io, .logFailed, .corruptFile, .logDirInUse: return 56                                         // KAFKA_STORAGE_ERROR
        case .logClosed: return 6                                                                           // NOT_LEADER_OR_FOLLOWER
        case .brokerIdMismatch, .duplicateLog, .invalidSegmentAppend: return -1                                                    // UNKNOWN_SERVER_ERROR
        }
    }
}

private func hex(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
}
