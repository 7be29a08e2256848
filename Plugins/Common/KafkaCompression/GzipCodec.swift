// gzip (codec 1): a gzip stream (RFC 1952) as Java's GZIPOutputStream writes it, through
// zlib with windowBits 15 + 16. Reading accepts several concatenated members, as Java's
// GZIPInputStream and librdkafka do.

import CZlib
import KafkaProtocol
import NIOCore

enum GzipCodec {
    /// -1 is zlib's default (6), as in Kafka's `compression.gzip.level`.
    static let levels = -1...9

    static func compress(_ input: UnsafeRawBufferPointer, level: Int?, into out: inout ByteBuffer) throws {
        let level = try checkedLevel(level, of: .gzip, in: levels, default: Int(Z_DEFAULT_COMPRESSION))
        let stream = try ZStream.deflating(level: level)
        defer { stream.end() }
        let z = stream.pointer
        z.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self))
        z.pointee.avail_in = uInt(input.count)
        // With room for deflateBound, one deflate(Z_FINISH) finishes the stream.
        out.reserveCapacity(minimumWritableBytes: Int(deflateBound(z, uLong(input.count))))
        while true {
            var status = Z_OK
            let produced = out.writeWithUnsafeMutableBytes(minimumWritableBytes: 1) { space in
                let offered = min(space.count, Int(UInt32.max))
                z.pointee.next_out = space.baseAddress!.assumingMemoryBound(to: Bytef.self)
                z.pointee.avail_out = uInt(offered)
                status = deflate(z, Z_FINISH)
                return offered - Int(z.pointee.avail_out)
            }
            switch status {
            case Z_STREAM_END: return
            case Z_OK where produced > 0, Z_BUF_ERROR where produced > 0: continue  // wants more output space
            default: throw stream.failure("deflate", status)
            }
        }
    }

    static func decompress(_ input: UnsafeRawBufferPointer, into out: inout BoundedOutput) throws {
        let stream = try ZStream.inflating()
        defer { stream.end() }
        let z = stream.pointer
        z.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self))
        z.pointee.avail_in = uInt(input.count)
        var members = 0
        while true {
            var status = Z_OK
            try out.write { space in
                let offered = min(space.count, Int(UInt32.max))
                z.pointee.next_out = space.baseAddress!.assumingMemoryBound(to: Bytef.self)
                z.pointee.avail_out = uInt(offered)
                status = inflate(z, Z_NO_FLUSH)
                return offered - Int(z.pointee.avail_out)
            }
            switch status {
            case Z_OK:
                continue
            case Z_STREAM_END:
                members += 1
                if z.pointee.avail_in == 0 { return }
                // More bytes: they must be another member.
                let reset = inflateReset(z)
                guard reset == Z_OK else { throw stream.failure("inflateReset", reset) }
            case Z_BUF_ERROR:
                // No progress with output space on offer: the input ended inside the stream.
                throw KafkaCompressionError(.gzip, .truncated)
            case Z_DATA_ERROR, Z_NEED_DICT:
                let reason = stream.message ?? "inflate returned \(status)"
                throw KafkaCompressionError(.gzip, .corrupt(
                    members == 0 ? reason : "bytes after gzip member \(members) are not another member: \(reason)"))
            default:
                throw stream.failure("inflate", status)
            }
        }
    }
}

/// A z_stream on the heap: zlib keeps a pointer back to the stream and refuses calls made
/// through a copy, so it must not move as a Swift value might. `end()` frees it.
private struct ZStream {
    let pointer: UnsafeMutablePointer<z_stream>
    private let isDeflate: Bool

    private init(isDeflate: Bool, _ initialize: (UnsafeMutablePointer<z_stream>) -> Int32) throws {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: z_stream())
        self.isDeflate = isDeflate
        let status = initialize(pointer)
        guard status == Z_OK else {
            pointer.deinitialize(count: 1)
            pointer.deallocate()
            throw KafkaCompressionError(.gzip, .libraryFailure(
                "\(isDeflate ? "deflateInit2" : "inflateInit2") returned \(status)"))
        }
    }

    static func deflating(level: Int32) throws -> ZStream {
        try ZStream(isDeflate: true) { sluice_deflate_init_gzip($0, level) }
    }

    static func inflating() throws -> ZStream {
        try ZStream(isDeflate: false) { sluice_inflate_init_gzip($0) }
    }

    /// zlib's message for the last error, if it set one.
    var message: String? { pointer.pointee.msg.map { String(cString: $0) } }

    func failure(_ function: String, _ status: Int32) -> KafkaCompressionError {
        let reason = status == Z_MEM_ERROR ? "out of memory" : "returned \(status)\(message.map { ": \($0)" } ?? "")"
        return KafkaCompressionError(.gzip, .libraryFailure("\(function) \(reason)"))
    }

    /// Frees zlib's state and the stream.
    func end() {
        if isDeflate { deflateEnd(pointer) } else { inflateEnd(pointer) }
        pointer.deinitialize(count: 1)
        pointer.deallocate()
    }
}
