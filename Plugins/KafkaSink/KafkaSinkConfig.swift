import KafkaClient
import SluiceSDK

/// The Kafka sink's settings from Flume's keys (`kafka.bootstrap.servers`,
/// `kafka.topic`, `flumeBatchSize`, `kafka.producer.*`, ...). Immutable once
/// built; `warnings` lists what the sink should log at start-up.
struct KafkaSinkConfig {
    static let defaultTopic = "default-flume-topic"
    /// Flume 1.x names and the keys that replaced them (FLUME-3443 removed them in 1.11).
    static let deprecated: [(old: String, new: String)] = [
        ("brokerList", "kafka.bootstrap.servers"), ("topic", "kafka.topic"),
        ("batchSize", "flumeBatchSize"), ("requiredAcks", "kafka.producer.acks"),
    ]

    let bootstrapServers: String
    let topic: String
    let batchSize: Int
    let useFlumeEventFormat: Bool
    let defaultPartitionId: Int32?
    let partitionIdHeader: String?
    let allowTopicOverride: Bool
    let topicHeader: String
    let timestampHeader: String?
    /// Flume header → Kafka record header name, sorted by Flume header.
    let headerCopies: [(flume: String, kafka: String)]
    let producer: ProducerConfig
    private(set) var warnings: [String] = []

    init(_ properties: Properties) throws {
        var values = properties.values
        var warnings = FlumeKafkaKeys.translateDeprecated(&values, Self.deprecated)
        let p = Properties(values)

        guard let servers = p["kafka.bootstrap.servers"], !servers.trimmingSpaces.isEmpty else {
            throw SluiceError.config("missing required property 'kafka.bootstrap.servers'")
        }
        bootstrapServers = servers
        let addresses: [BrokerAddress]
        do {
            addresses = try BrokerAddress.parseList(servers)
        } catch {
            throw SluiceError.config("property 'kafka.bootstrap.servers': \(error)")
        }
        topic = p.string("kafka.topic", default: Self.defaultTopic).trimmingSpaces
        guard !topic.isEmpty else { throw SluiceError.config("property 'kafka.topic' is empty") }
        batchSize = try p.int("flumeBatchSize", default: 100)
        guard batchSize > 0 else { throw SluiceError.config("property 'flumeBatchSize' must be > 0") }
        useFlumeEventFormat = try p.bool("useFlumeEventFormat", default: false)
        if p["defaultPartitionId"] != nil {
            let id = try p.int("defaultPartitionId", default: 0)
            guard (0...Int(Int32.max)).contains(id) else {
                throw SluiceError.config("property 'defaultPartitionId': \(id) is not a partition id (0 or more)")
            }
            defaultPartitionId = Int32(id)
        } else {
            defaultPartitionId = nil
        }
        partitionIdHeader = p["partitionIdHeader"].map(\.trimmingSpaces).flatMap { $0.isEmpty ? nil : $0 }
        allowTopicOverride = try p.bool("allowTopicOverride", default: true)
        topicHeader = p.string("topicHeader", default: "topic").trimmingSpaces
        if allowTopicOverride && topicHeader.isEmpty {
            throw SluiceError.config("property 'topicHeader' is empty (set allowTopicOverride = false to ignore topic headers)")
        }
        timestampHeader = p["timestampHeader"].map(\.trimmingSpaces).flatMap { $0.isEmpty ? nil : $0 }
        do { headerCopies = try FlumeKafkaKeys.headerMappings(p.subset("header").values) } catch {
            throw SluiceError.config("\(error)")
        }

        // Flume's producer defaults: acks=1 (Kafka's own default is all).
        var producerProps = p.subset("kafka.producer").values
        if producerProps["acks"] == nil { producerProps["acks"] = "1" }
        do {
            let parsed = try ProducerConfig.parse(bootstrapServers: addresses, properties: producerProps,
                                                  available: ProducerConfig.availableCodecs)
            var c = parsed.config
            if producerProps["client.id"] == nil { c.clientId = "sluice-kafka-sink" }
            producer = c
            for key in parsed.ignored {
                warnings.append("property 'kafka.producer.\(key)' is not supported by this producer and is ignored")
            }
        } catch let e as ProducerConfigError {
            throw SluiceError.config("property 'kafka.producer.\(e.key)': \(e.message)")
        }
        self.warnings = warnings
    }
}
