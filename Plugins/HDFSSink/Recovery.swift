import CZlib
import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// Crash recovery at start: in-use files left by a previous run (an agent
/// killed with files open) are cut back to their last whole record and
/// renamed to their final names. Every batch was synced before its commit,
/// so what a committed batch wrote is whole; only a batch that was being
/// written when the agent died can be torn, and that batch was not
/// committed (the channel delivers it again).
///
/// Searched: the part of `hdfs.path` before its first escape, recursively
/// (8 levels), for `<inUsePrefix><static filePrefix>*<inUseSuffix>`.
struct Recovery {
    let config: HDFSSinkConfig
    let pathTemplate: PathTemplate
    let prefixTemplate: PathTemplate
    let log: (LogLevel, String) -> Void

    func run() -> Int {
        if config.inUsePrefix.isEmpty && config.inUseSuffix.isEmpty {
            log(.info, "hdfs.inUsePrefix and hdfs.inUseSuffix are both empty: open files cannot be told from closed ones, no crash recovery")
            return 0
        }
        var root = pathTemplate.staticPrefix
        if pathTemplate.constant == nil {
            // Up to the last '/' before the first escape.
            if let slash = root.lastIndex(of: "/") { root = String(root[...slash]) } else { return 0 }
        }
        if root.isEmpty { return 0 }
        return scan(root, depth: 0)
    }

    private func scan(_ dir: String, depth: Int) -> Int {
        guard depth <= 8, let d = opendir(dir) else { return 0 }
        var names: [(String, Bool)] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name == "." || name == ".." { continue }
            names.append((name, entry.pointee.d_type == UInt8(DT_DIR)))
        }
        closedir(d)
        var recovered = 0
        let base = dir.hasSuffix("/") ? dir : dir + "/"
        let staticPrefix = prefixTemplate.staticPrefix
        for (name, isDir) in names {
            if isDir {
                if pathTemplate.constant == nil { recovered += scan(base + name, depth: depth + 1) }
                continue
            }
            guard name.hasPrefix(config.inUsePrefix), name.hasSuffix(config.inUseSuffix),
                  name.count > config.inUsePrefix.count + config.inUseSuffix.count else { continue }
            let finalName = String(name.dropFirst(config.inUsePrefix.count).dropLast(config.inUseSuffix.count))
            guard finalName.hasPrefix(staticPrefix) else { continue }
            if recoverFile(base + name, to: base + finalName) { recovered += 1 }
        }
        return recovered
    }

    private func recoverFile(_ path: String, to finalPath: String) -> Bool {
        guard let bytes = readWholeFile(path) else {
            log(.warn, "recovery: cannot read \(path): \(errnoText())")
            return false
        }
        let keep = wholeLength(bytes)
        if keep == 0 {
            unlink(path)
            log(.info, "recovery: removed \(path) (no complete record)")
            return true
        }
        if keep < bytes.count {
            if truncate(path, off_t(keep)) != 0 {
                log(.warn, "recovery: cannot truncate \(path): \(errnoText())")
                return false
            }
            log(.info, "recovery: cut \(bytes.count - keep) bytes of an uncommitted batch off \(path)")
        }
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
        if let failure = renameNoReplace(path, finalPath) {
            log(.warn, "recovery: cannot rename \(path) to \(finalPath): \(failure)")
            return false
        }
        syncDirectory(String(finalPath[..<(finalPath.lastIndex(of: "/") ?? finalPath.startIndex)]))
        log(.info, "recovery: closed \(finalPath) left open by a previous run")
        return true
    }

    /// The length of the longest prefix made of whole records.
    func wholeLength(_ b: [UInt8]) -> Int {
        switch config.fileType {
        case .dataStream:
            guard config.appendNewline else { return b.count }
            return (b.lastIndex(of: 0x0a)).map { $0 + 1 } ?? 0
        case .compressedStream:
            return wholeGzipMembers(b)
        case .sequenceFile:
            return wholeSequenceFileRecords(b)
        }
    }

    private func wholeSequenceFileRecords(_ b: [UInt8]) -> Int {
        func int32(_ at: Int) -> Int? {
            guard at + 4 <= b.count else { return nil }
            return Int(Int32(bitPattern: UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])))
        }
        func vint(_ at: Int) -> (Int, Int)? {
            guard at < b.count else { return nil }
            let first = Int8(bitPattern: b[at])
            if first >= -112 { return (Int(first), 1) }
            let negative = first < -120
            let n = negative ? -(Int(first) + 120) : -(Int(first) + 112)
            guard at + n < b.count else { return nil }
            var v = 0
            for i in 1...n { v = v << 8 | Int(b[at + i]) }
            return (negative ? ~v : v, n + 1)
        }
        guard b.count >= 4, b[0] == 0x53, b[1] == 0x45, b[2] == 0x51 else { return 0 }
        var at = 4
        for _ in 0..<2 {
            guard let (len, size) = vint(at) else { return 0 }
            at += size + len
        }
        guard at + 2 <= b.count, b[at] == 0 else { return 0 } // uncompressed only
        at += 2
        guard let metaCount = int32(at) else { return 0 }
        at += 4
        for _ in 0..<max(metaCount, 0) * 2 {
            guard let (len, size) = vint(at) else { return 0 }
            at += size + len
        }
        at += 16
        guard at <= b.count else { return 0 }
        var whole = at
        while let recordLength = int32(at) {
            if recordLength == -1 {
                guard at + 20 <= b.count else { break }
                at += 20
                continue
            }
            guard recordLength > 0, at + 8 + recordLength <= b.count else { break }
            at += 8 + recordLength
            whole = at
        }
        return whole
    }

    private func wholeGzipMembers(_ b: [UInt8]) -> Int {
        var whole = 0
        var scratch = [UInt8](repeating: 0, count: 64 * 1024)
        while whole < b.count {
            var stream = z_stream()
            guard sluice_inflate_init_gzip(&stream) == Z_OK else { return whole }
            defer { inflateEnd(&stream) }
            var ended = false
            b.withUnsafeBufferPointer { input in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + whole)
                stream.avail_in = uInt(input.count - whole)
                scratch.withUnsafeMutableBufferPointer { out in
                    while true {
                        stream.next_out = out.baseAddress
                        stream.avail_out = uInt(out.count)
                        let rc = inflate(&stream, Z_NO_FLUSH)
                        if rc == Z_STREAM_END { ended = true; return }
                        if rc != Z_OK { return }
                        if stream.avail_in == 0 && stream.avail_out > 0 { return }
                    }
                }
            }
            guard ended else { break }
            whole = b.count - Int(stream.avail_in)
        }
        return whole
    }
}
