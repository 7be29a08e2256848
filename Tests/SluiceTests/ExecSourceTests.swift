import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The exec source end to end: a real `sluice` agent running real commands.
final class ExecSourceTests: XCTestCase {
    let plugins = ["SluiceExecSource", "SluiceFileRollSink", "SluiceLoggerSink", "SluiceSequenceSource"]

    /// exec source r1 (with `source` keys) → memory c1 → logger k1.
    func loggerConfig(_ source: String, extra: String = "") -> String {
        """
        a1.sources = r1
        a1.channels = c1
        a1.sinks = k1
        a1.sources.r1.type = exec
        a1.sources.r1.channels = c1
        \(source)
        a1.channels.c1.type = memory
        a1.sinks.k1.type = logger
        a1.sinks.k1.channel = c1
        a1.sinks.k1.maxBytesToLog = 1000
        \(extra)
        """
    }

    func testSeqThousandLinesArriveInOrder() throws {
        let out = makeTempDir("exec-out")
        let agent = try AgentSetup("""
            a1.sources = r1
            a1.channels = c1
            a1.sinks = k1
            a1.sources.r1.type = org.apache.flume.source.ExecSource
            a1.sources.r1.command = seq 1 1000
            a1.sources.r1.channels = c1
            a1.channels.c1.type = memory
            a1.sinks.k1.type = file_roll
            a1.sinks.k1.channel = c1
            a1.sinks.k1.sink.directory = \(out)
            a1.sinks.k1.sink.rollInterval = 0
            """, plugins: plugins).start()
        let expected = (1...1000).map { "\($0)\n" }.joined()
        ExecRoll.waitUntil("1..1000 written") { ExecRoll.concatenatedFiles(out) == expected }
        agent.waitFor("exited with status 0")
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(ExecRoll.concatenatedFiles(out), expected)
        XCTAssertTrue(agent.log.contains("[r1] command [seq 1 1000] (pid "), agent.log)
        XCTAssertTrue(agent.log.contains("will not be run again (restart = false)"), agent.log)
    }

    /// A full channel does not lose lines (Flume drops the batch): the same
    /// batch is retried until the channel takes it.
    func testFullChannelIsRetriedWithoutLoss() throws {
        let out = makeTempDir("exec-full")
        let agent = try AgentSetup("""
            a1.sources = r1
            a1.channels = c1
            a1.sinks = k1
            a1.sources.r1.type = exec
            a1.sources.r1.command = seq 1 300
            a1.sources.r1.channels = c1
            a1.channels.c1.type = memory
            a1.channels.c1.capacity = 20
            a1.channels.c1.transactionCapacity = 20
            a1.channels.c1.keep-alive = 0
            a1.sinks.k1.type = file_roll
            a1.sinks.k1.channel = c1
            a1.sinks.k1.sink.directory = \(out)
            a1.sinks.k1.sink.rollInterval = 0
            a1.sinks.k1.sink.batchSize = 7
            """, plugins: plugins).start()
        let expected = (1...300).map { "\($0)\n" }.joined()
        ExecRoll.waitUntil("1..300 written") { ExecRoll.concatenatedFiles(out) == expected }
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(ExecRoll.concatenatedFiles(out), expected)
        XCTAssertTrue(agent.log.contains("is full"), "the channel was full at least once:\n\(agent.log)")
        XCTAssertFalse(agent.log.contains("dropping"), agent.log)
    }

    func testShellRunsPipelines() throws {
        let agent = try AgentSetup(loggerConfig("""
            a1.sources.r1.shell = /bin/sh -c
            a1.sources.r1.command = (echo 'b x'; echo 'a y') | sort | tr ' ' _
            """), plugins: plugins).start()
        agent.waitForEvents("k1", atLeast: 2)
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(agent.events(from: "k1").map(\.text), ["a_y", "b_x"])
    }

    /// As Flume (Java's readLine): empty lines are events with empty bodies,
    /// "\r\n" and "\r" end lines too, and an unterminated last line is
    /// delivered when the command exits.
    func testEmptyLinesLineEndingsAndTrailingPartialLine() throws {
        // The file says `\\n` (a backslash for printf); `\n` would be a
        // newline the properties parser puts into the command itself.
        let agent = try AgentSetup(loggerConfig("""
            a1.sources.r1.shell = /bin/sh -c
            a1.sources.r1.command = printf 'a\\\\n\\\\nb\\\\r\\\\nc\\\\rlast'
            """), plugins: plugins).start()
        agent.waitForEvents("k1", atLeast: 5)
        agent.waitFor("exited with status 0")
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(agent.events(from: "k1").map(\.text), ["a", "", "b", "c", "last"])
    }

