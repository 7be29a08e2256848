import Foundation
@testable import KafkaLog
import XCTest

final class RetentionTests: LogTestCase {
    let day: Int64 = 86_400_000

    /// 10 segments of 5 batches; segment k's batches are stamped day k.
    func tenDays(_ edit: @escaping (inout LogConfig) -> Void = { _ in }) throws -> PartitionLog {
        let log = try PartitionLog(directory: logDir(), config: config(edit))
        for k in 0..<10 {
            for j in 0..<5 { _ = try log.append(BatchBuilder.values(k * 5 + j, timestamp: Int64(k) * day + Int64(j))) }
            if k < 9 { try log.roll() }
        }
        XCTAssertEqual(log.segmentInfos.count, 10)
        return log
    }

    func testRetentionByTimeDeletesOldSegmentsAndAdvancesTheLogStart() throws {
        let log = try tenDays { $0.retentionMillis = 3 * self.day }
        // At day 9.5 segments whose newest batch is older than 3 days go: days 0...6.
        let result = try log.deleteOldSegments(now: 9 * day + day / 2)
        XCTAssertEqual(result.deletedSegments, [0, 5, 10, 15, 20, 25, 30])
        XCTAssertEqual(result.logStartOffset, 35)
        XCTAssertEqual(log.logStartOffset, 35)
        XCTAssertEqual(log.segmentInfos.first?.baseOffset, 35)
        XCTAssertFalse(FileManager.default.fileExists(atPath: logDir() + "/00000000000000000000.log"))
        XCTAssertThrowsError(try log.read(from: 34, maxBytes: 100))
        XCTAssertEqual(try allValues(log), (35..<50).map { "v\($0)" })
        XCTAssertEqual(try log.listOffset(timestamp: -2)?.offset, 35)
        // Nothing more is due.
        XCTAssertEqual(try log.deleteOldSegments(now: 9 * day + day / 2).deletedSegments, [])
    }

    func testARegionOutlivesItsDeletedSegment() throws {
        let log = try tenDays { $0.retentionMillis = 1 }
        let held = try log.read(from: 0, maxBytes: 1 << 20)
        let before = try held.readBytes()
        XCTAssertEqual(try log.deleteOldSegments(now: 100 * day).deletedSegments.count, 9)
        XCTAssertFalse(FileManager.default.fileExists(atPath: held.regions[0].file.path))
        // The descriptor stays valid for a sendfile in flight.
        XCTAssertEqual(try held.readBytes(), before)
    }

    func testRetentionNeverDeletesTheActiveSegment() throws {
        let log = try tenDays { $0.retentionMillis = 1 }
        let result = try log.deleteOldSegments(now: 100 * day)
        XCTAssertEqual(result.deletedSegments.count, 9)
        XCTAssertEqual(log.segmentInfos.map(\.baseOffset), [45])
        XCTAssertEqual(try allValues(log), (45..<50).map { "v\($0)" })
    }

    func testRetentionMinusOneKeepsEverything() throws {
        let log = try tenDays { $0.retentionMillis = -1 }
        XCTAssertEqual(try log.deleteOldSegments(now: Int64.max / 2).deletedSegments, [])
    }

    func testRetentionBySize() throws {
        let probe = try tenDays()
        let sizes = probe.segmentInfos.map { Int64($0.size) }
        let total = probe.size
        try FileManager.default.removeItem(atPath: logDir())
        // Allow the newest 4.5 segments' worth: the oldest go while the rest
        // still exceeds it, and no further.
        let limit = sizes.suffix(4).reduce(0, +) + sizes[5] / 2
        let log = try tenDays { $0.retentionMillis = -1; $0.retentionBytes = limit }
        let result = try log.deleteOldSegments(now: 0)
        XCTAssertEqual(result.deletedSegments, [0, 5, 10, 15, 20])
        XCTAssertEqual(Int64(result.deletedBytes), sizes.prefix(5).reduce(0, +))
        XCTAssertEqual(log.size, total - sizes.prefix(5).reduce(0, +))
        XCTAssertGreaterThan(log.size, limit)
        XCTAssertEqual(log.logStartOffset, 25)
    }

    func testRetentionStopsAtTheHighWatermark() throws {
        let log = try PartitionLog(directory: logDir(), config: config { $0.retentionMillis = 1 }, highWatermarkFollowsLogEnd: false)
        for k in 0..<5 { _ = try log.append(BatchBuilder.values(k, timestamp: 0)); try log.roll() }
        log.updateHighWatermark(2)
        // Only segments wholly below the high watermark may go.
        XCTAssertEqual(try log.deleteOldSegments(now: day).deletedSegments, [0, 1])
    }

    func testDeleteRecordsAdvancesTheLogStartThenRetentionRemovesSegments() throws {
        let log = try tenDays { $0.retentionMillis = -1 }
        XCTAssertEqual(try log.advanceLogStartOffset(to: 12), 12)
        XCTAssertThrowsError(try log.read(from: 11, maxBytes: 10))
        XCTAssertEqual(decodeBatches(try log.readBytes(from: 12, maxBytes: 1)).first?.header.baseOffset, 12)
        XCTAssertEqual(try log.deleteOldSegments(now: 0).deletedSegments, [0, 5])
        XCTAssertEqual(log.logStartOffset, 12)
        XCTAssertThrowsError(try log.advanceLogStartOffset(to: 51))
    }

    func testTimestamplessBatchesUseTheFileTime() throws {
        let log = try PartitionLog(directory: logDir(), config: config { $0.retentionMillis = day })
        _ = try log.append(BatchBuilder.values(0, timestamp: -1))
        try log.roll()
        _ = try log.append(BatchBuilder.values(1, timestamp: -1))
        XCTAssertEqual(try log.deleteOldSegments(now: wallClockMillis()).deletedSegments, [])
        XCTAssertEqual(try log.deleteOldSegments(now: wallClockMillis() + 2 * day).deletedSegments, [0])
    }
}
