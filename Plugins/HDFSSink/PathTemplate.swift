import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// A string with Flume's BucketPath escapes (`hdfs.path`, `hdfs.filePrefix`):
/// `%{header}`, `%[localhost]` / `%[IP]` / `%[FQDN]` (resolved once, at
/// configure), and the time escapes (`%Y %m %d %H %M %S %y %s %t %a %b %c
/// %e %j %k %l %n %p %z %D %I %A %B`, `%%`). Unknown `%x` become "".
struct PathTemplate {
    enum Part {
        case literal(String)
        case header([UInt8])
        case time(Character)
        /// `%t`: the event's timestamp in milliseconds, not rounded.
        case rawTimestamp
    }

    let parts: [Part]
    let needsTime: Bool
    /// The whole string when it has no per-event escape.
    let constant: String?

    init(_ template: String, key: String, hosts: HostNames) throws {
        var parts: [Part] = []
        var literal = ""
        let chars = Array(template)
        var i = 0
        func flush() {
            if !literal.isEmpty { parts.append(.literal(literal)) }
            literal = ""
        }
        while i < chars.count {
            let c = chars[i]
            guard c == "%", i + 1 < chars.count else {
                literal.append(c)
                i += 1
                continue
            }
            let next = chars[i + 1]
            if next == "{" || next == "[" {
                let close: Character = next == "{" ? "}" : "]"
                if let end = chars[(i + 2)...].firstIndex(of: close), end > i + 2 {
                    let name = String(chars[(i + 2)..<end])
                    let allowed = name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || (next == "{" && ($0 == "." || $0 == "-")) }
                    if allowed {
                        if next == "{" {
                            flush()
                            parts.append(.header(Array(name.utf8)))
                        } else {
                            literal += try hosts.value(name, key: key)
                        }
                        i = end + 1
                        continue
                    }
                }
                literal.append(c)
                i += 1
            } else if next == "%" {
                literal.append("%")
                i += 2
            } else if next.isLetter || next.isNumber || next == "_" {
                flush()
                parts.append(next == "t" ? .rawTimestamp : .time(next))
                i += 2
            } else {
                literal.append(c)
                i += 1
            }
        }
        flush()
        self.parts = parts
        needsTime = parts.contains { if case .literal = $0 { return false }; if case .header = $0 { return false }; return true }
        if parts.isEmpty {
            constant = ""
        } else if parts.count == 1, case .literal(let s) = parts[0] {
            constant = s
        } else {
            constant = nil
        }
    }

    /// The part before the first per-event escape.
    var staticPrefix: String {
        if case .literal(let s)? = parts.first { return s }
        return ""
    }

    func resolve(_ event: Event, time: ResolvedTime?) -> String {
        if let c = constant { return c }
        var out = ""
        for part in parts {
            switch part {
            case .literal(let s): out += s
            case .header(let key):
                if let v = key.withUnsafeBufferPointer({ event.headerBytes($0) }) {
                    out += String(decoding: v, as: UTF8.self)
                }
            case .rawTimestamp: out += String(time?.millis ?? 0)
            case .time(let c): if let t = time { t.append(c, to: &out) }
            }
        }
        return out
    }
}

/// An event's time broken down in the configured zone (after rounding).
struct ResolvedTime {
    let millis: Int64
    let roundedSeconds: Int64
    let offset: Int
    let fields: tm

    private static let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    private static let months = ["January", "February", "March", "April", "May", "June", "July",
                                 "August", "September", "October", "November", "December"]

    init(millis: Int64, zone: TimeZoneRule, round: (unit: RoundUnit, value: Int)?) {
        self.millis = millis
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let off = zone.offset(at: seconds)
        var local = time_t(seconds + Int64(off))
        var parts = tm()
        gmtime_r(&local, &parts)
        var removed = 0
        if let r = round {
            switch r.unit {
            case .second:
                removed = Int(parts.tm_sec) % r.value
            case .minute:
                removed = (Int(parts.tm_min) % r.value) * 60 + Int(parts.tm_sec)
            case .hour:
                removed = (Int(parts.tm_hour) % r.value) * 3600 + Int(parts.tm_min) * 60 + Int(parts.tm_sec)
            }
            if removed > 0 {
                local -= time_t(removed)
                gmtime_r(&local, &parts)
            }
        }
        roundedSeconds = seconds - Int64(removed)
        offset = zone.offset(at: roundedSeconds)
        fields = parts
    }

