import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// How child output is turned into event bodies.
enum OutputCharset {
    /// Bytes pass through unchanged.
    case utf8
    /// Each byte is a Latin-1 character, converted to UTF-8.
    case latin1

    init(_ name: String) throws {
        var key = ""
        for c in name.uppercased() where c != "-" && c != "_" && c != " " { key.append(c) }
        switch key {
        case "UTF8": self = .utf8
        case "ISO88591", "ISO885911987", "LATIN1", "L1", "88591", "CP819", "IBM819", "ISOIR100": self = .latin1
        default:
            throw SluiceError.config("property 'charset': unsupported charset '\(name)' (supported: UTF-8, ISO-8859-1)")
        }
    }
}

/// Flume's exec source: runs a command and turns every line it prints on
/// stdout into one event (no headers).
///
/// One worker thread owns the child: it spawns it (posix_spawn, own process
/// group), reads its stdout (and stderr when logged) with poll, fills and
/// submits batches, reaps the child, and restarts it when configured. Stop
/// wakes the worker through a pipe; the worker then kills and reaps the child
/// and returns, and stop joins it.
///
/// Delivery: lines are committed in batches; a line is safe only once its
/// batch is committed. A refused batch (full channel) is retried with back-off
/// while the source runs; what is read but not committed when the agent stops
/// or crashes is lost, and the command has no notion of a position.
final class ExecSource: EventDrivenSource {
    static let readBufferSize = 64 * 1024
    /// How long a child gets to exit after SIGTERM before SIGKILL.
    static let terminateGraceMillis = 5000
    /// How long a child may keep running after closing its stdout.
    static let exitAfterEOFMillis = 5000

    let context: ComponentContext
    let command: String
    let argv: [String]
    let restart: Bool
    let restartThrottleMillis: Int
    let logStdErr: Bool
    let batchSize: Int
    let batchTimeoutMillis: Int
    let charset: OutputCharset

    private let stopRequested = Locked(false)
    private var wakeRead: Int32 = -1
    private var wakeWrite: Int32 = -1
    private var worker: PluginThread?

    // Used only by the worker thread.
    private var batch: OwnedBatch?
    private var batchDeadline: UInt64 = 0
    private var stdoutLines = LineSplitter()
    private var stderrLines = LineSplitter()
    private var stderrCount = 0
    private var latin1Scratch: [UInt8] = []
    private let readBuffer: UnsafeMutableRawBufferPointer
    private var appendFailureLogged = false
    /// Set when a batch was dropped because the source is stopping: the rest
    /// of what was read is discarded too.
    private var discarding = false

