/// What a retention pass removed.
public struct RetentionResult: Equatable, Sendable {
    public var deletedSegments: [Int64] = []
    public var deletedBytes: Int = 0
    /// The log start offset afterwards.
    public var logStartOffset: Int64
}

extension PartitionLog {
    // MARK: Flush

    /// fsyncs every segment holding data at or after the recovery point,
    /// then moves the recovery point to the log end offset as it was when
    /// the flush began. The fsyncs run without the lock.
    public func flush(now: Int64 = wallClockMillis()) throws {
        let (handles, target, generation, syncDirectory) = try lock.withLock { () throws -> ([LogFileHandle], Int64, UInt64, Bool) in
            try checkUsable()
            var handles: [LogFileHandle] = []
            for seg in segments where seg.nextOffset > _recoveryPoint || seg === segments.last {
                try seg.appendFinalTimeEntry()
                handles += seg.fileHandles
            }
            let dirty = directoryDirty
            directoryDirty = false
            return (handles, _logEndOffset, truncations, dirty)
        }
        do {
            for h in handles { try h.sync() }
            if syncDirectory { try FS.syncDirectory(directory) }
        } catch {
            // After a failed fsync the state of the page cache is unknown.
            lock.withLock { failure = "\(topicPartition): \(error)" }
            throw error
        }
        lock.withLock {
            lastFlushMillis = now
            guard truncations == generation else { directoryDirty = true; return }
            _recoveryPoint = max(_recoveryPoint, min(target, _logEndOffset))
            if _recoveryPoint >= segments.last!.baseOffset { rolledSinceFlush = false }
        }
    }

    /// Whether the flush policy asks for a flush now: `flush.ms` elapsed
    /// with unflushed data, or a segment was rolled since the last flush.
    public func flushDue(now: Int64) -> Bool {
        lock.withLock {
            guard !closed, failure == nil, _logEndOffset > _recoveryPoint || rolledSinceFlush || directoryDirty else { return false }
            return rolledSinceFlush || now &- lastFlushMillis >= _config.flushIntervalMillis
        }
    }

    // MARK: Retention

    /// Deletes the oldest segments that are past `retentionMillis` (by their
    /// largest timestamp), that make the log exceed `retentionBytes`, or
    /// that lie wholly below the log start offset. Never deletes the active
    /// segment, nor one holding data at or above the high watermark.
    /// Advances the log start offset to the first remaining segment.
    @discardableResult
    public func deleteOldSegments(now: Int64 = wallClockMillis()) throws -> RetentionResult {
        try lock.withLock {
            try checkUsable()
            let config = _config
            let candidates = segments.count - 1
            // Segment i may go only if everything in it is below the high watermark.
            func committed(_ i: Int) -> Bool { segments[i + 1].baseOffset <= _highWatermark }
            var count = 0
            if config.retentionMillis >= 0 {
                var n = 0
                while n < candidates && committed(n) && now &- segments[n].retentionTimestamp() > config.retentionMillis { n += 1 }
                count = max(count, n)
            }
            if config.retentionBytes >= 0 {
                var excess = segments.reduce(Int64(0)) { $0 + Int64($1.size) } - config.retentionBytes
                var n = 0
                while n < candidates && committed(n) && excess - Int64(segments[n].size) >= 0 {
                    excess -= Int64(segments[n].size)
                    n += 1
                }
                count = max(count, n)
            }
            var n = 0
            while n < candidates && segments[n + 1].baseOffset <= _logStartOffset { n += 1 }
            count = max(count, n)

            var result = RetentionResult(logStartOffset: _logStartOffset)
            guard count > 0 else { return result }
            let removed = segments[0..<count]
            segments.removeFirst(count)
            _logStartOffset = max(_logStartOffset, segments[0].baseOffset)
            directoryDirty = true
            result.logStartOffset = _logStartOffset
            var firstError: Error?
            for seg in removed {
                result.deletedSegments.append(seg.baseOffset)
                result.deletedBytes += seg.size
                do { try seg.deleteFiles() } catch { firstError = firstError ?? error }
            }
            producerState.removeBefore(_logStartOffset)
            try epochCache.truncate(fromStart: _logStartOffset)
            if let firstError { throw firstError }
            return result
        }
    }

    /// Moves the log start offset up to `offset` (DeleteRecords); segments
    /// wholly below it go at the next retention pass. `offset` may not pass
    /// the high watermark. Returns the new log start offset.
    @discardableResult
    public func advanceLogStartOffset(to offset: Int64) throws -> Int64 {
        try lock.withLock {
            try checkUsable()
            guard offset <= _highWatermark, offset >= 0 else {
                throw LogError.offsetOutOfRange(offset: offset, logStartOffset: _logStartOffset, logEndOffset: _highWatermark)
            }
            if offset > _logStartOffset {
                _logStartOffset = offset
                producerState.removeBefore(offset)
                try epochCache.truncate(fromStart: offset)
            }
            return _logStartOffset
        }
    }

    /// Forgets producers idle for longer than `producer.id.expiration.ms`.
    @discardableResult
    public func expireProducers(now: Int64 = wallClockMillis()) -> Int {
        lock.withLock { producerState.expire(now: now, expirationMillis: _config.producerIdExpirationMillis) }
    }

    // MARK: Truncation

    /// Removes every batch holding an offset at or after `offset` (a
    /// follower cutting a divergent tail). The LEO becomes the start of the
    /// first removed batch — `offset` itself when it is a batch boundary. An
    /// offset below the first segment empties the log and restarts it there.
    /// High watermark and recovery point are lowered to the new LEO; the
    /// producer state is rebuilt.
    public func truncate(to offset: Int64) throws {
        let lowered = try lock.withLock { () throws -> Bool in
            try checkUsable()
            return try truncateLocked(to: offset)
        }
        recoveryPointLowered(lowered)
    }

    /// Returns true when the recovery point moved back.
    func truncateLocked(to offset: Int64) throws -> Bool {
        guard offset >= 0 else {
            throw LogError.offsetOutOfRange(offset: offset, logStartOffset: _logStartOffset, logEndOffset: _logEndOffset)
        }
        guard offset < _logEndOffset else { return false }
        truncations &+= 1
        directoryDirty = true
        do {
            if offset < segments[0].baseOffset {
                for seg in segments { try seg.deleteFiles() }
                segments = [try LogSegment.create(directory: directory, baseOffset: offset,
                                                  indexIntervalBytes: _config.indexIntervalBytes)]
                _logStartOffset = offset
            } else {
                while segments.count > 1 && segments.last!.baseOffset >= offset {
                    try segments.removeLast().deleteFiles()
                }
                try segments.last!.truncate(to: offset)
            }
        } catch {
            failure = "\(topicPartition): truncation to \(offset) failed: \(error)"
            throw error
        }
        _logEndOffset = segments.last!.nextOffset
        _logStartOffset = min(_logStartOffset, _logEndOffset)
        _highWatermark = min(_highWatermark, _logEndOffset)
        let lowered = _recoveryPoint > _logEndOffset
        _recoveryPoint = min(_recoveryPoint, _logEndOffset)
        _ = try reloadProducerState()
        try epochCache.truncate(fromEnd: _logEndOffset)
        return lowered
    }
}
