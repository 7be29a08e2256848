import KafkaProtocol
import NIOCore

/// Why a connection is closed; the broker logs it and serves everyone else.
struct FrameError: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}

/// Turns one request frame into its response frame (nil: no response, as
/// for acks=0 produce). Runs on the connection's event loop.
struct RequestHandler {
    let broker: Broker

    func handle(_ frame: ByteBuffer, on loop: EventLoop) -> EventLoopFuture<ResponseFrame?> {
        var payload = frame
        let header: RequestHeader
        do {
            header = try RequestHeader.read(from: &payload)
        } catch {
            return loop.makeFailedFuture(FrameError(reason: "unreadable request header: \(error)"))
        }
        let version = header.requestApiVersion
        let cid = header.correlationId
        func frameOf<R: KafkaResponse>(_ r: R, version v: Int16 = version) -> EventLoopFuture<ResponseFrame?> {
            var out = ByteBufferAllocator().buffer(capacity: 256)
            do {
                try r.writeFrame(to: &out, version: v, correlationId: cid)
                return loop.makeSucceededFuture(ResponseFrame(out))
            } catch {
                return loop.makeFailedFuture(FrameError(reason: "cannot encode \(R.self) v\(v): \(error)"))
            }
        }
        guard let api = header.api, let range = Self.implemented[api] else {
            return loop.makeFailedFuture(FrameError(reason: "unsupported API key \(header.requestApiKey) (version \(version))"))
        }
        guard range.contains(version) else {
            if api == .apiVersions {
                // KIP-511: answer in v0 with UNSUPPORTED_VERSION and our ranges, so the client retries lower.
                return frameOf(ApiVersionsResponse.unsupportedVersion(apis: Self.advertisedApis), version: 0)
            }
            return loop.makeFailedFuture(FrameError(reason: "\(api.name) version \(version) is not supported (\(range.lowerBound)...\(range.upperBound))"))
        }
        let body: KafkaRequestBody
        do {
            body = try KafkaRequestBody(header: header, from: &payload)
        } catch {
            return loop.makeFailedFuture(FrameError(reason: "malformed \(api.name) v\(version) request: \(error)"))
        }
        switch body {
        case .apiVersions(let r): return frameOf(apiVersions(r))
        case .metadata(let r): return frameOf(metadata(r, version: version))
        case .produce(let r):
            guard let resp = produce(r) else { return loop.makeSucceededFuture(nil) }
            return frameOf(resp)
        case .fetch(let r):
            return fetch(r, on: loop).flatMapThrowing { result in
                do {
                    return try FetchFrame.encode(result.response, regions: result.regions, version: version, correlationId: cid)
                } catch let e as FrameError {
                    throw e
                } catch {
                    throw FrameError(reason: "cannot encode FetchResponse v\(version): \(error)")
                }
            }
        case .listOffsets(let r): return frameOf(listOffsets(r, version: version))
        case .createTopics(let r): return frameOf(createTopics(r))
        case .deleteTopics(let r): return frameOf(deleteTopics(r))
        case .createPartitions(let r): return frameOf(createPartitions(r))
        case .describeCluster(let r): return frameOf(describeCluster(r))
        case .findCoordinator(let r): return frameOf(findCoordinator(r, version: version))
        case .joinGroup(let r):
            return broker.groups.join(r, version: version, clientId: header.clientId ?? "", on: loop).flatMap { frameOf($0) }
        case .syncGroup(let r): return broker.groups.sync(r, version: version, on: loop).flatMap { frameOf($0) }
        case .heartbeat(let r): return frameOf(heartbeat(r))
        case .leaveGroup(let r): return frameOf(leaveGroup(r, version: version))
        case .offsetCommit(let r): return frameOf(offsetCommit(r, version: version))
        case .offsetFetch(let r): return frameOf(offsetFetch(r, version: version))
        case .describeGroups(let r): return frameOf(describeGroups(r, version: version))
        case .listGroups(let r): return frameOf(listGroups(r, version: version))
        case .deleteGroups(let r): return frameOf(deleteGroups(r))
        case .offsetDelete(let r): return frameOf(offsetDelete(r))
        case .initProducerId(let r): return frameOf(initProducerId(r))
        case .describeConfigs(let r): return frameOf(describeConfigs(r, version: version))
        default:
            return loop.makeFailedFuture(FrameError(reason: "\(api.name) is not implemented"))
        }
    }
}
