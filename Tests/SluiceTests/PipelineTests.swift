import Foundation
import XCTest

/// Whole pipelines through `sluice agent`: channel selectors, sink
/// processors, back-pressure and graceful shutdown, observed at logger sinks.
final class PipelineTests: XCTestCase {
    func assertExactly(_ bodies: [Int], _ n: Int, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(bodies.count, n, "\(what): event count", file: file, line: line)
        XCTAssertEqual(bodies.sorted(), Array(0..<n), "\(what): bodies should be 0..<\(n), each once", file: file, line: line)
    }

    func testReplicatingSelectorCopiesEveryEventToEveryChannel() throws {
        let n = 40
        let setup = try AgentSetup("""
            a1.sources = r1
            a1.channels = c1 c2
            a1.sinks = k1 k2
            a1.sources.r1.type = seq
            a1.sources.r1.totalEvents = \(n)
            a1.sources.r1.batchSize = 8
            a1.sources.r1.channels = c1 c2
            a1.sources.r1.selector.type = replicating
            a1.channels.c1.type = memory
            a1.channels.c2.type = memory
            a1.sinks.k1.type = logger
            a1.sinks.k1.channel = c1
            a1.sinks.k2.type = logger
            a1.sinks.k2.channel = c2
            """)
        let agent = try setup.start()
        agent.waitForEvents("k1", atLeast: n)
        agent.waitForEvents("k2", atLeast: n)
        XCTAssertEqual(agent.stop(), 0)
        assertExactly(integerBodies(agent.events(from: "k1")), n, "k1")
        assertExactly(integerBodies(agent.events(from: "k2")), n, "k2")
    }

    func testReplicatingOptionalChannelFullDoesNotBlockRequiredOne() throws {
        // c2 is optional, tiny and has no sink: it fills after 10 events and
        // must then be skipped, not hold up c1.
        let n = 60
        let setup = try AgentSetup("""
            a1.sources = r1
            a1.channels = c1 c2
            a1.sinks = k1
            a1.sources.r1.type = seq
            a1.sources.r1.totalEvents = \(n)
            a1.sources.r1.batchSize = 5
            a1.sources.r1.channels = c1 c2
            a1.sources.r1.selector.type = replicating
            a1.sources.r1.selector.optional = c2
            a1.channels.c1.type = memory
            a1.channels.c2.type = memory
            a1.channels.c2.capacity = 10
            a1.channels.c2.transactionCapacity = 5
            a1.sinks.k1.type = logger
            a1.sinks.k1.channel = c1
            """)
        // c2 is never drained: keep the shutdown's wait for it short.
        let agent = try setup.start(["--monitoring-type", "http", "--monitoring-port", "0", "--drain-timeout", "0.2"])
        let port = try XCTUnwrap(agent.metricsPort())
        agent.waitForEvents("k1", atLeast: n, timeout: 15)
        let m = try fetchMetricsJSON(port: port)
        XCTAssertEqual(m["CHANNEL.c2"]?["ChannelSize"], "10", "the optional channel holds what fitted")
        XCTAssertEqual(m["CHANNEL.c1"]?["EventPutSuccessCount"], "\(n)")
        XCTAssertEqual(m["SOURCE.r1"]?["EventAcceptedCount"], "\(n)", "optional failures must not fail the source")
        XCTAssertEqual(agent.stop(), 0)
        assertExactly(integerBodies(agent.events(from: "k1")), n, "k1")
    }

