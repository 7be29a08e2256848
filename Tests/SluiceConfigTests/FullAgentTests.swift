import XCTest
@testable import SluiceConfig

/// A complete agent in the style of the Flume user guide.
private let fullConfig = """
# Agent a1: netcat and spooldir sources, three channels, a failover group
a1.sources = r1 r2
a1.channels = c1 c2 c3
a1.sinks = k1 k2 k3
a1.sinkgroups = g1

# netcat -> memory -> logger, multiplexed on the "state" header
a1.sources.r1.type = netcat
a1.sources.r1.bind = localhost
a1.sources.r1.port = 44444
a1.sources.r1.channels = c1 c2 c3
a1.sources.r1.selector.type = multiplexing
a1.sources.r1.selector.header = state
a1.sources.r1.selector.mapping.CZ = c1
a1.sources.r1.selector.mapping.US = c2 c3
a1.sources.r1.selector.default = c1
a1.sources.r1.selector.optional.CZ = c3
a1.sources.r1.interceptors = i2 i1
a1.sources.r1.interceptors.i1.type = timestamp
a1.sources.r1.interceptors.i2.type = host
a1.sources.r1.interceptors.i2.hostHeader = hostname

# spooldir dropping DEBUG lines
a1.sources.r2.type = spooldir
a1.sources.r2.spoolDir = /var/log/apache/flumeSpool
a1.sources.r2.fileHeader = true
a1.sources.r2.channels = c2
a1.sources.r2.interceptors = f1
a1.sources.r2.interceptors.f1.type = regex_filter
a1.sources.r2.interceptors.f1.regex = ^DEBUG
a1.sources.r2.interceptors.f1.excludeEvents = true
a1.sources.r2.deserializer.maxLineLength = 4096

a1.channels.c1.type = memory
a1.channels.c1.capacity = 1000
a1.channels.c1.transactionCapacity = 100
a1.channels.c2.type = file
a1.channels.c2.checkpointDir = /mnt/flume/checkpoint
a1.channels.c2.dataDirs = /mnt/flume/data
a1.channels.c3.type = org.apache.flume.channel.MemoryChannel

a1.sinks.k1.type = logger
a1.sinks.k1.channel = c1
a1.sinks.k2.type = hdfs
a1.sinks.k2.channel = c2
a1.sinks.k2.hdfs.path = /flume/events/%y-%m-%d/%H%M
a1.sinks.k2.hdfs.filePrefix = events-
a1.sinks.k3.type = org.apache.flume.sink.kafka.KafkaSink
a1.sinks.k3.channel = c3
a1.sinks.k3.kafka.topic = mytopic
a1.sinks.k3.kafka.bootstrap.servers = localhost:9092

a1.sinkgroups.g1.sinks = k2 k3
a1.sinkgroups.g1.processor.type = failover
a1.sinkgroups.g1.processor.priority.k2 = 5
a1.sinkgroups.g1.processor.priority.k3 = 10
a1.sinkgroups.g1.processor.maxpenalty = 10000

# another agent in the same file is not looked at
a2.sources = s1
a2.bogus = 1
"""

final class FullAgentTests: XCTestCase {
    private func loc(_ key: String) -> SourceLocation {
        SourceLocation(file: "agent.conf", line: lineOf(key, in: fullConfig))
    }

    func testNoDiagnosticsForAValidAgent() throws {
        let agent = try parseAgent(fullConfig)
        XCTAssertEqual(agent.name, "a1")
        XCTAssertEqual(agent.warnings.map(\.description), [])
    }

