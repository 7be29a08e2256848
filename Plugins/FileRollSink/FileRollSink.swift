import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// How an event becomes bytes in the file.
enum EventFormat {
    /// The body (Flume's TEXT, BodyTextEventSerializer).
    case text
    /// `{k1=v1, k2=v2} ` then the body (Flume's HEADER_AND_TEXT,
    /// HeaderAndBodyTextEventSerializer, which prints the header map this way).
    case headerAndText

    init(_ name: String) throws {
        switch name.uppercased() {
        case "TEXT", "ORG.APACHE.FLUME.SERIALIZATION.BODYTEXTEVENTSERIALIZER$BUILDER":
            self = .text
        case "HEADER_AND_TEXT", "ORG.APACHE.FLUME.SERIALIZATION.HEADERANDBODYTEXTEVENTSERIALIZER$BUILDER":
            self = .headerAndText
        case "AVRO_EVENT", "ORG.APACHE.FLUME.SERIALIZATION.FLUMEEVENTAVROEVENTSERIALIZER$BUILDER":
            throw SluiceError.config("property 'sink.serializer': AVRO_EVENT is not supported (supported: TEXT, HEADER_AND_TEXT)")
        default:
            throw SluiceError.config("property 'sink.serializer': unknown serializer '\(name)' (supported: TEXT, HEADER_AND_TEXT, or their Flume builder class names)")
        }
    }
}

/// How files are named (Flume's path managers).
enum FileNaming {
    /// `<prefix><startMillis>-<n>[.<ext>]`: one series per sink start, n = 1, 2, ...
    case seriesTimestamp
    /// `<prefix><yyyyMMddHHmmss>-<n>[.<ext>]` in local time; n restarts at 1 each second.
    case rollTime

    init(_ name: String) throws {
        switch name.uppercased() {
        case "DEFAULT", "ORG.APACHE.FLUME.FORMATTER.OUTPUT.DEFAULTPATHMANAGER$BUILDER": self = .seriesTimestamp
        case "ROLLTIME", "ORG.APACHE.FLUME.FORMATTER.OUTPUT.ROLLTIMEPATHMANAGER$BUILDER": self = .rollTime
        default:
            throw SluiceError.config("property 'sink.pathManager': unknown path manager '\(name)' (supported: DEFAULT, ROLLTIME)")
        }
    }
}

/// Flume's file_roll sink: writes events to files in a directory, starting a
/// new file at start and every `sink.rollInterval` seconds.
///
/// Durability: each batch is serialized into one reused buffer, written with
/// one pwrite at the end of the file, and made durable with fdatasync before
/// the take transaction commits. So everything committed is on disk; a crash
/// between write and commit means that batch is written again (duplicates),
/// never lost. A failed write is cut off again (ftruncate) so a file holds
/// whole batches.
final class FileRollSink: Sink {
    let context: ComponentContext
    let directory: String
    let rollIntervalSeconds: Int
    let format: EventFormat
    let appendNewline: Bool
    let batchSize: Int
    let naming: FileNaming
    let prefix: String
    let fileExtension: String
    /// DEFAULT naming: the series timestamp, fixed when the sink is configured (as Flume).
    let seriesTimestamp: Int64

    private var fileIndex = 0
    private var lastStamp = ""
    private var fd: Int32 = -1
    private var path = ""
    /// Bytes in the current file (where the next batch goes).
    private var fileSize: Int64 = 0
    private var nextRoll: UInt64 = 0
    private let buffer = ByteBuffer(capacity: 256 * 1024)
    private let filesOpened, filesClosed, openFailures, writeFailures: Metric

    init(context: ComponentContext, properties: Properties) throws {
        self.context = context
        directory = try properties.requiredString("sink.directory")
        rollIntervalSeconds = try properties.int("sink.rollInterval", default: 30)
        guard rollIntervalSeconds >= 0 else { throw SluiceError.config("property 'sink.rollInterval' must be >= 0 (0: never roll)") }
        format = try EventFormat(properties.string("sink.serializer", default: "TEXT"))
        appendNewline = try properties.bool("sink.serializer.appendNewline", default: true)
        if properties["sink.batchSize"] != nil {
            batchSize = try properties.int("sink.batchSize", default: 100)
        } else {
            batchSize = try properties.int("batchSize", default: 100)
        }
        guard batchSize > 0 else { throw SluiceError.config("property 'sink.batchSize' must be > 0") }
        naming = try FileNaming(properties.string("sink.pathManager", default: "DEFAULT"))
        prefix = properties.string("sink.pathManager.prefix", default: "")
        fileExtension = properties.string("sink.pathManager.extension", default: "")
        guard !prefix.contains("/"), !fileExtension.contains("/") else {
            throw SluiceError.config("sink.pathManager.prefix and sink.pathManager.extension must not contain '/'")
        }
        seriesTimestamp = epochMillis()
        filesOpened = context.counter("ConnectionCreatedCount")
        filesClosed = context.counter("ConnectionClosedCount")
        openFailures = context.counter("ConnectionFailedCount")
        writeFailures = context.counter("EventWriteFail")
    }

