import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// Counters and logging shared by the sink and its bucket writers.
struct SinkStats {
    let context: ComponentContext
    let filesOpened, filesClosed, openFailures, writeFailures, bytesWritten: Metric

    init(_ context: ComponentContext) {
        self.context = context
        filesOpened = context.counter("ConnectionCreatedCount")
        filesClosed = context.counter("ConnectionClosedCount")
        openFailures = context.counter("ConnectionFailedCount")
        writeFailures = context.counter("EventWriteFail")
        bytesWritten = context.counter("BytesWritten")
    }

    func log(_ level: LogLevel, _ message: String) { context.log(level, message) }
}

/// Flume's HDFS sink writing to a local directory (or HDFS mounted through
/// NFS / FUSE): events go to buckets named by `hdfs.path` + `hdfs.filePrefix`
/// after escape substitution; each bucket writes one file at a time under
/// its in-use name and renames it when it rolls (count, size, interval,
/// idle) or when the sink stops.
///
/// Delivery: a transaction's events are encoded, written and fdatasync'ed
/// in every bucket they went to before the channel commit. A failure rolls
/// the transaction back (the batch comes again: at least once) and cuts the
/// unsynced bytes off. In-use files left by a crash are repaired and renamed
/// at the next start (see Recovery).
final class HDFSSink: Sink {
    let context: ComponentContext
    let config: HDFSSinkConfig
    let pathTemplate: PathTemplate
    let prefixTemplate: PathTemplate
    let stats: SinkStats

    private var buckets: [String: BucketWriter] = [:]
    private var touched: [BucketWriter] = []
    private var pendingRenames: [PendingRename] = []
    private var useCounter: UInt64 = 0
    private var nextTimerCheck: UInt64 = 0
    private let timestampKey = Array("timestamp".utf8)

    init(context: ComponentContext, properties: Properties) throws {
        self.context = context
        config = try HDFSSinkConfig(properties)
        let hosts = HostNames()
        pathTemplate = try PathTemplate(config.pathTemplate, key: "hdfs.path", hosts: hosts)
        prefixTemplate = try PathTemplate(config.filePrefix, key: "hdfs.filePrefix", hosts: hosts)
        stats = SinkStats(context)
        let timeout = config.callTimeoutMillis
        remote = try config.webhdfs.map { try WebHDFSClient(target: $0, timeoutMillis: timeout) }
    }

    /// WebHDFS destination; nil: local files.
    let remote: WebHDFSClient?

    private func renameFile(_ from: String, _ to: String) -> String? {
        if let remote = remote { return remote.rename(from, to) }
        return renameNoReplace(from, to)
    }

    func start() throws {
        if let dir = pathTemplate.constant {
            if let remote { try remote.mkdirs(dir) } else { try makeDirectories(dir) }
        }
        let recovered = Recovery(config: config, pathTemplate: pathTemplate, prefixTemplate: prefixTemplate, remote: remote,
                                 log: { [context] level, message in context.log(level, message) }).run()
        if recovered > 0 { context.log(.info, "recovered \(recovered) in-use file(s) left by a previous run") }
        context.log(.info, "writing \(config.fileType.rawValue) files under \(config.pathTemplate)\(remote.map { " on \($0.description)" } ?? "")")
    }

    func stop() throws {
        for bucket in buckets.values {
            do {
                if let pending = try bucket.close() { pendingRenames.append(pending) }
            } catch {
                context.log(.warn, "closing \(bucket.inUsePath): \(error)")
            }
        }
        buckets.removeAll()
        // One last try for renames still waiting; what fails stays in use and
        // is renamed by the recovery at the next start.
        for r in pendingRenames {
            if let failure = renameFile(r.from, r.to) { context.log(.warn, "cannot rename \(r.from): \(failure)") }
        }
        pendingRenames.removeAll()
    }

    func process() throws -> ProcessStatus {
        let now = monotonicNanos()
        if now >= nextTimerCheck {
            runTimers(now)
            nextTimerCheck = now &+ 100_000_000
        }

        let batch = try context.take(max: config.batchSize)
        if batch.isEmpty {
            try context.commit()
            return .backoff
        }
        do {
            let localMillis = epochMillis()
            // Only SequenceFile keys carry the event's time; with constant
            // templates every event goes to the same bucket.
            let keyed = config.fileType == .sequenceFile
            var fixedBucket: BucketWriter?
            if let d = pathTemplate.constant, let p = prefixTemplate.constant {
                fixedBucket = try bucketFor(directory: d, prefix: p, now: now)
            }
            for event in batch {
                let timestamp = keyed ? eventTimestamp(event) ?? localMillis : localMillis
                let bucket = try fixedBucket ?? bucketFor(event, localMillis: localMillis, now: now)
                if !bucket.touched { touched.append(bucket) }
                try bucket.append(event, timestamp: timestamp, now: now)
            }
            for bucket in touched {
                try bucket.flush()
                bucket.touched = false
            }
            touched.removeAll(keepingCapacity: true)
        } catch {
            stats.writeFailures.add(Int64(batch.count))
            for bucket in touched {
                if let pending = bucket.abandonBatch() { pendingRenames.append(pending) }
            }
            touched.removeAll(keepingCapacity: true)
            context.rollback()
            throw error
        }
        try context.commit()
        return .ready
    }

