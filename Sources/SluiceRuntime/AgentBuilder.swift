import Logging
import SluiceConfig

/// Names that resolve to host-provided components, with Flume's class names.
enum HostTypes {
    static let memoryChannel = ["memory", "org.apache.flume.channel.memorychannel"]
    static let fileChannel = ["file", "org.apache.flume.channel.file.filechannel"]
    static let replicating = ["replicating", "org.apache.flume.channel.replicatingchannelselector"]
    static let multiplexing = ["multiplexing", "org.apache.flume.channel.multiplexingchannelselector"]
    static let loadBalancingSelector = ["load_balancing", "org.apache.flume.channel.loadbalancingchannelselector"]
    static let defaultProcessor = ["default", "org.apache.flume.sink.defaultsinkprocessor"]
    static let failover = ["failover", "org.apache.flume.sink.failoversinkprocessor"]
    static let loadBalance = ["load_balance", "org.apache.flume.sink.loadbalancingsinkprocessor"]

    static func `is`(_ names: [String], _ type: String) -> Bool { names.contains(type.lowercased()) }
}

/// Collects problems while building an agent so the user sees them all at once.
struct BuildProblems {
    var errors: [ConfigDiagnostic] = []
    var warnings: [ConfigDiagnostic] = []

    mutating func error(_ loc: SourceLocation?, _ key: String?, _ message: String) {
        errors.append(ConfigDiagnostic(severity: .error, location: loc, key: key, message: message))
    }

    mutating func warn(_ loc: SourceLocation?, _ key: String?, _ message: String) {
        warnings.append(ConfigDiagnostic(severity: .warning, location: loc, key: key, message: message))
    }
}

extension Agent {
    /// Resolves a plugin type or records an error listing the known types.
    static func resolve(_ kind: ComponentKind, _ type: String, registry: PluginRegistry, builtins: [String] = [],
                        loc: SourceLocation, key: String, problems: inout BuildProblems) -> ComponentTypeInfo? {
        if let t = registry.lookup(kind, type) { return t }
        let known = (builtins + registry.typeNames(kind)).joined(separator: ", ")
        problems.error(loc, key, "unknown \(kind.rawValue) type '\(type)' (known: \(known.isEmpty ? "none loaded" : known))")
        return nil
    }

    /// Warns about keys the component does not declare; errors on missing required ones.
    static func checkKeys(_ properties: [String: String], locations: [String: SourceLocation], prefix: String,
                          fallback: SourceLocation, isKnown: (String) -> Bool, required: [String],
                          what: String, problems: inout BuildProblems) {
        for key in properties.keys.sorted() where !isKnown(key) {
            problems.warn(locations[key] ?? fallback, prefix + key, "unknown property for \(what); ignored by it")
        }
        for key in required where properties[key] == nil {
            problems.error(fallback, prefix + key, "missing required property for \(what)")
        }
    }

    /// Flume refuses a batchSize larger than the channel's transactionCapacity.
    /// A key left out counts with the default the plugin declares, as Flume
    /// checks the effective batch size.
    static func checkBatchSize(_ def: ComponentDefinition, type: ComponentTypeInfo, channel: Channel, problems: inout BuildProblems) {
        let keys = ["batchSize", "batch-size", "sink.batchSize", "flumeBatchSize"]
        // Keys that are set win; only when none is, the declared defaults count
        // (a plugin may accept two spellings of one setting).
        let set = keys.filter { def.properties[$0] != nil }
        for key in set.isEmpty ? keys : set {
            let declared = type.keys.first { $0.name == key }?.defaultValue
            if let v = def.properties[key] ?? declared, let n = Int(v), n > channel.transactionCapacity {
                problems.error(def.keyLocations[key] ?? def.location, def.keyPrefix + key,
                               "\(key) \(n) exceeds transactionCapacity \(channel.transactionCapacity) of channel '\(channel.name)'")
            }
        }
    }
}
