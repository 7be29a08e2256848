// Kafka's primitive wire types on top of NIO's ByteBuffer.
//
// All multi-byte integers are big-endian. "Flexible" message versions use the compact
// forms: lengths and counts as an unsigned varint holding N+1 (0 = null), and every
// struct ends with a tagged-field section. Older versions use an int16 length for
// strings, an int32 length for bytes and an int32 count for arrays (-1 = null).
//
// Readers take the field path used in error messages as their first argument and
// check every length against the bytes that remain before touching them.

import NIOCore

/// Strings are limited to what an int16 length can express, in compact form too.
@usableFromInline let kafkaMaxStringLength = Int(Int16.max)

extension ByteBuffer {
    // MARK: Fixed-width integers

    @inlinable
    mutating func kafkaReadFixed<T: FixedWidthInteger>(_ field: String, as: T.Type) throws -> T {
        guard let value = readInteger(endianness: .big, as: T.self) else {
            throw KafkaDecodeError(field, .truncated(needed: MemoryLayout<T>.size, available: readableBytes))
        }
        return value
    }

    public mutating func kafkaReadInt8(_ field: String) throws -> Int8 { try kafkaReadFixed(field, as: Int8.self) }
    public mutating func kafkaReadInt16(_ field: String) throws -> Int16 { try kafkaReadFixed(field, as: Int16.self) }
    public mutating func kafkaReadInt32(_ field: String) throws -> Int32 { try kafkaReadFixed(field, as: Int32.self) }
    public mutating func kafkaReadInt64(_ field: String) throws -> Int64 { try kafkaReadFixed(field, as: Int64.self) }
    public mutating func kafkaReadUInt16(_ field: String) throws -> UInt16 { try kafkaReadFixed(field, as: UInt16.self) }
    public mutating func kafkaReadUInt32(_ field: String) throws -> UInt32 { try kafkaReadFixed(field, as: UInt32.self) }

    /// Any non-zero byte reads as true.
    public mutating func kafkaReadBool(_ field: String) throws -> Bool {
        try kafkaReadFixed(field, as: UInt8.self) != 0
    }

    /// IEEE 754 double, big-endian.
    public mutating func kafkaReadFloat64(_ field: String) throws -> Double {
        Double(bitPattern: try kafkaReadFixed(field, as: UInt64.self))
    }

    public mutating func kafkaWriteInt8(_ value: Int8) { writeInteger(value, endianness: .big) }
    public mutating func kafkaWriteInt16(_ value: Int16) { writeInteger(value, endianness: .big) }
    public mutating func kafkaWriteInt32(_ value: Int32) { writeInteger(value, endianness: .big) }
    public mutating func kafkaWriteInt64(_ value: Int64) { writeInteger(value, endianness: .big) }
    public mutating func kafkaWriteUInt16(_ value: UInt16) { writeInteger(value, endianness: .big) }
    public mutating func kafkaWriteUInt32(_ value: UInt32) { writeInteger(value, endianness: .big) }
    public mutating func kafkaWriteBool(_ value: Bool) { writeInteger(value ? 1 : 0, as: UInt8.self) }
    public mutating func kafkaWriteFloat64(_ value: Double) { writeInteger(value.bitPattern, endianness: .big) }

    // MARK: Varints