    func testChannelsInListOrderWithTypesVerbatim() throws {
        let agent = try parseAgent(fullConfig)
        XCTAssertEqual(agent.channels.map(\.name), ["c1", "c2", "c3"])
        XCTAssertEqual(agent.channels.map(\.type), ["memory", "file", "org.apache.flume.channel.MemoryChannel"])
        let c1 = agent.channels[0]
        XCTAssertEqual(c1.properties, ["capacity": "1000", "transactionCapacity": "100"])
        XCTAssertEqual(c1.keyLocations["capacity"], loc("a1.channels.c1.capacity"))
        XCTAssertEqual(c1.location, loc("a1.channels.c1.type"))
        XCTAssertEqual(c1.keyPrefix, "a1.channels.c1.")
    }

    func testNetcatSourceWithMultiplexingSelectorAndInterceptors() throws {
        let agent = try parseAgent(fullConfig)
        XCTAssertEqual(agent.sources.map(\.component.name), ["r1", "r2"])
        let r1 = agent.sources[0]
        XCTAssertEqual(r1.component.type, "netcat")
        XCTAssertEqual(r1.component.properties, ["bind": "localhost", "port": "44444"])
        XCTAssertEqual(r1.component.keyPrefix, "a1.sources.r1.")
        XCTAssertEqual(r1.component.location, loc("a1.sources.r1.type"))
        XCTAssertEqual(r1.channels, ["c1", "c2", "c3"])

        XCTAssertEqual(r1.selector.type, "multiplexing")
        XCTAssertEqual(r1.selector.location, loc("a1.sources.r1.selector.type"))
        XCTAssertEqual(r1.selector.properties, [
            "header": "state", "mapping.CZ": "c1", "mapping.US": "c2 c3", "default": "c1", "optional.CZ": "c3",
        ])

        XCTAssertEqual(r1.interceptors.map(\.name), ["i2", "i1"], "order of the interceptors list")
        XCTAssertEqual(r1.interceptors.map(\.type), ["host", "timestamp"])
        XCTAssertEqual(r1.interceptors[0].properties, ["hostHeader": "hostname"])
        XCTAssertEqual(r1.interceptors[0].keyLocations["hostHeader"], loc("a1.sources.r1.interceptors.i2.hostHeader"))
        XCTAssertEqual(r1.interceptors[0].keyPrefix, "a1.sources.r1.interceptors.i2.")
        XCTAssertEqual(r1.interceptors[1].location, loc("a1.sources.r1.interceptors.i1.type"))
        XCTAssertEqual(r1.interceptors[1].properties, [:])
    }

    func testSpooldirSourceWithRegexFilterAndDefaultSelector() throws {
        let r2 = try parseAgent(fullConfig).sources[1]
        XCTAssertEqual(r2.component.type, "spooldir")
        XCTAssertEqual(r2.component.properties, [
            "spoolDir": "/var/log/apache/flumeSpool", "fileHeader": "true", "deserializer.maxLineLength": "4096",
        ])
        XCTAssertEqual(r2.component.keyLocations["deserializer.maxLineLength"],
                       loc("a1.sources.r2.deserializer.maxLineLength"))
        XCTAssertEqual(r2.channels, ["c2"])
        XCTAssertEqual(r2.selector.type, "replicating")
        XCTAssertEqual(r2.selector.properties, [:])
        XCTAssertNil(r2.selector.location)
        XCTAssertEqual(r2.interceptors.count, 1)
        XCTAssertEqual(r2.interceptors[0].type, "regex_filter")
        XCTAssertEqual(r2.interceptors[0].properties, ["regex": "^DEBUG", "excludeEvents": "true"])
    }

    func testSinksKeepChannelOutOfProperties() throws {
        let agent = try parseAgent(fullConfig)
        XCTAssertEqual(agent.sinks.map(\.component.name), ["k1", "k2", "k3"])
        XCTAssertEqual(agent.sinks.map(\.channel), ["c1", "c2", "c3"])
        XCTAssertEqual(agent.sinks[0].component.properties, [:])
        XCTAssertEqual(agent.sinks[1].component.properties,
                       ["hdfs.path": "/flume/events/%y-%m-%d/%H%M", "hdfs.filePrefix": "events-"])
        XCTAssertEqual(agent.sinks[2].component.type, "org.apache.flume.sink.kafka.KafkaSink")
        XCTAssertEqual(agent.sinks[2].component.properties["kafka.bootstrap.servers"], "localhost:9092")
    }

