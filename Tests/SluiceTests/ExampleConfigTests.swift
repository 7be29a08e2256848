import Foundation
import XCTest

/// Every sample config shipped in examples/conf passes `sluice check`
/// against the first-party plugins, without warnings.
final class ExampleConfigTests: XCTestCase {
    func testEverySampleConfigIsValid() throws {
        let dir = Paths.repoRoot + "/examples/conf"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".conf") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 3)
        let plugins = try pluginDir()
        for f in files {
            let text = try String(contentsOfFile: dir + "/" + f, encoding: .utf8)
            let agent = text.split(separator: "\n").first { !$0.hasPrefix("#") && $0.contains(".sources") }
                .map { String($0.prefix { $0 != "." }) } ?? "a1"
            // flume-ng's "-c <conf dir>" is accepted, so existing start scripts work.
            let r = try runCommand(Paths.sluice, ["check", "-n", agent, "-c", "/etc/flume/conf", "-f", dir + "/" + f, "--plugin-dir", plugins])
            XCTAssertEqual(r.status, 0, "\(f): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("is valid"), "\(f): \(r.stdout)")
            XCTAssertFalse(r.stderr.contains("WARNING"), "\(f) should check without warnings: \(r.stderr)")
        }
    }
}
