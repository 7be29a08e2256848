import Logging
import SluiceABI
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The host's side of one component instance: what `sluice_component *`
/// points at. Holds the component's name, counters, logger, and the plumbing
/// its host calls need (a source's channel processor, a sink's channel and
/// open transaction).
public final class ComponentHandle: @unchecked Sendable {
    public let name: String
    public let kind: ComponentKind
    public let metrics: CounterGroup
    let logger: Logger
    let nameC: UnsafeMutablePointer<CChar>
    let agentC: UnsafeMutablePointer<CChar>
    private let stopping = Atomic<Bool>(false)

    // Source plumbing.
    var processor: ChannelProcessor?

    // Sink plumbing: used only from the sink's runner thread.
    var channel: Channel?
    var txn: TakeTransaction?
    var lastTakeWasEmpty = false
    let drainAttempt, drainSuccess, batchEmpty, batchUnderflow, batchComplete, channelReadFail: MetricCell

    /// Flume's attributes, listed (at 0) from the start as Flume lists them.
    static let sourceCounters = ["EventReceivedCount", "EventAcceptedCount", "AppendReceivedCount", "AppendAcceptedCount",
                                 "AppendBatchReceivedCount", "AppendBatchAcceptedCount", "OpenConnectionCount",
                                 "EventReadFail", "ChannelWriteFail", "GenericProcessingFail"]
    static let sinkCounters = ["ConnectionCreatedCount", "ConnectionClosedCount", "ConnectionFailedCount",
                               "BatchEmptyCount", "BatchUnderflowCount", "BatchCompleteCount",
                               "EventDrainAttemptCount", "EventDrainSuccessCount", "EventWriteFail", "ChannelReadFail"]

    init(name: String, agent: String, kind: ComponentKind, metrics: CounterGroup) {
        self.name = name
        self.kind = kind
        self.metrics = metrics
        var l = Logger(label: "sluice")
        l[metadataKey: "component"] = "\(name)"
        logger = l
        nameC = strdup(name)
        agentC = strdup(agent)
        switch kind {
        case .source: Self.sourceCounters.forEach { _ = metrics.counter($0) }
        case .sink: Self.sinkCounters.forEach { _ = metrics.counter($0) }
        default: break
        }
        // Take counters belong to sinks; other kinds get cells nobody lists.
        let cell = { (name: String) in kind == .sink ? metrics.counter(name) : MetricCell() }
        drainAttempt = cell("EventDrainAttemptCount")
        drainSuccess = cell("EventDrainSuccessCount")
        batchEmpty = cell("BatchEmptyCount")
        batchUnderflow = cell("BatchUnderflowCount")
        batchComplete = cell("BatchCompleteCount")
        channelReadFail = cell("ChannelReadFail")
    }

    deinit {
        free(nameC)
        free(agentC)
    }

    var opaque: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    @inline(__always)
    static func from(_ p: OpaquePointer?) -> ComponentHandle {
        Unmanaged<ComponentHandle>.fromOpaque(UnsafeRawPointer(p!)).takeUnretainedValue()
    }

    var isStopping: Bool { stopping.load(ordering: .acquiring) }
    func markStopping() { stopping.store(true, ordering: .releasing) }

    // MARK: Sink transactions

    func take(max: Int, waitNanos: UInt64) throws -> UnsafePointer<sluice_batch> {
        guard let channel else { throw ChannelError(description: "\(name) is not a sink") }
        let t: TakeTransaction
        if let existing = txn { t = existing } else {
            t = TakeTransaction(capacity: channel.transactionCapacity)
            txn = t
        }
        let got = try channel.take(into: t, max: max, waitNanos: waitNanos)
        drainAttempt.add(Int64(got))
        if got == 0 { batchEmpty.add(1) } else if got < max { batchUnderflow.add(1) } else { batchComplete.add(1) }
        lastTakeWasEmpty = got == 0
        return UnsafePointer(t.view)
    }

    /// Commits the take; if the channel cannot make it final, the events go
    /// back to the channel and the error is thrown.
    func commit() throws {
        guard let channel, let t = txn else { return }
        let n = t.count
        do {
            try channel.commitTake(t)
        } catch {
            channel.rollbackTake(t)
            throw error
        }
        drainSuccess.add(Int64(n))
    }

    func rollback() {
        guard let channel, let t = txn else { return }
        channel.rollbackTake(t)
    }

    var hasOpenTransaction: Bool { txn?.isOpen ?? false }
}
