import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The file channel under kill -9, through the real agent. The netcat
/// source answers "OK" only after a line is committed, so the client knows
/// exactly what was acknowledged; whatever was acknowledged must come out,
/// whatever was never sent must not, however often the agent is killed.
final class FileChannelCrashTests: XCTestCase {
    func fileChannel(_ dir: String) -> String {
        """
        a1.channels = c1
        a1.channels.c1.type = file
        a1.channels.c1.checkpointDir = \(dir)/checkpoint
        a1.channels.c1.dataDirs = \(dir)/data
        a1.channels.c1.checkpointInterval = 1000
        a1.channels.c1.maxFileSize = 65536
        a1.channels.c1.minimumRequiredSpace = 1048576
        a1.channels.c1.transactionCapacity = 100
        """
    }

    func testAcknowledgedEventsSurviveRepeatedKill9() throws {
        let work = makeTempDir("sluice-crash")
        let ingest = try AgentSetup(fileChannel(work) + """

            a1.sources = r1
            a1.sources.r1.type = netcat
            a1.sources.r1.bind = 127.0.0.1
            a1.sources.r1.port = 0
            a1.sources.r1.channels = c1
            """)
        var acked = Set<Int>()
        var sent = 0
        var rng = SystemRandomNumberGenerator()
        for round in 0..<4 {
            let agent = try ingest.start()
            let port = try XCTUnwrap(agent.listeningPort("r1"), "round \(round)")
            let client = try LineClient(port: port, receiveTimeout: 5)
            // Kill while lines are in flight, after a random number of them.
            let killAfter = Int.random(in: 20...120, using: &rng)
            var k = 0
            while true {
                sent += 1
                client.send("line-\(sent)\n")
                k += 1
                if k == killAfter { kill(agent.process.processIdentifier, SIGKILL) }
                guard client.readLine() == "OK" else { break }
                acked.insert(sent)
            }
            agent.process.waitUntilExit()
            XCTAssertEqual(agent.process.terminationReason, .uncaughtSignal, "round \(round): killed, not exited")
        }
        XCTAssertGreaterThan(acked.count, 40)

        // Drain with a sink, killing the draining agent once midway.
        let drain = try AgentSetup(fileChannel(work) + """

            a1.sinks = k1
            a1.sinks.k1.type = logger
            a1.sinks.k1.maxBytesToLog = 64
            a1.sinks.k1.batchSize = 10
            a1.sinks.k1.channel = c1
            """)
        var seen: [Int] = []
        let first = try drain.start()
        first.waitFor("some events drained") { _ in first.events(from: "k1").count >= 10 }
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        seen += first.events(from: "k1").compactMap { Int($0.text.dropFirst(5)) }
        let second = try drain.start()
        second.waitFor("started in")
        second.waitFor("the rest drained") { _ in
            Set(seen + second.events(from: "k1").compactMap { Int($0.text.dropFirst(5)) }).isSuperset(of: acked)
        }
        XCTAssertEqual(second.stop(), 0)
        seen += second.events(from: "k1").compactMap { Int($0.text.dropFirst(5)) }

        let missing = acked.subtracting(seen)
        XCTAssertTrue(missing.isEmpty, "acknowledged but lost: \(missing.sorted())")
        XCTAssertTrue(Set(seen).isSubset(of: Set(1...sent)), "delivered something never sent")
        // Each killed ingest round may have committed one line it could not acknowledge.
        XCTAssertLessThanOrEqual(Set(seen).subtracting(acked).count, 4)
        // The drain was killed once: at most one sink batch (10) repeats.
        XCTAssertLessThanOrEqual(seen.count - Set(seen).count, 10, "duplicates beyond one batch")
    }
}
