// lz4 (codec 3): the LZ4 frame format (lz4frame.h) with the correct header checksum, as
// record batches of magic 1 and later carry it (KIP-57; magic 0 batches had a checksum
// taken over the wrong bytes, and magic 0 is not read here). Written like the Java client
// writes it: independent blocks of at most 64 KiB, no content size, no checksums beyond the
// header's. Reading takes any standard frame (linked blocks, content size, block and content
// checksums, which are verified) and several frames one after another.

import CLZ4
import KafkaProtocol
import NIOCore

enum LZ4Codec {
    /// 0 is lz4's fast mode, 3-12 its high-compression levels; higher counts as 12 (Kafka's
    /// `compression.lz4.level` goes to 17) and negative levels trade ratio for speed.
    static let levels = Int(Int32.min)...Int(Int32.max)

    static func compress(_ input: UnsafeRawBufferPointer, level: Int?, into out: inout ByteBuffer) throws {
        var preferences = LZ4F_preferences_t()
        preferences.frameInfo.blockSizeID = LZ4F_max64KB
        preferences.frameInfo.blockMode = LZ4F_blockIndependent
        preferences.compressionLevel = try checkedLevel(level, of: .lz4, in: levels, default: 0)
        let bound = LZ4F_compressFrameBound(input.count, &preferences)
        try out.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { space in
            let result = LZ4F_compressFrame(space.baseAddress, space.count, input.baseAddress, input.count, &preferences)
            guard LZ4F_isError(result) == 0 else {
                throw KafkaCompressionError(.lz4, .libraryFailure("LZ4F_compressFrame: \(errorName(result))"))
            }
            return result
        }
    }

    static func decompress(_ input: UnsafeRawBufferPointer, into out: inout BoundedOutput) throws {
        var context: OpaquePointer?
        let created = LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(created) == 0, let context else {
            throw KafkaCompressionError(.lz4, .libraryFailure("LZ4F_createDecompressionContext: \(errorName(created))"))
        }
        defer { LZ4F_freeDecompressionContext(context) }

        var offset = 0
        while true {
            var consumed = 0
            var hint = 0
            let produced = try out.write { space in
                var outputSize = space.count
                var inputSize = input.count - offset
                hint = LZ4F_decompress(context, space.baseAddress, &outputSize,
                                       input.baseAddress! + offset, &inputSize, nil)
                guard LZ4F_isError(hint) == 0 else {
                    throw KafkaCompressionError(.lz4, .corrupt(errorName(hint)))
                }
                consumed = inputSize
                return outputSize
            }
            offset += consumed
            if hint == 0 {
                // A frame ended; any bytes after it must be another frame.
                if offset == input.count { return }
            } else if consumed == 0 && produced == 0 {
                // The decoder wants more input than there is.
                throw KafkaCompressionError(.lz4, .truncated)
            }
        }
    }

    private static func errorName(_ code: Int) -> String {
        String(cString: LZ4F_getErrorName(code))
    }
}