    func testRestartRunsTheCommandAgain() throws {
        let agent = try AgentSetup(loggerConfig("""
            a1.sources.r1.command = echo tick
            a1.sources.r1.restart = true
            a1.sources.r1.restartThrottle = 100
            """), plugins: plugins).start()
        agent.waitForEvents("k1", atLeast: 3)
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertTrue(agent.events(from: "k1").allSatisfy { $0.text == "tick" })
        XCTAssertGreaterThanOrEqual(occurrences(of: "restarting command [echo tick] in 100 ms", in: agent.log), 2)
    }

    /// Three lines, then the command keeps running: only batchTimeout can
    /// submit the partial batch (batchSize is 100).
    func testBatchTimeoutFlushesAPartialBatch() throws {
        let started = Date()
        let agent = try AgentSetup(loggerConfig("""
            a1.sources.r1.shell = /bin/sh -c
            a1.sources.r1.command = echo 1; echo 2; echo 3; exec sleep 60
            a1.sources.r1.batchSize = 100
            a1.sources.r1.batchTimeout = 300
            """), plugins: plugins).start()
        agent.waitForEvents("k1", atLeast: 3, timeout: 10)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(agent.events(from: "k1").map(\.text), ["1", "2", "3"])
    }

    func testStdErrIsLoggedOnlyWithLogStdErr() throws {
        let agent = try AgentSetup("""
            a1.sources = r1 r2
            a1.channels = c1
            a1.sinks = k1
            a1.sources.r1.type = exec
            a1.sources.r1.shell = /bin/sh -c
            a1.sources.r1.command = echo err-one >&2; echo out-one
            a1.sources.r1.logStdErr = true
            a1.sources.r1.channels = c1
            a1.sources.r2.type = exec
            a1.sources.r2.shell = /bin/sh -c
            a1.sources.r2.command = echo err-two >&2; echo out-two
            a1.sources.r2.channels = c1
            a1.channels.c1.type = memory
            a1.sinks.k1.type = logger
            a1.sinks.k1.channel = c1
            """, plugins: plugins).start()
        agent.waitForEvents("k1", atLeast: 2)
        agent.waitFor("[r1] StderrLogger[1] = 'err-one'")
        agent.waitFor("[r2] command [echo err-two >&2; echo out-two] (pid")
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(Set(agent.events(from: "k1").map(\.text)), ["out-one", "out-two"])
        XCTAssertFalse(agent.log.contains("err-two'"), "stderr is discarded without logStdErr")
    }

    /// Stop sends SIGTERM to the command's process group and reaps the
    /// command: neither the shell nor its background job survives.
    func testStopKillsTheCommandAndItsProcessGroup() throws {
        let dir = makeTempDir("exec-pids")
        let agent = try AgentSetup(loggerConfig("""
            a1.sources.r1.shell = /bin/sh -c
            a1.sources.r1.command = echo $$ > \(dir)/sh.pid; sleep 1000 & echo $! > \(dir)/bg.pid; echo ready; wait
            a1.sources.r1.batchTimeout = 100
            """), plugins: plugins).start()
        agent.waitForEvents("k1", atLeast: 1)
        let shell = try XCTUnwrap(ExecRoll.readPID(dir + "/sh.pid"))
        let background = try XCTUnwrap(ExecRoll.readPID(dir + "/bg.pid"))
        XCTAssertTrue(ExecRoll.isAlive(shell) && ExecRoll.isAlive(background), "both run before stop")
        let stopping = Date()
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertLessThan(Date().timeIntervalSince(stopping), 4, "SIGTERM suffices; no SIGKILL grace needed")
        XCTAssertTrue(agent.log.contains("(pid \(shell)) was killed by signal 15 (SIGTERM)"), agent.log)
        XCTAssertFalse(ExecRoll.isAlive(shell), "the command is gone (and reaped)")
        ExecRoll.waitUntil("background job gone") { !ExecRoll.isAlive(background) }
    }

