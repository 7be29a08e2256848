import Logging
import SluiceABI
import SluiceConfig

/// A running Flume-style agent: channels, sources with their channel
/// processors, sink groups with their runners, and services. Built from a
/// validated AgentDefinition against the loaded plugins; started and stopped
/// in Flume's order.
public final class Agent: @unchecked Sendable {
    public let name: String
    public let metrics: MetricsRegistry
    public private(set) var warnings: [ConfigDiagnostic] = []
    let logger = Logger(label: "sluice")

    var channels: [Channel] = []
    var sources: [(component: PluginComponent, runner: Runner?)] = []
    var sinkGroups: [(processor: SinkProcessor, runner: Runner)] = []
    var services: [PluginComponent] = []
    var interceptorsAndSelectors: [PluginComponent] = []
    private var started = false

    /// Builds and configures every component. Throws ConfigError listing all
    /// problems (each naming file, line and key); warnings are kept in `warnings`.
    public init(definition def: AgentDefinition, registry: PluginRegistry, metrics: MetricsRegistry = MetricsRegistry()) throws {
        name = def.name
        self.metrics = metrics
        var problems = BuildProblems()
        problems.warnings = def.warnings

        // Services first: sinks and sources may depend on them.
        for s in def.services {
            guard let t = Self.resolve(.service, s.type, registry: registry, loc: s.location, key: s.keyPrefix + "type", problems: &problems) else { continue }
            if let c = makeComponent(t, s, category: "SERVICE", problems: &problems) { services.append(c) }
        }

        // Channels.
        var channelByName: [String: Channel] = [:]
        for c in def.channels {
            let isMemory = HostTypes.is(HostTypes.memoryChannel, c.type)
            guard isMemory || HostTypes.is(HostTypes.fileChannel, c.type) else {
                problems.error(c.location, c.keyPrefix + "type", "unknown channel type '\(c.type)' (known: memory, file)")
                continue
            }
            let known = isMemory ? MemoryChannel.knownKeys : FileChannelConfig.knownKeys
            Self.checkKeys(c.properties, locations: c.keyLocations, prefix: c.keyPrefix, fallback: c.location,
                           isKnown: { known.contains($0) }, required: [], what: "\(isMemory ? "memory" : "file") channel",
                           problems: &problems)
            do {
                let group = metrics.group(category: "CHANNEL", name: c.name, type: c.type)
                let ch: Channel = isMemory ? try MemoryChannel(name: c.name, properties: c.properties, metrics: group)
                                           : try FileChannel(name: c.name, properties: c.properties, metrics: group)
                channels.append(ch)
                channelByName[c.name] = ch
            } catch {
                problems.error(c.location, String(c.keyPrefix.dropLast()), "\(error)")
            }
        }

        // Sinks, then their groups.
        var sinkByName: [String: PluginComponent] = [:]
        for s in def.sinks {
            let c = s.component
            guard let t = Self.resolve(.sink, c.type, registry: registry, loc: c.location, key: c.keyPrefix + "type", problems: &problems),
                  let ch = channelByName[s.channel],
                  let comp = makeComponent(t, c, category: "SINK", problems: &problems) else { continue }
            Self.checkBatchSize(c, type: t, channel: ch, problems: &problems)
            comp.handle.channel = ch
            sinkByName[c.name] = comp
        }
        var grouped = Set<String>()
        for g in def.sinkGroups {
            let members = g.sinks.compactMap { sinkByName[$0] }
            guard members.count == g.sinks.count else { continue }
            grouped.formUnion(g.sinks)
            let props = g.processorProperties
            do {
                let p: SinkProcessor
                if HostTypes.is(HostTypes.failover, g.processorType) {
                    Self.checkKeys(props, locations: [:], prefix: "\(def.name).sinkgroups.\(g.name).processor.", fallback: g.location,
                                   isKnown: { k in FailoverSinkProcessor.knownKeys.contains { keyPattern($0, matches: k) } },
                                   required: [], what: "failover processor", problems: &problems)
                    p = try FailoverSinkProcessor(sinks: members, properties: props, group: g.name)
                } else if HostTypes.is(HostTypes.loadBalance, g.processorType) {
                    Self.checkKeys(props, locations: [:], prefix: "\(def.name).sinkgroups.\(g.name).processor.", fallback: g.location,
                                   isKnown: { LoadBalancingSinkProcessor.knownKeys.contains($0) }, required: [], what: "load_balance processor", problems: &problems)
                    p = try LoadBalancingSinkProcessor(sinks: members, properties: props, group: g.name)
                } else if HostTypes.is(HostTypes.defaultProcessor, g.processorType) {
                    Self.checkKeys(props, locations: [:], prefix: "\(def.name).sinkgroups.\(g.name).processor.", fallback: g.location,
                                   isKnown: { _ in false }, required: [], what: "default processor", problems: &problems)
                    guard members.count == 1 else {
                        throw SinkProcessorError(description: "sink group '\(g.name)': the default processor takes exactly one sink")
                    }
                    p = DefaultSinkProcessor(sink: members[0])
                } else {
                    throw SinkProcessorError(description: "unknown sink processor type '\(g.processorType)' (known: default, failover, load_balance)")
                }
                sinkGroups.append((p, makeSinkRunner(p, name: g.name)))
            } catch {
                problems.error(g.location, "\(def.name).sinkgroups.\(g.name).processor.type", "\(error)")
            }
        }
        for s in def.sinks where !grouped.contains(s.component.name) {
            guard let comp = sinkByName[s.component.name] else { continue }
            let p = DefaultSinkProcessor(sink: comp)
            sinkGroups.append((p, makeSinkRunner(p, name: comp.name)))
        }

        // Sources with their interceptors and selectors.
        for s in def.sources {
            buildSource(s, registry: registry, channelByName: channelByName, problems: &problems)
        }

        warnings = problems.warnings
        if !problems.errors.isEmpty {
            destroyAll()
            // Warnings travel with the errors: a typo'd key is often the cause.
            throw ConfigError(diagnostics: problems.warnings + problems.errors)
        }
    }

