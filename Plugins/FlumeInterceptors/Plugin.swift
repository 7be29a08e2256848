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

/// A growable byte buffer for building header values and bodies without
/// Swift's per-access bookkeeping. An interceptor keeps one in a stored
/// property and copies it into a local for the length of a batch (copying
/// copies the pointer, not the bytes), storing it back afterwards: the hot
/// loop touches only a local value, and the memory is reused from batch to
/// batch. Memory is allocated on first use and released by `free()`.
struct ByteBuilder {
    private(set) var base: UnsafeMutablePointer<UInt8>? = nil
    private(set) var capacity = 0
    private(set) var count = 0

    init() {}

    /// Releases the memory; the builder must not be used afterwards.
    func free() { base?.deallocate() }

    @inline(__always)
    mutating func reset() { count = 0 }

    @inline(__always)
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let src = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        guard let base else { return }
        (base + count).update(from: src.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        count += bytes.count
    }

    @inline(__always)
    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    @inline(__always)
    mutating func appendDecimal(_ value: Int64) {
        reserve(20)
        guard let base else { return }
        count += writeDecimal(value, to: base + count)
    }

    /// Bytes `range` of what was built (valid until the next append).
    @inline(__always)
    func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base.map { $0 + range.lowerBound }, count: range.count)
    }

    /// Everything built so far (valid until the next append).
    var all: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        if count + extra <= capacity { return }
        var newCapacity = max(capacity * 2, 256)
        while newCapacity < count + extra { newCapacity *= 2 }
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        if let base {
            grown.initialize(from: base, count: count)
            base.deallocate()
        }
        base = grown
        capacity = newCapacity
    }
}
