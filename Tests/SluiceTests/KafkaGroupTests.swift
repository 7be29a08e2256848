import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The consumer-group coordinator, tested with kafka-python and kcat.
final class KafkaGroupTests: XCTestCase {
    typealias Broker = KafkaBrokerTests.Broker
    static let fast = "a1.services.k1.group.initial.rebalance.delay.ms = 0"

    func python(_ args: [String], timeout: Double = 120) throws -> RunResult {
        try runCommand("/usr/bin/env", ["python3", Paths.repoRoot + "/Tests/SluiceTests/kafka/groups.py"] + args, timeout: timeout)
    }

    /// A consumer commits, stops, and a restarted one resumes after its
    /// committed offset; offsets and metadata survive a restart and kill -9.
    func testCommittedOffsetsResumeAndSurviveRestartAndKill9() throws {
        let b = try Broker(extra: Self.fast)
        var agent = try b.start()
        var r = try python(["produce", b.bootstrap, "orders", "0", "10"])
        XCTAssertTrue(r.stdout.contains("PRODUCED 10"), r.stdout + r.stderr)
        r = try python(["consume", b.bootstrap, "orders", "g1", "4", "m1"])
        XCTAssertTrue(r.stdout.contains("GOT v0 v1 v2 v3\n"), r.stdout + r.stderr)
        r = try python(["consume", b.bootstrap, "orders", "g1", "2", "m2"])
        XCTAssertTrue(r.stdout.contains("GOT v4 v5\n"), "resumes after the committed offset: " + r.stdout + r.stderr)
        XCTAssertEqual(agent.stop(), 0)

        agent = try b.start()
        r = try python(["committed", b.bootstrap, "orders", "g1"])
        XCTAssertTrue(r.stdout.contains("COMMITTED 6 META m2"), r.stdout + r.stderr)
        r = try python(["commit", b.bootstrap, "orders", "g1", "8", "m3"])
        XCTAssertTrue(r.stdout.contains("COMMITTED-OK"), r.stdout + r.stderr)
        kill(agent.process.processIdentifier, SIGKILL)
        agent.process.waitUntilExit()

        agent = try b.start()
        r = try python(["committed", b.bootstrap, "orders", "g1"])
        XCTAssertTrue(r.stdout.contains("COMMITTED 8 META m3"), r.stdout + r.stderr)
        r = try python(["consume", b.bootstrap, "orders", "g1", "2", "m4"])
        XCTAssertTrue(r.stdout.contains("GOT v8 v9\n"), r.stdout + r.stderr)
        XCTAssertEqual(agent.stop(), 0)
    }

    /// Two member processes split four partitions; when one leaves, the
    /// other gets all of them.
    func testTwoMembersSplitPartitionsAndOneTakesOverOnLeave() throws {
        let b = try Broker(extra: Self.fast)
        let agent = try b.start()
        let r = try python(["split", b.bootstrap, "quad", "g2"])
        XCTAssertTrue(r.stdout.contains("SPLIT 2 2 [0, 1, 2, 3]"), r.stdout + r.stderr + agent.log)
        XCTAssertTrue(r.stdout.contains("TAKEOVER 4 [0, 1, 2, 3]"), r.stdout + r.stderr)
        XCTAssertEqual(agent.stop(), 0)
    }

    func mixed(_ args: [String]) throws -> RunResult {
        try runCommand("/usr/bin/env", ["python3", Paths.repoRoot + "/Tests/SluiceTests/kafka/groups_mixed.py"] + args, timeout: 120)
    }

    /// A librdkafka member and a kafka-python member share a group; the
    /// kafka-python process is killed with -9 and the survivor gets every
    /// partition once the dead member's session times out.
    func testSessionTimeoutExpiresAKilledMember() throws {
        let b = try Broker(extra: Self.fast)
        let agent = try b.start()
        let r = try mixed(["expire", b.bootstrap, "exp", "g5"])
        XCTAssertTrue(r.stdout.contains("SPLIT 2 2 [0, 1, 2, 3]"), r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("EXPIRED 4 [0, 1, 2, 3]"), r.stdout + r.stderr)
        // Through the 6 s session timeout, not an immediate leave.
        let secs = r.stdout.components(separatedBy: "after ").last.flatMap { Int($0.prefix { $0.isNumber }) } ?? 0
        XCTAssertGreaterThanOrEqual(secs, 4, r.stdout)
        XCTAssertTrue(agent.log.contains("session expired"), agent.log)
        XCTAssertEqual(agent.stop(), 0)
    }

    /// OffsetDelete and DeleteGroups are refused for an active group and
    /// done once it is empty; a deleted group is gone from ListGroups.
    func testOffsetDeleteAndDeleteGroups() throws {
        let b = try Broker(extra: Self.fast)
        let agent = try b.start()
        let r = try mixed(["delete", b.bootstrap, "del", "g6"])
        for line in ["OFFSETS {0: 2}", "DELETE-OFFSETS-ACTIVE {TopicPartition(topic='del', partition=0): <class 'kafka.errors.GroupSubscribedToTopicError'>}",
                     "DELETE-GROUP-ACTIVE {'g6': 'NonEmptyGroupError'}", "NoError", "OFFSETS-AFTER {}",
                     "DELETED g6", "LISTED False", "DELETE-AGAIN GROUP_ID_NOT_FOUND"] {
            XCTAssertTrue(r.stdout.contains(line), "missing \(line): " + r.stdout + r.stderr)
        }
        XCTAssertEqual(agent.stop(), 0)
    }

    /// The admin client lists and describes the group and its offsets.
    func testAdminListsAndDescribesGroups() throws {
        let b = try Broker(extra: Self.fast)
        let agent = try b.start()
        var r = try python(["produce", b.bootstrap, "audit", "0", "3"])
        r = try python(["consume", b.bootstrap, "audit", "g3", "3", "x"])
        XCTAssertTrue(r.stdout.contains("GOT v0 v1 v2"), r.stdout + r.stderr)
        r = try python(["admin", b.bootstrap, "g3"])
        XCTAssertTrue(r.stdout.contains("LIST [{'group_id': 'g3', 'protocol_type': 'consumer', 'group_state': 'Empty'}]"), r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("'group_state': 'Empty', 'protocol_type': 'consumer', 'protocol_data': '', 'members': []"), r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("partition=0): OffsetAndMetadata(offset=3, metadata='x'"), r.stdout + r.stderr)
        let k = try runCommand("/usr/bin/kcat", ["-b", b.bootstrap, "-G", "g4", "audit", "-e", "-o", "beginning", "-f", "%s\n"], timeout: 60)
        XCTAssertEqual(k.stdout, "v0\nv1\nv2\n", k.stderr)

        // sluice kafka groups sees the same group, its committed offset and lag.
        _ = try python(["produce", b.bootstrap, "audit", "0", "2"])
        r = try runCommand(Paths.sluice, ["kafka", "groups", "--list", "--bootstrap-server", b.bootstrap])
        XCTAssertTrue(r.stdout.split(separator: "\n").contains("g3"), r.stdout + r.stderr)
        r = try runCommand(Paths.sluice, ["kafka", "groups", "--describe", "--group", "g3", "--bootstrap-server", b.bootstrap])
        XCTAssertTrue(r.stdout.contains("GROUP g3  STATE Empty  MEMBERS 0"), r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("audit\t0\t3\t5\t2"), "committed 3, log end 5, lag 2: \(r.stdout)")
        XCTAssertEqual(agent.stop(), 0)
    }
}
