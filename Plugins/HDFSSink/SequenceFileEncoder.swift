import SluiceSDK

/// Hadoop's SequenceFile (version 6) as Flume writes it: key LongWritable,
/// value BytesWritable or Text. Without a codec, records go out one by one
/// with a sync marker every 2000 bytes; with a codec the file is
/// BLOCK-compressed, as Flume sets it whenever `hdfs.codeC` is given: each
/// batch becomes one block — sync escape and marker, vlong record count,
/// then the key lengths, keys, value lengths and values buffers, each a
/// vlong size plus its codec-compressed bytes (lengths as vlongs).
/// Not thread-safe.
struct SequenceFileEncoder {
    static let syncInterval: Int64 = 2000
    static let longWritable = "org.apache.hadoop.io.LongWritable"
    static let bytesWritable = "org.apache.hadoop.io.BytesWritable"
    static let textClass = "org.apache.hadoop.io.Text"

    let writeFormat: WriteFormat
    let compressor: HadoopCompressor?
    private var syncMarker: [UInt8] = []
    private var lastSyncPos: Int64 = 0
    private var lastSyncPosAtBatchStart: Int64 = 0
    /// BLOCK compression: the buffers of the batch being encoded.
    private var records = 0
    private var keyLengths: [UInt8] = [], keys: [UInt8] = [], valueLengths: [UInt8] = [], values: [UInt8] = []

    init(writeFormat: WriteFormat, codec: Codec?) {
        self.writeFormat = writeFormat
        compressor = codec.map { HadoopCompressor(codec: $0) }
    }

    var valueClass: String { writeFormat == .writable ? SequenceFileEncoder.bytesWritable : SequenceFileEncoder.textClass }

    mutating func header(into out: inout [UInt8]) {
        syncMarker = randomBytes(16)
        out += [0x53, 0x45, 0x51, 6] // "SEQ", version 6
        out.appendHadoopText(Array(SequenceFileEncoder.longWritable.utf8))
        out.appendHadoopText(Array(valueClass.utf8))
        out.append(compressor == nil ? 0 : 1) // compressed
        out.append(compressor == nil ? 0 : 1) // block compressed
        if let c = compressor { out.appendHadoopText(Array(c.codec.className.utf8)) }
        out.appendInt32(0) // metadata entries
        out += syncMarker
        lastSyncPos = 0
        lastSyncPosAtBatchStart = 0
        discard()
    }

    /// Appends one record; `position` is where `out` ends in the file.
    mutating func append(key: Int64, body: UnsafeRawBufferPointer, into out: inout [UInt8], position: Int64) {
        if compressor != nil {
            records += 1
            keyLengths.appendVLong(8)
            keys.appendInt64(key)
            let start = values.count
            appendValue(body, into: &values)
            valueLengths.appendVLong(Int64(values.count - start))
            return
        }
        if position >= lastSyncPos + SequenceFileEncoder.syncInterval {
            out.appendInt32(-1)
            out += syncMarker
            lastSyncPos = position
        }
        let valueLength = writeFormat == .writable ? 4 + body.count : vintSize(Int64(body.count)) + body.count
        out.appendInt32(Int32(truncatingIfNeeded: 8 + valueLength))
        out.appendInt32(8)
        out.appendInt64(key)
        appendValue(body, into: &out)
    }

    private func appendValue(_ body: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        switch writeFormat {
        case .writable: out.appendInt32(Int32(truncatingIfNeeded: body.count))
        case .text: out.appendVLong(Int64(body.count))
        }
        out += body
    }

    /// Ends a batch: BLOCK compression writes the batch's block.
    mutating func finishBatch(into out: inout [UInt8]) throws {
        lastSyncPosAtBatchStart = lastSyncPos
        guard let compressor = compressor, records > 0 else { return }
        var block: [UInt8] = []
        block.appendInt32(-1)
        block += syncMarker
        block.appendVLong(Int64(records))
        for buffer in [keyLengths, keys, valueLengths, values] {
            var compressed: [UInt8] = []
            try compressor.compress(buffer, into: &compressed)
            block.appendVLong(Int64(compressed.count))
            block += compressed
        }
        out += block
        discard()
    }

    /// Forgets the records of a failed batch.
    mutating func discard() {
        records = 0
        keyLengths.removeAll(keepingCapacity: true)
        keys.removeAll(keepingCapacity: true)
        valueLengths.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        lastSyncPos = lastSyncPosAtBatchStart
    }
}
