#if canImport(Glibc)
import Glibc
#endif

/// Settings of the log manager (broker-level keys).
public struct LogManagerConfig: Sendable {
    /// `log.dirs`: one or more directories; a new partition goes to the one
    /// holding the fewest.
    public var logDirs: [String]
    /// Written to and checked against each dir's `meta.properties`; nil
    /// skips the check (and writes none).
    public var brokerId: Int32?
    /// The configuration of logs with no topic-specific one.
    public var defaultLogConfig = LogConfig()
    /// Topic-level overrides, looked up when a log is opened or created.
    public var topicConfig: @Sendable (String) -> LogConfig? = { _ in nil }
    /// `log.retention.check.interval.ms`: how often `tick` runs retention.
    public var retentionCheckIntervalMillis: Int64 = 300_000
    /// `log.flush.offset.checkpoint.interval.ms`: how often `tick` rewrites
    /// the checkpoint files when nothing else prompted it.
    public var checkpointIntervalMillis: Int64 = 60_000
    /// Single broker: every log's high watermark follows its log end offset.
    public var highWatermarkFollowsLogEnd = true

    public init(logDirs: [String], brokerId: Int32? = nil) {
        self.logDirs = logDirs
        self.brokerId = brokerId
    }
}

/// All partition logs of a broker, spread over `log.dirs`. Each log dir
/// holds `<topic>-<partition>` directories, `meta.properties`, a `.lock`
/// (flock: one broker per dir) and three checkpoints in Kafka's text
/// format: `recovery-point-offset-checkpoint`, `log-start-offset-checkpoint`
/// and `replication-offset-checkpoint` (high watermarks).
///
/// Thread-safety: the table of logs has its own lock; each `PartitionLog`
/// has its own. The manager never holds its lock while taking a log's in a
/// way a log could invert (a log calls back only after releasing its lock).
public final class LogManager: @unchecked Sendable {
    public static let recoveryPointFile = "recovery-point-offset-checkpoint"
    public static let logStartFile = "log-start-offset-checkpoint"
    public static let highWatermarkFile = "replication-offset-checkpoint"
    public static let metaFile = "meta.properties"

    public let config: LogManagerConfig
    private let lock = LogLock()
    /// Serialises checkpoint writes (taken before any log's lock, never inside one).
    private let checkpointLock = LogLock()
    private var logs: [TopicPartition: (log: PartitionLog, dir: String)] = [:]
    private var dirLocks: [LogFileHandle] = []
    private var lastRetentionCheck: Int64?
    private var lastCheckpoint: Int64?
    private var closed = false
    /// One report per log opened at startup.
    public let recoveryReports: [LogRecoveryReport]

    /// Opens every log dir (creating missing ones), locks it, checks
    /// `meta.properties`, removes the leftovers of deleted logs and opens
    /// every partition log with its checkpointed recovery point.
    public init(config: LogManagerConfig, now: Int64 = wallClockMillis()) throws {
        guard !config.logDirs.isEmpty else { throw LogError.invalidConfig("log.dirs is empty") }
        try config.defaultLogConfig.validate()
        self.config = config
        var reports: [LogRecoveryReport] = []
        for dir in config.logDirs {
            try FS.makeDirectories(dir)
            dirLocks.append(try FS.lockDirectory(dir))
            try LogManager.checkMeta(dir: dir, brokerId: config.brokerId)
            let recovery = LogManager.readCheckpoint(dir + "/" + LogManager.recoveryPointFile)
            let starts = LogManager.readCheckpoint(dir + "/" + LogManager.logStartFile)
            let marks = LogManager.readCheckpoint(dir + "/" + LogManager.highWatermarkFile)
            for name in try FS.list(dir) where FS.isDirectory(dir + "/" + name) {
                if name.hasSuffix("-delete") {
                    try FS.removeTree(dir + "/" + name)
                    continue
                }
                guard let tp = TopicPartition(directoryName: name) else { continue }
                if let other = logs[tp] { throw LogError.duplicateLog("\(tp) in \(other.dir) and \(dir)") }
                let log = try PartitionLog(directory: dir + "/" + name, config: config.topicConfig(tp.topic) ?? config.defaultLogConfig,
                                           recoveryPoint: recovery[tp] ?? 0, logStartOffset: starts[tp],
                                           highWatermark: marks[tp], highWatermarkFollowsLogEnd: config.highWatermarkFollowsLogEnd,
                                           now: now)
                logs[tp] = (log, dir)
                reports.append(log.recoveryReport)
            }
        }
        recoveryReports = reports
        for entry in logs.values { attach(entry.log) }
        // The recovery points may have moved (re-scanned logs are flushed).
        try checkpoint()
    }

