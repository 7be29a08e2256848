// Record batches, format v2 (magic 2): what a "records" field holds since Produce v3 /
// Fetch v4. Layout (offsets from the start of the batch, all big-endian):
//
//    0 baseOffset int64        21 attributes int16       43 producerId int64
//    8 batchLength int32       23 lastOffsetDelta int32  51 producerEpoch int16
//   12 partitionLeaderEpoch    27 baseTimestamp int64    53 baseSequence int32
//   16 magic int8              35 maxTimestamp int64     57 recordsCount int32
//   17 crc uint32                                        61 records...
//
// batchLength counts the bytes after itself. The CRC-32C covers attributes through the
// end of the batch, so baseOffset and partitionLeaderEpoch can be set by the broker
// without touching it. Each record: length varint, attributes int8, timestampDelta
// varlong, offsetDelta varint, key (varint length, -1 = null), value (same), header
// count varint, then per header a key (varint length, non-null) and a value (nullable).

import CSluiceCRC
import NIOCore

public enum KafkaTimestampType: Sendable, Equatable {
    case createTime
    case logAppendTime
}

/// Compression codecs of the attributes' low three bits.
public enum KafkaCompression: Int16, Sendable, Equatable {
    case none = 0
    case gzip = 1
    case snappy = 2
    case lz4 = 3
    case zstd = 4
}

/// The batch attributes bit field.
public struct RecordBatchAttributes: RawRepresentable, Equatable, Sendable {
    public var rawValue: Int16

    public init(rawValue: Int16) { self.rawValue = rawValue }

    /// The codec number (bits 0-2), whether or not it is one this code knows.
    public var compressionCodec: Int16 {
        get { rawValue & 0x7 }
        set { rawValue = (rawValue & ~0x7) | (newValue & 0x7) }
    }

    /// nil for codec numbers 5-7, which no Kafka version defines.
    public var compression: KafkaCompression? { KafkaCompression(rawValue: compressionCodec) }

    public var timestampType: KafkaTimestampType {
        get { rawValue & 0x8 != 0 ? .logAppendTime : .createTime }
        set { setBit(0x8, newValue == .logAppendTime) }
    }

    public var isTransactional: Bool {
        get { rawValue & 0x10 != 0 }
        set { setBit(0x10, newValue) }
    }

    public var isControl: Bool {
        get { rawValue & 0x20 != 0 }
        set { setBit(0x20, newValue) }
    }

    /// The batch's baseTimestamp holds the delete horizon (set by the log cleaner).
    public var hasDeleteHorizon: Bool {
        get { rawValue & 0x40 != 0 }
        set { setBit(0x40, newValue) }
    }

    private mutating func setBit(_ bit: Int16, _ on: Bool) {
        rawValue = on ? rawValue | bit : rawValue & ~bit
    }
}

/// The fixed 61-byte header of a v2 batch.
public struct RecordBatchHeader: Equatable, Sendable {
    public var baseOffset: Int64
    public var batchLength: Int32
    public var partitionLeaderEpoch: Int32
    public var magic: Int8
    public var crc: UInt32
    public var attributes: RecordBatchAttributes
    public var lastOffsetDelta: Int32
    public var baseTimestamp: Int64
    public var maxTimestamp: Int64
    public var producerId: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32
    public var recordsCount: Int32

    /// Offset of the last record (also of the last sequence number, relative to baseSequence).
    public var lastOffset: Int64 { baseOffset + Int64(lastOffsetDelta) }

    /// Size of the whole batch: baseOffset and batchLength plus the bytes batchLength counts.
    public var totalSize: Int { RecordBatch.lengthFieldsSize + Int(batchLength) }
}

/// One v2 batch: its parsed header and its bytes (a slice of the buffer it was read
/// from, so parsing copies nothing).
public struct RecordBatch: Equatable, Sendable {
    public static let headerSize = 61
    /// baseOffset and batchLength: the part of the batch that batchLength does not count.
    public static let lengthFieldsSize = 12
    static let magicOffset = 16
    static let crcOffset = 17
    /// The CRC covers everything from here (attributes) to the end.
    static let crcCoverageStart = 21

