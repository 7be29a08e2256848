import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The Kafka sink in real agent processes, publishing to the Sluice broker
/// (another agent process) and read back with kafka-python.
final class KafkaSinkTests: XCTestCase {
    typealias Broker = KafkaBrokerTests.Broker

    /// One record as sink_read.py prints it.
    struct ReadRecord {
        var partition: Int
        var key: String?
        var value: String
        var avro: [String: Any]?
        var headers: [String: String]
        var timestamp: Int64
        /// Where Kafka's default partitioner puts the key (murmur2, by kafka-python).
        var keyPartition: Int?
    }

    func script(_ name: String) -> String { Paths.repoRoot + "/Tests/SluiceTests/kafka/" + name }

    /// Every record of `topic`, waiting until at least `expect` arrived.
    func read(_ b: Broker, _ topic: String, expect: Int, avro: Bool = false) throws -> [ReadRecord] {
        let r = try runCommand("/usr/bin/env", ["python3", script("sink_read.py"), b.bootstrap, topic, "\(expect)", "dump"]
                                   + (avro ? ["avro"] : []), timeout: 120)
        XCTAssertEqual(r.status, 0, r.stderr)
        return try r.stdout.split(separator: "\n").map { line in
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return ReadRecord(partition: o["partition"] as! Int, key: o["key"] as? String,
                              value: o["value"] as? String ?? "", avro: o["value"] as? [String: Any],
                              headers: o["headers"] as? [String: String] ?? [:],
                              timestamp: (o["timestamp"] as? NSNumber)?.int64Value ?? -1,
                              keyPartition: o["keyPartition"] as? Int)
        }
    }

    /// `COUNT n DISTINCT d MISSING m` for a topic holding the integers 0..<expect.
    func seqCheck(_ b: Broker, _ topic: String, expect: Int) throws -> String {
        let r = try runCommand("/usr/bin/env", ["python3", script("sink_read.py"), b.bootstrap, topic, "\(expect)", "seq"], timeout: 180)
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// An agent with metrics over HTTP; returns it and its metrics port.
    func startAgent(_ config: String) throws -> (AgentProcess, Int) {
        let setup = try AgentSetup(config)
        let port = freeTCPPort()
        let a = try setup.start(["--monitoring-type", "http", "--monitoring-port", "\(port)"])
        a.waitFor("started")
        return (a, port)
    }

    /// The sink's counters, or nothing when the agent does not answer.
    func sinkMetrics(_ port: Int, _ sink: String = "k1") -> [String: String] {
        guard let r = try? httpGet("http://127.0.0.1:\(port)/metrics"), r.httpStatus == 200,
              let top = try? JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any],
              let attrs = top["SINK.\(sink)"] as? [String: Any] else { return [:] }
        return attrs.compactMapValues { $0 as? String }
    }

    func counter(_ port: Int, _ name: String, _ sink: String = "k1") -> Int {
        Int(sinkMetrics(port, sink)[name] ?? "") ?? -1
    }

    /// Waits until the sink's EventDrainSuccessCount reaches `n`.
    func waitForDrained(_ port: Int, _ n: Int, sink: String = "k1", timeout: Double = 60, agent: AgentProcess) {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline && agent.process.isRunning {
            if counter(port, "EventDrainSuccessCount", sink) >= n { return }
            usleep(100_000)
        }
        XCTFail("\(sink) drained \(counter(port, "EventDrainSuccessCount", sink)) of \(n) events; log:\n\(agent.log.suffix(3000))")
    }

    // MARK: Pipelines

