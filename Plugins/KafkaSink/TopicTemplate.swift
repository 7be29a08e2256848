import SluiceSDK

/// `kafka.topic` with Flume's `%{header}` escapes, replaced per event by the
/// header's value (the empty string when the event lacks the header, as in
/// Flume's BucketPath). Other `%` sequences are kept as written.
struct TopicTemplate {
    enum Part {
        case literal([UInt8])
        case header(HeaderKey)
    }

    let parts: [Part]
    /// The topic when there are no escapes.
    let constant: String?

    init(_ text: String) {
        var parts: [Part] = []
        var literal: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "{"),
               let close = bytes[(i + 2)...].firstIndex(of: UInt8(ascii: "}")) {
                if !literal.isEmpty { parts.append(.literal(literal)) }
                literal = []
                parts.append(.header(HeaderKey(String(decoding: bytes[(i + 2)..<close], as: UTF8.self))))
                i = close + 1
            } else {
                literal.append(bytes[i])
                i += 1
            }
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts
        constant = parts.contains { if case .header = $0 { return true } else { return false } } ? nil : text
    }

    /// Writes the event's topic into `out`.
    func render(_ event: Event, into out: ScratchBuffer) {
        out.removeAll()
        for part in parts {
            switch part {
            case .literal(let l): l.withUnsafeBytes { out.append($0) }
            case .header(let h): if let v = h.value(in: event) { out.append(v) }
            }
        }
    }
}
