import NIOCore
import SluiceSDK
import ZooKeeperProtocol

/// One client connection: the first packet is a ConnectRequest, the rest are
/// requests. Bad input closes this connection only, with a log line saying why.
final class ConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ZooKeeperInbound
    let server: Server
    private var conn: ClientConnection?

    init(server: Server) { self.server = server }

    func channelActive(context ctx: ChannelHandlerContext) {
        let ip: String
        switch ctx.remoteAddress {
        case .v4(let a)?: ip = a.host
        case .v6(let a)?: ip = a.host
        default: ip = "unknown"
        }
        guard let c = server.open(channel: ctx.channel, remoteIP: ip, remotePort: ctx.remoteAddress?.port ?? 0) else {
            server.context.log(.warn, "too many connections from \(ip) (maxClientCnxns \(server.config.maxClientCnxns)); closing")
            ctx.close(promise: nil)
            return
        }
        conn = c
        ctx.fireChannelActive()
    }

    func channelInactive(context ctx: ChannelHandlerContext) {
        if let c = conn { server.closed(c) }
        conn = nil
    }

    func channelRead(context ctx: ChannelHandlerContext, data: NIOAny) {
        guard let c = conn else { return }
        switch unwrapInboundIn(data) {
        case .fourLetterWord(let w):
            var b = ctx.channel.allocator.buffer(capacity: 256)
            b.writeString(server.fourLetterWord(w))
            ctx.writeAndFlush(NIOAny(b)).whenComplete { _ in ctx.close(promise: nil) }
        case .packet(let p):
            c.inRead = true
            defer { c.inRead = false }
            do {
                if !c.connected {
                    var padded = p
                    padded.writeInteger(UInt8(0))  // a client without the readOnly flag
                    let req = try ConnectRequest(from: &padded)
                    server.connect(c, req, hasReadOnly: padded.readableBytes == 1)
                } else {
                    try server.process(c, p)
                }
            } catch {
                close(ctx, "malformed packet: \(error)")
            }
        }
    }

    func channelReadComplete(context ctx: ChannelHandlerContext) {
        if let c = conn, c.needsFlush {
            c.needsFlush = false
            ctx.flush()
        }
    }

    func errorCaught(context ctx: ChannelHandlerContext, error: Error) {
        close(ctx, "\(error)")
    }

    private func close(_ ctx: ChannelHandlerContext, _ why: String) {
        server.context.log(.warn, "closing connection from \(ctx.remoteAddress.map { "\($0)" } ?? "a client"): \(why)")
        ctx.close(promise: nil)
    }
}
