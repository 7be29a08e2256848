import Foundation
import XCTest

/// The netcat source on an ephemeral port, driven by a plain TCP client.
final class NetcatSourceTests: XCTestCase {
    func netcatConfig(_ extra: String = "") -> String {
        """
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
        a1.sinks.k1.maxBytesToLog = 1000
        \(extra)
        """
    }

    func testEachLineIsAnEventAndAcked() throws {
        let agent = try AgentSetup(netcatConfig()).start()
        let port = try XCTUnwrap(agent.listeningPort("r1"))
        XCTAssertNotEqual(port, 0, "port 0 must be logged as the port actually bound")
        let client = try LineClient(port: port)
        let lines = ["hello world", "second line", "x=1 y=2", ""]
        for l in lines {
            client.send(l + "\n")
            XCTAssertEqual(client.readLine(), "OK", "each line is acknowledged once committed")
        }
        agent.waitForEvents("k1", atLeast: lines.count)
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(agent.events(from: "k1").map(\.text), lines)
    }

    func testSeveralLinesInOneWriteAndSeveralClients() throws {
        let agent = try AgentSetup(netcatConfig()).start()
        let port = try XCTUnwrap(agent.listeningPort("r1"))
        let a = try LineClient(port: port)
        let b = try LineClient(port: port)
        a.send("a1\na2\na3\n")
        b.send("b1\n")
        for _ in 0..<3 { XCTAssertEqual(a.readLine(), "OK") }
        XCTAssertEqual(b.readLine(), "OK")
        // A line split over two writes is one event.
        b.send("b2-")
        b.send("rest\n")
        XCTAssertEqual(b.readLine(), "OK")
        agent.waitForEvents("k1", atLeast: 5)
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(Set(agent.events(from: "k1").map(\.text)), ["a1", "a2", "a3", "b1", "b2-rest"])
    }

    /// As Flume: a line longer than max-line-length (newline included) is
    /// refused with FAILED and the connection is closed; nothing of it is
    /// delivered, and other connections carry on.
    func testOverlongLineIsRefusedAndConnectionClosed() throws {
        let agent = try AgentSetup(netcatConfig("a1.sources.r1.max-line-length = 10")).start()
        let port = try XCTUnwrap(agent.listeningPort("r1"))
        let client = try LineClient(port: port)
        client.send("123456789\n")
        XCTAssertEqual(client.readLine(), "OK", "9 bytes + newline = 10 fits")
        client.send("0123456789ABCDEFGHIJ\n")
        XCTAssertEqual(client.readLine(), "FAILED: Event exceeds the maximum length (10 chars, including newline)")
        XCTAssertNil(client.readLine(), "the connection is closed after FAILED")
        let other = try LineClient(port: port)
        other.send("after\n")
        XCTAssertEqual(other.readLine(), "OK")
        agent.waitFor("event 'after'") { $0.contains(" after }") }
        XCTAssertEqual(agent.stop(), 0)
        let texts = agent.events(from: "k1").map(\.text)
        XCTAssertEqual(texts, ["123456789", "after"])
    }

    /// Flume's netcat source cuts the line at '\n' only: a CR before it stays
    /// in the body (the User Guide's telnet example logs "... 21 0D  Hello world!.").
    func testCarriageReturnStaysInBodyAsInFlume() throws {
        let agent = try AgentSetup(netcatConfig()).start()
        let port = try XCTUnwrap(agent.listeningPort("r1"))
        let client = try LineClient(port: port)
        client.send("Hello world!\r\n")
        XCTAssertEqual(client.readLine(), "OK")
        agent.waitForEvents("k1", atLeast: 1)
        XCTAssertEqual(agent.stop(), 0)
        let line = agent.log.split(separator: "\n").first { $0.contains("[k1] Event:") }.map(String.init) ?? ""
        XCTAssertTrue(line.contains("body: 48 65 6C 6C 6F 20 77 6F 72 6C 64 21 0D  Hello world!. }"), line)
    }

    func testNoAckWhenAckEveryEventIsFalse() throws {
        let agent = try AgentSetup(netcatConfig("a1.sources.r1.ack-every-event = false")).start()
        let port = try XCTUnwrap(agent.listeningPort("r1"))
        let client = try LineClient(port: port)
        client.send("quiet 1\nquiet 2\n")
        agent.waitForEvents("k1", atLeast: 2)
        XCTAssertEqual(client.drain(within: 0.3), [], "no reply expected without ack-every-event")
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(agent.events(from: "k1").map(\.text), ["quiet 1", "quiet 2"])
    }

    func testStopClosesOpenConnections() throws {
        let agent = try AgentSetup(netcatConfig()).start()
        let port = try XCTUnwrap(agent.listeningPort("r1"))
        let client = try LineClient(port: port)
        client.send("one\n")
        XCTAssertEqual(client.readLine(), "OK")
        XCTAssertEqual(agent.stop(), 0, "an open client connection must not keep the agent from stopping")
        XCTAssertNil(client.readLine(), "the connection is closed on stop")
        XCTAssertEqual(agent.events(from: "k1").map(\.text), ["one"])
    }
}
