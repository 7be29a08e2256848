// The jute schema language as far as zookeeper.jute uses it:
//
//   module a.b.c { class Name { type field; ... } ... }
//
// with `//` and `/* */` comments. Field types are int, long, boolean, ustring,
// buffer, vector<T> and (possibly qualified) class names.

indirect enum JuteType: Equatable {
    case int, long, boolean, ustring, buffer
    case vector(JuteType)
    case record(String)
}

struct JuteField {
    var name: String
    var type: JuteType
    var comment: String?
}

struct JuteClass {
    var module: String
    var name: String
    var fields: [JuteField]
}

struct JuteParseError: Error, CustomStringConvertible {
    var line: Int
    var message: String
    var description: String { "line \(line): \(message)" }
}

/// A hand-written tokenizer and recursive-descent parser for the schema.
struct JuteParser {
    private var tokens: [(text: String, line: Int, comment: String?)] = []
    private var position = 0

    init(_ source: String) {
        tokens = Self.tokenize(source)
    }

    /// Splits into identifiers (dots included) and single-character symbols;
    /// a trailing `//` comment on a line is attached to the token before it.
    private static func tokenize(_ source: String) -> [(text: String, line: Int, comment: String?)] {
        var out: [(text: String, line: Int, comment: String?)] = []
        let chars = Array(source)
        var i = 0
        var line = 1
        while i < chars.count {
            let c = chars[i]
            if c == "\n" { line += 1; i += 1; continue }
            if c.isWhitespace { i += 1; continue }
            if c == "/", i + 1 < chars.count, chars[i + 1] == "/" {
                var j = i + 2
                while j < chars.count, chars[j] != "\n" { j += 1 }
                let text = String(chars[(i + 2)..<j]).trimmingCharacters(in: .whitespaces)
                if !out.isEmpty, out[out.count - 1].line == line, !text.isEmpty { out[out.count - 1].comment = text }
                i = j
                continue
            }
            if c == "/", i + 1 < chars.count, chars[i + 1] == "*" {
                var j = i + 2
                while j + 1 < chars.count, !(chars[j] == "*" && chars[j + 1] == "/") {
                    if chars[j] == "\n" { line += 1 }
                    j += 1
                }
                i = j + 2
                continue
            }
            if c.isLetter || c == "_" {
                var j = i
                while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" || chars[j] == "." { j += 1 }
                out.append((String(chars[i..<j]), line, nil))
                i = j
                continue
            }
            out.append((String(c), line, nil))
            i += 1
        }
        return out
    }

    private var line: Int { position < tokens.count ? tokens[position].line : (tokens.last?.line ?? 0) }

    private mutating func next() throws -> String {
        guard position < tokens.count else { throw JuteParseError(line: line, message: "unexpected end of schema") }
        defer { position += 1 }
        return tokens[position].text
    }

    private mutating func expect(_ text: String) throws {
        let got = try next()
        guard got == text else { throw JuteParseError(line: tokens[position - 1].line, message: "expected '\(text)', found '\(got)'") }
    }

    mutating func parse() throws -> [JuteClass] {
        var classes: [JuteClass] = []
        while position < tokens.count {
            try expect("module")
            let module = try next()
            try expect("{")
            while position < tokens.count, tokens[position].text != "}" {
                try expect("class")
                let name = try next()
                try expect("{")
                var fields: [JuteField] = []
                while position < tokens.count, tokens[position].text != "}" {
                    let type = try parseType(module: module)
                    let fieldName = try next()
                    let semicolonIndex = position
                    try expect(";")
                    fields.append(JuteField(name: fieldName, type: type, comment: tokens[semicolonIndex].comment))
                }
                try expect("}")
                classes.append(JuteClass(module: module, name: name, fields: fields))
            }
            try expect("}")
        }
        return classes
    }

    private mutating func parseType(module: String) throws -> JuteType {
        let word = try next()
        switch word {
        case "int": return .int
        case "long": return .long
        case "boolean": return .boolean
        case "ustring": return .ustring
        case "buffer": return .buffer
        case "vector":
            try expect("<")
            let inner = try parseType(module: module)
            try expect(">")
            return .vector(inner)
        default:
            guard let first = word.first, first.isLetter else {
                throw JuteParseError(line: tokens[position - 1].line, message: "expected a type, found '\(word)'")
            }
            // Qualified names refer to another module's class; the last part names it.
            return .record(String(word.split(separator: ".").last ?? Substring(word)))
        }
    }
}
