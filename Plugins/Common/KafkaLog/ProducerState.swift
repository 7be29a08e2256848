/// One batch an idempotent producer wrote: its sequence range and offsets.
public struct ProducerBatch: Equatable, Sendable {
    public var firstSequence: Int32
    public var lastSequence: Int32
    public var firstOffset: Int64
    public var lastOffset: Int64
}

/// What the log remembers of one idempotent producer: its epoch and the
/// last few batches (oldest first), enough to recognise a retried batch.
public struct ProducerEntry: Equatable, Sendable {
    public var producerId: Int64
    public var epoch: Int16
    public var batches: [ProducerBatch]
    /// Max timestamp of the producer's latest batch (drives expiration).
    public var lastTimestamp: Int64

    public var lastOffset: Int64 { batches.last?.lastOffset ?? -1 }
    public var lastSequence: Int32 { batches.last?.lastSequence ?? -1 }
}

/// Per-producer sequence state of one partition, kept so that a producer's
/// retry is answered with the original offsets and a gap is refused.
/// Persisted as `<offset>.snapshot` files (state after every batch below
/// that offset) written on roll and close; on open the newest usable
/// snapshot is loaded and the batches after it are replayed from the log.
///
/// Not thread-safe: owned by `PartitionLog`, used under its lock.
final class ProducerStateManager {
    /// Batches remembered per producer (Kafka keeps five, the most a
    /// producer may have in flight).
    static let retainedBatches = 5
    static let snapshotSuffix = ".snapshot"

    let directory: String
    private(set) var producers: [Int64: ProducerEntry] = [:]

    init(directory: String) {
        self.directory = directory
    }

    enum Check: Equatable {
        case notIdempotent
        case accept
        case duplicate(ProducerBatch)
    }

    /// `s + d` in sequence space, which wraps from Int32.max to 0.
    static func sequence(_ s: Int32, plus d: Int32) -> Int32 {
        let sum = Int64(s) + Int64(d)
        return Int32(truncatingIfNeeded: sum > Int64(Int32.max) ? sum - Int64(Int32.max) - 1 : sum)
    }

    func entry(_ producerId: Int64) -> ProducerEntry? { producers[producerId] }

    /// Decides what to do with a batch from a producer. `pending` holds the
    /// state after earlier batches of the same append. A producer the log
    /// does not know (new, or its state expired) may start at any sequence;
    /// a new epoch must start at 0; within an epoch sequences must follow on.
    func check(_ h: RecordBatchHeader, pending: [Int64: ProducerEntry]) throws -> Check {
        guard h.isIdempotent else { return .notIdempotent }
        guard let e = pending[h.producerId] ?? producers[h.producerId] else { return .accept }
        if h.producerEpoch < e.epoch {
            throw LogError.invalidProducerEpoch(producerId: h.producerId, current: e.epoch, received: h.producerEpoch)
        }
        if h.producerEpoch > e.epoch {
            guard h.baseSequence == 0 else {
                throw LogError.outOfOrderSequence(producerId: h.producerId, expected: 0, received: h.baseSequence)
            }
            return .accept
        }
        let last = h.lastSequence
        if let dup = e.batches.first(where: { $0.firstSequence == h.baseSequence && $0.lastSequence == last }) {
            return .duplicate(dup)
        }
        if let prev = e.batches.last {
            let expected = ProducerStateManager.sequence(prev.lastSequence, plus: 1)
            guard h.baseSequence == expected else {
                throw LogError.outOfOrderSequence(producerId: h.producerId, expected: expected, received: h.baseSequence)
            }
        }
        return .accept
    }

    /// `entry` after the batch `h` (offsets assigned) was written.
    static func applying(_ h: RecordBatchHeader, to entry: ProducerEntry?) -> ProducerEntry {
        var e = entry ?? ProducerEntry(producerId: h.producerId, epoch: h.producerEpoch, batches: [], lastTimestamp: -1)
        if h.producerEpoch != e.epoch {
            e.epoch = h.producerEpoch
            e.batches = []
        }
        e.batches.append(ProducerBatch(firstSequence: h.baseSequence, lastSequence: h.lastSequence,
                                       firstOffset: h.baseOffset, lastOffset: h.lastOffset))
        if e.batches.count > retainedBatches { e.batches.removeFirst(e.batches.count - retainedBatches) }
        e.lastTimestamp = h.maxTimestamp
        return e
    }

