import KafkaCompression
import KafkaProtocol
import NIOCore
import XCTest

final class CodecRoundTripTests: XCTestCase {
    func testEveryCodecRoundTripsEveryPayload() throws {
        for codec in allCodecs {
            for (name, payload) in Payloads.all {
                let compressed = try KafkaCodecs.compress(codec, payload)
                let back = try KafkaCodecs.decompress(codec, compressed, maxOutput: payload.count)
                XCTAssertEqual(back, payload, "\(codec) \(name) (seed \(testSeed))")
                if codec != .none && name == "text" {
                    XCTAssertLessThan(compressed.count, payload.count / 3, "\(codec) barely compresses log lines")
                }
            }
        }
    }

    func testLevelsRoundTripAndOutOfRangeLevelsThrow() throws {
        let payload = Payloads.logLines(bytes: 100_000, seed: testSeed)
        let levels: [KafkaCompression: [Int]] = [
            .gzip: [-1, 0, 1, 9], .lz4: [-5, 0, 1, 9, 12, 17], .zstd: [-5, 1, 3, 19], .snappy: [7], .none: [7],
        ]
        for (codec, list) in levels {
            for level in list {
                let compressed = try KafkaCodecs.compress(codec, payload, level: level)
                XCTAssertEqual(try KafkaCodecs.decompress(codec, compressed, maxOutput: payload.count), payload,
                               "\(codec) level \(level)")
            }
        }
        for (codec, level) in [(KafkaCompression.gzip, 10), (.gzip, -2), (.zstd, 1000)] {
            XCTAssertThrowsError(try KafkaCodecs.compress(codec, payload, level: level)) { error in
                guard case .invalidLevel(level, _)? = compressionError(error)?.problem else {
                    return XCTFail("\(codec) level \(level): \(error)")
                }
                XCTAssertTrue("\(error)".hasPrefix("\(codec): compression level \(level) is outside"), "\(error)")
            }
        }
        XCTAssertNil(KafkaCodecs.levels(.snappy))
        XCTAssertEqual(KafkaCodecs.levels(.gzip), -1...9)
    }

    /// The first bytes are what Java, librdkafka and kafka-python expect of each codec.
    func testFramings() throws {
        let gzip = try KafkaCodecs.compress(.gzip, Payloads.small)
        XCTAssertEqual(Array(gzip.prefix(3)), [0x1F, 0x8B, 8], "gzip magic and deflate method")

        // xerial: magic, version 1, compatible version 1, then int32 length + raw block per 32 KiB.
        let snappy = try KafkaCodecs.compress(.snappy, Payloads.random)
        XCTAssertEqual(Array(snappy.prefix(16)),
                       [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1])
        var blocks = 0
        var offset = 16
        while offset < snappy.count {
            let length = snappy[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            offset += 4 + length
            blocks += 1
        }
        XCTAssertEqual(offset, snappy.count, "blocks tile the stream")
        XCTAssertEqual(blocks, Payloads.random.count / (32 << 10), "one block per 32 KiB")
        XCTAssertEqual(try KafkaCodecs.compress(.snappy, Payloads.empty).count, 16, "empty: the header alone")

        // lz4 frame: magic 0x184D2204 (LE), FLG 0x60 (version 01, independent blocks, no
        // checksums or size), BD 0x40 (64 KiB blocks), then the header checksum.
        let lz4 = try KafkaCodecs.compress(.lz4, Payloads.small)
        XCTAssertEqual(Array(lz4.prefix(6)), [0x04, 0x22, 0x4D, 0x18, 0x60, 0x40])
        XCTAssertEqual(lz4[6], headerChecksum(lz4[4..<6]), "KIP-57: xxh32 of the descriptor alone")

        let zstd = try KafkaCodecs.compress(.zstd, Payloads.small)
        XCTAssertEqual(Array(zstd.prefix(4)), [0x28, 0xB5, 0x2F, 0xFD], "zstd frame magic")

        XCTAssertEqual(try KafkaCodecs.compress(.none, Payloads.small), Payloads.small)
    }

    func testGzipReadsConcatenatedMembers() throws {
        let a = Payloads.logLines(bytes: 70_000, seed: 1)
        let b = Payloads.logLines(bytes: 5_000, seed: 2)
        let joined = try KafkaCodecs.compress(.gzip, a) + KafkaCodecs.compress(.gzip, b) + KafkaCodecs.compress(.gzip, [])
        XCTAssertEqual(try KafkaCodecs.decompress(.gzip, joined, maxOutput: 1 << 20), a + b)
    }

    func testSnappyReadsRawBlocksAndConcatenatedXerialStreams() throws {
        // A raw block written by hand: varint length 12, one literal of 12 bytes (tag (12-1) << 2).
        let raw: [UInt8] = [12, 11 << 2] + Array("hello, kafka".utf8)
        XCTAssertEqual(try KafkaCodecs.decompress(.snappy, raw, maxOutput: 100), Payloads.small)
        XCTAssertEqual(try KafkaCodecs.decompress(.snappy, [0], maxOutput: 100), [], "the empty raw block")

        let a = Payloads.logLines(bytes: 40_000, seed: 3)
        let joined = try KafkaCodecs.compress(.snappy, a) + KafkaCodecs.compress(.snappy, Payloads.small)
        XCTAssertEqual(try KafkaCodecs.decompress(.snappy, joined, maxOutput: 1 << 20), a + Payloads.small)
    }

    func testLZ4AndZstdReadConcatenatedFrames() throws {
        let a = Payloads.logLines(bytes: 100_000, seed: 4)
        for codec in [KafkaCompression.lz4, .zstd] {
            let joined = try KafkaCodecs.compress(codec, a) + KafkaCodecs.compress(codec, Payloads.small)
            XCTAssertEqual(try KafkaCodecs.decompress(codec, joined, maxOutput: 1 << 20), a + Payloads.small, "\(codec)")
        }
    }

    func testByteBufferAndAppendingForms() throws {
        for codec in allCodecs {
            var input = ByteBuffer(bytes: [9, 9, 9])
            input.moveReaderIndex(forwardBy: 3)  // only the readable bytes count
            input.writeBytes(Payloads.text.prefix(50_000))
            let compressed = try KafkaCodecs.compress(codec, input)
            XCTAssertEqual(try KafkaCodecs.decompress(codec, compressed, maxOutput: 50_000).bytes,
                           Array(Payloads.text.prefix(50_000)), "\(codec)")

            var out = ByteBuffer(bytes: [1, 2, 3])
            try compressed.withUnsafeReadableBytes {
                try KafkaCodecs.decompress(codec, $0, maxOutput: 50_000, into: &out)
            }
            XCTAssertEqual(out.bytes, [1, 2, 3] + Payloads.text.prefix(50_000), "\(codec) appends after what is there")
        }
    }

    /// The LZ4 frame header checksum: the second byte of xxh32(descriptor, seed 0).
    private func headerChecksum(_ descriptor: ArraySlice<UInt8>) -> UInt8 {
        // xxh32 for inputs under 16 bytes.
        let p1: UInt32 = 2_654_435_761, p2: UInt32 = 2_246_822_519, p3: UInt32 = 3_266_489_917
        let p5: UInt32 = 374_761_393
        var h = p5 &+ UInt32(descriptor.count)
        for byte in descriptor {
            h = h &+ UInt32(byte) &* p5
            h = ((h << 11) | (h >> 21)) &* p1
        }
        h ^= h >> 15
        h = h &* p2
        h ^= h >> 13
        h = h &* p3
        h ^= h >> 16
        return UInt8(truncatingIfNeeded: h >> 8)
    }
}
