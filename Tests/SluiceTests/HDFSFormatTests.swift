import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The hdfs sink's compressed formats read back by independent readers:
/// Python readers written from the format descriptions (always), the
/// Debian CLIs (zcat, bzcat, zstdcat) where they exist, and Hadoop's / Avro's
/// own reader classes through hdfs/hadoop/hadoop_read.sh when its jars are
/// there (exit 77: skipped).
final class HDFSFormatTests: XCTestCase {
    static let plugins = ["SluiceSequenceSource", "SluiceExecSource", "SluiceSpoolDirSource", "SluiceHDFSSink", "SluiceFlumeInterceptors"]
    static let hdfs = Paths.repoRoot + "/Tests/SluiceTests/hdfs/"
    /// The `hdfs.codeC` values tried (several spellings Flume accepts) and the extension each gives.
    static let codecs: [(name: String, ext: String, cli: String?)] = [
        ("gzip", ".gz", "/usr/bin/zcat"), ("BZip2Codec", ".bz2", "/usr/bin/bzcat"), ("deflate", ".deflate", nil),
        ("org.apache.hadoop.io.compress.DefaultCodec", ".deflate", nil), ("snappy", ".snappy", nil),
        ("Lz4Codec", ".lz4", nil), ("zstandard", ".zst", "/usr/bin/zstdcat"),
    ]

    /// seq r1 (`n` events with headers kind=web, timestamp) fanned out to
    /// one memory channel and hdfs sink per entry of `sinks`.
    static func fanOut(_ n: Int, _ sinks: [(dir: String, settings: String)], source: String? = nil) -> String {
        let names = sinks.indices.map { "k\($0)" }
        var conf = """
            a1.sources = r1
            a1.channels = \(sinks.indices.map { "c\($0)" }.joined(separator: " "))
            a1.sinks = \(names.joined(separator: " "))
            \(source ?? """
            a1.sources.r1.type = seq
            a1.sources.r1.totalEvents = \(n)
            a1.sources.r1.interceptors = i1 i2
            a1.sources.r1.interceptors.i1.type = static
            a1.sources.r1.interceptors.i1.key = kind
            a1.sources.r1.interceptors.i1.value = web
            a1.sources.r1.interceptors.i2.type = static
            a1.sources.r1.interceptors.i2.key = timestamp
            a1.sources.r1.interceptors.i2.value = 1700000000123
            """)
            a1.sources.r1.channels = \(sinks.indices.map { "c\($0)" }.joined(separator: " "))

            """
        for (i, sink) in sinks.enumerated() {
            conf += """
                a1.channels.c\(i).type = memory
                a1.sinks.k\(i).type = hdfs
                a1.sinks.k\(i).channel = c\(i)
                a1.sinks.k\(i).hdfs.path = \(sink.dir)
                a1.sinks.k\(i).hdfs.batchSize = 64
                a1.sinks.k\(i).hdfs.rollSize = 0
                a1.sinks.k\(i).hdfs.rollInterval = 0

                """
            conf += sink.settings.split(separator: "\n").map { "a1.sinks.k\(i)." + $0.trimmingCharacters(in: .whitespaces) + "\n" }.joined()
        }
        return conf
    }

    static func files(_ dir: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.sorted { (Int64($0.split(separator: ".")[1]) ?? 0, $0) < (Int64($1.split(separator: ".")[1]) ?? 0, $1) }
    }

    static func lines(_ range: Range<Int>) -> String { range.map { "\($0)\n" }.joined() }

    static func python(_ script: String, _ args: [String]) -> RunResult {
        (try? runCommand("/usr/bin/env", ["python3", hdfs + script] + args, timeout: 120)) ?? RunResult(status: -1, stdout: "", stderr: "python3 did not run")
    }

    /// Hadoop's reader; nil when its jars or a JDK are missing (exit 77).
    static func hadoopRead(_ mode: String, _ file: String) -> RunResult? {
        let r = (try? runCommand(hdfs + "hadoop/hadoop_read.sh", [mode, file], timeout: 300))
            ?? RunResult(status: -1, stdout: "", stderr: "hadoop_read.sh did not run")
        print("hadoop_read.sh \(mode) \((file as NSString).lastPathComponent): " + (r.status == 77 ? "skipped (no Hadoop jars / JDK)" : "exit \(r.status)"))
        return r.status == 77 ? nil : r
    }