    /// Decision: a command that cannot be started is an ERROR in the log,
    /// not a start failure; the agent and its other flows keep running (as
    /// Flume). With restart = true it is retried after restartThrottle.
    func testMissingCommandIsLoggedAndTheAgentKeepsRunning() throws {
        let agent = try AgentSetup("""
            a1.sources = r1 r2
            a1.channels = c1
            a1.sinks = k1
            a1.sources.r1.type = exec
            a1.sources.r1.command = /nonexistent/sluice-no-such-command --flag
            a1.sources.r1.restart = true
            a1.sources.r1.restartThrottle = 200
            a1.sources.r1.channels = c1
            a1.sources.r2.type = seq
            a1.sources.r2.totalEvents = 3
            a1.sources.r2.channels = c1
            a1.channels.c1.type = memory
            a1.sinks.k1.type = logger
            a1.sinks.k1.channel = c1
            """, plugins: plugins).start()
        agent.waitFor("occurrences of the spawn error") {
            occurrences(of: "ERROR [r1] cannot run command [/nonexistent/sluice-no-such-command --flag]: No such file or directory", in: $0) >= 2
        }
        agent.waitForEvents("k1", atLeast: 3)
        XCTAssertTrue(agent.process.isRunning)
        XCTAssertEqual(agent.stop(), 0)
    }

    func testLatin1IsConvertedToUTF8() throws {
        let agent = try AgentSetup(loggerConfig("""
            a1.sources.r1.shell = /bin/sh -c
            a1.sources.r1.command = printf '\\\\351t\\\\351\\\\n'
            a1.sources.r1.charset = ISO-8859-1
            """), plugins: plugins).start()
        agent.waitForEvents("k1", atLeast: 1)
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertTrue(agent.log.contains("body: C3 A9 74 C3 A9 "), agent.log)
    }

    func testBadSettingsAreRefusedByCheck() throws {
        for (line, key) in [("a1.sources.r1.charset = EBCDIC", "charset"),
                            ("a1.sources.r1.batchSize = 0", "batchSize"),
                            ("a1.sources.r1.restartThrottle = soon", "restartThrottle")] {
            let r = try AgentSetup(loggerConfig("a1.sources.r1.command = true\n" + line), plugins: plugins).check()
            XCTAssertNotEqual(r.status, 0, line)
            XCTAssertTrue(r.stderr.contains(key), "\(line): \(r.stderr)")
        }
        let missing = try AgentSetup(loggerConfig(""), plugins: plugins).check()
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("command"), missing.stderr)
    }
}

// MARK: Helpers shared by the exec and file_roll tests

/// Namespaced so they cannot clash with other test files' helpers.
enum ExecRoll {
    /// Polls `condition` every 20 ms; fails the test after `timeout` seconds.
    @discardableResult
    static func waitUntil(_ what: String, timeout: Double = 20, file: StaticString = #filePath, line: UInt = #line,
                          _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        if condition() { return true }
        XCTFail("timed out waiting for \(what)", file: file, line: line)
        return false
    }

    /// The files of a file_roll directory, ordered by the index after the last "-".
    static func rolledFiles(_ dir: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        func index(_ name: String) -> Int {
            let stem = name.split(separator: ".").first.map(String.init) ?? name
            return Int(stem.split(separator: "-").last ?? "") ?? Int.max
        }
        return names.sorted { (index($0), $0) < (index($1), $1) }
    }

    static func fileBytes(_ path: String) -> [UInt8] {
        (FileManager.default.contents(atPath: path)).map { [UInt8]($0) } ?? []
    }

    /// Every file of a file_roll directory, concatenated in roll order.
    static func concatenatedFiles(_ dir: String) -> String {
        String(decoding: rolledFiles(dir).flatMap { fileBytes(dir + "/" + $0) }, as: UTF8.self)
    }

    static func readPID(_ path: String) -> pid_t? {
        var pid: pid_t?
        waitUntil("\(path)") {
            pid = (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            return pid != nil
        }
        return pid
    }

    /// True when `pid` exists and is not a zombie waiting for its parent.
    static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.range(of: ") ", options: .backwards) else { return false }
        return stat[close.upperBound...].first != "Z"
    }
}