    private func eventTimestamp(_ event: Event) -> Int64? {
        guard let raw = timestampKey.withUnsafeBufferPointer({ event.headerBytes($0) }), raw.count > 0, raw.count < 20 else { return nil }
        var v: Int64 = 0
        var negative = false
        for (i, byte) in raw.enumerated() {
            if i == 0 && byte == 0x2d {
                negative = true
                continue
            }
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            v = v * 10 + Int64(byte - 0x30)
        }
        return negative ? -v : v
    }

    /// The bucket an event's resolved path and prefix name.
    private func bucketFor(_ event: Event, localMillis: Int64, now: UInt64) throws -> BucketWriter {
        var time: ResolvedTime?
        if pathTemplate.needsTime || prefixTemplate.needsTime {
            let millis: Int64
            if config.useLocalTimeStamp {
                millis = localMillis
            } else if let t = eventTimestamp(event) {
                millis = t
            } else {
                throw SluiceError.generic("an event has no numeric 'timestamp' header, which the time escapes in hdfs.path / hdfs.filePrefix need (add a timestamp interceptor or set hdfs.useLocalTimeStamp = true)")
            }
            time = ResolvedTime(millis: millis, zone: config.timeZone,
                                round: config.round ? (config.roundUnit, config.roundValue) : nil)
        }
        return try bucketFor(directory: pathTemplate.resolve(event, time: time),
                             prefix: prefixTemplate.resolve(event, time: time), now: now)
    }

    private func bucketFor(directory: String, prefix: String, now: UInt64) throws -> BucketWriter {
        let key = directory + "/" + prefix
        useCounter &+= 1
        if let b = buckets[key] {
            b.lastUsed = useCounter
            return b
        }
        if prefix.isEmpty || prefix.contains("/") {
            throw SluiceError.generic("hdfs.filePrefix resolved to '\(prefix)', which is not a file name")
        }
        if buckets.count >= config.maxOpenFiles {
            // Flume's LRU: the least recently used bucket is closed.
            if let (oldKey, oldest) = buckets.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
                if let pending = try oldest.close() { pendingRenames.append(pending) }
                buckets.removeValue(forKey: oldKey)
                if let i = touched.firstIndex(where: { $0 === oldest }) { touched.remove(at: i) }
            }
        }
        let b = BucketWriter(directory: directory.isEmpty ? "." : directory, prefix: prefix, config: config, stats: stats, remote: remote)
        b.lastUsed = useCounter
        buckets[key] = b
        return b
    }

    /// rollInterval and idleTimeout, and retries of failed renames.
    private func runTimers(_ now: UInt64) {
        let interval = UInt64(config.rollInterval) &* 1_000_000_000
        let idle = UInt64(config.idleTimeout) &* 1_000_000_000
        for (key, bucket) in buckets {
            var close = false, remove = false
            if config.rollInterval > 0 && bucket.isOpen && now &- bucket.openedAt >= interval { close = true }
            if config.idleTimeout > 0 && bucket.isOpen && now &- bucket.lastWrite >= idle {
                close = true
                remove = true
            }
            guard close else { continue }
            do {
                if let pending = try bucket.close() { pendingRenames.append(pending) }
            } catch {
                context.log(.warn, "closing \(bucket.inUsePath): \(error)")
                continue
            }
            if remove { buckets.removeValue(forKey: key) }
        }
        guard !pendingRenames.isEmpty else { return }
        var keep: [PendingRename] = []
        for var r in pendingRenames {
            if now < r.nextTry {
                keep.append(r)
                continue
            }
            if let failure = renameFile(r.from, r.to) {
                r.tries += 1
                if config.closeTries > 0 && r.tries >= config.closeTries {
                    context.log(.error, "giving up renaming \(r.from) to \(r.to) after \(r.tries) tries: \(failure)")
                    continue
                }
                r.nextTry = now &+ UInt64(max(config.retryIntervalSeconds, 1)) &* 1_000_000_000
                keep.append(r)
            }
        }
        pendingRenames = keep
    }
}

