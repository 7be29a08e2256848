import SluiceABI
#if canImport(Glibc)
import Glibc
#endif

/// A failed call into a component: which component, which call, the status
/// and the plugin's message.
public struct ComponentError: Error, CustomStringConvertible {
    public let component: String
    public let operation: String
    public let status: Int32
    public let message: String

    public var description: String {
        let m = message.isEmpty ? "status \(status)" : message
        return "\(component): \(operation) failed: \(m)"
    }
}

/// One plugin component instance as the host drives it: the type's function
/// table, the plugin-owned instance pointer and the host handle.
public final class PluginComponent: @unchecked Sendable {
    public let type: ComponentTypeInfo
    public let handle: ComponentHandle
    private var instance: UnsafeMutableRawPointer?
    private var err = sluice_error()
    /// stop() is only called on a component whose start() succeeded.
    private(set) var isStarted = false

    init(type: ComponentTypeInfo, handle: ComponentHandle) throws {
        self.type = type
        self.handle = handle
        let s = type.raw.create(type.raw.type_data, HostAPI.table, handle.opaque, &instance, &err)
        try check(s, "create")
        guard instance != nil else {
            throw ComponentError(component: handle.name, operation: "create", status: -1, message: "no instance returned")
        }
    }

    public var name: String { handle.name }

    private func check(_ s: sluice_status, _ op: String) throws {
        if s < 0 {
            throw ComponentError(component: handle.name, operation: op, status: s, message: readError(&err))
        }
    }

    func configure(_ properties: [String: String]) throws {
        // Sorted so plugins see a stable order; strings live until the call returns.
        let items = properties.sorted { $0.key < $1.key }
        var cStrings: [UnsafeMutablePointer<CChar>] = []
        defer { cStrings.forEach { free($0) } }
        var props: [sluice_property] = []
        for (k, v) in items {
            let kc = strdup(k)!, vc = strdup(v)!
            cStrings += [kc, vc]
            props.append(sluice_property(key: kc, value: vc))
        }
        let s = props.withUnsafeBufferPointer { type.raw.configure(instance, $0.baseAddress, $0.count, &err) }
        try check(s, "configure")
    }

    func start() throws {
        try check(type.raw.start(instance, &err), "start")
        isStarted = true
    }

    func stop() throws {
        guard isStarted else { return }
        isStarted = false
        try check(type.raw.stop(instance, &err), "stop")
    }

    func destroy() {
        if let i = instance { type.raw.destroy(i) }
        instance = nil
    }

    /// Pollable sources and sinks. Runner thread only.
    func process() throws -> sluice_status {
        let s = type.raw.process(instance, &err)
        try check(s, "process")
        return s
    }

    /// Interceptors; caller serializes.
    @inline(__always)
    func intercept(_ batch: UnsafeMutablePointer<sluice_batch>) throws {
        let s = type.raw.intercept(instance, batch, &err)
        if s < 0 { try check(s, "intercept") }
    }

    /// Selectors; caller serializes.
    func select(_ batch: UnsafePointer<sluice_batch>, _ req: UnsafeMutablePointer<UInt64>, _ opt: UnsafeMutablePointer<UInt64>) throws -> sluice_status {
        let s = type.raw.select(instance, batch, req, opt, &err)
        try check(s, "select")
        return s
    }
}
