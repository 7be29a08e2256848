import ArgumentParser

@main
struct Sluice: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "A log-collection agent that runs Flume configurations with plugin components.",
        subcommands: [AgentCommand.self, CheckCommand.self, PluginsCommand.self, KafkaCommand.self]
    )
}

/// Where plugins come from: shared by every subcommand.
struct PluginOptions: ParsableArguments {
    @Option(name: .customLong("plugin-dir"),
            help: "Directory of plugin .so files (repeatable). Default: $SLUICE_PLUGIN_DIR, else <bin>/../lib/sluice/plugins, else <bin>/plugins, else the binary's own directory.")
    var pluginDirs: [String] = []

    @Option(name: .long, help: "Load exactly the plugins this manifest lists (each line: <path> [sha256:<hex>]).")
    var manifest: String?
}

struct LogOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: "trace, debug, info, warning or error.")
    var logLevel: String = "info"
}
