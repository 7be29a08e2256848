import Foundation
import XCTest

/// The metrics server: Flume's JSON counter names and values after a known
/// run, the Prometheus text, and that nothing listens unless asked.
final class MetricsTests: XCTestCase {
    let n = 25

    var config: String {
        """
        a1.sources = r1
        a1.channels = c1
        a1.sinks = k1
        a1.sources.r1.type = seq
        a1.sources.r1.totalEvents = \(n)
        a1.sources.r1.batchSize = 5
        a1.sources.r1.channels = c1
        a1.channels.c1.type = memory
        a1.channels.c1.capacity = 1000
        a1.channels.c1.transactionCapacity = 50
        a1.sinks.k1.type = logger
        a1.sinks.k1.channel = c1
        a1.sinks.k1.batchSize = 10
        """
    }

    /// Polls /metrics until the sink has drained `n` events; returns that snapshot.
    func waitForDrain(port: Int) throws -> [String: [String: String]] {
        let deadline = Date().addingTimeInterval(20)
        var m: [String: [String: String]] = [:]
        while Date() < deadline {
            m = try fetchMetricsJSON(port: port)
            if m["SINK.k1"]?["EventDrainSuccessCount"] == "\(n)" && m["CHANNEL.c1"]?["ChannelSize"] == "0" { return m }
            usleep(50_000)
        }
        XCTFail("the sink never reported \(n) drained events: \(m)")
        return m
    }

    func testJSONMetricsAfterSequenceRun() throws {
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        let setup = try AgentSetup(config)
        let agent = try setup.start(["--monitoring-type", "http", "--monitoring-port", "0"])
        let port = try XCTUnwrap(agent.metricsPort())
        XCTAssertNotEqual(port, 0, "port 0 must be reported as the port actually bound")
        let m = try waitForDrain(port: port)

        let source = try XCTUnwrap(m["SOURCE.r1"], "\(m.keys)")
        XCTAssertEqual(source["EventReceivedCount"], "\(n)")
        XCTAssertEqual(source["EventAcceptedCount"], "\(n)")
        XCTAssertEqual(source["Type"], "SOURCE")
        let start = try XCTUnwrap(Int64(source["StartTime"] ?? ""))
        XCTAssertGreaterThanOrEqual(start, before - 1000, "StartTime is epoch ms")
        XCTAssertLessThanOrEqual(start, Int64(Date().timeIntervalSince1970 * 1000) + 1000)
        XCTAssertEqual(source["StopTime"], "0", "a running component has StopTime 0")

        let channel = try XCTUnwrap(m["CHANNEL.c1"], "\(m.keys)")
        XCTAssertEqual(channel["EventPutSuccessCount"], "\(n)")
        XCTAssertEqual(channel["EventTakeSuccessCount"], "\(n)")
        XCTAssertEqual(channel["EventPutAttemptCount"], "\(n)")
        XCTAssertEqual(channel["ChannelSize"], "0")
        XCTAssertEqual(channel["ChannelCapacity"], "1000")
        XCTAssertEqual(Double(channel["ChannelFillPercentage"] ?? ""), 0)
        XCTAssertNotNil(channel["EventTakeAttemptCount"])
        XCTAssertEqual(channel["Type"], "CHANNEL")

        let sink = try XCTUnwrap(m["SINK.k1"], "\(m.keys)")
        XCTAssertEqual(sink["EventDrainSuccessCount"], "\(n)")
        XCTAssertEqual(sink["EventDrainAttemptCount"], "\(n)")
        let complete = try XCTUnwrap(Int(sink["BatchCompleteCount"] ?? ""), "BatchCompleteCount missing: \(sink)")
        let underflow = try XCTUnwrap(Int(sink["BatchUnderflowCount"] ?? ""), "BatchUnderflowCount missing: \(sink)")
        XCTAssertGreaterThan(complete + underflow, 0)
        XCTAssertGreaterThanOrEqual(complete + underflow, (n + 9) / 10, "a batch of at most 10 per take")
        XCTAssertEqual(sink["Type"], "SINK")

        // Only components appear: the interceptor-free agent has exactly these three.
        XCTAssertEqual(Set(m.keys), ["SOURCE.r1", "CHANNEL.c1", "SINK.k1"])
        XCTAssertEqual(agent.stop(), 0)
    }

    /// Flume's counter groups expose every attribute from the start (JMX
    /// MBeans), so /metrics of an idle agent already lists them all at "0".
    func testEveryFlumeAttributeIsListedWhileIdle() throws {
        let setup = try AgentSetup("""
            a1.sources = r1
            a1.channels = c1
            a1.sinks = k1
            a1.sources.r1.type = netcat
            a1.sources.r1.bind = 127.0.0.1
            a1.sources.r1.port = 0
            a1.sources.r1.channels = c1
            a1.channels.c1.type = memory
            a1.sinks.k1.type = logger
            a1.sinks.k1.channel = c1
            """)
        let agent = try setup.start(["--monitoring-type", "http", "--monitoring-port", "0"])
        let port = try XCTUnwrap(agent.metricsPort())
        agent.waitFor("started in")
        let m = try fetchMetricsJSON(port: port)
        let expected: [String: [String]] = [
            "SOURCE.r1": ["EventReceivedCount", "EventAcceptedCount", "AppendReceivedCount", "AppendAcceptedCount",
                          "AppendBatchReceivedCount", "AppendBatchAcceptedCount", "OpenConnectionCount",
                          "EventReadFail", "ChannelWriteFail", "GenericProcessingFail", "StartTime", "StopTime", "Type"],
            "CHANNEL.c1": ["ChannelSize", "ChannelCapacity", "ChannelFillPercentage", "EventPutAttemptCount",
                           "EventPutSuccessCount", "EventTakeAttemptCount", "EventTakeSuccessCount",
                           "StartTime", "StopTime", "Type"],
            "SINK.k1": ["ConnectionCreatedCount", "ConnectionClosedCount", "ConnectionFailedCount", "BatchEmptyCount",
                        "BatchUnderflowCount", "BatchCompleteCount", "EventDrainAttemptCount", "EventDrainSuccessCount",
                        "EventWriteFail", "ChannelReadFail", "StartTime", "StopTime", "Type"],
        ]
        for (group, attributes) in expected {
            let have = m[group] ?? [:]
            let missing = attributes.filter { have[$0] == nil }
            XCTAssertEqual(missing, [], "\(group) lacks Flume attributes; has \(have.keys.sorted())")
        }
        XCTAssertEqual(m["SINK.k1"]?["EventDrainSuccessCount"], "0")
        XCTAssertEqual(m["SOURCE.r1"]?["EventAcceptedCount"], "0")
        XCTAssertEqual(agent.stop(), 0)
    }