    func start() throws {
        try makeDirectories(directory)
        try openNextFile()
        context.log(.info, "writing to \(path)" + (rollIntervalSeconds > 0 ? ", a new file every \(rollIntervalSeconds) s" : " (never rolled)"))
        nextRoll = saturatingAdd(monotonicNanos(), rollIntervalNanos)
    }

    func stop() throws {
        closeCurrentFile()
    }

    private var rollIntervalNanos: UInt64 {
        let (n, overflow) = UInt64(rollIntervalSeconds).multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? UInt64.max : n
    }

    func process() throws -> ProcessStatus {
        if rollIntervalSeconds > 0 {
            let now = monotonicNanos()
            if now >= nextRoll {
                closeCurrentFile()
                nextRoll = saturatingAdd(nextRoll, rollIntervalNanos)
                if nextRoll <= now { nextRoll = saturatingAdd(now, rollIntervalNanos) }
            }
        }
        // After a roll, or after a failure left no usable file.
        if fd < 0 { try openNextFile() }

        let batch = try context.take(max: batchSize)
        if batch.isEmpty {
            try context.commit()
            return .backoff
        }
        serialize(batch)
        do {
            try writeBuffer()
        } catch {
            writeFailures.add(Int64(batch.count))
            context.rollback()
            throw error
        }
        try context.commit()
        return .ready
    }

    // MARK: Serializing

    private func serialize(_ batch: EventBatchView) {
        buffer.removeAll()
        let n = batch.count
        switch format {
        case .text:
            var total = appendNewline ? n : 0
            for i in 0..<n { total += batch[i].body.count }
            buffer.reserve(total)
            for i in 0..<n {
                buffer.appendReserved(batch[i].body)
                if appendNewline { buffer.appendReserved(0x0a) }
            }
        case .headerAndText:
            for i in 0..<n {
                let e = batch[i]
                let hc = e.headerCount
                var size = 3 + e.body.count + (appendNewline ? 1 : 0) + (hc > 1 ? 2 * (hc - 1) : 0)
                for h in 0..<hc {
                    let (k, v) = e.header(at: h)
                    size += k.count + v.count + 1
                }
                buffer.reserve(size)
                buffer.appendReserved(0x7b) // {
                for h in 0..<hc {
                    if h > 0 {
                        buffer.appendReserved(0x2c) // ,
                        buffer.appendReserved(0x20)
                    }
                    let (k, v) = e.header(at: h)
                    buffer.appendReserved(k)
                    buffer.appendReserved(0x3d) // =
                    buffer.appendReserved(v)
                }
                buffer.appendReserved(0x7d) // }
                buffer.appendReserved(0x20)
                buffer.appendReserved(e.body)
                if appendNewline { buffer.appendReserved(0x0a) }
            }
        }
    }

    // MARK: Files

    /// Writes the buffer at the end of the current file and syncs it.
    private func writeBuffer() throws {
        let total = buffer.count
        var done = 0
        while done < total {
            let n = pwrite(fd, buffer.base + done, total - done, off_t(fileSize + Int64(done)))
            if n > 0 {
                done += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            let e = n < 0 ? errno : EIO
            // Cut the partial batch off again so the file holds whole batches;
            // if even that fails, leave this file and continue in a new one.
            if done > 0, ftruncate(fd, off_t(fileSize)) != 0 { abandonCurrentFile() }
            throw SluiceError.io("cannot write to \(path): \(errnoText(e))")
        }
        if fdatasync(fd) != 0 {
            let e = errno
            // After a failed sync the kernel may have dropped the data: this
            // file can no longer be trusted, the batch goes to a new one.
            _ = ftruncate(fd, off_t(fileSize))
            abandonCurrentFile()
            throw SluiceError.io("cannot sync \(path): \(errnoText(e)); the batch will be written to a new file")
        }
        fileSize += Int64(total)
    }

    private func openNextFile() throws {
        var attempts = 0
        var triedCreatingDirectory = false
        while true {
            let name = nextFileName()
            let candidate = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            let f = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if f >= 0 {
                fd = f
                path = candidate
                fileSize = 0
                break
            }
            let e = errno
            attempts += 1
            // Never overwrite: a name already taken (e.g. ROLLTIME after a
            // restart within the same second) moves on to the next index.
            if e == EEXIST && attempts < 10_000 { continue }
            if e == ENOENT && !triedCreatingDirectory {
                triedCreatingDirectory = true
                if (try? makeDirectories(directory)) != nil { continue }
            }
            openFailures.add(1)
            throw SluiceError.io("cannot create \(candidate): \(errnoText(e))")
        }
        syncDirectory()
        filesOpened.add(1)
        context.log(.debug, "opened \(path)")
    }

    /// Syncs and closes the current file (errors are logged: every batch in
    /// it was already synced).
    private func closeCurrentFile() {
        guard fd >= 0 else { return }
        if fsync(fd) != 0 { context.log(.warn, "fsync of \(path) failed: \(errnoText())") }
        if close(fd) != 0 { context.log(.warn, "close of \(path) failed: \(errnoText())") }
        fd = -1
        filesClosed.add(1)
        context.log(.debug, "closed \(path) (\(fileSize) bytes)")
    }

    private func abandonCurrentFile() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
        filesClosed.add(1)
    }

