import Foundation
import XCTest

/// `sluice check` against the real plugins: what is valid, and how every kind
/// of mistake is reported (file:line, the full key, exit status).
final class CheckCommandTests: XCTestCase {
    /// A valid seq → memory → logger agent; `extra` lines are appended.
    func config(_ extra: String = "", sourceChannels: String = "c1", sinkChannel: String = "c1") -> String {
        """
        a1.sources = r1
        a1.channels = c1
        a1.sinks = k1
        a1.sources.r1.type = seq
        a1.sources.r1.channels = \(sourceChannels)
        a1.channels.c1.type = memory
        a1.sinks.k1.type = logger
        a1.sinks.k1.channel = \(sinkChannel)
        \(extra)
        """
    }

    func check(_ text: String) throws -> (RunResult, String) {
        let setup = try AgentSetup(text)
        return (try setup.check(), setup.conf)
    }

    func assertRefused(_ r: RunResult, _ expected: String..., file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(r.status, 0, "check should fail; stdout: \(r.stdout)", file: file, line: line)
        XCTAssertFalse(r.stdout.contains("is valid"), r.stdout, file: file, line: line)
        for e in expected {
            XCTAssertTrue(r.stderr.contains(e), "stderr lacks '\(e)':\n\(r.stderr)", file: file, line: line)
        }
    }

