import NIOConcurrencyHelpers
import KafkaProtocol
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

extension KafkaErrorCode {
    static func needsNewCoordinator(_ c: Int16) -> Bool {
        c == coordinatorNotAvailable || c == notCoordinator || c == coordinatorLoadInProgress
    }
}

/// A member of a classic consumer group: finds the coordinator, joins
/// (with the MEMBER_ID_REQUIRED round trip), assigns partitions when it is
/// the leader, syncs, heartbeats from its own thread on its own
/// connection, commits and fetches offsets, and leaves.
///
/// Threading: every method but the heartbeat thread's runs on the
/// consumer's thread; the two share only `state`, behind `lock`.
final class GroupMembership: @unchecked Sendable {
    struct State {
        var memberId = ""
        var generation: Int32 = -1
        /// Set by the heartbeat thread (or a failed commit): rejoin before the next fetch.
        var rejoinNeeded = true
        var stopped = false
        var lastHeartbeatOK: Int64 = 0
    }

    let config: ConsumerConfig
    let log: (KafkaLogLevel, String) -> Void
    private let lock = NIOLock()
    private var state = State()
    /// Written by the consumer thread, read by the heartbeat thread (under `lock`).
    private var coordinator: BrokerAddress?
    /// The consumer thread's connection to the coordinator.
    private var conn: KafkaConnection?
    private var heartbeatThread: pthread_t?

    /// Polled while waiting: true ends waits and retries (the host is stopping).
    let shouldStop: (() -> Bool)?

    init(config: ConsumerConfig, shouldStop: (() -> Bool)?, log: @escaping (KafkaLogLevel, String) -> Void) {
        self.config = config
        self.shouldStop = shouldStop
        self.log = log
    }

    var rejoinNeeded: Bool { lock.withLock { state.rejoinNeeded } }

    func requestRejoin() { lock.withLock { state.rejoinNeeded = true } }

    // MARK: Coordinator

    /// The coordinator's connection, looked up with FindCoordinator first.
    func coordinatorConnection(_ brokers: BrokerConnections) throws -> KafkaConnection {
        if let c = conn, c.isOpen { return c }
        conn = nil
        if brokers.metadata.brokers.isEmpty { try brokers.refresh(topics: [], abort: shouldStop) }
        let any = try brokers.anyConnection()
        let v = try any.version(FindCoordinatorRequest.self, max: 3)
        var req = FindCoordinatorRequest()
        req.key = config.groupId
        let resp: FindCoordinatorResponse = try any.send(req, version: v)
        guard resp.errorCode == 0 else {
            throw KafkaClientError(description: "FindCoordinator for group \(config.groupId): \(kafkaErrorName(resp.errorCode))",
                                   retriable: true)
        }
        let address = BrokerAddress(host: resp.host, port: Int(resp.port))
        let c = try KafkaConnection(host: address.host, port: address.port, clientId: config.clientId,
                                    connectTimeoutMs: config.connectTimeoutMs, requestTimeoutMs: config.requestTimeoutMs)
        let previous = lock.withLock { () -> BrokerAddress? in
            defer { coordinator = address }
            return coordinator
        }
        if previous != address { log(.info, "group \(config.groupId): coordinator is broker \(resp.nodeId) at \(address)") }
        conn = c
        return c
    }

    private func lostCoordinator() {
        conn?.close()
        conn = nil
    }

    // MARK: Join and sync

    /// Joins (or rejoins) the group; returns this member's assignment.
    /// `metadataFor` gives the partition counts of topics (leader only).
    func join(brokers: BrokerConnections, topics: [String],
              partitionCounts: ([String]) throws -> [String: Int]) throws -> [String: [Int32]] {
        var attempts = 0
        while true {
            attempts += 1
            if shouldStop?() == true { throw KafkaClientError(description: "stopping") }
            do {
                if let a = try joinOnce(brokers: brokers, topics: topics, partitionCounts: partitionCounts) { return a }
            } catch let e as KafkaClientError where e.isRetriable {
                // Keep trying (a broker restarting is normal); the caller's
                // poll reports the error once the back-off grows long.
                if attempts % 10 == 1 { log(.warn, "group \(config.groupId): \(e.description); retrying") }
                lostCoordinator()
                var waited = 0
                let pause = min(5000, config.retryBackoffMs * attempts)
                while waited < pause && shouldStop?() != true {
                    usleep(50_000)
                    waited += 50
                }
            }
        }
    }

