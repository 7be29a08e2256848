import SluiceSDK
import PluginRegex
#if canImport(Glibc)
import Glibc
#endif

/// Flume's spooling directory source. Files dropped into `spoolDir` are read
/// one at a time (oldest first by default) and turned into events, one per
/// line (LINE) or one per file (BLOB). A file is marked done — renamed with
/// `fileSuffix`, deleted, or given a marker in `trackerDir` — only after
/// every event from it is committed to the channel; a position file in
/// `trackerDir` records each commit so a restart after a crash resumes where
/// the last commit ended.
///
/// Files must not change once they are in the spool directory (Flume's
/// rule). A file that does, a completed name that is already taken, an
/// unreadable or undecodable file: one error naming the file, the file is
/// left where it is and remembered, and the source carries on with the
/// others. A remembered file is tried again once it changes (and then stays
/// unchanged for a scan), or after a restart.
final class SpoolDirSource: EventDrivenSource {
    let context: ComponentContext
    let settings: SpoolSettings
    private let sleeper = Sleeper()
    private var thread: PluginThread?
    private let position: PositionFile
    private let readFail: Metric
    private let processingFail: Metric

    // Owned by the source thread once started.
    private var batch: OwnedBatch?
    private let codec: LineCodec
    /// Files from the last scan, in reverse consume order (next one last).
    private var queue: [Candidate] = []
    /// Where the last run stopped, from the position file; used once.
    private var savedPosition: PositionRecord?
    private var failures: [String: Failure] = [:]
    private var resumeHints: [String: ResumeHint] = [:]
    private var warnedNames: Set<String> = []
    /// Failures already logged as errors (kind, file identity, path).
    private var failedBefore: Set<String> = []
    private var listingError: String?

    struct Candidate {
        var path: String
        /// Path relative to spoolDir (the name, unless recursive).
        var relative: String
        var name: String
        var stat: FileStat
    }

    enum FailureKind { case changed, nameInUse, unreadable, undecodable, other }

    /// A file that failed: skipped until it changes (and settles) or, for a
    /// completed name already in use, until that name is free again.
    struct Failure {
        var kind: FailureKind
        var lastSeen: FileStat?
        var changedSinceFailure = false
    }

    /// Where to continue a file that failed part-way, if it only grew since.
    struct ResumeHint {
        var dev: UInt64
        var ino: UInt64
        var offset: Int
        /// The bytes just before `offset`, to check it is still the same text.
        var tail: [UInt8]
    }

    init(context: ComponentContext, properties: Properties) throws {
        self.context = context
        settings = try SpoolSettings(properties)
        position = PositionFile(path: settings.trackerDir + "/" + SpoolSettings.metaFileName)
        readFail = context.counter("EventReadFail")
        processingFail = context.counter("GenericProcessingFail")
        switch settings.deserializer {
        case .line(_, let out):
            codec = LineCodec(input: settings.inputCharset, output: out, policy: settings.decodeErrorPolicy)
        case .blob:
            codec = LineCodec(input: .utf8, output: .utf8, policy: .ignore)
        }
    }

    func start() throws {
        for key in settings.deprecatedKeysUsed {
            context.log(.warn, "property '\(key)' is deprecated in Flume and ignored by Sluice")
        }
        switch statPath(settings.spoolDir) {
        case .failure(let e):
            throw SluiceError.config("property 'spoolDir': cannot use '\(settings.spoolDir)': \(e)")
        case .success(let st) where !st.isDirectory:
            throw SluiceError.config("property 'spoolDir': '\(settings.spoolDir)' is not a directory")
        default:
            break
        }
        if access(settings.spoolDir, R_OK | X_OK) != 0 {
            throw SluiceError.config("property 'spoolDir': cannot read directory '\(settings.spoolDir)': \(Errno(errno))")
        }
        if let e = makeDirectories(settings.trackerDir) {
            throw SluiceError.config("property 'trackerDir': cannot create '\(settings.trackerDir)': \(e)")
        }
        switch position.open() {
        case .failure(let e):
            throw SluiceError.io("cannot open position file '\(position.path)': \(e)")
        case .success(let (record, note)):
            if let note { context.log(.warn, note) }
            savedPosition = record
        }
        batch = context.newBatch(capacity: min(settings.batchSize, 10_000)) // grows if needed
        thread = try PluginThread { [self] in run() }
    }

