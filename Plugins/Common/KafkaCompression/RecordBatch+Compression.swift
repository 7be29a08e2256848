// Compressed v2 batches: the builder and the records walker of KafkaProtocol's
// RecordBatch.swift, with the records section passed through a codec. The batch header
// stays uncompressed; the CRC-32C covers attributes..end over the compressed bytes.

import KafkaProtocol
import NIOCore

extension RecordBatchBuilder {
    /// The finished batch with its records compressed by `compression` (`.none` builds
    /// the uncompressed batch) and the codec in its attributes. Throws `invalidLevel` for
    /// a level outside `KafkaCodecs.levels(compression)`.
    public func build(compression: KafkaCompression, level: Int? = nil) throws -> ByteBuffer {
        var out = ByteBuffer()
        try build(into: &out, compression: compression, level: level)
        return out
    }

    /// Appends the finished, compressed batch to `buffer`.
    public func build(into buffer: inout ByteBuffer, compression: KafkaCompression, level: Int? = nil) throws {
        guard compression != .none else {
            build(into: &buffer)
            return
        }
        try build(into: &buffer, compression: compression, compressingRecords: { records in
            try KafkaCodecs.compress(compression, records, level: level)
        })
    }
}

extension RecordBatch {
    /// The records of the batch, compressed or not. A compressed records section is
    /// decompressed into a buffer of its own (the records' keys and values are slices of
    /// it) and may not decompress to more than `maxDecompressedSize` bytes
    /// (`KafkaCodecs.defaultMaxDecompressedSize` is a reasonable limit). Throws
    /// `KafkaCompressionError` when the section does not decompress, `KafkaDecodeError` when
    /// the records in it are malformed or the codec number is one Kafka does not define.
    /// The CRC is not checked here; call `verifyCRC()` first.
    public func records(maxDecompressedSize: Int) throws -> [Record] {
        try records(decompressing: Self.decompressor(maxDecompressedSize))
    }

    /// Walks the records of the batch, compressed or not; see `records(maxDecompressedSize:)`.
    public func makeRecordIterator(maxDecompressedSize: Int) throws -> RecordIterator {
        try makeRecordIterator(decompressing: Self.decompressor(maxDecompressedSize))
    }

    private static func decompressor(_ limit: Int) -> (KafkaCompression, ByteBuffer) throws -> ByteBuffer {
        { codec, section in try KafkaCodecs.decompress(codec, section, maxOutput: limit) }
    }
}
