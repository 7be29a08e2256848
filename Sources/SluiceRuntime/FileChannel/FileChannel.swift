import DequeModule
import Logging
import SluiceABI
#if canImport(Glibc)
import Glibc
#endif

/// Flume's durable file channel: a write-ahead log of committed
/// transactions (see LogRecord) plus periodic checkpoints of the queue.
/// A put's events are on disk (fdatasync'd) before its commit returns; so is
/// a take's record before the sink's commit returns. After a crash the
/// channel replays to exactly its committed state.
///
/// Locking: `writeLock` serializes log appends, rolls and checkpoint
/// snapshots; `lock` guards the queue and counters and is never held across
/// disk I/O. Order: writeLock, then lock.
final class FileChannel: Channel {
    let name: String
    let isDurable = true
    let config: FileChannelConfig
    let metrics: CounterGroup
    var transactionCapacity: Int { config.transactionCapacity }
    private let logger: Logger

    private let files: DataFiles
    private let writeLock = ConditionLock()
    private let group = GroupCommit()
    private var record = RecordBuffer()
    private var seq: UInt64 = 0
    private var nextFileID: UInt32 = 1
    /// Where the last checkpoint was taken; files before it that hold no
    /// live event can go.
    private var checkpointFile: UInt32 = 0
    /// The end of the last record applied to the queue (under `lock`):
    /// what a checkpoint of the current queue covers.
    private var appliedFile: UInt32 = 0
    private var appliedEnd = 0
    private var appliedSeq: UInt64 = 0

    private let lock = ConditionLock()
    private var queue = Deque<EventRef>()
    private var takes: [ObjectIdentifier: [EventRef]] = [:]
    private var inFlight = 0
    private var reserved = 0
    private var live: [UInt32: Int] = [:]
    private var dirty = false
    private var stopped = true
    private var unhealthy: String?
    private var spaceCheckedAt: UInt64 = 0
    private var spaceFree = Int.max

    private var checkpointer: OSThread?
    private let putAttempts, putSuccess, takeAttempts, takeSuccess, sizeGauge: MetricCell
    private let putErrors, takeErrors, checkpointErrors, backupErrors, openGauge, closedGauge, unhealthyGauge: MetricCell

    init(name: String, properties: [String: String], metrics: CounterGroup) throws {
        self.name = name
        self.metrics = metrics
        config = try FileChannelConfig(name: name, properties: properties)
        files = DataFiles(dirs: config.dataDirs)
        var l = Logger(label: "sluice")
        l[metadataKey: "component"] = "\(name)"
        logger = l
        putAttempts = metrics.counter("EventPutAttemptCount")
        putSuccess = metrics.counter("EventPutSuccessCount")
        takeAttempts = metrics.counter("EventTakeAttemptCount")
        takeSuccess = metrics.counter("EventTakeSuccessCount")
        sizeGauge = metrics.counter("ChannelSize")
        metrics.counter("ChannelCapacity").set(Int64(config.capacity))
        putErrors = metrics.counter("EventPutErrorCount")
        takeErrors = metrics.counter("EventTakeErrorCount")
        checkpointErrors = metrics.counter("CheckpointWriteErrorCount")
        backupErrors = metrics.counter("CheckpointBackupWriteErrorCount")
        openGauge = metrics.counter("Open")
        closedGauge = metrics.counter("Closed")
        unhealthyGauge = metrics.counter("Unhealthy")
        let capacity = config.capacity
        metrics.derived("ChannelFillPercentage") { [sizeGauge] in
            .double(Double(sizeGauge.load()) * 100 / Double(capacity))
        }
    }

    deinit { record.free() }

    var size: Int { lock.withLock { queue.count } }

    // MARK: Lifecycle

    func start() throws {
        let t0 = monotonicNanos()
        let ids = try files.open()
        let cp = try loadCheckpoint()
        let replay = try Replay(files: files, ids: ids, checkpoint: cp)
        for w in replay.warnings { logger.warning("\(w)") }
        var counts: [UInt32: Int] = [:]
        for r in replay.queue { counts[r.file, default: 0] += 1 }
        seq = replay.lastSeq
        nextFileID = max((ids.last ?? 0) + 1, cp?.nextFileID ?? 1)
        // Appends go to a fresh file; a checkpoint right away makes every
        // older file replay-free, so the ones with no live event can go.
        try writeLock.withLock {
            try files.roll(to: nextFileID)
            nextFileID += 1
        }
        lock.withLock {
            queue = Deque(replay.queue)
            live = counts
            stopped = false
            unhealthy = nil
            appliedFile = files.active!.id
            appliedEnd = 0
            appliedSeq = replay.lastSeq
            sizeGauge.set(Int64(queue.count))
        }
        try checkpoint()
        logger.info("file channel \(name): \(replay.queue.count) events after replaying \(replay.recordsReplayed) records from \(ids.count) data files in \((monotonicNanos() - t0) / 1_000_000) ms")
        openGauge.set(1)
        closedGauge.set(0)
        let interval = UInt64(config.checkpointIntervalMillis) * 1_000_000
        checkpointer = OSThread(name: "ckpt-\(name)") { [self] in
            while !interruptibleSleep(interval, lock: lock, stopped: { stopped }) {
                if lock.withLock({ dirty }) {
                    do { try checkpoint() } catch { logger.error("checkpoint failed: \(error)") }
                }
            }
        }
    }

