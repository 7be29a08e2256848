import KafkaProtocol

/// ApiVersions, Metadata, topic administration and DescribeCluster.
extension RequestHandler {
    /// What this broker answers, per API (the versions it implements).
    static let implemented: [KafkaApiKey: ClosedRange<Int16>] = [
        .produce: 3...9, .fetch: 4...12, .listOffsets: 1...7, .metadata: 0...12, .apiVersions: 0...3,
        .createTopics: 0...5, .deleteTopics: 0...4, .createPartitions: 0...3, .describeCluster: 0...1,
        .initProducerId: 0...4, .describeConfigs: 0...4,
        .findCoordinator: 0...4, .joinGroup: 0...7, .syncGroup: 0...5, .heartbeat: 0...4, .leaveGroup: 0...4,
        .offsetCommit: 2...8, .offsetFetch: 1...7, .describeGroups: 0...5, .listGroups: 0...4,
        .deleteGroups: 0...2, .offsetDelete: 0...0,
    ]

    static let advertisedApis: [ApiVersionsResponse.ApiVersion] = ApiVersionsResponse.supportedApis(
        limits: implemented, excluding: Set(KafkaApiKey.allCases.filter { implemented[$0] == nil }))

    func apiVersions(_ r: ApiVersionsRequest) -> ApiVersionsResponse {
        ApiVersionsResponse(errorCode: 0, apiKeys: Self.advertisedApis)
    }

    func metadata(_ r: MetadataRequest, version: Int16) -> MetadataResponse {
        var resp = MetadataResponse()
        resp.brokers = [.init(nodeId: broker.config.brokerID, host: broker.config.advertisedHost,
                              port: Int32(broker.config.advertisedPort), rack: nil)]
        resp.clusterId = broker.config.clusterID
        resp.controllerId = broker.config.brokerID
        let names: [String]
        if let requested = r.topics {
            names = requested.compactMap { $0.name }
            // Version 4+ says whether to create; older versions always may.
            let create = version < 4 || r.allowAutoTopicCreation
            for n in names where broker.topic(n) == nil && create && broker.config.autoCreateTopics {
                _ = try? broker.createTopic(n, partitions: broker.config.numPartitions)
            }
        } else {
            names = broker.allTopics.keys.sorted()
        }
        for n in names {
            var t = MetadataResponse.MetadataResponseTopic()
            t.name = n
            guard let info = broker.topic(n) else {
                t.errorCode = KafkaErrorCode.unknownTopicOrPartition
                resp.topics.append(t)
                continue
            }
            t.topicId = info.id
            t.partitions = (0..<info.partitions).map { p in
                var part = MetadataResponse.MetadataResponsePartition()
                part.partitionIndex = p
                part.leaderId = broker.config.brokerID
                part.leaderEpoch = 0
                part.replicaNodes = [broker.config.brokerID]
                part.isrNodes = [broker.config.brokerID]
                return part
            }
            resp.topics.append(t)
        }
        return resp
    }

    func createTopics(_ r: CreateTopicsRequest) -> CreateTopicsResponse {
        var resp = CreateTopicsResponse()
        for t in r.topics {
            var res = CreateTopicsResponse.CreatableTopicResult()
            res.name = t.name
            res.errorMessage = nil
            let partitions = t.numPartitions == -1 ? broker.config.numPartitions
                : (t.numPartitions == 0 && !t.assignments.isEmpty ? Int32(t.assignments.count) : t.numPartitions)
            let rf = t.replicationFactor == -1 ? broker.config.defaultReplicationFactor : t.replicationFactor
            if rf != 1 {
                res.errorCode = KafkaErrorCode.invalidReplicationFactor
                res.errorMessage = "replication factor \(rf) is larger than the 1 available broker"
            } else if partitions < 1 {
                res.errorCode = KafkaErrorCode.invalidPartitions
                res.errorMessage = "number of partitions must be at least 1"
            } else if broker.topic(t.name) != nil {
                res.errorCode = KafkaErrorCode.topicAlreadyExists
                res.errorMessage = "topic '\(t.name)' already exists"
            } else if r.validateOnly {
                res.numPartitions = partitions
                res.replicationFactor = 1
            } else {
                do {
                    let info = try broker.createTopic(t.name, partitions: partitions)
                    res.topicId = info.id
                    res.numPartitions = partitions
                    res.replicationFactor = 1
                } catch Broker.TopicError.invalidName(let why) {
                    res.errorCode = KafkaErrorCode.invalidTopic
                    res.errorMessage = why
                } catch {
                    res.errorCode = KafkaErrorCode.unknownServerError
                    res.errorMessage = "\(error)"
                }
            }
            resp.topics.append(res)
        }
        return resp
    }

    func deleteTopics(_ r: DeleteTopicsRequest) -> DeleteTopicsResponse {
        var resp = DeleteTopicsResponse()
        let names = r.topicNames + r.topics.compactMap { $0.name }
        for n in names {
            var res = DeleteTopicsResponse.DeletableTopicResult()
            res.name = n
            do {
                try broker.deleteTopic(n)
            } catch Broker.TopicError.notFound {
                res.errorCode = KafkaErrorCode.unknownTopicOrPartition
            } catch {
                res.errorCode = KafkaErrorCode.unknownServerError
                res.errorMessage = "\(error)"
            }
            resp.responses.append(res)
        }
        return resp
    }

    func createPartitions(_ r: CreatePartitionsRequest) -> CreatePartitionsResponse {
        var resp = CreatePartitionsResponse()
        for t in r.topics {
            var res = CreatePartitionsResponse.CreatePartitionsTopicResult()
            res.name = t.name
            do {
                if !r.validateOnly { try broker.addPartitions(t.name, to: t.count) }
            } catch Broker.TopicError.notFound {
                res.errorCode = KafkaErrorCode.unknownTopicOrPartition
                res.errorMessage = "topic '\(t.name)' does not exist"
            } catch Broker.TopicError.invalidPartitions {
                res.errorCode = KafkaErrorCode.invalidPartitions
                res.errorMessage = "topic '\(t.name)' already has at least \(t.count) partitions"
            } catch {
                res.errorCode = KafkaErrorCode.unknownServerError
                res.errorMessage = "\(error)"
            }
            resp.results.append(res)
        }
        return resp
    }

    /// Idempotent producers get a fresh id (epoch 0); the logs then
    /// de-duplicate retried batches by sequence. Transactions are not
    /// supported: a transactional id is refused.
    func initProducerId(_ r: InitProducerIdRequest) -> InitProducerIdResponse {
        var resp = InitProducerIdResponse()
        if let tid = r.transactionalId, !tid.isEmpty {
            resp.errorCode = KafkaErrorCode.invalidRequest
            broker.context.log(.warn, "InitProducerId for transactional id '\(tid)' refused: transactions are not supported")
            return resp
        }
        do {
            resp.producerId = try broker.producerIDs.next()
            resp.producerEpoch = 0
        } catch {
            resp.errorCode = KafkaErrorCode.unknownServerError
            broker.context.log(.error, "cannot allocate a producer id: \(error)")
        }
        return resp
    }

    func describeCluster(_ r: DescribeClusterRequest) -> DescribeClusterResponse {
        var resp = DescribeClusterResponse()
        resp.clusterId = broker.config.clusterID
        resp.controllerId = broker.config.brokerID
        resp.brokers = [.init(brokerId: broker.config.brokerID, host: broker.config.advertisedHost,
                              port: Int32(broker.config.advertisedPort), rack: nil)]
        return resp
    }
}
