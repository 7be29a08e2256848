import Foundation
import SluiceABI
@testable import SluiceRuntime
import XCTest

/// The file channel in process: commits are durable and a new instance on
/// the same directories replays exactly the committed state.
final class FileChannelTests: XCTestCase {
    var dir = ""

    override func setUp() {
        dir = makeTempDir("sluice-fc")
    }

    func channel(_ extra: [String: String] = [:], name: String = "fc") throws -> FileChannel {
        var p = ["checkpointDir": dir + "/checkpoint", "dataDirs": dir + "/data1," + dir + "/data2",
                 "capacity": "10000", "transactionCapacity": "1000", "minimumRequiredSpace": "1048576"]
        for (k, v) in extra { p[k] = v }
        return try FileChannel(name: name, properties: p, metrics: MetricsRegistry().group(category: "CHANNEL", name: name, type: "file"))
    }

    func put(_ c: FileChannel, _ bodies: [String], headers: [(String, String)] = []) throws {
        let b = HostBatch(capacity: bodies.count)
        for s in bodies {
            let bytes = Array(s.utf8)
            let hs = headers.map { ($0.0.utf8CString, $0.1.utf8CString) }
            var hdrs: [sluice_header] = []
            var keep: [[UInt8]] = []
            for (k, v) in headers { keep.append(Array(k.utf8)); keep.append(Array(v.utf8)) }
            _ = hs
            for i in 0..<headers.count {
                keep[2 * i].withUnsafeBufferPointer { kp in
                    keep[2 * i + 1].withUnsafeBufferPointer { vp in
                        hdrs.append(sluice_header(key: sluice_bytes(ptr: kp.baseAddress, len: kp.count),
                                                  value: sluice_bytes(ptr: vp.baseAddress, len: vp.count)))
                    }
                }
            }
            XCTAssertEqual(bytes.withUnsafeBufferPointer { bp in
                hdrs.withUnsafeBufferPointer { b.append(body: bp.baseAddress, length: bp.count, headers: $0.baseAddress, headerCount: $0.count) }
            }, sluice_status(SLUICE_OK))
        }
        guard let r = try c.preparePut(count: bodies.count, bodyBytes: 0, wait: false) else { return XCTFail("channel full") }
        try c.commitPut(r, b.detach())
    }

    func take(_ c: FileChannel, _ max: Int, commit: Bool = true) throws -> [String] {
        let txn = TakeTransaction(capacity: 1000)
        let n = try c.take(into: txn, max: max, waitNanos: 0)
        let out = (0..<n).map { i -> String in
            let b = txn.view.pointee.events[i].body
            return String(decoding: UnsafeRawBufferPointer(start: b.ptr, count: b.len), as: UTF8.self)
        }
        if commit { try c.commitTake(txn) } else { c.rollbackTake(txn) }
        return out
    }

    func dataFiles() -> [String] {
        ["data1", "data2"].flatMap { d in
            ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/" + d)) ?? []).filter { $0.hasPrefix("log-") }.map { dir + "/" + d + "/" + $0 }
        }.sorted()
    }

    func testCommittedStateSurvivesRestartWithoutCheckpoint() throws {
        var c: FileChannel? = try channel(["checkpointOnClose": "false"])
        try c!.start()
        try put(c!, ["a", "b", "c"])
        try put(c!, ["d", "e"])
        XCTAssertEqual(try take(c!, 2), ["a", "b"])
        XCTAssertEqual(try take(c!, 1, commit: false), ["c"], "rolled back: stays in the channel")
        // No checkpoint: as after kill -9, only the log tells.
        c!.close(checkpoint: false)
        c = nil
        let again = try channel(["checkpointOnClose": "false"], name: "fc2")
        try again.start()
        XCTAssertEqual(again.size, 3)
        XCTAssertEqual(try take(again, 10), ["c", "d", "e"])
        again.stop()
    }

    func testHeadersAndBodiesRoundTrip() throws {
        let c = try channel()
        try c.start()
        try put(c, ["body-1", ""], headers: [("host", "h1"), ("ts", "123")])
        c.stop()
        let d = try channel(name: "fc2")
        try d.start()
        let txn = TakeTransaction(capacity: 10)
        XCTAssertEqual(try d.take(into: txn, max: 10, waitNanos: 0), 2)
        let e = txn.view.pointee.events[0]
        XCTAssertEqual(e.header_count, 2)
        let v = e.headers![1].value
        XCTAssertEqual(String(decoding: UnsafeRawBufferPointer(start: v.ptr, count: v.len), as: UTF8.self), "123")
        XCTAssertEqual(txn.view.pointee.events[1].body.len, 0)
        try d.commitTake(txn)
        d.stop()
    }

