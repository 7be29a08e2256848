import KafkaProtocol
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

public struct KafkaClientError: Error, CustomStringConvertible {
    public var description: String
    /// True for failures worth retrying after a pause: a broker that is
    /// unreachable, went away or did not answer in time.
    public var isRetriable: Bool

    public init(description: String, retriable: Bool = false) {
        self.description = description
        self.isRetriable = retriable
    }
}

/// One blocking connection to one Kafka broker, versions negotiated through
/// ApiVersions. It speaks only the wire protocol, so it works against Apache
/// Kafka as well as the Sluice broker.
///
/// Either one request at a time (`send`), or pipelined: `write` several
/// requests, then `receive` their responses in the same order (Kafka answers
/// the requests of one connection in order).
///
/// Not thread-safe: one thread uses a connection at a time. After any I/O
/// error or timeout the connection is closed (`isOpen` is false), because the
/// position in the response stream is no longer known.
public final class KafkaConnection {
    private var fd: Int32
    private var correlation: Int32 = 0
    private var versions: [Int16: ClosedRange<Int16>] = [:]
    /// Reused for every request frame written.
    private var out = ByteBufferAllocator().buffer(capacity: 4096)
    public let address: String
    public let clientId: String
    /// How long a response may take, from the moment `receive` starts waiting.
    public var requestTimeoutMs: Int

    /// Connects to the first `host:port` of `bootstrap` (the console tools' form).
    public convenience init(bootstrap: String, timeoutSeconds: Int = 10) throws {
        let parts = bootstrap.split(separator: ",")[0].split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else {
            throw KafkaClientError(description: "--bootstrap-server: '\(bootstrap)' is not host:port")
        }
        try self.init(host: String(parts[0]), port: Int(port), clientId: "sluice",
                      connectTimeoutMs: timeoutSeconds * 1000, requestTimeoutMs: timeoutSeconds * 1000)
    }

    /// Connects (giving up after `connectTimeoutMs`) and negotiates versions.
    public init(host: String, port: Int, clientId: String = "sluice",
                connectTimeoutMs: Int = 10_000, requestTimeoutMs: Int = 30_000) throws {
        address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        self.clientId = clientId
        self.requestTimeoutMs = requestTimeoutMs
        fd = try Self.connect(host: host, port: port, timeoutMs: connectTimeoutMs, address: address)
        let av: ApiVersionsResponse = try send(ApiVersionsRequest(), version: 0)
        guard av.errorCode == 0 else {
            close()
            throw KafkaClientError(description: "\(address): ApiVersions failed: \(kafkaErrorName(av.errorCode))")
        }
        for a in av.apiKeys { versions[a.apiKey] = a.minVersion...a.maxVersion }
    }

    deinit { close() }

    public var isOpen: Bool { fd >= 0 }

    /// Whether the broker closed the connection while it sat idle (brokers
    /// close idle connections after connections.max.idle.ms). Checked
    /// without blocking; meaningful only with no response outstanding.
    public var isClosedByPeer: Bool {
        guard fd >= 0 else { return true }
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        if n == 0 { return true }
        if n < 0 { return !(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) }
        return false
    }

    public func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// The highest version both sides speak.
    public func version<R: KafkaRequest>(_ type: R.Type, max ours: Int16) throws -> Int16 {
        guard let theirs = versions[R.apiKey] else {
            throw KafkaClientError(description: "\(address) does not support \(R.api.name)")
        }
        let v = min(ours, theirs.upperBound, R.validVersions.upperBound)
        guard v >= theirs.lowerBound else { throw KafkaClientError(description: "no common \(R.api.name) version") }
        return v
    }

    /// One request, one response.
    public func send<R: KafkaRequest, S: KafkaResponse>(_ request: R, version: Int16) throws -> S {
        let id = try write(request, version: version)
        return try receive(S.self, correlationId: id, version: version)
    }

    // MARK: Pipelining

    /// Writes a request without waiting for its response; returns its correlation id.
    @discardableResult
    public func write<R: KafkaRequest>(_ request: R, version: Int16) throws -> Int32 {
        try writeFrame(apiKey: R.apiKey, version: version) { try request.write(to: &$0, version: version) }
    }

    /// Writes a request frame whose body `body` encodes (for requests built
    /// by hand, such as a Produce request around ready-made record batches);
    /// returns its correlation id.
    @discardableResult
    public func writeFrame(apiKey: Int16, version: Int16, body: (inout ByteBuffer) throws -> Void) throws -> Int32 {
        guard fd >= 0 else { throw KafkaClientError(description: "connection to \(address) is closed", retriable: true) }
        correlation = correlation == Int32.max ? 1 : correlation + 1
        out.clear()
        let start = out.writerIndex
        out.writeInteger(Int32(0), endianness: .big)
        let header = RequestHeader(requestApiKey: apiKey, requestApiVersion: version, correlationId: correlation, clientId: clientId)
        try header.write(to: &out, version: RequestHeader.headerVersion(apiKey: apiKey, apiVersion: version))
        try body(&out)
        out.setInteger(Int32(truncatingIfNeeded: out.writerIndex - start - 4), at: start, endianness: .big)
        try writeAll(out)
        // Do not keep a huge buffer around after an unusually large request.
        if out.capacity > 8 << 20 { out = ByteBufferAllocator().buffer(capacity: 4096) }
        return correlation
    }

