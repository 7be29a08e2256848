import SluiceABI

/// Picks the channels for each event of a batch. Channels are indices into
/// the source's channel list; masks are bit sets over those indices.
enum Selection {
    /// Every event to the same channels (replicating): the common fast path.
    case uniform(required: UInt64, optional: UInt64)
    /// Per-event masks.
    case perEvent(required: [UInt64], optional: [UInt64])
}

protocol ChannelSelecting: AnyObject {
    func select(_ batch: UnsafeMutablePointer<sluice_batch>) throws -> Selection
}

struct SelectorConfigError: Error, CustomStringConvertible {
    var description: String
}

/// Flume's replicating selector: every event to every channel, those in
/// `optional` without failing the submit.
final class ReplicatingSelector: ChannelSelecting {
    static let knownKeys = ["optional"]
    let selection: Selection

    init(channels: [String], properties: [String: String]) throws {
        let optional = try maskOf(properties["optional"], channels, key: "selector.optional")
        let all: UInt64 = channels.count == 64 ? ~0 : (1 << UInt64(channels.count)) - 1
        selection = .uniform(required: all & ~optional, optional: optional)
    }

    func select(_ batch: UnsafeMutablePointer<sluice_batch>) throws -> Selection { selection }
}

/// Flume's multiplexing selector: the value of `header` picks channels via
/// `mapping.<value>`; `default` when absent or unmapped; `optional.<value>`
/// adds optional channels.
final class MultiplexingSelector: ChannelSelecting {
    static let knownKeys = ["header", "mapping.*", "default", "optional.*"]
    let header: [UInt8]
    let mapping: [[UInt8]: (UInt64, UInt64)]
    let defaultMask: UInt64

    init(channels: [String], properties: [String: String]) throws {
        header = Array((properties["header"] ?? "flume.selector.header").utf8)
        var m: [[UInt8]: (UInt64, UInt64)] = [:]
        var optionalOnly: [String: UInt64] = [:]
        for (k, v) in properties {
            if k.hasPrefix("mapping.") {
                let value = String(k.dropFirst(8))
                let mask = try maskOf(v, channels, key: "selector.\(k)")
                if mask == 0 { throw SelectorConfigError(description: "selector.\(k): empty channel list") }
                m[Array(value.utf8), default: (0, 0)].0 = mask
            } else if k.hasPrefix("optional.") {
                optionalOnly[String(k.dropFirst(9))] = try maskOf(v, channels, key: "selector.\(k)")
            }
        }
        for (value, opt) in optionalOnly {
            let key = Array(value.utf8)
            let req = m[key]?.0 ?? 0
            m[key] = (req, opt & ~req)
        }
        mapping = m
        defaultMask = try maskOf(properties["default"], channels, key: "selector.default")
    }

    func select(_ batch: UnsafeMutablePointer<sluice_batch>) throws -> Selection {
        let n = batch.pointee.count
        var req = [UInt64](repeating: defaultMask, count: n)
        var opt = [UInt64](repeating: 0, count: n)
        for i in 0..<n {
            let e = batch.pointee.events[i]
            guard let hs = e.headers else { continue }
            for j in 0..<Int(e.header_count) where bytesEqual(hs[j].key, header, header.count) {
                let v = hs[j].value
                let key = v.len == 0 ? [] : Array(UnsafeBufferPointer(start: v.ptr, count: v.len))
                if let (r, o) = mapping[key] {
                    // A value with only optional channels still goes to the default.
                    req[i] = r == 0 ? defaultMask : r
                    opt[i] = o & ~req[i]
                }
                break
            }
        }
        return .perEvent(required: req, optional: opt)
    }
}

/// Flume's load_balancing selector: one channel per event, round-robin or random.
final class LoadBalancingSelector: ChannelSelecting {
    static let knownKeys = ["policy"]
    let count: Int
    let random: Bool
    private var next = 0

    init(channels: [String], properties: [String: String]) throws {
        count = channels.count
        switch (properties["policy"] ?? "round_robin").lowercased() {
        case "round_robin": random = false
        case "random": random = true
        case let p: throw SelectorConfigError(description: "selector.policy: '\(p)' is not round_robin or random")
        }
    }

    func select(_ batch: UnsafeMutablePointer<sluice_batch>) throws -> Selection {
        let n = batch.pointee.count
        var req = [UInt64](repeating: 0, count: n)
        for i in 0..<n {
            let c = random ? Int.random(in: 0..<count) : next
            next = (next + 1) % count
            req[i] = 1 << UInt64(c)
        }
        return .perEvent(required: req, optional: [UInt64](repeating: 0, count: n))
    }
}

/// A selector from a plugin, called through the ABI.
final class PluginSelector: ChannelSelecting {
    let component: PluginComponent
    private var req: [UInt64] = []
    private var opt: [UInt64] = []

    init(component: PluginComponent) { self.component = component }

    func select(_ batch: UnsafeMutablePointer<sluice_batch>) throws -> Selection {
        let n = batch.pointee.count
        req = [UInt64](repeating: 0, count: max(1, n))
        opt = [UInt64](repeating: 0, count: max(1, n))
        _ = try req.withUnsafeMutableBufferPointer { r in
            try opt.withUnsafeMutableBufferPointer { o in
                try component.select(UnsafePointer(batch), r.baseAddress!, o.baseAddress!)
            }
        }
        return .perEvent(required: Array(req.prefix(n)), optional: Array(opt.prefix(n)))
    }
}

/// The bit set for a whitespace-separated channel list; every name must be
/// one of the source's channels.
func maskOf(_ list: String?, _ channels: [String], key: String) throws -> UInt64 {
    var mask: UInt64 = 0
    for name in (list ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" }) {
        guard let i = channels.firstIndex(of: String(name)) else {
            throw SelectorConfigError(description: "\(key): '\(name)' is not one of the source's channels (\(channels.joined(separator: " ")))")
        }
        mask |= 1 << UInt64(i)
    }
    return mask
}