    public private(set) var header: RecordBatchHeader
    /// The batch's bytes, baseOffset through the end of its last record.
    public private(set) var bytes: ByteBuffer

    /// Parses one batch that starts at `buffer`'s reader index and takes the batch's bytes
    /// off it. Throws for a truncated batch, a magic other than 2 or an impossible length.
    public static func read(from buffer: inout ByteBuffer) throws -> RecordBatch {
        let size = try batchSize(at: buffer.readerIndex, in: buffer)
        return try RecordBatch(exactly: buffer.readSlice(length: size)!)
    }

    /// Splits a "records" field into batches. A fetch response may end with a partial
    /// batch (the broker cuts at the size limit); pass `allowPartialTail` to ignore it.
    public static func batches(in records: ByteBuffer, allowPartialTail: Bool = false) throws -> [RecordBatch] {
        var rest = records
        var result: [RecordBatch] = []
        while rest.readableBytes > 0 {
            do {
                result.append(try read(from: &rest))
            } catch let error as KafkaDecodeError {
                if allowPartialTail, case .truncated = error.problem { break }
                throw error
            }
        }
        return result
    }

    /// Parses a buffer holding exactly one batch.
    public init(_ buffer: ByteBuffer) throws {
        let size = try Self.batchSize(at: buffer.readerIndex, in: buffer)
        guard size == buffer.readableBytes else {
            throw KafkaDecodeError("RecordBatch.batchLength",
                                   .invalid("batch is \(size) bytes but the buffer holds \(buffer.readableBytes)"))
        }
        try self.init(exactly: buffer)
    }

    private init(exactly buffer: ByteBuffer) throws {
        var b = buffer
        header = RecordBatchHeader(
            baseOffset: try b.kafkaReadInt64("RecordBatch.baseOffset"),
            batchLength: try b.kafkaReadInt32("RecordBatch.batchLength"),
            partitionLeaderEpoch: try b.kafkaReadInt32("RecordBatch.partitionLeaderEpoch"),
            magic: try b.kafkaReadInt8("RecordBatch.magic"),
            crc: try b.kafkaReadUInt32("RecordBatch.crc"),
            attributes: RecordBatchAttributes(rawValue: try b.kafkaReadInt16("RecordBatch.attributes")),
            lastOffsetDelta: try b.kafkaReadInt32("RecordBatch.lastOffsetDelta"),
            baseTimestamp: try b.kafkaReadInt64("RecordBatch.baseTimestamp"),
            maxTimestamp: try b.kafkaReadInt64("RecordBatch.maxTimestamp"),
            producerId: try b.kafkaReadInt64("RecordBatch.producerId"),
            producerEpoch: try b.kafkaReadInt16("RecordBatch.producerEpoch"),
            baseSequence: try b.kafkaReadInt32("RecordBatch.baseSequence"),
            recordsCount: try b.kafkaReadInt32("RecordBatch.recordsCount"))
        bytes = buffer
    }

    /// Size of the batch starting at `index`, after checking its length and magic and
    /// that all of it is readable.
    static func batchSize(at index: Int, in buffer: ByteBuffer) throws -> Int {
        let available = buffer.writerIndex - index
        guard available >= headerSize,
              let length = buffer.getInteger(at: index + 8, endianness: .big, as: Int32.self),
              let magic = buffer.getInteger(at: index + magicOffset, as: Int8.self)
        else {
            throw KafkaDecodeError("RecordBatch", .truncated(needed: headerSize, available: max(available, 0)))
        }
        guard magic == 2 else { throw KafkaDecodeError("RecordBatch.magic", .unsupportedMagic(magic)) }
        guard Int(length) >= headerSize - lengthFieldsSize else {
            throw KafkaDecodeError("RecordBatch.batchLength", .invalidLength(Int(length)))
        }
        let size = lengthFieldsSize + Int(length)
        guard size <= available else {
            throw KafkaDecodeError("RecordBatch", .truncated(needed: size, available: available))
        }
        return size
    }

