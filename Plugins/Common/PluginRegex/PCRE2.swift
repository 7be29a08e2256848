import CPCRE2
import SluiceSDK

/// A compiled PCRE2 (8-bit) pattern with its own match data, built once at
/// configure time and used from one thread at a time. Shared by the
/// first-party plugins that take Java-style regexes (linked into each).
///
/// Flavour: Java-like where cheap. Newlines are CR, LF or CRLF (Java's `.` and
/// `$` treat all three as line ends); `\uhhhh` and `\xhh` escapes work as in
/// Java. UTF mode is switched on only when the pattern could otherwise match
/// part of a multi-byte character; it is compiled with MATCH_INVALID_UTF so a
/// body that is not valid UTF-8 is still searched (invalid bytes never match)
/// instead of making the match fail with an error.
public final class PCRE2Regex {
    public enum Anchoring {
        /// Like Java's `Matcher.find()`: a match anywhere.
        case find
        /// Like Java's `Matcher.matches()`: the whole subject must match.
        case wholeSubject
    }

    public let pattern: String
    public let captureCount: Int
    public let isUTF: Bool
    public let isJIT: Bool

    private let code: OpaquePointer
    private let matchData: OpaquePointer
    private let matchContext: OpaquePointer?
    private let jitStack: OpaquePointer?
    /// Start/end byte offsets: pair 0 is the whole match, pair i group i.
    private let ovector: UnsafeMutablePointer<Int>
    /// Handed to PCRE2 for an empty subject whose buffer has no address.
    private let emptySubject: UnsafeMutablePointer<UInt8>

    /// Match failures other than "no match" (limits hit); reported once.
    public private(set) var matchErrors = 0

    /// PCRE2_UNSET, `~(size_t)0`, as it reads through an `Int` ovector.
    public static let unset = Int(bitPattern: UInt.max)

