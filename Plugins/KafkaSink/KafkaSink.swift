import KafkaClient
import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// Flume's Kafka sink: each channel transaction's events become Kafka
/// records (value = body, or the Avro-encoded Flume event; key = the `key`
/// header), sent as whole batches per partition; the transaction commits
/// only after the brokers acknowledged every record (acks=0: after every
/// request was written). Any failure rolls the transaction back, so the
/// same events are sent again later: at least once.
final class KafkaSink: Sink {
    let context: ComponentContext
    let config: KafkaSinkConfig
    let producer: KafkaProducer

    private let template: TopicTemplate
    private let keyHeader = HeaderKey("key")
    private let topicHeader: HeaderKey
    private let partitionHeader: HeaderKey?
    private let timestampHeader: HeaderKey?
    /// Flume header to look up → Kafka header name to write.
    private let copies: [(flume: HeaderKey, kafka: HeaderKey)]
    private let recordHeaders: UnsafeMutableBufferPointer<RecordHeaderBytes>
    private let avro = ScratchBuffer()
    private let topicScratch = ScratchBuffer(capacity: 256)
    /// The topic of the previous event: consecutive events mostly share one.
    private var lastTopic: ProducerTopic?
    /// `kafka.topic` when it has no escapes, once its metadata is known.
    private var fixedTopic: ProducerTopic?

    private let sendTimer, rollbacks, writeFails: Metric
    private var sendNanos: UInt64 = 0

    init(context: ComponentContext, properties: Properties) throws {
        self.context = context
        config = try KafkaSinkConfig(properties)
        template = TopicTemplate(config.topic)
        topicHeader = HeaderKey(config.topicHeader)
        partitionHeader = config.partitionIdHeader.map(HeaderKey.init)
        timestampHeader = config.timestampHeader.map(HeaderKey.init)
        copies = config.headerCopies.map { (HeaderKey($0.flume), HeaderKey($0.kafka)) }
        recordHeaders = .allocate(capacity: max(copies.count, 1))
        producer = KafkaProducer(config: config.producer) { [context] level, message in
            context.log(level.sluice, message)
        }
        sendTimer = context.counter("KafkaEventSendTimer")
        rollbacks = context.counter("RollbackCount")
        writeFails = context.counter("EventWriteFail")
        let opened = context.counter("ConnectionCreatedCount")
        let closed = context.counter("ConnectionClosedCount")
        let failed = context.counter("ConnectionFailedCount")
        producer.onConnectionEvent { event in
            switch event {
            case .opened: opened.add(1)
            case .closed: closed.add(1)
            case .failed: failed.add(1)
            }
        }
        producer.shouldAbort = { [context] in context.isStopping }
        for w in config.warnings { context.log(.warn, w) }
    }

    deinit { recordHeaders.deallocate() }

    func start() throws {
        let p = config.producer
        context.log(.info, "sending to topic \(config.topic) via \(config.bootstrapServers) (acks=\(p.acks == -1 ? "all" : String(p.acks)), "
            + "idempotence \(p.enableIdempotence ? "on" : "off"), compression \(p.compression), \(config.batchSize) events per transaction)")
    }

    func stop() throws {
        producer.close()
    }

    func process() throws -> ProcessStatus {
        let batch = try context.take(max: config.batchSize)
        let n = batch.count
        if n == 0 {
            try context.commit()
            return .backoff
        }
        let started = monotonicNanos()
        do {
            try append(batch)
            try producer.flush()
        } catch {
            producer.discard()
            context.rollback()
            rollbacks.add(1)
            writeFails.add(1)
            throw SluiceError.io("failed to publish \(n) events (rolled back; they will be sent again): \(error)")
        }
        // Whole milliseconds, carrying the remainder: a transaction often takes less than one.
        sendNanos += monotonicNanos() - started
        if sendNanos >= 1_000_000 {
            sendTimer.add(Int64(sendNanos / 1_000_000))
            sendNanos %= 1_000_000
        }
        try context.commit()
        return .ready
    }

    // MARK: Events to records

    private func append(_ batch: EventBatchView) throws {
        let now = epochMillis()
        var badTimestamps = 0
        for i in 0..<batch.count {
            let e = batch[i]
            var partition = config.defaultPartitionId
            if let ph = partitionHeader, let v = ph.value(in: e) {
                guard let id = parseJavaInt(v) else {
                    throw SluiceError.generic("event \(i + 1) of the batch: header '\(ph.name)' (partitionIdHeader) is '\(String(decoding: v, as: UTF8.self))', not an integer partition id")
                }
                partition = id
            }
            let topic = try topic(of: e)
            var timestamp = now
            if let th = timestampHeader, let v = th.value(in: e) {
                if let t = parseJavaLong(v) { timestamp = t } else { badTimestamps += 1 }
            }
            var headerCount = 0
            for c in copies {
                if let v = c.flume.value(in: e) {
                    recordHeaders[headerCount] = RecordHeaderBytes(key: c.kafka.raw, value: v)
                    headerCount += 1
                }
            }
            let value: UnsafeRawBufferPointer
            if config.useFlumeEventFormat {
                AvroFlumeEvent.encode(e, into: avro)
                value = avro.bytes
            } else {
                value = e.body
            }
            try producer.append(topic, partition: partition, key: keyHeader.value(in: e), value: value,
                                headers: UnsafeBufferPointer(start: recordHeaders.baseAddress, count: headerCount),
                                timestamp: timestamp)
        }
        if badTimestamps > 0 {
            context.log(.warn, "\(badTimestamps) events had a '\(config.timestampHeader ?? "")' header (timestampHeader) that is not a number: sent with the current time")
        }
    }

    /// The event's topic: its topic header (allowTopicOverride), else
    /// `kafka.topic` with `%{header}` escapes resolved.
    private func topic(of e: Event) throws -> ProducerTopic {
        if config.allowTopicOverride, let v = topicHeader.value(in: e) {
            return try topic(named: v)
        }
        if let constant = template.constant {
            if let t = fixedTopic { return t }
            let t = try producer.topic(constant)
            fixedTopic = t
            return t
        }
        template.render(e, into: topicScratch)
        return try topic(named: topicScratch.bytes)
    }

    private func topic(named bytes: UnsafeRawBufferPointer) throws -> ProducerTopic {
        if let t = lastTopic, t.hasName(bytes) { return t }
        let t = try producer.topic(String(decoding: bytes, as: UTF8.self))
        lastTopic = t
        return t
    }
}

extension KafkaLogLevel {
    var sluice: LogLevel {
        switch self {
        case .debug: return .debug
        case .info: return .info
        case .warn: return .warn
        case .error: return .error
        }
    }
}
