extension LogSegment {
    /// The first batch whose last offset is at or after `offset`: its file
    /// position and header. nil when the segment holds nothing at or after
    /// `offset`. Uses the `.index` floor entry, then walks forward.
    public func translateOffset(_ offset: Int64) throws -> (position: Int, header: RecordBatchHeader)? {
        try translate(offset, mayRebuild: true)
    }

    private func translate(_ offset: Int64, mayRebuild: Bool) throws -> (position: Int, header: RecordBatchHeader)? {
        guard offset < nextOffset, size > 0 else { return nil }
        try verifyIndexes()
        var scanner = BatchScanner(file: log, end: size)
        var position = 0
        if offset > baseOffset, let i = try offsetIndex.entries().floorIndex(relativeOffset: relative(offset)) {
            let e = try offsetIndex.entries()[i]
            // An entry must name the batch it claims; if not, rebuild and start over.
            if case let .batch(h) = try scanner.header(at: Int(e.position)), h.baseOffset == baseOffset + Int64(e.relativeOffset) {
                position = Int(e.position)
            } else if mayRebuild {
                try rebuildIndexes()
                return try translate(offset, mayRebuild: false)
            }
        }
        while true {
            switch try scanner.header(at: position) {
            case .end:
                return nil
            case let .invalid(reason):
                throw LogError.corruptFile(path: logPath, reason: "at byte \(position): \(reason)")
            case let .batch(h):
                if h.lastOffset >= offset { return (position, h) }
                position += h.totalSize
            }
        }
    }

    /// File position where data at or after `offset` starts (the batch
    /// containing it), or the segment size when there is none. Used to stop
    /// reads at the high watermark.
    func position(of offset: Int64) throws -> Int {
        try translateOffset(offset)?.position ?? size
    }

    /// Whole batches starting with the one that contains `offset`, up to
    /// `maxBytes` and never past `maxPosition`. When the first batch alone is
    /// larger than `maxBytes` it is returned whole if `minOneBatch` (Kafka's
    /// rule, so a consumer can always make progress), else nil.
    public func read(from offset: Int64, maxBytes: Int, maxPosition: Int? = nil, minOneBatch: Bool = true) throws -> FileRegion? {
        let limitPosition = min(maxPosition ?? size, size)
        guard let (start, first) = try translateOffset(offset), start < limitPosition else { return nil }
        let firstEnd = start + first.totalSize
        guard firstEnd <= limitPosition else { return nil }
        if first.totalSize > maxBytes {
            return minOneBatch ? FileRegion(file: log, position: start, length: first.totalSize, firstOffset: first.baseOffset) : nil
        }
        let limit = maxBytes >= limitPosition - start ? limitPosition : start + maxBytes
        // Jump ahead with the index to the last indexed batch at or before the
        // limit, then walk whole batches that still fit.
        var position = firstEnd
        if let i = try offsetIndex.entries().floorIndex(position: Int32(clamping: limit)) {
            let p = Int(try offsetIndex.entries()[i].position)
            if p > position { position = p }
        }
        var scanner = BatchScanner(file: log, end: size)
        while case let .batch(h) = try scanner.header(at: position), position + h.totalSize <= limit {
            position += h.totalSize
        }
        return FileRegion(file: log, position: start, length: position - start, firstOffset: first.baseOffset)
    }

    /// Calls `body` with each batch header from the batch containing
    /// `offset` to the end, while it returns true.
    func forEachBatch(from offset: Int64, _ body: (Int, RecordBatchHeader) throws -> Bool) throws {
        guard let (start, _) = try translateOffset(offset) else { return }
        var scanner = BatchScanner(file: log, end: size)
        var position = start
        while case let .batch(h) = try scanner.header(at: position) {
            if try !body(position, h) { return }
            position += h.totalSize
        }
    }

