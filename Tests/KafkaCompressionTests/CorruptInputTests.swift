import KafkaCompression
import KafkaProtocol
import NIOCore
import XCTest

/// Bad input ends in a KafkaCompressionError that names the codec, never in a trap.
final class CorruptInputTests: XCTestCase {
    private let payload = Payloads.logLines(bytes: 3_000, seed: testSeed)

    func testEveryProperPrefixIsTruncatedOrCorrupt() throws {
        for codec in realCodecs {
            let compressed = try KafkaCodecs.compress(codec, payload)
            for length in 0..<compressed.count {
                // Cut right after the xerial header, a snappy stream is complete (and empty).
                if codec == .snappy && length == 16 { continue }
                XCTAssertThrowsError(try KafkaCodecs.decompress(codec, Array(compressed.prefix(length)), maxOutput: 1 << 20),
                                     "\(codec) cut to \(length) of \(compressed.count) bytes") { error in
                    guard let e = compressionError(error) else { return }
                    XCTAssertEqual(e.codec, codec)
                    switch e.problem {
                    case .truncated, .corrupt: break
                    default: XCTFail("\(codec) cut to \(length): \(e)")
                    }
                }
            }
        }
    }

    /// Flipped bits and random garbage: an error or some output within the limit, never a
    /// trap. (Not every flip is detectable: gzip's header timestamp is not checked, and
    /// snappy and checksum-less lz4 frames can decode to other bytes.)
    func testFlippedBitsAndGarbageNeverTrap() throws {
        var rng = SeededRandom(seed: testSeed)
        for codec in realCodecs {
            let compressed = try KafkaCodecs.compress(codec, payload)
            var detected = 0
            for trial in 0..<300 {
                var damaged = compressed
                for _ in 0...(trial % 3) {
                    damaged[Int(rng.next() % UInt64(damaged.count))] ^= UInt8(1 << (rng.next() % 8))
                }
                do {
                    let out = try KafkaCodecs.decompress(codec, damaged, maxOutput: 10_000)
                    XCTAssertLessThanOrEqual(out.count, 10_000)
                } catch {
                    XCTAssertEqual(compressionError(error)?.codec, codec)
                    detected += 1
                }
            }
            XCTAssertGreaterThan(detected, 0, "\(codec): no damage detected (seed \(testSeed))")
            for length in [1, 7, 16, 100, 5_000] {
                let garbage = rng.bytes(length)
                do {
                    _ = try KafkaCodecs.decompress(codec, garbage, maxOutput: 10_000)
                } catch {
                    XCTAssertEqual(compressionError(error)?.codec, codec, "\(codec) garbage of \(length) bytes")
                }
            }
        }
    }

    func testGzipErrors() throws {
        assertCorrupt(.gzip, Array("not gzip at all".utf8), mentioning: "incorrect header check")
        var compressed = try KafkaCodecs.compress(.gzip, payload)
        compressed[compressed.count - 6] ^= 0xFF  // the CRC-32 in the trailer
        assertCorrupt(.gzip, compressed, mentioning: "incorrect data check")
        let trailing = try KafkaCodecs.compress(.gzip, payload) + [0, 0, 0, 0]
        assertCorrupt(.gzip, trailing, mentioning: "after gzip member 1")
    }

