import CTLSClient
import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// A `webhdfs://host:port` or `swebhdfs://host:port` destination.
struct WebHDFSTarget {
    let host: String
    let port: Int
    /// swebhdfs: HTTPS to the NameNode (and to the DataNodes it redirects to).
    var tls = false
    /// PEM file (or hashed directory) of the CAs to trust, from
    /// `hdfs.webhdfs.ssl.caFile`; nil: the system's trust store.
    var caFile: String? = nil
    /// `user.name` on every request (security off), from `hdfs.webhdfs.user`.
    let user: String?
    /// `doas` on every request (a proxy user), from `hdfs.proxyUser`.
    let proxyUser: String?
}

struct HTTPResponse {
    let status: Int
    let headers: [(String, String)]
    let body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    var text: String { String(decoding: body, as: UTF8.self) }
}

/// WebHDFS REST calls (CREATE, APPEND, RENAME, MKDIRS, GETFILESTATUS) over a
/// blocking HTTP/1.1 client: one request per connection (`Connection:
/// close`), one request at a time, each bounded by `hdfs.callTimeout`.
/// Errors carry the operation, the path and the server's RemoteException.
final class WebHDFSClient {
    let target: WebHDFSTarget
    let timeoutMillis: Int
    /// The TLS settings every HTTPS connection shares (swebhdfs).
    private let tls: OpaquePointer?

    init(target: WebHDFSTarget, timeoutMillis: Int) throws {
        self.target = target
        self.timeoutMillis = timeoutMillis
        if target.tls {
            var err = [CChar](repeating: 0, count: 512)
            guard let ctx = sluice_tls_ctx_new(target.caFile, 1, &err, err.count) else {
                throw SluiceError.config("swebhdfs: \(String(cString: err)) (hdfs.webhdfs.ssl.caFile)")
            }
            tls = ctx
        } else {
            tls = nil
        }
    }

    deinit { if let tls { sluice_tls_ctx_free(tls) } }

    var description: String { "\(target.tls ? "swebhdfs" : "webhdfs")://\(target.host):\(target.port)" }

    private func query(_ op: String, _ extra: [(String, String)]) -> String {
        var items = [("op", op)] + extra
        if let u = target.user { items.append(("user.name", u)) }
        if let d = target.proxyUser { items.append(("doas", d)) }
        return items.map { "\($0.0)=\(percentEncode($0.1))" }.joined(separator: "&")
    }

    private func nnPath(_ path: String, _ op: String, _ extra: [(String, String)] = []) -> String {
        let p = path.hasPrefix("/") ? path : "/" + path
        return "/webhdfs/v1" + percentEncode(p, keepSlash: true) + "?" + query(op, extra)
    }

    /// Creates `path` with `data` (two steps: namenode → 307 → datanode → 201).
    func create(_ path: String, _ data: [UInt8]) throws {
        try twoStep("PUT", "CREATE", path, [("overwrite", "false"), ("permission", "644")], data, expect: [200, 201])
    }

    /// Appends `data` to `path` (POST, two steps; the datanode answers 200).
    func append(_ path: String, _ data: [UInt8]) throws {
        try twoStep("POST", "APPEND", path, [], data, expect: [200])
    }

    func mkdirs(_ path: String) throws {
        let r = try nameNode("PUT", nnPath(path, "MKDIRS", [("permission", "755")]), op: "MKDIRS", path: path)
        try check(r, [200], "MKDIRS", path)
        if !r.text.contains("true") {
            throw SluiceError.io("WebHDFS MKDIRS \(path) on \(description) answered \(r.text)")
        }
    }

    /// nil when the path does not exist, else its type (FILE / DIRECTORY).
    func fileType(_ path: String) throws -> String? {
        let r = try nameNode("GET", nnPath(path, "GETFILESTATUS"), op: "GETFILESTATUS", path: path)
        if r.status == 404 { return nil }
        try check(r, [200], "GETFILESTATUS", path)
        if r.text.contains("\"DIRECTORY\"") { return "DIRECTORY" }
        return "FILE"
    }

    /// The whole content of `path` (two steps: NameNode → 307 → DataNode → 200).
    func read(_ path: String) throws -> [UInt8] {
        try twoStep("GET", "OPEN", path, [], [], expect: [200]).body
    }

    func delete(_ path: String) throws {
        let r = try nameNode("DELETE", nnPath(path, "DELETE"), op: "DELETE", path: path)
        try check(r, [200], "DELETE", path)
    }

