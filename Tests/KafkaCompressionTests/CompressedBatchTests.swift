import KafkaCompression
import KafkaProtocol
import NIOCore
import XCTest

/// The records every batch test writes: keys, a null key, a null value, headers (one with a
/// null value), timestamps out of order.
struct SampleRecord: Equatable {
    var key: [UInt8]?
    var value: [UInt8]?
    var headers: [(String, [UInt8]?)]
    var timestamp: Int64

    static func == (a: SampleRecord, b: SampleRecord) -> Bool {
        a.key == b.key && a.value == b.value && a.timestamp == b.timestamp
            && a.headers.map(\.0) == b.headers.map(\.0) && a.headers.map(\.1) == b.headers.map(\.1)
    }

    static let samples: [SampleRecord] = (0..<200).map(sample)

    private static func sample(_ i: Int) -> SampleRecord {
        let key: [UInt8]? = i == 3 ? nil : Array("key-\(i % 10)".utf8)
        let json = "{\"event\":\"page_view\",\"user\":\(i % 17),\"path\":\"/items/\(i % 23)\"}"
        let value: [UInt8]? = i == 5 ? nil : Array(json.utf8)
        let headers: [(String, [UInt8]?)] = i % 4 == 0 ? [("source", Array("sluice".utf8)), ("trace", nil)] : []
        return SampleRecord(key: key, value: value, headers: headers, timestamp: 1_700_000_000_000 + Int64(i * 7 % 50))
    }

    init(key: [UInt8]?, value: [UInt8]?, headers: [(String, [UInt8]?)], timestamp: Int64) {
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    init(_ record: Record) {
        key = record.key.map { Array($0.readableBytesView) }
        value = record.value.map { Array($0.readableBytesView) }
        headers = record.headers.map { ($0.key, $0.value.map { Array($0.readableBytesView) }) }
        timestamp = record.timestamp
    }
}

func sampleBuilder(baseOffset: Int64 = 0) -> RecordBatchBuilder {
    var builder = RecordBatchBuilder(baseOffset: baseOffset, producerId: 42, producerEpoch: 3, baseSequence: 100)
    for r in SampleRecord.samples {
        builder.append(key: r.key, value: r.value,
                       headers: r.headers.map { RecordHeader(key: $0.0, value: $0.1) }, timestamp: r.timestamp)
    }
    return builder
}

final class CompressedBatchTests: XCTestCase {
    func testEveryCodecBuildsAValidBatchWhoseRecordsReadBack() throws {
        let plainSize = sampleBuilder().build().readableBytes
        for codec in allCodecs {
            let bytes = try sampleBuilder(baseOffset: 1_000).build(compression: codec)
            let batch = try RecordBatch(bytes)
            XCTAssertNoThrow(try batch.verifyCRC(), "\(codec)")
            XCTAssertEqual(batch.header.attributes.compression, codec)
            XCTAssertEqual(batch.header.recordsCount, Int32(SampleRecord.samples.count))
            XCTAssertEqual(batch.header.lastOffsetDelta, Int32(SampleRecord.samples.count - 1))
            XCTAssertEqual(batch.header.producerId, 42)
            XCTAssertEqual(batch.header.baseSequence, 100)
            XCTAssertEqual(batch.header.totalSize, bytes.readableBytes)

            let records = try batch.records(maxDecompressedSize: KafkaCodecs.defaultMaxDecompressedSize)
            XCTAssertEqual(records.map(SampleRecord.init), SampleRecord.samples, "\(codec)")
            XCTAssertEqual(records.map(\.offset), Array(1_000..<(1_000 + Int64(SampleRecord.samples.count))))

            var iterator = try batch.makeRecordIterator(maxDecompressedSize: 1 << 20)
            var count = 0
            while try iterator.next() != nil { count += 1 }
            XCTAssertEqual(count, SampleRecord.samples.count)

            if codec == .none {
                XCTAssertEqual(bytes, sampleBuilder(baseOffset: 1_000).build(), "none is the plain batch")
            } else {
                XCTAssertLessThan(bytes.readableBytes, plainSize / 2, "\(codec)")
                // The uncompressed-only reader still refuses, naming the codec.
                XCTAssertThrowsError(try batch.records()) { error in
                    XCTAssertEqual((error as? KafkaDecodeError)?.problem, .compressedRecords(codec: Int(codec.rawValue)))
                }
                // The compressed section is exactly the codec's output for the encoded records.
                var section = bytes
                section.moveReaderIndex(forwardBy: RecordBatch.headerSize)
                let plain = sampleBuilder().build()
                XCTAssertEqual(try KafkaCodecs.decompress(codec, section, maxOutput: 1 << 20).bytes,
                               Array(plain.readableBytesView.dropFirst(RecordBatch.headerSize)), "\(codec)")
            }
        }
    }

