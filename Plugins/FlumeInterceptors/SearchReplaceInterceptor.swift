import PluginRegex
import SluiceSDK

/// Flume's `search_replace` interceptor: replaces every match of
/// `searchPattern` in the body with `replaceString`, like Java's
/// `Matcher.replaceAll`. In the replacement, `$n` inserts group n (`$0` the
/// whole match; extra digits are taken while the number is still a group),
/// `${name}` a named group, and a backslash makes the next character literal
/// (`\$` is a dollar sign). A group that did not take part inserts nothing.
/// A malformed replacement is a configuration error (Java only fails when a
/// match happens). Bodies without a match are left untouched.
final class SearchReplaceInterceptor: Interceptor {
    static let configKeys: [ConfigKey] = [
        ConfigKey("searchPattern", .string, required: true, "Regular expression to replace in the body"),
        ConfigKey("replaceString", .string, default: "", "Replacement; $n and ${name} insert groups, \\ escapes"),
        ConfigKey("charset", .string, default: "UTF-8", "Body charset; only UTF-8 is supported"),
    ]

    /// One part of the replacement: group `group`, or (group -1) the bytes
    /// `literal` of `literals`.
    private struct Piece {
        let group: Int
        let literal: Range<Int>
    }

    private let context: ComponentContext
    private let regex: PCRE2Regex
    private let pieces: [Piece]
    private let literals: [UInt8]
    /// The new body being built.
    private var output = ByteBuilder()

    init(context: ComponentContext, properties: Properties) throws {
        self.context = context
        let charset = properties.string("charset", default: "UTF-8").lowercased()
        guard charset == "utf-8" || charset == "utf8" else {
            throw SluiceError.config("property 'charset': '\(properties["charset"] ?? "")' is not supported (only UTF-8)")
        }
        regex = try PCRE2Regex(pattern: try properties.requiredString("searchPattern"), key: "searchPattern")
        (pieces, literals) = try SearchReplaceInterceptor.parseReplacement(
            properties.string("replaceString", default: ""), regex: regex)
    }

    deinit { output.free() }

    func intercept(_ batch: MutableBatch) throws {
        let count = batch.count
        if count == 0 { return }
        let regex = self.regex
        let context = self.context
        var out = output
        defer { output = out }
        pieces.withUnsafeBufferPointer { pieces in
        literals.withUnsafeBytes { literals in
            for i in 0..<count {
                let body = batch[i].body
                out.reset()
                var copied = 0
                var replaced = false
                regex.forEachMatch(in: body, context: context) { start, end in
                    out.append(UnsafeRawBufferPointer(rebasing: body[copied..<start]))
                    for piece in pieces {
                        if piece.group < 0 {
                            out.append(UnsafeRawBufferPointer(rebasing: literals[piece.literal]))
                        } else if let r = regex.range(ofGroup: piece.group), r.upperBound <= body.count {
                            out.append(UnsafeRawBufferPointer(rebasing: body[r]))
                        }
                    }
                    copied = end
                    replaced = true
                    return true
                }
                if !replaced { continue }
                out.append(UnsafeRawBufferPointer(rebasing: body[copied..<body.count]))
                batch.setBody(i, out.all)
            }
        }
        }
    }

    /// Splits a Java `replaceAll` replacement into literal text and group
    /// references, checking them against the pattern's groups.
    private static func parseReplacement(_ text: String, regex: PCRE2Regex) throws -> ([Piece], [UInt8]) {
        let key = "replaceString"
        let b = Array(text.utf8)
        var pieces: [Piece] = []
        var literals: [UInt8] = []
        var literalStart = 0
        func flushLiteral() {
            if literals.count > literalStart {
                pieces.append(Piece(group: -1, literal: literalStart..<literals.count))
                literalStart = literals.count
            }
        }
        func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
        var i = 0
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\\") {
                guard i + 1 < b.count else {
                    throw SluiceError.config("property '\(key)': a trailing '\\' escapes nothing")
                }
                literals.append(b[i + 1])
                i += 2
            } else if c == UInt8(ascii: "$") {
                guard i + 1 < b.count else {
                    throw SluiceError.config("property '\(key)': '$' at the end is not a group reference (write \\$ for a dollar sign)")
                }
                var group: Int
                if b[i + 1] == UInt8(ascii: "{") {
                    guard let close = b[(i + 2)...].firstIndex(of: UInt8(ascii: "}")), close > i + 2 else {
                        throw SluiceError.config("property '\(key)': '${' without a group name and '}'")
                    }
                    let name = String(decoding: b[(i + 2)..<close], as: UTF8.self)
                    guard let n = regex.groupNumber(named: name) else {
                        throw SluiceError.config("property '\(key)': no group named '\(name)' in the search pattern")
                    }
                    group = n
                    i = close + 1
                } else {
                    guard isDigit(b[i + 1]) else {
                        throw SluiceError.config("property '\(key)': '$' must be followed by a group number or {name} "
                            + "(write \\$ for a dollar sign)")
                    }
                    group = Int(b[i + 1] - UInt8(ascii: "0"))
                    i += 2
                    // Java keeps taking digits while the number still names a group.
                    while i < b.count, isDigit(b[i]) {
                        let next = group * 10 + Int(b[i] - UInt8(ascii: "0"))
                        if next > regex.captureCount { break }
                        group = next
                        i += 1
                    }
                    if group > regex.captureCount {
                        throw SluiceError.config("property '\(key)': group $\(group) does not exist "
                            + "(the search pattern has \(regex.captureCount) group(s))")
                    }
                }
                flushLiteral()
                pieces.append(Piece(group: group, literal: 0..<0))
            } else {
                literals.append(c)
                i += 1
            }
        }
        flushLiteral()
        return (pieces, literals)
    }
}