    func stop() {
        close(checkpoint: config.checkpointOnClose)
    }

    /// Stops the checkpoint thread, optionally writes a last checkpoint, and
    /// releases the directories. Without the checkpoint the next start
    /// replays the log, exactly as after a crash.
    func close(checkpoint final: Bool) {
        lock.withLock {
            stopped = true
            lock.broadcast()
        }
        checkpointer?.join()
        checkpointer = nil
        if final && lock.withLock({ unhealthy }) == nil && files.active != nil {
            do { try checkpoint() } catch { logger.error("checkpoint on close failed: \(error)") }
        }
        writeLock.withLock { files.close() }
        openGauge.set(0)
        closedGauge.set(1)
    }

    /// The main checkpoint, else the backup; a damaged one is an error
    /// unless the backup is good: the channel never starts on a guess.
    private func loadCheckpoint() throws -> Checkpoint? {
        do {
            return try Checkpoint.read(from: config.checkpointDir)
        } catch {
            guard let backup = config.backupCheckpointDir else { throw error }
            logger.warning("\(error); trying the backup checkpoint in \(backup)")
            guard let cp = try Checkpoint.read(from: backup) else {
                throw FileChannelError(description: "\(error), and there is no backup checkpoint in \(backup)")
            }
            return cp
        }
    }

    /// Snapshots the queue (in-flight takes included: uncommitted, they are
    /// still the channel's) and the log position, writes it, then removes
    /// data files that no event and no replay needs any more.
    func checkpoint() throws {
        let cp: Checkpoint = writeLock.withLock {
            lock.withLock {
                var refs = Array(queue)
                if inFlight > 0 {
                    refs += takes.values.joined()
                    refs.sort { $0.key < $1.key }
                }
                dirty = false
                // Records written but not yet applied lie after this
                // position: replay applies them if they reached the disk.
                return Checkpoint(lastSeq: appliedSeq, positionFile: appliedFile, positionOffset: UInt32(appliedEnd),
                                  nextFileID: nextFileID, refs: refs)
            }
        }
        do {
            try cp.write(to: config.checkpointDir)
        } catch {
            checkpointErrors.add(1)
            lock.withLock { dirty = true }
            throw error
        }
        if let backup = config.backupCheckpointDir {
            do { try cp.write(to: backup) } catch {
                backupErrors.add(1)
                logger.error("backup checkpoint: \(error)")
            }
        }
        writeLock.withLock {
            checkpointFile = cp.positionFile
            removeDrainedFiles()
        }
    }

    /// Deletes files before the checkpoint position holding no live event.
    /// Caller holds writeLock.
    private func removeDrainedFiles() {
        let candidates = lock.withLock {
            files.files.keys.filter { $0 < checkpointFile && (live[$0] ?? 0) == 0 && $0 != files.active?.id }
        }
        for id in candidates.sorted() {
            files.remove(id)
            lock.withLock { _ = live.removeValue(forKey: id) }
            logger.debug("removed drained data file \(files.path(of: id))")
        }
    }

    // MARK: Puts

    func preparePut(count: Int, bodyBytes: Int, wait: Bool) throws -> PutReservation? {
        putAttempts.add(Int64(count))
        if let u = lock.withLock({ unhealthy }) {
            putErrors.add(1)
            throw ChannelError(description: "channel '\(name)' is unhealthy: \(u)")
        }
        if count > config.transactionCapacity {
            throw ChannelError(description: "channel '\(name)': a batch of \(count) events exceeds transactionCapacity \(config.transactionCapacity)")
        }
        try checkSpace(needed: bodyBytes + count * 16)
        let deadline = monotonicNanos() + (wait ? UInt64(config.keepAliveSeconds) * 1_000_000_000 : 0)
        return lock.withLock {
            while queue.count + inFlight + reserved + count > config.capacity {
                if stopped || !wait || !lock.wait(until: deadline) {
                    if queue.count + inFlight + reserved + count <= config.capacity { break }
                    return nil
                }
            }
            reserved += count
            return PutReservation(count: count, slots: 0)
        }
    }

