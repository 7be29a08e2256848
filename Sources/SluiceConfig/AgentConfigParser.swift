// Turns a properties file into one agent's validated definition, with Flume's rules.

public enum AgentConfigParser {
    /// Parses the keys of `agent` in `file`. Values are interpolated first (see Interpolation.swift).
    /// Throws a `ConfigError` holding ALL error diagnostics found; warnings end up in the result.
    public static func parse(_ file: PropertiesFile, agent: String,
                             environment: [String: String]) throws -> AgentDefinition {
        var log = DiagnosticLog(file: file.file)
        let entries = selectAgentEntries(file, agent: agent, log: &log)
        guard !entries.isEmpty else {
            throw ConfigError(diagnostics: [noAgentDiagnostic(file, agent: agent)])
        }

        let envFilters = collectEnvConfigFilters(entries, agent: agent, log: &log)
        let properties = interpolatedProperties(entries, file: file, agent: agent, environment: environment,
                                                envFilters: envFilters, log: &log)
        let keys = AgentKeys(properties, agent: agent, log: &log)
        let channelList = keys[.channels].list
        let sinkList = keys[.sinks].list

        let channels = keys.listedComponents(.channels, agent: agent, log: &log)
            .compactMap { makeComponent($0, kind: .channels, log: &log) }
        let sources = keys.listedComponents(.sources, agent: agent, log: &log)
            .compactMap { parseSource($0, channelList: channelList, agent: agent, log: &log) }
        let sinks = keys.listedComponents(.sinks, agent: agent, log: &log)
            .compactMap { parseSink($0, channelList: channelList, agent: agent, log: &log) }
        let groups = parseSinkGroups(keys.listedComponents(.sinkgroups, agent: agent, log: &log),
                                     sinkList: sinkList, agent: agent, log: &log)
        let services = keys.listedComponents(.services, agent: agent, log: &log)
            .compactMap { makeComponent($0, kind: .services, log: &log) }

        checkAgentShape(keys, agent: agent, firstLocation: log.location(entries[0].line), log: &log)

        if !log.errors.isEmpty {
            throw ConfigError(diagnostics: log.sortedErrors)
        }
        return AgentDefinition(name: agent, channels: channels, sources: sources, sinks: sinks,
                               sinkGroups: groups, services: services, warnings: log.sortedWarnings)
    }

    /// "no properties for agent 'a1' (agents found in the file: a2, b1)"
    private static func noAgentDiagnostic(_ file: PropertiesFile, agent: String) -> ConfigDiagnostic {
        var found: [String] = []
        for entry in file.entries {
            guard let dot = entry.key.firstIndex(of: "."), dot != entry.key.startIndex else { continue }
            let name = String(entry.key[..<dot])
            if !found.contains(name) { found.append(name) }
        }
        let detail = found.isEmpty
            ? "the file defines no agents"
            : "agents found in the file: \(found.sorted().joined(separator: ", "))"
        return ConfigDiagnostic(severity: .error, location: SourceLocation(file: file.file, line: 0), key: nil,
                                message: "no properties for agent '\(agent)' (\(detail))")
    }

    /// Interpolates and trims values; drops empty values (warning) and config filter keys
    /// (already handled by `collectEnvConfigFilters`).
    private static func interpolatedProperties(_ entries: [PropertiesFile.Entry], file: PropertiesFile, agent: String,
                                               environment: [String: String], envFilters: Set<String>,
                                               log: inout DiagnosticLog) -> [AgentProperty] {
        var interpolator = Interpolator(file: file, agent: agent, environment: environment, envFilters: envFilters)
        let filterKey = "\(agent).\(ComponentKind.configfilters.rawValue)"
        var result: [AgentProperty] = []
        for entry in entries {
            let location = log.location(entry.line)
            let value = trimmed(interpolator.value(of: entry, log: &log))
            if value.isEmpty {
                log.warning("empty value; property ignored", key: entry.key, at: location)
                continue
            }
            if entry.key == filterKey || entry.key.hasPrefix(filterKey + ".") { continue }
            result.append(AgentProperty(key: entry.key, value: value, location: location))
        }
        return result
    }

    /// Agent-level rules: sources/sinks need channels; an agent must define something.
    private static func checkAgentShape(_ keys: AgentKeys, agent: String, firstLocation: SourceLocation,
                                        log: inout DiagnosticLog) {
        let sources = keys[.sources].list
        let sinks = keys[.sinks].list
        let channels = keys[.channels].list
        let services = keys[.services].list

        if channels == nil, let user = sources ?? sinks {
            log.error("agent '\(agent)' has \(sources != nil ? "sources" : "sinks") but no channels (\(agent).channels is missing)",
                      key: user.key, at: user.location)
        }
        if sources == nil, sinks == nil, channels == nil, services == nil {
            log.error("agent '\(agent)' defines no sources, channels, sinks or services (\(agent).sources etc. are missing)",
                      key: nil, at: firstLocation)
        } else if sources == nil, sinks == nil, let channels {
            log.warning("agent '\(agent)' has channels but no sources or sinks", key: channels.key, at: channels.location)
        }
    }
}
