#if canImport(Glibc)
import Glibc
#endif

struct FileChannelError: Error, CustomStringConvertible {
    var description: String
}

/// One `log-<id>` data file.
final class DataFile {
    let id: UInt32
    let path: String
    let fd: Int32
    var size: Int

    init(id: UInt32, path: String, fd: Int32, size: Int) {
        self.id = id
        self.path = path
        self.fd = fd
        self.size = size
    }

    deinit { close(fd) }
}

/// The channel's data files, spread round-robin over `dataDirs` by id
/// (file N lives in dataDirs[N % count]). One file is active for appends.
/// Appends, rolls and removals come from one writer at a time (the file
/// channel's write lock); reads may come from any thread: the table has its
/// own lock, and a file being read stays open until its reader lets go.
final class DataFiles {
    let dirs: [String]
    private var table: [UInt32: DataFile] = [:]
    private let tableLock = ConditionLock()
    private(set) var active: DataFile?

    var files: [UInt32: DataFile] { tableLock.withLock { table } }
    func file(_ id: UInt32) -> DataFile? { tableLock.withLock { table[id] } }
    private var lockFDs: [Int32] = []

    init(dirs: [String]) {
        self.dirs = dirs
    }

    deinit { lockFDs.forEach { Glibc.close($0) } }

    func path(of id: UInt32) -> String { dirs[Int(id) % dirs.count] + "/log-\(id)" }

    /// Creates the directories, takes an exclusive lock in each (one agent
    /// per directory) and lists the existing data files, sorted by id.
    func open() throws -> [UInt32] {
        var ids: [UInt32] = []
        for dir in dirs {
            try makeDirectories(dir)
            lockFDs.append(try lockDirectory(dir))
            guard let d = opendir(dir) else {
                throw FileChannelError(description: "cannot read data directory \(dir): \(errnoText())")
            }
            defer { closedir(d) }
            while let ent = readdir(d) {
                let name = withUnsafeBytes(of: ent.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name.hasPrefix("log-"), let id = UInt32(name.dropFirst(4)) { ids.append(id) }
            }
        }
        ids.sort()
        for id in ids {
            let p = path(of: id)
            let fd = Glibc.open(p, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { throw FileChannelError(description: "cannot open data file \(p): \(errnoText())") }
            var st = stat()
            fstat(fd, &st)
            let f = DataFile(id: id, path: p, fd: fd, size: Int(st.st_size))
            tableLock.withLock { table[id] = f }
        }
        return ids
    }

    /// Starts a new active file with the given id.
    func roll(to id: UInt32) throws {
        let p = path(of: id)
        let fd = Glibc.open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileChannelError(description: "cannot create data file \(p): \(errnoText())") }
        let f = DataFile(id: id, path: p, fd: fd, size: 0)
        if let old = active, fdatasync(old.fd) != 0 {
            throw FileChannelError(description: "fdatasync \(old.path): \(errnoText())")
        }
        try syncDirectory(dirs[Int(id) % dirs.count])
        tableLock.withLock { table[id] = f }
        active = f
    }

    /// Appends `count` bytes to the active file (not yet flushed: see
    /// GroupCommit). Returns the file and the offset they start at. On
    /// failure the file is cut back.
    func append(_ p: UnsafeRawPointer, _ count: Int) throws -> (file: DataFile, offset: Int) {
        guard let f = active else { throw FileChannelError(description: "no active data file") }
        let start = f.size
        var done = 0
        while done < count {
            let n = pwrite(f.fd, p + done, count - done, off_t(start + done))
            if n < 0 {
                if errno == EINTR { continue }
                let e = errnoText()
                _ = ftruncate(f.fd, off_t(start))
                throw FileChannelError(description: "write to \(f.path) failed: \(e)")
            }
            done += n
        }
        f.size = start + count
        return (f, start)
    }

    /// Reads `count` bytes at `offset` of file `id` into `into`.
    func read(file id: UInt32, offset: Int, count: Int, into: UnsafeMutableRawPointer) throws {
        guard let f = file(id) else {
            throw FileChannelError(description: "data file \(path(of: id)) is missing")
        }
        var done = 0
        while done < count {
            let n = pread(f.fd, into + done, count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw FileChannelError(description: "cannot read \(count) bytes at offset \(offset) of \(f.path): \(n == 0 ? "end of file" : errnoText())")
            }
            done += n
        }
    }

    /// Cuts a file back to `size` (a torn tail found at replay).
    func truncate(_ id: UInt32, to size: Int) throws {
        guard let f = file(id) else { return }
        guard ftruncate(f.fd, off_t(size)) == 0, fdatasync(f.fd) == 0 else {
            throw FileChannelError(description: "cannot truncate \(f.path) to \(size) bytes: \(errnoText())")
        }
        f.size = size
    }

    func remove(_ id: UInt32) {
        guard let f = tableLock.withLock({ table.removeValue(forKey: id) }) else { return }
        unlink(f.path)
    }

    /// Closes every file and releases the directory locks.
    func close() {
        if let f = active { _ = fdatasync(f.fd) }
        active = nil
        tableLock.withLock { table.removeAll() }
        lockFDs.forEach { Glibc.close($0) }
        lockFDs.removeAll()
    }
}

func errnoText() -> String { String(cString: strerror(errno)) }

/// mkdir -p.
func makeDirectories(_ path: String) throws {
    var partial = ""
    for comp in path.split(separator: "/", omittingEmptySubsequences: true) {
        partial += "/" + comp
        if mkdir(partial, 0o700) != 0 && errno != EEXIST {
            throw FileChannelError(description: "cannot create directory \(partial): \(errnoText())")
        }
    }
}

/// An exclusive lock on `<dir>/in_use.lock`, held while the channel runs.
func lockDirectory(_ dir: String) throws -> Int32 {
    let p = dir + "/in_use.lock"
    let fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw FileChannelError(description: "cannot open \(p): \(errnoText())") }
    if flock(fd, LOCK_EX | LOCK_NB) != 0 {
        close(fd)
        throw FileChannelError(description: "\(dir) is in use by another process (lock \(p) is held)")
    }
    return fd
}

func syncDirectory(_ dir: String) throws {
    let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { throw FileChannelError(description: "cannot open directory \(dir): \(errnoText())") }
    defer { close(fd) }
    _ = fsync(fd)
}

/// Free bytes for unprivileged users on the file system holding `path`.
func usableSpace(_ path: String) -> Int {
    var s = statvfs()
    guard statvfs(path, &s) == 0 else { return Int.max }
    return Int(s.f_bavail) * Int(s.f_frsize)
}
