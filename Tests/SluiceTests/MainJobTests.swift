import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The README's first command: `sluice agent` with no config runs a Kafka
/// broker and an agent whose exec and spooldir sources feed a Kafka sink
/// through a file channel; `sluice kafka consume` shows the events.
final class MainJobTests: XCTestCase {
    func testEmbeddedDemoFeedsTheBrokerThroughTheKafkaSink() throws {
        let dir = makeTempDir("sluice-demo")
        let port = freeTCPPort()
        let env = ["SLUICE_DEMO_DIR": dir, "SLUICE_DEMO_KAFKA_PORT": "\(port)"]
        // No --plugin-dir: the first-party plugins beside the binary, as the README runs it.
        let agent = try AgentProcess(["agent"], env: env)
        agent.waitFor("listening on 127.0.0.1:\(port)")
        try write("first line of a file\nsecond line of a file\n", to: dir + "/spool/app.log")
        XCTAssertTrue(agent.waitFor("the spooled file is done", timeout: 30) { $0.contains("app.log' done: 2 events") }, agent.log)

        var seen = ""
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let r = try runCommand(Paths.sluice, ["kafka", "consume", "--bootstrap-server", "127.0.0.1:\(port)",
                                                  "--topic", "sluice-demo", "--from-beginning", "--timeout-ms", "1500"])
            seen = r.stdout
            if seen.contains("second line of a file") && occurrences(of: "tick ", in: seen) >= 2 { break }
            Thread.sleep(forTimeInterval: 0.5)
        }
        XCTAssertTrue(seen.contains("first line of a file\n"), seen + agent.log)
        XCTAssertTrue(seen.contains("second line of a file\n"), seen)
        XCTAssertGreaterThanOrEqual(occurrences(of: "tick 20", in: seen), 2, "the exec source's ticks: " + seen)
        XCTAssertEqual(agent.stop(), 0, agent.log)
    }
}
