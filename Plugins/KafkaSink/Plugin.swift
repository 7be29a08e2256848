import SluiceSDK

@_cdecl("sluice_plugin_entry")
public func sluicePluginEntry() -> UnsafeRawPointer {
    Plugin.export(name: "kafka-sink", version: "1.0.0", components: [
        .sink(KafkaSink.self, type: "kafka", aliases: ["org.apache.flume.sink.kafka.KafkaSink"],
              description: "Publishes events to Kafka topics; each transaction commits after the brokers acknowledged it",
              keys: [
                  ConfigKey("kafka.bootstrap.servers", .string, "comma-separated host:port of brokers (required; brokerList before Flume 1.11)"),
                  ConfigKey("kafka.topic", .string, default: KafkaSinkConfig.defaultTopic, "topic; %{header} is replaced by the event's header value"),
                  ConfigKey("flumeBatchSize", .int, default: "100", "events taken and published per transaction"),
                  ConfigKey("kafka.producer.*", .string, "Kafka producer properties (acks, batch.size, linger.ms, compression.type, ...)"),
                  ConfigKey("useFlumeEventFormat", .bool, default: "false", "record value = Avro AvroFlumeEvent (headers and body) instead of the body"),
                  ConfigKey("defaultPartitionId", .int, "partition for every event (default: by key, or sticky)"),
                  ConfigKey("partitionIdHeader", .string, "header whose integer value is the partition (overrides defaultPartitionId)"),
                  ConfigKey("allowTopicOverride", .bool, default: "true", "the header named by topicHeader, when present, is the topic"),
                  ConfigKey("topicHeader", .string, default: "topic", "header holding a topic (with allowTopicOverride)"),
                  ConfigKey("timestampHeader", .string, "header holding the record timestamp in epoch ms (default: now)"),
                  ConfigKey("header.*", .string, "header.<flume header> = <Kafka header name>: copies the header into the record"),
                  ConfigKey("brokerList", .string, "deprecated: kafka.bootstrap.servers"),
                  ConfigKey("topic", .string, "deprecated: kafka.topic"),
                  ConfigKey("batchSize", .int, "deprecated: flumeBatchSize"),
                  ConfigKey("requiredAcks", .string, "deprecated: kafka.producer.acks"),
              ]),
    ])
}
