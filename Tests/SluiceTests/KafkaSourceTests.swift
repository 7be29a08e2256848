import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The Kafka source plugin against the Sluice broker, fed by kafka-python.
final class KafkaSourceTests: XCTestCase {
    typealias Broker = KafkaBrokerTests.Broker
    static let fastGroups = "a1.services.k1.group.initial.rebalance.delay.ms = 0"

    func feed(_ args: [String]) throws -> RunResult {
        let r = try runCommand("/usr/bin/env", ["python3", Paths.repoRoot + "/Tests/SluiceTests/kafka/source_feed.py"] + args, timeout: 120)
        XCTAssertTrue(r.stdout.contains("PRODUCED"), r.stdout + r.stderr)
        return r
    }

    /// An agent whose Kafka source feeds a logger sink.
    func consumerAgent(_ bootstrap: String, _ source: String) throws -> AgentSetup {
        try AgentSetup("""
            a1.sources = r1
            a1.channels = c1
            a1.sinks = k1
            a1.sources.r1.type = org.apache.flume.source.kafka.KafkaSource
            a1.sources.r1.kafka.bootstrap.servers = \(bootstrap)
            a1.sources.r1.kafka.consumer.session.timeout.ms = 6000
            a1.sources.r1.kafka.consumer.heartbeat.interval.ms = 500
            a1.sources.r1.batchDurationMillis = 200
            \(source)
            a1.sources.r1.channels = c1
            a1.channels.c1.type = memory
            a1.channels.c1.capacity = 100000
            a1.channels.c1.transactionCapacity = 1000
            a1.sinks.k1.type = logger
            a1.sinks.k1.channel = c1
            """, plugins: ["SluiceKafkaSource", "SluiceLoggerSink"])
    }

    func bodies(_ a: AgentProcess) -> [String] { a.events(from: "k1").map(\.text) }

    /// Records become events with Flume's headers (topic, partition, offset,
    /// timestamp, key, copied record headers); a restarted agent resumes
    /// after the offsets the first one committed.
    func testRecordsBecomeEventsAndARestartResumesFromCommittedOffsets() throws {
        let b = try Broker(extra: Self.fastGroups)
        let broker = try b.start()
        _ = try feed(["produce", b.bootstrap, "logs", "1", "0", "50"])
        let setup = try consumerAgent(b.bootstrap, """
            a1.sources.r1.kafka.topics = logs
            a1.sources.r1.kafka.consumer.group.id = g-resume
            a1.sources.r1.header.source_origin = origin
            a1.sources.r1.batchSize = 20
            """)
        var agent = try setup.start()
        XCTAssertTrue(agent.waitForEvents("k1", atLeast: 50, timeout: 30), agent.log)
        let events = agent.events(from: "k1")
        XCTAssertEqual(events.map(\.text), (0..<50).map { "m-\($0)" })
        let e7 = try XCTUnwrap(events.first { $0.text == "m-7" })
        XCTAssertEqual(e7.headers["topic"], "logs")
        XCTAssertEqual(e7.headers["partition"], "0")
        XCTAssertEqual(e7.headers["offset"], "7")
        XCTAssertEqual(e7.headers["key"], "k7")
        XCTAssertEqual(e7.headers["source_origin"], "py")
        XCTAssertNotNil(e7.headers["timestamp"].flatMap { Int64($0) }, "\(e7.headers)")
        // Let the last commit land, then stop; new records go to a new agent run.
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertEqual(agent.stop(), 0, agent.log)

        let r = try runCommand(Paths.sluice, ["kafka", "groups", "--describe", "--group", "g-resume", "--bootstrap-server", b.bootstrap])
        XCTAssertTrue(r.stdout.contains("logs\t0\t50\t50\t0"), "committed 50, lag 0: " + r.stdout + r.stderr)

        _ = try feed(["produce", b.bootstrap, "logs", "1", "50", "10"])
        agent = try setup.start()
        XCTAssertTrue(agent.waitForEvents("k1", atLeast: 10, timeout: 30), agent.log)
        Thread.sleep(forTimeInterval: 1)
        XCTAssertEqual(bodies(agent), (50..<60).map { "m-\($0)" }, "only the records after the committed offset")
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(broker.stop(), 0)
    }

