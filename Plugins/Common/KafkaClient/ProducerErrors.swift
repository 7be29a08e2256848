import KafkaProtocol

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
