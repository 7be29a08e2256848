// `<agent>.configfilters`: only the `env` filter type is supported.

private let envFilterTypes: Set<String> = [
    "env",
    "org.apache.flume.configfilter.environmentvariableconfigfilter",
]

/// Returns the names of the agent's listed config filters of type `env`.
/// Uses raw (uninterpolated) values; empty values are skipped here and reported later.
func collectEnvConfigFilters(_ entries: [PropertiesFile.Entry], agent: String,
                             log: inout DiagnosticLog) -> Set<String> {
    let listKey = "\(agent).\(ComponentKind.configfilters.rawValue)"
    let properties = entries
        .filter { ($0.key == listKey || $0.key.hasPrefix(listKey + ".")) && !$0.value.isEmpty }
        .map { AgentProperty(key: $0.key, value: $0.value, location: log.location($0.line)) }
    guard !properties.isEmpty else { return [] }

    let keys = AgentKeys(properties, agent: agent, log: &log)
    var names: Set<String> = []
    for filter in keys.listedComponents(.configfilters, agent: agent, log: &log) {
        guard let type = filter.property("type") else {
            let first = filter.properties[0]
            log.error("missing type for config filter '\(filter.name)'", key: filter.prefix + "type", at: first.location)
            continue
        }
        guard envFilterTypes.contains(type.value.lowercased()) else {
            log.error("unsupported config filter type '\(type.value)' (only 'env' is supported)",
                      key: type.fullKey, at: type.location)
            continue
        }
        for other in filter.properties where other.relativeKey != "type" {
            log.warning("unknown property; env config filters take no properties", key: other.fullKey, at: other.location)
        }
        names.insert(filter.name)
    }
    return names
}
