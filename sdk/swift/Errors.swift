import SluiceABI

/// An error a plugin throws; the SDK turns it into an ABI status code and
/// message. Any other `Error` becomes `SLUICE_ERR_GENERIC` with its description.
public struct SluiceError: Error, CustomStringConvertible {
    public enum Code: Int32, Sendable {
        case generic = -1
        case config = -2
        case io = -3
        case state = -4
        case noMemory = -5
        case limit = -6
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public static func config(_ message: String) -> SluiceError { SluiceError(.config, message) }
    public static func io(_ message: String) -> SluiceError { SluiceError(.io, message) }
    public static func generic(_ message: String) -> SluiceError { SluiceError(.generic, message) }

    public var description: String { message }
}

/// What `process()` reports to its runner.
public enum ProcessStatus: Sendable {
    /// Work was done; call again right away.
    case ready
    /// Nothing to do; the runner waits, growing the delay.
    case backoff

    var raw: sluice_status { self == .ready ? sluice_status(SLUICE_OK) : sluice_status(SLUICE_BACKOFF) }
}

/// Writes `message` as a NUL-terminated string into the ABI's error buffer.
func writeMessage(_ message: String, to err: UnsafeMutablePointer<sluice_error>?) {
    guard let err else { return }
    withUnsafeMutableBytes(of: &err.pointee.message) { raw in
        let utf8 = message.utf8
        let n = min(utf8.count, raw.count - 1)
        var i = 0
        for byte in utf8 {
            if i == n { break }
            raw[i] = byte
            i += 1
        }
        raw[n] = 0
    }
}

/// Runs `body`, turning a thrown error into a status code and message.
@inline(__always)
func catching(_ err: UnsafeMutablePointer<sluice_error>?, _ body: () throws -> sluice_status) -> sluice_status {
    do {
        return try body()
    } catch let e as SluiceError {
        writeMessage(e.message, to: err)
        return e.code.rawValue
    } catch {
        writeMessage("\(error)", to: err)
        return sluice_status(SLUICE_ERR_GENERIC)
    }
}

/// Reads the message a host call wrote into an error buffer.
func readMessage(_ err: inout sluice_error) -> String {
    withUnsafeBytes(of: &err.message) { raw in
        let bytes = raw.prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }
}
