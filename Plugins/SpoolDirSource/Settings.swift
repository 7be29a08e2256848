import SluiceSDK
import PluginRegex

enum TrackingPolicy { case rename, trackerDir }
enum ConsumeOrder { case oldest, youngest, random }

enum Deserializer: Equatable {
    /// One event per line; lines longer than `maxLineLength` characters are truncated.
    case line(maxLineLength: Int, output: TextCharset)
    /// The whole file as one event (files longer than `maxBlobLength` bytes
    /// become several events of that size, as in Flume).
    case blob(maxBlobLength: Int)

    static let lineNames = ["line", "org.apache.flume.serialization.linedeserializer$builder"]
    static let blobNames = ["blob", "org.apache.flume.sink.solr.morphline.blobdeserializer$builder"]
}

/// The source's configuration, validated once. Every error names its key.
struct SpoolSettings {
    var spoolDir: String
    var fileSuffix: String
    var deleteImmediately: Bool
    var fileHeaderKey: String?
    var basenameHeaderKey: String?
    var include: PCRE2Regex?
    var ignore: PCRE2Regex?
    var trackerDir: String
    var trackingPolicy: TrackingPolicy
    var consumeOrder: ConsumeOrder
    var pollDelay: Int
    var recursive: Bool
    var maxBackoff: Int
    var batchSize: Int
    var inputCharset: TextCharset
    var decodeErrorPolicy: DecodeErrorPolicy
    var deserializer: Deserializer
    var deprecatedKeysUsed: [String] = []

    static let metaFileName = ".flumespool-main.meta"

    init(_ p: Properties) throws {
        spoolDir = try Self.absolute(p.requiredString("spoolDir").trimmingSpaces, key: "spoolDir")
        fileSuffix = p.string("fileSuffix", default: ".COMPLETED")

        switch p.string("deletePolicy", default: "never").trimmingSpaces.lowercased() {
        case "never": deleteImmediately = false
        case "immediate": deleteImmediately = true
        case let v: throw SluiceError.config("property 'deletePolicy': '\(v)' is not never or immediate")
        }
        switch p.string("trackingPolicy", default: "rename").trimmingSpaces.lowercased() {
        case "rename": trackingPolicy = .rename
        case "tracker_dir": trackingPolicy = .trackerDir
        case let v: throw SluiceError.config("property 'trackingPolicy': '\(v)' is not rename or tracker_dir")
        }
        switch p.string("consumeOrder", default: "oldest").trimmingSpaces.lowercased() {
        case "oldest": consumeOrder = .oldest
        case "youngest": consumeOrder = .youngest
        case "random": consumeOrder = .random
        case let v: throw SluiceError.config("property 'consumeOrder': '\(v)' is not oldest, youngest or random")
        }
        if !deleteImmediately, trackingPolicy == .rename, fileSuffix.isEmpty {
            throw SluiceError.config("property 'fileSuffix': must not be empty (completed files are marked with it)")
        }

        fileHeaderKey = try p.bool("fileHeader", default: false) ? p.string("fileHeaderKey", default: "file") : nil
        basenameHeaderKey = try p.bool("basenameHeader", default: false) ? p.string("basenameHeaderKey", default: "basename") : nil

        let includeText = p.string("includePattern", default: "^.*$")
        include = includeText == "^.*$" ? nil : try PCRE2Regex(pattern: includeText, key: "includePattern", anchoring: .wholeSubject)
        let ignoreText = p.string("ignorePattern", default: "^$")
        ignore = ignoreText == "^$" ? nil : try PCRE2Regex(pattern: ignoreText, key: "ignorePattern", anchoring: .wholeSubject)

        let tracker = p.string("trackerDir", default: ".flumespool").trimmingSpaces
        guard !tracker.isEmpty else { throw SluiceError.config("property 'trackerDir': must not be empty") }
        trackerDir = Self.trimSlashes(tracker.hasPrefix("/") ? tracker : spoolDir + "/" + tracker)
        if trackerDir == spoolDir {
            throw SluiceError.config("property 'trackerDir': must not be the spool directory itself")
        }

        pollDelay = try p.int("pollDelay", default: 500)
        guard (0...86_400_000).contains(pollDelay) else {
            throw SluiceError.config("property 'pollDelay': must be 0...86400000 (milliseconds)")
        }
        recursive = try p.bool("recursiveDirectorySearch", default: false)
        maxBackoff = try p.int("maxBackoff", default: 4000)
        guard (1...86_400_000).contains(maxBackoff) else {
            throw SluiceError.config("property 'maxBackoff': must be 1...86400000 (milliseconds)")
        }
        batchSize = try p.int("batchSize", default: 100)
        guard batchSize > 0 else { throw SluiceError.config("property 'batchSize': must be > 0") }

        inputCharset = try TextCharset.parse(p.string("inputCharset", default: "UTF-8"), key: "inputCharset")
        decodeErrorPolicy = try DecodeErrorPolicy.parse(p.string("decodeErrorPolicy", default: "FAIL"), key: "decodeErrorPolicy")

        let kind = p.string("deserializer", default: "LINE").trimmingSpaces
        if Deserializer.lineNames.contains(kind.lowercased()) {
            let maxLine = try p.int("deserializer.maxLineLength", default: 2048)
            guard maxLine > 0 else { throw SluiceError.config("property 'deserializer.maxLineLength': must be > 0") }
            let out = try TextCharset.parse(p.string("deserializer.outputCharset", default: "UTF-8"), key: "deserializer.outputCharset")
            deserializer = .line(maxLineLength: maxLine, output: out)
        } else if Deserializer.blobNames.contains(kind.lowercased()) {
            let maxBlob = try p.int("deserializer.maxBlobLength", default: 100_000_000)
            guard maxBlob > 0 else { throw SluiceError.config("property 'deserializer.maxBlobLength': must be > 0") }
            deserializer = .blob(maxBlobLength: maxBlob)
        } else if kind.uppercased() == "AVRO" || kind.hasPrefix("org.apache.flume.serialization.AvroEventDeserializer") {
            throw SluiceError.config("property 'deserializer': AVRO is not supported by Sluice; use LINE or BLOB")
        } else {
            throw SluiceError.config("property 'deserializer': '\(kind)' is not LINE, BLOB or one of their Flume class names")
        }

        for key in ["bufferMaxLines", "bufferMaxLineLength"] where p[key] != nil {
            deprecatedKeysUsed.append(key)
        }
    }

