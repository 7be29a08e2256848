import SluiceABI

/// What every component shares. The SDK creates the instance when the host
/// configures it, so a component receives its context and properties at once
/// and can keep its settings immutable.
public protocol Component: AnyObject {
    init(context: ComponentContext, properties: Properties) throws
    /// Begin work. Must not block indefinitely.
    func start() throws
    /// End work; join any threads you started.
    func stop() throws
}

extension Component {
    public func start() throws {}
    public func stop() throws {}
}

/// A source: produces events and submits them in batches through
/// `ComponentContext.submit`. Conform to one of its two refinements.
public protocol Source: Component {}

/// A source the host polls: `process()` is called in a loop on one runner
/// thread; it reads some input, fills a batch and submits it.
public protocol PollableSource: Source {
    func process() throws -> ProcessStatus
}

/// A source that runs its own threads between start and stop and submits
/// batches from them.
public protocol EventDrivenSource: Source {}

/// A sink: `process()` is called in a loop on one runner thread; it takes a
/// batch from the channel, delivers it, then commits (or rolls back).
public protocol Sink: Component {
    func process() throws -> ProcessStatus
}

/// Transforms batches in place on the submitting source's thread. Calls for
/// one instance are never concurrent. Must not block.
public protocol Interceptor: Component {
    func intercept(_ batch: MutableBatch) throws
}

/// Chooses, for each event, the channels (bit i = the source's channel i)
/// that must accept it and those that may.
public protocol ChannelSelector: Component {
    func select(_ batch: EventBatchView,
                required: UnsafeMutableBufferPointer<UInt64>,
                optional: UnsafeMutableBufferPointer<UInt64>) throws
}

/// A long-running service (a broker, a coordinator) with only a lifecycle.
public protocol Service: Component {}
