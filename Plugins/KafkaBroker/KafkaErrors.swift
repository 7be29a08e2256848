import KafkaLog

/// Kafka's error codes the broker answers with.
enum KafkaError: Int16 {
    case none = 0
    case offsetOutOfRange = 1
    case corruptMessage = 2
    case unknownTopicOrPartition = 3
    case messageTooLarge = 10
    case invalidTopic = 17
    case invalidRequiredAcks = 21
    case unsupportedVersion = 35
    case topicAlreadyExists = 36
    case invalidPartitions = 37
    case invalidReplicationFactor = 38
    case invalidRequest = 42
    case outOfOrderSequence = 45
    case duplicateSequence = 46
    case invalidProducerEpoch = 47
    case unsupportedCompressionType = 76
    case invalidRecord = 87
    case unknownServerError = -1

    /// The code for a storage error on produce.
    init(_ e: Error) {
        guard let e = e as? LogError else { self = .unknownServerError; return }
        switch e {
        case .crcMismatch, .batchTooShort, .invalidBatchLength, .recordCountMismatch: self = .corruptMessage
        case .unsupportedMagic, .controlBatchNotAllowed, .emptyAppend: self = .invalidRecord
        case .unsupportedCompression: self = .unsupportedCompressionType
        case .batchTooLarge: self = .messageTooLarge
        case .outOfOrderSequence: self = .outOfOrderSequence
        case .invalidProducerEpoch: self = .invalidProducerEpoch
        case .offsetOutOfRange: self = .offsetOutOfRange
        case .invalidTopicPartition: self = .unknownTopicOrPartition
        default: self = .unknownServerError
        }
    }
}
