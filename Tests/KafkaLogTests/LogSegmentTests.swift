import Foundation
@testable import KafkaLog
import XCTest

final class LogSegmentTests: LogTestCase {
    /// Appends `count` batches of 1...5 records each, offsets assigned from `base`.
    @discardableResult
    func fill(_ seg: LogSegment, from base: Int64, count: Int, timestamp: (Int) -> Int64 = { 1_000 + Int64($0) }) throws -> [RecordBatchHeader] {
        var next = base
        var headers: [RecordBatchHeader] = []
        for i in 0..<count {
            var bytes = BatchBuilder.batch((0..<(i % 5 + 1)).map { TestRecord("r\(next + Int64($0))", timestamp: timestamp(i)) },
                                           baseOffset: next)
            try bytes.withUnsafeMutableBytes { buf in
                let h = RecordBatchHeader(UnsafeRawBufferPointer(buf))!
                try seg.append(batch: UnsafeRawBufferPointer(buf), header: h)
                headers.append(h)
                next = h.nextOffset
            }
            bytes.removeAll()
        }
        return headers
    }

    func testFileNamesAreTwentyDigitBaseOffsets() throws {
        let dir = logDir()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = try LogSegment.create(directory: dir, baseOffset: 0)
        _ = try LogSegment.create(directory: dir, baseOffset: 1_234_567)
        XCTAssertEqual(files(in: dir), [
            "00000000000000000000.index", "00000000000000000000.log", "00000000000000000000.timeindex",
            "00000000000001234567.index", "00000000000001234567.log", "00000000000001234567.timeindex",
        ])
    }

    func testOffsetIndexLookupAtEveryOffset() throws {
        let dir = logDir()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let seg = try LogSegment.create(directory: dir, baseOffset: 100, indexIntervalBytes: 300)
        let headers = try fill(seg, from: 100, count: 400)
        XCTAssertGreaterThan(seg.offsetIndex.count, 50, "sparse index has entries")
        XCTAssertEqual(fileSize(dir + "/00000000000000000100.index"), seg.offsetIndex.count * 8)
        var position = 0
        for h in headers {
            for offset in h.baseOffset...h.lastOffset {
                let found = try XCTUnwrap(seg.translateOffset(offset), "offset \(offset)")
                XCTAssertEqual(found.position, position)
                XCTAssertEqual(found.header.baseOffset, h.baseOffset)
            }
            position += h.totalSize
        }
        XCTAssertNil(try seg.translateOffset(seg.nextOffset))
        // Offsets below the base land on the first batch.
        XCTAssertEqual(try seg.translateOffset(0)?.position, 0)
    }

    func testIndexEntriesFollowTheIntervalRule() throws {
        let dir = logDir()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let seg = try LogSegment.create(directory: dir, baseOffset: 0, indexIntervalBytes: 4096)
        try fill(seg, from: 0, count: 300)
        let entries = try seg.offsetIndex.entries()
        var lastPosition = 0
        for (i, e) in entries.enumerated() {
            // Each entry names a batch start more than 4096 bytes after the previous one.
            XCTAssertEqual(try seg.translateOffset(Int64(e.relativeOffset))?.position, Int(e.position))
            if i > 0 { XCTAssertGreaterThan(Int(e.position) - lastPosition, 4096) }
            lastPosition = Int(e.position)
        }
        XCTAssertEqual(entries.count, seg.size / 4200, accuracy: 2)
    }

    func testReadReturnsWholeBatchesAndAtLeastOne() throws {
        let dir = logDir()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let seg = try LogSegment.create(directory: dir, baseOffset: 0, indexIntervalBytes: 100)
        let headers = try fill(seg, from: 0, count: 50)
        // A budget smaller than the first batch still returns that batch whole.
        let one = try XCTUnwrap(seg.read(from: 0, maxBytes: 10))
        XCTAssertEqual(one.length, headers[0].totalSize)
        XCTAssertNil(try seg.read(from: 0, maxBytes: 10, minOneBatch: false))
        // A budget of two and a half batches gives two.
        let budget = headers[3].totalSize + headers[4].totalSize + headers[5].totalSize / 2
        let two = try XCTUnwrap(seg.read(from: headers[3].baseOffset + 1, maxBytes: budget))
        XCTAssertEqual(two.length, headers[3].totalSize + headers[4].totalSize)
        XCTAssertEqual(two.firstOffset, headers[3].baseOffset)
        XCTAssertEqual(decodeBatches(try two.readBytes()).map(\.header.baseOffset), [headers[3].baseOffset, headers[4].baseOffset])
        // Everything.
        let all = try XCTUnwrap(seg.read(from: 0, maxBytes: Int.max))
        XCTAssertEqual(all.length, seg.size)
        // Stopped by a max position at a batch boundary.
        let limited = try XCTUnwrap(seg.read(from: 0, maxBytes: Int.max, maxPosition: headers[0].totalSize + headers[1].totalSize))
        XCTAssertEqual(limited.length, headers[0].totalSize + headers[1].totalSize)
        XCTAssertGreaterThanOrEqual(one.fd, 0)
    }

