import SluiceABI

#if canImport(Glibc)
import Glibc
#endif

/// The type of a configuration value, for validation and docs.
public enum ValueType: Sendable {
    case string, int, bool, double, list

    var raw: sluice_value_type {
        switch self {
        case .string: return SLUICE_VALUE_STRING
        case .int: return SLUICE_VALUE_INT
        case .bool: return SLUICE_VALUE_BOOL
        case .double: return SLUICE_VALUE_DOUBLE
        case .list: return SLUICE_VALUE_LIST
        }
    }
}

/// A configuration key a component declares. A name ending in ".*" covers
/// every key under that prefix.
public struct ConfigKey: Sendable {
    public var name: String
    public var type: ValueType
    public var defaultValue: String?
    public var doc: String
    public var required: Bool

    public init(_ name: String, _ type: ValueType = .string, default defaultValue: String? = nil,
                required: Bool = false, _ doc: String = "") {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.doc = doc
        self.required = required
    }
}

/// One component type a plugin exports. Build it with the static functions
/// (`.interceptor(MyType.self, type: "upper")`, ...).
public struct ComponentSpec {
    let kind: sluice_kind
    let typeName: String
    let aliases: [String]
    let description: String
    let keys: [ConfigKey]
    let make: (ComponentContext, Properties, InstanceBox) throws -> Void

    public static func source<T: PollableSource>(_ type: T.Type, type name: String, aliases: [String] = [],
                                                 description: String = "", keys: [ConfigKey] = []) -> ComponentSpec {
        ComponentSpec(kind: SLUICE_KIND_SOURCE, typeName: name, aliases: aliases, description: description, keys: keys) { ctx, p, box in
            let c = try T(context: ctx, properties: p)
            box.component = c
            box.pollable = c
        }
    }

    public static func source<T: EventDrivenSource>(_ type: T.Type, type name: String, aliases: [String] = [],
                                                    description: String = "", keys: [ConfigKey] = []) -> ComponentSpec {
        ComponentSpec(kind: SLUICE_KIND_SOURCE, typeName: name, aliases: aliases, description: description, keys: keys,
                      pollable: false) { ctx, p, box in
            box.component = try T(context: ctx, properties: p)
        }
    }

    public static func sink<T: Sink>(_ type: T.Type, type name: String, aliases: [String] = [],
                                     description: String = "", keys: [ConfigKey] = []) -> ComponentSpec {
        ComponentSpec(kind: SLUICE_KIND_SINK, typeName: name, aliases: aliases, description: description, keys: keys) { ctx, p, box in
            let c = try T(context: ctx, properties: p)
            box.component = c
            box.sink = c
        }
    }

    public static func interceptor<T: Interceptor>(_ type: T.Type, type name: String, aliases: [String] = [],
                                                   description: String = "", keys: [ConfigKey] = []) -> ComponentSpec {
        ComponentSpec(kind: SLUICE_KIND_INTERCEPTOR, typeName: name, aliases: aliases, description: description, keys: keys) { ctx, p, box in
            let c = try T(context: ctx, properties: p)
            box.component = c
            box.interceptor = c
        }
    }

    public static func selector<T: ChannelSelector>(_ type: T.Type, type name: String, aliases: [String] = [],
                                                    description: String = "", keys: [ConfigKey] = []) -> ComponentSpec {
        ComponentSpec(kind: SLUICE_KIND_SELECTOR, typeName: name, aliases: aliases, description: description, keys: keys) { ctx, p, box in
            let c = try T(context: ctx, properties: p)
            box.component = c
            box.selector = c
        }
    }

    public static func service<T: Service>(_ type: T.Type, type name: String, aliases: [String] = [],
                                           description: String = "", keys: [ConfigKey] = []) -> ComponentSpec {
        ComponentSpec(kind: SLUICE_KIND_SERVICE, typeName: name, aliases: aliases, description: description, keys: keys) { ctx, p, box in
            box.component = try T(context: ctx, properties: p)
        }
    }