    private func attach(_ log: PartitionLog) {
        log.setRecoveryPointHook { [weak self] log in
            guard let self, let dir = self.lock.withLock({ self.logs[log.topicPartition]?.dir }) else { return }
            try? self.checkpoint(dir: dir)
        }
    }

    // MARK: Logs

    public func log(_ tp: TopicPartition) -> PartitionLog? { lock.withLock { logs[tp]?.log } }

    public var allLogs: [TopicPartition: PartitionLog] { lock.withLock { logs.mapValues(\.log) } }

    /// The log dir holding `tp`.
    public func logDir(of tp: TopicPartition) -> String? { lock.withLock { logs[tp]?.dir } }

    /// Returns the log, creating it (in the log dir with the fewest logs)
    /// when it does not exist. `config` overrides the topic's configuration.
    public func getOrCreateLog(_ tp: TopicPartition, config logConfig: LogConfig? = nil,
                               now: Int64 = wallClockMillis()) throws -> PartitionLog {
        try lock.withLock {
            if closed { throw LogError.logClosed("log manager") }
            if let existing = logs[tp] { return existing.log }
            var counts = Dictionary(uniqueKeysWithValues: config.logDirs.map { ($0, 0) })
            for entry in logs.values { counts[entry.dir, default: 0] += 1 }
            let dir = config.logDirs.min { counts[$0]! < counts[$1]! }!
            let cfg = logConfig ?? config.topicConfig(tp.topic) ?? config.defaultLogConfig
            let log = try PartitionLog(directory: dir + "/" + tp.directoryName, config: cfg,
                                       highWatermarkFollowsLogEnd: config.highWatermarkFollowsLogEnd, now: now)
            try FS.syncDirectory(dir)
            attach(log)
            logs[tp] = (log, dir)
            return log
        }
    }

    /// Closes the log and removes its directory: renamed to
    /// `<topic>-<partition>.<nanos>-delete` first, so a crash midway leaves
    /// something the next start removes rather than a half-deleted log.
    public func deleteLog(_ tp: TopicPartition) throws {
        guard let (log, dir) = lock.withLock({ logs.removeValue(forKey: tp) }) else { return }
        log.markDeleted()
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let doomed = "\(dir)/\(tp.directoryName).\(ts.tv_sec)\(ts.tv_nsec)-delete"
        try FS.rename(log.directory, doomed)
        try FS.syncDirectory(dir)
        try FS.removeTree(doomed)
        try checkpoint(dir: dir)
    }

    // MARK: Periodic work

    /// What one `tick` did.
    public struct TickReport: Sendable {
        public var retention: [TopicPartition: RetentionResult] = [:]
        public var flushed: [TopicPartition] = []
        public var expiredProducers = 0
        public var checkpointed = false
        /// Failures, per log (nil: a checkpoint write); the work went on.
        public var errors: [(TopicPartition?, LogError)] = []
    }

