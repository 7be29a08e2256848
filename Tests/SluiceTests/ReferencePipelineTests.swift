import Foundation
import XCTest

/// Issue 3's reference pipeline (examples/conf/reference-pipeline*.conf):
/// spooldir over batch car-log files and exec `tail -F` over a live driver
/// log, each through a regex_filter keeping lines that start with 14 digits,
/// into memory channels, to the logger and to file_roll. The same test runs
/// the config written with Flume's Java class names, changing only paths.
final class ReferencePipelineTests: XCTestCase {
    func runReferencePipeline(_ example: String) throws {
        let work = makeTempDir("sluice-ref")
        let spool = work + "/spool", out = work + "/out", driver = work + "/driver.log"
        try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: driver, contents: nil)
        let config = try String(contentsOfFile: Paths.repoRoot + "/examples/conf/" + example, encoding: .utf8)
            .replacingOccurrences(of: "/var/spool/carlogs", with: spool)
            .replacingOccurrences(of: "/var/log/driver/driver.log", with: driver)
            .replacingOccurrences(of: "/var/lib/sluice/driver-out", with: out)
        let setup = try AgentSetup(config, plugins: ["SluiceSpoolDirSource", "SluiceExecSource", "SluiceFlumeInterceptors",
                                                     "SluiceLoggerSink", "SluiceFileRollSink"])

        // Batch files: every third line lacks the timestamp and must be dropped.
        var spoolKept: [String] = []
        for f in 0..<3 {
            var text = ""
            for i in 0..<1500 {
                let n = f * 10_000 + i
                if i % 3 == 2 {
                    text += "WARN sensor \(n) out of range\n"
                } else {
                    let line = String(format: "2026112500%04d car=%05d speed=%d", n % 10_000, n, n % 130)
                    // 14 digits: 10 fixed + 4 varying; unique together with the car number.
                    spoolKept.append(line)
                    text += line + "\n"
                }
            }
            try write(text, to: work + "/batch-\(f).tmp")
            rename(work + "/batch-\(f).tmp", spool + "/cars-\(f).log")
        }
        let agent = try setup.start()
        agent.waitFor("started in")
        usleep(500_000) // let tail -F open the driver log

        var driverKept: [String] = []
        let h = FileHandle(forWritingAtPath: driver)!
        for i in 0..<800 {
            let line = i % 4 == 3 ? "driver note \(i): no timestamp" : String(format: "20261125%06d driver=42 event=%d", i, i)
            if i % 4 != 3 { driverKept.append(line) }
            h.write((line + "\n").data(using: .utf8)!)
        }
        h.closeFile()

        // Logger prints the first 16 body bytes: the 14 digits identify each line.
        let expectedLogged = spoolKept.map { String($0.prefix(16)) }
        agent.waitFor("every kept spool line at the logger", timeout: 30) { _ in
            agent.events(from: "k1").count >= expectedLogged.count
        }
        agent.waitFor("every kept driver line in file_roll output", timeout: 30) { _ in
            self.rolledLines(out).count >= driverKept.count
        }
        XCTAssertEqual(agent.stop(), 0)

        let logged = agent.events(from: "k1").map { $0.text }
        XCTAssertEqual(logged.sorted(), expectedLogged.sorted(), "\(example): the logger got exactly the matching spool lines")
        XCTAssertFalse(logged.contains { $0.hasPrefix("WARN") })
        XCTAssertEqual(rolledLines(out), driverKept, "\(example): file_roll got exactly the matching driver lines, in order")
        let left = try FileManager.default.contentsOfDirectory(atPath: spool).filter { !$0.hasPrefix(".") }
        XCTAssertEqual(left, [], "deletePolicy immediate removes each finished file")
    }

    func rolledLines(_ dir: String) -> [String] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        return files.flatMap { f in
            ((try? String(contentsOfFile: dir + "/" + f, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
    }

    func testReferencePipelineWithShortNames() throws {
        try runReferencePipeline("reference-pipeline.conf")
    }

    func testReferencePipelineWithFlumeJavaClassNames() throws {
        try runReferencePipeline("reference-pipeline-java.conf")
    }
}
