// Errors raised while reading or writing Kafka wire data. Decoding never traps on
// bad input: every length and count is checked first and reported here instead.

/// Raised when bytes received from the network cannot be decoded.
public struct KafkaDecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Problem: Equatable, Sendable {
        /// Fewer bytes remain than the value needs.
        case truncated(needed: Int, available: Int)
        /// A length prefix is negative (and not the -1 that marks null) or exceeds the type's limit.
        case invalidLength(Int)
        /// Null was sent for a field that is not nullable in this version.
        case nullNotAllowed
        /// An array or tagged-field count larger than the bytes that remain could hold.
        case countTooLarge(count: Int, remaining: Int)
        /// A varint ran over its maximum number of bytes.
        case varintTooLong
        /// The version is outside the range this code understands.
        case unsupportedVersion(Int16)
        /// Record batch: magic byte other than 2.
        case unsupportedMagic(Int8)
        /// Record batch: records are compressed with this codec and cannot be iterated here.
        case compressedRecords(codec: Int)
        /// Record batch: stored CRC differs from the one computed over the batch.
        case crcMismatch(stored: UInt32, computed: UInt32)
        /// Anything else, described in words.
        case invalid(String)
    }

    /// Where it happened: `Message.Struct.field` (the first component is the message).
    public var field: String
    public var problem: Problem

    public init(_ field: String, _ problem: Problem) {
        self.field = field
        self.problem = problem
    }

    /// The message (or record type) whose decoding failed.
    public var message: String {
        if let dot = field.firstIndex(of: ".") { return String(field[..<dot]) }
        return field
    }

    public var description: String {
        "cannot decode \(field): \(problem)"
    }
}

/// Raised when a message cannot be written in the requested version.
public struct KafkaEncodeError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Problem: Equatable, Sendable {
        /// The field does not exist in this version, is not ignorable, and holds a non-default value.
        case fieldNotInVersion(Int16)
        /// The field is nil but is not nullable in the version being written.
        case nullNotAllowed
        /// A string, byte array or array is longer than its length prefix can express.
        case tooLong(Int)
        /// The version is outside the message's valid versions.
        case unsupportedVersion(Int16)
    }

    public var field: String
    public var problem: Problem

    public init(_ field: String, _ problem: Problem) {
        self.field = field
        self.problem = problem
    }

    public var description: String {
        "cannot encode \(field): \(problem)"
    }
}