    /// One JoinGroup + SyncGroup round; nil when the group asks to try again.
    private func joinOnce(brokers: BrokerConnections, topics: [String],
                          partitionCounts: ([String]) throws -> [String: Int]) throws -> [String: [Int32]]? {
        let c = try coordinatorConnection(brokers)
        let jv = try c.version(JoinGroupRequest.self, max: 7)
        var subscription = ConsumerProtocolSubscription()
        subscription.topics = topics
        var md = ByteBufferAllocator().buffer(capacity: 64)
        try subscription.writeVersionPrefixed(to: &md, version: 0)
        let metadata = Array(md.readableBytesView)
        var req = JoinGroupRequest()
        req.groupId = config.groupId
        req.sessionTimeoutMs = Int32(config.sessionTimeoutMs)
        if jv >= 1 { req.rebalanceTimeoutMs = Int32(config.maxPollIntervalMs) }
        req.memberId = lock.withLock { state.memberId }
        req.protocolType = "consumer"
        req.protocols = config.assignors.map { JoinGroupRequest.JoinGroupRequestProtocol(name: $0.rawValue, metadata: metadata) }
        // JoinGroup waits for every member: up to the rebalance timeout.
        c.requestTimeoutMs = config.maxPollIntervalMs + 5000
        defer { c.requestTimeoutMs = config.requestTimeoutMs }
        let jr: JoinGroupResponse
        do {
            let id = try c.write(req, version: jv)
            jr = try c.receive(JoinGroupResponse.self, correlationId: id, version: jv, abort: shouldStop)
        } catch { lostCoordinator(); throw retriable(error) }
        switch jr.errorCode {
        case 0: break
        case KafkaErrorCode.memberIdRequired:
            lock.withLock { state.memberId = jr.memberId }
            return nil
        case KafkaErrorCode.unknownMemberId, KafkaErrorCode.illegalGeneration:
            lock.withLock { state.memberId = ""; state.generation = -1 }
            return nil
        case KafkaErrorCode.rebalanceInProgress:
            return nil
        case let code where KafkaErrorCode.needsNewCoordinator(code):
            lostCoordinator()
            return nil
        default:
            throw KafkaClientError(description: "JoinGroup \(config.groupId): \(kafkaErrorName(jr.errorCode))")
        }
        lock.withLock {
            state.memberId = jr.memberId
            state.generation = jr.generationId
        }
        var assignments: [SyncGroupRequest.SyncGroupRequestAssignment] = []
        if jr.leader == jr.memberId {
            assignments = try leaderAssign(jr, partitionCounts: partitionCounts)
        }
        let sv = try c.version(SyncGroupRequest.self, max: 5)
        var sync = SyncGroupRequest()
        sync.groupId = config.groupId
        sync.generationId = jr.generationId
        sync.memberId = jr.memberId
        if sv >= 5 {
            sync.protocolType = "consumer"
            sync.protocolName = jr.protocolName
        }
        sync.assignments = assignments
        let sr: SyncGroupResponse
        do { sr = try c.send(sync, version: sv) } catch { lostCoordinator(); throw retriable(error) }
        switch sr.errorCode {
        case 0: break
        case KafkaErrorCode.rebalanceInProgress: return nil
        case KafkaErrorCode.unknownMemberId, KafkaErrorCode.illegalGeneration:
            lock.withLock { state.memberId = ""; state.generation = -1 }
            return nil
        case let code where KafkaErrorCode.needsNewCoordinator(code):
            lostCoordinator()
            return nil
        default:
            throw KafkaClientError(description: "SyncGroup \(config.groupId): \(kafkaErrorName(sr.errorCode))")
        }
        var mine: [String: [Int32]] = [:]
        if !sr.assignment.isEmpty {
            let (_, a) = try ConsumerProtocolAssignment.decodeVersionPrefixed(sr.assignment)
            for tp in a.assignedPartitions { mine[tp.topic, default: []] += tp.partitions }
        }
        lock.withLock {
            state.rejoinNeeded = false
            state.lastHeartbeatOK = monotonicMillis()
        }
        log(.info, "group \(config.groupId) generation \(jr.generationId): assigned \(Self.describe(mine))")
        startHeartbeats()
        return mine
    }

