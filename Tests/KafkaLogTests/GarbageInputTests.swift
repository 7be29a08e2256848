import Foundation
@testable import KafkaLog
import XCTest

/// Bad produce input is refused with a typed error naming the problem and
/// leaves the log untouched; nothing — input or files on disk — traps.
final class GarbageInputTests: LogTestCase {
    func assertRejected(_ log: PartitionLog, _ bytes: [UInt8], _ expected: LogError,
                        file: StaticString = #filePath, line: UInt = #line) {
        let end = log.logEndOffset, size = log.size
        XCTAssertThrowsError(try log.append(bytes), file: file, line: line) {
            XCTAssertEqual($0 as? LogError, expected, file: file, line: line)
        }
        XCTAssertEqual(log.logEndOffset, end, file: file, line: line)
        XCTAssertEqual(log.size, size, file: file, line: line)
    }

    func testBadCRCIsRejected() throws {
        let log = try PartitionLog(directory: logDir())
        var bytes = BatchBuilder.values(0, count: 3)
        let stored = readBE(bytes, 17, UInt32.self)
        bytes[70] ^= 0x01
        let computed = CRC32C.checksum(Array(bytes[21...]))
        assertRejected(log, bytes, .crcMismatch(position: 0, stored: stored, computed: computed))
        // The second batch of a request is bad: nothing of the request is written.
        var second = BatchBuilder.values(3)
        second[60] ^= 0xFF
        let good = BatchBuilder.values(0)
        XCTAssertThrowsError(try log.append(good + second)) {
            guard case .crcMismatch(let position, _, _)? = $0 as? LogError else { return XCTFail("\($0)") }
            XCTAssertEqual(position, good.count)
            XCTAssertEqual(($0 as? LogError)?.kafkaErrorCode, 2)
        }
        XCTAssertEqual(log.logEndOffset, 0)
    }

    func testHeaderProblemsAreNamed() throws {
        let log = try PartitionLog(directory: logDir(), config: config { $0.maxMessageBytes = 500 })
        let good = BatchBuilder.values(0, count: 2)
        assertRejected(log, [], .emptyAppend)
        assertRejected(log, Array(good.prefix(40)), .batchTooShort(position: 0, available: 40))
        assertRejected(log, Array(good.dropLast()), .invalidBatchLength(position: 0, batchLength: Int32(good.count - 12), available: good.count - 1))
        var short = good
        short.replaceSubrange(8..<12, with: [0, 0, 0, 10])
        assertRejected(log, short, .invalidBatchLength(position: 0, batchLength: 10, available: good.count))
        var negative = good
        negative.replaceSubrange(8..<12, with: [0xFF, 0xFF, 0xFF, 0xF0])
        assertRejected(log, negative, .invalidBatchLength(position: 0, batchLength: -16, available: good.count))
        assertRejected(log, BatchBuilder.batch([TestRecord("a")], magic: 1), .unsupportedMagic(position: 0, magic: 1))
        var miscounted = good
        miscounted.replaceSubrange(57..<61, with: [0, 0, 0, 7])
        BatchBuilder.fixCRC(&miscounted, at: 0)
        assertRejected(log, miscounted, .recordCountMismatch(position: 0, recordCount: 7, lastOffsetDelta: 1))
        assertRejected(log, BatchBuilder.batch([TestRecord("a")], attributes: 0x20), .controlBatchNotAllowed(position: 0))
        assertRejected(log, BatchBuilder.batch([TestRecord("a")], attributes: 0x7), .unsupportedCompression(position: 0, codec: 7))
        let big = BatchBuilder.batch([TestRecord(String(repeating: "x", count: 600))])
        assertRejected(log, big, .batchTooLarge(position: 0, size: big.count, limit: 500))
        // Good batch followed by trailing junk.
        assertRejected(log, good + [1, 2, 3], .batchTooShort(position: good.count, available: 3))
        XCTAssertEqual(try log.append(good).lastOffset, 1)
    }

    func testRandomGarbageNeverTraps() throws {
        let seed = testSeed()
        var rng = SeededRandom(seed: seed)
        let log = try PartitionLog(directory: logDir(), config: config { $0.segmentBytes = 2_000 })
        var accepted = 0
        for i in 0..<3_000 {
            var bytes: [UInt8]
            switch i % 3 {
            case 0:
                bytes = (0..<Int.random(in: 0...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            case 1:
                // A valid batch with a few bytes mutated (sometimes in the header, CRC fixed up).
                bytes = BatchBuilder.values(i, count: Int.random(in: 1...4, using: &rng))
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                if Bool.random(using: &rng), readBE(bytes, 8, Int32.self) > 49, Int(readBE(bytes, 8, Int32.self)) + 12 <= bytes.count {
                    BatchBuilder.fixCRC(&bytes, at: 0)
                }
            default:
                bytes = BatchBuilder.values(i)
                bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng)))
            }
            do {
                _ = try log.append(bytes)
                accepted += 1
            } catch is LogError {
            } catch {
                XCTFail("seed \(seed): unexpected error \(error)")
            }
        }
        // Whatever was accepted reads back as whole, checksummed batches.
        let batches = try readAll(log, headersOnly: true)
        XCTAssertEqual(batches.count, accepted, "seed \(seed)")
        XCTAssertTrue(batches.allSatisfy(\.crcValid), "seed \(seed)")
    }

    func testRandomSegmentFilesOnDiskNeverTrap() throws {
        let seed = testSeed()
        var rng = SeededRandom(seed: seed)
        for round in 0..<20 {
            let dir = logDir("junk-\(round)")
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            // A real batch or two, then junk; junk indexes too.
            var data = BatchBuilder.values(0, count: 2)
            if Bool.random(using: &rng) { data = [] }
            data += (0..<Int.random(in: 0...500, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = FileManager.default.createFile(atPath: dir + "/00000000000000000000.log", contents: Data(data))
            let junk = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = FileManager.default.createFile(atPath: dir + "/00000000000000000000.index", contents: Data(junk))
            _ = FileManager.default.createFile(atPath: dir + "/00000000000000000000.timeindex", contents: Data(junk.reversed()))
            let recoveryPoint = Int64.random(in: 0...3, using: &rng)
            let log = try PartitionLog(directory: dir, recoveryPoint: recoveryPoint)
            XCTAssertLessThanOrEqual(log.logEndOffset, 2, "seed \(seed) round \(round)")
            _ = try readAll(log, headersOnly: true)
            XCTAssertEqual(try log.append(BatchBuilder.values(9)).baseOffset, log.logEndOffset - 1)
            XCTAssertNil(try log.offsetForTimestamp(Int64.max))
        }
    }
}
