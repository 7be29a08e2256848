import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Every Flume interceptor through a running agent, observed at a logger sink
/// (Flume's defaults per the User Guide and the interceptors' code).
final class InterceptorTests: XCTestCase {
    /// Seq sources named in `sources` (each `totalEvents` events, tagged with
    /// header src=<name> by a first static interceptor), one memory channel,
    /// logger k1. `interceptors[name]` is the rest of that source's chain:
    /// (interceptor name, [key: value]).
    func seqConfig(_ sources: [String], totalEvents: Int = 5,
                   chains: [String: [(String, [String: String])]]) -> String {
        var lines = [
            "a1.sources = \(sources.joined(separator: " "))",
            "a1.channels = c1",
            "a1.sinks = k1",
            "a1.channels.c1.type = memory",
            "a1.sinks.k1.type = logger",
            "a1.sinks.k1.channel = c1",
            "a1.sinks.k1.maxBytesToLog = 1000",
        ]
        for s in sources {
            let p = "a1.sources.\(s)"
            let chain = chains[s] ?? []
            lines += ["\(p).type = seq", "\(p).totalEvents = \(totalEvents)", "\(p).batchSize = \(totalEvents)",
                      "\(p).channels = c1",
                      "\(p).interceptors = tag \(chain.map(\.0).joined(separator: " "))",
                      "\(p).interceptors.tag.type = static", "\(p).interceptors.tag.key = src",
                      "\(p).interceptors.tag.value = \(s)"]
            for (name, props) in chain {
                for (k, v) in props.sorted(by: { $0.key < $1.key }) {
                    lines.append("\(p).interceptors.\(name).\(k) = \(v)")
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Runs the agent until k1 logged `count` events; returns them by source.
    func run(_ config: String, count: Int, env: [String: String] = [:]) throws -> [String: [LoggedEvent]] {
        let agent = try AgentSetup(config).start(env: env)
        agent.waitForEvents("k1", atLeast: count)
        XCTAssertEqual(agent.stop(), 0)
        let events = agent.events(from: "k1")
        XCTAssertEqual(events.count, count, agent.log.suffix(3000).description)
        return Dictionary(grouping: events) { $0.headers["src"] ?? "?" }
    }

    /// A netcat source r1 on port 0 with `interceptors` (raw property lines
    /// below a1.sources.r1.interceptors.), logger k1.
    func netcatConfig(_ list: String, _ props: String) -> String {
        """
        a1.sources = r1
        a1.channels = c1
        a1.sinks = k1
        a1.sources.r1.type = netcat
        a1.sources.r1.bind = 127.0.0.1
        a1.sources.r1.port = 0
        a1.sources.r1.channels = c1
        a1.sources.r1.interceptors = \(list)
        \(props.split(separator: "\n").map { "a1.sources.r1.interceptors." + $0 }.joined(separator: "\n"))
        a1.channels.c1.type = memory
        a1.sinks.k1.type = logger
        a1.sinks.k1.channel = c1
        a1.sinks.k1.maxBytesToLog = 1000
        """
    }

    /// Sends `lines` (each acknowledged), then the sentinel line "END" which
    /// must pass every interceptor; returns the events logged before it.
    func sendThroughNetcat(_ config: String, _ lines: [String], env: [String: String] = [:]) throws -> [LoggedEvent] {
        let agent = try AgentSetup(config).start(env: env)
        let port = try XCTUnwrap(agent.listeningPort("r1"))
        let client = try LineClient(port: port)
        for l in lines + ["END"] {
            client.send(l + "\n")
            XCTAssertEqual(client.readLine(), "OK", "line '\(l)'")
        }
        agent.waitFor("the END sentinel at k1") { $0.contains(" END }") }
        XCTAssertEqual(agent.stop(), 0)
        var events = agent.events(from: "k1")
        XCTAssertEqual(events.last?.text, "END", "the sentinel should be logged last")
        if events.last?.text == "END" { events.removeLast() }
        return events
    }

    func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    // MARK: timestamp

    func testTimestamp() throws {
        let before = nowMillis()
        let by = try run(seqConfig(["r1", "r2", "r3", "r4"], chains: [
            "r1": [("ts", ["type": "timestamp"])],
            "r2": [("pre", ["type": "static", "key": "timestamp", "value": "42"]),
                   ("ts", ["type": "timestamp", "preserveExisting": "true"])],
            "r3": [("pre", ["type": "static", "key": "timestamp", "value": "42"]),
                   ("ts", ["type": "timestamp"])],
            "r4": [("ts", ["type": "org.apache.flume.interceptor.TimestampInterceptor$Builder", "headerName": "when"])],
        ]), count: 20)
        let after = nowMillis()
        for s in ["r1", "r3"] {
            XCTAssertEqual(by[s]?.count, 5)
            for e in by[s] ?? [] {
                let t = Int64(e.headers["timestamp"] ?? "")
                XCTAssertNotNil(t, "\(s): \(e.headers)")
                XCTAssertTrue((before...after).contains(t ?? 0), "\(s): timestamp \(t ?? 0) not within \(before)...\(after)")
            }
        }
        for e in by["r2"] ?? [] {
            XCTAssertEqual(e.headers["timestamp"], "42", "preserveExisting=true keeps the existing header")
        }
        XCTAssertEqual(by["r2"]?.count, 5)
        for e in by["r4"] ?? [] {
            XCTAssertNil(e.headers["timestamp"])
            XCTAssertTrue((before...after).contains(Int64(e.headers["when"] ?? "") ?? 0), "headerName: \(e.headers)")
        }
        XCTAssertEqual(by["r4"]?.count, 5)
    }

    // MARK: host

    func testHost() throws {
        var buf = [CChar](repeating: 0, count: 256)
        XCTAssertEqual(gethostname(&buf, 255), 0)
        let hostname = String(cString: buf)
        let by = try run(seqConfig(["r1", "r2", "r3", "r4"], chains: [
            "r1": [("h", ["type": "host", "useIP": "false"])],
            "r2": [("h", ["type": "host"])],
            "r3": [("pre", ["type": "static", "key": "host", "value": "keep"]),
                   ("h", ["type": "host", "preserveExisting": "true"])],
            "r4": [("pre", ["type": "static", "key": "host", "value": "keep"]),
                   ("h", ["type": "org.apache.flume.interceptor.HostInterceptor$Builder", "hostHeader": "origin"])],
        ]), count: 20)
        for e in by["r1"] ?? [] { XCTAssertEqual(e.headers["host"], hostname, "useIP=false gives the host name") }
        for e in by["r2"] ?? [] {
            let ip = e.headers["host"] ?? ""
            let octets = ip.split(separator: ".", omittingEmptySubsequences: false).map { Int($0) }
            XCTAssertEqual(octets.count, 4, "useIP defaults to true: an IPv4 dotted quad, got '\(ip)'")
            XCTAssertTrue(octets.allSatisfy { $0 != nil && (0...255).contains($0!) }, "not a dotted quad: '\(ip)'")
        }
        for e in by["r3"] ?? [] { XCTAssertEqual(e.headers["host"], "keep", "preserveExisting=true") }
        for e in by["r4"] ?? [] {
            XCTAssertEqual(e.headers["host"], "keep", "hostHeader=origin must leave 'host' alone")
            XCTAssertEqual(e.headers["origin"]?.split(separator: ".").count, 4, "\(e.headers)")
        }
        XCTAssertEqual(by.mapValues(\.count), ["r1": 5, "r2": 5, "r3": 5, "r4": 5])
    }

    // MARK: static

    func testStatic() throws {
        let by = try run(seqConfig(["r1", "r2", "r3", "r4"], chains: [
            "r1": [("s", ["type": "static", "key": "dc", "value": "eu-west"])],
            "r2": [("a", ["type": "static", "key": "dc", "value": "first"]),
                   ("b", ["type": "static", "key": "dc", "value": "second"])],
            "r3": [("a", ["type": "static", "key": "dc", "value": "first"]),
                   ("b", ["type": "org.apache.flume.interceptor.StaticInterceptor$Builder", "key": "dc",
                          "value": "second", "preserveExisting": "false"])],
            "r4": [("d", ["type": "static"])],
        ]), count: 20)
        for e in by["r1"] ?? [] { XCTAssertEqual(e.headers["dc"], "eu-west") }
        for e in by["r2"] ?? [] { XCTAssertEqual(e.headers["dc"], "first", "preserveExisting defaults to true") }
        for e in by["r3"] ?? [] { XCTAssertEqual(e.headers["dc"], "second", "preserveExisting=false overwrites") }
        for e in by["r4"] ?? [] { XCTAssertEqual(e.headers["key"], "value", "defaults: key=key, value=value") }
        XCTAssertEqual(by.mapValues(\.count), ["r1": 5, "r2": 5, "r3": 5, "r4": 5])
    }

    // MARK: remove_header

    func testRemoveHeader() throws {
        func headers(_ names: [String]) -> [(String, [String: String])] {
            names.map { ("set_\($0)", ["type": "static", "key": $0, "value": "v"]) }
        }
        let names = ["alpha", "beta", "gamma", "delta", "deltoid", "keep"]
        let by = try run(seqConfig(["r1", "r2", "r3", "r4"], chains: [
            "r1": headers(names) + [("rm", ["type": "remove_header", "withName": "alpha"])],
            "r2": headers(names) + [("rm", ["type": "remove_header", "fromList": "beta, gamma ,delta"])],
            "r3": headers(names) + [("rm", ["type": "remove_header", "matching": "del.*"])],
            "r4": headers(names) + [("rm", ["type": "org.apache.flume.interceptor.RemoveHeaderInterceptor$Builder",
                                            "fromList": "alpha:beta", "fromListSeparator": ":", "matching": "elt"])],
        ]), count: 20)
        func keys(_ s: String) -> Set<String> { Set(by[s]?.first?.headers.keys.map { $0 } ?? []) }
        XCTAssertEqual(keys("r1"), ["src", "beta", "gamma", "delta", "deltoid", "keep"], "withName")
        XCTAssertEqual(keys("r2"), ["src", "alpha", "deltoid", "keep"], "fromList with the default separator \\s*,\\s*")
        XCTAssertEqual(keys("r3"), ["src", "alpha", "beta", "gamma", "keep"], "matching")
        // `matching` must match the whole name: "elt" alone matches nothing.
        XCTAssertEqual(keys("r4"), ["src", "gamma", "delta", "deltoid", "keep"], "custom separator; whole-name matching")
        for (s, events) in by {
            XCTAssertEqual(events.count, 5, s)
            XCTAssertTrue(events.allSatisfy { Set($0.headers.keys) == keys(s) }, "every event of \(s) is treated alike")
        }
    }

    // MARK: uuid

    func testUUID() throws {
        let v4 = try NSRegularExpression(pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        func isV4(_ s: String) -> Bool { v4.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil }
        let by = try run(seqConfig(["r1", "r2", "r3"], totalEvents: 20, chains: [
            "r1": [("u", ["type": "org.apache.flume.sink.solr.morphline.UUIDInterceptor$Builder"])],
            "r2": [("u", ["type": "uuid", "headerName": "eventId", "prefix": "ev-"])],
            "r3": [("pre", ["type": "static", "key": "id", "value": "fixed"]),
                   ("u", ["type": "uuid"])],
        ]), count: 60)
        let ids = (by["r1"] ?? []).compactMap { $0.headers["id"] }
        XCTAssertEqual(ids.count, 20, "headerName defaults to id")
        for id in ids { XCTAssertEqual(id.count, 36); XCTAssertTrue(isV4(id), "not a lowercase v4 UUID: \(id)") }
        XCTAssertEqual(Set(ids).count, 20, "UUIDs must be unique per event")
        let prefixed = (by["r2"] ?? []).compactMap { $0.headers["eventId"] }
        XCTAssertEqual(prefixed.count, 20)
        for p in prefixed {
            XCTAssertTrue(p.hasPrefix("ev-"), p)
            XCTAssertTrue(isV4(String(p.dropFirst(3))), p)
        }
        XCTAssertTrue((by["r2"] ?? []).allSatisfy { $0.headers["id"] == nil })
        XCTAssertEqual(Set(prefixed).count, 20)
        XCTAssertEqual(Set(ids).intersection(prefixed.map { String($0.dropFirst(3)) }), [])
        XCTAssertEqual((by["r3"] ?? []).compactMap { $0.headers["id"] }, Array(repeating: "fixed", count: 20),
                       "preserveExisting defaults to true")
    }

    // MARK: regex_filter

    func testRegexFilterInclude() throws {
        let events = try sendThroughNetcat(netcatConfig("f", """
            f.type = regex_filter
            f.regex = ERROR|END
            """), ["x ERROR y", "INFO z", "ERROR at start", "error lowercase", "end ERROR"])
        XCTAssertEqual(events.map(\.text), ["x ERROR y", "ERROR at start", "end ERROR"],
                       "include mode keeps bodies where the regex is found anywhere")
    }

    func testRegexFilterExclude() throws {
        let events = try sendThroughNetcat(netcatConfig("f", """
            f.type = org.apache.flume.interceptor.RegexFilteringInterceptor$Builder
            f.regex = DEBUG
            f.excludeEvents = true
            """), ["a DEBUG b", "INFO z", "DEBUG", "WARN w"])
        XCTAssertEqual(events.map(\.text), ["INFO z", "WARN w"], "excludeEvents=true drops matching bodies")
    }

    // MARK: regex_extractor

    /// The User Guide's first example: "1:2:3.4foobar5" with (\d):(\d):(\d).
    func testRegexExtractorPassThroughSerializers() throws {
        let events = try sendThroughNetcat(netcatConfig("x", #"""
            x.type = regex_extractor
            x.regex = (\\d):(\\d):(\\d)
            x.serializers = s1 s2 s3
            x.serializers.s1.name = one
            x.serializers.s2.name = two
            x.serializers.s3.name = three
            """#), ["1:2:3.4foobar5", "no digits here"])
        XCTAssertEqual(events.count, 2)
        XCTAssertEqual(events.first?.headers, ["one": "1", "two": "2", "three": "3"])
        XCTAssertEqual(events.first?.text, "1:2:3.4foobar5", "the body is unchanged")
        XCTAssertEqual(events.last?.headers, [:], "no match: no headers")
    }

    /// A millis serializer and a pass-through one; the agent runs in UTC.
    func testRegexExtractorMillisSerializer() throws {
        let events = try sendThroughNetcat(netcatConfig("x", #"""
            x.type = regex_extractor
            x.regex = ^(\\d\\d\\d\\d-\\d\\d-\\d\\d \\d\\d:\\d\\d) (\\w+)
            x.serializers = ts lvl
            x.serializers.ts.type = org.apache.flume.interceptor.RegexExtractorInterceptorMillisSerializer
            x.serializers.ts.name = timestamp
            x.serializers.ts.pattern = yyyy-MM-dd HH:mm
            x.serializers.lvl.name = level
            """#), ["2012-10-18 18:47 WARN disk almost full", "2024-02-29 00:00 INFO leap day", "nothing here"],
            env: ["TZ": "UTC"])
        XCTAssertEqual(events.count, 3)
        // 2012-10-18T18:47Z and 2024-02-29T00:00Z.
        XCTAssertEqual(events[0].headers, ["timestamp": "1350586020000", "level": "WARN"])
        XCTAssertEqual(events[1].headers, ["timestamp": "1709164800000", "level": "INFO"])
        XCTAssertEqual(events[2].headers, [:])
    }

    /// Flume's millis serializer parses with Joda's default zone, the JVM's
    /// local one: the User Guide's example turns "2012-10-18 18:47" into
    /// 1350611220000, i.e. 18:47 in America/Los_Angeles (PDT).
    func testRegexExtractorMillisSerializerUsesLocalTimeZone() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/share/zoneinfo/America/Los_Angeles"), "no tzdata")
        let events = try sendThroughNetcat(netcatConfig("x", #"""
            x.type = regex_extractor
            x.regex = ^(?:\\n)?(\\d\\d\\d\\d-\\d\\d-\\d\\d\\s\\d\\d:\\d\\d)
            x.serializers = s1
            x.serializers.s1.type = org.apache.flume.interceptor.RegexExtractorInterceptorMillisSerializer
            x.serializers.s1.name = timestamp
            x.serializers.s1.pattern = yyyy-MM-dd HH:mm
            """#), ["2012-10-18 18:47:57,614 some log line"], env: ["TZ": "America/Los_Angeles"])
        XCTAssertEqual(events.first?.headers["timestamp"], "1350611220000")
    }

    // MARK: search_replace

    func testSearchReplaceWithGroupReference() throws {
        let events = try sendThroughNetcat(netcatConfig("r", #"""
            r.type = search_replace
            r.searchPattern = card=(\\d{4})\\d{12}
            r.replaceString = card=$1-XXXX
            """#), ["pay card=1234567812345678 ok", "two card=1111222233334444 card=5555666677778888", "none"])
        XCTAssertEqual(events.map(\.text), ["pay card=1234-XXXX ok", "two card=1111-XXXX card=5555-XXXX", "none"])
    }

    func testSearchReplaceDefaultsAndChainingOnSeq() throws {
        // seq bodies are digits: search_replace first turns them into text the
        // next search_replace (empty replaceString: delete) works on.
        let by = try run(seqConfig(["r1"], chains: [
            "r1": [("words", ["type": "search_replace", "searchPattern": "^([0-9]+)$", "replaceString": "item-$1-secret"]),
                   ("del", ["type": "org.apache.flume.interceptor.SearchAndReplaceInterceptor$Builder",
                            "searchPattern": "-secret"])],
        ]), count: 5)
        XCTAssertEqual((by["r1"] ?? []).map(\.text).sorted(), ["item-0", "item-1", "item-2", "item-3", "item-4"])
    }

    func testSearchReplaceSwapsGroupsEverywhere() throws {
        let events = try sendThroughNetcat(netcatConfig("r", #"""
            r.type = search_replace
            r.searchPattern = ([a-z])(\\d)
            r.replaceString = $2$1
            """#), ["a1 b2 c3"])
        XCTAssertEqual(events.map(\.text), ["1a 2b 3c"])
    }

    // MARK: defaults and edge cases

    func testRegexFilterDefaultsKeepEverythingAndExcludeDropsEverything() throws {
        let setup = try AgentSetup(seqConfig(["r1", "r2"], chains: [
            "r1": [("f", ["type": "regex_filter"])],
            "r2": [("f", ["type": "regex_filter", "excludeEvents": "true"])],
        ]))
        let agent = try setup.start(["--monitoring-type", "http", "--monitoring-port", "0"])
        let port = try XCTUnwrap(agent.metricsPort())
        let deadline = Date().addingTimeInterval(20)
        var m: [String: [String: String]] = [:]
        while Date() < deadline {
            m = try fetchMetricsJSON(port: port)
            if m["SOURCE.r1"]?["EventAcceptedCount"] == "5", m["SOURCE.r2"]?["EventAcceptedCount"] == "5",
               m["SINK.k1"]?["EventDrainSuccessCount"] == "5" { break }
            usleep(50_000)
        }
        XCTAssertEqual(m["SOURCE.r2"]?["EventAcceptedCount"], "5", "r2's batch was submitted: \(m)")
        XCTAssertEqual(m["CHANNEL.c1"]?["EventPutSuccessCount"], "5", "only r1's events enter the channel")
        XCTAssertEqual(agent.stop(), 0)
        let events = agent.events(from: "k1")
        XCTAssertEqual(events.count, 5)
        XCTAssertTrue(events.allSatisfy { $0.headers["src"] == "r1" }, "regex .* with excludeEvents drops every event")
    }

    func testRegexExtractorUsesFirstMatchOnly() throws {
        let events = try sendThroughNetcat(netcatConfig("x", #"""
            x.type = regex_extractor
            x.regex = k=(\\d+)
            x.serializers = s
            x.serializers.s.name = k
            """#), ["k=1 k=2 k=3"])
        XCTAssertEqual(events.first?.headers, ["k": "1"], "Flume uses the first match (Matcher.find once)")
    }

    func testUUIDPreserveExistingFalseOverwrites() throws {
        let by = try run(seqConfig(["r1"], chains: [
            "r1": [("pre", ["type": "static", "key": "id", "value": "fixed"]),
                   ("u", ["type": "uuid", "preserveExisting": "false"])],
        ]), count: 5)
        for e in by["r1"] ?? [] {
            XCTAssertNotEqual(e.headers["id"], "fixed")
            XCTAssertEqual(e.headers["id"]?.count, 36)
        }
    }

    func testRemoveHeaderWithoutOptionsChangesNothing() throws {
        let by = try run(seqConfig(["r1"], chains: [
            "r1": [("a", ["type": "static", "key": "alpha", "value": "1"]), ("rm", ["type": "remove_header"])],
        ]), count: 5)
        for e in by["r1"] ?? [] { XCTAssertEqual(e.headers, ["src": "r1", "alpha": "1"]) }
    }
}