    /// Unsigned LEB128 of at most `maxBytes` bytes; higher bits than fit in 64 are dropped.
    @inlinable
    mutating func kafkaReadVarintBits(_ field: String, maxBytes: Int) throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var index = readerIndex
        for _ in 0..<maxBytes {
            guard let byte = getInteger(at: index, as: UInt8.self) else {
                throw KafkaDecodeError(field, .truncated(needed: index - readerIndex + 1, available: readableBytes))
            }
            index += 1
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 {
                moveReaderIndex(to: index)
                return result
            }
            shift += 7
        }
        throw KafkaDecodeError(field, .varintTooLong)
    }

    /// UNSIGNED_VARINT: up to 5 bytes, 7 bits each, least significant group first.
    public mutating func kafkaReadUnsignedVarint(_ field: String) throws -> UInt32 {
        UInt32(truncatingIfNeeded: try kafkaReadVarintBits(field, maxBytes: 5))
    }

    /// VARINT: zig-zag encoded int32.
    public mutating func kafkaReadVarint(_ field: String) throws -> Int32 {
        let raw = UInt32(truncatingIfNeeded: try kafkaReadVarintBits(field, maxBytes: 5))
        return Int32(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// VARLONG: zig-zag encoded int64, up to 10 bytes.
    public mutating func kafkaReadVarlong(_ field: String) throws -> Int64 {
        let raw = try kafkaReadVarintBits(field, maxBytes: 10)
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    @inlinable
    mutating func kafkaWriteVarintBits(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            writeInteger(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        writeInteger(UInt8(v))
    }

    public mutating func kafkaWriteUnsignedVarint(_ value: UInt32) { kafkaWriteVarintBits(UInt64(value)) }

    public mutating func kafkaWriteVarint(_ value: Int32) {
        let zigzag = UInt32(bitPattern: (value << 1) ^ (value >> 31))
        kafkaWriteVarintBits(UInt64(zigzag))
    }

    public mutating func kafkaWriteVarlong(_ value: Int64) {
        kafkaWriteVarintBits(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// Bytes an unsigned varint of `value` takes.
    public static func kafkaUnsignedVarintSize(_ value: UInt64) -> Int {
        var v = value
        var n = 1
        while v >= 0x80 {
            v >>= 7
            n += 1
        }
        return n
    }

    /// Bytes a zig-zag varint/varlong of `value` takes.
    public static func kafkaVarlongSize(_ value: Int64) -> Int {
        kafkaUnsignedVarintSize(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    // MARK: Length prefixes

    /// Reads a length prefix: int16 (strings) or int32 (bytes, arrays) in classic versions,
    /// unsigned varint N+1 in flexible ones. Returns nil for null; a null where it is not
    /// allowed and any other negative length throw.
    @inlinable
    mutating func kafkaReadLength(_ field: String, flexible: Bool, classicInt16: Bool, nullable: Bool) throws -> Int? {
        let length: Int
        if flexible {
            length = Int(try kafkaReadUnsignedVarint(field)) - 1
        } else if classicInt16 {
            length = Int(try kafkaReadInt16(field))
        } else {
            length = Int(try kafkaReadInt32(field))
        }
        if length < 0 {
            guard length == -1 else { throw KafkaDecodeError(field, .invalidLength(length)) }
            guard nullable else { throw KafkaDecodeError(field, .nullNotAllowed) }
            return nil
        }
        return length
    }

    /// A byte length (strings, bytes, records): must fit in what remains.
    @inlinable
    mutating func kafkaReadByteLength(_ field: String, flexible: Bool, classicInt16: Bool, nullable: Bool) throws -> Int? {
        guard let length = try kafkaReadLength(field, flexible: flexible, classicInt16: classicInt16, nullable: nullable) else {
            return nil
        }
        guard length <= readableBytes else {
            throw KafkaDecodeError(field, .truncated(needed: length, available: readableBytes))
        }
        return length
    }

    @inlinable
    mutating func kafkaWriteLength(_ length: Int?, flexible: Bool, classicInt16: Bool) {
        if flexible {
            kafkaWriteUnsignedVarint(UInt32(truncatingIfNeeded: (length ?? -1) + 1))
        } else if classicInt16 {
            kafkaWriteInt16(Int16(truncatingIfNeeded: length ?? -1))
        } else {
            kafkaWriteInt32(Int32(truncatingIfNeeded: length ?? -1))
        }
    }

    // MARK: Strings

    /// STRING / COMPACT_STRING (UTF-8; malformed sequences are replaced, as Java does).
    public mutating func kafkaReadString(_ field: String, flexible: Bool) throws -> String {
        // Non-nullable: a null length throws, so the optional is always set.
        try kafkaReadNullableString(field, flexible: flexible, nullable: false) ?? ""
    }

    /// NULLABLE_STRING / COMPACT_NULLABLE_STRING; `nullable` says whether null is legal in this version.
    public mutating func kafkaReadNullableString(_ field: String, flexible: Bool, nullable: Bool) throws -> String? {
        guard let length = try kafkaReadByteLength(field, flexible: flexible, classicInt16: true, nullable: nullable) else {
            return nil
        }
        guard length <= kafkaMaxStringLength else { throw KafkaDecodeError(field, .invalidLength(length)) }
        return readString(length: length) ?? ""
    }

    public mutating func kafkaWriteString(_ value: String, _ field: String, flexible: Bool) throws {
        let count = value.utf8.count
        guard count <= kafkaMaxStringLength else { throw KafkaEncodeError(field, .tooLong(count)) }
        kafkaWriteLength(count, flexible: flexible, classicInt16: true)
        writeString(value)
    }

    public mutating func kafkaWriteNullableString(_ value: String?, _ field: String, flexible: Bool, nullable: Bool) throws {
        guard let value else {
            guard nullable else { throw KafkaEncodeError(field, .nullNotAllowed) }
            kafkaWriteLength(nil, flexible: flexible, classicInt16: true)
            return
        }
        try kafkaWriteString(value, field, flexible: flexible)
    }

    // MARK: Bytes and records

    /// BYTES / COMPACT_BYTES.
    public mutating func kafkaReadBytes(_ field: String, flexible: Bool) throws -> [UInt8] {
        try kafkaReadNullableBytes(field, flexible: flexible, nullable: false) ?? []
    }

    /// NULLABLE_BYTES / COMPACT_NULLABLE_BYTES.
    public mutating func kafkaReadNullableBytes(_ field: String, flexible: Bool, nullable: Bool) throws -> [UInt8]? {
        guard let length = try kafkaReadByteLength(field, flexible: flexible, classicInt16: false, nullable: nullable) else {
            return nil
        }
        return readBytes(length: length) ?? []
    }

    public mutating func kafkaWriteBytes(_ value: [UInt8], _ field: String, flexible: Bool) throws {
        guard value.count <= Int32.max - 1 else { throw KafkaEncodeError(field, .tooLong(value.count)) }
        kafkaWriteLength(value.count, flexible: flexible, classicInt16: false)
        writeBytes(value)
    }

    public mutating func kafkaWriteNullableBytes(_ value: [UInt8]?, _ field: String, flexible: Bool, nullable: Bool) throws {
        guard let value else {
            guard nullable else { throw KafkaEncodeError(field, .nullNotAllowed) }
            kafkaWriteLength(nil, flexible: flexible, classicInt16: false)
            return
        }
        try kafkaWriteBytes(value, field, flexible: flexible)
    }

    /// RECORDS: encoded like nullable bytes; returned as a slice sharing this buffer's storage.
    public mutating func kafkaReadRecords(_ field: String, flexible: Bool, nullable: Bool) throws -> ByteBuffer? {
        guard let length = try kafkaReadByteLength(field, flexible: flexible, classicInt16: false, nullable: nullable) else {
            return nil
        }
        return readSlice(length: length)
    }

    public mutating func kafkaWriteRecords(_ value: ByteBuffer?, _ field: String, flexible: Bool, nullable: Bool) throws {
        guard let value else {
            guard nullable else { throw KafkaEncodeError(field, .nullNotAllowed) }
            kafkaWriteLength(nil, flexible: flexible, classicInt16: false)
            return
        }
        guard value.readableBytes <= Int32.max - 1 else { throw KafkaEncodeError(field, .tooLong(value.readableBytes)) }
        kafkaWriteLength(value.readableBytes, flexible: flexible, classicInt16: false)
        writeImmutableBuffer(value)
    }

    // MARK: UUID

    public mutating func kafkaReadUUID(_ field: String) throws -> KafkaUUID {
        guard readableBytes >= 16 else { throw KafkaDecodeError(field, .truncated(needed: 16, available: readableBytes)) }
        let high = try kafkaReadFixed(field, as: UInt64.self)
        let low = try kafkaReadFixed(field, as: UInt64.self)
        return KafkaUUID(high: high, low: low)
    }

    public mutating func kafkaWriteUUID(_ value: KafkaUUID) {
        writeInteger(value.high, endianness: .big)
        writeInteger(value.low, endianness: .big)
    }

    // MARK: Arrays

    /// ARRAY / COMPACT_ARRAY of non-null elements.
    public mutating func kafkaReadArray<Element>(
        _ field: String, flexible: Bool, _ readElement: (inout ByteBuffer) throws -> Element
    ) throws -> [Element] {
        try kafkaReadNullableArray(field, flexible: flexible, nullable: false, readElement) ?? []
    }

    /// Nullable ARRAY / COMPACT_ARRAY. The count may not exceed the bytes that remain
    /// (every element takes at least one byte), so a forged count cannot reserve memory.
    public mutating func kafkaReadNullableArray<Element>(
        _ field: String, flexible: Bool, nullable: Bool, _ readElement: (inout ByteBuffer) throws -> Element
    ) throws -> [Element]? {
        guard let count = try kafkaReadLength(field, flexible: flexible, classicInt16: false, nullable: nullable) else {
            return nil
        }
        guard count <= readableBytes else {
            throw KafkaDecodeError(field, .countTooLarge(count: count, remaining: readableBytes))
        }
        var result: [Element] = []
        result.reserveCapacity(count)
        for _ in 0..<count {
            result.append(try readElement(&self))
        }
        return result
    }

    public mutating func kafkaWriteArray<Element>(
        _ value: [Element], _ field: String, flexible: Bool, _ writeElement: (inout ByteBuffer, Element) throws -> Void
    ) throws {
        guard value.count <= Int32.max - 1 else { throw KafkaEncodeError(field, .tooLong(value.count)) }
        kafkaWriteLength(value.count, flexible: flexible, classicInt16: false)
        for element in value {
            try writeElement(&self, element)
        }
    }

    public mutating func kafkaWriteNullableArray<Element>(
        _ value: [Element]?, _ field: String, flexible: Bool, nullable: Bool,
        _ writeElement: (inout ByteBuffer, Element) throws -> Void
    ) throws {
        guard let value else {
            guard nullable else { throw KafkaEncodeError(field, .nullNotAllowed) }
            kafkaWriteLength(nil, flexible: flexible, classicInt16: false)
            return
        }
        try kafkaWriteArray(value, field, flexible: flexible, writeElement)
    }

    // MARK: Nullable structs

    /// A nullable struct field: int8 -1 for null, 1 followed by the struct otherwise.
    public mutating func kafkaReadNullableStruct<Element>(
        _ field: String, nullable: Bool, _ readElement: (inout ByteBuffer) throws -> Element
    ) throws -> Element? {
        let marker = try kafkaReadInt8(field)
        if marker < 0 {
            guard nullable else { throw KafkaDecodeError(field, .nullNotAllowed) }
            return nil
        }
        return try readElement(&self)
    }

    public mutating func kafkaWriteNullableStruct<Element>(
        _ value: Element?, _ field: String, nullable: Bool, _ writeElement: (inout ByteBuffer, Element) throws -> Void
    ) throws {
        guard let value else {
            guard nullable else { throw KafkaEncodeError(field, .nullNotAllowed) }
            kafkaWriteInt8(-1)
            return
        }
        kafkaWriteInt8(1)
        try writeElement(&self, value)
    }

    // MARK: Tagged fields

    /// Reads the count that opens a tagged-field section.
    public mutating func kafkaReadTaggedFieldCount(_ field: String) throws -> Int {
        let count = Int(try kafkaReadUnsignedVarint(field))
        // Each tagged field takes at least two bytes (tag and size).
        guard count <= readableBytes / 2 else {
            throw KafkaDecodeError(field, .countTooLarge(count: count, remaining: readableBytes))
        }
        return count
    }

    /// Reads one tagged field's tag and its data as a slice of exactly the announced size.
    public mutating func kafkaReadTaggedField(_ field: String) throws -> (tag: UInt32, data: ByteBuffer) {
        let tag = try kafkaReadUnsignedVarint(field)
        let size = Int(try kafkaReadUnsignedVarint(field))
        guard let data = readSlice(length: size) else {
            throw KafkaDecodeError(field, .truncated(needed: size, available: readableBytes))
        }
        return (tag, data)
    }

    /// Skips a whole tagged-field section (a struct with no tagged fields it knows of).
    public mutating func kafkaSkipTaggedFields(_ field: String) throws {
        let count = try kafkaReadTaggedFieldCount(field)
        for _ in 0..<count {
            _ = try kafkaReadTaggedField(field)
        }
    }
}

/// Collects the tagged fields of one struct, in ascending tag order, then writes the
/// section (count, then tag, size and data of each).
public struct KafkaTaggedFieldWriter {
    private var fields: [(tag: UInt32, data: ByteBuffer)] = []

    public init() {}

    /// Adds a field whose data `body` writes (sized afterwards, so it goes to a scratch buffer).
    public mutating func add(_ tag: UInt32, _ body: (inout ByteBuffer) throws -> Void) rethrows {
        var data = ByteBuffer()
        try body(&data)
        fields.append((tag, data))
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.kafkaWriteUnsignedVarint(UInt32(fields.count))
        for field in fields {
            buffer.kafkaWriteUnsignedVarint(field.tag)
            buffer.kafkaWriteUnsignedVarint(UInt32(field.data.readableBytes))
            buffer.writeImmutableBuffer(field.data)
        }
    }
}
