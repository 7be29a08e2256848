/// A topic and partition; its log directory is `<topic>-<partition>`.
public struct TopicPartition: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let topic: String
    public let partition: Int32

    /// Throws when the topic is not a legal Kafka topic name (1–249 of
    /// `[a-zA-Z0-9._-]`, not "." or "..") or the partition is negative.
    public init(topic: String, partition: Int32) throws {
        guard TopicPartition.isLegalTopic(topic) else {
            throw LogError.invalidTopicPartition("illegal topic name \"\(topic)\"")
        }
        guard partition >= 0 else { throw LogError.invalidTopicPartition("negative partition \(partition)") }
        self.topic = topic
        self.partition = partition
    }

    /// Parses a partition directory name; nil for anything else (including
    /// the `-delete` directories of logs being removed).
    public init?(directoryName: String) {
        guard let dash = directoryName.lastIndex(of: "-") else { return nil }
        let topic = String(directoryName[..<dash])
        let digits = directoryName[directoryName.index(after: dash)...]
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              let p = Int32(digits), String(p) == digits, TopicPartition.isLegalTopic(topic) else { return nil }
        self.topic = topic
        self.partition = p
    }

    public var directoryName: String { "\(topic)-\(partition)" }
    public var description: String { directoryName }

    public static func < (a: TopicPartition, b: TopicPartition) -> Bool {
        a.topic == b.topic ? a.partition < b.partition : a.topic < b.topic
    }

    public static func isLegalTopic(_ t: String) -> Bool {
        guard !t.isEmpty, t.utf8.count <= 249, t != ".", t != ".." else { return false }
        return t.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39)
                || c == 0x2E || c == 0x5F || c == 0x2D
        }
    }
}
