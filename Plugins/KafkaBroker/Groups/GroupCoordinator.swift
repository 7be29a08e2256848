import NIOConcurrencyHelpers
import KafkaProtocol
import NIOCore
import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

enum GroupState: String {
    case empty = "Empty", preparingRebalance = "PreparingRebalance"
    case completingRebalance = "CompletingRebalance", stable = "Stable", dead = "Dead"
}

final class GroupMember {
    let id: String
    let clientId: String
    var sessionTimeoutMs: Int32 = 10000
    var rebalanceTimeoutMs: Int32 = 10000
    var protocolType = ""
    var protocols: [(name: String, metadata: [UInt8])] = []
    var assignment: [UInt8] = []
    var lastHeartbeat: UInt64 = 0
    var joinPromise: EventLoopPromise<JoinGroupResponse>?
    var joinVersion: Int16 = 0
    var syncPromise: EventLoopPromise<SyncGroupResponse>?
    var syncVersion: Int16 = 0

    init(id: String, clientId: String) {
        self.id = id
        self.clientId = clientId
    }

    func metadata(for proto: String?) -> [UInt8] { protocols.first { $0.name == proto }?.metadata ?? [] }
}

final class ConsumerGroup {
    let id: String
    var state = GroupState.empty
    var generation: Int32 = 0
    var protocolType: String?
    var protocolName: String?
    var leader: String?
    var members: [String: GroupMember] = [:]
    var order: [String] = []
    var pendingIds: Set<String> = []
    var rebalanceDeadline: UInt64 = 0
    var initialDelayUntil: UInt64 = 0
    var offsets: [GroupTP: CommittedOffset] = [:]
    var stateSinceMs: Int64

    init(id: String, now: Int64) {
        self.id = id
        stateSinceMs = now
    }

    var orderedMembers: [GroupMember] { order.compactMap { members[$0] } }

    func remove(_ id: String) {
        members[id] = nil
        order.removeAll { $0 == id }
        if leader == id { leader = nil }
    }
}

func monotonicNanos() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

func wallMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// The classic consumer-group coordinator: every group lives on this broker.
/// All state is behind one mutex; promises are completed after the mutex is
/// released (their callbacks run on the requester's event loop).
final class GroupCoordinator: @unchecked Sendable {
    typealias Effect = () -> Void
    static let minSessionTimeoutMs: Int32 = 6000
    static let maxSessionTimeoutMs: Int32 = 1_800_000
    static let maxMetadataBytes = 4096

    let initialDelayMillis: Int64
    let retentionMillis: Int64
    let context: ComponentContext
    private let lock = NIOLock()
    private var groups: [String: ConsumerGroup] = [:]
    private let store: GroupStore
    private var ticker: RepeatedTask?
    private var lastRetentionCheck: UInt64 = 0

    init(config: BrokerConfig, context: ComponentContext) throws {
        initialDelayMillis = config.groupInitialRebalanceDelayMillis
        retentionMillis = config.offsetsRetentionMinutes * 60_000
        self.context = context
        store = try GroupStore(dir: config.logDirs[0])
        let (records, cut) = try store.replay()
        if cut > 0 { context.log(.warn, "group store: cut \(cut) bytes of a torn or corrupt tail off \(store.path)") }
        let now = wallMillis()
        for r in records { apply(r, now: now) }
        if !groups.isEmpty { context.log(.info, "loaded \(groups.count) consumer groups from \(store.path)") }
    }

    func close() {
        lock.withLock {
            ticker?.cancel()
            ticker = nil
            store.close()
        }
    }

    private func apply(_ r: GroupRecord, now: Int64) {
        switch r {
        case let .offset(g, tp, o): group(g, create: true, now: now)!.offsets[tp] = o
        case let .deleteOffset(g, tp): groups[g]?.offsets[tp] = nil
        case let .group(g, pt, gen, pn):
            let grp = group(g, create: true, now: now)!
            grp.protocolType = pt
            grp.generation = gen
            _ = pn
        case let .deleteGroup(g): groups[g] = nil
        }
    }

    private func group(_ id: String, create: Bool, now: Int64 = wallMillis()) -> ConsumerGroup? {
        if let g = groups[id] { return g }
        guard create else { return nil }
        let g = ConsumerGroup(id: id, now: now)
        groups[id] = g
        return g
    }

