import Crypto
import SluiceABI
#if canImport(Glibc)
import Glibc
#endif

/// Opens plugin files and copies out their descriptors. Plugins are never
/// unloaded (RTLD_NODELETE): unmapping a Swift image breaks the runtime.
public enum PluginLoader {
    /// Loads one file after checking permissions and, when given, its sha256.
    public static func load(path: String, expectedSHA256: String? = nil) throws -> LoadedPlugin {
        try checkPermissions(path)
        let digest = try sha256(of: path)
        if let expected = expectedSHA256, expected.lowercased() != digest {
            throw PluginLoadError(path: path, reason: "sha256 mismatch: manifest pins \(expected.lowercased()), file has \(digest)")
        }
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            throw PluginLoadError(path: path, reason: "cannot load: \(String(cString: dlerror()))")
        }
        guard let sym = dlsym(handle, SLUICE_PLUGIN_ENTRY_SYMBOL) else {
            throw PluginLoadError(path: path, reason: "missing entry symbol \(SLUICE_PLUGIN_ENTRY_SYMBOL)")
        }
        let entry = unsafeBitCast(sym, to: sluice_plugin_entry_fn.self)
        guard let d = entry() else {
            throw PluginLoadError(path: path, reason: "entry symbol returned NULL")
        }
        return try describe(d, path: path, sha256: digest)
    }

    static func describe(_ d: UnsafePointer<sluice_plugin_descriptor>, path: String, sha256: String) throws -> LoadedPlugin {
        // The first 8 bytes (size, major, minor) are fixed for every ABI version.
        let size = Int(d.pointee.struct_size)
        let major = Int(d.pointee.abi_major), minor = Int(d.pointee.abi_minor)
        guard major == Int(SLUICE_ABI_MAJOR) else {
            throw PluginLoadError(path: path, reason: "ABI major version \(major) is not supported (this host speaks \(SLUICE_ABI_MAJOR).\(SLUICE_ABI_MINOR))")
        }
        var desc = sluice_plugin_descriptor()
        withUnsafeMutableBytes(of: &desc) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(start: d, count: min(size, dst.count)))
        }
        guard size >= MemoryLayout.offset(of: \sluice_plugin_descriptor.components)! + 8 else {
            throw PluginLoadError(path: path, reason: "descriptor too small (\(size) bytes)")
        }
        let name = desc.name.map { String(cString: $0) } ?? ""
        guard !name.isEmpty else { throw PluginLoadError(path: path, reason: "descriptor has no plugin name") }
        let stride = Int(desc.component_type_size)
        guard stride >= MemoryLayout.offset(of: \sluice_component_type.destroy)! + 8 else {
            throw PluginLoadError(path: path, reason: "component_type_size \(stride) is too small")
        }
        var types: [ComponentTypeInfo] = []
        let base = UnsafeRawPointer(desc.components)
        for i in 0..<Int(desc.component_count) {
            guard let base else { throw PluginLoadError(path: path, reason: "components is NULL") }
            var t = sluice_component_type()
            withUnsafeMutableBytes(of: &t) { dst in
                let n = min(stride, Int((base + i * stride).load(as: UInt32.self)), dst.count)
                dst.copyMemory(from: UnsafeRawBufferPointer(start: base + i * stride, count: n))
            }
            types.append(try typeInfo(t, index: i, path: path, plugin: name))
        }
        return LoadedPlugin(path: path, sha256: sha256, name: name,
                            version: desc.version.map { String(cString: $0) } ?? "",
                            abiMajor: major, abiMinor: minor, types: types)
    }

    private static func typeInfo(_ t: sluice_component_type, index: Int, path: String, plugin: String) throws -> ComponentTypeInfo {
        guard let kind = ComponentKind(t.kind) else {
            throw PluginLoadError(path: path, reason: "component #\(index) has unknown kind \(t.kind.rawValue)")
        }
        guard let tn = t.type_name, !String(cString: tn).isEmpty else {
            throw PluginLoadError(path: path, reason: "component #\(index) has no type name")
        }
        let typeName = String(cString: tn)
        func need(_ present: Bool, _ what: String) throws {
            if !present { throw PluginLoadError(path: path, reason: "\(kind.rawValue) '\(typeName)' has no \(what) function") }
        }
        try need(t.create != nil, "create")
        try need(t.configure != nil, "configure")
        try need(t.start != nil, "start")
        try need(t.stop != nil, "stop")
        try need(t.destroy != nil, "destroy")
        switch kind {
        case .sink: try need(t.process != nil, "process")
        case .interceptor: try need(t.intercept != nil, "intercept")
        case .selector: try need(t.select != nil, "select")
        default: break
        }
        var aliases: [String] = []
        for j in 0..<Int(t.alias_count) { if let a = t.aliases?[j] { aliases.append(String(cString: a)) } }
        var keys: [DeclaredKey] = []
        for j in 0..<Int(t.config_key_count) {
            guard let k = t.config_keys?[j], let kn = k.name else { continue }
            let typeNames = ["string", "int", "bool", "double", "list"]
            keys.append(DeclaredKey(name: String(cString: kn),
                                    type: typeNames[min(Int(k.type.rawValue), 4)],
                                    defaultValue: k.default_value.map { String(cString: $0) },
                                    doc: k.doc.map { String(cString: $0) } ?? "",
                                    required: k.required != 0))
        }
        return ComponentTypeInfo(kind: kind, typeName: typeName, aliases: aliases,
                                 description: t.description.map { String(cString: $0) } ?? "",
                                 keys: keys, pluginPath: path, pluginName: plugin, raw: t)
    }

    /// Refuses files (and their directory) that another user could replace.
    static func checkPermissions(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw PluginLoadError(path: path, reason: "cannot stat: \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw PluginLoadError(path: path, reason: "not a regular file") }
        if st.st_mode & (S_IWOTH | S_IWGRP) != 0 {
            throw PluginLoadError(path: path, reason: "file is writable by other users (mode \(String(st.st_mode & 0o777, radix: 8))); run chmod go-w on it")
        }
        let dir = directoryName(of: path)
        var dst = stat()
        guard stat(dir, &dst) == 0 else {
            throw PluginLoadError(path: path, reason: "cannot stat directory \(dir): \(String(cString: strerror(errno)))")
        }
        if dst.st_mode & (S_IWOTH | S_IWGRP) != 0 {
            throw PluginLoadError(path: path, reason: "directory \(dir) is writable by other users (mode \(String(dst.st_mode & 0o777, radix: 8))); run chmod go-w on it")
        }
    }

    public static func sha256(of path: String) throws -> String {
        guard let f = fopen(path, "rb") else {
            throw PluginLoadError(path: path, reason: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { fclose(f) }
        var hasher = SHA256()
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            if n > 0 { buf.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) } }
            if n < buf.count { break }
        }
        return hasher.finalize().map { byte in
            let s = String(byte, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined()
    }
}

func directoryName(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    let d = String(path[..<slash])
    return d.isEmpty ? "/" : d
}
