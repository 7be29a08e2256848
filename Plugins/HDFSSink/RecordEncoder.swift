import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// Turns events into the bytes of one file: DataStream (serializer output),
/// CompressedStream (serializer output compressed per batch into one whole
/// codec unit, so a file cut after any flushed batch is readable), or a
/// SequenceFile (see SequenceFileEncoder). The serializer is TEXT,
/// HEADER_AND_TEXT or avro_event (see AvroContainerWriter).
///
/// Bytes collect in `pending` until the bucket writer writes them out. Not
/// thread-safe: one per bucket writer, used by the sink runner thread.
final class RecordEncoder {
    let fileType: FileType
    let serializer: SerializerKind
    let appendNewline: Bool
    let compressor: HadoopCompressor?

    /// Encoded bytes not yet written to the file.
    var pending: [UInt8] = []
    /// CompressedStream: serializer output of the current batch, compressed at `finishBatch`.
    private var raw: [UInt8] = []
    private var sequenceFile: SequenceFileEncoder
    private var avro: AvroContainerWriter?

    init(_ config: HDFSSinkConfig) {
        fileType = config.fileType
        serializer = config.serializer
        appendNewline = config.appendNewline
        compressor = config.codec.map { HadoopCompressor(codec: $0) }
        sequenceFile = SequenceFileEncoder(writeFormat: config.writeFormat, codec: config.codec)
        if config.serializer == .avroEvent && config.fileType != .sequenceFile {
            avro = AvroContainerWriter(codec: config.avroCodec, syncInterval: config.avroSyncInterval)
        }
        pending.reserveCapacity(64 * 1024)
    }

    /// Starts a new file: the SequenceFile or Avro header, fresh sync markers.
    func beginFile() throws {
        pending.removeAll(keepingCapacity: true)
        raw.removeAll(keepingCapacity: true)
        switch fileType {
        case .sequenceFile: sequenceFile.header(into: &pending)
        case .dataStream: avro?.header(into: &pending)
        case .compressedStream: avro?.header(into: &raw)
        }
    }

    /// Appends one event; `filePosition` is where `pending` starts in the file.
    func encode(_ event: Event, timestamp: Int64, filePosition: Int64) throws {
        switch fileType {
        case .dataStream: try serialize(event, into: &pending)
        case .compressedStream: try serialize(event, into: &raw)
        case .sequenceFile:
            sequenceFile.append(key: timestamp, body: event.body, into: &pending,
                                position: filePosition + Int64(pending.count))
        }
    }

    /// Ends a batch on a whole unit: an Avro block, a compressed unit, a
    /// SequenceFile block.
    func finishBatch() throws {
        switch fileType {
        case .sequenceFile: try sequenceFile.finishBatch(into: &pending)
        case .dataStream: try avro?.finishBlock(into: &pending)
        case .compressedStream:
            try avro?.finishBlock(into: &raw)
            guard let compressor = compressor, !raw.isEmpty else { return }
            try compressor.compress(raw, into: &pending)
            raw.removeAll(keepingCapacity: true)
        }
    }

    /// Forgets what was encoded since the last flush (a failed batch).
    func discardBatch() {
        pending.removeAll(keepingCapacity: true)
        raw.removeAll(keepingCapacity: true)
        sequenceFile.discard()
        avro?.discard()
    }

    // MARK: Serializers (TEXT, HEADER_AND_TEXT, avro_event)

    private func serialize(_ event: Event, into out: inout [UInt8]) throws {
        if avro != nil {
            try avro!.append(event, into: &out)
            return
        }
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
}

/// A file's sync marker: 16 bytes from the system's random source.
func randomBytes(_ n: Int) -> [UInt8] {
    (0..<n).map { _ in UInt8.random(in: .min ... .max) }
}
