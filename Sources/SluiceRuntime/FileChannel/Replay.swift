#if canImport(Glibc)
import Glibc
#endif

/// Rebuilds a file channel's queue: the checkpoint's queue, then every
/// record logged after the checkpoint's position. A torn record at the very
/// end of the newest file (a write cut short by a crash, never acknowledged)
/// is cut off with a warning; a damaged record anywhere else stops the
/// channel with an error naming the file and offset.
struct Replay {
    var queue: [EventRef] = []
    var lastSeq: UInt64 = 0
    var warnings: [String] = []
    var recordsReplayed = 0

    init(files: DataFiles, ids: [UInt32], checkpoint: Checkpoint?) throws {
        var removed = Set<UInt64>()
        if let cp = checkpoint {
            queue = cp.refs
            lastSeq = cp.lastSeq
        }
        let startFile = checkpoint?.positionFile ?? 0
        for (n, id) in ids.enumerated() where id >= startFile {
            guard let f = files.file(id) else { continue }
            let from = (checkpoint != nil && id == startFile) ? Int(checkpoint!.positionOffset) : 0
            let isLast = n == ids.count - 1
            try scan(f, from: from, isLast: isLast, files: files, removed: &removed)
        }
        if !removed.isEmpty { queue.removeAll { removed.contains($0.key) } }
    }

    private mutating func scan(_ f: DataFile, from: Int, isLast: Bool, files: DataFiles, removed: inout Set<UInt64>) throws {
        let size = f.size
        guard size > from else { return }
        guard let map = mmap(nil, size, PROT_READ, MAP_PRIVATE, f.fd, 0), map != MAP_FAILED else {
            throw FileChannelError(description: "cannot map \(f.path): \(errnoText())")
        }
        defer { munmap(map, size) }
        let p = UnsafeRawPointer(map)
        var at = from
        while at < size {
            let problem = recordProblem(p, at: at, size: size)
            if let problem {
                let isFinalRecord = problem.endsAt == nil || problem.endsAt! >= size
                if isLast && isFinalRecord {
                    warnings.append("\(f.path): torn record at offset \(at) (\(problem.what)), \(size - at) bytes cut off; it was never committed")
                    try files.truncate(f.id, to: at)
                    return
                }
                throw FileChannelError(description: "\(f.path): corrupt record at offset \(at): \(problem.what)")
            }
            let type = p.load(fromByteOffset: at, as: UInt8.self)
            let len = Int(loadU32(p, at + 4))
            let seq = loadU64(p, at + 8)
            let payload = at + LogRecord.headerSize
            if seq > lastSeq {
                try apply(type, p, payload, len, file: f, removed: &removed)
                lastSeq = seq
                recordsReplayed += 1
            }
            at = payload + len
        }
    }

    /// Why the record at `at` is not valid, and where it would end.
    private func recordProblem(_ p: UnsafeRawPointer, at: Int, size: Int) -> (what: String, endsAt: Int?)? {
        guard size - at >= LogRecord.headerSize else { return ("incomplete header", nil) }
        let type = p.load(fromByteOffset: at, as: UInt8.self)
        let version = p.load(fromByteOffset: at + 1, as: UInt8.self)
        let len = Int(loadU32(p, at + 4))
        let end = at + LogRecord.headerSize + len
        if type == 0 && version == 0 { return ("zero-filled", nil) }
        guard type == LogRecord.put || type == LogRecord.take, version == LogRecord.version else {
            return ("unknown record type \(type) version \(version)", end)
        }
        guard end <= size else { return ("\(len)-byte payload runs past the end of the file", nil) }
        var c = LogRecord.crc(p + at, 16)
        c = LogRecord.crc(p + at + LogRecord.headerSize, len, c)
        guard c == loadU32(p, at + 16) else { return ("checksum mismatch", end) }
        return nil
    }

    private mutating func apply(_ type: UInt8, _ p: UnsafeRawPointer, _ at: Int, _ len: Int,
                                file: DataFile, removed: inout Set<UInt64>) throws {
        func corrupt(_ why: String) -> FileChannelError {
            FileChannelError(description: "\(file.path): corrupt record at offset \(at - LogRecord.headerSize): \(why)")
        }
        guard len >= 4 else { throw corrupt("payload too short") }
        let count = Int(loadU32(p, at))
        var i = at + 4
        let end = at + len
        if type == LogRecord.put {
            for _ in 0..<count {
                guard i + 4 <= end else { throw corrupt("event table runs past the record") }
                let n = Int(loadU32(p, i)) + 4
                guard n >= 12, i + n <= end else { throw corrupt("event length \(n) runs past the record") }
                queue.append(EventRef(file: file.id, offset: UInt32(i), length: UInt32(n)))
                i += n
            }
        } else {
            guard count <= (len - 4) / 8 else { throw corrupt("take count \(count) runs past the record") }
            for _ in 0..<count {
                removed.insert(UInt64(loadU32(p, i)) << 32 | UInt64(loadU32(p, i + 4)))
                i += 8
            }
        }
    }
}