    private func buildSource(_ s: SourceDefinition, registry: PluginRegistry, channelByName: [String: Channel], problems: inout BuildProblems) {
        let c = s.component
        guard let t = Self.resolve(.source, c.type, registry: registry, loc: c.location, key: c.keyPrefix + "type", problems: &problems) else { return }
        let chans = s.channels.compactMap { channelByName[$0] }
        guard chans.count == s.channels.count, !chans.isEmpty else { return }
        guard chans.count <= 64 else {
            problems.error(c.location, c.keyPrefix + "channels", "a source may write to at most 64 channels")
            return
        }
        for ch in chans { Self.checkBatchSize(c, type: t, channel: ch, problems: &problems) }
        var interceptors: [PluginComponent] = []
        for i in s.interceptors {
            guard let it = Self.resolve(.interceptor, i.type, registry: registry, loc: i.location, key: i.keyPrefix + "type", problems: &problems) else { continue }
            let d = ComponentDefinition(name: "\(c.name).\(i.name)", type: i.type, location: i.location,
                                        properties: i.properties, keyLocations: i.keyLocations, keyPrefix: i.keyPrefix)
            if let ic = makeComponent(it, d, category: "INTERCEPTOR", problems: &problems, registerMetrics: false) {
                interceptors.append(ic)
                interceptorsAndSelectors.append(ic)
            }
        }
        let selector: ChannelSelecting
        let sel = s.selector
        let selKey = c.keyPrefix + "selector.type"
        let selLoc = sel.location ?? c.location
        do {
            if HostTypes.is(HostTypes.replicating, sel.type) {
                try checkSelectorKeys(sel, ReplicatingSelector.knownKeys, c, &problems)
                selector = try ReplicatingSelector(channels: s.channels, properties: sel.properties)
            } else if HostTypes.is(HostTypes.multiplexing, sel.type) {
                try checkSelectorKeys(sel, MultiplexingSelector.knownKeys, c, &problems)
                selector = try MultiplexingSelector(channels: s.channels, properties: sel.properties)
            } else if HostTypes.is(HostTypes.loadBalancingSelector, sel.type) {
                try checkSelectorKeys(sel, LoadBalancingSelector.knownKeys, c, &problems)
                selector = try LoadBalancingSelector(channels: s.channels, properties: sel.properties)
            } else {
                guard let st = Self.resolve(.selector, sel.type, registry: registry,
                                            builtins: ["replicating", "multiplexing", "load_balancing"],
                                            loc: selLoc, key: selKey, problems: &problems) else { return }
                var props = sel.properties
                props["channels"] = s.channels.joined(separator: " ")
                let d = ComponentDefinition(name: "\(c.name).selector", type: sel.type, location: selLoc,
                                            properties: props, keyLocations: [:], keyPrefix: c.keyPrefix + "selector.")
                guard let sc = makeComponent(st, d, category: "SELECTOR", problems: &problems, registerMetrics: false) else { return }
                interceptorsAndSelectors.append(sc)
                selector = PluginSelector(component: sc)
            }
        } catch {
            problems.error(selLoc, selKey, "\(error)")
            return
        }
        guard let comp = makeComponent(t, c, category: "SOURCE", problems: &problems) else { return }
        comp.handle.processor = ChannelProcessor(source: comp.handle, channels: chans, interceptors: interceptors, selector: selector)
        var runner: Runner?
        if t.isPollableSource {
            func millis(_ key: String, _ def: Int) -> Int {
                guard let v = c.properties[key] else { return def }
                guard let n = Int(v), (0...86_400_000).contains(n) else {
                    problems.error(c.keyLocations[key] ?? c.location, c.keyPrefix + key, "'\(v)' is not a number of milliseconds (0...86400000)")
                    return def
                }
                return n
            }
            let inc = millis("backoffSleepIncrement", 1000)
            let mx = millis("maxBackoffSleep", 5000)
            runner = Runner(name: "src-\(c.name)", logger: comp.handle.logger, incrementMillis: inc, maxSleepMillis: mx) {
                try comp.process()
            }
        }
        sources.append((comp, runner))
    }