    func testValidConfigIsValid() throws {
        let (r, conf) = try check(config())
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("\(conf): agent a1 is valid (1 sources, 1 channels, 1 sinks, 0 services)"), r.stdout)
        XCTAssertFalse(r.stderr.contains("WARNING"), "a clean config should not warn:\n\(r.stderr)")
    }

    func testSourceWithUndefinedChannel() throws {
        let (r, conf) = try check(config(sourceChannels: "c1 c9"))
        assertRefused(r, "\(conf):5: a1.sources.r1.channels:", "c9")
    }

    func testSinkChannelNotListed() throws {
        let (r, conf) = try check(config(sinkChannel: "c7"))
        assertRefused(r, "\(conf):8: a1.sinks.k1.channel:", "c7", "not listed in a1.channels")
    }

    func testMissingSinkType() throws {
        let text = """
            a1.sources = r1
            a1.channels = c1
            a1.sinks = k1
            a1.sources.r1.type = seq
            a1.sources.r1.channels = c1
            a1.channels.c1.type = memory
            a1.sinks.k1.channel = c1
            """
        let (r, conf) = try check(text)
        assertRefused(r, "\(conf):7: a1.sinks.k1.type:", "missing type")
    }

    func testMissingChannelType() throws {
        let text = config().replacingOccurrences(of: "a1.channels.c1.type = memory", with: "a1.channels.c1.capacity = 10")
        let (r, conf) = try check(text)
        assertRefused(r, "\(conf):6: a1.channels.c1.type:", "missing type")
    }

    func testUnknownSourceTypeListsKnownTypes() throws {
        let text = config().replacingOccurrences(of: "a1.sources.r1.type = seq", with: "a1.sources.r1.type = kafkaish")
        let (r, conf) = try check(text)
        assertRefused(r, "\(conf):4: a1.sources.r1.type:", "kafkaish")
        let line = r.stderr.split(separator: "\n").first { $0.contains("kafkaish") }.map(String.init) ?? ""
        XCTAssertTrue(line.contains("netcat"), "the message should list the known source types: \(line)")
        XCTAssertTrue(line.contains("seq"), "the message should list the known source types: \(line)")
    }

    func testUnknownInterceptorType() throws {
        let (r, conf) = try check(config("""
            a1.sources.r1.interceptors = i1
            a1.sources.r1.interceptors.i1.type = shiny
            """))
        assertRefused(r, "\(conf):10: a1.sources.r1.interceptors.i1.type:", "shiny")
        let line = r.stderr.split(separator: "\n").first { $0.contains("shiny") }.map(String.init) ?? ""
        XCTAssertTrue(line.contains("timestamp"), "the message should list the known interceptor types: \(line)")
    }

    func testInterceptorWithoutType() throws {
        let (r, conf) = try check(config("""
            a1.sources.r1.interceptors = i1
            a1.sources.r1.interceptors.i1.key = k
            """))
        assertRefused(r, "\(conf):10: a1.sources.r1.interceptors.i1.type:", "missing type")
    }

    func testFlumeJavaClassNamesResolve() throws {
        let text = """
            a1.sources = r1
            a1.channels = c1 c2
            a1.sinks = k1 k2
            a1.sinkgroups = g1
            a1.sources.r1.type = org.apache.flume.source.SequenceGeneratorSource
            a1.sources.r1.channels = c1 c2
            a1.sources.r1.selector.type = org.apache.flume.channel.MultiplexingChannelSelector
            a1.sources.r1.selector.header = h
            a1.sources.r1.selector.mapping.x = c2
            a1.sources.r1.selector.default = c1
            a1.sources.r1.interceptors = ts
            a1.sources.r1.interceptors.ts.type = org.apache.flume.interceptor.TimestampInterceptor$Builder
            a1.channels.c1.type = org.apache.flume.channel.MemoryChannel
            a1.channels.c2.type = org.apache.flume.channel.MemoryChannel
            a1.sinks.k1.type = org.apache.flume.sink.LoggerSink
            a1.sinks.k1.channel = c1
            a1.sinks.k2.type = org.apache.flume.sink.LoggerSink
            a1.sinks.k2.channel = c1
            a1.sinkgroups.g1.sinks = k1 k2
            a1.sinkgroups.g1.processor.type = org.apache.flume.sink.FailoverSinkProcessor
            a1.sinkgroups.g1.processor.priority.k1 = 5
            a1.sinkgroups.g1.processor.priority.k2 = 10
            """
        let (r, conf) = try check(text)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("\(conf): agent a1 is valid (1 sources, 2 channels, 2 sinks, 0 services)"), r.stdout)
    }

    func testUnknownPropertyIsAWarningNamingKeyAndLine() throws {
        let (r, conf) = try check(config("a1.sources.r1.totalEventz = 5"))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("is valid"), r.stdout)
        let warning = r.stderr.split(separator: "\n").first { $0.contains("totalEventz") }.map(String.init)
        XCTAssertNotNil(warning, "expected a warning naming the key:\n\(r.stderr)")
        XCTAssertTrue(warning?.contains("WARNING") ?? false, warning ?? "")
        XCTAssertTrue(warning?.contains("\(conf):9: a1.sources.r1.totalEventz") ?? false, warning ?? "")
    }

    func testSourceBatchSizeAboveTransactionCapacity() throws {
        let (r, conf) = try check(config("""
            a1.sources.r1.batchSize = 50
            a1.channels.c1.transactionCapacity = 20
            """))
        assertRefused(r, "\(conf):9: a1.sources.r1.batchSize:", "50", "20", "c1")
    }

    func testSourceBatchSizeEqualToTransactionCapacityIsFine() throws {
        let (r, _) = try check(config("""
            a1.sources.r1.batchSize = 20
            a1.channels.c1.transactionCapacity = 20
            a1.sinks.k1.batchSize = 20
            """))
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    /// As Flume, the effective batch size counts: the logger sink's default
    /// batchSize (100) does not fit a channel whose transactionCapacity is 20.
    func testDefaultSinkBatchSizeAboveTransactionCapacity() throws {
        let (r, conf) = try check(config("""
            a1.sources.r1.batchSize = 20
            a1.channels.c1.transactionCapacity = 20
            """))
        assertRefused(r, "\(conf):", "a1.sinks.k1.batchSize: batchSize 100 exceeds transactionCapacity 20 of channel 'c1'")
    }

    func testPluginConfigureErrorNamesComponent() throws {
        let (r, conf) = try check(config("a1.sources.r1.batchSize = abc"))
        assertRefused(r, "\(conf):", "a1.sources.r1", "batchSize", "abc")
        let line = r.stderr.split(separator: "\n").first { $0.contains("abc") }.map(String.init) ?? ""
        XCTAssertTrue(line.contains("a1.sources.r1"), "the error should name the component: \(line)")
    }

    func testSinkConfigureErrorNamesComponent() throws {
        let (r, conf) = try check(config("a1.sinks.k1.maxBytesToLog = -3"))
        assertRefused(r, "\(conf):", "a1.sinks.k1", "maxBytesToLog")
    }

    func testAllConfigErrorsAreReportedAtOnce() throws {
        let (r, conf) = try check(config(sourceChannels: "c9", sinkChannel: "c7"))
        assertRefused(r, "\(conf):5: a1.sources.r1.channels:", "\(conf):8: a1.sinks.k1.channel:")
    }

    func testSinkBatchSizeAboveTransactionCapacity() throws {
        let (r, conf) = try check(config("""
            a1.sinks.k1.batchSize = 200
            a1.channels.c1.transactionCapacity = 100
            """))
        assertRefused(r, "\(conf):9: a1.sinks.k1.batchSize:", "200", "100")
    }

    func testSinkInTwoGroups() throws {
        let text = """
            a1.sources = r1
            a1.channels = c1
            a1.sinks = k1 k2
            a1.sinkgroups = g1 g2
            a1.sources.r1.type = seq
            a1.sources.r1.channels = c1
            a1.channels.c1.type = memory
            a1.sinks.k1.type = logger
            a1.sinks.k1.channel = c1
            a1.sinks.k2.type = logger
            a1.sinks.k2.channel = c1
            a1.sinkgroups.g1.sinks = k1 k2
            a1.sinkgroups.g1.processor.type = failover
            a1.sinkgroups.g2.sinks = k2
            """
        let (r, conf) = try check(text)
        assertRefused(r, "\(conf):14: a1.sinkgroups.g2.sinks:", "k2", "g1")
    }

    func testMultiplexingMappingToForeignChannel() throws {
        let (r, conf) = try check(config("""
            a1.sources.r1.selector.type = multiplexing
            a1.sources.r1.selector.mapping.x = c2
            """))
        assertRefused(r, "\(conf):10: a1.sources.r1.selector.mapping.x:", "c2")
    }

    func testUnknownAgentName() throws {
        let setup = try AgentSetup(config())
        let r = try setup.check(agent: "a2")
        assertRefused(r, "no properties for agent 'a2'", "a1")
    }
}
