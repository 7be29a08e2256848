import Foundation
@testable import KafkaLog
import XCTest

final class ProducerStateTests: LogTestCase {
    func batch(_ seq: Int32, count: Int = 2, pid: Int64 = 77, epoch: Int16 = 0) -> [UInt8] {
        BatchBuilder.values(Int(seq), count: count, producerId: pid, producerEpoch: epoch, baseSequence: seq)
    }

    func testRetriedBatchIsNotAppendedAgain() throws {
        let log = try PartitionLog(directory: logDir())
        _ = try log.append(BatchBuilder.values(100, count: 3))   // a non-idempotent producer first
        let first = try log.append(batch(0))
        let second = try log.append(batch(2))
        XCTAssertEqual([first.baseOffset, second.baseOffset], [3, 5])
        let retry = try log.append(batch(0))
        XCTAssertTrue(retry.isDuplicate)
        XCTAssertEqual([retry.baseOffset, retry.lastOffset], [3, 4])
        XCTAssertEqual(retry.appendedBytes, 0)
        XCTAssertEqual(log.logEndOffset, 7)
        XCTAssertEqual(log.producerEntry(77)?.lastSequence, 3)
    }

    func testSequenceGapIsRefused() throws {
        let log = try PartitionLog(directory: logDir())
        _ = try log.append(batch(0))
        XCTAssertThrowsError(try log.append(batch(5))) {
            XCTAssertEqual($0 as? LogError, .outOfOrderSequence(producerId: 77, expected: 2, received: 5))
            XCTAssertEqual(($0 as? LogError)?.kafkaErrorCode, 45)
        }
        // Overlapping but not identical to a remembered batch: out of order too.
        XCTAssertThrowsError(try log.append(batch(1)))
        XCTAssertEqual(log.logEndOffset, 2)
    }

    func testEpochRules() throws {
        let log = try PartitionLog(directory: logDir())
        _ = try log.append(batch(0, epoch: 3))
        XCTAssertThrowsError(try log.append(batch(2, epoch: 2))) {
            XCTAssertEqual($0 as? LogError, .invalidProducerEpoch(producerId: 77, current: 3, received: 2))
        }
        XCTAssertThrowsError(try log.append(batch(2, epoch: 4)), "a new epoch starts at sequence 0")
        _ = try log.append(batch(0, epoch: 4))
        XCTAssertEqual(log.producerEntry(77)?.epoch, 4)
        // The old epoch's batches are forgotten: its retry is fenced, not a duplicate.
        XCTAssertThrowsError(try log.append(batch(0, epoch: 3)))
    }

    func testUnknownProducerMayStartAnywhere() throws {
        let log = try PartitionLog(directory: logDir())
        XCTAssertEqual(try log.append(batch(1_000)).baseOffset, 0)
        XCTAssertEqual(try log.append(batch(1_002)).baseOffset, 2)
    }

    func testOnlyTheLastFiveBatchesAreRemembered() throws {
        let log = try PartitionLog(directory: logDir())
        for i in 0..<8 { _ = try log.append(batch(Int32(i * 2))) }
        for i in 3..<8 { XCTAssertTrue(try log.append(batch(Int32(i * 2))).isDuplicate) }
        XCTAssertThrowsError(try log.append(batch(4)))
        XCTAssertEqual(log.producerEntry(77)?.batches.count, 5)
    }

    func testSequencesWrapAround() throws {
        let log = try PartitionLog(directory: logDir())
        _ = try log.append(batch(Int32.max - 1, count: 2))   // sequences max-1, max
        XCTAssertEqual(log.producerEntry(77)?.lastSequence, Int32.max)
        XCTAssertEqual(try log.append(batch(0, count: 3)).baseOffset, 2)
        XCTAssertEqual(log.producerEntry(77)?.lastSequence, 2)
        // A batch that itself wraps: sequences max, 0, 1.
        _ = try log.append(batch(Int32.max, count: 3, pid: 78))
        XCTAssertEqual(log.producerEntry(78)?.lastSequence, 1)
        XCTAssertEqual(try log.append(batch(2, pid: 78)).baseOffset, 8)
    }

    func testDuplicateWithinOneAppend() throws {
        let log = try PartitionLog(directory: logDir())
        let info = try log.append(batch(0) + batch(0) + batch(2))
        XCTAssertEqual(info.batches, [
            AppendedBatch(baseOffset: 0, lastOffset: 1, isDuplicate: false),
            AppendedBatch(baseOffset: 0, lastOffset: 1, isDuplicate: true),
            AppendedBatch(baseOffset: 2, lastOffset: 3, isDuplicate: false),
        ])
        XCTAssertEqual(log.logEndOffset, 4)
    }

