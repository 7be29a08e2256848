import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The coordinator as an operator sees it: four-letter words next to Apache
/// ZooKeeper's own, autopurge, a damaged log, and ZooKeeper's Java client
/// re-setting persistent watches after a restart.
final class ZooKeeperOperationsTests: XCTestCase {
    typealias Coordinator = ZooKeeperTests.Coordinator

    func script(_ name: String) -> String { Paths.repoRoot + "/Tests/SluiceTests/zookeeper/" + name }

    /// Apache ZooKeeper 3.8 from Debian's package, standalone, every 4lw allowed.
    final class ApacheZooKeeper {
        let port = freeTCPPort()
        let process = Process()

        init() throws {
            let dir = makeTempDir("apache-zk")
            try write("""
                tickTime=2000
                dataDir=\(dir)/data
                clientPort=\(port)
                clientPortAddress=127.0.0.1
                4lw.commands.whitelist=*
                admin.enableServer=false

                """, to: dir + "/zoo.cfg")
            process.executableURL = URL(fileURLWithPath: "/usr/bin/java")
            process.arguments = ["-cp", "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar",
                                 "-Dzookeeper.root.logger=WARN,CONSOLE", "-Dzookeeper.log.dir=\(dir)",
                                 "org.apache.zookeeper.server.ZooKeeperServerMain", dir + "/zoo.cfg"]
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                if let c = try? LineClient(port: port, receiveTimeout: 1) {
                    c.send("ruok")
                    if String(decoding: c.drain(within: 1.0), as: UTF8.self) == "imok" { return }
                }
                usleep(200_000)
            }
            stop()
            throw XCTSkip("Apache ZooKeeper did not start on port \(port)")
        }

        func stop() {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    /// srvr, stat, conf, cons, envi and mntr asked of both servers with one
    /// kazoo session each: the same labels, keys, fields and value shapes.
    func testFourLetterWordsReadLikeApacheZooKeepers() throws {
        let c = try Coordinator(extra: "a1.services.zk.4lw.commands.whitelist = *")
        let agent = try c.start()
        let zk = try ApacheZooKeeper()
        defer { zk.stop() }
        let r = try runCommand("/usr/bin/env", ["python3", script("fourletter.py"), c.hosts, "127.0.0.1:\(zk.port)"], timeout: 120)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("ALL OK"), r.stdout + r.stderr)
        XCTAssertEqual(agent.stop(), 0)
    }