@_cdecl("sluice_plugin_entry")
public func sluicePluginEntry() -> UnsafeRawPointer {
    Plugin.export(name: "hdfs-sink", version: "1.0.0", components: [
        .sink(HDFSSink.self, type: "hdfs", aliases: ["org.apache.flume.sink.hdfs.HDFSEventSink"],
              description: "Flume's HDFS sink on a local, file://, webhdfs:// or swebhdfs:// destination; every batch is synced (or acknowledged) before commit",
              keys: hdfsSinkKeys),
    ])
}

let hdfsSinkKeys: [ConfigKey] = [
    ConfigKey("hdfs.path", .string, required: true, "directory (local path, file://, webhdfs://host:port/path or swebhdfs://host:port/path URI); escapes allowed"),
    ConfigKey("hdfs.webhdfs.user", .string, "WebHDFS: user.name sent with every request (security off)"),
    ConfigKey("hdfs.webhdfs.ssl.caFile", .string, "swebhdfs: PEM file of the CAs to trust (default: the system's trust store)"),
    ConfigKey("hdfs.proxyUser", .string, "WebHDFS: doas (proxy user) sent with every request"),
    ConfigKey("hdfs.filePrefix", .string, default: "FlumeData", "file name prefix; escapes allowed"),
    ConfigKey("hdfs.fileSuffix", .string, "appended to file names (default: none; with a codec, its extension)"),
    ConfigKey("hdfs.inUsePrefix", .string, "prefix of files being written (default: none)"),
    ConfigKey("hdfs.inUseSuffix", .string, default: ".tmp", "suffix of files being written"),
    ConfigKey("hdfs.emptyInUseSuffix", .bool, default: "false", "true: no in-use suffix"),
    ConfigKey("hdfs.rollInterval", .int, default: "30", "seconds before a file is closed (0: never by time)"),
    ConfigKey("hdfs.rollSize", .int, default: "1024", "body bytes before a file is closed (0: never by size)"),
    ConfigKey("hdfs.rollCount", .int, default: "10", "events before a file is closed (0: never by count)"),
    ConfigKey("hdfs.idleTimeout", .int, default: "0", "seconds without writes before a file is closed (0: off)"),
    ConfigKey("hdfs.batchSize", .int, default: "100", "events per transaction, written and synced before commit"),
    ConfigKey("hdfs.fileType", .string, default: "SequenceFile", "SequenceFile, DataStream or CompressedStream"),
    ConfigKey("hdfs.codeC", .string, "gzip, bzip2, deflate, default, snappy, lz4 or zstandard (or a Hadoop codec class name); required by CompressedStream, makes SequenceFiles BLOCK-compressed"),
    ConfigKey("hdfs.writeFormat", .string, default: "Writable", "SequenceFile value class: Writable (BytesWritable) or Text"),
    ConfigKey("hdfs.maxOpenFiles", .int, default: "5000", "open buckets; the least recently used is closed beyond it"),
    ConfigKey("hdfs.round", .bool, default: "false", "round the timestamp down for time escapes"),
    ConfigKey("hdfs.roundValue", .int, default: "1", "round down to a multiple of this"),
    ConfigKey("hdfs.roundUnit", .string, default: "second", "second, minute or hour"),
    ConfigKey("hdfs.timeZone", .string, "time zone of the time escapes (default: the agent's)"),
    ConfigKey("hdfs.useLocalTimeStamp", .bool, default: "false", "use the agent's clock, not the timestamp header"),
    ConfigKey("hdfs.closeTries", .int, default: "0", "rename attempts on close (0: until it succeeds)"),
    ConfigKey("hdfs.retryInterval", .int, default: "180", "seconds between rename attempts"),
    ConfigKey("hdfs.callTimeout", .int, default: "30000", "milliseconds per WebHDFS call (connect, send, each receive)"),
    ConfigKey("hdfs.threadsPoolSize", .int, default: "10", "accepted for Flume configs; no effect"),
    ConfigKey("hdfs.rollTimerPoolSize", .int, default: "1", "accepted for Flume configs; no effect"),
    ConfigKey("hdfs.useRawLocalFileSystem", .bool, default: "false", "accepted for Flume configs; files are always local"),
    ConfigKey("serializer", .string, default: "TEXT", "DataStream / CompressedStream: TEXT, HEADER_AND_TEXT or avro_event"),
    ConfigKey("serializer.appendNewline", .bool, default: "true", "TEXT / HEADER_AND_TEXT: write a newline after each event"),
    ConfigKey("serializer.compressionCodec", .string, default: "null", "avro_event: Avro block codec null, deflate, snappy, bzip2 or zstandard"),
    ConfigKey("serializer.syncIntervalBytes", .int, default: "2048000", "avro_event: bytes of records per Avro block (a block also ends at every batch)"),
]
