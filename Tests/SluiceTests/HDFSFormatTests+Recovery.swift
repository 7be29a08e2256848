import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Crash recovery of the compressed formats: in-use files cut back to their
/// last whole unit (gzip member, bzip2 stream, zstd frame, Hadoop block,
/// SequenceFile block, Avro block) at the next start.
extension HDFSFormatTests {
    /// The formats the recovery tests write, and how each file is read back
    /// into event bodies (nil: not readable).
    static let recoveryFormats: [(settings: String, read: (String) -> [String]?)] = [
        ("hdfs.fileType = CompressedStream\nhdfs.codeC = snappy", streamLines),
        ("hdfs.fileType = CompressedStream\nhdfs.codeC = bzip2", streamLines),
        ("hdfs.fileType = CompressedStream\nhdfs.codeC = lz4", streamLines),
        ("hdfs.codeC = zstandard", sequenceFileBodies),
        ("hdfs.codeC = gzip\nhdfs.writeFormat = Text", sequenceFileBodies),
        ("hdfs.fileType = DataStream\nserializer = avro_event\nserializer.compressionCodec = deflate\nhdfs.fileSuffix = .avro", { path in
            avroRecords(path)?.records.map { $0["body"] as? String ?? "" }
        }),
        // An Avro container file inside a gzip stream: whole gzip members are whole batches.
        ("hdfs.fileType = CompressedStream\nhdfs.codeC = gzip\nserializer = avro_event", { path in
            let plain = path + ".plain"
            defer { unlink(plain) }
            guard python("hadoop_codecs.py", [path, plain]).status == 0 else { return nil }
            return avroRecords(plain)?.records.map { $0["body"] as? String ?? "" } ?? (ExecRoll.fileBytes(plain).isEmpty ? [] : nil)
        }),
    ]

    static func streamLines(_ path: String) -> [String]? {
        let r = python("hadoop_codecs.py", [path])
        return r.status == 0 ? r.stdout.split(separator: "\n").map(String.init) : nil
    }

    static func sequenceFileBodies(_ path: String) -> [String]? {
        let r = python("seqfile_read.py", [path])
        return r.status == 0 ? (json(r.stdout[...])["records"] as? [[Any]])?.map { $0[1] as? String ?? "" } : nil
    }

