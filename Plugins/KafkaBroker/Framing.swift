import NIOCore

/// Splits the TCP stream into Kafka request frames (int32 size, then that
/// many bytes). A size over socket.request.max.bytes, or negative, closes
/// this connection with a reason; the broker keeps serving everyone else.
struct KafkaFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    let maxFrameBytes: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        guard size >= 0, Int(size) <= maxFrameBytes else {
            throw FrameError(reason: "request frame of \(size) bytes exceeds socket.request.max.bytes (\(maxFrameBytes))")
        }
        guard buffer.readableBytes >= 4 + Int(size) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: Int(size))!))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A frame cut off by the client closing: nothing to answer.
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}

struct FrameError: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}