    /// The first record at or after `startingOffset` whose timestamp is at
    /// least `target`: (offset, timestamp). Inside an uncompressed CreateTime
    /// batch the records are examined; for a compressed or LogAppendTime
    /// batch the answer is the batch's first offset and max timestamp.
    public func findOffset(byTimestamp target: Int64, startingOffset: Int64) throws -> (offset: Int64, timestamp: Int64)? {
        guard size > 0, largestTimestamp >= target else { return nil }
        try verifyIndexes()
        var from = max(baseOffset, startingOffset)
        if let i = try timeIndex.entries().lastIndex(timestampBelow: target) {
            // Every batch before this entry's offset is older than the target.
            from = max(from, baseOffset + Int64(try timeIndex.entries()[i].relativeOffset))
        }
        var found: (Int, RecordBatchHeader)?
        try forEachBatch(from: from) { position, h in
            if h.maxTimestamp >= target && h.lastOffset >= startingOffset {
                found = (position, h)
                return false
            }
            return true
        }
        guard let (position, h) = found else { return nil }
        let batchAnswer = (offset: max(h.baseOffset, startingOffset), timestamp: h.maxTimestamp)
        guard h.compressionCodec == 0, !h.isLogAppendTime else { return batchAnswer }
        let bytes = try log.read(count: h.totalSize, at: position)
        return RecordScan.firstRecord(in: bytes, header: h, atOrAfter: target, startingOffset: startingOffset) ?? batchAnswer
    }

    /// Removes every batch that holds any offset at or after `offset`.
    /// Returns the number of bytes removed. `nextOffset` becomes the first
    /// removed batch's base offset (equal to `offset` at a batch boundary).
    @discardableResult
    public func truncate(to offset: Int64) throws -> Int {
        guard let (position, h) = try translateOffset(offset) else { return 0 }
        let removed = size - position
        let cutRel = relative(h.baseOffset)
        let offsets = try offsetIndex.entries()
        try offsetIndex.truncate(toCount: offsets.firstIndex(where: { Int($0.position) >= position }) ?? offsets.count)
        let times = try timeIndex.entries()
        try timeIndex.truncate(toCount: times.firstIndex(where: { $0.relativeOffset > cutRel }) ?? times.count)
        try log.truncate(to: position)
        size = position
        nextOffset = h.baseOffset
        if size == 0 { firstBatchTimestamp = nil }
        // Recompute the tail state: the last time entry covers the batches
        // before its offset; walk the rest.
        let lastTime = try timeIndex.last()
        lastIndexedTimestamp = lastTime?.timestamp
        largestTimestamp = lastTime?.timestamp ?? -1
        var walkFrom = 0
        if let lt = lastTime, let i = try offsetIndex.entries().floorIndex(relativeOffset: lt.relativeOffset) {
            walkFrom = Int(try offsetIndex.entries()[i].position)
        }
        var scanner = BatchScanner(file: log, end: size)
        while case let .batch(b) = try scanner.header(at: walkFrom) {
            largestTimestamp = max(largestTimestamp, b.maxTimestamp)
            walkFrom += b.totalSize
        }
        bytesSinceLastIndexEntry = size - Int((try offsetIndex.last())?.position ?? 0)
        return removed
    }
}

/// Just enough of the v2 record format to find a record by timestamp in an
/// uncompressed batch: each record starts with its length (varint), an
/// attributes byte, the timestamp delta (varlong) and the offset delta (varint).
enum RecordScan {
    static func firstRecord(in batch: [UInt8], header h: RecordBatchHeader, atOrAfter target: Int64,
                            startingOffset: Int64) -> (offset: Int64, timestamp: Int64)? {
        var p = BatchLayout.headerSize
        for _ in 0..<max(0, Int(h.recordCount)) {
            guard let length = varint(batch, &p), length >= 0, p < batch.count else { return nil }
            let next = p + Int(length)
            guard next <= batch.count else { return nil }
            p += 1   // attributes
            guard let tsDelta = varint(batch, &p), let offDelta = varint(batch, &p), p <= next else { return nil }
            let ts = h.baseTimestamp &+ tsDelta
            let off = h.baseOffset &+ offDelta
            if ts >= target && off >= startingOffset { return (off, ts) }
            p = next
        }
        return nil
    }

    /// Zig-zag varint of up to 10 bytes; nil when malformed or cut short.
    static func varint(_ b: [UInt8], _ p: inout Int) -> Int64? {
        var raw: UInt64 = 0
        var shift: UInt64 = 0
        while p < b.count, shift < 64 {
            let byte = b[p]
            p += 1
            raw |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1) }
            shift += 7
        }
        return nil
    }
}
