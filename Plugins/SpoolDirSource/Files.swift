#if canImport(Glibc)
import Glibc
#endif

/// What the source needs to know about a file: identity (device, inode) and
/// the stamps Flume's completion rule compares (size, modification time).
/// The change time is used only to notice that a remembered failed file was
/// touched (chmod, rewrite) and is worth another try.
struct FileStat: Equatable {
    var dev: UInt64
    var ino: UInt64
    var size: Int
    var mtimeNanos: Int64
    var ctimeNanos: Int64
    var mode: UInt32

    init(_ st: stat) {
        dev = UInt64(st.st_dev)
        ino = UInt64(st.st_ino)
        size = Int(st.st_size)
        mtimeNanos = Int64(st.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(st.st_mtim.tv_nsec)
        ctimeNanos = Int64(st.st_ctim.tv_sec) &* 1_000_000_000 &+ Int64(st.st_ctim.tv_nsec)
        mode = UInt32(st.st_mode)
    }

    var isRegular: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFREG) }
    var isDirectory: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFDIR) }
    var isSymlink: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFLNK) }

    func sameFile(_ o: FileStat) -> Bool { dev == o.dev && ino == o.ino }
    /// Same file with the same size and modification time: Flume's "unchanged".
    func unchanged(from o: FileStat) -> Bool { sameFile(o) && size == o.size && mtimeNanos == o.mtimeNanos }
}

/// stat(2) (lstat with `follow: false`): the result, or the errno.
func statPath(_ path: String, follow: Bool = true) -> Result<FileStat, Errno> {
    var st = stat()
    let rc = follow ? stat(path, &st) : lstat(path, &st)
    return rc == 0 ? .success(FileStat(st)) : .failure(Errno(errno))
}

func statFD(_ fd: Int32) -> Result<FileStat, Errno> {
    var st = stat()
    return fstat(fd, &st) == 0 ? .success(FileStat(st)) : .failure(Errno(errno))
}

/// An errno value that reads as strerror's text.
struct Errno: Error, CustomStringConvertible {
    let code: Int32
    init(_ code: Int32) { self.code = code }
    var description: String { String(cString: strerror(code)) }
}

func pathExists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
}

/// "/a/b/c" → "/a/b"; "/c" → "/".
func parentDirectory(_ path: String) -> String {
    var bytes = Array(path.utf8)
    while bytes.count > 1, bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
    guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return "." }
    return slash == 0 ? "/" : String(decoding: bytes[..<slash], as: UTF8.self)
}

/// `mkdir -p`. Returns nil or the error.
func makeDirectories(_ path: String) -> Errno? {
    if case .success(let st) = statPath(path) {
        return st.isDirectory ? nil : Errno(ENOTDIR)
    }
    let parent = parentDirectory(path)
    if parent != path, parent != "/", parent != "." {
        if let e = makeDirectories(parent) { return e }
    }
    if mkdir(path, 0o755) != 0, errno != EEXIST { return Errno(errno) }
    return nil
}

private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, UInt32) -> Int32

/// renameat2(2) when libc has it (glibc ≥ 2.28); looked up at run time
/// because the Swift Glibc module does not declare it.
private let renameat2Function: RenameAt2? = {
    guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }
    return unsafeBitCast(sym, to: RenameAt2.self)
}()

/// Renames `from` to `to` unless `to` exists (EEXIST then). Uses
/// renameat2(RENAME_NOREPLACE) where the file system supports it, else
/// link + unlink (both atomic no-replace), else a check followed by rename.
func renameNoReplace(_ from: String, _ to: String) -> Errno? {
    if let f = renameat2Function {
        if f(AT_FDCWD, from, AT_FDCWD, to, 1 /* RENAME_NOREPLACE */) == 0 { return nil }
        let e = errno
        if e != EINVAL && e != ENOSYS && e != ENOTSUP { return Errno(e) }
    }
    if link(from, to) == 0 {
        if unlink(from) != 0 { return Errno(errno) }
        return nil
    }
    let e = errno
    if e == EEXIST { return Errno(EEXIST) }
    if e != EPERM && e != ENOTSUP && e != EXDEV && e != EMLINK && e != ENOSYS { return Errno(e) }
    if pathExists(to) { return Errno(EEXIST) }
    return rename(from, to) == 0 ? nil : Errno(errno)
}

/// The names in a directory (without "." and ".."), or the error. Names
/// that are not valid UTF-8 are returned separately: a Swift String cannot
/// carry them back to the file system unchanged.
func listDirectory(_ path: String) -> Result<(names: [String], undecodable: [String]), Errno> {
    guard let dir = opendir(path) else { return .failure(Errno(errno)) }
    defer { closedir(dir) }
    var names: [String] = []
    var bad: [String] = []
    while let entry = readdir(dir) {
        let (name, valid) = withUnsafePointer(to: &entry.pointee.d_name) { p -> (String, Bool) in
            p.withMemoryRebound(to: UInt8.self, capacity: 256) { c -> (String, Bool) in
                let n = strlen(UnsafeRawPointer(c).assumingMemoryBound(to: CChar.self))
                let bytes = UnsafeBufferPointer(start: c, count: n)
                let s = String(decoding: bytes, as: UTF8.self)
                return (s, s.utf8.elementsEqual(bytes))
            }
        }
        if name == "." || name == ".." { continue }
        if valid { names.append(name) } else { bad.append(name) }
    }
    return .success((names, bad))
}

/// Reads exactly `count` bytes at `offset` (fewer only at end of file).
func preadFully(_ fd: Int32, _ buf: UnsafeMutableRawPointer, _ count: Int, _ offset: Int) -> Int {
    var done = 0
    while done < count {
        let n = pread(fd, buf + done, count - done, off_t(offset + done))
        if n < 0 {
            if errno == EINTR { continue }
            return -1
        }
        if n == 0 { break }
        done += n
    }
    return done
}

/// Writes all of `bytes` at `offset`.
func pwriteFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, _ offset: Int) -> Bool {
    var done = 0
    while done < bytes.count {
        let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
        if n < 0 {
            if errno == EINTR { continue }
            return false
        }
        done += n
    }
    return true
}

func monotonicMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// The process's working directory (for a relative spoolDir).
func currentDirectory() -> String {
    var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    guard getcwd(&buf, buf.count) != nil else { return "/" }
    return String(cString: buf)
}

/// A sleep that `stop()` cuts short: the source thread's only way of
/// waiting, so stopping never waits out a poll delay or a back-off.
final class Sleeper: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var stopped = false

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

    var isStopped: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return stopped
    }

    /// Sleeps up to `millis`; false when stopped (now or during the sleep).
    func sleep(millis: Int) -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let total = Int64(now.tv_nsec) + Int64(max(0, millis)) * 1_000_000
        var deadline = timespec(tv_sec: now.tv_sec + Int(total / 1_000_000_000), tv_nsec: Int(total % 1_000_000_000))
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !stopped {
            if pthread_cond_timedwait(cond, mutex, &deadline) == ETIMEDOUT { break }
        }
        return !stopped
    }

    func stop() {
        pthread_mutex_lock(mutex)
        stopped = true
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
    }
}
