import KafkaLog
import KafkaProtocol
import NIOCore
import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// The broker's state: partition logs (KafkaLog), the topic registry with
/// topic ids, and the fetch requests waiting for data. Handlers run on the
/// NIO event loops and call in here; everything is guarded by locks.
final class Broker: @unchecked Sendable {
    struct Topic {
        var id: KafkaUUID
        var partitions: Int32
    }

    let config: BrokerConfig
    let context: ComponentContext
    let logs: LogManager
    let groups: GroupCoordinator
    let producerIDs: ProducerIDs
    private let topics = Locked([String: Topic]())
    private let waiters = Locked([ObjectIdentifier: () -> Void]())
    private let idsFile: String

    init(config: BrokerConfig, context: ComponentContext) throws {
        self.config = config
        self.context = context
        var lm = LogManagerConfig(logDirs: config.logDirs, brokerId: config.brokerID)
        var lc = LogConfig()
        lc.segmentBytes = config.segmentBytes
        lc.rollMillis = config.rollMillis
        lc.retentionMillis = config.retentionMillis
        lc.retentionBytes = config.retentionBytes
        lc.maxMessageBytes = config.maxMessageBytes
        if config.flushIntervalMessages > 0 { lc.flushIntervalMessages = config.flushIntervalMessages }
        if config.flushIntervalMillis >= 0 { lc.flushIntervalMillis = config.flushIntervalMillis }
        lm.defaultLogConfig = lc
        lm.retentionCheckIntervalMillis = config.retentionCheckMillis
        do {
            logs = try LogManager(config: lm)
        } catch {
            throw SluiceError.io("cannot open log.dirs \(config.logDirs.joined(separator: ",")): \(error)")
        }
        for r in logs.recoveryReports where r.needsWarning { context.log(.warn, "log recovery: \(r)") }
        idsFile = config.logDirs[0] + "/sluice-topic-ids"
        groups = try GroupCoordinator(config: config, context: context)
        producerIDs = try ProducerIDs(directory: config.logDirs[0])
        var known = Self.loadIDs(idsFile)
        var registry: [String: Topic] = [:]
        for tp in logs.allLogs.keys {
            let id = known[tp.topic] ?? KafkaUUID.random()
            known[tp.topic] = id
            registry[tp.topic, default: Topic(id: id, partitions: 0)].partitions = max(registry[tp.topic]?.partitions ?? 0, tp.partition + 1)
        }
        topics.withLock { $0 = registry }
        try saveIDs()
    }

    func close() {
        groups.close()
        do { try logs.close() } catch { context.log(.error, "closing logs: \(error)") }
    }

    // MARK: Topics

    var allTopics: [String: Topic] { topics.withLock { $0 } }

    func topic(_ name: String) -> Topic? { topics.withLock { $0[name] } }

    enum TopicError: Error { case exists, invalidName(String), invalidPartitions, notFound }

    @discardableResult
    func createTopic(_ name: String, partitions: Int32) throws -> Topic {
        guard partitions >= 1 else { throw TopicError.invalidPartitions }
        if topic(name) != nil { throw TopicError.exists }
        for p in 0..<partitions {
            do {
                _ = try logs.getOrCreateLog(try TopicPartition(topic: name, partition: p))
            } catch let e as LogError {
                if case .invalidTopicPartition(let why) = e { throw TopicError.invalidName(why) }
                throw e
            }
        }
        let t = Topic(id: KafkaUUID.random(), partitions: partitions)
        topics.withLock { $0[name] = t }
        try saveIDs()
        context.log(.info, "created topic \(name) with \(partitions) partitions")
        return t
    }

    func addPartitions(_ name: String, to count: Int32) throws {
        guard let t = topic(name) else { throw TopicError.notFound }
        guard count > t.partitions else { throw TopicError.invalidPartitions }
        for p in t.partitions..<count { _ = try logs.getOrCreateLog(try TopicPartition(topic: name, partition: p)) }
        topics.withLock { $0[name]?.partitions = count }
    }

    func deleteTopic(_ name: String) throws {
        guard let t = topic(name) else { throw TopicError.notFound }
        for p in 0..<t.partitions { try logs.deleteLog(try TopicPartition(topic: name, partition: p)) }
        topics.withLock { _ = $0.removeValue(forKey: name) }
        try saveIDs()
        context.log(.info, "deleted topic \(name)")
    }

    /// The log of a partition; creates the topic when auto-creation is on.
    func partitionLog(_ topicName: String, _ partition: Int32, create: Bool) -> PartitionLog? {
        if topic(topicName) == nil {
            guard create, config.autoCreateTopics else { return nil }
            _ = try? createTopic(topicName, partitions: config.numPartitions)
        }
        guard let t = topic(topicName), partition >= 0, partition < t.partitions,
              let tp = try? TopicPartition(topic: topicName, partition: partition) else { return nil }
        return logs.log(tp)
    }

    // MARK: Fetch waiters

    /// Registers a callback run (on any thread) after every append.
    func addWaiter(_ key: ObjectIdentifier, _ wake: @escaping () -> Void) {
        waiters.withLock { $0[key] = wake }
    }

    func removeWaiter(_ key: ObjectIdentifier) {
        waiters.withLock { _ = $0.removeValue(forKey: key) }
    }

    func notifyAppend() {
        let all = waiters.withLock { Array($0.values) }
        for w in all { w() }
    }

    // MARK: Topic ids

    private static func loadIDs(_ path: String) -> [String: KafkaUUID] {
        guard let f = fopen(path, "r") else { return [:] }
        defer { fclose(f) }
        var out: [String: KafkaUUID] = [:]
        var line = [CChar](repeating: 0, count: 1024)
        while fgets(&line, Int32(line.count), f) != nil {
            let s = String(cString: line).split(separator: " ")
            if s.count == 2, let id = KafkaUUID(hex: String(s[1].prefix(32))) { out[String(s[0])] = id }
        }
        return out
    }

    private func saveIDs() throws {
        let text = allTopics.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.id.hex)\n" }.joined()
        let tmp = idsFile + ".tmp"
        guard let f = fopen(tmp, "w") else { throw SluiceError.io("cannot write \(tmp): \(String(cString: strerror(errno)))") }
        fputs(text, f)
        fflush(f)
        fsync(fileno(f))
        fclose(f)
        guard rename(tmp, idsFile) == 0 else { throw SluiceError.io("cannot rename \(tmp): \(String(cString: strerror(errno)))") }
    }
}

extension KafkaUUID {
    var hex: String {
        bytes.map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined()
    }

    init?(hex: String) {
        guard hex.count == 32 else { return nil }
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            guard let b = UInt8(hex[i..<j], radix: 16) else { return nil }
            out.append(b)
            i = j
        }
        self.init(bytes: out)
    }
}
