import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Issue 3's crash tests: kill -9 the agent again and again while a durable
/// source → file channel → file_roll pipeline runs, restart it each time,
/// and check that every input line reaches the output at least once, with
/// duplicates bounded by the batches in flight at each crash.
final class DurablePipelineCrashTests: XCTestCase {
    let batch = 100

    func fileChannelAndRoll(_ work: String) -> String {
        """
        a1.channels = c1
        a1.sinks = k1
        a1.channels.c1.type = file
        a1.channels.c1.checkpointDir = \(work)/checkpoint
        a1.channels.c1.dataDirs = \(work)/data
        a1.channels.c1.checkpointInterval = 1000
        a1.channels.c1.transactionCapacity = 1000
        a1.channels.c1.minimumRequiredSpace = 1048576
        a1.sinks.k1.type = file_roll
        a1.sinks.k1.channel = c1
        a1.sinks.k1.sink.directory = \(work)/out
        a1.sinks.k1.sink.rollInterval = 0
        a1.sinks.k1.sink.batchSize = \(batch)
        """
    }

    /// Complete output lines, counted; a line torn by a kill in the middle of
    /// a write (never committed, so written again) is left out.
    func output(_ dir: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for f in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            guard let text = try? String(contentsOfFile: dir + "/" + f, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") where line.hasPrefix("L") && line.hasSuffix("#") {
                counts[String(line), default: 0] += 1
            }
        }
        return counts
    }

    /// Every line written under `<work>/logs` (the taildir test's input).
    func inputLines(_ work: String) -> Set<String> {
        var all = Set<String>()
        for f in (try? FileManager.default.contentsOfDirectory(atPath: work + "/logs")) ?? [] {
            let text = (try? String(contentsOfFile: work + "/logs/" + f, encoding: .utf8)) ?? ""
            for l in text.split(separator: "\n") { all.insert(String(l)) }
        }
        return all
    }

    /// Runs `rounds` kill -9 cycles, then one clean run until `expected` has
    /// all arrived; checks at-least-once and the duplicate bound.
    func crashLoop(setup: AgentSetup, work: String, expected fixed: Set<String>, rounds: Int,
                   feed: (Int) throws -> Void, file: StaticString = #filePath, line: UInt = #line) throws {
        var rng = SystemRandomNumberGenerator()
        for round in 0..<rounds {
            let agent = try setup.start()
            agent.waitFor("started in")
            try feed(round)
            usleep(UInt32.random(in: 30_000...300_000, using: &rng))
            kill(agent.process.processIdentifier, SIGKILL)
            agent.process.waitUntilExit()
        }
        try feed(rounds)
        let expected = fixed.isEmpty ? inputLines(work) : fixed
        let agent = try setup.start()
        agent.waitFor("started in")
        agent.waitFor("every line in the output", timeout: 60) { _ in
            Set(self.output(work + "/out").keys).isSuperset(of: expected)
        }
        XCTAssertEqual(agent.stop(), 0, file: file, line: line)
        let out = output(work + "/out")
        let missing = expected.subtracting(out.keys)
        XCTAssertTrue(missing.isEmpty, "lost \(missing.count) lines, e.g. \(missing.sorted().prefix(5))", file: file, line: line)
        XCTAssertTrue(Set(out.keys).isSubset(of: expected), "output has lines never written", file: file, line: line)
        let duplicates = out.values.reduce(0) { $0 + $1 - 1 }
        // Per crash at most one source batch (committed, position not yet
        // saved) and one sink batch (written, take not yet committed).
        XCTAssertLessThanOrEqual(duplicates, rounds * 2 * batch, "duplicates beyond the per-crash bound", file: file, line: line)
        print("crash loop: \(expected.count) lines, \(rounds) kills, \(duplicates) duplicates")
    }

    func testSpoolDirThroughFileChannelSurvivesRepeatedKill9() throws {
        let work = makeTempDir("sluice-spoolcrash")
        let spool = work + "/spool"
        try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true)
        let setup = try AgentSetup(fileChannelAndRoll(work) + """

            a1.sources = r1
            a1.sources.r1.type = spooldir
            a1.sources.r1.spoolDir = \(spool)
            a1.sources.r1.batchSize = \(batch)
            a1.sources.r1.pollDelay = 50
            a1.sources.r1.channels = c1
            """, plugins: ["SluiceSpoolDirSource", "SluiceFileRollSink"])
        var expected = Set<String>()
        var written = 0
        let files = 6, linesPerFile = 4000
        for f in 0..<files {
            var text = ""
            for l in 0..<linesPerFile {
                let s = "L\(f)-\(l) " + String(repeating: "x", count: 40) + "#"
                expected.insert(s)
                text += s + "\n"
            }
            // Files appear complete (written aside, then renamed in), as spooldir requires.
            try write(text, to: work + "/staging-\(f)")
            rename(work + "/staging-\(f)", spool + "/input-\(f).log")
            written += 1
        }
        try crashLoop(setup: setup, work: work, expected: expected, rounds: 5) { _ in }
        let leftover = try FileManager.default.contentsOfDirectory(atPath: spool).filter { $0.hasSuffix(".log") }
        XCTAssertEqual(leftover, [], "every file is marked done once all its lines are committed")
        XCTAssertEqual(written, files)
    }

    func testTaildirThroughFileChannelSurvivesRepeatedKill9() throws {
        let work = makeTempDir("sluice-tailcrash")
        let logs = work + "/logs"
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        let setup = try AgentSetup(fileChannelAndRoll(work) + """

            a1.sources = r1
            a1.sources.r1.type = TAILDIR
            a1.sources.r1.filegroups = g1
            a1.sources.r1.filegroups.g1 = \(logs)/app.*\\\\.log
            a1.sources.r1.positionFile = \(work)/taildir_position.json
            a1.sources.r1.writePosInterval = 100
            a1.sources.r1.batchSize = \(batch)
            a1.sources.r1.channels = c1
            """, plugins: ["SluiceTaildirSource", "SluiceFileRollSink"])
        let expected = Set<String>()
        var n = 0
        for f in ["app-a.log", "app-b.log"] { FileManager.default.createFile(atPath: logs + "/" + f, contents: nil) }
        // Before each run (killed or not) the two logs grow: lines keep
        // arriving while the agent crashes and restarts.
        try crashLoop(setup: setup, work: work, expected: expected, rounds: 5) { _ in
            for f in ["app-a.log", "app-b.log"] {
                var text = ""
                for _ in 0..<12000 {
                    n += 1
                    let s = "L\(f)-\(n) " + String(repeating: "y", count: 40) + "#"
                    text += s + "\n"
                }
                let h = FileHandle(forWritingAtPath: logs + "/" + f)!
                h.seekToEndOfFile()
                h.write(text.data(using: .utf8)!)
                h.closeFile()
            }
        }
    }
}
