import KafkaProtocol

public enum KafkaLogLevel: Sendable {
    case debug, info, warn, error
}

/// What happened to a broker connection (for a caller's counters).
public enum ConnectionEvent: Sendable {
    case opened, closed, failed
}

/// The connections of one client to one cluster: at most one per broker
/// node, opened when first needed, plus the metadata that maps nodes to
/// addresses and partitions to leaders. Not thread-safe.
final class BrokerConnections {
    let bootstrap: [BrokerAddress]
    let clientId: String
    let connectTimeoutMs: Int
    let requestTimeoutMs: Int
    private(set) var metadata = ClusterMetadata()
    private var byNode: [Int32: KafkaConnection] = [:]
    /// A connection opened to a bootstrap address, kept until metadata says which node it is.
    private var spare: KafkaConnection?
    var log: (KafkaLogLevel, String) -> Void = { _, _ in }
    var onEvent: (ConnectionEvent) -> Void = { _ in }

    init(bootstrap: [BrokerAddress], clientId: String, connectTimeoutMs: Int, requestTimeoutMs: Int) {
        self.bootstrap = bootstrap
        self.clientId = clientId
        self.connectTimeoutMs = connectTimeoutMs
        self.requestTimeoutMs = requestTimeoutMs
    }

    deinit { closeAll() }

    /// The open connection to `node`, connecting if needed. `idle`: no
    /// response is outstanding on it, so one the broker closed meanwhile is
    /// replaced now rather than failing the next request.
    func connection(_ node: Int32, idle: Bool = false) throws -> KafkaConnection {
        if let c = byNode[node], c.isOpen, !(idle && c.isClosedByPeer) { return c }
        if let c = byNode.removeValue(forKey: node) {
            c.close()
            onEvent(.closed)
        }
        guard let address = metadata.brokers[node] else {
            throw KafkaClientError(description: "broker \(node) is not in the metadata", retriable: true)
        }
        let c = try open(address)
        byNode[node] = c
        return c
    }

    /// Any open connection, or a new one to some broker (for requests any broker answers).
    func anyConnection() throws -> KafkaConnection {
        if let c = byNode.values.first(where: { $0.isOpen && !$0.isClosedByPeer }) { return c }
        var lastError: Error = KafkaClientError(description: "no broker known", retriable: true)
        for node in metadata.brokers.keys.sorted() {
            do { return try connection(node, idle: true) } catch { lastError = error }
        }
        throw lastError
    }

    /// Closes the connection to `node` (after an error: its stream position is lost).
    func drop(_ node: Int32) {
        if let c = byNode.removeValue(forKey: node) {
            c.close()
            onEvent(.closed)
        }
    }

    func closeAll() {
        for node in Array(byNode.keys) { drop(node) }
        if let s = spare {
            s.close()
            spare = nil
            onEvent(.closed)
        }
    }

    /// Fetches metadata for `topics` (creating them if the broker
    /// auto-creates topics, as a producer's metadata request allows): from a
    /// connected broker, else any known broker, else the bootstrap servers.
    func refresh(topics: [String], abort: (() -> Bool)?) throws {
        var lastError: Error = KafkaClientError(description: "no broker reachable", retriable: true)
        var tried = Set<BrokerAddress>()
        let connected = byNode.filter { $0.value.isOpen }.keys.sorted()
        let known = metadata.brokers.keys.sorted().filter { !connected.contains($0) }
        for node in connected + known {
            guard let address = metadata.brokers[node] else { continue }
            tried.insert(address)
            do {
                let c = try connection(node, idle: true)
                try fetchMetadata(c, topics: topics, abort: abort)
                return
            } catch {
                drop(node)
                lastError = error
            }
        }
        for address in bootstrap where !tried.contains(address) {
            do {
                let c = try spareConnection(address)
                try fetchMetadata(c, topics: topics, abort: abort)
                adoptSpare()
                return
            } catch {
                if let s = spare {
                    s.close()
                    spare = nil
                    onEvent(.closed)
                }
                lastError = error
            }
        }
        throw lastError
    }

    private func fetchMetadata(_ c: KafkaConnection, topics: [String], abort: (() -> Bool)?) throws {
        let v = try c.version(MetadataRequest.self, max: 12)
        var req = MetadataRequest()
        req.topics = topics.map { MetadataRequest.MetadataRequestTopic(name: $0) }
        if v >= 4 { req.allowAutoTopicCreation = true }
        let id = try c.write(req, version: v)
        let resp = try c.receive(MetadataResponse.self, correlationId: id, version: v, abort: abort)
        let fresh = ClusterMetadata(resp, fetchedAt: monotonicMillis())
        guard !fresh.brokers.isEmpty else {
            throw KafkaClientError(description: "\(c.address) returned metadata without brokers", retriable: true)
        }
        metadata = metadata.merging(fresh)
        // A broker whose address changed gets a new connection when next needed.
        for (node, conn) in byNode where metadata.brokers[node].map({ "\($0)" }) != conn.address {
            drop(node)
        }
    }

    private func spareConnection(_ address: BrokerAddress) throws -> KafkaConnection {
        if let s = spare, s.isOpen, s.address == "\(address)" { return s }
        if let s = spare {
            s.close()
            spare = nil
            onEvent(.closed)
        }
        let c = try open(address)
        spare = c
        return c
    }

    /// Keeps the bootstrap connection as a node's connection when the
    /// metadata names a broker at the same address.
    private func adoptSpare() {
        guard let s = spare else { return }
        if let node = metadata.brokers.first(where: { "\($0.value)" == s.address })?.key, byNode[node]?.isOpen != true {
            byNode[node] = s
            spare = nil
        }
    }

    private func open(_ address: BrokerAddress) throws -> KafkaConnection {
        do {
            let c = try KafkaConnection(host: address.host, port: address.port, clientId: clientId,
                                        connectTimeoutMs: connectTimeoutMs, requestTimeoutMs: requestTimeoutMs)
            onEvent(.opened)
            log(.debug, "connected to \(address)")
            return c
        } catch {
            onEvent(.failed)
            throw error
        }
    }
}