    func testMultiplexingSelectorRoutesByHeader() throws {
        let setup = try AgentSetup("""
            a1.sources = r1 r2
            a1.channels = c1 c2
            a1.sinks = k1 k2
            a1.sources.r1.type = seq
            a1.sources.r1.totalEvents = 5
            a1.sources.r1.channels = c1 c2
            a1.sources.r1.interceptors = route src
            a1.sources.r1.interceptors.route.type = static
            a1.sources.r1.interceptors.route.key = route
            a1.sources.r1.interceptors.route.value = blue
            a1.sources.r1.interceptors.src.type = static
            a1.sources.r1.interceptors.src.key = src
            a1.sources.r1.interceptors.src.value = r1
            a1.sources.r1.selector.type = multiplexing
            a1.sources.r1.selector.header = route
            a1.sources.r1.selector.mapping.blue = c1
            a1.sources.r1.selector.mapping.green = c2
            a1.sources.r1.selector.default = c2
            a1.sources.r2.type = seq
            a1.sources.r2.totalEvents = 7
            a1.sources.r2.channels = c1 c2
            a1.sources.r2.interceptors = src
            a1.sources.r2.interceptors.src.type = static
            a1.sources.r2.interceptors.src.key = src
            a1.sources.r2.interceptors.src.value = r2
            a1.sources.r2.selector.type = multiplexing
            a1.sources.r2.selector.header = route
            a1.sources.r2.selector.mapping.blue = c1
            a1.sources.r2.selector.default = c2
            a1.channels.c1.type = memory
            a1.channels.c2.type = memory
            a1.sinks.k1.type = logger
            a1.sinks.k1.channel = c1
            a1.sinks.k2.type = logger
            a1.sinks.k2.channel = c2
            """)
        let agent = try setup.start()
        agent.waitForEvents("k1", atLeast: 5)
        agent.waitForEvents("k2", atLeast: 7)
        XCTAssertEqual(agent.stop(), 0)
        let k1 = agent.events(from: "k1"), k2 = agent.events(from: "k2")
        XCTAssertEqual(k1.count, 5)
        XCTAssertEqual(k2.count, 7)
        for e in k1 {
            XCTAssertEqual(e.headers["route"], "blue")
            XCTAssertEqual(e.headers["src"], "r1")
        }
        for e in k2 {
            XCTAssertNil(e.headers["route"], "r2 events carry no route header")
            XCTAssertEqual(e.headers["src"], "r2", "only r2's headerless events go to the default channel")
        }
        assertExactly(integerBodies(k1), 5, "k1")
        assertExactly(integerBodies(k2), 7, "k2")
    }

    func testMultiplexingSelectorUsesDefaultForUnmappedValue() throws {
        let setup = try AgentSetup("""
            a1.sources = r1
            a1.channels = c1 c2
            a1.sinks = k1 k2
            a1.sources.r1.type = seq
            a1.sources.r1.totalEvents = 6
            a1.sources.r1.channels = c1 c2
            a1.sources.r1.interceptors = route
            a1.sources.r1.interceptors.route.type = static
            a1.sources.r1.interceptors.route.key = route
            a1.sources.r1.interceptors.route.value = purple
            a1.sources.r1.selector.type = multiplexing
            a1.sources.r1.selector.header = route
            a1.sources.r1.selector.mapping.blue = c1
            a1.sources.r1.selector.default = c2
            a1.channels.c1.type = memory
            a1.channels.c2.type = memory
            a1.sinks.k1.type = logger
            a1.sinks.k1.channel = c1
            a1.sinks.k2.type = logger
            a1.sinks.k2.channel = c2
            """)
        let agent = try setup.start(["--monitoring-type", "http", "--monitoring-port", "0"])
        let port = try XCTUnwrap(agent.metricsPort())
        agent.waitForEvents("k2", atLeast: 6)
        let m = try fetchMetricsJSON(port: port)
        XCTAssertEqual(m["CHANNEL.c1"]?["EventPutSuccessCount"], "0", "nothing maps to c1")
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(agent.events(from: "k1").count, 0)
        assertExactly(integerBodies(agent.events(from: "k2")), 6, "k2")
    }

    func testFailoverSendsEverythingToHighestPriority() throws {
        let n = 30
        let setup = try AgentSetup("""
            a1.sources = r1
            a1.channels = c1
            a1.sinks = k1 k2 k3
            a1.sinkgroups = g1
            a1.sources.r1.type = seq
            a1.sources.r1.totalEvents = \(n)
            a1.sources.r1.batchSize = 3
            a1.sources.r1.channels = c1
            a1.channels.c1.type = memory
            a1.sinks.k1.type = logger
            a1.sinks.k1.channel = c1
            a1.sinks.k2.type = logger
            a1.sinks.k2.channel = c1
            a1.sinks.k3.type = logger
            a1.sinks.k3.channel = c1
            a1.sinkgroups.g1.sinks = k1 k2 k3
            a1.sinkgroups.g1.processor.type = failover
            a1.sinkgroups.g1.processor.priority.k1 = 5
            a1.sinkgroups.g1.processor.priority.k2 = 10
            a1.sinkgroups.g1.processor.priority.k3 = 1
            a1.sinkgroups.g1.processor.maxpenalty = 10000
            """)
        let agent = try setup.start()
        agent.waitForEvents("k2", atLeast: n)
        XCTAssertEqual(agent.stop(), 0)
        assertExactly(integerBodies(agent.events(from: "k2")), n, "k2 (priority 10)")
        XCTAssertEqual(agent.events(from: "k1").count, 0, "a lower-priority sink got events")
        XCTAssertEqual(agent.events(from: "k3").count, 0, "a lower-priority sink got events")
    }

