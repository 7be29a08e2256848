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
            let demo = try EmbeddedDemo(environment: environmentDictionary())
            logger.info("no --conf-file: running the embedded demo (agent \(name)): a Kafka broker on 127.0.0.1:\(demo.port), exec and spooldir sources (drop files into \(demo.dir)/spool) through a file channel to topic sluice-demo; watch with: sluice kafka consume --bootstrap-server 127.0.0.1:\(demo.port) --topic sluice-demo --from-beginning")
            file = try PropertiesFile.parse(demo.config(agent: name), file: "<embedded demo>")
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

/// The main job on embedded defaults: a Kafka broker and an agent whose
/// exec and spooldir sources feed a Kafka sink through a durable file
/// channel. `sluice kafka consume --topic sluice-demo --from-beginning`
/// shows the events. Its state lives in `$SLUICE_DEMO_DIR` (default
/// `./sluice-demo`); the broker listens on 127.0.0.1:`$SLUICE_DEMO_KAFKA_PORT`
/// (default 9092).
struct EmbeddedDemo {
    let dir: String
    let port: Int

    init(environment env: [String: String]) throws {
        let base = env["SLUICE_DEMO_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "./sluice-demo"
        dir = base.hasPrefix("/") ? base : currentDirectory() + "/" + base
        guard let p = Int(env["SLUICE_DEMO_KAFKA_PORT"] ?? "9092"), (1...65535).contains(p) else {
            throw Refusal(description: "SLUICE_DEMO_KAFKA_PORT: '\(env["SLUICE_DEMO_KAFKA_PORT"] ?? "")' is not a port number")
        }
        port = p
        for sub in ["", "/spool"] where mkdir(dir + sub, 0o755) != 0 && errno != EEXIST {
            throw Refusal(description: "cannot create \(dir + sub): \(String(cString: strerror(errno)))")
        }
    }

    func config(agent a: String) -> String {
        """
        \(a).services = broker
        \(a).services.broker.type = kafka
        \(a).services.broker.listeners = PLAINTEXT://127.0.0.1:\(port)
        \(a).services.broker.log.dirs = \(dir)/kafka
        \(a).services.broker.num.partitions = 3

        \(a).sources = ticks files
        \(a).channels = durable
        \(a).sinks = kafka

        \(a).sources.ticks.type = exec
        \(a).sources.ticks.shell = /bin/sh -c
        \(a).sources.ticks.command = while true; do echo "tick $(date -u +%Y-%m-%dT%H:%M:%SZ)"; sleep 1; done
        \(a).sources.ticks.channels = durable
        \(a).sources.ticks.interceptors = ts host
        \(a).sources.ticks.interceptors.ts.type = timestamp
        \(a).sources.ticks.interceptors.host.type = host

        \(a).sources.files.type = spooldir
        \(a).sources.files.spoolDir = \(dir)/spool
        \(a).sources.files.channels = durable
        \(a).sources.files.interceptors = ts
        \(a).sources.files.interceptors.ts.type = timestamp

        \(a).channels.durable.type = file
        \(a).channels.durable.checkpointDir = \(dir)/channel/checkpoint
        \(a).channels.durable.dataDirs = \(dir)/channel/data

        \(a).sinks.kafka.type = org.apache.flume.sink.kafka.KafkaSink
        \(a).sinks.kafka.channel = durable
        \(a).sinks.kafka.kafka.bootstrap.servers = 127.0.0.1:\(port)
        \(a).sinks.kafka.kafka.topic = sluice-demo
        \(a).sinks.kafka.kafka.producer.acks = all
        \(a).sinks.kafka.kafka.producer.compression.type = lz4
        """
    }
}

func currentDirectory() -> String {
    var buf = [CChar](repeating: 0, count: 4096)
    guard getcwd(&buf, buf.count) != nil else { return "." }
    return String(cString: buf)
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
