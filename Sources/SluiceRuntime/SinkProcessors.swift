import Logging
import SluiceABI

/// Runs one sink's process() and closes whatever transaction it left open.
/// Returns the status; throws when the sink failed.
func runSink(_ sink: PluginComponent) throws -> sluice_status {
    do {
        let s = try sink.process()
        if sink.handle.hasOpenTransaction {
            sink.handle.logger.warning("process() returned with its transaction open; rolling back")
            sink.handle.rollback()
        }
        return s
    } catch {
        if sink.handle.hasOpenTransaction { sink.handle.rollback() }
        throw error
    }
}

/// How a sink group picks which sink does the next unit of work.
protocol SinkProcessor: AnyObject {
    var sinks: [PluginComponent] { get }
    func process() throws -> sluice_status
}

struct SinkProcessorError: Error, CustomStringConvertible {
    var description: String
}

/// One sink, no group.
final class DefaultSinkProcessor: SinkProcessor {
    static let knownKeys: [String] = []
    let sinks: [PluginComponent]
    init(sink: PluginComponent) { sinks = [sink] }
    func process() throws -> sluice_status { try runSink(sinks[0]) }
}

/// Flume's failover processor: the live sink with the highest priority does
/// the work; a failing sink sits out min(maxpenalty, 2^failures s).
final class FailoverSinkProcessor: SinkProcessor {
    static let knownKeys = ["priority.*", "maxpenalty"]
    let sinks: [PluginComponent]
    private let priority: [Int]
    private let maxPenaltyNanos: UInt64
    private var failures: [Int]
    private var retryAt: [UInt64]
    private var logger: Logger { sinks[0].handle.logger }

    init(sinks: [PluginComponent], properties: [String: String], group: String) throws {
        var prio: [Int] = []
        for (i, s) in sinks.enumerated() {
            if let v = properties["priority.\(s.name)"] {
                guard let p = Int(v) else { throw SinkProcessorError(description: "sink group '\(group)': processor.priority.\(s.name) = '\(v)' is not an integer") }
                prio.append(p)
            } else {
                prio.append(-(i + 1))
            }
        }
        let mp = properties["maxpenalty"].map { Int($0) } ?? 30000
        guard let mp, mp >= 0 else { throw SinkProcessorError(description: "sink group '\(group)': processor.maxpenalty is not a non-negative integer") }
        // Highest priority first.
        let order = sinks.indices.sorted { prio[$0] > prio[$1] }
        self.sinks = order.map { sinks[$0] }
        priority = order.map { prio[$0] }
        maxPenaltyNanos = UInt64(mp) * 1_000_000
        failures = Array(repeating: 0, count: sinks.count)
        retryAt = Array(repeating: 0, count: sinks.count)
    }

    func process() throws -> sluice_status {
        let now = monotonicNanos()
        var lastError: Error?
        for i in sinks.indices where retryAt[i] <= now {
            do {
                let s = try runSink(sinks[i])
                failures[i] = 0
                return s
            } catch {
                failures[i] += 1
                let penalty = min(maxPenaltyNanos, UInt64(1 << min(failures[i], 30)) * 1_000_000_000)
                retryAt[i] = monotonicNanos() + penalty
                logger.warning("sink \(sinks[i].name) failed, out for \(penalty / 1_000_000) ms: \(error)")
                lastError = error
            }
        }
        throw SinkProcessorError(description: "all sinks failed" + (lastError.map { "; last: \($0)" } ?? ""))
    }
}

/// Flume's load_balance processor: round_robin or random order; with
/// backoff, a failing sink is skipped for min(maxTimeOut, 1000·2^n) ms.
final class LoadBalancingSinkProcessor: SinkProcessor {
    static let knownKeys = ["selector", "backoff", "selector.maxTimeOut"]
    let sinks: [PluginComponent]
    private let random: Bool
    private let backoff: Bool
    private let maxTimeOutNanos: UInt64
    private var next = 0
    private var failures: [Int]
    private var retryAt: [UInt64]

    init(sinks: [PluginComponent], properties: [String: String], group: String) throws {
        guard sinks.count >= 2 else { throw SinkProcessorError(description: "sink group '\(group)': load_balance needs at least 2 sinks") }
        self.sinks = sinks
        switch (properties["selector"] ?? "round_robin").lowercased() {
        case "round_robin": random = false
        case "random": random = true
        case let s: throw SinkProcessorError(description: "sink group '\(group)': processor.selector = '\(s)' is not round_robin or random")
        }
        switch (properties["backoff"] ?? "false").lowercased() {
        case "true": backoff = true
        case "false": backoff = false
        case let s: throw SinkProcessorError(description: "sink group '\(group)': processor.backoff = '\(s)' is not true or false")
        }
        let mt = properties["selector.maxTimeOut"].map { Int($0) } ?? 30000
        guard let mt, mt >= 0 else { throw SinkProcessorError(description: "sink group '\(group)': processor.selector.maxTimeOut is not a non-negative integer") }
        maxTimeOutNanos = UInt64(mt) * 1_000_000
        failures = Array(repeating: 0, count: sinks.count)
        retryAt = Array(repeating: 0, count: sinks.count)
    }

    func process() throws -> sluice_status {
        let order: [Int]
        if random {
            order = sinks.indices.shuffled()
        } else {
            order = (0..<sinks.count).map { (next + $0) % sinks.count }
            next = (next + 1) % sinks.count
        }
        let now = monotonicNanos()
        var lastError: Error?
        for i in order where !backoff || retryAt[i] <= now {
            do {
                let s = try runSink(sinks[i])
                failures[i] = 0
                return s
            } catch {
                lastError = error
                if backoff {
                    failures[i] = min(failures[i] + 1, 16)
                    retryAt[i] = monotonicNanos() + min(maxTimeOutNanos, UInt64(1 << failures[i]) * 1_000_000_000)
                }
                sinks[i].handle.logger.warning("sink \(sinks[i].name) failed: \(error)")
            }
        }
        throw SinkProcessorError(description: "all sinks failed" + (lastError.map { "; last: \($0)" } ?? ""))
    }
}
