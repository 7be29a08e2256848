import Foundation
import KafkaLog
import XCTest

/// A record for the test batch builder.
struct TestRecord: Equatable {
    var value: [UInt8]
    var timestamp: Int64
    var key: [UInt8]? = nil

    init(_ value: String, timestamp: Int64 = 1_000) {
        self.value = Array(value.utf8)
        self.timestamp = timestamp
    }
}

/// Builds record batch v2 bytes with real records and a correct CRC-32C.
enum BatchBuilder {
    static func batch(_ records: [TestRecord], baseOffset: Int64 = 0, producerId: Int64 = -1, producerEpoch: Int16 = -1,
                      baseSequence: Int32 = -1, attributes: Int16 = 0, leaderEpoch: Int32 = -1, magic: Int8 = 2) -> [UInt8] {
        precondition(!records.isEmpty)
        let baseTimestamp = records[0].timestamp
        var body: [UInt8] = []
        for (i, r) in records.enumerated() {
            var rec: [UInt8] = [0]  // attributes
            rec += zigzag(r.timestamp - baseTimestamp)
            rec += zigzag(Int64(i))
            if let k = r.key { rec += zigzag(Int64(k.count)) + k } else { rec += zigzag(-1) }
            rec += zigzag(Int64(r.value.count)) + r.value
            rec += zigzag(0)  // headers
            body += zigzag(Int64(rec.count)) + rec
        }
        var out: [UInt8] = []
        out.be(baseOffset)
        out.be(Int32(61 - 12 + body.count))
        out.be(leaderEpoch)
        out.append(UInt8(bitPattern: magic))
        out.be(UInt32(0))  // CRC, filled below
        out.be(attributes)
        out.be(Int32(records.count - 1))
        out.be(baseTimestamp)
        out.be(records.map(\.timestamp).max()!)
        out.be(producerId)
        out.be(producerEpoch)
        out.be(baseSequence)
        out.be(Int32(records.count))
        out += body
        fixCRC(&out, at: 0)
        return out
    }

    /// A batch of `count` records "v<first>"..., all with `timestamp`.
    static func values(_ first: Int, count: Int = 1, timestamp: Int64 = 1_000, producerId: Int64 = -1,
                       producerEpoch: Int16 = -1, baseSequence: Int32 = -1) -> [UInt8] {
        batch((first..<(first + count)).map { TestRecord("v\($0)", timestamp: timestamp) },
              producerId: producerId, producerEpoch: producerEpoch, baseSequence: baseSequence)
    }

    static func fixCRC(_ bytes: inout [UInt8], at position: Int) {
        let length = Int(readBE(bytes, position + 8, Int32.self))
        let crc = bytes.withUnsafeBytes {
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[(position + 21)..<(position + 12 + length)]))
        }
        withUnsafeBytes(of: crc.bigEndian) { for i in 0..<4 { bytes[position + 17 + i] = $0[i] } }
    }

    static func zigzag(_ v: Int64) -> [UInt8] {
        var u = UInt64(bitPattern: (v << 1) ^ (v >> 63))
        var out: [UInt8] = []
        while u >= 0x80 { out.append(UInt8(u & 0x7F) | 0x80); u >>= 7 }
        out.append(UInt8(u))
        return out
    }
}

func readBE<T: FixedWidthInteger>(_ b: [UInt8], _ at: Int, _: T.Type) -> T {
    var v: T = 0
    for i in 0..<MemoryLayout<T>.size { v = (v << 8) | T(truncatingIfNeeded: b[at + i]) }
    return v
}

extension Array where Element == UInt8 {
    mutating func be<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.bigEndian) { append(contentsOf: $0) }
    }
}

/// A decoded batch read back from the log.
struct ReadBatch {
    var header: RecordBatchHeader
    var values: [String]
    var timestamps: [Int64]
    var crcValid: Bool
}