    func testLoadBalanceRoundRobinSpreadsEvents() throws {
        let n = 40
        let setup = try AgentSetup("""
            a1.sources = r1
            a1.channels = c1
            a1.sinks = k1 k2
            a1.sinkgroups = g1
            a1.sources.r1.type = seq
            a1.sources.r1.totalEvents = \(n)
            a1.sources.r1.channels = c1
            a1.channels.c1.type = memory
            a1.sinks.k1.type = logger
            a1.sinks.k1.channel = c1
            a1.sinks.k1.batchSize = 1
            a1.sinks.k2.type = logger
            a1.sinks.k2.channel = c1
            a1.sinks.k2.batchSize = 1
            a1.sinkgroups.g1.sinks = k1 k2
            a1.sinkgroups.g1.processor.type = load_balance
            a1.sinkgroups.g1.processor.selector = round_robin
            """)
        let agent = try setup.start()
        agent.waitFor("\(n) events over k1 and k2") { log in
            occurrences(of: " [k1] Event: ", in: log) + occurrences(of: " [k2] Event: ", in: log) >= n
        }
        XCTAssertEqual(agent.stop(), 0)
        let k1 = integerBodies(agent.events(from: "k1")), k2 = integerBodies(agent.events(from: "k2"))
        XCTAssertGreaterThan(k1.count, 0, "round robin never picked k1")
        XCTAssertGreaterThan(k2.count, 0, "round robin never picked k2")
        assertExactly(k1 + k2, n, "k1 + k2")
        XCTAssertTrue(Set(k1).isDisjoint(with: k2), "an event reached both sinks")
    }

    /// Bodies are 0, 1, 2, ... in commit order: a graceful stop must deliver
    /// exactly a prefix 0..<k with k at least what the source had committed
    /// when the signal was sent.
    func testSigtermDrainsEverythingCommitted() throws {
        let setup = try AgentSetup("""
            a1.sources = r1
            a1.channels = c1
            a1.sinks = k1
            a1.sources.r1.type = seq
            a1.sources.r1.totalEvents = 100000000
            a1.sources.r1.batchSize = 200
            a1.sources.r1.channels = c1
            a1.channels.c1.type = memory
            a1.channels.c1.capacity = 5000
            a1.channels.c1.transactionCapacity = 500
            a1.sinks.k1.type = logger
            a1.sinks.k1.channel = c1
            a1.sinks.k1.batchSize = 100
            """)
        let agent = try setup.start(["--monitoring-type", "http", "--monitoring-port", "0"])
        let port = try XCTUnwrap(agent.metricsPort())
        agent.waitForEvents("k1", atLeast: 2000)
        let m = try fetchMetricsJSON(port: port)
        let committed = try XCTUnwrap(Int(m["SOURCE.r1"]?["EventAcceptedCount"] ?? ""))
        XCTAssertGreaterThan(committed, 0)
        XCTAssertEqual(agent.stop(SIGTERM), 0, "a graceful stop exits 0")
        let log = agent.log
        XCTAssertTrue(log.contains("agent a1 stopped"), String(log.suffix(2000)))
        XCTAssertFalse(log.contains("events still in memory channels"), "events were left behind:\n\(log.suffix(2000))")
        let bodies = integerBodies(agent.events(from: "k1"))
        XCTAssertGreaterThanOrEqual(bodies.count, committed, "events committed before SIGTERM were lost")
        let gap = bodies.indices.first { bodies[$0] != $0 }
        XCTAssertNil(gap, "logged bodies must be exactly 0..<k in order; at index \(gap ?? 0) found \(gap.map { bodies[$0] } ?? 0)")
    }

