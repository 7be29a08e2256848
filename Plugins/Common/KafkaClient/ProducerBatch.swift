import CSluiceCRC
import KafkaProtocol

/// A record header handed to the producer: both sides borrowed for the call.
public struct RecordHeaderBytes {
    public var key: UnsafeRawBufferPointer
    public var value: UnsafeRawBufferPointer

    public init(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        self.key = key
        self.value = value
    }
}

/// One v2 record batch for one partition, encoded straight from the
/// caller's bytes into one growable buffer that is reused after delivery
/// (see `KafkaProducer`'s pool): no allocation per record.
///
/// Life: `reset` → `append`... → `close` (header written, records
/// compressed if asked) → `seal` before each send (producer id, epoch and
/// sequence written, CRC computed) → returned to the pool.
/// Not thread-safe.
final class ProducerBatch {
    static let headerSize = RecordBatch.headerSize

    private(set) var storage: UnsafeMutableRawPointer
    private(set) var capacity: Int
    /// Bytes used, header included.
    private(set) var count = ProducerBatch.headerSize
    private(set) var recordCount: Int32 = 0
    private var baseTimestamp: Int64 = 0
    private var maxTimestamp: Int64 = 0
    private(set) var isClosed = false

    private(set) var topic: ProducerTopic!
    private(set) var partition: Int32 = 0
    /// Sends so far.
    var attempts = 0
    /// The producer-id generation the batch was sealed under (-1: never sealed).
    var sealedGeneration = -1
    var baseSequence: Int32 = -1

    init(capacity: Int) {
        self.capacity = max(capacity, 4096)
        storage = .allocate(byteCount: self.capacity, alignment: 8)
    }

    deinit { storage.deallocate() }

    func reset(topic: ProducerTopic, partition: Int32) {
        self.topic = topic
        self.partition = partition
        count = Self.headerSize
        recordCount = 0
        isClosed = false
        attempts = 0
        sealedGeneration = -1
        baseSequence = -1
    }

    /// Drops the topic reference so pooled batches keep nothing alive.
    func release() { topic = nil }

