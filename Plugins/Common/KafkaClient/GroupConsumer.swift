import KafkaProtocol
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// One record as a consumer sees it; key, value and header values are
/// slices of the fetch response.
public struct ConsumedRecord: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var timestamp: Int64
    public var key: ByteBuffer?
    public var value: ByteBuffer?
    public var headers: [RecordHeader]
}

/// A consumer in a classic consumer group, as the Java client's
/// `subscribe` + `poll` + `commitSync` (auto-commit off): the caller
/// commits what it has safely handed on. Not thread-safe: one thread calls
/// poll, commit and close; heartbeats run on their own thread.
public final class GroupConsumer {
    public typealias Decompress = (KafkaCompression, ByteBuffer) throws -> ByteBuffer

    let config: ConsumerConfig
    let brokers: BrokerConnections
    let membership: GroupMembership
    let decompress: Decompress
    let log: (KafkaLogLevel, String) -> Void
    /// Next offset to fetch, per assigned partition.
    private var positions: [TopicPartitionKey: Int64] = [:]
    private var buffered: [ConsumedRecord] = []
    private var bufferedAt = 0
    private var subscribed: [String] = []
    private var lastPatternCheck: Int64 = 0

    /// `shouldStop` is polled during long waits (joining, retrying) and ends them.
    public init(config: ConsumerConfig, decompress: @escaping Decompress, shouldStop: (() -> Bool)? = nil,
                log: @escaping (KafkaLogLevel, String) -> Void = { _, _ in }) {
        self.config = config
        self.decompress = decompress
        self.log = log
        brokers = BrokerConnections(bootstrap: config.bootstrap, clientId: config.clientId,
                                    connectTimeoutMs: config.connectTimeoutMs, requestTimeoutMs: config.requestTimeoutMs)
        brokers.log = log
        membership = GroupMembership(config: config, shouldStop: shouldStop, log: log)
    }

    /// Up to `maxRecords` records, waiting at most `timeoutMs` for the first.
    /// Joins or rejoins the group first when needed (which forgets records
    /// fetched but not yet returned: they come again from the committed offsets).
    public func poll(maxRecords: Int, timeoutMs: Int) throws -> [ConsumedRecord] {
        let deadline = monotonicMillis() + Int64(max(0, timeoutMs))
        while true {
            try checkSubscription()
            if membership.rejoinNeeded { try rejoin() }
            if bufferedAt < buffered.count {
                let end = min(buffered.count, bufferedAt + maxRecords)
                let out = Array(buffered[bufferedAt..<end])
                bufferedAt = end
                if bufferedAt == buffered.count {
                    buffered.removeAll(keepingCapacity: true)
                    bufferedAt = 0
                }
                return out
            }
            let left = deadline - monotonicMillis()
            if left <= 0 { return [] }
            if positions.isEmpty {
                usleep(UInt32(min(left, 100)) * 1000)
                continue
            }
            try fetch(maxWaitMs: Int(min(left, Int64(config.fetchMaxWaitMs))))
        }
    }

    /// Commits the next offsets to read (last handed-on offset + 1).
    public func commit(_ offsets: [TopicPartitionKey: Int64]) throws {
        try membership.commit(brokers: brokers, offsets)
    }

    /// Leaves the group and closes every connection.
    public func close() {
        membership.leave(brokers: brokers)
        brokers.closeAll()
    }

    // MARK: Subscription and assignment

    /// With a pattern, the matching topics now (from the whole cluster's
    /// metadata, re-read every metadata.max.age.ms); a change means rejoin.
    private func checkSubscription() throws {
        guard let pattern = config.topicPattern else {
            if subscribed.isEmpty { subscribed = config.topics }
            return
        }
        let now = monotonicMillis()
        guard subscribed.isEmpty || now - lastPatternCheck >= Int64(config.metadataMaxAgeMs) else { return }
        lastPatternCheck = now
        let matched = try allTopicNames().filter(pattern).sorted()
        if matched != subscribed {
            log(.info, "subscription pattern now matches \(matched)")
            subscribed = matched
            membership.requestRejoin()
        }
    }

