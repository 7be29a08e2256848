import KafkaClient
import PluginRegex
import SluiceSDK

/// The Kafka source's settings from Flume's keys (`kafka.bootstrap.servers`,
/// `kafka.topics` / `kafka.topics.regex`, `kafka.consumer.*`, ...).
struct KafkaSourceConfig {
    /// Flume 1.x names and the keys that replaced them (removed in Flume 1.11).
    static let deprecated: [(old: String, new: String)] = [
        ("topic", "kafka.topics"), ("groupId", "kafka.consumer.group.id"),
    ]

    let consumer: ConsumerConfig
    let batchSize: Int
    let batchDurationMillis: Int
    let useFlumeEventFormat: Bool
    let setTopicHeader: Bool
    let topicHeader: String
    /// Flume header ← Kafka record header name.
    let headerCopies: [(flume: String, kafka: String)]
    private(set) var warnings: [String] = []

    init(_ properties: Properties) throws {
        var values = properties.values
        var warnings = FlumeKafkaKeys.translateDeprecated(&values, Self.deprecated)
        for old in ["zookeeperConnect", "migrateZookeeperOffsets"] where values[old] != nil {
            warnings.append("property '\(old)' is no longer supported (offsets live in Kafka) and is ignored")
        }
        let p = Properties(values)
        guard let servers = p["kafka.bootstrap.servers"], !servers.trimmingSpaces.isEmpty else {
            throw SluiceError.config("missing required property 'kafka.bootstrap.servers'")
        }
        let addresses: [BrokerAddress]
        do { addresses = try BrokerAddress.parseList(servers) } catch {
            throw SluiceError.config("property 'kafka.bootstrap.servers': \(error)")
        }
        var c = ConsumerConfig(bootstrap: addresses, groupId: "flume")
        // Flume's source reads a new group's partitions from the start.
        c.autoOffsetReset = .earliest
        let consumerKeys = p.subset("kafka.consumer").values
        let unknown: [String]
        do { unknown = try c.apply(consumerKeys, keyPrefix: "kafka.consumer.") } catch {
            throw SluiceError.config("property \(error)")
        }
        for k in unknown { warnings.append("property 'kafka.consumer.\(k)' is not used by this consumer") }
        if consumerKeys["enable.auto.commit"].map({ $0.lowercased() == "true" }) == true {
            warnings.append("property 'kafka.consumer.enable.auto.commit' is ignored: the source commits after each channel commit")
        }
        guard !c.groupId.isEmpty else { throw SluiceError.config("property 'kafka.consumer.group.id' is empty") }
        if let pattern = p["kafka.topics.regex"]?.trimmingSpaces, !pattern.isEmpty {
            // Java's Pattern.matcher(topic).matches(): the whole name must match.
            let regex = try PCRE2Regex(pattern: pattern, key: "kafka.topics.regex", anchoring: .wholeSubject)
            let box = RegexBox(regex)
            c.topicPattern = { name in box.matches(name) }
            if p["kafka.topics"] != nil { warnings.append("property 'kafka.topics' is ignored because 'kafka.topics.regex' is set") }
        } else {
            let topics = (p["kafka.topics"] ?? "").split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
            guard !topics.isEmpty else {
                throw SluiceError.config("missing required property 'kafka.topics' (or 'kafka.topics.regex')")
            }
            c.topics = topics
        }
        consumer = c
        batchSize = try p.int("batchSize", default: 1000)
        guard batchSize > 0 else { throw SluiceError.config("property 'batchSize' must be > 0") }
        batchDurationMillis = try p.int("batchDurationMillis", default: 1000)
        guard batchDurationMillis > 0 else { throw SluiceError.config("property 'batchDurationMillis' must be > 0") }
        useFlumeEventFormat = try p.bool("useFlumeEventFormat", default: false)
        setTopicHeader = try p.bool("setTopicHeader", default: true)
        topicHeader = p.string("topicHeader", default: "topic").trimmingSpaces
        if setTopicHeader && topicHeader.isEmpty {
            throw SluiceError.config("property 'topicHeader' is empty (set setTopicHeader = false for no topic header)")
        }
        do { headerCopies = try FlumeKafkaKeys.headerMappings(p.subset("header").values) } catch {
            throw SluiceError.config("\(error)")
        }
        self.warnings = warnings
    }
}

/// The pattern is used only from the consumer's thread; the box lets the
/// consumer configuration (which is Sendable) hold it.
final class RegexBox: @unchecked Sendable {
    let regex: PCRE2Regex
    init(_ regex: PCRE2Regex) { self.regex = regex }
    func matches(_ s: String) -> Bool {
        var copy = s
        return copy.withUTF8 { regex.matches(UnsafeRawBufferPointer($0), context: nil) }
    }
}
