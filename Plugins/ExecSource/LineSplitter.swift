/// Cuts a byte stream into lines as Java's BufferedReader.readLine does
/// (which is what Flume's exec source uses): a line ends at "\n", "\r" or
/// "\r\n", and the terminator is not part of the line. Bytes of a line that
/// spans several reads are kept until its end arrives; `finish()` hands out
/// an unterminated last line.
struct LineSplitter {
    private var partial: [UInt8] = []
    /// The previous chunk ended in "\r": a "\n" starting the next one belongs to it.
    private var skipNewline = false

    /// Calls `emit` for every complete line in `chunk`, in order. The buffer
    /// passed to `emit` is valid only during the call.
    mutating func feed(_ chunk: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) -> Void) {
        let n = chunk.count
        guard n > 0, let base = chunk.baseAddress else { return }
        var i = 0
        if skipNewline {
            skipNewline = false
            if chunk[0] == 0x0a { i = 1 }
        }
        var start = i
        while i < n {
            let b = chunk[i]
            if b == 0x0a || b == 0x0d {
                line(UnsafeRawBufferPointer(start: base + start, count: i - start), emit)
                if b == 0x0d {
                    if i + 1 < n {
                        if chunk[i + 1] == 0x0a { i += 1 }
                    } else {
                        skipNewline = true
                    }
                }
                start = i + 1
            }
            i += 1
        }
        if start < n {
            partial.append(contentsOf: UnsafeRawBufferPointer(start: base + start, count: n - start))
        }
    }

    /// Hands out the unterminated last line, if any, and resets.
    mutating func finish(_ emit: (UnsafeRawBufferPointer) -> Void) {
        skipNewline = false
        guard !partial.isEmpty else { return }
        partial.withUnsafeBytes { emit($0) }
        partial.removeAll(keepingCapacity: true)
    }

    /// Forgets an unterminated line.
    mutating func reset() {
        skipNewline = false
        partial.removeAll(keepingCapacity: true)
    }

    private mutating func line(_ tail: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) -> Void) {
        if partial.isEmpty {
            emit(tail)
        } else {
            partial.append(contentsOf: tail)
            partial.withUnsafeBytes { emit($0) }
            partial.removeAll(keepingCapacity: true)
        }
    }
}
