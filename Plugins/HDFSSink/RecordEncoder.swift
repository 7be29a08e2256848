import CZlib
import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// Turns events into the bytes of one file: DataStream (serializer output),
/// CompressedStream (serializer output, one gzip member per batch, so a file
/// cut after any flushed batch is a whole gzip file), or an uncompressed
/// SequenceFile (Hadoop's format, version 6, with sync markers).
///
/// Bytes collect in `pending` until the bucket writer writes them out. Not
/// thread-safe: one per bucket writer, used by the sink runner thread.
final class RecordEncoder {
    static let seqSyncInterval: Int64 = 2000
    static let longWritable = "org.apache.hadoop.io.LongWritable"
    static let bytesWritable = "org.apache.hadoop.io.BytesWritable"
    static let textClass = "org.apache.hadoop.io.Text"

    let fileType: FileType
    let writeFormat: WriteFormat
    let serializer: SerializerKind
    let appendNewline: Bool

    /// Encoded bytes not yet written to the file.
    var pending: [UInt8] = []
    /// CompressedStream: serializer output of the current batch, compressed at `finishBatch`.
    private var raw: [UInt8] = []
    private var stream = z_stream()
    private var streamReady = false
    /// SequenceFile: this file's sync marker and where the last one was written.
    private var syncMarker: [UInt8] = []
    private var lastSyncPos: Int64 = 0
    private var lastSyncPosAtBatchStart: Int64 = 0

    init(_ config: HDFSSinkConfig) {
        fileType = config.fileType
        writeFormat = config.writeFormat
        serializer = config.serializer
        appendNewline = config.appendNewline
        pending.reserveCapacity(64 * 1024)
    }

    deinit {
        if streamReady { deflateEnd(&stream) }
    }

    /// Starts a new file: the SequenceFile header, a fresh sync marker.
    func beginFile() throws {
        pending.removeAll(keepingCapacity: true)
        raw.removeAll(keepingCapacity: true)
        guard fileType == .sequenceFile else { return }
        syncMarker = randomBytes(16)
        pending += [0x53, 0x45, 0x51, 6] // "SEQ", version 6
        appendText(Array(RecordEncoder.longWritable.utf8))
        appendText(Array((writeFormat == .writable ? RecordEncoder.bytesWritable : RecordEncoder.textClass).utf8))
        pending.append(0) // compressed
        pending.append(0) // block compressed
        appendInt32(0)    // metadata entries
        pending += syncMarker
        lastSyncPos = 0
        lastSyncPosAtBatchStart = 0
    }

    /// Appends one event; `filePosition` is where `pending` starts in the file.
    func encode(_ event: Event, timestamp: Int64, filePosition: Int64) {
        switch fileType {
        case .dataStream: serialize(event, into: &pending)
        case .compressedStream: serialize(event, into: &raw)
        case .sequenceFile:
            let position = filePosition + Int64(pending.count)
            if position >= lastSyncPos + RecordEncoder.seqSyncInterval {
                appendInt32(-1)
                pending += syncMarker
                lastSyncPos = position
            }
            let body = event.body
            let valueLength: Int
            switch writeFormat {
            case .writable: valueLength = 4 + body.count
            case .text: valueLength = vintSize(Int64(body.count)) + body.count
            }
            appendInt32(Int32(truncatingIfNeeded: 8 + valueLength))
            appendInt32(8)
            appendInt64(timestamp)
            switch writeFormat {
            case .writable: appendInt32(Int32(truncatingIfNeeded: body.count))
            case .text: appendVInt(Int64(body.count))
            }
            pending.append(contentsOf: body)
        }
    }

