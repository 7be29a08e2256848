#if canImport(Glibc)
import Glibc
#endif

/// Every loaded component type, looked up by kind and by name (Flume's
/// short names case-insensitively, aliases such as Java class names exactly
/// or case-insensitively alike).
public struct PluginRegistry: Sendable {
    public let plugins: [LoadedPlugin]
    private var byName: [String: ComponentTypeInfo] = [:]

    /// Refuses two plugins (or two types) that claim the same name for one kind.
    public init(plugins: [LoadedPlugin]) throws {
        self.plugins = plugins
        for p in plugins {
            for t in p.types {
                for n in [t.typeName] + t.aliases {
                    let key = Self.key(t.kind, n)
                    if let other = byName[key] {
                        let where_ = other.pluginPath == p.path ? "twice in the same plugin" : "also by \(other.pluginPath)"
                        throw PluginLoadError(path: p.path, reason: "\(t.kind.rawValue) type name '\(n)' is already claimed \(where_)")
                    }
                    byName[key] = t
                }
            }
        }
    }

    private static func key(_ kind: ComponentKind, _ name: String) -> String {
        kind.rawValue + "/" + name.lowercased()
    }

    public func lookup(_ kind: ComponentKind, _ name: String) -> ComponentTypeInfo? {
        byName[Self.key(kind, name)]
    }

    /// Short type names known for `kind`, sorted, for error messages.
    public func typeNames(_ kind: ComponentKind) -> [String] {
        plugins.flatMap { $0.types }.filter { $0.kind == kind }.map { $0.typeName }.sorted()
    }

    // MARK: Finding plugin files

    /// Every `*.so` in the given directories, sorted by path.
    public static func scan(directories: [String]) throws -> [String] {
        var out: [String] = []
        for dir in directories {
            guard let d = opendir(dir) else {
                throw PluginLoadError(path: dir, reason: "cannot open plugin directory: \(String(cString: strerror(errno)))")
            }
            defer { closedir(d) }
            while let ent = readdir(d) {
                let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name.hasSuffix(".so") { out.append(dir.hasSuffix("/") ? dir + name : dir + "/" + name) }
            }
        }
        return out.sorted()
    }

    /// Loads every plugin in `directories`.
    public static func load(directories: [String]) throws -> PluginRegistry {
        let plugins = try scan(directories: directories).map { try PluginLoader.load(path: $0) }
        return try PluginRegistry(plugins: plugins)
    }

    /// Loads exactly the plugins a manifest lists.
    public static func load(manifest: Manifest) throws -> PluginRegistry {
        let plugins = try manifest.entries.map { try PluginLoader.load(path: $0.path, expectedSHA256: $0.sha256) }
        return try PluginRegistry(plugins: plugins)
    }
}

/// A plugin manifest: one plugin per line, `<path> [sha256:<hex>]`.
/// Relative paths are relative to the manifest's directory; `#` starts a
/// comment. Only listed plugins are loaded; a pinned one must match its hash.
public struct Manifest: Sendable {
    public struct Entry: Sendable {
        public var path: String
        public var sha256: String?
        public var line: Int
    }

    public var file: String
    public var entries: [Entry]

    public static func load(path: String) throws -> Manifest {
        guard let text = readTextFile(path) else {
            throw PluginLoadError(path: path, reason: "cannot read manifest: \(String(cString: strerror(errno)))")
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws -> Manifest {
        let base = directoryName(of: file)
        var entries: [Entry] = []
        for (i, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if words.isEmpty { continue }
            var path = String(words[0])
            if !path.hasPrefix("/") { path = base + "/" + path }
            var hash: String?
            for w in words.dropFirst() {
                if w.hasPrefix("sha256:") {
                    let h = String(w.dropFirst(7)).lowercased()
                    guard h.count == 64, h.allSatisfy({ $0.isHexDigit }) else {
                        throw PluginLoadError(path: file, reason: "line \(i + 1): sha256 must be 64 hex digits")
                    }
                    hash = h
                } else {
                    throw PluginLoadError(path: file, reason: "line \(i + 1): unexpected '\(w)' (expected sha256:<hex>)")
                }
            }
            entries.append(Entry(path: path, sha256: hash, line: i + 1))
        }
        return Manifest(file: file, entries: entries)
    }
}

/// Reads a whole file as UTF-8, or nil (errno set).
func readTextFile(_ path: String) -> String? {
    guard let f = fopen(path, "rb") else { return nil }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buf.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
        bytes.append(contentsOf: buf[0..<n])
        if n < buf.count { break }
    }
    return String(decoding: bytes, as: UTF8.self)
}