    init(context: ComponentContext, properties: Properties) throws {
        self.context = context
        command = try properties.requiredString("command")
        if let shell = properties["shell"], !splitWords(shell).isEmpty {
            argv = splitWords(shell) + [command]
        } else {
            argv = splitWords(command)
        }
        guard !argv.isEmpty else { throw SluiceError.config("property 'command': nothing to run") }
        restart = try properties.bool("restart", default: false)
        restartThrottleMillis = try properties.int("restartThrottle", default: 10000)
        guard restartThrottleMillis >= 0 else { throw SluiceError.config("property 'restartThrottle' must be >= 0") }
        logStdErr = try properties.bool("logStdErr", default: false)
        batchSize = try properties.int("batchSize", default: 20)
        guard batchSize > 0 else { throw SluiceError.config("property 'batchSize' must be > 0") }
        batchTimeoutMillis = try properties.int("batchTimeout", default: 3000)
        guard batchTimeoutMillis >= 0 else { throw SluiceError.config("property 'batchTimeout' must be >= 0") }
        charset = try OutputCharset(properties.string("charset", default: "UTF-8"))
        readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.readBufferSize, alignment: 16)
    }

    deinit { readBuffer.deallocate() }

    func start() throws {
        let wake = try makePipe()
        wakeRead = wake.read
        wakeWrite = wake.write
        worker = try PluginThread { [self] in run() }
    }

    func stop() throws {
        stopRequested.withLock { $0 = true }
        if wakeWrite >= 0 {
            var one: UInt8 = 1
            _ = write(wakeWrite, &one, 1)
        }
        worker?.join()
        worker = nil
        if wakeRead >= 0 { close(wakeRead) }
        if wakeWrite >= 0 { close(wakeWrite) }
        wakeRead = -1
        wakeWrite = -1
    }

    private var stopping: Bool { stopRequested.withLock { $0 } }

    /// Sleeps up to `millis`; returns true at once when stop is requested.
    private func waitForStop(millis: Int) -> Bool {
        let deadline = deadlineAfter(millis: millis)
        var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        while !stopping {
            let now = monotonicNanos()
            if now >= deadline { return false }
            _ = poll(&fds, 1, pollMillis(until: deadline, now: now))
        }
        return true
    }

    // MARK: Worker

    private func run() {
        batch = context.newBatch(capacity: min(batchSize, 4096))
        defer { batch = nil }
        while !stopping {
            runChildOnce()
            if stopping { break }
            if !restart {
                context.log(.info, "command [\(command)] will not be run again (restart = false)")
                break
            }
            context.log(.info, "restarting command [\(command)] in \(restartThrottleMillis) ms")
            if waitForStop(millis: restartThrottleMillis) { break }
        }
    }

    private func runChildOnce() {
        var child: Child
        do {
            child = try spawnChild(argv, captureStderr: logStdErr)
        } catch {
            context.log(.error, "cannot run command [\(command)]: \(error)")
            return
        }
        context.log(.info, "command [\(command)] started (pid \(child.pid))")
        stdoutLines.reset()
        stderrLines.reset()
        stderrCount = 0
        discarding = false

        let status: Int32?
        var stoppedByUs = false
        if pump(&child) {
            // End of output: as Flume, an unterminated last line is an event.
            stdoutLines.finish { appendLine($0) }
            flush()
            (status, stoppedByUs) = awaitExit(&child)
        } else {
            // Stop: one last attempt for the complete lines already read; an
            // unterminated line is dropped with the child.
            flush()
            status = terminate(&child)
            stoppedByUs = true
        }
        drainStderr(child.stderr)
        stderrLines.finish { logStderrLine($0) }
        child.closePipes()
        let outcome = describeWaitStatus(status)
        context.log(outcome.clean || stoppedByUs ? .info : .warn,
                    "command [\(command)] (pid \(child.pid)) \(outcome.text)")
    }

    /// Reads the child's output until its stdout ends (returns true) or stop
    /// is requested (returns false). Flushes the batch when it is full or its
    /// first event is `batchTimeout` old.
    private func pump(_ child: inout Child) -> Bool {
        var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: child.stdout, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: child.stderr, events: Int16(POLLIN), revents: 0)]
        while true {
            if stopping { return false }
            var timeout: Int32 = -1
            if let b = batch, !b.isEmpty {
                let now = monotonicNanos()
                if now >= batchDeadline {
                    flush()
                    continue
                }
                timeout = pollMillis(until: batchDeadline, now: now)
            }
            let rc = poll(&fds, nfds_t(fds.count), timeout)
            if rc < 0 {
                if errno == EINTR { continue }
                context.log(.error, "poll on the output of command [\(command)] failed: \(errnoText())")
                return true
            }
            if rc == 0 { continue }
            if fds[0].revents != 0 { return false }
            if fds[2].revents != 0, !readStderr(child.stderr) { fds[2].fd = -1 }
            if fds[1].revents != 0 {
                let n = read(child.stdout, readBuffer.baseAddress, readBuffer.count)
                if n > 0 {
                    stdoutLines.feed(UnsafeRawBufferPointer(rebasing: readBuffer[0..<n])) { appendLine($0) }
                } else if n == 0 {
                    return true
                } else if errno != EAGAIN && errno != EINTR {
                    context.log(.error, "reading the output of command [\(command)] failed: \(errnoText())")
                    return true
                }
            }
        }
    }

    /// After stdout ended: waits for the child to exit (logging its stderr),
    /// terminating it on stop or when it outlives `exitAfterEOFMillis`.
    private func awaitExit(_ child: inout Child) -> (Int32?, Bool) {
        let deadline = deadlineAfter(millis: Self.exitAfterEOFMillis)
        var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: child.stderr, events: Int16(POLLIN), revents: 0)]
        while true {
            if hasExited(child.pid) { return (reap(child.pid), false) }
            if stopping { return (terminate(&child), true) }
            if monotonicNanos() >= deadline {
                context.log(.warn, "command [\(command)] (pid \(child.pid)) closed its output but is still running after \(Self.exitAfterEOFMillis) ms: terminating it")
                return (terminate(&child), true)
            }
            _ = poll(&fds, nfds_t(fds.count), 10)
            if fds[1].revents != 0, !readStderr(child.stderr) { fds[1].fd = -1 }
        }
    }

    /// SIGTERM to the child's process group, SIGKILL to the group once the
    /// child has exited or after the grace period, then reaps the child.
    /// Output arriving meanwhile is read (stdout discarded) so a child that
    /// writes while shutting down does not block on a full pipe.
    private func terminate(_ child: inout Child) -> Int32? {
        signalGroup(child.pid, SIGTERM)
        let deadline = deadlineAfter(millis: Self.terminateGraceMillis)
        var fds = [pollfd(fd: child.stdout, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: child.stderr, events: Int16(POLLIN), revents: 0)]
        while !hasExited(child.pid) {
            if monotonicNanos() >= deadline {
                context.log(.warn, "command [\(command)] (pid \(child.pid)) did not exit within \(Self.terminateGraceMillis) ms of SIGTERM: sending SIGKILL")
                break
            }
            _ = poll(&fds, nfds_t(fds.count), 10)
            if fds[0].revents != 0 {
                let n = read(child.stdout, readBuffer.baseAddress, readBuffer.count)
                if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) { fds[0].fd = -1 }
            }
            if fds[1].revents != 0, !readStderr(child.stderr) { fds[1].fd = -1 }
        }
        // The child is unreaped, so its group id cannot have been reused:
        // sweep whatever of the group is left, then reap.
        signalGroup(child.pid, SIGKILL)
        return reap(child.pid)
    }

    // MARK: Events

    private func appendLine(_ line: UnsafeRawBufferPointer) {
        guard let b = batch, !discarding else { return }
        do {
            switch charset {
            case .utf8:
                try b.append(body: line)
            case .latin1:
                latin1ToUTF8(line, into: &latin1Scratch)
                try latin1Scratch.withUnsafeBytes { try b.append(body: $0) }
            }
        } catch {
            if !appendFailureLogged {
                context.log(.error, "dropping a line of \(line.count) bytes: \(error)")
                appendFailureLogged = true
            }
            return
        }
        if b.count == 1 { batchDeadline = deadlineAfter(millis: batchTimeoutMillis) }
        if b.count >= batchSize { flush() }
    }

    /// Submits the batch. A full channel is retried with back-off (100 ms
    /// doubling to 1 s) while the source runs; once stop is requested there is
    /// one more attempt, and a batch still refused is dropped. Errors other
    /// than a full channel drop the batch.
    private func flush() {
        guard let b = batch, !b.isEmpty else { return }
        var delay = 100
        var warned = false
        while true {
            do {
                switch try context.submit(b) {
                case .committed:
                    if warned { context.log(.info, "the channel accepted the retried batch") }
                    return
                case .channelFull(let why):
                    if stopping {
                        context.log(.warn, "dropping \(b.count) events read from command [\(command)], and any further output: \(why), and the source is stopping")
                        b.clear()
                        discarding = true
                        return
                    }
                    if !warned {
                        context.log(.warn, "\(why); retrying the batch of \(b.count) events (the command's output is not read meanwhile)")
                        warned = true
                    }
                    _ = waitForStop(millis: delay)
                    delay = min(delay * 2, 1000)
                }
            } catch {
                context.log(.error, "dropping \(b.count) events read from command [\(command)]: \(error)")
                b.clear()
                return
            }
        }
    }

    // MARK: stderr

    /// Reads what stderr has; returns false at its end.
    private func readStderr(_ fd: Int32) -> Bool {
        guard fd >= 0 else { return false }
        let n = read(fd, readBuffer.baseAddress, readBuffer.count)
        if n > 0 {
            stderrLines.feed(UnsafeRawBufferPointer(rebasing: readBuffer[0..<n])) { logStderrLine($0) }
            return true
        }
        if n < 0 && (errno == EAGAIN || errno == EINTR) { return true }
        return false
    }

    /// Reads what is left on stderr without waiting (bounded, in case a
    /// leftover process keeps writing).
    private func drainStderr(_ fd: Int32) {
        guard fd >= 0 else { return }
        for _ in 0..<64 {
            let n = read(fd, readBuffer.baseAddress, readBuffer.count)
            guard n > 0 else { return }
            stderrLines.feed(UnsafeRawBufferPointer(rebasing: readBuffer[0..<n])) { logStderrLine($0) }
        }
    }

    private func logStderrLine(_ line: UnsafeRawBufferPointer) {
        stderrCount += 1
        let text: String
        switch charset {
        case .utf8: text = String(decoding: line, as: UTF8.self)
        case .latin1:
            latin1ToUTF8(line, into: &latin1Scratch)
            text = String(decoding: latin1Scratch, as: UTF8.self)
        }
        // Flume's wording.
        context.log(.info, "StderrLogger[\(stderrCount)] = '\(text)'")
    }
}

