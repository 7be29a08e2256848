import SluiceABI

/// A channel stores events between the sources' commits and the sinks'
/// takes. Puts are two-phase so that one submit can commit to several
/// channels all-or-none: `preparePut` reserves (and for durable channels,
/// writes) and may refuse; `commitPut` then cannot fail.
protocol Channel: AnyObject {
    var name: String { get }
    var transactionCapacity: Int { get }
    var metrics: CounterGroup { get }

    /// Reserves room for `count` events of `bodyBytes`, waiting up to the
    /// channel's keep-alive. Returns nil when the channel stayed full; throws
    /// when the put can never succeed (larger than transactionCapacity).
    func preparePut(count: Int, bodyBytes: Int, wait: Bool) throws -> PutReservation?
    func commitPut(_ reservation: PutReservation, _ chunk: EventChunk)
    func abortPut(_ reservation: PutReservation)

    /// Moves up to `max` events into `txn`, waiting up to `waitNanos` when
    /// the channel is empty. Returns how many were taken.
    func take(into txn: TakeTransaction, max: Int, waitNanos: UInt64) -> Int
    func commitTake(_ txn: TakeTransaction)
    func rollbackTake(_ txn: TakeTransaction)

    /// Number of events stored.
    var size: Int { get }
    func start()
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
