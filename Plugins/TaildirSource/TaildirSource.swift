import PluginRegex
import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// Flume's TAILDIR source: follows the files of several groups (a directory
/// and a file-name regex each), one event per complete line, and records in
/// a JSON position file how far each file was delivered.
///
/// Delivery: a file's committed position moves only after the batch holding
/// its lines was committed to the channels; a refused batch is resubmitted
/// unchanged after the runner's back-off. The position file is rewritten
/// (atomically, without fsync) after every committed batch, so a killed
/// agent repeats at most the batch in flight; and fsync'd every
/// `writePosInterval` and on stop, so after a power loss at most
/// `writePosInterval` worth of lines repeat. Never a loss.
///
/// Files are followed by inode: a file renamed while it is still matched (or
/// still open) carries on from its position; a new file at the old name is a
/// new inode and is read from the start. A file that becomes shorter than
/// the read position (copy-truncate) is read again from the start.
final class TaildirSource: PollableSource {
    /// How long a file that is neither matched nor open, or a saved position
    /// whose inode was not found, is remembered before it is dropped. Covers
    /// a rename seen half-way by one directory listing.
    static let forgetAfterMillis: Int64 = 10_000

    let context: ComponentContext
    let groups: [FileGroup]
    let positionFile: PositionFile
    let batchSize: Int
    let maxBatchCount: Int
    let skipToEnd: Bool
    let idleTimeout: Int64
    let writePosInterval: Int
    let byteOffsetHeader: Bool
    let fileHeader: Bool
    let fileHeaderKey: [UInt8]
    let cachePatternMatching: Bool
    private let hasHeaders: Bool

    private struct Restored {
        let slot: Int
        let pos: Int64
        let path: String
    }

    private enum TailResult { case idle, delivered, blocked }

