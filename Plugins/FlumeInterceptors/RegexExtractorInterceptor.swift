import CPCRE2
import PluginRegex
import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// Flume's `regex_extractor` interceptor: searches each body for `regex`;
/// on a match, capture group i goes through the i-th serializer listed in
/// `serializers` and lands in header `serializers.<s>.name`. Groups that did
/// not take part in the match set nothing; groups beyond the serializer list
/// are ignored; an event with no match is left alone.
///
/// Serializer types (`serializers.<s>.type`):
///   - `DEFAULT` (or Flume's pass-through class name): the group's bytes.
///   - `org.apache.flume.interceptor.RegexExtractorInterceptorMillisSerializer`
///     (or `MILLIS`): the group parsed with the Joda-style date pattern
///     `serializers.<s>.pattern`, as epoch milliseconds. Like Flume (Joda's
///     default zone is the JVM's), values are local time of the agent's zone
///     (TZ / /etc/localtime) unless they carry an offset (Z / ZZ). A value
///     that does not parse sets nothing.
final class RegexExtractorInterceptor: Interceptor {
    static let configKeys: [ConfigKey] = [
        ConfigKey("regex", .string, required: true, "Regular expression searched for in the body"),
        ConfigKey("serializers", .list, required: true, "Serializer names; the i-th handles capture group i"),
        ConfigKey("serializers.*", .string,
                  "Per serializer: .name (header, required), .type (DEFAULT or MILLIS / class name), .pattern (date pattern for MILLIS)"),
    ]

    private let context: ComponentContext
    private let regex: PCRE2Regex
    /// Group i+1 goes to header keys[keyRanges[i]], converted by
    /// conversions[i] (nil: the bytes as they are).
    private let keys: [UInt8]
    private let keyRanges: [Range<Int>]
    private let conversions: [DatePattern?]
    /// Groups that have a serializer: min(capture groups, serializers).
    private let usedGroups: Int
    /// Header values of the current event, copied out of the body before any
    /// header is set (setting one may move the event's bytes).
    private var values = ByteBuilder()
    /// Per used group: start and end of its value in `values`, start -1
    /// when the group sets nothing for the current event.
    private let spans: UnsafeMutablePointer<Int>

    init(context: ComponentContext, properties: Properties) throws {
        self.context = context
        regex = try PCRE2Regex(pattern: try properties.requiredString("regex"), key: "regex")
        let names = properties.list("serializers")
        if names.isEmpty { throw SluiceError.config("missing required property 'serializers'") }
        let all = properties.subset("serializers")
        var keys: [UInt8] = []
        var keyRanges: [Range<Int>] = []
        var conversions: [DatePattern?] = []
        for name in names {
            let sub = all.subset(name)
            let prefix = "serializers.\(name)."
            guard let header = sub["name"], !header.isEmpty else {
                throw SluiceError.config("missing required property '\(prefix)name'")
            }
            let type = sub.string("type", default: "DEFAULT").trimmingSpaces
            switch type {
            case _ where type.uppercased() == "DEFAULT",
                 "org.apache.flume.interceptor.RegexExtractorInterceptorPassThroughSerializer":
                conversions.append(nil)
            case _ where type.uppercased() == "MILLIS",
                 "org.apache.flume.interceptor.RegexExtractorInterceptorMillisSerializer":
                guard let pattern = sub["pattern"], !pattern.isEmpty else {
                    throw SluiceError.config("missing required property '\(prefix)pattern' (date pattern for type \(type))")
                }
                do {
                    conversions.append(try DatePattern(pattern))
                } catch let e as DatePattern.PatternError {
                    throw SluiceError.config("property '\(prefix)pattern': \(e.message) in '\(pattern)'")
                }
            default:
                throw SluiceError.config("property '\(prefix)type': unsupported serializer '\(type)' "
                    + "(use DEFAULT or MILLIS / org.apache.flume.interceptor.RegexExtractorInterceptorMillisSerializer)")
            }
            let start = keys.count
            keys.append(contentsOf: header.utf8)
            keyRanges.append(start..<keys.count)
        }
        self.keys = keys
        self.keyRanges = keyRanges
        self.conversions = conversions
        usedGroups = min(regex.captureCount, names.count)
        spans = UnsafeMutablePointer<Int>.allocate(capacity: max(2 * usedGroups, 1))
        if names.count > regex.captureCount {
            context.log(.warn, "regex '\(regex.pattern)' has \(regex.captureCount) capture group(s) but "
                + "\(names.count) serializers are listed; the extra serializers are never used")
        }
    }

