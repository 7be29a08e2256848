#if canImport(Glibc)
import Glibc
#endif

/// An open file descriptor, closed when the last reference goes away.
/// `FileRegion`s returned by reads hold one, so a segment deleted by
/// retention while a server is still sending from it stays readable.
public final class LogFileHandle: @unchecked Sendable {
    public let fd: Int32
    public let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { Glibc.close(fd) }

    /// Opens (and with `create`, creates) a file for reading and writing.
    static func open(_ path: String, create: Bool) throws -> LogFileHandle {
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0)
        let fd = Glibc.open(path, flags, 0o644)
        guard fd >= 0 else { throw LogError.io(operation: "open", path: path, errno: errno) }
        return LogFileHandle(fd: fd, path: path)
    }

    func size() throws -> Int {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw LogError.io(operation: "fstat", path: path, errno: errno) }
        return Int(st.st_size)
    }

    /// Reads up to `buffer.count` bytes at `offset`; fewer only at end of file.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let n = pread(fd, base + done, buffer.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw LogError.io(operation: "read", path: path, errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    func read(count: Int, at offset: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let n = try out.withUnsafeMutableBytes { try read(into: $0, at: offset) }
        out.removeLast(count - n)
        return out
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, base + done, bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw LogError.io(operation: "write", path: path, errno: errno)
            }
            done += n
        }
    }

    func truncate(to size: Int) throws {
        guard ftruncate(fd, off_t(size)) == 0 else { throw LogError.io(operation: "truncate", path: path, errno: errno) }
    }

    /// fdatasync: the data and the size, which is what recovery depends on.
    func sync() throws {
        guard fdatasync(fd) == 0 else { throw LogError.io(operation: "fsync", path: path, errno: errno) }
    }
}

/// Small file-system helpers over Glibc.
enum FS {
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// mkdir -p.
    static func makeDirectories(_ path: String) throws {
        if isDirectory(path) { return }
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw LogError.io(operation: "mkdir", path: prefix, errno: errno)
            }
        }
    }

    static func list(_ dir: String) throws -> [String] {
        guard let d = opendir(dir) else { throw LogError.io(operation: "opendir", path: dir, errno: errno) }
        defer { closedir(d) }
        var names: [String] = []
        while let ent = readdir(d) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT { throw LogError.io(operation: "unlink", path: path, errno: errno) }
    }

    /// rm -r for the flat directories this module creates (one level of
    /// nesting is followed, in case).
    static func removeTree(_ path: String) throws {
        if isDirectory(path) {
            for name in try list(path) { try removeTree(path + "/" + name) }
            if rmdir(path) != 0 && errno != ENOENT { throw LogError.io(operation: "rmdir", path: path, errno: errno) }
        } else {
            try remove(path)
        }
    }

    static func rename(_ from: String, _ to: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw LogError.io(operation: "rename", path: from + " -> " + to, errno: errno) }
    }

    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw LogError.io(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw LogError.io(operation: "fsync", path: path, errno: errno) }
    }

    /// Whole contents of a small file; nil when it does not exist.
    static func readFile(_ path: String) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw LogError.io(operation: "open", path: path, errno: errno)
        }
        let h = LogFileHandle(fd: fd, path: path)
        return try h.read(count: try h.size(), at: 0)
    }

    /// Replaces `path` atomically: write a temporary file, fsync it, rename
    /// it over the old one, fsync the directory. With `durable: false` the
    /// fsyncs are skipped (for files that carry their own checksum and may
    /// be lost in a power failure).
    static func writeFileAtomically(_ path: String, _ bytes: [UInt8], durable: Bool = true) throws {
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LogError.io(operation: "open", path: tmp, errno: errno) }
        let h = LogFileHandle(fd: fd, path: tmp)
        try bytes.withUnsafeBytes { try h.write($0, at: 0) }
        if durable {
            guard fsync(fd) == 0 else { throw LogError.io(operation: "fsync", path: tmp, errno: errno) }
        }
        try rename(tmp, path)
        if durable { try syncDirectory(parent(of: path)) }
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func fileSize(_ path: String) -> Int? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Int(st.st_size)
    }

    static func modificationMillis(_ path: String) -> Int64? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Int64(st.st_mtim.tv_sec) * 1000 + Int64(st.st_mtim.tv_nsec) / 1_000_000
    }

    /// Takes an exclusive, non-blocking flock on `<dir>/.lock`; the returned
    /// handle keeps it until released.
    static func lockDirectory(_ dir: String) throws -> LogFileHandle {
        let h = try LogFileHandle.open(dir + "/.lock", create: true)
        guard flock(h.fd, LOCK_EX | LOCK_NB) == 0 else {
            if errno == EWOULDBLOCK { throw LogError.logDirInUse(dir) }
            throw LogError.io(operation: "flock", path: h.path, errno: errno)
        }
        return h
    }
}

/// Milliseconds since the epoch (the default `now` of every API that takes one).
public func wallClockMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// A plain pthread mutex. Heap-allocated so its address never moves.
final class LogLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always)
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// `<20-digit zero-padded offset><suffix>`, the name of every segment file.
func offsetFileName(_ offset: Int64, _ suffix: String) -> String {
    let digits = String(offset)
    return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + suffix
}

/// The offset in a name made by `offsetFileName`, if the name has that form.
func parseOffsetFileName(_ name: String, suffix: String) -> Int64? {
    guard name.hasSuffix(suffix) else { return nil }
    let stem = name.dropLast(suffix.count)
    guard stem.count == 20, stem.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
    return Int64(stem)
}
