import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The Kafka broker service, tested with real clients over its socket:
/// kcat (librdkafka's CLI), confluent-kafka and kafka-python.
final class KafkaBrokerTests: XCTestCase {
    struct Broker {
        let setup: AgentSetup
        let port: Int
        let logs: String
        var bootstrap: String { "127.0.0.1:\(port)" }

        init(logs: String? = nil, extra: String = "") throws {
            port = freeTCPPort()
            self.logs = logs ?? makeTempDir("sluice-kafka") + "/logs"
            setup = try AgentSetup("""
                a1.services = k1
                a1.services.k1.type = kafka
                a1.services.k1.listeners = PLAINTEXT://127.0.0.1:\(port)
                a1.services.k1.log.dirs = \(self.logs)
                \(extra)
                """, plugins: ["SluiceKafkaBroker"])
        }

        func start() throws -> AgentProcess {
            let a = try setup.start()
            a.waitFor("listening on 127.0.0.1:\(port)")
            return a
        }
    }

    func script(_ name: String) -> String { Paths.repoRoot + "/Tests/SluiceTests/kafka/" + name }

    func python(_ name: String, _ args: [String], timeout: Double = 120) throws -> RunResult {
        try runCommand("/usr/bin/env", ["python3", script(name)] + args, timeout: timeout)
    }

    /// Fetch responses are spliced from segment files (sendfile): records
    /// spanning many small segments and three partitions come back whole and
    /// in order, in the flexible (v12) and the classic (v6) encoding, and
    /// kcat reads the same count.
    func testFetchAcrossSegmentsAndPartitionsInBothEncodings() throws {
        let b = try Broker(extra: "a1.services.k1.log.segment.bytes = 16384")
        let agent = try b.start()
        let r = try python("fetch_many.py", [b.bootstrap, "spliced"])
        XCTAssertTrue(r.stdout.contains("OK newest 4500"), r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("OK classic 4500"), r.stdout + r.stderr)
        let segments = try FileManager.default.contentsOfDirectory(atPath: b.logs + "/spliced-0").filter { $0.hasSuffix(".log") }
        XCTAssertGreaterThan(segments.count, 5, "the data should span many segments")
        let k = try runCommand("/usr/bin/kcat", ["-b", b.bootstrap, "-t", "spliced", "-C", "-o", "beginning", "-e", "-q", "-f", "%p\n"], timeout: 60)
        XCTAssertEqual(k.stdout.split(separator: "\n").count, 4500, k.stderr)
        XCTAssertEqual(agent.stop(), 0)
    }

    func testKcatMetadataProduceConsumeWithKeysAndHeaders() throws {
        let b = try Broker()
        let agent = try b.start()
        let produce = Process()
        produce.executableURL = URL(fileURLWithPath: "/usr/bin/kcat")
        produce.arguments = ["-b", b.bootstrap, "-t", "cars", "-P", "-K:", "-H", "source=test"]
        let input = Pipe()
        produce.standardInput = input
        try produce.run()
        input.fileHandleForWriting.write("car1:speed=88\ncar2:speed=42\n".data(using: .utf8)!)
        input.fileHandleForWriting.closeFile()
        produce.waitUntilExit()
        XCTAssertEqual(produce.terminationStatus, 0)

        let meta = try runCommand("/usr/bin/kcat", ["-b", b.bootstrap, "-L", "-t", "cars"])
        XCTAssertTrue(meta.stdout.contains("broker 0 at 127.0.0.1:\(b.port)"), meta.stdout)
        XCTAssertTrue(meta.stdout.contains("topic \"cars\" with 1 partitions"), meta.stdout)

        let c = try runCommand("/usr/bin/kcat", ["-b", b.bootstrap, "-t", "cars", "-C", "-e", "-o", "beginning",
                                                 "-f", "%k|%s|%h|%o\n"], timeout: 30)
        XCTAssertEqual(c.status, 0, c.stderr)
        XCTAssertEqual(c.stdout, "car1|speed=88|source=test|0\ncar2|speed=42|source=test|1\n")
        XCTAssertEqual(agent.stop(), 0)
    }

