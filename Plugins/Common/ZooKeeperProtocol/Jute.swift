// Jute's binary encoding (ZooKeeper's BinaryInputArchive / BinaryOutputArchive)
// on top of NIO's ByteBuffer: int and long big-endian; boolean one byte;
// ustring and buffer an int32 length (-1 = null) then the bytes; vector an
// int32 count (-1 = null) then the items. Nulls decode as empty values.
//
// Every reader names the field it reads and checks lengths and counts against
// the bytes that remain before allocating: bad input throws, never traps.

import NIOCore

/// A jute record: generated from zookeeper.jute (Generated/) or written by hand
/// for the framings jute cannot describe (multi).
public protocol JuteRecord: Sendable {
    init(from buffer: inout ByteBuffer) throws
    func write(to buffer: inout ByteBuffer)
}

extension JuteRecord {
    /// Decodes a record that must use all of `buffer`'s readable bytes.
    public init(decoding buffer: ByteBuffer) throws {
        var b = buffer
        try self.init(from: &b)
    }

    /// The record's encoding in a fresh buffer.
    public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var b = allocator.buffer(capacity: 64)
        write(to: &b)
        return b
    }
}

public struct JuteDecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Problem: Equatable, Sendable {
        case truncated(needed: Int, available: Int)
        case invalidLength(Int)
        case countTooLarge(count: Int, remaining: Int)
        case invalidUTF8
        case other(String)
    }

    /// The field being read, as `Record.field`.
    public var field: String
    public var problem: Problem

    public init(_ field: String, _ problem: Problem) {
        self.field = field
        self.problem = problem
    }

    public var description: String {
        switch problem {
        case .truncated(let needed, let available): return "\(field): needs \(needed) bytes, \(available) remain"
        case .invalidLength(let n): return "\(field): invalid length \(n)"
        case .countTooLarge(let count, let remaining): return "\(field): count \(count) cannot fit in the \(remaining) bytes that remain"
        case .invalidUTF8: return "\(field): string is not valid UTF-8"
        case .other(let text): return "\(field): \(text)"
        }
    }
}

extension ByteBuffer {
    @inlinable
    mutating func juteReadFixed<T: FixedWidthInteger>(_ field: String, as: T.Type) throws -> T {
        guard let v = readInteger(endianness: .big, as: T.self) else {
            throw JuteDecodeError(field, .truncated(needed: MemoryLayout<T>.size, available: readableBytes))
        }
        return v
    }

    public mutating func juteReadInt(_ field: String) throws -> Int32 { try juteReadFixed(field, as: Int32.self) }
    public mutating func juteReadLong(_ field: String) throws -> Int64 { try juteReadFixed(field, as: Int64.self) }
    /// Any non-zero byte reads as true.
    public mutating func juteReadBool(_ field: String) throws -> Bool { try juteReadFixed(field, as: UInt8.self) != 0 }

    /// The length prefix of a ustring or buffer; nil for null (-1).
    mutating func juteReadLength(_ field: String) throws -> Int? {
        let n = Int(try juteReadInt(field))
        if n == -1 { return nil }
        guard n >= 0 else { throw JuteDecodeError(field, .invalidLength(n)) }
        guard n <= readableBytes else { throw JuteDecodeError(field, .truncated(needed: n, available: readableBytes)) }
        return n
    }

    /// A ustring; null reads as "".
    public mutating func juteReadString(_ field: String) throws -> String {
        guard let n = try juteReadLength(field) else { return "" }
        guard let s = readString(length: n) else { throw JuteDecodeError(field, .truncated(needed: n, available: readableBytes)) }
        return s
    }

    /// A buffer; null reads as [].
    public mutating func juteReadBuffer(_ field: String) throws -> [UInt8] {
        guard let n = try juteReadLength(field) else { return [] }
        guard let bytes = readBytes(length: n) else { throw JuteDecodeError(field, .truncated(needed: n, available: readableBytes)) }
        return bytes
    }

    /// A vector; null reads as []. The count must fit the remaining bytes at
    /// `minimumElementSize` each, so a forged count cannot allocate.
    public mutating func juteReadVector<T>(_ field: String, minimumElementSize: Int,
                                          _ element: (inout ByteBuffer) throws -> T) throws -> [T] {
        let n = Int(try juteReadInt(field))
        if n == -1 { return [] }
        guard n >= 0 else { throw JuteDecodeError(field, .invalidLength(n)) }
        guard n <= readableBytes / max(1, minimumElementSize) else {
            throw JuteDecodeError(field, .countTooLarge(count: n, remaining: readableBytes))
        }
        var out: [T] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try element(&self)) }
        return out
    }

    public mutating func juteWriteInt(_ v: Int32) { writeInteger(v, endianness: .big) }
    public mutating func juteWriteLong(_ v: Int64) { writeInteger(v, endianness: .big) }
    public mutating func juteWriteBool(_ v: Bool) { writeInteger(v ? 1 : 0, as: UInt8.self) }

    public mutating func juteWriteString(_ s: String) {
        let lengthIndex = writerIndex
        writeInteger(Int32(0), endianness: .big)
        let n = writeString(s)
        setInteger(Int32(truncatingIfNeeded: n), at: lengthIndex, endianness: .big)
    }

    public mutating func juteWriteBuffer(_ bytes: [UInt8]) {
        writeInteger(Int32(truncatingIfNeeded: bytes.count), endianness: .big)
        writeBytes(bytes)
    }
}
