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
            switch word {
            case "ruok":
                return "imok"
            case "srvr", "stat":
                var out = "Zookeeper version: \(Self.version)\n"
                if word == "stat" {
                    out += "Clients:\n" + sortedConnections.map { " " + $0.briefDescription + "\n" }.joined() + "\n"
                }
                let l = stats.latency
                out += "Latency min/avg/max: \(l.min)/\(l.average)/\(l.max)\n"
                out += "Received: \(stats.packetsReceived)\nSent: \(stats.packetsSent)\nConnections: \(connections.count)\n"
                out += "Outstanding: \(outstanding)\nZxid: 0x\(String(lastZxid, radix: 16))\nMode: standalone\nNode count: \(tree.nodeCount)\n"
                return out
            case "mntr":
                let l = stats.latency
                let rows: [(String, String)] = [
                    ("zk_version", Self.version), ("zk_server_state", "standalone"),
                    ("zk_ephemerals_count", "\(tree.ephemerals.values.reduce(0) { $0 + $1.count })"),
                    ("zk_num_alive_connections", "\(connections.count)"),
                    ("zk_avg_latency", "\(l.average)"), ("zk_max_latency", "\(l.max)"), ("zk_min_latency", "\(l.min)"),
                    ("zk_outstanding_requests", "\(outstanding)"), ("zk_znode_count", "\(tree.nodeCount)"),
                    ("zk_global_sessions", "\(sessions.count)"), ("zk_local_sessions", "0"),
                    ("zk_packets_sent", "\(stats.packetsSent)"), ("zk_packets_received", "\(stats.packetsReceived)"),
                    ("zk_watch_count", "\(watches.count)"),
                    ("zk_approximate_data_size", "\(tree.approximateDataSize)"),
                    ("zk_open_file_descriptor_count", "\(openFileDescriptors())"),
                    ("zk_max_file_descriptor_count", "\(maxFileDescriptors())"),
                ]
                return rows.map { "\($0.0)\t\($0.1)\n" }.joined()
            case "conf":
                return """
                clientPort=\(config.clientPort)
                secureClientPort=-1
                dataDir=\(config.dataDir)
                dataDirSize=\(directorySize(config.dataDir))
                dataLogDir=\(config.dataLogDir)
                dataLogSize=\(directorySize(config.dataLogDir))
                tickTime=\(config.tickTime)
                maxClientCnxns=\(config.maxClientCnxns)
                minSessionTimeout=\(config.minSessionTimeout)
                maxSessionTimeout=\(config.maxSessionTimeout)
                clientPortListenBacklog=-1
                serverId=0

                """
            case "cons":
                return sortedConnections.map { c in
                    " " + c.fullDescription(timeout: sessions.sessions[c.sessionID]?.timeout ?? 0) + "\n"
                }.joined() + "\n"
            case "envi":
                return "Environment:\n" + environment().map { "\($0.0)=\($0.1)\n" }.joined()
            default:
                return ""
            }
        }
    }

    /// What srvr/mntr report as the version: the ZooKeeper release whose
    /// client protocol this speaks (monitoring tools parse the number).
    static let version = "3.8.0-sluice, built on sluice"

    private var sortedConnections: [ClientConnection] { connections.values.sorted { $0.id < $1.id } }

    /// envi's keys that are not about a JVM, in ZooKeeper's order.
    private func environment() -> [(String, String)] {
        var u = utsname()
        uname(&u)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let pw = getpwuid(geteuid())
        var cwd = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let dir = getcwd(&cwd, cwd.count).map { String(cString: $0) } ?? ""
        return [
            ("zookeeper.version", Self.version),
            ("host.name", field(u.nodename)),
            ("os.name", field(u.sysname)),
            ("os.arch", field(u.machine) == "x86_64" ? "amd64" : field(u.machine)),
            ("os.version", field(u.release)),
            ("user.name", pw.map { String(cString: $0.pointee.pw_name) } ?? "\(geteuid())"),
            ("user.home", pw.map { String(cString: $0.pointee.pw_dir) } ?? ""),
            ("user.dir", dir),
        ]
    }
}

extension ClientConnection {
    private var address: String { "/\(remoteIP):\(remotePort)[\(connected ? 1 : 0)]" }

    /// stat's line for a client.
    var briefDescription: String {
        "\(address)(queued=0,recved=\(stats.received),sent=\(stats.sent))"
    }

    /// cons's line for a client: with its session, last operation and latency once it has one.
    func fullDescription(timeout: Int32) -> String {
        guard sessionID != 0 else { return briefDescription }
        let s = stats, l = s.latency
        return "\(address)(queued=0,recved=\(s.received),sent=\(s.sent),sid=0x\(String(sessionID, radix: 16))"
            + ",lop=\(s.lastOp),est=\(s.established),to=\(timeout),lcxid=0x\(String(s.lastCxid, radix: 16))"
            + ",lzxid=0x\(String(s.lastZxid, radix: 16)),lresp=\(s.lastResponse),llat=\(l.last)"
            + ",minlat=\(l.min),avglat=\(l.count == 0 ? 0 : l.total / l.count),maxlat=\(l.max))"
    }
}

/// Bytes in the files directly inside `dir` (conf's dataDirSize, dataLogSize).
func directorySize(_ dir: String) -> Int {
    guard let d = opendir(dir) else { return 0 }
    defer { closedir(d) }
    var total = 0
    while let e = readdir(d) {
        let name = withUnsafeBytes(of: e.pointee.d_name) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
        var st = stat()
        if stat(dir + "/" + name, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG { total += Int(st.st_size) }
    }
    return total
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
