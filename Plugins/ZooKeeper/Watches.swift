import ZooKeeperProtocol

/// Watches by path, each held by a connection id (ZooKeeper's WatchManager):
/// one-shot data and child watches, persistent and persistent-recursive ones.
/// An exists watch on a missing node is a data watch. Not thread-safe: the
/// server calls it under its lock.
final class WatchManager {
    private var data: [String: Set<Int>] = [:]
    private var child: [String: Set<Int>] = [:]
    private var persistent: [String: Set<Int>] = [:]
    private var recursive: [String: Set<Int>] = [:]

    var count: Int {
        [data, child, persistent, recursive].reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.count } }
    }

    func addData(_ path: String, _ w: Int) { data[path, default: []].insert(w) }
    func addChild(_ path: String, _ w: Int) { child[path, default: []].insert(w) }
    func addPersistent(_ path: String, _ w: Int, recursive rec: Bool) {
        if rec { recursive[path, default: []].insert(w) } else { persistent[path, default: []].insert(w) }
    }

    /// The watchers an event reaches, each once; one-shot watches are consumed.
    func trigger(_ path: String, _ type: Int32) -> [Int] {
        var hit = Set<Int>()
        var order: [Int] = []
        func take(_ ws: Set<Int>?) { for w in ws ?? [] where hit.insert(w).inserted { order.append(w) } }
        switch type {
        case EventType.nodeChildrenChanged:
            take(child.removeValue(forKey: path))
        case EventType.nodeDeleted:
            take(data.removeValue(forKey: path))
            take(child.removeValue(forKey: path))
        default:
            take(data.removeValue(forKey: path))
        }
        take(persistent[path])
        if type != EventType.nodeChildrenChanged, !recursive.isEmpty {
            var p = path
            while true {
                take(recursive[p])
                if p == "/" { break }
                p = DataTree.parent(of: p)
            }
        }
        return order
    }

    /// Does `w` hold a watch of `type` (WatcherType) on `path`?
    func has(_ path: String, _ type: Int32, _ w: Int) -> Bool {
        switch type {
        case WatcherType.children: return child[path]?.contains(w) == true
        case WatcherType.data: return data[path]?.contains(w) == true
        case WatcherType.persistent: return persistent[path]?.contains(w) == true
        case WatcherType.persistentRecursive: return recursive[path]?.contains(w) == true
        case WatcherType.any:
            return [WatcherType.children, WatcherType.data, WatcherType.persistent, WatcherType.persistentRecursive]
                .contains { has(path, $0, w) }
        default: return false
        }
    }

    /// Removes `w`'s watches of `type` on `path`; false when there were none.
    func remove(_ path: String, _ type: Int32, _ w: Int) -> Bool {
        func drop(_ table: inout [String: Set<Int>]) -> Bool {
            guard table[path]?.remove(w) != nil else { return false }
            if table[path]?.isEmpty == true { table.removeValue(forKey: path) }
            return true
        }
        switch type {
        case WatcherType.children: return drop(&child)
        case WatcherType.data: return drop(&data)
        case WatcherType.persistent: return drop(&persistent)
        case WatcherType.persistentRecursive: return drop(&recursive)
        case WatcherType.any:
            let a = drop(&child), b = drop(&data), c = drop(&persistent), d = drop(&recursive)
            return a || b || c || d
        default: return false
        }
    }

    /// Drops every watch of a closed connection.
    func removeWatcher(_ w: Int) {
        for t in [\WatchManager.data, \.child, \.persistent, \.recursive] as [ReferenceWritableKeyPath<WatchManager, [String: Set<Int>]>] {
            var table = self[keyPath: t]
            for (path, var ws) in table where ws.contains(w) {
                ws.remove(w)
                table[path] = ws.isEmpty ? nil : ws
            }
            self[keyPath: t] = table
        }
    }
}
