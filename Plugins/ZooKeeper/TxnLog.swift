import CSluiceCRC
import NIOCore
import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// The transaction log: files `log.<first zxid, 20 digits>` in dataLogDir, each
/// a sequence of records `[u32 length][u32 CRC-32C][TxnHeader + txn]`.
///
/// Appends come from the server (under its lock) into memory; one writer
/// thread writes whatever has accumulated, fdatasyncs once for all of it
/// (group commit across connections) and reports the last durable zxid.
final class TxnLog: @unchecked Sendable {
    private struct Segment {
        var rollBefore: Bool
        var firstZxid: Int64
        var bytes: ByteBuffer
    }

    let dir: String
    let forceSync: Bool
    private let onDurable: (Int64) -> Void
    private let onError: (String) -> Void
    // On the heap: pthread objects must not move, and a stored property's
    // address is not stable.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var segments: [Segment] = []
    private var lastAppended: Int64 = 0
    private var rollRequested = true
    private var stopping = false
    private var writerWaiting = false
    private var thread: PluginThread?
    private var fd: Int32 = -1

    /// Appended, written and fsynced zxids are separate: `lastAppended` is in
    /// memory, `durableZxid` is on disk.
    private(set) var durableZxid: Int64 = 0

    init(dir: String, forceSync: Bool, onDurable: @escaping (Int64) -> Void, onError: @escaping (String) -> Void) {
        self.dir = dir
        self.forceSync = forceSync
        self.onDurable = onDurable
        self.onError = onError
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    func start() throws {
        thread = try PluginThread { [self] in run() }
    }

    /// Queues a txn; the answer to its client waits for `onDurable`.
    func append(_ txn: LoggedTxn) {
        pthread_mutex_lock(mutex)
        if rollRequested || segments.isEmpty {
            segments.append(Segment(rollBefore: rollRequested, firstZxid: txn.zxid, bytes: ByteBuffer()))
            rollRequested = false
        }
        // Encode in place: length and CRC are patched in after the payload.
        let i = segments.count - 1
        let header = segments[i].bytes.writerIndex
        segments[i].bytes.writeInteger(UInt64(0))
        txn.write(to: &segments[i].bytes)
        let length = segments[i].bytes.writerIndex - header - 8
        let crc = segments[i].bytes.withUnsafeReadableBytes { raw in
            sluice_crc32c(0, raw.baseAddress! + (header + 8 - segments[i].bytes.readerIndex), length)
        }
        segments[i].bytes.setInteger(UInt32(length), at: header, endianness: .big)
        segments[i].bytes.setInteger(crc, at: header + 4, endianness: .big)
        lastAppended = txn.zxid
        if writerWaiting { pthread_cond_signal(cond) }
        pthread_mutex_unlock(mutex)
    }

    /// The next append starts a new file (after a snapshot).
    func roll() {
        pthread_mutex_lock(mutex)
        rollRequested = true
        pthread_mutex_unlock(mutex)
    }

    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_signal(cond)
        pthread_mutex_unlock(mutex)
        thread?.join()
        thread = nil
        if fd >= 0 { close(fd); fd = -1 }
    }

    private func run() {
        while true {
            pthread_mutex_lock(mutex)
            while segments.isEmpty && !stopping {
                writerWaiting = true
                pthread_cond_wait(cond, mutex)
                writerWaiting = false
            }
            if segments.isEmpty && stopping {
                pthread_mutex_unlock(mutex)
                break
            }
            let batch = segments
            let last = lastAppended
            segments = []
            pthread_mutex_unlock(mutex)
            do {
                for s in batch {
                    if s.rollBefore || fd < 0 { try openFile(s.firstZxid) }
                    try writeAll(s.bytes)
                }
                if forceSync, fdatasync(fd) != 0 { throw SluiceError.io("fdatasync \(dir): \(String(cString: strerror(errno)))") }
                durableZxid = last
                onDurable(last)
            } catch {
                // A log that cannot be written must not acknowledge anything more.
                onError("transaction log: \(error); no further writes are acknowledged")
                pthread_mutex_lock(mutex)
                while !stopping { pthread_cond_wait(cond, mutex) }
                pthread_mutex_unlock(mutex)
                break
            }
        }
    }

    private func openFile(_ firstZxid: Int64) throws {
        if fd >= 0 {
            if forceSync { fdatasync(fd) }
            close(fd)
        }
        let path = dir + "/" + zxidFileName(TxnLogReader.prefix, firstZxid)
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SluiceError.io("cannot create \(path): \(String(cString: strerror(errno)))") }
        try syncDirectory(dir)
    }

    private func writeAll(_ buffer: ByteBuffer) throws {
        try buffer.withUnsafeReadableBytes { raw in
            var off = 0
            while off < raw.count {
                let n = write(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SluiceError.io("write \(dir): \(String(cString: strerror(errno)))")
                }
                off += n
            }
        }
    }
}

func syncDirectory(_ dir: String) throws {
    let d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard d >= 0 else { throw SluiceError.io("cannot open \(dir): \(String(cString: strerror(errno)))") }
    fsync(d)
    close(d)
}

/// Reads log files back (recovery). A torn or corrupt tail ends the file: the
/// file is cut there, since nothing after it was ever acknowledged.
enum TxnLogReader {
    static let prefix = "log."

    static func files(in dir: String) -> [(zxid: Int64, path: String)] { zxidFiles(in: dir, prefix: prefix) }

    /// Every intact txn of `path`, and where a bad tail was cut off. Only the
    /// newest file (`isLast`) can end torn — a write cut by a crash; a bad
    /// record in an older file is damage to acknowledged txns, and the
    /// server refuses to start rather than serve a tree with a gap.
    static func read(_ path: String, isLast: Bool) throws -> (txns: [LoggedTxn], truncatedAt: Int?) {
        let bytes = try readFile(path)
        var b = ByteBuffer(bytes: bytes)
        var txns: [LoggedTxn] = []
        var good = 0
        while b.readableBytes >= 8 {
            let len = Int(b.getInteger(at: b.readerIndex, endianness: .big, as: UInt32.self)!)
            let crc = b.getInteger(at: b.readerIndex + 4, endianness: .big, as: UInt32.self)!
            guard len > 0, len <= b.readableBytes - 8, var payload = b.getSlice(at: b.readerIndex + 8, length: len) else { break }
            let actual = payload.withUnsafeReadableBytes { sluice_crc32c(0, $0.baseAddress, $0.count) }
            guard actual == crc, let t = try? LoggedTxn(from: &payload) else { break }
            txns.append(t)
            b.moveReaderIndex(forwardBy: 8 + len)
            good = b.readerIndex
        }
        if good < bytes.count {
            guard isLast else {
                throw SluiceError.io("transaction log \(path) is damaged at byte \(good) of \(bytes.count), and newer log files follow it: refusing to start (acknowledged txns would be lost); restore the file or move it and the newer logs away")
            }
            guard truncate(path, off_t(good)) == 0 else { throw SluiceError.io("cannot cut torn tail of \(path)") }
            return (txns, good)
        }
        return (txns, nil)
    }
}

func readFile(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SluiceError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { if errno == EINTR { continue }; throw SluiceError.io("read \(path): \(String(cString: strerror(errno)))") }
        if n == 0 { break }
        out.append(contentsOf: chunk[0..<n])
    }
    return out
}
