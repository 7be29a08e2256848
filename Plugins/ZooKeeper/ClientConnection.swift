import NIOCore
import SluiceSDK
import ZooKeeperProtocol

/// The server's view of one client connection: its session, its auth ids and
/// an outbox. Everything sent to the client (responses and watch events, from
/// any thread) goes through `enqueue`, in order, and is written on the
/// channel's event loop with one flush per burst.
final class ClientConnection: @unchecked Sendable {
    let id: Int
    let channel: Channel
    let remoteIP: String
    let remotePort: Int
    // Guarded by the server lock:
    var stats = ConnectionStats()
    var sessionID: Int64 = 0
    var authIDs: [Id]
    var connected = false
    var closed = false
    // Guarded by `outbox`'s lock:
    private let outbox = Locked<(frames: [ByteBuffer], scheduled: Bool, closeAfter: Bool)>(([], false, false))

    init(id: Int, channel: Channel, remoteIP: String, remotePort: Int) {
        self.id = id
        self.channel = channel
        self.remoteIP = remoteIP
        self.remotePort = remotePort
        authIDs = [Id(scheme: "ip", id: remoteIP)]
    }

    /// Set on the event loop when a frame was written without a flush; the
    /// handler flushes at the end of the read burst.
    var needsFlush = false
    /// True while the handler is inside this connection's channelRead (loop thread only).
    var inRead = false

    /// Queues one length-prefixed frame (or, with `close`, closes after what is queued).
    func enqueue(_ frame: ByteBuffer?, close: Bool = false) {
        // On the connection's own loop with nothing queued ahead: write now,
        // flush once when the read burst ends (channelReadComplete).
        let onLoop = !close && channel.eventLoop.inEventLoop && inRead
        let schedule = outbox.withLock { box -> Bool in
            if onLoop, !box.scheduled, let frame {
                channel.write(NIOAny(frame), promise: nil)
                needsFlush = true
                return false
            }
            if let frame { box.frames.append(frame) }
            if close { box.closeAfter = true }
            if box.scheduled { return false }
            box.scheduled = true
            return true
        }
        guard schedule else { return }
        channel.eventLoop.execute { [self] in
            let (frames, closeAfter) = outbox.withLock { box -> ([ByteBuffer], Bool) in
                let f = box.frames
                box.frames = []
                box.scheduled = false
                return (f, box.closeAfter)
            }
            for f in frames { channel.write(NIOAny(f), promise: nil) }
            channel.flush()
            if closeAfter { channel.close(promise: nil) }
        }
    }
}

/// Builds a response frame: length, ReplyHeader, then the record.
func replyFrame(xid: Int32, zxid: Int64, err: Int32, _ body: (inout ByteBuffer) -> Void = { _ in }) -> ByteBuffer {
    var b = ByteBuffer()
    b.reserveCapacity(64)
    b.writeInteger(Int32(0))
    ReplyHeader(xid: xid, zxid: zxid, err: err).write(to: &b)
    if err == 0 { body(&b) }
    b.setInteger(Int32(b.readableBytes - 4), at: 0)
    return b
}

func replyFrame<R: JuteRecord>(xid: Int32, zxid: Int64, _ record: R) -> ByteBuffer {
    replyFrame(xid: xid, zxid: zxid, err: 0) { record.write(to: &$0) }
}

func notificationFrame(type: Int32, path: String) -> ByteBuffer {
    replyFrame(xid: SpecialXid.notification, zxid: -1, err: 0) {
        WatcherEvent(type: type, state: KeeperState.syncConnected, path: path).write(to: &$0)
    }
}

/// A protocol-level failure answered with a ZooKeeper error code.
struct ZKError: Error {
    let code: Int32
    init(_ code: Int32) { self.code = code }
}

/// ZooKeeper's PathUtils.validatePath rules: absolute, no empty, "." or ".."
/// segment, no trailing slash, no control or reserved characters.
func validatePath(_ path: String, sequential: Bool = false) throws {
    let bytes = path.utf8
    guard bytes.first == UInt8(ascii: "/") else { throw ZKError(ErrorCode.badArguments) }
    if bytes.count == 1 { return }
    if !sequential, bytes.last == UInt8(ascii: "/") { throw ZKError(ErrorCode.badArguments) }
    var segment = 0        // bytes in the current segment
    var dots = 0           // of which dots
    var first = true
    for b in bytes {
        if first { first = false; continue }
        if b == UInt8(ascii: "/") {
            if segment == 0 || (segment == dots && dots <= 2) { throw ZKError(ErrorCode.badArguments) }
            segment = 0
            dots = 0
            continue
        }
        if b < 0x20 || b == 0x7f { throw ZKError(ErrorCode.badArguments) }
        segment += 1
        if b == UInt8(ascii: ".") { dots += 1 }
    }
    // The last segment (a sequential node's gets digits appended, so it may be empty).
    if !sequential, segment == dots && dots <= 2 { throw ZKError(ErrorCode.badArguments) }
    if bytes.contains(where: { $0 >= 0x80 }) {
        for u in path.unicodeScalars {
            let v = u.value
            if (v >= 0x7f && v <= 0x9f) || (v >= 0xd800 && v <= 0xf8ff) || (v >= 0xfff0 && v <= 0xffff) {
                throw ZKError(ErrorCode.badArguments)
            }
        }
    }
}
