import Logging
import SluiceABI

/// A loop on its own thread calling a pollable source's or a sink
/// processor's process(), with Flume's back-off: after BACKOFF sleep
/// min(n × increment, max); after an error sleep max.
final class Runner: @unchecked Sendable {
    let name: String
    private let step: () throws -> sluice_status
    private let increment: UInt64
    private let maxSleep: UInt64
    private let logger: Logger
    /// For sinks: true when the back-off came from an empty channel. The
    /// sink's take already waited for events then, so the runner does not
    /// sleep on top of it (Flume would, adding up to 5 s of latency).
    private let backoffWasIdle: (() -> Bool)?
    private let lock = ConditionLock()
    private var stopped = false
    private var thread: OSThread?

    init(name: String, logger: Logger, incrementMillis: Int = 1000, maxSleepMillis: Int = 5000,
         backoffWasIdle: (() -> Bool)? = nil, step: @escaping () throws -> sluice_status) {
        self.name = name
        self.logger = logger
        self.step = step
        self.increment = UInt64(incrementMillis) * 1_000_000
        self.maxSleep = UInt64(maxSleepMillis) * 1_000_000
        self.backoffWasIdle = backoffWasIdle
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    func start() {
        thread = OSThread(name: name) { [self] in loop() }
    }

    /// Stops the loop after its current step and joins the thread.
    func stop() {
        lock.withLock {
            stopped = true
            lock.broadcast()
        }
        thread?.join()
        thread = nil
    }

    private func loop() {
        var backoffs: UInt64 = 0
        while !isStopped {
            do {
                let s = try step()
                if s == SLUICE_BACKOFF {
                    backoffs += 1
                    let nap = min(backoffs * increment, maxSleep)
                    if backoffWasIdle?() != true {
                        _ = interruptibleSleep(nap, lock: lock) { stopped }
                    }
                } else {
                    backoffs = 0
                }
            } catch {
                logger.error("\(error)")
                _ = interruptibleSleep(maxSleep, lock: lock) { stopped }
            }
        }
    }
}