    /// Many snapshots (snapCount 10), then a start with autopurge on: the
    /// newest snapRetainCount snapshots and the logs after them stay, and the
    /// tree recovered from what is left is whole, also after kill -9.
    func testAutopurgeKeepsTheNewestSnapshotsAndTheLogsTheyNeed() throws {
        let first = try Coordinator(extra: "a1.services.zk.snapCount = 10")
        var agent = try first.start()
        let create = """
            import sys
            from kazoo.client import KazooClient
            k = KazooClient(hosts=sys.argv[1]); k.start(timeout=20)
            k.ensure_path("/purge")
            for i in range(300):
                k.create("/purge/n%03d" % i, b"v%d" % i)
            k.stop(); print("created")
            """
        let made = try runCommand("/usr/bin/env", ["python3", "-c", create, first.hosts], timeout: 120)
        XCTAssertEqual(made.status, 0, made.stdout + made.stderr)
        XCTAssertEqual(agent.stop(), 0)
        func files(_ prefix: String) throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: first.dataDir)
                .filter { $0.hasPrefix(prefix) && !$0.hasSuffix(".tmp") }.sorted()
        }
        let snapshotsBefore = try files("snapshot."), logsBefore = try files("log.")
        XCTAssertGreaterThan(snapshotsBefore.count, 10, "snapCount 10 over 300 writes")

        let second = try Coordinator(dataDir: first.dataDir, extra: """
            a1.services.zk.autopurge.purgeInterval = 1
            a1.services.zk.autopurge.snapRetainCount = 3
            """)
        agent = try second.start()
        agent.waitFor("autopurge: kept 3 snapshots")
        let snapshotsAfter = try files("snapshot."), logsAfter = try files("log.")
        XCTAssertEqual(snapshotsAfter, Array(snapshotsBefore.suffix(3)))
        XCTAssertLessThan(logsAfter.count, logsBefore.count, "old logs are purged")
        // The oldest kept log starts at or before the oldest kept snapshot.
        let oldestSnapshot = Int64(snapshotsAfter[0].dropFirst("snapshot.".count))!
        XCTAssertLessThanOrEqual(Int64(logsAfter[0].dropFirst("log.".count))!, oldestSnapshot + 1)

        kill(agent.process.processIdentifier, SIGKILL)
        agent.process.waitUntilExit()
        agent = try second.start()
        let read = """
            import sys
            from kazoo.client import KazooClient
            k = KazooClient(hosts=sys.argv[1]); k.start(timeout=20)
            kids = k.get_children("/purge")
            bad = [i for i in range(300) if k.get("/purge/n%03d" % i)[0] != b"v%d" % i]
            print("children", len(kids), "bad", bad); k.stop()
            """
        let r = try runCommand("/usr/bin/env", ["python3", "-c", read, second.hosts], timeout: 120)
        XCTAssertEqual(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "children 300 bad []", r.stderr)
        XCTAssertEqual(agent.stop(), 0)
    }

    /// A damaged record in a log file that newer files follow is not a torn
    /// tail: cutting it would drop acknowledged txns, so the server refuses
    /// to start and names the file.
    func testDamagedOlderLogFileRefusesToStart() throws {
        let c = try Coordinator(extra: "a1.services.zk.snapCount = 1000000")
        for round in 0..<2 {
            let agent = try c.start()
            let r = try runCommand("/usr/bin/env", ["python3", "-c", """
                import sys
                from kazoo.client import KazooClient
                k = KazooClient(hosts=sys.argv[1]); k.start(timeout=20)
                for i in range(20): k.create("/d%d-%d" % (\(round), i), b"x" * 100)
                k.stop()
                """, c.hosts], timeout: 60)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(agent.stop(), 0)
        }
        let logs = try FileManager.default.contentsOfDirectory(atPath: c.dataDir).filter { $0.hasPrefix("log.") }.sorted()
        XCTAssertEqual(logs.count, 2, "one log per run")
        let older = c.dataDir + "/" + logs[0]
        var bytes = try Data(contentsOf: URL(fileURLWithPath: older))
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: older))
        let r = try runCommand(Paths.sluice, ["agent", "-n", "a1", "-f", c.setup.conf, "--plugin-dir", c.setup.dir], timeout: 30)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("transaction log \(older) is damaged at byte"), r.stderr)
        XCTAssertTrue(r.stderr.contains("refusing to start"), r.stderr)
    }

    /// ZooKeeper's Java client adds a persistent and a persistent-recursive
    /// watch; the server is killed (-9) and restarted; the client's
    /// SetWatches2 on reconnect brings both back, and they keep firing.
    func testJavaClientPersistentWatchesSurviveARestart() throws {
        let c = try Coordinator(maxSessionTimeout: 20000)
        var agent = try c.start()
        let marker = makeTempDir("sluice-zk-persistent")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/java")
        p.arguments = ["-cp", "/usr/share/java/zookeeper.jar", "-Dzookeeper.root.logger=WARN",
                       script("PersistentWatches.java"), c.hosts, marker]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: marker + "/java-ready") && p.isRunning && Date() < deadline { usleep(50_000) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: marker + "/java-ready"), "the Java client did not get ready")
        kill(agent.process.processIdentifier, SIGKILL)
        agent.process.waitUntilExit()
        agent = try c.start()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("OK persistent watches fire before the restart"), text)
        XCTAssertTrue(text.contains("OK persistent watches re-set after restart"), text)
        XCTAssertEqual(agent.stop(), 0)
    }
}