    /// Records a batch that is now in the log (append or replay).
    func update(_ h: RecordBatchHeader) {
        guard h.isIdempotent else { return }
        producers[h.producerId] = ProducerStateManager.applying(h, to: producers[h.producerId])
    }

    func clear() { producers = [:] }

    /// Forgets producers whose last batch is older than `expirationMillis`.
    @discardableResult
    func expire(now: Int64, expirationMillis: Int64) -> Int {
        let before = producers.count
        producers = producers.filter { now - $0.value.lastTimestamp <= expirationMillis }
        return before - producers.count
    }

    /// Forgets producers whose batches all lie below the log start.
    func removeBefore(_ logStartOffset: Int64) {
        producers = producers.filter { $0.value.lastOffset >= logStartOffset }
    }

    // MARK: Snapshots

    func snapshotOffsets() throws -> [Int64] {
        try FS.list(directory).compactMap { parseOffsetFileName($0, suffix: ProducerStateManager.snapshotSuffix) }.sorted()
    }

    private func snapshotPath(_ offset: Int64) -> String {
        directory + "/" + offsetFileName(offset, ProducerStateManager.snapshotSuffix)
    }

    /// Writes the state as of `offset` (every batch below it applied), keeps
    /// the two newest snapshots. Not fsynced unless `durable`: a snapshot
    /// lost or torn by a power failure fails its checksum on load and an
    /// older one (or a replay from the log start) is used instead.
    func writeSnapshot(at offset: Int64, durable: Bool = false) throws {
        var body: [UInt8] = []
        body.appendBE(Int32(producers.count))
        for e in producers.values.sorted(by: { $0.producerId < $1.producerId }) {
            body.appendBE(e.producerId)
            body.appendBE(e.epoch)
            body.appendBE(e.lastTimestamp)
            body.append(UInt8(e.batches.count))
            for b in e.batches {
                body.appendBE(b.firstSequence)
                body.appendBE(b.lastSequence)
                body.appendBE(b.firstOffset)
                body.appendBE(b.lastOffset)
            }
        }
        var file: [UInt8] = Array("SLPS".utf8)
        file.appendBE(UInt16(1))
        file.appendBE(CRC32C.checksum(body))
        file += body
        try FS.writeFileAtomically(snapshotPath(offset), file, durable: durable)
        for old in try snapshotOffsets().dropLast(2) { try FS.remove(snapshotPath(old)) }
    }

    /// Deletes snapshots above `offset` (after a truncation or lost tail).
    func deleteSnapshots(above offset: Int64) throws {
        for o in try snapshotOffsets() where o > offset { try FS.remove(snapshotPath(o)) }
    }

    /// Loads the newest readable snapshot at or below `offset`, deleting any
    /// above it and any that fail their checksum. Returns its offset, or nil
    /// (state cleared) when there is none.
    func loadSnapshot(atOrBelow offset: Int64) throws -> Int64? {
        try deleteSnapshots(above: offset)
        for o in try snapshotOffsets().reversed() {
            if let bytes = try FS.readFile(snapshotPath(o)), let state = ProducerStateManager.decode(bytes) {
                producers = state
                return o
            }
            try FS.remove(snapshotPath(o))
        }
        producers = [:]
        return nil
    }

    static func decode(_ bytes: [UInt8]) -> [Int64: ProducerEntry]? {
        guard bytes.count >= 10, Array(bytes[0..<4]) == Array("SLPS".utf8) else { return nil }
        var r = ByteReader(bytes)
        r.position = 4
        guard r.read(UInt16.self) == 1, let crc = r.read(UInt32.self),
              CRC32C.checksum(Array(bytes[10...])) == crc, let count = r.read(Int32.self), count >= 0 else { return nil }
        var out: [Int64: ProducerEntry] = [:]
        for _ in 0..<count {
            guard let pid = r.read(Int64.self), let epoch = r.read(Int16.self), let ts = r.read(Int64.self),
                  let n = r.read(UInt8.self) else { return nil }
            var e = ProducerEntry(producerId: pid, epoch: epoch, batches: [], lastTimestamp: ts)
            for _ in 0..<n {
                guard let fs = r.read(Int32.self), let ls = r.read(Int32.self), let fo = r.read(Int64.self),
                      let lo = r.read(Int64.self) else { return nil }
                e.batches.append(ProducerBatch(firstSequence: fs, lastSequence: ls, firstOffset: fo, lastOffset: lo))
            }
            out[pid] = e
        }
        return r.remaining == 0 ? out : nil
    }
}
