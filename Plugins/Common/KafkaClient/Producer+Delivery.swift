import KafkaProtocol
import NIOCore

/// Delivery: rounds of Produce requests until every batch is acknowledged.
extension KafkaProducer {
    /// One Produce request being planned or in flight.
    final class PlannedRequest {
        var batches: [ProducerBatch] = []
        var bytes = 0
        var correlationId: Int32 = 0
    }

    /// What one round left to do.
    struct RoundResult {
        var remaining: [ProducerBatch] = []
        var refreshMetadata = false
        var resetProducer = false
        var lastError = ""
    }

    func deliver(_ batches: [ProducerBatch]) throws {
        var pending = batches
        let deadline = monotonicMillis() + Int64(config.deliveryTimeoutMs)
        var refresh = monotonicMillis() - cluster.metadata.fetchedAt > Int64(config.metadataMaxAgeMs)
        var attempt = 0
        var lastError = ""
        while true {
            if attempt > 0 {
                // The first retry and every tenth are warnings; a long outage does not flood the log.
                let level: KafkaLogLevel = attempt == 1 || attempt % 10 == 0 ? .warn : .debug
                log(level, "retrying \(pending.reduce(0) { $0 + Int($1.recordCount) }) records in \(pending.count) batches (attempt \(attempt + 1)): \(lastError)")
                guard try pause(attempt: attempt, deadline: deadline) else {
                    throw KafkaProduceError("gave up after delivery.timeout.ms (\(config.deliveryTimeoutMs) ms): \(lastError)", retriable: true)
                }
            }
            attempt += 1
            if shouldAbort() { throw KafkaProduceError("stopping: delivery abandoned", retriable: true) }
            if refresh {
                do {
                    try cluster.refresh(topics: Array(Set(pending.map { $0.topic.name })), abort: shouldAbort)
                    updateTopics()
                    refresh = false
                } catch let e as KafkaClientError where e.isRetriable {
                    lastError = "metadata: \(e.description)"
                    continue
                }
            }
            if config.enableIdempotence && producerId < 0 {
                do {
                    try initProducerId()
                } catch let e as KafkaClientError where e.isRetriable {
                    lastError = "InitProducerId: \(e.description)"
                    refresh = true
                    continue
                }
            }
            let r = try sendRound(pending)
            pending = r.remaining
            if pending.isEmpty {
                if attempt > 1 { log(.info, "delivered after \(attempt) attempts") }
                return
            }
            refresh = r.refreshMetadata
            lastError = r.lastError
            if r.resetProducer { resetProducerId() }
            if let b = pending.first(where: { $0.attempts > config.retries }) {
                throw KafkaProduceError("gave up on \(b.topic.name)-\(b.partition) after \(config.retries) retries (retries): \(lastError)",
                                        retriable: true)
            }
        }
    }

    /// Gets a producer id and epoch for idempotent writes.
    func initProducerId() throws {
        let c = try cluster.anyConnection()
        let v = try c.version(InitProducerIdRequest.self, max: 4)
        var req = InitProducerIdRequest()
        req.transactionalId = nil
        req.transactionTimeoutMs = Int32(clamping: config.deliveryTimeoutMs)
        let id = try c.write(req, version: v)
        let resp = try c.receive(InitProducerIdResponse.self, correlationId: id, version: v, abort: shouldAbort)
        guard resp.errorCode == 0 else {
            // COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR, REQUEST_TIMED_OUT pass.
            let retriable = [14, 15, 16, 7].contains(resp.errorCode)
            throw KafkaClientError(description: "InitProducerId: \(kafkaErrorName(resp.errorCode))", retriable: retriable)
        }
        producerId = resp.producerId
        producerEpoch = resp.producerEpoch
        log(.debug, "producer id \(producerId), epoch \(producerEpoch)")
    }

    // MARK: One round

    func sendRound(_ pending: [ProducerBatch]) throws -> RoundResult {
        var result = RoundResult()
        var plans: [Int32: [PlannedRequest]] = [:]
        var nodeOrder: [Int32] = []
        /// Per partition, the index of the last request (of its leader) holding one of its batches.
        var lastRequest: [Int: Int] = [:]
        for b in pending {
            guard let leader = cluster.metadata.leader(b.topic.name, b.partition) else {
                result.remaining.append(b)
                result.refreshMetadata = true
                result.lastError = "\(b.topic.name)-\(b.partition) has no leader"
                continue
            }
            seal(b)
            if plans[leader] == nil {
                plans[leader] = []
                nodeOrder.append(leader)
            }
            let key = b.topic.key(b.partition)
            let size = b.byteCount + ProduceRequestWriter.overhead(topicNameBytes: b.topic.nameBytes.count)
            let list = plans[leader]!
            let minIndex = (lastRequest[key] ?? -1) + 1
            if let last = list.last, list.count - 1 >= minIndex, last.bytes + size <= config.maxRequestSize {
                last.batches.append(b)
                last.bytes += size
                lastRequest[key] = list.count - 1
            } else {
                let r = PlannedRequest()
                r.batches = [b]
                r.bytes = size
                plans[leader]!.append(r)
                lastRequest[key] = list.count
            }
        }
        var senders = nodeOrder.map { NodeSender(node: $0, requests: plans[$0]!) }
        // Write the first requests to every leader, then read and refill.
        for i in senders.indices { fill(&senders[i], &result) }
        var active = senders.indices.filter { !senders[$0].inFlight.isEmpty }
        do {
            while !active.isEmpty {
                for i in active {
                    try receiveOne(&senders[i], &result)
                    fill(&senders[i], &result)
                }
                active = active.filter { !senders[$0].inFlight.isEmpty }
            }
        } catch {
            // Responses still on their way would be read as answers to later requests.
            for s in senders where !s.inFlight.isEmpty { cluster.drop(s.node) }
            throw error
        }
        return result
    }

