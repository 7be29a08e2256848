import KafkaProtocol

/// A producer setting with a bad value; `key` is Kafka's property name.
public struct ProducerConfigError: Error, CustomStringConvertible {
    public var key: String
    public var message: String
    public var description: String { "\(key): \(message)" }
}

/// Producer settings under Kafka's own property names (`acks`, `batch.size`,
/// ...), with Kafka's defaults unless noted.
public struct ProducerConfig: Sendable {
    public var bootstrapServers: [BrokerAddress]
    public var clientId = "sluice-producer"
    /// 0: no acknowledgement; 1: the leader's; -1: all in-sync replicas'.
    public var acks: Int16 = -1
    /// Accepted for compatibility; records are sent when `flush` is called.
    public var lingerMs = 5
    /// Largest record batch per partition, in bytes (a single larger record gets a batch of its own).
    public var batchSize = 16_384
    /// Largest Produce request, and largest single record, in bytes.
    public var maxRequestSize = 1_048_576
    public var requestTimeoutMs = 30_000
    /// How long `flush` keeps retrying before it gives up on the records.
    public var deliveryTimeoutMs = 120_000
    /// Sends of one batch after the first (Kafka's default: effectively unbounded).
    public var retries = Int(Int32.max)
    public var retryBackoffMs = 100
    public var retryBackoffMaxMs = 1_000
    /// How long to wait for a topic's metadata.
    public var maxBlockMs = 60_000
    public var metadataMaxAgeMs = 300_000
    public var connectTimeoutMs = 10_000
    public var maxInFlightPerConnection = 5
    public var enableIdempotence = false
    public var compression: KafkaCompression = .none
    /// Codec level (`compression.<codec>.level`); nil: the codec's default.
    public var compressionLevel: Int?

    public init(bootstrapServers: [BrokerAddress]) {
        self.bootstrapServers = bootstrapServers
    }

    /// Keys that Kafka's producer knows but this one ignores: accepted with a
    /// warning (the caller's), like any unknown key.
    static let recognized: Set<String> = [
        "acks", "linger.ms", "batch.size", "max.request.size", "request.timeout.ms", "delivery.timeout.ms",
        "retries", "retry.backoff.ms", "retry.backoff.max.ms", "max.block.ms", "metadata.max.age.ms",
        "socket.connection.setup.timeout.ms", "max.in.flight.requests.per.connection", "enable.idempotence",
        "compression.type", "compression.gzip.level", "compression.lz4.level", "compression.zstd.level",
        "client.id", "security.protocol", "transactional.id",
    ]