    deinit {
        values.free()
        spans.deallocate()
    }

    func intercept(_ batch: MutableBatch) throws {
        let count = batch.count
        if count == 0 || usedGroups == 0 { return }
        let regex = self.regex
        let groups = usedGroups
        let spans = self.spans
        var out = values
        defer { values = out }
        keys.withUnsafeBufferPointer { keys in
        keyRanges.withUnsafeBufferPointer { keyRanges in
        conversions.withUnsafeBufferPointer { conversions in
            for i in 0..<count {
                let body = batch[i].body
                let rc = regex.match(body)
                if rc < 0 {
                    if rc != PCRE2_ERROR_NOMATCH { regex.noteError(rc, context: context) }
                    continue
                }
                out.reset()
                var any = false
                for g in 0..<groups {
                    spans[2 * g] = -1
                    guard let r = regex.range(ofGroup: g + 1), r.upperBound <= body.count else { continue }
                    let value = UnsafeRawBufferPointer(rebasing: body[r])
                    let start = out.count
                    if let pattern = conversions[g] {
                        guard let ms = pattern.parseMillis(value) else { continue }
                        out.appendDecimal(ms)
                    } else {
                        out.append(value)
                    }
                    spans[2 * g] = start
                    spans[2 * g + 1] = out.count
                    any = true
                }
                if !any { continue }
                for g in 0..<groups where spans[2 * g] >= 0 {
                    batch.setHeader(i, key: UnsafeBufferPointer(rebasing: keys[keyRanges[g]]),
                                    value: out.bytes(spans[2 * g]..<spans[2 * g + 1]))
                }
            }
        }
        }
        }
    }
}

// MARK: - Joda-style date patterns

/// A subset of Joda-Time's `DateTimeFormat` patterns, for parsing only:
///
///   yyyy / y…  year (1–9 digits, optional sign; exactly as many digits as
///              letters when another number follows directly)
///   yy         two-digit year, mapped into [this year − 80, this year + 19];
///              any other digit count is taken as a full year (Joda's
///              lenient rule) unless another number follows directly
///   M / MM     month 1–12;  MMM / MMMM  English month name or abbreviation
///   d / dd     day of month (checked against the month)
///   H / HH     hour 0–23;  h / hh  hour 1–12 (with `a`);  K  0–11;  k  1–24
///   m / mm     minute;  s / ss  second
///   S…         fraction of a second (as many digits as letters, at most)
///   a          AM / PM
///   E…         English day name or abbreviation (checked, then ignored)
///   Z / ZZ     offset: `Z`, `+hhmm` or `+hh:mm` (either form for both)
///   '…'        quoted literal text; '' is a quote
/// Other non-letters are literal. Literals and names match without regard to
/// case, as in Joda. The whole value must be consumed. Missing fields default
/// to 1970-01-01T00:00:00.000. Without a parsed offset the fields are local
/// time in the process's time zone: a time skipped by a daylight-saving jump
/// does not parse, an ambiguous one takes the earlier instant (both as Joda).
final class DatePattern {
    struct PatternError: Error { let message: String }

    enum Field {
        case literal([UInt8])
        case year(maxDigits: Int)
        case twoDigitYear(lenient: Bool)
        case month(maxDigits: Int)
        case monthName
        case day
        case hourOfDay      // H 0-23
        case clockHourHalf  // h 1-12
        case hourHalf       // K 0-11
        case clockHourDay   // k 1-24
        case minute
        case second
        case fraction(maxDigits: Int)
        case halfday
        case dayName
        case zoneOffset
    }

    let fields: [Field]
    /// The first year of the 100-year window for two-digit years.
    let twoDigitYearStart: Int

    /// A one-entry cache: log lines in a batch often share a timestamp.
    /// Pointer storage, written only by the owning interceptor's (never
    /// concurrent) intercept calls. cacheState: [input length (-1: empty),
    /// result, 1 if the result is valid].
    private static let cacheCapacity = 64
    private let cacheInput: UnsafeMutablePointer<UInt8>
    private let cacheState: UnsafeMutablePointer<Int64>