    /// Runs what is due at `now`: retention (every
    /// `retentionCheckIntervalMillis`), flushes due by each log's flush
    /// policy or a roll, producer expiry, and the checkpoint files (when
    /// something changed, or every `checkpointIntervalMillis`). Call it
    /// periodically from one thread, e.g. every second.
    @discardableResult
    public func tick(now: Int64 = wallClockMillis()) -> TickReport {
        var report = TickReport()
        let current = lock.withLock { closed ? [:] : logs.mapValues(\.log) }
        let runRetention = lock.withLock { () -> Bool in
            if let last = lastRetentionCheck, now &- last < config.retentionCheckIntervalMillis { return false }
            lastRetentionCheck = now
            return true
        }
        var changed = false
        for (tp, log) in current.sorted(by: { $0.key < $1.key }) {
            do {
                if runRetention {
                    let r = try log.deleteOldSegments(now: now)
                    if !r.deletedSegments.isEmpty { report.retention[tp] = r; changed = true }
                    report.expiredProducers += log.expireProducers(now: now)
                }
                if log.flushDue(now: now) {
                    try log.flush(now: now)
                    report.flushed.append(tp)
                    changed = true
                }
            } catch {
                if case LogError.logClosed = error { continue }   // deleted meanwhile
                report.errors.append((tp, (error as? LogError) ?? .logFailed("\(error)")))
            }
        }
        let checkpointDue = lock.withLock { changed || lastCheckpoint.map { now &- $0 >= config.checkpointIntervalMillis } ?? true }
        if checkpointDue {
            do {
                try checkpoint()
                lock.withLock { lastCheckpoint = now }
                report.checkpointed = true
            } catch {
                report.errors.append((nil, (error as? LogError) ?? .logFailed("\(error)")))
            }
        }
        return report
    }

    /// Flushes every log (fsync) and checkpoints.
    public func flushAll() throws {
        for log in allLogs.values where !log.isClosed { try log.flush() }
        try checkpoint()
    }

    // MARK: Checkpoints

    /// Rewrites the three checkpoint files of every log dir.
    public func checkpoint() throws {
        for dir in config.logDirs { try checkpoint(dir: dir) }
    }

    func checkpoint(dir: String) throws {
        try checkpointLock.withLock {
            let inDir = lock.withLock { logs.filter { $0.value.dir == dir }.mapValues(\.log) }
            var recovery: [TopicPartition: Int64] = [:], starts = recovery, marks = recovery
            for (tp, log) in inDir {
                log.lock.withLock {
                    recovery[tp] = log._recoveryPoint
                    starts[tp] = log._logStartOffset
                    marks[tp] = log._highWatermark
                }
            }
            try FS.writeFileAtomically(dir + "/" + LogManager.recoveryPointFile, OffsetCheckpointFormat.renderOffsets(recovery))
            try FS.writeFileAtomically(dir + "/" + LogManager.logStartFile, OffsetCheckpointFormat.renderOffsets(starts))
            try FS.writeFileAtomically(dir + "/" + LogManager.highWatermarkFile, OffsetCheckpointFormat.renderOffsets(marks))
        }
    }

    /// A missing or unreadable checkpoint reads as empty: every log in that
    /// dir is then fully re-scanned, which is safe.
    static func readCheckpoint(_ path: String) -> [TopicPartition: Int64] {
        guard let bytes = try? FS.readFile(path) else { return [:] }
        return OffsetCheckpointFormat.parseOffsets(bytes) ?? [:]
    }

    static func checkMeta(dir: String, brokerId: Int32?) throws {
        let path = dir + "/" + metaFile
        guard let bytes = try FS.readFile(path) else {
            guard let brokerId else { return }
            try FS.writeFileAtomically(path, Array("#Written by Sluice\nversion=0\nbroker.id=\(brokerId)\n".utf8))
            return
        }
        guard let brokerId else { return }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let kv = line.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0].trimmingSpaces == "broker.id" {
                guard let found = Int32(kv[1].trimmingSpaces) else {
                    throw LogError.corruptFile(path: path, reason: "broker.id is not a number")
                }
                if found != brokerId { throw LogError.brokerIdMismatch(dir: dir, found: found, expected: brokerId) }
            }
        }
    }

    // MARK: Shutdown

    /// Flushes and closes every log, writes the checkpoints (recovery point
    /// = log end offset for each, so the next start scans nothing) and
    /// releases the dir locks. Idempotent.
    public func close() throws {
        let current = lock.withLock { () -> [PartitionLog] in
            if closed { return [] }
            closed = true
            return logs.values.map(\.log)
        }
        guard !current.isEmpty || !dirLocks.isEmpty else { return }
        var firstError: Error?
        for log in current {
            do { try log.close() } catch { firstError = firstError ?? error }
        }
        do { try checkpoint() } catch { firstError = firstError ?? error }
        lock.withLock { dirLocks = [] }
        if let firstError { throw firstError }
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " || s.first == "\t" || s.first == "\r" { s.removeFirst() }
        while s.last == " " || s.last == "\t" || s.last == "\r" { s.removeLast() }
        return s
    }
}
