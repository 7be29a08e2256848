import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Helpers shared by the end-to-end tests that drive `sluice` with the
/// first-party plugins: writing a config beside a private plugin directory,
/// starting agents, HTTP and TCP clients.

/// A private plugin directory with every first-party plugin and `config`
/// written to `agent.conf` in it.
struct AgentSetup {
    let dir: String
    let conf: String

    init(_ config: String, plugins: [String] = Paths.firstPartyPlugins) throws {
        dir = try pluginDir(plugins)
        conf = dir + "/agent.conf"
        try write(config, to: conf)
    }

    /// `sluice check -n a1 -f agent.conf --plugin-dir dir`.
    func check(agent: String = "a1") throws -> RunResult {
        try runCommand(Paths.sluice, ["check", "-n", agent, "-f", conf, "--plugin-dir", dir], timeout: 30)
    }

    /// `sluice agent -n a1 -f agent.conf --plugin-dir dir <extra>` in the background.
    func start(agent: String = "a1", _ extra: [String] = [], env: [String: String] = [:]) throws -> AgentProcess {
        try AgentProcess(["agent", "-n", agent, "-f", conf, "--plugin-dir", dir] + extra, env: env)
    }
}

/// Occurrences of `needle` in `haystack` (cheap enough for big logs).
func occurrences(of needle: String, in haystack: String) -> Int {
    haystack.components(separatedBy: needle).count - 1
}

extension AgentProcess {
    /// How many events the logger sink `sink` has printed so far.
    func eventCount(_ sink: String) -> Int {
        occurrences(of: " [\(sink)] Event: { headers:{", in: log)
    }

    /// Waits until the logger sink `sink` printed at least `n` events.
    @discardableResult
    func waitForEvents(_ sink: String, atLeast n: Int, timeout: Double = 20) -> Bool {
        waitFor("\(n) events at \(sink)", timeout: timeout) { occurrences(of: " [\(sink)] Event: { headers:{", in: $0) >= n }
    }

    /// The port a component logged as "listening on 127.0.0.1:PORT" (waits for it).
    func listeningPort(_ component: String) -> Int? {
        let marker = "[\(component)] listening on 127.0.0.1:"
        waitFor(marker)
        return port(in: log, after: marker)
    }

    /// The metrics server's port from "metrics on http://HOST:PORT/metrics" (waits for it).
    func metricsPort(host: String = "127.0.0.1") -> Int? {
        let marker = "metrics on http://\(host):"
        waitFor(marker)
        return port(in: log, after: marker)
    }
}

/// Integer bodies of logged events (nil entries for non-integers are dropped).
func integerBodies(_ events: [LoggedEvent]) -> [Int] {
    events.compactMap { Int($0.text.trimmingCharacters(in: .whitespaces)) }
}

// MARK: HTTP

struct HTTPResult {
    /// curl's exit status: 0 ok, 7 connection refused.
    var curlStatus: Int32
    var httpStatus: Int
    var body: String
}

/// GET `url` with curl; the HTTP status is appended by curl's -w.
func httpGet(_ url: String) throws -> HTTPResult {
    let marker = "\n__HTTP_STATUS__"
    let r = try runCommand("/usr/bin/curl", ["-s", "--max-time", "10", "-w", marker + "%{http_code}", url], timeout: 20)
    guard let range = r.stdout.range(of: marker, options: .backwards) else {
        return HTTPResult(curlStatus: r.status, httpStatus: 0, body: r.stdout)
    }
    return HTTPResult(curlStatus: r.status, httpStatus: Int(r.stdout[range.upperBound...]) ?? 0,
                      body: String(r.stdout[..<range.lowerBound]))
}

/// `/metrics` JSON as component → attribute → string value.
func fetchMetricsJSON(port: Int, path: String = "/metrics") throws -> [String: [String: String]] {
    let r = try httpGet("http://127.0.0.1:\(port)\(path)")
    XCTAssertEqual(r.curlStatus, 0, "curl failed")
    XCTAssertEqual(r.httpStatus, 200, r.body)
    let obj = try JSONSerialization.jsonObject(with: Data(r.body.utf8))
    guard let top = obj as? [String: Any] else {
        XCTFail("metrics JSON is not an object: \(r.body)")
        return [:]
    }
    var out: [String: [String: String]] = [:]
    for (k, v) in top {
        guard let attrs = v as? [String: Any] else {
            XCTFail("\(k) is not an object")
            continue
        }
        var strings: [String: String] = [:]
        for (a, value) in attrs {
            guard let s = value as? String else {
                XCTFail("\(k).\(a) is not a string (Flume renders every value as a string): \(value)")
                continue
            }
            strings[a] = s
        }
        out[k] = strings
    }
    return out
}

// MARK: TCP

/// A port that was free a moment ago (bound to 127.0.0.1:0 and closed).
func freeTCPPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    precondition(fd >= 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let rc = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    precondition(rc == 0)
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// A blocking TCP client to 127.0.0.1 with a receive timeout.
final class LineClient {
    let fd: Int32
    private var pending: [UInt8] = []

    init(port: Int, receiveTimeout: Double = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw NSError(domain: "socket", code: Int(errno)) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let e = errno
            close(fd)
            throw NSError(domain: "connect to 127.0.0.1:\(port): \(String(cString: strerror(e)))", code: Int(e))
        }
        setReceiveTimeout(receiveTimeout)
    }

    deinit { close(fd) }

    func setReceiveTimeout(_ seconds: Double) {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) {
        send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { XCTFail("send failed: \(String(cString: strerror(errno)))"); return }
            off += n
        }
    }

    /// The next line received (without "\n"), or nil on timeout / EOF.
    func readLine() -> String? {
        while true {
            if let nl = pending.firstIndex(of: 0x0a) {
                let line = String(decoding: pending[..<nl], as: UTF8.self)
                pending.removeSubrange(...nl)
                return line
            }
            var buf = [UInt8](repeating: 0, count: 4096)
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            pending += buf[0..<n]
        }
    }

    /// Whatever arrives within `seconds` (empty when nothing does).
    func drain(within seconds: Double) -> [UInt8] {
        setReceiveTimeout(seconds)
        defer { setReceiveTimeout(10) }
        var out = pending
        pending = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return out }
            out += buf[0..<n]
        }
    }
}
