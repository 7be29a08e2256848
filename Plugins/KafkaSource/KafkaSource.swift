import KafkaClient
import KafkaCompression
import KafkaProtocol
import NIOCore
import SluiceSDK

/// Flume's Kafka source: a member of a consumer group that turns records
/// into events. Offsets are committed only after the channel committed the
/// batch, so a crash or a rebalance re-delivers rather than loses
/// (at-least-once). A batch the channel refuses is kept and offered again.
final class KafkaSource: PollableSource {
    let context: ComponentContext
    let config: KafkaSourceConfig
    private var consumer: GroupConsumer?
    private var batch: OwnedBatch?
    /// Next offsets to commit once `batch` is in the channel.
    private var pending: [TopicPartitionKey: Int64] = [:]
    private let getTimer: Metric
    private let commitTimer: Metric
    private let emptyCount: Metric
    private let commitFailures: Metric

    init(context: ComponentContext, properties: Properties) throws {
        self.context = context
        config = try KafkaSourceConfig(properties)
        getTimer = context.counter("KafkaEventGetTimer")
        commitTimer = context.counter("KafkaCommitTimer")
        emptyCount = context.counter("KafkaEmptyCount")
        commitFailures = context.counter("KafkaCommitFailures")
    }

    func start() throws {
        for w in config.warnings { context.log(.warn, w) }
        let ctx = context
        consumer = GroupConsumer(config: config.consumer, decompress: { codec, data in
            try KafkaCodecs.decompress(codec, data, maxOutput: KafkaCodecs.defaultMaxDecompressedSize)
        }, shouldStop: { ctx.isStopping }, log: { level, message in
            switch level {
            case .debug: ctx.log(.debug, message)
            case .info: ctx.log(.info, message)
            case .warn: ctx.log(.warn, message)
            case .error: ctx.log(.error, message)
            }
        })
    }

    func stop() throws {
        consumer?.close()
        consumer = nil
    }

    func process() throws -> ProcessStatus {
        guard let consumer else { return .backoff }
        let b = batch ?? context.newBatch(capacity: config.batchSize)
        batch = b
        if b.isEmpty {
            // Refill only after the previous batch is in the channel.
            pending = [:]
            let t0 = monotonicMillis()
            let deadline = t0 + Int64(config.batchDurationMillis)
            while b.count < config.batchSize && !context.isStopping {
                let left = deadline - monotonicMillis()
                if left <= 0 { break }
                do {
                    for r in try consumer.poll(maxRecords: config.batchSize - b.count, timeoutMs: Int(left)) {
                        try append(r, to: b)
                    }
                } catch {
                    // What this batch already holds still goes to the channel
                    // (the consumer's position is past it); the next poll retries.
                    context.log(.warn, "poll: \(error)")
                    if b.isEmpty { return .backoff }
                    break
                }
            }
            getTimer.add(monotonicMillis() - t0)
            if b.isEmpty {
                emptyCount.add()
                return .backoff
            }
        }
        switch try context.submit(b) {
        case .channelFull:
            return .backoff
        case .committed:
            let t0 = monotonicMillis()
            do {
                try consumer.commit(pending)
            } catch {
                // The events are in the channel; whoever reads these partitions
                // next starts at the last good commit and delivers them again.
                commitFailures.add()
                context.log(.warn, "offset commit after the channel commit failed (events may be delivered again): \(error)")
            }
            commitTimer.add(monotonicMillis() - t0)
            pending = [:]
            return .ready
        }
    }

    private func append(_ r: ConsumedRecord, to b: OwnedBatch) throws {
        var headers: [(String, String)] = []
        var body = r.value ?? ByteBuffer()
        if config.useFlumeEventFormat, let v = r.value {
            do {
                let decoded = try FlumeAvroDecoding.decode(v)
                headers = decoded.headers
                body = decoded.body
            } catch {
                context.log(.warn, "\(r.topic)-\(r.partition)@\(r.offset): not a Flume Avro event (\(error)); using the raw value")
            }
        }
        func setIfAbsent(_ k: String, _ v: String) {
            if !headers.contains(where: { $0.0 == k }) { headers.append((k, v)) }
        }
        setIfAbsent("timestamp", String(r.timestamp))
        if config.setTopicHeader { setIfAbsent(config.topicHeader, r.topic) }
        setIfAbsent("partition", String(r.partition))
        setIfAbsent("offset", String(r.offset))
        if let k = r.key {
            headers.removeAll { $0.0 == "key" }
            headers.append(("key", String(buffer: k)))
        }
        for (flume, kafka) in config.headerCopies {
            if let h = r.headers.last(where: { $0.key == kafka }), let v = h.value {
                headers.removeAll { $0.0 == flume }
                headers.append((flume, String(buffer: v)))
            }
        }
        try body.withUnsafeReadableBytes { try b.events.append(body: $0, headers: headers) }
        let tp = TopicPartitionKey(r.topic, r.partition)
        pending[tp] = max(pending[tp] ?? 0, r.offset + 1)
    }
}

@_cdecl("sluice_plugin_entry")
public func sluicePluginEntry() -> UnsafeRawPointer {
    Plugin.export(name: "kafka-source", version: "1.0.0", components: [
        .source(KafkaSource.self, type: "kafka", aliases: ["org.apache.flume.source.kafka.KafkaSource"],
                description: "Reads records from Kafka topics as a member of a consumer group",
                keys: [
                    ConfigKey("kafka.bootstrap.servers", .string, required: true, "comma-separated host:port list of brokers"),
                    ConfigKey("kafka.topics", .string, "comma-separated topics to read"),
                    ConfigKey("kafka.topics.regex", .string, "a Java-style regex; topics whose whole name matches are read (wins over kafka.topics)"),
                    ConfigKey("kafka.consumer.group.id", .string, default: "flume", "the consumer group"),
                    ConfigKey("kafka.consumer.*", .string, "Kafka consumer settings (auto.offset.reset, session.timeout.ms, ...)"),
                    ConfigKey("batchSize", .int, default: "1000", "most events per channel transaction"),
                    ConfigKey("batchDurationMillis", .int, default: "1000", "longest wait to fill a batch, in ms"),
                    ConfigKey("useFlumeEventFormat", .bool, default: "false", "record values are Avro AvroFlumeEvents (headers + body)"),
                    ConfigKey("setTopicHeader", .bool, default: "true", "put the record's topic in a header"),
                    ConfigKey("topicHeader", .string, default: "topic", "the header for the topic"),
                    ConfigKey("header.*", .string, "header.<flumeHeader> = <kafkaHeader>: copy a Kafka record header"),
                    ConfigKey("backoffSleepIncrement", .int, default: "1000", "accepted for Flume compatibility (the host's runner backs off)"),
                    ConfigKey("maxBackoffSleep", .int, default: "5000", "accepted for Flume compatibility (the host's runner backs off)"),
                    ConfigKey("topic", .string, "deprecated: kafka.topics"),
                    ConfigKey("groupId", .string, "deprecated: kafka.consumer.group.id"),
                    ConfigKey("zookeeperConnect", .string, "deprecated and ignored"),
                    ConfigKey("migrateZookeeperOffsets", .bool, "deprecated and ignored"),
                ]),
    ])
}
