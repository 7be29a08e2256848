import KafkaProtocol
#if canImport(Glibc)
import Glibc
#endif

/// A blocking Kafka producer for a caller that works in batches (a sink's
/// channel transaction): `append` records, then `flush` sends them — whole
/// batches per partition, one Produce request per leader holding a batch
/// for each of its partitions, several requests in flight per connection —
/// and returns once the brokers acknowledged every record (with acks=0:
/// once every request was written). On a retriable failure (a leader moved
/// or is missing, a broker went away, a timeout) it refreshes metadata and
/// sends again with exponential back-off until `delivery.timeout.ms`; then
/// `flush` throws and the caller retries the same records later.
///
/// With idempotence (on by default with acks=all, as in Kafka), batches
/// carry a producer id and sequence numbers, so a batch sent twice is
/// written once.
///
/// Not thread-safe: one thread calls everything.
public final class KafkaProducer {
    public let config: ProducerConfig
    let cluster: BrokerConnections
    let log: (KafkaLogLevel, String) -> Void
    /// Polled while waiting; true ends the wait and fails the flush (shutdown).
    public var shouldAbort: () -> Bool = { false }

    var topics: [String: ProducerTopic] = [:]
    /// Closed batches in the order they filled up, waiting for `flush`.
    var ready: [ProducerBatch] = []
    private var pool: [ProducerBatch] = []

    // Idempotence.
    var producerId: Int64 = -1
    var producerEpoch: Int16 = -1
    /// Bumped whenever the producer id changes; batches sealed under an older one are renumbered.
    var generation = 0
    /// Something was sent since the last producer id: a failed flush leaves
    /// the broker's sequence state unknown, so the next flush starts a new id.
    var sentSinceReset = false

    public init(config: ProducerConfig, log: @escaping (KafkaLogLevel, String) -> Void = { _, _ in }) {
        self.config = config
        self.log = log
        cluster = BrokerConnections(bootstrap: config.bootstrapServers, clientId: config.clientId,
                                    connectTimeoutMs: config.connectTimeoutMs, requestTimeoutMs: config.requestTimeoutMs)
        cluster.log = log
    }

    /// Called for every connection opened, closed or failed.
    public func onConnectionEvent(_ body: @escaping (ConnectionEvent) -> Void) { cluster.onEvent = body }

    public func close() {
        discard()
        cluster.closeAll()
    }

    // MARK: Topics

    /// The topic with its partitions, fetching metadata (which creates the
    /// topic when the broker auto-creates topics) on first use. Waits up to
    /// max.block.ms for a topic without leaders yet.
    public func topic(_ name: String) throws -> ProducerTopic {
        if let t = topics[name] { return t }
        guard !name.isEmpty else { throw KafkaProduceError("the topic name is empty", retriable: false) }
        let deadline = monotonicMillis() + Int64(config.maxBlockMs)
        var attempt = 0
        var lastError = ""
        while true {
            do {
                try cluster.refresh(topics: Array(topics.keys) + [name], abort: shouldAbort)
                updateTopics()
                if let m = cluster.metadata.topics[name] {
                    switch m.errorCode {
                    case KafkaErrorCode.none where m.partitionCount > 0:
                        let t = ProducerTopic(name: name, id: topics.count + 1, metadata: m)
                        topics[name] = t
                        return t
                    case KafkaErrorCode.invalidTopic, KafkaErrorCode.topicAuthorizationFailed:
                        throw KafkaProduceError("topic '\(name)': \(kafkaErrorName(m.errorCode))", retriable: false)
                    default:
                        lastError = "topic '\(name)': \(kafkaErrorName(m.errorCode))"
                    }
                } else {
                    lastError = "topic '\(name)' is not in the metadata"
                }
            } catch let e as KafkaClientError where e.isRetriable {
                lastError = e.description
            }
            attempt += 1
            if attempt == 1 || attempt % 10 == 0 {
                log(.warn, "waiting for the metadata of topic '\(name)' (attempt \(attempt)): \(lastError)")
            }
            guard try pause(attempt: attempt, deadline: deadline) else {
                throw KafkaProduceError("no metadata for topic '\(name)' within max.block.ms (\(config.maxBlockMs) ms): \(lastError)",
                                        retriable: true)
            }
        }
    }

    /// Brings every known topic up to the cluster's latest metadata.
    func updateTopics() {
        for (name, t) in topics {
            if let m = cluster.metadata.topics[name] { t.update(m) }
        }
    }

    // MARK: Records

