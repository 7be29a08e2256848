import Foundation
@testable import KafkaLog
import XCTest

/// Crash recovery: a log that was not closed is reopened from a recovery
/// point below its end, after its files were cut or damaged on purpose.
final class RecoveryTests: LogTestCase {
    let small = { (c: inout LogConfig) in c.segmentBytes = 1_200; c.indexIntervalBytes = 100 }

    /// Appends `count` one- or two-record batches; returns the last segment's path.
    func populate(_ log: PartitionLog, count: Int, from: Int = 0) throws {
        for i in from..<(from + count) { _ = try log.append(BatchBuilder.values(i * 2, count: 2, timestamp: 1_000 + Int64(i))) }
    }

    func expectedValues(_ batches: Int) -> [String] { (0..<(batches * 2)).map { "v\($0)" } }

    func testCleanCloseReopensWithoutScanning() throws {
        let dir = logDir()
        var log: PartitionLog? = try PartitionLog(directory: dir, config: config(small))
        try populate(log!, count: 100)
        try log!.close()
        XCTAssertEqual(log!.recoveryPoint, 200)
        log = nil
        let reopened = try PartitionLog(directory: dir, config: config(small), recoveryPoint: 200)
        XCTAssertEqual(reopened.recoveryReport.recoveredSegments, [])
        XCTAssertFalse(reopened.recoveryReport.needsWarning)
        XCTAssertEqual(reopened.logEndOffset, 200)
        XCTAssertEqual(try allValues(reopened), expectedValues(100))
    }

    func testTornTailIsCutAndEverythingBeforeIsIntact() throws {
        let dir = logDir()
        var log: PartitionLog? = try PartitionLog(directory: dir, config: config(small))
        try populate(log!, count: 60)
        try log!.flush()
        let flushedTo = log!.recoveryPoint
        try populate(log!, count: 3, from: 60)
        let last = log!.segmentInfos.last!
        log = nil   // crash: no close
        // The last batch was only half written.
        let lastBatch = decodeBatches(try Data(contentsOf: URL(fileURLWithPath: last.logPath)).map { $0 }).last!
        let cutTo = last.size - lastBatch.header.totalSize / 2
        truncateFile(last.logPath, to: cutTo)

        let reopened = try PartitionLog(directory: dir, config: config(small), recoveryPoint: flushedTo)
        let report = reopened.recoveryReport
        XCTAssertEqual(report.truncatedBytes, cutTo - (last.size - lastBatch.header.totalSize))
        XCTAssertTrue(report.needsWarning)
        XCTAssertEqual(report.recoveredSegments, [last.baseOffset])
        XCTAssertTrue(report.problems[0].contains(String(format: "%020lld.log", last.baseOffset)), report.problems[0])
        XCTAssertEqual(reopened.logEndOffset, 124)
        XCTAssertEqual(reopened.recoveryPoint, 124)
        XCTAssertEqual(try allValues(reopened), expectedValues(62))
        XCTAssertEqual(fileSize(last.logPath), last.size - lastBatch.header.totalSize)
        // The log carries on from the cut.
        XCTAssertEqual(try reopened.append(BatchBuilder.values(0)).baseOffset, 124)
    }

    func testCorruptByteInTheTailFailsItsCRC() throws {
        let dir = logDir()
        var log: PartitionLog? = try PartitionLog(directory: dir, config: config(small))
        try populate(log!, count: 40)
        let last = log!.segmentInfos.last!
        log = nil
        let batches = decodeBatches(try Data(contentsOf: URL(fileURLWithPath: last.logPath)).map { $0 })
        XCTAssertGreaterThan(batches.count, 2)
        // Flip a value byte in the second-to-last batch of the last segment.
        let position = batches.dropLast(2).reduce(0) { $0 + $1.header.totalSize }
        try patchFile(last.logPath, at: position + 61 + 5, [0xEE])

        let reopened = try PartitionLog(directory: dir, config: config(small))   // recovery point 0: full scan
        XCTAssertTrue(reopened.recoveryReport.problems.joined().contains("CRC-32C mismatch"))
        XCTAssertEqual(reopened.recoveryReport.truncatedBytes, batches.suffix(2).reduce(0) { $0 + $1.header.totalSize })
        XCTAssertEqual(reopened.logEndOffset, 80 - 4)
        XCTAssertEqual(try allValues(reopened), expectedValues(38))
    }