    // Runner-thread state (and control thread in start/stop, never at once).
    private var files: [FileID: TailFile] = [:]
    /// Files in the order they are read: discovery order, new files of one
    /// scan oldest first, so a rotated file is read before its successor.
    private var order: [FileID] = []
    /// Saved positions not yet matched to a file, by inode.
    private var restored: [UInt64: [Restored]] = [:]
    /// When the loaded position file was last written (wall-clock ns).
    private var restoredWrittenAt: Int64?
    private var nextSlot = 0
    private var batch: OwnedBatch?
    private var pending: (id: FileID, end: Int64, epoch: Int)?
    private let buffer = ReadBuffer()
    private let scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: 32)
    private let offsetKey = Array("byteoffset".utf8)
    private var startedAt: Int64 = 0
    private var started = false
    private var fullLogged = false
    private var longLineLogged = false

    // Shared with the position writer thread.
    private let table = Locked(PositionTableState())
    private let writerSignal = StopSignal()
    private var writer: PluginThread?
    /// Writer-thread state; read by stop() only after the thread was joined.
    private var lastWrittenVersion: UInt64?
    private var lastSyncedVersion: UInt64?
    private var writeFailing = false
    /// The runner (after each commit) and the writer thread both save.
    private let saving = Locked(())

    init(context: ComponentContext, properties: Properties) throws {
        self.context = context
        let names = properties.list("filegroups")
        guard !names.isEmpty else {
            throw SluiceError.config("property 'filegroups': missing required property (space-separated file group names)")
        }

        var headerTable: [String: [(String, String)]] = [:]
        for (k, v) in properties.subset("headers").values.sorted(by: { $0.key < $1.key }) {
            guard let dot = k.firstIndex(of: "."), dot != k.startIndex, k.index(after: dot) != k.endIndex else {
                throw SluiceError.config("property 'headers.\(k)': expected headers.<file group>.<header name>")
            }
            let group = String(k[..<dot])
            guard names.contains(group) else {
                context.log(.warn, "property 'headers.\(k)': '\(group)' is not listed in filegroups; ignored")
                continue
            }
            headerTable[group, default: []].append((String(k[k.index(after: dot)...]), v))
        }

        var groups: [FileGroup] = []
        var listed = Set<String>()
        for name in names where listed.insert(name).inserted {
            let key = "filegroups.\(name)"
            guard let raw = properties[key], !raw.isEmpty else {
                throw SluiceError.config("property '\(key)': missing; every name in filegroups needs a path")
            }
            guard raw.hasPrefix("/") else {
                throw SluiceError.config("property '\(key)': '\(raw)' is not an absolute path")
            }
            guard let slash = raw.lastIndex(of: "/") else {
                throw SluiceError.config("property '\(key)': '\(raw)' is not an absolute path")
            }
            let pattern = String(raw[raw.index(after: slash)...])
            guard !pattern.isEmpty else {
                throw SluiceError.config("property '\(key)': '\(raw)' has no file name pattern after the last '/'")
            }
            var dir = String(raw[..<slash])
            while dir.count > 1, dir.hasSuffix("/") { dir.removeLast() }
            if dir.isEmpty { dir = "/" }
            let regex = try PCRE2Regex(pattern: pattern, key: key, anchoring: .wholeSubject)
            groups.append(FileGroup(name: name, directory: dir, regex: regex, headers: headerTable[name] ?? []))
        }
        for key in properties.values.keys.sorted() where key.hasPrefix("filegroups.") {
            let group = String(key.dropFirst("filegroups.".count))
            if !listed.contains(group) {
                context.log(.warn, "property '\(key)': '\(group)' is not listed in filegroups; ignored")
            }
        }
        self.groups = groups

        positionFile = PositionFile(path: TaildirSource.expandHome(properties.string("positionFile", default: "~/.flume/taildir_position.json")))
        func positive(_ key: String, _ def: Int) throws -> Int {
            let v = try properties.int(key, default: def)
            guard v > 0 else { throw SluiceError.config("property '\(key)': must be > 0 (got \(v))") }
            return v
        }
        batchSize = try positive("batchSize", 100)
        maxBatchCount = try positive("maxBatchCount", Int.max)
        idleTimeout = Int64(try positive("idleTimeout", 120_000))
        writePosInterval = try positive("writePosInterval", 3000)
        skipToEnd = try properties.bool("skipToEnd", default: false)
        byteOffsetHeader = try properties.bool("byteOffsetHeader", default: false)
        fileHeader = try properties.bool("fileHeader", default: false)
        let headerKey = properties.string("fileHeaderKey", default: "file")
        guard !headerKey.isEmpty else { throw SluiceError.config("property 'fileHeaderKey': must not be empty") }
        fileHeaderKey = Array(headerKey.utf8)
        cachePatternMatching = try properties.bool("cachePatternMatching", default: true)
        hasHeaders = byteOffsetHeader || fileHeader || groups.contains { !$0.headers.isEmpty }
    }

    deinit {
        for f in files.values { f.closeDescriptor() }
        scratch.deallocate()
    }

    /// "~" and "~/..." name the home directory ($HOME, else the password database).
    static func expandHome(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        var home = getenv("HOME").map { String(cString: $0) } ?? ""
        if home.isEmpty, let pw = getpwuid(getuid()), let dir = pw.pointee.pw_dir {
            home = String(cString: dir)
        }
        return home + path.dropFirst()
    }

    // MARK: Lifecycle

    func start() throws {
        try makeDirectories(parentDirectory(of: positionFile.path))
        batch = context.newBatch(capacity: batchSize)
        startedAt = monotonicMillis()
        loadPositions()
        scan(now: startedAt, first: true)
        started = true
        writer = try PluginThread { [self] in
            while writerSignal.wait(millis: writePosInterval) { savePositions(force: false) }
        }
        context.log(.info, "following \(files.count) files in \(groups.count) file groups; positions in \(positionFile.path)")
    }

    func stop() throws {
        writerSignal.cancel()
        writer?.join()
        writer = nil
        // The runner was joined before stop: the table holds the final
        // committed positions. A batch still refused is not in it, so its
        // lines are read again after a restart.
        if started { savePositions(force: true) }
        for f in files.values { f.closeDescriptor() }
    }

    // MARK: Polling

    func process() throws -> ProcessStatus {
        guard let batch else { return .backoff }
        if pending != nil || !batch.isEmpty {
            guard try submitPending(batch) else { return .backoff }
        }
        let now = monotonicMillis()
        scan(now: now, first: false)
        var worked = false
        for id in order {
            if context.isStopping { break }
            guard let f = files[id] else { continue }
            switch try tail(f, batch, now: now) {
            case .idle: break
            case .delivered: worked = true
            case .blocked: return .backoff
            }
        }
        closeIdle(now: now)
        return worked ? .ready : .backoff
    }

    /// Submits the batch in hand. On commit the file's committed position
    /// advances to the end of the batch's last line.
    private func submitPending(_ batch: OwnedBatch) throws -> Bool {
        switch try context.submit(batch) {
        case .committed:
            if let p = pending, let f = files[p.id], f.epoch == p.epoch {
                f.committedPos = p.end
                let slot = f.slot, pos = p.end
                table.withLock { s in
                    s.entries[slot]?.pos = pos
                    s.version &+= 1
                }
                savePositions(force: false, sync: false)
            }
            pending = nil
            if fullLogged {
                context.log(.info, "channel accepts events again")
                fullLogged = false
            }
            return true
        case .channelFull(let why):
            if !fullLogged {
                context.log(.warn, "\(why); the same batch is retried after back-off (logged once until it succeeds)")
                fullLogged = true
            }
            return false
        }
    }

    /// Reads and submits the new complete lines of one file: up to
    /// `maxBatchCount` batches of `batchSize` lines.
    private func tail(_ f: TailFile, _ batch: OwnedBatch, now: Int64) throws -> TailResult {
        let size: Int64
        if f.fd >= 0 {
            var st = stat()
            guard fstat(f.fd, &st) == 0 else {
                f.closeDescriptor()
                return .idle
            }
            size = Int64(st.st_size)
            if st.st_nlink == 0 { f.deleted = true }
        } else if f.matched {
            size = f.scanSize
        } else {
            return .idle
        }
        if size < f.readPos {
            restartFromZero(f, "it is now \(size) bytes, shorter than the read position \(f.readPos) (copy-truncate rotation?)")
        }
        if size == f.readPos || size == f.stalledSize {
            if f.deleted {
                context.log(.info, "'\(f.path)' was deleted; closing it after its last complete line")
                forget(f)
            }
            return .idle
        }
        if f.fd < 0 {
            guard openFile(f, now: now) else { return .idle }
        }
        if f.readPos > 0 && !f.midLine {
            // The position is always just after a '\n'. If that byte is
            // something else now, the file was truncated and rewritten
            // past our position between two polls.
            var byte: UInt8 = 0
            if pread(f.fd, &byte, 1, off_t(f.readPos - 1)) == 1, byte != 0x0a {
                restartFromZero(f, "the byte before the read position is no longer a line end (truncated and rewritten?)")
            }
        }
        buffer.reset(at: f.readPos)
        var result = TailResult.idle
        var batches = 0
        while batches < maxBatchCount && !context.isStopping {
            let (lines, failed) = fill(f, batch)
            if lines > 0 {
                pending = (f.id, f.readPos, f.epoch)
                guard try submitPending(batch) else { return .blocked }
                result = .delivered
                batches += 1
                f.lastActivity = now
            }
            if let failed {
                context.log(.warn, "cannot read '\(f.path)': \(errnoText(failed)); closing it, retrying on a later poll")
                f.closeDescriptor()
                break
            }
            if lines < batchSize { break }
        }
        return result
    }

    /// Appends up to `batchSize` complete lines from the buffer (reading
    /// more as needed) and moves `readPos` past them. A trailing "\r" before
    /// the "\n" is dropped, as Flume does. Returns the line count and a read
    /// error, if one stopped it.
    private func fill(_ f: TailFile, _ batch: OwnedBatch) -> (Int, Int32?) {
        let events = batch.events
        let group = groups[f.group]
        var lines = 0
        var failure: Int32?
        reading: while lines < batchSize {
            let available = buffer.end - buffer.start
            if available > 0, let hit = memchr(buffer.base + buffer.start, 0x0a, available) {
                let newline = hit.assumingMemoryBound(to: UInt8.self) - buffer.base
                var length = newline - buffer.start
                if length > 0 && buffer.base[newline - 1] == 0x0d { length -= 1 }
                guard append(buffer.base + buffer.start, length, lineStart: buffer.offset, f, group, batch, events) else { break }
                buffer.offset += Int64(newline + 1 - buffer.start)
                buffer.start = newline + 1
                f.midLine = false
                lines += 1
                continue
            }
            if buffer.atEOF {
                // Only a partial line (or nothing) is left: it waits for its newline.
                f.stalledSize = buffer.offset + Int64(available)
                break
            }
            switch buffer.refill(fd: f.fd) {
            case .ok:
                continue
            case .failed(let e):
                failure = e
                break reading
            case .full:
                if !longLineLogged {
                    context.log(.warn, "'\(f.path)' has a line longer than \(ReadBuffer.maxCapacity) bytes; it is delivered in pieces of that size (logged once)")
                    longLineLogged = true
                }
                guard append(buffer.base + buffer.start, available, lineStart: buffer.offset, f, group, batch, events) else { break reading }
                buffer.offset += Int64(available)
                buffer.start = buffer.end
                f.midLine = true
                lines += 1
            }
        }
        f.readPos = buffer.offset
        return (lines, failure)
    }

    /// One event: the body through the raw fast path, then the headers.
    @inline(__always)
    private func append(_ body: UnsafePointer<UInt8>, _ length: Int, lineStart: Int64, _ f: TailFile,
                        _ group: FileGroup, _ batch: OwnedBatch, _ events: MutableBatch) -> Bool {
        do {
            try batch.append(body: UnsafeRawBufferPointer(start: body, count: length))
        } catch {
            return false
        }
        guard hasHeaders else { return true }
        let index = batch.count - 1
        for h in group.headers {
            h.key.withUnsafeBufferPointer { k in
                h.value.withUnsafeBytes { v in events.setHeader(index, key: k, value: v) }
            }
        }
        if fileHeader {
            fileHeaderKey.withUnsafeBufferPointer { k in
                f.pathBytes.withUnsafeBytes { v in events.setHeader(index, key: k, value: v) }
            }
        }
        if byteOffsetHeader {
            let n = writeDecimal(lineStart, into: scratch)
            offsetKey.withUnsafeBufferPointer { k in
                events.setHeader(index, key: k, value: UnsafeRawBufferPointer(start: scratch, count: n))
            }
        }
        return true
    }

    private func openFile(_ f: TailFile, now: Int64) -> Bool {
        let fd = open(f.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if !f.openFailureLogged {
                context.log(.warn, "cannot open '\(f.path)': \(errnoText()); retrying on later polls (logged once)")
                f.openFailureLogged = true
            }
            return false
        }
        var st = stat()
        guard fstat(fd, &st) == 0, fileID(st) == f.id else {
            // Replaced since the scan; the next scan sorts it out.
            close(fd)
            return false
        }
        if let was = f.birth, let now = BirthTime.of(fd: fd), now != was {
            context.log(.info, "'\(f.path)' is a new file that reuses inode \(f.id.ino) of a file followed before; reading it from the start")
            f.birth = now
            restartFromZero(f, nil)
        }
        f.openFailureLogged = false
        f.fd = fd
        f.lastActivity = now
        return true
    }

    private func restartFromZero(_ f: TailFile, _ reason: String?) {
        if let reason {
            context.log(.warn, "'\(f.path)': \(reason); reading it again from the start")
        }
        f.readPos = 0
        f.committedPos = 0
        f.epoch += 1
        f.stalledSize = -1
        f.midLine = false
        let slot = f.slot
        table.withLock { s in
            s.entries[slot]?.pos = 0
            s.version &+= 1
        }
    }

    private func closeIdle(now: Int64) {
        for id in order {
            guard let f = files[id], f.fd >= 0, now - f.lastActivity >= idleTimeout else { continue }
            f.closeDescriptor()
        }
    }

    // MARK: Finding files

    /// Lists every group, follows renames, adds new files and forgets files
    /// that have been gone for a while.
    private func scan(now: Int64, first: Bool) {
        var seen: [FileID: (path: String, size: Int64, group: Int, mtime: Int64)] = [:]
        var seenOrder: [FileID] = []
        for (gi, g) in groups.enumerated() {
            for name in g.matchingNames(useCache: cachePatternMatching, context: context) {
                let path = g.path(of: name)
                guard let st = statPath(path), isRegular(st) else { continue }
                let id = fileID(st)
                if let prev = seen[id] {
                    // Hard links: keep the name already followed.
                    if prev.path != path, files[id]?.path == path { seen[id]?.path = path }
                    continue
                }
                seen[id] = (path, Int64(st.st_size), gi, nanos(st.st_mtim))
                seenOrder.append(id)
            }
        }

        var fresh: [(id: FileID, mtime: Int64)] = []
        for id in seenOrder {
            guard let info = seen[id] else { continue }
            guard let f = files[id] else {
                fresh.append((id, info.mtime))
                continue
            }
            if f.path != info.path {
                if f.fd < 0, let was = f.birth, let now = BirthTime.of(path: info.path), now != was {
                    // Not a rename: a new file got the inode of one that was deleted.
                    forget(f, quietly: true)
                    fresh.append((id, info.mtime))
                    continue
                }
                context.log(.info, "'\(f.path)' is now '\(info.path)' (inode \(id.ino)): continuing at byte \(f.readPos)")
                f.rename(to: info.path)
                let slot = f.slot, path = info.path
                table.withLock { s in
                    s.entries[slot]?.file = path
                    s.version &+= 1
                }
            }
            f.matched = true
            f.missingSince = nil
            f.scanSize = info.size
        }
        fresh.sort { $0.mtime < $1.mtime }
        for (id, _) in fresh {
            guard let info = seen[id] else { continue }
            track(id, path: info.path, size: info.size, group: info.group, first: first)
        }

        for id in order where seen[id] == nil {
            guard let f = files[id] else { continue }
            if f.matched {
                f.matched = false
                if f.fd >= 0 {
                    if let p = currentPath(of: f.fd), p != f.path {
                        context.log(.info, "'\(f.path)' is now '\(p)', which no file group matches; reading on through the open file until it is idle")
                        f.rename(to: p)
                        let slot = f.slot
                        table.withLock { s in
                            s.entries[slot]?.file = p
                            s.version &+= 1
                        }
                    }
                }
            }
            if f.fd >= 0 { continue }
            if let since = f.missingSince {
                if now - since >= TaildirSource.forgetAfterMillis { forget(f) }
            } else {
                f.missingSince = now
            }
        }
        if !restored.isEmpty, now - startedAt >= TaildirSource.forgetAfterMillis {
            expireRestored()
        }
    }

    /// Starts following a file seen for the first time.
    private func track(_ id: FileID, path: String, size: Int64, group: Int, first: Bool) {
        let birth = BirthTime.of(path: path)
        var pos: Int64 = 0
        let slot: Int
        var how = "from the start"
        if let r = claimRestored(inode: id.ino, path: path, size: size, birth: birth) {
            slot = r.slot
            pos = r.pos
            how = "at saved position \(pos)"
        } else {
            slot = nextSlot
            nextSlot += 1
            if first && skipToEnd {
                pos = TaildirSource.endOfLastLine(path: path, size: size)
                how = "at its end (skipToEnd), byte \(pos)"
            }
        }
        let f = TailFile(id: id, group: group, slot: slot, path: path, pos: pos, birth: birth)
        f.scanSize = size
        files[id] = f
        order.append(id)
        let entry = PositionEntry(inode: id.ino, pos: pos, file: path)
        table.withLock { s in
            s.entries[slot] = entry
            s.version &+= 1
        }
        context.log(.info, "following '\(path)' (inode \(id.ino), group \(groups[group].name)) \(how)")
    }

    /// The saved position for a file found at start, if one belongs to it:
    /// same inode, preferably the same path. A different path means the file
    /// was renamed while the agent was down, unless the file was created
    /// after the position file was written (then the inode was reused).
    private func claimRestored(inode: UInt64, path: String, size: Int64, birth: Int64?) -> Restored? {
        guard var list = restored[inode], !list.isEmpty else { return nil }
        let index = list.firstIndex { $0.path == path } ?? list.startIndex
        let r = list.remove(at: index)
        restored[inode] = list.isEmpty ? nil : list
        if let b = birth, let written = restoredWrittenAt, b > written {
            context.log(.info, "'\(path)' has inode \(inode) of saved '\(r.path)' but was created after the position file was written; it is a new file")
            let slot = r.slot
            table.withLock { s in
                s.entries[slot] = nil
                s.version &+= 1
            }
            return nil
        }
        if r.pos > size {
            context.log(.warn, "'\(path)' is \(size) bytes, shorter than its saved position \(r.pos) (truncated while the agent was stopped?); reading it from the start")
            return Restored(slot: r.slot, pos: 0, path: r.path)
        }
        if r.path != path {
            context.log(.info, "'\(r.path)' was renamed to '\(path)' while the agent was stopped (inode \(inode))")
        }
        return r
    }

    /// Drops saved positions whose inode has not turned up, unless their
    /// directory is missing (it may come back, e.g. a late mount).
    private func expireRestored() {
        var keep: [UInt64: [Restored]] = [:]
        var dropped: [Int] = []
        for (inode, list) in restored {
            for r in list {
                if let st = statPath(parentDirectory(of: r.path)), (st.st_mode & S_IFMT) == S_IFDIR {
                    context.log(.info, "no followed file has inode \(inode) of saved '\(r.path)' any more; dropping its position")
                    dropped.append(r.slot)
                } else {
                    keep[inode, default: []].append(r)
                }
            }
        }
        restored = keep
        if !dropped.isEmpty {
            table.withLock { s in
                for slot in dropped { s.entries[slot] = nil }
                s.version &+= 1
            }
        }
    }

    /// Stops following a file and removes it from the position file.
    private func forget(_ f: TailFile, quietly: Bool = false) {
        if !quietly && !f.deleted {
            context.log(.info, "'\(f.path)' (inode \(f.id.ino)) is no longer matched; forgetting it at byte \(f.committedPos)")
        }
        f.closeDescriptor()
        files[f.id] = nil
        order.removeAll { $0 == f.id }
        let slot = f.slot
        table.withLock { s in
            s.entries[slot] = nil
            s.version &+= 1
        }
    }

    /// skipToEnd starts after the last complete line, so the line being
    /// written at start is delivered whole once it ends.
    static func endOfLastLine(path: String, size: Int64) -> Int64 {
        guard size > 0 else { return 0 }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return size }
        defer { close(fd) }
        let chunk = 65536
        let buf = UnsafeMutablePointer<UInt8>.allocate(capacity: chunk)
        defer { buf.deallocate() }
        var end = size
        while end > 0 {
            let from = max(0, end - Int64(chunk))
            let n = pread(fd, buf, Int(end - from), off_t(from))
            if n <= 0 { return size }
            var i = n - 1
            while i >= 0 {
                if buf[i] == 0x0a { return from + Int64(i) + 1 }
                i -= 1
            }
            end = from
        }
        return 0
    }

    // MARK: Position file

    private func loadPositions() {
        do {
            guard let loaded = try positionFile.load() else {
                context.log(.info, "no position file at \(positionFile.path) yet")
                return
            }
            restoredWrittenAt = loaded.writtenAt
            var entries: [Int: PositionEntry] = [:]
            for e in loaded.entries {
                let slot = nextSlot
                nextSlot += 1
                restored[e.inode, default: []].append(Restored(slot: slot, pos: e.pos, path: e.file))
                entries[slot] = e
            }
            table.withLock { s in
                s.entries = entries
                s.version &+= 1
            }
            context.log(.info, "loaded \(loaded.entries.count) saved positions from \(positionFile.path)")
        } catch {
            let bad = positionFile.path + ".bad"
            rename(positionFile.path, bad)
            context.log(.error, "cannot use position file \(positionFile.path): \(error); starting without saved positions (the file was moved to \(bad))")
        }
    }

    /// Writes the committed positions when they changed since the last
    /// write of that kind (always with `force`).
    private func savePositions(force: Bool, sync: Bool = true) {
        saving.withLock { _ in savePositionsLocked(force: force, sync: sync) }
    }

    private func savePositionsLocked(force: Bool, sync: Bool) {
        let (entries, version) = table.withLock { s in (s.entries, s.version) }
        if !force, version == (sync ? lastSyncedVersion : lastWrittenVersion) { return }
        let ordered = entries.sorted { $0.key < $1.key }.map { $0.value }
        do {
            try positionFile.replace(with: PositionFile.encode(ordered), sync: sync)
            lastWrittenVersion = version
            if sync { lastSyncedVersion = version }
            if writeFailing {
                context.log(.info, "position file \(positionFile.path) written again")
                writeFailing = false
            }
        } catch {
            if !writeFailing {
                context.log(.error, "cannot write position file: \(error) (logged once until a write succeeds)")
                writeFailing = true
            }
        }
    }
}

