// The validated shape of one agent's configuration. Type strings are kept
// exactly as written; the runtime resolves them against loaded plugins.

/// A channel, source, sink or service: a name, a type and its own properties.
public struct ComponentDefinition: Sendable {
    public var name: String
    /// The `type` value, trimmed, as written.
    public var type: String
    /// Location of the `type` key.
    public var location: SourceLocation
    /// The component's own keys relative to `keyPrefix` ("batchSize", "sink.directory"),
    /// without framework keys (`type`, `channels`, `selector.*`, ...).
    public var properties: [String: String]
    public var keyLocations: [String: SourceLocation]
    /// e.g. "a1.sources.r1.", so callers can print full keys.
    public var keyPrefix: String

    public init(name: String, type: String, location: SourceLocation, properties: [String: String],
                keyLocations: [String: SourceLocation], keyPrefix: String) {
        self.name = name
        self.type = type
        self.location = location
        self.properties = properties
        self.keyLocations = keyLocations
        self.keyPrefix = keyPrefix
    }
}

/// A source's channel selector (`selector.*`).
public struct SelectorDefinition: Sendable {
    /// "replicating" when `selector.type` is absent.
    public var type: String
    /// Keys relative to "selector.", without "type" ("header", "mapping.CA", "default", "optional", ...).
    public var properties: [String: String]
    /// Location of `selector.type`, else of the first `selector.*` key, else nil.
    public var location: SourceLocation?

    public init(type: String, properties: [String: String], location: SourceLocation?) {
        self.type = type
        self.properties = properties
        self.location = location
    }
}

/// One interceptor of a source (`interceptors.<name>.*`).
public struct InterceptorDefinition: Sendable {
    public var name: String
    public var type: String
    /// Location of the interceptor's `type` key.
    public var location: SourceLocation
    /// Keys relative to "interceptors.<name>.", without "type".
    public var properties: [String: String]
    public var keyLocations: [String: SourceLocation]
    /// e.g. "a1.sources.r1.interceptors.i1."
    public var keyPrefix: String

    public init(name: String, type: String, location: SourceLocation, properties: [String: String],
                keyLocations: [String: SourceLocation], keyPrefix: String) {
        self.name = name
        self.type = type
        self.location = location
        self.properties = properties
        self.keyLocations = keyLocations
        self.keyPrefix = keyPrefix
    }
}

public struct SourceDefinition: Sendable {
    public var component: ComponentDefinition
    /// The `channels` list, in order.
    public var channels: [String]
    public var selector: SelectorDefinition
    /// In the order of the `interceptors` list.
    public var interceptors: [InterceptorDefinition]

    public init(component: ComponentDefinition, channels: [String], selector: SelectorDefinition,
                interceptors: [InterceptorDefinition]) {
        self.component = component
        self.channels = channels
        self.selector = selector
        self.interceptors = interceptors
    }
}

public struct SinkDefinition: Sendable {
    public var component: ComponentDefinition
    public var channel: String

    public init(component: ComponentDefinition, channel: String) {
        self.component = component
        self.channel = channel
    }
}

public struct SinkGroupDefinition: Sendable {
    public var name: String
    /// The group's `sinks` list, in order.
    public var sinks: [String]
    /// "default" when `processor.type` is absent.
    public var processorType: String
    /// Keys relative to "processor.", without "type" ("priority.k1", "maxpenalty", "backoff", ...).
    public var processorProperties: [String: String]
    /// Location of the group's `sinks` key.
    public var location: SourceLocation

    public init(name: String, sinks: [String], processorType: String,
                processorProperties: [String: String], location: SourceLocation) {
        self.name = name
        self.sinks = sinks
        self.processorType = processorType
        self.processorProperties = processorProperties
        self.location = location
    }
}

public struct AgentDefinition: Sendable {
    public var name: String
    /// In the order of the `channels` list (likewise for the other lists).
    public var channels: [ComponentDefinition]
    public var sources: [SourceDefinition]
    public var sinks: [SinkDefinition]
    public var sinkGroups: [SinkGroupDefinition]
    public var services: [ComponentDefinition]
    public var warnings: [ConfigDiagnostic]

    public init(name: String, channels: [ComponentDefinition], sources: [SourceDefinition],
                sinks: [SinkDefinition], sinkGroups: [SinkGroupDefinition],
                services: [ComponentDefinition], warnings: [ConfigDiagnostic]) {
        self.name = name
        self.channels = channels
        self.sources = sources
        self.sinks = sinks
        self.sinkGroups = sinkGroups
        self.services = services
        self.warnings = warnings
    }
}
