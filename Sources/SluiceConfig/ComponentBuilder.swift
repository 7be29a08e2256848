// Shared helpers for turning a component's keys into definitions.

/// Builds a component from its keys. `isFramework` marks relative keys that the
/// framework consumes (besides `type`, which is always excluded).
/// A missing `type` is an error and yields nil.
func makeComponent(_ keys: ComponentKeys, kind: ComponentKind, log: inout DiagnosticLog,
                   isFramework: (String) -> Bool = { _ in false }) -> ComponentDefinition? {
    guard let type = keys.property("type") else {
        log.error("missing type for \(kind.noun) '\(keys.name)'", key: keys.prefix + "type",
                  at: keys.properties[0].location)
        return nil
    }
    var properties: [String: String] = [:]
    var locations: [String: SourceLocation] = [:]
    for property in keys.properties where property.relativeKey != "type" && !isFramework(property.relativeKey) {
        properties[property.relativeKey] = property.value
        locations[property.relativeKey] = property.location
    }
    return ComponentDefinition(name: keys.name, type: type.value, location: type.location,
                               properties: properties, keyLocations: locations, keyPrefix: keys.prefix)
}

/// The names in a list-valued component property, without repeats (a repeat is a warning).
func names(in property: RelativeProperty, log: inout DiagnosticLog) -> [String] {
    parseNameList(AgentProperty(key: property.fullKey, value: property.value, location: property.location),
                  log: &log).names
}

/// Where to report something missing from a component: its `type` key, else its first key.
func anchor(of keys: ComponentKeys) -> SourceLocation {
    keys.property("type")?.location ?? keys.properties[0].location
}