    func testInFlightTakeAtCrashComesBack() throws {
        var c: FileChannel? = try channel()
        try c!.start()
        try put(c!, ["1", "2", "3"])
        try c!.checkpoint()
        let txn = TakeTransaction(capacity: 10)
        XCTAssertEqual(try c!.take(into: txn, max: 2, waitNanos: 0), 2)
        try c!.checkpoint() // a checkpoint while the take is open
        c!.close(checkpoint: false) // crash before the sink committed
        c = nil
        let d = try channel(name: "fc2")
        try d.start()
        XCTAssertEqual(try take(d, 10), ["1", "2", "3"])
        d.stop()
    }

    func testTornTailIsCutWithWarningAndStateKept() throws {
        var c: FileChannel? = try channel(["checkpointOnClose": "false"])
        try c!.start()
        try put(c!, ["x", "y"])
        c!.close(checkpoint: false)
        c = nil
        let last = dataFiles().last!
        // Half a record, as a write cut short by kill -9 leaves it.
        let h = FileHandle(forWritingAtPath: last)!
        h.seekToEndOfFile()
        h.write(Data([0x50, 1, 0, 0, 0xff, 0, 0, 0, 9, 0, 0, 0]))
        h.closeFile()
        let d = try channel(name: "fc2")
        try d.start()
        XCTAssertEqual(try take(d, 10), ["x", "y"])
        d.stop()
    }

    func testCorruptRecordInTheMiddleStopsTheChannelNamingFileAndOffset() throws {
        var c: FileChannel? = try channel(["checkpointOnClose": "false", "maxFileSize": "65536"])
        try c!.start()
        try put(c!, ["first"])
        try put(c!, ["second"])
        c!.close(checkpoint: false)
        c = nil
        // The first record of the newest data file starts at offset 0.
        let file = dataFiles().max { a, b in
            Int(a.split(separator: "-").last!)! < Int(b.split(separator: "-").last!)!
        }!
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        bytes[LogRecordOffsets.firstPayloadByte] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: file))
        let d = try channel(name: "fc2")
        XCTAssertThrowsError(try d.start()) { e in
            XCTAssertTrue("\(e)".contains("\(file): corrupt record at offset 0: checksum mismatch"), "\(e)")
        }
    }

    func testDrainedDataFilesAreRemoved() throws {
        let c = try channel(["maxFileSize": "65536"])
        try c.start()
        let body = String(repeating: "z", count: 1000)
        for _ in 0..<300 { try put(c, [body]) }
        XCTAssertGreaterThan(dataFiles().count, 3, "300 KB in 64 KB files")
        while try !take(c, 100).isEmpty {}
        try c.checkpoint()
        XCTAssertLessThanOrEqual(dataFiles().count, 2, "only the active file (and possibly its predecessor) remain: \(dataFiles())")
        c.stop()
    }

    func testBelowMinimumRequiredSpacePutsAreRefusedWithAClearError() throws {
        let c = try channel(["minimumRequiredSpace": "\(Int64(1) << 55)"])
        try c.start()
        XCTAssertThrowsError(try c.preparePut(count: 1, bodyBytes: 10, wait: false)) { e in
            XCTAssertTrue(e is ChannelFull, "a passing refusal: the source backs off and retries")
            XCTAssertTrue("\(e)".contains("below minimumRequiredSpace"), "\(e)")
        }
        XCTAssertEqual(c.size, 0)
        c.stop()
    }

    func testDualCheckpointBackupIsUsedWhenMainIsDamaged() throws {
        let extra = ["useDualCheckpoints": "true", "backupCheckpointDir": dir + "/backup", "checkpointOnClose": "true"]
        let c = try channel(extra)
        try c.start()
        try put(c, ["p", "q"])
        c.stop()
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: dir + "/checkpoint/checkpoint"))
        let d = try channel(extra, name: "fc2")
        try d.start()
        XCTAssertEqual(try take(d, 10), ["p", "q"])
        d.stop()
        // Without a backup, a damaged checkpoint is an error, not a guess.
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: dir + "/checkpoint/checkpoint"))
        let e = try channel(name: "fc3")
        XCTAssertThrowsError(try e.start()) { XCTAssertTrue("\($0)".contains("checkpoint"), "\($0)") }
    }

    func testTwoChannelsCannotShareDirectories() throws {
        let c = try channel()
        try c.start()
        let d = try channel(name: "other")
        XCTAssertThrowsError(try d.start()) { XCTAssertTrue("\($0)".contains("is in use by another process"), "\($0)") }
        c.stop()
    }
}

enum LogRecordOffsets {
    /// First payload byte of the first record in a file.
    static let firstPayloadByte = LogRecord.headerSize + 4
}