    /// Concatenated decompressed bytes of `names` in `dir` by hadoop_codecs.py (nil: a file did not read).
    static func decoded(_ dir: String, _ names: [String]) -> String? {
        var out = ""
        for name in names {
            let r = python("hadoop_codecs.py", [dir + "/" + name])
            guard r.status == 0 else { return nil }
            out += r.stdout
        }
        return out
    }

    static func json(_ line: Substring) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
    }

    static func base64Text(_ v: Any?) -> String {
        String(decoding: Data(base64Encoded: v as? String ?? "") ?? Data(), as: UTF8.self)
    }

    func testCompressedStreamEveryCodecReadBack() throws {
        let root = makeTempDir("hdfs-codecs")
        let sinks = Self.codecs.enumerated().map { (i, c) in
            (dir: root + "/\(i)", settings: "hdfs.fileType = CompressedStream\nhdfs.codeC = \(c.name)\nhdfs.rollCount = 400")
        }
        let agent = try AgentSetup(Self.fanOut(1000, sinks), plugins: Self.plugins).start()
        let expected = Self.lines(0..<1000)
        ExecRoll.waitUntil("every codec wrote 1000 lines", timeout: 60) {
            sinks.allSatisfy { Self.decoded($0.dir, Self.files($0.dir)) == expected }
        }
        XCTAssertEqual(agent.stop(), 0)
        for (codec, sink) in zip(Self.codecs, sinks) {
            let names = Self.files(sink.dir)
            XCTAssertEqual(names.count, 3, "\(codec.name): rolled at 400 events: \(names)")
            XCTAssertTrue(names.allSatisfy { $0.hasSuffix(codec.ext) }, "\(codec.name): extension \(codec.ext): \(names)")
            XCTAssertEqual(Self.decoded(sink.dir, names), expected, "\(codec.name) by hadoop_codecs.py")
            if let cli = codec.cli, FileManager.default.isExecutableFile(atPath: cli) {
                let r = try runCommand("/bin/sh", ["-c", "cd '\(sink.dir)' && \(cli) " + names.joined(separator: " ")])
                XCTAssertEqual(r.status, 0, "\(cli): \(r.stderr)")
                XCTAssertEqual(r.stdout, expected, "\(codec.name) by \(cli)")
            }
            // Hadoop's ZStandardCodec needs a libhadoop built with zstd, which the jars do not bring.
            guard codec.ext != ".zst" else { continue }
            var hadoop = ""
            for name in names {
                guard let r = Self.hadoopRead("stream", sink.dir + "/" + name) else { break }
                XCTAssertEqual(r.status, 0, "Hadoop's \(codec.name) reader: \(r.stderr)")
                hadoop += r.stdout
            }
            if !hadoop.isEmpty { XCTAssertEqual(hadoop, expected, "\(codec.name) by Hadoop's codec input stream") }
        }
    }

    /// With hdfs.codeC a SequenceFile is BLOCK-compressed; one block per batch.
    func testBlockCompressedSequenceFileEveryCodec() throws {
        let root = makeTempDir("hdfs-seqblock")
        let sinks = Self.codecs.enumerated().map { (i, c) in
            (dir: root + "/\(i)", settings: "hdfs.codeC = \(c.name)\nhdfs.rollCount = 0\nhdfs.writeFormat = \(i % 2 == 0 ? "Writable" : "Text")")
        }
        let agent = try AgentSetup(Self.fanOut(500, sinks), plugins: Self.plugins).start()
        func records(_ dir: String) -> [[Any]]? {
            guard let name = Self.files(dir).first else { return nil }
            let r = Self.python("seqfile_read.py", [dir + "/" + name])
            return r.status == 0 ? Self.json(r.stdout[...])["records"] as? [[Any]] : nil
        }
        ExecRoll.waitUntil("500 records in every file", timeout: 60) { sinks.allSatisfy { records($0.dir)?.count == 500 } }
        XCTAssertEqual(agent.stop(), 0)
        for (i, (codec, sink)) in zip(Self.codecs, sinks).enumerated() {
            let names = Self.files(sink.dir)
            XCTAssertEqual(names.count, 1, "\(names)")
            XCTAssertTrue(names[0].hasSuffix(codec.ext), "\(codec.name): the codec's extension, as Flume: \(names)")
            let valueClass = i % 2 == 0 ? "org.apache.hadoop.io.BytesWritable" : "org.apache.hadoop.io.Text"
            let path = sink.dir + "/" + names[0]
            let r = Self.python("seqfile_read.py", [path])
            XCTAssertEqual(r.status, 0, "\(codec.name): \(r.stderr)")
            let obj = Self.json(r.stdout[...])
            XCTAssertEqual(obj["value"] as? String, valueClass)
            XCTAssertTrue((obj["codec"] as? String ?? "").hasPrefix("org.apache.hadoop.io.compress."), "\(obj["codec"] ?? "")")
            XCTAssertGreaterThanOrEqual(obj["blocks"] as? Int ?? 0, 8, "\(codec.name): a block per batch of at most 64")
            let got = obj["records"] as? [[Any]] ?? []
            XCTAssertEqual(got.map { $0[1] as? String ?? "" }, (0..<500).map(String.init), codec.name)
            XCTAssertTrue(got.allSatisfy { $0[0] as? Int == 1700000000123 }, "key = timestamp header")
            guard codec.ext != ".zst", let h = Self.hadoopRead("seq", path) else { continue }
            XCTAssertEqual(h.status, 0, "Hadoop's SequenceFile.Reader on \(codec.name): \(h.stderr)")
            let lines = h.stdout.split(separator: "\n")
            let header = Self.json(lines.first ?? "")
            XCTAssertEqual(header["compressed"] as? Bool, true)
            XCTAssertEqual(header["blockCompressed"] as? Bool, true)
            XCTAssertEqual(header["valueClass"] as? String, valueClass)
            XCTAssertEqual(lines.dropFirst().map { Self.base64Text(Self.json($0)["value"]) }, (0..<500).map(String.init),
                           "\(codec.name) by Hadoop")
            XCTAssertTrue(lines.dropFirst().allSatisfy { Self.json($0)["key"] as? Int == 1700000000123 })
        }
    }
}