    /// Refuses puts while free space is below minimumRequiredSpace; the
    /// reading is refreshed at most every 100 ms.
    private func checkSpace(needed: Int) throws {
        let now = monotonicNanos()
        let free: Int = lock.withLock {
            if now - spaceCheckedAt > 100_000_000 {
                spaceFree = config.dataDirs.map(usableSpace).min() ?? Int.max
                spaceCheckedAt = now
            }
            spaceFree -= needed
            return spaceFree
        }
        if free < config.minimumRequiredSpace {
            putErrors.add(1)
            throw ChannelFull(description: "channel '\(name)': usable space in \(config.dataDirs.joined(separator: ", ")) is \(max(0, free) >> 20) MiB, below minimumRequiredSpace (\(config.minimumRequiredSpace >> 20) MiB); puts are refused until space is freed")
        }
    }

    func commitPut(_ r: PutReservation, _ chunk: EventChunk) throws {
        do {
            let ticket: UInt64 = try writeLock.withLock {
                // A local copy: no exclusivity check per event (written back, it may have grown).
                var rb = record
                defer { record = rb }
                rb.begin()
                rb.u32(UInt32(chunk.count))
                var offsets: [(Int, Int)] = []
                offsets.reserveCapacity(chunk.count)
                for i in 0..<chunk.count { offsets.append(rb.event(chunk.events[i])) }
                let mySeq = seq + 1
                rb.finish(type: LogRecord.put, seq: mySeq)
                if let a = files.active, a.size > 0, a.size + rb.count > config.maxFileSize {
                    try files.roll(to: nextFileID)
                    nextFileID += 1
                }
                let (file, base) = try files.append(rb.base, rb.count)
                seq = mySeq
                let end = base + rb.count
                return group.enqueue(file: file) { [self] in
                    lock.withLock {
                        for (o, n) in offsets {
                            queue.append(EventRef(file: file.id, offset: UInt32(base + o), length: UInt32(n)))
                        }
                        live[file.id, default: 0] += chunk.count
                        reserved -= r.count
                        markApplied(file.id, end, mySeq)
                        sizeGauge.set(Int64(queue.count))
                        lock.broadcast()
                    }
                }
            }
            try flush(ticket)
        } catch {
            putErrors.add(1)
            abortPut(r)
            throw ChannelError(description: "channel '\(name)': \(error)")
        }
        putSuccess.add(Int64(chunk.count))
    }

    /// Waits for the group flush of `ticket`; a failed flush makes the
    /// channel unhealthy (what reached the disk is in doubt until a restart
    /// replays it).
    private func flush(_ ticket: UInt64) throws {
        do {
            try group.wait(ticket)
        } catch {
            lock.withLock { unhealthy = "\(error)" }
            unhealthyGauge.set(1)
            throw error
        }
    }

    /// Caller holds `lock`.
    private func markApplied(_ file: UInt32, _ end: Int, _ seq: UInt64) {
        appliedFile = file
        appliedEnd = end
        appliedSeq = seq
        dirty = true
    }

    func abortPut(_ r: PutReservation) {
        lock.withLock {
            reserved -= r.count
            lock.broadcast()
        }
    }

    // MARK: Takes

    func take(into txn: TakeTransaction, max: Int, waitNanos: UInt64) throws -> Int {
        let want = Swift.min(max, txn.capacity - txn.count, config.transactionCapacity - txn.count)
        guard want > 0 else { return 0 }
        takeAttempts.add(1)
        var refs: [EventRef] = []
        try lock.withLock {
            if let u = unhealthy { throw ChannelError(description: "channel '\(name)' is unhealthy: \(u)") }
            if queue.isEmpty && waitNanos > 0 && !stopped {
                let deadline = monotonicNanos() + waitNanos
                while queue.isEmpty && !stopped {
                    if !lock.wait(until: deadline) { break }
                }
            }
            let n = Swift.min(want, queue.count)
            refs.reserveCapacity(n)
            for _ in 0..<n { refs.append(queue.removeFirst()) }
            inFlight += n
            takes[ObjectIdentifier(txn), default: []] += refs
            sizeGauge.set(Int64(queue.count))
        }
        let start = txn.count
        if !refs.isEmpty {
            do {
                try read(refs, into: txn)
            } catch {
                takeErrors.add(1)
                let why = "\(error)"
                lock.withLock {
                    // Put them back where they were; the channel stops serving.
                    var t = takes[ObjectIdentifier(txn)] ?? []
                    t.removeLast(refs.count)
                    takes[ObjectIdentifier(txn)] = t.isEmpty ? nil : t
                    queue.insert(contentsOf: refs, at: 0)
                    inFlight -= refs.count
                    unhealthy = why
                    sizeGauge.set(Int64(queue.count))
                }
                unhealthyGauge.set(1)
                logger.error("\(why)")
                throw ChannelError(description: "channel '\(name)': \(why)")
            }
        }
        let taken = txn.count - start
        txn.view.pointee.events = txn.buffer + start
        txn.view.pointee.count = taken
        return taken
    }

