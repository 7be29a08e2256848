import NIOCore
import ZooKeeperProtocol

/// A state change as it is logged and applied: the jute TxnHeader plus one of
/// the txn records of zookeeper.jute. Applying the same sequence of txns to an
/// empty tree always gives the same tree (what a replica will need).
enum TxnBody: Equatable {
    case create(CreateTxn)
    case createTTL(CreateTTLTxn)
    case createContainer(CreateContainerTxn)
    case delete(DeleteTxn)
    case setData(SetDataTxn)
    case setACL(SetACLTxn)
    case check(CheckVersionTxn)
    case createSession(CreateSessionTxn)
    case closeSession(CloseSessionTxn)
    case error(ErrorTxn)
    case multi([TxnBody])

    var type: Int32 {
        switch self {
        case .create: return OpCode.create
        case .createTTL: return OpCode.createTTL
        case .createContainer: return OpCode.createContainer
        case .delete: return OpCode.delete
        case .setData: return OpCode.setData
        case .setACL: return OpCode.setACL
        case .check: return OpCode.check
        case .createSession: return OpCode.createSession
        case .closeSession: return OpCode.closeSession
        case .error: return OpCode.error
        case .multi: return OpCode.multi
        }
    }

    func write(to b: inout ByteBuffer) {
        switch self {
        case .create(let t): t.write(to: &b)
        case .createTTL(let t): t.write(to: &b)
        case .createContainer(let t): t.write(to: &b)
        case .delete(let t): t.write(to: &b)
        case .setData(let t): t.write(to: &b)
        case .setACL(let t): t.write(to: &b)
        case .check(let t): t.write(to: &b)
        case .createSession(let t): t.write(to: &b)
        case .closeSession(let t): t.write(to: &b)
        case .error(let t): t.write(to: &b)
        case .multi(let parts):
            MultiTxn(txns: parts.map { Txn(type: $0.type, data: Array($0.encoded().readableBytesView)) }).write(to: &b)
        }
    }

    func encoded() -> ByteBuffer {
        var b = ByteBuffer()
        write(to: &b)
        return b
    }

    static func read(type: Int32, from b: inout ByteBuffer) throws -> TxnBody {
        switch type {
        case OpCode.create: return .create(try CreateTxn(from: &b))
        case OpCode.createTTL: return .createTTL(try CreateTTLTxn(from: &b))
        case OpCode.createContainer: return .createContainer(try CreateContainerTxn(from: &b))
        case OpCode.delete: return .delete(try DeleteTxn(from: &b))
        case OpCode.setData: return .setData(try SetDataTxn(from: &b))
        case OpCode.setACL: return .setACL(try SetACLTxn(from: &b))
        case OpCode.check: return .check(try CheckVersionTxn(from: &b))
        case OpCode.createSession: return .createSession(try CreateSessionTxn(from: &b))
        case OpCode.closeSession: return .closeSession(try CloseSessionTxn(from: &b))
        case OpCode.error: return .error(try ErrorTxn(from: &b))
        case OpCode.multi:
            let m = try MultiTxn(from: &b)
            return .multi(try m.txns.map { t in
                var inner = ByteBuffer(bytes: t.data)
                guard t.type != OpCode.multi else { throw JuteDecodeError("MultiTxn.txns", .other("nested multi")) }
                return try read(type: t.type, from: &inner)
            })
        default: throw JuteDecodeError("TxnHeader.type", .other("unknown txn type \(type)"))
        }
    }
}

struct LoggedTxn: Equatable {
    var header: TxnHeader
    var body: TxnBody
    var zxid: Int64 { header.zxid }

    func write(to b: inout ByteBuffer) {
        header.write(to: &b)
        body.write(to: &b)
    }

    init(header: TxnHeader, body: TxnBody) {
        self.header = header
        self.body = body
    }

    init(from b: inout ByteBuffer) throws {
        header = try TxnHeader(from: &b)
        body = try TxnBody.read(type: header.type, from: &b)
    }
}
