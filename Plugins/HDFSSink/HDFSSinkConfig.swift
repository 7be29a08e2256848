import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// Flume's `hdfs.fileType`.
enum FileType: String {
    case sequenceFile = "SequenceFile"
    case dataStream = "DataStream"
    case compressedStream = "CompressedStream"
}

/// Flume's `hdfs.writeFormat`: the SequenceFile value class.
enum WriteFormat {
    /// `org.apache.hadoop.io.BytesWritable` (int32 length + bytes).
    case writable
    /// `org.apache.hadoop.io.Text` (vint length + bytes).
    case text
}

/// How an event becomes bytes in a DataStream / CompressedStream file.
enum SerializerKind {
    /// Flume's TEXT (BodyTextEventSerializer): the body.
    case text
    /// Flume's HEADER_AND_TEXT: `{k1=v1, k2=v2} ` then the body.
    case headerAndText
    /// Flume's avro_event (FlumeEventAvroEventSerializer): an Avro container file.
    case avroEvent
}

enum RoundUnit: Int {
    case second = 1, minute = 60, hour = 3600
}

/// Every key of Flume's HDFS sink with Flume's defaults, validated; each
/// error names the key.
struct HDFSSinkConfig {
    /// Local directory template (escapes unresolved); `file://` stripped.
    var pathTemplate: String
    var filePrefix = "FlumeData"
    var fileSuffix = ""
    var inUsePrefix = ""
    var inUseSuffix = ".tmp"
    var rollInterval = 30
    var rollSize: Int64 = 1024
    var rollCount: Int64 = 10
    var idleTimeout = 0
    var batchSize = 100
    var fileType = FileType.sequenceFile
    var codec: Codec?
    var writeFormat = WriteFormat.writable
    var serializer = SerializerKind.text
    var appendNewline = true
    /// avro_event: `serializer.compressionCodec` and `serializer.syncIntervalBytes`.
    var avroCodec = AvroCodec.null
    var avroSyncInterval = 2_048_000
    var maxOpenFiles = 5000
    var round = false
    var roundValue = 1
    var roundUnit = RoundUnit.second
    var timeZone: TimeZoneRule
    var useLocalTimeStamp = false
    /// 0: retry a failed close/rename forever.
    var closeTries = 0
    var retryIntervalSeconds = 180
    var callTimeoutMillis = 30_000
    /// A `webhdfs://host:port/path` destination; nil: local files.
    var webhdfs: WebHDFSTarget?

    init(_ p: Properties) throws {
        let rawPath = try p.requiredString("hdfs.path")
        let trimmed = rawPath.trimmingSpaces
        let secure = trimmed.lowercased().hasPrefix("swebhdfs://")
        if secure || trimmed.lowercased().hasPrefix("webhdfs://") {
            let rest = trimmed.dropFirst(secure ? "swebhdfs://".count : "webhdfs://".count)
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            let authority = String(rest[..<slash])
            // Hadoop 3's NameNode HTTP and HTTPS ports.
            var host = authority, port = secure ? 9871 : 9870
            if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
                host = String(authority[..<colon])
                guard let n = Int(authority[authority.index(after: colon)...]), n > 0, n < 65536 else {
                    throw SluiceError.config("property 'hdfs.path': bad port in '\(rawPath)'")
                }
                port = n
            }
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else { throw SluiceError.config("property 'hdfs.path': '\(rawPath)' names no host (webhdfs://host:port/path)") }
            let user = p["hdfs.webhdfs.user"]?.trimmingSpaces
            let proxy = p["hdfs.proxyUser"]?.trimmingSpaces
            webhdfs = WebHDFSTarget(host: host, port: port, user: (user?.isEmpty ?? true) ? nil : user,
                                    proxyUser: (proxy?.isEmpty ?? true) ? nil : proxy)
            if secure {
                webhdfs?.tls = true
                let ca = p["hdfs.webhdfs.ssl.caFile"]?.trimmingSpaces ?? ""
                if !ca.isEmpty {
                    guard access(ca, R_OK) == 0 else {
                        throw SluiceError.config("property 'hdfs.webhdfs.ssl.caFile': cannot read '\(ca)': \(String(cString: strerror(errno)))")
                    }
                    webhdfs?.caFile = ca
                }
            } else if p["hdfs.webhdfs.ssl.caFile"] != nil {
                throw SluiceError.config("property 'hdfs.webhdfs.ssl.caFile' needs an swebhdfs:// hdfs.path (this one is plain http)")
            }
            let path = slash == rest.endIndex ? "/" : String(rest[slash...])
            pathTemplate = path
        } else {
            pathTemplate = try HDFSSinkConfig.localPath(rawPath)
        }
        filePrefix = p.string("hdfs.filePrefix", default: filePrefix)
        fileSuffix = p.string("hdfs.fileSuffix", default: fileSuffix)
        inUsePrefix = p.string("hdfs.inUsePrefix", default: inUsePrefix)
        inUseSuffix = p.string("hdfs.inUseSuffix", default: inUseSuffix)
        if try p.bool("hdfs.emptyInUseSuffix", default: false) { inUseSuffix = "" }
        for (key, value) in [("hdfs.filePrefix", filePrefix), ("hdfs.fileSuffix", fileSuffix),
                             ("hdfs.inUsePrefix", inUsePrefix), ("hdfs.inUseSuffix", inUseSuffix)]
        where value.contains("/") {
            throw SluiceError.config("property '\(key)': '\(value)' must not contain '/'")
        }
        if filePrefix.isEmpty { throw SluiceError.config("property 'hdfs.filePrefix' must not be empty") }