    func testGarbageAfterTheLastBatchIsRemoved() throws {
        let dir = logDir()
        var log: PartitionLog? = try PartitionLog(directory: dir, config: config(small))
        try populate(log!, count: 10)
        let last = log!.segmentInfos.last!
        log = nil
        try appendToFile(last.logPath, Array(repeating: 0xAB, count: 333))
        let reopened = try PartitionLog(directory: dir, config: config(small), recoveryPoint: 20)
        XCTAssertEqual(reopened.recoveryReport.truncatedBytes, 333)
        XCTAssertEqual(try allValues(reopened), expectedValues(10))
    }

    func testCorruptionInAnEarlierSegmentDropsTheLaterOnes() throws {
        let dir = logDir()
        var log: PartitionLog? = try PartitionLog(directory: dir, config: config(small))
        try populate(log!, count: 80)
        let infos = log!.segmentInfos
        XCTAssertGreaterThan(infos.count, 4)
        log = nil
        let victim = infos[2]
        try patchFile(victim.logPath, at: 30, [0xFF, 0xFF])   // inside the first batch's CRC'd bytes

        let reopened = try PartitionLog(directory: dir, config: config(small))
        let report = reopened.recoveryReport
        XCTAssertEqual(report.deletedSegments, infos[3...].map(\.baseOffset))
        XCTAssertEqual(report.truncatedBytes, infos[2...].reduce(0) { $0 + $1.size })
        XCTAssertEqual(reopened.logEndOffset, victim.baseOffset)
        XCTAssertEqual(reopened.segmentInfos.map(\.baseOffset), infos[...2].map(\.baseOffset))
        XCTAssertEqual(try allValues(reopened), expectedValues(Int(victim.baseOffset) / 2))
    }