    init(_ pattern: String) throws {
        // Split into tokens: runs of one letter, or literal text.
        enum Token { case letters(UInt8, Int); case text([UInt8]) }
        var tokens: [Token] = []
        let p = Array(pattern.utf8)
        var i = 0
        func isLetter(_ c: UInt8) -> Bool {
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
        }
        func appendText(_ bytes: [UInt8]) {
            if case .text(let prev)? = tokens.last {
                tokens[tokens.count - 1] = .text(prev + bytes)
            } else {
                tokens.append(.text(bytes))
            }
        }
        while i < p.count {
            let c = p[i]
            if isLetter(c) {
                var j = i
                while j < p.count && p[j] == c { j += 1 }
                tokens.append(.letters(c, j - i))
                i = j
            } else if c == UInt8(ascii: "'") {
                if i + 1 < p.count && p[i + 1] == UInt8(ascii: "'") {
                    appendText([c])
                    i += 2
                    continue
                }
                var text: [UInt8] = []
                var j = i + 1
                var closed = false
                while j < p.count {
                    if p[j] == UInt8(ascii: "'") {
                        if j + 1 < p.count && p[j + 1] == UInt8(ascii: "'") {
                            text.append(p[j])
                            j += 2
                            continue
                        }
                        closed = true
                        j += 1
                        break
                    }
                    text.append(p[j])
                    j += 1
                }
                if !closed { throw PatternError(message: "unterminated quote") }
                appendText(text)
                i = j
            } else {
                appendText([c])
                i += 1
            }
        }

        func isNumeric(_ t: Token?) -> Bool {
            guard case .letters(let c, let n)? = t else { return false }
            switch c {
            case UInt8(ascii: "M"): return n <= 2
            case UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "d"), UInt8(ascii: "H"), UInt8(ascii: "h"),
                 UInt8(ascii: "K"), UInt8(ascii: "k"), UInt8(ascii: "m"), UInt8(ascii: "s"), UInt8(ascii: "S"):
                return true
            default: return false
            }
        }