    /// Runs `body` under the lock, then the effects it queued.
    private func withState<R>(_ body: (inout [Effect]) -> R) -> R {
        var effects: [Effect] = []
        let r = lock.withLock { body(&effects) }
        for e in effects { e() }
        return r
    }

    /// Starts the periodic session/rebalance/retention check once.
    func ensureTicker(_ loop: EventLoop) {
        lock.withLock {
            guard ticker == nil else { return }
            ticker = loop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { [weak self] _ in
                self?.tick()
            }
        }
    }

    private func persist(_ records: [GroupRecord], sync: Bool) throws {
        try store.append(records, sync: sync)
        if store.size > store.compactBytes {
            var snap: [GroupRecord] = []
            for g in groups.values {
                snap.append(.group(group: g.id, protocolType: g.protocolType, generation: g.generation, protocolName: g.protocolName))
                for (tp, o) in g.offsets { snap.append(.offset(group: g.id, tp: tp, o)) }
            }
            try store.rewrite(snap)
            context.log(.info, "compacted \(store.path) to \(store.size) bytes")
        }
    }

    private func persistMeta(_ g: ConsumerGroup) {
        do {
            try persist([.group(group: g.id, protocolType: g.protocolType, generation: g.generation, protocolName: g.protocolName)], sync: false)
        } catch { context.log(.error, "group store: \(error)") }
    }

    // MARK: Join

    func join(_ r: JoinGroupRequest, version: Int16, clientId: String, on loop: EventLoop) -> EventLoopFuture<JoinGroupResponse> {
        ensureTicker(loop)
        func failure(_ code: Int16, _ member: String) -> JoinGroupResponse {
            var resp = JoinGroupResponse()
            resp.errorCode = code
            resp.memberId = member
            resp.generationId = -1
            if version >= 7 { resp.protocolName = nil }
            return resp
        }
        if r.groupId.isEmpty { return loop.makeSucceededFuture(failure(KafkaErrorCode.invalidGroupId, r.memberId)) }
        if r.sessionTimeoutMs < Self.minSessionTimeoutMs || r.sessionTimeoutMs > Self.maxSessionTimeoutMs {
            return loop.makeSucceededFuture(failure(KafkaErrorCode.invalidSessionTimeout, r.memberId))
        }
        if r.protocolType.isEmpty || r.protocols.isEmpty {
            return loop.makeSucceededFuture(failure(KafkaErrorCode.inconsistentGroupProtocol, r.memberId))
        }
        let promise = loop.makePromise(of: JoinGroupResponse.self)
        withState { effects in
            let g = group(r.groupId, create: true)!
            let names = Set(r.protocols.map { $0.name })
            if !g.members.isEmpty {
                let others = g.members.values.filter { $0.id != r.memberId }
                if let pt = g.protocolType, pt != r.protocolType, !others.isEmpty {
                    effects.append { promise.succeed(failure(KafkaErrorCode.inconsistentGroupProtocol, r.memberId)) }
                    return
                }
                var common = names
                for m in others { common.formIntersection(m.protocols.map { $0.name }) }
                if common.isEmpty && !others.isEmpty {
                    effects.append { promise.succeed(failure(KafkaErrorCode.inconsistentGroupProtocol, r.memberId)) }
                    return
                }
            }
            var memberId = r.memberId
            if memberId.isEmpty {
                memberId = "\(clientId)-\(uuidString())"
                if version >= 4 {
                    g.pendingIds.insert(memberId)
                    let id = memberId
                    effects.append { promise.succeed(failure(KafkaErrorCode.memberIdRequired, id)) }
                    return
                }
            } else if g.members[memberId] == nil && g.pendingIds.remove(memberId) == nil {
                effects.append { promise.succeed(failure(KafkaErrorCode.unknownMemberId, r.memberId)) }
                return
            }
            let isNew = g.members[memberId] == nil
            let m = g.members[memberId] ?? GroupMember(id: memberId, clientId: clientId)
            if isNew {
                g.members[memberId] = m
                g.order.append(memberId)
            }
            m.sessionTimeoutMs = r.sessionTimeoutMs
            m.rebalanceTimeoutMs = version >= 1 && r.rebalanceTimeoutMs > 0 ? r.rebalanceTimeoutMs : r.sessionTimeoutMs
            m.protocolType = r.protocolType
            m.protocols = r.protocols.map { ($0.name, $0.metadata) }
            m.lastHeartbeat = monotonicNanos()
            if let old = m.joinPromise {
                effects.append { old.succeed(failure(KafkaErrorCode.unknownMemberId, memberId)) }
            }
            m.joinPromise = promise
            m.joinVersion = version
            switch g.state {
            case .empty, .stable, .completingRebalance, .dead:
                prepareRebalance(g, &effects)
            case .preparingRebalance:
                if isNew && g.initialDelayUntil > 0 {
                    let now = monotonicNanos()
                    g.initialDelayUntil = min(now + UInt64(initialDelayMillis) * 1_000_000, g.rebalanceDeadline)
                }
            }
            tryCompleteJoin(g, &effects)
        }
        return promise.futureResult
    }

