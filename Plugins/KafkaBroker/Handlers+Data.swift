import KafkaLog
import KafkaProtocol
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Produce, Fetch and ListOffsets.
extension RequestHandler {
    /// nil for acks=0: Kafka sends no response then.
    func produce(_ r: ProduceRequest) -> ProduceResponse? {
        var resp = ProduceResponse()
        let badAcks = r.acks != 0 && r.acks != 1 && r.acks != -1
        var appended = false
        for t in r.topicData {
            var tr = ProduceResponse.TopicProduceResponse()
            tr.name = t.name
            for p in t.partitionData {
                var pr = ProduceResponse.PartitionProduceResponse()
                pr.index = p.index
                if badAcks {
                    pr.errorCode = KafkaErrorCode.invalidRequiredAcks
                } else if let log = broker.partitionLog(t.name, p.index, create: true) {
                    do {
                        guard let records = p.records, records.readableBytes > 0 else {
                            throw LogError.emptyAppend
                        }
                        let info = try records.withUnsafeReadableBytes { try log.append($0) }
                        pr.baseOffset = info.baseOffset
                        pr.logAppendTimeMs = log.config.timestampType == .logAppendTime ? info.logAppendTime : -1
                        pr.logStartOffset = info.logStartOffset
                        appended = true
                    } catch {
                        pr.errorCode = KafkaErrorCode.of(error)
                        pr.errorMessage = "\(error)"
                        broker.context.log(.warn, "produce to \(t.name)-\(p.index) refused: \(error)")
                    }
                } else {
                    pr.errorCode = KafkaErrorCode.unknownTopicOrPartition
                }
                tr.partitionResponses.append(pr)
            }
            resp.responses.append(tr)
        }
        if appended { broker.notifyAppend() }
        return r.acks == 0 ? nil : resp
    }

    /// What one fetch pass found: the response with a marker in place of
    /// each partition's records, and those records as segment-file regions
    /// (in response order) for `FetchFrame` to send.
    struct FetchResult {
        var response = FetchResponse()
        var regions: [[KafkaLog.FileRegion]] = []
        var bytes = 0
    }

    /// One pass over the requested partitions.
    func fetchOnce(_ r: FetchRequest) -> FetchResult {
        var result = FetchResult()
        var budget = max(0, Int(r.maxBytes))
        for t in r.topics {
            var tr = FetchResponse.FetchableTopicResponse()
            tr.topic = t.topic
            tr.topicId = t.topicId
            let name = t.topic.isEmpty ? broker.allTopics.first { $0.value.id == t.topicId }?.key ?? "" : t.topic
            for p in t.partitions {
                var pr = FetchResponse.PartitionData()
                pr.partitionIndex = p.partition
                guard let log = broker.partitionLog(name, p.partition, create: false) else {
                    pr.errorCode = KafkaErrorCode.unknownTopicOrPartition
                    tr.partitions.append(pr)
                    continue
                }
                do {
                    // The first partition with data may exceed the budget by one batch (Kafka's rule).
                    let limit = min(Int(p.partitionMaxBytes), budget)
                    let info = try log.read(from: p.fetchOffset, maxBytes: limit, minOneBatch: result.bytes == 0)
                    pr.highWatermark = info.highWatermark
                    pr.lastStableOffset = info.highWatermark
                    pr.logStartOffset = info.logStartOffset
                    if info.totalBytes > 0 {
                        var marker = ByteBufferAllocator().buffer(capacity: FetchFrame.marker.count)
                        marker.writeBytes(FetchFrame.marker)
                        pr.records = marker
                        result.regions.append(info.regions)
                        result.bytes += info.totalBytes
                        budget = max(0, budget - info.totalBytes)
                    } else {
                        pr.records = ByteBuffer()
                    }
                } catch let e as LogError {
                    pr.errorCode = KafkaErrorCode.of(e)
                    pr.highWatermark = log.highWatermark
                    pr.logStartOffset = log.logStartOffset
                } catch {
                    pr.errorCode = KafkaErrorCode.unknownServerError
                }
                tr.partitions.append(pr)
            }
            result.response.responses.append(tr)
        }
        return result
    }

    /// Fetch with Kafka's long poll: answer at once when min_bytes are there
    /// (or max_wait is 0), else when an append brings enough, else at max_wait.
    func fetch(_ r: FetchRequest, on loop: EventLoop) -> EventLoopFuture<FetchResult> {
        let first = fetchOnce(r)
        if first.bytes >= Int(max(1, r.minBytes)) || r.maxWaitMs <= 0 {
            return loop.makeSucceededFuture(first)
        }
        let promise = loop.makePromise(of: FetchResult.self)
        let waiter = FetchWaiter()
        let key = ObjectIdentifier(waiter)
        let finish: (Bool) -> Void = { [self] final in
            guard !waiter.done else { return }
            let attempt = fetchOnce(r)
            if final || attempt.bytes >= Int(max(1, r.minBytes)) {
                waiter.done = true
                waiter.timeout?.cancel()
                broker.removeWaiter(key)
                promise.succeed(attempt)
            }
        }
        waiter.timeout = loop.scheduleTask(in: .milliseconds(Int64(r.maxWaitMs))) { finish(true) }
        broker.addWaiter(key) { loop.execute { finish(false) } }
        return promise.futureResult
    }

    func listOffsets(_ r: ListOffsetsRequest, version: Int16) -> ListOffsetsResponse {
        var resp = ListOffsetsResponse()
        for t in r.topics {
            var tr = ListOffsetsResponse.ListOffsetsTopicResponse()
            tr.name = t.name
            for p in t.partitions {
                var pr = ListOffsetsResponse.ListOffsetsPartitionResponse()
                pr.partitionIndex = p.partitionIndex
                if let log = broker.partitionLog(t.name, p.partitionIndex, create: false) {
                    do {
                        if let found = try log.listOffset(timestamp: p.timestamp) {
                            pr.offset = found.offset
                            pr.timestamp = found.timestamp
                        } else {
                            pr.offset = -1
                            pr.timestamp = -1
                        }
                        if version >= 4 { pr.leaderEpoch = 0 }
                    } catch {
                        pr.errorCode = KafkaErrorCode.of(error)
                    }
                } else {
                    pr.errorCode = KafkaErrorCode.unknownTopicOrPartition
                }
                tr.partitions.append(pr)
            }
            resp.topics.append(tr)
        }
        return resp
    }
}

/// State of one waiting fetch; touched only on its event loop.
final class FetchWaiter: @unchecked Sendable {
    var done = false
    var timeout: Scheduled<Void>?
}
