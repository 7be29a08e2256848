import Logging
import SluiceABI

/// One per source: runs the interceptor chain, asks the selector for
/// channels, then commits the batch to every required channel or to none
/// (two-phase: reserve in all, then commit all). Optional channels get the
/// events when they have room; their failures are only logged.
final class ChannelProcessor: @unchecked Sendable {
    let source: ComponentHandle
    let channels: [Channel]
    let interceptors: [PluginComponent]
    let selector: ChannelSelecting
    private let lock = ConditionLock()
    private let received, accepted, batchReceived, batchAccepted, writeFail: MetricCell

    init(source: ComponentHandle, channels: [Channel], interceptors: [PluginComponent], selector: ChannelSelecting) {
        self.source = source
        self.channels = channels
        self.interceptors = interceptors
        self.selector = selector
        received = source.metrics.counter("EventReceivedCount")
        accepted = source.metrics.counter("EventAcceptedCount")
        batchReceived = source.metrics.counter("AppendBatchReceivedCount")
        batchAccepted = source.metrics.counter("AppendBatchAcceptedCount")
        writeFail = source.metrics.counter("ChannelWriteFail")
    }

    func submit(_ batch: HostBatch, _ err: UnsafeMutablePointer<sluice_error>?) -> sluice_status {
        // Interceptor and selector calls for one source are never concurrent.
        lock.lock()
        defer { lock.unlock() }
        let original = batch.count
        received.add(Int64(original))
        batchReceived.add(1)
        if original == 0 { return sluice_status(SLUICE_OK) }
        if !interceptors.isEmpty { batch.saveOriginals() }
        do {
            for i in interceptors {
                try i.intercept(batch.raw)
                if batch.raw.pointee.count > original { batch.raw.pointee.count = original }
                if batch.count == 0 { break }
            }
            let status = try deliver(batch, selector.select(batch.raw), err)
            if status != SLUICE_OK {
                if !interceptors.isEmpty { batch.restoreSaved() }
                writeFail.add(1)
                return status
            }
        } catch {
            if !interceptors.isEmpty { batch.restoreSaved() }
            writeFail.add(1)
            writeError("\(error)", err)
            return sluice_status(SLUICE_ERR_GENERIC)
        }
        accepted.add(Int64(original))
        batchAccepted.add(1)
        return sluice_status(SLUICE_OK)
    }

    private func deliver(_ batch: HostBatch, _ selection: Selection, _ err: UnsafeMutablePointer<sluice_error>?) throws -> sluice_status {
        let n = batch.count
        if n == 0 {
            batch.clear()
            return sluice_status(SLUICE_OK)
        }
        // Per channel: which events, how many body bytes.
        var required: [Int: [Int]] = [:]
        var optional: [Int: [Int]] = [:]
        var requiredAll: UInt64 = 0, optionalAll: UInt64 = 0
        switch selection {
        case .uniform(let r, let o):
            requiredAll = r
            optionalAll = o
        case .perEvent(let r, let o):
            for i in 0..<n {
                for c in 0..<channels.count {
                    let bit: UInt64 = 1 << UInt64(c)
                    if r[i] & bit != 0 { required[c, default: []].append(i) } else if o[i] & bit != 0 { optional[c, default: []].append(i) }
                }
            }
        }
        let totalBytes: Int = {
            if case .uniform = selection { return (0..<n).reduce(0) { $0 + batch.events[$1].body.len } }
            return 0
        }()
        func plan(_ all: UInt64, _ per: [Int: [Int]]) -> [(Int, [Int]?, Int)] {
            if case .uniform = selection {
                return (0..<channels.count).filter { all & (1 << UInt64($0)) != 0 }.map { ($0, nil, totalBytes) }
            }
            return per.keys.sorted().map { c in (c, per[c]!, per[c]!.reduce(0) { $0 + batch.events[$1].body.len }) }
        }
        let requiredPlan = plan(requiredAll, required)
        let optionalPlan = plan(optionalAll, optional)

        // Phase 1: reserve room in every required channel.
        var reserved: [(Int, [Int]?, PutReservation)] = []
        for (c, indices, bytes) in requiredPlan {
            let count = indices?.count ?? n
            let r: PutReservation?
            do {
                r = try channels[c].preparePut(count: count, bodyBytes: bytes, wait: true)
            } catch let full as ChannelFull {
                for (rc, _, rr) in reserved { channels[rc].abortPut(rr) }
                writeError("\(full)", err)
                return sluice_status(SLUICE_BACKOFF)
            } catch {
                for (rc, _, rr) in reserved { channels[rc].abortPut(rr) }
                writeError("\(error)", err)
                return sluice_status(SLUICE_ERR_LIMIT)
            }
            guard let r else {
                for (rc, _, rr) in reserved { channels[rc].abortPut(rr) }
                writeError("channel '\(channels[c].name)' is full: sinks are not keeping up", err)
                return sluice_status(SLUICE_BACKOFF)
            }
            reserved.append((c, indices, r))
        }
        // Phase 2: commit, durable channels first: their commit can fail,
        // and then the others are still only reserved and can be let go.
        reserved.sort { channels[$0.0].isDurable && !channels[$1.0].isDurable }
        let whole = batch.detach()
        for (n, (c, indices, r)) in reserved.enumerated() {
            do {
                try channels[c].commitPut(r, indices.map { whole.subset($0) } ?? whole)
            } catch {
                for (rc, _, rr) in reserved[(n + 1)...] { channels[rc].abortPut(rr) }
                if n > 0 {
                    source.logger.error("channel '\(channels[c].name)' failed after \(n) other durable channel(s) committed this batch; a retry duplicates it there")
                }
                batch.reattach(whole)
                writeError("\(error)", err)
                return sluice_status(SLUICE_ERR_GENERIC)
            }
        }
        for (c, indices, bytes) in optionalPlan {
            let count = indices?.count ?? n
            do {
                if let r = try channels[c].preparePut(count: count, bodyBytes: bytes, wait: false) {
                    try channels[c].commitPut(r, indices.map { whole.subset($0) } ?? whole)
                } else {
                    source.logger.warning("optional channel '\(channels[c].name)' is full; \(count) events not written to it")
                }
            } catch {
                source.logger.warning("optional channel '\(channels[c].name)': \(error)")
            }
        }
        return sluice_status(SLUICE_OK)
    }
}
