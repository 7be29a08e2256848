import KafkaProtocol

/// Raised when a codec cannot compress or decompress. Decompression never traps on bad
/// input: corrupt, truncated and oversized data all end up here.
public struct KafkaCompressionError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Problem: Equatable, Sendable {
        /// Decompressing would produce more than `limit` bytes: a decompression bomb, or a
        /// limit set below what the batch holds.
        case outputTooLarge(limit: Int)
        /// The input ends before the compressed stream does.
        case truncated
        /// The input is not data of this codec and framing; the reason in words (often the
        /// C library's own).
        case corrupt(String)
        /// The input is larger than Kafka's int32 sizes allow (and than the C libraries take in one call).
        case inputTooLarge(Int)
        /// The compression level is outside the codec's range.
        case invalidLevel(Int, allowed: ClosedRange<Int>)
        /// The C library failed for a reason other than the input (out of memory, say).
        case libraryFailure(String)
    }

    public var codec: KafkaCompression
    public var problem: Problem

    public init(_ codec: KafkaCompression, _ problem: Problem) {
        self.codec = codec
        self.problem = problem
    }

    public var description: String {
        switch problem {
        case .outputTooLarge(let limit):
            return "\(codec): decompressed data exceeds the limit of \(limit) bytes"
        case .truncated:
            return "\(codec): compressed data is truncated (the input ends inside the stream)"
        case .corrupt(let reason):
            return "\(codec): corrupt compressed data: \(reason)"
        case .inputTooLarge(let size):
            return "\(codec): input of \(size) bytes exceeds the largest Kafka size, \(Int32.max) bytes"
        case .invalidLevel(let level, let allowed):
            return "\(codec): compression level \(level) is outside \(allowed.lowerBound)...\(allowed.upperBound)"
        case .libraryFailure(let reason):
            return "\(codec): \(reason)"
        }
    }
}