    func stop() throws {
        sleeper.stop()
        thread?.join()
        thread = nil
        position.close()
    }

    // MARK: Main loop

    private func run() {
        while !stopping {
            if queue.isEmpty { scan() }
            guard let next = queue.popLast() else {
                position.sync(force: true)
                if !sleeper.sleep(millis: max(settings.pollDelay, 1)) { break }
                continue
            }
            process(next)
        }
        batch?.clear()
    }

    private var stopping: Bool { sleeper.isStopped || context.isStopping }

    // MARK: Scanning

    private func scan() {
        var found: [Candidate] = []
        var seen: Set<String> = []
        walk(settings.spoolDir, relative: "", into: &found, seen: &seen)
        // Forget failures and hints of files that are gone.
        if failures.count > 0 { failures = failures.filter { seen.contains($0.key) } }
        if resumeHints.count > 0 { resumeHints = resumeHints.filter { seen.contains($0.key) } }

        switch settings.consumeOrder {
        case .oldest:
            found.sort { $0.stat.mtimeNanos != $1.stat.mtimeNanos ? $0.stat.mtimeNanos < $1.stat.mtimeNanos : $0.path < $1.path }
        case .youngest:
            found.sort { $0.stat.mtimeNanos != $1.stat.mtimeNanos ? $0.stat.mtimeNanos > $1.stat.mtimeNanos : $0.path < $1.path }
        case .random:
            found.shuffle()
        }
        // The file a previous run was in the middle of comes first.
        if let saved = savedPosition {
            if let i = found.firstIndex(where: { $0.path == saved.path }) {
                let c = found.remove(at: i)
                found.insert(c, at: 0)
            } else {
                savedPosition = nil
            }
        }
        queue = found.reversed()
    }

    private func walk(_ dir: String, relative: String, into found: inout [Candidate], seen: inout Set<String>) {
        let listing: (names: [String], undecodable: [String])
        switch listDirectory(dir) {
        case .failure(let e):
            let message = "cannot list '\(dir)': \(e); will keep trying"
            if dir == settings.spoolDir {
                if listingError != message { context.log(.error, message) }
                listingError = message
            } else if warnedNames.insert(dir).inserted {
                context.log(.warn, message)
            }
            return
        case .success(let l):
            listing = l
            if dir == settings.spoolDir, listingError != nil {
                listingError = nil
                context.log(.info, "'\(dir)' can be listed again")
            }
        }
        for name in listing.undecodable where !name.hasPrefix(".") {
            let key = dir + "/" + name
            if warnedNames.insert(key).inserted {
                context.log(.warn, "skipping '\(key)': its name is not valid UTF-8")
            }
        }
        for name in listing.names {
            if name.hasPrefix(".") { continue }
            let path = dir + "/" + name
            if path == settings.trackerDir { continue }
            guard case .success(var st) = statPath(path, follow: false) else { continue }
            if st.isSymlink {
                // A link to a file is read; links to directories are not followed.
                guard case .success(let target) = statPath(path), target.isRegular else { continue }
                st = target
            }
            let rel = relative.isEmpty ? name : relative + "/" + name
            if st.isDirectory {
                if settings.recursive { walk(path, relative: rel, into: &found, seen: &seen) }
                continue
            }
            guard st.isRegular else { continue }
            if !settings.fileSuffix.isEmpty, name.hasSuffix(settings.fileSuffix) { continue }
            if !nameIsWanted(name) { continue }
            seen.insert(path)
            if settings.trackingPolicy == .trackerDir, !settings.deleteImmediately,
               pathExists(markerPath(rel)) { continue }
            if var f = failures[path] {
                if !retryFailed(path, &f, st) {
                    failures[path] = f
                    continue
                }
                failures[path] = nil
            }
            found.append(Candidate(path: path, relative: rel, name: name, stat: st))
        }
    }

