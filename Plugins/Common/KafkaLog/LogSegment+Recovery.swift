/// What a segment scan found.
public struct SegmentRecoveryResult: Equatable, Sendable {
    /// Bytes of valid batches kept.
    public var validBytes: Int
    /// Bytes cut from the end of the file (torn or corrupt tail).
    public var truncatedBytes: Int
    /// Why the scan stopped before the end of the file, if it did.
    public var problem: String?
}

extension LogSegment {
    /// Loads the state of a segment whose data is known to be flushed (below
    /// the recovery point) without scanning it: checks the indexes' shape,
    /// checks that the last `.index` entry names a real batch, then walks the
    /// few batches after it to find the end. Returns why the segment cannot
    /// be trusted (the caller then runs `recover`), or nil.
    public func loadTrusted() throws -> String? {
        if size > 0 && (offsetIndex.wasMissing || timeIndex.wasMissing) { return "index file missing" }
        if offsetIndex.hadTornEntry || timeIndex.hadTornEntry { return "index file has a partial entry" }
        if size > Int(Int32.max) { return "log file larger than 2 GiB" }
        var scanner = BatchScanner(file: log, end: size)
        var position = 0
        var expected = baseOffset
        if let last = try offsetIndex.last() {
            guard last.relativeOffset >= 0, last.position >= 0, Int(last.position) < size else {
                return "index entry (\(last.relativeOffset), \(last.position)) beyond the log"
            }
            guard case let .batch(h) = try scanner.header(at: Int(last.position)),
                  h.baseOffset == baseOffset + Int64(last.relativeOffset) else {
                return "index entry (\(last.relativeOffset), \(last.position)) does not point at its batch"
            }
            position = Int(last.position)
            expected = h.baseOffset
        }
        let lastTime = try timeIndex.last()
        var maxTimestamp = lastTime?.timestamp ?? -1
        var next = expected
        while true {
            switch try scanner.header(at: position) {
            case .end:
                if let lt = lastTime, lt.relativeOffset < 0 || Int64(lt.relativeOffset) > next - baseOffset {
                    return "time index entry for offset \(lt.relativeOffset) beyond the log"
                }
                nextOffset = next
                largestTimestamp = maxTimestamp
                lastIndexedTimestamp = lastTime?.timestamp
                bytesSinceLastIndexEntry = size - Int((try offsetIndex.last())?.position ?? 0)
                return nil
            case let .invalid(reason):
                return "at byte \(position): \(reason)"
            case let .batch(h):
                guard h.baseOffset == expected, canHold(lastOffset: h.lastOffset) else {
                    return "at byte \(position): offset \(h.baseOffset) where \(expected) was expected"
                }
                maxTimestamp = max(maxTimestamp, h.maxTimestamp)
                next = h.nextOffset
                expected = next
                position += h.totalSize
            }
        }
    }

