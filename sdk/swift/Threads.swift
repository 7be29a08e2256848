#if canImport(Glibc)
import Glibc
#endif

/// A value guarded by a pthread mutex: plugin state shared between the
/// host's control thread and a plugin's own threads.
public final class Locked<T>: @unchecked Sendable {
    private var value: T
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    public init(_ value: T) {
        self.value = value
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func withLock<R>(_ body: (inout T) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

/// A joinable OS thread for an event-driven source's loops. Join every
/// thread you start before `stop()` returns.
public final class PluginThread: @unchecked Sendable {
    private var tid = pthread_t()
    private final class Box {
        let body: () -> Void
        init(_ b: @escaping () -> Void) { body = b }
    }

    /// Starts the thread; throws (never traps) when the system refuses one.
    public init(_ body: @escaping () -> Void) throws {
        let box = Unmanaged.passRetained(Box(body))
        let rc = pthread_create(&tid, nil, { arg in
            Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue().body()
            return nil
        }, box.toOpaque())
        if rc != 0 {
            box.release()
            throw SluiceError(.generic, "cannot start a thread: \(String(cString: strerror(rc)))")
        }
    }

    public func join() { pthread_join(tid, nil) }
    public func detach() { pthread_detach(tid) }
}
