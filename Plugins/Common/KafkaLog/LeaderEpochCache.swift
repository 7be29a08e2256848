/// Epoch → first offset written in that epoch, persisted as the partition's
/// `leader-epoch-checkpoint` (text: version 0, count, lines
/// `<epoch> <startOffset>`), rewritten atomically on every change. Serves
/// OffsetForLeaderEpoch and lets a log drop epochs it truncated away.
///
/// Not thread-safe: owned by `PartitionLog`, used under its lock.
final class LeaderEpochCache {
    struct Entry: Equatable {
        var epoch: Int32
        var startOffset: Int64
    }

    static let fileName = "leader-epoch-checkpoint"
    let path: String
    private(set) var entries: [Entry] = []

    init(directory: String) throws {
        path = directory + "/" + LeaderEpochCache.fileName
        if let bytes = try FS.readFile(path) {
            // A damaged file is dropped: the epochs are advisory for a single broker.
            entries = OffsetCheckpointFormat.parsePairs(bytes) ?? []
        }
    }

    var latestEpoch: Int32? { entries.last?.epoch }

    /// Records that `epoch` starts at `startOffset` if it is newer than any
    /// known epoch.
    func assign(epoch: Int32, startOffset: Int64) throws {
        if let last = entries.last, epoch <= last.epoch { return }
        entries.append(Entry(epoch: epoch, startOffset: startOffset))
        try persist()
    }

    /// Drops epochs that start at or after `endOffset` (truncation).
    func truncate(fromEnd endOffset: Int64) throws {
        let kept = entries.filter { $0.startOffset < endOffset }
        if kept != entries { entries = kept; try persist() }
    }

    /// Drops epochs wholly below `startOffset`; the one spanning it is kept
    /// with its start moved up (retention).
    func truncate(fromStart startOffset: Int64) throws {
        guard let i = entries.lastIndex(where: { $0.startOffset <= startOffset }) else { return }
        var kept = Array(entries[i...])
        kept[0].startOffset = startOffset
        if kept != entries { entries = kept; try persist() }
    }

    /// The largest known epoch not above `requested` and the offset where
    /// the next epoch starts (or `logEndOffset` for the latest epoch);
    /// (-1, -1) when the requested epoch is older than all known or newer
    /// than the latest.
    func endOffset(for requested: Int32, logEndOffset: Int64) -> (epoch: Int32, endOffset: Int64) {
        guard let last = entries.last, requested <= last.epoch else { return (-1, -1) }
        if requested == last.epoch { return (last.epoch, logEndOffset) }
        guard let next = entries.firstIndex(where: { $0.epoch > requested }), next > 0 else { return (-1, -1) }
        return (entries[next - 1].epoch, entries[next].startOffset)
    }

    private func persist() throws {
        try FS.writeFileAtomically(path, OffsetCheckpointFormat.render(entries.map { "\($0.epoch) \($0.startOffset)" }))
    }
}

/// Kafka's text checkpoint layout: a version line (0), a count line, then
/// one line per entry.
enum OffsetCheckpointFormat {
    static func render(_ lines: [String]) -> [UInt8] {
        Array((["0", String(lines.count)] + lines).map { $0 + "\n" }.joined().utf8)
    }

    /// The entry lines split on spaces; nil when the header or count is wrong.
    static func parseLines(_ bytes: [UInt8]) -> [[Substring]]? {
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard lines.count >= 2, lines[0] == "0", let n = Int(lines[1]), n == lines.count - 2 else { return nil }
        return lines.dropFirst(2).map { $0.split(separator: " ") }
    }

    static func parsePairs(_ bytes: [UInt8]) -> [LeaderEpochCache.Entry]? {
        guard let lines = parseLines(bytes) else { return nil }
        var out: [LeaderEpochCache.Entry] = []
        for f in lines {
            guard f.count == 2, let e = Int32(f[0]), let o = Int64(f[1]) else { return nil }
            out.append(LeaderEpochCache.Entry(epoch: e, startOffset: o))
        }
        return out
    }

    /// `topic partition offset` lines (recovery points, log starts, high watermarks).
    static func parseOffsets(_ bytes: [UInt8]) -> [TopicPartition: Int64]? {
        guard let lines = parseLines(bytes) else { return nil }
        var out: [TopicPartition: Int64] = [:]
        for f in lines {
            guard f.count == 3, let p = Int32(f[1]), let o = Int64(f[2]),
                  let tp = try? TopicPartition(topic: String(f[0]), partition: p) else { return nil }
            out[tp] = o
        }
        return out
    }

    static func renderOffsets(_ offsets: [TopicPartition: Int64]) -> [UInt8] {
        render(offsets.sorted { $0.key < $1.key }.map { "\($0.key.topic) \($0.key.partition) \($0.value)" })
    }
}