        rollInterval = try nonNegative(p, "hdfs.rollInterval", rollInterval)
        rollSize = Int64(try nonNegative(p, "hdfs.rollSize", Int(rollSize)))
        rollCount = Int64(try nonNegative(p, "hdfs.rollCount", Int(rollCount)))
        idleTimeout = try nonNegative(p, "hdfs.idleTimeout", idleTimeout)
        batchSize = try p.int("hdfs.batchSize", default: batchSize)
        guard batchSize > 0 else { throw SluiceError.config("property 'hdfs.batchSize' must be > 0") }
        maxOpenFiles = try p.int("hdfs.maxOpenFiles", default: maxOpenFiles)
        guard maxOpenFiles > 0 else { throw SluiceError.config("property 'hdfs.maxOpenFiles' must be > 0") }

        let typeName = p.string("hdfs.fileType", default: "SequenceFile").trimmingSpaces
        guard let t = [FileType.sequenceFile, .dataStream, .compressedStream]
            .first(where: { $0.rawValue.lowercased() == typeName.lowercased() }) else {
            throw SluiceError.config("property 'hdfs.fileType': unknown file type '\(typeName)' (SequenceFile, DataStream or CompressedStream)")
        }
        fileType = t
        if let name = p["hdfs.codeC"]?.trimmingSpaces, !name.isEmpty {
            codec = try Codec.named(name)
        }
        switch fileType {
        case .dataStream where codec != nil:
            throw SluiceError.config("property 'hdfs.codeC' is not allowed with hdfs.fileType = DataStream (use CompressedStream)")
        case .compressedStream where codec == nil:
            throw SluiceError.config("hdfs.fileType = CompressedStream needs property 'hdfs.codeC' (e.g. gzip)")
        default: break
        }
        switch p.string("hdfs.writeFormat", default: "Writable").trimmingSpaces.lowercased() {
        case "writable": writeFormat = .writable
        case "text": writeFormat = .text
        case let other: throw SluiceError.config("property 'hdfs.writeFormat': unknown format '\(other)' (Writable or Text)")
        }
        let serializerName = p.string("serializer", default: "TEXT").trimmingSpaces
        switch serializerName.uppercased() {
        case "TEXT", "ORG.APACHE.FLUME.SERIALIZATION.BODYTEXTEVENTSERIALIZER$BUILDER": serializer = .text
        case "HEADER_AND_TEXT", "ORG.APACHE.FLUME.SERIALIZATION.HEADERANDBODYTEXTEVENTSERIALIZER$BUILDER":
            serializer = .headerAndText
        case "AVRO_EVENT", "ORG.APACHE.FLUME.SERIALIZATION.FLUMEEVENTAVROEVENTSERIALIZER$BUILDER": serializer = .avroEvent
        case "ORG.APACHE.FLUME.SINK.HDFS.AVROEVENTSERIALIZER$BUILDER":
            throw SluiceError.config("property 'serializer': \(serializerName) writes event bodies as records of a schema named by a header (flume.avro.schema.url / .literal), which this build does not support; avro_event writes whole events (headers and body)")
        default:
            throw SluiceError.config("property 'serializer': unknown serializer '\(serializerName)' (TEXT, HEADER_AND_TEXT or avro_event)")
        }
        if let name = p["serializer.compressionCodec"]?.trimmingSpaces, !name.isEmpty {
            avroCodec = try AvroCodec.named(name)
        }
        avroSyncInterval = try p.int("serializer.syncIntervalBytes", default: avroSyncInterval)
        guard avroSyncInterval > 0 else { throw SluiceError.config("property 'serializer.syncIntervalBytes' must be > 0") }
        appendNewline = try p.bool("serializer.appendNewline", default: true)