    func testJSONContentTypeAndUnknownPath() throws {
        let setup = try AgentSetup(config)
        let agent = try setup.start(["--monitoring-type", "http", "--monitoring-port", "0"])
        let port = try XCTUnwrap(agent.metricsPort())
        let r = try runCommand("/usr/bin/curl", ["-s", "-i", "http://127.0.0.1:\(port)/metrics"], timeout: 20)
        XCTAssertTrue(r.stdout.lowercased().contains("content-type: application/json"), r.stdout)
        let missing = try httpGet("http://127.0.0.1:\(port)/nope")
        XCTAssertEqual(missing.httpStatus, 404)
        XCTAssertEqual(agent.stop(), 0)
    }

    func testPrometheusTextBesideJSON() throws {
        let setup = try AgentSetup(config)
        let agent = try setup.start(["--monitoring-type", "http", "--monitoring-port", "0"])
        let port = try XCTUnwrap(agent.metricsPort())
        _ = try waitForDrain(port: port)
        let r = try httpGet("http://127.0.0.1:\(port)/metrics.prom")
        XCTAssertEqual(r.httpStatus, 200)
        XCTAssertTrue(r.body.contains("Flume_CHANNEL_ChannelSize{component=\"c1\""), r.body)
        let line = r.body.split(separator: "\n").first { $0.hasPrefix("Flume_SINK_EventDrainSuccessCount{component=\"k1\"") }
        XCTAssertEqual(line?.split(separator: " ").last, "\(n)", r.body)
        XCTAssertEqual(agent.stop(), 0)
    }

    func testPrometheusMonitoringTypeServesTextAtMetrics() throws {
        let setup = try AgentSetup(config)
        let agent = try setup.start(["--monitoring-type", "prometheus", "--monitoring-port", "0"])
        let port = try XCTUnwrap(agent.metricsPort())
        let deadline = Date().addingTimeInterval(20)
        var body = ""
        while Date() < deadline {
            body = try httpGet("http://127.0.0.1:\(port)/metrics").body
            if body.contains("Flume_SOURCE_EventAcceptedCount{component=\"r1\",type=\"seq\"} \(n)") { break }
            usleep(50_000)
        }
        XCTAssertTrue(body.contains("Flume_SOURCE_EventAcceptedCount{component=\"r1\",type=\"seq\"} \(n)"), body)
        XCTAssertTrue(body.contains("Flume_CHANNEL_ChannelSize{component=\"c1\""), body)
        // The JSON stays available under its own path.
        let json = try fetchMetricsJSON(port: port, path: "/metrics.json")
        XCTAssertEqual(json["SOURCE.r1"]?["EventAcceptedCount"], "\(n)")
        XCTAssertEqual(agent.stop(), 0)
    }

    func testFixedMonitoringPortIsUsed() throws {
        let port = freeTCPPort()
        let setup = try AgentSetup(config)
        let agent = try setup.start(["--monitoring-type", "http", "--monitoring-port", "\(port)"])
        XCTAssertEqual(agent.metricsPort(), port)
        let m = try fetchMetricsJSON(port: port)
        XCTAssertNotNil(m["CHANNEL.c1"])
        XCTAssertEqual(agent.stop(), 0)
    }

    func testNothingListensWithoutMonitoringType() throws {
        let port = freeTCPPort()
        let setup = try AgentSetup(config)
        let agent = try setup.start(["--monitoring-port", "\(port)"])
        agent.waitFor("started in")
        agent.waitForEvents("k1", atLeast: n)
        XCTAssertFalse(agent.log.contains("metrics on"), agent.log)
        let r = try httpGet("http://127.0.0.1:\(port)/metrics")
        XCTAssertEqual(r.curlStatus, 7, "expected connection refused (curl exit 7), got \(r.curlStatus) HTTP \(r.httpStatus)")
        XCTAssertEqual(agent.stop(), 0)
    }

    func testUnknownMonitoringTypeIsRefused() throws {
        let setup = try AgentSetup(config)
        let r = try runCommand(Paths.sluice, ["agent", "-n", "a1", "-f", setup.conf, "--plugin-dir", setup.dir,
                                              "--monitoring-type", "ganglia"], timeout: 30)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("ganglia"), r.stderr)
        XCTAssertFalse(r.stderr.contains("Event:"), "no event may flow when the command line is refused")
    }
}