    var pollable = true

    init(kind: sluice_kind, typeName: String, aliases: [String], description: String, keys: [ConfigKey],
         pollable: Bool = true, make: @escaping (ComponentContext, Properties, InstanceBox) throws -> Void) {
        self.kind = kind
        self.typeName = typeName
        self.aliases = aliases
        self.description = description
        self.keys = keys
        self.pollable = pollable
        self.make = make
    }
}

/// Builds the plugin descriptor. Use it as the body of the one exported
/// function:
///
///     @_cdecl("sluice_plugin_entry")
///     public func sluicePluginEntry() -> UnsafeRawPointer {
///         Plugin.export(name: "my-plugin", version: "1.0.0", components: [
///             .interceptor(Upper.self, type: "upper"),
///         ])
///     }
public enum Plugin {
    public static func export(name: String, version: String, components: [ComponentSpec]) -> UnsafeRawPointer {
        // Everything allocated here lives for the life of the process:
        // plugins are never unloaded.
        let types = UnsafeMutablePointer<sluice_component_type>.allocate(capacity: max(components.count, 1))
        for (i, spec) in components.enumerated() {
            var t = sluice_component_type()
            t.struct_size = UInt32(MemoryLayout<sluice_component_type>.size)
            t.kind = spec.kind
            t.type_name = UnsafePointer(strdup(spec.typeName))
            let aliases = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: max(spec.aliases.count, 1))
            for (j, a) in spec.aliases.enumerated() { aliases[j] = UnsafePointer(strdup(a)) }
            t.aliases = UnsafePointer(aliases)
            t.alias_count = UInt32(spec.aliases.count)
            let keys = UnsafeMutablePointer<sluice_config_key>.allocate(capacity: max(spec.keys.count, 1))
            for (j, k) in spec.keys.enumerated() {
                keys[j] = sluice_config_key(
                    struct_size: UInt32(MemoryLayout<sluice_config_key>.size), type: k.type.raw,
                    name: UnsafePointer(strdup(k.name)),
                    default_value: k.defaultValue.map { UnsafePointer(strdup($0)) } ?? nil,
                    doc: UnsafePointer(strdup(k.doc)), required: k.required ? 1 : 0)
            }
            t.config_keys = UnsafePointer(keys)
            t.config_key_count = UInt32(spec.keys.count)
            t.description = UnsafePointer(strdup(spec.description))
            t.type_data = Unmanaged.passRetained(SpecBox(spec)).toOpaque()
            t.create = thunkCreate
            t.configure = thunkConfigure
            t.start = thunkStart
            t.stop = thunkStop
            t.destroy = thunkDestroy
            switch spec.kind {
            case SLUICE_KIND_SOURCE: if spec.pollable { t.process = thunkProcess }
            case SLUICE_KIND_SINK: t.process = thunkProcess
            case SLUICE_KIND_INTERCEPTOR: t.intercept = thunkIntercept
            case SLUICE_KIND_SELECTOR: t.select = thunkSelect
            default: break
            }
            types[i] = t
        }
        let d = UnsafeMutablePointer<sluice_plugin_descriptor>.allocate(capacity: 1)
        d.initialize(to: sluice_plugin_descriptor(
            struct_size: UInt32(MemoryLayout<sluice_plugin_descriptor>.size),
            abi_major: UInt16(SLUICE_ABI_MAJOR), abi_minor: UInt16(SLUICE_ABI_MINOR),
            name: UnsafePointer(strdup(name)), version: UnsafePointer(strdup(version)),
            component_type_size: UInt32(MemoryLayout<sluice_component_type>.size),
            component_count: UInt32(components.count), components: UnsafePointer(types)))
        return UnsafeRawPointer(d)
    }
}

final class SpecBox {
    let spec: ComponentSpec
    init(_ spec: ComponentSpec) { self.spec = spec }
}

