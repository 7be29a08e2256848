import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// The four-letter words on the client port (ruok, srvr, stat, mntr, conf,
/// cons, envi), answered only when in 4lw.commands.whitelist, as ZooKeeper.
extension Server {
    static let knownWords: Set<String> = ["conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "ruok", "stmk",
                                          "srvr", "srst", "stat", "wchc", "wchp", "wchs", "mntr", "isro", "hash"]

    func fourLetterWord(_ word: String) -> String {
        guard config.fourLetterWords.contains(word) else {
            return "\(word) is not executed because it is not in the whitelist.\n"
        }
        return locked {
            let avg = stats.requests == 0 ? 0 : stats.totalLatency / stats.requests
            let minL = stats.requests == 0 ? 0 : stats.minLatency
            switch word {
            case "ruok":
                return "imok"
            case "srvr", "stat":
                var out = "Zookeeper version: 3.8.0-sluice, built on sluice\n"
                if word == "stat" {
                    out += "Clients:\n"
                    for c in connections.values.sorted(by: { $0.id < $1.id }) { out += " /\(c.remoteIP)[1](queued=0,recved=0,sent=0)\n" }
                    out += "\n"
                }
                out += "Latency min/avg/max: \(minL)/\(avg)/\(stats.maxLatency)\n"
                out += "Received: \(stats.packetsReceived)\nSent: \(stats.packetsSent)\nConnections: \(connections.count)\n"
                out += "Outstanding: \(outstanding)\nZxid: 0x\(String(lastZxid, radix: 16))\nMode: standalone\nNode count: \(tree.nodeCount)\n"
                return out
            case "mntr":
                let rows: [(String, String)] = [
                    ("zk_version", "3.8.0-sluice"), ("zk_server_state", "standalone"),
                    ("zk_avg_latency", "\(avg)"), ("zk_max_latency", "\(stats.maxLatency)"), ("zk_min_latency", "\(minL)"),
                    ("zk_packets_received", "\(stats.packetsReceived)"), ("zk_packets_sent", "\(stats.packetsSent)"),
                    ("zk_num_alive_connections", "\(connections.count)"), ("zk_outstanding_requests", "\(outstanding)"),
                    ("zk_znode_count", "\(tree.nodeCount)"), ("zk_watch_count", "\(watches.count)"),
                    ("zk_ephemerals_count", "\(tree.ephemerals.values.reduce(0) { $0 + $1.count })"),
                    ("zk_approximate_data_size", "\(tree.approximateDataSize)"),
                    ("zk_open_file_descriptor_count", "\(openFileDescriptors())"),
                    ("zk_max_file_descriptor_count", "\(maxFileDescriptors())"),
                ]
                return rows.map { "\($0.0)\t\($0.1)\n" }.joined()
            case "conf":
                return """
                clientPort=\(config.clientPort)
                clientPortAddress=\(config.clientPortAddress)
                dataDir=\(config.dataDir)
                dataLogDir=\(config.dataLogDir)
                tickTime=\(config.tickTime)
                maxClientCnxns=\(config.maxClientCnxns)
                minSessionTimeout=\(config.minSessionTimeout)
                maxSessionTimeout=\(config.maxSessionTimeout)
                snapCount=\(config.snapCount)
                serverId=0

                """
            case "cons":
                return connections.values.sorted(by: { $0.id < $1.id }).map { c in
                    " /\(c.remoteIP)[1](queued=0,recved=0,sent=0,sid=0x\(String(c.sessionID, radix: 16)))\n"
                }.joined() + "\n"
            case "envi":
                var u = utsname()
                uname(&u)
                let sys = withUnsafePointer(to: u.sysname) { $0.withMemoryRebound(to: CChar.self, capacity: 65) { String(cString: $0) } }
                let rel = withUnsafePointer(to: u.release) { $0.withMemoryRebound(to: CChar.self, capacity: 65) { String(cString: $0) } }
                let host = withUnsafePointer(to: u.nodename) { $0.withMemoryRebound(to: CChar.self, capacity: 65) { String(cString: $0) } }
                return "Environment:\nzookeeper.version=3.8.0-sluice\nhost.name=\(host)\nos.name=\(sys)\nos.version=\(rel)\nuser.dir=\(config.dataDir)\n"
            default:
                return ""
            }
        }
    }
}

func openFileDescriptors() -> Int {
    guard let d = opendir("/proc/self/fd") else { return 0 }
    defer { closedir(d) }
    var n = 0
    while readdir(d) != nil { n += 1 }
    return max(0, n - 3)
}

func maxFileDescriptors() -> Int {
    var r = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r)
    return Int(r.rlim_cur)
}