    /// Two agents in one group split four partitions; when one stops, the
    /// other takes its partitions over from the committed offsets: every
    /// record is delivered, and duplicates stay within one batch.
    func testTwoAgentsSplitPartitionsAndOneTakesOver() throws {
        let b = try Broker(extra: Self.fastGroups)
        let broker = try b.start()
        _ = try feed(["produce", b.bootstrap, "split", "4", "0", "0"])
        let source = """
            a1.sources.r1.kafka.topics = split
            a1.sources.r1.kafka.consumer.group.id = g-split
            a1.sources.r1.batchSize = 50
            """
        let first = try consumerAgent(b.bootstrap, source).start()
        let second = try consumerAgent(b.bootstrap, source).start()
        func owned(_ a: AgentProcess) -> String { a.log.components(separatedBy: "assigned ").last ?? "" }
        XCTAssertTrue(first.waitFor("each member owns two partitions", timeout: 40) { _ in
            owned(first).hasPrefix("split[") && owned(second).hasPrefix("split[")
                && owned(first).prefix(11) != owned(second).prefix(11)
                && !owned(first).hasPrefix("split[0, 1, 2, 3]") && !owned(second).hasPrefix("split[0, 1, 2, 3]")
        }, first.log + second.log)
        _ = try feed(["produce", b.bootstrap, "split", "4", "0", "400"])
        XCTAssertTrue(first.waitFor("400 records between them", timeout: 40) { _ in
            Set(self.bodies(first) + self.bodies(second)).count >= 400
        }, "\(bodies(first).count) + \(bodies(second).count)")
        XCTAssertGreaterThan(bodies(first).count, 0)
        XCTAssertGreaterThan(bodies(second).count, 0)
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertEqual(second.stop(), 0, second.log)

        _ = try feed(["produce", b.bootstrap, "split", "4", "400", "400"])
        XCTAssertTrue(first.waitFor("the survivor owns all four partitions", timeout: 40) {
            $0.components(separatedBy: "assigned ").last!.hasPrefix("split[0, 1, 2, 3]")
        }, first.log)
        let want = Set((0..<800).map { "m-\($0)" })
        XCTAssertTrue(first.waitFor("all 800 records", timeout: 40) { _ in
            Set(self.bodies(first) + self.bodies(second)).isSuperset(of: want)
        }, "missing \(want.subtracting(bodies(first) + bodies(second)).sorted().prefix(20))")
        let all = bodies(first) + bodies(second)
        XCTAssertLessThanOrEqual(all.count - Set(all).count, 200, "duplicates beyond one batch per partition")
        XCTAssertEqual(first.stop(), 0)
        XCTAssertEqual(broker.stop(), 0)
    }

    /// Compressed batches (gzip, snappy, lz4, zstd) are read; a regex
    /// subscription picks up the matching topics; Flume Avro event values
    /// give back their headers and body.
    func testCompressedBatchesRegexSubscriptionAndFlumeEventFormat() throws {
        let b = try Broker(extra: Self.fastGroups)
        let broker = try b.start()
        for (i, codec) in ["gzip", "snappy", "lz4", "zstd"].enumerated() {
            _ = try feed(["produce", b.bootstrap, "app-\(codec)", "1", "\(i * 10)", "10", codec])
        }
        _ = try feed(["produce", b.bootstrap, "other", "1", "100", "5"])
        var agent = try consumerAgent(b.bootstrap, """
            a1.sources.r1.kafka.topics.regex = app-.*
            a1.sources.r1.kafka.consumer.group.id = g-regex
            """).start()
        XCTAssertTrue(agent.waitForEvents("k1", atLeast: 40, timeout: 30), agent.log)
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertEqual(Set(bodies(agent)), Set((0..<40).map { "m-\($0)" }), "the 'other' topic does not match")
        XCTAssertEqual(agent.stop(), 0)

        _ = try feed(["avro", b.bootstrap, "avro", "5"])
        agent = try consumerAgent(b.bootstrap, """
            a1.sources.r1.kafka.topics = avro
            a1.sources.r1.useFlumeEventFormat = true
            a1.sources.r1.setTopicHeader = false
            """).start()
        XCTAssertTrue(agent.waitForEvents("k1", atLeast: 5, timeout: 30), agent.log)
        let events = agent.events(from: "k1")
        XCTAssertEqual(events.map(\.text), (0..<5).map { "a-\($0)" })
        XCTAssertEqual(events.first?.headers["h1"], "v0")
        XCTAssertNil(events.first?.headers["topic"])
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(broker.stop(), 0)
    }

    /// Configuration mistakes are refused with the key named; Flume's
    /// deprecated names still work, with a warning.
    func testConfigErrorsAndDeprecatedKeys() throws {
        func check(_ source: String) throws -> RunResult {
            try consumerAgent("127.0.0.1:9", source).check()
        }
        var r = try check("a1.sources.r1.kafka.consumer.group.id = g")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue((r.stdout + r.stderr).contains("kafka.topics"), r.stdout + r.stderr)
        r = try check("a1.sources.r1.kafka.topics = t\na1.sources.r1.kafka.consumer.auto.offset.reset = sometimes")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue((r.stdout + r.stderr).contains("kafka.consumer.auto.offset.reset"), r.stdout + r.stderr)
        r = try check("a1.sources.r1.kafka.topics.regex = app-(")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue((r.stdout + r.stderr).contains("kafka.topics.regex"), r.stdout + r.stderr)
        r = try check("a1.sources.r1.topic = t\na1.sources.r1.groupId = g")
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    }
}
