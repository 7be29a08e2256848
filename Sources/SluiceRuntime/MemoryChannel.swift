import DequeModule
#if canImport(Glibc)
import Glibc
#endif
import SluiceABI

/// Flume's memory channel: capacity, transactionCapacity, byteCapacity (body
/// bytes; the limit is rounded down to whole 100-byte slots as Flume sizes it,
/// then bytes are counted exactly), byteCapacityBufferPercentage and
/// keep-alive, with Flume's defaults.
final class MemoryChannel: Channel {
    static let knownKeys = ["capacity", "transactionCapacity", "byteCapacity",
                                   "byteCapacityBufferPercentage", "keep-alive"]
    static let slotSize = 100

    let isDurable = false
    let name: String
    let capacity: Int
    let transactionCapacity: Int
    let metrics: CounterGroup
    let keepAliveNanos: UInt64
    /// Body bytes the channel may hold (whole 100-byte slots); 0 = unlimited.
    let byteLimit: Int

    private let lock = ConditionLock()
    private var queue = Deque<EventChunk>()
    /// Index of the next event to take in queue.first.
    private var headOffset = 0
    private var stored = 0
    private var reserved = 0
    /// Taken but not yet committed: still holds its room (Flume frees
    /// capacity on a take's commit, so a rollback always fits).
    private var inFlight = 0
    private var bytesUsed = 0
    private var stopped = false

    private let putAttempts, putSuccess, takeAttempts, takeSuccess: MetricCell
    private let sizeGauge: MetricCell

    init(name: String, properties: [String: String], metrics: CounterGroup) throws {
        self.name = name
        self.metrics = metrics
        func int(_ key: String, _ def: Int) throws -> Int {
            guard let v = properties[key] else { return def }
            guard let n = Int(v), n >= 0 else {
                throw ChannelError(description: "channel '\(name)': \(key) = '\(v)' is not a non-negative integer")
            }
            return n
        }
        capacity = try int("capacity", 100)
        transactionCapacity = try int("transactionCapacity", 100)
        let keepAlive = try int("keep-alive", 3)
        keepAliveNanos = UInt64(keepAlive) * 1_000_000_000
        // Flume's default is 80% of the JVM heap; with no heap, 80% of RAM.
        let byteCapacity = try int("byteCapacity", Int(Double(physicalMemory()) * 0.8))
        let bufferPct = try int("byteCapacityBufferPercentage", 20)
        guard capacity > 0 else { throw ChannelError(description: "channel '\(name)': capacity must be > 0") }
        guard transactionCapacity > 0 else {
            throw ChannelError(description: "channel '\(name)': transactionCapacity must be > 0")
        }
        guard transactionCapacity <= capacity else {
            throw ChannelError(description: "channel '\(name)': transactionCapacity (\(transactionCapacity)) must not exceed capacity (\(capacity))")
        }
        guard bufferPct <= 100 else {
            throw ChannelError(description: "channel '\(name)': byteCapacityBufferPercentage must be 0...100")
        }
        byteLimit = byteCapacity <= 0 ? 0 : max(1, Int(Double(byteCapacity) * (1 - Double(bufferPct) / 100)) / Self.slotSize) * Self.slotSize

        putAttempts = metrics.counter("EventPutAttemptCount")
        putSuccess = metrics.counter("EventPutSuccessCount")
        takeAttempts = metrics.counter("EventTakeAttemptCount")
        takeSuccess = metrics.counter("EventTakeSuccessCount")
        sizeGauge = metrics.counter("ChannelSize")
        metrics.counter("ChannelCapacity").set(Int64(capacity))
        metrics.derived("ChannelFillPercentage") { [unowned self] in
            .double(Double(self.sizeGauge.load()) * 100 / Double(self.capacity))
        }
    }

    var size: Int { lock.withLock { stored } }

    func start() throws {
        lock.withLock { stopped = false }
    }

    func stop() {
        lock.withLock {
            stopped = true
            lock.broadcast()
        }
    }

    private func slots(_ bytes: Int) -> Int {
        byteLimit == 0 ? 0 : bytes
    }