    /// Cuts `path` back to `length` bytes (what a failed APPEND may have
    /// stored in part). False when the NameNode must first recover the
    /// last block (it answers `false`): the file then stays as it is.
    func truncate(_ path: String, to length: Int64) throws -> Bool {
        let r = try nameNode("POST", nnPath(path, "TRUNCATE", [("newlength", String(length))]), op: "TRUNCATE", path: path)
        try check(r, [200], "TRUNCATE", path)
        return r.text.contains("true")
    }

    /// The entries of a directory: (name, isDirectory); empty when it does not exist.
    func list(_ path: String) throws -> [(name: String, isDirectory: Bool)] {
        let r = try nameNode("GET", nnPath(path, "LISTSTATUS"), op: "LISTSTATUS", path: path)
        if r.status == 404 { return [] }
        try check(r, [200], "LISTSTATUS", path)
        // Each entry is a flat FileStatus object: take the innermost {…} pieces
        // that name a pathSuffix.
        return r.text.split(separator: "}").compactMap { piece in
            let object = String(piece[(piece.lastIndex(of: "{").map { piece.index(after: $0) } ?? piece.startIndex)...])
            guard let name = jsonString(object, key: "pathSuffix"), !name.isEmpty else { return nil }
            return (name, jsonString(object, key: "type") == "DIRECTORY")
        }
    }

    /// nil on success, else the reason (the destination exists, the source is gone, …).
    func rename(_ from: String, _ to: String) -> String? {
        do {
            let r = try nameNode("PUT", nnPath(from, "RENAME", [("destination", to)]), op: "RENAME", path: from)
            try check(r, [200], "RENAME", from)
            if r.text.contains("true") { return nil }
            return "WebHDFS RENAME \(from) to \(to) answered false (does \(to) exist already?)"
        } catch {
            return "\(error)"
        }
    }

    @discardableResult
    private func twoStep(_ method: String, _ op: String, _ path: String, _ extra: [(String, String)], _ data: [UInt8], expect: Set<Int>) throws -> HTTPResponse {
        let first = try nameNode(method, nnPath(path, op, extra), op: op, path: path)
        var location: String?
        if first.status == 307 || first.status == 302 || first.status == 303 {
            location = first.header("Location")
        } else if first.status == 200, let r = jsonString(first.text, key: "Location") {
            location = r // noredirect=true style answers
        } else {
            try check(first, [307], op, path)
        }
        guard let loc = location, let url = parseHTTPURL(loc) else {
            throw SluiceError.io("WebHDFS \(op) \(path) on \(description): HTTP \(first.status) without a usable redirect Location (\(first.header("Location") ?? "none"))")
        }
        if target.tls && !url.tls {
            // The data would cross the network unencrypted.
            throw SluiceError.io("WebHDFS \(op) \(path) on \(description): the NameNode redirects to plain http (\(loc)); refusing to send data without TLS")
        }
        let second = try call(method, url.host, url.port, url.pathAndQuery, data, op: op, path: path, tls: url.tls)
        try check(second, expect, op, path)
        return second
    }

    private func check(_ r: HTTPResponse, _ ok: Set<Int>, _ op: String, _ path: String) throws {
        guard !ok.contains(r.status) else { return }
        var message = "WebHDFS \(op) \(path) on \(description) failed with HTTP \(r.status)"
        if let exception = jsonString(r.text, key: "exception") { message += ": \(exception)" }
        if let text = jsonString(r.text, key: "message") { message += ": \(text)" }
        switch r.status {
        case 401, 403: message += " (permission denied; check hdfs.webhdfs.user / hdfs.proxyUser)"
        case 404: message += " (not found)"
        default: break
        }
        throw SluiceError.io(message)
    }

    /// A NameNode request (no data sent yet, safe to repeat): up to 3 tries
    /// 250 ms apart when the connection fails or the answer is a 5xx.
    func nameNode(_ method: String, _ target: String, op: String, path: String) throws -> HTTPResponse {
        var attempt = 0
        while true {
            attempt += 1
            do {
                let r = try call(method, self.target.host, self.target.port, target, [], op: op, path: path, tls: self.target.tls)
                if r.status >= 500 && attempt < 3 {
                    usleep(250_000)
                    continue
                }
                return r
            } catch {
                if attempt >= 3 { throw error }
                usleep(250_000)
            }
        }
    }

