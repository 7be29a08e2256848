import KafkaLog

import KafkaProtocol

extension KafkaErrorCode {
    /// The code for a storage error.
    static func of(_ e: Error) -> Int16 {
        guard let e = e as? LogError else { return unknownServerError }
        switch e {
        case .crcMismatch, .batchTooShort, .invalidBatchLength, .recordCountMismatch: return corruptMessage
        case .unsupportedMagic, .controlBatchNotAllowed, .emptyAppend: return invalidRecord
        case .unsupportedCompression: return unsupportedCompressionType
        case .batchTooLarge: return messageTooLarge
        case .outOfOrderSequence: return outOfOrderSequence
        case .invalidProducerEpoch: return invalidProducerEpoch
        case .offsetOutOfRange: return offsetOutOfRange
        case .invalidTopicPartition: return unknownTopicOrPartition
        default: return unknownServerError
        }
    }
}