/// Splits on runs of whitespace (Java's `\s+`), dropping empty words.
func splitWords(_ s: String) -> [String] {
    s.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{0B}" || $0 == "\u{0C}" })
        .map(String.init)
}

func latin1ToUTF8(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
    out.removeAll(keepingCapacity: true)
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
        if b < 0x80 {
            out.append(b)
        } else {
            out.append(0xC0 | (b >> 6))
            out.append(0x80 | (b & 0x3F))
        }
    }
}

@_cdecl("sluice_plugin_entry")
public func sluicePluginEntry() -> UnsafeRawPointer {
    Plugin.export(name: "exec-source", version: "1.0.0", components: [
        .source(ExecSource.self, type: "exec", aliases: ["org.apache.flume.source.ExecSource"],
                description: "One event per line a command prints on stdout (no delivery guarantee)",
                keys: [
                    ConfigKey("command", .string, required: true, "the command; without shell it is split on whitespace and run directly (PATH is searched)"),
                    ConfigKey("shell", .string, "e.g. '/bin/sh -c': split on whitespace, the command is appended as one argument"),
                    ConfigKey("restart", .bool, default: "false", "run the command again after it exits"),
                    ConfigKey("restartThrottle", .int, default: "10000", "milliseconds to wait before a restart"),
                    ConfigKey("logStdErr", .bool, default: "false", "log the command's stderr lines at INFO (otherwise discarded)"),
                    ConfigKey("batchSize", .int, default: "20", "lines per submitted batch"),
                    ConfigKey("batchTimeout", .int, default: "3000", "milliseconds after which a partial batch is submitted"),
                    ConfigKey("charset", .string, default: "UTF-8", "UTF-8 (bytes unchanged) or ISO-8859-1 (converted to UTF-8)"),
                ]),
    ])
}