    /// Files written, then torn at seeded random offsets and left under
    /// in-use names: the next start cuts each back to a readable prefix of
    /// what was written, and renames it.
    func testTornInUseFilesAreCutToTheirLastWholeUnit() throws {
        let root = makeTempDir("hdfs-torn")
        let sinks = Self.recoveryFormats.indices.map { (dir: root + "/\($0)", settings: Self.recoveryFormats[$0].settings + "\nhdfs.rollCount = 0") }
        let writer = try AgentSetup(Self.fanOut(2000, sinks), plugins: Self.plugins).start()
        let expected = (0..<2000).map(String.init)
        ExecRoll.waitUntil("2000 events in every format", timeout: 60) {
            zip(Self.recoveryFormats, sinks).allSatisfy { f, s in Self.files(s.dir).first.flatMap { f.read(s.dir + "/" + $0) } == expected }
        }
        XCTAssertEqual(writer.stop(), 0)

        var seed = UInt64(ProcessInfo.processInfo.environment["HDFS_TORN_SEED"] ?? "") ?? UInt64(Date().timeIntervalSince1970)
        print("testTornInUseFilesAreCutToTheirLastWholeUnit: seed \(seed) (replay: HDFS_TORN_SEED=\(seed))")
        func next(_ bound: Int) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int((seed >> 33) % UInt64(bound))
        }
        var cuts: [String: Int] = [:]
        for s in sinks {
            let name = Self.files(s.dir)[0]
            let whole = ExecRoll.fileBytes(s.dir + "/" + name)
            for i in 0..<3 {
                let cut = [whole.count - 1 - next(40), 200 + next(whole.count - 200), next(120)][i]
                let parts = name.split(separator: ".", maxSplits: 2)
                let torn = s.dir + "/\(parts[0]).\(1000 + i)" + (parts.count > 2 ? "." + parts[2] : "") + ".tmp"
                FileManager.default.createFile(atPath: torn, contents: Data(whole[0..<cut]))
                cuts[torn] = cut
            }
            unlink(s.dir + "/" + name)
        }
        // A restart with nothing to write: only recovery runs.
        let idle = "a1.sources.r1.type = exec\na1.sources.r1.command = sleep 30"
        let agent = try AgentSetup(Self.fanOut(0, sinks, source: idle), plugins: Self.plugins).start()
        ExecRoll.waitUntil("in-use files recovered") { sinks.allSatisfy { !Self.files($0.dir).contains { $0.hasSuffix(".tmp") } } }
        XCTAssertEqual(agent.stop(), 0)
        for (format, s) in zip(Self.recoveryFormats, sinks) {
            for name in Self.files(s.dir) {
                let got = format.read(s.dir + "/" + name)
                XCTAssertNotNil(got, "\(format.settings): \(name) is not readable after recovery")
                XCTAssertEqual(got, Array(expected.prefix(got?.count ?? 0)), "\(name): a prefix of what was written")
            }
            // The copy cut inside its last batch keeps every earlier batch (at most 64 events each).
            let nearEnd = Self.files(s.dir).first { $0.split(separator: ".")[1] == "1000" }
            let count = nearEnd.flatMap { format.read(s.dir + "/" + $0) }?.count ?? 0
            XCTAssertTrue(count >= 2000 - 64 && count < 2000, "\(format.settings): \(count) events kept of the copy cut near its end: \(cuts)")
        }
    }

    /// kill -9 while a spooled file streams through file channels into a
    /// compressed format per sink: after a restart every line is there and
    /// every file reads whole.
    func testKillNineMidFileWithCompressedFormatsLosesNothing() throws {
        let work = makeTempDir("hdfs-kill-formats")
        let spool = work + "/spool"
        try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true)
        let n = 100_000
        try Self.lines(0..<n).write(toFile: work + "/input.log", atomically: false, encoding: .utf8)
        rename(work + "/input.log", spool + "/input.log")
        let sinks = Self.recoveryFormats.indices.map { (dir: work + "/out\($0)", settings: Self.recoveryFormats[$0].settings + "\nhdfs.rollCount = 0\nhdfs.batchSize = 100") }
        var conf = Self.fanOut(0, sinks, source: "a1.sources.r1.type = spooldir\na1.sources.r1.spoolDir = \(spool)")
        for i in sinks.indices {
            conf = conf.replacingOccurrences(of: "a1.channels.c\(i).type = memory\n", with: """
                a1.channels.c\(i).type = file
                a1.channels.c\(i).checkpointDir = \(work)/checkpoint\(i)
                a1.channels.c\(i).dataDirs = \(work)/data\(i)

                """)
        }
        let setup = try AgentSetup(conf, plugins: Self.plugins)
        let first = try setup.start()
        ExecRoll.waitUntil("an in-use file with data in every sink", timeout: 60) {
            sinks.allSatisfy { s in Self.files(s.dir).contains { $0.hasSuffix(".tmp") && ExecRoll.fileBytes(s.dir + "/" + $0).count > 2000 } }
        }
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()

        let second = try setup.start()
        func seen(_ i: Int) -> Set<String>? {
            var out = Set<String>()
            for name in Self.files(sinks[i].dir) {
                guard let bodies = Self.recoveryFormats[i].read(sinks[i].dir + "/" + name) else { return nil }
                out.formUnion(bodies)
            }
            return out
        }
        ExecRoll.waitUntil("every line in every sink", timeout: 120) {
            FileManager.default.fileExists(atPath: spool + "/input.log.COMPLETED") && sinks.indices.allSatisfy { (seen($0)?.count ?? 0) >= n }
        }
        XCTAssertEqual(second.stop(), 0)
        for (i, s) in sinks.enumerated() {
            XCTAssertFalse(Self.files(s.dir).contains { $0.hasSuffix(".tmp") }, "\(Self.files(s.dir))")
            XCTAssertEqual(Self.files(s.dir).count, 2, "the recovered file and the second run's: \(Self.files(s.dir))")
            let got = seen(i)
            XCTAssertNotNil(got, "\(s.settings): every file reads whole")
            let missing = (0..<n).filter { !(got ?? []).contains(String($0)) }
            XCTAssertEqual(missing.count, 0, "\(s.settings): lost \(missing.prefix(10))")
        }
    }
}
