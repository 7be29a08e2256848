import ArgumentParser
import Logging
import SluiceConfig
import SluiceMonitoring
import SluiceRuntime
#if canImport(Glibc)
import Glibc
#endif

struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run an agent from a Flume properties file (without -f: the embedded demo pipeline).")

    @Option(name: [.customShort("n"), .customLong("name")], help: "The agent's name in the config file.")
    var name: String = "a1"

    @Option(name: [.customShort("f"), .customLong("conf-file")], help: "Flume properties file.")
    var confFile: String?

    @Option(name: [.customShort("c"), .customLong("conf")],
            help: "Accepted for flume-ng compatibility (its flume-env.sh/log4j directory); not used.")
    var flumeConfDir: String?

    @OptionGroup var plugins: PluginOptions
    @OptionGroup var log: LogOptions

    @Option(name: .customLong("monitoring-type"), help: "Serve metrics over HTTP: http (Flume's JSON) or prometheus.")
    var monitoringType: String?

    @Option(name: .customLong("monitoring-port"), help: "Port of the metrics server.")
    var monitoringPort: Int = 41414

    @Option(name: .customLong("monitoring-host"), help: "Address the metrics server binds to.")
    var monitoringHost: String = "127.0.0.1"

    @Option(name: .customLong("drain-timeout"), help: "Seconds sinks may drain channels on shutdown.")
    var drainTimeout: Double = 5

    func run() throws {
        let startNanos = monotonicNanos()
        try bootstrapLogging(log.logLevel)
        // Block the shutdown signals before any thread exists so every thread
        // inherits the mask and only sigwait below sees them.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &set, nil)
        signal(SIGPIPE, SIG_IGN)

        let logger = Logger(label: "sluice")
        let format: MetricsServer.Format?
        switch monitoringType?.lowercased() {
        case nil: format = nil
        case "http": format = .json
        case "prometheus": format = .prometheus
        case let t?: throw ValidationError("--monitoring-type: '\(t)' is not http or prometheus")
        }
        let (definition, registry) = try loadAgent(name: name, confFile: confFile, plugins: plugins, logger: logger)
        let metrics = MetricsRegistry()
        let agent = try buildAgent(definition, registry, metrics, logger)
        var server: MetricsServer?
        if let format {
            server = try MetricsServer(host: monitoringHost, port: monitoringPort, format: format, registry: metrics)
            logger.info("metrics on http://\(monitoringHost):\(server!.port)/metrics")
        }
        try agent.start()
        logger.info("started in \((monotonicNanos() - startNanos) / 1_000_000) ms")

        var sig: Int32 = 0
        sigwait(&set, &sig)
        logger.info("signal \(sig): shutting down")
        agent.stop(drainNanos: UInt64(max(0, drainTimeout) * 1e9))
        server?.close()
    }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a config against the plugins without starting anything.")

    @Option(name: [.customShort("n"), .customLong("name")], help: "The agent's name in the config file.")
    var name: String = "a1"

    @Option(name: [.customShort("f"), .customLong("conf-file")], help: "Flume properties file.")
    var confFile: String

    @Option(name: [.customShort("c"), .customLong("conf")],
            help: "Accepted for flume-ng compatibility (its flume-env.sh/log4j directory); not used.")
    var flumeConfDir: String?

    @OptionGroup var plugins: PluginOptions
    @OptionGroup var log: LogOptions

    func run() throws {
        try bootstrapLogging(log.logLevel)
        let logger = Logger(label: "sluice")
        let (definition, registry) = try loadAgent(name: name, confFile: confFile, plugins: plugins, logger: logger)
        let agent = try buildAgent(definition, registry, MetricsRegistry(), logger)
        agent.discard()
        print("\(confFile): agent \(name) is valid (\(definition.sources.count) sources, \(definition.channels.count) channels, \(definition.sinks.count) sinks, \(definition.services.count) services)")
    }
}

struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins",
        abstract: "List the plugins that would be loaded and the component types they provide.")

    @OptionGroup var plugins: PluginOptions

    @Flag(help: "Also print every component's config keys.")
    var keys = false

    func run() throws {
        try bootstrapLogging("warning")
        let registry = try loadPlugins(plugins)
        for p in registry.plugins {
            print("\(p.path)")
            print("  plugin \(p.name) \(p.version), ABI \(p.abiMajor).\(p.abiMinor), sha256 \(p.sha256)")
            for t in p.types {
                let aliases = t.aliases.isEmpty ? "" : " (also: \(t.aliases.joined(separator: ", ")))"
                print("  \(t.kind.rawValue) \(t.typeName)\(aliases)\(t.description.isEmpty ? "" : " - \(t.description)")")
                if keys {
                    for k in t.keys {
                        let def = k.defaultValue.map { " = \($0)" } ?? (k.required ? " (required)" : "")
                        print("      \(k.name) [\(k.type)]\(def)  \(k.doc)")
                    }
                }
            }
        }
    }
}