    func testAppendRefusesNonContiguousOffsets() throws {
        let dir = logDir()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let seg = try LogSegment.create(directory: dir, baseOffset: 10)
        for base: Int64 in [0, 11] {
            let bytes = BatchBuilder.batch([TestRecord("a")], baseOffset: base)
            XCTAssertThrowsError(try bytes.withUnsafeBytes { try seg.append(batch: $0, header: RecordBatchHeader($0)!) }) {
                guard case .invalidSegmentAppend? = $0 as? LogError else { return XCTFail("\($0)") }
            }
        }
        XCTAssertEqual(seg.size, 0)
        try fill(seg, from: 10, count: 3)
        // An unbounded budget from the middle of the segment (regression: start + Int.max overflowed).
        let region = try XCTUnwrap(seg.read(from: 12, maxBytes: Int.max))
        XCTAssertEqual(region.position + region.length, seg.size)
    }

    func testTruncateKeepsEarlierBatchesAndIndexes() throws {
        let dir = logDir()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let seg = try LogSegment.create(directory: dir, baseOffset: 0, indexIntervalBytes: 200)
        let headers = try fill(seg, from: 0, count: 100, timestamp: { 5_000 - Int64($0) * 10 + ($0 == 30 ? 100_000 : 0) })
        let cut = headers[61]
        XCTAssertEqual(cut.recordCount, 2)
        let removed = try seg.truncate(to: cut.baseOffset + 1)   // mid-batch: the whole batch goes
        XCTAssertEqual(seg.nextOffset, cut.baseOffset)
        XCTAssertEqual(removed, headers[61...].reduce(0) { $0 + $1.totalSize })
        XCTAssertEqual(seg.size, fileSize(seg.logPath))
        XCTAssertEqual(seg.largestTimestamp, headers[30].maxTimestamp)
        for e in try seg.offsetIndex.entries() { XCTAssertLessThan(Int(e.position), seg.size) }
        for h in headers[..<61] { XCTAssertEqual(try seg.translateOffset(h.lastOffset)?.header.baseOffset, h.baseOffset) }
        XCTAssertNil(try seg.translateOffset(cut.baseOffset))
        // Appending continues where it was cut.
        let more = try fill(seg, from: cut.baseOffset, count: 5)
        XCTAssertEqual(seg.nextOffset, more.last!.nextOffset)
        let before = seg.size
        XCTAssertEqual(try seg.truncate(to: 0), before)
        XCTAssertEqual(seg.size, 0)
        XCTAssertEqual(seg.nextOffset, 0)
    }

    func testRecoverRebuildsIdenticalIndexes() throws {
        let dir = logDir()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let seg = try LogSegment.create(directory: dir, baseOffset: 0, indexIntervalBytes: 250)
        try fill(seg, from: 0, count: 200, timestamp: { 1_000 + Int64(($0 * 7919) % 500) })
        try seg.flush()
        let index = try Data(contentsOf: URL(fileURLWithPath: dir + "/00000000000000000000.index"))
        let timeIndex = try Data(contentsOf: URL(fileURLWithPath: dir + "/00000000000000000000.timeindex"))
        let reopened = try LogSegment.open(directory: dir, baseOffset: 0, indexIntervalBytes: 250)
        let result = try reopened.recover()
        XCTAssertEqual(result.truncatedBytes, 0)
        XCTAssertNil(result.problem)
        XCTAssertEqual(reopened.nextOffset, seg.nextOffset)
        XCTAssertEqual(reopened.largestTimestamp, seg.largestTimestamp)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/00000000000000000000.index")), index)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/00000000000000000000.timeindex")), timeIndex)
        // And a trusted load agrees without scanning.
        let trusted = try LogSegment.open(directory: dir, baseOffset: 0, indexIntervalBytes: 250)
        XCTAssertNil(try trusted.loadTrusted())
        XCTAssertEqual(trusted.nextOffset, seg.nextOffset)
        XCTAssertEqual(trusted.largestTimestamp, seg.largestTimestamp)
        XCTAssertEqual(trusted.bytesSinceLastIndexEntry, seg.bytesSinceLastIndexEntry)
    }

    func testDamagedIndexFoundOnLookupIsRebuilt() throws {
        let dir = logDir()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let seg = try LogSegment.create(directory: dir, baseOffset: 0, indexIntervalBytes: 150)
        let headers = try fill(seg, from: 0, count: 120)
        try seg.flush()
        // Point every entry but the last at byte 1: only a lookup notices.
        let count = seg.offsetIndex.count
        for i in 0..<(count - 1) { try patchFile(dir + "/00000000000000000000.index", at: i * 8 + 4, [0, 0, 0, 1]) }
        let reopened = try LogSegment.open(directory: dir, baseOffset: 0, indexIntervalBytes: 150)
        XCTAssertNil(try reopened.loadTrusted())
        for h in headers { XCTAssertEqual(try reopened.translateOffset(h.lastOffset)?.header.baseOffset, h.baseOffset) }
        XCTAssertEqual(reopened.indexRebuilds, 1)
    }
}
