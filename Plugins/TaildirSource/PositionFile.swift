import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// One record of the position file: Flume's `{"inode":N,"pos":N,"file":"path"}`.
struct PositionEntry: Equatable {
    var inode: UInt64
    var pos: Int64
    var file: String
}

/// The committed positions the writer thread saves. The runner thread
/// updates it after each committed batch; the writer copies it out under the
/// lock and does the I/O outside. Entries are keyed by a slot number handed
/// out in discovery order, which is also the order they are written in.
struct PositionTableState {
    var entries: [Int: PositionEntry] = [:]
    var version: UInt64 = 0
}

/// Reading, encoding and atomically replacing the position file.
struct PositionFile {
    let path: String

    /// The saved entries, nil when there is no file. Throws when the file
    /// exists but cannot be read or parsed.
    func load() throws -> (entries: [PositionEntry], writtenAt: Int64?)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw SluiceError.io("cannot open position file '\(path)': \(errnoText())")
        }
        defer { close(fd) }
        var st = stat()
        let writtenAt: Int64? = fstat(fd, &st) == 0 ? nanos(st.st_mtim) : nil
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SluiceError.io("cannot read position file '\(path)': \(errnoText())")
            }
            if n == 0 { break }
            data.append(contentsOf: chunk[0..<n])
        }
        var parser = PositionParser(data)
        return (try parser.parse(), writtenAt)
    }

    /// Flume's layout: a JSON array of objects, one per file, no whitespace.
    static func encode(_ entries: [PositionEntry]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(entries.count * 80 + 2)
        out.append(UInt8(ascii: "["))
        for (i, e) in entries.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: "{\"inode\":\(e.inode),\"pos\":\(e.pos),\"file\":".utf8)
            appendJSONString(e.file, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// Writes `bytes` to a temporary file beside the position file and
    /// renames it over the position file: a crash leaves either the old or
    /// the new file, never a torn one. With `sync` the file and directory are
    /// fsync'd too, so the new positions also survive a power loss.
    func replace(with bytes: [UInt8], sync: Bool = true) throws {
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SluiceError.io("cannot create '\(tmp)': \(errnoText())") }
        var ok = false
        defer {
            if !ok { unlink(tmp) }
        }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = errnoText()
                close(fd)
                throw SluiceError.io("cannot write '\(tmp)': \(e)")
            }
            written += n
        }
        if sync && fsync(fd) != 0 {
            let e = errnoText()
            close(fd)
            throw SluiceError.io("cannot sync '\(tmp)': \(e)")
        }
        close(fd)
        guard rename(tmp, path) == 0 else { throw SluiceError.io("cannot rename '\(tmp)' to '\(path)': \(errnoText())") }
        ok = true
        guard sync else { return }
        let dfd = open(parentDirectory(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }
}

/// JSON string with the escapes JSON requires; other bytes pass unchanged.
func appendJSONString(_ s: String, to out: inout [UInt8]) {
    let hex = Array("0123456789abcdef".utf8)
    out.append(UInt8(ascii: "\""))
    for b in s.utf8 {
        switch b {
        case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
        case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case 0x0a: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case 0x0d: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case 0..<0x20:
            out.append(contentsOf: Array("\\u00".utf8))
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 15)])
        default: out.append(b)
        }
    }
    out.append(UInt8(ascii: "\""))
}

/// A small JSON reader for the position file. It accepts what Flume (Gson)
/// writes and what this plugin writes: an array of objects whose `inode` and
/// `pos` are integers and `file` a string, in any order, with any whitespace;
/// other members are skipped. An object missing one of the three is skipped.
struct PositionParser {
    struct Failure: Error, CustomStringConvertible {
        let message: String
        let offset: Int
        var description: String { "\(message) at byte \(offset)" }
    }

    private let bytes: [UInt8]
    private var i = 0
    private var depth = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func parse() throws -> [PositionEntry] {
        skipSpace()
        if i == bytes.count { return [] } // an empty file: nothing saved
        try expect(UInt8(ascii: "["))
        var out: [PositionEntry] = []
        skipSpace()
        if peek() == UInt8(ascii: "]") {
            i += 1
        } else {
            while true {
                skipSpace()
                if let e = try parseEntry() { out.append(e) }
                skipSpace()
                let c = try next()
                if c == UInt8(ascii: "]") { break }
                if c != UInt8(ascii: ",") { throw fail("expected ',' or ']'") }
            }
        }
        skipSpace()
        if i != bytes.count { throw fail("unexpected data after the array") }
        return out
    }

