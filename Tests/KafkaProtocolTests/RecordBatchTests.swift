import KafkaProtocol
import NIOCore
import XCTest

final class RecordBatchTests: XCTestCase {
    private func sampleBatch(baseOffset: Int64 = 0) -> ByteBuffer {
        var builder = RecordBatchBuilder(baseOffset: baseOffset, producerId: 77, producerEpoch: 1, baseSequence: 5)
        builder.append(key: nil, value: Array("first".utf8), timestamp: 1_700_000_000_000)
        builder.append(key: Array("k2".utf8), value: Array("second".utf8),
                       headers: [RecordHeader(key: "h", value: Array("v".utf8)), RecordHeader(key: "n", value: nil as [UInt8]?)],
                       timestamp: 1_700_000_000_250)
        builder.append(key: Array("k3".utf8), value: nil, timestamp: 1_699_999_999_000)
        return builder.build()
    }

    /// Bitwise CRC-32C, independent of the C implementation the module uses.
    private func referenceCRC32C(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    func testReferenceCRCCheckValue() {
        XCTAssertEqual(referenceCRC32C(Array("123456789".utf8)[...]), 0xE306_9283)
    }

    func testBuiltBatchHeaderAndRecords() throws {
        let buffer = sampleBatch(baseOffset: 100)
        let bytes = Array(buffer.readableBytesView)
        let batch = try RecordBatch(buffer)
        let h = batch.header
        XCTAssertEqual(h.baseOffset, 100)
        XCTAssertEqual(Int(h.batchLength), bytes.count - 12)
        XCTAssertEqual(h.totalSize, bytes.count)
        XCTAssertEqual(h.partitionLeaderEpoch, -1)
        XCTAssertEqual(h.magic, 2)
        XCTAssertEqual(bytes[16], 2)
        XCTAssertEqual(h.attributes.compression, KafkaCompression.none)
        XCTAssertEqual(h.attributes.timestampType, .createTime)
        XCTAssertFalse(h.attributes.isTransactional)
        XCTAssertFalse(h.attributes.isControl)
        XCTAssertEqual(h.lastOffsetDelta, 2)
        XCTAssertEqual(h.lastOffset, 102)
        XCTAssertEqual(h.baseTimestamp, 1_700_000_000_000)
        XCTAssertEqual(h.maxTimestamp, 1_700_000_000_250)
        XCTAssertEqual(h.producerId, 77)
        XCTAssertEqual(h.producerEpoch, 1)
        XCTAssertEqual(h.baseSequence, 5)
        XCTAssertEqual(h.recordsCount, 3)
        // The stored CRC is CRC-32C over attributes (offset 21) to the end.
        XCTAssertEqual(h.crc, referenceCRC32C(bytes[21...]))
        XCTAssertTrue(batch.isCRCValid)
        XCTAssertNoThrow(try batch.verifyCRC())

        let records = try batch.records()
        XCTAssertEqual(records.count, 3)
        XCTAssertEqual(records.map(\.offset), [100, 101, 102])
        XCTAssertEqual(records.map(\.offsetDelta), [0, 1, 2])
        XCTAssertEqual(records.map(\.timestamp), [1_700_000_000_000, 1_700_000_000_250, 1_699_999_999_000])
        XCTAssertEqual(records.map(\.timestampDelta), [0, 250, -1000])
        XCTAssertNil(records[0].key)
        XCTAssertEqual(records[0].value, ByteBuffer(string: "first"))
        XCTAssertEqual(records[1].key, ByteBuffer(string: "k2"))
        XCTAssertEqual(records[1].headers, [RecordHeader(key: "h", value: ByteBuffer(string: "v")), RecordHeader(key: "n", value: nil as ByteBuffer?)])
        XCTAssertNil(records[2].value)
        XCTAssertEqual(records[2].headers, [])
    }

    /// First record of a hand-laid batch: length, attributes, deltas, key, value, headers.
    func testRecordEncodingBytes() {
        var builder = RecordBatchBuilder()
        builder.append(key: nil, value: [0x41], timestamp: 10)
        let bytes = Array(builder.build().readableBytesView)
        XCTAssertEqual(bytes.count, 61 + 8)
        XCTAssertEqual(Array(bytes[61...]), [
            0x0E,  // length 7 (zig-zag)
            0x00,  // attributes
            0x00,  // timestamp delta 0
            0x00,  // offset delta 0
            0x01,  // key length -1 (null)
            0x02, 0x41,  // value length 1, "A"
            0x00,  // no headers
        ])
        XCTAssertEqual(Array(bytes[8..<12]), [0x00, 0x00, 0x00, 57])  // batchLength = 69 - 12
        XCTAssertEqual(Array(bytes[23..<27]), [0, 0, 0, 0])  // lastOffsetDelta
        XCTAssertEqual(Array(bytes[43..<51]), [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])  // producerId -1
    }

    func testCRCFailsAfterFlippingAnyCoveredByte() throws {
        let original = Array(sampleBatch().readableBytesView)
        for index in 21..<original.count {
            var damaged = original
            damaged[index] ^= 0x01
            let batch = try RecordBatch(ByteBuffer(bytes: damaged))
            XCTAssertFalse(batch.isCRCValid, "flip at \(index) not detected")
            XCTAssertThrowsError(try batch.verifyCRC()) { error in
                guard case .crcMismatch = (error as? KafkaDecodeError)?.problem else { return XCTFail("\(error)") }
            }
        }
        // The stored CRC itself damaged.
        var badCRC = original
        badCRC[18] ^= 0x80
        XCTAssertFalse(try RecordBatch(ByteBuffer(bytes: badCRC)).isCRCValid)
    }

    func testBaseOffsetAndLeaderEpochRewritesKeepCRC() throws {
        var batch = try RecordBatch(sampleBatch())
        let crc = batch.header.crc
        batch.setBaseOffset(1_234_567)
        batch.setPartitionLeaderEpoch(9)
        XCTAssertEqual(batch.header.crc, crc)
        XCTAssertTrue(batch.isCRCValid)
        let reparsed = try RecordBatch(batch.bytes)
        XCTAssertEqual(reparsed.header.baseOffset, 1_234_567)
        XCTAssertEqual(reparsed.header.partitionLeaderEpoch, 9)
        XCTAssertTrue(reparsed.isCRCValid)
        XCTAssertEqual(try reparsed.records().map(\.offset), [1_234_567, 1_234_568, 1_234_569])
    }

    func testAssignOffsetsAcrossBatchesInPlace() throws {
        var records = sampleBatch()
        var second = RecordBatchBuilder()
        second.append(key: nil, value: [1], timestamp: 5)
        second.build(into: &records)
        let next = try RecordBatch.assignOffsets(in: &records, firstOffset: 50)
        XCTAssertEqual(next, 54)
        let batches = try RecordBatch.batches(in: records)
        XCTAssertEqual(batches.map(\.header.baseOffset), [50, 53])
        XCTAssertTrue(batches.allSatisfy(\.isCRCValid))
    }

    func testLogAppendTimeRecomputesCRC() throws {
        var batch = try RecordBatch(sampleBatch())
        batch.setLogAppendTime(1_800_000_000_000)
        XCTAssertTrue(batch.isCRCValid)
        let reparsed = try RecordBatch(batch.bytes)
        XCTAssertEqual(reparsed.header.attributes.timestampType, .logAppendTime)
        XCTAssertTrue(reparsed.isCRCValid)
        XCTAssertEqual(try reparsed.records().map(\.timestamp), [1_800_000_000_000, 1_800_000_000_000, 1_800_000_000_000])
    }

    func testTruncatedAndPartialBatches() throws {
        var two = sampleBatch()
        var other = sampleBatch()
        two.writeBuffer(&other)
        let full = Array(two.readableBytesView)
        let firstSize = full.count / 2
        for cut in [0, 10, 60, 61, firstSize - 1] {
            XCTAssertThrowsError(try RecordBatch(ByteBuffer(bytes: full[0..<cut])))
        }
        // A fetch response may end in the middle of a batch.
        let partial = ByteBuffer(bytes: full[0..<(firstSize + 30)])
        XCTAssertThrowsError(try RecordBatch.batches(in: partial))
        XCTAssertEqual(try RecordBatch.batches(in: partial, allowPartialTail: true).count, 1)
        // Exactly one batch means exactly.
        XCTAssertThrowsError(try RecordBatch(ByteBuffer(bytes: full)))
        // Old message formats are refused.
        var magic1 = Array(full[0..<firstSize])
        magic1[16] = 1
        XCTAssertThrowsError(try RecordBatch(ByteBuffer(bytes: magic1))) { error in
            XCTAssertEqual((error as? KafkaDecodeError)?.problem, .unsupportedMagic(1))
        }
    }

    func testCompressedBatchesAreNotIterated() throws {
        var bytes = Array(sampleBatch().readableBytesView)
        bytes[22] |= 0x01  // gzip
        let batch = try RecordBatch(ByteBuffer(bytes: bytes))
        XCTAssertEqual(batch.header.attributes.compression, .gzip)
        XCTAssertThrowsError(try batch.records()) { error in
            XCTAssertEqual((error as? KafkaDecodeError)?.problem, .compressedRecords(codec: 1))
        }
    }

    func testDamagedRecordsNeverTrap() throws {
        let original = Array(sampleBatch().readableBytesView)
        var rng = SplitMix64(seed: 42)
        var rejected = 0
        for _ in 0..<3000 {
            var bytes = original
            let index = 57 + Int(rng.next() % UInt64(bytes.count - 57))  // recordsCount and records
            bytes[index] = UInt8(truncatingIfNeeded: rng.next())
            guard let batch = try? RecordBatch(ByteBuffer(bytes: bytes)) else { continue }
            do {
                _ = try batch.records()
            } catch is KafkaDecodeError {
                rejected += 1
            }
        }
        XCTAssertGreaterThan(rejected, 100)
    }

    func testBatchInsideProduceRequest() throws {
        let batchBytes = sampleBatch()
        var request = ProduceRequest(acks: -1, timeoutMs: 30_000)
        request.topicData = [.init(name: "events", partitionData: [.init(index: 0, records: batchBytes)])]
        for version: Int16 in [3, 9, 11] {
            var out = ByteBuffer()
            try request.write(to: &out, version: version)
            let decoded = try ProduceRequest(from: &out, version: version)
            var records = try XCTUnwrap(decoded.topicData.first?.partitionData.first?.records)
            XCTAssertEqual(records, batchBytes)
            let next = try RecordBatch.assignOffsets(in: &records, firstOffset: 1000)
            XCTAssertEqual(next, 1003)
            let batches = try RecordBatch.batches(in: records)
            XCTAssertEqual(batches.count, 1)
            XCTAssertTrue(batches[0].isCRCValid)
            XCTAssertEqual(try batches[0].records().map(\.offset), [1000, 1001, 1002])
        }
    }
}
