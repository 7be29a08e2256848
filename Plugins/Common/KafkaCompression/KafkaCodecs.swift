// Kafka's record-batch codecs. In a v2 batch everything after the 61-byte header (the
// encoded records) is compressed as one unit; the attributes' low three bits name the codec.
// The byte framings are the ones the Java client writes (see each codec's file), so Java,
// librdkafka and kafka-python consumers read what this writes, and this reads what they write.
//
// Every function here is safe to call from any thread at once: each call makes its own
// codec context. Decompression never traps on bad input and never produces more than
// `maxOutput` bytes: it throws `KafkaCompressionError` instead.

import KafkaProtocol
import NIOCore

public enum KafkaCodecs {
    /// A `maxOutput` for the records of one batch: 128 MiB, far above what a broker's
    /// default `message.max.bytes` (1 MiB) holds even at 100:1, and an allocation a
    /// consumer can survive.
    public static let defaultMaxDecompressedSize = 128 << 20

    /// The compression levels `codec` accepts (nil picks the codec's default): gzip -1...9
    /// (-1 = zlib's default, 6); lz4 any (0 = fast mode, 3-12 high compression, more counts
    /// as 12, negative = faster); zstd ZSTD_minCLevel()...ZSTD_maxCLevel() (default 3).
    /// snappy and none have no levels and ignore the argument.
    public static func levels(_ codec: KafkaCompression) -> ClosedRange<Int>? {
        switch codec {
        case .none, .snappy: return nil
        case .gzip: return GzipCodec.levels
        case .lz4: return LZ4Codec.levels
        case .zstd: return ZstdCodec.levels
        }
    }

    // MARK: Compression

    /// Appends `input` compressed with `codec` to `output` (`.none` appends it as it is).
    /// Throws `invalidLevel` for a level outside `levels(codec)`, `inputTooLarge` past
    /// `Int32.max` bytes.
    public static func compress(
        _ codec: KafkaCompression, _ input: UnsafeRawBufferPointer, level: Int? = nil, into output: inout ByteBuffer
    ) throws {
        try checkInputSize(input, codec)
        try withNonNilBase(input) { input in
            switch codec {
            case .none: output.writeBytes(input)
            case .gzip: try GzipCodec.compress(input, level: level, into: &output)
            case .snappy: try SnappyCodec.compress(input, into: &output)
            case .lz4: try LZ4Codec.compress(input, level: level, into: &output)
            case .zstd: try ZstdCodec.compress(input, level: level, into: &output)
            }
        }
    }

    public static func compress(_ codec: KafkaCompression, _ input: UnsafeRawBufferPointer, level: Int? = nil) throws -> [UInt8] {
        var output = ByteBuffer()
        try compress(codec, input, level: level, into: &output)
        return Array(output.readableBytesView)
    }

    public static func compress(_ codec: KafkaCompression, _ input: [UInt8], level: Int? = nil) throws -> [UInt8] {
        try input.withUnsafeBytes { try compress(codec, $0, level: level) }
    }

    /// `input`'s readable bytes, compressed.
    public static func compress(_ codec: KafkaCompression, _ input: ByteBuffer, level: Int? = nil) throws -> ByteBuffer {
        var output = ByteBuffer()
        try input.withUnsafeReadableBytes { try compress(codec, $0, level: level, into: &output) }
        return output
    }

    // MARK: Decompression

    /// Appends `input` decompressed with `codec` to `output`. Throws `outputTooLarge` as soon
    /// as more than `maxOutput` bytes would come out (limits above `Int32.max` count as
    /// `Int32.max`), `truncated` or `corrupt` for bad input; after a throw, `output` may hold
    /// part of the data. `.none` copies `input` under the same limit.
    public static func decompress(
        _ codec: KafkaCompression, _ input: UnsafeRawBufferPointer, maxOutput: Int, into output: inout ByteBuffer
    ) throws {
        try checkInputSize(input, codec)
        var bounded = BoundedOutput(appendingTo: output, codec: codec, limit: maxOutput)
        output = ByteBuffer()  // so `bounded` owns the storage and appends without copying it
        defer { output = bounded.buffer }
        try withNonNilBase(input) { input in
            switch codec {
            case .none:
                try bounded.checkRoom(for: input.count)
                try bounded.write(minimum: input.count) { space in
                    space.copyMemory(from: input)
                    return input.count
                }
            case .gzip: try GzipCodec.decompress(input, into: &bounded)
            case .snappy: try SnappyCodec.decompress(input, into: &bounded)
            case .lz4: try LZ4Codec.decompress(input, into: &bounded)
            case .zstd: try ZstdCodec.decompress(input, into: &bounded)
            }
        }
    }

    public static func decompress(_ codec: KafkaCompression, _ input: UnsafeRawBufferPointer, maxOutput: Int) throws -> [UInt8] {
        var output = ByteBuffer()
        try decompress(codec, input, maxOutput: maxOutput, into: &output)
        return Array(output.readableBytesView)
    }

    public static func decompress(_ codec: KafkaCompression, _ input: [UInt8], maxOutput: Int) throws -> [UInt8] {
        try input.withUnsafeBytes { try decompress(codec, $0, maxOutput: maxOutput) }
    }

    /// `input`'s readable bytes, decompressed.
    public static func decompress(_ codec: KafkaCompression, _ input: ByteBuffer, maxOutput: Int) throws -> ByteBuffer {
        var output = ByteBuffer()
        try input.withUnsafeReadableBytes { try decompress(codec, $0, maxOutput: maxOutput, into: &output) }
        return output
    }
}

/// `level` as the C library takes it, or `defaultLevel` for nil; throws `invalidLevel`
/// outside `allowed`.
func checkedLevel(_ level: Int?, of codec: KafkaCompression, in allowed: ClosedRange<Int>, default defaultLevel: Int) throws -> Int32 {
    guard let level else { return Int32(defaultLevel) }
    guard allowed.contains(level) else { throw KafkaCompressionError(codec, .invalidLevel(level, allowed: allowed)) }
    return Int32(level)
}