    private func leaderAssign(_ jr: JoinGroupResponse,
                              partitionCounts: ([String]) throws -> [String: Int]) throws -> [SyncGroupRequest.SyncGroupRequestAssignment] {
        var subscriptions: [String: [String]] = [:]
        for m in jr.members {
            let (_, s) = try ConsumerProtocolSubscription.decodeVersionPrefixed(m.metadata)
            subscriptions[m.memberId] = s.topics
        }
        let all = Array(Set(subscriptions.values.flatMap { $0 })).sorted()
        let counts = try partitionCounts(all)
        let assignor = PartitionAssignor(rawValue: jr.protocolName ?? "") ?? config.assignors[0]
        let plan = assignor.assign(subscriptions: subscriptions, partitionCounts: counts)
        return try plan.keys.sorted().map { member in
            var a = ConsumerProtocolAssignment()
            a.assignedPartitions = plan[member]!.keys.sorted().map {
                ConsumerProtocolAssignment.TopicPartition(topic: $0, partitions: plan[member]![$0]!)
            }
            var b = ByteBufferAllocator().buffer(capacity: 64)
            try a.writeVersionPrefixed(to: &b, version: 0)
            return SyncGroupRequest.SyncGroupRequestAssignment(memberId: member, assignment: Array(b.readableBytesView))
        }
    }

    static func describe(_ a: [String: [Int32]]) -> String {
        a.isEmpty ? "nothing" : a.keys.sorted().map { "\($0)\(a[$0]!.sorted())" }.joined(separator: " ")
    }

    private func retriable(_ e: Error) -> Error {
        if let k = e as? KafkaClientError { return KafkaClientError(description: k.description, retriable: true) }
        return KafkaClientError(description: "\(e)", retriable: true)
    }

    // MARK: Offsets

    /// The group's committed offsets for `partitions` (absent: none committed).
    func committedOffsets(brokers: BrokerConnections, _ partitions: [String: [Int32]]) throws -> [TopicPartitionKey: Int64] {
        let c = try coordinatorConnection(brokers)
        let v = try c.version(OffsetFetchRequest.self, max: 7)
        var req = OffsetFetchRequest()
        req.groupId = config.groupId
        req.topics = partitions.keys.sorted().map { OffsetFetchRequest.OffsetFetchRequestTopic(name: $0, partitionIndexes: partitions[$0]!) }
        let resp: OffsetFetchResponse
        do { resp = try c.send(req, version: v) } catch { lostCoordinator(); throw retriable(error) }
        if resp.errorCode != 0 {
            if KafkaErrorCode.needsNewCoordinator(resp.errorCode) { lostCoordinator() }
            throw KafkaClientError(description: "OffsetFetch \(config.groupId): \(kafkaErrorName(resp.errorCode))", retriable: true)
        }
        var out: [TopicPartitionKey: Int64] = [:]
        for t in resp.topics {
            for p in t.partitions where p.errorCode == 0 && p.committedOffset >= 0 {
                out[TopicPartitionKey(t.name, p.partitionIndex)] = p.committedOffset
            }
        }
        return out
    }

    /// Commits `offsets` (the next offset to read, per partition) for the
    /// current generation. A rebalance that started meanwhile makes the
    /// commit fail: the records are delivered again by whoever gets the
    /// partition (at-least-once).
    func commit(brokers: BrokerConnections, _ offsets: [TopicPartitionKey: Int64]) throws {
        guard !offsets.isEmpty else { return }
        let (member, generation) = lock.withLock { (state.memberId, state.generation) }
        let c = try coordinatorConnection(brokers)
        let v = try c.version(OffsetCommitRequest.self, max: 8)
        var req = OffsetCommitRequest()
        req.groupId = config.groupId
        if v >= 1 {
            req.generationIdOrMemberEpoch = generation
            req.memberId = member
        }
        var byTopic: [String: [OffsetCommitRequest.OffsetCommitRequestPartition]] = [:]
        for (tp, o) in offsets {
            var p = OffsetCommitRequest.OffsetCommitRequestPartition()
            p.partitionIndex = tp.partition
            p.committedOffset = o
            byTopic[tp.topic, default: []].append(p)
        }
        req.topics = byTopic.keys.sorted().map { OffsetCommitRequest.OffsetCommitRequestTopic(name: $0, partitions: byTopic[$0]!) }
        let resp: OffsetCommitResponse
        do { resp = try c.send(req, version: v) } catch { lostCoordinator(); throw retriable(error) }
        for t in resp.topics {
            for p in t.partitions where p.errorCode != 0 {
                let code = p.errorCode
                if code == KafkaErrorCode.rebalanceInProgress || code == KafkaErrorCode.illegalGeneration || code == KafkaErrorCode.unknownMemberId {
                    requestRejoin()
                    if code == KafkaErrorCode.unknownMemberId { lock.withLock { state.memberId = "" } }
                } else if KafkaErrorCode.needsNewCoordinator(code) {
                    lostCoordinator()
                }
                throw KafkaClientError(description: "OffsetCommit \(config.groupId) \(t.name)-\(p.partitionIndex): \(kafkaErrorName(code))",
                                       retriable: true)
            }
        }
    }

