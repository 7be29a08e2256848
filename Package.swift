// swift-tools-version:6.0
import PackageDescription

// Each first-party plugin is a dynamic library product built from one folder
// under Plugins/. They reach the host only through the C ABI in sdk/include.
let pluginLinkerSettings: [LinkerSetting] = [
    // Export only the entry symbol (see sdk/plugin-exports.map).
    .unsafeFlags(["-Xlinker", "--version-script=\(Context.packageDirectory)/sdk/plugin-exports.map"]),
]

func plugin(_ name: String, product: String, dependencies: [Target.Dependency] = []) -> Target {
    .target(
        name: name,
        dependencies: [.product(name: "SluiceSDK", package: "sdk")] + dependencies,
        path: "Plugins/\(name)",
        linkerSettings: pluginLinkerSettings
    )
}

let plugins: [(target: String, product: String, deps: [Target.Dependency])] = [
    ("SequenceSource", "SluiceSequenceSource", []),
    ("NetcatSource", "SluiceNetcatSource", []),
    ("LoggerSink", "SluiceLoggerSink", []),
    ("NullSink", "SluiceNullSink", []),
    ("FlumeInterceptors", "SluiceFlumeInterceptors", ["PluginRegex"]),
    ("SpoolDirSource", "SluiceSpoolDirSource", ["PluginRegex"]),
    ("ExecSource", "SluiceExecSource", []),
    ("TaildirSource", "SluiceTaildirSource", ["PluginRegex"]),
    ("FileRollSink", "SluiceFileRollSink", []),
    ("HDFSSink", "SluiceHDFSSink", ["CZlib", "CZstd", "CSnappy", "CBZip2", "CLZ4Block", "CTLSClient"]),
    ("KafkaBroker", "SluiceKafkaBroker", [
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        "KafkaProtocol", "KafkaLog",
    ]),
    ("ZooKeeper", "SluiceZooKeeper", [
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "Crypto", package: "swift-crypto"),
        "ZooKeeperProtocol", "CSluiceCRC",
    ]),
    ("KafkaSink", "SluiceKafkaSink", ["KafkaClient"]),
    ("KafkaSource", "SluiceKafkaSource", [
        "KafkaClient", "KafkaCompression", "KafkaProtocol", "PluginRegex",
        .product(name: "NIOCore", package: "swift-nio"),
    ]),
]

