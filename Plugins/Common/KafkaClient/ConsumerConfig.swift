import KafkaProtocol

/// What a group consumer is configured with: the Java consumer's keys
/// (`kafka.consumer.*` in a Flume source) and their defaults.
public struct ConsumerConfig: Sendable {
    public enum OffsetReset: String, Sendable { case earliest, latest, none }

    public var bootstrap: [BrokerAddress]
    public var groupId: String
    public var clientId = "sluice"
    /// Topics by name; ignored when `topicPattern` is set.
    public var topics: [String] = []
    /// A subscription by pattern (`kafka.topics.regex`): matched against
    /// every topic name in the cluster's metadata.
    public var topicPattern: (@Sendable (String) -> Bool)?
    public var autoOffsetReset = OffsetReset.latest
    public var sessionTimeoutMs = 45_000
    public var heartbeatIntervalMs = 3_000
    public var maxPollIntervalMs = 300_000
    public var fetchMinBytes = 1
    public var fetchMaxWaitMs = 500
    public var fetchMaxBytes = 52_428_800
    public var maxPartitionFetchBytes = 1_048_576
    public var requestTimeoutMs = 30_000
    public var connectTimeoutMs = 10_000
    public var metadataMaxAgeMs = 300_000
    public var retryBackoffMs = 100
    /// Assignors offered in JoinGroup, in preference order.
    public var assignors: [PartitionAssignor] = [.range, .roundRobin]

    public init(bootstrap: [BrokerAddress], groupId: String) {
        self.bootstrap = bootstrap
        self.groupId = groupId
    }

    /// Keys this consumer understands (without the `kafka.consumer.` prefix).
    public static let knownKeys: Set<String> = [
        "group.id", "client.id", "auto.offset.reset", "session.timeout.ms", "heartbeat.interval.ms",
        "max.poll.interval.ms", "fetch.min.bytes", "fetch.max.wait.ms", "fetch.max.bytes",
        "max.partition.fetch.bytes", "request.timeout.ms", "metadata.max.age.ms", "retry.backoff.ms",
        "partition.assignment.strategy", "enable.auto.commit", "bootstrap.servers",
        "key.deserializer", "value.deserializer", "socket.connection.setup.timeout.ms",
    ]

    /// Applies `kafka.consumer.*`-style settings (keys without the prefix);
    /// returns the keys it does not know (for a warning), throws naming a
    /// key whose value is wrong.
    public mutating func apply(_ settings: [String: String], keyPrefix: String) throws -> [String] {
        func int(_ k: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let s = settings[k] else { return nil }
            guard let v = Int(s), range.contains(v) else {
                throw KafkaClientError(description: "\(keyPrefix)\(k): '\(s)' is not a number in \(range.lowerBound)...\(range.upperBound)")
            }
            return v
        }
        if let v = settings["group.id"] { groupId = v }
        if let v = settings["client.id"] { clientId = v }
        if let s = settings["auto.offset.reset"] {
            guard let v = OffsetReset(rawValue: s.lowercased()) else {
                throw KafkaClientError(description: "\(keyPrefix)auto.offset.reset: '\(s)' is not earliest, latest or none")
            }
            autoOffsetReset = v
        }
        sessionTimeoutMs = try int("session.timeout.ms", 1...3_600_000) ?? sessionTimeoutMs
        heartbeatIntervalMs = try int("heartbeat.interval.ms", 1...3_600_000) ?? heartbeatIntervalMs
        maxPollIntervalMs = try int("max.poll.interval.ms", 1...Int(Int32.max)) ?? maxPollIntervalMs
        fetchMinBytes = try int("fetch.min.bytes", 0...Int(Int32.max)) ?? fetchMinBytes
        fetchMaxWaitMs = try int("fetch.max.wait.ms", 0...Int(Int32.max)) ?? fetchMaxWaitMs
        fetchMaxBytes = try int("fetch.max.bytes", 0...Int(Int32.max)) ?? fetchMaxBytes
        maxPartitionFetchBytes = try int("max.partition.fetch.bytes", 0...Int(Int32.max)) ?? maxPartitionFetchBytes
        requestTimeoutMs = try int("request.timeout.ms", 1...Int(Int32.max)) ?? requestTimeoutMs
        connectTimeoutMs = try int("socket.connection.setup.timeout.ms", 1...Int(Int32.max)) ?? connectTimeoutMs
        metadataMaxAgeMs = try int("metadata.max.age.ms", 0...Int(Int32.max)) ?? metadataMaxAgeMs
        retryBackoffMs = try int("retry.backoff.ms", 0...Int(Int32.max)) ?? retryBackoffMs
        if let s = settings["partition.assignment.strategy"] {
            var list: [PartitionAssignor] = []
            for item in s.split(separator: ",") {
                let name = String(item).trimmingCharacters(inSet: " \t")
                guard let a = PartitionAssignor(configName: name) else {
                    throw KafkaClientError(description: "\(keyPrefix)partition.assignment.strategy: '\(name)' is not supported (range, roundrobin, or Kafka's RangeAssignor / RoundRobinAssignor class names)")
                }
                list.append(a)
            }
            if !list.isEmpty { assignors = list }
        }
        guard heartbeatIntervalMs < sessionTimeoutMs else {
            throw KafkaClientError(description: "\(keyPrefix)heartbeat.interval.ms (\(heartbeatIntervalMs)) must be lower than session.timeout.ms (\(sessionTimeoutMs))")
        }
        return settings.keys.filter { !Self.knownKeys.contains($0) }.sorted()
    }
}
