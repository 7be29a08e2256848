import SluiceSDK

/// Avro codecs of an object container file (`serializer.compressionCodec`).
enum AvroCodec: String, CaseIterable {
    case null, deflate, snappy, bzip2, zstandard

    static func named(_ raw: String) throws -> AvroCodec {
        let name = raw.trimmingSpaces.lowercased()
        if let c = AvroCodec(rawValue: name) { return c }
        if name == "zstd" { return .zstandard }
        throw SluiceError.config("property 'serializer.compressionCodec': Avro codec '\(raw.trimmingSpaces)' is not supported (null, deflate, snappy, bzip2 or zstandard)")
    }
}

/// Flume's `avro_event` serializer (FlumeEventAvroEventSerializer): an Avro
/// object container file of records `Event { headers: map<string>, body: bytes }`.
///
/// `header` starts the file (magic, metadata with the schema and codec, sync
/// marker); `append` adds a record to the current data block and ends the
/// block once it holds `syncInterval` bytes, as Avro's DataFileWriter does;
/// `finishBlock` ends it at every batch, so a file cut after any synced batch
/// is a valid container file. Not thread-safe.
struct AvroContainerWriter {
    /// The schema Flume's FlumeEventAvroEventSerializer writes (no namespace).
    static let schema = #"{"type":"record","name":"Event","fields":[{"name":"headers","type":{"type":"map","values":"string"}},{"name":"body","type":"bytes"}]}"#
    static let magic: [UInt8] = [0x4f, 0x62, 0x6a, 0x01] // "Obj" 1

    let codec: AvroCodec
    let syncInterval: Int
    private var sync: [UInt8] = []
    private var block: [UInt8] = []
    private var count = 0

    init(codec: AvroCodec, syncInterval: Int) {
        self.codec = codec
        self.syncInterval = syncInterval
    }

    /// Starts a file: a fresh sync marker, the header into `out`.
    mutating func header(into out: inout [UInt8]) {
        sync = randomBytes(16)
        block.removeAll(keepingCapacity: true)
        count = 0
        out += AvroContainerWriter.magic
        out.appendAvroLong(2) // metadata: map<bytes> with two entries
        out.appendAvroBytes(Array("avro.schema".utf8))
        out.appendAvroBytes(Array(AvroContainerWriter.schema.utf8))
        out.appendAvroBytes(Array("avro.codec".utf8))
        out.appendAvroBytes(Array(codec.rawValue.utf8))
        out.appendAvroLong(0)
        out += sync
    }

    mutating func append(_ event: Event, into out: inout [UInt8]) throws {
        let headers = event.headerCount
        if headers > 0 {
            block.appendAvroLong(Int64(headers))
            for h in 0..<headers {
                let (k, v) = event.header(at: h)
                block.appendAvroBytes(k)
                block.appendAvroBytes(v)
            }
        }
        block.appendAvroLong(0)
        block.appendAvroBytes(event.body)
        count += 1
        if block.count >= syncInterval { try finishBlock(into: &out) }
    }

    /// Writes the current block (count, size, data, sync), if it has records.
    mutating func finishBlock(into out: inout [UInt8]) throws {
        guard count > 0 else { return }
        var data: [UInt8] = []
        switch codec {
        case .null: data = block
        case .deflate: try Compression.deflate(block, windowBits: -15, into: &data)
        case .snappy:
            try Compression.snappy(block[...], into: &data)
            data.appendInt32(Int32(bitPattern: Compression.crc32(block)))
        case .bzip2: try Compression.bzip2(block, into: &data)
        case .zstandard: try Compression.zstd(block, into: &data)
        }
        out.appendAvroLong(Int64(count))
        out.appendAvroLong(Int64(data.count))
        out += data
        out += sync
        block.removeAll(keepingCapacity: true)
        count = 0
    }

    /// Forgets the records of a failed batch.
    mutating func discard() {
        block.removeAll(keepingCapacity: true)
        count = 0
    }

    /// The length of the longest prefix of `b` made of the header and whole
    /// data blocks (0: not even a whole header).
    static func wholeLength(_ b: [UInt8]) -> Int {
        guard b.count >= 4, Array(b[0..<4]) == magic else { return 0 }
        var at = 4
        // Metadata: blocks of (count, [size,] entries), ended by count 0.
        while true {
            guard let (n, used) = b.avroLong(at: at) else { return 0 }
            at += used
            if n == 0 { break }
            var entries = n
            if n < 0 {
                guard let (_, sizeUsed) = b.avroLong(at: at) else { return 0 }
                at += sizeUsed
                entries = -n
            }
            for _ in 0..<entries * 2 {
                guard let (len, lenUsed) = b.avroLong(at: at), len >= 0 else { return 0 }
                at += lenUsed + Int(len)
            }
        }
        guard at + 16 <= b.count else { return 0 }
        let sync = b[at..<(at + 16)]
        at += 16
        var whole = at
        while let (n, nUsed) = b.avroLong(at: at), n > 0,
              let (size, sizeUsed) = b.avroLong(at: at + nUsed), size >= 0 {
            let end = at + nUsed + sizeUsed + Int(size) + 16
            guard end <= b.count, b[(end - 16)..<end].elementsEqual(sync) else { break }
            at = end
            whole = at
        }
        return whole
    }
}