    /// Adds a record for the next `flush`. `partition` nil: the key's hash
    /// picks it (Kafka's default partitioner), or, without a key, the
    /// sticky partition. Throws for a partition the topic does not have and
    /// a record larger than max.request.size.
    public func append(_ topic: ProducerTopic, partition: Int32?, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer,
                       headers: UnsafeBufferPointer<RecordHeaderBytes>, timestamp: Int64) throws {
        let p: Int32
        if let partition {
            guard partition >= 0, Int(partition) < topic.partitionCount else {
                throw KafkaProduceError("partition \(partition) of topic '\(topic.name)' does not exist (it has \(topic.partitionCount))",
                                        retriable: false)
            }
            p = partition
        } else if let key {
            p = kafkaPartition(forKey: key, partitionCount: topic.partitionCount)
        } else {
            let approx = value.count + 16
            p = topic.sticky.partition(available: topic.available, partitionCount: topic.partitionCount,
                                       recordBytes: approx, batchSize: config.batchSize)
        }
        if let b = topic.open[Int(p)] {
            let size = b.sizeOfNext(keyCount: key?.count, valueCount: value.count, headers: headers, timestamp: timestamp)
            if b.byteCount + size <= config.batchSize {
                b.append(key: key, value: value, headers: headers, timestamp: timestamp)
                return
            }
            try closeOpenBatch(topic, p)
        }
        let size = ProducerBatch.recordSize(keyCount: key?.count, valueCount: value.count, headers: headers,
                                            timestampDelta: 0, offsetDelta: 0).total
        guard ProducerBatch.headerSize + size <= config.maxRequestSize else {
            throw KafkaProduceError("a record of \(ProducerBatch.headerSize + size) bytes for topic '\(topic.name)' exceeds max.request.size (\(config.maxRequestSize))",
                                    retriable: false)
        }
        let b = newBatch(topic, p, capacity: min(max(config.batchSize, ProducerBatch.headerSize + size), 1 << 20))
        b.append(key: key, value: value, headers: headers, timestamp: timestamp)
    }

    private func newBatch(_ topic: ProducerTopic, _ partition: Int32, capacity: Int) -> ProducerBatch {
        let b = pool.popLast() ?? ProducerBatch(capacity: capacity)
        b.reset(topic: topic, partition: partition)
        topic.open[Int(partition)] = b
        return b
    }

    private func closeOpenBatch(_ topic: ProducerTopic, _ partition: Int32) throws {
        guard let b = topic.open[Int(partition)] else { return }
        topic.open[Int(partition)] = nil
        try b.close(codec: config.compression, level: config.compressionLevel)
        ready.append(b)
    }

    /// Records appended and not flushed yet.
    public var hasPendingRecords: Bool {
        !ready.isEmpty || topics.values.contains { $0.open.contains { $0 != nil } }
    }

    // MARK: Flush

    /// Sends every record appended since the last flush and waits until all
    /// are acknowledged. Throws `KafkaProduceError` when it gives up (the
    /// records are then discarded here: the caller still has them).
    public func flush() throws {
        do {
            for t in topics.values {
                for p in 0..<t.open.count where t.open[p] != nil { try closeOpenBatch(t, Int32(p)) }
            }
            guard !ready.isEmpty else { return }
            try deliver(ready)
            recycle()
        } catch {
            discard()
            if config.enableIdempotence && sentSinceReset { resetProducerId() }
            throw error
        }
    }

    /// Forgets the records appended since the last flush.
    public func discard() {
        for t in topics.values {
            for p in 0..<t.open.count {
                if let b = t.open[p] { ready.append(b) }
                t.open[p] = nil
            }
        }
        recycle()
    }

    private func recycle() {
        for b in ready {
            b.release()
            // Keep the pool's memory bounded: a few batches' worth.
            if pool.count < 64 && b.capacity <= 4 << 20 { pool.append(b) }
        }
        ready.removeAll(keepingCapacity: true)
    }

    func resetProducerId() {
        producerId = -1
        producerEpoch = -1
        generation += 1
        sentSinceReset = false
        for t in topics.values {
            for i in t.nextSequence.indices { t.nextSequence[i] = 0 }
        }
    }

    // MARK: Waiting

    /// Sleeps the back-off for `attempt` (retry.backoff.ms doubling up to
    /// retry.backoff.max.ms, ±20 % jitter). False if the deadline comes first;
    /// throws if `shouldAbort` says stop.
    func pause(attempt: Int, deadline: Int64) throws -> Bool {
        let base = Double(config.retryBackoffMs) * pow(2, Double(min(attempt - 1, 30)))
        let capped = min(base, Double(config.retryBackoffMaxMs))
        let jittered = Int64(capped * Double.random(in: 0.8...1.2))
        let now = monotonicMillis()
        if now >= deadline { return false }
        let until = min(now + jittered, deadline)
        while monotonicMillis() < until {
            if shouldAbort() { throw KafkaProduceError("stopping: delivery abandoned", retriable: true) }
            usleep(UInt32(min(until - monotonicMillis(), 50)) * 1000)
        }
        if shouldAbort() { throw KafkaProduceError("stopping: delivery abandoned", retriable: true) }
        return true
    }
}
