import SluiceSDK

/// The coordinator's settings, named as in ZooKeeper's zoo.cfg and given under
/// the service's keys: `a1.services.zk.clientPort = 2181`.
struct ZooConfig {
    var clientPort: Int
    var clientPortAddress: String
    var dataDir: String
    var dataLogDir: String
    var tickTime: Int
    var minSessionTimeout: Int
    var maxSessionTimeout: Int
    var maxClientCnxns: Int
    var snapCount: Int
    var snapRetainCount: Int
    var purgeIntervalHours: Int
    var fourLetterWords: Set<String>
    var juteMaxBuffer: Int
    var forceSync: Bool
    var containerCheckIntervalMs: Int

    static let allFourLetterWords: Set<String> = ["ruok", "srvr", "stat", "mntr", "conf", "cons", "envi"]

    static let keys: [ConfigKey] = [
        ConfigKey("clientPort", .int, default: "2181", "port clients connect to"),
        ConfigKey("clientPortAddress", .string, default: "0.0.0.0", "address to listen on"),
        ConfigKey("dataDir", .string, default: "/tmp/zookeeper", "snapshots (and the transaction log unless dataLogDir is set)"),
        ConfigKey("dataLogDir", .string, "transaction log directory (default: dataDir)"),
        ConfigKey("tickTime", .int, default: "3000", "basic time unit in ms; session expiry is checked every tick"),
        ConfigKey("minSessionTimeout", .int, "smallest session timeout granted, ms (default: 2 × tickTime)"),
        ConfigKey("maxSessionTimeout", .int, "largest session timeout granted, ms (default: 20 × tickTime)"),
        ConfigKey("maxClientCnxns", .int, default: "60", "connections allowed from one IP address (0: unlimited)"),
        ConfigKey("snapCount", .int, default: "100000", "transactions between snapshots"),
        ConfigKey("autopurge.snapRetainCount", .int, default: "3", "snapshots kept by autopurge (at least 3)"),
        ConfigKey("autopurge.purgeInterval", .int, default: "0", "hours between purges of old snapshots and logs (0: off)"),
        ConfigKey("4lw.commands.whitelist", .string, default: "srvr", "four-letter words answered (comma list, * for all)"),
        ConfigKey("jute.maxbuffer", .int, default: "1048575", "largest packet accepted, bytes"),
        ConfigKey("forceSync", .string, default: "yes", "fsync the transaction log before answering a write (yes/no)"),
        ConfigKey("znode.container.checkIntervalMs", .int, default: "60000", "how often empty containers and expired TTL nodes are removed"),
    ]

    init(_ p: Properties) throws {
        clientPort = try p.int("clientPort", default: 2181)
        guard (0...65535).contains(clientPort) else { throw SluiceError.config("clientPort: \(clientPort) is not a port number") }
        clientPortAddress = p.string("clientPortAddress", default: "0.0.0.0").trimmingSpaces
        dataDir = p.string("dataDir", default: "/tmp/zookeeper").trimmingSpaces
        guard !dataDir.isEmpty else { throw SluiceError.config("dataDir: no directory given") }
        dataLogDir = (p["dataLogDir"] ?? dataDir).trimmingSpaces
        tickTime = try p.int("tickTime", default: 3000)
        guard tickTime > 0 else { throw SluiceError.config("tickTime: must be > 0, got \(tickTime)") }
        minSessionTimeout = try p.int("minSessionTimeout", default: 2 * tickTime)
        maxSessionTimeout = try p.int("maxSessionTimeout", default: 20 * tickTime)
        guard minSessionTimeout > 0 else { throw SluiceError.config("minSessionTimeout: must be > 0") }
        guard minSessionTimeout <= maxSessionTimeout else {
            throw SluiceError.config("minSessionTimeout (\(minSessionTimeout)) must not be larger than maxSessionTimeout (\(maxSessionTimeout))")
        }
        maxClientCnxns = try p.int("maxClientCnxns", default: 60)
        guard maxClientCnxns >= 0 else { throw SluiceError.config("maxClientCnxns: must be >= 0") }
        snapCount = try p.int("snapCount", default: 100_000)
        guard snapCount >= 2 else { throw SluiceError.config("snapCount: must be >= 2, got \(snapCount)") }
        snapRetainCount = max(3, try p.int("autopurge.snapRetainCount", default: 3))
        purgeIntervalHours = try p.int("autopurge.purgeInterval", default: 0)
        guard purgeIntervalHours >= 0 else { throw SluiceError.config("autopurge.purgeInterval: must be >= 0") }
        let list = p.string("4lw.commands.whitelist", default: "srvr")
        var words: Set<String> = []
        for w in list.split(separator: ",").map({ String($0).trimmingSpaces }) where !w.isEmpty {
            if w == "*" { words = Self.allFourLetterWords; continue }
            guard w.count == 4 else { throw SluiceError.config("4lw.commands.whitelist: '\(w)' is not a four-letter word") }
            if Self.allFourLetterWords.contains(w) { words.insert(w) }
        }
        fourLetterWords = words
        juteMaxBuffer = try p.int("jute.maxbuffer", default: 0xfffff)
        guard juteMaxBuffer >= 1024 else { throw SluiceError.config("jute.maxbuffer: must be at least 1024, got \(juteMaxBuffer)") }
        switch p.string("forceSync", default: "yes").trimmingSpaces.lowercased() {
        case "yes", "true": forceSync = true
        case "no", "false": forceSync = false
        case let v: throw SluiceError.config("forceSync: '\(v)' must be yes or no")
        }
        containerCheckIntervalMs = try p.int("znode.container.checkIntervalMs", default: 60_000)
        guard containerCheckIntervalMs > 0 else { throw SluiceError.config("znode.container.checkIntervalMs: must be > 0") }
    }
}