@_cdecl("sluice_plugin_entry")
public func sluicePluginEntry() -> UnsafeRawPointer {
    Plugin.export(name: "taildir-source", version: "1.0.0", components: [
        .source(TaildirSource.self, type: "TAILDIR", aliases: ["org.apache.flume.source.taildir.TaildirSource"],
                description: "Follows files matched by directory + file-name regex, one event per line, with a JSON position file",
                keys: [
                    ConfigKey("filegroups", .list, required: true, "space-separated file group names"),
                    ConfigKey("filegroups.*", .string, "filegroups.<g>: absolute path; the directory part is literal, the file name part a regex matching whole names"),
                    ConfigKey("headers.*", .string, "headers.<g>.<key>: a static header for the events of group g"),
                    ConfigKey("positionFile", .string, default: "~/.flume/taildir_position.json", "JSON file recording the committed position of each file"),
                    ConfigKey("batchSize", .int, default: "100", "lines per submitted batch"),
                    ConfigKey("maxBatchCount", .int, default: "\(Int.max)", "batches read from one file before moving on to the next"),
                    ConfigKey("skipToEnd", .bool, default: "false", "at start, files with no saved position start at their end"),
                    ConfigKey("idleTimeout", .int, default: "120000", "close a file after this many ms without a new line"),
                    ConfigKey("writePosInterval", .int, default: "3000", "ms between position file writes (bounds duplicates after a crash)"),
                    ConfigKey("byteOffsetHeader", .bool, default: "false", "add header 'byteoffset': the byte offset of the line in its file"),
                    ConfigKey("fileHeader", .bool, default: "false", "add the file's absolute path as a header"),
                    ConfigKey("fileHeaderKey", .string, default: "file", "header name used by fileHeader"),
                    ConfigKey("cachePatternMatching", .bool, default: "true", "reuse a directory's matching names until its mtime changes"),
                ]),
    ])
}
