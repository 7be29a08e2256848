import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The hdfs sink end to end on a local destination: a real `sluice` agent
/// writing real files. (WebHDFS: WebHDFSSinkTests.)
final class HDFSSinkTests: XCTestCase {
    let plugins = ["SluiceSequenceSource", "SluiceExecSource", "SluiceSpoolDirSource", "SluiceHDFSSink", "SluiceFlumeInterceptors"]

    /// seq r1 (`totalEvents`) → memory c1 → hdfs k1 writing under `dir`.
    func seqConfig(_ dir: String, totalEvents: Int, _ sink: String) -> String {
        """
        a1.sources = r1
        a1.channels = c1
        a1.sinks = k1
        a1.sources.r1.type = seq
        a1.sources.r1.totalEvents = \(totalEvents)
        a1.sources.r1.channels = c1
        a1.channels.c1.type = memory
        a1.sinks.k1.type = hdfs
        a1.sinks.k1.channel = c1
        a1.sinks.k1.hdfs.path = \(dir)
        \(sink)
        """
    }

    /// Files in `dir`, ordered by the counter after the prefix's last '.'.
    func files(_ dir: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        func counter(_ n: String) -> Int64 {
            let parts = n.split(separator: ".")
            return parts.compactMap { Int64($0) }.first ?? Int64.max
        }
        return names.sorted { (counter($0), $0) < (counter($1), $1) }
    }

    func text(_ path: String) -> String { String(decoding: ExecRoll.fileBytes(path), as: UTF8.self) }

    func all(_ dir: String) -> String { files(dir).map { text(dir + "/" + $0) }.joined() }

    func lines(_ n: Int) -> String { (0..<n).map { "\($0)\n" }.joined() }

