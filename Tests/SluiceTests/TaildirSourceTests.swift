import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The TAILDIR source end to end: files written by the test, events read
/// back from a logger sink, the position file read as JSON.
final class TaildirSourceTests: XCTestCase {
    let plugins = ["SluiceTaildirSource", "SluiceLoggerSink"]

    // MARK: Helpers

    /// A fresh directory with a `logs` folder to tail and a position file path.
    struct Scene {
        let root: String
        var logs: String { root + "/logs" }
        var positions: String { root + "/state/positions.json" }

        init() throws {
            root = makeTempDir("sluice-taildir")
            XCTAssertEqual(mkdir(root + "/logs", 0o755), 0)
        }
    }

    /// An agent with one TAILDIR source r1 → memory channel c1 → logger k1.
    /// Back-off and position writes are fast so that tests are. As in any
    /// properties file, a regex backslash is written twice (`app\\.log`).
    func config(_ scene: Scene, _ source: String, channel: String = "", sink: String = "", type: String = "TAILDIR") -> String {
        """
        a1.sources = r1
        a1.channels = c1
        a1.sinks = k1
        a1.sources.r1.type = \(type)
        a1.sources.r1.channels = c1
        a1.sources.r1.positionFile = \(scene.positions)
        a1.sources.r1.writePosInterval = 100
        a1.sources.r1.backoffSleepIncrement = 20
        a1.sources.r1.maxBackoffSleep = 100
        \(source)
        a1.channels.c1.type = memory
        a1.channels.c1.capacity = 10000
        a1.channels.c1.transactionCapacity = 1000
        \(channel)
        a1.sinks.k1.type = logger
        a1.sinks.k1.channel = c1
        a1.sinks.k1.maxBytesToLog = 1000
        \(sink)
        """
    }