    /// seq → regex_extractor (key = the number) + static → memory → kafka:
    /// every event arrives once, with its key, the copied header, and in the
    /// partition Kafka's default partitioner gives its key.
    func testSeqSourceThroughMemoryChannelArrivesWithKeysHeadersAndKeyPartitions() throws {
        let b = try Broker(extra: "a1.services.k1.num.partitions = 3")
        let broker = try b.start()
        let n = 3000
        let (agent, port) = try startAgent("""
            a1.sources = r1
            a1.channels = c1
            a1.sinks = k1
            a1.sources.r1.type = seq
            a1.sources.r1.totalEvents = \(n)
            a1.sources.r1.batchSize = 100
            a1.sources.r1.channels = c1
            a1.sources.r1.interceptors = i1 i2
            a1.sources.r1.interceptors.i1.type = regex_extractor
            a1.sources.r1.interceptors.i1.regex = ^([0-9]+)$
            a1.sources.r1.interceptors.i1.serializers = s1
            a1.sources.r1.interceptors.i1.serializers.s1.name = key
            a1.sources.r1.interceptors.i2.type = static
            a1.sources.r1.interceptors.i2.key = origin
            a1.sources.r1.interceptors.i2.value = seq-test
            a1.channels.c1.type = memory
            a1.channels.c1.capacity = 10000
            a1.sinks.k1.type = org.apache.flume.sink.kafka.KafkaSink
            a1.sinks.k1.channel = c1
            a1.sinks.k1.kafka.bootstrap.servers = \(b.bootstrap)
            a1.sinks.k1.kafka.topic = seqs
            a1.sinks.k1.header.origin = x-origin
            a1.sinks.k1.timestampHeader = ts
            """)
        waitForDrained(port, n, agent: agent)
        let m = sinkMetrics(port)
        XCTAssertEqual(m["RollbackCount"], "0", "\(m)")
        XCTAssertNotNil(m["KafkaEventSendTimer"], "\(m)")
        XCTAssertGreaterThanOrEqual(Int(m["ConnectionCreatedCount"] ?? "") ?? 0, 1, "\(m)")

        let records = try read(b, "seqs", expect: n)
        XCTAssertEqual(records.count, n)
        XCTAssertEqual(Set(records.map(\.value)), Set((0..<n).map(String.init)), "every number once")
        XCTAssertEqual(Set(records.map(\.partition)), [0, 1, 2], "keys spread over the 3 partitions")
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for r in records.prefix(n) {
            XCTAssertEqual(r.key, r.value, "the key header is the record key")
            XCTAssertEqual(r.headers, ["x-origin": "seq-test"], "only the mapped header is copied, under its Kafka name")
            XCTAssertEqual(r.partition, r.keyPartition, "murmur2 partition of key \(r.key ?? "nil")")
            XCTAssertLessThan(abs(r.timestamp - now), 120_000, "CreateTime of now")
        }
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(broker.stop(), 0)
    }

