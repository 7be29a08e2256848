#if canImport(Glibc)
import Glibc
#endif

/// Flume's file channel keys, with Flume's defaults.
struct FileChannelConfig {
    static let knownKeys = ["checkpointDir", "dataDirs", "capacity", "transactionCapacity", "checkpointInterval",
                            "maxFileSize", "minimumRequiredSpace", "useDualCheckpoints", "backupCheckpointDir",
                            "keep-alive", "checkpointOnClose"]
    /// Flume's maximum (and default) data file size: 2 GiB − 500 MiB.
    static let maxFileSizeLimit = 2_147_483_647 - 524_288_000

    var checkpointDir: String
    var dataDirs: [String]
    var capacity: Int
    var transactionCapacity: Int
    var checkpointIntervalMillis: Int
    var maxFileSize: Int
    var minimumRequiredSpace: Int
    var backupCheckpointDir: String?
    var keepAliveSeconds: Int
    var checkpointOnClose: Bool

    init(name: String, properties p: [String: String]) throws {
        func fail(_ key: String, _ why: String) -> ChannelError {
            ChannelError(description: "channel '\(name)': \(key) \(why)")
        }
        func int(_ key: String, _ def: Int, min: Int = 0) throws -> Int {
            guard let v = p[key] else { return def }
            guard let n = Int(v), n >= min else { throw fail(key, "= '\(v)' is not an integer >= \(min)") }
            return n
        }
        func bool(_ key: String, _ def: Bool) throws -> Bool {
            switch p[key]?.lowercased() {
            case nil: return def
            case "true": return true
            case "false": return false
            case let v?: throw fail(key, "= '\(v)' is not true or false")
            }
        }
        let home = getenv("HOME").map { String(cString: $0) } ?? "/tmp"
        func path(_ v: String) -> String { v.hasPrefix("~/") ? home + v.dropFirst(1) : v }
        checkpointDir = path(p["checkpointDir"] ?? "~/.flume/file-channel/checkpoint")
        dataDirs = (p["dataDirs"] ?? "~/.flume/file-channel/data")
            .split(separator: ",").map { path(String($0).trimmingCharacters(in: " \t")) }.filter { !$0.isEmpty }
        guard !dataDirs.isEmpty else { throw fail("dataDirs", "names no directory") }
        capacity = try int("capacity", 1_000_000, min: 1)
        transactionCapacity = try int("transactionCapacity", 10_000, min: 1)
        guard transactionCapacity <= capacity else {
            throw fail("transactionCapacity", "(\(transactionCapacity)) must not exceed capacity (\(capacity))")
        }
        checkpointIntervalMillis = try int("checkpointInterval", 30_000, min: 1000)
        maxFileSize = try int("maxFileSize", Self.maxFileSizeLimit, min: 1 << 16)
        guard maxFileSize <= Self.maxFileSizeLimit else { throw fail("maxFileSize", "must not exceed \(Self.maxFileSizeLimit)") }
        // Flume's floor is 1 MiB.
        minimumRequiredSpace = max(1 << 20, try int("minimumRequiredSpace", 524_288_000))
        keepAliveSeconds = try int("keep-alive", 3)
        checkpointOnClose = try bool("checkpointOnClose", true)
        if try bool("useDualCheckpoints", false) {
            guard let b = p["backupCheckpointDir"], !b.isEmpty else {
                throw fail("backupCheckpointDir", "is required when useDualCheckpoints is true")
            }
            guard path(b) != checkpointDir else { throw fail("backupCheckpointDir", "must differ from checkpointDir") }
            backupCheckpointDir = path(b)
        }
        let all = [checkpointDir] + dataDirs + (backupCheckpointDir.map { [$0] } ?? [])
        if Set(all).count != all.count { throw fail("dataDirs", "and checkpoint directories must all differ") }
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s.removeFirst() }
        while let c = s.last, set.contains(c) { s.removeLast() }
        return String(s)
    }
}