    private func prepareRebalance(_ g: ConsumerGroup, _ effects: inout [Effect]) {
        if g.state == .completingRebalance {
            for m in g.members.values {
                if let p = m.syncPromise {
                    let v = m.syncVersion
                    effects.append { p.succeed(Self.syncResponse(KafkaErrorCode.rebalanceInProgress, [], nil, version: v)) }
                    m.syncPromise = nil
                }
            }
        }
        let wasEmpty = g.state == .empty || g.state == .dead
        g.state = .preparingRebalance
        let now = monotonicNanos()
        let timeout = UInt64(g.members.values.map { $0.rebalanceTimeoutMs }.max() ?? 0)
        g.rebalanceDeadline = now + timeout * 1_000_000
        g.initialDelayUntil = wasEmpty && initialDelayMillis > 0
            ? min(now + UInt64(initialDelayMillis) * 1_000_000, g.rebalanceDeadline) : 0
    }

    private func tryCompleteJoin(_ g: ConsumerGroup, _ effects: inout [Effect]) {
        guard g.state == .preparingRebalance else { return }
        if g.initialDelayUntil > 0 {
            guard monotonicNanos() >= g.initialDelayUntil else { return }
            g.initialDelayUntil = 0
        }
        if g.members.values.allSatisfy({ $0.joinPromise != nil }) { completeJoin(g, &effects) }
    }

    /// Ends the join phase: drops members that did not rejoin, starts the
    /// next generation and answers every waiting JoinGroup.
    private func completeJoin(_ g: ConsumerGroup, _ effects: inout [Effect]) {
        for m in g.orderedMembers where m.joinPromise == nil { g.remove(m.id) }
        g.initialDelayUntil = 0
        g.generation += 1
        let members = g.orderedMembers
        guard !members.isEmpty else {
            g.state = .empty
            g.stateSinceMs = wallMillis()
            g.protocolName = nil
            g.leader = nil
            persistMeta(g)
            return
        }
        let leader = g.leader.flatMap { g.members[$0] } ?? members[0]
        g.leader = leader.id
        let chosen = leader.protocols.first { p in members.allSatisfy { m in m.protocols.contains { $0.name == p.name } } }?.name
            ?? leader.protocols.first?.name
        g.protocolName = chosen
        g.protocolType = leader.protocolType
        g.state = .completingRebalance
        let now = monotonicNanos()
        let all = members.map { m -> JoinGroupResponse.JoinGroupResponseMember in
            var x = JoinGroupResponse.JoinGroupResponseMember()
            x.memberId = m.id
            x.metadata = m.metadata(for: chosen)
            return x
        }
        for m in members {
            guard let p = m.joinPromise else { continue }
            var resp = JoinGroupResponse()
            resp.generationId = g.generation
            resp.protocolName = chosen
            if m.joinVersion >= 7 { resp.protocolType = g.protocolType }
            resp.leader = leader.id
            resp.memberId = m.id
            if m.id == leader.id { resp.members = all }
            m.joinPromise = nil
            m.lastHeartbeat = now
            effects.append { p.succeed(resp) }
        }
        persistMeta(g)
        context.log(.info, "group \(g.id) generation \(g.generation): \(members.count) members, protocol \(chosen ?? "-"), leader \(leader.id)")
    }

