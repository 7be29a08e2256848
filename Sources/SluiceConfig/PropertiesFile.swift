// A Java `.properties` file read into ordered entries with line numbers.
//
// Syntax follows java.util.Properties.load: `#`/`!` comment lines, blank lines,
// continuation by an odd number of trailing backslashes, key/value separated by
// `=`, `:` or whitespace, and the escapes \t \n \r \f \uXXXX (any other escaped
// character stands for itself). Keys and values are then trimmed, as Flume does.

public struct PropertiesFile: Sendable {
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var value: String
        /// The line on which the entry starts (1-based).
        public var line: Int

        public init(key: String, value: String, line: Int) {
            self.key = key
            self.value = value
            self.line = line
        }
    }

    public var file: String
    /// Entries in file order; a key may occur more than once.
    public var entries: [Entry]

    public init(file: String, entries: [Entry]) {
        self.file = file
        self.entries = entries
    }

    public static func parse(_ text: String, file: String) throws -> PropertiesFile {
        var reader = LineReader(text)
        var entries: [Entry] = []
        while let logical = reader.nextLogicalLine() {
            let (rawKey, rawValue) = splitKeyValue(logical.text)
            do {
                let key = try unescape(rawKey)
                let value = try unescape(rawValue)
                entries.append(Entry(key: trimmed(key), value: trimmed(value), line: logical.line))
            } catch let failure as EscapeFailure {
                let location = SourceLocation(file: file, line: logical.line)
                throw ConfigError(diagnostics: [
                    ConfigDiagnostic(severity: .error, location: location, key: nil, message: failure.message),
                ])
            }
        }
        return PropertiesFile(file: file, entries: entries)
    }
}

// MARK: - Logical lines

/// Whitespace as java.util.Properties sees it between tokens.
private func isPropertiesSpace(_ c: Unicode.Scalar) -> Bool {
    c == " " || c == "\t" || c == "\u{0C}"
}

private struct LogicalLine {
    var text: [Unicode.Scalar]
    var line: Int
}

/// Splits text into natural lines and joins continued ones into logical lines.
private struct LineReader {
    private let scalars: [Unicode.Scalar]
    private var position = 0
    private var lineNumber = 1

    init(_ text: String) {
        var all = Array(text.unicodeScalars)
        if all.first == "\u{FEFF}" { all.removeFirst() }
        scalars = all
    }

    private var atEnd: Bool { position >= scalars.count }

    /// The next natural line without its terminator (\n, \r or \r\n).
    private mutating func nextNaturalLine() -> ArraySlice<Unicode.Scalar>? {
        if atEnd { return nil }
        let start = position
        while position < scalars.count, scalars[position] != "\n", scalars[position] != "\r" {
            position += 1
        }
        let line = scalars[start..<position]
        if position < scalars.count {
            if scalars[position] == "\r", position + 1 < scalars.count, scalars[position + 1] == "\n" {
                position += 1
            }
            position += 1
        }
        lineNumber += 1
        return line
    }

    private static func droppingLeadingSpace(_ line: ArraySlice<Unicode.Scalar>) -> ArraySlice<Unicode.Scalar> {
        line.drop(while: isPropertiesSpace)
    }

    /// True when `line` ends in an odd number of backslashes.
    private static func continues(_ line: ArraySlice<Unicode.Scalar>) -> Bool {
        var count = 0
        var index = line.endIndex
        while index > line.startIndex, line[line.index(before: index)] == "\\" {
            count += 1
            index = line.index(before: index)
        }
        return count % 2 == 1
    }

    mutating func nextLogicalLine() -> LogicalLine? {
        while true {
            let startLine = lineNumber
            guard let natural = nextNaturalLine() else { return nil }
            var segment = Self.droppingLeadingSpace(natural)
            if segment.isEmpty { continue }
            if segment.first == "#" || segment.first == "!" { continue }

            var text: [Unicode.Scalar] = []
            while true {
                let more = Self.continues(segment)
                if more { segment = segment.dropLast() }
                text.append(contentsOf: segment)
                // A trailing backslash at end of input is dropped, as Java does.
                guard more, let next = nextNaturalLine() else { break }
                segment = Self.droppingLeadingSpace(next)
            }
            return LogicalLine(text: text, line: startLine)
        }
    }
}

