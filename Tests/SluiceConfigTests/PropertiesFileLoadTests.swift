import XCTest
@testable import SluiceConfig
#if canImport(Glibc)
import Glibc
#endif

final class PropertiesFileLoadTests: XCTestCase {
    func testLoadsAFileFromDisk() throws {
        var template = Array("/tmp/sluice-config-test-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let path = String(cString: template)
        defer { unlink(path) }
        let bytes = Array("# test\na1.channels = c1\na1.channels.c1.type = memory\n".utf8)
        XCTAssertEqual(write(fd, bytes, bytes.count), bytes.count)
        close(fd)

        let file = try PropertiesFile.load(path: path)
        XCTAssertEqual(file.file, path)
        XCTAssertEqual(file.entries, [
            PropertiesFile.Entry(key: "a1.channels", value: "c1", line: 2),
            PropertiesFile.Entry(key: "a1.channels.c1.type", value: "memory", line: 3),
        ])
    }

    func testMissingFileNamesPathAndReason() {
        let path = "/nonexistent/sluice/agent.conf"
        XCTAssertThrowsError(try PropertiesFile.load(path: path)) { error in
            guard let error = error as? ConfigError else { return XCTFail("not a ConfigError: \(error)") }
            XCTAssertEqual(error.diagnostics.count, 1)
            XCTAssertEqual(error.diagnostics.first?.location?.file, path)
            XCTAssertTrue(error.description.contains(path), error.description)
            XCTAssertTrue(error.description.contains("No such file or directory"), error.description)
        }
    }

    func testDirectoryIsUnreadable() {
        XCTAssertThrowsError(try PropertiesFile.load(path: "/tmp")) { error in
            XCTAssertTrue("\(error)".contains("Is a directory"), "\(error)")
        }
    }
}