    var isEmpty: Bool { recordCount == 0 }
    var byteCount: Int { count }
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: count) }

    // MARK: Records

    /// Encoded size of a record: its length prefix plus its body.
    static func recordSize(keyCount: Int?, valueCount: Int, headers: UnsafeBufferPointer<RecordHeaderBytes>,
                           timestampDelta: Int64, offsetDelta: Int32) -> (total: Int, body: Int) {
        var body = 1 + varlongSize(timestampDelta) + varlongSize(Int64(offsetDelta))
        if let k = keyCount { body += varlongSize(Int64(k)) + k } else { body += 1 }
        body += varlongSize(Int64(valueCount)) + valueCount
        body += varlongSize(Int64(headers.count))
        for h in headers {
            body += varlongSize(Int64(h.key.count)) + h.key.count + varlongSize(Int64(h.value.count)) + h.value.count
        }
        return (varlongSize(Int64(body)) + body, body)
    }

    /// The record's size if it were appended now (for the batch-full check).
    func sizeOfNext(keyCount: Int?, valueCount: Int, headers: UnsafeBufferPointer<RecordHeaderBytes>, timestamp: Int64) -> Int {
        let delta = recordCount == 0 ? 0 : timestamp &- baseTimestamp
        return Self.recordSize(keyCount: keyCount, valueCount: valueCount, headers: headers,
                               timestampDelta: delta, offsetDelta: recordCount).total
    }

    func append(key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer,
                headers: UnsafeBufferPointer<RecordHeaderBytes>, timestamp: Int64) {
        precondition(!isClosed, "append to a closed batch")
        if recordCount == 0 {
            baseTimestamp = timestamp
            maxTimestamp = timestamp
        } else if timestamp > maxTimestamp {
            maxTimestamp = timestamp
        }
        let delta = timestamp &- baseTimestamp
        let size = Self.recordSize(keyCount: key?.count, valueCount: value.count, headers: headers,
                                   timestampDelta: delta, offsetDelta: recordCount)
        reserve(size.total)
        var p = storage + count
        p = writeVarlong(Int64(size.body), p)
        p.storeBytes(of: 0, as: UInt8.self)  // attributes
        p += 1
        p = writeVarlong(delta, p)
        p = writeVarlong(Int64(recordCount), p)
        if let key {
            p = writeBytes(key, p)
        } else {
            p = writeVarlong(-1, p)
        }
        p = writeBytes(value, p)
        p = writeVarlong(Int64(headers.count), p)
        for h in headers {
            p = writeBytes(h.key, p)
            p = writeBytes(h.value, p)
        }
        count += size.total
        recordCount += 1
    }

    // MARK: Closing and sealing

    /// Writes the header fields that do not depend on the producer id and
    /// compresses the records if `codec` says so. No more appends after this.
    func close(codec: KafkaCompression, level: Int?) throws {
        precondition(!isClosed && recordCount > 0)
        if codec != .none {
            let records = UnsafeRawBufferPointer(start: storage + Self.headerSize, count: count - Self.headerSize)
            let compressed = try BatchCompression.compress(codec, records, level: level)
            count = Self.headerSize
            reserve(compressed.count)
            compressed.withUnsafeBytes { (storage + Self.headerSize).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            count += compressed.count
        }
        put(Int64(0), at: 0)                                // baseOffset (the broker assigns it)
        put(Int32(count - RecordBatch.lengthFieldsSize), at: 8)
        put(Int32(-1), at: 12)                              // partitionLeaderEpoch
        storage.storeBytes(of: 2, toByteOffset: 16, as: UInt8.self)  // magic
        put(codec.rawValue, at: 21)                         // attributes: codec, CreateTime, not transactional
        put(recordCount - 1, at: 23)                        // lastOffsetDelta
        put(baseTimestamp, at: 27)
        put(maxTimestamp, at: 35)
        put(recordCount, at: 57)
        isClosed = true
    }

    /// Writes the producer id, epoch and first sequence (-1s for a producer
    /// without idempotence) and the CRC. Called before every send; cheap to repeat.
    func seal(producerId: Int64, epoch: Int16, baseSequence: Int32, generation: Int) {
        precondition(isClosed)
        put(producerId, at: 43)
        put(epoch, at: 51)
        put(baseSequence, at: 53)
        self.baseSequence = baseSequence
        sealedGeneration = generation
        let crc = sluice_crc32c(0, storage + 21, count - 21)
        put(crc, at: 17)
    }

    // MARK: Bytes

    private func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        var newCapacity = capacity * 2
        while newCapacity < count + extra { newCapacity *= 2 }
        let p = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 8)
        p.copyMemory(from: storage, byteCount: count)
        storage.deallocate()
        storage = p
        capacity = newCapacity
    }

    @inline(__always)
    private func put<T: FixedWidthInteger>(_ v: T, at offset: Int) {
        storage.storeBytes(of: v.bigEndian, toByteOffset: offset, as: T.self)
    }

    @inline(__always)
    private func writeBytes(_ b: UnsafeRawBufferPointer, _ at: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        let p = writeVarlong(Int64(b.count), at)
        if let src = b.baseAddress, b.count > 0 { p.copyMemory(from: src, byteCount: b.count) }
        return p + b.count
    }
}

/// Zigzag varint size, as Kafka records encode every length and delta.
@inline(__always)
func varlongSize(_ v: Int64) -> Int {
    var z = UInt64(bitPattern: (v << 1) ^ (v >> 63))
    var n = 1
    while z >= 0x80 {
        z >>= 7
        n += 1
    }
    return n
}

@inline(__always)
func writeVarlong(_ v: Int64, _ at: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
    var z = UInt64(bitPattern: (v << 1) ^ (v >> 63))
    var p = at
    while z >= 0x80 {
        p.storeBytes(of: UInt8(truncatingIfNeeded: z) | 0x80, as: UInt8.self)
        p += 1
        z >>= 7
    }
    p.storeBytes(of: UInt8(z), as: UInt8.self)
    return p + 1
}