        var fields: [Field] = []
        for (index, token) in tokens.enumerated() {
            switch token {
            case .text(let bytes):
                fields.append(.literal(bytes))
            case .letters(let c, let n):
                let nextIsNumeric = index + 1 < tokens.count && isNumeric(tokens[index + 1])
                switch c {
                case UInt8(ascii: "y"), UInt8(ascii: "Y"):
                    if n == 2 {
                        fields.append(.twoDigitYear(lenient: !nextIsNumeric))
                    } else {
                        fields.append(.year(maxDigits: nextIsNumeric ? min(n, 9) : 9))
                    }
                case UInt8(ascii: "M"):
                    fields.append(n >= 3 ? .monthName : .month(maxDigits: 2))
                case UInt8(ascii: "d"): fields.append(.day)
                case UInt8(ascii: "H"): fields.append(.hourOfDay)
                case UInt8(ascii: "h"): fields.append(.clockHourHalf)
                case UInt8(ascii: "K"): fields.append(.hourHalf)
                case UInt8(ascii: "k"): fields.append(.clockHourDay)
                case UInt8(ascii: "m"): fields.append(.minute)
                case UInt8(ascii: "s"): fields.append(.second)
                case UInt8(ascii: "S"): fields.append(.fraction(maxDigits: min(n, 9)))
                case UInt8(ascii: "a"): fields.append(.halfday)
                case UInt8(ascii: "E"): fields.append(.dayName)
                case UInt8(ascii: "Z"):
                    if n > 2 { throw PatternError(message: "zone ids (ZZZ) are not supported") }
                    fields.append(.zoneOffset)
                default:
                    let letters = String(decoding: [UInt8](repeating: c, count: n), as: UTF8.self)
                    throw PatternError(message: "unsupported pattern letters '\(letters)'")
                }
            }
        }
        self.fields = fields
        let thisYear = Int(civilFromDays(currentTimeMillis() / 86_400_000).year)
        twoDigitYearStart = thisYear - 80
        cacheInput = UnsafeMutablePointer<UInt8>.allocate(capacity: DatePattern.cacheCapacity)
        cacheState = UnsafeMutablePointer<Int64>.allocate(capacity: 3)
        cacheState.initialize(repeating: 0, count: 3)
        cacheState[0] = -1
    }

    deinit {
        cacheInput.deallocate()
        cacheState.deallocate()
    }

    /// Epoch milliseconds for `text`, or nil when it does not fit the
    /// pattern or names an impossible date or time.
    func parseMillis(_ text: UnsafeRawBufferPointer) -> Int64? {
        let n = text.count
        guard n <= DatePattern.cacheCapacity, let src = text.baseAddress else { return parse(text) }
        if cacheState[0] == Int64(n) && memcmp(cacheInput, src, n) == 0 {
            return cacheState[2] != 0 ? cacheState[1] : nil
        }
        let result = parse(text)
        cacheInput.update(from: src.assumingMemoryBound(to: UInt8.self), count: n)
        cacheState[0] = Int64(n)
        cacheState[1] = result ?? 0
        cacheState[2] = result == nil ? 0 : 1
        return result
    }

    private func parse(_ text: UnsafeRawBufferPointer) -> Int64? {
        var pos = 0
        let n = text.count
        var year = 1970, month = 1, day = 1
        var hour24: Int? = nil, hour12: Int? = nil, pm = false
        var minute = 0, second = 0, millis = 0
        var offsetMinutes: Int? = nil

        /// Reads 1...max digits (with an optional sign when `signed`).
        func number(max: Int, signed: Bool = false) -> (value: Int, digits: Int)? {
            var negative = false
            if signed && pos < n && (text[pos] == UInt8(ascii: "-") || text[pos] == UInt8(ascii: "+")) {
                negative = text[pos] == UInt8(ascii: "-")
                pos += 1
            }
            var value = 0, digits = 0
            while digits < max && pos < n, text[pos] >= UInt8(ascii: "0"), text[pos] <= UInt8(ascii: "9") {
                value = value * 10 + Int(text[pos] - UInt8(ascii: "0"))
                digits += 1
                pos += 1
            }
            if digits == 0 { return nil }
            return (negative ? -value : value, digits)
        }

        /// Matches one of `names` (case-insensitive), longest first; returns its index.
        func name(_ names: [[UInt8]]) -> Int? {
            var best: (index: Int, length: Int)? = nil
            for (k, c) in names.enumerated() {
                if c.count > n - pos || c.count <= (best?.length ?? 0) { continue }
                var same = true
                for j in 0..<c.count where asciiLower(text[pos + j]) != asciiLower(c[j]) {
                    same = false
                    break
                }
                if same { best = (k, c.count) }
            }
            guard let best else { return nil }
            pos += best.length
            return best.index
        }

        for field in fields {
            switch field {
            case .literal(let bytes):
                if bytes.count > n - pos { return nil }
                for j in 0..<bytes.count where asciiLower(text[pos + j]) != asciiLower(bytes[j]) { return nil }
                pos += bytes.count
            case .year(let maxDigits):
                guard let v = number(max: maxDigits, signed: true) else { return nil }
                year = v.value
            case .twoDigitYear(let lenient):
                let signed = lenient && pos < n && (text[pos] == UInt8(ascii: "-") || text[pos] == UInt8(ascii: "+"))
                guard let v = number(max: lenient ? 9 : 2, signed: lenient) else { return nil }
                if !signed && v.digits == 2 {
                    let base = twoDigitYearStart
                    year = base + ((v.value - base % 100) % 100 + 100) % 100
                } else if lenient {
                    year = v.value
                } else {
                    return nil
                }
            case .month(let maxDigits):
                guard let v = number(max: maxDigits) else { return nil }
                month = v.value
            case .monthName:
                guard let k = name(monthNames) else { return nil }
                month = k % 12 + 1
            case .day:
                guard let v = number(max: 2) else { return nil }
                day = v.value
            case .hourOfDay:
                guard let v = number(max: 2), v.value <= 23 else { return nil }
                hour24 = v.value
            case .clockHourHalf:
                guard let v = number(max: 2), v.value >= 1, v.value <= 12 else { return nil }
                hour12 = v.value % 12
            case .hourHalf:
                guard let v = number(max: 2), v.value <= 11 else { return nil }
                hour12 = v.value
            case .clockHourDay:
                guard let v = number(max: 2), v.value >= 1, v.value <= 24 else { return nil }
                hour24 = v.value % 24
            case .minute:
                guard let v = number(max: 2), v.value <= 59 else { return nil }
                minute = v.value
            case .second:
                guard let v = number(max: 2), v.value <= 59 else { return nil }
                second = v.value
            case .fraction(let maxDigits):
                guard let v = number(max: maxDigits) else { return nil }
                // A fraction: "5" is 500 ms, "05" 50 ms, "0512" 51 ms.
                var ms = v.value
                var digits = v.digits
                while digits < 3 { ms *= 10; digits += 1 }
                while digits > 3 { ms /= 10; digits -= 1 }
                millis = ms
            case .halfday:
                guard let k = name(halfdayNames) else { return nil }
                pm = k == 1
            case .dayName:
                guard name(dayNames) != nil else { return nil }
            case .zoneOffset:
                guard pos < n else { return nil }
                if text[pos] == UInt8(ascii: "Z") || text[pos] == UInt8(ascii: "z") {
                    pos += 1
                    offsetMinutes = 0
                    continue
                }
                let sign: Int
                switch text[pos] {
                case UInt8(ascii: "+"): sign = 1
                case UInt8(ascii: "-"): sign = -1
                default: return nil
                }
                pos += 1
                let hStart = pos
                guard let h = number(max: 2), pos - hStart == 2, h.value <= 23 else { return nil }
                if pos < n && text[pos] == UInt8(ascii: ":") { pos += 1 }
                let mStart = pos
                guard let m = number(max: 2), pos - mStart == 2, m.value <= 59 else { return nil }
                offsetMinutes = sign * (h.value * 60 + m.value)
            }
        }
        if pos != n { return nil }

        guard (1...12).contains(month), abs(year) <= 100_000_000,
              day >= 1, day <= daysInMonth(year: year, month: month) else { return nil }
        let hour = hour24 ?? ((hour12 ?? 0) + (pm ? 12 : 0))
        let days = daysFromCivil(year: Int64(year), month: Int64(month), day: Int64(day))
        let wall = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        let seconds: Int64
        if let offsetMinutes {
            seconds = wall - Int64(offsetMinutes * 60)
        } else {
            guard let local = localWallClockToUTC(wall) else { return nil }
            seconds = local
        }
        return seconds * 1000 + Int64(millis)
    }
}

