import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The spooling directory source end to end: real `sluice`, real plugins,
/// files in a temporary spool directory, events read back from a logger sink.
final class SpoolDirSourceTests: XCTestCase {
    let plugins = ["SluiceSpoolDirSource", "SluiceLoggerSink", "SluiceNullSink"]

    // MARK: Helpers

    /// One spooldir source → memory channel c1 → logger sink k1 (or `sink`).
    /// `extra` lines (full keys) are added; `channels` is the source's list.
    func config(_ spool: String, _ extra: String = "", type: String = "spooldir", channels: String = "c1",
                sink: String = "logger") -> String {
        """
        a1.sources = r1
        a1.channels = \(channels)
        a1.sinks = k1
        a1.sources.r1.type = \(type)
        a1.sources.r1.spoolDir = \(spool)
        a1.sources.r1.pollDelay = 100
        a1.sources.r1.channels = \(channels)
        a1.channels.c1.type = memory
        a1.channels.c1.capacity = 10000
        a1.channels.c1.transactionCapacity = 1000
        a1.sinks.k1.type = \(sink)
        a1.sinks.k1.channel = c1
        \(sink == "logger" ? "a1.sinks.k1.maxBytesToLog = 4000" : "")
        \(extra)
        """
    }

    func start(_ config: String) throws -> AgentProcess {
        try AgentSetup(config, plugins: plugins).start()
    }

    /// Puts a file into `dir` atomically (written under a hidden name, which
    /// the source ignores, then renamed), with modification time `mtime`
    /// (seconds since the epoch) when given.
    func put(_ dir: String, _ name: String, _ bytes: [UInt8], mtime: Int? = nil) throws {
        let hidden = dir + "/.staging-" + name.replacingOccurrences(of: "/", with: "_")
        XCTAssertTrue(FileManager.default.createFile(atPath: hidden, contents: Data(bytes)))
        if let mtime {
            var times = [timeval(tv_sec: mtime, tv_usec: 0), timeval(tv_sec: mtime, tv_usec: 0)]
            XCTAssertEqual(utimes(hidden, &times), 0)
        }
        XCTAssertEqual(rename(hidden, dir + "/" + name), 0, "rename into \(dir): \(String(cString: strerror(errno)))")
    }

    func put(_ dir: String, _ name: String, _ text: String, mtime: Int? = nil) throws {
        try put(dir, name, Array(text.utf8), mtime: mtime)
    }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    func contents(_ path: String) -> [UInt8] {
        (FileManager.default.contents(atPath: path).map { [UInt8]($0) }) ?? []
    }