    func testDeletedIndexIsRebuiltIdentically() throws {
        let dir = logDir()
        var log: PartitionLog? = try PartitionLog(directory: dir, config: config(small))
        try populate(log!, count: 80)
        try log!.close()
        let infos = log!.segmentInfos
        log = nil
        let index = infos[1].logPath.replacingOccurrences(of: ".log", with: ".index")
        let timeIndex = infos[3].logPath.replacingOccurrences(of: ".log", with: ".timeindex")
        let indexBytes = try Data(contentsOf: URL(fileURLWithPath: index))
        let timeBytes = try Data(contentsOf: URL(fileURLWithPath: timeIndex))
        XCTAssertFalse(indexBytes.isEmpty)
        try FileManager.default.removeItem(atPath: index)
        try FileManager.default.removeItem(atPath: timeIndex)

        let reopened = try PartitionLog(directory: dir, config: config(small), recoveryPoint: 160)
        XCTAssertEqual(reopened.recoveryReport.rebuiltIndexSegments, [infos[1].baseOffset, infos[3].baseOffset])
        XCTAssertEqual(reopened.recoveryReport.truncatedBytes, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: index)), indexBytes)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: timeIndex)), timeBytes)
        XCTAssertEqual(try allValues(reopened), expectedValues(80))
        for offset in Int64(0)..<160 {
            let first = decodeBatches(try reopened.readBytes(from: offset, maxBytes: 1)).first!
            XCTAssertEqual(first.header.baseOffset, offset / 2 * 2)
        }
    }

    func testTornOrOutOfRangeIndexEntriesAreRebuilt() throws {
        let dir = logDir()
        var log: PartitionLog? = try PartitionLog(directory: dir, config: config(small))
        try populate(log!, count: 80)
        try log!.close()
        let infos = log!.segmentInfos
        log = nil
        // Half an entry at the end of one index; an entry pointing past the log in another.
        try appendToFile(infos[0].logPath.replacingOccurrences(of: ".log", with: ".index"), [1, 2, 3])
        try appendToFile(infos[2].logPath.replacingOccurrences(of: ".log", with: ".index"), [0, 0, 0, 9, 0, 1, 0, 0])
        let reopened = try PartitionLog(directory: dir, config: config(small), recoveryPoint: 160)
        XCTAssertEqual(reopened.recoveryReport.rebuiltIndexSegments, [infos[0].baseOffset, infos[2].baseOffset])
        XCTAssertEqual(try allValues(reopened), expectedValues(80))
    }

    func testDataAfterTheRecoveryPointIsRescannedEvenIfIndexesLookFine() throws {
        let dir = logDir()
        var log: PartitionLog? = try PartitionLog(directory: dir, config: config { $0.indexIntervalBytes = 100 })
        try populate(log!, count: 30)
        try log!.flush()
        try populate(log!, count: 30, from: 30)
        let seg = log!.segmentInfos.last!
        log = nil
        // Corrupt a batch written after the flush; the recovery point sits in the same segment.
        let batches = decodeBatches(try Data(contentsOf: URL(fileURLWithPath: seg.logPath)).map { $0 })
        let position = batches.prefix(45).reduce(0) { $0 + $1.header.totalSize }
        try patchFile(seg.logPath, at: position + 40, [0x12, 0x34])
        let reopened = try PartitionLog(directory: dir, config: config { $0.indexIntervalBytes = 100 }, recoveryPoint: 60)
        XCTAssertEqual(reopened.recoveryReport.recoveredSegments, [0])
        XCTAssertEqual(reopened.logEndOffset, 90)
        XCTAssertEqual(try allValues(reopened), expectedValues(45))
    }

    /// Regression (found by testRandomTailDamageNeverLosesFlushedData, seed
    /// 949620073): the CRC does not cover the base offset, so a damaged one
    /// must be caught by the offsets' contiguity.
    func testDamagedBaseOffsetIsCaughtThoughTheCRCSkipsIt() throws {
        let dir = logDir()
        var log: PartitionLog? = try PartitionLog(directory: dir, config: config(small))
        try populate(log!, count: 5)
        let seg = log!.segmentInfos.last!
        log = nil
        let batches = decodeBatches(try Data(contentsOf: URL(fileURLWithPath: seg.logPath)).map { $0 })
        let third = batches.prefix(2).reduce(0) { $0 + $1.header.totalSize }
        try patchFile(seg.logPath, at: third + 5, [0x01])   // base offset 4 -> 4 + 65536
        let reopened = try PartitionLog(directory: dir, config: config(small))
        XCTAssertTrue(reopened.recoveryReport.problems[0].contains("where 4 was expected"), reopened.recoveryReport.problems[0])
        XCTAssertEqual(reopened.logEndOffset, 4)
        XCTAssertEqual(try allValues(reopened), expectedValues(2))
    }

    func testLeftoverTemporaryAndOrphanFilesAreRemoved() throws {
        let dir = logDir()
        var log: PartitionLog? = try PartitionLog(directory: dir)
        try populate(log!, count: 3)
        try log!.close()
        log = nil
        for name in ["00000000000000000000.log.deleted", "00000000000000000099.index", "00000000000000000099.timeindex",
                     "recovery.tmp", "00000000000000000050.log.swap"] {
            _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data([1, 2, 3]))
        }
        let reopened = try PartitionLog(directory: dir, recoveryPoint: 6)
        XCTAssertEqual(files(in: dir).filter { !$0.hasSuffix(".snapshot") && $0 != "leader-epoch-checkpoint" },
                       ["00000000000000000000.index", "00000000000000000000.log", "00000000000000000000.timeindex"])
        XCTAssertEqual(try allValues(reopened), expectedValues(3))
    }

    func testRandomTailDamageNeverLosesFlushedData() throws {
        let seed = testSeed()
        var rng = SeededRandom(seed: seed)
        for round in 0..<15 {
            let dir = logDir("rand-\(round)")
            var log: PartitionLog? = try PartitionLog(directory: dir, config: config(small))
            let flushedBatches = Int.random(in: 1...40, using: &rng)
            try populate(log!, count: flushedBatches)
            try log!.flush()
            try populate(log!, count: Int.random(in: 1...20, using: &rng), from: flushedBatches)
            let last = log!.segmentInfos.last!
            log = nil
            let size = fileSize(last.logPath)
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: truncateFile(last.logPath, to: Int.random(in: 0...size, using: &rng))
            case 1: try appendToFile(last.logPath, (0..<Int.random(in: 1...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            default:
                if size > 0 { try patchFile(last.logPath, at: Int.random(in: 0..<size, using: &rng), [UInt8.random(in: 0...255, using: &rng)]) }
            }
            let reopened = try PartitionLog(directory: dir, config: config(small), recoveryPoint: Int64(flushedBatches * 2))
            let values = try allValues(reopened)
            // What survives is a prefix of what was written.
            XCTAssertEqual(values, Array(expectedValues(values.count / 2)), "seed \(seed) round \(round)")
            XCTAssertEqual(Int64(values.count), reopened.logEndOffset, "seed \(seed) round \(round)")
            if last.baseOffset >= Int64(flushedBatches * 2) {
                XCTAssertGreaterThanOrEqual(values.count, flushedBatches * 2, "seed \(seed) round \(round): flushed data lost")
            }
        }
    }
}
