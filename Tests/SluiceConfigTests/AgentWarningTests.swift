import XCTest
@testable import SluiceConfig

final class AgentWarningTests: XCTestCase {
    private func warnings(_ extra: String) throws -> [ConfigDiagnostic] {
        try parseAgent(minimalAgent + "\n" + extra).warnings
    }

    func testUnknownPropertiesAreWarnedWithKeyAndLine() throws {
        let list = try warnings("""
        a1.source = r1
        a1.sources.r1 = oops
        a1.sinkgroups.
        a1.stuff.x.y = 1
        """)
        assertDiagnostic(list, key: "a1.source", line: 11, contains: "unknown property", severity: .warning)
        assertDiagnostic(list, key: "a1.sources.r1", line: 12, contains: "unknown property", severity: .warning)
        assertDiagnostic(list, key: "a1.stuff.x.y", line: 14, contains: "unknown property", severity: .warning)
        // "a1.sinkgroups." has an empty value: ignored with its own warning.
        assertDiagnostic(list, key: "a1.sinkgroups.", line: 13, contains: "empty value", severity: .warning)
        XCTAssertEqual(list.count, 4)
    }

    func testUnlistedComponentsAreIgnoredWithAWarning() throws {
        let text = minimalAgent + """

        a1.sources.r9.type = netcat
        a1.sources.r9.port = 1
        a1.channels.c9.type = memory
        a1.sinks.k9.type = logger
        """
        let agent = try parseAgent(text)
        XCTAssertEqual(agent.sources.map(\.component.name), ["r1"])
        XCTAssertEqual(agent.channels.map(\.name), ["c1"])
        assertDiagnostic(agent.warnings, key: "a1.sources.r9.type", line: 11,
                         contains: "source 'r9' is not listed in a1.sources; its properties are ignored", severity: .warning)
        assertDiagnostic(agent.warnings, key: "a1.channels.c9.type", line: 13,
                         contains: "channel 'c9' is not listed in a1.channels", severity: .warning)
        assertDiagnostic(agent.warnings, key: "a1.sinks.k9.type", line: 14,
                         contains: "sink 'k9' is not listed in a1.sinks", severity: .warning)
        XCTAssertEqual(agent.warnings.count, 3, "one warning per unlisted component, not per key")
    }

    func testEmptyValueIsIgnoredWithAWarning() throws {
        let agent = try parseAgent(minimalAgent + "\na1.sources.r1.batchSize =   \n")
        XCTAssertNil(agent.sources[0].component.properties["batchSize"])
        assertDiagnostic(agent.warnings, key: "a1.sources.r1.batchSize", line: 11, contains: "empty value", severity: .warning)
    }

    func testEmptyChannelsValueMeansMissingChannels() {
        let text = minimalAgent.replacingOccurrences("a1.sources.r1.channels = c1", "a1.sources.r1.channels =")
        let errors = parseErrors(text)
        assertDiagnostic(errors, key: "a1.sources.r1.channels", line: 4, contains: "missing channels")
    }

    func testUnlistedInterceptorIsWarned() throws {
        let agent = try parseAgent(minimalAgent + """

        a1.sources.r1.interceptors = i1
        a1.sources.r1.interceptors.i1.type = static
        a1.sources.r1.interceptors.i1.key = datacenter
        a1.sources.r1.interceptors.i1.value = NEW_YORK
        a1.sources.r1.interceptors.i2.type = timestamp
        """)
        XCTAssertEqual(agent.sources[0].interceptors.map(\.name), ["i1"])
        XCTAssertEqual(agent.sources[0].interceptors[0].properties, ["key": "datacenter", "value": "NEW_YORK"])
        assertDiagnostic(agent.warnings, key: "a1.sources.r1.interceptors.i2.type", line: 15,
                         contains: "interceptor 'i2' is not listed in a1.sources.r1.interceptors", severity: .warning)
    }

    func testRepeatedComponentKeyKeepsLastValueAndWarns() throws {
        let agent = try parseAgent(minimalAgent + "\na1.sources.r1.port = 5555\n")
        XCTAssertEqual(agent.sources[0].component.properties["port"], "5555")
        XCTAssertEqual(agent.sources[0].component.keyLocations["port"]?.line, 11)
        assertDiagnostic(agent.warnings, key: "a1.sources.r1.port", line: 11,
                         contains: "overrides the value set at line 6", severity: .warning)
    }

    func testNameListedTwiceIsWarnedAndKeptOnce() throws {
        let text = minimalAgent.replacingOccurrences("a1.channels = c1", "a1.channels = c1  c1")
        let agent = try parseAgent(text)
        XCTAssertEqual(agent.channels.map(\.name), ["c1"])
        assertDiagnostic(agent.warnings, key: "a1.channels", line: 2, contains: "'c1' is listed more than once", severity: .warning)
    }

    func testChannelsOnlyAgentIsAcceptedWithAWarning() throws {
        let agent = try parseAgent("a1.channels = c1\na1.channels.c1.type = memory\n")
        XCTAssertEqual(agent.channels.count, 1)
        assertDiagnostic(agent.warnings, key: "a1.channels", line: 1, contains: "no sources or sinks", severity: .warning)
    }

    func testWarningsAreInLineOrder() throws {
        let agent = try parseAgent("a1.zzz = 1\n" + minimalAgent + "\na1.aaa = 2\n")
        XCTAssertEqual(agent.warnings.map { $0.location?.line ?? 0 }, [1, 12])
    }
}
