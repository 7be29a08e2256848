import Foundation
@testable import KafkaLog
import XCTest

final class LogManagerTests: LogTestCase {
    func tp(_ topic: String, _ p: Int32) -> TopicPartition { try! TopicPartition(topic: topic, partition: p) }

    func managerConfig(dirs: Int = 1, _ edit: (inout LogManagerConfig) -> Void = { _ in }) -> LogManagerConfig {
        var c = LogManagerConfig(logDirs: (0..<dirs).map { root + "/data\($0)" }, brokerId: 1)
        c.defaultLogConfig.segmentBytes = 1_000
        edit(&c)
        return c
    }

    func testTopicPartitionNames() throws {
        XCTAssertEqual(TopicPartition(directoryName: "my-topic.v2-13"), tp("my-topic.v2", 13))
        XCTAssertNil(TopicPartition(directoryName: "topic-x"))
        XCTAssertNil(TopicPartition(directoryName: "topic-1.123-delete"))
        XCTAssertNil(TopicPartition(directoryName: "-1"))
        XCTAssertThrowsError(try TopicPartition(topic: "bad/name", partition: 0))
        XCTAssertThrowsError(try TopicPartition(topic: "ok", partition: -1))
    }

    func testNewPartitionsGoToTheEmptiestDir() throws {
        let manager = try LogManager(config: managerConfig(dirs: 3))
        for p in 0..<7 { _ = try manager.getOrCreateLog(tp("t", Int32(p))) }
        let counts = Dictionary(grouping: (0..<7).map { manager.logDir(of: tp("t", Int32($0)))! }, by: { $0 }).mapValues(\.count)
        XCTAssertEqual(counts.values.sorted(), [2, 2, 3])
        XCTAssertTrue(FileManager.default.fileExists(atPath: manager.logDir(of: tp("t", 0))! + "/t-0/00000000000000000000.log"))
        XCTAssertTrue(try manager.getOrCreateLog(tp("t", 0)) === manager.log(tp("t", 0)))
        try manager.close()
    }

    func testCleanShutdownAndReopen() throws {
        var manager: LogManager? = try LogManager(config: managerConfig(dirs: 2))
        for p in 0..<4 {
            let log = try manager!.getOrCreateLog(tp("orders", Int32(p)))
            for i in 0..<(30 + p) { _ = try log.append(BatchBuilder.values(i)) }
        }
        try manager!.close()
        manager = nil
        let dir0 = root + "/data0"
        let checkpoint = try String(contentsOfFile: dir0 + "/recovery-point-offset-checkpoint", encoding: .utf8)
        XCTAssertTrue(checkpoint.hasPrefix("0\n2\n"), checkpoint)
        XCTAssertTrue(checkpoint.contains("orders 0 30\n") || checkpoint.contains("orders 1 31\n"), checkpoint)
        XCTAssertEqual(try String(contentsOfFile: dir0 + "/meta.properties", encoding: .utf8).contains("broker.id=1"), true)

        let reopened = try LogManager(config: managerConfig(dirs: 2))
        XCTAssertEqual(reopened.recoveryReports.count, 4)
        XCTAssertTrue(reopened.recoveryReports.allSatisfy { $0.recoveredSegments.isEmpty && !$0.needsWarning })
        for p in 0..<4 {
            let log = try XCTUnwrap(reopened.log(tp("orders", Int32(p))))
            XCTAssertEqual(log.logEndOffset, Int64(30 + p))
            XCTAssertEqual(log.recoveryPoint, Int64(30 + p))
            XCTAssertEqual(try allValues(log), (0..<(30 + p)).map { "v\($0)" })
        }
        try reopened.close()
    }