    func testRollCountWithInUseNamesUntilClose() throws {
        let out = makeTempDir("hdfs-count") + "/logs"
        let agent = try AgentSetup(seqConfig(out, totalEvents: 25, """
            a1.sinks.k1.hdfs.fileType = DataStream
            a1.sinks.k1.hdfs.rollCount = 10
            a1.sinks.k1.hdfs.rollSize = 0
            a1.sinks.k1.hdfs.rollInterval = 0
            a1.sinks.k1.hdfs.filePrefix = events
            a1.sinks.k1.hdfs.fileSuffix = .log
            """), plugins: plugins).start()
        ExecRoll.waitUntil("25 events written") { all(out) == lines(25) }
        let open = files(out)
        XCTAssertEqual(open.count, 3, "\(open)")
        XCTAssertTrue(open[0].range(of: #"^events\.[0-9]{13}\.log$"#, options: .regularExpression) != nil, "\(open)")
        XCTAssertTrue(open[2].hasSuffix(".log.tmp"), "the third file is still in use: \(open)")
        XCTAssertEqual(text(out + "/" + open[0]), lines(10))
        XCTAssertEqual(agent.stop(), 0)
        let closed = files(out)
        XCTAssertEqual(closed.count, 3)
        XCTAssertFalse(closed.contains { $0.hasSuffix(".tmp") }, "renamed on stop: \(closed)")
        XCTAssertEqual(all(out), lines(25))
        let counters = closed.map { Int64($0.split(separator: ".")[1])! }
        XCTAssertEqual(counters, [counters[0], counters[0] + 1, counters[0] + 2], "N grows by one per file")
    }

    /// rollSize counts body bytes: bodies "0".."19" are 30 bytes, rolled at >= 10.
    func testRollSizeAndHeaderAndTextWithInUsePrefix() throws {
        let out = makeTempDir("hdfs-size")
        let agent = try AgentSetup(seqConfig(out, totalEvents: 20, """
            a1.sinks.k1.hdfs.fileType = DataStream
            a1.sinks.k1.hdfs.rollCount = 0
            a1.sinks.k1.hdfs.rollSize = 10
            a1.sinks.k1.hdfs.inUsePrefix = _
            a1.sinks.k1.serializer = HEADER_AND_TEXT
            """), plugins: plugins).start()
        ExecRoll.waitUntil("20 events") { files(out).count >= 3 && all(out).components(separatedBy: "\n").count == 21 }
        XCTAssertTrue(files(out).contains { $0.hasPrefix("_FlumeData.") && $0.hasSuffix(".tmp") }, "\(files(out))")
        XCTAssertEqual(agent.stop(), 0)
        let names = files(out)
        XCTAssertFalse(names.contains { $0.hasPrefix("_") || $0.hasSuffix(".tmp") }, "\(names)")
        XCTAssertEqual(text(out + "/" + names[0]), (0..<10).map { "{} \($0)\n" }.joined(), "10 one-byte bodies")
        XCTAssertEqual(text(out + "/" + names[1]), (10..<15).map { "{} \($0)\n" }.joined(), "5 two-byte bodies")
        XCTAssertEqual(all(out), (0..<20).map { "{} \($0)\n" }.joined())
    }

    func testRollIntervalAndIdleTimeout() throws {
        let a = makeTempDir("hdfs-interval"), b = makeTempDir("hdfs-idle")
        let agent = try AgentSetup("""
            a1.sources = r1
            a1.channels = c1 c2
            a1.sinks = k1 k2
            a1.sources.r1.type = exec
            a1.sources.r1.shell = /bin/sh -c
            a1.sources.r1.command = i=1; while [ $i -le 25 ]; do echo $i; i=$((i+1)); sleep 0.1; done
            a1.sources.r1.batchTimeout = 50
            a1.sources.r1.channels = c1 c2
            a1.channels.c1.type = memory
            a1.channels.c2.type = memory
            a1.sinks.k1.type = hdfs
            a1.sinks.k1.channel = c1
            a1.sinks.k1.hdfs.path = file://\(a)
            a1.sinks.k1.hdfs.fileType = DataStream
            a1.sinks.k1.hdfs.rollCount = 0
            a1.sinks.k1.hdfs.rollSize = 0
            a1.sinks.k1.hdfs.rollInterval = 1
            a1.sinks.k2.type = org.apache.flume.sink.hdfs.HDFSEventSink
            a1.sinks.k2.channel = c2
            a1.sinks.k2.hdfs.path = \(b)
            a1.sinks.k2.hdfs.fileType = DataStream
            a1.sinks.k2.hdfs.rollCount = 0
            a1.sinks.k2.hdfs.rollSize = 0
            a1.sinks.k2.hdfs.rollInterval = 0
            a1.sinks.k2.hdfs.idleTimeout = 1
            """, plugins: plugins).start()
        let expected = (1...25).map { "\($0)\n" }.joined()
        ExecRoll.waitUntil("all lines, idle file closed") {
            all(b) == expected && !files(b).contains { $0.hasSuffix(".tmp") }
        }
        ExecRoll.waitUntil("all lines rolled by time") { all(a) == expected }
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertGreaterThanOrEqual(files(a).count, 2, "2.5 s of input at 1 s per file: \(files(a))")
        XCTAssertEqual(files(b).count, 1, "closed only after 1 s without events: \(files(b))")
        XCTAssertEqual(all(a), expected)
    }

    /// Buckets by a header and by the timestamp header (rounded, in a zone).
    func testBucketingByHeaderAndTime() throws {
        let out = makeTempDir("hdfs-buckets")
        // 1700000000000 = 2023-11-14 22:13:20 UTC = 17:13:20 in New York.
        let agent = try AgentSetup("""
            a1.sources = r1 r2
            a1.channels = c1
            a1.sinks = k1
            a1.sources.r1.type = seq
            a1.sources.r1.totalEvents = 3
            a1.sources.r1.channels = c1
            a1.sources.r1.interceptors = i1 i2
            a1.sources.r1.interceptors.i1.type = static
            a1.sources.r1.interceptors.i1.key = kind
            a1.sources.r1.interceptors.i1.value = web
            a1.sources.r1.interceptors.i2.type = static
            a1.sources.r1.interceptors.i2.key = timestamp
            a1.sources.r1.interceptors.i2.value = 1700000000000
            a1.sources.r2.type = seq
            a1.sources.r2.totalEvents = 2
            a1.sources.r2.channels = c1
            a1.sources.r2.interceptors = i1 i2
            a1.sources.r2.interceptors.i1.type = static
            a1.sources.r2.interceptors.i1.key = kind
            a1.sources.r2.interceptors.i1.value = db
            a1.sources.r2.interceptors.i2.type = static
            a1.sources.r2.interceptors.i2.key = timestamp
            a1.sources.r2.interceptors.i2.value = 1700000000000
            a1.channels.c1.type = memory
            a1.sinks.k1.type = hdfs
            a1.sinks.k1.channel = c1
            a1.sinks.k1.hdfs.path = \(out)/%{kind}/%Y-%m-%d/%H%M
            a1.sinks.k1.hdfs.filePrefix = %{kind}-%y%m%d
            a1.sinks.k1.hdfs.fileType = DataStream
            a1.sinks.k1.hdfs.round = true
            a1.sinks.k1.hdfs.roundValue = 10
            a1.sinks.k1.hdfs.roundUnit = minute
            a1.sinks.k1.hdfs.timeZone = America/New_York
            """, plugins: plugins).start()
        let web = out + "/web/2023-11-14/1710", db = out + "/db/2023-11-14/1710"
        ExecRoll.waitUntil("both buckets") { all(web) == lines(3) && all(db) == lines(2) }
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertTrue(files(web).allSatisfy { $0.hasPrefix("web-231114.") && !$0.hasSuffix(".tmp") }, "\(files(web))")
        XCTAssertTrue(files(db).allSatisfy { $0.hasPrefix("db-231114.") }, "\(files(db))")
    }

    func testCompressedStreamIsReadableWithZcat() throws {
        let out = makeTempDir("hdfs-gzip")
        let agent = try AgentSetup(seqConfig(out, totalEvents: 1000, """
            a1.sinks.k1.hdfs.fileType = CompressedStream
            a1.sinks.k1.hdfs.codeC = gzip
            a1.sinks.k1.hdfs.rollCount = 400
            a1.sinks.k1.hdfs.rollSize = 0
            a1.sinks.k1.hdfs.batchSize = 64
            """), plugins: plugins).start()
        ExecRoll.waitUntil("3 files") { files(out).count == 3 }
        usleep(300_000)
        XCTAssertEqual(agent.stop(), 0)
        let names = files(out)
        XCTAssertTrue(names.allSatisfy { $0.hasSuffix(".gz") }, "codec extension: \(names)")
        let r = try runCommand("/bin/sh", ["-c", "cd '\(out)' && zcat " + names.joined(separator: " ")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, lines(1000))
    }

    /// SequenceFiles read by an independent reader written from the format
    /// description (Tests/SluiceTests/hdfs/seqfile_read.py).
    func testSequenceFileReadByIndependentReader() throws {
        let a = makeTempDir("hdfs-seq-writable"), b = makeTempDir("hdfs-seq-text")
        let agent = try AgentSetup("""
            a1.sources = r1
            a1.channels = c1 c2
            a1.sinks = k1 k2
            a1.sources.r1.type = seq
            a1.sources.r1.totalEvents = 500
            a1.sources.r1.channels = c1 c2
            a1.sources.r1.interceptors = i1
            a1.sources.r1.interceptors.i1.type = static
            a1.sources.r1.interceptors.i1.key = timestamp
            a1.sources.r1.interceptors.i1.value = 1700000000123
            a1.channels.c1.type = memory
            a1.channels.c2.type = memory
            a1.sinks.k1.type = hdfs
            a1.sinks.k1.channel = c1
            a1.sinks.k1.hdfs.path = \(a)
            a1.sinks.k1.hdfs.rollCount = 0
            a1.sinks.k1.hdfs.rollSize = 0
            a1.sinks.k2.type = hdfs
            a1.sinks.k2.channel = c2
            a1.sinks.k2.hdfs.path = \(b)
            a1.sinks.k2.hdfs.writeFormat = Text
            a1.sinks.k2.hdfs.rollCount = 0
            a1.sinks.k2.hdfs.rollSize = 0
            """, plugins: plugins).start()
        let reader = Paths.repoRoot + "/Tests/SluiceTests/hdfs/seqfile_read.py"
        ExecRoll.waitUntil("both written") {
            let sizes = [a, b].map { d in files(d).reduce(0) { $0 + ExecRoll.fileBytes(d + "/" + $1).count } }
            return sizes.allSatisfy { $0 > 500 * 20 }
        }
        usleep(300_000)
        XCTAssertEqual(agent.stop(), 0)
        for (dir, valueClass) in [(a, "org.apache.hadoop.io.BytesWritable"), (b, "org.apache.hadoop.io.Text")] {
            let names = files(dir)
            XCTAssertEqual(names.count, 1, "\(names)")
            let r = try runCommand("/usr/bin/python3", [reader, dir + "/" + names[0]])
            XCTAssertEqual(r.status, 0, r.stderr)
            let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            XCTAssertEqual(obj?["key"] as? String, "org.apache.hadoop.io.LongWritable")
            XCTAssertEqual(obj?["value"] as? String, valueClass)
            XCTAssertGreaterThan(obj?["syncs"] as? Int ?? 0, 2, "sync markers every 2000 bytes")
            let records = obj?["records"] as? [[Any]] ?? []
            XCTAssertEqual(records.map { $0[1] as? String ?? "" }, (0..<500).map { String($0) })
            XCTAssertTrue(records.allSatisfy { ($0[0] as? Int) == 1700000000123 }, "key = timestamp header")
        }
    }

    /// kill -9 while a spooled file streams through a file channel into
    /// gzip files: after a restart every line is there, every file is a
    /// whole gzip file, and no in-use file is left after the stop.
    func testKillNineMidFileThenRestartLosesNothing() throws {
        let work = makeTempDir("hdfs-kill")
        let spool = work + "/spool", out = work + "/out"
        try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true)
        let n = 200_000
        try lines(n).write(toFile: work + "/input.log", atomically: false, encoding: .utf8)
        rename(work + "/input.log", spool + "/input.log")
        let setup = try AgentSetup("""
            a1.sources = r1
            a1.channels = c1
            a1.sinks = k1
            a1.sources.r1.type = spooldir
            a1.sources.r1.spoolDir = \(spool)
            a1.sources.r1.channels = c1
            a1.channels.c1.type = file
            a1.channels.c1.checkpointDir = \(work)/checkpoint
            a1.channels.c1.dataDirs = \(work)/data
            a1.sinks.k1.type = hdfs
            a1.sinks.k1.channel = c1
            a1.sinks.k1.hdfs.path = \(out)
            a1.sinks.k1.hdfs.fileType = CompressedStream
            a1.sinks.k1.hdfs.codeC = gzip
            a1.sinks.k1.hdfs.rollCount = 0
            a1.sinks.k1.hdfs.rollSize = 0
            a1.sinks.k1.hdfs.rollInterval = 0
            """, plugins: plugins)
        let first = try setup.start()
        ExecRoll.waitUntil("an in-use file with data") {
            files(out).contains { $0.hasSuffix(".gz.tmp") && ExecRoll.fileBytes(out + "/" + $0).count > 2000 }
        }
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        XCTAssertTrue(files(out).contains { $0.hasSuffix(".tmp") }, "killed mid-file: \(files(out))")

        let second = try setup.start()
        func decoded() -> String? {
            let names = files(out).filter { !$0.hasSuffix(".tmp") }
            guard !names.isEmpty, let r = try? runCommand("/bin/sh", ["-c", "cd '\(out)' && zcat " + names.joined(separator: " ")]),
                  r.status == 0 else { return nil }
            return r.stdout
        }
        ExecRoll.waitUntil("spool file done", timeout: 60) {
            FileManager.default.fileExists(atPath: spool + "/input.log.COMPLETED")
        }
        XCTAssertEqual(second.stop(), 0)
        XCTAssertFalse(files(out).contains { $0.hasSuffix(".tmp") }, "\(files(out))")
        XCTAssertEqual(files(out).count, 2, "the recovered file and the second run's file: \(files(out))")
        let got = decoded() ?? ""
        XCTAssertFalse(got.isEmpty, "every file is whole gzip")
        let seen = Set(got.split(separator: "\n").map(String.init))
        let missing = (0..<n).filter { !seen.contains(String($0)) }
        XCTAssertEqual(missing.count, 0, "lost: \(missing.prefix(10))")
    }

    func testBadSettingsAreRefusedByNameOfKey() throws {
        let out = makeTempDir("hdfs-bad")
        for (line, key) in [("a1.sinks.k1.hdfs.fileType = Parquet", "hdfs.fileType"),
                            ("a1.sinks.k1.hdfs.fileType = CompressedStream", "hdfs.codeC"),
                            ("a1.sinks.k1.hdfs.codeC = lzo", "hdfs.codeC"),
                            ("a1.sinks.k1.hdfs.roundUnit = week", "hdfs.roundUnit"),
                            ("a1.sinks.k1.hdfs.timeZone = Mars/Olympus", "hdfs.timeZone"),
                            ("a1.sinks.k1.hdfs.rollCount = -1", "hdfs.rollCount")] {
            let r = try AgentSetup(seqConfig(out, totalEvents: 1, line), plugins: plugins).check()
            XCTAssertNotEqual(r.status, 0, line)
            XCTAssertTrue((r.stdout + r.stderr).contains(key), "\(line): \(r.stdout) \(r.stderr)")
        }
    }
}
