import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The hdfs sink on a `webhdfs://` destination, against
/// `hdfs/webhdfs_double.py`: a protocol double of the WebHDFS REST subset
/// over a local directory (no HDFS runs here), with fault injection.
final class WebHDFSSinkTests: XCTestCase {
    let plugins = ["SluiceSequenceSource", "SluiceHDFSSink"]

    final class Double {
        let root: String, control: String, port: Int, certificate: String
        let process = Process()

        /// With `tls`, the double serves HTTPS with a fresh self-signed
        /// certificate for localhost / 127.0.0.1, written to `certificate`.
        init(tls: Bool = false) throws {
            let dir = makeTempDir("webhdfs-double")
            root = dir + "/root"
            control = dir + "/control"
            certificate = dir + "/cert.pem"
            try FileManager.default.createDirectory(atPath: control, withIntermediateDirectories: true)
            var tlsArgs: [String] = []
            if tls {
                let r = try runCommand("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                                                            "-keyout", dir + "/key.pem", "-out", certificate, "-subj", "/CN=localhost",
                                                            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
                guard r.status == 0 else { throw NSError(domain: "openssl: \(r.stderr)", code: 1) }
                tlsArgs = ["--tls-cert", certificate, "--tls-key", dir + "/key.pem"]
            }
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = [Paths.repoRoot + "/Tests/SluiceTests/hdfs/webhdfs_double.py", root, control] + tlsArgs
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            var line = ""
            while !line.hasSuffix("\n") {
                let d = out.fileHandleForReading.availableData
                if d.isEmpty { break }
                line += String(decoding: d, as: UTF8.self)
            }
            guard let p = Int(line.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") else {
                throw NSError(domain: "webhdfs_double did not start: \(line)", code: 1)
            }
            port = p
        }

        deinit { stop() }

        func stop() {
            if process.isRunning {
                kill(process.processIdentifier, SIGTERM)
                process.waitUntilExit()
            }
        }

        func inject(_ json: String) throws { try json.write(toFile: control + "/inject.json", atomically: true, encoding: .utf8) }

        var requests: [String] {
            ((try? String(contentsOfFile: control + "/requests.log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        func files(_ dir: String) -> [String] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: root + dir)) ?? []
            return names.sorted { (Int64($0.split(separator: ".")[1]) ?? 0, $0) < (Int64($1.split(separator: ".")[1]) ?? 0, $1) }
        }

        func text(_ dir: String) -> String {
            files(dir).map { String(decoding: ExecRoll.fileBytes(root + dir + "/" + $0), as: UTF8.self) }.joined()
        }
    }

    /// The double, stopped when the test ends.
    func startDouble(tls: Bool = false) throws -> Double {
        let d = try Double(tls: tls)
        addTeardownBlock { d.stop() }
        return d
    }

    func config(_ d: Double, events: Int, _ extra: String) -> String {
        """
        a1.sources = r1
        a1.channels = c1
        a1.sinks = k1
        a1.sources.r1.type = seq
        a1.sources.r1.totalEvents = \(events)
        a1.sources.r1.batchSize = 5
        a1.sources.r1.channels = c1
        a1.channels.c1.type = memory
        a1.sinks.k1.type = hdfs
        a1.sinks.k1.channel = c1
        a1.sinks.k1.hdfs.path = webhdfs://127.0.0.1:\(d.port)/logs/app
        a1.sinks.k1.hdfs.webhdfs.user = flume
        a1.sinks.k1.hdfs.fileType = DataStream
        a1.sinks.k1.hdfs.batchSize = 5
        a1.sinks.k1.hdfs.rollSize = 0
        a1.sinks.k1.hdfs.rollInterval = 0
        a1.sinks.k1.hdfs.retryInterval = 1
        \(extra)
        """
    }

    func lines(_ range: Range<Int>) -> String { range.map { "\($0)\n" }.joined() }

    func testDataLandsAndFilesAreRenamedOnRoll() throws {
        let d = try startDouble()
        let agent = try AgentSetup(config(d, events: 25, "a1.sinks.k1.hdfs.rollCount = 10"), plugins: plugins).start()
        ExecRoll.waitUntil("25 events on the double") { d.text("/logs/app") == lines(0..<25) }
        let open = d.files("/logs/app")
        XCTAssertEqual(open.count, 3, "\(open)")
        XCTAssertFalse(open[0].hasSuffix(".tmp"), "\(open)")
        XCTAssertTrue(open[2].hasSuffix(".tmp"), "the third file is in use: \(open)")
        XCTAssertEqual(agent.stop(), 0)
        let closed = d.files("/logs/app")
        XCTAssertEqual(closed.count, 3)
        XCTAssertFalse(closed.contains { $0.hasSuffix(".tmp") }, "renamed on stop: \(closed)")
        XCTAssertEqual(d.text("/logs/app"), lines(0..<25))
        let reqs = d.requests
        XCTAssertTrue(reqs.contains { $0.hasPrefix("PUT namenode MKDIRS /logs/app 200") }, "\(reqs)")
        XCTAssertTrue(reqs.contains { $0.hasPrefix("PUT datanode CREATE /logs/app/FlumeData.") && $0.hasSuffix(" 201") }, "\(reqs)")
        XCTAssertTrue(reqs.contains { $0.hasPrefix("POST datanode APPEND /logs/app/FlumeData.") && $0.hasSuffix(" 200") }, "\(reqs)")
        XCTAssertEqual(reqs.filter { $0.hasPrefix("PUT namenode RENAME ") && $0.hasSuffix(" 200") }.count, 3, "\(reqs)")
    }

    func testAppendFailureRollsBackAndRetriesWithoutLossOrDuplication() throws {
        let d = try startDouble()
        try d.inject(#"[{"op": "APPEND", "stage": "datanode", "status": 500, "count": 1}, {"op": "CREATE", "stage": "namenode", "status": 500, "count": 2}]"#)
        let agent = try AgentSetup(config(d, events: 40, "a1.sinks.k1.hdfs.rollCount = 0"), plugins: plugins).start()
        ExecRoll.waitUntil("40 events on the double") { d.text("/logs/app").split(separator: "\n").count >= 40 }
        XCTAssertEqual(agent.stop(), 0)
        let got = d.text("/logs/app").split(separator: "\n").map { Int($0)! }
        XCTAssertEqual(got.count, 40, "no duplicates: \(got)")
        XCTAssertEqual(got.sorted(), Array(0..<40), "no loss")
        let reqs = d.requests
        XCTAssertTrue(reqs.contains { $0.hasPrefix("POST datanode APPEND ") && $0.hasSuffix(" 500") }, "\(reqs)")
        XCTAssertEqual(reqs.filter { $0.hasPrefix("PUT namenode CREATE ") && $0.hasSuffix(" 500") }.count, 2,
                       "NameNode steps are retried in place: \(reqs)")
        let names = d.files("/logs/app")
        XCTAssertGreaterThanOrEqual(names.count, 2, "the failed file was closed, the batch went to a new one: \(names)")
        XCTAssertFalse(names.contains { $0.hasSuffix(".tmp") }, "\(names)")
        XCTAssertTrue(agent.log.contains("HTTP 500"), agent.log)
    }

    /// A datanode that stores half of an APPEND and then fails: the sink
    /// TRUNCATEs the file back to its acknowledged length before closing it,
    /// so every gzip file stays whole and nothing is doubled.
    func testPartlyStoredAppendIsCutBackWithTruncate() throws {
        let d = try startDouble()
        try d.inject(#"[{"op": "APPEND", "stage": "datanode", "status": 500, "count": 1, "partial": true}]"#)
        let conf = config(d, events: 40, """
            a1.sinks.k1.hdfs.rollCount = 0
            a1.sinks.k1.hdfs.fileType = CompressedStream
            a1.sinks.k1.hdfs.codeC = gzip
            """).replacingOccurrences(of: "a1.sinks.k1.hdfs.fileType = DataStream\n", with: "")
        let agent = try AgentSetup(conf, plugins: plugins).start()
        func decompressed() -> [Int] {
            d.files("/logs/app").flatMap { name -> [Int] in
                let r = try? runCommand("/bin/sh", ["-c", "gzip -dc < '\(d.root)/logs/app/\(name)'"])
                return (r?.stdout ?? "").split(separator: "\n").compactMap { Int($0) }
            }
        }
        ExecRoll.waitUntil("40 events on the double") { decompressed().count >= 40 }
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertTrue(d.requests.contains { $0.hasPrefix("POST datanode APPEND ") && $0.hasSuffix(" 500") }, "\(d.requests)")
        XCTAssertTrue(d.requests.contains { $0.hasPrefix("POST namenode TRUNCATE /logs/app/FlumeData.") && $0.hasSuffix(" 200") }, "\(d.requests)")
        for name in d.files("/logs/app") {
            let r = try runCommand("/bin/sh", ["-c", "gzip -t '\(d.root)/logs/app/\(name)'"])
            XCTAssertEqual(r.status, 0, "\(name) is a whole gzip file: \(r.stderr)")
        }
        XCTAssertEqual(decompressed().sorted(), Array(0..<40), "no loss, no duplicates")
    }

    func testPermissionDeniedNamesThePath() throws {
        let d = try startDouble()
        try d.inject(#"[{"op": "CREATE", "stage": "namenode", "status": 403, "count": -1}]"#)
        let agent = try AgentSetup(config(d, events: 5, "a1.sinks.k1.hdfs.rollCount = 0"), plugins: plugins).start()
        agent.waitFor("a clear 403 error") {
            $0.contains("WebHDFS CREATE /logs/app/FlumeData.") && $0.contains("HTTP 403: AccessControlException: Permission denied: user=flume")
        }
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(d.files("/logs/app"), [], "nothing written")
    }

    func testRenameOfAMissingSourceIsAnErrorNamingThePath() throws {
        let d = try startDouble()
        try d.inject(#"[{"op": "RENAME", "stage": "namenode", "status": 404, "count": -1}]"#)
        let agent = try AgentSetup(config(d, events: 10, """
            a1.sinks.k1.hdfs.rollCount = 5
            a1.sinks.k1.hdfs.closeTries = 1
            """), plugins: plugins).start()
        agent.waitFor("a clear 404 error on RENAME") {
            $0.contains("WebHDFS RENAME /logs/app/FlumeData.") && $0.contains("HTTP 404: FileNotFoundException")
        }
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(d.text("/logs/app"), lines(0..<10), "the data stays, under the in-use names")
    }

    /// kill -9 with a file open on WebHDFS, its last APPEND torn: the next
    /// start finds the in-use file (LISTSTATUS), reads it (OPEN), cuts the
    /// torn record off (TRUNCATE) and closes it under its final name (RENAME).
    func testInUseFileLeftByAKilledAgentIsClosedAtTheNextStart() throws {
        let d = try startDouble()
        let setup = try AgentSetup(config(d, events: 10, "a1.sinks.k1.hdfs.rollCount = 1000"), plugins: plugins)
        let first = try setup.start()
        ExecRoll.waitUntil("10 events on the double") { d.text("/logs/app") == lines(0..<10) }
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        let left = d.files("/logs/app")
        XCTAssertEqual(left.count, 1)
        XCTAssertTrue(left[0].hasSuffix(".tmp"), "\(left)")
        let torn = try XCTUnwrap(FileHandle(forWritingAtPath: d.root + "/logs/app/" + left[0]))
        torn.seekToEndOfFile()
        torn.write(Data("1".utf8))  // a record cut short by the crash
        torn.closeFile()

        let second = try setup.start()
        let closed = String(left[0].dropLast(".tmp".count))
        second.waitFor("the recovery") { $0.contains("recovery: closed /logs/app/\(left[0]) as /logs/app/\(closed)") }
        for step in ["GET namenode LISTSTATUS /logs/app 200", "GET datanode OPEN /logs/app/\(left[0]) 200",
                     "POST namenode TRUNCATE /logs/app/\(left[0]) 200"] {
            XCTAssertTrue(d.requests.contains(step), "\(step): \(d.requests)")
        }
        XCTAssertEqual(second.stop(), 0)
        let files = d.files("/logs/app")
        XCTAssertTrue(files.contains(closed), "\(files)")
        XCTAssertFalse(files.contains { $0.hasSuffix(".tmp") }, "\(files)")
        XCTAssertEqual(String(decoding: ExecRoll.fileBytes(d.root + "/logs/app/" + closed), as: UTF8.self), lines(0..<10))
    }

    /// swebhdfs: HTTPS to the NameNode and to the DataNode it redirects to,
    /// the server checked against hdfs.webhdfs.ssl.caFile; without that CA
    /// the handshake fails and the log says why.
    func testSwebhdfsOverTLSWithTheCAFile() throws {
        let d = try startDouble(tls: true)
        let path = "a1.sinks.k1.hdfs.path = swebhdfs://localhost:\(d.port)/logs/app"
        let conf = config(d, events: 12, "a1.sinks.k1.hdfs.rollCount = 5")
            .replacingOccurrences(of: "a1.sinks.k1.hdfs.path = webhdfs://127.0.0.1:\(d.port)/logs/app", with: path)
        let agent = try AgentSetup(conf + "\na1.sinks.k1.hdfs.webhdfs.ssl.caFile = \(d.certificate)\n", plugins: plugins).start()
        ExecRoll.waitUntil("12 events over TLS") { d.text("/logs/app") == lines(0..<12) }
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(d.files("/logs/app").count, 3)
        XCTAssertTrue(d.requests.contains { $0.hasPrefix("PUT datanode CREATE /logs/app/FlumeData.") && $0.hasSuffix(" 201") }, "\(d.requests)")

        let untrusted = try AgentSetup(conf, plugins: plugins).start()
        untrusted.waitFor("the TLS handshake error") { $0.contains("certificate verify failed (self-signed certificate") }
        // The sink's start (MKDIRS) fails, so the agent does not start.
        untrusted.process.waitUntilExit()
        XCTAssertNotEqual(untrusted.process.terminationStatus, 0, untrusted.log)
        XCTAssertEqual(d.text("/logs/app"), lines(0..<12), "nothing more written")

        let missing = try AgentSetup(conf + "\na1.sinks.k1.hdfs.webhdfs.ssl.caFile = /nonexistent/ca.pem\n", plugins: plugins).check()
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue((missing.stdout + missing.stderr).contains("property 'hdfs.webhdfs.ssl.caFile': cannot read '/nonexistent/ca.pem'"),
                      missing.stdout + missing.stderr)
    }
}
