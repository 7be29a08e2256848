/// A component's configuration properties, keyed relative to the component
/// (`batchSize`, `selector.header`). Typed getters throw a config error that
/// names the key and the bad value.
public struct Properties: Sendable {
    public let values: [String: String]

    public init(_ values: [String: String]) { self.values = values }

    public subscript(key: String) -> String? { values[key] }

    public func string(_ key: String, default def: String) -> String { values[key] ?? def }

    public func requiredString(_ key: String) throws -> String {
        guard let v = values[key], !v.isEmpty else {
            throw SluiceError.config("missing required property '\(key)'")
        }
        return v
    }

    public func int(_ key: String, default def: Int) throws -> Int {
        guard let v = values[key] else { return def }
        guard let n = Int(v.trimmingSpaces) else {
            throw SluiceError.config("property '\(key)': '\(v)' is not an integer")
        }
        return n
    }

    public func double(_ key: String, default def: Double) throws -> Double {
        guard let v = values[key] else { return def }
        guard let n = Double(v.trimmingSpaces) else {
            throw SluiceError.config("property '\(key)': '\(v)' is not a number")
        }
        return n
    }

    public func bool(_ key: String, default def: Bool) throws -> Bool {
        guard let v = values[key] else { return def }
        switch v.trimmingSpaces.lowercased() {
        case "true": return true
        case "false": return false
        default: throw SluiceError.config("property '\(key)': '\(v)' is not true or false")
        }
    }

    /// Whitespace-separated names, as in Flume's list-valued keys.
    public func list(_ key: String) -> [String] {
        (values[key] ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }

    /// Properties under `prefix.` with the prefix removed.
    public func subset(_ prefix: String) -> Properties {
        let p = prefix.hasSuffix(".") ? prefix : prefix + "."
        var out: [String: String] = [:]
        for (k, v) in values where k.hasPrefix(p) {
            out[String(k.dropFirst(p.count))] = v
        }
        return Properties(out)
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs (config values).
    public var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