    func testEveryCompressionCodecHeadersAndNullKeysWithPythonClients() throws {
        let b = try Broker()
        let agent = try b.start()
        let r = try python("produce_consume.py", [b.bootstrap, "codecs"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("OK 250"), r.stdout + r.stderr)
        XCTAssertEqual(agent.stop(), 0)
    }

    func testIdempotentProducerGetsAnIdAndEveryRecordOnce() throws {
        let b = try Broker()
        let agent = try b.start()
        let r = try python("idempotent_produce.py", [b.bootstrap, "idem", "2000"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("OK 2000"), r.stdout + r.stderr)
        XCTAssertEqual(agent.stop(), 0)
    }

    func testTopicAdministrationThroughTheAdminClient() throws {
        let b = try Broker()
        let agent = try b.start()
        let r = try python("admin.py", [b.bootstrap])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("OK"), r.stdout + r.stderr)
        XCTAssertEqual(agent.stop(), 0)
    }

    func testAcknowledgedRecordsSurviveRestartAndKill9() throws {
        let b = try Broker()
        var agent = try b.start()
        var r = try python("acked_produce.py", [b.bootstrap, "durable", "3000", "a"])
        XCTAssertTrue(r.stdout.contains("ACKED 3000"), r.stdout + r.stderr)
        XCTAssertEqual(agent.stop(), 0)

        agent = try b.start()
        r = try python("acked_produce.py", [b.bootstrap, "durable", "2000", "b"])
        XCTAssertTrue(r.stdout.contains("ACKED 2000"), r.stdout + r.stderr)
        kill(agent.process.processIdentifier, SIGKILL)
        agent.process.waitUntilExit()

        agent = try b.start()
        r = try python("consume_all.py", [b.bootstrap, "durable", "5000"])
        XCTAssertTrue(r.stdout.contains("COUNT 5000 DISTINCT 5000"), "every acknowledged record, once: \(r.stdout)\(r.stderr)")
        XCTAssertEqual(agent.stop(), 0)
    }

    /// Garbage, oversized and truncated frames close their own connection;
    /// a real client is served afterwards.
    func testMalformedFramesCloseOnlyTheirConnection() throws {
        let b = try Broker(extra: "a1.services.k1.socket.request.max.bytes = 1048576")
        let agent = try b.start()
        let frames: [[UInt8]] = [
            [0x7f, 0xff, 0xff, 0xff],                               // size far over the limit
            [0xff, 0xff, 0xff, 0xfe],                               // negative size
            [0, 0, 0, 4, 0, 3],                                     // truncated, then EOF
            [0, 0, 0, 10, 0x00, 0x63, 0, 0, 0, 0, 0, 1, 0xff, 0xff], // unknown API key 99
            [0, 0, 0, 12, 0, 3, 0, 9, 0, 0, 0, 1, 0xff, 0xff, 0x7f, 0xff], // metadata v9 body garbage
            Array((0..<200).map { UInt8(truncatingIfNeeded: $0 &* 37) }),
        ]
        for f in frames {
            for _ in 0..<5 {
                let c = try LineClient(port: b.port, receiveTimeout: 2)
                c.send(f)
                _ = c.drain(within: 0.2)
            }
        }
        let meta = try runCommand("/usr/bin/kcat", ["-b", b.bootstrap, "-L"], timeout: 30)
        XCTAssertEqual(meta.status, 0, meta.stderr)
        XCTAssertTrue(meta.stdout.contains("1 brokers"), meta.stdout)
        XCTAssertTrue(agent.log.contains("exceeds socket.request.max.bytes"), agent.log)
        XCTAssertTrue(agent.log.contains("unsupported API key 99"), agent.log)
        XCTAssertEqual(agent.stop(), 0)
    }

    /// KIP-511: an ApiVersions request newer than the broker knows gets a v0
    /// answer with UNSUPPORTED_VERSION and the supported ranges.
    func testTooNewApiVersionsGetsAVersionZeroAnswer() throws {
        let b = try Broker()
        let agent = try b.start()
        let c = try LineClient(port: b.port, receiveTimeout: 5)
        // size, api key 18, version 99, correlation id 7, client id "t",
        // no tagged fields (header v2), then a body this broker cannot know.
        c.send([0, 0, 0, 14, 0, 18, 0, 99, 0, 0, 0, 7, 0, 1, 0x74, 0, 0xab, 0xcd])
        let reply = c.drain(within: 1.0)
        guard reply.count > 14 else { return XCTFail("an answer, not a hang or a close: \(reply)\n\(agent.log)") }
        XCTAssertEqual(Array(reply[4..<8]), [0, 0, 0, 7], "correlation id echoed in a v0 header")
        XCTAssertEqual(Array(reply[8..<10]), [0, 35], "UNSUPPORTED_VERSION")
        XCTAssertEqual(agent.stop(), 0)
    }
}