    private func checkSelectorKeys(_ sel: SelectorDefinition, _ known: [String], _ c: ComponentDefinition, _ problems: inout BuildProblems) throws {
        for key in sel.properties.keys.sorted() where !known.contains(where: { keyPattern($0, matches: key) }) {
            problems.warn(sel.location ?? c.location, c.keyPrefix + "selector." + key, "unknown property for \(sel.type) selector; ignored")
        }
    }

    private func makeComponent(_ t: ComponentTypeInfo, _ d: ComponentDefinition, category: String,
                               problems: inout BuildProblems, registerMetrics: Bool = true) -> PluginComponent? {
        Self.checkKeys(d.properties, locations: d.keyLocations, prefix: d.keyPrefix, fallback: d.location,
                       isKnown: t.isKnownKey, required: t.keys.filter { $0.required }.map { $0.name },
                       what: "\(t.kind.rawValue) type '\(t.typeName)'", problems: &problems)
        let group = registerMetrics ? metrics.group(category: category, name: d.name, type: d.type)
                                    : CounterGroup(category: category, name: d.name, type: d.type)
        let handle = ComponentHandle(name: d.name, agent: name, kind: t.kind, metrics: group)
        do {
            let comp = try PluginComponent(type: t, handle: handle)
            do {
                try comp.configure(d.properties)
            } catch {
                comp.destroy()
                throw error
            }
            return comp
        } catch {
            // Point at the property the plugin names ("property 'batchSize': ..."), when it names one.
            if let key = Self.propertyNamed(in: "\(error)"), let loc = d.keyLocations[key] {
                problems.error(loc, d.keyPrefix + key, "\(error)")
            } else {
                problems.error(d.location, String(d.keyPrefix.dropLast()), "\(error)")
            }
            return nil
        }
    }

    /// The key in a message of the form "... property 'key' ...".
    static func propertyNamed(in message: String) -> String? {
        let marker = Array("property '".utf8)
        let bytes = Array(message.utf8)
        guard bytes.count > marker.count,
              let at = (0...(bytes.count - marker.count)).first(where: { bytes[$0..<$0 + marker.count].elementsEqual(marker) }) else { return nil }
        let rest = bytes[(at + marker.count)...]
        guard let end = rest.firstIndex(of: UInt8(ascii: "'")) else { return nil }
        return String(decoding: rest[..<end], as: UTF8.self)
    }

    private func makeSinkRunner(_ p: SinkProcessor, name: String) -> Runner {
        let handles = p.sinks.map { $0.handle }
        return Runner(name: "sink-\(name)", logger: handles[0].logger,
                      backoffWasIdle: { handles.contains { $0.lastTakeWasEmpty } }) {
            try p.process()
        }
    }
}
