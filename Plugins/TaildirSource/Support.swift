import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// Milliseconds on the monotonic clock (for idle and grace timers).
func monotonicMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// Nanoseconds since the epoch on the wall clock (compared with file times).
func realtimeNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return nanos(ts)
}

@inline(__always)
func nanos(_ ts: timespec) -> Int64 { Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec) }

func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

/// The identity of a file while the agent runs. The position file only has
/// room for the inode (Flume's layout), so `dev` is used in memory only.
struct FileID: Hashable {
    let dev: UInt64
    let ino: UInt64
}

/// `stat` of a path; nil when it fails.
func statPath(_ path: String) -> stat? {
    var st = stat()
    return stat(path, &st) == 0 ? st : nil
}

func isRegular(_ st: stat) -> Bool { (st.st_mode & S_IFMT) == S_IFREG }

func fileID(_ st: stat) -> FileID { FileID(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino)) }

/// `mkdir -p`: creates `path` and its missing parents.
func makeDirectories(_ path: String) throws {
    if path.isEmpty || path == "/" { return }
    if let st = statPath(path) {
        if (st.st_mode & S_IFMT) == S_IFDIR { return }
        throw SluiceError.io("'\(path)' exists and is not a directory")
    }
    try makeDirectories(parentDirectory(of: path))
    if mkdir(path, 0o755) != 0 && errno != EEXIST {
        throw SluiceError.io("cannot create directory '\(path)': \(errnoText())")
    }
}

/// The directory part of an absolute path ("/" for "/x").
func parentDirectory(of path: String) -> String {
    guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "." }
    let dir = String(path[..<slash])
    return dir.isEmpty ? "/" : dir
}

/// File birth times through `statx`, which this toolchain's Glibc module does
/// not expose; it is looked up at run time and the kernel's struct layout
/// (stable ABI) is read directly. Used to tell a renamed file from a new file
/// that reuses a deleted file's inode. nil whenever the system cannot say.
enum BirthTime {
    private typealias StatxFunction = @convention(c) (Int32, UnsafePointer<CChar>?, Int32, UInt32, UnsafeMutableRawPointer?) -> Int32

    private static let statxFunction: StatxFunction? = {
        guard let symbol = dlsym(nil, "statx") else { return nil }
        return unsafeBitCast(symbol, to: StatxFunction.self)
    }()

    private static let maskBirthTime: UInt32 = 0x800     // STATX_BTIME
    private static let emptyPath: Int32 = 0x1000         // AT_EMPTY_PATH
    private static let currentDirectory: Int32 = -100    // AT_FDCWD
    private static let structSize = 256                  // sizeof(struct statx)
    private static let birthOffset = 80                  // offsetof(struct statx, stx_btime)

    static func of(path: String) -> Int64? {
        query { fn, buf in path.withCString { fn(currentDirectory, $0, 0, maskBirthTime, buf) } }
    }

    static func of(fd: Int32) -> Int64? {
        query { fn, buf in fn(fd, "", emptyPath, maskBirthTime, buf) }
    }

    private static func query(_ call: (StatxFunction, UnsafeMutableRawPointer) -> Int32) -> Int64? {
        guard let fn = statxFunction else { return nil }
        let buf = UnsafeMutableRawPointer.allocate(byteCount: structSize, alignment: 8)
        defer { buf.deallocate() }
        buf.initializeMemory(as: UInt8.self, repeating: 0, count: structSize)
        guard call(fn, buf) == 0 else { return nil }
        let mask = buf.load(as: UInt32.self)
        guard mask & maskBirthTime != 0 else { return nil }
        let seconds = buf.load(fromByteOffset: birthOffset, as: Int64.self)
        let nanoseconds = buf.load(fromByteOffset: birthOffset + 8, as: UInt32.self)
        if seconds == 0 && nanoseconds == 0 { return nil }
        return seconds &* 1_000_000_000 &+ Int64(nanoseconds)
    }
}

/// The path an open descriptor refers to now (it follows renames), or nil
/// when the file was deleted or the link cannot be read.
func currentPath(of fd: Int32) -> String? {
    var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let n = buf.withUnsafeMutableBufferPointer { b -> Int in
        guard let base = b.baseAddress else { return -1 }
        return readlink("/proc/self/fd/\(fd)", base, b.count - 1)
    }
    guard n > 0 else { return nil }
    let bytes = buf[0..<n].map { UInt8(bitPattern: $0) }
    guard let path = String(validating: bytes, as: UTF8.self), path.hasPrefix("/"),
          !path.hasSuffix(" (deleted)") else { return nil }
    return path
}

/// A sleep that `cancel()` cuts short: the position writer's timer.
final class StopSignal: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var cancelled = false

    init() {
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
        cond.deallocate()
        mutex.deallocate()
    }

    /// Waits `millis`; returns false once cancelled (immediately if already).
    func wait(millis: Int) -> Bool {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let total = Int64(deadline.tv_nsec) + Int64(millis % 1000) * 1_000_000
        deadline.tv_sec += millis / 1000 + Int(total / 1_000_000_000)
        deadline.tv_nsec = Int(total % 1_000_000_000)
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !cancelled {
            if pthread_cond_timedwait(cond, mutex, &deadline) == ETIMEDOUT { break }
        }
        return !cancelled
    }

    func cancel() {
        pthread_mutex_lock(mutex)
        cancelled = true
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
    }
}

/// Writes the decimal digits of a non-negative value into `out` (at least 20
/// bytes); returns how many.
@inline(__always)
func writeDecimal(_ value: Int64, into out: UnsafeMutablePointer<UInt8>) -> Int {
    var v = UInt64(max(value, 0))
    var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0) // 24 bytes of scratch on the stack
    return withUnsafeMutableBytes(of: &tmp) { scratch -> Int in
        var n = 0
        repeat {
            scratch[n] = UInt8(48 + v % 10)
            v /= 10
            n += 1
        } while v > 0
        for i in 0..<n { out[i] = scratch[n - 1 - i] }
        return n
    }
}
