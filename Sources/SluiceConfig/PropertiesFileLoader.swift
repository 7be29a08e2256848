// Reading a properties file from disk with plain libc calls.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension PropertiesFile {
    /// Reads and parses the file at `path` (decoded as UTF-8).
    /// A missing or unreadable file throws a `ConfigError` naming the path and the system error.
    public static func load(path: String) throws -> PropertiesFile {
        let bytes = try readAllBytes(path: path)
        let text = String(decoding: bytes, as: UTF8.self)
        return try parse(text, file: path)
    }

    private static func readFailure(_ path: String, _ code: Int32) -> ConfigError {
        let reason = String(cString: strerror(code))
        return ConfigError(diagnostics: [
            ConfigDiagnostic(
                severity: .error,
                location: SourceLocation(file: path, line: 0),
                key: nil,
                message: "cannot read configuration file '\(path)': \(reason)"
            ),
        ])
    }

    private static func readAllBytes(path: String) throws -> [UInt8] {
        guard let handle = fopen(path, "rb") else {
            throw readFailure(path, errno)
        }
        defer { fclose(handle) }

        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { buffer in
                fread(buffer.baseAddress, 1, buffer.count, handle)
            }
            if count > 0 {
                result.append(contentsOf: chunk[0..<count])
            }
            if count < chunk.count {
                if ferror(handle) != 0 {
                    throw readFailure(path, errno)
                }
                break
            }
        }
        return result
    }
}