    // MARK: Sync

    static func syncResponse(_ code: Int16, _ assignment: [UInt8], _ g: ConsumerGroup?, version: Int16) -> SyncGroupResponse {
        var resp = SyncGroupResponse()
        resp.errorCode = code
        resp.assignment = assignment
        if version >= 5, let g, code == 0 {
            resp.protocolType = g.protocolType
            resp.protocolName = g.protocolName
        }
        return resp
    }

    func sync(_ r: SyncGroupRequest, version: Int16, on loop: EventLoop) -> EventLoopFuture<SyncGroupResponse> {
        let promise = loop.makePromise(of: SyncGroupResponse.self)
        withState { effects in
            func answer(_ code: Int16, _ a: [UInt8] = [], _ g: ConsumerGroup? = nil) {
                let resp = Self.syncResponse(code, a, g, version: version)
                effects.append { promise.succeed(resp) }
            }
            guard let g = groups[r.groupId], let m = g.members[r.memberId] else { return answer(KafkaErrorCode.unknownMemberId) }
            guard r.generationId == g.generation else { return answer(KafkaErrorCode.illegalGeneration) }
            if version >= 5 {
                if let pt = r.protocolType, pt != g.protocolType { return answer(KafkaErrorCode.inconsistentGroupProtocol) }
                if let pn = r.protocolName, pn != g.protocolName { return answer(KafkaErrorCode.inconsistentGroupProtocol) }
            }
            m.lastHeartbeat = monotonicNanos()
            switch g.state {
            case .empty, .dead: answer(KafkaErrorCode.unknownMemberId)
            case .preparingRebalance: answer(KafkaErrorCode.rebalanceInProgress)
            case .stable: answer(0, m.assignment, g)
            case .completingRebalance:
                if let old = m.syncPromise {
                    let v = m.syncVersion
                    effects.append { old.succeed(Self.syncResponse(KafkaErrorCode.rebalanceInProgress, [], nil, version: v)) }
                }
                m.syncPromise = promise
                m.syncVersion = version
                guard r.memberId == g.leader else { return }
                var given: [String: [UInt8]] = [:]
                for a in r.assignments { given[a.memberId] = a.assignment }
                g.state = .stable
                for x in g.members.values {
                    x.assignment = given[x.id] ?? []
                    if let p = x.syncPromise {
                        let resp = Self.syncResponse(0, x.assignment, g, version: x.syncVersion)
                        effects.append { p.succeed(resp) }
                        x.syncPromise = nil
                    }
                }
            }
        }
        return promise.futureResult
    }

    // MARK: Heartbeat and leave

    func heartbeat(_ r: HeartbeatRequest) -> Int16 {
        withState { _ in
            guard let g = groups[r.groupId], let m = g.members[r.memberId] else { return KafkaErrorCode.unknownMemberId }
            guard r.generationId == g.generation else { return KafkaErrorCode.illegalGeneration }
            m.lastHeartbeat = monotonicNanos()
            switch g.state {
            case .preparingRebalance: return KafkaErrorCode.rebalanceInProgress
            case .empty, .dead: return KafkaErrorCode.unknownMemberId
            default: return 0
            }
        }
    }

    /// Removes members; returns one error code per member id.
    func leave(group id: String, members ids: [String]) -> [Int16] {
        withState { effects in
            guard let g = groups[id] else { return ids.map { _ in KafkaErrorCode.unknownMemberId } }
            var removed = false
            let codes = ids.map { mid -> Int16 in
                guard let m = g.members[mid] else { return KafkaErrorCode.unknownMemberId }
                if let p = m.joinPromise {
                    var resp = JoinGroupResponse()
                    resp.errorCode = KafkaErrorCode.unknownMemberId
                    resp.memberId = mid
                    if m.joinVersion >= 7 { resp.protocolName = nil }
                    effects.append { p.succeed(resp) }
                }
                if let p = m.syncPromise {
                    let v = m.syncVersion
                    effects.append { p.succeed(Self.syncResponse(KafkaErrorCode.unknownMemberId, [], nil, version: v)) }
                }
                g.remove(mid)
                removed = true
                return 0
            }
            if removed { membershipChanged(g, &effects) }
            return codes
        }
    }

