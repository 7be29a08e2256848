import Foundation
import KafkaCompression
import KafkaProtocol
import NIOCore
import XCTest

let allCodecs: [KafkaCompression] = [.none, .gzip, .snappy, .lz4, .zstd]
let realCodecs: [KafkaCompression] = [.gzip, .snappy, .lz4, .zstd]

/// SplitMix64: a small seeded generator, so a failing test can be replayed from the seed
/// its message prints.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count + 8)
        while out.count < count {
            withUnsafeBytes(of: next().littleEndian) { out.append(contentsOf: $0) }
        }
        return Array(out.prefix(count))
    }
}

/// The seed of every randomised input; failure messages print it.
let testSeed: UInt64 = 0x5EED_0F_5100_1CE

/// The payloads every codec is tried on.
enum Payloads {
    static let empty: [UInt8] = []
    static let small: [UInt8] = Array("hello, kafka".utf8)

    /// 1 MiB that does not compress.
    static let random: [UInt8] = {
        var rng = SeededRandom(seed: testSeed)
        return rng.bytes(1 << 20)
    }()

    /// 1 MiB of log lines, which compress well.
    static let text: [UInt8] = logLines(bytes: 1 << 20, seed: testSeed)

    static let all: [(name: String, bytes: [UInt8])] = [
        ("empty", empty), ("small", small), ("random", random), ("text", text),
    ]

    static func logLines(bytes: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        let levels = ["INFO", "WARN", "DEBUG", "ERROR"]
        var out: [UInt8] = []
        out.reserveCapacity(bytes + 200)
        while out.count < bytes {
            let line = "2024-05-01T12:\(rng.next() % 60):\(rng.next() % 60).\(rng.next() % 1000)Z "
                + "\(levels[Int(rng.next() % 4)]) [worker-\(rng.next() % 8)] request id=\(rng.next() % 1_000_000) "
                + "path=/api/v1/items/\(rng.next() % 500) status=200 duration_ms=\(rng.next() % 300)\n"
            out.append(contentsOf: line.utf8)
        }
        return Array(out.prefix(bytes))
    }
}

func compressionError(_ error: Error, file: StaticString = #filePath, line: UInt = #line) -> KafkaCompressionError? {
    guard let e = error as? KafkaCompressionError else {
        XCTFail("expected a KafkaCompressionError, got \(type(of: error)): \(error)", file: file, line: line)
        return nil
    }
    return e
}

extension ByteBuffer {
    var bytes: [UInt8] { Array(readableBytesView) }
}