    private func allTopicNames() throws -> [String] {
        if brokers.metadata.brokers.isEmpty { try brokers.refresh(topics: [], abort: membership.shouldStop) }
        let c = try brokers.anyConnection()
        let v = try c.version(MetadataRequest.self, max: 12)
        var req = MetadataRequest()
        req.topics = nil
        if v >= 4 { req.allowAutoTopicCreation = false }
        let resp: MetadataResponse = try c.send(req, version: v)
        return resp.topics.compactMap { $0.errorCode == 0 ? $0.name : nil }.filter { !$0.hasPrefix("__") }
    }

    private func rejoin() throws {
        let mine = try membership.join(brokers: brokers, topics: subscribed) { [brokers] topics in
            guard !topics.isEmpty else { return [:] }
            try brokers.refresh(topics: topics, abort: nil)
            var counts: [String: Int] = [:]
            for t in topics { counts[t] = brokers.metadata.topics[t]?.partitionCount ?? 0 }
            return counts
        }
        buffered.removeAll()
        bufferedAt = 0
        positions = [:]
        guard !mine.isEmpty else { return }
        try brokers.refresh(topics: Array(mine.keys), abort: nil)
        let committed = try membership.committedOffsets(brokers: brokers, mine)
        var missing: [TopicPartitionKey] = []
        for (t, ps) in mine {
            for p in ps {
                let tp = TopicPartitionKey(t, p)
                if let o = committed[tp] { positions[tp] = o } else { missing.append(tp) }
            }
        }
        if !missing.isEmpty { try resetPositions(missing) }
    }

    /// auto.offset.reset for partitions without a committed (or a valid) offset.
    private func resetPositions(_ parts: [TopicPartitionKey]) throws {
        guard config.autoOffsetReset != .none else {
            throw KafkaClientError(description: "no committed offset for \(parts.map(\.description).joined(separator: ", ")) and auto.offset.reset is none")
        }
        let timestamp: Int64 = config.autoOffsetReset == .earliest ? -2 : -1
        var byLeader: [Int32: [TopicPartitionKey]] = [:]
        for tp in parts {
            guard let l = brokers.metadata.leader(tp.topic, tp.partition) else {
                throw KafkaClientError(description: "\(tp) has no leader", retriable: true)
            }
            byLeader[l, default: []].append(tp)
        }
        for (leader, tps) in byLeader {
            let c = try brokers.connection(leader)
            let v = try c.version(ListOffsetsRequest.self, max: 7)
            var req = ListOffsetsRequest()
            req.replicaId = -1
            var byTopic: [String: [ListOffsetsRequest.ListOffsetsPartition]] = [:]
            for tp in tps {
                var p = ListOffsetsRequest.ListOffsetsPartition()
                p.partitionIndex = tp.partition
                p.timestamp = timestamp
                byTopic[tp.topic, default: []].append(p)
            }
            req.topics = byTopic.map { ListOffsetsRequest.ListOffsetsTopic(name: $0.key, partitions: $0.value) }
            let resp: ListOffsetsResponse
            do { resp = try c.send(req, version: v) } catch { brokers.drop(leader); throw error }
            for t in resp.topics {
                for p in t.partitions {
                    guard p.errorCode == 0 else {
                        throw KafkaClientError(description: "ListOffsets \(t.name)-\(p.partitionIndex): \(kafkaErrorName(p.errorCode))", retriable: true)
                    }
                    positions[TopicPartitionKey(t.name, p.partitionIndex)] = p.offset
                    log(.info, "\(t.name)-\(p.partitionIndex): starting at offset \(p.offset) (auto.offset.reset=\(config.autoOffsetReset.rawValue))")
                }
            }
        }
    }

    // MARK: Fetch

