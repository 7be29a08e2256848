// snappy (codec 2): the Java client writes snappy-java's ("xerial") stream framing, so that
// is what this writes:
//
//   header  0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00, int32 version 1, int32 compatible version 1
//   blocks  int32 length, then a raw snappy block of that many bytes (each block compresses
//           at most 32 KiB, snappy-java's default)
//
// All integers are big-endian. Reading also takes a single raw snappy block without the
// framing (what some non-Java clients send; librdkafka reads both), and xerial streams
// concatenated one after another (snappy-java reads those too).

import CSnappy
import KafkaProtocol
import NIOCore

enum SnappyCodec {
    static let xerialMagic: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00]
    static let xerialHeaderSize = 16
    static let xerialVersion: Int32 = 1
    static let xerialCompatibleVersion: Int32 = 1
    /// Uncompressed bytes per block.
    static let blockSize = 32 << 10

    static func compress(_ input: UnsafeRawBufferPointer, into out: inout ByteBuffer) throws {
        let blocks = (input.count + blockSize - 1) / blockSize
        out.reserveCapacity(minimumWritableBytes: xerialHeaderSize + blocks * (4 + snappy_max_compressed_length(blockSize)))
        out.writeBytes(xerialMagic)
        out.writeInteger(xerialVersion, endianness: .big)
        out.writeInteger(xerialCompatibleVersion, endianness: .big)
        var offset = 0
        while offset < input.count {
            let chunk = UnsafeRawBufferPointer(rebasing: input[offset..<min(offset + blockSize, input.count)])
            let lengthIndex = out.writerIndex
            out.writeInteger(Int32(0))  // the block's length, set below
            let length = try out.writeWithUnsafeMutableBytes(
                minimumWritableBytes: snappy_max_compressed_length(chunk.count)
            ) { space in
                var length = space.count
                let status = snappy_compress(chunk.baseAddress!.assumingMemoryBound(to: CChar.self), chunk.count,
                                             space.baseAddress!.assumingMemoryBound(to: CChar.self), &length)
                guard status == SNAPPY_OK else {
                    throw KafkaCompressionError(.snappy, .libraryFailure("snappy_compress returned \(status.rawValue)"))
                }
                return length
            }
            out.setInteger(Int32(length), at: lengthIndex, endianness: .big)
            offset += chunk.count
        }
    }

    static func decompress(_ input: UnsafeRawBufferPointer, into out: inout BoundedOutput) throws {
        guard startsWithXerialHeader(input, at: 0) else {
            try decompressBlock(input, into: &out)
            return
        }
        // The header's versions are not checked: every xerial version has had this layout,
        // and some producers are known to write them little-endian.
        var offset = xerialHeaderSize
        while offset < input.count {
            guard input.count - offset >= 4 else {
                throw KafkaCompressionError(.snappy, .truncated)
            }
            if startsWithXerialHeader(input, at: offset) {
                offset += xerialHeaderSize  // the next of several concatenated streams
                continue
            }
            let length = Int(readInt32(input, at: offset))
            offset += 4
            guard length >= 0 else {
                throw KafkaCompressionError(.snappy, .corrupt("negative xerial block length \(length)"))
            }
            guard length <= input.count - offset else {
                throw KafkaCompressionError(.snappy, .truncated)
            }
            try decompressBlock(UnsafeRawBufferPointer(rebasing: input[offset..<(offset + length)]), into: &out)
            offset += length
        }
    }

    /// Decompresses one raw snappy block, whose varint prefix says how large it will be.
    private static func decompressBlock(_ block: UnsafeRawBufferPointer, into out: inout BoundedOutput) throws {
        let source = block.baseAddress!.assumingMemoryBound(to: CChar.self)
        var size = 0
        guard snappy_uncompressed_length(source, block.count, &size) == SNAPPY_OK else {
            throw KafkaCompressionError(.snappy, .corrupt(
                block.isEmpty ? "empty snappy block" : "snappy block does not start with a valid length"))
        }
        try out.checkRoom(for: size)
        try out.write(minimum: max(size, 1)) { space in
            var length = space.count
            let status = snappy_uncompress(source, block.count, space.baseAddress!.assumingMemoryBound(to: CChar.self), &length)
            guard status == SNAPPY_OK, length == size else {
                throw KafkaCompressionError(.snappy, .corrupt("snappy block of \(block.count) bytes does not decode"))
            }
            return length
        }
    }

    private static func startsWithXerialHeader(_ input: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        input.count - offset >= xerialHeaderSize && input[offset..<(offset + xerialMagic.count)].elementsEqual(xerialMagic)
    }

    private static func readInt32(_ input: UnsafeRawBufferPointer, at offset: Int) -> Int32 {
        input[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int32($1) }
    }
}