    /// The requests for one leader: written up to max.in.flight ahead of their responses.
    struct NodeSender {
        let node: Int32
        var requests: [PlannedRequest]
        var next = 0
        var inFlight: [PlannedRequest] = []
        var version: Int16 = -1
        var failed = false

        init(node: Int32, requests: [PlannedRequest]) {
            self.node = node
            self.requests = requests
        }
    }

    /// Numbers a batch for this producer id (idempotence), or marks it as
    /// having none; a batch already numbered under the current id keeps its numbers.
    func seal(_ b: ProducerBatch) {
        if config.enableIdempotence {
            guard b.sealedGeneration != generation else { return }
            let t = b.topic!
            let seq = t.nextSequence[Int(b.partition)]
            t.nextSequence[Int(b.partition)] = Int32(truncatingIfNeeded: (Int64(seq) + Int64(b.recordCount)) & 0x7fff_ffff)
            b.seal(producerId: producerId, epoch: producerEpoch, baseSequence: seq, generation: generation)
        } else if b.sealedGeneration < 0 {
            b.seal(producerId: -1, epoch: -1, baseSequence: -1, generation: 0)
        }
    }

    private func fill(_ s: inout NodeSender, _ result: inout RoundResult) {
        while !s.failed, s.next < s.requests.count, s.inFlight.count < config.maxInFlightPerConnection || config.acks == 0 {
            let r = s.requests[s.next]
            do {
                let c = try cluster.connection(s.node, idle: s.inFlight.isEmpty)
                if s.version < 0 {
                    s.version = try c.version(ProduceRequest.self, max: ProduceRequestWriter.maxVersion)
                    guard s.version >= ProduceRequestWriter.minVersion else {
                        throw KafkaClientError(description: "\(c.address) speaks Produce only up to v\(s.version) (v3 needed for record batches v2)")
                    }
                }
                let acks = config.acks
                let timeout = Int32(clamping: config.requestTimeoutMs)
                let version = s.version
                r.correlationId = try c.writeFrame(apiKey: ProduceRequest.apiKey, version: version) { out in
                    ProduceRequestWriter.writeBody(r.batches, acks: acks, timeoutMs: timeout, version: version, to: &out)
                }
                sentSinceReset = true
                s.next += 1
                for b in r.batches { b.attempts += 1 }
                if acks == 0 {
                    continue  // nothing comes back: written is done
                }
                s.inFlight.append(r)
            } catch {
                nodeFailed(&s, &result, error)
            }
        }
    }

    private func receiveOne(_ s: inout NodeSender, _ result: inout RoundResult) throws {
        guard !s.inFlight.isEmpty else { return }
        let r = s.inFlight.removeFirst()
        let resp: ProduceResponse
        do {
            let c = try cluster.connection(s.node)
            resp = try c.receive(ProduceResponse.self, correlationId: r.correlationId, version: s.version, abort: shouldAbort)
        } catch {
            s.inFlight.insert(r, at: 0)
            nodeFailed(&s, &result, error)
            return
        }
        var answers: [String: [Int32: ProduceResponse.PartitionProduceResponse]] = [:]
        for t in resp.responses {
            for p in t.partitionResponses { answers[t.name, default: [:]][p.index] = p }
        }
        for b in r.batches {
            let name = b.topic.name
            guard let answer = answers[name]?[b.partition] else {
                result.remaining.append(b)
                result.lastError = "no answer for \(name)-\(b.partition) from broker \(s.node)"
                continue
            }
            let what = "\(name)-\(b.partition): \(kafkaErrorName(answer.errorCode))" + (answer.errorMessage.map { " (\($0))" } ?? "")
            switch ProduceOutcome(errorCode: answer.errorCode) {
            case .acknowledged:
                continue
            case .retry(let refresh):
                result.remaining.append(b)
                result.refreshMetadata = result.refreshMetadata || refresh
                result.lastError = what
            case .resetProducer:
                // Expected after an earlier batch of the partition failed in this round; otherwise the
                // broker no longer knows our sequence: renumber under a new producer id.
                if !priorFailure(b, result) { result.resetProducer = true }
                result.remaining.append(b)
                result.lastError = what
            case .fatal:
                let hint = answer.errorCode == KafkaErrorCode.messageTooLarge
                    ? "; the batch (\(b.byteCount) bytes) is larger than the broker accepts: lower batch.size" : ""
                throw KafkaProduceError("produce to \(what)\(hint)", retriable: false)
            }
        }
    }

    /// Whether an earlier batch of `b`'s partition is already waiting for a retry.
    private func priorFailure(_ b: ProducerBatch, _ result: RoundResult) -> Bool {
        result.remaining.contains { $0.topic === b.topic && $0.partition == b.partition }
    }

    /// The connection to `s.node` failed: everything not acknowledged goes again after a metadata refresh.
    private func nodeFailed(_ s: inout NodeSender, _ result: inout RoundResult, _ error: Error) {
        cluster.drop(s.node)
        s.failed = true
        for r in s.inFlight { result.remaining += r.batches }
        for r in s.requests[s.next...] { result.remaining += r.batches }
        s.inFlight = []
        s.next = s.requests.count
        result.refreshMetadata = true
        result.lastError = "broker \(s.node): \(error)"
    }
}