    private func fetch(maxWaitMs: Int) throws {
        var byLeader: [Int32: [TopicPartitionKey]] = [:]
        var leaderless = false
        for tp in positions.keys {
            if let l = brokers.metadata.leader(tp.topic, tp.partition) { byLeader[l, default: []].append(tp) } else { leaderless = true }
        }
        if leaderless { try? brokers.refresh(topics: Array(Set(positions.keys.map(\.topic))), abort: nil) }
        var wait = maxWaitMs
        for (leader, tps) in byLeader.sorted(by: { $0.key < $1.key }) {
            do {
                try fetch(from: leader, tps, maxWaitMs: wait)
            } catch let e as KafkaClientError {
                brokers.drop(leader)
                log(.warn, "fetch from broker \(leader): \(e.description)")
                try? brokers.refresh(topics: Array(Set(tps.map(\.topic))), abort: nil)
                usleep(UInt32(config.retryBackoffMs) * 1000)
            }
            wait = 0  // only the first broker's fetch long-polls
        }
        if byLeader.isEmpty { usleep(UInt32(min(maxWaitMs, config.retryBackoffMs)) * 1000) }
    }

    private func fetch(from leader: Int32, _ tps: [TopicPartitionKey], maxWaitMs: Int) throws {
        let c = try brokers.connection(leader)
        let v = try c.version(FetchRequest.self, max: 12)
        var req = FetchRequest()
        req.replicaId = -1
        req.maxWaitMs = Int32(maxWaitMs)
        req.minBytes = Int32(config.fetchMinBytes)
        if v >= 3 { req.maxBytes = Int32(config.fetchMaxBytes) }
        var byTopic: [String: [FetchRequest.FetchPartition]] = [:]
        for tp in tps {
            var p = FetchRequest.FetchPartition()
            p.partition = tp.partition
            p.fetchOffset = positions[tp]!
            p.partitionMaxBytes = Int32(config.maxPartitionFetchBytes)
            byTopic[tp.topic, default: []].append(p)
        }
        req.topics = byTopic.keys.sorted().map { FetchRequest.FetchTopic(topic: $0, partitions: byTopic[$0]!) }
        c.requestTimeoutMs = config.requestTimeoutMs + maxWaitMs
        let resp: FetchResponse = try c.send(req, version: v)
        var refresh = false
        for t in resp.responses {
            for p in t.partitions {
                let tp = TopicPartitionKey(t.topic, p.partitionIndex)
                guard let position = positions[tp] else { continue }
                switch p.errorCode {
                case 0:
                    if let records = p.records, records.readableBytes > 0 {
                        positions[tp] = try decode(records, tp, from: position)
                    }
                case 1:  // OFFSET_OUT_OF_RANGE
                    log(.warn, "\(tp): offset \(position) is out of range; applying auto.offset.reset=\(config.autoOffsetReset.rawValue)")
                    try resetPositions([tp])
                case 3, 5, 6, 74, 75:  // unknown partition, no leader, not leader, fenced / unknown epoch
                    refresh = true
                default:
                    throw KafkaClientError(description: "fetch \(tp): \(kafkaErrorName(p.errorCode))", retriable: true)
                }
            }
        }
        if refresh { try? brokers.refresh(topics: Array(Set(tps.map(\.topic))), abort: nil) }
    }

    /// Appends the records at or after `position` to the buffer; returns the next position.
    private func decode(_ records: ByteBuffer, _ tp: TopicPartitionKey, from position: Int64) throws -> Int64 {
        var next = position
        for batch in try RecordBatch.batches(in: records, allowPartialTail: true) {
            let h = batch.header
            guard h.lastOffset >= next else { continue }
            guard batch.isCRCValid else {
                throw KafkaClientError(description: "fetch \(tp): record batch at offset \(h.baseOffset) fails its CRC", retriable: true)
            }
            if !h.attributes.isControl {
                var it = try batch.makeRecordIterator(decompressing: decompress)
                while let r = try it.next() {
                    guard r.offset >= next else { continue }  // a batch may start before the position
                    buffered.append(ConsumedRecord(topic: tp.topic, partition: tp.partition, offset: r.offset, timestamp: r.timestamp,
                                                   key: r.key, value: r.value, headers: r.headers))
                }
            }
            next = h.lastOffset + 1
        }
        return next
    }
}
