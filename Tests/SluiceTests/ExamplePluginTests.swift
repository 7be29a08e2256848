import Foundation
import XCTest

/// The two user stories: an interceptor written out of tree (in Swift
/// against the SDK package, in C against the header alone) is built, dropped
/// into a plugin directory, and changes the events that reach a sink; and the
/// same plugins pinned by a manifest, where a tampered copy is refused.
final class ExamplePluginTests: XCTestCase {
    static var built: (c: String, swift: String)?

    /// Builds both examples once, outside the main build.
    func buildExamples() throws -> (c: String, swift: String) {
        if let b = Self.built { return b }
        let out = makeTempDir("sluice-examples")
        let c = try runCommand("/usr/bin/make", ["-s", "-C", Paths.repoRoot + "/examples/c-interceptor",
                                                 "OUT=\(out)/libupper_interceptor.so"])
        XCTAssertEqual(c.status, 0, c.stderr)
        let swiftBin = ProcessInfo.processInfo.environment["SWIFT_EXEC_FOR_TESTS"] ?? "/opt/swift/usr/bin/swift"
        let s = try runCommand(swiftBin, ["build", "--package-path", Paths.repoRoot + "/examples/swift-interceptor",
                                          "--scratch-path", out + "/swift-build"], timeout: 600)
        XCTAssertEqual(s.status, 0, s.stdout + s.stderr)
        let b = (c: out + "/libupper_interceptor.so", swift: out + "/swift-build/debug/libRedactInterceptor.so")
        XCTAssertTrue(FileManager.default.fileExists(atPath: b.c))
        XCTAssertTrue(FileManager.default.fileExists(atPath: b.swift))
        Self.built = b
        return b
    }

    let config = """
        a1.sources = r1
        a1.channels = c1
        a1.sinks = k1
        a1.sources.r1.type = seq
        a1.sources.r1.totalEvents = 5
        a1.sources.r1.batchSize = 5
        a1.sources.r1.channels = c1
        a1.sources.r1.interceptors = words red up
        a1.sources.r1.interceptors.words.type = search_replace
        a1.sources.r1.interceptors.words.searchPattern = ^([0-9]+)$
        a1.sources.r1.interceptors.words.replaceString = event-$1
        a1.sources.r1.interceptors.red.type = redact
        a1.sources.r1.interceptors.up.type = com.example.UpperInterceptor$Builder
        a1.channels.c1.type = memory
        a1.sinks.k1.type = logger
        a1.sinks.k1.channel = c1
        """

    func assertInterceptedEvents(_ agent: AgentProcess) {
        agent.waitFor("5 events at k1") { _ in agent.events(from: "k1").count >= 5 }
        let events = agent.events(from: "k1")
        XCTAssertEqual(events.count, 5)
        for e in events {
            XCTAssertEqual(e.text, "EVENT-#", "Swift redact then C upper should both have run")
            XCTAssertEqual(e.headers["redacted"], "1")
            XCTAssertEqual(e.headers["intercepted-by"], "c-upper")
        }
    }

    func testOutOfTreeSwiftAndCInterceptorsChangeEvents() throws {
        let ex = try buildExamples()
        let dir = try pluginDir(["SluiceSequenceSource", "SluiceLoggerSink", "SluiceFlumeInterceptors"], extra: [ex.c, ex.swift])
        let conf = dir + "/agent.conf"
        try write(config, to: conf)
        let agent = try AgentProcess(["agent", "-n", "a1", "-f", conf, "--plugin-dir", dir])
        assertInterceptedEvents(agent)
        XCTAssertEqual(agent.stop(), 0)
    }

    func testManifestPinsPluginsAndRefusesTamperedCopy() throws {
        let ex = try buildExamples()
        let dir = try pluginDir(["SluiceSequenceSource", "SluiceLoggerSink", "SluiceFlumeInterceptors"], extra: [ex.c, ex.swift])
        let conf = dir + "/agent.conf"
        try write(config, to: conf)
        var manifest = ""
        for f in ["libSluiceSequenceSource.so", "libSluiceLoggerSink.so", "libSluiceFlumeInterceptors.so",
                  "libupper_interceptor.so", "libRedactInterceptor.so"] {
            let sha = try runCommand("/usr/bin/sha256sum", [dir + "/" + f]).stdout.prefix(64)
            manifest += "\(f) sha256:\(sha)\n"
        }
        try write(manifest, to: dir + "/plugins.manifest")

        let agent = try AgentProcess(["agent", "-n", "a1", "-f", conf, "--manifest", dir + "/plugins.manifest"])
        assertInterceptedEvents(agent)
        XCTAssertEqual(agent.stop(), 0)

        // Replace the Swift plugin with a tampered copy: one changed byte.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/libRedactInterceptor.so"))
        bytes[bytes.count - 1] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: dir + "/libRedactInterceptor.so"))
        let r = try runCommand(Paths.sluice, ["agent", "-n", "a1", "-f", conf, "--manifest", dir + "/plugins.manifest"], timeout: 30)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("refusing to start: plugin \(dir)/libRedactInterceptor.so: sha256 mismatch"), r.stderr)
        XCTAssertFalse(r.stderr.contains("Event:"), "no event may flow when a plugin is refused")
    }
}
