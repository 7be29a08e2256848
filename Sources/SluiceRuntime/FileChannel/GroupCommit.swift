import DequeModule
#if canImport(Glibc)
import Glibc
#endif

/// Group commit for the file channel's log: records are written in log
/// order under the channel's write lock, then each committing thread waits
/// here. One thread at a time flushes (fdatasync) everything written so
/// far, on behalf of all waiters, and then applies their records to the
/// in-memory state in log order. So a source's put and a sink's take that
/// commit at the same moment share one disk flush, and the applied state is
/// always a prefix of the log (which is what a checkpoint records).
final class GroupCommit: @unchecked Sendable {
    private struct Entry {
        let ticket: UInt64
        let file: DataFile
        let apply: () -> Void
    }

    private let cond = ConditionLock()
    private var pending = Deque<Entry>()
    private var lastTicket: UInt64 = 0
    private var appliedTicket: UInt64 = 0
    private var flushing = false
    private var failure: String?

    /// Registers a record just written (caller holds the write lock, so
    /// tickets follow log order). `apply` runs once the record is durable.
    func enqueue(file: DataFile, apply: @escaping () -> Void) -> UInt64 {
        cond.withLock {
            lastTicket += 1
            pending.append(Entry(ticket: lastTicket, file: file, apply: apply))
            return lastTicket
        }
    }

    /// Returns once the record of `ticket` is on disk and applied; throws if
    /// a flush failed (the log is then in doubt and the channel must stop).
    func wait(_ ticket: UInt64) throws {
        cond.lock()
        defer { cond.unlock() }
        while appliedTicket < ticket {
            if let failure { throw FileChannelError(description: failure) }
            if flushing {
                cond.wait(until: monotonicNanos() + 1_000_000_000)
                continue
            }
            flushing = true
            let batch = Array(pending)
            cond.unlock()
            var error: String?
            var flushed: [ObjectIdentifier] = []
            for e in batch where !flushed.contains(ObjectIdentifier(e.file)) {
                flushed.append(ObjectIdentifier(e.file))
                if fdatasync(e.file.fd) != 0 { error = "fdatasync \(e.file.path) failed: \(errnoText())" }
            }
            cond.lock()
            if let error {
                failure = error
            } else {
                for e in batch { e.apply() }
                pending.removeFirst(batch.count)
                appliedTicket = batch.last?.ticket ?? appliedTicket
            }
            flushing = false
            cond.broadcast()
        }
    }
}