private let monthNames: [[UInt8]] = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
].map { Array($0.utf8) }

private let dayNames: [[UInt8]] = [
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
    "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun",
].map { Array($0.utf8) }

private let halfdayNames: [[UInt8]] = [Array("AM".utf8), Array("PM".utf8)]

/// The UTC seconds of a local wall-clock time (given as seconds since the
/// epoch as if it were UTC) in the process's time zone, or nil when a
/// daylight-saving jump skips it. Of two instants showing the same wall
/// time (the hour repeated in autumn) the earlier one wins, as in Joda.
private func localWallClockToUTC(_ wall: Int64) -> Int64? {
    func offset(at t: Int64) -> Int64? {
        var time = time_t(t)
        var parts = tm()
        guard localtime_r(&time, &parts) != nil else { return nil }
        return Int64(parts.tm_gmtoff)
    }
    // The offsets in force a day either side cover any single transition.
    guard let before = offset(at: wall - 86_400), let after = offset(at: wall + 86_400) else { return nil }
    var best: Int64? = nil
    for candidateOffset in [before, after] {
        let t = wall - candidateOffset
        if offset(at: t) == candidateOffset, best.map({ t < $0 }) ?? true { best = t }
    }
    return best
}

@inline(__always)
private func asciiLower(_ c: UInt8) -> UInt8 {
    c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") ? c | 0x20 : c
}

private func isLeapYear(_ y: Int) -> Bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

private func daysInMonth(year: Int, month: Int) -> Int {
    switch month {
    case 2: return isLeapYear(year) ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar.
/// Counts in 400-year cycles of 146097 days, with years starting in March so
/// that the leap day falls at the end of a year.
func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
    let y = month <= 2 ? year - 1 : year
    let cycle = (y >= 0 ? y : y - 399) / 400
    let yearOfCycle = y - cycle * 400                                   // 0...399
    let monthFromMarch = (month + 9) % 12                               // Mar = 0 ... Feb = 11
    let dayOfYear = (153 * monthFromMarch + 2) / 5 + day - 1             // 0...365
    let dayOfCycle = yearOfCycle * 365 + yearOfCycle / 4 - yearOfCycle / 100 + dayOfYear
    return cycle * 146_097 + dayOfCycle - 719_468                       // 719468 = days 0000-03-01 → 1970-01-01
}

/// The inverse of `daysFromCivil` (only the year is needed here).
func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
    let z = days + 719_468
    let cycle = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfCycle = z - cycle * 146_097
    let yearOfCycle = (dayOfCycle - dayOfCycle / 1460 + dayOfCycle / 36_524 - dayOfCycle / 146_096) / 365
    let dayOfYear = dayOfCycle - (365 * yearOfCycle + yearOfCycle / 4 - yearOfCycle / 100)
    let monthFromMarch = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
    let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
    let year = yearOfCycle + cycle * 400 + (month <= 2 ? 1 : 0)
    return (year, month, day)
}
