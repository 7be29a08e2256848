// Pipeline benchmark: seq source → interceptors → memory channel → null sink
// inside one agent, plus the per-event cost of an interceptor crossing the ABI.
// Run through Benchmarks/run.sh (release build); prints its figures.
import SluiceConfig
import SluiceRuntime
#if canImport(Glibc)
import Glibc
#endif

func arg(_ name: String, _ def: String) -> String {
    let a = CommandLine.arguments
    if let i = a.firstIndex(of: name), i + 1 < a.count { return a[i + 1] }
    return def
}

let pluginDir = arg("--plugin-dir", ".")
let events = Int(arg("--events", "20000000"))!
let rounds = Int(arg("--rounds", "3"))!
let registry = try PluginRegistry.load(directories: [pluginDir])

/// Runs one pipeline to completion; returns events per second.
func pipeline(interceptors: [(String, [String: String])]) throws -> Double {
    var conf = """
        a1.sources = r1
        a1.channels = c1
        a1.sinks = k1
        a1.sources.r1.type = seq
        a1.sources.r1.totalEvents = \(events)
        a1.sources.r1.batchSize = 1000
        a1.sources.r1.bodySize = 100
        a1.sources.r1.channels = c1
        a1.channels.c1.type = memory
        a1.channels.c1.capacity = 100000
        a1.channels.c1.transactionCapacity = 1000
        a1.sinks.k1.type = null
        a1.sinks.k1.channel = c1
        a1.sinks.k1.batchSize = 1000
        a1.sinks.k1.logEveryNEvents = 100000000

        """
    if !interceptors.isEmpty {
        conf += "a1.sources.r1.interceptors = \((0..<interceptors.count).map { "i\($0)" }.joined(separator: " "))\n"
        for (n, (type, props)) in interceptors.enumerated() {
            conf += "a1.sources.r1.interceptors.i\(n).type = \(type)\n"
            for (k, v) in props { conf += "a1.sources.r1.interceptors.i\(n).\(k) = \(v)\n" }
        }
    }
    let def = try AgentConfigParser.parse(PropertiesFile.parse(conf, file: "bench"), agent: "a1", environment: [:])
    let metrics = MetricsRegistry()
    let agent = try Agent(definition: def, registry: registry, metrics: metrics)
    let drained = metrics.allGroups.first { $0.name == "k1" }!.counter("EventDrainSuccessCount")
    let t0 = monotonicNanos()
    try agent.start()
    while drained.load() < events { usleep(1000) }
    let secs = Double(monotonicNanos() - t0) / 1e9
    agent.stop(drainNanos: 0)
    return Double(events) / secs
}

func best(_ f: () throws -> Double) rethrows -> Double {
    var b = 0.0
    for _ in 0..<rounds { b = max(b, try f()) }
    return b
}

func fmt(_ v: Double, _ digits: Int = 0) -> String {
    var s = String(format: v, digits)
    if s.isEmpty { s = "\(v)" }
    return s
}

extension String {
    init(format v: Double, _ digits: Int) {
        let p = pow(10.0, Double(digits))
        let r = (v * p).rounded() / p
        self = digits == 0 ? String(Int(r)) : String(r)
    }
}

print("Sluice pipeline benchmark: \(events) events, 100-byte bodies, batch 1000, best of \(rounds)")
let bare = try best { try pipeline(interceptors: []) }
print("  seq → memory → null                               \(fmt(bare)) events/s")
let flume = try best { try pipeline(interceptors: [("timestamp", [:]), ("static", ["key": "dc", "value": "eu-1"])]) }
print("  seq → timestamp, static → memory → null           \(fmt(flume)) events/s  (\(fmt(flume / bare * 100))% of bare)")
let trivial = try best { try pipeline(interceptors: [("bench_keep_nonempty_c", [:]), ("bench_keep_nonempty_swift", [:])]) }
print("  seq → C filter, Swift filter → memory → null      \(fmt(trivial)) events/s  (\(fmt(trivial / bare * 100))% of bare)")

// Crossing cost: one intercept call per 1000-event batch, per event.
print("Interceptor crossing, batch of 1000 events (ns per event, best of \(rounds) × 20000 calls):")
for type in ["bench_keep_nonempty_c", "bench_keep_nonempty_swift", "timestamp", "static", "regex_filter"] {
    guard let t = registry.lookup(.interceptor, type) else { print("  \(type): not loaded"); continue }
    let probe = try InterceptorProbe(type: t, properties: type == "regex_filter" ? ["regex": "^a"] : [:], events: 1000, bodySize: 100)
    var bestNs = Double.infinity
    for _ in 0..<rounds { bestNs = min(bestNs, try probe.nanosPerEvent(rounds: 20000)) }
    print("  \(type.padding(28)) \(fmt(bestNs, 2)) ns/event")
}

extension String {
    func padding(_ n: Int) -> String { self + String(repeating: " ", count: max(0, n - count)) }
}