// MARK: - Key / value split

/// Splits a logical line at the first unescaped `=`, `:` or whitespace.
private func splitKeyValue(_ line: [Unicode.Scalar]) -> (ArraySlice<Unicode.Scalar>, ArraySlice<Unicode.Scalar>) {
    var keyEnd = 0
    var valueStart = line.count
    var sawSeparator = false
    var escaped = false
    while keyEnd < line.count {
        let c = line[keyEnd]
        if !escaped, c == "=" || c == ":" {
            valueStart = keyEnd + 1
            sawSeparator = true
            break
        }
        if !escaped, isPropertiesSpace(c) {
            valueStart = keyEnd + 1
            break
        }
        escaped = c == "\\" ? !escaped : false
        keyEnd += 1
    }
    while valueStart < line.count {
        let c = line[valueStart]
        if isPropertiesSpace(c) {
            valueStart += 1
        } else if !sawSeparator, c == "=" || c == ":" {
            sawSeparator = true
            valueStart += 1
        } else {
            break
        }
    }
    return (line[0..<keyEnd], line[valueStart..<line.count])
}

// MARK: - Escapes

private struct EscapeFailure: Error {
    var message: String
}

/// Reads exactly four hex digits starting at `index`.
private func hexCodeUnit(_ text: ArraySlice<Unicode.Scalar>, at index: Int) throws -> UInt16 {
    guard index + 4 <= text.endIndex else {
        throw EscapeFailure(message: "malformed \\uXXXX escape")
    }
    var value: UInt16 = 0
    for c in text[index..<index + 4] {
        guard let digit = hexDigitValue(c) ?? hexLetterValue(c) else {
            throw EscapeFailure(message: "malformed \\uXXXX escape")
        }
        value = value << 4 | UInt16(digit)
    }
    return value
}

private func hexDigitValue(_ c: Unicode.Scalar) -> UInt8? {
    (c >= "0" && c <= "9") ? UInt8(c.value - 48) : nil
}

private func hexLetterValue(_ c: Unicode.Scalar) -> UInt8? {
    switch c {
    case "a"..."f": return UInt8(c.value - 97 + 10)
    case "A"..."F": return UInt8(c.value - 65 + 10)
    default: return nil
    }
}

/// Applies Java properties escapes. A `\u` surrogate pair becomes one scalar.
private func unescape(_ text: ArraySlice<Unicode.Scalar>) throws -> String {
    var out = String.UnicodeScalarView()
    var i = text.startIndex
    while i < text.endIndex {
        let c = text[i]
        i += 1
        guard c == "\\", i < text.endIndex else {
            if c != "\\" { out.append(c) }
            continue
        }
        let e = text[i]
        i += 1
        switch e {
        case "t": out.append("\t")
        case "n": out.append("\n")
        case "r": out.append("\r")
        case "f": out.append("\u{0C}")
        case "u":
            let unit = try hexCodeUnit(text, at: i)
            i += 4
            if (0xD800...0xDBFF).contains(unit) {
                guard i + 1 < text.endIndex, text[i] == "\\", text[i + 1] == "u" else {
                    throw EscapeFailure(message: "unpaired surrogate in \\uXXXX escape")
                }
                let low = try hexCodeUnit(text, at: i + 2)
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw EscapeFailure(message: "unpaired surrogate in \\uXXXX escape")
                }
                i += 6
                let combined = 0x10000 + (UInt32(unit - 0xD800) << 10) + UInt32(low - 0xDC00)
                out.append(Unicode.Scalar(combined)!)
            } else if let scalar = Unicode.Scalar(unit) {
                out.append(scalar)
            } else {
                throw EscapeFailure(message: "unpaired surrogate in \\uXXXX escape")
            }
        default:
            out.append(e)
        }
    }
    return String(out)
}

/// Trims like Java's String.trim(): every scalar up to U+0020 at either end.
func trimmed(_ s: String) -> String {
    let scalars = s.unicodeScalars
    guard let first = scalars.firstIndex(where: { $0.value > 0x20 }) else { return "" }
    let last = scalars.lastIndex(where: { $0.value > 0x20 })!
    return String(scalars[first...last])
}
