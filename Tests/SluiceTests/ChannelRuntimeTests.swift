import SluiceABI
@testable import SluiceRuntime
import XCTest

/// The memory channel and the channel processor, in process, with events
/// built through the same HostBatch the ABI hands to plugins.
final class ChannelRuntimeTests: XCTestCase {
    let registry = MetricsRegistry()

    func channel(_ name: String, capacity: Int, txn: Int, extra: [String: String] = [:]) throws -> MemoryChannel {
        var p = ["capacity": "\(capacity)", "transactionCapacity": "\(txn)", "keep-alive": "0"]
        for (k, v) in extra { p[k] = v }
        return try MemoryChannel(name: name, properties: p, metrics: registry.group(category: "CHANNEL", name: name, type: "memory"))
    }

    func batch(_ bodies: [String]) -> HostBatch {
        let b = HostBatch(capacity: bodies.count)
        for s in bodies {
            let bytes = Array(s.utf8)
            XCTAssertEqual(bytes.withUnsafeBufferPointer { b.append(body: $0.baseAddress, length: $0.count, headers: nil, headerCount: 0) }, sluice_status(SLUICE_OK))
        }
        return b
    }

    func bodies(_ raw: UnsafePointer<sluice_batch>) -> [String] {
        (0..<raw.pointee.count).map { i in
            let b = raw.pointee.events[i].body
            return String(decoding: UnsafeRawBufferPointer(start: b.ptr, count: b.len), as: UTF8.self)
        }
    }

    func processor(_ channels: [MemoryChannel], optional: String? = nil) throws -> ChannelProcessor {
        let source = ComponentHandle(name: "r1", agent: "a1", kind: .source,
                                     metrics: registry.group(category: "SOURCE", name: "r1", type: "test"))
        let names = channels.map { $0.name }
        let sel = try ReplicatingSelector(channels: names, properties: optional.map { ["optional": $0] } ?? [:])
        return ChannelProcessor(source: source, channels: channels, interceptors: [], selector: sel)
    }

    func drain(_ c: Channel) throws -> [String] {
        let txn = TakeTransaction(capacity: c.transactionCapacity)
        var out: [String] = []
        while try c.take(into: txn, max: c.transactionCapacity, waitNanos: 0) > 0 {
            out += bodies(UnsafePointer(txn.view))
            try c.commitTake(txn)
        }
        return out
    }

    func testSubmitCommitsToAllRequiredChannelsOrNone() throws {
        let big = try channel("big", capacity: 100, txn: 10)
        let small = try channel("small", capacity: 10, txn: 10)
        let p = try processor([big, small])
        var err = sluice_error()
        // Another source fills 'small' to 5 of 10.
        XCTAssertEqual(try processor([small]).submit(batch(["p1", "p2", "p3", "p4", "p5"]), &err), sluice_status(SLUICE_OK))

        let b = batch(["a", "b", "c", "d", "e", "f"])
        XCTAssertEqual(p.submit(b, &err), sluice_status(SLUICE_BACKOFF), "6 events cannot fit in 'small'")
        XCTAssertEqual(big.size, 0, "nothing may be committed to 'big' when 'small' refused")
        XCTAssertEqual(small.size, 5)
        XCTAssertEqual(bodies(UnsafePointer(b.raw)), ["a", "b", "c", "d", "e", "f"], "the source gets its batch back")
        XCTAssertTrue(readError(&err).contains("channel 'small' is full"), readError(&err))

        let ok = batch(["1", "2", "3"])
        XCTAssertEqual(p.submit(ok, &err), sluice_status(SLUICE_OK))
        XCTAssertEqual(ok.count, 0, "a committed batch is handed back empty")
        XCTAssertEqual(try drain(big), ["1", "2", "3"])
        XCTAssertEqual(try drain(small), ["p1", "p2", "p3", "p4", "p5", "1", "2", "3"])
    }

    func testOptionalChannelFullDoesNotFailSubmit() throws {
        let req = try channel("req", capacity: 100, txn: 10)
        let opt = try channel("opt", capacity: 2, txn: 2)
        let p = try processor([req, opt], optional: "opt")
        var err = sluice_error()
        XCTAssertEqual(p.submit(batch(["a", "b"]), &err), sluice_status(SLUICE_OK))
        XCTAssertEqual(opt.size, 2, "the optional channel takes what fits")
        // Now 'opt' is full: the submit still succeeds for the required channel.
        XCTAssertEqual(p.submit(batch(["x", "y"]), &err), sluice_status(SLUICE_OK))
        XCTAssertEqual(try drain(req), ["a", "b", "x", "y"])
        XCTAssertEqual(try drain(opt), ["a", "b"])
    }

    func testBatchLargerThanTransactionCapacityIsAnError() throws {
        let c = try channel("c", capacity: 100, txn: 2)
        let p = try processor([c])
        var err = sluice_error()
        XCTAssertEqual(p.submit(batch(["1", "2", "3"]), &err), sluice_status(SLUICE_ERR_LIMIT))
        XCTAssertTrue(readError(&err).contains("exceeds transactionCapacity 2"), readError(&err))
        XCTAssertEqual(c.size, 0)
    }