    private func membershipChanged(_ g: ConsumerGroup, _ effects: inout [Effect]) {
        switch g.state {
        case .stable, .completingRebalance: prepareRebalance(g, &effects)
        default: break
        }
        tryCompleteJoin(g, &effects)
    }

    // MARK: Periodic checks

    func tick() {
        withState { effects in
            let now = monotonicNanos()
            for g in groups.values {
                switch g.state {
                case .preparingRebalance:
                    if now >= g.rebalanceDeadline { completeJoin(g, &effects) } else { tryCompleteJoin(g, &effects) }
                case .completingRebalance, .stable:
                    var expired = false
                    for m in g.orderedMembers where m.joinPromise == nil && now > m.lastHeartbeat + UInt64(m.sessionTimeoutMs) * 1_000_000 {
                        context.log(.info, "group \(g.id): member \(m.id) session expired")
                        if let p = m.syncPromise {
                            let v = m.syncVersion
                            effects.append { p.succeed(Self.syncResponse(KafkaErrorCode.unknownMemberId, [], nil, version: v)) }
                        }
                        g.remove(m.id)
                        expired = true
                    }
                    if expired { membershipChanged(g, &effects) }
                default: break
                }
            }
            guard now > lastRetentionCheck + 10_000_000_000 else { return }
            lastRetentionCheck = now
            expireOffsets()
        }
    }

    /// offsets.retention.minutes: groups that stay empty lose their offsets,
    /// then the group itself.
    private func expireOffsets() {
        let now = wallMillis()
        var records: [GroupRecord] = []
        for g in groups.values where g.state == .empty && g.members.isEmpty {
            for (tp, o) in g.offsets where max(g.stateSinceMs, o.commitTimestamp) + retentionMillis < now {
                g.offsets[tp] = nil
                records.append(.deleteOffset(group: g.id, tp: tp))
            }
            if g.offsets.isEmpty && g.stateSinceMs + retentionMillis < now {
                groups[g.id] = nil
                records.append(.deleteGroup(group: g.id))
            }
        }
        if !records.isEmpty {
            context.log(.info, "expired \(records.count) group offsets/groups after offsets.retention.minutes")
            do { try persist(records, sync: true) } catch { context.log(.error, "group store: \(error)") }
        }
    }

    // MARK: Offsets

    struct CommitPart { var tp: GroupTP; var offset: CommittedOffset; var valid: Bool }

    /// Commits offsets; returns an error code per partition (in order).
    func commit(group id: String, generation: Int32, memberId: String, parts: [CommitPart]) -> [Int16] {
        withState { _ in
            var groupErr: Int16 = 0
            if id.isEmpty {
                groupErr = KafkaErrorCode.invalidGroupId
            } else if let g = groups[id], generation >= 0 || !g.members.isEmpty {
                if let m = g.members[memberId] {
                    if generation != g.generation { groupErr = KafkaErrorCode.illegalGeneration }
                    else if g.state == .completingRebalance { groupErr = KafkaErrorCode.rebalanceInProgress }
                    else { m.lastHeartbeat = monotonicNanos() }
                } else {
                    groupErr = generation < 0 || g.state == .empty ? KafkaErrorCode.unknownMemberId : KafkaErrorCode.unknownMemberId
                }
            } else if generation >= 0 {
                groupErr = KafkaErrorCode.illegalGeneration
            }
            if groupErr != 0 { return parts.map { _ in groupErr } }
            var codes: [Int16] = []
            var records: [GroupRecord] = []
            for p in parts {
                if !p.valid { codes.append(KafkaErrorCode.unknownTopicOrPartition); continue }
                if (p.offset.metadata?.utf8.count ?? 0) > Self.maxMetadataBytes { codes.append(KafkaErrorCode.offsetMetadataTooLarge); continue }
                codes.append(0)
                records.append(.offset(group: id, tp: p.tp, p.offset))
            }
            do {
                try persist(records, sync: true)
            } catch {
                context.log(.error, "group store: \(error)")
                return parts.map { _ in KafkaErrorCode.unknownServerError }
            }
            let g = group(id, create: true)!
            for p in parts where p.valid { g.offsets[p.tp] = p.offset }
            return codes
        }
    }