    /// Compiles `pattern`; `key` is the property it came from and is named in
    /// the config error on failure.
    public init(pattern: String, key: String, anchoring: Anchoring = .find) throws {
        self.pattern = pattern
        let utf = patternNeedsUTF(pattern)
        self.isUTF = utf

        guard let ccontext = pcre2_compile_context_create_8(nil) else {
            throw SluiceError(.noMemory, "property '\(key)': cannot allocate a PCRE2 compile context")
        }
        defer { pcre2_compile_context_free_8(ccontext) }
        _ = pcre2_set_newline_8(ccontext, UInt32(PCRE2_NEWLINE_ANYCRLF))
        _ = pcre2_set_compile_extra_options_8(ccontext, UInt32(PCRE2_EXTRA_ALT_BSUX))

        var options = UInt32(PCRE2_ALT_BSUX)
        if utf { options |= UInt32(PCRE2_UTF) | UInt32(PCRE2_MATCH_INVALID_UTF) }
        if anchoring == .wholeSubject { options |= UInt32(PCRE2_ANCHORED) | UInt32(PCRE2_ENDANCHORED) }

        // A trailing NUL keeps the buffer non-empty (an empty pattern is
        // legal); the length passed excludes it.
        var bytes = Array(pattern.utf8)
        let length = bytes.count
        bytes.append(0)
        var errorCode: Int32 = 0
        var errorOffset: Int = 0
        let compiled = bytes.withUnsafeBufferPointer { buf in
            pcre2_compile_8(buf.baseAddress, length, options, &errorCode, &errorOffset, ccontext)
        }
        guard let compiled else {
            throw SluiceError.config("property '\(key)': invalid regular expression '\(pattern)': "
                + "\(PCRE2Regex.message(for: errorCode)) at offset \(errorOffset)")
        }
        code = compiled

        var groups: UInt32 = 0
        _ = pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_CAPTURECOUNT), &groups)
        captureCount = Int(groups)

        // JIT when the platform has it; the interpreter otherwise.
        let jitOK = pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE)) == 0
        var stack: OpaquePointer? = nil
        var mcontext: OpaquePointer? = nil
        if jitOK {
            // The default JIT stack is 32 KiB of machine stack; give deep
            // patterns room to grow instead of failing.
            stack = pcre2_jit_stack_create_8(32 * 1024, 1024 * 1024, nil)
            mcontext = pcre2_match_context_create_8(nil)
            if let stack, let mcontext {
                pcre2_jit_stack_assign_8(mcontext, nil, UnsafeMutableRawPointer(stack))
            }
        }
        isJIT = jitOK
        jitStack = stack
        matchContext = mcontext

        guard let md = pcre2_match_data_create_from_pattern_8(compiled, nil) else {
            if let mcontext { pcre2_match_context_free_8(mcontext) }
            if let stack { pcre2_jit_stack_free_8(stack) }
            pcre2_code_free_8(compiled)
            throw SluiceError(.noMemory, "property '\(key)': cannot allocate PCRE2 match data")
        }
        matchData = md
        ovector = pcre2_get_ovector_pointer_8(md)
        emptySubject = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        emptySubject.initialize(to: 0)
    }

    deinit {
        pcre2_match_data_free_8(matchData)
        if let matchContext { pcre2_match_context_free_8(matchContext) }
        if let jitStack { pcre2_jit_stack_free_8(jitStack) }
        pcre2_code_free_8(code)
        emptySubject.deallocate()
    }

    /// PCRE2's text for an error code.
    public static func message(for code: Int32) -> String {
        var buf = [UInt8](repeating: 0, count: 256)
        let n = buf.withUnsafeMutableBufferPointer { pcre2_get_error_message_8(code, $0.baseAddress, $0.count) }
        return n > 0 ? String(decoding: buf[0..<Int(n)], as: UTF8.self) : "PCRE2 error \(code)"
    }

    /// Searches `subject` from byte offset `start`. Returns PCRE2's code:
    /// > 0 matched (1 + highest group set), PCRE2_ERROR_NOMATCH (-1), or
    /// another negative error.
    @inline(__always)
    public func match(_ subject: UnsafeRawBufferPointer, from start: Int = 0) -> Int32 {
        let base = subject.baseAddress.map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) }
            ?? UnsafePointer(emptySubject)
        if isJIT {
            return pcre2_jit_match_8(code, base, subject.count, start, 0, matchData, matchContext)
        }
        return pcre2_match_8(code, base, subject.count, start, 0, matchData, matchContext)
    }

    /// True when the pattern matches somewhere in `subject` (or the whole of
    /// it, for `.wholeSubject`). An error counts as no match and is noted.
    @inline(__always)
    public func matches(_ subject: UnsafeRawBufferPointer, context: ComponentContext?) -> Bool {
        let rc = match(subject)
        if rc >= 0 { return true }
        if rc != PCRE2_ERROR_NOMATCH { noteError(rc, context: context) }
        return false
    }

    /// The byte range of group `i` (0 = whole match) after a successful
    /// match, or nil when that group did not take part.
    @inline(__always)
    public func range(ofGroup i: Int) -> Range<Int>? {
        guard i >= 0, i <= captureCount else { return nil }
        let s = ovector[2 * i], e = ovector[2 * i + 1]
        // `\K` inside a lookahead can report start > end; treat as unset.
        guard s != PCRE2Regex.unset, e != PCRE2Regex.unset, s <= e else { return nil }
        return s..<e
    }

    /// The number of a named group, or nil.
    public func groupNumber(named name: String) -> Int? {
        var bytes = Array(name.utf8)
        bytes.append(0)
        let n = bytes.withUnsafeBufferPointer { pcre2_substring_number_from_name_8(code, $0.baseAddress) }
        return n > 0 ? Int(n) : nil
    }

    /// Walks the matches in `subject` the way repeated `Matcher.find()` calls
    /// do in Java: after a match the next search starts where it ended, after
    /// an empty match one character further. `body` gets each match's
    /// start/end and returns false to stop. Returns the negative PCRE2 code
    /// that ended the walk (NOMATCH normally) or 1 when `body` stopped it.
    @discardableResult
    public func forEachMatch(in subject: UnsafeRawBufferPointer, context: ComponentContext?,
                      _ body: (Int, Int) -> Bool) -> Int32 {
        let length = subject.count
        var from = 0
        while from <= length {
            let rc = match(subject, from: from)
            if rc < 0 {
                if rc != PCRE2_ERROR_NOMATCH { noteError(rc, context: context) }
                return rc
            }
            let s = ovector[0], e = ovector[1]
            guard s != PCRE2Regex.unset, e != PCRE2Regex.unset, s <= e, e <= length else {
                return PCRE2_ERROR_NOMATCH
            }
            if !body(s, e) { return 1 }
            var next = e
            if e == s {
                if e >= length { break }
                next = e + characterLength(subject, at: e)
            }
            if next <= from { break } // cannot happen; guards against a loop
            from = next
        }
        return PCRE2_ERROR_NOMATCH
    }

    /// Bytes in the UTF-8 character starting at `offset`; 1 for a byte that
    /// does not start a well-formed sequence. Used in byte mode too: a
    /// pattern that can match the empty string must not step into the middle
    /// of a character (Java moves one character on).
    @inline(__always)
    private func characterLength(_ subject: UnsafeRawBufferPointer, at offset: Int) -> Int {
        guard offset < subject.count else { return 1 }
        let n: Int
        switch subject[offset] {
        case 0xC2...0xDF: n = 2
        case 0xE0...0xEF: n = 3
        case 0xF0...0xF4: n = 4
        default: return 1
        }
        guard offset + n <= subject.count else { return 1 }
        for k in 1..<n where subject[offset + k] & 0xC0 != 0x80 { return 1 }
        return n
    }

    /// Match errors (resource limits, mostly) are not fatal: the event is
    /// treated as not matching. The first one is logged.
    public func noteError(_ rc: Int32, context: ComponentContext?) {
        matchErrors += 1
        if matchErrors == 1, let context {
            context.log(.warn, "regular expression '\(pattern)' failed to match: \(PCRE2Regex.message(for: rc)); "
                + "events it fails on are treated as not matching (logged once)")
        }
    }
}