    // MARK: CRC

    /// CRC-32C of attributes through the end of the batch, as it should be stored.
    public var computedCRC: UInt32 {
        Self.crc(ofBatchAt: bytes.readerIndex, length: bytes.readableBytes, in: bytes)
    }

    /// CRC of the batch at absolute index `start` of `buffer`, `length` bytes long.
    static func crc(ofBatchAt start: Int, length: Int, in buffer: ByteBuffer) -> UInt32 {
        buffer.withUnsafeReadableBytes { raw in
            let from = start - buffer.readerIndex + crcCoverageStart
            let covered = UnsafeRawBufferPointer(rebasing: raw[from..<(start - buffer.readerIndex + length)])
            return sluice_crc32c(0, covered.baseAddress, covered.count)
        }
    }

    public var isCRCValid: Bool { computedCRC == header.crc }

    /// Throws `crcMismatch` if the stored CRC is wrong (the batch was corrupted).
    public func verifyCRC() throws {
        let computed = computedCRC
        guard computed == header.crc else {
            throw KafkaDecodeError("RecordBatch.crc", .crcMismatch(stored: header.crc, computed: computed))
        }
    }

    // MARK: Broker-side rewrites

    /// Sets baseOffset (outside the CRC, which stays valid).
    public mutating func setBaseOffset(_ offset: Int64) {
        bytes.setInteger(offset, at: bytes.readerIndex, endianness: .big)
        header.baseOffset = offset
    }

    /// Sets partitionLeaderEpoch (outside the CRC, which stays valid).
    public mutating func setPartitionLeaderEpoch(_ epoch: Int32) {
        bytes.setInteger(epoch, at: bytes.readerIndex + 12, endianness: .big)
        header.partitionLeaderEpoch = epoch
    }

    /// Marks the batch as LogAppendTime with `timestamp` as its maxTimestamp (what a broker
    /// with `message.timestamp.type=LogAppendTime` does) and recomputes the CRC.
    public mutating func setLogAppendTime(_ timestamp: Int64) {
        header.attributes.timestampType = .logAppendTime
        header.maxTimestamp = timestamp
        bytes.setInteger(header.attributes.rawValue, at: bytes.readerIndex + 21, endianness: .big)
        bytes.setInteger(timestamp, at: bytes.readerIndex + 35, endianness: .big)
        updateCRC()
    }

    /// Recomputes and stores the CRC.
    public mutating func updateCRC() {
        let crc = computedCRC
        bytes.setInteger(crc, at: bytes.readerIndex + Self.crcOffset, endianness: .big)
        header.crc = crc
    }

    /// Gives consecutive offsets to every batch in a "records" buffer, in place: the first
    /// batch gets `firstOffset`, each next one the offset after the previous batch's last
    /// offset. Returns the offset after the last batch. Checks each batch's framing (not
    /// its CRC). Only baseOffset changes, so the CRCs stay valid.
    @discardableResult
    public static func assignOffsets(in records: inout ByteBuffer, firstOffset: Int64) throws -> Int64 {
        var index = records.readerIndex
        var next = firstOffset
        while index < records.writerIndex {
            let size = try batchSize(at: index, in: records)
            let lastOffsetDelta = records.getInteger(at: index + 23, endianness: .big, as: Int32.self)!
            guard lastOffsetDelta >= 0 else {
                throw KafkaDecodeError("RecordBatch.lastOffsetDelta", .invalid("negative: \(lastOffsetDelta)"))
            }
            records.setInteger(next, at: index, endianness: .big)
            next += Int64(lastOffsetDelta) + 1
            index += size
        }
        return next
    }

    // MARK: Records

    /// The records of an uncompressed batch. Compressed batches throw `compressedRecords`.
    public func records() throws -> [Record] {
        try records(decompressing: Self.refuseCompressed)
    }

    public func makeRecordIterator() throws -> RecordIterator {
        try makeRecordIterator(decompressing: Self.refuseCompressed)
    }