    /// Reads the events of `refs` into the transaction: neighbouring events
    /// of one file come in with one pread.
    private func read(_ refs: [EventRef], into txn: TakeTransaction) throws {
        let arena = Arena(initialBlockSize: Swift.min(1 << 22, Swift.max(4096, refs.reduce(0) { $0 + Int($1.length) } + refs.count * 64)))
        txn.retain([arena])
        var i = 0
        while i < refs.count {
            let first = refs[i]
            var end = Int(first.offset) + Int(first.length)
            var j = i + 1
            while j < refs.count, refs[j].file == first.file, Int(refs[j].offset) >= end,
                  Int(refs[j].offset) - end <= 4096, Int(refs[j].offset) + Int(refs[j].length) - Int(first.offset) <= 8 << 20 {
                end = Int(refs[j].offset) + Int(refs[j].length)
                j += 1
            }
            let span = end - Int(first.offset)
            guard let block = arena.allocate(span) else { throw FileChannelError(description: "out of memory reading events") }
            try files.read(file: first.file, offset: Int(first.offset), count: span, into: block)
            let out = txn.buffer + txn.count
            var bytes = 0
            for k in i..<j {
                let r = refs[k]
                let p = UnsafeRawPointer(block + (Int(r.offset) - Int(first.offset)))
                guard decodeEvent(p, Int(r.length), into: &out[k - i], arena: arena) else {
                    throw FileChannelError(description: "\(files.path(of: r.file)): corrupt event at offset \(r.offset)")
                }
                bytes += out[k - i].body.len
            }
            txn.count += j - i
            txn.bodyBytes += bytes
            i = j
        }
    }

    func commitTake(_ txn: TakeTransaction) throws {
        guard let refs = lock.withLock({ takes[ObjectIdentifier(txn)] }), !refs.isEmpty else {
            txn.reset()
            return
        }
        var drained = false
        do {
            // Taken events per data file: usually one or two files.
            var perFile: [(UInt32, Int)] = []
            for r in refs {
                if let last = perFile.last, last.0 == r.file { perFile[perFile.count - 1].1 += 1 } else { perFile.append((r.file, 1)) }
            }
            let ticket: UInt64 = try writeLock.withLock {
                var rb = record
                defer { record = rb }
                rb.begin()
                rb.u32(UInt32(refs.count))
                for r in refs {
                    rb.u32(r.file)
                    rb.u32(r.offset)
                }
                let mySeq = seq + 1
                rb.finish(type: LogRecord.take, seq: mySeq)
                let (file, base) = try files.append(rb.base, rb.count)
                seq = mySeq
                let end = base + rb.count
                return group.enqueue(file: file) { [self] in
                    lock.withLock {
                        takes[ObjectIdentifier(txn)] = nil
                        inFlight -= refs.count
                        for (f, n) in perFile {
                            let left = (live[f] ?? n) - n
                            live[f] = left
                            if left == 0 && f < checkpointFile { drained = true }
                        }
                        markApplied(file.id, end, mySeq)
                        lock.broadcast()
                    }
                }
            }
            try flush(ticket)
            if drained { writeLock.withLock { removeDrainedFiles() } }
        } catch {
            takeErrors.add(1)
            throw ChannelError(description: "channel '\(name)': \(error)")
        }
        takeSuccess.add(Int64(refs.count))
        txn.reset()
    }

    func rollbackTake(_ txn: TakeTransaction) {
        lock.withLock {
            if let refs = takes.removeValue(forKey: ObjectIdentifier(txn)) {
                queue.insert(contentsOf: refs, at: 0)
                inFlight -= refs.count
                sizeGauge.set(Int64(queue.count))
                lock.broadcast()
            }
        }
        txn.reset()
    }
}
