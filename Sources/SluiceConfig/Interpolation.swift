// `${...}` substitution in property values (Flume 1.10+ behaviour):
//   ${env:NAME}                         environment variable (must be set)
//   ${f1['NAME']} ${f1["NAME"]} ${f1[NAME]}  an `env` config filter lookup (must be set)
//   ${some.full.key}                    the (interpolated) value of another key in the file
// Anything else is left as written, with a warning. `$${` is not special and an
// unterminated `${` is left as is.

struct Interpolator {
    private let agent: String
    private let values: [String: PropertiesFile.Entry]
    private let environment: [String: String]
    private let envFilters: Set<String>
    private var cache: [String: String] = [:]
    private var resolving: Set<String> = []

    init(file: PropertiesFile, agent: String, environment: [String: String], envFilters: Set<String>) {
        var values: [String: PropertiesFile.Entry] = [:]
        for entry in file.entries { values[entry.key] = entry }
        self.agent = agent
        self.values = values
        self.environment = environment
        self.envFilters = envFilters
    }

    /// The interpolated value of `entry`; problems go to `log` against the entry's key and line.
    mutating func value(of entry: PropertiesFile.Entry, log: inout DiagnosticLog) -> String {
        if let cached = cache[entry.key] { return cached }
        resolving.insert(entry.key)
        let result = expand(entry.value, key: entry.key, line: entry.line, log: &log)
        resolving.remove(entry.key)
        cache[entry.key] = result
        return result
    }

    private mutating func expand(_ text: String, key: String, line: Int, log: inout DiagnosticLog) -> String {
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            guard scalars[i] == "$", i + 1 < scalars.count, scalars[i + 1] == "{",
                  let close = scalars[(i + 2)...].firstIndex(of: "}") else {
                out.append(scalars[i])
                i += 1
                continue
            }
            let expression = String(String.UnicodeScalarView(scalars[(i + 2)..<close]))
            if let replacement = resolve(expression, key: key, line: line, log: &log) {
                out.append(contentsOf: replacement.unicodeScalars)
            } else {
                out.append(contentsOf: scalars[i...close])
            }
            i = close + 1
        }
        return String(out)
    }

    /// The replacement for `${expression}`, or nil to leave it as written.
    private mutating func resolve(_ expression: String, key: String, line: Int,
                                  log: inout DiagnosticLog) -> String? {
        let location = log.location(line)
        if expression.hasPrefix("env:") {
            let name = String(expression.dropFirst(4))
            if let value = environment[name] { return value }
            log.error("environment variable '\(name)' is not set (in '${\(expression)}')", key: key, at: location)
            return nil
        }
        if let (filter, name) = filterReference(expression) {
            if envFilters.contains(filter) {
                if let value = environment[name] { return value }
                log.error("environment variable '\(name)' is not set (in '${\(expression)}')", key: key, at: location)
                return nil
            }
            if values[expression] == nil {
                log.warning("'\(filter)' is not an env config filter listed in \(agent).configfilters; '${\(expression)}' left as is",
                            key: key, at: location)
                return nil
            }
        }
        if let target = values[expression] {
            if let cached = cache[expression] { return cached }
            if resolving.contains(expression) {
                log.error("cyclic reference '${\(expression)}'", key: key, at: location)
                return nil
            }
            return value(of: target, log: &log)
        }
        if let colon = expression.firstIndex(of: ":"),
           !expression[..<colon].isEmpty, expression[..<colon].allSatisfy(\.isLetter) {
            log.warning("unsupported lookup '${\(expression)}'; left as is", key: key, at: location)
        } else {
            log.warning("'${\(expression)}' names no property in this file; left as is", key: key, at: location)
        }
        return nil
    }
}

/// Parses `f1['NAME']`, `f1["NAME"]` or `f1[NAME]`; NAME is made of `[-_a-zA-Z0-9]`.
func filterReference(_ expression: String) -> (filter: String, name: String)? {
    guard expression.hasSuffix("]"), let open = expression.firstIndex(of: "[") else { return nil }
    let filter = String(expression[..<open])
    var inner = expression[expression.index(after: open)..<expression.index(before: expression.endIndex)]
    if inner.count >= 2, let first = inner.first, first == "'" || first == "\"", inner.last == first {
        inner = inner.dropFirst().dropLast()
    }
    let allowed = { (c: Character) -> Bool in
        c == "-" || c == "_" || (c.isASCII && (c.isLetter || c.isNumber))
    }
    guard !filter.isEmpty, !inner.isEmpty, inner.allSatisfy(allowed) else { return nil }
    return (filter, String(inner))
}
