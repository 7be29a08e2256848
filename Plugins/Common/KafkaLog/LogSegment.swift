/// One segment of a partition log: `<base>.log` holding whole record batches
/// back to back, a sparse `<base>.index` (relative offset → file position,
/// one entry per `indexIntervalBytes` of log) and a `<base>.timeindex`
/// (timestamp → relative offset). `<base>` is the first offset the segment
/// may hold, zero-padded to 20 digits.
///
/// Not thread-safe: `PartitionLog` makes every call while holding its lock.
/// The file handles may be read from any thread (pread/sendfile).
public final class LogSegment {
    public let baseOffset: Int64
    public let directory: String
    let log: LogFileHandle
    let offsetIndex: IndexFile<OffsetPosition>
    let timeIndex: IndexFile<TimestampEntry>
    let indexIntervalBytes: Int
    /// Wall-clock time the segment was created or opened; the time-based roll
    /// uses it when the batches carry no timestamps.
    let createdMillis: Int64

    /// Bytes in the `.log` file.
    public internal(set) var size: Int
    /// One past the last offset held; `baseOffset` when empty.
    public internal(set) var nextOffset: Int64
    /// Largest batch max timestamp in the segment, -1 when none.
    public internal(set) var largestTimestamp: Int64 = -1
    /// Log bytes appended since the last `.index` entry.
    var bytesSinceLastIndexEntry = 0
    /// Timestamp of the last `.timeindex` entry (nil: none).
    var lastIndexedTimestamp: Int64?
    /// Max timestamp of the first batch (read lazily after a reopen).
    var firstBatchTimestamp: Int64?
    /// Set once the in-memory indexes have been checked against the log.
    var indexesVerified = false
    /// How many times the indexes were rebuilt after being found damaged.
    public internal(set) var indexRebuilds = 0

    public var logPath: String { log.path }
    public var isEmpty: Bool { size == 0 }

    private init(directory: String, baseOffset: Int64, log: LogFileHandle, offsetIndex: IndexFile<OffsetPosition>,
                 timeIndex: IndexFile<TimestampEntry>, indexIntervalBytes: Int, now: Int64) throws {
        self.directory = directory
        self.baseOffset = baseOffset
        self.log = log
        self.offsetIndex = offsetIndex
        self.timeIndex = timeIndex
        self.indexIntervalBytes = indexIntervalBytes
        self.createdMillis = now
        self.size = try log.size()
        self.nextOffset = baseOffset
    }

    static func path(_ directory: String, _ baseOffset: Int64, _ suffix: String) -> String {
        directory + "/" + offsetFileName(baseOffset, suffix)
    }

    /// Creates an empty segment (any leftover files of that name are emptied).
    public static func create(directory: String, baseOffset: Int64, indexIntervalBytes: Int = 4096,
                              now: Int64 = wallClockMillis()) throws -> LogSegment {
        let seg = try open(directory: directory, baseOffset: baseOffset, indexIntervalBytes: indexIntervalBytes, now: now)
        try seg.log.truncate(to: 0)
        try seg.offsetIndex.reset()
        try seg.timeIndex.reset()
        seg.size = 0
        seg.indexesVerified = true
        return seg
    }

    /// Opens the files of an existing segment without reading the log. The
    /// caller then calls either `loadTrusted()` (data known flushed) or
    /// `recover(...)` (scan, validate, rebuild indexes, cut a bad tail).
    public static func open(directory: String, baseOffset: Int64, indexIntervalBytes: Int = 4096,
                            now: Int64 = wallClockMillis()) throws -> LogSegment {
        let log = try LogFileHandle.open(path(directory, baseOffset, ".log"), create: true)
        let oi = try IndexFile<OffsetPosition>(path: path(directory, baseOffset, ".index"))
        let ti = try IndexFile<TimestampEntry>(path: path(directory, baseOffset, ".timeindex"))
        return try LogSegment(directory: directory, baseOffset: baseOffset, log: log, offsetIndex: oi, timeIndex: ti,
                              indexIntervalBytes: indexIntervalBytes, now: now)
    }

    /// True when a batch ending at `lastOffset` can still be addressed by a
    /// 32-bit relative offset in this segment (the segment's end included).
    func canHold(lastOffset: Int64) -> Bool {
        lastOffset >= baseOffset && lastOffset - baseOffset < Int64(Int32.max)
    }

    func relative(_ offset: Int64) -> Int32 { Int32(clamping: offset - baseOffset) }