    /// One HTTP/1.1 exchange on a new connection (HTTPS when `tls`).
    func call(_ method: String, _ host: String, _ port: Int, _ target: String, _ body: [UInt8], op: String, path: String,
              tls useTLS: Bool) throws -> HTTPResponse {
        let fd = try connectTo(host, port, op: op, path: path)
        defer { close(fd) }
        let where_ = "WebHDFS \(op) \(path) on \(host):\(port)"
        let link: Link
        if useTLS {
            guard let ctx = tls else {
                throw SluiceError.io("\(where_): the NameNode redirects to https, but hdfs.path is webhdfs:// (use swebhdfs://)")
            }
            var err = [CChar](repeating: 0, count: 512)
            guard let conn = sluice_tls_connect(ctx, fd, host, Int32(clamping: timeoutMillis), &err, err.count) else {
                throw SluiceError.io("\(where_): \(String(cString: err))")
            }
            link = .tls(conn)
        } else {
            link = .plain(fd)
        }
        defer { if case .tls(let conn) = link { sluice_tls_close(conn) } }
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\nUser-Agent: sluice-hdfs-sink\r\n"
        head += "Content-Length: \(body.count)\r\n"
        if !body.isEmpty { head += "Content-Type: application/octet-stream\r\n" }
        head += "\r\n"
        try sendAll(link, Array(head.utf8), where_)
        if !body.isEmpty { try sendAll(link, body, where_) }
        var raw: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = try receive(link, &buf, where_)
            if n == 0 { break }
            raw += buf[0..<n]
        }
        return try parseResponse(raw, where_)
    }

    /// A connection's byte stream: the socket itself or TLS over it.
    private enum Link {
        case plain(Int32)
        case tls(OpaquePointer)
    }

    private func sendAll(_ link: Link, _ bytes: [UInt8], _ where_: String) throws {
        switch link {
        case .tls(let conn):
            var err = [CChar](repeating: 0, count: 512)
            let n = bytes.withUnsafeBytes { sluice_tls_write(conn, $0.baseAddress, $0.count, Int32(clamping: timeoutMillis), &err, err.count) }
            if n < 0 { throw SluiceError.io("\(where_): \(String(cString: err))") }
        case .plain(let fd):
            var done = 0
            try bytes.withUnsafeBytes { p in
                while done < p.count {
                    let n = send(fd, p.baseAddress! + done, p.count - done, Int32(MSG_NOSIGNAL))
                    if n > 0 { done += n; continue }
                    if n < 0 && errno == EINTR { continue }
                    if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                        throw SluiceError.io("\(where_): send timed out (hdfs.callTimeout \(timeoutMillis) ms)")
                    }
                    throw SluiceError.io("\(where_): send failed: \(errnoText())")
                }
            }
        }
    }

    /// Bytes read into `buf`; 0 at the end of the answer.
    private func receive(_ link: Link, _ buf: inout [UInt8], _ where_: String) throws -> Int {
        switch link {
        case .tls(let conn):
            var err = [CChar](repeating: 0, count: 512)
            let n = buf.withUnsafeMutableBytes { sluice_tls_read(conn, $0.baseAddress, $0.count, Int32(clamping: timeoutMillis), &err, err.count) }
            if n < 0 { throw SluiceError.io("\(where_): \(String(cString: err))") }
            return n
        case .plain(let fd):
            while true {
                let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n >= 0 { return n }
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    throw SluiceError.io("\(where_): no answer within hdfs.callTimeout (\(timeoutMillis) ms)")
                }
                throw SluiceError.io("\(where_): \(errnoText())")
            }
        }
    }

    private func connectTo(_ host: String, _ port: Int, op: String, path: String) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &res)
        guard rc == 0, let first = res else {
            throw SluiceError.io("WebHDFS \(op) \(path): cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(res) }
        var lastError = ECONNREFUSED
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
            if fd >= 0 {
                var tv = timeval(tv_sec: timeoutMillis / 1000, tv_usec: (timeoutMillis % 1000) * 1000)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                if connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 { return fd }
                lastError = errno
                close(fd)
            }
            ai = a.pointee.ai_next
        }
        throw SluiceError.io("WebHDFS \(op) \(path): cannot connect to \(host):\(port): \(errnoText(lastError))")
    }

    private func parseResponse(_ raw: [UInt8], _ where_: String) throws -> HTTPResponse {
        var headerEnd = -1
        if raw.count >= 4 {
            for i in 0...(raw.count - 4) where raw[i] == 13 && raw[i + 1] == 10 && raw[i + 2] == 13 && raw[i + 3] == 10 {
                headerEnd = i
                break
            }
        }
        guard headerEnd >= 0 else { throw SluiceError.io("\(where_): connection closed without a complete HTTP answer") }
        // Split on bytes: in Swift, "\r\n" is one Character.
        let lines = raw[0..<headerEnd].split(separator: 10, omittingEmptySubsequences: false)
            .map { String(decoding: $0.last == 13 ? $0.dropLast() : $0, as: UTF8.self) }
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/"), let status = Int(statusParts[1]) else {
            throw SluiceError.io("\(where_): not an HTTP answer: \(lines[0])")
        }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingSpaces))
        }
        var body = Array(raw[(headerEnd + 4)...])
        let r0 = HTTPResponse(status: status, headers: headers, body: [])
        if r0.header("Transfer-Encoding")?.lowercased().contains("chunked") == true {
            body = dechunk(body)
        } else if let len = r0.header("Content-Length").flatMap({ Int($0) }) {
            // Over TLS a cut connection can look like a clean end: count the bytes.
            guard len <= body.count else {
                throw SluiceError.io("\(where_): answer cut short (\(body.count) of \(len) body bytes)")
            }
            body = Array(body[0..<len])
        }
        return HTTPResponse(status: status, headers: headers, body: body)
    }

    private func dechunk(_ b: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var at = 0
        while at < b.count {
            var lineEnd = at
            while lineEnd + 1 < b.count && !(b[lineEnd] == 13 && b[lineEnd + 1] == 10) { lineEnd += 1 }
            let sizeText = String(decoding: b[at..<lineEnd], as: UTF8.self).split(separator: ";").first.map(String.init) ?? ""
            guard let size = Int(sizeText.trimmingSpaces, radix: 16), size > 0 else { break }
            let start = lineEnd + 2
            guard start + size <= b.count else { break }
            out += b[start..<(start + size)]
            at = start + size + 2
        }
        return out
    }
}

