import ArgumentParser
import KafkaClient
import KafkaCompression
import KafkaProtocol
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

struct KafkaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka",
        abstract: "Kafka admin and console tools speaking the wire protocol (Sluice's broker or Apache Kafka).",
        subcommands: [KafkaTopics.self, KafkaGroups.self, KafkaProduce.self, KafkaConsume.self])
}

struct BootstrapOption: ParsableArguments {
    @Option(name: .customLong("bootstrap-server"), help: "host:port of a broker.")
    var bootstrap: String = "127.0.0.1:9092"
}

struct KafkaTopics: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "topics", abstract: "Create, list, describe or delete topics.")

    @OptionGroup var server: BootstrapOption
    @Flag(help: "List topic names.") var list = false
    @Flag(help: "Create --topic.") var create = false
    @Flag(help: "Describe --topic (or every topic).") var describe = false
    @Flag(help: "Delete --topic.") var delete = false
    @Option(help: "Topic name.") var topic: String?
    @Option(help: "Partitions for --create.") var partitions: Int32 = 1
    @Option(name: .customLong("replication-factor"), help: "Replication factor for --create.") var replicationFactor: Int16 = 1

    func validate() throws {
        let n = [list, create, describe, delete].filter { $0 }.count
        guard n == 1 else { throw ValidationError("give exactly one of --list, --create, --describe, --delete") }
        if (create || delete) && topic == nil { throw ValidationError("--topic is required") }
    }

    func run() throws {
        let c = try KafkaConnection(bootstrap: server.bootstrap)
        if create {
            var req = CreateTopicsRequest()
            req.topics = [.init(name: topic!, numPartitions: partitions, replicationFactor: replicationFactor)]
            req.timeoutMs = 30000
            let resp: CreateTopicsResponse = try c.send(req, version: c.version(CreateTopicsRequest.self, max: 5))
            for t in resp.topics {
                guard t.errorCode == 0 else { throw KafkaClientError(description: "cannot create \(t.name): \(kafkaErrorName(t.errorCode)) \(t.errorMessage ?? "")") }
                print("Created topic \(t.name).")
            }
        } else if delete {
            let v = try c.version(DeleteTopicsRequest.self, max: 4)
            var req = DeleteTopicsRequest()
            req.topicNames = [topic!]
            req.timeoutMs = 30000
            let resp: DeleteTopicsResponse = try c.send(req, version: v)
            for t in resp.responses {
                guard t.errorCode == 0 else { throw KafkaClientError(description: "cannot delete \(t.name ?? topic!): \(kafkaErrorName(t.errorCode))") }
                print("Deleted topic \(t.name ?? topic!).")
            }
        } else {
            let meta = try metadata(c, topics: describe ? topic.map { [$0] } : nil)
            for t in meta.topics.sorted(by: { ($0.name ?? "") < ($1.name ?? "") }) {
                if list {
                    print(t.name ?? "")
                    continue
                }
                guard t.errorCode == 0 else { throw KafkaClientError(description: "\(t.name ?? ""): \(kafkaErrorName(t.errorCode))") }
                print("Topic: \(t.name ?? "")\tPartitionCount: \(t.partitions.count)\tReplicationFactor: \(t.partitions.first?.replicaNodes.count ?? 0)")
                for p in t.partitions.sorted(by: { $0.partitionIndex < $1.partitionIndex }) {
                    let r = p.replicaNodes.map(String.init).joined(separator: ",")
                    let isr = p.isrNodes.map(String.init).joined(separator: ",")
                    print("\tTopic: \(t.name ?? "")\tPartition: \(p.partitionIndex)\tLeader: \(p.leaderId)\tReplicas: \(r)\tIsr: \(isr)")
                }
            }
        }
    }
}

func metadata(_ c: KafkaConnection, topics: [String]?, create: Bool = false) throws -> MetadataResponse {
    let v = try c.version(MetadataRequest.self, max: 9)
    var req = MetadataRequest()
    req.topics = topics.map { $0.map { MetadataRequest.MetadataRequestTopic(name: $0) } }
    if v >= 4 { req.allowAutoTopicCreation = create }
    return try c.send(req, version: v)
}

