import XCTest
@testable import SluiceConfig

/// Parses `text` as agent.conf and returns agent `agent`'s definition.
func parseAgent(_ text: String, agent: String = "a1", environment: [String: String] = [:],
                file: String = "agent.conf") throws -> AgentDefinition {
    let properties = try PropertiesFile.parse(text, file: file)
    return try AgentConfigParser.parse(properties, agent: agent, environment: environment)
}

/// The error diagnostics thrown for `text`; fails the test when parsing succeeds.
func parseErrors(_ text: String, agent: String = "a1", environment: [String: String] = [:],
                 file: StaticString = #filePath, line: UInt = #line) -> [ConfigDiagnostic] {
    do {
        let definition = try parseAgent(text, agent: agent, environment: environment)
        XCTFail("expected a ConfigError, got agent with \(definition.sources.count) sources", file: file, line: line)
        return []
    } catch let error as ConfigError {
        return error.diagnostics
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
        return []
    }
}

/// The 1-based line in `text` where the property `key` is written (independent of the parser).
func lineOf(_ key: String, in text: String) -> Int {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    for (index, raw) in lines.enumerated() {
        let content = raw.drop(while: { $0 == " " })
        if content.hasPrefix(key + " ") || content.hasPrefix(key + "=") || content == Substring(key) {
            return index + 1
        }
    }
    XCTFail("key \(key) not in test text")
    return -1
}

/// Asserts that exactly one diagnostic has `key`, that it is on `line` of agent.conf and that
/// its message contains `message`.
func assertDiagnostic(_ diagnostics: [ConfigDiagnostic], key: String?, line: Int, contains message: String,
                      severity: ConfigDiagnostic.Severity = .error,
                      file: StaticString = #filePath, testLine: UInt = #line) {
    let matching = diagnostics.filter { $0.key == key && $0.message.contains(message) }
    guard matching.count == 1, let found = matching.first else {
        XCTFail("expected one diagnostic for \(key ?? "nil") containing \"\(message)\"; got:\n"
                + diagnostics.map(\.description).joined(separator: "\n"), file: file, line: testLine)
        return
    }
    XCTAssertEqual(found.location, SourceLocation(file: "agent.conf", line: line), file: file, line: testLine)
    XCTAssertEqual(found.severity, severity, file: file, line: testLine)
    if let key {
        XCTAssertTrue(found.description.hasPrefix("agent.conf:\(line): \(key): "),
                      found.description, file: file, line: testLine)
    }
}

/// A small valid agent used as a base by error tests.
let minimalAgent = """
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = netcat
a1.sources.r1.bind = localhost
a1.sources.r1.port = 44444
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = logger
a1.sinks.k1.channel = c1
"""

extension String {
    /// Replaces every occurrence of `target` (test helper; avoids Foundation).
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        var result = ""
        var rest = Substring(self)
        while !rest.isEmpty {
            if rest.hasPrefix(target) {
                result += replacement
                rest = rest.dropFirst(target.count)
            } else {
                result.append(rest.removeFirst())
            }
        }
        return result
    }
}
