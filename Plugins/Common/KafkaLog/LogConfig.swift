/// Per-log settings, named after Kafka's topic-level keys (broker-level
/// `log.*` defaults in parentheses).
public struct LogConfig: Equatable, Sendable {
    public enum TimestampType: Equatable, Sendable {
        /// Keep the producer's timestamps (`message.timestamp.type=CreateTime`).
        case createTime
        /// Stamp every batch with the broker's clock at append.
        case logAppendTime
    }

    /// `segment.bytes` (`log.segment.bytes`): roll when the active segment
    /// would grow past this. Default 1 GiB; at most Int32.max.
    public var segmentBytes: Int = 1 << 30
    /// `segment.ms` (`log.roll.ms` / `log.roll.hours`): roll a segment whose
    /// first batch is older than this. Default 7 days.
    public var rollMillis: Int64 = 7 * 24 * 3_600_000
    /// `retention.ms` (`log.retention.ms`): delete segments whose newest
    /// batch is older than this; -1 keeps them forever. Default 7 days.
    public var retentionMillis: Int64 = 7 * 24 * 3_600_000
    /// `retention.bytes` (`log.retention.bytes`): delete oldest segments
    /// while the log is larger than this; -1 = no limit (default).
    public var retentionBytes: Int64 = -1
    /// `index.interval.bytes` (`log.index.interval.bytes`): bytes of log
    /// between two `.index` entries. Default 4096.
    public var indexIntervalBytes: Int = 4096
    /// `flush.messages` (`log.flush.interval.messages`): fsync after this
    /// many unflushed offsets. Default: never (the page cache and, in Kafka,
    /// replication provide durability).
    public var flushIntervalMessages: Int64 = Int64.max
    /// `flush.ms` (`log.flush.interval.ms`): fsync when the last flush is
    /// older than this (checked by `LogManager.tick`). Default: never.
    public var flushIntervalMillis: Int64 = Int64.max
    /// `max.message.bytes` (`message.max.bytes`): largest batch accepted.
    public var maxMessageBytes: Int = 1_048_588
    /// `message.timestamp.type`.
    public var timestampType: TimestampType = .createTime
    /// `producer.id.expiration.ms`: forget an idle producer's sequence state
    /// after this long. Default 1 day.
    public var producerIdExpirationMillis: Int64 = 86_400_000

    public init() {}

    public func validate() throws {
        func bad(_ m: String) -> LogError { .invalidConfig(m) }
        guard segmentBytes >= BatchLayout.headerSize, segmentBytes <= Int(Int32.max) else {
            throw bad("segment.bytes \(segmentBytes) must be in [\(BatchLayout.headerSize), \(Int32.max)]")
        }
        guard rollMillis >= 1 else { throw bad("segment.ms \(rollMillis) must be at least 1") }
        guard retentionMillis >= -1 else { throw bad("retention.ms \(retentionMillis) must be -1 or at least 0") }
        guard retentionBytes >= -1 else { throw bad("retention.bytes \(retentionBytes) must be -1 or at least 0") }
        guard indexIntervalBytes >= 0 else { throw bad("index.interval.bytes \(indexIntervalBytes) must be at least 0") }
        guard flushIntervalMessages >= 1 else { throw bad("flush.messages \(flushIntervalMessages) must be at least 1") }
        guard flushIntervalMillis >= 0 else { throw bad("flush.ms \(flushIntervalMillis) must be at least 0") }
        guard maxMessageBytes >= BatchLayout.headerSize else {
            throw bad("max.message.bytes \(maxMessageBytes) must be at least \(BatchLayout.headerSize)")
        }
        guard producerIdExpirationMillis >= 1 else { throw bad("producer.id.expiration.ms must be at least 1") }
    }
}
