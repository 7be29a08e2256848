#if canImport(Glibc)
import Glibc
#endif

/// A mutex with a condition variable; heap-allocated so its address is stable.
/// Used where a thread must wait for a state change (channel space, events,
/// shutdown) without spinning.
public final class ConditionLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        cond.deallocate()
    }

    @inline(__always) public func lock() { pthread_mutex_lock(mutex) }
    @inline(__always) public func unlock() { pthread_mutex_unlock(mutex) }

    @inline(__always)
    public func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    public func broadcast() { pthread_cond_broadcast(cond) }

    /// Waits (lock held) until signalled or `deadline` (monotonic ns) passes.
    /// Returns false on timeout.
    @discardableResult
    public func wait(until deadline: UInt64) -> Bool {
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        return pthread_cond_timedwait(cond, mutex, &ts) == 0
    }
}

/// Monotonic clock in nanoseconds.
@inline(__always)
public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Wall clock in milliseconds since the epoch.
public func epochMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// A joinable OS thread running a closure. Runners and other long-lived
/// loops use one each, so a blocking plugin call never stalls another.
public final class OSThread: @unchecked Sendable {
    private var tid = pthread_t()
    private final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }

    public init(name: String, _ body: @escaping () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let rc = pthread_create(&tid, nil, { arg in
            let b = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
            b.body()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    public func join() { pthread_join(tid, nil) }
}

/// Sleeps up to `nanos`, waking early when `stop` is signalled through `lock`.
/// Returns true when woken by the stop condition.
func interruptibleSleep(_ nanos: UInt64, lock: ConditionLock, stopped: () -> Bool) -> Bool {
    let deadline = monotonicNanos() + nanos
    return lock.withLock {
        while !stopped() {
            if !lock.wait(until: deadline) { return stopped() }
        }
        return true
    }
}
