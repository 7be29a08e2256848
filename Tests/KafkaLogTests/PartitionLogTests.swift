import Foundation
@testable import KafkaLog
import XCTest

final class PartitionLogTests: LogTestCase {
    func testAppendAssignsOffsetsAndStampsBrokerFields() throws {
        let log = try PartitionLog(directory: logDir(), config: config())
        XCTAssertEqual(log.topicPartition, try TopicPartition(topic: "events", partition: 0))
        try log.setLeaderEpoch(7)
        // The producer's base offset and leader epoch are overwritten.
        let info1 = try log.append(BatchBuilder.batch([TestRecord("a"), TestRecord("b")], baseOffset: 999, leaderEpoch: 3))
        XCTAssertEqual(info1.baseOffset, 0)
        XCTAssertEqual(info1.lastOffset, 1)
        XCTAssertEqual(info1.logAppendTime, -1)
        let info2 = try log.append(BatchBuilder.values(2, count: 3))
        XCTAssertEqual([info2.baseOffset, info2.lastOffset], [2, 4])
        XCTAssertEqual(log.logEndOffset, 5)
        XCTAssertEqual(log.highWatermark, 5)
        let batches = decodeBatches(try log.readBytes(from: 0, maxBytes: 1 << 20))
        XCTAssertEqual(batches.map(\.header.baseOffset), [0, 2])
        XCTAssertEqual(batches.map(\.header.partitionLeaderEpoch), [7, 7])
        XCTAssertTrue(batches.allSatisfy(\.crcValid))
        XCTAssertEqual(batches.flatMap(\.values), ["a", "b", "v2", "v3", "v4"])
    }

    func testSeveralBatchesInOneAppendAreAppendedInOrder() throws {
        let log = try PartitionLog(directory: logDir())
        let request = BatchBuilder.values(0, count: 2) + BatchBuilder.values(2, count: 1) + BatchBuilder.values(3, count: 4)
        let info = try log.append(request)
        XCTAssertEqual(info.batches.map(\.baseOffset), [0, 2, 3])
        XCTAssertEqual(info.batches.map(\.lastOffset), [1, 2, 6])
        XCTAssertEqual(info.appendedBytes, request.count)
        XCTAssertEqual(try allValues(log), (0..<7).map { "v\($0)" })
    }

    func testRoundTripAcrossSegmentRolls() throws {
        let log = try PartitionLog(directory: logDir(), config: config { $0.segmentBytes = 1_000; $0.indexIntervalBytes = 128 })
        var expected: [String] = []
        for i in 0..<400 {
            let n = i % 4 + 1
            let values = (0..<n).map { "m\(i)-\($0)-" + String(repeating: "x", count: (i * 13) % 40) }
            _ = try log.append(BatchBuilder.batch(values.map { TestRecord($0, timestamp: 10_000 + Int64(i)) }))
            expected += values
        }
        let infos = log.segmentInfos
        XCTAssertGreaterThan(infos.count, 20)
        for (a, b) in zip(infos, infos.dropFirst()) { XCTAssertEqual(a.nextOffset, b.baseOffset) }
        for info in infos {
            XCTAssertLessThanOrEqual(info.size, 1_000)
            XCTAssertTrue(info.logPath.hasSuffix(String(format: "%020lld.log", info.baseOffset)))
        }
        XCTAssertEqual(try allValues(log), expected)
        // Reads from every offset start with the batch holding it.
        for offset in stride(from: Int64(0), to: log.logEndOffset, by: 7) {
            let first = try XCTUnwrap(decodeBatches(try log.readBytes(from: offset, maxBytes: 1)).first)
            XCTAssertTrue(first.header.baseOffset <= offset && offset <= first.header.lastOffset)
        }
        // A large budget spans several segments, in order, whole batches only.
        let read = try log.read(from: 0, maxBytes: 5_000)
        XCTAssertGreaterThan(read.regions.count, 4)
        XCTAssertLessThanOrEqual(read.totalBytes, 5_000)
        XCTAssertEqual(decodeBatches(try read.readBytes()).flatMap(\.values), Array(expected.prefix(decodeBatches(try read.readBytes()).flatMap(\.values).count)))
    }

    func testRollByTimeUsesBatchTimestamps() throws {
        let log = try PartitionLog(directory: logDir(), config: config { $0.rollMillis = 1_000 })
        for (i, ts) in [0, 500, 1_000, 1_001, 1_500, 2_002, 2_003].enumerated() {
            _ = try log.append(BatchBuilder.values(i, timestamp: Int64(ts)))
        }
        // Rolls when a batch is more than rollMillis newer than the segment's first.
        XCTAssertEqual(log.segmentInfos.map(\.baseOffset), [0, 3, 5])
    }

