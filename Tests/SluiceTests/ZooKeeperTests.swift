import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The ZooKeeper-compatible coordinator (`type = zookeeper`), tested with real
/// clients over its socket: kazoo (Python), zkCli.sh (Java) and the C client
/// (libzookeeper-mt).
final class ZooKeeperTests: XCTestCase {
    struct Coordinator {
        let setup: AgentSetup
        let port: Int
        let dataDir: String
        var hosts: String { "127.0.0.1:\(port)" }

        init(dataDir: String? = nil, maxSessionTimeout: Int = 2000, extra: String = "") throws {
            port = freeTCPPort()
            self.dataDir = dataDir ?? makeTempDir("sluice-zk") + "/data"
            setup = try AgentSetup("""
                a1.services = zk
                a1.services.zk.type = zookeeper
                a1.services.zk.clientPort = \(port)
                a1.services.zk.clientPortAddress = 127.0.0.1
                a1.services.zk.dataDir = \(self.dataDir)
                a1.services.zk.tickTime = 500
                a1.services.zk.minSessionTimeout = 1000
                a1.services.zk.maxSessionTimeout = \(maxSessionTimeout)
                \(extra)
                """, plugins: ["SluiceZooKeeper"])
        }

        func start() throws -> AgentProcess {
            let a = try setup.start()
            a.waitFor("listening on 127.0.0.1:\(port)")
            return a
        }
    }

    static let zkCli = "/usr/share/zookeeper/bin/zkCli.sh"

    func script(_ name: String) -> String { Paths.repoRoot + "/Tests/SluiceTests/zookeeper/" + name }

    func python(_ name: String, _ args: [String], timeout: Double = 120) throws -> RunResult {
        try runCommand("/usr/bin/env", ["python3", script(name)] + args, timeout: timeout)
    }

    /// zkCli.sh reading `commands` from stdin; its output without log lines.
    func zkCli(_ hosts: String, _ commands: [String]) throws -> String {
        let dir = makeTempDir("sluice-zkcli")
        try write((commands + ["quit"]).joined(separator: "\n") + "\n", to: dir + "/in")
        let r = try runCommand("/bin/sh", ["-c", "\(Self.zkCli) -server \(hosts) < \(dir)/in 2>&1"], timeout: 120)
        return r.stdout
    }

    func testKazooRecipesLockElectionBarrierCounterQueueParty() throws {
        let c = try Coordinator()
        let agent = try c.start()
        let r = try python("recipes.py", [c.hosts])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        for recipe in ["Lock", "Election", "Barrier", "DoubleBarrier", "Counter", "Queue", "LockingQueue", "Party"] {
            XCTAssertTrue(r.stdout.contains("OK \(recipe)\n"), "\(recipe): \(r.stdout)\(r.stderr)")
        }
        XCTAssertEqual(agent.stop(), 0)
    }

