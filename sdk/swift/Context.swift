import SluiceABI

public enum LogLevel: UInt32, Sendable {
    case trace = 0, debug, info, warn, error
}

/// A counter or gauge owned by the host.
public struct Metric: @unchecked Sendable {
    @usableFromInline let host: UnsafePointer<sluice_host_api>
    @usableFromInline let handle: OpaquePointer?

    /// Adds to a counter. Any thread, lock-free.
    @inlinable public func add(_ delta: Int64 = 1) { host.pointee.metric_add(handle, delta) }
    /// Sets a gauge. Any thread, lock-free.
    @inlinable public func set(_ value: Int64) { host.pointee.metric_set(handle, value) }
}

/// A batch owned by a source: created through the host, freed when released.
public final class OwnedBatch {
    @usableFromInline let raw: UnsafeMutablePointer<sluice_batch>
    @usableFromInline let host: UnsafePointer<sluice_host_api>

    init(raw: UnsafeMutablePointer<sluice_batch>, host: UnsafePointer<sluice_host_api>) {
        self.raw = raw
        self.host = host
    }

    deinit { host.pointee.batch_free(raw) }

    public var events: MutableBatch { MutableBatch(raw, host: host) }
    public var count: Int { raw.pointee.count }
    public var isEmpty: Bool { raw.pointee.count == 0 }
    public func clear() { host.pointee.batch_clear(raw) }

    /// Appends an event; raw bytes, no headers: the fast path for sources.
    @inlinable public func append(body: UnsafeRawBufferPointer) throws {
        let s = host.pointee.batch_append(raw, body.baseAddress?.assumingMemoryBound(to: UInt8.self), body.count, nil, 0)
        if s != SLUICE_OK { throw SluiceError(.noMemory, "batch_append failed") }
    }

    public func append(body: String, headers: [(String, String)] = []) throws {
        try events.append(body: body, headers: headers)
    }
}

/// What submitting a batch to the channel processor did.
public enum SubmitResult: Sendable {
    /// Committed to every required channel; the batch is empty again.
    case committed
    /// A channel was full; nothing committed, the batch holds its events: retry later.
    case channelFull(String)
}

/// The host services available to one component instance. Valid until the
/// component is destroyed.
public final class ComponentContext: @unchecked Sendable {
    public let host: UnsafePointer<sluice_host_api>
    public let handle: OpaquePointer

    init(host: UnsafePointer<sluice_host_api>, handle: OpaquePointer) {
        self.host = host
        self.handle = handle
    }

    /// The component's name in the config ("r1").
    public var name: String { String(cString: host.pointee.component_name(handle)!) }
    /// The agent's name ("a1").
    public var agentName: String { String(cString: host.pointee.agent_name(handle)!) }
    /// True once the host has begun stopping this component.
    public var isStopping: Bool { host.pointee.is_stopping(handle) != 0 }

    public func log(_ level: LogLevel, _ message: String) {
        var m = message
        m.withUTF8 { b in
            b.withMemoryRebound(to: CChar.self) { c in
                host.pointee.log(handle, sluice_log_level(level.rawValue), c.baseAddress, c.count)
            }
        }
    }

    public func counter(_ name: String) -> Metric {
        Metric(host: host, handle: host.pointee.metric(handle, name, SLUICE_METRIC_COUNTER))
    }

    public func gauge(_ name: String) -> Metric {
        Metric(host: host, handle: host.pointee.metric(handle, name, SLUICE_METRIC_GAUGE))
    }

    // MARK: Sources

    public func newBatch(capacity: Int = 100) -> OwnedBatch {
        OwnedBatch(raw: host.pointee.batch_new(handle, capacity)!, host: host)
    }

    /// Hands a batch to the channel processor. Throws on errors other than
    /// a full channel.
    public func submit(_ batch: OwnedBatch) throws -> SubmitResult {
        var err = sluice_error()
        let s = host.pointee.source_submit(handle, batch.raw, &err)
        switch s {
        case sluice_status(SLUICE_OK): return .committed
        case sluice_status(SLUICE_BACKOFF): return .channelFull(readMessage(&err))
        default: throw SluiceError(SluiceError.Code(rawValue: s) ?? .generic, readMessage(&err))
        }
    }

    // MARK: Sinks

    /// Takes up to `max` events inside the sink's transaction. An empty view
    /// means the channel had nothing.
    public func take(max: Int) throws -> EventBatchView {
        var err = sluice_error()
        var out: UnsafePointer<sluice_batch>?
        let s = host.pointee.sink_take(handle, max, &out, &err)
        if s < 0 { throw SluiceError(SluiceError.Code(rawValue: s) ?? .generic, readMessage(&err)) }
        guard let out else { throw SluiceError(.state, "sink_take returned no batch") }
        return EventBatchView(out)
    }

    /// Commits the open take transaction.
    public func commit() throws {
        var err = sluice_error()
        let s = host.pointee.sink_commit(handle, &err)
        if s != SLUICE_OK { throw SluiceError(SluiceError.Code(rawValue: s) ?? .generic, readMessage(&err)) }
    }

    /// Rolls the open take transaction back: its events return to the channel.
    public func rollback() { host.pointee.sink_rollback(handle) }
}

/// Headers converted to bytes once (e.g. at configure time) and attached to
/// many events without per-event conversion. Immutable; its memory lives as
/// long as the object.
public final class HeaderSet: @unchecked Sendable {
    let headers: UnsafeMutablePointer<sluice_header>
    public let count: Int
    private let storage: UnsafeMutableRawPointer

    public init(_ pairs: [(String, String)]) {
        let total = pairs.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count }
        storage = .allocate(byteCount: max(1, total), alignment: 1)
        headers = .allocate(capacity: max(1, pairs.count))
        count = pairs.count
        var at = 0
        for (i, (k, v)) in pairs.enumerated() {
            let kp = storage + at
            for (j, b) in k.utf8.enumerated() { (kp + j).storeBytes(of: b, as: UInt8.self) }
            at += k.utf8.count
            let vp = storage + at
            for (j, b) in v.utf8.enumerated() { (vp + j).storeBytes(of: b, as: UInt8.self) }
            at += v.utf8.count
            headers[i] = sluice_header(
                key: sluice_bytes(ptr: UnsafePointer(kp.assumingMemoryBound(to: UInt8.self)), len: k.utf8.count),
                value: sluice_bytes(ptr: UnsafePointer(vp.assumingMemoryBound(to: UInt8.self)), len: v.utf8.count))
        }
    }

    deinit {
        headers.deallocate()
        storage.deallocate()
    }
}

extension OwnedBatch {
    /// Appends an event with prepared headers: the fast path for sources
    /// that stamp the same headers on many events.
    public func append(body: UnsafeRawBufferPointer, headers: HeaderSet) throws {
        let s = host.pointee.batch_append(raw, body.baseAddress?.assumingMemoryBound(to: UInt8.self), body.count,
                                          headers.headers, headers.count)
        if s != SLUICE_OK { throw SluiceError(.noMemory, "batch_append failed") }
    }
}