    func preparePut(count: Int, bodyBytes: Int, wait: Bool) throws -> PutReservation? {
        putAttempts.add(Int64(count))
        if count > transactionCapacity {
            throw ChannelError(description: "channel '\(name)': a batch of \(count) events exceeds transactionCapacity \(transactionCapacity)")
        }
        let need = slots(bodyBytes)
        if byteLimit > 0 && need > byteLimit {
            throw ChannelError(description: "channel '\(name)': a batch of \(bodyBytes) body bytes exceeds byteCapacity")
        }
        let deadline = monotonicNanos() + (wait ? keepAliveNanos : 0)
        return lock.withLock {
            while stored + inFlight + reserved + count > capacity || (byteLimit > 0 && bytesUsed + need > byteLimit) {
                if stopped || !wait || !lock.wait(until: deadline) {
                    if stored + inFlight + reserved + count <= capacity && (byteLimit == 0 || bytesUsed + need <= byteLimit) { break }
                    return nil
                }
            }
            reserved += count
            bytesUsed += need
            return PutReservation(count: count, slots: need)
        }
    }

    func commitPut(_ r: PutReservation, _ chunk: EventChunk) {
        lock.withLock {
            reserved -= r.count
            if chunk.count > 0 {
                queue.append(chunk)
                stored += chunk.count
            }
            sizeGauge.set(Int64(stored))
            lock.broadcast()
        }
        putSuccess.add(Int64(chunk.count))
    }

    func abortPut(_ r: PutReservation) {
        lock.withLock {
            reserved -= r.count
            bytesUsed -= r.slots
            lock.broadcast()
        }
    }

    func take(into txn: TakeTransaction, max: Int, waitNanos: UInt64) -> Int {
        let want = Swift.min(max, txn.capacity - txn.count, transactionCapacity - txn.count)
        guard want > 0 else { return 0 }
        takeAttempts.add(1)
        let start = txn.count
        lock.withLock {
            if stored == 0 && waitNanos > 0 && !stopped {
                let deadline = monotonicNanos() + waitNanos
                while stored == 0 && !stopped {
                    if !lock.wait(until: deadline) { break }
                }
            }
            var left = want
            while left > 0, let chunk = queue.first {
                let avail = chunk.count - headOffset
                let n = Swift.min(avail, left)
                (txn.buffer + txn.count).update(from: chunk.events + headOffset, count: n)
                for i in 0..<n { txn.bodyBytes += chunk.events[headOffset + i].body.len }
                txn.count += n
                txn.retain(chunk.arenas)
                left -= n
                if n == avail {
                    queue.removeFirst()
                    headOffset = 0
                } else {
                    headOffset += n
                }
            }
            stored -= txn.count - start
            inFlight += txn.count - start
            sizeGauge.set(Int64(stored))
        }
        let taken = txn.count - start
        txn.view.pointee.events = txn.buffer + start
        txn.view.pointee.count = taken
        return taken
    }

    func commitTake(_ txn: TakeTransaction) {
        if txn.count > 0 {
            lock.withLock {
                bytesUsed -= slots(txn.bodyBytes)
                inFlight -= txn.count
                lock.broadcast()
            }
            takeSuccess.add(Int64(txn.count))
        }
        txn.reset()
    }

    func rollbackTake(_ txn: TakeTransaction) {
        guard txn.count > 0 else { txn.reset(); return }
        // Back to the head, in the original order.
        let ev = UnsafeMutablePointer<sluice_event>.allocate(capacity: txn.count)
        ev.update(from: txn.buffer, count: txn.count)
        let chunk = EventChunk(events: ev, count: txn.count, arenas: txn.keepAlive)
        lock.withLock {
            if headOffset > 0, let first = queue.first {
                // Split the partly taken head so the returned events go in front of its remainder.
                let rest = first.count - headOffset
                let rev = UnsafeMutablePointer<sluice_event>.allocate(capacity: rest)
                rev.update(from: first.events + headOffset, count: rest)
                queue[0] = EventChunk(events: rev, count: rest, arenas: first.arenas)
                headOffset = 0
            }
            queue.prepend(chunk)
            stored += txn.count
            inFlight -= txn.count
            sizeGauge.set(Int64(stored))
            lock.broadcast()
        }
        txn.reset()
    }
}

func physicalMemory() -> Int {
    let pages = sysconf(Int32(_SC_PHYS_PAGES))
    let size = sysconf(Int32(_SC_PAGESIZE))
    return pages > 0 && size > 0 ? pages * size : 1 << 30
}