    /// The records of a batch that may be compressed; see `makeRecordIterator(decompressing:)`.
    public func records(decompressing decompress: (KafkaCompression, ByteBuffer) throws -> ByteBuffer) throws -> [Record] {
        var iterator = try makeRecordIterator(decompressing: decompress)
        var result: [Record] = []
        result.reserveCapacity(max(0, min(Int(header.recordsCount), iterator.remainingBytes)))
        while let record = try iterator.next() {
            result.append(record)
        }
        return result
    }

    /// Walks the records of a batch that may be compressed. For a compressed batch,
    /// `decompress` gets the codec and the stored records section (everything after the
    /// 61-byte header) and returns the plain records, which the iterator walks; it is not
    /// called for uncompressed batches. The codecs live outside this module (see
    /// KafkaCompression). Codec numbers 5-7 throw `compressedRecords`.
    public func makeRecordIterator(
        decompressing decompress: (KafkaCompression, ByteBuffer) throws -> ByteBuffer
    ) throws -> RecordIterator {
        guard let codec = header.attributes.compression else {
            throw KafkaDecodeError("RecordBatch.attributes", .compressedRecords(codec: Int(header.attributes.compressionCodec)))
        }
        guard header.recordsCount >= 0 else {
            throw KafkaDecodeError("RecordBatch.recordsCount", .invalidLength(Int(header.recordsCount)))
        }
        var body = bytes
        body.moveReaderIndex(forwardBy: Self.headerSize)
        if codec != .none {
            body = try decompress(codec, body)
        }
        return RecordIterator(batch: header, body: body)
    }

    private static func refuseCompressed(_ codec: KafkaCompression, _: ByteBuffer) throws -> ByteBuffer {
        throw KafkaDecodeError("RecordBatch.attributes", .compressedRecords(codec: Int(codec.rawValue)))
    }
}

/// A record header: the key is never null, the value may be.
public struct RecordHeader: Equatable, Sendable {
    public var key: String
    public var value: ByteBuffer?

    public init(key: String, value: ByteBuffer?) {
        self.key = key
        self.value = value
    }

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value.map { ByteBuffer(bytes: $0) }
    }
}

/// One record; key, value and header values are slices of the batch's bytes.
public struct Record: Equatable, Sendable {
    /// Absolute offset (the batch's baseOffset plus offsetDelta).
    public var offset: Int64
    /// Absolute timestamp: baseTimestamp plus timestampDelta, or the batch's maxTimestamp
    /// for LogAppendTime batches.
    public var timestamp: Int64
    public var offsetDelta: Int32
    public var timestampDelta: Int64
    /// Unused by Kafka so far.
    public var attributes: Int8
    public var key: ByteBuffer?
    public var value: ByteBuffer?
    public var headers: [RecordHeader]
}

/// Walks the records of an uncompressed batch, checking each record's declared length.
public struct RecordIterator {
    private let batch: RecordBatchHeader
    private var body: ByteBuffer
    private var remaining: Int

    init(batch: RecordBatchHeader, body: ByteBuffer) {
        self.batch = batch
        self.body = body
        self.remaining = Int(batch.recordsCount)
    }

    /// Bytes not read yet.
    public var remainingBytes: Int { body.readableBytes }

