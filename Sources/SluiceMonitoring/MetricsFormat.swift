import SluiceRuntime

/// Renders counters the way Flume's monitoring does.
public enum MetricsFormat {
    /// {"CHANNEL.c1": {"ChannelSize": "3", ..., "Type": "CHANNEL"}, ...}
    /// Values are strings, as in Flume's JSON.
    public static func json(_ registry: MetricsRegistry) -> String {
        var out = "{"
        for (gi, g) in registry.allGroups.enumerated() {
            if gi > 0 { out += "," }
            out += "\n\(quote("\(g.category).\(g.name)")): {"
            var fields = g.snapshot().map { ($0.0, render($0.1)) }
            fields.append(("Type", g.category))
            fields.append(("ComponentType", g.type))
            out += fields.map { "\(quote($0.0)): \(quote($0.1))" }.joined(separator: ", ")
            out += "}"
        }
        return out + "\n}\n"
    }

    /// Flume_<CATEGORY>_<Attribute>{component="c1",type="memory"} value,
    /// every sample of one metric together under its TYPE line. Flume's
    /// "...Count" attributes only grow: counters; the rest are gauges.
    public static func prometheus(_ registry: MetricsRegistry) -> String {
        var order: [String] = []
        var samples: [String: [String]] = [:]
        for g in registry.allGroups {
            for (name, value) in g.snapshot() {
                let metric = "Flume_\(g.category)_\(name)"
                if samples[metric] == nil { order.append(metric) }
                samples[metric, default: []].append("\(metric){component=\(quote(g.name)),type=\(quote(g.type))} \(render(value))")
            }
        }
        var out = ""
        for metric in order {
            out += "# TYPE \(metric) \(metric.hasSuffix("Count") ? "counter" : "gauge")\n"
            out += samples[metric]!.joined(separator: "\n") + "\n"
        }
        return out
    }

    static func render(_ v: MetricValue) -> String {
        switch v {
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if c.value < 0x20 { out += "\\u00" + (c.value < 16 ? "0" : "") + String(c.value, radix: 16) } else { out.unicodeScalars.append(c) }
            }
        }
        return out + "\""
    }
}