    private func nameIsWanted(_ name: String) -> Bool {
        var n = name
        return n.withUTF8 { b in
            let raw = UnsafeRawBufferPointer(b)
            if let include = settings.include, !include.matches(raw, context: context) { return false }
            if let ignore = settings.ignore, ignore.matches(raw, context: context) { return false }
            return true
        }
    }

    /// Whether a remembered failed file deserves another try now.
    private func retryFailed(_ path: String, _ f: inout Failure, _ st: FileStat) -> Bool {
        if f.kind == .nameInUse, !pathExists(path + settings.fileSuffix) { return true }
        if st == f.lastSeen { return f.changedSinceFailure }
        // It changed: wait until it holds still for one scan.
        f.lastSeen = st
        f.changedSinceFailure = true
        return false
    }

    private func markerPath(_ relative: String) -> String {
        settings.trackerDir + "/" + relative + settings.fileSuffix
    }

    // MARK: One file

    private func process(_ c: Candidate) {
        guard case .success(let st) = statPath(c.path), st.isRegular else { return } // gone meanwhile
        if settings.renames, pathExists(c.path + settings.fileSuffix) {
            fail(c, .nameInUse, "cannot be marked done: '\(c.path + settings.fileSuffix)' already exists "
                + "(file name re-used?). Not read; it will be tried again once that name is free, when the file changes, or after a restart",
                 offset: 0, fd: -1)
            return
        }
        let fd = open(c.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let e = Errno(errno)
            if e.code == ENOENT { return }
            fail(c, .unreadable, "cannot be read: \(e). Left in place; it will be tried again when it changes or after a restart",
                 offset: 0, fd: -1)
            return
        }
        defer { close(fd) }
        guard case .success(let pickup) = statFD(fd) else {
            fail(c, .unreadable, "cannot be examined: \(Errno(errno)). Left in place", offset: 0, fd: -1)
            return
        }
        let start = resumeOffset(c.path, pickup, fd)
        var headers: [PreparedHeader] = []
        if let key = settings.fileHeaderKey { headers.append(PreparedHeader(key: Array(key.utf8), value: Array(c.path.utf8))) }
        if let key = settings.basenameHeaderKey { headers.append(PreparedHeader(key: Array(key.utf8), value: Array(c.name.utf8))) }
        let reader = SpoolReader(path: c.path, fd: fd, pickup: pickup, startOffset: start, settings: settings,
                                 codec: codec, headers: headers, context: context)
        guard let batch else { return }
        var events = 0
        var committed = start
        while !stopping {
            let result: FillResult
            do {
                result = try reader.fill(batch, max: settings.batchSize)
            } catch {
                batch.clear()
                fail(c, .other, "could not be turned into events: \(error). Left in place; events before byte \(committed) were delivered",
                     offset: committed, fd: fd)
                return
            }
            if !batch.isEmpty {
                let n = batch.count
                guard submitBatch() else { return } // stopping: nothing more is committed
                events += n
                committed = reader.consumed
                if let e = position.write(PositionRecord(path: c.path, dev: pickup.dev, ino: pickup.ino, size: pickup.size,
                                                         mtimeNanos: pickup.mtimeNanos, offset: reader.consumed)) {
                    notePositionError(e)
                }
                position.sync(force: false)
            }
            switch result {
            case .batchFull:
                continue
            case .endOfFile:
                finish(c, reader, events: events)
                return
            case .changed(let why):
                fail(c, .changed, "was modified after it was picked up: \(why). Files must not change once in the spool directory. "
                    + "Left in place; events before byte \(reader.consumed) were delivered; it will be retried if it changes "
                    + "again (continuing after the delivered part if it only grew), or after a restart", offset: reader.consumed, fd: fd)
                return
            case .undecodable(let at):
                fail(c, .undecodable, "is not valid \(settings.inputCharset.name) at byte \(at) (decodeErrorPolicy = FAIL). "
                    + "Left in place; events before byte \(reader.consumed) were delivered; it will be tried again when it changes or after a restart",
                     offset: reader.consumed, fd: fd)
                return
            case .readError(let e):
                fail(c, .unreadable, "read failed at byte \(reader.consumed): \(e). Left in place; events before that byte were delivered; "
                    + "it will be tried again when it changes or after a restart", offset: reader.consumed, fd: fd)
                return
            }
        }
    }

