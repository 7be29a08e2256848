import KafkaLog
import KafkaProtocol
import NIOCore

/// A response as it goes to the socket: encoded buffers and, for Fetch,
/// regions of segment files that the event loop sends with sendfile(2), so
/// record data never passes through the broker's memory.
struct ResponseFrame {
    var parts: [IOData]
    /// The segment files the regions read from: open until the write is done
    /// (retention may delete a segment meanwhile; the open descriptor keeps
    /// its data readable).
    var files: [(nio: NIOFileHandle, log: LogFileHandle)] = []

    init(_ buffer: ByteBuffer) { parts = [.byteBuffer(buffer)] }

    init(parts: [IOData], files: [(nio: NIOFileHandle, log: LogFileHandle)]) {
        self.parts = parts
        self.files = files
    }

    /// Gives the descriptors back to their LogFileHandles (NIO must not close them).
    func release() {
        for f in files { _ = try? f.nio.takeDescriptorOwnership() }
    }
}

/// Encodes a FetchResponse whose partitions' record data stays in the
/// segment files. The generated encoder writes `records` as an ordinary
/// length-prefixed byte field; each partition with data gets a unique
/// 16-byte marker instead, and the marker (with its prefix) is then cut out
/// of the encoded frame and replaced by the real length prefix plus the
/// file regions. The rest of the frame is the generated encoder's output.
enum FetchFrame {
    /// Random per process, so no topic name or field can mimic it by accident.
    static let marker: [UInt8] = (0..<16).map { _ in UInt8.random(in: 0...255) }

    static func encode(_ response: FetchResponse, regions: [[KafkaLog.FileRegion]], version: Int16,
                       correlationId: Int32) throws -> ResponseFrame {
        var out = ByteBufferAllocator().buffer(capacity: 512)
        try response.writeFrame(to: &out, version: version, correlationId: correlationId)
        guard !regions.isEmpty else { return ResponseFrame(out) }
        let flexible = FetchResponse.flexibleVersions.map { $0.contains(version) } ?? false
        let markerPrefix = flexible ? 1 : 4  // uvarint(16 + 1) or int32 16

        var parts: [IOData] = []
        var files: [(nio: NIOFileHandle, log: LogFileHandle)] = []
        var cursor = out.readerIndex + 4  // after the frame size
        var growth = 0
        let bytes = out.readableBytesView
        for partRegions in regions {
            guard let at = find(marker, in: bytes, from: cursor - out.readerIndex) else {
                throw FrameError(reason: "fetch response: record marker not found while encoding")
            }
            let prefixStart = out.readerIndex + at - markerPrefix
            parts.append(.byteBuffer(out.getSlice(at: cursor, length: prefixStart - cursor)!))
            let length = partRegions.reduce(0) { $0 + $1.length }
            var prefix = ByteBufferAllocator().buffer(capacity: 5)
            if flexible {
                prefix.kafkaWriteUnsignedVarint(UInt32(length + 1))
            } else {
                prefix.writeInteger(Int32(length))
            }
            growth += prefix.readableBytes - markerPrefix + length - marker.count
            parts.append(.byteBuffer(prefix))
            for r in partRegions {
                let h = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: r.fd)
                files.append((h, r.file))
                parts.append(.fileRegion(NIOCore.FileRegion(fileHandle: h, readerIndex: r.position, endIndex: r.position + r.length)))
            }
            cursor = out.readerIndex + at + marker.count
        }
        if cursor < out.writerIndex {
            parts.append(.byteBuffer(out.getSlice(at: cursor, length: out.writerIndex - cursor)!))
        }
        // The frame size covers everything after itself.
        let size = out.readableBytes - 4 + growth
        var head = ByteBufferAllocator().buffer(capacity: 4)
        head.writeInteger(Int32(size))
        parts.insert(.byteBuffer(head), at: 0)
        return ResponseFrame(parts: parts, files: files)
    }

    private static func find(_ needle: [UInt8], in hay: ByteBufferView, from start: Int) -> Int? {
        guard let first = needle.first else { return nil }
        var i = hay.startIndex + start
        let end = hay.endIndex - needle.count
        while i <= end {
            if hay[i] == first && hay[i..<(i + needle.count)].elementsEqual(needle) { return i - hay.startIndex }
            i += 1
        }
        return nil
    }
}
