/// One batch of an append and where it ended up.
public struct AppendedBatch: Equatable, Sendable {
    public var baseOffset: Int64
    public var lastOffset: Int64
    /// A retry of a batch already in the log: not written again, the
    /// offsets are the original ones.
    public var isDuplicate: Bool
}

/// The result of `PartitionLog.append`.
public struct LogAppendInfo: Equatable, Sendable {
    /// First offset of the append (of the original, for a retried batch).
    public var baseOffset: Int64
    /// Last offset of the append.
    public var lastOffset: Int64
    /// The broker time stamped on the batches when the log uses
    /// LogAppendTime, else -1 (as in a Produce response).
    public var logAppendTime: Int64
    public var logStartOffset: Int64
    /// Each batch of the append, in order.
    public var batches: [AppendedBatch]
    /// Bytes written to the log.
    public var appendedBytes: Int

    /// Every batch was a retry of one already in the log.
    public var isDuplicate: Bool { batches.allSatisfy(\.isDuplicate) }
}

extension PartitionLog {
    /// Appends one or more record batches (v2, concatenated as in a Produce
    /// request) and assigns their offsets.
    ///
    /// Every batch is validated first — length, magic 2, CRC-32C, record
    /// count, size limits, producer sequence — and nothing is written unless
    /// all pass; the error names the first problem. The broker-owned fields
    /// are then stamped in a copy: `baseOffset` (from the LEO) and
    /// `partitionLeaderEpoch`, plus the max timestamp for LogAppendTime.
    /// A batch an idempotent producer is retrying is not written again; it
    /// is reported with its original offsets. Segments roll as needed
    /// between batches. If a write fails the log is cut back to where it was.
    public func append(_ records: [UInt8], now: Int64 = wallClockMillis()) throws -> LogAppendInfo {
        try records.withUnsafeBytes { try append($0, now: now) }
    }

    public func append(_ records: UnsafeRawBufferPointer, now: Int64 = wallClockMillis()) throws -> LogAppendInfo {
        var lowered = false
        let (info, flushDue) = try lock.withLock { () throws -> (LogAppendInfo, Bool) in
            try appendLocked(records, now: now, recoveryPointLowered: &lowered)
        }
        recoveryPointLowered(lowered)
        if flushDue { try flush(now: now) }
        return info
    }

    private enum Planned {
        case write(position: Int, header: RecordBatchHeader)
        case duplicate(ProducerBatch)
    }

