import Foundation
import XCTest

/// Where things are: the build directory holding `sluice` and the plugin
/// `.so` files (the test bundle sits beside them), and the repository.
enum Paths {
    static let buildDir: String = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        // xctest on Linux runs <build>/sluicePackageTests.xctest
        url.deleteLastPathComponent()
        return url.path
    }()
    static let repoRoot: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let sluice = buildDir + "/sluice"

    static let firstPartyPlugins = ["SluiceSequenceSource", "SluiceNetcatSource", "SluiceLoggerSink",
                                    "SluiceNullSink", "SluiceFlumeInterceptors", "SluiceSpoolDirSource",
                                    "SluiceExecSource", "SluiceTaildirSource", "SluiceFileRollSink",
                                    "SluiceKafkaBroker", "SluiceKafkaSink"]

    static func plugin(_ product: String) -> String { buildDir + "/lib\(product).so" }
}

/// Every directory the tests make lives under one root per test process,
/// removed when the process exits; roots left by a killed run are swept at
/// the next start. (End-to-end tests copy or link plugins, write logs and
/// segment files: without this a full run leaves gigabytes in /tmp.)
enum TestTempRoot {
    static let path: String = {
        let base = NSTemporaryDirectory() + "/sluice-tests"
        mkdir(base, 0o700)
        sweepDeadRuns(in: base)
        let root = base + "/run.\(getpid())"
        mkdir(root, 0o700)
        atexit { removeTree(TestTempRoot.path) }
        return root
    }()

    private static func sweepDeadRuns(in base: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: base) else { return }
        for name in names where name.hasPrefix("run.") {
            guard let pid = pid_t(name.dropFirst(4)) else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { removeTree(base + "/" + name) }
        }
    }
}

/// Removes a tree, first giving directories back the permissions some
/// tests take away to provoke errors.
func removeTree(_ path: String) {
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    if (st.st_mode & S_IFMT) == S_IFDIR {
        chmod(path, 0o700)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            removeTree(path + "/" + name)
        }
        rmdir(path)
    } else {
        unlink(path)
    }
}

/// A fresh private directory (mode 0700) under this run's temp root.
func makeTempDir(_ label: String = "sluice-test") -> String {
    var template = Array((TestTempRoot.path + "/\(label).XXXXXX").utf8CString)
    let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(p != nil, "mkdtemp failed")
    return String(cString: p!)
}

/// A plugin directory holding the given first-party plugins: hard links to
/// the built files (debug builds are tens of MB each), or copies for a test
/// that changes the files it gets (mode, contents).
func pluginDir(_ products: [String] = Paths.firstPartyPlugins, extra: [String] = [], copies: Bool = false) throws -> String {
    let dir = makeTempDir("sluice-plugins")
    for p in products {
        let target = dir + "/lib\(p).so"
        if copies || link(Paths.plugin(p), target) != 0 {
            try FileManager.default.copyItem(atPath: Paths.plugin(p), toPath: target)
        }
    }
    for path in extra {
        try FileManager.default.copyItem(atPath: path, toPath: dir + "/" + URL(fileURLWithPath: path).lastPathComponent)
    }
    return dir
}

func write(_ text: String, to path: String) throws {
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}

struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a command to completion (killed after `timeout` seconds).
@discardableResult
func runCommand(_ executable: String, _ args: [String], cwd: String? = nil, env: [String: String] = [:], timeout: Double = 120) throws -> RunResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = args
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    var environment = ProcessInfo.processInfo.environment
    for (k, v) in env { environment[k] = v }
    p.environment = environment
    let dir = makeTempDir("sluice-run")
    FileManager.default.createFile(atPath: dir + "/out", contents: nil)
    FileManager.default.createFile(atPath: dir + "/err", contents: nil)
    p.standardOutput = FileHandle(forWritingAtPath: dir + "/out")
    p.standardError = FileHandle(forWritingAtPath: dir + "/err")
    try p.run()
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning && Date() < deadline { usleep(20_000) }
    if p.isRunning {
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        XCTFail("\(executable) \(args.joined(separator: " ")) timed out after \(timeout) s")
    }
    p.waitUntilExit()
    return RunResult(status: p.terminationStatus,
                     stdout: (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? "",
                     stderr: (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? "")
}

/// `sluice` as a background process whose stderr (the log) goes to a file.
final class AgentProcess {
    let process = Process()
    let logPath: String

    init(_ args: [String], env: [String: String] = [:]) throws {
        let dir = makeTempDir("sluice-agent")
        logPath = dir + "/agent.log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: Paths.sluice)
        process.arguments = args
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        process.environment = environment
        process.standardError = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = FileHandle(forWritingAtPath: logPath)
        try process.run()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits until `predicate(log)` holds; fails the test on timeout.
    @discardableResult
    func waitFor(_ what: String, timeout: Double = 20, _ predicate: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if predicate(log) { return true }
            if !process.isRunning { break }
            usleep(20_000)
        }
        if predicate(log) { return true }
        XCTFail("timed out waiting for \(what); log:\n\(log.suffix(3000))")
        return false
    }

    func waitFor(_ text: String, timeout: Double = 20) {
        waitFor("'\(text)'", timeout: timeout) { $0.contains(text) }
    }

    /// Sends `signal` and waits for exit; returns the exit status.
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM, timeout: Double = 20) -> Int32 {
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            XCTFail("agent did not exit within \(timeout) s after signal \(signal)")
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Event lines a logger sink named `sink` printed.
    func events(from sink: String) -> [LoggedEvent] {
        log.split(separator: "\n").compactMap { LoggedEvent(line: String($0), sink: sink) }
    }
}

/// One "Event: { headers:{...} body: <hex> <text> }" line of the logger sink.
struct LoggedEvent {
    var headers: [String: String]
    var text: String

    init?(line: String, sink: String) {
        guard line.contains(" [\(sink)] Event: { headers:{"),
              let hStart = line.range(of: "headers:{"),
              let hEnd = line.range(of: "} body: ", range: hStart.upperBound..<line.endIndex) else { return nil }
        let h = line[hStart.upperBound..<hEnd.lowerBound]
        headers = [:]
        for pair in h.components(separatedBy: ", ") where !pair.isEmpty {
            if let eq = pair.firstIndex(of: "=") { headers[String(pair[..<eq])] = String(pair[pair.index(after: eq)...]) }
        }
        // body: "<hex bytes> <text> }": hex pairs each followed by a space, then one space, the text, " }".
        var rest = line[hEnd.upperBound...]
        if rest.hasSuffix(" }") { rest = rest.dropLast(2) }
        while rest.count >= 3, rest.prefix(2).allSatisfy({ $0.isHexDigit }), rest.dropFirst(2).first == " " {
            rest = rest.dropFirst(3)
        }
        if rest.first == " " { rest = rest.dropFirst() }
        text = String(rest)
    }
}

/// Port printed in a log line such as "listening on 127.0.0.1:40123".
func port(in log: String, after marker: String) -> Int? {
    guard let r = log.range(of: marker) else { return nil }
    let digits = log[r.upperBound...].prefix { $0.isNumber }
    return Int(digits)
}
