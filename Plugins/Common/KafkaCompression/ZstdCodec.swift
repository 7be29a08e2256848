// zstd (codec 4): a standard zstd frame. Writing records the content size (ZSTD_compress
// does); reading streams, since frames from streaming encoders (the Java client's) do not
// record it, and takes several frames (and skippable frames) one after another.

import CZstd
import KafkaProtocol
import NIOCore

enum ZstdCodec {
    static var levels: ClosedRange<Int> { Int(ZSTD_minCLevel())...Int(ZSTD_maxCLevel()) }

    static func compress(_ input: UnsafeRawBufferPointer, level: Int?, into out: inout ByteBuffer) throws {
        let level = try checkedLevel(level, of: .zstd, in: levels, default: Int(ZSTD_CLEVEL_DEFAULT))
        let bound = ZSTD_compressBound(input.count)
        guard ZSTD_isError(bound) == 0 else {
            throw KafkaCompressionError(.zstd, .libraryFailure("ZSTD_compressBound: \(errorName(bound))"))
        }
        try out.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { space in
            let result = ZSTD_compress(space.baseAddress, space.count, input.baseAddress, input.count, level)
            guard ZSTD_isError(result) == 0 else {
                throw KafkaCompressionError(.zstd, .libraryFailure("ZSTD_compress: \(errorName(result))"))
            }
            return result
        }
    }

    static func decompress(_ input: UnsafeRawBufferPointer, into out: inout BoundedOutput) throws {
        guard let context = ZSTD_createDCtx() else {
            throw KafkaCompressionError(.zstd, .libraryFailure("ZSTD_createDCtx: out of memory"))
        }
        defer { ZSTD_freeDCtx(context) }

        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            var hint = 0
            var spaceFilled = false
            try out.write { space in
                var sink = ZSTD_outBuffer(dst: space.baseAddress, size: space.count, pos: 0)
                hint = ZSTD_decompressStream(context, &sink, &source)
                guard ZSTD_isError(hint) == 0 else {
                    throw KafkaCompressionError(.zstd, .corrupt(errorName(hint)))
                }
                spaceFilled = sink.pos == sink.size
                return sink.pos
            }
            if hint == 0 {
                // A frame ended and is flushed; any bytes after it must be another frame.
                if source.pos == source.size { return }
            } else if source.pos == source.size && !spaceFilled {
                // All input read, output space left over, and the frame is not done.
                throw KafkaCompressionError(.zstd, .truncated)
            }
        }
    }

    private static func errorName(_ code: Int) -> String {
        String(cString: ZSTD_getErrorName(code))
    }
}