    func testReadsStopAtTheHighWatermark() throws {
        let log = try PartitionLog(directory: logDir(), config: config { $0.segmentBytes = 400 }, highWatermarkFollowsLogEnd: false)
        for i in 0..<20 { _ = try log.append(BatchBuilder.values(i)) }
        XCTAssertEqual(log.highWatermark, 0)
        XCTAssertEqual(try log.read(from: 0, maxBytes: 1 << 20).regions.count, 0)
        log.updateHighWatermark(12)
        XCTAssertEqual(try readAll(log, isolation: .highWatermark).flatMap(\.values), (0..<12).map { "v\($0)" })
        XCTAssertEqual(decodeBatches(try log.readBytes(from: 0, maxBytes: 1 << 20)).last?.header.lastOffset, 11)
        XCTAssertEqual(decodeBatches(try log.readBytes(from: 0, maxBytes: 1 << 20, isolation: .logEnd)).last?.header.lastOffset, 19)
        XCTAssertEqual(log.updateHighWatermark(99), 20)
        XCTAssertEqual(try log.listOffset(timestamp: -1)?.offset, 20)
        XCTAssertEqual(try log.listOffset(timestamp: -2)?.offset, 0)
    }

    func testReadOutsideTheLogIsOutOfRange() throws {
        let log = try PartitionLog(directory: logDir())
        _ = try log.append(BatchBuilder.values(0, count: 3))
        XCTAssertEqual(try log.read(from: 3, maxBytes: 100).regions.count, 0)
        XCTAssertThrowsError(try log.read(from: 4, maxBytes: 100)) {
            XCTAssertEqual($0 as? LogError, .offsetOutOfRange(offset: 4, logStartOffset: 0, logEndOffset: 3))
            XCTAssertEqual(($0 as? LogError)?.kafkaErrorCode, 1)
        }
        XCTAssertThrowsError(try log.read(from: -1, maxBytes: 100))
    }

    func testOffsetForTimestampMatchesABruteForceScan() throws {
        var rng = SeededRandom(seed: 42)
        let log = try PartitionLog(directory: logDir(), config: config { $0.segmentBytes = 2_000; $0.indexIntervalBytes = 150 })
        var records: [(offset: Int64, ts: Int64)] = []
        var clock: Int64 = 1_000_000
        for i in 0..<300 {
            let n = Int.random(in: 1...5, using: &rng)
            let recs = (0..<n).map { j -> TestRecord in
                clock += Int64.random(in: -30...100, using: &rng)   // mostly rising, sometimes back
                return TestRecord("t\(i)-\(j)", timestamp: clock)
            }
            let info = try log.append(BatchBuilder.batch(recs))
            for (j, r) in recs.enumerated() { records.append((info.baseOffset + Int64(j), r.timestamp)) }
        }
        XCTAssertGreaterThan(log.segmentInfos.count, 5)
        let lo = records.map(\.ts).min()!, hi = records.map(\.ts).max()!
        for target in stride(from: lo - 10, through: hi + 10, by: 37) + [lo, hi] {
            let expected = records.first { $0.ts >= target }
            let got = try log.offsetForTimestamp(target)
            XCTAssertEqual(got?.offset, expected?.offset, "target \(target)")
            XCTAssertEqual(got?.timestamp, expected?.ts, "target \(target)")
        }
        let maxTs = try XCTUnwrap(log.listOffset(timestamp: -3))
        XCTAssertEqual(maxTs.timestamp, hi)
        XCTAssertEqual(maxTs.offset, records.first { $0.ts == hi }!.offset)
    }

    func testLogAppendTimeStampsTheBatch() throws {
        let log = try PartitionLog(directory: logDir(), config: config { $0.timestampType = .logAppendTime })
        let info = try log.append(BatchBuilder.values(0, count: 2, timestamp: 5), now: 1_700_000_000_000)
        XCTAssertEqual(info.logAppendTime, 1_700_000_000_000)
        let b = try XCTUnwrap(decodeBatches(try log.readBytes(from: 0, maxBytes: 1 << 20)).first)
        XCTAssertTrue(b.header.isLogAppendTime)
        XCTAssertEqual(b.header.maxTimestamp, 1_700_000_000_000)
        XCTAssertTrue(b.crcValid, "CRC recomputed after the timestamp rewrite")
        XCTAssertEqual(try log.offsetForTimestamp(1_700_000_000_000)?.offset, 0)
        XCTAssertNil(try log.offsetForTimestamp(1_700_000_000_001))
    }