    /// Scans the whole segment: every batch's header and CRC-32C, offsets
    /// contiguous from the segment's base (which must not be below
    /// `minimumOffset`, the previous segment's end). Rebuilds both indexes from what is
    /// valid and cuts the file at the first invalid batch. `visit` sees each
    /// valid batch in order. The files are not fsynced here.
    @discardableResult
    public func recover(minimumOffset: Int64? = nil, visit: (RecordBatchHeader) -> Void = { _ in }) throws -> SegmentRecoveryResult {
        let fileSize = try log.size()
        var scanner = BatchScanner(file: log, end: fileSize, windowSize: 1 << 20)
        var offsets: [OffsetPosition] = []
        var times: [TimestampEntry] = []
        size = 0
        nextOffset = baseOffset
        largestTimestamp = -1
        lastIndexedTimestamp = nil
        bytesSinceLastIndexEntry = 0
        firstBatchTimestamp = nil
        var expected = max(baseOffset, minimumOffset ?? baseOffset)
        var position = 0
        var problem: String?
        scan: while true {
            switch try scanner.header(at: position) {
            case .end:
                break scan
            case let .invalid(reason):
                problem = reason
                break scan
            case let .batch(h):
                // Offsets are contiguous (this log never compacts): the CRC does
                // not cover the base offset, so this is what catches a damaged one.
                if h.baseOffset != expected {
                    problem = "batch offset \(h.baseOffset) where \(expected) was expected"
                    break scan
                }
                if !canHold(lastOffset: h.lastOffset) {
                    problem = "batch offset \(h.lastOffset) too far from the segment base \(baseOffset)"
                    break scan
                }
                if position + h.totalSize > Int(Int32.max) {
                    problem = "segment grows past 2 GiB"
                    break scan
                }
                let crc = try scanner.checksum(at: position, header: h)
                if crc != h.crc {
                    problem = "CRC-32C mismatch in batch at offset \(h.baseOffset)"
                    break scan
                }
                let (oe, te) = indexEntries(position: position, batchBase: h.baseOffset)
                if let oe { offsets.append(oe); bytesSinceLastIndexEntry = 0 }
                if let te { times.append(te); lastIndexedTimestamp = te.timestamp }
                visit(h)
                bytesSinceLastIndexEntry += h.totalSize
                largestTimestamp = max(largestTimestamp, h.maxTimestamp)
                if position == 0 { firstBatchTimestamp = h.maxTimestamp }
                position += h.totalSize
                size = position
                nextOffset = h.nextOffset
                expected = nextOffset
            }
        }
        if position < fileSize { try log.truncate(to: position) }
        if size > 0 && (lastIndexedTimestamp == nil || largestTimestamp > lastIndexedTimestamp!) {
            times.append(TimestampEntry(timestamp: largestTimestamp, relativeOffset: relative(nextOffset)))
            lastIndexedTimestamp = largestTimestamp
        }
        try offsetIndex.replace(with: offsets)
        try timeIndex.replace(with: times)
        indexesVerified = true
        return SegmentRecoveryResult(validBytes: position, truncatedBytes: fileSize - position,
                                     problem: position < fileSize ? (problem ?? "trailing bytes") : nil)
    }

    /// Loads the indexes into memory and checks them against the log; a
    /// damaged index is rebuilt from a header walk (the log is not changed).
    func verifyIndexes() throws {
        if indexesVerified { return }
        let offsets = try offsetIndex.entries()
        let times = try timeIndex.entries()
        let nextRel = Int64(nextOffset - baseOffset)
        var ok = true
        var prev: OffsetPosition?
        for e in offsets {
            if e.relativeOffset < 0 || e.position < 0 || Int(e.position) >= size || Int64(e.relativeOffset) >= nextRel { ok = false; break }
            if let p = prev, e.relativeOffset <= p.relativeOffset || e.position <= p.position { ok = false; break }
            prev = e
        }
        var prevTime: TimestampEntry?
        for e in times where ok {
            if e.relativeOffset < 0 || Int64(e.relativeOffset) > nextRel { ok = false; break }
            if let p = prevTime, e.timestamp <= p.timestamp || e.relativeOffset < p.relativeOffset { ok = false; break }
            prevTime = e
        }
        if ok {
            indexesVerified = true
        } else {
            try rebuildIndexes()
        }
    }

    /// Rebuilds `.index` and `.timeindex` by walking batch headers (no CRC
    /// check and no truncation: used on a segment already loaded).
    func rebuildIndexes() throws {
        var scanner = BatchScanner(file: log, end: size)
        var offsets: [OffsetPosition] = []
        var times: [TimestampEntry] = []
        let savedLargest = largestTimestamp
        bytesSinceLastIndexEntry = 0
        largestTimestamp = -1
        lastIndexedTimestamp = nil
        var position = 0
        while case let .batch(h) = try scanner.header(at: position) {
            let (oe, te) = indexEntries(position: position, batchBase: h.baseOffset)
            if let oe { offsets.append(oe); bytesSinceLastIndexEntry = 0 }
            if let te { times.append(te); lastIndexedTimestamp = te.timestamp }
            bytesSinceLastIndexEntry += h.totalSize
            largestTimestamp = max(largestTimestamp, h.maxTimestamp)
            position += h.totalSize
        }
        largestTimestamp = max(largestTimestamp, savedLargest)
        if size > 0 && (lastIndexedTimestamp == nil || largestTimestamp > lastIndexedTimestamp!) {
            times.append(TimestampEntry(timestamp: largestTimestamp, relativeOffset: relative(nextOffset)))
            lastIndexedTimestamp = largestTimestamp
        }
        try offsetIndex.replace(with: offsets)
        try timeIndex.replace(with: times)
        indexRebuilds += 1
        indexesVerified = true
    }
}
