import SluiceSDK

/// The Hadoop compression codecs this build writes (`hdfs.codeC`), each with
/// the class name a SequenceFile header records and the extension Hadoop's
/// CompressionCodecFactory picks a codec by.
enum Codec: CaseIterable {
    /// GzipCodec: gzip members (RFC 1952).
    case gzip
    /// BZip2Codec: bzip2 streams.
    case bzip2
    /// DefaultCodec: zlib streams (RFC 1950).
    case defaultCodec
    /// DeflateCodec: DefaultCodec under another name (same bytes, same extension).
    case deflate
    /// SnappyCodec: raw snappy in Hadoop's BlockCompressorStream framing.
    case snappy
    /// Lz4Codec: raw LZ4 blocks in Hadoop's BlockCompressorStream framing.
    case lz4
    /// ZStandardCodec: zstd frames.
    case zstandard

    var simpleName: String {
        switch self {
        case .gzip: "GzipCodec"
        case .bzip2: "BZip2Codec"
        case .defaultCodec: "DefaultCodec"
        case .deflate: "DeflateCodec"
        case .snappy: "SnappyCodec"
        case .lz4: "Lz4Codec"
        case .zstandard: "ZStandardCodec"
        }
    }

    var className: String { "org.apache.hadoop.io.compress." + simpleName }

    var fileExtension: String {
        switch self {
        case .gzip: ".gz"
        case .bzip2: ".bz2"
        case .defaultCodec, .deflate: ".deflate"
        case .snappy: ".snappy"
        case .lz4: ".lz4"
        case .zstandard: ".zst"
        }
    }

    /// Hadoop's BlockCompressorStream MAX_INPUT_SIZE for the codec's default
    /// 256 KiB buffer: the most uncompressed bytes one compressed chunk may hold,
    /// so that Hadoop's decompressor buffer takes it.
    var blockChunkLimit: Int {
        let buffer = 256 * 1024
        switch self {
        case .snappy: return buffer - (buffer / 6 + 32)
        case .lz4: return buffer - (buffer / 255 + 16)
        default: return buffer
        }
    }

    /// Parses `hdfs.codeC` the way Flume's HDFSEventSink.getCodec matches a
    /// name: the full class name, the simple class name, or the simple name
    /// without "Codec", case-insensitively (plus "zstd"). nil: "None".
    static func named(_ raw: String) throws -> Codec? {
        let name = raw.trimmingSpaces
        let lower = name.lowercased()
        if lower == "none" { return nil }
        for codec in Codec.allCases {
            let simple = codec.simpleName.lowercased()
            if lower == codec.className.lowercased() || lower == simple || lower == String(simple.dropLast(5)) {
                return codec
            }
        }
        if lower == "zstd" { return .zstandard }
        let supported = "gzip, bzip2, deflate, default, snappy, lz4, zstandard (or their Hadoop class names)"
        if lower.contains("lzo") {
            throw SluiceError.config("property 'hdfs.codeC': '\(name)' (hadoop-lzo) is GPL-licensed and not part of Hadoop, so this build does not write it; supported: \(supported)")
        }
        throw SluiceError.config("property 'hdfs.codeC': unsupported compression codec '\(name)'; supported: \(supported), or None")
    }
}

/// Compresses byte runs into self-contained units of a Hadoop codec: one
/// gzip member, zlib stream, bzip2 stream or zstd frame, or for snappy / lz4
/// one BlockCompressorStream block (int32 uncompressed length, then int32
/// length + compressed bytes per chunk). A stream made of whole units is
/// readable by Hadoop's codec input streams, which continue across units.
/// Not thread-safe.
struct HadoopCompressor {
    let codec: Codec

    func compress(_ input: [UInt8], into out: inout [UInt8]) throws {
        switch codec {
        case .gzip: try Compression.deflate(input, windowBits: 15 + 16, into: &out)
        case .defaultCodec, .deflate: try Compression.deflate(input, windowBits: 15, into: &out)
        case .bzip2: try Compression.bzip2(input, into: &out)
        case .zstandard: try Compression.zstd(input, into: &out)
        case .snappy, .lz4:
            out.appendInt32(Int32(input.count))
            var at = 0
            while at < input.count {
                let end = min(at + codec.blockChunkLimit, input.count)
                var chunk: [UInt8] = []
                if codec == .snappy {
                    try Compression.snappy(input[at..<end], into: &chunk)
                } else {
                    try Compression.lz4Block(input[at..<end], into: &chunk)
                }
                out.appendInt32(Int32(chunk.count))
                out += chunk
                at = end
            }
        }
    }
}