/// `"key" : "value"` in a small JSON text (RemoteException fields, Location).
func jsonString(_ text: String, key: String) -> String? {
    let chars = Array(text), needle = Array("\"\(key)\"")
    guard chars.count >= needle.count,
          let start = (0...(chars.count - needle.count)).first(where: { Array(chars[$0..<($0 + needle.count)]) == needle }) else { return nil }
    var rest = chars[(start + needle.count)...].drop { $0 == " " || $0 == ":" || $0 == "\t" }
    guard rest.first == "\"" else { return nil }
    rest = rest.dropFirst()
    var out = ""
    var escaped = false
    for c in rest {
        if escaped { out.append(c); escaped = false; continue }
        if c == "\\" { escaped = true; continue }
        if c == "\"" { return out }
        out.append(c)
    }
    return nil
}

struct HTTPURL {
    let host: String
    let port: Int
    let pathAndQuery: String
    let tls: Bool
}

/// `http://host[:port]/path?query` or `https://…`.
func parseHTTPURL(_ s: String) -> HTTPURL? {
    let lower = s.lowercased()
    guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else { return nil }
    let tls = lower.hasPrefix("https://")
    let rest = s.dropFirst(tls ? "https://".count : "http://".count)
    let slash = rest.firstIndex(of: "/") ?? rest.endIndex
    let authority = rest[..<slash]
    var host = String(authority), port = tls ? 443 : 80
    if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
        host = String(authority[authority.index(after: authority.startIndex)..<close])
        let after = authority[authority.index(after: close)...]
        if after.hasPrefix(":"), let p = Int(after.dropFirst()) { port = p }
    } else if let colon = authority.lastIndex(of: ":") {
        host = String(authority[..<colon])
        guard let p = Int(authority[authority.index(after: colon)...]) else { return nil }
        port = p
    }
    let path = slash == rest.endIndex ? "/" : String(rest[slash...])
    return HTTPURL(host: host, port: port, pathAndQuery: path, tls: tls)
}

func percentEncode(_ s: String, keepSlash: Bool = false) -> String {
    var out = ""
    for b in s.utf8 {
        let c = Character(Unicode.Scalar(b))
        if (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || "-_.~".contains(c) || (keepSlash && b == 0x2f) {
            out.append(c)
        } else {
            let hex = Array("0123456789ABCDEF")
            out += "%" + String(hex[Int(b >> 4)]) + String(hex[Int(b & 15)])
        }
    }
    return out
}
