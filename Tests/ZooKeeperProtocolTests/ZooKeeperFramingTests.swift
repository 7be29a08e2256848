import NIOCore
import NIOEmbedded
import XCTest
import ZooKeeperProtocol

/// The client-port frame decoder gives the same packets whether the bytes
/// arrive one at a time, all at once or in random splits (seeded); a
/// four-letter word counts only as a connection's first bytes; a length
/// beyond jute.maxbuffer or below zero is an error.
final class ZooKeeperFramingTests: XCTestCase {
    let words: Set<String> = ["ruok", "mntr", "srvr"]

    func stream(_ payloads: [[UInt8]]) -> [UInt8] {
        payloads.flatMap { p -> [UInt8] in
            withUnsafeBytes(of: UInt32(p.count).bigEndian, Array.init) + p
        }
    }

    func decode(_ bytes: [UInt8], splits: [Int], maxBuffer: Int = 4096) throws -> [ZooKeeperInbound] {
        let ch = EmbeddedChannel(handler: ByteToMessageHandler(ZooKeeperFrameDecoder(maxBuffer: maxBuffer, words: words)))
        var start = 0
        for end in splits + [bytes.count] where end > start {
            try ch.writeInbound(ByteBuffer(bytes: bytes[start..<end]))
            start = end
        }
        var out: [ZooKeeperInbound] = []
        while let v = try ch.readInbound(as: ZooKeeperInbound.self) { out.append(v) }
        _ = try? ch.finish()
        return out
    }

    func testSplitsDoNotChangeThePackets() throws {
        let payloads: [[UInt8]] = [Array(0..<44), [], Array(repeating: 7, count: 3000), [1, 2, 3]]
        let bytes = stream(payloads)
        let expected = payloads.map { ZooKeeperInbound.packet(ByteBuffer(bytes: $0)) }
        XCTAssertEqual(try decode(bytes, splits: []), expected)
        XCTAssertEqual(try decode(bytes, splits: Array(1..<bytes.count)), expected, "one byte at a time")
        let seed = UInt64(ProcessInfo.processInfo.environment["FRAMING_SEED"] ?? "") ?? 20261125
        var rng = SplitMix(seed)
        for round in 0..<50 {
            let cuts = (0..<Int(rng.next() % 12)).map { _ in Int(rng.next() % UInt64(bytes.count)) }.sorted()
            XCTAssertEqual(try decode(bytes, splits: cuts), expected, "seed \(seed) round \(round) cuts \(cuts)")
        }
    }

    func testFourLetterWordOnlyFirst() throws {
        XCTAssertEqual(try decode(Array("ruok".utf8), splits: [2]), [.fourLetterWord("ruok")])
        // After a packet, the same bytes are a length (0x72756f6b: far too large).
        let bytes = stream([[9]]) + Array("ruok".utf8)
        XCTAssertThrowsError(try decode(bytes, splits: [])) { e in
            XCTAssertEqual(e as? PacketTooLarge, PacketTooLarge(length: 0x7275_6f6b, limit: 4096))
        }
    }

    func testLengthBeyondMaxBufferOrNegativeIsAnError() {
        XCTAssertThrowsError(try decode([0, 0, 0x10, 1], splits: [])) { e in
            XCTAssertEqual((e as? PacketTooLarge)?.length, 4097)
            XCTAssertTrue("\(e)".contains("jute.maxbuffer (4096)"))
        }
        XCTAssertThrowsError(try decode([0xff, 0xff, 0xff, 0xfe], splits: []))
        XCTAssertEqual(try decode(stream([Array(repeating: 1, count: 4096)]), splits: [100]).count, 1, "exactly the limit is fine")
    }
}
