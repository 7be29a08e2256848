/// Walks the batches of a segment file in order through a read window, so a
/// run of small batches costs one pread rather than one per header.
/// Only structural header checks are made unless `checksum` is asked for.
struct BatchScanner {
    let file: LogFileHandle
    /// Bytes of the file that may be read (the segment's size).
    let end: Int
    private var window: [UInt8]
    private var windowStart = 0
    private var windowCount = 0

    init(file: LogFileHandle, end: Int, windowSize: Int = 8 * 1024) {
        self.file = file
        self.end = end
        self.window = [UInt8](repeating: 0, count: max(windowSize, BatchLayout.headerSize))
    }

    enum Step {
        /// A batch header that passed the structural checks.
        case batch(RecordBatchHeader)
        /// Exactly at the end.
        case end
        /// Something unusable at this position (torn or corrupt); the reason.
        case invalid(String)
    }

    /// The batch starting at `position`.
    mutating func header(at position: Int) throws -> Step {
        if position == end { return .end }
        guard position >= 0, position < end else { return .invalid("position \(position) beyond the end \(end)") }
        let available = end - position
        guard available >= BatchLayout.headerSize else {
            return .invalid("\(available) trailing bytes, too few for a batch header")
        }
        try fill(position, BatchLayout.headerSize)
        let h = window.withUnsafeBytes { RecordBatchHeader($0, at: position - windowStart)! }
        if let problem = h.structuralProblem(available: available) { return .invalid(problem) }
        return .batch(h)
    }

    /// CRC-32C of the batch at `position` over the bytes the CRC covers,
    /// read in window-sized pieces (a corrupt length cannot make it allocate).
    mutating func checksum(at position: Int, header h: RecordBatchHeader) throws -> UInt32 {
        var crc: UInt32 = 0
        var from = position + BatchLayout.attributes
        let to = position + h.totalSize
        while from < to {
            let n = min(window.count, to - from)
            try fill(from, n)
            crc = window.withUnsafeBytes { buf in
                CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buf[(from - windowStart)..<(from - windowStart + n)]), continuing: crc)
            }
            from += n
        }
        return crc
    }

    /// Whole bytes of the batch at `position` (for record-level lookups).
    func bytes(at position: Int, count: Int) throws -> [UInt8] {
        try file.read(count: count, at: position)
    }

    /// Makes [position, position+count) present in the window.
    private mutating func fill(_ position: Int, _ count: Int) throws {
        if position >= windowStart && position + count <= windowStart + windowCount { return }
        let want = min(window.count, end - position)
        let got = try window.withUnsafeMutableBytes { buf in
            try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buf[0..<want]), at: position)
        }
        windowStart = position
        windowCount = got
        guard got >= count else {
            throw LogError.corruptFile(path: file.path, reason: "file shorter than expected at byte \(position + got)")
        }
    }
}