    func append(_ c: Character, to out: inout String) {
        let f = fields
        func pad(_ v: Int32, _ w: Int) -> String {
            let s = String(v)
            return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
        }
        let hour12 = f.tm_hour % 12 == 0 ? 12 : f.tm_hour % 12
        switch c {
        case "Y": out += pad(f.tm_year + 1900, 4)
        case "y": out += pad((f.tm_year + 1900) % 100, 2)
        case "m": out += pad(f.tm_mon + 1, 2)
        case "n": out += String(f.tm_mon + 1)
        case "d": out += pad(f.tm_mday, 2)
        case "e": out += String(f.tm_mday)
        case "H": out += pad(f.tm_hour, 2)
        case "k": out += String(f.tm_hour)
        case "I": out += pad(hour12, 2)
        case "l": out += String(hour12)
        case "M": out += pad(f.tm_min, 2)
        case "S": out += pad(f.tm_sec, 2)
        case "s": out += String(roundedSeconds)
        case "j": out += pad(f.tm_yday + 1, 3)
        case "p": out += f.tm_hour < 12 ? "AM" : "PM"
        case "a": out += String(ResolvedTime.days[Int(f.tm_wday)].prefix(3))
        case "A": out += ResolvedTime.days[Int(f.tm_wday)]
        case "b": out += String(ResolvedTime.months[Int(f.tm_mon)].prefix(3))
        case "B": out += ResolvedTime.months[Int(f.tm_mon)]
        case "D": out += pad(f.tm_mon + 1, 2) + "/" + pad(f.tm_mday, 2) + "/" + pad((f.tm_year + 1900) % 100, 2)
        case "c":
            out += String(ResolvedTime.days[Int(f.tm_wday)].prefix(3)) + " " + String(ResolvedTime.months[Int(f.tm_mon)].prefix(3))
                + " \(f.tm_mday) " + pad(f.tm_hour, 2) + ":" + pad(f.tm_min, 2) + ":" + pad(f.tm_sec, 2) + " " + pad(f.tm_year + 1900, 4)
        case "z":
            let a = abs(offset)
            out += (offset < 0 ? "-" : "+") + pad(Int32(a / 3600), 2) + pad(Int32(a % 3600 / 60), 2)
        default: break
        }
    }
}

/// `%[localhost]`, `%[IP]`, `%[FQDN]`, looked up once.
struct HostNames {
    let localhost: String
    let ip: String
    let fqdn: String

    init() {
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, buf.count - 1)
        localhost = String(cString: buf)
        var hints = addrinfo()
        hints.ai_flags = AI_CANONNAME
        hints.ai_family = AF_INET
        var res: UnsafeMutablePointer<addrinfo>?
        var address = "127.0.0.1", canonical = localhost
        if getaddrinfo(localhost, nil, &hints, &res) == 0, let r = res {
            if let cn = r.pointee.ai_canonname { canonical = String(cString: cn) }
            if let sa = r.pointee.ai_addr {
                var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
                sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    var a = sin.pointee.sin_addr
                    _ = inet_ntop(AF_INET, &a, &text, socklen_t(text.count))
                }
                address = String(cString: text)
            }
            freeaddrinfo(r)
        }
        ip = address
        fqdn = canonical
    }

    func value(_ name: String, key: String) throws -> String {
        switch name.lowercased() {
        case "localhost": return localhost
        case "ip": return ip
        case "fqdn": return fqdn
        default: throw SluiceError.config("property '\(key)': unknown escape %[\(name)] (localhost, IP or FQDN)")
        }
    }
}
