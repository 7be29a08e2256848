import CBZip2
import CLZ4Block
import CSnappy
import CZlib
import CZstd
import SluiceSDK

/// One-shot compression over Debian's C libraries, and the checks recovery
/// uses to find where a whole compressed unit ends. Stateless; any thread.
enum Compression {
    // MARK: Compress

    /// zlib's deflate: windowBits 15 = zlib stream, 31 = gzip member, -15 = raw deflate.
    static func deflate(_ input: [UInt8], windowBits: Int32, into out: inout [UInt8]) throws {
        var stream = z_stream()
        guard deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY,
                            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw SluiceError.io("zlib: cannot initialise compression")
        }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count))) + 32
        let produced = appendRaw(into: &out, capacity: bound) { dst in
            input.withUnsafeBufferPointer { src in
                stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress)
                stream.avail_in = uInt(src.count)
                stream.next_out = dst
                stream.avail_out = uInt(bound)
                return CZlib.deflate(&stream, Z_FINISH) == Z_STREAM_END ? bound - Int(stream.avail_out) : -1
            }
        }
        guard produced >= 0 else { throw SluiceError.io("zlib: compression failed") }
    }

    static func bzip2(_ input: [UInt8], into out: inout [UInt8]) throws {
        let bound = input.count + input.count / 100 + 600
        let produced = appendRaw(into: &out, capacity: bound) { dst in
            var length = UInt32(bound)
            let rc = input.withUnsafeBufferPointer { src in
                dst.withMemoryRebound(to: CChar.self, capacity: bound) { d in
                    BZ2_bzBuffToBuffCompress(d, &length, UnsafeMutableRawPointer(mutating: src.baseAddress)?
                        .assumingMemoryBound(to: CChar.self), UInt32(src.count), 9, 0, 0)
                }
            }
            return rc == BZ_OK ? Int(length) : -1
        }
        guard produced >= 0 else { throw SluiceError.io("bzip2: compression failed") }
    }

    static func zstd(_ input: [UInt8], into out: inout [UInt8]) throws {
        let bound = ZSTD_compressBound(input.count)
        let produced = appendRaw(into: &out, capacity: bound) { dst in
            let n = input.withUnsafeBytes { src in ZSTD_compress(dst, bound, src.baseAddress, src.count, 3) }
            return ZSTD_isError(n) != 0 ? -1 : n
        }
        guard produced >= 0 else { throw SluiceError.io("zstd: compression failed") }
    }

    static func snappy(_ input: ArraySlice<UInt8>, into out: inout [UInt8]) throws {
        let bound = snappy_max_compressed_length(input.count)
        let produced = appendRaw(into: &out, capacity: bound) { dst in
            var length = bound
            let rc = input.withUnsafeBytes { src in
                snappy_compress(src.baseAddress?.assumingMemoryBound(to: CChar.self), src.count,
                                UnsafeMutableRawPointer(dst).assumingMemoryBound(to: CChar.self), &length)
            }
            return rc == SNAPPY_OK ? length : -1
        }
        guard produced >= 0 else { throw SluiceError.io("snappy: compression failed") }
    }

    static func lz4Block(_ input: ArraySlice<UInt8>, into out: inout [UInt8]) throws {
        let bound = Int(LZ4_compressBound(Int32(input.count)))
        let produced = appendRaw(into: &out, capacity: bound) { dst in
            let n = input.withUnsafeBytes { src in
                LZ4_compress_default(src.baseAddress?.assumingMemoryBound(to: CChar.self),
                                     UnsafeMutableRawPointer(dst).assumingMemoryBound(to: CChar.self),
                                     Int32(src.count), Int32(bound))
            }
            return n > 0 || input.isEmpty ? Int(n) : -1
        }
        guard produced >= 0 else { throw SluiceError.io("lz4: compression failed") }
    }

    /// zlib's CRC-32 (the checksum Avro's snappy codec appends).
    static func crc32(_ b: [UInt8]) -> UInt32 {
        b.withUnsafeBufferPointer { UInt32(CZlib.crc32(0, $0.baseAddress, uInt($0.count))) }
    }

    /// Grows `out` by `capacity`, lets `body` fill it, keeps what it produced
    /// (its result; negative: failure, nothing kept).
    private static func appendRaw(into out: inout [UInt8], capacity: Int,
                                  _ body: (UnsafeMutablePointer<UInt8>) -> Int) -> Int {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: capacity))
        let produced = out.withUnsafeMutableBufferPointer { body($0.baseAddress! + start) }
        out.removeSubrange((start + max(produced, 0))...)
        return produced
    }

    // MARK: Whole units (recovery)

    /// The length of the whole unit of `codec` at `at`, or nil when the bytes
    /// there are not a whole, valid unit (torn or garbage).
    static func unitLength(_ b: [UInt8], at: Int, codec: Codec) -> Int? {
        guard at < b.count else { return nil }
        switch codec {
        case .gzip: return inflateLength(b, at: at, windowBits: 15 + 16)
        case .defaultCodec, .deflate: return inflateLength(b, at: at, windowBits: 15)
        case .bzip2: return bzip2Length(b, at: at)
        case .zstandard: return zstdLength(b, at: at)
        case .snappy, .lz4: return hadoopBlockLength(b, at: at, codec: codec)
        }
    }

    static func inflateLength(_ b: [UInt8], at: Int, windowBits: Int32) -> Int? {
        var stream = z_stream()
        guard inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var scratch = [UInt8](repeating: 0, count: 64 * 1024)
        var ended = false
        b.withUnsafeBufferPointer { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + at)
            stream.avail_in = uInt(input.count - at)
            scratch.withUnsafeMutableBufferPointer { out in
                while true {
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    let rc = CZlib.inflate(&stream, Z_NO_FLUSH)
                    if rc == Z_STREAM_END { ended = true; return }
                    if rc != Z_OK || (stream.avail_in == 0 && stream.avail_out > 0) { return }
                }
            }
        }
        return ended ? b.count - at - Int(stream.avail_in) : nil
    }

    static func bzip2Length(_ b: [UInt8], at: Int) -> Int? {
        var stream = bz_stream()
        guard BZ2_bzDecompressInit(&stream, 0, 0) == BZ_OK else { return nil }
        defer { BZ2_bzDecompressEnd(&stream) }
        var scratch = [CChar](repeating: 0, count: 64 * 1024)
        var ended = false
        b.withUnsafeBytes { input in
            stream.next_in = UnsafeMutableRawPointer(mutating: input.baseAddress! + at).assumingMemoryBound(to: CChar.self)
            stream.avail_in = UInt32(input.count - at)
            scratch.withUnsafeMutableBufferPointer { out in
                while true {
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    let rc = BZ2_bzDecompress(&stream)
                    if rc == BZ_STREAM_END { ended = true; return }
                    if rc != BZ_OK || (stream.avail_in == 0 && stream.avail_out > 0) { return }
                }
            }
        }
        return ended ? b.count - at - Int(stream.avail_in) : nil
    }

    static func zstdLength(_ b: [UInt8], at: Int) -> Int? {
        b.withUnsafeBytes { all -> Int? in
            let src = all.baseAddress! + at, available = all.count - at
            let n = ZSTD_findFrameCompressedSize(src, available)
            guard ZSTD_isError(n) == 0, n <= available else { return nil }
            let size = ZSTD_getFrameContentSize(src, n)
            // ZSTD_CONTENTSIZE_UNKNOWN / _ERROR are the two largest values.
            guard size < UInt64.max - 1 else { return size == UInt64.max ? n : nil }
            guard size < 1 << 31 else { return nil }
            var out = [UInt8](repeating: 0, count: max(Int(size), 1))
            let got = out.withUnsafeMutableBytes { ZSTD_decompress($0.baseAddress, Int(size), src, n) }
            return ZSTD_isError(got) == 0 && got == Int(size) ? n : nil
        }
    }

    /// One BlockCompressorStream block: int32 uncompressed size, then chunks
    /// (int32 compressed size + bytes) until that many bytes came out.
    static func hadoopBlockLength(_ b: [UInt8], at start: Int, codec: Codec) -> Int? {
        guard let raw = b.int32(at: start), raw >= 0 else { return nil }
        var at = start + 4, done = 0
        while done < raw {
            guard let n = b.int32(at: at), n > 0, at + 4 + n <= b.count else { return nil }
            let chunk = b[(at + 4)..<(at + 4 + n)]
            guard let got = codec == .snappy ? snappyLength(chunk, limit: raw - done)
                                             : lz4Length(chunk, limit: raw - done), got > 0 else { return nil }
            done += got
            at += 4 + n
        }
        return done == raw ? at - start : nil
    }

    /// Decompresses raw snappy; the uncompressed size, or nil.
    static func snappyLength(_ chunk: ArraySlice<UInt8>, limit: Int) -> Int? {
        chunk.withUnsafeBytes { src -> Int? in
            let p = src.baseAddress?.assumingMemoryBound(to: CChar.self)
            var size = 0
            guard snappy_uncompressed_length(p, src.count, &size) == SNAPPY_OK, size <= limit else { return nil }
            var out = [CChar](repeating: 0, count: max(size, 1))
            var outSize = size
            guard snappy_uncompress(p, src.count, &out, &outSize) == SNAPPY_OK else { return nil }
            return outSize
        }
    }

    static func lz4Length(_ chunk: ArraySlice<UInt8>, limit: Int) -> Int? {
        var out = [CChar](repeating: 0, count: max(limit, 1))
        let n = chunk.withUnsafeBytes { src in
            LZ4_decompress_safe(src.baseAddress?.assumingMemoryBound(to: CChar.self), &out, Int32(src.count), Int32(limit))
        }
        return n >= 0 ? Int(n) : nil
    }
}
