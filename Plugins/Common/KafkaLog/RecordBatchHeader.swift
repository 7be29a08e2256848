/// Byte offsets of the record batch v2 header fields (all big-endian).
/// The CRC covers everything from `attributes` to the end of the batch, so
/// the broker may rewrite `baseOffset` and `partitionLeaderEpoch` freely.
public enum BatchLayout {
    public static let baseOffset = 0
    public static let batchLength = 8
    public static let partitionLeaderEpoch = 12
    public static let magic = 16
    public static let crc = 17
    public static let attributes = 21
    public static let lastOffsetDelta = 23
    public static let baseTimestamp = 27
    public static let maxTimestamp = 35
    public static let producerId = 43
    public static let producerEpoch = 51
    // producerEpoch is an int16, so the sequence starts at 53 and the
    // count at 57, ending the 61-byte header.
    public static let baseSequence = 53
    public static let recordCount = 57
    /// Size of the fixed header; records follow.
    public static let headerSize = 61
    /// Bytes before the part counted by `batchLength` (baseOffset + batchLength).
    public static let logOverhead = 12
    /// Smallest legal `batchLength`: a header with no records.
    public static let minimumBatchLength: Int32 = Int32(headerSize - logOverhead)
    /// The only magic this log accepts.
    public static let currentMagic: Int8 = 2
}

/// The parsed fixed header of one record batch. The records themselves stay
/// opaque bytes: this module never decodes them except to answer a timestamp
/// lookup inside an uncompressed batch.
public struct RecordBatchHeader: Equatable, Sendable {
    public var baseOffset: Int64
    public var batchLength: Int32
    public var partitionLeaderEpoch: Int32
    public var magic: Int8
    public var crc: UInt32
    public var attributes: Int16
    public var lastOffsetDelta: Int32
    public var baseTimestamp: Int64
    public var maxTimestamp: Int64
    public var producerId: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32
    public var recordCount: Int32

    /// Reads the header at `offset`; nil when fewer than 61 bytes remain.
    /// No field is validated here.
    public init?(_ buf: UnsafeRawBufferPointer, at offset: Int = 0) {
        guard offset >= 0, buf.count - offset >= BatchLayout.headerSize else { return nil }
        baseOffset = buf.loadBE(Int64.self, at: offset + BatchLayout.baseOffset)
        batchLength = buf.loadBE(Int32.self, at: offset + BatchLayout.batchLength)
        partitionLeaderEpoch = buf.loadBE(Int32.self, at: offset + BatchLayout.partitionLeaderEpoch)
        magic = Int8(bitPattern: buf[offset + BatchLayout.magic])
        crc = buf.loadBE(UInt32.self, at: offset + BatchLayout.crc)
        attributes = buf.loadBE(Int16.self, at: offset + BatchLayout.attributes)
        lastOffsetDelta = buf.loadBE(Int32.self, at: offset + BatchLayout.lastOffsetDelta)
        baseTimestamp = buf.loadBE(Int64.self, at: offset + BatchLayout.baseTimestamp)
        maxTimestamp = buf.loadBE(Int64.self, at: offset + BatchLayout.maxTimestamp)
        producerId = buf.loadBE(Int64.self, at: offset + BatchLayout.producerId)
        producerEpoch = buf.loadBE(Int16.self, at: offset + BatchLayout.producerEpoch)
        baseSequence = buf.loadBE(Int32.self, at: offset + BatchLayout.baseSequence)
        recordCount = buf.loadBE(Int32.self, at: offset + BatchLayout.recordCount)
    }

    /// Whole batch size in bytes, including the 12-byte log overhead.
    public var totalSize: Int { BatchLayout.logOverhead + Int(batchLength) }
    public var lastOffset: Int64 { baseOffset &+ Int64(lastOffsetDelta) }
    public var nextOffset: Int64 { lastOffset &+ 1 }
    /// 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd.
    public var compressionCodec: Int { Int(attributes & 0x7) }
    public var isLogAppendTime: Bool { attributes & 0x8 != 0 }
    public var isTransactional: Bool { attributes & 0x10 != 0 }
    public var isControl: Bool { attributes & 0x20 != 0 }
    /// True when the batch carries producer id, epoch and sequence.
    public var isIdempotent: Bool { producerId >= 0 && baseSequence >= 0 }
    /// Sequence of the last record; sequences wrap from Int32.max to 0.
    public var lastSequence: Int32 { ProducerStateManager.sequence(baseSequence, plus: lastOffsetDelta) }