    /// The next record, or nil after the last one. Throws if a record is malformed or
    /// bytes are left over after the declared number of records.
    public mutating func next() throws -> Record? {
        guard remaining > 0 else {
            guard body.readableBytes == 0 else {
                throw KafkaDecodeError("RecordBatch.records",
                                       .invalid("\(body.readableBytes) bytes after the last of \(batch.recordsCount) records"))
            }
            return nil
        }
        remaining -= 1
        let length = Int(try body.kafkaReadVarint("Record.length"))
        guard length >= 0 else { throw KafkaDecodeError("Record.length", .invalidLength(length)) }
        guard var r = body.readSlice(length: length) else {
            throw KafkaDecodeError("Record.length", .truncated(needed: length, available: body.readableBytes))
        }
        let attributes = try r.kafkaReadInt8("Record.attributes")
        let timestampDelta = try r.kafkaReadVarlong("Record.timestampDelta")
        let offsetDelta = try r.kafkaReadVarint("Record.offsetDelta")
        let key = try Self.readVarintBytes(&r, "Record.key")
        let value = try Self.readVarintBytes(&r, "Record.value")
        let headerCount = Int(try r.kafkaReadVarint("Record.headers"))
        guard headerCount >= 0, headerCount <= r.readableBytes else {
            throw KafkaDecodeError("Record.headers", .countTooLarge(count: headerCount, remaining: r.readableBytes))
        }
        var headers: [RecordHeader] = []
        headers.reserveCapacity(headerCount)
        for _ in 0..<headerCount {
            guard var keyBytes = try Self.readVarintBytes(&r, "Record.headers.key") else {
                throw KafkaDecodeError("Record.headers.key", .nullNotAllowed)
            }
            let headerKey = keyBytes.readString(length: keyBytes.readableBytes) ?? ""
            headers.append(RecordHeader(key: headerKey, value: try Self.readVarintBytes(&r, "Record.headers.value")))
        }
        guard r.readableBytes == 0 else {
            throw KafkaDecodeError("Record.length", .invalid("\(r.readableBytes) bytes left inside the record"))
        }
        let timestamp = batch.attributes.timestampType == .logAppendTime
            ? batch.maxTimestamp : batch.baseTimestamp &+ timestampDelta
        return Record(
            offset: batch.baseOffset &+ Int64(offsetDelta), timestamp: timestamp,
            offsetDelta: offsetDelta, timestampDelta: timestampDelta, attributes: attributes,
            key: key, value: value, headers: headers)
    }

    private static func readVarintBytes(_ buffer: inout ByteBuffer, _ field: String) throws -> ByteBuffer? {
        let length = Int(try buffer.kafkaReadVarint(field))
        if length == -1 { return nil }
        guard length >= 0 else { throw KafkaDecodeError(field, .invalidLength(length)) }
        guard let slice = buffer.readSlice(length: length) else {
            throw KafkaDecodeError(field, .truncated(needed: length, available: buffer.readableBytes))
        }
        return slice
    }
}

/// Builds one uncompressed v2 batch. Record timestamps are relative to the first
/// record's; offsets are 0, 1, 2... relative to `baseOffset`.
public struct RecordBatchBuilder {
    public var baseOffset: Int64
    public var partitionLeaderEpoch: Int32
    public var producerId: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32
    public var isTransactional: Bool
    public var isControl: Bool
    public var timestampType: KafkaTimestampType

    public private(set) var recordCount: Int32 = 0
    private var baseTimestamp: Int64 = -1
    private var maxTimestamp: Int64 = -1
    private var encodedRecords = ByteBuffer()

    /// The defaults are those of a non-idempotent producer (no producer id, epoch or sequence).
    public init(
        baseOffset: Int64 = 0, partitionLeaderEpoch: Int32 = -1,
        producerId: Int64 = -1, producerEpoch: Int16 = -1, baseSequence: Int32 = -1,
        isTransactional: Bool = false, isControl: Bool = false, timestampType: KafkaTimestampType = .createTime
    ) {
        self.baseOffset = baseOffset
        self.partitionLeaderEpoch = partitionLeaderEpoch
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
        self.isTransactional = isTransactional
        self.isControl = isControl
        self.timestampType = timestampType
    }

    public var isEmpty: Bool { recordCount == 0 }

    /// Size the batch will have when built.
    public var sizeInBytes: Int { RecordBatch.headerSize + encodedRecords.readableBytes }

