import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// Flume's `host` interceptor: sets `hostHeader` to this host's IPv4 address
/// (`useIP`, the default) or its host name (gethostname). The value is resolved
/// once, at configure time. When it cannot be resolved the interceptor logs a
/// warning and leaves events alone, as Flume does.
final class HostInterceptor: Interceptor {
    static let configKeys: [ConfigKey] = [
        ConfigKey("hostHeader", .string, default: "host", "Header that receives the host"),
        ConfigKey("useIP", .bool, default: "true", "true: the host's IPv4 address; false: its host name"),
        ConfigKey("preserveExisting", .bool, default: "false", "Keep the header when the event already has it"),
    ]

    private let headerKey: [UInt8]
    private let headerValue: [UInt8]?
    private let preserveExisting: Bool

    init(context: ComponentContext, properties: Properties) throws {
        headerKey = try headerNameBytes(properties, "hostHeader", default: "host")
        preserveExisting = try properties.bool("preserveExisting", default: false)
        let useIP = try properties.bool("useIP", default: true)
        let resolved = useIP ? LocalHost.primaryIPv4Address() : LocalHost.hostName()
        if let resolved {
            headerValue = Array(resolved.utf8)
            context.log(.debug, "host interceptor will set '\(String(decoding: headerKey, as: UTF8.self))' to '\(resolved)'")
        } else {
            headerValue = nil
            context.log(.warn, "could not determine this host's \(useIP ? "IPv4 address" : "name"); "
                + "events will pass without a host header")
        }
    }

    func intercept(_ batch: MutableBatch) throws {
        let count = batch.count
        guard count > 0, let headerValue else { return }
        let preserve = preserveExisting
        headerKey.withUnsafeBufferPointer { key in
            headerValue.withUnsafeBytes { value in
                for i in 0..<count {
                    if preserve && batch[i].headerBytes(key) != nil { continue }
                    batch.setHeader(i, key: key, value: value)
                }
            }
        }
    }
}

/// Looks up this machine's identity the way Java's
/// `InetAddress.getLocalHost()` roughly does, with a better IP fallback.
enum LocalHost {
    /// gethostname(2), or nil.
    static func hostName() -> String? {
        var buf = [CChar](repeating: 0, count: 256)
        let rc = buf.withUnsafeMutableBufferPointer { out -> Int32 in
            guard let base = out.baseAddress else { return -1 }
            return gethostname(base, out.count - 1)
        }
        guard rc == 0 else { return nil }
        let name = stringFromCBuffer(buf)
        return name.isEmpty ? nil : name
    }

    /// The address the host name resolves to when that is not a loopback
    /// address; else the first IPv4 address of an interface that is up and
    /// not loopback; else the loopback address the name resolved to.
    static func primaryIPv4Address() -> String? {
        var loopbackFallback: String? = nil
        if let name = hostName() {
            var hints = addrinfo()
            hints.ai_family = AF_INET
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var result: UnsafeMutablePointer<addrinfo>? = nil
            if getaddrinfo(name, nil, &hints, &result) == 0, let first = result {
                defer { freeaddrinfo(first) }
                var p: UnsafeMutablePointer<addrinfo>? = first
                while let ai = p {
                    if let sa = ai.pointee.ai_addr, Int(ai.pointee.ai_addrlen) >= MemoryLayout<sockaddr_in>.size,
                       let (text, loopback) = describeIPv4(sa) {
                        if !loopback { return text }
                        if loopbackFallback == nil { loopbackFallback = text }
                    }
                    p = ai.pointee.ai_next
                }
            }
        }
        var interfaces: UnsafeMutablePointer<ifaddrs>? = nil
        if getifaddrs(&interfaces) == 0, let first = interfaces {
            defer { freeifaddrs(first) }
            var p: UnsafeMutablePointer<ifaddrs>? = first
            while let ifa = p {
                let flags = UInt(ifa.pointee.ifa_flags)
                if flags & UInt(IFF_UP) != 0, flags & UInt(IFF_LOOPBACK) == 0,
                   let sa = ifa.pointee.ifa_addr, let (text, loopback) = describeIPv4(sa), !loopback {
                    return text
                }
                p = ifa.pointee.ifa_next
            }
        }
        return loopbackFallback
    }

    /// The text up to the first NUL (or the whole buffer).
    private static func stringFromCBuffer(_ buf: [CChar]) -> String {
        String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Dotted-quad text of an AF_INET socket address and whether it is in
    /// 127.0.0.0/8; nil for other families.
    private static func describeIPv4(_ sa: UnsafeMutablePointer<sockaddr>) -> (String, Bool)? {
        guard sa.pointee.sa_family == sa_family_t(AF_INET) else { return nil }
        var addr = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
        var buf = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN) + 1)
        let ok = buf.withUnsafeMutableBufferPointer { out in
            inet_ntop(AF_INET, &addr, out.baseAddress, socklen_t(INET_ADDRSTRLEN)) != nil
        }
        guard ok else { return nil }
        let text = stringFromCBuffer(buf)
        let loopback = UInt32(bigEndian: addr.s_addr) >> 24 == 127
        return (text, loopback)
    }
}