/// Splits bytes into batches and decodes their (uncompressed) records;
/// with `headersOnly` the records are not touched (for fuzzed content).
func decodeBatches(_ bytes: [UInt8], headersOnly: Bool = false, file: StaticString = #filePath, line: UInt = #line) -> [ReadBatch] {
    var out: [ReadBatch] = []
    var p = 0
    while p < bytes.count {
        guard let h = bytes.withUnsafeBytes({ RecordBatchHeader($0, at: p) }), p + h.totalSize <= bytes.count else {
            XCTFail("partial batch at byte \(p) of \(bytes.count)", file: file, line: line)
            break
        }
        let crc = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[(p + 21)..<(p + h.totalSize)])) }
        var values: [String] = []
        var stamps: [Int64] = []
        var q = p + 61
        for _ in 0..<(headersOnly ? 0 : h.recordCount) {
            let len = Int(varint(bytes, &q))
            let end = q + len
            q += 1
            let tsDelta = varint(bytes, &q)
            _ = varint(bytes, &q)
            let kl = Int(varint(bytes, &q)); if kl > 0 { q += kl }
            let vl = Int(varint(bytes, &q))
            values.append(String(decoding: bytes[q..<(q + vl)], as: UTF8.self))
            stamps.append(h.baseTimestamp + tsDelta)
            q = end
        }
        out.append(ReadBatch(header: h, values: values, timestamps: stamps, crcValid: crc == h.crc))
        p += h.totalSize
    }
    return out
}

func varint(_ b: [UInt8], _ p: inout Int) -> Int64 {
    var raw: UInt64 = 0, shift: UInt64 = 0
    while true {
        let byte = b[p]; p += 1
        raw |= UInt64(byte & 0x7F) << shift
        if byte & 0x80 == 0 { break }
        shift += 7
    }
    return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
}

/// A fresh temporary directory per test, removed afterwards.
class LogTestCase: XCTestCase {
    var root: String = ""

    override func setUp() {
        super.setUp()
        root = NSTemporaryDirectory() + "kafkalog-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: root)
        super.tearDown()
    }

    func logDir(_ name: String = "events-0") -> String { root + "/" + name }

    func config(_ edit: (inout LogConfig) -> Void = { _ in }) -> LogConfig {
        var c = LogConfig()
        edit(&c)
        return c
    }

    /// Reads the whole log from `from` with small fetches, as a consumer would.
    func readAll(_ log: PartitionLog, from: Int64? = nil, maxBytes: Int = 700,
                 isolation: ReadIsolation = .logEnd, headersOnly: Bool = false) throws -> [ReadBatch] {
        var next = from ?? log.logStartOffset
        var out: [ReadBatch] = []
        let end = isolation == .logEnd ? log.logEndOffset : log.highWatermark
        while next < end {
            let batches = decodeBatches(try log.readBytes(from: next, maxBytes: maxBytes, isolation: isolation), headersOnly: headersOnly)
            guard let last = batches.last else { XCTFail("empty read at \(next)"); break }
            out += batches
            next = last.header.lastOffset + 1
        }
        return out
    }

    /// Every record value in the log, in offset order, checking offsets are
    /// contiguous and every CRC is valid.
    func allValues(_ log: PartitionLog, file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        var expected = log.logStartOffset
        var values: [String] = []
        for b in try readAll(log) {
            XCTAssertTrue(b.crcValid, "CRC of batch at \(b.header.baseOffset)", file: file, line: line)
            if b.header.baseOffset > expected { XCTFail("gap before \(b.header.baseOffset)", file: file, line: line) }
            expected = b.header.lastOffset + 1
            values += b.values
        }
        return values
    }

    func files(in dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? -1
    }

    func truncateFile(_ path: String, to size: Int) {
        XCTAssertEqual(truncate(path, off_t(size)), 0)
    }

    func patchFile(_ path: String, at offset: Int, _ bytes: [UInt8]) throws {
        let h = try XCTUnwrap(FileHandle(forUpdatingAtPath: path))
        try h.seek(toOffset: UInt64(offset))
        h.write(Data(bytes))
        try h.close()
    }

    func appendToFile(_ path: String, _ bytes: [UInt8]) throws {
        let h = try XCTUnwrap(FileHandle(forUpdatingAtPath: path))
        try h.seekToEnd()
        h.write(Data(bytes))
        try h.close()
    }
}

/// Deterministic generator for seeded tests (SplitMix64).
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The seed for a randomized test: `KAFKALOG_SEED` to replay one, else fresh.
func testSeed() -> UInt64 {
    if let s = ProcessInfo.processInfo.environment["KAFKALOG_SEED"], let v = UInt64(s) { return v }
    return UInt64.random(in: 1...UInt64.max)
}
