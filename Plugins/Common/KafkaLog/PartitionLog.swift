/// The log of one partition: directory `<log.dir>/<topic>-<partition>`
/// holding segments in offset order, the last one active.
///
/// Offsets are named as in Kafka's log layer:
/// - `logStartOffset`: first offset a reader may ask for;
/// - `logEndOffset` (LEO): offset the next appended record gets;
/// - `highWatermark`: records below it are committed and visible to
///   consumers (on a single broker it follows the LEO after each append);
/// - `recoveryPoint`: records below it are known to be fsynced; a restart
///   re-scans only from the segment holding it.
///
/// Thread-safety: every public member takes this log's own lock, so a log
/// may be shared by request handlers and the manager's ticks. `LogSegment`
/// and the producer and epoch state are not thread-safe and are touched only
/// under that lock. fsync runs outside the lock, so a flush does not stall
/// appends or reads.
public final class PartitionLog: @unchecked Sendable {
    public let topicPartition: TopicPartition
    public let directory: String
    /// What opening the log found and repaired (for the caller to log).
    public private(set) var recoveryReport: LogRecoveryReport

    let lock = LogLock()
    var _config: LogConfig
    var segments: [LogSegment]
    var _logStartOffset: Int64
    var _logEndOffset: Int64
    var _highWatermark: Int64
    var _recoveryPoint: Int64
    var _leaderEpoch: Int32
    var _highWatermarkFollowsLogEnd: Bool
    let producerState: ProducerStateManager
    let epochCache: LeaderEpochCache
    var lastFlushMillis: Int64
    /// A segment was rolled since the last flush (the manager's tick flushes it).
    var rolledSinceFlush = false
    /// Segment files were created or removed since the directory was fsynced.
    var directoryDirty = false
    /// Bumped by every truncation: a flush that raced one must not advance
    /// the recovery point over data written after it.
    var truncations: UInt64 = 0
    var closed = false
    /// Set when an I/O failure left the files in an unknown state.
    var failure: String?
    /// Called, without the lock held, when the recovery point moved back
    /// (truncation) so the owner can rewrite its checkpoint at once. Set and
    /// read under the lock.
    var recoveryPointHook: (@Sendable (PartitionLog) -> Void)?

    func setRecoveryPointHook(_ hook: (@Sendable (PartitionLog) -> Void)?) {
        lock.withLock { recoveryPointHook = hook }
    }

    /// Runs the hook (after the lock was released) if the recovery point moved back.
    func recoveryPointLowered(_ lowered: Bool) {
        guard lowered, let hook = lock.withLock({ recoveryPointHook }) else { return }
        hook(self)
    }

    /// Marks the log closed without flushing (its directory is about to be removed).
    func markDeleted() {
        lock.withLock {
            closed = true
            recoveryPointHook = nil
        }
    }

    /// Opens (creating if needed) the log in `directory`, whose last path
    /// component must be `<topic>-<partition>`. `recoveryPoint`,
    /// `logStartOffset` and `highWatermark` are the values the owner
    /// checkpointed (nil or 0 when unknown: the whole log is re-scanned).
    public init(directory: String, config: LogConfig = LogConfig(), recoveryPoint: Int64 = 0,
                logStartOffset: Int64? = nil, highWatermark: Int64? = nil,
                highWatermarkFollowsLogEnd: Bool = true, now: Int64 = wallClockMillis()) throws {
        try config.validate()
        let name = String(directory.split(separator: "/").last ?? "")
        guard let tp = TopicPartition(directoryName: name) else {
            throw LogError.invalidTopicPartition("directory name \"\(name)\" is not <topic>-<partition>")
        }
        topicPartition = tp
        self.directory = directory
        _config = config
        _highWatermarkFollowsLogEnd = highWatermarkFollowsLogEnd
        try FS.makeDirectories(directory)
        var loader = LogLoader(directory: directory, topicPartition: tp, config: config, now: now)
        let loaded = try loader.load(recoveryPoint: recoveryPoint, logStartOffset: logStartOffset ?? 0)
        segments = loaded.segments
        _logEndOffset = loaded.segments.last!.nextOffset
        _logStartOffset = min(max(logStartOffset ?? 0, loaded.segments[0].baseOffset), _logEndOffset)
        _recoveryPoint = loaded.recoveryPoint
        _highWatermark = highWatermarkFollowsLogEnd ? _logEndOffset
            : min(max(highWatermark ?? _logStartOffset, _logStartOffset), _logEndOffset)
        producerState = ProducerStateManager(directory: directory)
        epochCache = try LeaderEpochCache(directory: directory)
        lastFlushMillis = now
        _leaderEpoch = 0
        recoveryReport = loader.report
        recoveryReport.replayedBatches = try reloadProducerState()
        try epochCache.truncate(fromEnd: _logEndOffset)
        try epochCache.truncate(fromStart: _logStartOffset)
        _leaderEpoch = max(epochCache.latestEpoch ?? 0, 0)
    }