    private func appendLocked(_ records: UnsafeRawBufferPointer, now: Int64,
                              recoveryPointLowered: inout Bool) throws -> (LogAppendInfo, Bool) {
        try checkUsable()
        let config = _config
        let sizeLimit = min(config.maxMessageBytes, config.segmentBytes)

        // 1. Validate every batch.
        var incoming: [(position: Int, header: RecordBatchHeader)] = []
        var p = 0
        while p < records.count {
            let h = try BatchValidator.validate(records, at: p)
            if h.totalSize > sizeLimit { throw LogError.batchTooLarge(position: p, size: h.totalSize, limit: sizeLimit) }
            incoming.append((p, h))
            p += h.totalSize
        }
        guard !incoming.isEmpty else { throw LogError.emptyAppend }

        // 2. Producer sequences and offsets, as if the batches were written in order.
        let appendTime: Int64 = config.timestampType == .logAppendTime ? now : -1
        var pending: [Int64: ProducerEntry] = [:]
        var plan: [Planned] = []
        var next = _logEndOffset
        for (position, original) in incoming {
            switch try producerState.check(original, pending: pending) {
            case let .duplicate(b):
                plan.append(.duplicate(b))
            case .accept, .notIdempotent:
                var h = original
                h.baseOffset = next
                h.partitionLeaderEpoch = _leaderEpoch
                if appendTime >= 0 { h.maxTimestamp = appendTime; h.attributes |= 0x8 }
                if h.isIdempotent {
                    pending[h.producerId] = ProducerStateManager.applying(h, to: pending[h.producerId] ?? producerState.entry(h.producerId))
                }
                plan.append(.write(position: position, header: h))
                next = h.nextOffset
            }
        }

        // 3. Stamp the broker's fields in a copy and write.
        var written = 0
        if plan.contains(where: { if case .write = $0 { return true } else { return false } }) {
            var bytes = [UInt8](records)
            bytes.withUnsafeMutableBytes { buf in
                for case let .write(position, h) in plan {
                    buf.assignBatch(at: position, baseOffset: h.baseOffset, leaderEpoch: h.partitionLeaderEpoch)
                    if appendTime >= 0 { buf.setLogAppendTime(at: position, totalSize: h.totalSize, timestamp: appendTime) }
                }
            }
            let startEnd = _logEndOffset
            do {
                try epochCache.assign(epoch: _leaderEpoch, startOffset: startEnd)
                try bytes.withUnsafeBytes { buf in
                    for case let .write(position, h) in plan {
                        try maybeRoll(for: h, now: now)
                        try segments.last!.append(batch: UnsafeRawBufferPointer(rebasing: buf[position..<(position + h.totalSize)]), header: h)
                        producerState.update(h)
                        _logEndOffset = h.nextOffset
                        written += h.totalSize
                    }
                }
            } catch {
                // Leave the log as it was before this append.
                if _logEndOffset > startEnd {
                    do { recoveryPointLowered = try truncateLocked(to: startEnd) } catch {
                        failure = "\(topicPartition): could not undo a failed append: \(error)"
                    }
                }
                throw error
            }
            if _highWatermarkFollowsLogEnd { _highWatermark = _logEndOffset }
        }

        let batches: [AppendedBatch] = plan.map {
            switch $0 {
            case let .write(_, h): return AppendedBatch(baseOffset: h.baseOffset, lastOffset: h.lastOffset, isDuplicate: false)
            case let .duplicate(b): return AppendedBatch(baseOffset: b.firstOffset, lastOffset: b.lastOffset, isDuplicate: true)
            }
        }
        let info = LogAppendInfo(baseOffset: batches.first!.baseOffset, lastOffset: batches.last!.lastOffset,
                                 logAppendTime: written > 0 ? appendTime : -1, logStartOffset: _logStartOffset,
                                 batches: batches, appendedBytes: written)
        return (info, written > 0 && _logEndOffset - _recoveryPoint >= config.flushIntervalMessages)
    }

    /// Starts a new segment at `h.baseOffset` when the active one is not
    /// empty and the batch would take it past `segmentBytes`, its first
    /// batch is older than `rollMillis` (by the batches' timestamps, or by
    /// the wall clock when they carry none), or its offsets would no longer
    /// fit in a 32-bit relative offset.
    func maybeRoll(for h: RecordBatchHeader, now: Int64) throws {
        let active = segments.last!
        guard active.size > 0 else { return }
        let age: Int64
        if let first = try active.firstTimestamp(), first >= 0 {
            age = h.maxTimestamp &- first
        } else {
            age = now &- active.createdMillis
        }
        let full = active.size + h.totalSize > _config.segmentBytes
        guard full || age > _config.rollMillis || !active.canHold(lastOffset: h.lastOffset) else { return }
        try roll(at: h.baseOffset, now: now)
    }

    /// Makes a new, empty active segment at `baseOffset` (= the LEO).
    func roll(at baseOffset: Int64, now: Int64) throws {
        try segments.last!.appendFinalTimeEntry()
        try producerState.writeSnapshot(at: baseOffset)
        let seg = try LogSegment.create(directory: directory, baseOffset: baseOffset,
                                        indexIntervalBytes: _config.indexIntervalBytes, now: now)
        segments.append(seg)
        rolledSinceFlush = true
        directoryDirty = true
    }

    /// Rolls the active segment now if it holds anything (for tests and
    /// administrative use). Returns the new active segment's base offset.
    @discardableResult
    public func roll(now: Int64 = wallClockMillis()) throws -> Int64 {
        try lock.withLock {
            try checkUsable()
            if segments.last!.size > 0 { try roll(at: _logEndOffset, now: now) }
            return segments.last!.baseOffset
        }
    }
}
