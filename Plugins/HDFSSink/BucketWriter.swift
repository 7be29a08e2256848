import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// A rename that failed and waits for another try (`hdfs.closeTries`,
/// `hdfs.retryInterval`).
struct PendingRename {
    let from: String
    let to: String
    var tries: Int
    var nextTry: UInt64
}

/// One bucket (resolved directory + resolved file prefix): at most one open
/// file `<dir>/<inUsePrefix><prefix>.<N><suffix><inUseSuffix>`, renamed to
/// `<dir>/<prefix>.<N><suffix>` on close. N starts at the bucket's creation
/// time in ms + 1 and grows by one per file, as in Flume's BucketWriter.
///
/// `append` encodes into memory (rolling first when rollCount / rollSize is
/// reached); `flush` writes everything encoded with one pwrite and makes it
/// durable with fdatasync. The sink calls `flush` on every bucket it touched
/// before committing the channel transaction. Not thread-safe.
final class BucketWriter {
    let directory: String
    let prefix: String
    let config: HDFSSinkConfig
    let encoder: RecordEncoder
    let stats: SinkStats
    /// WebHDFS destination; nil: local files.
    let remote: WebHDFSClient?
    /// WebHDFS: a file name is chosen (the file itself is created by the first flush).
    private var remoteOpen = false

    private var counter: Int64
    private(set) var fd: Int32 = -1
    private(set) var inUsePath = ""
    private(set) var finalPath = ""
    /// Bytes in the file that were written and synced.
    private var syncedSize: Int64 = 0
    private var eventCount: Int64 = 0
    private var processSize: Int64 = 0
    private(set) var openedAt: UInt64 = 0
    private(set) var lastWrite: UInt64 = 0
    var lastUsed: UInt64 = 0
    var touched = false

    init(directory: String, prefix: String, config: HDFSSinkConfig, stats: SinkStats, remote: WebHDFSClient? = nil) {
        self.remote = remote
        self.directory = directory
        self.prefix = prefix
        self.config = config
        self.stats = stats
        encoder = RecordEncoder(config)
        counter = epochMillis()
    }

    var isOpen: Bool { fd >= 0 || remoteOpen }

    private var shouldRotate: Bool {
        (config.rollCount > 0 && eventCount >= config.rollCount) || (config.rollSize > 0 && processSize >= config.rollSize)
    }

    func append(_ event: Event, timestamp: Int64, now: UInt64) throws {
        if isOpen && shouldRotate { try close() }
        if !isOpen { try openNext(now: now) }
        try encoder.encode(event, timestamp: timestamp, filePosition: syncedSize)
        eventCount += 1
        processSize += Int64(event.body.count)
        lastWrite = now
        touched = true
    }

    /// Writes and syncs everything encoded so far.
    func flush() throws {
        guard isOpen else { return }
        try encoder.finishBatch()
        let total = encoder.pending.count
        guard total > 0 else { return }
        if let remote = remote {
            // The batch is durable once CREATE / APPEND got its success answer.
            if syncedSize == 0 {
                try remote.create(inUsePath, encoder.pending)
            } else {
                try remote.append(inUsePath, encoder.pending)
            }
            syncedSize += Int64(total)
            encoder.pending.removeAll(keepingCapacity: true)
            stats.bytesWritten.add(Int64(total))
            return
        }
        var done = 0
        try encoder.pending.withUnsafeBytes { bytes in
            while done < total {
                let n = pwrite(fd, bytes.baseAddress! + done, total - done, off_t(syncedSize + Int64(done)))
                if n > 0 {
                    done += n
                    continue
                }
                if n < 0 && errno == EINTR { continue }
                throw SluiceError.io("cannot write to \(inUsePath): \(errnoText(n < 0 ? errno : EIO))")
            }
        }
        if fdatasync(fd) != 0 {
            throw SluiceError.io("cannot sync \(inUsePath): \(errnoText())")
        }
        syncedSize += Int64(total)
        encoder.pending.removeAll(keepingCapacity: true)
        stats.bytesWritten.add(Int64(total))
    }

    /// After a failed batch: drops what was not synced, cuts the file back to
    /// its synced length and closes it, so the next batch starts a new file.
    func abandonBatch() -> PendingRename? {
        encoder.discardBatch()
        touched = false
        guard isOpen else { return nil }
        if fd >= 0 { _ = ftruncate(fd, off_t(syncedSize)) }
        if let remote, syncedSize > 0 {
            // A failed APPEND can leave part of the batch behind, which would
            // be a torn record (or compressed unit) before the file's end.
            do {
                if try !remote.truncate(inUsePath, to: syncedSize) {
                    stats.log(.warn, "\(inUsePath) on \(remote.description): TRUNCATE to \(syncedSize) bytes needs block recovery first; part of a failed batch may remain")
                }
            } catch {
                stats.log(.warn, "cannot cut \(inUsePath) back to its \(syncedSize) acknowledged bytes: \(error)")
            }
        }
        return closeFile(flushing: false)
    }

    /// Flushes, closes and renames the open file; a failed rename is returned
    /// for retrying.
    @discardableResult
    func close() throws -> PendingRename? {
        guard isOpen else { return nil }
        try flush()
        return closeFile(flushing: true)
    }

