#if canImport(Glibc)
import Glibc
#endif

/// The session table (ZooKeeper's SessionTrackerImpl): every live session with
/// its negotiated timeout, kept in expiry buckets one tickTime wide so the
/// expiry check at each tick looks at one bucket. Not thread-safe: the server
/// calls it under its lock.
final class SessionTable {
    struct Session {
        let id: Int64
        var timeout: Int32
        var bucket: Int64
        var connection: Int?
        var closing = false
    }

    private(set) var sessions: [Int64: Session] = [:]
    private var buckets: [Int64: Set<Int64>] = [:]
    private let tick: Int64
    private var nextID: Int64
    private let secret: UInt64

    init(tickTime: Int, serverID: Int64 = 0, secret: UInt64) {
        tick = Int64(tickTime)
        // As ZooKeeper: server id in the top byte, the start time below it,
        // so ids stay unique across restarts.
        nextID = Int64(bitPattern: (UInt64(bitPattern: nowMillis()) << 24) >> 8) | (serverID << 56)
        self.secret = secret
    }

    var count: Int { sessions.count }

    func newID() -> Int64 {
        nextID += 1
        return nextID
    }

    /// 16 bytes derived from the id and this server's secret (ZooKeeper seeds
    /// a generator with id ^ secret the same way): a client proves it owns a
    /// session by sending them back.
    func password(_ id: Int64) -> [UInt8] {
        var x = UInt64(bitPattern: id) ^ secret
        var out: [UInt8] = []
        for _ in 0..<2 {
            x &+= 0x9e37_79b9_7f4a_7c15
            var z = x
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            z ^= z >> 31
            for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: z >> (8 * UInt64(i)))) }
        }
        return out
    }

    private func bucket(for timeout: Int32, now: Int64) -> Int64 {
        (now + Int64(timeout)) / tick * tick + tick
    }

    func add(_ id: Int64, timeout: Int32, now: Int64 = nowMillis()) {
        let b = bucket(for: timeout, now: now)
        sessions[id] = Session(id: id, timeout: timeout, bucket: b)
        buckets[b, default: []].insert(id)
    }

    func remove(_ id: Int64) {
        guard let s = sessions.removeValue(forKey: id) else { return }
        buckets[s.bucket]?.remove(id)
        if buckets[s.bucket]?.isEmpty == true { buckets.removeValue(forKey: s.bucket) }
    }

    /// Pushes the session's expiry a full timeout from now; false if it is gone or closing.
    @discardableResult
    func touch(_ id: Int64, now: Int64 = nowMillis()) -> Bool {
        guard var s = sessions[id], !s.closing else { return false }
        let b = bucket(for: s.timeout, now: now)
        if b != s.bucket {
            buckets[s.bucket]?.remove(id)
            if buckets[s.bucket]?.isEmpty == true { buckets.removeValue(forKey: s.bucket) }
            buckets[b, default: []].insert(id)
            s.bucket = b
            sessions[id] = s
        }
        return true
    }

    func setConnection(_ id: Int64, _ conn: Int?) { sessions[id]?.connection = conn }
    func markClosing(_ id: Int64) { sessions[id]?.closing = true }

    /// Sessions whose bucket has passed, marked closing.
    func expired(now: Int64 = nowMillis()) -> [Int64] {
        var out: [Int64] = []
        for b in buckets.keys where b <= now {
            for id in buckets[b] ?? [] where sessions[id]?.closing == false {
                out.append(id)
                sessions[id]?.closing = true
            }
        }
        return out.sorted()
    }
}

func nowMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
