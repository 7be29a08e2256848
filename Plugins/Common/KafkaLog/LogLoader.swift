/// What opening a log found and did; `needsWarning` says whether a caller
/// should log it at warning level.
public struct LogRecoveryReport: Equatable, Sendable {
    public var topicPartition: TopicPartition
    /// Segments scanned batch by batch (CRC checked, indexes rebuilt).
    public var recoveredSegments: [Int64] = []
    /// Segments below the recovery point whose indexes were missing or
    /// damaged (they were scanned and rebuilt too).
    public var rebuiltIndexSegments: [Int64] = []
    /// Bytes cut from torn or corrupt tails, including deleted segments.
    public var truncatedBytes: Int = 0
    /// Segments removed because an earlier segment had a corrupt batch.
    public var deletedSegments: [Int64] = []
    /// One line per problem found, naming the file.
    public var problems: [String] = []
    /// Batches replayed into the producer state after its snapshot.
    public var replayedBatches: Int = 0

    public var needsWarning: Bool { truncatedBytes > 0 || !deletedSegments.isEmpty || !rebuiltIndexSegments.isEmpty }
}

/// Opens the segments of a partition directory and repairs what a crash
/// left: leftover temporary files, segments written after the recovery point
/// (re-scanned with CRC checks, indexes rebuilt, a torn or corrupt tail cut,
/// later segments dropped), and missing or damaged indexes.
struct LogLoader {
    let directory: String
    let topicPartition: TopicPartition
    let config: LogConfig
    let now: Int64
    var report: LogRecoveryReport

    init(directory: String, topicPartition: TopicPartition, config: LogConfig, now: Int64) {
        self.directory = directory
        self.topicPartition = topicPartition
        self.config = config
        self.now = now
        self.report = LogRecoveryReport(topicPartition: topicPartition)
    }

    struct Loaded {
        var segments: [LogSegment]
        var recoveryPoint: Int64
    }

    mutating func load(recoveryPoint: Int64, logStartOffset: Int64) throws -> Loaded {
        let names = try FS.list(directory)
        var bases: [Int64] = []
        for name in names {
            if [".deleted", ".tmp", ".cleaned", ".swap"].contains(where: { name.hasSuffix($0) }) {
                try FS.remove(directory + "/" + name)
            } else if let b = parseOffsetFileName(name, suffix: ".log") {
                bases.append(b)
            }
        }
        bases.sort()
        let known = Set(bases)
        for name in names {
            for suffix in [".index", ".timeindex"] {
                if let b = parseOffsetFileName(name, suffix: suffix), !known.contains(b) {
                    try FS.remove(directory + "/" + name)
                }
            }
        }

        var segments: [LogSegment] = []
        var recovered: [LogSegment] = []
        for (i, base) in bases.enumerated() {
            let seg = try LogSegment.open(directory: directory, baseOffset: base,
                                          indexIntervalBytes: config.indexIntervalBytes, now: now)
            let fileName = offsetFileName(base, ".log")
            let previousEnd = segments.last?.nextOffset
            var mustScan = base >= recoveryPoint || (previousEnd.map { base < $0 } ?? false)
            if !mustScan {
                if let problem = try seg.loadTrusted() {
                    mustScan = true
                    report.rebuiltIndexSegments.append(base)
                    report.problems.append("\(fileName): \(problem); segment re-scanned")
                } else if seg.nextOffset > recoveryPoint {
                    mustScan = true   // holds data appended after the last flush
                }
            }
            if mustScan {
                let r = try seg.recover(minimumOffset: previousEnd)
                report.recoveredSegments.append(base)
                recovered.append(seg)
                if r.truncatedBytes > 0 {
                    report.truncatedBytes += r.truncatedBytes
                    report.problems.append("\(fileName): cut \(r.truncatedBytes) bytes at byte \(r.validBytes): \(r.problem ?? "invalid data")")
                    segments.append(seg)
                    // Nothing after a bad batch can be trusted to follow on from it.
                    for later in bases[(i + 1)...] {
                        let path = LogSegment.path(directory, later, ".log")
                        let bytes = FS.fileSize(path) ?? 0
                        report.truncatedBytes += bytes
                        report.deletedSegments.append(later)
                        report.problems.append("\(offsetFileName(later, ".log")): deleted (\(bytes) bytes) after the corrupt segment")
                        for suffix in [".log", ".index", ".timeindex"] { try FS.remove(LogSegment.path(directory, later, suffix)) }
                    }
                    break
                }
            }
            segments.append(seg)
        }

        if segments.isEmpty {
            segments.append(try LogSegment.create(directory: directory, baseOffset: max(logStartOffset, 0),
                                                  indexIntervalBytes: config.indexIntervalBytes, now: now))
            try FS.syncDirectory(directory)
        }
        let logEnd = segments.last!.nextOffset
        if recovered.isEmpty {
            return Loaded(segments: segments, recoveryPoint: min(recoveryPoint, logEnd))
        }
        // What was re-scanned is now known good: make it durable so the
        // recovery point can move to the end.
        for seg in recovered { try seg.flush() }
        try FS.syncDirectory(directory)
        return Loaded(segments: segments, recoveryPoint: logEnd)
    }
}
