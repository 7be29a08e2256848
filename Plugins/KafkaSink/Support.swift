#if canImport(Glibc)
import Glibc
#endif

/// Java's `Integer.parseInt`: an optional sign and decimal digits, in range.
func parseJavaInt(_ b: UnsafeRawBufferPointer) -> Int32? {
    parseJavaLong(b).flatMap { Int32(exactly: $0) }
}

/// Java's `Long.parseLong`: an optional sign and decimal digits, in range.
func parseJavaLong(_ b: UnsafeRawBufferPointer) -> Int64? {
    var i = 0
    var negative = false
    if let first = b.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
        negative = first == UInt8(ascii: "-")
        i = 1
    }
    guard i < b.count else { return nil }
    var v: Int64 = 0
    while i < b.count {
        let d = b[i]
        guard d >= 0x30, d <= 0x39 else { return nil }
        let (m, o1) = v.multipliedReportingOverflow(by: 10)
        let (s, o2) = negative ? m.subtractingReportingOverflow(Int64(d - 0x30)) : m.addingReportingOverflow(Int64(d - 0x30))
        guard !o1, !o2 else { return nil }
        v = s
        i += 1
    }
    return v
}

func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

func epochMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