    /// The index entries that belong before a batch at `position` with base
    /// offset `batchBase`, by the rule: once more than `indexIntervalBytes`
    /// were appended since the last entry, the next batch gets one; a time
    /// entry goes with it when the max timestamp so far grew.
    func indexEntries(position: Int, batchBase: Int64) -> (OffsetPosition?, TimestampEntry?) {
        guard bytesSinceLastIndexEntry > indexIntervalBytes else { return (nil, nil) }
        let rel = relative(batchBase)
        let oe = OffsetPosition(relativeOffset: rel, position: Int32(position))
        var te: TimestampEntry?
        if lastIndexedTimestamp == nil || largestTimestamp > lastIndexedTimestamp! {
            te = TimestampEntry(timestamp: largestTimestamp, relativeOffset: rel)
        }
        return (oe, te)
    }

    /// Appends one batch whose offsets are already assigned. Offsets are
    /// contiguous (no compaction): `header.baseOffset` must equal
    /// `nextOffset`, the relative offsets must fit in an Int32 and the file
    /// in 2 GiB, else `invalidSegmentAppend` is thrown and nothing written.
    /// On a write error the log file is cut back to its previous size.
    public func append(batch bytes: UnsafeRawBufferPointer, header h: RecordBatchHeader) throws {
        guard bytes.count == h.totalSize, h.baseOffset == nextOffset, canHold(lastOffset: h.lastOffset),
              size + bytes.count <= Int(Int32.max) else {
            throw LogError.invalidSegmentAppend("batch \(h.baseOffset)...\(h.lastOffset) of \(bytes.count) bytes does not fit "
                + "segment \(baseOffset) (next offset \(nextOffset), size \(size))")
        }
        let position = size
        let (oe, te) = indexEntries(position: position, batchBase: h.baseOffset)
        do {
            try log.write(bytes, at: position)
            if let oe { try offsetIndex.append(oe) }
            if let te { try timeIndex.append(te) }
        } catch {
            try? log.truncate(to: position)
            throw error
        }
        if oe != nil { bytesSinceLastIndexEntry = 0 }
        if let te { lastIndexedTimestamp = te.timestamp }
        bytesSinceLastIndexEntry += bytes.count
        size += bytes.count
        nextOffset = h.nextOffset
        if position == 0 { firstBatchTimestamp = h.maxTimestamp }
        largestTimestamp = max(largestTimestamp, h.maxTimestamp)
    }

    /// Records the segment's largest timestamp in the time index as an entry
    /// at the segment's end, so a reopen can learn it without a scan. Done on
    /// roll, flush and close.
    func appendFinalTimeEntry() throws {
        guard size > 0, lastIndexedTimestamp == nil || largestTimestamp > lastIndexedTimestamp! else { return }
        let te = TimestampEntry(timestamp: largestTimestamp, relativeOffset: relative(nextOffset))
        try timeIndex.append(te)
        lastIndexedTimestamp = te.timestamp
    }

    /// Max timestamp of the first batch; nil when the segment is empty.
    func firstTimestamp() throws -> Int64? {
        if size == 0 { return nil }
        if let t = firstBatchTimestamp { return t }
        var scanner = BatchScanner(file: log, end: size, windowSize: BatchLayout.headerSize)
        if case let .batch(h) = try scanner.header(at: 0) { firstBatchTimestamp = h.maxTimestamp }
        return firstBatchTimestamp
    }

    /// The largest timestamp for retention: the batches' own, or the file's
    /// modification time when they carry none.
    func retentionTimestamp() -> Int64 {
        largestTimestamp >= 0 ? largestTimestamp : (FS.modificationMillis(logPath) ?? createdMillis)
    }

    /// Writes the final time index entry. The descriptors themselves are
    /// released when the segment and every `FileRegion` taken from it are
    /// gone, so a region being sent is never invalidated under a server.
    public func close() throws {
        try appendFinalTimeEntry()
    }

    /// Writes the final time entry and fsyncs the three files.
    public func flush() throws {
        try appendFinalTimeEntry()
        for h in fileHandles { try h.sync() }
    }

    /// The handles to fsync; they may be synced outside the owner's lock.
    var fileHandles: [LogFileHandle] { [log, offsetIndex.handle, timeIndex.handle] }

    /// Removes the segment's files. Open handles (e.g. in `FileRegion`s)
    /// keep reading the unlinked data until released.
    public func deleteFiles() throws {
        try FS.remove(log.path)
        try FS.remove(offsetIndex.path)
        try FS.remove(timeIndex.path)
    }
}

/// A byte range of a segment file made of whole record batches, ready for
/// `sendfile(socket, fd, &position, length)`. Holding the region keeps the
/// file open even if the segment is deleted meanwhile; a truncation of the
/// log can still shorten the file, so a server must accept a short send.
public struct FileRegion: Sendable {
    public let file: LogFileHandle
    public let position: Int
    public let length: Int
    /// Base offset of the first batch in the region.
    public let firstOffset: Int64

    public var fd: Int32 { file.fd }

    /// Reads the region into memory (tests, or a server without sendfile).
    public func readBytes() throws -> [UInt8] {
        try file.read(count: length, at: position)
    }
}
