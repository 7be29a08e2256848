/// Kafka's error codes (the protocol guide's table), as the Int16 values the
/// messages carry, with their names for messages. One table for the broker
/// and the clients.
public enum KafkaErrorCode {
    public static let unknownServerError: Int16 = -1
    public static let none: Int16 = 0
    public static let offsetOutOfRange: Int16 = 1
    public static let corruptMessage: Int16 = 2
    public static let unknownTopicOrPartition: Int16 = 3
    public static let leaderNotAvailable: Int16 = 5
    public static let notLeaderOrFollower: Int16 = 6
    public static let requestTimedOut: Int16 = 7
    public static let messageTooLarge: Int16 = 10
    public static let offsetMetadataTooLarge: Int16 = 12
    public static let networkException: Int16 = 13
    public static let coordinatorLoadInProgress: Int16 = 14
    public static let coordinatorNotAvailable: Int16 = 15
    public static let notCoordinator: Int16 = 16
    public static let invalidTopic: Int16 = 17
    public static let recordListTooLarge: Int16 = 18
    public static let notEnoughReplicas: Int16 = 19
    public static let notEnoughReplicasAfterAppend: Int16 = 20
    public static let invalidRequiredAcks: Int16 = 21
    public static let illegalGeneration: Int16 = 22
    public static let inconsistentGroupProtocol: Int16 = 23
    public static let invalidGroupId: Int16 = 24
    public static let unknownMemberId: Int16 = 25
    public static let invalidSessionTimeout: Int16 = 26
    public static let rebalanceInProgress: Int16 = 27
    public static let topicAuthorizationFailed: Int16 = 29
    public static let unsupportedVersion: Int16 = 35
    public static let topicAlreadyExists: Int16 = 36
    public static let invalidPartitions: Int16 = 37
    public static let invalidReplicationFactor: Int16 = 38
    public static let notController: Int16 = 41
    public static let invalidRequest: Int16 = 42
    public static let outOfOrderSequence: Int16 = 45
    public static let duplicateSequence: Int16 = 46
    public static let invalidProducerEpoch: Int16 = 47
    public static let kafkaStorageError: Int16 = 56
    public static let unknownProducerId: Int16 = 59
    public static let nonEmptyGroup: Int16 = 68
    public static let groupIdNotFound: Int16 = 69
    public static let fencedLeaderEpoch: Int16 = 74
    public static let unknownLeaderEpoch: Int16 = 75
    public static let unsupportedCompressionType: Int16 = 76
    public static let memberIdRequired: Int16 = 79
    public static let fencedInstanceId: Int16 = 82
    public static let groupSubscribedToTopic: Int16 = 86
    public static let invalidRecord: Int16 = 87
    public static let throttlingQuotaExceeded: Int16 = 89
    public static let producerFenced: Int16 = 90

    static let names: [Int16: String] = [
        -1: "UNKNOWN_SERVER_ERROR", 0: "NONE", 1: "OFFSET_OUT_OF_RANGE", 2: "CORRUPT_MESSAGE",
        3: "UNKNOWN_TOPIC_OR_PARTITION", 5: "LEADER_NOT_AVAILABLE", 6: "NOT_LEADER_OR_FOLLOWER",
        7: "REQUEST_TIMED_OUT", 10: "MESSAGE_TOO_LARGE", 12: "OFFSET_METADATA_TOO_LARGE", 13: "NETWORK_EXCEPTION",
        14: "COORDINATOR_LOAD_IN_PROGRESS", 15: "COORDINATOR_NOT_AVAILABLE", 16: "NOT_COORDINATOR",
        17: "INVALID_TOPIC_EXCEPTION", 18: "RECORD_LIST_TOO_LARGE", 19: "NOT_ENOUGH_REPLICAS",
        20: "NOT_ENOUGH_REPLICAS_AFTER_APPEND", 21: "INVALID_REQUIRED_ACKS", 22: "ILLEGAL_GENERATION",
        23: "INCONSISTENT_GROUP_PROTOCOL", 24: "INVALID_GROUP_ID", 25: "UNKNOWN_MEMBER_ID",
        26: "INVALID_SESSION_TIMEOUT", 27: "REBALANCE_IN_PROGRESS", 29: "TOPIC_AUTHORIZATION_FAILED",
        35: "UNSUPPORTED_VERSION", 36: "TOPIC_ALREADY_EXISTS", 37: "INVALID_PARTITIONS",
        38: "INVALID_REPLICATION_FACTOR", 41: "NOT_CONTROLLER", 42: "INVALID_REQUEST",
        45: "OUT_OF_ORDER_SEQUENCE_NUMBER", 46: "DUPLICATE_SEQUENCE_NUMBER", 47: "INVALID_PRODUCER_EPOCH",
        56: "KAFKA_STORAGE_ERROR", 59: "UNKNOWN_PRODUCER_ID", 68: "NON_EMPTY_GROUP", 69: "GROUP_ID_NOT_FOUND",
        74: "FENCED_LEADER_EPOCH", 75: "UNKNOWN_LEADER_EPOCH", 76: "UNSUPPORTED_COMPRESSION_TYPE",
        79: "MEMBER_ID_REQUIRED", 82: "FENCED_INSTANCE_ID", 86: "GROUP_SUBSCRIBED_TO_TOPIC", 87: "INVALID_RECORD",
        89: "THROTTLING_QUOTA_EXCEEDED", 90: "PRODUCER_FENCED",
    ]

    /// Kafka's name for `code` (`UNKNOWN_MEMBER_ID`), or `error <code>`.
    public static func name(_ code: Int16) -> String { names[code] ?? "error \(code)" }
}

/// Kafka's name for an error code, for messages.
public func kafkaErrorName(_ code: Int16) -> String { KafkaErrorCode.name(code) }
