import XCTest
@testable import SluiceConfig

/// `minimalAgent` plus extra lines.
private func withLines(_ extra: String) -> String {
    minimalAgent + "\n" + extra
}

final class AgentErrorTests: XCTestCase {
    func testMinimalAgentIsValid() throws {
        let agent = try parseAgent(minimalAgent)
        XCTAssertEqual(agent.sources.count, 1)
        XCTAssertEqual(agent.warnings.count, 0)
    }

    func testNoPropertiesForAgentListsOtherAgents() {
        let text = "b1.sources = r1\na2.sinks = k1\nb1.channels = c1\n# a1.sources = r1\n"
        let errors = parseErrors(text)
        XCTAssertEqual(errors.count, 1)
        XCTAssertEqual(errors.first?.message, "no properties for agent 'a1' (agents found in the file: a2, b1)")
        XCTAssertEqual(errors.first?.description,
                       "agent.conf: no properties for agent 'a1' (agents found in the file: a2, b1)")
    }

    func testDuplicateListKey() {
        let text = withLines("a1.sources = r1")
        let errors = parseErrors(text)
        assertDiagnostic(errors, key: "a1.sources", line: 11, contains: "duplicate property (also set at line 1)")
    }

    func testListedComponentsWithoutProperties() {
        let text = """
        a1.sources = r1 r2
        a1.channels = c1 c2
        a1.sinks = k1 k2
        a1.sinkgroups = g1
        a1.services = s1
        a1.sources.r1.type = seq
        a1.sources.r1.channels = c1
        a1.channels.c1.type = memory
        a1.sinks.k1.type = logger
        a1.sinks.k1.channel = c1
        """
        let errors = parseErrors(text)
        assertDiagnostic(errors, key: "a1.sources", line: 1, contains: "source 'r2' is listed in a1.sources but has no properties")
        assertDiagnostic(errors, key: "a1.channels", line: 2, contains: "channel 'c2' is listed in a1.channels but has no properties")
        assertDiagnostic(errors, key: "a1.sinks", line: 3, contains: "sink 'k2' is listed in a1.sinks but has no properties")
        assertDiagnostic(errors, key: "a1.sinkgroups", line: 4, contains: "sink group 'g1' is listed in a1.sinkgroups but has no properties")
        assertDiagnostic(errors, key: "a1.services", line: 5, contains: "service 's1' is listed in a1.services but has no properties")
        XCTAssertEqual(errors.count, 5)
        XCTAssertEqual(errors.map { $0.location?.line ?? 0 }, [1, 2, 3, 4, 5], "sorted by line")
    }

    func testMissingTypes() {
        let text = """
        a1.sources = r1
        a1.channels = c1
        a1.sinks = k1
        a1.services = s1
        a1.sources.r1.channels = c1
        a1.channels.c1.capacity = 10
        a1.sinks.k1.channel = c1
        a1.services.s1.port = 2181
        """
        let errors = parseErrors(text)
        assertDiagnostic(errors, key: "a1.sources.r1.type", line: 5, contains: "missing type for source 'r1'")
        assertDiagnostic(errors, key: "a1.channels.c1.type", line: 6, contains: "missing type for channel 'c1'")
        assertDiagnostic(errors, key: "a1.sinks.k1.type", line: 7, contains: "missing type for sink 'k1'")
        assertDiagnostic(errors, key: "a1.services.s1.type", line: 8, contains: "missing type for service 's1'")
        XCTAssertEqual(errors.count, 4)
    }

    func testSourceWithoutChannels() {
        let text = minimalAgent.split(separator: "\n").filter { !$0.hasPrefix("a1.sources.r1.channels") }
            .joined(separator: "\n")
        let errors = parseErrors(text)
        assertDiagnostic(errors, key: "a1.sources.r1.channels", line: lineOf("a1.sources.r1.type", in: text),
                         contains: "missing channels for source 'r1'")
        XCTAssertEqual(errors.count, 1)
    }