/// Whether a pattern needs UTF mode to match the way Java does on decoded
/// text. Without UTF, PCRE2 works on bytes: fine for ASCII literals and
/// classes, wrong wherever one pattern item could swallow part of a
/// multi-byte character (`.`, negated classes and escapes) or name a
/// character above 0x7F. False positives only cost a little speed.
public func patternNeedsUTF(_ pattern: String) -> Bool {
    let b = Array(pattern.utf8)
    var i = 0
    while i < b.count {
        let c = b[i]
        if c >= 0x80 || c == UInt8(ascii: ".") { return true }
        if c == UInt8(ascii: "^"), i > 0, b[i - 1] == UInt8(ascii: "[") || b[i - 1] == UInt8(ascii: ":") {
            return true // [^...] or [[:^class:]]
        }
        if c == UInt8(ascii: "\\"), i + 1 < b.count {
            let e = b[i + 1]
            switch e {
            case UInt8(ascii: "W"), UInt8(ascii: "S"), UInt8(ascii: "D"), UInt8(ascii: "H"), UInt8(ascii: "V"),
                 UInt8(ascii: "N"), UInt8(ascii: "R"), UInt8(ascii: "X"), UInt8(ascii: "C"), UInt8(ascii: "p"),
                 UInt8(ascii: "P"), UInt8(ascii: "u"), UInt8(ascii: "x"), UInt8(ascii: "o"):
                return true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                // An octal escape such as \200 can name a byte above 0x7F.
                if i + 3 < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i + 2]),
                   (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i + 3]) {
                    return true
                }
            default:
                break
            }
            i += 2 // skip the escaped character: `\.` is a literal dot, `\\.` still a wildcard
            continue
        }
        i += 1
    }
    return false
}