    /// Structural checks that need only the header: magic, a length that is
    /// at least a bare header and fits in `available` bytes, sane offsets.
    /// Returns a reason when the header is not usable.
    func structuralProblem(available: Int) -> String? {
        if magic != BatchLayout.currentMagic { return "magic \(magic) (expected 2)" }
        if batchLength < BatchLayout.minimumBatchLength { return "batch length \(batchLength) shorter than a header" }
        if totalSize > available { return "batch of \(totalSize) bytes runs past the end (\(available) bytes left)" }
        if lastOffsetDelta < 0 { return "negative last offset delta \(lastOffsetDelta)" }
        if baseOffset < 0 || baseOffset > Int64.max - Int64(lastOffsetDelta) - 1 { return "base offset \(baseOffset) out of range" }
        return nil
    }
}

/// Validation of batches arriving from a producer.
enum BatchValidator {
    /// Checks the batch at `position` in `buf`: enough bytes, a consistent
    /// length, magic 2, CRC-32C, record count, compression codec, no control
    /// batch. Throws a `LogError` naming the first problem; never traps.
    static func validate(_ buf: UnsafeRawBufferPointer, at position: Int) throws -> RecordBatchHeader {
        let available = buf.count - position
        guard let h = RecordBatchHeader(buf, at: position) else {
            throw LogError.batchTooShort(position: position, available: available)
        }
        if h.batchLength < BatchLayout.minimumBatchLength || h.totalSize > available {
            throw LogError.invalidBatchLength(position: position, batchLength: h.batchLength, available: available)
        }
        if h.magic != BatchLayout.currentMagic {
            throw LogError.unsupportedMagic(position: position, magic: h.magic)
        }
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing:
            buf[(position + BatchLayout.attributes)..<(position + h.totalSize)]))
        if computed != h.crc {
            throw LogError.crcMismatch(position: position, stored: h.crc, computed: computed)
        }
        if h.lastOffsetDelta < 0 || h.recordCount < 1 || h.recordCount != h.lastOffsetDelta &+ 1 {
            throw LogError.recordCountMismatch(position: position, recordCount: h.recordCount, lastOffsetDelta: h.lastOffsetDelta)
        }
        if h.compressionCodec > 4 {
            throw LogError.unsupportedCompression(position: position, codec: h.compressionCodec)
        }
        if h.isControl {
            throw LogError.controlBatchNotAllowed(position: position)
        }
        return h
    }
}

extension UnsafeMutableRawBufferPointer {
    /// Stamps the broker-owned fields of the batch at `position`. Neither is
    /// covered by the CRC.
    func assignBatch(at position: Int, baseOffset: Int64, leaderEpoch: Int32) {
        storeBE(baseOffset, at: position + BatchLayout.baseOffset)
        storeBE(leaderEpoch, at: position + BatchLayout.partitionLeaderEpoch)
    }

    /// Marks the batch as LogAppendTime with `timestamp` as its max timestamp
    /// and recomputes the CRC (both fields are covered by it).
    func setLogAppendTime(at position: Int, totalSize: Int, timestamp: Int64) {
        let attrs = loadBE(Int16.self, at: position + BatchLayout.attributes) | 0x8
        storeBE(attrs, at: position + BatchLayout.attributes)
        storeBE(timestamp, at: position + BatchLayout.maxTimestamp)
        let covered = UnsafeRawBufferPointer(rebasing: self[(position + BatchLayout.attributes)..<(position + totalSize)])
        storeBE(CRC32C.checksum(covered), at: position + BatchLayout.crc)
    }
}
