import Synchronization

/// One counter or gauge. Its address is the ABI's `sluice_metric *`, so a
/// cell lives as long as its group.
public final class MetricCell: Sendable {
    private let value = Atomic<Int64>(0)

    @inline(__always) public func add(_ delta: Int64) { value.add(delta, ordering: .relaxed) }
    @inline(__always) public func set(_ v: Int64) { value.store(v, ordering: .relaxed) }
    @inline(__always) public func load() -> Int64 { value.load(ordering: .relaxed) }
}

public enum MetricValue: Sendable {
    case int(Int64)
    case double(Double)
}

/// The counters of one component, named as Flume names them, e.g.
/// SOURCE.r1 { EventReceivedCount, EventAcceptedCount, ... }.
public final class CounterGroup: @unchecked Sendable {
    /// "SOURCE", "CHANNEL", "SINK", "SERVICE".
    public let category: String
    public let name: String
    /// The component's type as configured, e.g. "memory".
    public let type: String
    private let lock = Mutex<Void>(())
    private var order: [String] = []
    private var cells: [String: MetricCell] = [:]
    private var derivedValues: [(String, () -> MetricValue)] = []
    public let startTime = MetricCell()
    public let stopTime = MetricCell()

    init(category: String, name: String, type: String) {
        self.category = category
        self.name = name
        self.type = type
    }

    /// The cell named `name`, created at zero on first use.
    public func counter(_ name: String) -> MetricCell {
        lock.withLock { _ in
            if let c = cells[name] { return c }
            let c = MetricCell()
            cells[name] = c
            order.append(name)
            return c
        }
    }

    /// A value computed when read (e.g. ChannelFillPercentage).
    func derived(_ name: String, _ compute: @escaping () -> MetricValue) {
        lock.withLock { _ in derivedValues.append((name, compute)) }
    }

    /// Every value, counters first in registration order.
    public func snapshot() -> [(String, MetricValue)] {
        let (names, cs, ds) = lock.withLock { _ in (order, cells, derivedValues) }
        var out = names.map { ($0, MetricValue.int(cs[$0]!.load())) }
        out += ds.map { ($0.0, $0.1()) }
        out.append(("StartTime", .int(startTime.load())))
        out.append(("StopTime", .int(stopTime.load())))
        return out
    }
}

/// Every component's counters in one place, for the HTTP endpoints.
public final class MetricsRegistry: @unchecked Sendable {
    private let lock = Mutex<Void>(())
    private var groups: [CounterGroup] = []

    public init() {}

    public func group(category: String, name: String, type: String) -> CounterGroup {
        let g = CounterGroup(category: category, name: name, type: type)
        lock.withLock { _ in groups.append(g) }
        return g
    }

    public var allGroups: [CounterGroup] { lock.withLock { _ in groups } }
}
