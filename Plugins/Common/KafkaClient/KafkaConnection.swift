import KafkaProtocol
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

public struct KafkaClientError: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

/// One blocking connection to one Kafka broker: one request at a time,
/// versions negotiated through ApiVersions. It speaks only the wire
/// protocol, so it works against Apache Kafka as well as the Sluice broker.
/// Not thread-safe: one thread uses a connection at a time.
public final class KafkaConnection {
    private let fd: Int32
    private var correlation: Int32 = 0
    private var versions: [Int16: ClosedRange<Int16>] = [:]
    public let address: String

    public init(bootstrap: String, timeoutSeconds: Int = 10) throws {
        address = bootstrap
        let parts = bootstrap.split(separator: ",")[0].split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else {
            throw KafkaClientError(description: "--bootstrap-server: '\(bootstrap)' is not host:port")
        }
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(String(parts[0]), String(port), &hints, &res) == 0, let ai = res else {
            throw KafkaClientError(description: "cannot resolve \(parts[0])")
        }
        defer { freeaddrinfo(res) }
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 else {
            let e = String(cString: strerror(errno))
            close(fd)
            throw KafkaClientError(description: "cannot connect to \(bootstrap): \(e)")
        }
        let av: ApiVersionsResponse = try send(ApiVersionsRequest(), version: 0)
        for a in av.apiKeys { versions[a.apiKey] = a.minVersion...a.maxVersion }
    }

    deinit { close(fd) }

    /// The highest version both sides speak.
    public func version<R: KafkaRequest>(_ type: R.Type, max ours: Int16) throws -> Int16 {
        guard let theirs = versions[R.apiKey] else {
            throw KafkaClientError(description: "\(address) does not support \(R.api.name)")
        }
        let v = min(ours, theirs.upperBound, R.validVersions.upperBound)
        guard v >= theirs.lowerBound else { throw KafkaClientError(description: "no common \(R.api.name) version") }
        return v
    }

    public func send<R: KafkaRequest, S: KafkaResponse>(_ request: R, version: Int16) throws -> S {
        correlation += 1
        var out = ByteBufferAllocator().buffer(capacity: 256)
        try request.writeFrame(to: &out, version: version, correlationId: correlation, clientId: "sluice")
        try writeAll(out)
        var frame = try readFrame()
        let header = try ResponseHeader.read(from: &frame, apiKey: R.apiKey, apiVersion: version)
        guard header.correlationId == correlation else {
            throw KafkaClientError(description: "response for request \(header.correlationId), expected \(correlation)")
        }
        return try S(from: &frame, version: version)
    }

    private func writeAll(_ buf: ByteBuffer) throws {
        try buf.withUnsafeReadableBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + done, raw.count - done, Int32(MSG_NOSIGNAL))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw KafkaClientError(description: "send to \(address): \(String(cString: strerror(errno)))") }
                done += n
            }
        }
    }

    private func readExactly(_ n: Int) throws -> ByteBuffer {
        var buf = ByteBufferAllocator().buffer(capacity: n)
        var left = n
        while left > 0 {
            let got = buf.writeWithUnsafeMutableBytes(minimumWritableBytes: left) { dst in
                recv(fd, dst.baseAddress, left, 0)
            }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else {
                throw KafkaClientError(description: got == 0 ? "\(address) closed the connection" : "no answer from \(address): \(String(cString: strerror(errno)))")
            }
            left -= got
        }
        return buf
    }

    private func readFrame() throws -> ByteBuffer {
        var size = try readExactly(4)
        let n = Int(size.readInteger(as: Int32.self)!)
        guard n >= 0, n <= 256 << 20 else { throw KafkaClientError(description: "bad response size \(n)") }
        return try readExactly(n)
    }
}

/// Kafka's error code names, for messages.
public func kafkaErrorName(_ code: Int16) -> String {
    let names: [Int16: String] = [0: "NONE", 1: "OFFSET_OUT_OF_RANGE", 3: "UNKNOWN_TOPIC_OR_PARTITION", 7: "REQUEST_TIMED_OUT",
                                  10: "MESSAGE_TOO_LARGE", 17: "INVALID_TOPIC_EXCEPTION", 35: "UNSUPPORTED_VERSION",
                                  36: "TOPIC_ALREADY_EXISTS", 37: "INVALID_PARTITIONS", 38: "INVALID_REPLICATION_FACTOR",
                                  41: "NOT_CONTROLLER", 42: "INVALID_REQUEST", -1: "UNKNOWN_SERVER_ERROR"]
    return names[code] ?? "error \(code)"
}