    func testBrokerRewritesKeepTheCRCValid() throws {
        for codec in realCodecs {
            var batch = try RecordBatch(sampleBuilder().build(compression: codec, level: nil))
            batch.setBaseOffset(77)
            batch.setPartitionLeaderEpoch(5)
            XCTAssertTrue(batch.isCRCValid, "\(codec)")
            batch.setLogAppendTime(1_800_000_000_000)
            XCTAssertTrue(batch.isCRCValid, "\(codec)")
            let records = try batch.records(maxDecompressedSize: 1 << 20)
            XCTAssertEqual(records.first?.offset, 77)
            XCTAssertEqual(Set(records.map(\.timestamp)), [1_800_000_000_000])
        }
    }

    func testDamagedCompressedSectionFailsTheCRCAndThenTheCodec() throws {
        for codec in realCodecs {
            var bytes = try sampleBuilder().build(compression: codec)
            let at = bytes.readerIndex + RecordBatch.headerSize + 2
            bytes.setInteger(bytes.getInteger(at: at, as: UInt8.self)! ^ 0xFF, at: at)
            var batch = try RecordBatch(bytes)
            XCTAssertThrowsError(try batch.verifyCRC(), "\(codec)")
            // With the CRC made to match, the codec still refuses (each of these framings
            // checks byte 2 of its section: gzip's method, the xerial magic, lz4's magic, zstd's magic).
            batch.updateCRC()
            XCTAssertThrowsError(try batch.records(maxDecompressedSize: 1 << 20)) { error in
                XCTAssertEqual(compressionError(error)?.codec, codec)
            }
        }
    }

    func testTheRecordsLimitAndUndefinedCodecs() throws {
        let bytes = try sampleBuilder().build(compression: .zstd)
        let batch = try RecordBatch(bytes)
        XCTAssertThrowsError(try batch.records(maxDecompressedSize: 1_000)) { error in
            XCTAssertEqual(compressionError(error), KafkaCompressionError(.zstd, .outputTooLarge(limit: 1_000)))
        }

        var undefined = bytes
        undefined.setInteger(Int16(5), at: 21, endianness: .big)  // attributes: codec 5
        XCTAssertThrowsError(try RecordBatch(undefined).records(maxDecompressedSize: 1 << 20)) { error in
            XCTAssertEqual((error as? KafkaDecodeError)?.problem, .compressedRecords(codec: 5))
        }
    }

    func testAppendingSeveralCompressedBatchesToOneRecordsField() throws {
        var records = ByteBuffer()
        for codec in allCodecs {
            try sampleBuilder().build(into: &records, compression: codec, level: nil)
        }
        try RecordBatch.assignOffsets(in: &records, firstOffset: 0)
        let batches = try RecordBatch.batches(in: records)
        XCTAssertEqual(batches.map(\.header.attributes.compression), allCodecs)
        for (i, batch) in batches.enumerated() {
            XCTAssertTrue(batch.isCRCValid)
            XCTAssertEqual(try batch.records(maxDecompressedSize: 1 << 20).first?.offset, Int64(i * SampleRecord.samples.count))
        }
    }
}