    /// Makes a new file's directory entry durable.
    private func syncDirectory() {
        let d = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard d >= 0 else { return }
        _ = fsync(d)
        close(d)
    }

    private func nextFileName() -> String {
        let ext = fileExtension.isEmpty ? "" : "." + fileExtension
        switch naming {
        case .seriesTimestamp:
            fileIndex += 1
            return "\(prefix)\(seriesTimestamp)-\(fileIndex)\(ext)"
        case .rollTime:
            let stamp = localTimeStamp()
            if stamp != lastStamp {
                lastStamp = stamp
                fileIndex = 0
            }
            fileIndex += 1
            return "\(prefix)\(stamp)-\(fileIndex)\(ext)"
        }
    }
}

// MARK: Helpers

func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

func saturatingAdd(_ a: UInt64, _ b: UInt64) -> UInt64 {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? UInt64.max : sum
}

func epochMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// yyyyMMddHHmmss in local time.
func localTimeStamp() -> String {
    var t = time(nil)
    var parts = tm()
    localtime_r(&t, &parts)
    func pad(_ v: Int32, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
    return pad(parts.tm_year + 1900, 4) + pad(parts.tm_mon + 1, 2) + pad(parts.tm_mday, 2)
        + pad(parts.tm_hour, 2) + pad(parts.tm_min, 2) + pad(parts.tm_sec, 2)
}

/// mkdir -p; then checks the result is a writable directory.
func makeDirectories(_ path: String) throws {
    var st = stat()
    if stat(path, &st) != 0 {
        var current = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            if !current.isEmpty && !current.hasSuffix("/") { current += "/" }
            current += component
            if mkdir(current, 0o777) != 0 && errno != EEXIST {
                throw SluiceError.io("sink.directory '\(path)': cannot create '\(current)': \(errnoText())")
            }
        }
        guard stat(path, &st) == 0 else { throw SluiceError.io("sink.directory '\(path)': \(errnoText())") }
    }
    guard (st.st_mode & S_IFMT) == S_IFDIR else { throw SluiceError.io("sink.directory '\(path)' is not a directory") }
    guard access(path, W_OK | X_OK) == 0 else { throw SluiceError.io("sink.directory '\(path)' is not writable: \(errnoText())") }
}

@_cdecl("sluice_plugin_entry")
public func sluicePluginEntry() -> UnsafeRawPointer {
    Plugin.export(name: "file-roll-sink", version: "1.0.0", components: [
        .sink(FileRollSink.self, type: "file_roll", aliases: ["org.apache.flume.sink.RollingFileSink"],
              description: "Writes events to files in a directory, rolled by time; each batch is synced before commit",
              keys: [
                  ConfigKey("sink.directory", .string, required: true, "directory for the files (created if missing)"),
                  ConfigKey("sink.rollInterval", .int, default: "30", "seconds between new files (0: never roll)"),
                  ConfigKey("sink.serializer", .string, default: "TEXT", "TEXT (body) or HEADER_AND_TEXT ({k=v, ...} body)"),
                  ConfigKey("sink.serializer.appendNewline", .bool, default: "true", "write a newline after each event"),
                  ConfigKey("sink.batchSize", .int, default: "100", "events taken, written and synced per transaction"),
                  ConfigKey("batchSize", .int, "alias of sink.batchSize (sink.batchSize wins)"),
                  ConfigKey("sink.pathManager", .string, default: "DEFAULT", "file naming: DEFAULT (<prefix><startMillis>-<n>) or ROLLTIME (<prefix><yyyyMMddHHmmss>-<n>)"),
                  ConfigKey("sink.pathManager.prefix", .string, "file name prefix (default: none)"),
                  ConfigKey("sink.pathManager.extension", .string, "file name extension, added after a '.' (default: none)"),
              ]),
    ])
}