    func testSnappyErrors() throws {
        let header: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]
        assertCorrupt(.snappy, header + [0xFF, 0xFF, 0xFF, 0xF0, 1, 2], mentioning: "negative xerial block length")
        assertProblem(.snappy, header + [0, 0, 1, 0, 1, 2, 3], .truncated)
        assertProblem(.snappy, header + [0, 0], .truncated)
        assertCorrupt(.snappy, header + [0, 0, 0, 0], mentioning: "empty snappy block")
        assertCorrupt(.snappy, [], mentioning: "empty snappy block")
        // A raw block that claims 100 bytes and holds 3.
        assertCorrupt(.snappy, [100, 2 << 2, 1, 2, 3], mentioning: "does not decode")
        assertCorrupt(.snappy, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], mentioning: "valid length")
    }

    func testLZ4Errors() throws {
        var compressed = try KafkaCodecs.compress(.lz4, payload)
        compressed[6] ^= 0x01  // the header checksum
        assertCorrupt(.lz4, compressed, mentioning: "headerChecksum")
        assertCorrupt(.lz4, [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08], mentioning: "frameType_unknown")
        assertProblem(.lz4, [], .truncated)
        let trailing = try KafkaCodecs.compress(.lz4, payload) + [0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF, 0x11, 0x22]
        assertCorrupt(.lz4, trailing, mentioning: "frameType_unknown")
    }

    func testZstdErrors() throws {
        assertCorrupt(.zstd, Array("definitely not zstd".utf8), mentioning: "Unknown frame descriptor")
        assertProblem(.zstd, [], .truncated)
        let trailing = try KafkaCodecs.compress(.zstd, payload) + Array("trailing bytes".utf8)
        assertCorrupt(.zstd, trailing, mentioning: "Unknown frame descriptor")
    }

    func testErrorDescriptionsNameTheCodec() {
        for codec in realCodecs {
            XCTAssertThrowsError(try KafkaCodecs.decompress(codec, [0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42],
                                                            maxOutput: 100)) { error in
                XCTAssertTrue("\(error)".hasPrefix("\(codec): "), "\(error)")
            }
        }
    }

    private func assertCorrupt(_ codec: KafkaCompression, _ input: [UInt8], mentioning text: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try KafkaCodecs.decompress(codec, input, maxOutput: 1 << 20), file: file, line: line) { error in
            guard let e = compressionError(error, file: file, line: line) else { return }
            XCTAssertEqual(e.codec, codec, file: file, line: line)
            guard case .corrupt(let reason) = e.problem else {
                return XCTFail("expected corrupt, got \(e)", file: file, line: line)
            }
            XCTAssertTrue(reason.contains(text), "\(e)", file: file, line: line)
            XCTAssertTrue(e.description.hasPrefix("\(codec): corrupt compressed data: "), e.description, file: file, line: line)
        }
    }

    private func assertProblem(_ codec: KafkaCompression, _ input: [UInt8], _ problem: KafkaCompressionError.Problem,
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try KafkaCodecs.decompress(codec, input, maxOutput: 1 << 20), file: file, line: line) { error in
            XCTAssertEqual(compressionError(error, file: file, line: line), KafkaCompressionError(codec, problem),
                           file: file, line: line)
        }
    }
}

/// The decompression-bomb guard.
final class MaxOutputTests: XCTestCase {
    func testTheLimitIsExact() throws {
        let payload = Payloads.logLines(bytes: 200_000, seed: testSeed)
        for codec in allCodecs {
            let compressed = try KafkaCodecs.compress(codec, payload)
            XCTAssertEqual(try KafkaCodecs.decompress(codec, compressed, maxOutput: payload.count), payload, "\(codec)")
            XCTAssertThrowsError(try KafkaCodecs.decompress(codec, compressed, maxOutput: payload.count - 1)) { error in
                XCTAssertEqual(compressionError(error), KafkaCompressionError(codec, .outputTooLarge(limit: payload.count - 1)))
                XCTAssertEqual("\(error)", "\(codec): decompressed data exceeds the limit of \(payload.count - 1) bytes")
            }
            XCTAssertEqual(try KafkaCodecs.decompress(codec, KafkaCodecs.compress(codec, []), maxOutput: 0), [], "\(codec)")
        }
    }

    /// 64 MiB of zeros against a 1 MiB limit: stops after about the limit, without
    /// allocating the rest.
    func testBombsStopAtTheLimit() throws {
        let zeros = [UInt8](repeating: 0, count: 64 << 20)
        for codec in realCodecs {
            let bomb = try KafkaCodecs.compress(codec, zeros, level: codec == .gzip || codec == .zstd ? 1 : nil)
            var out = ByteBuffer()
            let started = Date()
            XCTAssertThrowsError(try bomb.withUnsafeBytes {
                try KafkaCodecs.decompress(codec, $0, maxOutput: 1 << 20, into: &out)
            }) { error in
                XCTAssertEqual(compressionError(error)?.problem, .outputTooLarge(limit: 1 << 20), "\(codec)")
            }
            XCTAssertLessThanOrEqual(out.capacity, 4 << 20, "\(codec) allocated far past the limit")
            XCTAssertLessThan(Date().timeIntervalSince(started), 5, "\(codec) kept going past the limit")
        }
    }

    /// A raw snappy block states its size up front; one claiming 2 GiB is refused before
    /// any allocation.
    func testSnappyDeclaredSizeIsCheckedFirst() {
        let claim: [UInt8] = [0x80, 0x80, 0x80, 0x80, 0x08, 0x00]  // varint 2^31
        var out = ByteBuffer()
        XCTAssertThrowsError(try claim.withUnsafeBytes {
            try KafkaCodecs.decompress(.snappy, $0, maxOutput: 1 << 20, into: &out)
        }) { error in
            XCTAssertEqual(compressionError(error)?.problem, .outputTooLarge(limit: 1 << 20))
        }
        XCTAssertLessThan(out.capacity, 1 << 20)
    }
}