    func testSourceUsingSingularChannelGetsAHint() {
        let text = minimalAgent.replacingOccurrences("a1.sources.r1.channels", "a1.sources.r1.channel")
        let errors = parseErrors(text)
        assertDiagnostic(errors, key: "a1.sources.r1.channels", line: 4, contains: "sources take 'channels', plural")
    }

    func testSourceNamesUnlistedChannel() {
        let text = minimalAgent.replacingOccurrences("a1.sources.r1.channels = c1", "a1.sources.r1.channels = c1 c9")
        let errors = parseErrors(text)
        assertDiagnostic(errors, key: "a1.sources.r1.channels", line: 7, contains: "channel 'c9' is not listed in a1.channels")
        XCTAssertEqual(errors.count, 1)
    }

    func testSelectorChannelsMustBelongToTheSource() {
        let text = """
        a1.sources = r1
        a1.channels = c1 c2 c3
        a1.sources.r1.type = netcat
        a1.sources.r1.channels = c1 c2
        a1.sources.r1.selector.type = multiplexing
        a1.sources.r1.selector.header = state
        a1.sources.r1.selector.mapping.CA = c1 c3
        a1.sources.r1.selector.default = c9
        a1.sources.r1.selector.optional.CA = c3
        a1.sources.r1.selector.optional = c2
        a1.channels.c1.type = memory
        a1.channels.c2.type = memory
        a1.channels.c3.type = memory
        """
        let errors = parseErrors(text)
        assertDiagnostic(errors, key: "a1.sources.r1.selector.mapping.CA", line: 7, contains: "channel 'c3' is not a channel of source 'r1'")
        assertDiagnostic(errors, key: "a1.sources.r1.selector.default", line: 8, contains: "channel 'c9' is not a channel of source 'r1'")
        assertDiagnostic(errors, key: "a1.sources.r1.selector.optional.CA", line: 9, contains: "channel 'c3'")
        XCTAssertEqual(errors.count, 3, "selector.optional = c2 is fine")
    }

    func testReplicatingSelectorOptionalIsChecked() {
        let errors = parseErrors(withLines("a1.sources.r1.selector.optional = c2"))
        assertDiagnostic(errors, key: "a1.sources.r1.selector.optional", line: 11, contains: "channel 'c2' is not a channel of source 'r1'")
    }

    func testInterceptorWithoutType() {
        let text = withLines("""
        a1.sources.r1.interceptors = i1 i2
        a1.sources.r1.interceptors.i1.type = timestamp
        a1.sources.r1.interceptors.i2.headerName = ts
        """)
        let errors = parseErrors(text)
        assertDiagnostic(errors, key: "a1.sources.r1.interceptors.i2.type", line: 13, contains: "missing type for interceptor 'i2'")
        XCTAssertEqual(errors.count, 1)
    }

    func testInterceptorWithoutAnyKeysIsReportedAtTheList() {
        let errors = parseErrors(withLines("a1.sources.r1.interceptors = i1"))
        assertDiagnostic(errors, key: "a1.sources.r1.interceptors.i1.type", line: 11, contains: "missing type for interceptor 'i1'")
    }

    func testSinkWithoutChannel() {
        let text = minimalAgent.replacingOccurrences("a1.sinks.k1.channel = c1", "a1.sinks.k1.batchSize = 10")
        let errors = parseErrors(text)
        assertDiagnostic(errors, key: "a1.sinks.k1.channel", line: 9, contains: "missing channel for sink 'k1'")
    }

    func testSinkUsingPluralChannelsGetsAHint() {
        let text = minimalAgent.replacingOccurrences("a1.sinks.k1.channel", "a1.sinks.k1.channels")
        let errors = parseErrors(text)
        assertDiagnostic(errors, key: "a1.sinks.k1.channel", line: 9, contains: "sinks take 'channel', singular")
    }

