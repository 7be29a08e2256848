#if canImport(Glibc)
import Glibc
#endif

/// A time zone for `hdfs.timeZone`: the agent's local zone, a fixed offset
/// (`UTC`, `GMT+05:30`), or an IANA zone read from the system's TZif files
/// (/usr/share/zoneinfo), without touching the process-wide TZ.
enum TimeZoneRule {
    case local
    case fixed(seconds: Int)
    /// Transition instants (epoch seconds, ascending) and the UTC offset from each on.
    case table(transitions: [Int64], offsets: [Int32], initial: Int32)

    init?(named name: String) {
        let upper = name.uppercased()
        if upper == "UTC" || upper == "GMT" || upper == "Z" || upper == "UCT" {
            self = .fixed(seconds: 0)
            return
        }
        if (upper.hasPrefix("GMT") || upper.hasPrefix("UTC")) && name.count > 3 {
            guard let offset = TimeZoneRule.parseOffset(String(name.dropFirst(3))) else { return nil }
            self = .fixed(seconds: offset)
            return
        }
        guard !name.contains(".."), let bytes = readWholeFile("/usr/share/zoneinfo/" + name),
              let parsed = TimeZoneRule.parseTZif(bytes) else { return nil }
        self = parsed
    }

    /// Seconds east of UTC at `epochSeconds`.
    func offset(at epochSeconds: Int64) -> Int {
        switch self {
        case .local:
            var t = time_t(epochSeconds)
            var parts = tm()
            localtime_r(&t, &parts)
            return parts.tm_gmtoff
        case .fixed(let s):
            return s
        case .table(let transitions, let offsets, let initial):
            var lo = 0, hi = transitions.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if transitions[mid] <= epochSeconds { lo = mid + 1 } else { hi = mid }
            }
            return Int(lo == 0 ? initial : offsets[lo - 1])
        }
    }

    /// `+hh`, `+hh:mm`, `+hhmm`, `-h`.
    static func parseOffset(_ s: String) -> Int? {
        guard let sign = s.first, sign == "+" || sign == "-" else { return nil }
        let digits = s.dropFirst().filter { $0 != ":" }
        guard !digits.isEmpty, digits.count <= 4, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let hours: Int, minutes: Int
        if digits.count <= 2 {
            hours = Int(digits)!
            minutes = 0
        } else {
            hours = Int(digits.prefix(digits.count - 2))!
            minutes = Int(digits.suffix(2))!
        }
        guard hours <= 18, minutes < 60 else { return nil }
        return (sign == "-" ? -1 : 1) * (hours * 3600 + minutes * 60)
    }

    /// TZif (RFC 8536): version 1 data, or the 64-bit data after it in v2+.
    static func parseTZif(_ b: [UInt8]) -> TimeZoneRule? {
        func be32(_ at: Int) -> Int64 {
            Int64(Int32(bitPattern: UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])))
        }
        func be64(_ at: Int) -> Int64 { be32(at) << 32 | (be32(at + 4) & 0xffff_ffff) }
        func counts(_ at: Int) -> [Int]? {
            guard b.count >= at + 44, b[at] == 0x54, b[at + 1] == 0x5a, b[at + 2] == 0x69, b[at + 3] == 0x66 else { return nil }
            return (0..<6).map { Int(be32(at + 20 + 4 * $0)) }
        }
        guard var c = counts(0) else { return nil }
        var start = 0
        var timeSize = 4
        let version = b[4]
        if version >= 0x32 {
            // Skip the v1 block: transitions, indexes, types, names, leaps, std/ut flags.
            let v1 = c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0]
            start = 44 + v1
            guard let c2 = counts(start) else { return nil }
            c = c2
            timeSize = 8
        }
        let (timecnt, typecnt) = (c[3], c[4])
        var at = start + 44
        guard typecnt > 0, b.count >= at + timecnt * (timeSize + 1) + typecnt * 6 else { return nil }
        var transitions: [Int64] = []
        for i in 0..<timecnt { transitions.append(timeSize == 8 ? be64(at + 8 * i) : be32(at + 4 * i)) }
        at += timecnt * timeSize
        let indexes = Array(b[at..<(at + timecnt)])
        at += timecnt
        var typeOffsets: [Int32] = []
        var firstStandard: Int32?
        for i in 0..<typecnt {
            let off = Int32(truncatingIfNeeded: be32(at + 6 * i))
            typeOffsets.append(off)
            if firstStandard == nil && b[at + 6 * i + 4] == 0 { firstStandard = off }
        }
        var offsets: [Int32] = []
        for i in indexes {
            guard Int(i) < typecnt else { return nil }
            offsets.append(typeOffsets[Int(i)])
        }
        return .table(transitions: transitions, offsets: offsets, initial: firstStandard ?? typeOffsets[0])
    }
}

func readWholeFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n < 0 { return nil }
        if n == 0 { return out }
        out.append(contentsOf: chunk[0..<n])
    }
}
