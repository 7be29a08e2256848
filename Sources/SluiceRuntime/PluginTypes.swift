import SluiceABI

public enum ComponentKind: String, Sendable, CaseIterable {
    case source, sink, interceptor, selector, service

    init?(_ raw: sluice_kind) {
        switch raw {
        case SLUICE_KIND_SOURCE: self = .source
        case SLUICE_KIND_SINK: self = .sink
        case SLUICE_KIND_INTERCEPTOR: self = .interceptor
        case SLUICE_KIND_SELECTOR: self = .selector
        case SLUICE_KIND_SERVICE: self = .service
        default: return nil
        }
    }
}

/// A config key a component declared (copied out of the plugin).
public struct DeclaredKey: Sendable {
    public var name: String
    public var type: String
    public var defaultValue: String?
    public var doc: String
    public var required: Bool

    /// Whether `key` is this key, or under it when the name ends in ".*".
    public func matches(_ key: String) -> Bool { keyPattern(name, matches: key) }
}

/// One component type from a loaded plugin. Holds a copy of the plugin's
/// struct (zero-filled past what the plugin knew) and Swift copies of its strings.
public struct ComponentTypeInfo: @unchecked Sendable {
    public let kind: ComponentKind
    public let typeName: String
    public let aliases: [String]
    public let description: String
    public let keys: [DeclaredKey]
    public let pluginPath: String
    public let pluginName: String
    let raw: sluice_component_type

    public var isPollableSource: Bool { kind == .source && raw.process != nil }

    /// Accepted keys: declared ones, plus those the host handles for this kind.
    public func isKnownKey(_ key: String) -> Bool {
        if keys.contains(where: { $0.matches(key) }) { return true }
        switch kind {
        case .source: return isPollableSource && ["backoffSleepIncrement", "maxBackoffSleep"].contains(key)
        default: return false
        }
    }
}

/// One loaded plugin file.
public struct LoadedPlugin: Sendable {
    public let path: String
    public let sha256: String
    public let name: String
    public let version: String
    public let abiMajor: Int
    public let abiMinor: Int
    public let types: [ComponentTypeInfo]
}

/// Why a plugin was refused. The description is the one line the CLI prints.
public struct PluginLoadError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "plugin \(path): \(reason)" }
}

/// `pattern` is a config key, or a prefix when it ends in ".*"
/// ("priority.*" covers "priority.k1").
func keyPattern(_ pattern: String, matches key: String) -> Bool {
    if pattern.hasSuffix(".*") { return key.hasPrefix(pattern.dropLast(1)) }
    return key == pattern
}