    func testFailoverSinkGroup() throws {
        let groups = try parseAgent(fullConfig).sinkGroups
        XCTAssertEqual(groups.count, 1)
        XCTAssertEqual(groups[0].name, "g1")
        XCTAssertEqual(groups[0].sinks, ["k2", "k3"])
        XCTAssertEqual(groups[0].processorType, "failover")
        XCTAssertEqual(groups[0].processorProperties,
                       ["priority.k2": "5", "priority.k3": "10", "maxpenalty": "10000"])
        XCTAssertEqual(groups[0].location, loc("a1.sinkgroups.g1.sinks"))
    }

    func testOtherAgentInSameFile() throws {
        // a2 has a source but no channels: an error for a2, while a1 parses fine above.
        let errors = parseErrors(fullConfig, agent: "a2")
        assertDiagnostic(errors, key: "a2.sources", line: lineOf("a2.sources", in: fullConfig), contains: "no channels")
    }

    func testLoadBalancingGroupDefaultsAndServices() throws {
        let text = """
        a1.channels = c1
        a1.sinks = k1 k2
        a1.channels.c1.type = memory
        a1.sinks.k1.type = logger
        a1.sinks.k1.channel = c1
        a1.sinks.k2.type = null
        a1.sinks.k2.channel = c1
        a1.sinkgroups = lb
        a1.sinkgroups.lb.sinks = k1 k2
        a1.sinkgroups.lb.processor.backoff = true
        a1.sinkgroups.lb.processor.selector = random
        a1.sinkgroups.lb.processor.selector.maxTimeOut = 10000
        a1.services = kb
        a1.services.kb.type = kafka
        a1.services.kb.port = 9092
        a1.services.kb.log.dirs = /var/lib/sluice/kafka
        """
        let agent = try parseAgent(text)
        XCTAssertEqual(agent.sinks.map(\.component.name), ["k1", "k2"])
        XCTAssertEqual(agent.sinks[1].component.type, "null")
        XCTAssertEqual(agent.sinkGroups[0].processorType, "default")
        XCTAssertEqual(agent.sinkGroups[0].processorProperties,
                       ["backoff": "true", "selector": "random", "selector.maxTimeOut": "10000"])
        XCTAssertEqual(agent.services.map(\.name), ["kb"])
        XCTAssertEqual(agent.services[0].type, "kafka")
        XCTAssertEqual(agent.services[0].properties, ["port": "9092", "log.dirs": "/var/lib/sluice/kafka"])
        XCTAssertEqual(agent.services[0].keyPrefix, "a1.services.kb.")
        XCTAssertEqual(agent.warnings.count, 0)
    }

    func testAgentWithOnlyServicesIsValid() throws {
        let agent = try parseAgent("""
        zk.services = z1
        zk.services.z1.type = zookeeper
        zk.services.z1.clientPort = 2181
        """, agent: "zk")
        XCTAssertEqual(agent.services.map(\.type), ["zookeeper"])
        XCTAssertTrue(agent.channels.isEmpty && agent.sources.isEmpty && agent.sinks.isEmpty)
        XCTAssertEqual(agent.warnings.count, 0)
    }

    func testSelectorOfOtherTypesKeepsItsProperties() throws {
        let text = minimalAgent + """

        a1.sources.r1.selector.type = load_balancing
        a1.sources.r1.selector.policy = random
        """
        let selector = try parseAgent(text).sources[0].selector
        XCTAssertEqual(selector.type, "load_balancing")
        XCTAssertEqual(selector.properties, ["policy": "random"])
        XCTAssertEqual(selector.location?.line, lineOf("a1.sources.r1.selector.type", in: text))
    }
}
