/// A fixed-size entry of an index file.
protocol IndexEntry: Equatable {
    static var byteSize: Int { get }
    init(_ buf: UnsafeRawBufferPointer, at offset: Int)
    func store(into buf: UnsafeMutableRawBufferPointer, at offset: Int)
}

/// `.index` entry: the batch starting `relativeOffset` after the segment's
/// base offset begins at byte `position` of the `.log` file.
/// (Keyed by the batch's *base* offset, so every entry names a batch start.)
struct OffsetPosition: IndexEntry {
    static let byteSize = 8
    var relativeOffset: Int32
    var position: Int32

    init(relativeOffset: Int32, position: Int32) {
        self.relativeOffset = relativeOffset
        self.position = position
    }

    init(_ buf: UnsafeRawBufferPointer, at offset: Int) {
        relativeOffset = buf.loadBE(Int32.self, at: offset)
        position = buf.loadBE(Int32.self, at: offset + 4)
    }

    func store(into buf: UnsafeMutableRawBufferPointer, at offset: Int) {
        buf.storeBE(relativeOffset, at: offset)
        buf.storeBE(position, at: offset + 4)
    }
}

/// `.timeindex` entry: every batch of the segment that starts before
/// `relativeOffset` has a max timestamp of at most `timestamp`.
/// `relativeOffset` is a batch start (it also has an `.index` entry) or the
/// segment's end. Timestamps strictly increase from entry to entry.
struct TimestampEntry: IndexEntry {
    static let byteSize = 12
    var timestamp: Int64
    var relativeOffset: Int32

    init(timestamp: Int64, relativeOffset: Int32) {
        self.timestamp = timestamp
        self.relativeOffset = relativeOffset
    }

    init(_ buf: UnsafeRawBufferPointer, at offset: Int) {
        timestamp = buf.loadBE(Int64.self, at: offset)
        relativeOffset = buf.loadBE(Int32.self, at: offset + 8)
    }

    func store(into buf: UnsafeMutableRawBufferPointer, at offset: Int) {
        buf.storeBE(timestamp, at: offset)
        buf.storeBE(relativeOffset, at: offset + 8)
    }
}

/// An append-only file of fixed-size entries, mirrored in memory once
/// something needs more than the last entry (loaded lazily, so segments that
/// are never read cost no memory). Not thread-safe.
///
/// Unlike Kafka's memory-mapped, preallocated indexes this file is exactly
/// `count * byteSize` long and written with pwrite, so a torn last entry shows
/// up as a size that is not a multiple of the entry size.
final class IndexFile<Entry: IndexEntry> {
    let handle: LogFileHandle
    var path: String { handle.path }
    private(set) var count: Int
    /// The file's size was not a whole number of entries when opened.
    let hadTornEntry: Bool
    /// The file did not exist and was created empty.
    let wasMissing: Bool
    private var cache: [Entry]?

    init(path: String) throws {
        wasMissing = !FS.exists(path)
        handle = try LogFileHandle.open(path, create: true)
        let bytes = try handle.size()
        count = bytes / Entry.byteSize
        hadTornEntry = bytes % Entry.byteSize != 0
        if bytes == 0 { cache = [] }
    }

    var isEmpty: Bool { count == 0 }

    /// All entries (loads them on first use).
    func entries() throws -> [Entry] {
        if let c = cache { return c }
        let raw = try handle.read(count: count * Entry.byteSize, at: 0)
        let n = raw.count / Entry.byteSize
        let loaded = raw.withUnsafeBytes { buf in (0..<n).map { Entry(buf, at: $0 * Entry.byteSize) } }
        count = n
        cache = loaded
        return loaded
    }

    func last() throws -> Entry? {
        guard count > 0 else { return nil }
        if let c = cache { return c.last }
        let raw = try handle.read(count: Entry.byteSize, at: (count - 1) * Entry.byteSize)
        guard raw.count == Entry.byteSize else { return nil }
        return raw.withUnsafeBytes { Entry($0, at: 0) }
    }

    func append(_ entry: Entry) throws {
        var raw = [UInt8](repeating: 0, count: Entry.byteSize)
        raw.withUnsafeMutableBytes { entry.store(into: $0, at: 0) }
        try raw.withUnsafeBytes { try handle.write($0, at: count * Entry.byteSize) }
        count += 1
        cache?.append(entry)
    }

    /// Keeps the first `newCount` entries.
    func truncate(toCount newCount: Int) throws {
        guard newCount < count else { return }
        try handle.truncate(to: newCount * Entry.byteSize)
        count = newCount
        if cache != nil { cache!.removeLast(cache!.count - newCount) }
    }

    func reset() throws {
        try handle.truncate(to: 0)
        count = 0
        cache = []
    }

    /// Rewrites the whole file from `entries` (used by index rebuilds).
    func replace(with entries: [Entry]) throws {
        var raw = [UInt8](repeating: 0, count: entries.count * Entry.byteSize)
        raw.withUnsafeMutableBytes { buf in
            for (i, e) in entries.enumerated() { e.store(into: buf, at: i * Entry.byteSize) }
        }
        try handle.truncate(to: 0)
        try raw.withUnsafeBytes { try handle.write($0, at: 0) }
        count = entries.count
        cache = entries
    }

    func sync() throws { try handle.sync() }
}

extension Array where Element == OffsetPosition {
    /// Index of the last entry with relativeOffset <= target.
    func floorIndex(relativeOffset target: Int32) -> Int? {
        lastIndexInPrefix(where: { $0.relativeOffset <= target })
    }

    /// Index of the last entry with position <= target.
    func floorIndex(position target: Int32) -> Int? {
        lastIndexInPrefix(where: { $0.position <= target })
    }
}

extension Array where Element == TimestampEntry {
    /// Index of the last entry whose timestamp is strictly below `target`.
    func lastIndex(timestampBelow target: Int64) -> Int? {
        lastIndexInPrefix(where: { $0.timestamp < target })
    }
}

extension Array {
    /// Binary search for the last element satisfying a predicate that holds
    /// for a prefix of the array.
    fileprivate func lastIndexInPrefix(where pred: (Element) -> Bool) -> Int? {
        var lo = 0, hi = count   // invariant: pred holds below lo, fails at and after hi
        while lo < hi {
            let mid = (lo + hi) / 2
            if pred(self[mid]) { lo = mid + 1 } else { hi = mid }
        }
        return lo == 0 ? nil : lo - 1
    }
}
