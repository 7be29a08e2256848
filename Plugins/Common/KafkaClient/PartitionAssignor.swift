/// The classic consumer protocol's leader-side assignors, by the protocol
/// names the Java client uses, so a Sluice source and Java/librdkafka
/// consumers can share a group.
public enum PartitionAssignor: String, Sendable {
    case range
    case roundRobin = "roundrobin"

    /// `range`, `roundrobin`, or the Java class names.
    public init?(configName: String) {
        switch configName {
        case "range", "org.apache.kafka.clients.consumer.RangeAssignor": self = .range
        case "roundrobin", "org.apache.kafka.clients.consumer.RoundRobinAssignor": self = .roundRobin
        default: return nil
        }
    }

    /// member id → topic → partitions. `subscriptions` maps member ids to
    /// their topics; `partitionCounts` knows every subscribed topic.
    public func assign(subscriptions: [String: [String]], partitionCounts: [String: Int]) -> [String: [String: [Int32]]] {
        var out: [String: [String: [Int32]]] = [:]
        for m in subscriptions.keys { out[m] = [:] }
        switch self {
        case .range:
            // Per topic: members in id order take consecutive ranges; the
            // first (count % members) get one extra partition.
            var byTopic: [String: [String]] = [:]
            for (m, topics) in subscriptions { for t in Set(topics) { byTopic[t, default: []].append(m) } }
            for (topic, members) in byTopic {
                guard let n = partitionCounts[topic], n > 0 else { continue }
                let sorted = members.sorted()
                let each = n / sorted.count, extra = n % sorted.count
                var next = 0
                for (i, m) in sorted.enumerated() {
                    let take = each + (i < extra ? 1 : 0)
                    if take > 0 { out[m]![topic] = (next..<(next + take)).map { Int32($0) } }
                    next += take
                }
            }
        case .roundRobin:
            // All partitions of all topics in (topic, partition) order, dealt
            // to the members in id order, skipping members not subscribed.
            let members = subscriptions.keys.sorted()
            let subscribed = subscriptions.mapValues { Set($0) }
            let topics = Set(subscriptions.values.flatMap { $0 }).sorted()
            var turn = 0
            for topic in topics {
                for p in 0..<(partitionCounts[topic] ?? 0) {
                    for _ in 0..<members.count {
                        let m = members[turn % members.count]
                        turn += 1
                        if subscribed[m]!.contains(topic) {
                            out[m]![topic, default: []].append(Int32(p))
                            break
                        }
                    }
                }
            }
        }
        return out
    }
}