    private mutating func parseEntry() throws -> PositionEntry? {
        try expect(UInt8(ascii: "{"))
        var inode: UInt64?, pos: Int64?, file: String?
        skipSpace()
        if peek() == UInt8(ascii: "}") {
            i += 1
            return nil
        }
        while true {
            skipSpace()
            let name = try parseString()
            skipSpace()
            try expect(UInt8(ascii: ":"))
            skipSpace()
            switch name {
            case "inode":
                let v = try parseInteger()
                guard v >= 0 else { throw fail("negative inode") }
                inode = UInt64(v)
            case "pos":
                let v = try parseInteger()
                guard v >= 0 else { throw fail("negative pos") }
                pos = v
            case "file":
                file = try parseString()
            default:
                try skipValue()
            }
            skipSpace()
            let c = try next()
            if c == UInt8(ascii: "}") { break }
            if c != UInt8(ascii: ",") { throw fail("expected ',' or '}'") }
        }
        guard let inode, let pos, let file else { return nil }
        return PositionEntry(inode: inode, pos: pos, file: file)
    }

    private func peek() -> UInt8? { i < bytes.count ? bytes[i] : nil }

    private mutating func next() throws -> UInt8 {
        guard i < bytes.count else { throw fail("unexpected end") }
        defer { i += 1 }
        return bytes[i]
    }

    private mutating func expect(_ c: UInt8) throws {
        guard try next() == c else {
            i -= 1
            throw fail("expected '\(Character(Unicode.Scalar(c)))'")
        }
    }

    private mutating func skipSpace() {
        while i < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[i]) { i += 1 }
    }

    private func fail(_ message: String) -> Failure { Failure(message: message, offset: i) }

    /// An integer; a number with a fraction or exponent counts when its value
    /// is a whole number in range.
    private mutating func parseInteger() throws -> Int64 {
        let start = i
        while i < bytes.count, (bytes[i] >= 0x30 && bytes[i] <= 0x39) || [UInt8(ascii: "-"), UInt8(ascii: "+"),
                UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[i]) {
            i += 1
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        if let v = Int64(text) { return v }
        if let d = Double(text), d.isFinite, d == d.rounded(), abs(d) < 9.2e18 { return Int64(d) }
        i = start
        throw fail("expected an integer")
    }

    private mutating func parseString() throws -> String {
        try expect(UInt8(ascii: "\""))
        var out: [UInt8] = []
        while true {
            let c = try next()
            if c == UInt8(ascii: "\"") { break }
            if c != UInt8(ascii: "\\") {
                out.append(c)
                continue
            }
            let e = try next()
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0c)
            case UInt8(ascii: "n"): out.append(0x0a)
            case UInt8(ascii: "r"): out.append(0x0d)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4()
                if (0xD800..<0xDC00).contains(scalar), i + 1 < bytes.count,
                   bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") {
                    i += 2
                    let low = try parseHex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("bad surrogate pair") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("bad \\u escape") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                throw fail("bad escape")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func parseHex4() throws -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = try next()
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: throw fail("bad hex digit")
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    /// Skips any JSON value (for members this plugin does not use).
    private mutating func skipValue() throws {
        depth += 1
        defer { depth -= 1 }
        guard depth < 64 else { throw fail("nested too deeply") }
        skipSpace()
        guard let c = peek() else { throw fail("unexpected end") }
        switch c {
        case UInt8(ascii: "\""):
            _ = try parseString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = c == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            i += 1
            skipSpace()
            if peek() == close {
                i += 1
                return
            }
            while true {
                skipSpace()
                if close == UInt8(ascii: "}") {
                    _ = try parseString()
                    skipSpace()
                    try expect(UInt8(ascii: ":"))
                }
                try skipValue()
                skipSpace()
                let n = try next()
                if n == close { return }
                if n != UInt8(ascii: ",") { throw fail("expected ','") }
            }
        default:
            let start = i
            while i < bytes.count, !([UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0a, 0x0d].contains(bytes[i])) {
                i += 1
            }
            let word = String(decoding: bytes[start..<i], as: UTF8.self)
            if word == "true" || word == "false" || word == "null" || Double(word) != nil { return }
            i = start
            throw fail("bad value")
        }
    }
}
