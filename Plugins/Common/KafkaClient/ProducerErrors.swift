/// The Kafka error codes the producer acts on.
public enum KafkaErrorCode {
    public static let none: Int16 = 0
    public static let corruptMessage: Int16 = 2
    public static let unknownTopicOrPartition: Int16 = 3
    public static let leaderNotAvailable: Int16 = 5
    public static let notLeaderOrFollower: Int16 = 6
    public static let requestTimedOut: Int16 = 7
    public static let messageTooLarge: Int16 = 10
    public static let networkException: Int16 = 13
    public static let invalidTopic: Int16 = 17
    public static let recordListTooLarge: Int16 = 18
    public static let notEnoughReplicas: Int16 = 19
    public static let notEnoughReplicasAfterAppend: Int16 = 20
    public static let topicAuthorizationFailed: Int16 = 29
    public static let outOfOrderSequence: Int16 = 45
    public static let duplicateSequence: Int16 = 46
    public static let invalidProducerEpoch: Int16 = 47
    public static let kafkaStorageError: Int16 = 56
    public static let unknownProducerId: Int16 = 59
    public static let fencedLeaderEpoch: Int16 = 74
    public static let unknownLeaderEpoch: Int16 = 75
    public static let throttlingQuotaExceeded: Int16 = 89
    public static let producerFenced: Int16 = 90
}

/// What the producer does about a partition's error code in a Produce response.
enum ProduceOutcome: Equatable {
    /// Written (DUPLICATE_SEQUENCE_NUMBER too: the broker has the batch already).
    case acknowledged
    /// Send again after a pause; `refreshMetadata` when the leader may have moved.
    case retry(refreshMetadata: Bool)
    /// The broker lost track of this producer's sequence: get a new producer
    /// id, renumber the unacknowledged batches and send them again.
    case resetProducer
    /// Sending again cannot help.
    case fatal

    init(errorCode: Int16) {
        switch errorCode {
        case KafkaErrorCode.none, KafkaErrorCode.duplicateSequence:
            self = .acknowledged
        case KafkaErrorCode.unknownTopicOrPartition, KafkaErrorCode.leaderNotAvailable,
             KafkaErrorCode.notLeaderOrFollower, KafkaErrorCode.fencedLeaderEpoch, KafkaErrorCode.unknownLeaderEpoch,
             KafkaErrorCode.kafkaStorageError, KafkaErrorCode.networkException:
            self = .retry(refreshMetadata: true)
        case KafkaErrorCode.requestTimedOut, KafkaErrorCode.corruptMessage, KafkaErrorCode.notEnoughReplicas,
             KafkaErrorCode.notEnoughReplicasAfterAppend, KafkaErrorCode.throttlingQuotaExceeded:
            self = .retry(refreshMetadata: false)
        case KafkaErrorCode.outOfOrderSequence, KafkaErrorCode.unknownProducerId, KafkaErrorCode.invalidProducerEpoch:
            self = .resetProducer
        default:
            self = .fatal
        }
    }
}

/// Why a flush gave up. `isRetriable` says whether the same records may
/// succeed later (the broker was away, a leader was missing) or will fail
/// the same way (a record too large, an invalid topic).
public struct KafkaProduceError: Error, CustomStringConvertible {
    public var description: String
    public var isRetriable: Bool

    public init(_ description: String, retriable: Bool) {
        self.description = description
        self.isRetriable = retriable
    }
}