    func testCrashThenRecoveryFromTheCheckpoint() throws {
        var manager: LogManager? = try LogManager(config: managerConfig { $0.defaultLogConfig.flushIntervalMessages = 10 })
        let log = try manager!.getOrCreateLog(tp("clicks", 0))
        for i in 0..<25 { _ = try log.append(BatchBuilder.values(i)) }
        XCTAssertEqual(log.recoveryPoint, 20, "flush.messages=10 flushed at 10 and 20")
        try manager!.checkpoint()
        let lastPath = log.segmentInfos.last!.logPath
        manager = nil   // crash: no close
        XCTAssertEqual(try String(contentsOfFile: root + "/data0/recovery-point-offset-checkpoint", encoding: .utf8),
                       "0\n1\nclicks 0 20\n")
        truncateFile(lastPath, to: fileSize(lastPath) - 5)   // the last batch is torn

        let reopened = try LogManager(config: managerConfig())
        let report = try XCTUnwrap(reopened.recoveryReports.first)
        XCTAssertTrue(report.needsWarning)
        XCTAssertGreaterThan(report.truncatedBytes, 0)
        let recovered = try XCTUnwrap(reopened.log(tp("clicks", 0)))
        XCTAssertEqual(recovered.logEndOffset, 24)
        XCTAssertEqual(recovered.recoveryPoint, 24)
        XCTAssertEqual(try allValues(recovered), (0..<24).map { "v\($0)" })
        // The checkpoint was rewritten at open.
        XCTAssertEqual(try String(contentsOfFile: root + "/data0/recovery-point-offset-checkpoint", encoding: .utf8),
                       "0\n1\nclicks 0 24\n")
    }

    func testTickRunsRetentionFlushAndCheckpoints() throws {
        let manager = try LogManager(config: managerConfig {
            $0.defaultLogConfig.retentionMillis = 1_000
            $0.defaultLogConfig.flushIntervalMillis = 500
            $0.retentionCheckIntervalMillis = 10_000
        })
        let log = try manager.getOrCreateLog(tp("m", 0), now: 0)
        for i in 0..<60 { _ = try log.append(BatchBuilder.values(i, count: 2, timestamp: Int64(i) * 100), now: Int64(i) * 100) }
        XCTAssertGreaterThan(log.segmentInfos.count, 3)
        var report = manager.tick(now: 6_000)
        XCTAssertTrue(report.errors.isEmpty)
        XCTAssertEqual(report.flushed, [tp("m", 0)])
        XCTAssertEqual(log.recoveryPoint, 120)
        let deleted = try XCTUnwrap(report.retention[tp("m", 0)])
        XCTAssertFalse(deleted.deletedSegments.isEmpty)
        XCTAssertEqual(log.logStartOffset, deleted.logStartOffset)
        XCTAssertTrue(report.checkpointed)
        let starts = try String(contentsOfFile: root + "/data0/log-start-offset-checkpoint", encoding: .utf8)
        XCTAssertEqual(starts, "0\n1\nm 0 \(log.logStartOffset)\n")
        XCTAssertEqual(try String(contentsOfFile: root + "/data0/replication-offset-checkpoint", encoding: .utf8), "0\n1\nm 0 120\n")
        // Not due again yet: nothing happens.
        report = manager.tick(now: 6_100)
        XCTAssertTrue(report.flushed.isEmpty && report.retention.isEmpty && !report.checkpointed)
        // A roll makes the rolled segment due for a flush at the next tick.
        _ = try log.append(BatchBuilder.values(0, count: 2, timestamp: 6_100), now: 6_100)
        try log.roll(now: 6_100)
        XCTAssertEqual(manager.tick(now: 6_150).flushed, [tp("m", 0)])
        try manager.close()
    }

