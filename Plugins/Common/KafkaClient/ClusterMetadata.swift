import KafkaProtocol

/// What a Metadata response says about one partition.
public struct PartitionMetadata: Sendable, Equatable {
    public var partition: Int32
    /// Node id of the leader; -1 when there is none right now.
    public var leader: Int32
    public var leaderEpoch: Int32
    public var errorCode: Int16
}

/// What a Metadata response says about one topic.
public struct TopicMetadata: Sendable, Equatable {
    public var name: String
    public var errorCode: Int16
    /// Indexed by partition id (0..<count).
    public var partitions: [PartitionMetadata]
    /// Partitions that have a leader now, in id order.
    public var availablePartitions: [Int32]

    public var partitionCount: Int { partitions.count }
}

/// The cluster as the last Metadata response described it: brokers and the
/// leaders of the topics asked about. A value: refreshing builds a new one.
public struct ClusterMetadata: Sendable {
    public var brokers: [Int32: BrokerAddress] = [:]
    public var topics: [String: TopicMetadata] = [:]
    /// When it was fetched (monotonic milliseconds); 0 for never.
    public var fetchedAt: Int64 = 0

    public init() {}

    public init(_ r: MetadataResponse, fetchedAt: Int64) {
        self.fetchedAt = fetchedAt
        for b in r.brokers { brokers[b.nodeId] = BrokerAddress(host: b.host, port: Int(b.port)) }
        for t in r.topics {
            guard let name = t.name else { continue }
            // Partition ids are 0..<n; a response missing some still gets a slot for each (leaderless).
            let count = (t.partitions.map { Int($0.partitionIndex) }.max() ?? -1) + 1
            var parts = (0..<count).map {
                PartitionMetadata(partition: Int32($0), leader: -1, leaderEpoch: -1, errorCode: KafkaErrorCode.leaderNotAvailable)
            }
            for p in t.partitions where p.partitionIndex >= 0 {
                parts[Int(p.partitionIndex)] = PartitionMetadata(partition: p.partitionIndex, leader: p.leaderId,
                                                                 leaderEpoch: p.leaderEpoch, errorCode: p.errorCode)
            }
            let available = parts.filter { $0.leader >= 0 && brokers[$0.leader] != nil }.map(\.partition)
            topics[name] = TopicMetadata(name: name, errorCode: t.errorCode, partitions: parts, availablePartitions: available)
        }
    }

    /// The leader's node id, if the partition has one the metadata can reach.
    public func leader(_ topic: String, _ partition: Int32) -> Int32? {
        guard let t = topics[topic], partition >= 0, Int(partition) < t.partitions.count else { return nil }
        let l = t.partitions[Int(partition)].leader
        return l >= 0 && brokers[l] != nil ? l : nil
    }

    /// This metadata with `newer`'s brokers and topics replacing its own
    /// (topics `newer` does not mention are kept).
    public func merging(_ newer: ClusterMetadata) -> ClusterMetadata {
        var m = newer
        for (name, t) in topics where m.topics[name] == nil { m.topics[name] = t }
        return m
    }
}