let package = Package(
    name: "sluice",
    products: [
        .executable(name: "sluice", targets: ["sluice"]),
        .library(name: "SluiceBenchKeepNonEmpty", type: .dynamic, targets: ["BenchKeepNonEmpty"]),
    ] + plugins.map { .library(name: $0.product, type: .dynamic, targets: [$0.target]) },
    dependencies: [
        .package(name: "sdk", path: "sdk"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
    ],
    targets: [
        // Host: config parsing and validation, no I/O beyond reading the file.
        .target(name: "SluiceConfig", path: "Sources/SluiceConfig"),
        // Host: plugin loading, channels, transactions, runners, metrics.
        .target(
            name: "SluiceRuntime",
            dependencies: [
                .product(name: "SluiceABI", package: "sdk"), "SluiceConfig",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Crypto", package: "swift-crypto"),
                "CSluiceCRC",
            ],
            path: "Sources/SluiceRuntime"
        ),
        // CRC-32C for the file channel's record checksums.
        .target(name: "CSluiceCRC", path: "Sources/CSluiceCRC"),
        // Host: metrics over HTTP (JSON as Flume's monitoring.type=http, Prometheus text).
        .target(
            name: "SluiceMonitoring",
            dependencies: [
                "SluiceRuntime",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Sources/SluiceMonitoring"
        ),
        .executableTarget(
            name: "sluice",
            dependencies: [
                "SluiceRuntime", "SluiceConfig", "SluiceMonitoring", "KafkaProtocol", "KafkaClient", "KafkaCompression",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/sluice"
        ),

        // Benchmarks (run on demand with Benchmarks/run.sh).
        .executableTarget(
            name: "PipelineBench",
            dependencies: ["SluiceRuntime", "SluiceConfig"],
            path: "Benchmarks/PipelineBench"
        ),
        .target(
            name: "BenchKeepNonEmpty",
            dependencies: [.product(name: "SluiceSDK", package: "sdk")],
            path: "Benchmarks/KeepNonEmptyInterceptor",
            linkerSettings: pluginLinkerSettings
        ),

        // Shared by plugins (linked statically into each): PCRE2 regexes with Java's flavour.
        .systemLibrary(name: "CPCRE2", path: "Plugins/Common/CPCRE2", pkgConfig: "libpcre2-8",
                       providers: [.apt(["libpcre2-dev"])]),
        .target(name: "PluginRegex", dependencies: ["CPCRE2", .product(name: "SluiceSDK", package: "sdk")],
                path: "Plugins/Common/PluginRegex"),
        // Shared by the broker plugin: durable partition log storage (segments, indexes, recovery).
        .target(name: "KafkaLog", dependencies: ["CSluiceCRC"], path: "Plugins/Common/KafkaLog"),

        // Kafka wire protocol: runtime plus message types generated by KafkaCodegen.
        .target(
            name: "KafkaProtocol",
            dependencies: [.product(name: "NIOCore", package: "swift-nio"), "CSluiceCRC"],
            path: "Plugins/Common/KafkaProtocol"
        ),
        // Kafka's record-batch codecs (gzip, snappy, lz4, zstd) over Debian's C libraries.
        .systemLibrary(name: "CZlib", path: "Plugins/Common/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", path: "Plugins/Common/CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLZ4", path: "Plugins/Common/CLZ4", pkgConfig: "liblz4",
                       providers: [.apt(["liblz4-dev"])]),
        // No pkgConfig: older Debian releases ship libsnappy-dev without snappy.pc.
        .systemLibrary(name: "CSnappy", path: "Plugins/Common/CSnappy", providers: [.apt(["libsnappy-dev"])]),
        // Hadoop's BZip2Codec and Lz4Codec (raw LZ4 blocks) for the hdfs sink.
        .systemLibrary(name: "CBZip2", path: "Plugins/Common/CBZip2", providers: [.apt(["libbz2-dev"])]),
        .systemLibrary(name: "CLZ4Block", path: "Plugins/Common/CLZ4Block", pkgConfig: "liblz4",
                       providers: [.apt(["liblz4-dev"])]),
        // swebhdfs: a small blocking TLS client over Debian's OpenSSL.
        .target(name: "CTLSClient", path: "Plugins/Common/CTLSClient",
                linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        .target(
            name: "KafkaCompression",
            dependencies: ["KafkaProtocol", "CZlib", "CZstd", "CLZ4", "CSnappy",
                           .product(name: "NIOCore", package: "swift-nio")],
            path: "Plugins/Common/KafkaCompression"
        ),
        .executableTarget(name: "KafkaCodegen", path: "Sources/KafkaCodegen"),
        // ZooKeeper client protocol: jute runtime plus records generated by JuteCodegen.
        .target(
            name: "ZooKeeperProtocol",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            path: "Plugins/Common/ZooKeeperProtocol"
        ),
        .executableTarget(name: "JuteCodegen", path: "Sources/JuteCodegen"),
        // Kafka client side (connections, metadata, producer, group consumer):
        // used by the Kafka sink and source plugins and the `sluice kafka` CLI.
        .target(
            name: "KafkaClient",
            dependencies: ["KafkaProtocol", "KafkaCompression", "CSluiceCRC", .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            path: "Plugins/Common/KafkaClient"
        ),

        .testTarget(
            name: "SluiceConfigTests",
            dependencies: ["SluiceConfig"],
            path: "Tests/SluiceConfigTests"
        ),
        .testTarget(
            name: "KafkaProtocolTests",
            dependencies: ["KafkaProtocol", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/KafkaProtocolTests"
        ),
        .testTarget(name: "KafkaLogTests", dependencies: ["KafkaLog"], path: "Tests/KafkaLogTests"),
        .testTarget(
            name: "ZooKeeperProtocolTests",
            dependencies: ["ZooKeeperProtocol", .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOEmbedded", package: "swift-nio")],
            path: "Tests/ZooKeeperProtocolTests"
        ),
        .testTarget(
            name: "KafkaCompressionTests",
            dependencies: ["KafkaCompression", "KafkaProtocol", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/KafkaCompressionTests",
            exclude: ["kafka_python_codecs.py"]
        ),
        .testTarget(
            name: "SluiceTests",
            dependencies: ["SluiceConfig", "SluiceRuntime", .product(name: "SluiceABI", package: "sdk")],
            path: "Tests/SluiceTests",
            exclude: ["zookeeper", "kafka", "hdfs"]  // the real clients and test doubles the tests run (Python, C)
        ),
    ] + plugins.map { plugin($0.target, product: $0.product, dependencies: $0.deps) },
    swiftLanguageModes: [.v5]
)
