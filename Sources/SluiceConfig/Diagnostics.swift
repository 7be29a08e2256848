// Locations, diagnostics and the error type thrown by the config layer.

/// A place in a configuration file. A `line` of 0 means "the file as a whole".
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    /// "agent.conf:12", or just "agent.conf" when `line` is 0.
    public var description: String {
        line > 0 ? "\(file):\(line)" : file
    }
}

/// One finding about a configuration file.
public struct ConfigDiagnostic: Sendable, CustomStringConvertible {
    public enum Severity: Sendable { case warning, error }

    public var severity: Severity
    public var location: SourceLocation?
    /// The full property key as written, e.g. "a1.sinks.k1.channel".
    public var key: String?
    public var message: String

    public init(severity: Severity, location: SourceLocation?, key: String?, message: String) {
        self.severity = severity
        self.location = location
        self.key = key
        self.message = message
    }

    /// "agent.conf:12: a1.sinks.k1.channel: undefined channel 'c9'"; nil parts are omitted.
    public var description: String {
        var parts: [String] = []
        if let location { parts.append(location.description) }
        if let key { parts.append(key) }
        parts.append(message)
        return parts.joined(separator: ": ")
    }
}

/// Thrown when a configuration cannot be used; holds every error found.
public struct ConfigError: Error, CustomStringConvertible {
    public var diagnostics: [ConfigDiagnostic]

    public init(diagnostics: [ConfigDiagnostic]) {
        self.diagnostics = diagnostics
    }

    /// One line per diagnostic.
    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}

/// Collects diagnostics while a file is being checked.
struct DiagnosticLog {
    let file: String
    private(set) var errors: [ConfigDiagnostic] = []
    private(set) var warnings: [ConfigDiagnostic] = []

    init(file: String) {
        self.file = file
    }

    func location(_ line: Int) -> SourceLocation {
        SourceLocation(file: file, line: line)
    }

    mutating func error(_ message: String, key: String?, at location: SourceLocation?) {
        errors.append(ConfigDiagnostic(severity: .error, location: location, key: key, message: message))
    }

    mutating func warning(_ message: String, key: String?, at location: SourceLocation?) {
        warnings.append(ConfigDiagnostic(severity: .warning, location: location, key: key, message: message))
    }

    /// Errors in file order (stable for equal lines).
    var sortedErrors: [ConfigDiagnostic] { Self.byLine(errors) }
    /// Warnings in file order (stable for equal lines).
    var sortedWarnings: [ConfigDiagnostic] { Self.byLine(warnings) }

    private static func byLine(_ list: [ConfigDiagnostic]) -> [ConfigDiagnostic] {
        list.enumerated()
            .sorted { lhs, rhs in
                let l = lhs.element.location?.line ?? 0
                let r = rhs.element.location?.line ?? 0
                return l != r ? l < r : lhs.offset < rhs.offset
            }
            .map(\.element)
    }
}
