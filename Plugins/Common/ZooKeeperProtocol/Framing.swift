// Framing of the client port: every packet is an int32 length and that many
// bytes, at most jute.maxbuffer; a connection may instead open with a
// four-letter word (four ASCII bytes, no length).

import NIOCore

/// What arrives on the client port.
public enum ZooKeeperInbound: Equatable, Sendable {
    case fourLetterWord(String)
    case packet(ByteBuffer)
}

public struct PacketTooLarge: Error, CustomStringConvertible, Equatable {
    public let length: Int32
    public let limit: Int

    public init(length: Int32, limit: Int) {
        self.length = length
        self.limit = limit
    }

    public var description: String { "packet length \(length) is negative or exceeds jute.maxbuffer (\(limit))" }
}

/// Splits the byte stream into packets of at most `maxBuffer` bytes; a known
/// four-letter word is recognised only as a connection's first four bytes.
public struct ZooKeeperFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ZooKeeperInbound
    public let maxBuffer: Int
    public let words: Set<String>
    private var first = true

    public init(maxBuffer: Int, words: Set<String>) {
        self.maxBuffer = maxBuffer
        self.words = words
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let len = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: Int32.self) else { return .needMoreData }
        if first {
            first = false
            if let word = buffer.getString(at: buffer.readerIndex, length: 4), words.contains(word) {
                buffer.moveReaderIndex(forwardBy: 4)
                context.fireChannelRead(NIOAny(ZooKeeperInbound.fourLetterWord(word)))
                return .continue
            }
        }
        guard len >= 0, Int(len) <= maxBuffer else { throw PacketTooLarge(length: len, limit: maxBuffer) }
        guard buffer.readableBytes >= 4 + Int(len) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        let packet = buffer.readSlice(length: Int(len))!
        context.fireChannelRead(NIOAny(ZooKeeperInbound.packet(packet)))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
