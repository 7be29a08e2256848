// Test support: generated messages get `sample(version:nulls:)` fixtures
// (Generated/Samples.swift, written by KafkaCodegen --samples).

import KafkaProtocol

protocol SampleMessage: KafkaMessage {
    static func sample(version: Int16, nulls: Bool) -> Self
}