    func testSinkWithSeveralChannels() {
        let text = minimalAgent.replacingOccurrences("a1.sinks.k1.channel = c1", "a1.sinks.k1.channel = c1 c2")
        let errors = parseErrors(text)
        assertDiagnostic(errors, key: "a1.sinks.k1.channel", line: 10, contains: "exactly one channel, found 2: c1 c2")
    }

    func testSinkWithUnlistedChannel() {
        let text = minimalAgent.replacingOccurrences("a1.sinks.k1.channel = c1", "a1.sinks.k1.channel = c9")
        let errors = parseErrors(text)
        assertDiagnostic(errors, key: "a1.sinks.k1.channel", line: 10, contains: "channel 'c9' is not listed in a1.channels")
    }

    func testSinkGroupErrors() {
        let text = withLines("""
        a1.sinkgroups = g1 g2 g3
        a1.sinkgroups.g1.sinks = k1 k9
        a1.sinkgroups.g2.sinks = k1
        a1.sinkgroups.g3.processor.type = failover
        """)
        let errors = parseErrors(text)
        assertDiagnostic(errors, key: "a1.sinkgroups.g1.sinks", line: 12, contains: "sink 'k9' is not listed in a1.sinks")
        assertDiagnostic(errors, key: "a1.sinkgroups.g2.sinks", line: 13, contains: "sink 'k1' is already in sink group 'g1'")
        assertDiagnostic(errors, key: "a1.sinkgroups.g3.sinks", line: 14, contains: "missing sinks for sink group 'g3'")
        XCTAssertEqual(errors.count, 3)
    }

    func testSourcesWithoutChannelsList() {
        let text = """
        a1.sources = r1
        a1.sinks = k1
        a1.sources.r1.type = netcat
        a1.sources.r1.channels = c1
        a1.sinks.k1.type = logger
        a1.sinks.k1.channel = c1
        """
        let errors = parseErrors(text)
        assertDiagnostic(errors, key: "a1.sources", line: 1, contains: "has sources but no channels")
        assertDiagnostic(errors, key: "a1.sources.r1.channels", line: 4, contains: "channel 'c1' is not listed in a1.channels")
        assertDiagnostic(errors, key: "a1.sinks.k1.channel", line: 6, contains: "channel 'c1' is not listed in a1.channels")
    }

    func testSinksWithoutChannelsList() {
        let errors = parseErrors("a1.sinks = k1\na1.sinks.k1.type = null\na1.sinks.k1.channel = c1\n")
        assertDiagnostic(errors, key: "a1.sinks", line: 1, contains: "has sinks but no channels")
    }

    func testAgentWithNothingDefined() {
        let errors = parseErrors("# only junk\na1.foo = bar\na1.sources.r1.type = netcat\n")
        XCTAssertEqual(errors.count, 1)
        XCTAssertEqual(errors.first?.location, SourceLocation(file: "agent.conf", line: 2))
        XCTAssertTrue(errors.first?.message.contains("defines no sources, channels, sinks or services") ?? false)
    }

    func testAllErrorsAreReportedTogetherInLineOrder() {
        let text = """
        a1.sources = r1
        a1.channels = c1
        a1.sinks = k1 k2
        a1.sources.r1.type = netcat
        a1.sources.r1.channels = c7
        a1.channels.c1.type = memory
        a1.sinks.k1.type = logger
        a1.sinks.k1.channel = c8
        a1.sinks.k2.channel = c1
        """
        let errors = parseErrors(text)
        XCTAssertEqual(errors.map(\.description), [
            "agent.conf:5: a1.sources.r1.channels: channel 'c7' is not listed in a1.channels",
            "agent.conf:8: a1.sinks.k1.channel: channel 'c8' is not listed in a1.channels",
            "agent.conf:9: a1.sinks.k2.type: missing type for sink 'k2'",
        ])
        let joined = ConfigError(diagnostics: errors).description
        XCTAssertEqual(joined.split(separator: "\n").count, 3)
    }
}
