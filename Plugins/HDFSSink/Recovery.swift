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
    /// A WebHDFS destination; nil: local files.
    var remote: WebHDFSClient? = nil
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
        guard depth <= 8, let names = entries(dir) else { return 0 }
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
            let ok = remote.map { recoverRemoteFile($0, base + name, to: base + finalName) } ?? recoverFile(base + name, to: base + finalName)
            if ok { recovered += 1 }
        }
        return recovered
    }

    /// (name, isDirectory) of what `dir` holds; nil when it cannot be listed.
    private func entries(_ dir: String) -> [(String, Bool)]? {
        if let remote {
            do { return try remote.list(dir).map { ($0.name, $0.isDirectory) } } catch {
                log(.warn, "recovery: cannot list \(dir) on \(remote.description): \(error)")
                return nil
            }
        }
        guard let d = opendir(dir) else { return nil }
        defer { closedir(d) }
        var names: [(String, Bool)] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name == "." || name == ".." { continue }
            names.append((name, entry.pointee.d_type == UInt8(DT_DIR)))
        }
        return names
    }

    /// The same cut as for a local file, through WebHDFS: OPEN reads the
    /// file, TRUNCATE (or DELETE) drops the torn tail, RENAME closes it.
    private func recoverRemoteFile(_ remote: WebHDFSClient, _ path: String, to finalPath: String) -> Bool {
        do {
            let bytes = try remote.read(path)
            let keep = wholeLength(bytes)
            if keep == 0 {
                try remote.delete(path)
                log(.info, "recovery: removed \(path) on \(remote.description) (no complete record)")
                return true
            }
            if keep < bytes.count {
                guard try remote.truncate(path, to: Int64(keep)) else {
                    log(.warn, "recovery: \(path) on \(remote.description): TRUNCATE needs block recovery first; left for the next start")
                    return false
                }
                log(.info, "recovery: cut \(bytes.count - keep) bytes of an uncommitted batch off \(path) on \(remote.description)")
            }
        } catch {
            log(.warn, "recovery: \(error)")
            return false
        }
        if let failure = remote.rename(path, finalPath) {
            log(.warn, "recovery: \(failure)")
            return false
        }
        log(.info, "recovery: closed \(path) as \(finalPath) on \(remote.description)")
        return true
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

    /// The length of the longest prefix made of whole records (or whole
    /// compressed units / blocks).
    func wholeLength(_ b: [UInt8]) -> Int {
        switch config.fileType {
        case .dataStream:
            if config.serializer == .avroEvent { return AvroContainerWriter.wholeLength(b) }
            guard config.appendNewline else { return b.count }
            return (b.lastIndex(of: 0x0a)).map { $0 + 1 } ?? 0
        case .compressedStream:
            guard let codec = config.codec else { return b.count }
            var whole = 0
            while let n = Compression.unitLength(b, at: whole, codec: codec) { whole += n }
            return whole
        case .sequenceFile:
            return wholeSequenceFileRecords(b)
        }
    }

    private func wholeSequenceFileRecords(_ b: [UInt8]) -> Int {
        guard b.count >= 4, b[0] == 0x53, b[1] == 0x45, b[2] == 0x51 else { return 0 }
        var at = 4
        for _ in 0..<2 {
            guard let (len, size) = b.vlong(at: at) else { return 0 }
            at += size + len
        }
        guard at + 2 <= b.count else { return 0 }
        let blockCompressed = b[at + 1] != 0
        var codec: Codec?
        let compressed = b[at] != 0
        at += 2
        if compressed {
            guard let (len, size) = b.vlong(at: at), at + size + len <= b.count,
                  let c = try? Codec.named(String(decoding: b[(at + size)..<(at + size + len)], as: UTF8.self)) else { return 0 }
            codec = c
            at += size + len
        }
        guard let metaCount = b.int32(at: at) else { return 0 }
        at += 4
        for _ in 0..<max(metaCount, 0) * 2 {
            guard let (len, size) = b.vlong(at: at) else { return 0 }
            at += size + len
        }
        guard at + 16 <= b.count else { return 0 }
        let sync = b[at..<(at + 16)]
        at += 16
        if let codec = codec, blockCompressed {
            return wholeBlocks(b, from: at, sync: sync, codec: codec)
        }
        guard codec == nil else { return 0 } // record-compressed: not written by this sink
        var whole = at
        while let recordLength = b.int32(at: at) {
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

    /// BLOCK compression: sync escape + marker, vlong count, four buffers
    /// (vlong size + one whole codec unit each).
    private func wholeBlocks(_ b: [UInt8], from start: Int, sync: ArraySlice<UInt8>, codec: Codec) -> Int {
        var at = start, whole = start
        blocks: while b.int32(at: at) == -1, at + 20 <= b.count, b[(at + 4)..<(at + 20)].elementsEqual(sync) {
            at += 20
            guard let (count, used) = b.vlong(at: at), count > 0 else { break }
            at += used
            for _ in 0..<4 {
                guard let (size, sizeUsed) = b.vlong(at: at), size > 0, at + sizeUsed + size <= b.count,
                      Compression.unitLength(b, at: at + sizeUsed, codec: codec) == size else { break blocks }
                at += sizeUsed + size
            }
            whole = at
        }
        return whole
    }
}