    /// Submits the batch until it is committed, retrying the very same events
    /// after a full channel (or another refusal) with a growing back-off.
    /// False when the source is stopping first (the batch is dropped: its
    /// events were never committed and will be read again after a restart).
    private func submitBatch() -> Bool {
        guard let batch else { return false }
        var delay = min(250, settings.maxBackoff)
        var retries = 0
        while true {
            if stopping {
                batch.clear()
                return false
            }
            do {
                switch try context.submit(batch) {
                case .committed:
                    if retries > 0 { context.log(.info, "the channel accepted the batch after \(retries) retries") }
                    return true
                case .channelFull(let why):
                    if retries == 0 {
                        context.log(.info, "channel full (\(why)); retrying the same \(batch.count) events in \(delay) ms, "
                            + "backing off up to \(settings.maxBackoff) ms")
                    }
                }
            } catch {
                if retries == 0 {
                    context.log(.error, "the channel refused a batch of \(batch.count) events: \(error); retrying the same events in \(delay) ms")
                }
            }
            retries += 1
            if !sleeper.sleep(millis: delay) {
                batch.clear()
                return false
            }
            delay = min(delay * 2, settings.maxBackoff)
        }
    }

    /// Where to start reading a file: the saved position of a previous run
    /// (for the very same, unchanged file), the end of what was delivered
    /// before it failed (when it only grew since), else its start.
    private func resumeOffset(_ path: String, _ st: FileStat, _ fd: Int32) -> Int {
        if let saved = savedPosition, saved.path == path {
            savedPosition = nil
            if saved.describes(path: path, st) {
                if saved.offset > 0 {
                    context.log(.info, "resuming '\(path)' at byte \(saved.offset) of \(st.size), where the last run's commits ended")
                }
                return saved.offset
            }
            if saved.dev == st.dev, saved.ino == st.ino, saved.offset > 0 {
                context.log(.warn, "'\(path)' changed while the source was not running; reading it from the start "
                    + "(its first \(saved.offset) bytes were delivered before and will be delivered again)")
            }
        }
        if let hint = resumeHints.removeValue(forKey: path) {
            if hint.dev == st.dev, hint.ino == st.ino, hint.offset <= st.size, bytesBefore(hint.offset, fd) == hint.tail {
                context.log(.info, "continuing '\(path)' at byte \(hint.offset), after the part delivered before it failed")
                return hint.offset
            }
            context.log(.warn, "'\(path)' changed other than by growing since it failed; reading it from the start "
                + "(its first \(hint.offset) bytes were delivered before and will be delivered again)")
        }
        return 0
    }