    /// Appends raw text to a file (created if missing) without replacing it.
    func append(_ text: String, to path: String) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0, "open \(path)")
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { XCTFail("write \(path) failed"); return }
            off += n
        }
    }

    func lines(_ prefix: String, _ range: ClosedRange<Int>) -> [String] {
        range.map { "\(prefix)-\($0)" }
    }

    func text(_ lines: [String]) -> String { lines.map { $0 + "\n" }.joined() }

    func inode(_ path: String) -> UInt64 {
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0, "stat \(path)")
        return UInt64(st.st_ino)
    }

    func size(_ path: String) -> Int {
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0, "stat \(path)")
        return Int(st.st_size)
    }

    struct SavedPosition: Equatable {
        var inode: UInt64
        var pos: Int
        var file: String
    }

    /// The position file's entries (nil while it is missing or unreadable).
    func savedPositions(_ scene: Scene) -> [SavedPosition]? {
        guard let data = FileManager.default.contents(atPath: scene.positions),
              let array = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else { return nil }
        return array.compactMap { o in
            guard let i = (o["inode"] as? NSNumber)?.uint64Value, let p = (o["pos"] as? NSNumber)?.intValue,
                  let f = o["file"] as? String else { return nil }
            return SavedPosition(inode: i, pos: p, file: f)
        }
    }

    /// Waits until the saved position of `path` is `pos`.
    @discardableResult
    func waitForSavedPosition(_ scene: Scene, _ path: String, _ pos: Int, timeout: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if savedPositions(scene)?.contains(where: { $0.file == path && $0.pos == pos }) == true { return true }
            usleep(20_000)
        }
        XCTFail("position file never recorded \(path) at \(pos): \(String(describing: savedPositions(scene)))")
        return false
    }

    func texts(_ agent: AgentProcess) -> [String] { agent.events(from: "k1").map(\.text) }

    /// Waits `seconds` more and checks that no further event arrived.
    func assertNoMoreEvents(_ agent: AgentProcess, than n: Int, within seconds: Double = 0.5, file: StaticString = #filePath, line: UInt = #line) {
        usleep(UInt32(seconds * 1_000_000))
        XCTAssertEqual(agent.eventCount("k1"), n, "unexpected extra events:\n\(texts(agent).suffix(20))", file: file, line: line)
    }

    // MARK: Tests

    func testTwoGroupsWithRegexNamesAndStaticHeaders() throws {
        let scene = try Scene()
        let other = scene.root + "/other"
        XCTAssertEqual(mkdir(other, 0o755), 0)
        append(text(lines("a", 1...3)), to: scene.logs + "/a.log")
        append(text(lines("b", 1...2)), to: scene.logs + "/b.log")
        append("ignored\n", to: scene.logs + "/notes.txt")
        append(text(lines("x", 1...2)), to: other + "/x-17.data")
        append("ignored too\n", to: other + "/x-17.data.bak")
        let setup = try AgentSetup(config(scene, """
            a1.sources.r1.filegroups = g1 g2
            a1.sources.r1.filegroups.g1 = \(scene.logs)/.*\\\\.log
            a1.sources.r1.filegroups.g2 = \(other)/x-\\\\d+\\\\.data
            a1.sources.r1.headers.g1.origin = one
            a1.sources.r1.headers.g2.origin = two
            a1.sources.r1.headers.g2.env = prod
            """), plugins: plugins)
        let agent = try setup.start()
        agent.waitForEvents("k1", atLeast: 7)

        // Lines written after start, to known files and to a new matching file.
        append(text(lines("a", 4...5)), to: scene.logs + "/a.log")
        append(text(lines("c", 1...2)), to: scene.logs + "/c.log")
        append(text(lines("x", 3...3)), to: other + "/x-17.data")
        agent.waitForEvents("k1", atLeast: 12)
        assertNoMoreEvents(agent, than: 12, within: 0.3)
        XCTAssertEqual(agent.stop(), 0)

        let events = agent.events(from: "k1")
        XCTAssertEqual(Set(events.map(\.text)), Set(lines("a", 1...5) + lines("b", 1...2) + lines("c", 1...2) + lines("x", 1...3)))
        for e in events {
            if e.text.hasPrefix("x-") {
                XCTAssertEqual(e.headers, ["origin": "two", "env": "prod"], e.text)
            } else {
                XCTAssertEqual(e.headers, ["origin": "one"], e.text)
            }
        }
        // Lines of one file keep their order.
        XCTAssertEqual(events.map(\.text).filter { $0.hasPrefix("a-") }, lines("a", 1...5))
    }

    func testByteOffsetAndFileHeaders() throws {
        let scene = try Scene()
        let path = scene.logs + "/app.log"
        append("first\nsecond line\n\nfourth\r\n", to: path)
        let agent = try AgentSetup(config(scene, """
            a1.sources.r1.filegroups = g
            a1.sources.r1.filegroups.g = \(scene.logs)/app\\\\.log
            a1.sources.r1.byteOffsetHeader = true
            a1.sources.r1.fileHeader = true
            a1.sources.r1.fileHeaderKey = path
            """), plugins: plugins).start()
        agent.waitForEvents("k1", atLeast: 4)
        append("fifth\n", to: path)
        agent.waitForEvents("k1", atLeast: 5)
        XCTAssertEqual(agent.stop(), 0)
        let events = agent.events(from: "k1")
        // An empty line is an (empty) event; "\r\n" loses both characters, as in Flume.
        XCTAssertEqual(events.map(\.text), ["first", "second line", "", "fourth", "fifth"])
        XCTAssertEqual(events.map { $0.headers["byteoffset"] }, ["0", "6", "18", "19", "27"])
        XCTAssertEqual(Set(events.map { $0.headers["path"] }), [path])
        XCTAssertNil(events.first?.headers["file"], "fileHeaderKey renames the header")
    }

    func testPositionFileHasFlumeLayoutAndCommittedPositions() throws {
        let scene = try Scene()
        let a = scene.logs + "/a.log", b = scene.logs + "/b.log"
        append(text(lines("a", 1...10)), to: a)
        append(text(lines("b", 1...3)), to: b)
        let agent = try AgentSetup(config(scene, """
            a1.sources.r1.filegroups = g
            a1.sources.r1.filegroups.g = \(scene.logs)/[ab]\\\\.log
            """), plugins: plugins).start()
        agent.waitForEvents("k1", atLeast: 13)
        waitForSavedPosition(scene, a, size(a))
        waitForSavedPosition(scene, b, size(b))
        append("a-11\npartial", to: a)
        agent.waitForEvents("k1", atLeast: 14)
        // Only complete lines count: the position stops before "partial".
        waitForSavedPosition(scene, a, size(a) - "partial".utf8.count)

        let raw = try String(contentsOfFile: scene.positions, encoding: .utf8)
        let expectedA = "{\"inode\":\(inode(a)),\"pos\":\(size(a) - 7),\"file\":\"\(a)\"}"
        let expectedB = "{\"inode\":\(inode(b)),\"pos\":\(size(b)),\"file\":\"\(b)\"}"
        XCTAssertTrue(raw == "[\(expectedA),\(expectedB)]" || raw == "[\(expectedB),\(expectedA)]",
                      "Flume's layout: a JSON array of {\"inode\":N,\"pos\":N,\"file\":\"path\"}; got \(raw)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scene.positions + ".tmp"), "the temporary file is renamed into place")
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(savedPositions(scene)?.count, 2)
    }

    func testCleanRestartResumesFromPositionFile() throws {
        let scene = try Scene()
        let path = scene.logs + "/app.log"
        append(text(lines("l", 1...5)), to: path)
        let setup = try AgentSetup(config(scene, """
            a1.sources.r1.filegroups = g
            a1.sources.r1.filegroups.g = \(scene.logs)/app\\\\.log
            a1.sources.r1.byteOffsetHeader = true
            """), plugins: plugins)
        let first = try setup.start()
        first.waitForEvents("k1", atLeast: 5)
        XCTAssertEqual(first.stop(), 0)
        XCTAssertEqual(texts(first), lines("l", 1...5))
        // Written on stop even though the interval may not have passed.
        XCTAssertEqual(savedPositions(scene), [SavedPosition(inode: inode(path), pos: size(path), file: path)])

        append(text(lines("l", 6...8)), to: path)
        let second = try setup.start()
        second.waitForEvents("k1", atLeast: 3)
        assertNoMoreEvents(second, than: 3)
        XCTAssertEqual(second.stop(), 0)
        XCTAssertEqual(texts(second), lines("l", 6...8), "only the lines written while stopped")
        XCTAssertTrue(second.log.contains("at saved position"), second.log)
    }

    /// A position file as Flume (Gson) or a person may write it: any member
    /// order, whitespace, unknown members.
    func testReadsAFlumeStylePositionFile() throws {
        let scene = try Scene()
        let path = scene.logs + "/app.log"
        append(text(lines("l", 1...5)), to: path)
        XCTAssertEqual(mkdir(scene.root + "/state", 0o755), 0)
        let third = text(lines("l", 1...2)).utf8.count
        try write("""
            [ {"file" : "\(path)", "pos" : \(third),
               "extra": [1, {"a": null}], "inode" : \(inode(path)) } ]

            """, to: scene.positions)
        let agent = try AgentSetup(config(scene, """
            a1.sources.r1.filegroups = g
            a1.sources.r1.filegroups.g = \(scene.logs)/app\\\\.log
            """), plugins: plugins).start()
        agent.waitForEvents("k1", atLeast: 3)
        assertNoMoreEvents(agent, than: 3)
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(texts(agent), lines("l", 3...5))
    }

    /// A damaged position file is kept aside and the source starts afresh.
    func testUnreadablePositionFileIsMovedAside() throws {
        let scene = try Scene()
        let path = scene.logs + "/app.log"
        append(text(lines("l", 1...3)), to: path)
        XCTAssertEqual(mkdir(scene.root + "/state", 0o755), 0)
        try write("[{\"inode\":12,\"pos\":", to: scene.positions)
        let agent = try AgentSetup(config(scene, """
            a1.sources.r1.filegroups = g
            a1.sources.r1.filegroups.g = \(scene.logs)/app\\\\.log
            """), plugins: plugins).start()
        agent.waitForEvents("k1", atLeast: 3)
        waitForSavedPosition(scene, path, size(path))
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(texts(agent), lines("l", 1...3))
        XCTAssertEqual(try String(contentsOfFile: scene.positions + ".bad", encoding: .utf8), "[{\"inode\":12,\"pos\":")
        XCTAssertTrue(agent.log.contains("cannot use position file"), agent.log)
    }

    /// kill -9 while lines are being written: after a restart every line is
    /// delivered, and the only duplicates are the lines after the position
    /// saved last (at most writePosInterval worth).
    func testKill9ThenRestartLosesNothing() throws {
        let scene = try Scene()
        let path = scene.logs + "/app.log"
        let setup = try AgentSetup(config(scene, """
            a1.sources.r1.filegroups = g
            a1.sources.r1.filegroups.g = \(scene.logs)/app\\\\.log
            a1.sources.r1.byteOffsetHeader = true
            a1.sources.r1.batchSize = 20
            """), plugins: plugins)
        append("", to: path)
        let first = try setup.start()
        first.waitFor("following '\(path)'")
        let total = 4000
        var next = 1
        // About 1000 lines a second; kill -9 after roughly 1.5 s.
        var killedAt = 0
        while next <= total {
            append(text(lines("n", next...min(next + 9, total))), to: path)
            next += 10
            usleep(10_000)
            if killedAt == 0 && next > 1500 && first.eventCount("k1") > 1000 {
                first.stop(SIGKILL)
                killedAt = next - 1
            }
        }
        XCTAssertGreaterThan(killedAt, 0, "the agent was killed while lines were written")
        let saved = try XCTUnwrap(savedPositions(scene)?.first { $0.file == path }, "a position was saved before the kill")
        let firstRun = first.events(from: "k1")
        XCTAssertGreaterThan(firstRun.count, 0)

        let second = try setup.start()
        second.waitForEvents("k1", atLeast: total - firstRun.count, timeout: 30)
        let all = lines("n", 1...total)
        second.waitFor("all \(total) lines") { log in
            Set(firstRun.map(\.text)).union(log.split(separator: "\n").compactMap { LoggedEvent(line: String($0), sink: "k1")?.text }).count == total
        }
        usleep(300_000)
        XCTAssertEqual(second.stop(), 0)
        let secondRun = second.events(from: "k1")
        XCTAssertEqual(Set(firstRun.map(\.text)).union(secondRun.map(\.text)), Set(all), "no line is lost")
        XCTAssertEqual(secondRun.count, Set(secondRun.map(\.text)).count, "no duplicates within the second run")

        // The second run starts exactly at the saved position...
        XCTAssertEqual(secondRun.first?.headers["byteoffset"], String(saved.pos))
        // ...so the duplicates are exactly the first run's lines after it.
        let duplicates = firstRun.filter { Int($0.headers["byteoffset"] ?? "") ?? -1 >= saved.pos }
        XCTAssertEqual(Set(duplicates.map(\.text)), Set(firstRun.map(\.text)).intersection(secondRun.map(\.text)))
        // Lines arrive at ~1000/s and positions are saved every 100 ms; allow
        // a loaded machine a generous 2 s of lag.
        XCTAssertLessThanOrEqual(duplicates.count, 2000, "duplicates are bounded by the position write interval")
    }

    /// Rename rotation (mv app.log app.log.1; new app.log) while running: the
    /// renamed file continues from its position whether or not it still
    /// matches (here: matched in one group, only open in the other).
    func testRenameRotationLosesAndDuplicatesNothing() throws {
        let scene = try Scene()
        let other = scene.root + "/exact"
        XCTAssertEqual(mkdir(other, 0o755), 0)
        let a = scene.logs + "/app.log", b = other + "/app.log"
        append(text(lines("a", 1...50)), to: a)
        append(text(lines("b", 1...50)), to: b)
        let setup = try AgentSetup(config(scene, """
            a1.sources.r1.filegroups = rotating exact
            a1.sources.r1.filegroups.rotating = \(scene.logs)/app\\\\.log.*
            a1.sources.r1.filegroups.exact = \(other)/app\\\\.log
            a1.sources.r1.fileHeader = true
            """), plugins: plugins)
        let agent = try setup.start()
        agent.waitForEvents("k1", atLeast: 100)

        XCTAssertEqual(rename(a, a + ".1"), 0)
        XCTAssertEqual(rename(b, b + ".1"), 0)
        // The writer still holds the old file for a moment...
        append(text(lines("a", 51...60)), to: a + ".1")
        append(text(lines("b", 51...60)), to: b + ".1")
        // ...then reopens its file name: a new file.
        append(text(lines("a", 61...80)), to: a)
        append(text(lines("b", 61...80)), to: b)
        agent.waitForEvents("k1", atLeast: 160)
        assertNoMoreEvents(agent, than: 160)
        XCTAssertEqual(agent.stop(), 0)

        let events = agent.events(from: "k1")
        XCTAssertEqual(events.map(\.text).sorted(), (lines("a", 1...80) + lines("b", 1...80)).sorted())
        XCTAssertEqual(events.filter { $0.text == "a-55" }.first?.headers["file"], a + ".1")
        XCTAssertEqual(events.filter { $0.text == "a-65" }.first?.headers["file"], a)
        XCTAssertTrue(agent.log.contains("'\(a)' is now '\(a).1'"), agent.log)
    }

    /// The same rotation while the agent is stopped (Flume reads app.log.1
    /// again from the start here): the saved inode is found under its new name.
    func testRotationWhileStoppedIsFollowedByInode() throws {
        let scene = try Scene()
        let a = scene.logs + "/app.log"
        append(text(lines("a", 1...20)), to: a)
        let setup = try AgentSetup(config(scene, """
            a1.sources.r1.filegroups = g
            a1.sources.r1.filegroups.g = \(scene.logs)/app\\\\.log(\\\\.\\\\d+)?
            """), plugins: plugins)
        let first = try setup.start()
        first.waitForEvents("k1", atLeast: 20)
        XCTAssertEqual(first.stop(), 0)

        append(text(lines("a", 21...25)), to: a)
        XCTAssertEqual(rename(a, a + ".1"), 0)
        append(text(lines("a", 26...30)), to: a)
        let second = try setup.start()
        second.waitForEvents("k1", atLeast: 10)
        assertNoMoreEvents(second, than: 10)
        XCTAssertEqual(second.stop(), 0)
        XCTAssertEqual(texts(second).sorted(), lines("a", 21...30).sorted())
        XCTAssertEqual(Set(savedPositions(scene)?.map(\.file) ?? []), [a, a + ".1"])
    }

    func testCopyTruncateRestartsFromZero() throws {
        let scene = try Scene()
        let path = scene.logs + "/app.log"
        append(text(lines("old", 1...10)), to: path)
        let setup = try AgentSetup(config(scene, """
            a1.sources.r1.filegroups = g
            a1.sources.r1.filegroups.g = \(scene.logs)/app\\\\.log
            """), plugins: plugins)
        let agent = try setup.start()
        agent.waitForEvents("k1", atLeast: 10)
        waitForSavedPosition(scene, path, size(path))
        // copytruncate: copy aside (not matched), then truncate in place.
        XCTAssertEqual(truncate(path, 0), 0)
        append(text(lines("new", 1...3)), to: path)
        agent.waitForEvents("k1", atLeast: 13)
        assertNoMoreEvents(agent, than: 13)
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(texts(agent), lines("old", 1...10) + lines("new", 1...3))
        XCTAssertTrue(agent.log.contains("reading it again from the start"), agent.log)

        // Truncated and rewritten past the saved position while stopped: the
        // byte before the position is no longer a line end, so it starts over.
        XCTAssertEqual(truncate(path, 0), 0)
        append(text(lines("rewritten-line", 1...10)), to: path)
        let second = try setup.start()
        second.waitForEvents("k1", atLeast: 10)
        assertNoMoreEvents(second, than: 10)
        XCTAssertEqual(second.stop(), 0)
        XCTAssertEqual(texts(second), lines("rewritten-line", 1...10))
    }

    /// skipToEnd: files found at start without a saved position start after
    /// their last complete line; files created later are read from the start.
    func testSkipToEnd() throws {
        let scene = try Scene()
        let old = scene.logs + "/old.log"
        append(text(lines("skipped", 1...5)) + "half", to: old)
        let agent = try AgentSetup(config(scene, """
            a1.sources.r1.filegroups = g
            a1.sources.r1.filegroups.g = \(scene.logs)/.*\\\\.log
            a1.sources.r1.skipToEnd = true
            """), plugins: plugins).start()
        agent.waitFor("following '\(old)'")
        append(" and half\nafter\n", to: old)
        append(text(lines("fresh", 1...2)), to: scene.logs + "/fresh.log")
        agent.waitForEvents("k1", atLeast: 4)
        assertNoMoreEvents(agent, than: 4)
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(Set(texts(agent)), Set(["half and half", "after"] + lines("fresh", 1...2)))
    }

    /// A last line without "\n" waits for it, even across an idle close.
    func testPartialLineWaitsForItsNewline() throws {
        let scene = try Scene()
        let path = scene.logs + "/app.log"
        append("complete\nincompl", to: path)
        let agent = try AgentSetup(config(scene, """
            a1.sources.r1.filegroups = g
            a1.sources.r1.filegroups.g = \(scene.logs)/app\\\\.log
            a1.sources.r1.idleTimeout = 200
            """), plugins: plugins).start()
        agent.waitForEvents("k1", atLeast: 1)
        assertNoMoreEvents(agent, than: 1, within: 0.6)
        append("ete\n", to: path)
        agent.waitForEvents("k1", atLeast: 2)
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(texts(agent), ["complete", "incomplete"])
    }

    /// A tiny memory channel that refuses batches at once (keep-alive 0):
    /// refused batches are retried unchanged; nothing is lost or doubled.
    func testChannelFullLosesNothing() throws {
        let scene = try Scene()
        let path = scene.logs + "/app.log"
        // Many small batches against a channel that holds one: over 300
        // submits the source is bound to find it full again and again.
        let all = lines("e", 1...3000)
        append(text(all), to: path)
        let agent = try AgentSetup(config(scene, """
            a1.sources.r1.filegroups = g
            a1.sources.r1.filegroups.g = \(scene.logs)/app\\\\.log
            a1.sources.r1.batchSize = 10
            """, channel: """
            a1.channels.c1.capacity = 10
            a1.channels.c1.transactionCapacity = 10
            a1.channels.c1.keep-alive = 0
            """, sink: "a1.sinks.k1.batchSize = 1"), plugins: plugins).start()
        agent.waitForEvents("k1", atLeast: 3000, timeout: 60)
        assertNoMoreEvents(agent, than: 3000, within: 0.3)
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertTrue(agent.log.contains("is full"), "the channel was full at least once:\n\(agent.log.suffix(2000))")
        XCTAssertEqual(texts(agent), all)
    }

    func testConfigurationErrors() throws {
        func check(_ source: String, type: String = "taildir") throws -> RunResult {
            let scene = try Scene()
            return try AgentSetup(config(scene, source, type: type), plugins: plugins).check()
        }
        let relative = try check("a1.sources.r1.filegroups = g\na1.sources.r1.filegroups.g = logs/.*\\\\.log")
        XCTAssertNotEqual(relative.status, 0)
        XCTAssertTrue((relative.stdout + relative.stderr).contains("not an absolute path"), relative.stdout + relative.stderr)

        let missing = try check("a1.sources.r1.filegroups = g h\na1.sources.r1.filegroups.g = /tmp/x.log")
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue((missing.stdout + missing.stderr).contains("filegroups.h"), missing.stdout + missing.stderr)

        let badRegex = try check("a1.sources.r1.filegroups = g\na1.sources.r1.filegroups.g = /tmp/(unclosed")
        XCTAssertNotEqual(badRegex.status, 0)
        XCTAssertTrue((badRegex.stdout + badRegex.stderr).contains("invalid regular expression"), badRegex.stdout + badRegex.stderr)

        let alias = try check("a1.sources.r1.filegroups = g\na1.sources.r1.filegroups.g = /tmp/.*\\\\.log",
                              type: "org.apache.flume.source.taildir.TaildirSource")
        XCTAssertEqual(alias.status, 0, alias.stdout + alias.stderr)
    }
}
