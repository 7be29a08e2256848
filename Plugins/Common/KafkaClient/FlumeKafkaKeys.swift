/// Configuration handling that Flume's Kafka sink and source share.
public enum FlumeKafkaKeys {
    /// Replaces each deprecated key by its new name when the new key is
    /// absent; returns a warning per deprecated key found.
    public static func translateDeprecated(_ values: inout [String: String], _ table: [(old: String, new: String)]) -> [String] {
        var warnings: [String] = []
        for (old, new) in table where values[old] != nil {
            if values[new] == nil {
                values[new] = values[old]
                warnings.append("property '\(old)' is deprecated: use '\(new)'")
            } else {
                warnings.append("property '\(old)' is deprecated and ignored, because '\(new)' is set")
            }
        }
        return warnings
    }

    /// `header.<flumeHeader> = <kafkaHeader>` pairs (keys given without the
    /// `header.` prefix), sorted by Flume header; throws naming the bad key.
    public static func headerMappings(_ subset: [String: String]) throws -> [(flume: String, kafka: String)] {
        var out: [(flume: String, kafka: String)] = []
        for (flume, kafka) in subset {
            let name = kafka.trimmingCharacters(inSet: " \t")
            guard !flume.isEmpty, !name.isEmpty else {
                throw KafkaClientError(description: "property 'header.\(flume)': needs a Flume header name after 'header.' and a Kafka header name as its value")
            }
            out.append((flume, name))
        }
        return out.sorted { $0.flume < $1.flume }
    }
}
