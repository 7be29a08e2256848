import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// What one `fill` call ended with. Whatever it ended with, the events it
/// appended are good and go to the channel first.
enum FillResult {
    /// The batch is full; there is more to read.
    case batchFull
    /// Everything up to the size the file had when it was picked up is in
    /// events, and the file has not changed since.
    case endOfFile
    /// The file changed after pickup (size, modification time, shrank while
    /// being read): nothing after `consumed` was turned into events.
    case changed(String)
    /// decodeErrorPolicy FAIL and an undecodable byte at this file offset.
    case undecodable(Int)
    case readError(Errno)
}

/// Header key and value bytes, prepared once per file.
struct PreparedHeader {
    var key: [UInt8]
    var value: [UInt8]
}

/// One open spooled file being turned into events. Reads only up to the
/// size the file had at pickup (Flume's immutability rule: anything beyond
/// is a change, reported at the end).
final class SpoolReader {
    let path: String
    let fd: Int32
    let pickup: FileStat
    /// File offset of the first byte not yet turned into an event: the end
    /// of the last event appended.
    private(set) var consumed: Int
    private(set) var truncatedLines = 0
    private(set) var blobSplit = false

    private let context: ComponentContext
    private let codec: LineCodec
    private let headers: [PreparedHeader]
    private let maxLineLength: Int
    private let maxBlobLength: Int
    private let isBlob: Bool

    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// buffer[head..<tail] holds unread bytes; buffer[0] is at file offset `bufferOffset`.
    private var head = 0
    private var tail = 0
    private var bufferOffset: Int
    private var readOffset: Int
    private var atEnd = false
    private var shortRead = false

    init(path: String, fd: Int32, pickup: FileStat, startOffset: Int, settings: SpoolSettings,
         codec: LineCodec, headers: [PreparedHeader], context: ComponentContext) {
        self.path = path
        self.fd = fd
        self.pickup = pickup
        self.codec = codec
        self.headers = headers
        self.context = context
        consumed = startOffset
        bufferOffset = startOffset
        readOffset = startOffset
        switch settings.deserializer {
        case .line(let maxLine, _):
            maxLineLength = maxLine
            maxBlobLength = 0
            isBlob = false
            // Room for any line of maxLineLength characters (at most 4 bytes
            // each), so a line that fills the buffer is surely too long. An
            // absurd maxLineLength is held to 256 MiB of buffer.
            capacity = max(1 << 20, min(maxLine, 64 << 20) * 4 + 64)
        case .blob(let maxBlob):
            maxLineLength = 0
            maxBlobLength = maxBlob
            isBlob = true
            capacity = 0
        }
        // A small file needs no more than its size (a line can then never
        // fill the buffer: reads stop at the pickup size).
        capacity = min(capacity, max(4096, pickup.size - startOffset + 64))
        buffer = .allocate(capacity: max(capacity, 1))
        atEnd = readOffset >= pickup.size
        _ = posix_fadvise(fd, off_t(startOffset), 0, POSIX_FADV_SEQUENTIAL)
    }

    deinit { buffer.deallocate() }

    /// Appends up to `max` events to `batch`.
    func fill(_ batch: OwnedBatch, max: Int) throws -> FillResult {
        isBlob ? try fillBlobs(batch, max: max) : try fillLines(batch, max: max)
    }

    // MARK: LINE

    private func fillLines(_ batch: OwnedBatch, max: Int) throws -> FillResult {
        var events = 0
        while events < max {
            if head < tail, let nl = memchr(buffer + head, 0x0A, tail - head) {
                let end = nl.assumingMemoryBound(to: UInt8.self) - buffer
                if let bad = try emitLine(buffer + head, end - head, batch, at: bufferOffset + head) {
                    return .undecodable(bad)
                }
                head = end + 1
                consumed = bufferOffset + head
                events += 1
                continue
            }
            if atEnd {
                // Checked before the last, unterminated line: a file still
                // being written usually ends in half a line.
                if let change = changeSincePickup() { return .changed(change) }
                if head < tail {
                    if let bad = try emitLine(buffer + head, tail - head, batch, at: bufferOffset + head) {
                        return .undecodable(bad)
                    }
                    head = tail
                    consumed = bufferOffset + head
                }
                return .endOfFile
            }
            if head > 0 {
                if tail > head { memmove(buffer, buffer + head, tail - head) }
                bufferOffset += head
                tail -= head
                head = 0
            }
            if tail == capacity {
                // One line fills the buffer: it is longer than maxLineLength
                // characters for sure. Emit its start, drop the rest.
                var cut = maxLineLength > (Int.max - 4) / 4 ? tail - 1 : Swift.min(tail - 1, maxLineLength * 4 + 4)
                while cut > 0, buffer[cut] & 0xC0 == 0x80 { cut -= 1 }
                if let bad = try emitLine(buffer, cut, batch, at: bufferOffset) { return .undecodable(bad) }
                events += 1
                if let e = skipRestOfLine() { return .readError(e) }
                continue
            }
            if let e = readMore() { return .readError(e) }
        }
        return .batchFull
    }