    func testRollbackReturnsEventsToTheHeadInOrder() throws {
        let c = try channel("c", capacity: 100, txn: 10)
        let p = try processor([c])
        var err = sluice_error()
        XCTAssertEqual(p.submit(batch(["1", "2", "3", "4", "5"]), &err), sluice_status(SLUICE_OK))
        let txn = TakeTransaction(capacity: 10)
        XCTAssertEqual(try c.take(into: txn, max: 2, waitNanos: 0), 2)
        XCTAssertEqual(bodies(UnsafePointer(txn.view)), ["1", "2"])
        c.rollbackTake(txn)
        XCTAssertEqual(c.size, 5)
        XCTAssertEqual(try drain(c), ["1", "2", "3", "4", "5"])
    }

    func testRollbackOfPartTakenChunkKeepsOrder() throws {
        let c = try channel("c", capacity: 100, txn: 10)
        let p = try processor([c])
        var err = sluice_error()
        XCTAssertEqual(p.submit(batch(["1", "2", "3"]), &err), sluice_status(SLUICE_OK))
        XCTAssertEqual(p.submit(batch(["4", "5"]), &err), sluice_status(SLUICE_OK))
        let txn = TakeTransaction(capacity: 10)
        XCTAssertEqual(try c.take(into: txn, max: 4, waitNanos: 0), 4, "spans two chunks, leaves one in the second")
        c.rollbackTake(txn)
        XCTAssertEqual(try drain(c), ["1", "2", "3", "4", "5"])
    }

    func testFullChannelRefusesUntilSinkCommits() throws {
        let c = try channel("c", capacity: 4, txn: 4)
        let p = try processor([c])
        var err = sluice_error()
        XCTAssertEqual(p.submit(batch(["1", "2", "3", "4"]), &err), sluice_status(SLUICE_OK))
        XCTAssertEqual(p.submit(batch(["5"]), &err), sluice_status(SLUICE_BACKOFF))
        let txn = TakeTransaction(capacity: 4)
        XCTAssertEqual(try c.take(into: txn, max: 2, waitNanos: 0), 2)
        XCTAssertEqual(p.submit(batch(["5"]), &err), sluice_status(SLUICE_BACKOFF), "taken but uncommitted events still hold their room until commit")
        try c.commitTake(txn)
        XCTAssertEqual(p.submit(batch(["5"]), &err), sluice_status(SLUICE_OK))
        XCTAssertEqual(try drain(c), ["3", "4", "5"])
    }

    func testByteCapacityLimitsBodyBytes() throws {
        // 1000 bytes, 20% buffer → 800 bytes of bodies.
        let c = try channel("c", capacity: 100, txn: 100, extra: ["byteCapacity": "1000"])
        let p = try processor([c])
        var err = sluice_error()
        let body = String(repeating: "x", count: 300)
        XCTAssertEqual(p.submit(batch([body, body]), &err), sluice_status(SLUICE_OK))
        XCTAssertEqual(p.submit(batch([body]), &err), sluice_status(SLUICE_BACKOFF))
        XCTAssertEqual(try drain(c).count, 2)
        XCTAssertEqual(p.submit(batch([body]), &err), sluice_status(SLUICE_OK), "committed takes free their bytes")
    }

    func testInterceptedEventsSurviveInChannelAfterBatchReuse() throws {
        // Event bytes live in the batch's arena; the channel must keep them
        // alive after the source reuses (and refills) its batch.
        let c = try channel("c", capacity: 100, txn: 10)
        let p = try processor([c])
        var err = sluice_error()
        let b = batch(["first", "second"])
        XCTAssertEqual(p.submit(b, &err), sluice_status(SLUICE_OK))
        for s in ["overwrite-1", "overwrite-2"] {
            let bytes = Array(s.utf8)
            _ = bytes.withUnsafeBufferPointer { b.append(body: $0.baseAddress, length: $0.count, headers: nil, headerCount: 0) }
        }
        XCTAssertEqual(try drain(c), ["first", "second"])
    }

    func testSetHeaderIsCopyOnWriteAndRemovable() throws {
        let b = batch(["e"])
        let k = Array("k".utf8), v1 = Array("v1".utf8), v2 = Array("v2".utf8)
        XCTAssertEqual(b.setHeader(0, key: k, keyLength: 1, value: v1, valueLength: 2), sluice_status(SLUICE_OK))
        b.saveOriginals()
        XCTAssertEqual(b.setHeader(0, key: k, keyLength: 1, value: v2, valueLength: 2), sluice_status(SLUICE_OK))
        XCTAssertEqual(b.events[0].header_count, 1, "setting an existing key replaces it")
        b.restoreSaved()
        let h = b.events[0].headers![0].value
        XCTAssertEqual(String(decoding: UnsafeRawBufferPointer(start: h.ptr, count: h.len), as: UTF8.self), "v1",
                       "restoring undoes an interceptor's header change")
        XCTAssertEqual(b.removeHeader(0, key: k, keyLength: 1), sluice_status(SLUICE_OK))
        XCTAssertEqual(b.events[0].header_count, 0)
        XCTAssertEqual(b.removeHeader(0, key: k, keyLength: 1), sluice_status(SLUICE_DECLINED))
    }
}