    func testOutOfOrderBatchRejectsTheWholeAppend() throws {
        let log = try PartitionLog(directory: logDir())
        XCTAssertThrowsError(try log.append(batch(0) + BatchBuilder.values(9) + batch(7)))
        XCTAssertEqual(log.logEndOffset, 0)
        XCTAssertNil(log.producerEntry(77))
    }

    func testDuplicatesAreDetectedAcrossACleanReopen() throws {
        let dir = logDir()
        var log: PartitionLog? = try PartitionLog(directory: dir, config: config { $0.segmentBytes = 300 })
        for i in 0..<10 { _ = try log!.append(batch(Int32(i * 2))) }
        try log!.close()
        log = nil
        XCTAssertTrue(files(in: dir).contains("00000000000000000020.snapshot"))
        let reopened = try PartitionLog(directory: dir, config: config { $0.segmentBytes = 300 }, recoveryPoint: 20)
        XCTAssertEqual(reopened.recoveryReport.replayedBatches, 0)
        let retry = try reopened.append(batch(16))
        XCTAssertTrue(retry.isDuplicate)
        XCTAssertEqual(retry.baseOffset, 16)
        XCTAssertThrowsError(try reopened.append(batch(30)))
        XCTAssertEqual(try reopened.append(batch(20)).baseOffset, 20)
    }

    func testDuplicatesAreDetectedAfterACrashByReplayingTheLog() throws {
        let dir = logDir()
        var log: PartitionLog? = try PartitionLog(directory: dir, config: config { $0.segmentBytes = 300 })
        for i in 0..<10 { _ = try log!.append(batch(Int32(i * 2), pid: 1)) }
        for i in 0..<10 { _ = try log!.append(batch(Int32(i * 2), pid: 2, epoch: 5)) }
        log = nil   // crash
        // Lose every snapshot too: the state comes from the batches alone.
        for f in files(in: dir) where f.hasSuffix(".snapshot") { try FileManager.default.removeItem(atPath: dir + "/" + f) }
        let reopened = try PartitionLog(directory: dir, config: config { $0.segmentBytes = 300 })
        XCTAssertEqual(reopened.recoveryReport.replayedBatches, 20)
        XCTAssertEqual(reopened.producerEntry(2)?.epoch, 5)
        XCTAssertTrue(try reopened.append(batch(18, pid: 1)).isDuplicate)
        XCTAssertEqual(try reopened.append(batch(20, pid: 1)).baseOffset, 40)
        XCTAssertTrue(try reopened.append(batch(14, pid: 2, epoch: 5)).isDuplicate)
        XCTAssertThrowsError(try reopened.append(batch(20, pid: 2, epoch: 4)))
    }

    func testCorruptSnapshotFallsBackToReplay() throws {
        let dir = logDir()
        var log: PartitionLog? = try PartitionLog(directory: dir)
        for i in 0..<4 { _ = try log!.append(batch(Int32(i * 2))) }
        try log!.close()
        log = nil
        try patchFile(dir + "/00000000000000000008.snapshot", at: 12, [0x55])
        let reopened = try PartitionLog(directory: dir, recoveryPoint: 8)
        XCTAssertEqual(reopened.recoveryReport.replayedBatches, 4)
        XCTAssertTrue(try reopened.append(batch(6)).isDuplicate)
    }

    func testTruncationRewindsProducerState() throws {
        let log = try PartitionLog(directory: logDir(), config: config { $0.segmentBytes = 300 })
        for i in 0..<10 { _ = try log.append(batch(Int32(i * 2))) }
        try log.truncate(to: 12)
        XCTAssertEqual(log.producerEntry(77)?.lastSequence, 11)
        XCTAssertEqual(try log.append(batch(12)).baseOffset, 12)
    }

    func testIdleProducersExpire() throws {
        let log = try PartitionLog(directory: logDir(), config: config { $0.producerIdExpirationMillis = 1_000 })
        _ = try log.append(BatchBuilder.values(0, count: 1, timestamp: 5_000, producerId: 9, producerEpoch: 0, baseSequence: 0))
        XCTAssertEqual(log.expireProducers(now: 5_500), 0)
        XCTAssertEqual(log.expireProducers(now: 6_001), 1)
        XCTAssertNil(log.producerEntry(9))
    }
}