    // MARK: Named offsets and state (each read takes the lock)

    public var logStartOffset: Int64 { lock.withLock { _logStartOffset } }
    public var logEndOffset: Int64 { lock.withLock { _logEndOffset } }
    public var highWatermark: Int64 { lock.withLock { _highWatermark } }
    public var recoveryPoint: Int64 { lock.withLock { _recoveryPoint } }
    public var leaderEpoch: Int32 { lock.withLock { _leaderEpoch } }
    public var config: LogConfig { lock.withLock { _config } }
    public var isClosed: Bool { lock.withLock { closed } }
    /// Offsets appended but not yet fsynced.
    public var unflushedMessages: Int64 { lock.withLock { _logEndOffset - _recoveryPoint } }
    /// Bytes in all segments.
    public var size: Int64 { lock.withLock { segments.reduce(0) { $0 + Int64($1.size) } } }

    /// A description of one segment, for tools and tests.
    public struct SegmentInfo: Equatable, Sendable {
        public var baseOffset: Int64
        public var nextOffset: Int64
        public var size: Int
        public var largestTimestamp: Int64
        public var logPath: String
    }

    public var segmentInfos: [SegmentInfo] {
        lock.withLock {
            segments.map { SegmentInfo(baseOffset: $0.baseOffset, nextOffset: $0.nextOffset, size: $0.size,
                                       largestTimestamp: $0.largestTimestamp, logPath: $0.logPath) }
        }
    }

    /// When true (single broker) every append moves the high watermark to the
    /// log end offset; when false, replication calls `updateHighWatermark`.
    public var highWatermarkFollowsLogEnd: Bool {
        get { lock.withLock { _highWatermarkFollowsLogEnd } }
        set { lock.withLock { _highWatermarkFollowsLogEnd = newValue; if newValue { _highWatermark = _logEndOffset } } }
    }

    /// Moves the high watermark, clamped to [logStartOffset, logEndOffset].
    /// Returns the value set.
    @discardableResult
    public func updateHighWatermark(_ offset: Int64) -> Int64 {
        lock.withLock {
            _highWatermark = min(max(offset, _logStartOffset), _logEndOffset)
            return _highWatermark
        }
    }

    /// Sets the leader epoch stamped on appended batches and records that
    /// the epoch starts at the current log end (leader-epoch-checkpoint).
    public func setLeaderEpoch(_ epoch: Int32) throws {
        try lock.withLock {
            try checkUsable()
            _leaderEpoch = epoch
            try epochCache.assign(epoch: epoch, startOffset: _logEndOffset)
        }
    }

    /// For OffsetForLeaderEpoch: the largest known epoch at or below
    /// `epoch` and the offset where it ended (the LEO for the latest
    /// epoch); (-1, -1) when unknown.
    public func endOffset(forLeaderEpoch epoch: Int32) -> (epoch: Int32, endOffset: Int64) {
        lock.withLock { epochCache.endOffset(for: epoch, logEndOffset: _logEndOffset) }
    }

    /// Replaces the configuration (dynamic topic config change); applies
    /// from the next append, roll or retention check.
    public func updateConfig(_ config: LogConfig) throws {
        try config.validate()
        lock.withLock { _config = config }
    }

    /// The sequence state remembered for an idempotent producer.
    public func producerEntry(_ producerId: Int64) -> ProducerEntry? {
        lock.withLock { producerState.entry(producerId) }
    }

    func checkUsable() throws {
        if closed { throw LogError.logClosed(topicPartition.description) }
        if let failure { throw LogError.logFailed(failure) }
    }

    /// Flushes every segment, snapshots the producer state at the log end
    /// and closes. Afterwards `recoveryPoint == logEndOffset`, which the
    /// owner should checkpoint. Idempotent.
    public func close() throws {
        try lock.withLock {
            guard !closed else { return }
            closed = true
            guard failure == nil else { return }
            for seg in segments where seg.nextOffset > _recoveryPoint || seg === segments.last { try seg.flush() }
            try FS.syncDirectory(directory)
            _recoveryPoint = _logEndOffset
            try producerState.writeSnapshot(at: _logEndOffset)
        }
    }

    /// Rebuilds the producer state from the newest snapshot at or below the
    /// log end plus the batches after it. Returns the batches replayed.
    func reloadProducerState() throws -> Int {
        let from = try producerState.loadSnapshot(atOrBelow: _logEndOffset) ?? segments[0].baseOffset
        var replayed = 0
        for seg in segments where seg.nextOffset > from {
            try seg.forEachBatch(from: max(from, seg.baseOffset)) { _, h in
                if h.baseOffset >= from { producerState.update(h); replayed += 1 }
                return true
            }
        }
        producerState.removeBefore(_logStartOffset)
        return replayed
    }
}
