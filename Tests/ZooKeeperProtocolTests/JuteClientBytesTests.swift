import NIOCore
import XCTest
import ZooKeeperProtocol

/// Bytes produced by a real client library (kazoo 2.11's serializers, dumped
/// as hex) decode to the values it was given, and encode back byte for byte.
final class JuteClientBytesTests: XCTestCase {
    func bytes(_ hex: String) -> ByteBuffer {
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            out.append(UInt8(hex[i..<j], radix: 16)!)
            i = j
        }
        return ByteBuffer(bytes: out)
    }

    func testKazooConnectRequest() throws {
        let b = bytes("000000000000000000001234000027100000000000000000000000100000000000000000000000000000000000")
        let r = try ConnectRequest(decoding: b)
        XCTAssertEqual(r, ConnectRequest(protocolVersion: 0, lastZxidSeen: 0x1234, timeOut: 10000, sessionId: 0,
                                         passwd: [UInt8](repeating: 0, count: 16), readOnly: false))
        XCTAssertEqual(r.encoded(), b)
    }

    func testKazooCreateWithDigestACL() throws {
        let b = bytes("000000052f6b7a2f6100000004646174610000000100000001000000066469676573740000001e753a4a7137774d79412f7732566435574944414b6475344f49494645513d00000003")
        let r = try CreateRequest(decoding: b)
        XCTAssertEqual(r, CreateRequest(path: "/kz/a", data: Array("data".utf8),
                                        acl: [ACL(perms: 1, id: Id(scheme: "digest", id: "u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ="))], flags: 3))
        XCTAssertEqual(r.encoded(), b)
    }

    func testKazooSetData() throws {
        let b = bytes("000000052f6b7a2f61000000036e657700000007")
        XCTAssertEqual(try SetDataRequest(decoding: b), SetDataRequest(path: "/kz/a", data: Array("new".utf8), version: 7))
    }

    func testKazooTransactionIsAMultiRequest() throws {
        let b = bytes("0000000100ffffffff000000022f6d00000000000000010000001f00000005776f726c6400000006616e796f6e65000000000000000500ffffffff000000022f6d000000017affffffffffffffff01ffffffff")
        let m = try MultiRequest(decoding: b)
        XCTAssertEqual(m.ops, [
            .create(CreateRequest(path: "/m", data: [], acl: [ACL(perms: 31, id: Id(scheme: "world", id: "anyone"))], flags: 0),
                    opCode: OpCode.create),
            .setData(SetDataRequest(path: "/m", data: Array("z".utf8), version: -1)),
        ])
        XCTAssertEqual(m.encoded(), b)
    }
}
