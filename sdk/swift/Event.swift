import SluiceABI

/// A read-only view of one event. Valid only while the batch it came from is
/// unchanged (see the ownership rules in sluice_plugin.h); copy out what you keep.
public struct Event {
    @usableFromInline let raw: sluice_event

    @inlinable init(_ raw: sluice_event) { self.raw = raw }

    /// The body bytes, borrowed from the batch.
    @inlinable public var body: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: raw.body.ptr, count: raw.body.len)
    }

    /// The body decoded as UTF-8 (invalid sequences replaced).
    public var bodyString: String { String(decoding: body, as: UTF8.self) }

    public var headerCount: Int { Int(raw.header_count) }

    /// Header `index` (< headerCount) as borrowed bytes, without copying.
    @inlinable
    public func header(at index: Int) -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        let h = raw.headers![index]
        return (UnsafeRawBufferPointer(start: h.key.ptr, count: h.key.len),
                UnsafeRawBufferPointer(start: h.value.ptr, count: h.value.len))
    }

    /// The value of header `key`, or nil.
    public func header(_ key: String) -> String? {
        var k = key
        return k.withUTF8 { kb -> String? in
            guard let v = headerBytes(kb) else { return nil }
            return String(decoding: v, as: UTF8.self)
        }
    }

    /// The value bytes of header `key` (borrowed), or nil.
    public func headerBytes(_ key: UnsafeBufferPointer<UInt8>) -> UnsafeRawBufferPointer? {
        guard let hs = raw.headers else { return nil }
        for i in 0..<Int(raw.header_count) {
            let h = hs[i]
            if h.key.len == key.count, key.count == 0 || memcmpEqual(h.key.ptr, key.baseAddress!, key.count) {
                return UnsafeRawBufferPointer(start: h.value.ptr, count: h.value.len)
            }
        }
        return nil
    }

    /// All headers as Swift strings (copies).
    public var headers: [(key: String, value: String)] {
        guard let hs = raw.headers else { return [] }
        return (0..<Int(raw.header_count)).map { i in
            let h = hs[i]
            return (String(decoding: UnsafeRawBufferPointer(start: h.key.ptr, count: h.key.len), as: UTF8.self),
                    String(decoding: UnsafeRawBufferPointer(start: h.value.ptr, count: h.value.len), as: UTF8.self))
        }
    }
}

@inline(__always)
func memcmpEqual(_ a: UnsafePointer<UInt8>?, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    guard let a else { return false }
    for i in 0..<n where a[i] != b[i] { return false }
    return true
}

/// A batch a sink took from its channel: read-only, valid until the sink
/// commits or rolls back.
public struct EventBatchView: RandomAccessCollection {
    @usableFromInline let raw: UnsafePointer<sluice_batch>

    init(_ raw: UnsafePointer<sluice_batch>) { self.raw = raw }

    public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { raw.pointee.count }
    @inlinable public subscript(i: Int) -> Event { Event(raw.pointee.events[i]) }
}

/// A batch that an interceptor edits in place, or a source fills before
/// submitting. Changes copy bytes into the batch through the host.
public struct MutableBatch: RandomAccessCollection {
    @usableFromInline let raw: UnsafeMutablePointer<sluice_batch>
    @usableFromInline let host: UnsafePointer<sluice_host_api>

    init(_ raw: UnsafeMutablePointer<sluice_batch>, host: UnsafePointer<sluice_host_api>) {
        self.raw = raw
        self.host = host
    }

    public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { raw.pointee.count }
    @inlinable public subscript(i: Int) -> Event { Event(raw.pointee.events[i]) }

    /// Appends an event (body and headers are copied).
    public func append(body: UnsafeRawBufferPointer, headers: [(String, String)] = []) throws {
        let status: sluice_status
        if headers.isEmpty {
            status = host.pointee.batch_append(raw, body.baseAddress?.assumingMemoryBound(to: UInt8.self), body.count, nil, 0)
        } else {
            status = withHeaderArray(headers) { hs in
                host.pointee.batch_append(raw, body.baseAddress?.assumingMemoryBound(to: UInt8.self), body.count, hs.baseAddress, hs.count)
            }
        }
        if status != SLUICE_OK { throw SluiceError(.noMemory, "batch_append failed") }
    }

    public func append(body: String, headers: [(String, String)] = []) throws {
        var b = body
        try b.withUTF8 { try append(body: UnsafeRawBufferPointer($0), headers: headers) }
    }

    /// Sets (or replaces) header `key` of event `index`.
    public func setHeader(_ index: Int, _ key: String, _ value: String) {
        var k = key, v = value
        k.withUTF8 { kb in
            v.withUTF8 { vb in
                _ = host.pointee.event_set_header(raw, index, kb.baseAddress, kb.count, vb.baseAddress, vb.count)
            }
        }
    }

    /// Sets header `key` of event `index` from raw bytes.
    public func setHeader(_ index: Int, key: UnsafeBufferPointer<UInt8>, value: UnsafeRawBufferPointer) {
        _ = host.pointee.event_set_header(raw, index, key.baseAddress, key.count,
                                          value.baseAddress?.assumingMemoryBound(to: UInt8.self), value.count)
    }

    /// Removes header `key`; returns whether it was present.
    @discardableResult
    public func removeHeader(_ index: Int, _ key: String) -> Bool {
        var k = key
        return k.withUTF8 { kb in
            host.pointee.event_remove_header(raw, index, kb.baseAddress, kb.count) == SLUICE_OK
        }
    }

    /// Replaces the body of event `index`.
    public func setBody(_ index: Int, _ body: UnsafeRawBufferPointer) {
        _ = host.pointee.event_set_body(raw, index, body.baseAddress?.assumingMemoryBound(to: UInt8.self), body.count)
    }

    public func setBody(_ index: Int, _ body: String) {
        var b = body
        b.withUTF8 { setBody(index, UnsafeRawBufferPointer($0)) }
    }

    /// Drops every event for which `shouldRemove` is true, keeping the order
    /// of the rest. One pass, no per-event host call.
    public func removeAll(where shouldRemove: (Event) throws -> Bool) rethrows {
        let n = raw.pointee.count
        guard n > 0, let events = raw.pointee.events else { return }
        var kept = 0
        for i in 0..<n {
            let e = events[i]
            if try !shouldRemove(Event(e)) {
                if kept != i { events[kept] = e }
                kept += 1
            }
        }
        raw.pointee.count = kept
    }

    /// Drops every event (by lowering the count, as interceptors must).
    public func removeAll() { raw.pointee.count = 0 }
}

func withHeaderArray<R>(_ headers: [(String, String)], _ body: (UnsafeBufferPointer<sluice_header>) -> R) -> R {
    // Flatten into one byte buffer so every pointer stays valid for the call.
    var bytes: [UInt8] = []
    var spans: [(Int, Int, Int, Int)] = []
    for (k, v) in headers {
        let ks = bytes.count; bytes.append(contentsOf: k.utf8)
        let vs = bytes.count; bytes.append(contentsOf: v.utf8)
        spans.append((ks, k.utf8.count, vs, v.utf8.count))
    }
    return bytes.withUnsafeBufferPointer { buf in
        let base = buf.baseAddress
        let hs = spans.map { s in
            sluice_header(key: sluice_bytes(ptr: base.map { $0 + s.0 }, len: s.1),
                          value: sluice_bytes(ptr: base.map { $0 + s.2 }, len: s.3))
        }
        return hs.withUnsafeBufferPointer { body($0) }
    }
}