    /// spooldir (with the file header) → file channel → kafka with
    /// useFlumeEventFormat: each value is an AvroFlumeEvent holding the
    /// event's headers and body; lines without a key get a null key.
    func testSpoolDirThroughFileChannelWithFlumeEventFormat() throws {
        let b = try Broker()
        let broker = try b.start()
        let work = makeTempDir("sluice-kafka-sink")
        let spool = work + "/spool"
        try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true)
        let n = 2000
        // Even lines "k<i> <i>" carry a key, odd lines are just "<i>".
        let lines = (0..<n).map { $0 % 2 == 0 ? "k\($0) \($0)" : "\($0)" }
        try write(lines.joined(separator: "\n") + "\n", to: work + "/in.log")
        let (agent, port) = try startAgent("""
            a1.sources = r1
            a1.channels = c1
            a1.sinks = k1
            a1.sources.r1.type = spooldir
            a1.sources.r1.spoolDir = \(spool)
            a1.sources.r1.fileHeader = true
            a1.sources.r1.batchSize = 250
            a1.sources.r1.channels = c1
            a1.sources.r1.interceptors = i1
            a1.sources.r1.interceptors.i1.type = regex_extractor
            a1.sources.r1.interceptors.i1.regex = ^(k[0-9]+)[ ]
            a1.sources.r1.interceptors.i1.serializers = s1
            a1.sources.r1.interceptors.i1.serializers.s1.name = key
            a1.channels.c1.type = file
            a1.channels.c1.checkpointDir = \(work)/checkpoint
            a1.channels.c1.dataDirs = \(work)/data
            a1.channels.c1.minimumRequiredSpace = 1048576
            a1.sinks.k1.type = kafka
            a1.sinks.k1.channel = c1
            a1.sinks.k1.kafka.bootstrap.servers = \(b.bootstrap)
            a1.sinks.k1.kafka.topic = spooled
            a1.sinks.k1.flumeBatchSize = 250
            a1.sinks.k1.useFlumeEventFormat = true
            a1.sinks.k1.header.file = src-file
            a1.sinks.k1.kafka.producer.acks = all
            """)
        try FileManager.default.moveItem(atPath: work + "/in.log", toPath: spool + "/in.log")
        waitForDrained(port, n, agent: agent)
        let records = try read(b, "spooled", expect: n, avro: true)
        XCTAssertEqual(records.count, n)
        var bodies = Set<String>()
        for r in records {
            guard let event = r.avro, let body = event["body"] as? String, let headers = event["headers"] as? [String: String] else {
                XCTFail("not an AvroFlumeEvent: \(r)")
                continue
            }
            bodies.insert(body)
            XCTAssertEqual(headers["file"], spool + "/in.log", "the event's headers travel in the value")
            XCTAssertEqual(r.headers, ["src-file": spool + "/in.log"])
            if body.hasPrefix("k") {
                XCTAssertEqual(r.key, String(body.split(separator: " ")[0]))
                XCTAssertEqual(headers["key"], r.key)
            } else {
                XCTAssertNil(r.key, "no key header: null key")
            }
        }
        XCTAssertEqual(bodies, Set(lines))
        XCTAssertTrue(agent.log.contains("idempotence on"), "acks=all turns idempotence on by default:\n\(agent.log.suffix(2000))")
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(broker.stop(), 0)
    }

    /// The broker is killed with -9 while the sink is publishing and comes
    /// back on the same port and log directories: the sink retries (within
    /// delivery.timeout.ms, or by rolling back and sending again) and every
    /// number arrives at least once.
    func testBrokerKilledMidStreamAndRestartedLosesNothing() throws {
        let b = try Broker(extra: "a1.services.k1.num.partitions = 2")
        var broker = try b.start()
        let n = 60000
        let (agent, port) = try startAgent("""
            a1.sources = r1
            a1.channels = c1
            a1.sinks = k1
            a1.sources.r1.type = seq
            a1.sources.r1.totalEvents = \(n)
            a1.sources.r1.batchSize = 100
            a1.sources.r1.channels = c1
            a1.channels.c1.type = memory
            a1.channels.c1.capacity = \(n)
            a1.sinks.k1.type = kafka
            a1.sinks.k1.channel = c1
            a1.sinks.k1.kafka.bootstrap.servers = \(b.bootstrap)
            a1.sinks.k1.kafka.topic = restart
            a1.sinks.k1.flumeBatchSize = 20
            a1.sinks.k1.kafka.producer.acks = all
            a1.sinks.k1.kafka.producer.request.timeout.ms = 3000
            a1.sinks.k1.kafka.producer.delivery.timeout.ms = 6000
            a1.sinks.k1.kafka.producer.retry.backoff.max.ms = 300
            """)
        waitForDrained(port, 1000, agent: agent)
        kill(broker.process.processIdentifier, SIGKILL)
        broker.process.waitUntilExit()
        let atKill = counter(port, "EventDrainSuccessCount")
        XCTAssertLessThan(atKill, n, "the kill must come before the sink finished (raise n)")
        sleep(2)
        broker = try b.start()
        waitForDrained(port, n, timeout: 120, agent: agent)
        XCTAssertTrue(agent.log.contains("retrying") || agent.log.contains("rolled back"),
                      "the sink noticed the outage:\n\(agent.log.suffix(3000))")
        let check = try seqCheck(b, "restart", expect: n)
        XCTAssertTrue(check.contains("DISTINCT \(n) MISSING 0"), "every number at least once: \(check)")
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(broker.stop(), 0)
    }

    /// One source replicated to five sinks, one per compression.type: every
    /// consumer-side codec reads the records back, and the compressed logs
    /// are much smaller than the uncompressed one.
    func testEveryCompressionCodec() throws {
        let b = try Broker()
        let broker = try b.start()
        let n = 2000
        let codecs = ["none", "gzip", "snappy", "lz4", "zstd"]
        let sinks = codecs.indices.map { i in
            """
            a1.channels.c\(i).type = memory
            a1.channels.c\(i).capacity = \(n)
            a1.channels.c\(i).transactionCapacity = 500
            a1.sinks.k\(i).type = kafka
            a1.sinks.k\(i).channel = c\(i)
            a1.sinks.k\(i).kafka.bootstrap.servers = \(b.bootstrap)
            a1.sinks.k\(i).kafka.topic = z-\(codecs[i])
            a1.sinks.k\(i).flumeBatchSize = 500
            a1.sinks.k\(i).kafka.producer.compression.type = \(codecs[i])
            a1.sinks.k\(i).kafka.producer.batch.size = 1048576
            """
        }.joined(separator: "\n")
        let (agent, port) = try startAgent("""
            a1.sources = r1
            a1.channels = \(codecs.indices.map { "c\($0)" }.joined(separator: " "))
            a1.sinks = \(codecs.indices.map { "k\($0)" }.joined(separator: " "))
            a1.sources.r1.type = seq
            a1.sources.r1.totalEvents = \(n)
            a1.sources.r1.batchSize = 100
            a1.sources.r1.bodySize = 100
            a1.sources.r1.channels = \(codecs.indices.map { "c\($0)" }.joined(separator: " "))
            \(sinks)
            """)
        for i in codecs.indices { waitForDrained(port, n, sink: "k\(i)", agent: agent) }
        var logBytes: [String: Int] = [:]
        for codec in codecs {
            let records = try read(b, "z-\(codec)", expect: n)
            XCTAssertEqual(Set(records.map { $0.value.trimmingCharacters(in: .whitespaces) }), Set((0..<n).map(String.init)), codec)
            XCTAssertTrue(records.allSatisfy { $0.value.utf8.count == 100 }, codec)
            let dir = b.logs + "/z-\(codec)-0"
            logBytes[codec] = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".log") }
                .reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: dir + "/" + $1)[.size] as? Int) ?? 0) }
        }
        for codec in codecs.dropFirst() {
            XCTAssertLessThan(logBytes[codec]!, logBytes["none"]! / 2, "\(codec) batches are compressed: \(logBytes)")
        }
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(broker.stop(), 0)
    }

    // MARK: Routing

    /// defaultPartitionId, partitionIdHeader over it, the topic header, a
    /// `%{header}` topic, and a non-integer partition header that fails its
    /// batch (rolled back, nothing written) without stopping the others.
    func testPartitionAndTopicRouting() throws {
        let b = try Broker(extra: "a1.services.k1.num.partitions = 3")
        let broker = try b.start()
        let n = 50
        func pipeline(_ i: Int, headers: [(String, String)], sink: [String]) -> String {
            var lines = ["a1.sources.r\(i).type = seq", "a1.sources.r\(i).totalEvents = \(n)", "a1.sources.r\(i).channels = c\(i)",
                         "a1.channels.c\(i).type = memory", "a1.sinks.k\(i).type = kafka", "a1.sinks.k\(i).channel = c\(i)",
                         "a1.sinks.k\(i).kafka.bootstrap.servers = \(b.bootstrap)"]
            if !headers.isEmpty {
                lines.append("a1.sources.r\(i).interceptors = " + headers.indices.map { "h\($0)" }.joined(separator: " "))
                for (j, (k, v)) in headers.enumerated() {
                    lines += ["a1.sources.r\(i).interceptors.h\(j).type = static",
                              "a1.sources.r\(i).interceptors.h\(j).key = \(k)", "a1.sources.r\(i).interceptors.h\(j).value = \(v)"]
                }
            }
            return (lines + sink.map { "a1.sinks.k\(i).\($0)" }).joined(separator: "\n")
        }
        let (agent, port) = try startAgent("""
            a1.sources = r1 r2 r3 r4 r5 r6
            a1.channels = c1 c2 c3 c4 c5 c6
            a1.sinks = k1 k2 k3 k4 k5 k6
            \(pipeline(1, headers: [], sink: ["kafka.topic = fixed", "defaultPartitionId = 2"]))
            \(pipeline(2, headers: [("p", "1")], sink: ["kafka.topic = byheader", "defaultPartitionId = 2", "partitionIdHeader = p"]))
            \(pipeline(3, headers: [("topic", "routed")], sink: ["kafka.topic = notused"]))
            \(pipeline(4, headers: [("kind", "app"), ("topic", "ignored")],
                       sink: ["kafka.topic = logs-%{kind}", "allowTopicOverride = false"]))
            \(pipeline(5, headers: [("p", "abc")], sink: ["kafka.topic = poison", "partitionIdHeader = p"]))
            \(pipeline(6, headers: [], sink: ["kafka.topic = fire-and-forget", "kafka.producer.acks = 0"]))
            """)
        for k in ["k1", "k2", "k3", "k4", "k6"] { waitForDrained(port, n, sink: k, agent: agent) }
        agent.waitFor("not an integer partition id")

        XCTAssertEqual(Set(try read(b, "fixed", expect: n).map(\.partition)), [2], "defaultPartitionId")
        XCTAssertEqual(Set(try read(b, "byheader", expect: n).map(\.partition)), [1], "partitionIdHeader wins over defaultPartitionId")
        let routed = try read(b, "routed", expect: n)
        XCTAssertEqual(routed.count, n, "the topic header names the topic")
        XCTAssertEqual(Set(routed.map(\.value)).count, n)
        XCTAssertEqual(try read(b, "logs-app", expect: n).count, n, "%{kind} resolved; the topic header ignored")
        XCTAssertEqual(Set(try read(b, "fire-and-forget", expect: n).map(\.value)).count, n, "acks=0 delivers too")
        XCTAssertTrue(agent.log.contains("header 'p' (partitionIdHeader) is 'abc', not an integer partition id"), agent.log)
        XCTAssertEqual(counter(port, "EventDrainSuccessCount", "k5"), 0, "the poisoned batches are never committed")
        XCTAssertGreaterThanOrEqual(counter(port, "RollbackCount", "k5"), 1)
        XCTAssertEqual(counter(port, "RollbackCount", "k1"), 0)

        let topics = try runCommand(Paths.sluice, ["kafka", "topics", "--bootstrap-server", b.bootstrap, "--list"])
        XCTAssertFalse(topics.stdout.contains("notused"), topics.stdout)
        XCTAssertFalse(topics.stdout.contains("ignored"), topics.stdout)
        XCTAssertFalse(topics.stdout.contains("poison"), "a failed batch sends nothing: \(topics.stdout)")
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(broker.stop(), 0)
    }

    /// With no broker at all, the sink keeps retrying (metadata, then
    /// rollback and again); stopping the agent ends the wait at once: the
    /// agent exits cleanly, nothing committed.
    func testStopWhileNoBrokerAnswersExitsPromptly() throws {
        let dead = freeTCPPort()
        let (agent, port) = try startAgent("""
            a1.sources = r1
            a1.channels = c1
            a1.sinks = k1
            a1.sources.r1.type = seq
            a1.sources.r1.totalEvents = 100
            a1.sources.r1.channels = c1
            a1.channels.c1.type = memory
            a1.sinks.k1.type = kafka
            a1.sinks.k1.channel = c1
            a1.sinks.k1.kafka.bootstrap.servers = 127.0.0.1:\(dead)
            a1.sinks.k1.kafka.producer.max.block.ms = 600000
            """)
        agent.waitFor("waiting for the metadata of topic 'default-flume-topic'")
        XCTAssertTrue(agent.log.contains("cannot connect to 127.0.0.1:\(dead)"), agent.log)
        XCTAssertEqual(counter(port, "EventDrainSuccessCount"), 0)
        let started = Date()
        XCTAssertEqual(agent.stop(), 0)
        // The host drains for up to 5 s before it stops sinks; the sink then gives up within a poll interval.
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, agent.log)
        XCTAssertTrue(agent.log.contains("rolled back"), agent.log)
    }

    // MARK: Configuration

    func sinkConfig(_ keys: String) -> String {
        """
        a1.sources = r1
        a1.channels = c1
        a1.sinks = k1
        a1.sources.r1.type = seq
        a1.sources.r1.channels = c1
        a1.channels.c1.type = memory
        a1.sinks.k1.type = kafka
        a1.sinks.k1.channel = c1
        \(keys)
        """
    }

    func check(_ keys: String) throws -> RunResult {
        try AgentSetup(sinkConfig(keys)).check()
    }

    func testConfigErrorsNameTheKey() throws {
        let cases: [(String, String)] = [
            ("a1.sinks.k1.kafka.topic = t", "missing required property 'kafka.bootstrap.servers'"),
            ("a1.sinks.k1.kafka.bootstrap.servers = localhost", "property 'kafka.bootstrap.servers': 'localhost' is not host:port"),
            ("a1.sinks.k1.kafka.bootstrap.servers = h:9092\na1.sinks.k1.kafka.producer.acks = 2",
             "property 'kafka.producer.acks': '2' is not one of 0, 1, -1, all"),
            ("a1.sinks.k1.kafka.bootstrap.servers = h:9092\na1.sinks.k1.kafka.producer.batch.size = big",
             "property 'kafka.producer.batch.size': 'big' is not an integer"),
            ("a1.sinks.k1.kafka.bootstrap.servers = h:9092\na1.sinks.k1.kafka.producer.enable.idempotence = true",
             "property 'kafka.producer.enable.idempotence': needs acks=all"),
            ("a1.sinks.k1.kafka.bootstrap.servers = h:9092\na1.sinks.k1.kafka.producer.compression.type = brotli",
             "property 'kafka.producer.compression.type': 'brotli' is not one of none, gzip, snappy, lz4, zstd"),
            ("a1.sinks.k1.kafka.bootstrap.servers = h:9092\na1.sinks.k1.defaultPartitionId = -1",
             "property 'defaultPartitionId': -1 is not a partition id"),
            ("a1.sinks.k1.kafka.bootstrap.servers = h:9092\na1.sinks.k1.flumeBatchSize = 0",
             "property 'flumeBatchSize' must be > 0"),
            ("a1.sinks.k1.kafka.bootstrap.servers = h:9092\na1.sinks.k1.useFlumeEventFormat = yes",
             "property 'useFlumeEventFormat': 'yes' is not true or false"),
            ("a1.sinks.k1.kafka.bootstrap.servers = h:9092\na1.sinks.k1.kafka.producer.security.protocol = SSL",
             "property 'kafka.producer.security.protocol': 'SSL' is not supported"),
        ]
        for (keys, expected) in cases {
            let r = try check(keys)
            XCTAssertNotEqual(r.status, 0, "\(keys) should be refused")
            XCTAssertTrue(r.stderr.contains(expected), "\(keys): stderr lacks '\(expected)':\n\(r.stderr)")
        }
        let ok = try check("a1.sinks.k1.kafka.bootstrap.servers = h1:9092, [::1]:9093\na1.sinks.k1.kafka.producer.acks = all")
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertFalse(ok.stderr.contains("WARNING"), ok.stderr)
    }

    func testDeprecatedKeysAreTranslatedWithAWarningAndUnknownProducerKeysWarn() throws {
        let r = try check("""
            a1.sinks.k1.brokerList = h:9092
            a1.sinks.k1.topic = old
            a1.sinks.k1.batchSize = 50
            a1.sinks.k1.requiredAcks = -1
            a1.sinks.k1.kafka.producer.buffer.memory = 1000
            """)
        XCTAssertEqual(r.status, 0, r.stderr)
        for (old, new) in [("brokerList", "kafka.bootstrap.servers"), ("topic", "kafka.topic"),
                           ("batchSize", "flumeBatchSize"), ("requiredAcks", "kafka.producer.acks")] {
            XCTAssertTrue(r.stderr.contains("property '\(old)' is deprecated: use '\(new)'"), r.stderr)
        }
        XCTAssertTrue(r.stderr.contains("property 'kafka.producer.buffer.memory' is not supported by this producer and is ignored"), r.stderr)

        // The new key wins when both are set.
        let both = try check("""
            a1.sinks.k1.kafka.bootstrap.servers = h:9092
            a1.sinks.k1.brokerList = localhost
            """)
        XCTAssertEqual(both.status, 0, "the bad old value is never read: \(both.stderr)")
        XCTAssertTrue(both.stderr.contains("property 'brokerList' is deprecated and ignored, because 'kafka.bootstrap.servers' is set"), both.stderr)

        // The translated values are the ones used: a bad old acks is reported under the new name.
        let bad = try check("a1.sinks.k1.brokerList = h:9092\na1.sinks.k1.requiredAcks = 5")
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("property 'kafka.producer.acks': '5'"), bad.stderr)
    }
}