    func testChannelFullSourceWaitsAndLosesNothing() throws {
        let n = 500
        let setup = try AgentSetup("""
            a1.sources = r1
            a1.channels = c1
            a1.sinks = k1
            a1.sources.r1.type = seq
            a1.sources.r1.totalEvents = \(n)
            a1.sources.r1.batchSize = 10
            a1.sources.r1.channels = c1
            a1.channels.c1.type = memory
            a1.channels.c1.capacity = 10
            a1.channels.c1.transactionCapacity = 10
            a1.sinks.k1.type = logger
            a1.sinks.k1.channel = c1
            a1.sinks.k1.batchSize = 10
            """)
        let agent = try setup.start()
        agent.waitForEvents("k1", atLeast: n, timeout: 30)
        XCTAssertEqual(agent.stop(), 0)
        let bodies = integerBodies(agent.events(from: "k1"))
        XCTAssertEqual(bodies, Array(0..<n), "every event exactly once, in order")
    }

    /// With keep-alive 0 a full channel refuses at once: the source must back
    /// off and retry the same batch (small back-off keys keep this fast).
    func testChannelFullWithoutKeepAliveBacksOffAndLosesNothing() throws {
        let n = 300
        let setup = try AgentSetup("""
            a1.sources = r1
            a1.channels = c1
            a1.sinks = k1
            a1.sources.r1.type = seq
            a1.sources.r1.totalEvents = \(n)
            a1.sources.r1.batchSize = 10
            a1.sources.r1.backoffSleepIncrement = 5
            a1.sources.r1.maxBackoffSleep = 20
            a1.sources.r1.channels = c1
            a1.channels.c1.type = memory
            a1.channels.c1.capacity = 10
            a1.channels.c1.transactionCapacity = 10
            a1.channels.c1.keep-alive = 0
            a1.sinks.k1.type = logger
            a1.sinks.k1.channel = c1
            a1.sinks.k1.batchSize = 10
            """)
        let agent = try setup.start(["--monitoring-type", "http", "--monitoring-port", "0"])
        let port = try XCTUnwrap(agent.metricsPort())
        agent.waitForEvents("k1", atLeast: n, timeout: 30)
        let m = try fetchMetricsJSON(port: port)
        XCTAssertEqual(m["SOURCE.r1"]?["EventAcceptedCount"], "\(n)")
        XCTAssertEqual(m["CHANNEL.c1"]?["EventPutSuccessCount"], "\(n)")
        XCTAssertEqual(m["CHANNEL.c1"]?["EventTakeSuccessCount"], "\(n)")
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(integerBodies(agent.events(from: "k1")), Array(0..<n), "every event exactly once, in order")
    }

    func testMultiplexingOptionalChannelsPerValue() throws {
        let setup = try AgentSetup("""
            a1.sources = r1
            a1.channels = c1 c2 c3
            a1.sinks = k1 k2 k3
            a1.sources.r1.type = seq
            a1.sources.r1.totalEvents = 4
            a1.sources.r1.channels = c1 c2 c3
            a1.sources.r1.interceptors = route
            a1.sources.r1.interceptors.route.type = static
            a1.sources.r1.interceptors.route.key = route
            a1.sources.r1.interceptors.route.value = blue
            a1.sources.r1.selector.type = multiplexing
            a1.sources.r1.selector.header = route
            a1.sources.r1.selector.mapping.blue = c1
            a1.sources.r1.selector.optional.blue = c2
            a1.sources.r1.selector.default = c3
            a1.channels.c1.type = memory
            a1.channels.c2.type = memory
            a1.channels.c3.type = memory
            a1.sinks.k1.type = logger
            a1.sinks.k1.channel = c1
            a1.sinks.k2.type = logger
            a1.sinks.k2.channel = c2
            a1.sinks.k3.type = logger
            a1.sinks.k3.channel = c3
            """)
        let agent = try setup.start()
        agent.waitForEvents("k1", atLeast: 4)
        agent.waitForEvents("k2", atLeast: 4)
        XCTAssertEqual(agent.stop(), 0)
        assertExactly(integerBodies(agent.events(from: "k1")), 4, "k1 (required for blue)")
        assertExactly(integerBodies(agent.events(from: "k2")), 4, "k2 (optional for blue)")
        XCTAssertEqual(agent.events(from: "k3").count, 0, "the default channel is not used for a mapped value")
    }