/// avro_event: Avro object container files of Flume's Event schema.
extension HDFSFormatTests {
    static let eventSchema = #"{"type":"record","name":"Event","fields":[{"name":"headers","type":{"type":"map","values":"string"}},{"name":"body","type":"bytes"}]}"#

    /// Avro records of a container file by avro_read.py (nil: it did not read).
    static func avroRecords(_ path: String) -> (codec: String, blocks: Int, records: [[String: Any]])? {
        let r = python("avro_read.py", [path])
        guard r.status == 0 else { return nil }
        let obj = json(r.stdout[...])
        guard obj["schema"] as? String == eventSchema else { return nil }
        return (obj["codec"] as? String ?? "", obj["blocks"] as? Int ?? 0, obj["records"] as? [[String: Any]] ?? [])
    }

    func testAvroEventContainerFilesReadBack() throws {
        let root = makeTempDir("hdfs-avro")
        let variants: [(codec: String, settings: String)] = [
            ("null", "hdfs.fileType = DataStream\nserializer = avro_event"),
            ("deflate", "hdfs.fileType = DataStream\nserializer = avro_event\nserializer.compressionCodec = deflate\nserializer.syncIntervalBytes = 300"),
            ("snappy", "hdfs.fileType = DataStream\nserializer = org.apache.flume.serialization.FlumeEventAvroEventSerializer$Builder\nserializer.compressionCodec = snappy"),
            ("bzip2", "hdfs.fileType = DataStream\nserializer = AVRO_EVENT\nserializer.compressionCodec = bzip2"),
            ("zstandard", "hdfs.fileType = DataStream\nserializer = avro_event\nserializer.compressionCodec = zstandard"),
            // The container file itself gzip-compressed, as Flume's CompressedStream does.
            ("null", "hdfs.fileType = CompressedStream\nhdfs.codeC = gzip\nserializer = avro_event"),
        ]
        let sinks = variants.enumerated().map { (i, v) in
            (dir: root + "/\(i)", settings: v.settings + "\nhdfs.rollCount = 150\nhdfs.fileSuffix = \(i == 5 ? ".avro.gz" : ".avro")")
        }
        let agent = try AgentSetup(Self.fanOut(300, sinks), plugins: Self.plugins).start()
        /// The plain container files of a sink (gzip ones decompressed beside the originals).
        func containers(_ dir: String) -> [String] {
            Self.files(dir).filter { !$0.hasPrefix("plain-") }.map { name in
                guard name.contains(".gz") else { return dir + "/" + name }
                let plain = dir + "/plain-" + name
                _ = Self.python("hadoop_codecs.py", [dir + "/" + name, plain])
                return plain
            }
        }
        func bodies(_ dir: String) -> [String] {
            containers(dir).flatMap { Self.avroRecords($0)?.records.map { $0["body"] as? String ?? "?" } ?? ["unreadable"] }
        }
        let expected = (0..<300).map(String.init)
        ExecRoll.waitUntil("300 records in every sink", timeout: 60) { sinks.allSatisfy { bodies($0.dir) == expected } }
        XCTAssertEqual(agent.stop(), 0)
        for (variant, sink) in zip(variants, sinks) {
            let paths = containers(sink.dir)
            XCTAssertEqual(paths.count, 2, "rolled at 150 events: \(paths)")
            var all: [[String: Any]] = []
            for path in paths {
                guard let file = Self.avroRecords(path) else { XCTFail("avro_read.py cannot read \(path)"); continue }
                XCTAssertEqual(file.codec, variant.codec)
                XCTAssertGreaterThanOrEqual(file.blocks, variant.codec == "deflate" ? 10 : 3, "a block per batch and per sync interval")
                all += file.records
            }
            XCTAssertEqual(all.map { $0["body"] as? String ?? "" }, expected, variant.settings)
            XCTAssertTrue(all.allSatisfy { ($0["headers"] as? [String: String]) == ["kind": "web", "timestamp": "1700000000123"] },
                          "headers kept: \(all.first ?? [:])")
            var hadoop: [String] = []
            for path in paths {
                guard let h = Self.hadoopRead("avro", path) else { break }
                XCTAssertEqual(h.status, 0, "Avro's DataFileReader on \(variant.codec): \(h.stderr)")
                let lines = h.stdout.split(separator: "\n")
                XCTAssertEqual(Self.json(lines.first ?? "")["codec"] as? String, variant.codec)
                XCTAssertEqual(Self.json(lines.first ?? "")["schema"] as? String, Self.eventSchema)
                hadoop += lines.dropFirst().map { Self.base64Text(Self.json($0)["body"]) }
            }
            if !hadoop.isEmpty { XCTAssertEqual(hadoop, expected, "\(variant.settings) by Avro's DataFileReader") }
        }
    }