    /// Reads into buffer[tail...]; sets atEnd at the pickup size or a short file.
    private func readMore() -> Errno? {
        let want = Swift.min(capacity - tail, pickup.size - readOffset)
        if want <= 0 {
            atEnd = true
            return nil
        }
        while true {
            let n = pread(fd, buffer + tail, want, off_t(readOffset))
            if n < 0 {
                if errno == EINTR { continue }
                return Errno(errno)
            }
            if n == 0 {
                // Shorter than at pickup: truncated by someone.
                shortRead = true
                atEnd = true
                return nil
            }
            tail += n
            readOffset += n
            if readOffset >= pickup.size { atEnd = true }
            return nil
        }
    }

    /// Discards bytes up to and including the next newline (or to the end).
    private func skipRestOfLine() -> Errno? {
        bufferOffset += tail
        head = 0
        tail = 0
        while !atEnd {
            if let e = readMore() { return e }
            if let nl = memchr(buffer, 0x0A, tail) {
                head = nl.assumingMemoryBound(to: UInt8.self) - buffer + 1
                consumed = bufferOffset + head
                return nil
            }
            bufferOffset += tail
            tail = 0
        }
        consumed = bufferOffset
        return nil
    }

    /// Decodes, truncates, encodes and appends one line. Returns the file
    /// offset of an undecodable byte under decodeErrorPolicy FAIL.
    @inline(__always)
    private func emitLine(_ p: UnsafePointer<UInt8>, _ n: Int, _ batch: OwnedBatch, at offset: Int) throws -> Int? {
        var text: UnsafeRawBufferPointer
        switch codec.decode(p, n) {
        case .text(let t): text = t
        case .invalid(let i): return offset + i
        }
        if let cut = truncationPoint(text, maxChars: maxLineLength) {
            text = UnsafeRawBufferPointer(rebasing: text[0..<cut])
            truncatedLines += 1
            if truncatedLines == 1 {
                context.log(.warn, "'\(path)': the line at byte \(offset) is longer than deserializer.maxLineLength "
                    + "(\(maxLineLength) characters); truncated (the rest of the line is dropped; further lines "
                    + "truncated in this file are counted, not logged)")
            }
        }
        try batch.append(body: codec.encode(text))
        addHeaders(batch)
        return nil
    }

    @inline(__always)
    private func addHeaders(_ batch: OwnedBatch) {
        guard !headers.isEmpty else { return }
        let events = batch.events
        let index = batch.count - 1
        for h in headers {
            h.key.withUnsafeBufferPointer { k in
                h.value.withUnsafeBytes { v in events.setHeader(index, key: k, value: v) }
            }
        }
    }

    // MARK: BLOB

    private func fillBlobs(_ batch: OwnedBatch, max: Int) throws -> FillResult {
        var events = 0
        var bytes = 0
        // A batch of blobs stops at 64 MiB (after at least one event).
        while events < max, events == 0 || bytes < 64 << 20 {
            let remaining = pickup.size - consumed
            if remaining <= 0 {
                if let change = changeSincePickup() { return .changed(change) }
                return .endOfFile
            }
            let n = Swift.min(remaining, maxBlobLength)
            if n == remaining, let change = changeSincePickup() { return .changed(change) }
            if n > capacity {
                buffer.deallocate()
                capacity = n
                buffer = .allocate(capacity: n)
            }
            let got = preadFully(fd, buffer, n, consumed)
            if got < 0 { return .readError(Errno(errno)) }
            if got < n {
                shortRead = true
                return .changed(changeSincePickup() ?? "it became shorter while being read")
            }
            if n < remaining, !blobSplit {
                blobSplit = true
                context.log(.warn, "'\(path)' is longer than deserializer.maxBlobLength (\(maxBlobLength) bytes); "
                    + "it is delivered as several events of at most that size")
            }
            try batch.append(body: UnsafeRawBufferPointer(start: buffer, count: n))
            addHeaders(batch)
            consumed += n
            events += 1
            bytes += n
        }
        return .batchFull
    }

    // MARK: Change detection

    /// Nil when the open file still has its pickup size and modification time.
    func changeSincePickup() -> String? {
        switch statFD(fd) {
        case .failure(let e):
            return "cannot stat it: \(e)"
        case .success(let now):
            if now.size != pickup.size {
                return "its size changed from \(pickup.size) to \(now.size) bytes"
            }
            if now.mtimeNanos != pickup.mtimeNanos {
                return "its modification time changed"
            }
            if shortRead {
                return "it became shorter while being read"
            }
            return nil
        }
    }
}