    private func bytesBefore(_ offset: Int, _ fd: Int32) -> [UInt8] {
        let n = min(64, offset)
        guard n > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: n)
        let got = out.withUnsafeMutableBytes { preadFully(fd, $0.baseAddress!, n, offset - n) }
        return got == n ? out : []
    }

    /// Every event of the file is committed: mark it done.
    private func finish(_ c: Candidate, _ reader: SpoolReader, events: Int) {
        let pickup = reader.pickup
        if reader.truncatedLines > 1 {
            context.log(.warn, "'\(c.path)': \(reader.truncatedLines) lines were truncated to deserializer.maxLineLength")
        }
        switch statPath(c.path) {
        case .failure:
            context.log(.warn, "'\(c.path)' was moved or deleted by something else while being read; its \(events) events were delivered")
            position.write(.none)
            return
        case .success(let now) where !now.sameFile(pickup):
            context.log(.warn, "'\(c.path)' was replaced by another file while being read; the original's events were delivered, "
                + "the new file will be read as a new file")
            position.write(.none)
            return
        case .success(let now) where !now.unchanged(from: pickup):
            fail(c, .changed, "was modified after it was picked up (its size or modification time changed). Files must not change "
                + "once in the spool directory. Left in place; all \(pickup.size) bytes it had at pickup were delivered; it will be "
                + "retried if it changes again (continuing after the delivered part if it only grew), or after a restart", offset: pickup.size, fd: reader.fd)
            return
        default:
            break
        }
        let done: String
        if settings.deleteImmediately {
            if unlink(c.path) != 0 {
                fail(c, .other, "cannot be deleted: \(Errno(errno)). Its events were delivered; left in place",
                     offset: pickup.size, fd: reader.fd)
                return
            }
            done = "deleted"
        } else if settings.trackingPolicy == .rename {
            let target = c.path + settings.fileSuffix
            if let e = renameNoReplace(c.path, target) {
                if e.code == EEXIST, case .success(let t) = statPath(target), t.sameFile(pickup) {
                    // A rename by link + unlink that was cut short: finish it.
                    _ = unlink(c.path)
                } else if e.code == EEXIST {
                    fail(c, .nameInUse, "cannot be marked done: '\(target)' already exists (file name re-used?). Its events were "
                        + "delivered; left in place", offset: pickup.size, fd: reader.fd)
                    return
                } else {
                    fail(c, .other, "cannot be renamed to '\(target)': \(e). Its events were delivered; left in place",
                         offset: pickup.size, fd: reader.fd)
                    return
                }
            }
            done = "renamed to '\(target)'"
        } else {
            let marker = markerPath(c.relative)
            var failure: Errno? = makeDirectories(parentDirectory(marker))
            if failure == nil {
                let m = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
                if m < 0 { failure = Errno(errno) } else { close(m) }
            }
            if let failure {
                fail(c, .other, "cannot create tracker marker '\(marker)': \(failure). Its events were delivered; left in place",
                     offset: pickup.size, fd: reader.fd)
                return
            }
            done = "marked done in '\(marker)'"
        }
        position.write(.none)
        context.log(.info, "'\(c.path)' done: \(events) events, \(done)")
    }

    /// Logs one error for the file, remembers it, and keeps where its
    /// delivered part ends so a retry of a grown file does not repeat it.
    /// The file is remembered as it is now: it is tried again once that
    /// changes. The same failure of the same file again (it keeps changing)
    /// is logged as a warning.
    private func fail(_ c: Candidate, _ kind: FailureKind, _ what: String, offset: Int, fd: Int32) {
        var lastSeen: FileStat?
        if case .success(let st) = statPath(c.path) { lastSeen = st }
        let again = !failedBefore.insert("\(kind) \(lastSeen?.dev ?? 0) \(lastSeen?.ino ?? 0) \(c.path)").inserted
        context.log(again ? .warn : .error, "spooled file '\(c.path)' \(what)\(again ? " (again)" : "")")
        // Flume's counters: reading/decoding problems vs the rest.
        if kind == .unreadable || kind == .undecodable { readFail.add(1) } else { processingFail.add(1) }
        failures[c.path] = Failure(kind: kind, lastSeen: lastSeen)
        if offset > 0, fd >= 0, case .success(let st) = statFD(fd) {
            resumeHints[c.path] = ResumeHint(dev: st.dev, ino: st.ino, offset: offset, tail: bytesBefore(offset, fd))
        }
    }

    private var positionErrorLogged = false
    private func notePositionError(_ e: Errno) {
        guard !positionErrorLogged else { return }
        positionErrorLogged = true
        context.log(.error, "cannot update position file '\(position.path)': \(e). Delivery goes on; after a crash "
            + "the current file would be read again from an earlier point (logged once)")
    }
}

@_cdecl("sluice_plugin_entry")
public func sluicePluginEntry() -> UnsafeRawPointer {
    Plugin.export(name: "spooldir-source", version: "1.0.0", components: [
        .source(SpoolDirSource.self, type: "spooldir",
                aliases: ["org.apache.flume.source.SpoolDirectorySource"],
                description: "Reads files dropped into a directory, one event per line (or per file), exactly once",
                keys: spoolDirKeys),
    ])
}
