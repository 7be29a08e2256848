import Logging
#if canImport(Glibc)
import Glibc
#endif

/// One line per record on stderr: time, level, component, message.
struct LineLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?,
             source: String, file: String, function: String, line: UInt) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var tm = tm()
        var secs = ts.tv_sec
        gmtime_r(&secs, &tm)
        let stamp = String(format2: tm, millis: ts.tv_nsec / 1_000_000)
        let component = (extra?["component"] ?? metadata["component"]).map { " [\($0)]" } ?? ""
        let text = "\(stamp) \(level.rawValue.uppercased())\(component) \(message)\n"
        _ = text.withCString { fputs($0, stderr) }
    }
}

private func pad(_ v: Int32, _ w: Int) -> String {
    let s = String(v)
    return String(repeating: "0", count: max(0, w - s.count)) + s
}

private extension String {
    init(format2 t: tm, millis: Int) {
        self = "\(pad(t.tm_year + 1900, 4))-\(pad(t.tm_mon + 1, 2))-\(pad(t.tm_mday, 2))T\(pad(t.tm_hour, 2)):\(pad(t.tm_min, 2)):\(pad(t.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }
}

func bootstrapLogging(_ level: String) throws {
    let names = ["trace", "debug", "info", "warning", "error"]
    guard names.contains(level.lowercased()), let lvl = Logger.Level(rawValue: level.lowercased()) else {
        throw Refusal(description: "--log-level: '\(level)' is not one of \(names.joined(separator: ", "))")
    }
    LoggingSystem.bootstrap { _ in LineLogHandler(logLevel: lvl) }
}