struct KafkaProduce: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce", abstract: "Send each line of standard input as one record (key:value with --key-separator).")

    @OptionGroup var server: BootstrapOption
    @Option(help: "Topic to write to.") var topic: String
    @Option(help: "Partition to write to.") var partition: Int32 = 0
    @Option(name: .customLong("key-separator"), help: "Split each line into key and value at this string.") var keySeparator: String?
    @Option(help: "acks: 0, 1 or -1 (all).") var acks: Int16 = -1
    @Option(name: .customLong("batch-size"), help: "Records per produce request.") var batchSize: Int = 500

    func run() throws {
        let c = try KafkaConnection(bootstrap: server.bootstrap)
        _ = try metadata(c, topics: [topic], create: true)
        let v = try c.version(ProduceRequest.self, max: 8)
        var batch = RecordBatchBuilder()
        var sent = 0
        func flush() throws {
            guard !batch.isEmpty else { return }
            var req = ProduceRequest()
            req.acks = acks
            req.timeoutMs = 30000
            req.topicData = [.init(name: topic, partitionData: [.init(index: partition, records: batch.build())])]
            if acks == 0 {
                throw KafkaClientError(description: "--acks 0 is not supported by this console producer")
            }
            let resp: ProduceResponse = try c.send(req, version: v)
            for t in resp.responses { for p in t.partitionResponses where p.errorCode != 0 {
                throw KafkaClientError(description: "produce to \(t.name)-\(p.index) failed: \(kafkaErrorName(p.errorCode)) \(p.errorMessage ?? "")")
            } }
            batch = RecordBatchBuilder()
        }
        let now = Int64(time(nil)) * 1000
        while let line = readLine() {
            var key: [UInt8]? = nil
            var value = Array(line.utf8)
            if let sep = keySeparator, let at = firstIndex(of: Array(sep.utf8), in: value) {
                key = Array(value[..<at])
                value = Array(value[(at + sep.utf8.count)...])
            }
            batch.append(key: key, value: value, timestamp: now)
            sent += 1
            if sent % batchSize == 0 { try flush() }
        }
        try flush()
        FileHandle.standardErrorWrite("\(sent) records sent to \(topic)-\(partition)\n")
    }
}

struct KafkaConsume: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume", abstract: "Print the records of a topic's partitions, one value per line.")

    @OptionGroup var server: BootstrapOption
    @Option(help: "Topic to read.") var topic: String
    @Flag(name: .customLong("from-beginning"), help: "Start at the earliest offset (default: the latest).") var fromBeginning = false
    @Option(name: .customLong("max-messages"), help: "Exit after this many records.") var maxMessages: Int?
    @Option(name: .customLong("timeout-ms"), help: "Exit when no record arrived for this long.") var timeoutMs: Int = 10000
    @Flag(name: .customLong("print-key"), help: "Print key<TAB>value.") var printKey = false

    func run() throws {
        let c = try KafkaConnection(bootstrap: server.bootstrap)
        let meta = try metadata(c, topics: [topic])
        guard let t = meta.topics.first, t.errorCode == 0 else {
            throw KafkaClientError(description: "topic \(topic): \(kafkaErrorName(meta.topics.first?.errorCode ?? 3))")
        }
        let partitions = t.partitions.map { $0.partitionIndex }.sorted()
        // Starting offsets.
        let lv = try c.version(ListOffsetsRequest.self, max: 5)
        var lreq = ListOffsetsRequest()
        lreq.replicaId = -1
        lreq.topics = [.init(name: topic, partitions: partitions.map { .init(partitionIndex: $0, timestamp: fromBeginning ? -2 : -1) })]
        let lresp: ListOffsetsResponse = try c.send(lreq, version: lv)
        var next: [Int32: Int64] = [:]
        for p in lresp.topics.first?.partitions ?? [] { next[p.partitionIndex] = p.offset }
        let fv = try c.version(FetchRequest.self, max: 11)
        var printed = 0
        var idleSince = time(nil)
        while true {
            var req = FetchRequest()
            req.replicaId = -1
            req.maxWaitMs = 500
            req.minBytes = 1
            req.maxBytes = 50 << 20
            req.topics = [.init(topic: topic, partitions: partitions.map {
                .init(partition: $0, fetchOffset: next[$0] ?? 0, partitionMaxBytes: 10 << 20)
            })]
            let resp: FetchResponse = try c.send(req, version: fv)
            var got = 0
            for tr in resp.responses { for p in tr.partitions {
                guard p.errorCode == 0, let records = p.records, records.readableBytes > 0 else { continue }
                for b in try RecordBatch.batches(in: records, allowPartialTail: true) {
                    if b.header.attributes.isControl {
                        next[p.partitionIndex] = max(next[p.partitionIndex] ?? 0, b.header.lastOffset + 1)
                        continue
                    }
                    for r in try b.records(maxDecompressedSize: KafkaCodecs.defaultMaxDecompressedSize)
                    where r.offset >= (next[p.partitionIndex] ?? 0) {
                        let v = r.value.map { String(buffer: $0) } ?? ""
                        print(printKey ? "\(r.key.map { String(buffer: $0) } ?? "null")\t\(v)" : v)
                        next[p.partitionIndex] = r.offset + 1
                        got += 1
                        printed += 1
                        if let m = maxMessages, printed >= m { return }
                    }
                }
            } }
            if got > 0 { idleSince = time(nil) } else if Int(time(nil) - idleSince) * 1000 >= timeoutMs { return }
        }
    }
}

/// Where `needle` first occurs in `bytes`.
func firstIndex(of needle: [UInt8], in bytes: [UInt8]) -> Int? {
    guard !needle.isEmpty, bytes.count >= needle.count else { return nil }
    for i in 0...(bytes.count - needle.count) where bytes[i..<(i + needle.count)].elementsEqual(needle) { return i }
    return nil
}

extension FileHandle {
    static func standardErrorWrite(_ s: String) { _ = s.withCString { fputs($0, stderr) } }
}
enum FileHandle {}