    /// Interceptors run before the selector: a header extracted from the
    /// body decides the channel.
    func testSelectorRoutesOnHeaderSetByInterceptor() throws {
        let setup = try AgentSetup(#"""
            a1.sources = r1
            a1.channels = even odd
            a1.sinks = ke ko
            a1.sources.r1.type = seq
            a1.sources.r1.totalEvents = 10
            a1.sources.r1.batchSize = 10
            a1.sources.r1.channels = even odd
            a1.sources.r1.interceptors = x
            a1.sources.r1.interceptors.x.type = regex_extractor
            a1.sources.r1.interceptors.x.regex = ([02468])$
            a1.sources.r1.interceptors.x.serializers = s
            a1.sources.r1.interceptors.x.serializers.s.name = lastdigit
            a1.sources.r1.selector.type = multiplexing
            a1.sources.r1.selector.header = lastdigit
            a1.sources.r1.selector.mapping.0 = even
            a1.sources.r1.selector.mapping.2 = even
            a1.sources.r1.selector.mapping.4 = even
            a1.sources.r1.selector.mapping.6 = even
            a1.sources.r1.selector.mapping.8 = even
            a1.sources.r1.selector.default = odd
            a1.channels.even.type = memory
            a1.channels.odd.type = memory
            a1.sinks.ke.type = logger
            a1.sinks.ke.channel = even
            a1.sinks.ko.type = logger
            a1.sinks.ko.channel = odd
            """#)
        let agent = try setup.start()
        agent.waitForEvents("ke", atLeast: 5)
        agent.waitForEvents("ko", atLeast: 5)
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(integerBodies(agent.events(from: "ke")).sorted(), [0, 2, 4, 6, 8])
        XCTAssertEqual(integerBodies(agent.events(from: "ko")).sorted(), [1, 3, 5, 7, 9])
    }

    func testLoadBalancingChannelSelectorSendsEachEventToOneChannel() throws {
        let n = 20
        let setup = try AgentSetup("""
            a1.sources = r1
            a1.channels = c1 c2
            a1.sinks = k1 k2
            a1.sources.r1.type = seq
            a1.sources.r1.totalEvents = \(n)
            a1.sources.r1.batchSize = 4
            a1.sources.r1.channels = c1 c2
            a1.sources.r1.selector.type = load_balancing
            a1.sources.r1.selector.policy = round_robin
            a1.channels.c1.type = memory
            a1.channels.c2.type = memory
            a1.sinks.k1.type = logger
            a1.sinks.k1.channel = c1
            a1.sinks.k2.type = logger
            a1.sinks.k2.channel = c2
            """)
        let agent = try setup.start()
        agent.waitFor("\(n) events over k1 and k2") { log in
            occurrences(of: " [k1] Event: ", in: log) + occurrences(of: " [k2] Event: ", in: log) >= n
        }
        XCTAssertEqual(agent.stop(), 0)
        let k1 = integerBodies(agent.events(from: "k1")), k2 = integerBodies(agent.events(from: "k2"))
        assertExactly(k1 + k2, n, "k1 + k2")
        XCTAssertEqual(k1.count, n / 2, "round robin alternates channels")
        XCTAssertEqual(k2.count, n / 2, "round robin alternates channels")
    }

    func testSigintStopsGracefullyToo() throws {
        let setup = try AgentSetup("""
            a1.sources = r1
            a1.channels = c1
            a1.sinks = k1
            a1.sources.r1.type = seq
            a1.sources.r1.totalEvents = 10
            a1.sources.r1.channels = c1
            a1.channels.c1.type = memory
            a1.sinks.k1.type = logger
            a1.sinks.k1.channel = c1
            """)
        let agent = try setup.start()
        agent.waitForEvents("k1", atLeast: 10)
        XCTAssertEqual(agent.stop(SIGINT), 0)
        XCTAssertTrue(agent.log.contains("agent a1 stopped"), agent.log)
        assertExactly(integerBodies(agent.events(from: "k1")), 10, "k1")
    }
}