/// One live component instance behind the ABI's `void *instance`.
final class InstanceBox {
    let context: ComponentContext
    let spec: SpecBox
    var component: (any Component)?
    var pollable: (any PollableSource)?
    var sink: (any Sink)?
    var interceptor: (any Interceptor)?
    var selector: (any ChannelSelector)?

    init(context: ComponentContext, spec: SpecBox) {
        self.context = context
        self.spec = spec
    }
}

// The instance pointer is passed unretained on every call: the box's
// lifetime is create...destroy, which the host guarantees brackets all calls.
@inline(__always)
private func box(_ p: UnsafeMutableRawPointer?) -> InstanceBox {
    Unmanaged<InstanceBox>.fromOpaque(p!).takeUnretainedValue()
}

private let thunkCreate: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<sluice_host_api>?, OpaquePointer?,
                                         UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<sluice_error>?) -> sluice_status = {
    typeData, host, handle, out, err in
    guard let typeData, let host, let handle, let out else {
        writeMessage("create: NULL argument", to: err)
        return sluice_status(SLUICE_ERR_STATE)
    }
    let spec = Unmanaged<SpecBox>.fromOpaque(typeData).takeUnretainedValue()
    let b = InstanceBox(context: ComponentContext(host: host, handle: handle), spec: spec)
    out.pointee = Unmanaged.passRetained(b).toOpaque()
    return sluice_status(SLUICE_OK)
}

private let thunkConfigure: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<sluice_property>?, Int,
                                            UnsafeMutablePointer<sluice_error>?) -> sluice_status = { inst, props, count, err in
    catching(err) {
        let b = box(inst)
        var values: [String: String] = [:]
        for i in 0..<count {
            let p = props![i]
            values[String(cString: p.key)] = String(cString: p.value)
        }
        try b.spec.spec.make(b.context, Properties(values), b)
        return sluice_status(SLUICE_OK)
    }
}

private let thunkStart: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<sluice_error>?) -> sluice_status = { inst, err in
    catching(err) {
        guard let c = box(inst).component else { throw SluiceError(.state, "start before configure") }
        try c.start()
        return sluice_status(SLUICE_OK)
    }
}

private let thunkStop: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<sluice_error>?) -> sluice_status = { inst, err in
    catching(err) {
        try box(inst).component?.stop()
        return sluice_status(SLUICE_OK)
    }
}

private let thunkDestroy: @convention(c) (UnsafeMutableRawPointer?) -> Void = { inst in
    guard let inst else { return }
    Unmanaged<InstanceBox>.fromOpaque(inst).release()
}

private let thunkProcess: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<sluice_error>?) -> sluice_status = { inst, err in
    catching(err) {
        let b = box(inst)
        if let s = b.pollable { return try s.process().raw }
        if let s = b.sink { return try s.process().raw }
        throw SluiceError(.state, "process before configure")
    }
}

private let thunkIntercept: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<sluice_batch>?,
                                            UnsafeMutablePointer<sluice_error>?) -> sluice_status = { inst, batch, err in
    catching(err) {
        let b = box(inst)
        guard let i = b.interceptor else { throw SluiceError(.state, "intercept before configure") }
        try i.intercept(MutableBatch(batch!, host: b.context.host))
        return sluice_status(SLUICE_OK)
    }
}

private let thunkSelect: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<sluice_batch>?, UnsafeMutablePointer<UInt64>?,
                                         UnsafeMutablePointer<UInt64>?, UnsafeMutablePointer<sluice_error>?) -> sluice_status = {
    inst, batch, req, opt, err in
    catching(err) {
        let b = box(inst)
        guard let s = b.selector else { throw SluiceError(.state, "select before configure") }
        let n = batch!.pointee.count
        try s.select(EventBatchView(batch!), required: UnsafeMutableBufferPointer(start: req, count: n),
                     optional: UnsafeMutableBufferPointer(start: opt, count: n))
        return sluice_status(SLUICE_OK)
    }
}