    func testKazooErrorCodesWatchesOrderingACLsAndMulti() throws {
        let c = try Coordinator()
        let agent = try c.start()
        let r = try python("api.py", [c.hosts])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("ALL OK"), r.stdout + r.stderr)
        XCTAssertEqual(agent.stop(), 0)
    }

    /// multiRead, checkWatches / removeWatches, getEphemerals, whoAmI and the
    /// event-before-answer order, over a plain socket.
    func testRequestsNoClientLibrarySends() throws {
        let c = try Coordinator()
        let agent = try c.start()
        let r = try python("raw.py", [c.hosts])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("ALL OK"), r.stdout + r.stderr)
        XCTAssertEqual(agent.stop(), 0)
    }

    func testCClientProgram() throws {
        let c = try Coordinator()
        let agent = try c.start()
        let bin = makeTempDir("sluice-zkc") + "/c_client"
        let cc = try runCommand("/usr/bin/gcc", ["-O1", "-Wall", "-o", bin, script("c_client.c"), "-lzookeeper_mt", "-lpthread"])
        XCTAssertEqual(cc.status, 0, cc.stderr)
        let r = try runCommand(bin, [c.hosts], timeout: 60)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("OK connect timeout=2000"), "timeout clamped to maxSessionTimeout: \(r.stdout)")
        XCTAssertTrue(r.stdout.contains("ALL OK"), r.stdout + r.stderr)
        XCTAssertEqual(agent.stop(), 0)
    }

    /// zkCli.sh from Debian's package: node kinds (container, TTL, ephemeral,
    /// sequential), persistent-recursive watches and their removal, versions,
    /// digest auth, whoami, getEphemerals, getAllChildrenNumber.
    func testZkCliCommands() throws {
        let c = try Coordinator()
        let agent = try c.start()
        let out = try zkCli(c.hosts, [
            "create /cli hello", "create -c /cli/box", "create -t 60000 /cli/ttl tv", "stat /cli/box", "stat /cli/ttl",
            "create -e /cli/eph", "create -s /cli/seq-", "getEphemerals /cli", "getAllChildrenNumber /cli",
            "addWatch -m PERSISTENT_RECURSIVE /pw", "create /pw", "create /pw/a", "set /pw/a x",
            "removewatches /pw -a", "set /pw/a y",
            "set -v 0 /cli v1", "set -v 0 /cli v2", "get /cli",
            "addauth digest bob:secret", "create /sec x auth:bob:secret:cdrwa", "getAcl /sec", "whoami",
            "sync /cli", "ls -R /cli",
            "create /locked data", "setAcl /locked world:anyone:r", "set /locked other", "getAcl /locked", "get /locked",
        ])
        XCTAssertTrue(out.contains("ephemeralOwner = 0x8000000000000000"), "container mark: \(out)")
        XCTAssertTrue(out.contains("ephemeralOwner = 0xff0000000000ea60"), "TTL mark: \(out)")
        XCTAssertTrue(out.contains("Created /cli/seq-0000000003"), out)
        XCTAssertTrue(out.contains("[/cli/eph]"), out)
        XCTAssertTrue(out.contains("\n4\n"), "getAllChildrenNumber: \(out)")
        XCTAssertTrue(out.contains("type:NodeCreated path:/pw/a"), out)
        XCTAssertTrue(out.contains("type:NodeDataChanged path:/pw/a"), out)
        XCTAssertTrue(out.contains("type:PersistentWatchRemoved path:/pw"), out)
        XCTAssertEqual(occurrences(of: "path:/pw/a", in: out), 2, "no event after the watch was removed: \(out)")
        XCTAssertTrue(out.contains("version No is not valid : /cli"), "second set -v 0 is a BADVERSION: \(out)")
        XCTAssertTrue(out.contains("\nv1\n"), out)
        XCTAssertTrue(out.contains("'digest,'bob:fyVmFCwVbTJYrznoSu1koqYEYF0="), "digest of bob:secret: \(out)")
        XCTAssertTrue(out.contains("ip: 127.0.0.1"), out)
        XCTAssertTrue(out.contains("Sync is OK"), out)
        XCTAssertTrue(out.contains("Insufficient permission : /locked"), "setAcl is enforced: \(out)")
        XCTAssertTrue(out.contains("'world,'anyone\n: r\n"), out)
        XCTAssertFalse(out.contains("ConnectionLoss"), out)
        XCTAssertEqual(agent.stop(), 0)
    }

    /// Containers go once their last child is deleted (never before they had
    /// one); TTL nodes go once unchanged and childless past their TTL.
    func testContainersAndTTLNodesAreReaped() throws {
        let c = try Coordinator(extra: "a1.services.zk.znode.container.checkIntervalMs = 200")
        let agent = try c.start()
        _ = try zkCli(c.hosts, ["create -c /box", "create /box/k", "delete /box/k", "create -c /emptybox",
                                "create -t 300 /ttl", "create -t 600000 /longttl"])
        usleep(1_500_000)
        let out = try zkCli(c.hosts, ["ls /"])
        let line = try XCTUnwrap(out.split(separator: "\n").first { $0.hasPrefix("[") && $0.contains("zookeeper") }, out)
        let names = Set(line.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        XCTAssertEqual(names, ["emptybox", "longttl", "zookeeper"], out)
        XCTAssertEqual(agent.stop(), 0)
    }

    func testSessionExpiryDeletesEphemeralsAndFiresWatchesAndReconnectKeepsSession() throws {
        let c = try Coordinator()
        let agent = try c.start()
        let r = try python("sessions.py", [c.hosts])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        for part in ["OK expiry", "OK reconnect", "OK password", "OK close"] {
            XCTAssertTrue(r.stdout.contains(part), "\(part): \(r.stdout)\(r.stderr)")
        }
        XCTAssertTrue(agent.log.contains("expired"), agent.log)
        XCTAssertEqual(agent.stop(), 0)
    }

    /// kill -9 in the middle of a write loop, twice; the second run crosses
    /// snapshots (small snapCount). Every acknowledged write is there after
    /// restart, and zxids keep growing.
    func testAcknowledgedWritesSurviveKill9() throws {
        let c = try Coordinator(extra: "a1.services.zk.snapCount = 200")
        let acks = makeTempDir("sluice-zk-acks") + "/acks"
        for round in 0..<2 {
            let agent = try c.start()
            if round == 1 {
                let v = try python("durability.py", ["verify", c.hosts, acks])
                XCTAssertTrue(v.stdout.contains("VERIFIED"), "after the first kill: \(v.stdout)\(v.stderr)")
                _ = try python("durability.py", ["clear", c.hosts, acks])
            }
            let writer = Process()
            writer.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            writer.arguments = ["python3", script("durability.py"), "write", c.hosts, acks + "\(round)"]
            writer.standardOutput = FileHandle.nullDevice
            writer.standardError = FileHandle.nullDevice
            try writer.run()
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                let n = ((try? String(contentsOfFile: acks + "\(round)", encoding: .utf8)) ?? "").split(separator: "\n").count
                if n >= 400 { break }
                usleep(20_000)
            }
            kill(agent.process.processIdentifier, SIGKILL)
            agent.process.waitUntilExit()
            // kazoo normally fails the request in flight and the writer ends;
            // once in a while it keeps waiting for an answer that cannot come.
            // What it acknowledged is already in the file.
            let stopBy = Date().addingTimeInterval(15)
            while writer.isRunning && Date() < stopBy { usleep(50_000) }
            if writer.isRunning { kill(writer.processIdentifier, SIGKILL) }
            writer.waitUntilExit()
            _ = try? FileManager.default.removeItem(atPath: acks)
            try FileManager.default.copyItem(atPath: acks + "\(round)", toPath: acks)
        }
        let snapshots = try FileManager.default.contentsOfDirectory(atPath: c.dataDir).filter { $0.hasPrefix("snapshot.") }
        XCTAssertFalse(snapshots.isEmpty, "snapCount 200 should have produced snapshots")
        let agent = try c.start()
        let v = try python("durability.py", ["verify", c.hosts, acks])
        XCTAssertTrue(v.stdout.contains("VERIFIED"), v.stdout + v.stderr)
        XCTAssertTrue(agent.log.contains("recovered"), agent.log)
        XCTAssertFalse(agent.log.contains("snapshot 0x0 +"), "recovery should start from a (fuzzy) snapshot: \(agent.log)")
        XCTAssertEqual(agent.stop(), 0)
    }

    /// kill -9 and restart under connected clients: kazoo keeps its session
    /// (sessions are in the log) and its ephemeral; the C client re-sends its
    /// watches (setWatches) on reconnect and they fire afterwards. Then a
    /// torn record appended to the log is cut at the next start.
    func testSessionAndWatchesSurviveServerRestart() throws {
        let c = try Coordinator(maxSessionTimeout: 15000)
        var agent = try c.start()
        let marker = makeTempDir("sluice-zk-restart")
        let bin = marker + "/c_client"
        let cc = try runCommand("/usr/bin/gcc", ["-O1", "-o", bin, script("c_client.c"), "-lzookeeper_mt", "-lpthread"])
        XCTAssertEqual(cc.status, 0, cc.stderr)
        func spawn(_ exe: String, _ args: [String]) throws -> (Process, Pipe) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: exe)
            p.arguments = args
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            try p.run()
            return (p, out)
        }
        let kazoo = try spawn("/usr/bin/env", ["python3", script("restart.py"), c.hosts, marker])
        let cClient = try spawn(bin, [c.hosts, "--restart", marker])
        let deadline = Date().addingTimeInterval(30)
        while !(FileManager.default.fileExists(atPath: marker + "/ready") && FileManager.default.fileExists(atPath: marker + "/c-ready"))
            && Date() < deadline { usleep(20_000) }
        kill(agent.process.processIdentifier, SIGKILL)
        agent.process.waitUntilExit()
        agent = try c.start()
        try write("", to: marker + "/restarted")
        for (p, out) in [kazoo, cClient] {
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, text)
            XCTAssertTrue(text.contains("OK session kept") || text.contains("OK watches re-set after restart"), text)
        }
        XCTAssertEqual(agent.stop(), 0)

        // A torn tail: half a record of garbage after the last good one.
        let logs = try FileManager.default.contentsOfDirectory(atPath: c.dataDir).filter { $0.hasPrefix("log.") }.sorted()
        let newest = try XCTUnwrap(logs.last)
        let h = try XCTUnwrap(FileHandle(forWritingAtPath: c.dataDir + "/" + newest))
        h.seekToEndOfFile()
        h.write(Data([0, 0, 0, 200, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3]))
        h.closeFile()
        agent = try c.start()
        XCTAssertTrue(agent.log.contains("torn tail cut"), agent.log)
        let ls = try zkCli(c.hosts, ["get /r/x"])
        XCTAssertTrue(ls.contains("\nafter\n"), ls)
        XCTAssertEqual(agent.stop(), 0)
    }

    func testMaxClientCnxnsPerAddress() throws {
        let c = try Coordinator(extra: "a1.services.zk.maxClientCnxns = 2\na1.services.zk.4lw.commands.whitelist = ruok")
        let agent = try c.start()
        let first = try LineClient(port: c.port, receiveTimeout: 2)
        usleep(100_000)
        let second = try LineClient(port: c.port, receiveTimeout: 2)
        usleep(100_000)
        let third = try LineClient(port: c.port, receiveTimeout: 2)
        third.send("ruok")
        XCTAssertEqual(third.drain(within: 0.5), [], "the third connection is closed unanswered")
        XCTAssertTrue(agent.log.contains("too many connections from 127.0.0.1 (maxClientCnxns 2)"), agent.log)
        first.send("ruok")
        XCTAssertEqual(String(decoding: first.drain(within: 1.0), as: UTF8.self), "imok")
        _ = second
        XCTAssertEqual(agent.stop(), 0)
    }

    func testFourLetterWordsBehindTheWhitelist() throws {
        let c = try Coordinator(extra: "a1.services.zk.4lw.commands.whitelist = ruok, mntr, srvr, conf, cons, envi")
        let agent = try c.start()
        func ask(_ word: String) throws -> String {
            let client = try LineClient(port: c.port, receiveTimeout: 3)
            client.send(word)
            return String(decoding: client.drain(within: 1.0), as: UTF8.self)
        }
        XCTAssertEqual(try ask("ruok"), "imok")
        let mntr = try ask("mntr")
        XCTAssertTrue(mntr.contains("zk_server_state\tstandalone\n"), mntr)
        XCTAssertTrue(mntr.contains("zk_znode_count\t"), mntr)
        XCTAssertTrue(try ask("srvr").contains("Mode: standalone"))
        XCTAssertTrue(try ask("conf").contains("clientPort=\(c.port)"))
        XCTAssertTrue(try ask("envi").contains("zookeeper.version="))
        XCTAssertEqual(try ask("stat"), "stat is not executed because it is not in the whitelist.\n")
        XCTAssertEqual(agent.stop(), 0)
    }

    /// Oversized (beyond jute.maxbuffer), negative, truncated and garbage
    /// packets close their own connection; a real client is served afterwards.
    func testMalformedAndOversizedPacketsCloseOnlyTheirConnection() throws {
        let c = try Coordinator(extra: "a1.services.zk.jute.maxbuffer = 4096")
        let agent = try c.start()
        let held = try LineClient(port: c.port, receiveTimeout: 2)  // an idle connection that must survive
        let packets: [[UInt8]] = [
            [0, 0, 0x20, 0],                                        // 8192 > jute.maxbuffer
            [0xff, 0xff, 0xff, 0xf0],                               // negative length
            [0, 0, 0, 40, 0, 0, 0, 0],                              // truncated, then EOF
            [0, 0, 0, 4, 1, 2, 3, 4],                               // a ConnectRequest far too short
            Array((0..<300).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }),
        ]
        for p in packets {
            let client = try LineClient(port: c.port, receiveTimeout: 2)
            client.send(p)
            _ = client.drain(within: 0.3)
        }
        let r = try runCommand(Self.zkCli,
                               ["-server", c.hosts, "ls", "/"], timeout: 60)
        XCTAssertTrue(r.stdout.contains("[zookeeper]"), r.stdout + r.stderr)
        XCTAssertTrue(agent.log.contains("exceeds jute.maxbuffer (4096)"), agent.log)
        XCTAssertTrue(agent.log.contains("malformed packet"), agent.log)
        held.send([0, 0, 0, 0])
        XCTAssertEqual(agent.stop(), 0)
    }

    func testConfigErrorsNameTheKey() throws {
        for (line, key) in [("tickTime = soon", "tickTime"), ("minSessionTimeout = 90000", "minSessionTimeout"),
                            ("clientPort = 70000", "clientPort"), ("forceSync = maybe", "forceSync"),
                            ("jute.maxbuffer = 10", "jute.maxbuffer"), ("4lw.commands.whitelist = ruok, stats", "4lw.commands.whitelist")] {
            let c = try Coordinator(extra: "a1.services.zk.\(line)")
            let r = try c.setup.check()
            XCTAssertNotEqual(r.status, 0, line)
            XCTAssertTrue((r.stdout + r.stderr).contains(key), "\(line): \(r.stdout)\(r.stderr)")
        }
    }
}
