import Foundation
import XCTest

/// `sluice kafka topics / produce / consume` against the broker, checked
/// with kcat, an independent client, in both directions.
final class KafkaCLITests: XCTestCase {
    func testTopicsProduceAndConsumeAgreeWithKcat() throws {
        let b = try KafkaBrokerTests.Broker()
        let agent = try b.start()
        let server = ["--bootstrap-server", b.bootstrap]
        func sluice(_ args: [String], stdin: String? = nil) throws -> RunResult {
            guard let stdin else { return try runCommand(Paths.sluice, ["kafka"] + args + server, timeout: 30) }
            let dir = makeTempDir()
            try write(stdin, to: dir + "/in")
            return try runCommand("/bin/sh", ["-c", "\(Paths.sluice) kafka \(args.joined(separator: " ")) \(server.joined(separator: " ")) < \(dir)/in"], timeout: 30)
        }

        var r = try sluice(["topics", "--create", "--topic", "orders", "--partitions", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try sluice(["topics", "--create", "--topic", "orders", "--partitions", "3"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("TOPIC_ALREADY_EXISTS"), r.stderr)
        r = try sluice(["topics", "--describe", "--topic", "orders"])
        XCTAssertTrue(r.stdout.contains("Topic: orders\tPartitionCount: 3\tReplicationFactor: 1"), r.stdout)
        let meta = try runCommand("/usr/bin/kcat", ["-b", b.bootstrap, "-L", "-t", "orders"])
        XCTAssertTrue(meta.stdout.contains("topic \"orders\" with 3 partitions"), meta.stdout)

        // sluice produces, kcat reads.
        r = try sluice(["produce", "--topic", "orders", "--partition", "1", "--key-separator", ":"], stdin: "k1:alpha\nk2:beta\n")
        XCTAssertEqual(r.status, 0, r.stderr)
        let k = try runCommand("/usr/bin/kcat", ["-b", b.bootstrap, "-t", "orders", "-p", "1", "-C", "-e", "-o", "beginning", "-f", "%k=%s\n"])
        XCTAssertEqual(k.stdout, "k1=alpha\nk2=beta\n")

        // kcat produces, sluice reads every partition.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/kcat")
        p.arguments = ["-b", b.bootstrap, "-t", "orders", "-P", "-p", "2"]
        let pipe = Pipe()
        p.standardInput = pipe
        try p.run()
        pipe.fileHandleForWriting.write("gamma\n".data(using: .utf8)!)
        pipe.fileHandleForWriting.closeFile()
        p.waitUntilExit()
        r = try sluice(["consume", "--topic", "orders", "--from-beginning", "--max-messages", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(Set(r.stdout.split(separator: "\n").map(String.init)), ["alpha", "beta", "gamma"])

        r = try sluice(["topics", "--delete", "--topic", "orders"])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try sluice(["topics", "--list"])
        XCTAssertFalse(r.stdout.contains("orders"), r.stdout)
        XCTAssertEqual(agent.stop(), 0)
    }
}
