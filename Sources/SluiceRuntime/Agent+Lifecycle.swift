import Logging
#if canImport(Glibc)
import Glibc
#endif
import SluiceABI

extension Agent {
    /// Starts services, channels, sinks, then sources (Flume's order, with
    /// services first). On a failure, stops what started and throws.
    public func start() throws {
        let now = epochMillis()
        do {
            for s in services {
                try s.start()
                s.handle.metrics.startTime.set(now)
            }
            for c in channels {
                do {
                    try c.start()
                } catch {
                    throw ChannelError(description: "channel '\(c.name)': \(error)")
                }
                c.metrics.startTime.set(now)
            }
            for (p, runner) in sinkGroups {
                for s in p.sinks {
                    try s.start()
                    s.handle.metrics.startTime.set(now)
                }
                runner.start()
            }
            for (s, runner) in sources {
                try s.start()
                s.handle.metrics.startTime.set(now)
                runner?.start()
            }
        } catch {
            logger.error("start failed: \(error)")
            stop(drainNanos: 0)
            throw error
        }
        logger.info("agent \(name) started: \(sources.count) sources, \(channels.count) channels, \(sinkGroups.reduce(0) { $0 + $1.processor.sinks.count }) sinks, \(services.count) services")
    }

    /// Stops sources, lets sinks drain the channels for up to `drainNanos`,
    /// stops sinks, channels and services, then destroys every instance.
    public func stop(drainNanos: UInt64 = 5_000_000_000) {
        let now = epochMillis()
        // Tell every source first, so one slow stop does not keep the others running.
        for (s, _) in sources { s.handle.markStopping() }
        for (s, runner) in sources {
            runner?.stop()
            do { try s.stop() } catch { logger.error("\(error)") }
            s.handle.metrics.stopTime.set(now)
        }
        // Only channels some sink reads can drain.
        let drained = channels.filter { c in sinkGroups.contains { $0.processor.sinks.contains { $0.handle.channel === c } } }
        let deadline = monotonicNanos() + drainNanos
        while monotonicNanos() < deadline, drained.contains(where: { $0.size > 0 }) {
            usleep(20_000)
        }
        let left = drained.reduce(0) { $0 + $1.size }
        if left > 0 { logger.warning("stopping with \(left) events still in memory channels") }
        for (p, runner) in sinkGroups {
            for s in p.sinks { s.handle.markStopping() }
            runner.stop()
            for s in p.sinks {
                do { try s.stop() } catch { logger.error("\(error)") }
                s.handle.metrics.stopTime.set(epochMillis())
            }
        }
        for c in channels {
            c.stop()
            c.metrics.stopTime.set(epochMillis())
        }
        for s in services.reversed() {
            s.handle.markStopping()
            do { try s.stop() } catch { logger.error("\(error)") }
            s.handle.metrics.stopTime.set(epochMillis())
        }
        destroyAll()
        logger.info("agent \(name) stopped")
    }

    /// Releases every component without starting or stopping anything
    /// (what `sluice check` needs after building an agent).
    public func discard() {
        destroyAll()
    }

    func destroyAll() {
        for (s, _) in sources { s.destroy() }
        for c in interceptorsAndSelectors { c.destroy() }
        for (p, _) in sinkGroups { for s in p.sinks { s.destroy() } }
        for s in services.reversed() { s.destroy() }
        sources = []
        interceptorsAndSelectors = []
        sinkGroups = []
        services = []
    }
}