    var renames: Bool { !deleteImmediately && trackingPolicy == .rename }

    private static func absolute(_ path: String, key: String) throws -> String {
        guard !path.isEmpty else { throw SluiceError.config("missing required property '\(key)'") }
        return trimSlashes(path.hasPrefix("/") ? path : currentDirectory() + "/" + path)
    }

    private static func trimSlashes(_ path: String) -> String {
        var s = Substring(path)
        while s.count > 1, s.last == "/" { s.removeLast() }
        return String(s)
    }
}

let spoolDirKeys: [ConfigKey] = [
    ConfigKey("spoolDir", .string, required: true, "directory whose files are read (files must not change once there)"),
    ConfigKey("fileSuffix", .string, default: ".COMPLETED", "appended to a file's name once all its events are committed"),
    ConfigKey("deletePolicy", .string, default: "never", "never: keep completed files; immediate: delete them"),
    ConfigKey("fileHeader", .bool, default: "false", "add the file's absolute path as a header"),
    ConfigKey("fileHeaderKey", .string, default: "file", "header name for fileHeader"),
    ConfigKey("basenameHeader", .bool, default: "false", "add the file's name as a header"),
    ConfigKey("basenameHeaderKey", .string, default: "basename", "header name for basenameHeader"),
    ConfigKey("includePattern", .string, default: "^.*$", "regex a file name must match to be read"),
    ConfigKey("ignorePattern", .string, default: "^$", "regex of file names to skip"),
    ConfigKey("trackerDir", .string, default: ".flumespool", "directory for the position file and tracker markers (relative: under spoolDir)"),
    ConfigKey("trackingPolicy", .string, default: "rename", "rename: rename completed files; tracker_dir: leave them, create a marker in trackerDir"),
    ConfigKey("consumeOrder", .string, default: "oldest", "oldest, youngest (by modification time) or random"),
    ConfigKey("pollDelay", .int, default: "500", "milliseconds between directory scans when there is nothing to read"),
    ConfigKey("recursiveDirectorySearch", .bool, default: "false", "also read files in subdirectories"),
    ConfigKey("maxBackoff", .int, default: "4000", "longest wait (ms) before retrying a batch a full channel refused; starts at 250, doubles"),
    ConfigKey("batchSize", .int, default: "100", "events per batch committed to the channel"),
    ConfigKey("inputCharset", .string, default: "UTF-8", "charset of the files: UTF-8, ISO-8859-1 or US-ASCII"),
    ConfigKey("decodeErrorPolicy", .string, default: "FAIL", "undecodable input: FAIL (the file is an error), REPLACE (U+FFFD) or IGNORE (dropped)"),
    ConfigKey("deserializer", .string, default: "LINE", "LINE (one event per line) or BLOB (one event per file), or their Flume class names"),
    ConfigKey("deserializer.maxLineLength", .int, default: "2048", "LINE: longer lines are truncated to this many characters (with a warning)"),
    ConfigKey("deserializer.outputCharset", .string, default: "UTF-8", "LINE: charset of event bodies: UTF-8, ISO-8859-1 or US-ASCII"),
    ConfigKey("deserializer.maxBlobLength", .int, default: "100000000", "BLOB: largest event in bytes; a longer file becomes several events"),
    ConfigKey("bufferMaxLines", .int, "deprecated in Flume; ignored"),
    ConfigKey("bufferMaxLineLength", .int, "deprecated in Flume; ignored (use deserializer.maxLineLength)"),
]
