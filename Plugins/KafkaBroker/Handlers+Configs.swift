import KafkaProtocol

/// DescribeConfigs for topics (resource type 2) and this broker (type 4):
/// the effective values, as Kafka names them.
extension RequestHandler {
    func describeConfigs(_ r: DescribeConfigsRequest, version: Int16) -> DescribeConfigsResponse {
        var resp = DescribeConfigsResponse()
        let c = broker.config
        for res in r.resources {
            var out = DescribeConfigsResponse.DescribeConfigsResult()
            out.resourceType = res.resourceType
            out.resourceName = res.resourceName
            out.errorMessage = nil
            var entries: [(String, String, Int8)] = []  // name, value, source
            switch res.resourceType {
            case 2:
                guard broker.topic(res.resourceName) != nil else {
                    out.errorCode = KafkaErrorCode.unknownTopicOrPartition
                    out.errorMessage = "topic '\(res.resourceName)' does not exist"
                    resp.results.append(out)
                    continue
                }
                // 5 = DEFAULT_CONFIG: topics take the broker's settings.
                entries = [("cleanup.policy", "delete", 5), ("compression.type", "producer", 5),
                           ("retention.ms", "\(c.retentionMillis)", 5), ("retention.bytes", "\(c.retentionBytes)", 5),
                           ("segment.bytes", "\(c.segmentBytes)", 5), ("segment.ms", "\(c.rollMillis)", 5),
                           ("max.message.bytes", "\(c.maxMessageBytes)", 5), ("message.timestamp.type", "CreateTime", 5),
                           ("min.insync.replicas", "1", 5)]
            case 4:
                // 4 = STATIC_BROKER_CONFIG: from the service's properties.
                entries = [("broker.id", "\(c.brokerID)", 4), ("log.dirs", c.logDirs.joined(separator: ","), 4),
                           ("num.partitions", "\(c.numPartitions)", 4),
                           ("default.replication.factor", "\(c.defaultReplicationFactor)", 4),
                           ("auto.create.topics.enable", "\(c.autoCreateTopics)", 4),
                           ("log.segment.bytes", "\(c.segmentBytes)", 4), ("log.retention.ms", "\(c.retentionMillis)", 4),
                           ("log.retention.bytes", "\(c.retentionBytes)", 4), ("message.max.bytes", "\(c.maxMessageBytes)", 4),
                           ("socket.request.max.bytes", "\(c.maxRequestBytes)", 4),
                           ("offsets.retention.minutes", "\(c.offsetsRetentionMinutes)", 4),
                           ("group.initial.rebalance.delay.ms", "\(c.groupInitialRebalanceDelayMillis)", 4)]
            default:
                out.errorCode = KafkaErrorCode.invalidRequest
                out.errorMessage = "resource type \(res.resourceType) is not supported (topics: 2, brokers: 4)"
                resp.results.append(out)
                continue
            }
            // null lists everything; a list (even empty) only those keys, as Kafka does.
            let wanted = res.configurationKeys.map(Set.init)
            for (name, value, source) in entries where wanted?.contains(name) ?? true {
                var e = DescribeConfigsResponse.DescribeConfigsResourceResult()
                e.name = name
                e.value = value
                e.readOnly = res.resourceType == 4
                if version == 0 { e.isDefault = source == 5 } else { e.configSource = source }
                e.documentation = nil
                out.configs.append(e)
            }
            resp.results.append(out)
        }
        return resp
    }
}
