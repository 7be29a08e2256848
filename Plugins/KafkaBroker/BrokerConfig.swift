import SluiceSDK

/// The broker's settings, named as in Kafka's server.properties and given
/// under the service's keys: `a1.services.k1.log.dirs = /var/lib/kafka`.
struct BrokerConfig {
    var brokerID: Int32
    var listenHost: String
    var listenPort: Int
    var advertisedHost: String
    var advertisedPort: Int
    var logDirs: [String]
    var numPartitions: Int32
    var defaultReplicationFactor: Int16
    var autoCreateTopics: Bool
    var segmentBytes: Int
    var rollMillis: Int64
    var retentionMillis: Int64
    var retentionBytes: Int64
    var retentionCheckMillis: Int64
    var flushIntervalMessages: Int64
    var flushIntervalMillis: Int64
    var maxRequestBytes: Int
    var maxMessageBytes: Int
    var offsetsRetentionMinutes: Int64
    var groupInitialRebalanceDelayMillis: Int64
    var clusterID: String

    static let keys: [ConfigKey] = [
        ConfigKey("broker.id", .int, default: "0", "this broker's id"),
        ConfigKey("listeners", .string, default: "PLAINTEXT://127.0.0.1:9092", "where clients connect (PLAINTEXT only)"),
        ConfigKey("advertised.listeners", .string, "address given to clients in metadata (default: listeners)"),
        ConfigKey("log.dirs", .string, default: "/tmp/kafka-logs", "comma-separated data directories"),
        ConfigKey("log.dir", .string, "single data directory (used when log.dirs is not set)"),
        ConfigKey("num.partitions", .int, default: "1", "partitions of an auto-created topic"),
        ConfigKey("default.replication.factor", .int, default: "1", "replication factor of an auto-created topic"),
        ConfigKey("auto.create.topics.enable", .bool, default: "true", "create a topic on first metadata request or produce"),
        ConfigKey("log.segment.bytes", .int, default: "1073741824", "segment size before rolling"),
        ConfigKey("log.roll.ms", .int, "segment age before rolling"),
        ConfigKey("log.roll.hours", .int, default: "168", "segment age before rolling, in hours"),
        ConfigKey("log.retention.ms", .int, "how long data is kept (-1: forever)"),
        ConfigKey("log.retention.minutes", .int, "how long data is kept, in minutes"),
        ConfigKey("log.retention.hours", .int, default: "168", "how long data is kept, in hours"),
        ConfigKey("log.retention.bytes", .int, default: "-1", "size a partition may keep (-1: unlimited)"),
        ConfigKey("log.retention.check.interval.ms", .int, default: "300000", "how often retention runs"),
        ConfigKey("log.flush.interval.messages", .int, default: "9223372036854775807", "fsync after this many records"),
        ConfigKey("log.flush.interval.ms", .int, "fsync after this long (default: never; the page cache, as Kafka)"),
        ConfigKey("socket.request.max.bytes", .int, default: "104857600", "largest request frame accepted"),
        ConfigKey("message.max.bytes", .int, default: "1048588", "largest record batch accepted"),
        ConfigKey("offsets.retention.minutes", .int, default: "10080", "how long committed offsets of empty groups are kept"),
        ConfigKey("group.initial.rebalance.delay.ms", .int, default: "3000", "wait for more members before the first rebalance"),
        ConfigKey("cluster.id", .string, default: "sluice-cluster", "cluster id reported to clients"),
    ]

    init(_ p: Properties) throws {
        brokerID = Int32(try p.int("broker.id", default: 0))
        let listener = try Self.parseListener(p.string("listeners", default: "PLAINTEXT://127.0.0.1:9092"), key: "listeners")
        listenHost = listener.host
        listenPort = listener.port
        if let adv = p["advertised.listeners"] {
            let a = try Self.parseListener(adv, key: "advertised.listeners")
            advertisedHost = a.host
            advertisedPort = a.port
        } else {
            advertisedHost = listener.host == "0.0.0.0" ? "127.0.0.1" : listener.host
            advertisedPort = listener.port
        }
        let dirs = p["log.dirs"] ?? p["log.dir"] ?? "/tmp/kafka-logs"
        logDirs = dirs.split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
        guard !logDirs.isEmpty else { throw SluiceError.config("log.dirs: no directory given") }
        numPartitions = Int32(try p.int("num.partitions", default: 1))
        guard numPartitions >= 1 else { throw SluiceError.config("num.partitions must be >= 1") }
        defaultReplicationFactor = Int16(try p.int("default.replication.factor", default: 1))
        autoCreateTopics = try p.bool("auto.create.topics.enable", default: true)
        segmentBytes = try p.int("log.segment.bytes", default: 1 << 30)
        guard segmentBytes >= 14 + 61 else { throw SluiceError.config("log.segment.bytes is too small") }
        if p["log.roll.ms"] != nil {
            rollMillis = Int64(try p.int("log.roll.ms", default: 0))
        } else {
            rollMillis = Int64(try p.int("log.roll.hours", default: 168)) * 3_600_000
        }
        if p["log.retention.ms"] != nil {
            retentionMillis = Int64(try p.int("log.retention.ms", default: 0))
        } else if p["log.retention.minutes"] != nil {
            retentionMillis = Int64(try p.int("log.retention.minutes", default: 0)) * 60_000
        } else {
            retentionMillis = Int64(try p.int("log.retention.hours", default: 168)) * 3_600_000
        }
        retentionBytes = Int64(try p.int("log.retention.bytes", default: -1))
        retentionCheckMillis = Int64(try p.int("log.retention.check.interval.ms", default: 300_000))
        flushIntervalMessages = Int64(try p.int("log.flush.interval.messages", default: Int.max))
        flushIntervalMillis = Int64(try p.int("log.flush.interval.ms", default: -1))
        maxRequestBytes = try p.int("socket.request.max.bytes", default: 104_857_600)
        maxMessageBytes = try p.int("message.max.bytes", default: 1_048_588)
        offsetsRetentionMinutes = Int64(try p.int("offsets.retention.minutes", default: 10080))
        groupInitialRebalanceDelayMillis = Int64(try p.int("group.initial.rebalance.delay.ms", default: 3000))
        clusterID = p.string("cluster.id", default: "sluice-cluster")
    }

    /// "PLAINTEXT://host:port" (one listener).
    static func parseListener(_ value: String, key: String) throws -> (host: String, port: Int) {
        let first = value.split(separator: ",").first.map(String.init) ?? value
        guard first.hasPrefix("PLAINTEXT://") else {
            throw SluiceError.config("\(key): '\(value)' must be PLAINTEXT://host:port (no other security protocol is supported)")
        }
        let hostPort = first.dropFirst("PLAINTEXT://".count)
        guard let colon = hostPort.lastIndex(of: ":"), let port = Int(hostPort[hostPort.index(after: colon)...]),
              (0...65535).contains(port) else {
            throw SluiceError.config("\(key): '\(value)' has no valid port")
        }
        var host = String(hostPort[..<colon])
        if host.isEmpty { host = "0.0.0.0" }
        return (host, port)
    }
}
