import ArgumentParser
import Logging
import SluiceConfig
import SluiceRuntime
#if canImport(Glibc)
import Glibc
#endif

/// A failure the CLI reports as one line on stderr and exit status 1.
struct Refusal: Error, CustomStringConvertible {
    let description: String
}

func pluginDirectories(_ options: PluginOptions) -> [String] {
    if !options.pluginDirs.isEmpty { return options.pluginDirs }
    if let env = getenv("SLUICE_PLUGIN_DIR").map({ String(cString: $0) }), !env.isEmpty {
        return env.split(separator: ":").map(String.init)
    }
    let bin = executableDirectory()
    for candidate in [bin + "/../lib/sluice/plugins", bin + "/plugins"] where isDirectory(candidate) {
        return [candidate]
    }
    // A SwiftPM build directory: the plugin products sit beside the binary.
    return [bin]
}

func loadPlugins(_ options: PluginOptions) throws -> PluginRegistry {
    do {
        if let m = options.manifest {
            return try PluginRegistry.load(manifest: Manifest.load(path: m))
        }
        return try PluginRegistry.load(directories: pluginDirectories(options))
    } catch let e as PluginLoadError {
        throw Refusal(description: "refusing to start: \(e)")
    }
}

func loadAgent(name: String, confFile: String?, plugins: PluginOptions, logger: Logger) throws -> (AgentDefinition, PluginRegistry) {
    let file: PropertiesFile
    do {
        if let confFile {
            file = try PropertiesFile.load(path: confFile)
        } else {
            logger.info("no --conf-file: running the embedded demo pipeline (agent \(name))")
            file = try PropertiesFile.parse(embeddedDemoConfig(agent: name), file: "<embedded demo>")
        }
    } catch let e as ConfigError {
        throw Refusal(description: render(e))
    }
    let registry = try loadPlugins(plugins)
    let env = environmentDictionary()
    do {
        let def = try AgentConfigParser.parse(file, agent: name, environment: env)
        return (def, registry)
    } catch let e as ConfigError {
        throw Refusal(description: render(e))
    }
}

/// Errors as they are; warnings marked, so a refusal shows both.
func render(_ e: ConfigError) -> String {
    e.diagnostics.map { $0.severity == .warning ? "warning: \($0)" : "\($0)" }.joined(separator: "\n")
}

func buildAgent(_ def: AgentDefinition, _ registry: PluginRegistry, _ metrics: MetricsRegistry, _ logger: Logger) throws -> Agent {
    do {
        let agent = try Agent(definition: def, registry: registry, metrics: metrics)
        for w in agent.warnings { logger.warning("\(w)") }
        return agent
    } catch let e as ConfigError {
        throw Refusal(description: render(e))
    }
}

/// The main job on embedded defaults: a generated stream through two
/// interceptors to the logger.
func embeddedDemoConfig(agent a: String) -> String {
    """
    \(a).sources = seq
    \(a).channels = mem
    \(a).sinks = log
    \(a).sources.seq.type = seq
    \(a).sources.seq.batchSize = 10
    \(a).sources.seq.totalEvents = 1000
    \(a).sources.seq.channels = mem
    \(a).sources.seq.interceptors = ts host
    \(a).sources.seq.interceptors.ts.type = timestamp
    \(a).sources.seq.interceptors.host.type = host
    \(a).channels.mem.type = memory
    \(a).channels.mem.capacity = 10000
    \(a).channels.mem.transactionCapacity = 1000
    \(a).sinks.log.type = logger
    \(a).sinks.log.channel = mem
    """
}

func executableDirectory() -> String {
    var buf = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buf, buf.count - 1)
    guard n > 0 else { return "." }
    let path = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return String(path[..<slash])
}

func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}

func environmentDictionary() -> [String: String] {
    var out: [String: String] = [:]
    var p = environ
    while let entry = p.pointee {
        let s = String(cString: entry)
        if let eq = s.firstIndex(of: "=") { out[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
        p += 1
    }
    return out
}