    private func closeFile(flushing: Bool) -> PendingRename? {
        if let remote = remote {
            remoteOpen = false
            stats.filesClosed.add(1)
            if syncedSize == 0 || inUsePath == finalPath { return nil }
            if let failure = remote.rename(inUsePath, finalPath) {
                stats.log(.warn, "cannot rename \(inUsePath) to \(finalPath): \(failure); will retry")
                return PendingRename(from: inUsePath, to: finalPath, tries: 1,
                                     nextTry: monotonicNanos() &+ UInt64(max(config.retryIntervalSeconds, 0)) &* 1_000_000_000)
            }
            stats.log(.debug, "closed \(finalPath)")
            return nil
        }
        if fsync(fd) != 0 { stats.log(.warn, "fsync of \(inUsePath) failed: \(errnoText())") }
        Glibc.close(fd)
        fd = -1
        stats.filesClosed.add(1)
        if syncedSize == 0 {
            // Nothing was ever written: no file to keep.
            unlink(inUsePath)
            return nil
        }
        if inUsePath == finalPath { return nil }
        if let failure = renameNoReplace(inUsePath, finalPath) {
            stats.log(.warn, "cannot rename \(inUsePath) to \(finalPath): \(failure); will retry")
            return PendingRename(from: inUsePath, to: finalPath, tries: 1,
                                 nextTry: monotonicNanos() &+ UInt64(max(config.retryIntervalSeconds, 0)) &* 1_000_000_000)
        }
        syncDirectory(directory)
        stats.log(.debug, "closed \(finalPath)")
        return nil
    }

    private func openNextRemote(_ remote: WebHDFSClient, now: UInt64) throws {
        do {
            if !madeRemoteDirectory {
                try remote.mkdirs(directory)
                madeRemoteDirectory = true
            }
            var attempts = 0
            while true {
                counter += 1
                let name = prefix + "." + String(counter) + (config.fileSuffix.isEmpty ? (config.codec?.fileExtension ?? "") : config.fileSuffix)
                let base = directory.hasSuffix("/") ? directory : directory + "/"
                let inUse = base + config.inUsePrefix + name + config.inUseSuffix
                let final = base + name
                attempts += 1
                if attempts < 1000, try remote.fileType(final) != nil || (inUse != final && remote.fileType(inUse) != nil) { continue }
                inUsePath = inUse
                finalPath = final
                break
            }
        } catch {
            stats.openFailures.add(1)
            throw error
        }
        remoteOpen = true
        syncedSize = 0
        eventCount = 0
        processSize = 0
        openedAt = now
        try encoder.beginFile()
        stats.filesOpened.add(1)
        stats.log(.debug, "opened \(inUsePath) on \(remote.description)")
    }

    private var madeRemoteDirectory = false

    private func openNext(now: UInt64) throws {
        if let remote = remote { return try openNextRemote(remote, now: now) }
        try makeDirectories(directory)
        var attempts = 0
        while true {
            counter += 1
            let name = prefix + "." + String(counter) + (config.fileSuffix.isEmpty ? (config.codec?.fileExtension ?? "") : config.fileSuffix)
            let base = directory.hasSuffix("/") ? directory : directory + "/"
            let inUse = base + config.inUsePrefix + name + config.inUseSuffix
            let final = base + name
            if access(final, F_OK) == 0 && attempts < 10_000 {
                attempts += 1
                continue
            }
            let f = open(inUse, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if f < 0 {
                let e = errno
                attempts += 1
                if e == EEXIST && attempts < 10_000 { continue }
                stats.openFailures.add(1)
                throw SluiceError.io("cannot create \(inUse): \(errnoText(e))")
            }
            fd = f
            inUsePath = inUse
            finalPath = final
            break
        }
        syncedSize = 0
        eventCount = 0
        processSize = 0
        openedAt = now
        try encoder.beginFile()
        syncDirectory(directory)
        stats.filesOpened.add(1)
        stats.log(.debug, "opened \(inUsePath)")
    }
}

/// Renames without replacing an existing target; nil on success, else the reason.
func renameNoReplace(_ from: String, _ to: String) -> String? {
    if link(from, to) == 0 {
        unlink(from)
        return nil
    }
    let e = errno
    if e == EEXIST { return "\(to) already exists" }
    // Filesystems without hard links (some FUSE / NFS setups): plain rename.
    if access(to, F_OK) == 0 { return "\(to) already exists" }
    if rename(from, to) == 0 { return nil }
    return errnoText()
}

func syncDirectory(_ path: String) {
    let d = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard d >= 0 else { return }
    _ = fsync(d)
    Glibc.close(d)
}

/// mkdir -p.
func makeDirectories(_ path: String) throws {
    var st = stat()
    if stat(path, &st) == 0 {
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw SluiceError.io("hdfs.path: '\(path)' is not a directory") }
        return
    }
    var current = path.hasPrefix("/") ? "/" : ""
    for component in path.split(separator: "/") {
        if !current.isEmpty && !current.hasSuffix("/") { current += "/" }
        current += component
        if mkdir(current, 0o777) != 0 && errno != EEXIST {
            throw SluiceError.io("hdfs.path: cannot create directory '\(current)': \(errnoText())")
        }
    }
}

func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

func epochMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
