import SluiceSDK

/// Flume's built-in interceptors (and the UUID interceptor from the morphline
/// module), under Flume's short type names and Java Builder class names.
@_cdecl("sluice_plugin_entry")
public func sluicePluginEntry() -> UnsafeRawPointer {
    flumeInterceptorsDescriptor
}

/// Built on first use and kept for the life of the process.
private let flumeInterceptorsDescriptor: UnsafeRawPointer = Plugin.export(
    name: "flume-interceptors", version: "1.0.0",
    components: [
        .interceptor(TimestampInterceptor.self, type: "timestamp",
                     aliases: ["org.apache.flume.interceptor.TimestampInterceptor$Builder"],
                     description: "Sets a header to the time the event was intercepted, in epoch milliseconds",
                     keys: TimestampInterceptor.configKeys),
        .interceptor(HostInterceptor.self, type: "host",
                     aliases: ["org.apache.flume.interceptor.HostInterceptor$Builder"],
                     description: "Sets a header to this host's IPv4 address or host name",
                     keys: HostInterceptor.configKeys),
        .interceptor(StaticInterceptor.self, type: "static",
                     aliases: ["org.apache.flume.interceptor.StaticInterceptor$Builder"],
                     description: "Sets a fixed header on every event",
                     keys: StaticInterceptor.configKeys),
        .interceptor(RemoveHeaderInterceptor.self, type: "remove_header",
                     aliases: ["org.apache.flume.interceptor.RemoveHeaderInterceptor$Builder"],
                     description: "Removes headers by exact name, from a list, or by a regex on the name",
                     keys: RemoveHeaderInterceptor.configKeys),
        .interceptor(UUIDInterceptor.self, type: "uuid",
                     aliases: ["org.apache.flume.sink.solr.morphline.UUIDInterceptor$Builder"],
                     description: "Sets a header to a random (version 4) UUID, optionally prefixed",
                     keys: UUIDInterceptor.configKeys),
        .interceptor(RegexFilterInterceptor.self, type: "regex_filter",
                     aliases: ["org.apache.flume.interceptor.RegexFilteringInterceptor$Builder"],
                     description: "Keeps (or, with excludeEvents, drops) events whose body matches a regex",
                     keys: RegexFilterInterceptor.configKeys),
        .interceptor(RegexExtractorInterceptor.self, type: "regex_extractor",
                     aliases: ["org.apache.flume.interceptor.RegexExtractorInterceptor$Builder"],
                     description: "Copies a regex's capture groups from the body into headers",
                     keys: RegexExtractorInterceptor.configKeys),
        .interceptor(SearchReplaceInterceptor.self, type: "search_replace",
                     aliases: ["org.apache.flume.interceptor.SearchAndReplaceInterceptor$Builder"],
                     description: "Replaces every match of a regex in the body",
                     keys: SearchReplaceInterceptor.configKeys),
    ])

// MARK: Helpers shared by the interceptors

/// A header name from a property, as bytes; an empty name is a config error.
func headerNameBytes(_ properties: Properties, _ key: String, default def: String) throws -> [UInt8] {
    let name = properties.string(key, default: def)
    if name.isEmpty { throw SluiceError.config("property '\(key)': a header name cannot be empty") }
    return Array(name.utf8)
}

/// Writes `value` in decimal at `out` (room for 20 bytes needed: an
/// optional sign and up to 19 digits) and
/// returns the number of bytes written.
@inline(__always)
func writeDecimal(_ value: Int64, to out: UnsafeMutablePointer<UInt8>) -> Int {
    var magnitude = value.magnitude
    // Digits come out last-first: fill a 20-byte stack window from its end,
    // then copy them out in order.
    var tmp: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
              UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    return withUnsafeMutableBytes(of: &tmp) { t -> Int in
        var i = t.count
        repeat {
            i -= 1
            t[i] = UInt8(truncatingIfNeeded: magnitude % 10) &+ UInt8(ascii: "0")
            magnitude /= 10
        } while magnitude != 0
        var n = 0
        if value < 0 { out[0] = UInt8(ascii: "-"); n = 1 }
        for j in i..<t.count {
            out[n] = t[j]
            n += 1
        }
        return n
    }
}

/// Appends `value` in decimal to `bytes`.
func appendDecimal(_ value: Int64, to bytes: inout [UInt8]) {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { tmp in
        guard let base = tmp.baseAddress else { return }
        let n = writeDecimal(value, to: base)
        bytes.append(contentsOf: UnsafeBufferPointer(start: base, count: n))
    }
}