    func testLeaderEpochsAreRememberedAcrossReopen() throws {
        let dir = logDir()
        var log: PartitionLog? = try PartitionLog(directory: dir)
        try log!.setLeaderEpoch(1)
        _ = try log!.append(BatchBuilder.values(0, count: 5))
        try log!.setLeaderEpoch(4)
        _ = try log!.append(BatchBuilder.values(5, count: 3))
        XCTAssertEqual(log!.endOffset(forLeaderEpoch: 1).endOffset, 5)
        XCTAssertEqual(log!.endOffset(forLeaderEpoch: 2).epoch, 1)
        XCTAssertEqual(log!.endOffset(forLeaderEpoch: 2).endOffset, 5)
        XCTAssertEqual(log!.endOffset(forLeaderEpoch: 4).endOffset, 8)
        XCTAssertEqual(log!.endOffset(forLeaderEpoch: 0).epoch, -1)
        let checkpoint = try String(contentsOfFile: dir + "/leader-epoch-checkpoint", encoding: .utf8)
        XCTAssertEqual(checkpoint, "0\n2\n1 0\n4 5\n")
        try log!.close()
        log = nil
        let reopened = try PartitionLog(directory: dir, recoveryPoint: 8)
        XCTAssertEqual(reopened.leaderEpoch, 4)
        XCTAssertEqual(reopened.endOffset(forLeaderEpoch: 1).endOffset, 5)
        // Truncation drops the epochs that start at or after the new end.
        try reopened.truncate(to: 5)
        XCTAssertEqual(try String(contentsOfFile: dir + "/leader-epoch-checkpoint", encoding: .utf8), "0\n1\n1 0\n")
        XCTAssertEqual(reopened.endOffset(forLeaderEpoch: 1).endOffset, 5)
        XCTAssertEqual(reopened.endOffset(forLeaderEpoch: 4).epoch, -1)
        // Mid-batch: the whole batch holding the offset goes.
        try reopened.truncate(to: 3)
        XCTAssertEqual(reopened.logEndOffset, 0)
    }

    func testTruncateAcrossSegmentsThenAppendAgain() throws {
        let log = try PartitionLog(directory: logDir(), config: config { $0.segmentBytes = 500 })
        for i in 0..<60 { _ = try log.append(BatchBuilder.values(i * 2, count: 2)) }
        let segmentsBefore = log.segmentInfos.count
        try log.truncate(to: 51)   // mid-batch: batch 50...51 goes
        XCTAssertEqual(log.logEndOffset, 50)
        XCTAssertEqual(log.highWatermark, 50)
        XCTAssertLessThan(log.segmentInfos.count, segmentsBefore)
        XCTAssertEqual(try allValues(log), (0..<50).map { "v\($0)" })
        let info = try log.append(BatchBuilder.values(100, count: 3))
        XCTAssertEqual(info.baseOffset, 50)
        XCTAssertEqual(try allValues(log), (0..<50).map { "v\($0)" } + ["v100", "v101", "v102"])
        // Below the first segment: the log restarts empty at that offset.
        try log.truncate(to: 0)
        XCTAssertEqual(log.logEndOffset, 0)
        XCTAssertEqual(log.segmentInfos.count, 1)
        XCTAssertEqual(try log.append(BatchBuilder.values(0)).baseOffset, 0)
    }

    func testConcurrentAppendsAndReads() throws {
        let log = try PartitionLog(directory: logDir(), config: config { $0.segmentBytes = 4_000 })
        let writers = 4, perWriter = 200
        DispatchQueue.concurrentPerform(iterations: writers + 2) { t in
            if t < writers {
                for i in 0..<perWriter { _ = try! log.append(BatchBuilder.values(t * 1_000 + i)) }
            } else {
                for _ in 0..<200 {
                    let end = log.highWatermark
                    if end > 0 { _ = try! log.readBytes(from: end - 1, maxBytes: 1_000) }
                }
            }
        }
        XCTAssertEqual(log.logEndOffset, Int64(writers * perWriter))
        let values = try allValues(log)
        XCTAssertEqual(Set(values).count, writers * perWriter)
        for t in 0..<writers {   // each writer's records stay in its own order
            let mine = values.filter { Int($0.dropFirst())! / 1_000 == t }
            XCTAssertEqual(mine, (0..<perWriter).map { "v\(t * 1_000 + $0)" })
        }
    }
}
