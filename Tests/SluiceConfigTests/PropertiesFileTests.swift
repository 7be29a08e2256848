import XCTest
@testable import SluiceConfig

final class PropertiesFileTests: XCTestCase {
    private func entries(_ text: String) throws -> [PropertiesFile.Entry] {
        try PropertiesFile.parse(text, file: "agent.conf").entries
    }

    private func pairs(_ text: String) throws -> [String] {
        try entries(text).map { "\($0.key)=\($0.value)@\($0.line)" }
    }

    func testCommentsAndBlankLinesAreSkippedButCounted() throws {
        let text = """
        # a comment
          ! another comment, indented

        a1.sources = r1
        \t
        a1.channels = c1
        """
        XCTAssertEqual(try pairs(text), ["a1.sources=r1@4", "a1.channels=c1@6"])
    }

    func testSeparators() throws {
        let text = """
        k1=v1
        k2:v2
        k3 v3
        k4 = v4
        k5   :   v5
        k6\t\tv6
        k7 = = v7
        k8 : v8:with:colons=and=equals
        k9
        """
        XCTAssertEqual(try pairs(text), [
            "k1=v1@1", "k2=v2@2", "k3=v3@3", "k4=v4@4", "k5=v5@5", "k6=v6@6",
            "k7== v7@7", "k8=v8:with:colons=and=equals@8", "k9=@9",
        ])
    }

    func testContinuationJoinsLinesAndKeepsStartLine() throws {
        let text = """
        a1.sources.r1.command = tail \\
            -F \\
            /var/log/app.log
        a1.next = x
        """
        XCTAssertEqual(try pairs(text), ["a1.sources.r1.command=tail -F /var/log/app.log@1", "a1.next=x@4"])
    }

    func testEvenNumberOfBackslashesDoesNotContinue() throws {
        let text = """
        path = C:\\\\dir\\\\
        other = y
        three = a\\\\\\
          b
        """
        // "C:\\dir\\" holds two escaped backslashes; "a\\\" ends in three (odd) so it continues.
        XCTAssertEqual(try pairs(text), ["path=C:\\dir\\@1", "other=y@2", "three=a\\b@3"])
    }

    func testCommentLineEndingInBackslashDoesNotContinue() throws {
        let text = "# comment \\\nkey = value\n"
        XCTAssertEqual(try pairs(text), ["key=value@2"])
    }

    func testContinuationLineStartingWithHashIsNotAComment() throws {
        let text = "key = a \\\n  #b\n"
        XCTAssertEqual(try pairs(text), ["key=a #b@1"])
    }

    func testTrailingBackslashAtEndOfInputIsDropped() throws {
        XCTAssertEqual(try pairs("key = value\\"), ["key=value@1"])
    }

    func testEscapesInValues() throws {
        let text = #"""
        tab = a\tb
        newline = a\nb
        cr = a\rb
        ff = a\fb
        backslash = a\\b
        sep = a\=b\:c
        other = \q\!
        unicode = caf\u00e9 \u00C9
        emoji = \uD83D\uDE00
        """#
        let values = try entries(text).map(\.value)
        XCTAssertEqual(values, ["a\tb", "a\nb", "a\rb", "a\u{0C}b", "a\\b", "a=b:c", "q!", "café É", "😀"])
    }

    func testEscapedSeparatorsAndSpacesInKeys() throws {
        let text = #"""
        key\ with\ spaces = 1
        a\=b = 2
        c\:d:3
        """#
        XCTAssertEqual(try pairs(text), ["key with spaces=1@1", "a=b=2@2", "c:d=3@3"])
    }

    func testKeysAndValuesAreTrimmed() throws {
        let text = "   a1.sinks = k1   \nb = x\\t\n"
        // Flume trims after unescaping, so even an escaped trailing tab goes.
        XCTAssertEqual(try pairs(text), ["a1.sinks=k1@1", "b=x@2"])
    }

    func testCRLFAndCRLineEndingsCountLines() throws {
        let text = "a = 1\r\nb = 2\rc = 3\n\r\nd = 4"
        XCTAssertEqual(try pairs(text), ["a=1@1", "b=2@2", "c=3@3", "d=4@5"])
    }

    func testByteOrderMarkIsIgnored() throws {
        XCTAssertEqual(try pairs("\u{FEFF}a1.sources = r1"), ["a1.sources=r1@1"])
    }

    func testDuplicateKeysAreAllKeptInOrder() throws {
        XCTAssertEqual(try pairs("a = 1\nb = 2\na = 3"), ["a=1@1", "b=2@2", "a=3@3"])
    }

    func testMalformedUnicodeEscapeNamesTheLine() {
        let text = "ok = 1\n\nbad = \\u12G4\n"
        XCTAssertThrowsError(try PropertiesFile.parse(text, file: "agent.conf")) { error in
            guard let error = error as? ConfigError else { return XCTFail("not a ConfigError: \(error)") }
            XCTAssertEqual(error.diagnostics.count, 1)
            XCTAssertEqual(error.diagnostics.first?.location, SourceLocation(file: "agent.conf", line: 3))
            XCTAssertTrue(error.description.hasPrefix("agent.conf:3: malformed \\uXXXX"), error.description)
        }
    }

    func testUnpairedSurrogateIsRejected() {
        XCTAssertThrowsError(try PropertiesFile.parse("x = \\uD83D!", file: "agent.conf")) { error in
            XCTAssertTrue("\(error)".contains("unpaired surrogate"), "\(error)")
        }
    }

    func testTruncatedUnicodeEscapeIsRejected() {
        XCTAssertThrowsError(try PropertiesFile.parse("x = \\u12", file: "agent.conf"))
    }
}