    /// Committed offsets: all (topics nil) or the asked partitions (nil entry = none).
    func fetch(group id: String, topics: [(String, [Int32])]?) -> [(String, [(Int32, CommittedOffset?)])] {
        withState { _ in
            let g = groups[id]
            if let topics {
                return topics.map { t in (t.0, t.1.map { p in (p, g?.offsets[GroupTP(topic: t.0, partition: p)]) }) }
            }
            guard let g else { return [] }
            var byTopic: [String: [(Int32, CommittedOffset?)]] = [:]
            for (tp, o) in g.offsets.sorted(by: { $0.key < $1.key }) { byTopic[tp.topic, default: []].append((tp.partition, o)) }
            return byTopic.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        }
    }

    /// OffsetDelete: (group error, per partition errors).
    func deleteOffsets(group id: String, parts: [GroupTP]) -> (Int16, [Int16]) {
        withState { _ in
            guard let g = groups[id] else { return (KafkaErrorCode.groupIdNotFound, []) }
            var subscribed = Set<String>()
            if g.protocolType == "consumer" {
                for m in g.members.values { subscribed.formUnion(Self.subscribedTopics(m.metadata(for: g.protocolName))) }
            }
            var records: [GroupRecord] = []
            let codes = parts.map { tp -> Int16 in
                if subscribed.contains(tp.topic) { return KafkaErrorCode.groupSubscribedToTopic }
                if g.offsets.removeValue(forKey: tp) != nil { records.append(.deleteOffset(group: id, tp: tp)) }
                return 0
            }
            do { try persist(records, sync: true) } catch { context.log(.error, "group store: \(error)") }
            return (0, codes)
        }
    }

    /// DeleteGroups: an error code per group.
    func deleteGroups(_ ids: [String]) -> [Int16] {
        withState { _ in
            ids.map { id in
                guard let g = groups[id], g.state != .dead else { return KafkaErrorCode.groupIdNotFound }
                guard g.members.isEmpty else { return KafkaErrorCode.nonEmptyGroup }
                do { try persist([.deleteGroup(group: id)], sync: true) } catch { return KafkaErrorCode.unknownServerError }
                g.state = .dead
                groups[id] = nil
                return 0
            }
        }
    }

    /// The topics of a consumer-protocol subscription (version, [topic]).
    static func subscribedTopics(_ md: [UInt8]) -> [String] {
        var b = ByteBufferAllocator().buffer(capacity: md.count)
        b.writeBytes(md)
        guard let _: Int16 = b.readInteger(), let n: Int32 = b.readInteger(), n >= 0, n < 100_000 else { return [] }
        var out: [String] = []
        for _ in 0..<n {
            guard let l: Int16 = b.readInteger(), l >= 0, let s = b.readString(length: Int(l)) else { break }
            out.append(s)
        }
        return out
    }

    // MARK: Describe and list

    struct GroupView {
        var id: String
        var state: GroupState
        var protocolType: String
        var protocolName: String
        var members: [(id: String, clientId: String, metadata: [UInt8], assignment: [UInt8])]
    }

    func describe(_ id: String) -> GroupView? {
        withState { _ in
            guard let g = groups[id] else { return nil }
            let active = g.state == .stable || g.state == .completingRebalance
            return GroupView(id: g.id, state: g.state, protocolType: g.protocolType ?? "",
                             protocolName: active ? g.protocolName ?? "" : "",
                             members: g.orderedMembers.map { m in
                                 (m.id, m.clientId, active ? m.metadata(for: g.protocolName) : [],
                                  g.state == .stable ? m.assignment : [])
                             })
        }
    }

    func list() -> [GroupView] {
        withState { _ in
            groups.values.sorted { $0.id < $1.id }.map {
                GroupView(id: $0.id, state: $0.state, protocolType: $0.protocolType ?? "", protocolName: "", members: [])
            }
        }
    }
}

func uuidString() -> String {
    let h = KafkaUUID.random().hex
    let c = Array(h)
    return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32])
}