    /// Ends a batch: CompressedStream compresses it into one gzip member.
    func finishBatch() throws {
        lastSyncPosAtBatchStart = lastSyncPos
        guard fileType == .compressedStream, !raw.isEmpty else { return }
        if !streamReady {
            guard sluice_deflate_init_gzip(&stream, Z_DEFAULT_COMPRESSION) == Z_OK else {
                throw SluiceError.io("zlib: cannot initialise gzip compression")
            }
            streamReady = true
        } else {
            deflateReset(&stream)
        }
        let start = pending.count
        let bound = Int(deflateBound(&stream, uLong(raw.count))) + 32
        pending.reserveCapacity(start + bound)
        pending.append(contentsOf: repeatElement(0, count: bound))
        let produced: Int = raw.withUnsafeMutableBufferPointer { input in
            pending.withUnsafeMutableBufferPointer { output in
                stream.next_in = input.baseAddress
                stream.avail_in = uInt(input.count)
                stream.next_out = output.baseAddress! + start
                stream.avail_out = uInt(bound)
                let rc = deflate(&stream, Z_FINISH)
                return rc == Z_STREAM_END ? bound - Int(stream.avail_out) : -1
            }
        }
        guard produced >= 0 else {
            pending.removeSubrange(start...)
            throw SluiceError.io("zlib: gzip compression failed")
        }
        pending.removeSubrange((start + produced)...)
        raw.removeAll(keepingCapacity: true)
    }

    /// Forgets what was encoded since the last flush (a failed batch).
    func discardBatch(keepHeader header: [UInt8]?) {
        pending.removeAll(keepingCapacity: true)
        if let h = header { pending += h }
        raw.removeAll(keepingCapacity: true)
        lastSyncPos = lastSyncPosAtBatchStart
    }

    // MARK: Serializers (TEXT, HEADER_AND_TEXT)

    private func serialize(_ event: Event, into out: inout [UInt8]) {
        if serializer == .headerAndText {
            out.append(0x7b) // {
            for h in 0..<event.headerCount {
                if h > 0 { out += [0x2c, 0x20] }
                let (k, v) = event.header(at: h)
                out.append(contentsOf: k)
                out.append(0x3d)
                out.append(contentsOf: v)
            }
            out += [0x7d, 0x20] // "} "
        }
        out.append(contentsOf: event.body)
        if appendNewline { out.append(0x0a) }
    }

    // MARK: Hadoop primitives

    private func appendInt32(_ v: Int32) {
        let u = UInt32(bitPattern: v)
        pending += [UInt8(u >> 24), UInt8(u >> 16 & 0xff), UInt8(u >> 8 & 0xff), UInt8(u & 0xff)]
    }

    private func appendInt64(_ v: Int64) {
        appendInt32(Int32(truncatingIfNeeded: v >> 32))
        appendInt32(Int32(truncatingIfNeeded: v))
    }

    /// Hadoop `Text` serialization: vint length, UTF-8 bytes.
    private func appendText(_ bytes: [UInt8]) {
        appendVInt(Int64(bytes.count))
        pending += bytes
    }

    /// Hadoop `WritableUtils.writeVLong`.
    private func appendVInt(_ value: Int64) {
        if value >= -112 && value <= 127 {
            pending.append(UInt8(bitPattern: Int8(value)))
            return
        }
        var v = value
        var len: Int = -112
        if v < 0 {
            v = ~v
            len = -120
        }
        var tmp = v
        while tmp != 0 {
            tmp >>= 8
            len -= 1
        }
        pending.append(UInt8(bitPattern: Int8(len)))
        let n = len < -120 ? -(len + 120) : -(len + 112)
        for idx in stride(from: n, to: 0, by: -1) {
            pending.append(UInt8((v >> Int64((idx - 1) * 8)) & 0xff))
        }
    }
}

/// Bytes `WritableUtils.writeVLong` uses for `value`.
func vintSize(_ value: Int64) -> Int {
    if value >= -112 && value <= 127 { return 1 }
    var v = value < 0 ? ~value : value
    var n = 1
    while v != 0 {
        v >>= 8
        n += 1
    }
    return n
}

func randomBytes(_ n: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: n)
    let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
    if fd >= 0 {
        _ = out.withUnsafeMutableBytes { read(fd, $0.baseAddress, n) }
        close(fd)
    }
    // Distinct per file even without /dev/urandom: mix in the clock.
    var t = UInt64(bitPattern: epochMillis()) &* 0x9E37_79B9_7F4A_7C15 ^ monotonicNanos()
    for i in 0..<n {
        out[i] ^= UInt8(t & 0xff)
        t = t >> 8 | t << 56
    }
    return out
}