    /// Waits (polling) until `condition` holds; fails the test on timeout.
    func eventually(_ what: String, timeout: Double = 20, _ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return }
            usleep(20_000)
        }
        XCTAssertTrue(condition(), "timed out waiting for \(what)")
    }

    /// The raw logger-sink lines for `sink` (to look at body hex).
    func eventLines(_ agent: AgentProcess, _ sink: String = "k1") -> [String] {
        agent.log.split(separator: "\n").filter { $0.contains(" [\(sink)] Event: { headers:{") }.map(String.init)
    }

    func numbered(_ prefix: String, _ n: Int) -> [String] { (0..<n).map { "\(prefix)-\($0)" } }

    let now = Int(Date().timeIntervalSince1970)

    // MARK: Delivery

    func testLinesDeliveredExactlyOnceInOrderAndFilesRenamed() throws {
        let spool = makeTempDir("spool")
        let a = numbered("a", 250) // more than one batch (batchSize 100)
        try put(spool, "a.log", a.joined(separator: "\n") + "\n", mtime: now - 20)
        // An empty line is an empty event; a last line without newline is an event.
        try put(spool, "b.log", "b-0\n\nb-2", mtime: now - 10)
        let agent = try start(config(spool))
        agent.waitFor("'\(spool)/a.log' done: 250 events, renamed to '\(spool)/a.log.COMPLETED'")
        agent.waitFor("'\(spool)/b.log' done: 3 events")
        agent.waitForEvents("k1", atLeast: 253)
        usleep(300_000) // nothing more may come
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(agent.events(from: "k1").map(\.text), a + ["b-0", "", "b-2"])
        XCTAssertFalse(exists(spool + "/a.log"))
        XCTAssertFalse(exists(spool + "/b.log"))
        XCTAssertEqual(contents(spool + "/b.log.COMPLETED"), Array("b-0\n\nb-2".utf8))
        XCTAssertTrue(exists(spool + "/.flumespool/.flumespool-main.meta"), "position file in the default trackerDir")

        // A restart reads nothing again; a new file is picked up.
        let again = try start(config(spool, type: "org.apache.flume.source.SpoolDirectorySource"))
        try put(spool, "c.log", "c-0\n")
        again.waitForEvents("k1", atLeast: 1)
        usleep(300_000)
        XCTAssertEqual(again.stop(), 0)
        XCTAssertEqual(again.events(from: "k1").map(\.text), ["c-0"])
    }

    func testDeletePolicyImmediate() throws {
        let spool = makeTempDir("spool")
        try put(spool, "a.log", "one\ntwo\n", mtime: now - 10)
        try put(spool, "b.log", "three\n", mtime: now - 5)
        let agent = try start(config(spool, "a1.sources.r1.deletePolicy = immediate"))
        agent.waitFor("'\(spool)/b.log' done: 1 events, deleted")
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(agent.events(from: "k1").map(\.text), ["one", "two", "three"])
        let left = try FileManager.default.contentsOfDirectory(atPath: spool).filter { !$0.hasPrefix(".") }
        XCTAssertEqual(left, [], "files are deleted, nothing renamed")
    }

    func testTrackerDirPolicyLeavesFilesAndMarksThem() throws {
        let spool = makeTempDir("spool")
        let tracker = makeTempDir("tracker")
        try FileManager.default.createDirectory(atPath: spool + "/sub", withIntermediateDirectories: true)
        try put(spool, "a.log", "a1\na2\n", mtime: now - 20)
        try put(spool + "/sub", "x.log", "x1\n", mtime: now - 10)
        let conf = config(spool, """
            a1.sources.r1.trackingPolicy = tracker_dir
            a1.sources.r1.trackerDir = \(tracker)
            a1.sources.r1.recursiveDirectorySearch = true
            """)
        let agent = try start(conf)
        agent.waitFor("'\(spool)/sub/x.log' done: 1 events, marked done in '\(tracker)/sub/x.log.COMPLETED'")
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(agent.events(from: "k1").map(\.text), ["a1", "a2", "x1"])
        XCTAssertTrue(exists(spool + "/a.log"), "tracker_dir leaves the file where it is")
        XCTAssertTrue(exists(spool + "/sub/x.log"))
        XCTAssertTrue(exists(tracker + "/a.log.COMPLETED"))
        XCTAssertTrue(exists(tracker + "/sub/x.log.COMPLETED"))
        XCTAssertTrue(exists(tracker + "/.flumespool-main.meta"))
        XCTAssertFalse(exists(spool + "/.flumespool"), "an absolute trackerDir is used instead of the default")

        // The markers keep a restart from reading them again.
        let again = try start(conf)
        try put(spool, "b.log", "b1\n")
        again.waitFor("'\(spool)/b.log' done")
        XCTAssertEqual(again.stop(), 0)
        XCTAssertEqual(again.events(from: "k1").map(\.text), ["b1"])
    }

    func testIncludeAndIgnorePatternsHiddenAndCompletedFiles() throws {
        let spool = makeTempDir("spool")
        try put(spool, "a.log", "wanted\n", mtime: now - 30)
        try put(spool, "skip-me.log", "ignored by ignorePattern\n", mtime: now - 29)
        try put(spool, "c.txt", "not included\n", mtime: now - 28)
        try put(spool, "d.log.COMPLETED", "already done\n", mtime: now - 27)
        try put(spool, "e.log", "also wanted\n", mtime: now - 26)
        XCTAssertTrue(FileManager.default.createFile(atPath: spool + "/.hidden.log", contents: Data("hidden\n".utf8)))
        let agent = try start(config(spool, """
            a1.sources.r1.includePattern = ^.*\\\\.log$
            a1.sources.r1.ignorePattern = ^skip.*
            """))
        agent.waitFor("'\(spool)/e.log' done")
        usleep(300_000)
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(agent.events(from: "k1").map(\.text), ["wanted", "also wanted"])
        for name in ["skip-me.log", "c.txt", "d.log.COMPLETED", ".hidden.log"] {
            XCTAssertTrue(exists(spool + "/" + name), "\(name) is left alone")
        }
        XCTAssertFalse(exists(spool + "/d.log.COMPLETED.COMPLETED"))
    }

    func testFileAndBasenameHeaders() throws {
        let spool = makeTempDir("spool")
        try put(spool, "h.log", "with headers\n")
        let agent = try start(config(spool, """
            a1.sources.r1.fileHeader = true
            a1.sources.r1.basenameHeader = true
            a1.sources.r1.basenameHeaderKey = name
            """))
        agent.waitForEvents("k1", atLeast: 1)
        XCTAssertEqual(agent.stop(), 0)
        let e = try XCTUnwrap(agent.events(from: "k1").first)
        XCTAssertEqual(e.text, "with headers")
        XCTAssertEqual(e.headers, ["file": spool + "/h.log", "name": "h.log"])
    }

    func testConsumeOrderOldestAndYoungest() throws {
        for (order, expected) in [("oldest", ["b", "a", "c"]), ("youngest", ["c", "a", "b"])] {
            let spool = makeTempDir("spool")
            try put(spool, "a.log", "a\n", mtime: now - 20)
            try put(spool, "b.log", "b\n", mtime: now - 30)
            try put(spool, "c.log", "c\n", mtime: now - 10)
            let agent = try start(config(spool, "a1.sources.r1.consumeOrder = \(order)"))
            agent.waitForEvents("k1", atLeast: 3)
            XCTAssertEqual(agent.stop(), 0)
            XCTAssertEqual(agent.events(from: "k1").map(\.text), expected, "consumeOrder = \(order)")
        }
    }

    // MARK: Deserializers

    func testBlobDeserializerOneEventPerFileSplitAtMaxBlobLength() throws {
        let spool = makeTempDir("spool")
        let binary: [UInt8] = [0x00, 0x01, 0x0A, 0x0D, 0xFF, 0x68, 0x69, 0x0A]
        try put(spool, "small.bin", binary, mtime: now - 20)
        let big = String(repeating: "0123456789", count: 25) // 250 bytes
        try put(spool, "big.txt", big, mtime: now - 10)
        let agent = try start(config(spool, """
            a1.sources.r1.deserializer = org.apache.flume.sink.solr.morphline.BlobDeserializer$Builder
            a1.sources.r1.deserializer.maxBlobLength = 100
            a1.sources.r1.basenameHeader = true
            """))
        agent.waitFor("'\(spool)/big.txt' done: 3 events")
        XCTAssertEqual(agent.stop(), 0)
        let lines = eventLines(agent)
        XCTAssertEqual(lines.count, 4)
        XCTAssertTrue(lines.first?.contains("body: 00 01 0A 0D FF 68 69 0A  .....hi. }") == true, lines.first ?? "")
        let bigEvents = agent.events(from: "k1").filter { $0.headers["basename"] == "big.txt" }.map(\.text)
        let chunk = String(repeating: "0123456789", count: 10)
        XCTAssertEqual(bigEvents, [chunk, chunk, String(repeating: "0123456789", count: 5)])
        XCTAssertTrue(agent.log.contains("longer than deserializer.maxBlobLength"))
    }

    func testMaxLineLengthTruncatesAndWarns() throws {
        let spool = makeTempDir("spool")
        let accents = String(repeating: "é", count: 12) // 12 characters, 24 bytes
        try put(spool, "long.log", "short\n0123456789ABCDEF\nnext\n\(accents)\nlast\n")
        let agent = try start(config(spool, "a1.sources.r1.deserializer = line\na1.sources.r1.deserializer.maxLineLength = 10"))
        agent.waitFor("'\(spool)/long.log' done: 5 events")
        XCTAssertEqual(agent.stop(), 0)
        let texts = agent.events(from: "k1").map(\.text)
        XCTAssertEqual(texts.count, 5)
        XCTAssertEqual(texts[0..<3], ["short", "0123456789", "next"])
        XCTAssertEqual(texts[4], "last")
        // Ten characters of the accented line: ten 2-byte sequences, cut on a character boundary.
        let hex = String(repeating: "C3 A9 ", count: 10)
        XCTAssertTrue(eventLines(agent)[3].contains("body: \(hex) \(String(repeating: ".", count: 20)) }"), eventLines(agent)[3])
        XCTAssertEqual(occurrences(of: "is longer than deserializer.maxLineLength", in: agent.log), 1, "warned once per file")
        XCTAssertTrue(agent.log.contains("2 lines were truncated"))
    }

    // MARK: Charsets and decode errors

    func testDecodeErrorPolicyFailLeavesTheFileAndGoesOn() throws {
        let spool = makeTempDir("spool")
        try put(spool, "bad.log", [UInt8]("ok1\nok2\nbad".utf8) + [0xFF] + [UInt8]("x\nafter\n".utf8), mtime: now - 20)
        try put(spool, "good.log", "good\n", mtime: now - 10)
        let agent = try start(config(spool))
        agent.waitFor("'\(spool)/good.log' done")
        usleep(500_000) // a few scans: the bad file must not be retried
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(agent.events(from: "k1").map(\.text), ["ok1", "ok2", "good"])
        XCTAssertEqual(occurrences(of: "spooled file '\(spool)/bad.log' is not valid UTF-8 at byte 11 (decodeErrorPolicy = FAIL)", in: agent.log), 1,
                       agent.log)
        XCTAssertTrue(exists(spool + "/bad.log"), "left where it is")
        XCTAssertFalse(exists(spool + "/bad.log.COMPLETED"))
    }

    func testDecodeErrorPolicyReplaceAndIgnore() throws {
        let input = [UInt8]("a".utf8) + [0xFF] + [UInt8]("b\nc".utf8) + [0xE2, 0x82] + [UInt8]("d\n".utf8)
        for (policy, first, second) in [("REPLACE", "61 EF BF BD 62  a...b }", "63 EF BF BD 64  c...d }"),
                                        ("ignore", "61 62  ab }", "63 64  cd }")] {
            let spool = makeTempDir("spool")
            try put(spool, "x.log", input)
            let agent = try start(config(spool, "a1.sources.r1.decodeErrorPolicy = \(policy)"))
            agent.waitFor("'\(spool)/x.log' done: 2 events")
            XCTAssertEqual(agent.stop(), 0)
            let lines = eventLines(agent)
            XCTAssertEqual(lines.count, 2)
            XCTAssertTrue(lines.first?.contains("body: " + first) == true, "\(policy): \(lines)")
            XCTAssertTrue(lines.last?.contains("body: " + second) == true, "\(policy): \(lines)")
        }
    }

    func testLatin1InputAndConfigErrorsNameTheKey() throws {
        let spool = makeTempDir("spool")
        try put(spool, "l.log", [0x63, 0x61, 0x66, 0xE9, 0x0A]) // "café" in ISO-8859-1
        let agent = try start(config(spool, "a1.sources.r1.inputCharset = ISO-8859-1"))
        agent.waitFor("'\(spool)/l.log' done")
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertTrue(eventLines(agent).first?.contains("body: 63 61 66 C3 A9  caf.. }") == true, eventLines(agent).first ?? "")

        for (key, value) in [("inputCharset", "UTF-16"), ("deletePolicy", "sometimes"), ("deserializer", "AVRO"),
                             ("deserializer.outputCharset", "EBCDIC"), ("decodeErrorPolicy", "SKIP"), ("consumeOrder", "newest")] {
            let r = try AgentSetup(config(spool, "a1.sources.r1.\(key) = \(value)"), plugins: plugins).check()
            XCTAssertNotEqual(r.status, 0, "\(key) = \(value) must be refused")
            XCTAssertTrue((r.stdout + r.stderr).contains("property '\(key)'"), "\(key): \(r.stdout + r.stderr)")
        }
    }

    // MARK: Per-file errors

    /// Files must not change after pickup. The agent is frozen (SIGSTOP)
    /// while it has the file open, the file grows, and then: one error naming
    /// it, the file stays, the next file is processed. When the file changes
    /// again it is retried and continued where the delivered part ended.
    func testFileModifiedAfterPickupIsAnErrorOthersGoOn() throws {
        let spool = makeTempDir("spool")
        // Big enough that reading it takes a while (null sink: no log per event).
        let big = Array(String(repeating: String(repeating: "x", count: 99) + "\n", count: 300_000).utf8)
        try put(spool, "a.log", big, mtime: now - 20)
        try put(spool, "b.log", "b\n", mtime: now - 10)
        let conf = config(spool, "a1.sources.r1.batchSize = 1000", sink: "null")
        let agent = try start(conf)
        let pid = agent.process.processIdentifier
        // Freeze the agent as soon as it has a.log open.
        let deadline = Date().addingTimeInterval(20)
        var frozen = false
        while Date() < deadline, !frozen {
            if let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") {
                let target = "/" + URL(fileURLWithPath: spool).lastPathComponent + "/a.log"
                for fd in fds where (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"))?.hasSuffix(target) == true {
                    usleep(5_000) // past the open's fstat, long before the end of 30 MB
                    kill(pid, SIGSTOP)
                    frozen = true
                    break
                }
            }
            if !frozen { usleep(500) }
        }
        XCTAssertTrue(frozen, "the agent never opened a.log")
        XCTAssertFalse(agent.log.contains("a.log' done"), "froze too late: a.log was already read")
        let h = try XCTUnwrap(FileHandle(forWritingAtPath: spool + "/a.log"))
        h.seekToEndOfFile()
        h.write(Data("appended\n".utf8))
        h.closeFile()
        kill(pid, SIGCONT)

        agent.waitFor("'\(spool)/b.log' done")
        usleep(400_000)
        XCTAssertEqual(occurrences(of: "spooled file '\(spool)/a.log' was modified after it was picked up", in: agent.log), 1, agent.log)
        XCTAssertTrue(agent.log.contains("its size changed from \(big.count) to \(big.count + 9) bytes"))
        XCTAssertTrue(exists(spool + "/a.log"), "left where it is")
        XCTAssertFalse(exists(spool + "/a.log.COMPLETED"))

        // It changes again: retried, continued after what was delivered, completed.
        let h2 = try XCTUnwrap(FileHandle(forWritingAtPath: spool + "/a.log"))
        h2.seekToEndOfFile()
        h2.write(Data("more\n".utf8))
        h2.closeFile()
        agent.waitFor("'\(spool)/a.log' done: 2 events")
        XCTAssertTrue(agent.log.contains("continuing '\(spool)/a.log' at byte \(big.count)"))
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertTrue(exists(spool + "/a.log.COMPLETED"))
    }

    func testCompletedNameAlreadyExistsIsAnErrorOthersGoOn() throws {
        let spool = makeTempDir("spool")
        try put(spool, "a.log.COMPLETED", "an older a.log\n", mtime: now - 40)
        try put(spool, "a.log", "new a\n", mtime: now - 20)
        try put(spool, "b.log", "b\n", mtime: now - 10)
        let agent = try start(config(spool))
        agent.waitFor("'\(spool)/b.log' done")
        usleep(400_000)
        XCTAssertEqual(occurrences(of: "spooled file '\(spool)/a.log' cannot be marked done: '\(spool)/a.log.COMPLETED' already exists", in: agent.log), 1,
                       agent.log)
        XCTAssertEqual(agent.events(from: "k1").map(\.text), ["b"], "a.log is not read while its completed name is taken")
        XCTAssertTrue(exists(spool + "/a.log"))
        XCTAssertEqual(contents(spool + "/a.log.COMPLETED"), Array("an older a.log\n".utf8), "the old file is not overwritten")

        // Once the name is free, the file is read and completed.
        try FileManager.default.moveItem(atPath: spool + "/a.log.COMPLETED", toPath: spool + "/.old-a")
        agent.waitFor("'\(spool)/a.log' done: 1 events")
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(agent.events(from: "k1").map(\.text), ["b", "new a"])
        XCTAssertEqual(contents(spool + "/a.log.COMPLETED"), Array("new a\n".utf8))
    }

    // MARK: Crashes and full channels

    /// kill -9 in the middle of a file, then a restart: every line arrives,
    /// repeats at most one batch. The first run's source is held mid-file
    /// deterministically: its second channel (which no sink reads) fills up,
    /// so it waits with a batch it cannot commit — while everything it did
    /// commit has reached the logger sink through the first channel.
    func testKillMinus9ThenRestartResumesWithoutLoss() throws {
        let spool = makeTempDir("spool")
        let lines = (0..<500).map { String(format: "line-%06d", $0) }
        try put(spool, "a.log", lines.joined(separator: "\n") + "\n")
        let batch = 20
        let blocked = config(spool, """
            a1.sources.r1.batchSize = \(batch)
            a1.channels.c2.type = memory
            a1.channels.c2.capacity = 60
            a1.channels.c2.transactionCapacity = \(batch)
            a1.channels.c2.keep-alive = 0
            """, channels: "c1 c2")
        let first = try start(blocked)
        first.waitFor("channel full")
        first.waitForEvents("k1", atLeast: 60)
        XCTAssertEqual(first.stop(SIGKILL), SIGKILL)
        let before = first.events(from: "k1").map(\.text)
        XCTAssertEqual(before, Array(lines[0..<60]))
        XCTAssertTrue(exists(spool + "/a.log"), "not done: the file stays")

        let second = try start(config(spool, "a1.sources.r1.batchSize = \(batch)"))
        second.waitFor("'\(spool)/a.log' done")
        second.waitForEvents("k1", atLeast: lines.count - 60)
        XCTAssertEqual(second.stop(), 0)
        XCTAssertTrue(second.log.contains("resuming '\(spool)/a.log' at byte 720"), second.log)
        let after = second.events(from: "k1").map(\.text)
        let all = before + after
        XCTAssertEqual(Set(all), Set(lines), "no line lost")
        XCTAssertLessThanOrEqual(all.count - lines.count, batch, "at most one batch repeated")
        XCTAssertEqual(after, Array(lines[60...]), "resumed exactly where the last commit ended")
        XCTAssertTrue(exists(spool + "/a.log.COMPLETED"))
    }

    /// A tiny channel that refuses batches (keep-alive 0): every refused
    /// batch is retried unchanged after the back-off; nothing lost, nothing
    /// repeated, order kept.
    func testChannelFullLosesNothing() throws {
        let spool = makeTempDir("spool")
        let lines = numbered("full", 120)
        try put(spool, "a.log", lines.joined(separator: "\n") + "\n")
        let agent = try start(config(spool, """
            a1.sources.r1.batchSize = 10
            a1.sources.r1.maxBackoff = 100
            a1.channels.c1.capacity = 10
            a1.channels.c1.transactionCapacity = 10
            a1.channels.c1.keep-alive = 0
            a1.sinks.k1.batchSize = 10
            """))
        agent.waitFor("'\(spool)/a.log' done: 120 events", timeout: 60)
        agent.waitForEvents("k1", atLeast: lines.count)
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertTrue(agent.log.contains("channel full"), "the channel never refused a batch; the test proves nothing")
        XCTAssertEqual(agent.events(from: "k1").map(\.text), lines)
    }
}
