import XCTest
@testable import SluiceConfig

final class InterpolationTests: XCTestCase {
    private func port(_ line: String, environment: [String: String] = [:], extra: String = "") throws -> String? {
        let text = minimalAgent.replacingOccurrences("a1.sources.r1.port = 44444", line) + extra
        return try parseAgent(text, environment: environment).sources[0].component.properties["port"]
    }

    func testEnvironmentVariable() throws {
        XCTAssertEqual(try port("a1.sources.r1.port = ${env:NC_PORT}", environment: ["NC_PORT": "6000"]), "6000")
        XCTAssertEqual(try port("a1.sources.r1.port = 1${env:A}-${env:B}2", environment: ["A": "x", "B": "y"]), "1x-y2")
    }

    func testMissingEnvironmentVariableIsAnErrorNamingTheKey() {
        let text = minimalAgent.replacingOccurrences("a1.sources.r1.port = 44444", "a1.sources.r1.port = ${env:NC_PORT}")
        let errors = parseErrors(text)
        assertDiagnostic(errors, key: "a1.sources.r1.port", line: 6, contains: "environment variable 'NC_PORT' is not set")
    }

    func testReferenceToAnotherKeyOfTheFile() throws {
        let extra = """

        common.port = ${common.base}1
        common.base = 900
        """
        XCTAssertEqual(try port("a1.sources.r1.port = ${common.port}", extra: extra), "9001")
        XCTAssertEqual(try port("a1.sources.r1.port = ${a1.sources.r1.bind}:1"), "localhost:1")
    }

    func testReferenceUsesTheLastValueOfARepeatedKey() throws {
        XCTAssertEqual(try port("a1.sources.r1.port = ${x.p}", extra: "\nx.p = 1\nx.p = 2\n"), "2")
    }

    func testInterpolatedListKeysAndTypes() throws {
        let text = minimalAgent
            .replacingOccurrences("a1.channels = c1", "a1.channels = ${env:CHANNELS}")
            .replacingOccurrences("a1.channels.c1.type = memory", "a1.channels.c1.type = ${env:CHANNEL_TYPE}")
        let agent = try parseAgent(text, environment: ["CHANNELS": "c1", "CHANNEL_TYPE": "file"])
        XCTAssertEqual(agent.channels.map(\.type), ["file"])
    }

    func testCyclicReferenceIsAnError() {
        let text = minimalAgent.replacingOccurrences("a1.sources.r1.port = 44444", "a1.sources.r1.port = ${x.a}")
            + "\nx.a = ${x.b}\nx.b = ${x.a}\n"
        let errors = parseErrors(text)
        XCTAssertEqual(errors.count, 1)
        XCTAssertTrue(errors.first?.message.contains("cyclic reference") ?? false, "\(errors)")
        XCTAssertEqual(errors.first?.location?.line, 12)
        XCTAssertEqual(errors.first?.key, "x.b")
    }

    func testUndefinedReferenceIsLeftAsIsWithAWarning() throws {
        let text = minimalAgent.replacingOccurrences("a1.sources.r1.port = 44444", "a1.sources.r1.port = ${nope}")
        let agent = try parseAgent(text)
        XCTAssertEqual(agent.sources[0].component.properties["port"], "${nope}")
        assertDiagnostic(agent.warnings, key: "a1.sources.r1.port", line: 6, contains: "'${nope}' names no property",
                         severity: .warning)
    }

    func testUnsupportedLookupIsLeftAsIs() throws {
        XCTAssertEqual(try port("a1.sources.r1.port = ${sys:user.home}"), "${sys:user.home}")
    }

    func testDoubleDollarIsNotAnEscapeAndUnterminatedIsKept() throws {
        XCTAssertEqual(try port("a1.sources.r1.port = $${env:P}", environment: ["P": "7"]), "$7")
        XCTAssertEqual(try port("a1.sources.r1.port = ${env:P", environment: ["P": "7"]), "${env:P")
        XCTAssertEqual(try port("a1.sources.r1.port = $ {env:P} $", environment: ["P": "7"]), "$ {env:P} $")
    }

    func testInterpolatedValueIsNotRescanned() throws {
        XCTAssertEqual(try port("a1.sources.r1.port = ${env:P}", environment: ["P": "${env:Q}", "Q": "no"]), "${env:Q}")
    }

    func testEnvConfigFilterInAllThreeSyntaxes() throws {
        let text = """
        a1.configfilters = f1
        a1.configfilters.f1.type = env
        a1.channels = c1
        a1.channels.c1.type = memory
        a1.channels.c1.a = ${f1['DB_PASSWORD']}
        a1.channels.c1.b = ${f1["DB_USER"]}
        a1.channels.c1.c = x${f1[DB_USER]}y
        """
        let agent = try parseAgent(text, environment: ["DB_PASSWORD": "s3cret", "DB_USER": "flume"])
        XCTAssertEqual(agent.channels[0].properties, ["a": "s3cret", "b": "flume", "c": "xflumey"])
        XCTAssertFalse(agent.warnings.contains { $0.key?.hasPrefix("a1.configfilters") ?? false })
    }

    func testEnvConfigFilterByClassNameAndMissingVariable() {
        let text = """
        a1.configfilters = f1
        a1.configfilters.f1.type = org.apache.flume.configfilter.EnvironmentVariableConfigFilter
        a1.channels = c1
        a1.channels.c1.type = memory
        a1.channels.c1.password = ${f1['MISSING']}
        """
        let errors = parseErrors(text)
        assertDiagnostic(errors, key: "a1.channels.c1.password", line: 5, contains: "environment variable 'MISSING' is not set")
        XCTAssertEqual(errors.count, 1)
    }

    func testUnsupportedConfigFilterType() {
        let text = """
        a1.channels = c1
        a1.channels.c1.type = memory
        a1.configfilters = f1 f2
        a1.configfilters.f1.type = hadoop
        a1.configfilters.f2.command = /bin/secret
        """
        let errors = parseErrors(text)
        assertDiagnostic(errors, key: "a1.configfilters.f1.type", line: 4, contains: "unsupported config filter type 'hadoop'")
        assertDiagnostic(errors, key: "a1.configfilters.f2.type", line: 5, contains: "missing type for config filter 'f2'")
    }

    func testReferenceToUndefinedFilterIsLeftAsIs() throws {
        let text = minimalAgent.replacingOccurrences("a1.sources.r1.port = 44444", "a1.sources.r1.port = ${f9['X']}")
        let agent = try parseAgent(text, environment: ["X": "1"])
        XCTAssertEqual(agent.sources[0].component.properties["port"], "${f9['X']}")
        assertDiagnostic(agent.warnings, key: "a1.sources.r1.port", line: 6, contains: "'f9' is not an env config filter",
                         severity: .warning)
    }
}