    public mutating func append(key: ByteBuffer?, value: ByteBuffer?, headers: [RecordHeader] = [], timestamp: Int64) {
        if recordCount == 0 {
            baseTimestamp = timestamp
            maxTimestamp = timestamp
        } else {
            maxTimestamp = max(maxTimestamp, timestamp)
        }
        let timestampDelta = timestamp &- baseTimestamp
        let offsetDelta = Int64(recordCount)

        func bytesSize(_ b: ByteBuffer?) -> Int {
            guard let b else { return ByteBuffer.kafkaVarlongSize(-1) }
            return ByteBuffer.kafkaVarlongSize(Int64(b.readableBytes)) + b.readableBytes
        }
        var bodySize = 1 + ByteBuffer.kafkaVarlongSize(timestampDelta) + ByteBuffer.kafkaVarlongSize(offsetDelta)
            + bytesSize(key) + bytesSize(value) + ByteBuffer.kafkaVarlongSize(Int64(headers.count))
        for header in headers {
            let keyCount = header.key.utf8.count
            bodySize += ByteBuffer.kafkaVarlongSize(Int64(keyCount)) + keyCount + bytesSize(header.value)
        }

        func writeBytes(_ b: ByteBuffer?, to out: inout ByteBuffer) {
            guard let b else {
                out.kafkaWriteVarint(-1)
                return
            }
            out.kafkaWriteVarint(Int32(b.readableBytes))
            out.writeImmutableBuffer(b)
        }
        encodedRecords.kafkaWriteVarint(Int32(bodySize))
        encodedRecords.kafkaWriteInt8(0)
        encodedRecords.kafkaWriteVarlong(timestampDelta)
        encodedRecords.kafkaWriteVarint(Int32(offsetDelta))
        writeBytes(key, to: &encodedRecords)
        writeBytes(value, to: &encodedRecords)
        encodedRecords.kafkaWriteVarint(Int32(headers.count))
        for header in headers {
            encodedRecords.kafkaWriteVarint(Int32(header.key.utf8.count))
            encodedRecords.writeString(header.key)
            writeBytes(header.value, to: &encodedRecords)
        }
        recordCount += 1
    }

    public mutating func append(key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader] = [], timestamp: Int64) {
        append(key: key.map { ByteBuffer(bytes: $0) }, value: value.map { ByteBuffer(bytes: $0) },
               headers: headers, timestamp: timestamp)
    }

    /// The finished batch, CRC included.
    public func build() -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(sizeInBytes)
        build(into: &out)
        return out
    }

    /// Appends the finished batch to `buffer`.
    public func build(into buffer: inout ByteBuffer) {
        build(into: &buffer, compression: .none, compressingRecords: { $0 })
    }

    /// Appends the finished batch with `compression` in its attributes and, in place of the
    /// records, what `compress` makes of them (it gets the encoded records, everything
    /// that follows the 61-byte header). The codecs live outside this module (see
    /// KafkaCompression); `.none` with the identity is `build(into:)`.
    public func build(
        into buffer: inout ByteBuffer, compression: KafkaCompression,
        compressingRecords compress: (ByteBuffer) throws -> ByteBuffer
    ) rethrows {
        let body = try compress(encodedRecords)
        var attributes = RecordBatchAttributes(rawValue: 0)
        attributes.compressionCodec = compression.rawValue
        attributes.timestampType = timestampType
        attributes.isTransactional = isTransactional
        attributes.isControl = isControl

        let start = buffer.writerIndex
        buffer.kafkaWriteInt64(baseOffset)
        buffer.kafkaWriteInt32(Int32(RecordBatch.headerSize + body.readableBytes - RecordBatch.lengthFieldsSize))
        buffer.kafkaWriteInt32(partitionLeaderEpoch)
        buffer.kafkaWriteInt8(2)
        buffer.kafkaWriteUInt32(0)  // CRC, filled in below
        buffer.kafkaWriteInt16(attributes.rawValue)
        buffer.kafkaWriteInt32(recordCount - 1)
        buffer.kafkaWriteInt64(baseTimestamp)
        buffer.kafkaWriteInt64(maxTimestamp)
        buffer.kafkaWriteInt64(producerId)
        buffer.kafkaWriteInt16(producerEpoch)
        buffer.kafkaWriteInt32(baseSequence)
        buffer.kafkaWriteInt32(recordCount)
        buffer.writeImmutableBuffer(body)

        let crc = RecordBatch.crc(ofBatchAt: start, length: buffer.writerIndex - start, in: buffer)
        buffer.setInteger(crc, at: start + RecordBatch.crcOffset, endianness: .big)
    }
}
