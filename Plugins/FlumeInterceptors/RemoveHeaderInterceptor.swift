import SluiceABI
import PluginRegex
import SluiceSDK

/// Flume's `remove_header` interceptor. Removes, in this order:
///   - the header named exactly `withName`;
///   - every header named in `fromList`, a list split by the regex
///     `fromListSeparator` (Java `String.split` rules: a leading empty name is
///     kept, trailing empty names dropped);
///   - every header whose whole name matches the regex `matching` (Java
///     `matches()`, not `find()`).
/// With none of them set, events pass unchanged.
final class RemoveHeaderInterceptor: Interceptor {
    static let configKeys: [ConfigKey] = [
        ConfigKey("withName", .string, "Name of one header to remove"),
        ConfigKey("fromList", .string, "Names of headers to remove, split by fromListSeparator"),
        ConfigKey("fromListSeparator", .string, default: "\\s*,\\s*", "Regular expression separating the names in fromList"),
        ConfigKey("matching", .string, "Remove every header whose whole name matches this regular expression"),
    ]

    private let context: ComponentContext
    private let withName: String?
    private let fromList: [String]
    private let fromListBytes: [[UInt8]]
    private let matching: PCRE2Regex?

    init(context: ComponentContext, properties: Properties) throws {
        self.context = context
        withName = properties["withName"]
        if let list = properties["fromList"] {
            let separator = try PCRE2Regex(pattern: properties.string("fromListSeparator", default: "\\s*,\\s*"),
                                           key: "fromListSeparator")
            var seen = Set<String>()
            fromList = javaSplit(list, by: separator).filter { seen.insert($0).inserted }
        } else {
            fromList = []
        }
        fromListBytes = fromList.map { Array($0.utf8) }
        matching = try properties["matching"].map {
            try PCRE2Regex(pattern: $0, key: "matching", anchoring: .wholeSubject)
        }
    }

    func intercept(_ batch: MutableBatch) throws {
        let count = batch.count
        if count == 0 { return }
        let context = self.context
        // Names found by a header scan, removed after the scan (removing
        // moves the event's header storage, so it cannot happen mid-scan).
        var doomed: [String] = []
        for i in 0..<count {
            if let withName { batch.removeHeader(i, withName) }
            guard let matching else {
                // A list only: no need to look at the event's headers.
                for name in fromList { batch.removeHeader(i, name) }
                continue
            }
            doomed.removeAll(keepingCapacity: true)
            let event = batch[i]
            for j in 0..<event.headerCount {
                let name = event.header(at: j).key
                if isListed(name) || matching.matches(name, context: context) {
                    doomed.append(String(decoding: name, as: UTF8.self))
                }
            }
            for name in doomed { batch.removeHeader(i, name) }
        }
    }

    @inline(__always)
    private func isListed(_ name: UnsafeRawBufferPointer) -> Bool {
        for candidate in fromListBytes where candidate.count == name.count {
            if candidate.withUnsafeBytes({ $0.elementsEqual(name) }) { return true }
        }
        return false
    }
}

/// Java's `String.split(regex)`: the text between matches; a zero-width
/// match at the very start produces no leading empty piece; trailing empty
/// pieces are dropped; no match at all gives the whole string.
func javaSplit(_ text: String, by separator: PCRE2Regex) -> [String] {
    let bytes = Array(text.utf8)
    var pieces: [String] = []
    var split = false
    bytes.withUnsafeBytes { buf in
        var index = 0
        separator.forEachMatch(in: buf, context: nil) { start, end in
            if index == 0 && start == 0 && end == 0 { return true }
            pieces.append(String(decoding: UnsafeRawBufferPointer(rebasing: buf[index..<start]), as: UTF8.self))
            index = end
            split = true
            return true
        }
        if split {
            pieces.append(String(decoding: UnsafeRawBufferPointer(rebasing: buf[index..<buf.count]), as: UTF8.self))
        }
    }
    if !split { return [text] }
    while let last = pieces.last, last.isEmpty { pieces.removeLast() }
    return pieces
}
