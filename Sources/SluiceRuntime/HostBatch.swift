import SluiceABI
#if canImport(Glibc)
import Glibc
#endif

/// The host side of a `sluice_batch`: the event array and the arena holding
/// every byte the events point at. `raw.host_private` points back here.
/// One thread at a time (the ABI's rule for batches).
public final class HostBatch {
    let raw: UnsafeMutablePointer<sluice_batch>
    private(set) var arena: Arena
    private var capacity: Int
    /// The events as submitted, kept while interceptors run so a refused
    /// submit can hand the source its original events back.
    private var saved: UnsafeMutablePointer<sluice_event>?
    private var savedCapacity = 0
    private var savedCount = 0

    init(capacity: Int) {
        self.capacity = max(16, capacity)
        arena = Arena(initialBlockSize: min(1 << 20, max(4096, self.capacity * 128)))
        raw = .allocate(capacity: 1)
        raw.initialize(to: sluice_batch(
            struct_size: UInt32(MemoryLayout<sluice_batch>.size), reserved: 0,
            events: .allocate(capacity: self.capacity), count: 0, host_private: nil))
        raw.pointee.host_private = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        raw.pointee.events.deallocate()
        saved?.deallocate()
        raw.deallocate()
    }

    @inline(__always)
    static func from(_ raw: UnsafePointer<sluice_batch>) -> HostBatch {
        Unmanaged<HostBatch>.fromOpaque(raw.pointee.host_private!).takeUnretainedValue()
    }

    var count: Int { raw.pointee.count }
    var events: UnsafeMutablePointer<sluice_event> { raw.pointee.events }

    func clear() {
        raw.pointee.count = 0
        arena = Arena(initialBlockSize: min(1 << 20, max(4096, capacity * 128)))
    }

    private func ensureCapacity(_ n: Int) {
        guard n > capacity else { return }
        let newCap = max(n, capacity * 2)
        let fresh = UnsafeMutablePointer<sluice_event>.allocate(capacity: newCap)
        fresh.update(from: raw.pointee.events, count: raw.pointee.count)
        raw.pointee.events.deallocate()
        raw.pointee.events = fresh
        capacity = newCap
    }

    @inline(__always)
    func append(body: UnsafePointer<UInt8>?, length: Int,
                headers: UnsafePointer<sluice_header>?, headerCount: Int) -> sluice_status {
        let n = raw.pointee.count
        if n == capacity { ensureCapacity(n + 1) }
        var e = sluice_event()
        if length > 0 {
            guard let b = arena.copy(body, length) else { return sluice_status(SLUICE_ERR_NOMEM) }
            e.body = sluice_bytes(ptr: b, len: length)
        }
        if headerCount > 0, let headers {
            guard let hs = copyHeaders(headers, headerCount, extra: 0) else { return sluice_status(SLUICE_ERR_NOMEM) }
            e.headers = UnsafePointer(hs)
            e.header_count = UInt32(headerCount)
        }
        raw.pointee.events[n] = e
        raw.pointee.count = n + 1
        return sluice_status(SLUICE_OK)
    }

    /// Copies headers (and their bytes) into the arena, leaving `extra` free slots.
    private func copyHeaders(_ src: UnsafePointer<sluice_header>, _ n: Int, extra: Int) -> UnsafeMutablePointer<sluice_header>? {
        guard let mem = arena.allocate((n + extra) * MemoryLayout<sluice_header>.stride) else { return nil }
        let hs = mem.bindMemory(to: sluice_header.self, capacity: n + extra)
        for i in 0..<n {
            let h = src[i]
            hs[i] = sluice_header(key: sluice_bytes(ptr: arena.copy(h.key.ptr, h.key.len), len: h.key.len),
                                  value: sluice_bytes(ptr: arena.copy(h.value.ptr, h.value.len), len: h.value.len))
        }
        return hs
    }

    func setHeader(_ index: Int, key: UnsafePointer<UInt8>?, keyLength: Int,
                   value: UnsafePointer<UInt8>?, valueLength: Int) -> sluice_status {
        guard index >= 0, index < raw.pointee.count else { return sluice_status(SLUICE_ERR_STATE) }
        var e = raw.pointee.events[index]
        let n = Int(e.header_count)
        let v = sluice_bytes(ptr: arena.copy(value, valueLength), len: valueLength)
        // Copy-on-write: header arrays may be shared with the saved originals.
        guard let mem = arena.allocate((n + 1) * MemoryLayout<sluice_header>.stride) else { return sluice_status(SLUICE_ERR_NOMEM) }
        let hs = mem.bindMemory(to: sluice_header.self, capacity: n + 1)
        var found = false
        for i in 0..<n {
            var h = e.headers![i]
            if !found, bytesEqual(h.key, key, keyLength) {
                h.value = v
                found = true
            }
            hs[i] = h
        }
        if !found {
            hs[n] = sluice_header(key: sluice_bytes(ptr: arena.copy(key, keyLength), len: keyLength), value: v)
            e.header_count = UInt32(n + 1)
        }
        e.headers = UnsafePointer(hs)
        raw.pointee.events[index] = e
        return sluice_status(SLUICE_OK)
    }