    func testDeleteLogRemovesItsDirectory() throws {
        let manager = try LogManager(config: managerConfig())
        let log = try manager.getOrCreateLog(tp("gone", 3))
        _ = try log.append(BatchBuilder.values(0))
        try manager.deleteLog(tp("gone", 3))
        XCTAssertNil(manager.log(tp("gone", 3)))
        XCTAssertEqual(files(in: root + "/data0").filter { $0.hasPrefix("gone") }, [])
        XCTAssertThrowsError(try log.append(BatchBuilder.values(1))) {
            guard case .logClosed? = $0 as? LogError else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(try String(contentsOfFile: root + "/data0/recovery-point-offset-checkpoint", encoding: .utf8), "0\n0\n")
        // A leftover "-delete" directory from a crash is removed at start.
        try manager.close()
        try FileManager.default.createDirectory(atPath: root + "/data0/old-0.12345-delete", withIntermediateDirectories: true)
        let again = try LogManager(config: managerConfig())
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/data0/old-0.12345-delete"))
        try again.close()
    }

    func testALockedDirAndAWrongBrokerIdAreRefused() throws {
        let manager = try LogManager(config: managerConfig())
        XCTAssertThrowsError(try LogManager(config: managerConfig())) {
            XCTAssertEqual($0 as? LogError, .logDirInUse(root + "/data0"))
        }
        try manager.close()
        XCTAssertThrowsError(try LogManager(config: managerConfig { $0.brokerId = 2 })) {
            XCTAssertEqual($0 as? LogError, .brokerIdMismatch(dir: root + "/data0", found: 1, expected: 2))
        }
    }

    func testTruncationRewritesTheCheckpointAtOnce() throws {
        let manager = try LogManager(config: managerConfig())
        let log = try manager.getOrCreateLog(tp("f", 0))
        for i in 0..<10 { _ = try log.append(BatchBuilder.values(i)) }
        try manager.flushAll()
        XCTAssertEqual(try String(contentsOfFile: root + "/data0/recovery-point-offset-checkpoint", encoding: .utf8), "0\n1\nf 0 10\n")
        try log.truncate(to: 4)
        XCTAssertEqual(try String(contentsOfFile: root + "/data0/recovery-point-offset-checkpoint", encoding: .utf8), "0\n1\nf 0 4\n")
        try manager.close()
    }

    func testTicksWhileAppendingAndReading() throws {
        let manager = try LogManager(config: managerConfig {
            $0.defaultLogConfig.segmentBytes = 2_000
            $0.defaultLogConfig.retentionBytes = 20_000
            $0.defaultLogConfig.flushIntervalMillis = 0
            $0.retentionCheckIntervalMillis = 0
        })
        let logs = try (0..<3).map { try manager.getOrCreateLog(tp("busy", Int32($0))) }
        let done = ManagedAtomicFlag()
        var errors: [String] = []
        let errorLock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 5) { t in
            do {
                if t < 3 {
                    for i in 0..<400 { _ = try logs[t].append(BatchBuilder.values(i, count: 3)) }
                    done.increment()
                } else if t == 3 {
                    while done.value < 3 {
                        let r = manager.tick()
                        if !r.errors.isEmpty { throw LogError.logFailed("\(r.errors)") }
                    }
                } else {
                    while done.value < 3 {
                        for log in logs {
                            let start = log.logStartOffset
                            do { _ = try log.readBytes(from: start, maxBytes: 3_000) } catch LogError.offsetOutOfRange {}
                        }
                    }
                }
            } catch {
                errorLock.lock(); errors.append("\(t): \(error)"); errorLock.unlock()
            }
        }
        XCTAssertEqual(errors, [])
        _ = manager.tick()
        for log in logs {
            XCTAssertEqual(log.logEndOffset, 1_200)
            XCTAssertEqual(log.recoveryPoint, 1_200)
            XCTAssertLessThanOrEqual(log.size, 20_000 + 2_000)
            let values = try allValues(log)
            XCTAssertEqual(values, Array((0..<1_200).map { "v\($0 / 3 + $0 % 3)" }.suffix(values.count)))
        }
        try manager.close()
    }

    func testTopicConfigOverrides() throws {
        let manager = try LogManager(config: managerConfig {
            $0.topicConfig = { topic in
                guard topic == "compactish" else { return nil }
                var c = LogConfig()
                c.segmentBytes = 200
                return c
            }
        })
        XCTAssertEqual(try manager.getOrCreateLog(tp("compactish", 0)).config.segmentBytes, 200)
        XCTAssertEqual(try manager.getOrCreateLog(tp("plain", 0)).config.segmentBytes, 1_000)
        try manager.close()
    }
}

/// A tiny thread-safe counter for the concurrency test.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
