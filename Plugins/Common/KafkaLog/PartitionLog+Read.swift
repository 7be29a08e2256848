/// How far a read may go.
public enum ReadIsolation: Sendable {
    /// Up to the high watermark: what consumers may see.
    case highWatermark
    /// Up to the log end offset: what a follower replica fetches.
    case logEnd
}

/// The result of `PartitionLog.read`.
public struct LogReadInfo: Sendable {
    /// Whole batches, in offset order, possibly from several segments.
    public var regions: [FileRegion]
    public var highWatermark: Int64
    public var logStartOffset: Int64
    public var logEndOffset: Int64

    public var totalBytes: Int { regions.reduce(0) { $0 + $1.length } }

    /// All regions read into one array (tests, or a server without sendfile).
    public func readBytes() throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(totalBytes)
        for r in regions { out += try r.readBytes() }
        return out
    }
}

extension PartitionLog {
    /// Whole batches starting with the one that contains `offset`, up to
    /// `maxBytes` in total, never past the isolation limit. If the first
    /// batch alone exceeds `maxBytes` it is still returned when
    /// `minOneBatch` (Kafka's rule: a consumer can always make progress).
    /// `offset` equal to the limit gives no regions; outside
    /// [logStartOffset, logEndOffset] throws `offsetOutOfRange`.
    /// The regions hold their files open; send them after this returns.
    public func read(from offset: Int64, maxBytes: Int, isolation: ReadIsolation = .highWatermark,
                     minOneBatch: Bool = true) throws -> LogReadInfo {
        try lock.withLock {
            try checkUsable()
            guard offset >= _logStartOffset, offset <= _logEndOffset else {
                throw LogError.offsetOutOfRange(offset: offset, logStartOffset: _logStartOffset, logEndOffset: _logEndOffset)
            }
            var info = LogReadInfo(regions: [], highWatermark: _highWatermark, logStartOffset: _logStartOffset,
                                   logEndOffset: _logEndOffset)
            let limit = isolation == .highWatermark ? _highWatermark : _logEndOffset
            guard offset < limit else { return info }
            var budget = max(0, maxBytes)
            var i = segmentIndex(containing: offset)
            var from = offset
            while i < segments.count {
                let seg = segments[i]
                if seg.baseOffset >= limit { break }
                if from < seg.nextOffset {
                    let minOne = minOneBatch && info.regions.isEmpty
                    if budget == 0 && !minOne { break }
                    let maxPosition = limit < seg.nextOffset ? try seg.position(of: limit) : seg.size
                    guard let r = try seg.read(from: from, maxBytes: budget, maxPosition: maxPosition, minOneBatch: minOne) else { break }
                    info.regions.append(r)
                    budget = max(0, budget - r.length)
                    // Stopped by the budget or the limit inside this segment.
                    if r.position + r.length < maxPosition || maxPosition < seg.size { break }
                }
                i += 1
                if i < segments.count { from = max(from, segments[i].baseOffset) }
            }
            return info
        }
    }

    /// `read(...)` with the regions read into memory.
    public func readBytes(from offset: Int64, maxBytes: Int, isolation: ReadIsolation = .highWatermark) throws -> [UInt8] {
        try read(from: offset, maxBytes: maxBytes, isolation: isolation).readBytes()
    }

    /// Index of the last segment whose base offset is at most `offset` (0 if none).
    func segmentIndex(containing offset: Int64) -> Int {
        var lo = 0, hi = segments.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if segments[mid].baseOffset <= offset { lo = mid + 1 } else { hi = mid }
        }
        return max(0, lo - 1)
    }

    /// First offset whose record timestamp is at least `timestamp`, with that
    /// timestamp (ListOffsets by time); nil when no record is that new.
    /// Segments are skipped by their largest timestamp, then the time index
    /// narrows the scan inside the segment. Inside an uncompressed
    /// CreateTime batch the exact record is found; otherwise the batch's
    /// first offset and max timestamp are returned.
    public func offsetForTimestamp(_ timestamp: Int64, isolation: ReadIsolation = .highWatermark) throws -> (offset: Int64, timestamp: Int64)? {
        try lock.withLock {
            try checkUsable()
            let limit = isolation == .highWatermark ? _highWatermark : _logEndOffset
            for seg in segments where seg.largestTimestamp >= timestamp && seg.nextOffset > _logStartOffset {
                if let r = try seg.findOffset(byTimestamp: timestamp, startingOffset: _logStartOffset) {
                    return r.offset < limit ? r : nil
                }
            }
            return nil
        }
    }

    /// The offset and timestamp of the record with the largest timestamp
    /// (ListOffsets timestamp -3); nil for an empty log.
    public func maxTimestampOffset(isolation: ReadIsolation = .highWatermark) throws -> (offset: Int64, timestamp: Int64)? {
        try lock.withLock {
            try checkUsable()
            let limit = isolation == .highWatermark ? _highWatermark : _logEndOffset
            guard let seg = segments.filter({ $0.size > 0 && $0.nextOffset > _logStartOffset })
                    .max(by: { $0.largestTimestamp < $1.largestTimestamp }),
                  let r = try seg.findOffset(byTimestamp: seg.largestTimestamp, startingOffset: _logStartOffset) else { return nil }
            return r.offset < limit ? r : nil
        }
    }

    /// ListOffsets: -2 earliest (log start), -1 latest (the isolation
    /// limit), -3 max timestamp, otherwise by timestamp. nil = no such offset.
    public func listOffset(timestamp: Int64, isolation: ReadIsolation = .highWatermark) throws -> (offset: Int64, timestamp: Int64)? {
        switch timestamp {
        case -2: return lock.withLock { (_logStartOffset, -1) }
        case -1: return lock.withLock { (isolation == .highWatermark ? _highWatermark : _logEndOffset, -1) }
        case -3: return try maxTimestampOffset(isolation: isolation)
        default: return try offsetForTimestamp(timestamp, isolation: isolation)
        }
    }
}
