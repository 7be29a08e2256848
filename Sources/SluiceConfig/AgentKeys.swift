// Selecting one agent's keys from a file and sorting them by component.

/// One property of the agent, after de-duplication and interpolation.
struct AgentProperty {
    /// The full key as written, e.g. "a1.sources.r1.port".
    var key: String
    var value: String
    var location: SourceLocation
}

/// The kinds of named things an agent lists at top level.
enum ComponentKind: String, CaseIterable {
    case sources, channels, sinks, sinkgroups, services, configfilters

    /// Singular noun for messages.
    var noun: String {
        switch self {
        case .sources: return "source"
        case .channels: return "channel"
        case .sinks: return "sink"
        case .sinkgroups: return "sink group"
        case .services: return "service"
        case .configfilters: return "config filter"
        }
    }
}

/// A property of a component, keyed relative to the component's prefix.
struct RelativeProperty {
    var relativeKey: String
    var value: String
    var fullKey: String
    var location: SourceLocation
}

/// A whitespace-separated list of names, e.g. `a1.sources = r1 r2`.
struct NameList {
    var names: [String]
    var key: String
    var location: SourceLocation
}

/// The keys below one named component, in file order.
struct ComponentKeys {
    var name: String
    var prefix: String
    var properties: [RelativeProperty] = []

    func property(_ relativeKey: String) -> RelativeProperty? {
        properties.first { $0.relativeKey == relativeKey }
    }
}

/// The list key and component keys of one kind.
struct KindKeys {
    var list: NameList?
    var components: [String: ComponentKeys] = [:]
    var order: [String] = []
}

/// Splits a value on whitespace (as Java's `split("\\s+")` after trim) and drops repeats with a warning.
func parseNameList(_ property: AgentProperty, log: inout DiagnosticLog) -> NameList {
    var names: [String] = []
    for name in splitOnWhitespace(property.value) {
        if names.contains(name) {
            log.warning("'\(name)' is listed more than once", key: property.key, at: property.location)
        } else {
            names.append(name)
        }
    }
    return NameList(names: names, key: property.key, location: property.location)
}

func splitOnWhitespace(_ text: String) -> [String] {
    text.unicodeScalars
        .split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{0B}" || $0 == "\u{0C}" })
        .map { String($0) }
}

/// Keys starting with "<agent>." in file order; a repeated key keeps its last value.
/// Repeating a top-level list key is an error; repeating any other key a warning.
func selectAgentEntries(_ file: PropertiesFile, agent: String, log: inout DiagnosticLog) -> [PropertiesFile.Entry] {
    let prefix = agent + "."
    let selected = file.entries.filter { $0.key.hasPrefix(prefix) }
    var lastIndex: [String: Int] = [:]
    for (index, entry) in selected.enumerated() {
        if let previous = lastIndex[entry.key] {
            let earlier = selected[previous].line
            let rest = String(entry.key.dropFirst(prefix.count))
            if ComponentKind(rawValue: rest) != nil {
                log.error("duplicate property (also set at line \(earlier))", key: entry.key, at: log.location(entry.line))
            } else {
                log.warning("duplicate property; overrides the value set at line \(earlier)",
                            key: entry.key, at: log.location(entry.line))
            }
        }
        lastIndex[entry.key] = index
    }
    return selected.enumerated().filter { lastIndex[$0.element.key] == $0.offset }.map(\.element)
}

/// The agent's properties sorted by kind and component.
struct AgentKeys {
    var kinds: [ComponentKind: KindKeys] = [:]

    subscript(kind: ComponentKind) -> KindKeys {
        kinds[kind] ?? KindKeys()
    }

    /// Sorts properties; keys matching no list or component prefix get an "unknown property" warning.
    init(_ properties: [AgentProperty], agent: String, log: inout DiagnosticLog) {
        let agentPrefix = agent + "."
        for property in properties {
            let rest = property.key.dropFirst(agentPrefix.count)
            if let kind = ComponentKind(rawValue: String(rest)) {
                kinds[kind, default: KindKeys()].list = parseNameList(property, log: &log)
                continue
            }
            let parts = rest.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, let kind = ComponentKind(rawValue: String(parts[0])),
                  !parts[1].isEmpty, !parts[2].isEmpty else {
                log.warning("unknown property; ignored", key: property.key, at: property.location)
                continue
            }
            let name = String(parts[1])
            let relative = RelativeProperty(relativeKey: String(parts[2]), value: property.value,
                                            fullKey: property.key, location: property.location)
            var keys = kinds[kind, default: KindKeys()]
            if keys.components[name] == nil {
                keys.components[name] = ComponentKeys(name: name, prefix: "\(agentPrefix)\(kind.rawValue).\(name).")
                keys.order.append(name)
            }
            keys.components[name]!.properties.append(relative)
            kinds[kind] = keys
        }
    }

    /// The listed components of `kind` that have properties, in list order.
    /// A listed name without properties is an error; properties of an unlisted name are a warning.
    func listedComponents(_ kind: ComponentKind, agent: String, log: inout DiagnosticLog) -> [ComponentKeys] {
        let keys = self[kind]
        let listed = keys.list?.names ?? []
        var result: [ComponentKeys] = []
        for name in listed {
            if let component = keys.components[name] {
                result.append(component)
            } else if let list = keys.list {
                log.error("\(kind.noun) '\(name)' is listed in \(list.key) but has no properties",
                          key: list.key, at: list.location)
            }
        }
        for name in keys.order where !listed.contains(name) {
            let first = keys.components[name]!.properties[0]
            log.warning("\(kind.noun) '\(name)' is not listed in \(agent).\(kind.rawValue); its properties are ignored",
                        key: first.fullKey, at: first.location)
        }
        return result
    }
}
