import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The file_roll sink end to end: a real `sluice` agent writing real files.
/// Helpers (ExecRoll.waitUntil, ...) are in ExecSourceTests.swift.
final class FileRollSinkTests: XCTestCase {
    let plugins = ["SluiceSequenceSource", "SluiceExecSource", "SluiceFileRollSink", "SluiceFlumeInterceptors"]

    /// seq source r1 (`totalEvents`) → memory c1 → file_roll k1 into `dir`.
    func seqConfig(_ dir: String, totalEvents: Int, sink: String = "") -> String {
        """
        a1.sources = r1
        a1.channels = c1
        a1.sinks = k1
        a1.sources.r1.type = seq
        a1.sources.r1.totalEvents = \(totalEvents)
        a1.sources.r1.channels = c1
        a1.channels.c1.type = memory
        a1.sinks.k1.type = file_roll
        a1.sinks.k1.channel = c1
        a1.sinks.k1.sink.directory = \(dir)
        \(sink)
        """
    }

    func matches(_ name: String, _ pattern: String) -> Bool {
        name.range(of: pattern, options: .regularExpression) != nil
    }

    func testTextWritesBodiesAndNewlinesExactly() throws {
        let out = makeTempDir("roll-text") + "/not/yet/there"
        let agent = try AgentSetup(seqConfig(out, totalEvents: 5), plugins: plugins).start()
        ExecRoll.waitUntil("5 events written") { ExecRoll.concatenatedFiles(out) == "0\n1\n2\n3\n4\n" }
        XCTAssertEqual(agent.stop(), 0)
        let files = ExecRoll.rolledFiles(out)
        XCTAssertEqual(files.count, 1, "\(files)")
        XCTAssertTrue(matches(files.first ?? "", #"^[0-9]{13}-1$"#), "DEFAULT naming <startMillis>-1: \(files)")
        XCTAssertEqual(String(decoding: ExecRoll.fileBytes(out + "/" + files[0]), as: UTF8.self), "0\n1\n2\n3\n4\n")
    }

    /// HEADER_AND_TEXT prints the headers as Flume prints its header map:
    /// "{k1=v1, k2=v2} body". The second sink writes TEXT without newlines.
    func testHeaderAndTextAndAppendNewline() throws {
        let a = makeTempDir("roll-hdr"), b = makeTempDir("roll-nonl")
        let agent = try AgentSetup("""
            a1.sources = r1
            a1.channels = c1 c2
            a1.sinks = k1 k2
            a1.sources.r1.type = seq
            a1.sources.r1.totalEvents = 3
            a1.sources.r1.channels = c1 c2
            a1.sources.r1.interceptors = i1 i2
            a1.sources.r1.interceptors.i1.type = static
            a1.sources.r1.interceptors.i1.key = host
            a1.sources.r1.interceptors.i1.value = web-1
            a1.sources.r1.interceptors.i2.type = static
            a1.sources.r1.interceptors.i2.key = env
            a1.sources.r1.interceptors.i2.value = prod
            a1.channels.c1.type = memory
            a1.channels.c2.type = memory
            a1.sinks.k1.type = org.apache.flume.sink.RollingFileSink
            a1.sinks.k1.channel = c1
            a1.sinks.k1.sink.directory = \(a)
            a1.sinks.k1.sink.serializer = org.apache.flume.serialization.HeaderAndBodyTextEventSerializer$Builder
            a1.sinks.k2.type = file_roll
            a1.sinks.k2.channel = c2
            a1.sinks.k2.sink.directory = \(b)
            a1.sinks.k2.sink.serializer = text
            a1.sinks.k2.sink.serializer.appendNewline = false
            """, plugins: plugins).start()
        let expected = "{host=web-1, env=prod} 0\n{host=web-1, env=prod} 1\n{host=web-1, env=prod} 2\n"
        ExecRoll.waitUntil("headers and text") { ExecRoll.concatenatedFiles(a) == expected }
        ExecRoll.waitUntil("text without newlines") { ExecRoll.concatenatedFiles(b) == "012" }
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertEqual(ExecRoll.concatenatedFiles(a), expected)
        XCTAssertEqual(ExecRoll.concatenatedFiles(b), "012")
    }

    func testHeaderAndTextWithoutHeaders() throws {
        let out = makeTempDir("roll-nohdr")
        let agent = try AgentSetup(seqConfig(out, totalEvents: 2, sink: "a1.sinks.k1.sink.serializer = HEADER_AND_TEXT"),
                                   plugins: plugins).start()
        ExecRoll.waitUntil("2 events") { ExecRoll.concatenatedFiles(out) == "{} 0\n{} 1\n" }
        XCTAssertEqual(agent.stop(), 0)
    }

    /// One agent, one paced source, two sinks: rollInterval 1 s gives several
    /// files whose concatenation is the input; rollInterval 0 gives one file.
    func testRollIntervalSplitsFilesAndZeroNeverRolls() throws {
        let rolled = makeTempDir("roll-1s"), single = makeTempDir("roll-0")
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
            a1.sinks.k1.type = file_roll
            a1.sinks.k1.channel = c1
            a1.sinks.k1.sink.directory = \(rolled)
            a1.sinks.k1.sink.rollInterval = 1
            a1.sinks.k2.type = file_roll
            a1.sinks.k2.channel = c2
            a1.sinks.k2.sink.directory = \(single)
            a1.sinks.k2.sink.rollInterval = 0
            """, plugins: ["SluiceExecSource", "SluiceFileRollSink"]).start()
        let expected = (1...25).map { "\($0)\n" }.joined()
        ExecRoll.waitUntil("all lines rolled") { ExecRoll.concatenatedFiles(rolled) == expected }
        ExecRoll.waitUntil("all lines in one file") { ExecRoll.concatenatedFiles(single) == expected }
        XCTAssertEqual(agent.stop(), 0)
        let files = ExecRoll.rolledFiles(rolled)
        XCTAssertGreaterThanOrEqual(files.count, 3, "2.5 s of input at 1 s per file: \(files)")
        XCTAssertEqual(files.map { Int($0.split(separator: "-").last!)! }, Array(1...files.count), "indexes 1, 2, 3, ...")
        XCTAssertEqual(Set(files.map { $0.split(separator: "-").first! }).count, 1, "one series timestamp: \(files)")
        XCTAssertEqual(ExecRoll.concatenatedFiles(rolled), expected)
        XCTAssertEqual(ExecRoll.rolledFiles(single).count, 1)
        XCTAssertEqual(ExecRoll.concatenatedFiles(single), expected)
    }

    func testPrefixExtensionAndRollTimeNaming() throws {
        let a = makeTempDir("roll-names"), b = makeTempDir("roll-time")
        let before = Date()
        let agent = try AgentSetup("""
            a1.sources = r1
            a1.channels = c1 c2
            a1.sinks = k1 k2
            a1.sources.r1.type = seq
            a1.sources.r1.totalEvents = 2
            a1.sources.r1.channels = c1 c2
            a1.channels.c1.type = memory
            a1.channels.c2.type = memory
            a1.sinks.k1.type = file_roll
            a1.sinks.k1.channel = c1
            a1.sinks.k1.sink.directory = \(a)
            a1.sinks.k1.sink.pathManager.prefix = events-
            a1.sinks.k1.sink.pathManager.extension = log
            a1.sinks.k2.type = file_roll
            a1.sinks.k2.channel = c2
            a1.sinks.k2.sink.directory = \(b)
            a1.sinks.k2.sink.pathManager = ROLLTIME
            a1.sinks.k2.sink.pathManager.prefix = r-
            """, plugins: plugins).start()
        ExecRoll.waitUntil("both written") { ExecRoll.concatenatedFiles(a) == "0\n1\n" && ExecRoll.concatenatedFiles(b) == "0\n1\n" }
        XCTAssertEqual(agent.stop(), 0)
        let named = ExecRoll.rolledFiles(a)
        XCTAssertEqual(named.count, 1)
        XCTAssertTrue(matches(named[0], #"^events-[0-9]{13}-1\.log$"#), named[0])
        let millis = Int(named[0].dropFirst("events-".count).prefix(13))!
        XCTAssertEqual(Double(millis) / 1000, before.timeIntervalSince1970, accuracy: 10)

        let timed = ExecRoll.rolledFiles(b)
        XCTAssertEqual(timed.count, 1)
        XCTAssertTrue(matches(timed[0], #"^r-[0-9]{14}-1$"#), timed[0])
        let f = DateFormatter()
        f.dateFormat = "yyyyMMddHHmmss"
        f.timeZone = TimeZone.current
        let stamp = try XCTUnwrap(f.date(from: String(timed[0].dropFirst(2).prefix(14))))
        XCTAssertEqual(stamp.timeIntervalSince1970, before.timeIntervalSince1970, accuracy: 10, "local time of the roll")
    }

    /// kill -9 while a fast source streams into file_roll: each batch is one
    /// write followed by fdatasync, so no file ends in a torn line, and the
    /// files hold 0, 1, 2, ... without gaps or repeats.
    func testKillNineLeavesOnlyCompleteLines() throws {
        for round in 0..<3 {
            let out = makeTempDir("roll-kill")
            let agent = try AgentSetup("""
                a1.sources = r1
                a1.channels = c1
                a1.sinks = k1
                a1.sources.r1.type = seq
                a1.sources.r1.batchSize = 100
                a1.sources.r1.channels = c1
                a1.channels.c1.type = memory
                a1.channels.c1.capacity = 100000
                a1.channels.c1.transactionCapacity = 1000
                a1.sinks.k1.type = file_roll
                a1.sinks.k1.channel = c1
                a1.sinks.k1.sink.directory = \(out)
                a1.sinks.k1.sink.rollInterval = 1
                a1.sinks.k1.sink.batchSize = 1000
                """, plugins: plugins).start()
            ExecRoll.waitUntil("data written") { ExecRoll.rolledFiles(out).reduce(0) { $0 + ExecRoll.fileBytes(out + "/" + $1).count } > 20_000 }
            usleep(UInt32.random(in: 0...400_000))
            kill(agent.process.processIdentifier, SIGKILL)
            agent.process.waitUntilExit()
            XCTAssertEqual(agent.process.terminationReason, .uncaughtSignal)

            var next = 0
            for name in ExecRoll.rolledFiles(out) {
                let bytes = ExecRoll.fileBytes(out + "/" + name)
                if let last = bytes.last { XCTAssertEqual(last, 0x0a, "round \(round): \(name) ends in a torn line") }
                for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
                    guard Int(line) == next else {
                        XCTFail("round \(round): \(name): expected \(next), found '\(line)'")
                        return
                    }
                    next += 1
                }
            }
            XCTAssertGreaterThan(next, 1000, "round \(round)")
        }
    }

    func testDirectoryThatCannotBeCreatedRefusesToStart() throws {
        let file = makeTempDir("roll-bad") + "/plain-file"
        try write("x", to: file)
        let agent = try AgentSetup(seqConfig(file + "/sub", totalEvents: 1), plugins: plugins).start()
        agent.process.waitUntilExit()
        XCTAssertNotEqual(agent.process.terminationStatus, 0)
        XCTAssertTrue(agent.log.contains("sink.directory '\(file)/sub'"), agent.log)
    }

    func testBadSettingsAreRefusedByCheck() throws {
        let dir = makeTempDir("roll-check")
        for (line, key) in [("a1.sinks.k1.sink.serializer = AVRO_EVENT", "sink.serializer"),
                            ("a1.sinks.k1.sink.serializer = xml", "sink.serializer"),
                            ("a1.sinks.k1.sink.pathManager = HOURLY", "sink.pathManager"),
                            ("a1.sinks.k1.sink.rollInterval = -1", "sink.rollInterval"),
                            ("a1.sinks.k1.sink.batchSize = 0", "sink.batchSize")] {
            let r = try AgentSetup(seqConfig(dir, totalEvents: 1, sink: line), plugins: plugins).check()
            XCTAssertNotEqual(r.status, 0, line)
            XCTAssertTrue(r.stderr.contains(key), "\(line): \(r.stderr)")
        }
    }
}
