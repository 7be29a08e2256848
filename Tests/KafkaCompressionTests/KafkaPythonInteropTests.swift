import Foundation
import KafkaCompression
import KafkaProtocol
import NIOCore
import XCTest

/// Interop with a real Kafka client: kafka-python's codecs (kafka.codec over python-snappy,
/// lz4 and zstandard) and its record batches (kafka.record), both ways. `.ci/run` installs
/// them; these tests fail, not skip, without them.
final class KafkaPythonInteropTests: XCTestCase {
    /// The script runs once for all of these tests.
    private static let exchange = Result { try PythonExchange() }

    private func exchange() throws -> PythonExchange { try Self.exchange.get() }

    override class func tearDown() {
        if case .success(let x) = exchange { try? FileManager.default.removeItem(at: x.dir) }
        super.tearDown()
    }

    func testKafkaPythonDecompressesWhatWeCompress() throws {
        let x = try exchange()
        for codec in realCodecs {
            for (name, payload) in Payloads.all {
                // kafka-python takes a snappy stream for xerial only when it is longer than
                // the 16-byte header, so it misreads the bare header of an empty stream
                // (snappy-java and librdkafka read it). Producers never compress empty batches.
                if codec == .snappy && name == "empty" { continue }
                let stem = "ours-\(codec)-\(name)"
                if let err = try? String(contentsOf: x.file(stem + ".err"), encoding: .utf8) {
                    XCTFail("kafka-python could not decompress our \(codec) \(name): \(err)")
                    continue
                }
                XCTAssertEqual(try x.bytes(stem + ".out"), payload, "\(codec) \(name)")
            }
        }
    }

    func testWeDecompressWhatKafkaPythonCompresses() throws {
        let x = try exchange()
        let forms: [(String, KafkaCompression)] = [
            ("gzip", .gzip), ("gzip2", .gzip), ("snappy", .snappy), ("snappyraw", .snappy),
            ("lz4", .lz4), ("lz4linked", .lz4), ("zstd", .zstd), ("zstdstream", .zstd),
        ]
        for (form, codec) in forms {
            for (name, payload) in Payloads.all {
                let theirs = try x.bytes("theirs-\(form)-\(name).bin")
                XCTAssertEqual(try KafkaCodecs.decompress(codec, theirs, maxOutput: payload.count), payload, "\(form) \(name)")
            }
        }
    }

    func testKafkaPythonReadsOurCompressedBatches() throws {
        let x = try exchange()
        for codec in realCodecs {
            let json = try JSONSerialization.jsonObject(with: Data(x.bytes("batch-\(codec).json")))
            guard let batches = json as? [[String: Any]], batches.count == 1, let batch = batches.first else {
                return XCTFail("\(codec): kafka-python read \(json)")
            }
            XCTAssertEqual(batch["crc_valid"] as? Bool, true, "\(codec)")
            XCTAssertEqual(batch["compression"] as? Int, Int(codec.rawValue))
            let records = batch["records"] as? [[String: Any]] ?? []
            XCTAssertEqual(records.map { $0["offset"] as? Int }, SampleRecord.samples.indices.map { $0 })
            XCTAssertEqual(records.map(SampleRecord.init(json:)), SampleRecord.samples, "\(codec)")
        }
    }

    func testWeReadKafkaPythonCompressedBatches() throws {
        let x = try exchange()
        for codec in realCodecs {
            let batch = try RecordBatch(ByteBuffer(bytes: x.bytes("pybatch-\(codec).bin")))
            XCTAssertNoThrow(try batch.verifyCRC(), "\(codec)")
            XCTAssertEqual(batch.header.attributes.compression, codec)
            let records = try batch.records(maxDecompressedSize: KafkaCodecs.defaultMaxDecompressedSize)
            XCTAssertEqual(records.map(SampleRecord.init), SampleRecord.samples, "\(codec)")
        }
    }
}

/// A directory of inputs for kafka_python_codecs.py, and what it wrote back.
private struct PythonExchange {
    let dir: URL

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-codecs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, payload) in Payloads.all {
            try Data(payload).write(to: file("payload-\(name).bin"))
            for codec in realCodecs {
                try Data(KafkaCodecs.compress(codec, payload)).write(to: file("ours-\(codec)-\(name).bin"))
            }
        }
        for codec in realCodecs {
            try Data(sampleBuilder().build(compression: codec).readableBytesView).write(to: file("batch-\(codec).bin"))
        }
        let records = SampleRecord.samples.map { $0.json }
        try JSONSerialization.data(withJSONObject: records).write(to: file("records.json"))

        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("kafka_python_codecs.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, dir.path]
        _ = FileManager.default.createFile(atPath: file("stderr").path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: file("stderr"))
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let stderr = (try? String(contentsOf: file("stderr"), encoding: .utf8)) ?? ""
            throw ExchangeFailed(description: "python3 \(script.lastPathComponent) \(dir.path) exited "
                                 + "\(process.terminationStatus) (needs kafka-python, python-snappy, lz4, zstandard; "
                                 + "see .ci/run):\n\(stderr)")
        }
    }

    func file(_ name: String) -> URL { dir.appendingPathComponent(name) }

    func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: file(name))) }

    struct ExchangeFailed: Error, CustomStringConvertible {
        var description: String
    }
}

private func hex(_ bytes: [UInt8]?) -> Any {
    guard let bytes else { return NSNull() }
    return bytes.map { String(format: "%02x", $0) }.joined()
}

private func unhex(_ value: Any?) -> [UInt8]? {
    guard let string = value as? String else { return nil }
    var out: [UInt8] = []
    var index = string.startIndex
    while index < string.endIndex {
        let next = string.index(index, offsetBy: 2)
        out.append(UInt8(string[index..<next], radix: 16)!)
        index = next
    }
    return out
}

extension SampleRecord {
    /// The form kafka_python_codecs.py reads and writes: bytes as hex, null as null.
    var json: [String: Any] {
        ["key": hex(key), "value": hex(value), "timestamp": Int(timestamp),
         "headers": headers.map { [$0.0, hex($0.1)] }]
    }

    init(json: [String: Any]) {
        self.init(key: unhex(json["key"]), value: unhex(json["value"]),
                  headers: (json["headers"] as? [[Any]] ?? []).map { ($0[0] as? String ?? "", unhex($0[1])) },
                  timestamp: (json["timestamp"] as? NSNumber)?.int64Value ?? -1)
    }
}
