import SluiceABI

/// A channel stores events between the sources' commits and the sinks'
/// takes. Puts are two-phase so that one submit can commit to several
/// channels all-or-none: `preparePut` reserves room and may refuse;
/// `commitPut` makes the events durable and visible. Only durable channels'
/// commits can fail, and the channel processor commits those first.
protocol Channel: AnyObject {
    var name: String { get }
    var transactionCapacity: Int { get }
    var metrics: CounterGroup { get }
    /// Whether commits write to disk (and so can fail).
    var isDurable: Bool { get }

    /// Reserves room for `count` events of `bodyBytes`, waiting up to the
    /// channel's keep-alive. Returns nil when the channel stayed full; throws
    /// ChannelFull when it refuses for another passing reason (disk space),
    /// or ChannelError when the put can never succeed.
    func preparePut(count: Int, bodyBytes: Int, wait: Bool) throws -> PutReservation?
    func commitPut(_ reservation: PutReservation, _ chunk: EventChunk) throws
    func abortPut(_ reservation: PutReservation)

    /// Moves up to `max` events into `txn`, waiting up to `waitNanos` when
    /// the channel is empty. Returns how many were taken.
    func take(into txn: TakeTransaction, max: Int, waitNanos: UInt64) throws -> Int
    /// Makes the takes final (durable channels: on disk before returning).
    /// On failure the caller rolls back.
    func commitTake(_ txn: TakeTransaction) throws
    func rollbackTake(_ txn: TakeTransaction)

    /// Number of events stored.
    var size: Int { get }
    /// Opens the channel (durable channels replay their log here).
    func start() throws
    /// Wakes every waiter; later takes return immediately.
    func stop()
}

struct PutReservation {
    let count: Int
    let slots: Int
}

public struct ChannelError: Error, CustomStringConvertible {
    public var description: String
}

/// A refusal that passes: the source backs off and retries the same batch.
struct ChannelFull: Error, CustomStringConvertible {
    var description: String
}

/// A sink's take transaction: the taken events, contiguous, plus whatever
/// keeps their bytes alive. Reused across transactions by one sink.
final class TakeTransaction {
    let buffer: UnsafeMutablePointer<sluice_event>
    let capacity: Int
    var count = 0
    var bodyBytes = 0
    var keepAlive: [Arena] = []
    /// What the sink sees: the events of the latest take call.
    let view: UnsafeMutablePointer<sluice_batch>

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        buffer = .allocate(capacity: self.capacity)
        view = .allocate(capacity: 1)
        view.initialize(to: sluice_batch(struct_size: UInt32(MemoryLayout<sluice_batch>.size), reserved: 0,
                                         events: buffer, count: 0, host_private: nil))
    }

    deinit {
        buffer.deallocate()
        view.deallocate()
    }

    var isOpen: Bool { count > 0 }

    func reset() {
        count = 0
        bodyBytes = 0
        keepAlive.removeAll(keepingCapacity: true)
        view.pointee.events = buffer
        view.pointee.count = 0
    }

    @inline(__always)
    func retain(_ arenas: [Arena]) {
        for a in arenas where !(keepAlive.last === a) && !keepAlive.contains(where: { $0 === a }) {
            keepAlive.append(a)
        }
    }
}
