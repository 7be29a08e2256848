import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// A listening IPv4 TCP socket on host:port.
func listenTCP(host: String, port: Int) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw SluiceError.io("socket: \(String(cString: strerror(errno)))") }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    let h = host == "localhost" ? "127.0.0.1" : host
    guard inet_pton(AF_INET, h, &addr.sin_addr) == 1 else {
        close(fd)
        throw SluiceError.config("bind: '\(host)' is not an IPv4 address")
    }
    let rc = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard rc == 0, listen(fd, 64) == 0 else {
        let e = String(cString: strerror(errno))
        close(fd)
        throw SluiceError.io("cannot listen on \(host):\(port): \(e)")
    }
    return fd
}

func boundPort(_ fd: Int32) -> Int {
    var addr = sockaddr_in()
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    return Int(UInt16(bigEndian: addr.sin_port))
}