    func removeHeader(_ index: Int, key: UnsafePointer<UInt8>?, keyLength: Int) -> sluice_status {
        guard index >= 0, index < raw.pointee.count else { return sluice_status(SLUICE_ERR_STATE) }
        var e = raw.pointee.events[index]
        let n = Int(e.header_count)
        guard let at = (0..<n).first(where: { bytesEqual(e.headers![$0].key, key, keyLength) }) else {
            return sluice_status(SLUICE_DECLINED)
        }
        guard let mem = arena.allocate(max(1, n - 1) * MemoryLayout<sluice_header>.stride) else { return sluice_status(SLUICE_ERR_NOMEM) }
        let hs = mem.bindMemory(to: sluice_header.self, capacity: max(1, n - 1))
        var j = 0
        for i in 0..<n where i != at {
            hs[j] = e.headers![i]
            j += 1
        }
        e.headers = UnsafePointer(hs)
        e.header_count = UInt32(n - 1)
        raw.pointee.events[index] = e
        return sluice_status(SLUICE_OK)
    }

    func setBody(_ index: Int, body: UnsafePointer<UInt8>?, length: Int) -> sluice_status {
        guard index >= 0, index < raw.pointee.count else { return sluice_status(SLUICE_ERR_STATE) }
        let b = arena.copy(body, length)
        if length > 0 && b == nil { return sluice_status(SLUICE_ERR_NOMEM) }
        raw.pointee.events[index].body = sluice_bytes(ptr: b, len: length)
        return sluice_status(SLUICE_OK)
    }

    // MARK: Submit support

    /// Remembers the current events so `restoreSaved` can undo interceptors.
    func saveOriginals() {
        let n = raw.pointee.count
        if savedCapacity < n {
            saved?.deallocate()
            saved = .allocate(capacity: n)
            savedCapacity = n
        }
        saved!.update(from: raw.pointee.events, count: n)
        savedCount = n
    }

    func restoreSaved() {
        raw.pointee.events.update(from: saved!, count: savedCount)
        raw.pointee.count = savedCount
    }

    /// Undoes `detach` after a failed commit: the batch holds those events
    /// (and their arena) again, so the processor can restore the originals.
    func reattach(_ chunk: EventChunk) {
        raw.pointee.events.update(from: chunk.events, count: chunk.count)
        raw.pointee.count = chunk.count
        arena = chunk.arenas[0]
    }

    /// Moves the events and their arena out into a chunk, leaving this batch
    /// empty with a fresh arena and array. No bytes are copied.
    func detach() -> EventChunk {
        let chunk = EventChunk(events: raw.pointee.events, count: raw.pointee.count, arenas: [arena])
        raw.pointee.events = .allocate(capacity: capacity)
        raw.pointee.count = 0
        arena = Arena(initialBlockSize: min(1 << 20, max(4096, capacity * 128)))
        return chunk
    }
}

@inline(__always)
func bytesEqual(_ a: sluice_bytes, _ b: UnsafePointer<UInt8>?, _ n: Int) -> Bool {
    guard a.len == n else { return false }
    if n == 0 { return true }
    guard let ap = a.ptr, let b else { return false }
    return memcmp(ap, b, n) == 0
}

/// Events handed to a channel: an event array the chunk owns, plus the arenas
/// their bytes live in. Immutable once built; shared by channels that
/// replicate the same events.
final class EventChunk {
    let events: UnsafeMutablePointer<sluice_event>
    let count: Int
    let arenas: [Arena]

    init(events: UnsafeMutablePointer<sluice_event>, count: Int, arenas: [Arena]) {
        self.events = events
        self.count = count
        self.arenas = arenas
    }

    deinit { events.deallocate() }

    /// A new chunk holding the events at `indices` (copies the 40-byte
    /// event structs only).
    func subset(_ indices: [Int]) -> EventChunk {
        let ev = UnsafeMutablePointer<sluice_event>.allocate(capacity: max(1, indices.count))
        for (j, i) in indices.enumerated() { ev[j] = events[i] }
        return EventChunk(events: ev, count: indices.count, arenas: arenas)
    }
}
