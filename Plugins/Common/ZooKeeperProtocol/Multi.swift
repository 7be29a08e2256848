// The framing of multi / multiRead (ZooKeeper's MultiOperationRecord and
// MultiResponse), which jute cannot describe: a sequence of MultiHeader +
// op record, ended by MultiHeader{type: -1, done: true, err: -1}.

import NIOCore

/// One operation inside a multi request.
public enum MultiOp: Equatable, Sendable {
    case create(CreateRequest, opCode: Int32)   // create, create2, createContainer
    case createTTL(CreateTTLRequest)
    case delete(DeleteRequest)
    case setData(SetDataRequest)
    case check(CheckVersionRequest)
    case getChildren(GetChildrenRequest)
    case getData(GetDataRequest)

    public var opCode: Int32 {
        switch self {
        case .create(_, let op): return op
        case .createTTL: return OpCode.createTTL
        case .delete: return OpCode.delete
        case .setData: return OpCode.setData
        case .check: return OpCode.check
        case .getChildren: return OpCode.getChildren
        case .getData: return OpCode.getData
        }
    }
}

public struct MultiRequest: JuteRecord, Equatable {
    public var ops: [MultiOp]

    public init(ops: [MultiOp]) { self.ops = ops }

    public init(from buffer: inout ByteBuffer) throws {
        ops = []
        while true {
            let h = try MultiHeader(from: &buffer)
            if h.done { break }
            // Each op takes at least a few bytes: a forged endless list runs out of input.
            switch h.type {
            case OpCode.create, OpCode.create2, OpCode.createContainer:
                ops.append(.create(try CreateRequest(from: &buffer), opCode: h.type))
            case OpCode.createTTL: ops.append(.createTTL(try CreateTTLRequest(from: &buffer)))
            case OpCode.delete: ops.append(.delete(try DeleteRequest(from: &buffer)))
            case OpCode.setData: ops.append(.setData(try SetDataRequest(from: &buffer)))
            case OpCode.check: ops.append(.check(try CheckVersionRequest(from: &buffer)))
            case OpCode.getChildren: ops.append(.getChildren(try GetChildrenRequest(from: &buffer)))
            case OpCode.getData: ops.append(.getData(try GetDataRequest(from: &buffer)))
            default: throw JuteDecodeError("MultiHeader.type", .other("op \(h.type) is not allowed in a multi"))
            }
        }
    }

    public func write(to buffer: inout ByteBuffer) {
        for op in ops {
            MultiHeader(type: op.opCode, done: false, err: -1).write(to: &buffer)
            switch op {
            case .create(let r, _): r.write(to: &buffer)
            case .createTTL(let r): r.write(to: &buffer)
            case .delete(let r): r.write(to: &buffer)
            case .setData(let r): r.write(to: &buffer)
            case .check(let r): r.write(to: &buffer)
            case .getChildren(let r): r.write(to: &buffer)
            case .getData(let r): r.write(to: &buffer)
            }
        }
        MultiHeader(type: -1, done: true, err: -1).write(to: &buffer)
    }
}

/// One result inside a multi response.
public enum MultiResult: Equatable, Sendable {
    case create(CreateResponse)
    case create2(Create2Response)
    case delete
    case setData(SetDataResponse)
    case check
    case getChildren(GetChildrenResponse)
    case getData(GetDataResponse)
    case error(Int32)
}

public struct MultiResponse: JuteRecord, Equatable {
    public var results: [MultiResult]

    public init(results: [MultiResult]) { self.results = results }

    public init(from buffer: inout ByteBuffer) throws {
        results = []
        while true {
            let h = try MultiHeader(from: &buffer)
            if h.done { break }
            switch h.type {
            case OpCode.create: results.append(.create(try CreateResponse(from: &buffer)))
            case OpCode.create2: results.append(.create2(try Create2Response(from: &buffer)))
            case OpCode.delete: results.append(.delete)
            case OpCode.setData: results.append(.setData(try SetDataResponse(from: &buffer)))
            case OpCode.check: results.append(.check)
            case OpCode.getChildren: results.append(.getChildren(try GetChildrenResponse(from: &buffer)))
            case OpCode.getData: results.append(.getData(try GetDataResponse(from: &buffer)))
            case OpCode.error: results.append(.error(try ErrorResponse(from: &buffer).err))
            default: throw JuteDecodeError("MultiHeader.type", .other("unknown result type \(h.type)"))
            }
        }
    }

    public func write(to buffer: inout ByteBuffer) {
        for r in results {
            switch r {
            case .create(let v): MultiHeader(type: OpCode.create, done: false, err: 0).write(to: &buffer); v.write(to: &buffer)
            case .create2(let v): MultiHeader(type: OpCode.create2, done: false, err: 0).write(to: &buffer); v.write(to: &buffer)
            case .delete: MultiHeader(type: OpCode.delete, done: false, err: 0).write(to: &buffer)
            case .setData(let v): MultiHeader(type: OpCode.setData, done: false, err: 0).write(to: &buffer); v.write(to: &buffer)
            case .check: MultiHeader(type: OpCode.check, done: false, err: 0).write(to: &buffer)
            case .getChildren(let v): MultiHeader(type: OpCode.getChildren, done: false, err: 0).write(to: &buffer); v.write(to: &buffer)
            case .getData(let v): MultiHeader(type: OpCode.getData, done: false, err: 0).write(to: &buffer); v.write(to: &buffer)
            case .error(let code):
                MultiHeader(type: OpCode.error, done: false, err: code).write(to: &buffer)
                ErrorResponse(err: code).write(to: &buffer)
            }
        }
        MultiHeader(type: -1, done: true, err: -1).write(to: &buffer)
    }
}