    /// Settings from Kafka producer properties. Unknown names do not fail: they
    /// are returned in `ignored` for the caller to warn about. Rules follow
    /// Kafka's: idempotence needs acks=all (it is on by default only then),
    /// delivery.timeout.ms must cover linger.ms + request.timeout.ms.
    public static func parse(bootstrapServers: [BrokerAddress], properties p: [String: String],
                             available codecs: Set<KafkaCompression> = [.none]) throws -> (config: ProducerConfig, ignored: [String]) {
        var c = ProducerConfig(bootstrapServers: bootstrapServers)
        func int(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let v = p[key] else { return nil }
            guard let n = Int(v.trimmingCharacters(inSet: " \t")) else {
                throw ProducerConfigError(key: key, message: "'\(v)' is not an integer")
            }
            guard range.contains(n) else {
                throw ProducerConfigError(key: key, message: "\(n) is outside \(range.lowerBound)...\(range.upperBound)")
            }
            return n
        }
        func bool(_ key: String) throws -> Bool? {
            guard let v = p[key] else { return nil }
            switch v.trimmingCharacters(inSet: " \t").lowercased() {
            case "true": return true
            case "false": return false
            default: throw ProducerConfigError(key: key, message: "'\(v)' is not true or false")
            }
        }
        let intMax = Int(Int32.max)
        if let v = p["acks"] {
            switch v.trimmingCharacters(inSet: " \t").lowercased() {
            case "0": c.acks = 0
            case "1": c.acks = 1
            case "-1", "all": c.acks = -1
            default: throw ProducerConfigError(key: "acks", message: "'\(v)' is not one of 0, 1, -1, all")
            }
        }
        c.lingerMs = try int("linger.ms", 0...intMax) ?? c.lingerMs
        c.batchSize = try int("batch.size", 0...intMax) ?? c.batchSize
        c.maxRequestSize = try int("max.request.size", 1...intMax) ?? c.maxRequestSize
        c.requestTimeoutMs = try int("request.timeout.ms", 1...intMax) ?? c.requestTimeoutMs
        c.deliveryTimeoutMs = try int("delivery.timeout.ms", 1...intMax) ?? c.deliveryTimeoutMs
        c.retries = try int("retries", 0...intMax) ?? c.retries
        c.retryBackoffMs = try int("retry.backoff.ms", 0...intMax) ?? c.retryBackoffMs
        c.retryBackoffMaxMs = try int("retry.backoff.max.ms", 0...intMax) ?? c.retryBackoffMaxMs
        c.maxBlockMs = try int("max.block.ms", 0...intMax) ?? c.maxBlockMs
        c.metadataMaxAgeMs = try int("metadata.max.age.ms", 0...intMax) ?? c.metadataMaxAgeMs
        c.connectTimeoutMs = try int("socket.connection.setup.timeout.ms", 1...intMax) ?? c.connectTimeoutMs
        c.maxInFlightPerConnection = try int("max.in.flight.requests.per.connection", 1...intMax) ?? c.maxInFlightPerConnection
        if let id = p["client.id"] { c.clientId = id }

        if let v = p["compression.type"] {
            let name = v.trimmingCharacters(inSet: " \t").lowercased()
            let all: [String: KafkaCompression] = ["none": .none, "gzip": .gzip, "snappy": .snappy, "lz4": .lz4, "zstd": .zstd]
            guard let codec = all[name] else {
                throw ProducerConfigError(key: "compression.type", message: "'\(v)' is not one of none, gzip, snappy, lz4, zstd")
            }
            guard codecs.contains(codec) else {
                throw ProducerConfigError(key: "compression.type", message: "'\(name)' is not available in this build (available: \(codecs.map { "\($0)" }.sorted().joined(separator: ", ")))")
            }
            c.compression = codec
        }
        switch c.compression {
        case .gzip: c.compressionLevel = try int("compression.gzip.level", -1...9)
        case .lz4: c.compressionLevel = try int("compression.lz4.level", 1...17)
        case .zstd: c.compressionLevel = try int("compression.zstd.level", -131072...22)
        default: break
        }

        if let v = p["security.protocol"], v.trimmingCharacters(inSet: " \t").uppercased() != "PLAINTEXT" {
            throw ProducerConfigError(key: "security.protocol", message: "'\(v)' is not supported (PLAINTEXT only: no TLS or SASL)")
        }
        if p["transactional.id"] != nil {
            throw ProducerConfigError(key: "transactional.id", message: "Kafka transactions are not supported")
        }

        // Kafka 3.x: idempotence is the default when acks=all; asking for it explicitly needs acks=all.
        if let explicit = try bool("enable.idempotence") {
            if explicit {
                guard c.acks == -1 else {
                    throw ProducerConfigError(key: "enable.idempotence", message: "needs acks=all (acks is \(c.acks))")
                }
                guard c.maxInFlightPerConnection <= 5 else {
                    throw ProducerConfigError(key: "enable.idempotence", message: "needs max.in.flight.requests.per.connection <= 5")
                }
                guard c.retries > 0 else {
                    throw ProducerConfigError(key: "enable.idempotence", message: "needs retries > 0")
                }
            }
            c.enableIdempotence = explicit
        } else {
            c.enableIdempotence = c.acks == -1 && c.maxInFlightPerConnection <= 5 && c.retries > 0
        }
        guard c.deliveryTimeoutMs >= c.lingerMs + c.requestTimeoutMs else {
            throw ProducerConfigError(key: "delivery.timeout.ms",
                                      message: "\(c.deliveryTimeoutMs) must be at least linger.ms + request.timeout.ms (\(c.lingerMs + c.requestTimeoutMs))")
        }
        let ignored = p.keys.filter { !recognized.contains($0) }.sorted()
        return (c, ignored)
    }
}