        round = try p.bool("hdfs.round", default: false)
        roundValue = try p.int("hdfs.roundValue", default: 1)
        let unitName = p.string("hdfs.roundUnit", default: "second").trimmingSpaces.lowercased()
        switch unitName {
        case "second": roundUnit = .second
        case "minute": roundUnit = .minute
        case "hour": roundUnit = .hour
        default: throw SluiceError.config("property 'hdfs.roundUnit': unknown unit '\(unitName)' (second, minute or hour)")
        }
        let maxRound = roundUnit == .hour ? 24 : 60
        guard roundValue > 0 && roundValue <= maxRound else {
            throw SluiceError.config("property 'hdfs.roundValue': \(roundValue) must be between 1 and \(maxRound) for unit \(unitName)")
        }
        if let tz = p["hdfs.timeZone"]?.trimmingSpaces, !tz.isEmpty {
            guard let rule = TimeZoneRule(named: tz) else {
                throw SluiceError.config("property 'hdfs.timeZone': unknown time zone '\(tz)'")
            }
            timeZone = rule
        } else {
            timeZone = .local
        }
        useLocalTimeStamp = try p.bool("hdfs.useLocalTimeStamp", default: false)
        closeTries = try nonNegative(p, "hdfs.closeTries", closeTries)
        retryIntervalSeconds = try p.int("hdfs.retryInterval", default: retryIntervalSeconds)
        callTimeoutMillis = try p.int("hdfs.callTimeout", default: callTimeoutMillis)
        guard callTimeoutMillis > 0 else { throw SluiceError.config("property 'hdfs.callTimeout' must be > 0 (milliseconds)") }
        _ = try p.int("hdfs.threadsPoolSize", default: 10)
        _ = try p.int("hdfs.rollTimerPoolSize", default: 1)
        _ = try p.bool("hdfs.useRawLocalFileSystem", default: false)
    }

    /// `hdfs.path` as a local directory: a plain path or a `file://` URI.
    static func localPath(_ raw: String) throws -> String {
        let s = raw.trimmingSpaces
        let lower = s.lowercased()
        if lower.hasPrefix("file://") {
            let rest = String(s.dropFirst("file://".count))
            // file:///a/b (empty authority) or file://localhost/a/b
            if rest.hasPrefix("/") { return rest }
            if rest.lowercased().hasPrefix("localhost/") { return String(rest.dropFirst("localhost".count)) }
            throw SluiceError.config("property 'hdfs.path': '\(raw)' names a remote host; file:// URIs must be file:///path")
        }
        if lower.hasPrefix("file:/") { return String(s.dropFirst("file:".count)) }
        if let colon = s.firstIndex(of: ":"), s[colon...].hasPrefix("://") {
            throw SluiceError.config("property 'hdfs.path': unsupported scheme in '\(raw)' (a local path or file:// URI; HDFS mounted through NFS or FUSE)")
        }
        return s
    }
}

private func nonNegative(_ p: Properties, _ key: String, _ def: Int) throws -> Int {
    let v = try p.int(key, default: def)
    guard v >= 0 else { throw SluiceError.config("property '\(key)' must be >= 0 (0: off)") }
    return v
}