    // MARK: Heartbeats

    private func startHeartbeats() {
        guard heartbeatThread == nil else { return }
        let box = Unmanaged.passRetained(self)
        var t = pthread_t()
        let rc = pthread_create(&t, nil, { arg in
            let me = Unmanaged<GroupMembership>.fromOpaque(arg!).takeRetainedValue()
            me.heartbeatLoop()
            return nil
        }, box.toOpaque())
        if rc == 0 { heartbeatThread = t } else { box.release() }
    }

    private func heartbeatLoop() {
        var hb: KafkaConnection?
        while true {
            let (stopped, member, generation, rejoin) = lock.withLock { (state.stopped, state.memberId, state.generation, state.rejoinNeeded) }
            if stopped { break }
            if rejoin || member.isEmpty || generation < 0 {
                usleep(50_000)
                continue
            }
            let start = monotonicMillis()
            do {
                if hb == nil || !hb!.isOpen {
                    guard let a = lock.withLock({ coordinator }) else {
                        usleep(100_000)
                        continue
                    }
                    hb = try KafkaConnection(host: a.host, port: a.port, clientId: config.clientId,
                                             connectTimeoutMs: config.connectTimeoutMs, requestTimeoutMs: config.requestTimeoutMs)
                }
                let v = try hb!.version(HeartbeatRequest.self, max: 4)
                var req = HeartbeatRequest()
                req.groupId = config.groupId
                req.generationId = generation
                req.memberId = member
                let resp: HeartbeatResponse = try hb!.send(req, version: v)
                switch resp.errorCode {
                case 0: lock.withLock { state.lastHeartbeatOK = monotonicMillis() }
                case KafkaErrorCode.rebalanceInProgress, KafkaErrorCode.illegalGeneration:
                    log(.info, "group \(config.groupId): rebalance (\(kafkaErrorName(resp.errorCode)))")
                    requestRejoin()
                case KafkaErrorCode.unknownMemberId:
                    log(.info, "group \(config.groupId): member \(member) is no longer known; rejoining")
                    lock.withLock { state.memberId = ""; state.generation = -1; state.rejoinNeeded = true }
                default:
                    if KafkaErrorCode.needsNewCoordinator(resp.errorCode) { hb?.close(); hb = nil; requestRejoin() }
                }
            } catch {
                hb?.close()
                hb = nil
                // The coordinator may have moved or restarted: the next join finds it again.
                if monotonicMillis() - lock.withLock({ state.lastHeartbeatOK }) > Int64(config.sessionTimeoutMs) { requestRejoin() }
            }
            let wait = Int64(config.heartbeatIntervalMs) - (monotonicMillis() - start)
            var slept: Int64 = 0
            while slept < wait && !lock.withLock({ state.stopped || state.rejoinNeeded }) {
                usleep(UInt32(min(50, wait - slept)) * 1000)
                slept += 50
            }
        }
        hb?.close()
    }

    // MARK: Leave

    /// LeaveGroup (so the others rebalance at once instead of after the
    /// session timeout) and stops the heartbeat thread.
    func leave(brokers: BrokerConnections) {
        let member = lock.withLock { () -> String in
            state.stopped = true
            return state.memberId
        }
        if let t = heartbeatThread {
            pthread_join(t, nil)
            heartbeatThread = nil
        }
        guard !member.isEmpty, let c = try? coordinatorConnection(brokers), let v = try? c.version(LeaveGroupRequest.self, max: 4) else { return }
        var req = LeaveGroupRequest()
        req.groupId = config.groupId
        if v >= 3 {
            req.members = [LeaveGroupRequest.MemberIdentity(memberId: member)]
        } else {
            req.memberId = member
        }
        if let _: LeaveGroupResponse = try? c.send(req, version: v) {
            log(.info, "group \(config.groupId): left as \(member)")
        }
        conn?.close()
        conn = nil
    }
}

/// A topic-partition as a dictionary key.
public struct TopicPartitionKey: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }
    public var description: String { "\(topic)-\(partition)" }
}