    func testCodecAndSerializerErrorsNameTheKey() throws {
        let out = makeTempDir("hdfs-format-bad")
        for (line, key) in [("hdfs.codeC = lzo", "hdfs.codeC"), ("hdfs.codeC = com.hadoop.compression.lzo.LzopCodec", "hdfs.codeC"),
                            ("hdfs.codeC = brotli", "hdfs.codeC"),
                            ("hdfs.fileType = DataStream\nhdfs.codeC = gzip", "hdfs.codeC"),
                            ("serializer = avro_event\nserializer.compressionCodec = xz", "serializer.compressionCodec"),
                            ("serializer = avro_event\nserializer.syncIntervalBytes = 0", "serializer.syncIntervalBytes"),
                            ("serializer = org.apache.flume.sink.hdfs.AvroEventSerializer$Builder", "serializer"),
                            ("serializer = parquet", "serializer")] {
            let r = try AgentSetup(Self.fanOut(1, [(dir: out, settings: line)]), plugins: Self.plugins).check()
            XCTAssertNotEqual(r.status, 0, line)
            XCTAssertTrue((r.stdout + r.stderr).contains("'\(key)'"), "\(line): \(r.stdout) \(r.stderr)")
            if line.contains("lzo") { XCTAssertTrue((r.stdout + r.stderr).contains("GPL"), r.stdout + r.stderr) }
        }
        let ok = try AgentSetup(Self.fanOut(1, [(dir: out, settings: "hdfs.codeC = None")]), plugins: Self.plugins).check()
        XCTAssertEqual(ok.status, 0, "None: no codec, as Flume: \(ok.stdout) \(ok.stderr)")
    }
}