    /// Reads the next response, which must answer request `correlationId`.
    /// Waits at most `requestTimeoutMs`; `abort` is polled while waiting and
    /// ends the wait (closing the connection) when it returns true.
    public func receive<S: KafkaResponse>(_ type: S.Type, correlationId: Int32, version: Int16,
                                          abort: (() -> Bool)? = nil) throws -> S {
        let deadline = monotonicMillis() + Int64(requestTimeoutMs)
        var frame = try readFrame(deadline: deadline, abort: abort)
        do {
            let header = try ResponseHeader.read(from: &frame, apiKey: S.apiKey, apiVersion: version)
            guard header.correlationId == correlationId else {
                throw KafkaClientError(description: "\(address): response for request \(header.correlationId), expected \(correlationId)")
            }
            return try S(from: &frame, version: version)
        } catch {
            close()
            throw error
        }
    }

    // MARK: Socket

    private static func connect(host: String, port: Int, timeoutMs: Int, address: String) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &res)
        guard rc == 0, let first = res else {
            throw KafkaClientError(description: "cannot resolve \(host): \(String(cString: gai_strerror(rc)))", retriable: true)
        }
        defer { freeaddrinfo(res) }
        var lastError = ECONNREFUSED
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            ai = a.pointee.ai_next
            let s = socket(a.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if s < 0 { lastError = errno; continue }
            if connect(s, a.pointee.ai_addr, a.pointee.ai_addrlen, timeoutMs: timeoutMs) {
                var one: Int32 = 1
                setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                return s
            }
            lastError = errno
            Glibc.close(s)
        }
        let why = lastError == ETIMEDOUT ? "no connection within \(timeoutMs) ms" : String(cString: strerror(lastError))
        throw KafkaClientError(description: "cannot connect to \(address): \(why)", retriable: true)
    }

    /// A connect that gives up after `timeoutMs`; sets errno on failure.
    private static func connect(_ s: Int32, _ addr: UnsafeMutablePointer<sockaddr>, _ len: socklen_t, timeoutMs: Int) -> Bool {
        let flags = fcntl(s, F_GETFL)
        _ = fcntl(s, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(s, F_SETFL, flags) }
        if Glibc.connect(s, addr, len) == 0 { return true }
        guard errno == EINPROGRESS else { return false }
        let deadline = monotonicMillis() + Int64(timeoutMs)
        while true {
            var p = pollfd(fd: s, events: Int16(POLLOUT), revents: 0)
            let left = deadline - monotonicMillis()
            if left <= 0 { errno = ETIMEDOUT; return false }
            let n = poll(&p, 1, Int32(min(left, 1000)))
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return false }
            if n == 0 { continue }
            var err: Int32 = 0
            var errLen = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &errLen)
            if err != 0 { errno = err; return false }
            return true
        }
    }

    private func writeAll(_ buf: ByteBuffer) throws {
        try buf.withUnsafeReadableBytes { raw in
            var done = 0
            let deadline = monotonicMillis() + Int64(requestTimeoutMs)
            while done < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + done, raw.count - done, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                if n > 0 {
                    done += n
                    continue
                }
                let e = errno
                if n < 0 && e == EINTR { continue }
                if n < 0 && (e == EAGAIN || e == EWOULDBLOCK) {
                    try waitFor(Int16(POLLOUT), deadline: deadline, abort: nil, what: "sending to")
                    continue
                }
                close()
                throw KafkaClientError(description: "send to \(address): \(String(cString: strerror(e)))", retriable: true)
            }
        }
    }

    /// Waits until the socket is ready for `events`, the deadline passes or `abort` says stop.
    private func waitFor(_ events: Int16, deadline: Int64, abort: (() -> Bool)?, what: String) throws {
        while true {
            let left = deadline - monotonicMillis()
            if left <= 0 {
                close()
                throw KafkaClientError(description: "\(what) \(address): no progress within \(requestTimeoutMs) ms (request.timeout.ms)",
                                       retriable: true)
            }
            if let abort, abort() {
                close()
                throw KafkaClientError(description: "\(what) \(address): abandoned (stopping)", retriable: true)
            }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&p, 1, Int32(min(left, abort == nil ? 1000 : 100)))
            if n > 0 { return }
            if n < 0 && errno != EINTR {
                let e = errno
                close()
                throw KafkaClientError(description: "\(what) \(address): \(String(cString: strerror(e)))", retriable: true)
            }
        }
    }

    private func readExactly(_ n: Int, deadline: Int64, abort: (() -> Bool)?) throws -> ByteBuffer {
        var buf = ByteBufferAllocator().buffer(capacity: n)
        var left = n
        while left > 0 {
            guard fd >= 0 else { throw KafkaClientError(description: "connection to \(address) is closed", retriable: true) }
            var got = 0
            var e: Int32 = 0
            // The closure must not report a negative count to ByteBuffer.
            buf.writeWithUnsafeMutableBytes(minimumWritableBytes: left) { dst in
                got = recv(fd, dst.baseAddress, left, Int32(MSG_DONTWAIT))
                e = errno
                return max(0, got)
            }
            if got > 0 {
                left -= got
                continue
            }
            if got < 0 && e == EINTR { continue }
            if got < 0 && (e == EAGAIN || e == EWOULDBLOCK) {
                try waitFor(Int16(POLLIN), deadline: deadline, abort: abort, what: "waiting for")
                continue
            }
            close()
            throw KafkaClientError(description: got == 0 ? "\(address) closed the connection"
                                   : "no answer from \(address): \(String(cString: strerror(e)))", retriable: true)
        }
        return buf
    }

    private func readFrame(deadline: Int64, abort: (() -> Bool)?) throws -> ByteBuffer {
        var size = try readExactly(4, deadline: deadline, abort: abort)
        let n = Int(size.readInteger(as: Int32.self)!)
        guard n >= 0, n <= 256 << 20 else {
            close()
            throw KafkaClientError(description: "bad response size \(n) from \(address)")
        }
        return try readExactly(n, deadline: deadline, abort: abort)
    }
}

/// Milliseconds on the monotonic clock.
public func monotonicMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

