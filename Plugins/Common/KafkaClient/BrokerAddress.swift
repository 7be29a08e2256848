/// A broker's `host:port`, as in `bootstrap.servers`.
public struct BrokerAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses `host:port` or `[ipv6]:port`.
    public init?(_ text: String) {
        let s = text.trimmingCharacters(inSet: " \t")
        let hostPart: Substring, portPart: Substring
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]"), s[s.index(after: close)...].hasPrefix(":") else { return nil }
            hostPart = s[s.index(after: s.startIndex)..<close]
            portPart = s[s.index(close, offsetBy: 2)...]
        } else {
            guard let colon = s.lastIndex(of: ":") else { return nil }
            hostPart = s[..<colon]
            portPart = s[s.index(after: colon)...]
        }
        guard !hostPart.isEmpty, let port = Int(portPart), (1...65535).contains(port) else { return nil }
        self.init(host: String(hostPart), port: port)
    }

    /// Parses a comma-separated list (`bootstrap.servers`); throws naming the
    /// first entry that is not `host:port`.
    public static func parseList(_ text: String) throws -> [BrokerAddress] {
        var out: [BrokerAddress] = []
        for item in text.split(separator: ",") {
            let entry = String(item).trimmingCharacters(inSet: " \t")
            if entry.isEmpty { continue }
            guard let a = BrokerAddress(entry) else {
                throw KafkaClientError(description: "'\(entry)' is not host:port")
            }
            out.append(a)
        }
        guard !out.isEmpty else { throw KafkaClientError(description: "no host:port given") }
        return out
    }
}

extension String {
    func trimmingCharacters(inSet set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
