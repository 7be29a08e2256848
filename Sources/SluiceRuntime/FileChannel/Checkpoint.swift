#if canImport(Glibc)
import Glibc
#endif

/// A snapshot of a file channel's queue and of where in the log it was
/// taken: replay applies only records from `position` on.
///
///     "SLCKPT01"  u64 last sequence  u32 position file  u32 position offset
///     u32 next file id  u32 reserved  u64 count  count × (u32 file, u32 offset, u32 length)
///     u32 CRC-32C of everything before it
struct Checkpoint {
    static let magic = Array("SLCKPT01".utf8)

    var lastSeq: UInt64
    var positionFile: UInt32
    var positionOffset: UInt32
    var nextFileID: UInt32
    var refs: [EventRef]

    /// Writes to `<dir>/checkpoint` atomically: temp file, fsync, rename, fsync dir.
    func write(to dir: String) throws {
        var b = RecordBuffer(capacity: 48 + refs.count * 12)
        defer { b.free() }
        Self.magic.withUnsafeBytes { b.bytes($0.baseAddress, 8) }
        b.u32(UInt32(truncatingIfNeeded: lastSeq))
        b.u32(UInt32(truncatingIfNeeded: lastSeq >> 32))
        b.u32(positionFile)
        b.u32(positionOffset)
        b.u32(nextFileID)
        b.u32(0)
        b.u32(UInt32(truncatingIfNeeded: refs.count))
        b.u32(UInt32(truncatingIfNeeded: UInt64(refs.count) >> 32))
        for r in refs {
            b.u32(r.file)
            b.u32(r.offset)
            b.u32(r.length)
        }
        b.u32(LogRecord.crc(b.base, b.count))
        try makeDirectories(dir)
        let tmp = dir + "/checkpoint.tmp", final = dir + "/checkpoint"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileChannelError(description: "cannot write checkpoint \(tmp): \(errnoText())") }
        var done = 0
        while done < b.count {
            let n = Glibc.write(fd, b.base + done, b.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let e = errnoText()
                close(fd)
                throw FileChannelError(description: "cannot write checkpoint \(tmp): \(e)")
            }
            done += n
        }
        guard fsync(fd) == 0 else {
            let e = errnoText()
            close(fd)
            throw FileChannelError(description: "cannot fsync checkpoint \(tmp): \(e)")
        }
        close(fd)
        guard rename(tmp, final) == 0 else {
            throw FileChannelError(description: "cannot rename \(tmp) to \(final): \(errnoText())")
        }
        try syncDirectory(dir)
    }

    /// nil when there is no checkpoint; throws when one exists but is damaged.
    static func read(from dir: String) throws -> Checkpoint? {
        let path = dir + "/checkpoint"
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw FileChannelError(description: "cannot open checkpoint \(path): \(errnoText())")
        }
        defer { close(fd) }
        var st = stat()
        fstat(fd, &st)
        let size = Int(st.st_size)
        guard size >= 44 else { throw FileChannelError(description: "checkpoint \(path) is damaged: only \(size) bytes") }
        let buf = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        defer { buf.deallocate() }
        var done = 0
        while done < size {
            let n = Glibc.read(fd, buf + done, size - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw FileChannelError(description: "cannot read checkpoint \(path): \(errnoText())") }
            done += n
        }
        guard memcmp(buf, magic, 8) == 0 else { throw FileChannelError(description: "checkpoint \(path) is damaged: bad magic") }
        let count = Int(loadU64(buf, 32))
        guard count >= 0, count <= (size - 44) / 12, size == 40 + count * 12 + 4 else {
            throw FileChannelError(description: "checkpoint \(path) is damaged: size \(size) does not match its \(count) events")
        }
        guard LogRecord.crc(buf, size - 4) == loadU32(buf, size - 4) else {
            throw FileChannelError(description: "checkpoint \(path) is damaged: checksum mismatch")
        }
        var refs: [EventRef] = []
        refs.reserveCapacity(count)
        for i in 0..<count {
            let at = 40 + i * 12
            refs.append(EventRef(file: loadU32(buf, at), offset: loadU32(buf, at + 4), length: loadU32(buf, at + 8)))
        }
        return Checkpoint(lastSeq: loadU64(buf, 8), positionFile: loadU32(buf, 16), positionOffset: loadU32(buf, 20),
                          nextFileID: loadU32(buf, 24), refs: refs)
    }
}
