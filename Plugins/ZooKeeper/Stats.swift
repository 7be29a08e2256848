import ZooKeeperProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Request latency as ZooKeeper's four-letter words report it: whole
/// milliseconds from a request's arrival to its answer leaving the server.
struct LatencyStats {
    var min = 0
    var max = 0
    var total = 0
    var count = 0
    var last = 0

    mutating func record(_ ms: Int) {
        min = count == 0 ? ms : Swift.min(min, ms)
        max = Swift.max(max, ms)
        total += ms
        count += 1
        last = ms
    }

    /// ZooKeeper prints the mean as a Java double ("0.0", "2.5").
    var average: Double { count == 0 ? 0 : Double(total) / Double(count) }
}

/// Server-wide counters (srvr, stat, mntr). Guarded by the server lock.
struct ServerStats {
    var packetsReceived = 0
    var packetsSent = 0
    var latency = LatencyStats()
    /// The request being handled (monotonic ns), stamped on its answer.
    var currentRequest: UInt64 = 0
}

/// One connection's counters (cons). Guarded by the server lock.
struct ConnectionStats {
    var received = 0
    var sent = 0
    let established = nowMillis()
    var lastOp = "NA"
    var lastCxid: Int32 = 0
    var lastZxid: Int64 = 0
    var lastResponse: Int64 = 0
    var latency = LatencyStats()
}

extension Server {
    /// An answer to a request that arrived at `started` leaves now.
    func recordAnswer(_ conn: ClientConnection, started: UInt64) {
        let ms = Int((monotonicNanos() &- started) / 1_000_000)
        stats.latency.record(ms)
        conn.stats.latency.record(ms)
        conn.stats.lastResponse = nowMillis()
    }
}

/// ZooKeeper's four-letter abbreviations of op codes (Request.op2String), as
/// `cons` shows them in `lop=`.
func opAbbreviation(_ type: Int32) -> String {
    switch type {
    case OpCode.create, OpCode.create2, OpCode.createContainer, OpCode.createTTL: return "CREA"
    case OpCode.delete: return "DELE"
    case OpCode.exists: return "EXIS"
    case OpCode.getData: return "GETD"
    case OpCode.setData: return "SETD"
    case OpCode.getACL: return "GETA"
    case OpCode.setACL: return "SETA"
    case OpCode.getChildren: return "GETC"
    case OpCode.getChildren2: return "GCH2"
    case OpCode.getAllChildrenNumber: return "GACN"
    case OpCode.getEphemerals: return "GETE"
    case OpCode.check: return "CHEC"
    case OpCode.multi: return "MULT"
    case OpCode.multiRead: return "MLTR"
    case OpCode.sync: return "SYNC"
    case OpCode.ping: return "PING"
    case OpCode.closeSession: return "CLOS"
    case OpCode.setWatches: return "SETW"
    case OpCode.setWatches2: return "STW2"
    case OpCode.addWatch: return "ADDW"
    case OpCode.checkWatches: return "CHKW"
    case OpCode.removeWatches: return "REMW"
    case OpCode.whoAmI: return "WHAM"
    default: return "NA"
    }
}

func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
