// Framing: every request and response is an int32 size followed by that many bytes,
// which hold a header and then the body. Header versions follow the API version:
// flexible API versions use request header v2 / response header v1, others v1 / v0,
// except that ApiVersions responses always carry response header v0 (a client that
// does not yet know the broker's versions must be able to read it).

import NIOCore

extension KafkaApiKey {
    /// Request header version for `apiVersion` of this API (2 if flexible, else 1).
    public func requestHeaderVersion(_ apiVersion: Int16) -> Int16 {
        isFlexible(apiVersion) ? 2 : 1
    }

    /// Response header version for `apiVersion` of this API (1 if flexible, else 0; always 0 for ApiVersions).
    public func responseHeaderVersion(_ apiVersion: Int16) -> Int16 {
        if self == .apiVersions { return 0 }
        return isFlexible(apiVersion) ? 1 : 0
    }

    /// Flexible-ness continues past the highest known version, so a newer client's
    /// header can still be read.
    public func isFlexible(_ apiVersion: Int16) -> Bool {
        flexibleVersions?.contains(apiVersion) ?? false
    }
}

extension RequestHeader {
    /// The header version a request with this api key and version carries. Unknown
    /// APIs are read as v1 (enough to get the correlation id and client id).
    public static func headerVersion(apiKey: Int16, apiVersion: Int16) -> Int16 {
        KafkaApiKey(rawValue: apiKey)?.requestHeaderVersion(apiVersion) ?? 1
    }

    /// Reads the request header at the start of a frame's payload, choosing the header
    /// version from the api key and version it starts with. The buffer is left at the body.
    public static func read(from buffer: inout ByteBuffer) throws -> RequestHeader {
        guard let apiKey = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: Int16.self),
              let apiVersion = buffer.getInteger(at: buffer.readerIndex + 2, endianness: .big, as: Int16.self)
        else {
            throw KafkaDecodeError("RequestHeader", .truncated(needed: 4, available: buffer.readableBytes))
        }
        return try RequestHeader(from: &buffer, version: headerVersion(apiKey: apiKey, apiVersion: apiVersion))
    }

    /// The API, if this code knows it.
    public var api: KafkaApiKey? { KafkaApiKey(rawValue: requestApiKey) }
}

extension KafkaRequestBody {
    /// Decodes the body that follows `header` (see `RequestHeader.read`). Throws for an
    /// API this module does not know or a version outside the API's valid versions.
    public init(header: RequestHeader, from buffer: inout ByteBuffer) throws {
        guard let api = header.api else {
            throw KafkaDecodeError("RequestHeader.requestApiKey", .invalid("unknown API key \(header.requestApiKey)"))
        }
        try self.init(apiKey: api, version: header.requestApiVersion, from: &buffer)
    }
}

extension ResponseHeader {
    public static func headerVersion(apiKey: Int16, apiVersion: Int16) -> Int16 {
        KafkaApiKey(rawValue: apiKey)?.responseHeaderVersion(apiVersion) ?? 0
    }

    /// Reads the header of a response to a request with this api key and version.
    public static func read(from buffer: inout ByteBuffer, apiKey: Int16, apiVersion: Int16) throws -> ResponseHeader {
        try ResponseHeader(from: &buffer, version: headerVersion(apiKey: apiKey, apiVersion: apiVersion))
    }
}

extension ByteBuffer {
    /// Writes an int32 size placeholder, runs `body`, then fills in the size. If `body`
    /// throws, the buffer is put back as it was.
    mutating func kafkaWriteSizePrefixed(_ body: (inout ByteBuffer) throws -> Void) throws {
        let start = writerIndex
        writeInteger(Int32(0), endianness: .big)
        do {
            try body(&self)
        } catch {
            moveWriterIndex(to: start)
            throw error
        }
        setInteger(Int32(truncatingIfNeeded: writerIndex - start - 4), at: start, endianness: .big)
    }
}

extension KafkaResponse {
    /// Appends a complete response frame (size, response header, body) for a request
    /// that arrived with `correlationId` and API version `version`.
    public func writeFrame(to buffer: inout ByteBuffer, version: Int16, correlationId: Int32) throws {
        let headerVersion = ResponseHeader.headerVersion(apiKey: Self.apiKey, apiVersion: version)
        try buffer.kafkaWriteSizePrefixed { out in
            try ResponseHeader(correlationId: correlationId).write(to: &out, version: headerVersion)
            try self.write(to: &out, version: version)
        }
    }
}

extension KafkaRequest {
    /// Appends a complete request frame (size, request header, body).
    public func writeFrame(to buffer: inout ByteBuffer, version: Int16, correlationId: Int32, clientId: String?) throws {
        let header = RequestHeader(
            requestApiKey: Self.apiKey, requestApiVersion: version, correlationId: correlationId, clientId: clientId)
        let headerVersion = RequestHeader.headerVersion(apiKey: Self.apiKey, apiVersion: version)
        try buffer.kafkaWriteSizePrefixed { out in
            try header.write(to: &out, version: headerVersion)
            try self.write(to: &out, version: version)
        }
    }
}

/// Splits a byte stream into frames.
public enum KafkaFraming {
    /// Kafka's default for `socket.request.max.bytes`.
    public static let defaultMaxFrameLength = 100 * 1024 * 1024

    /// Takes the next complete frame's payload off `buffer` (as a slice), or returns nil
    /// if more bytes are needed. Throws for a negative or oversized length.
    public static func nextFrame(from buffer: inout ByteBuffer, maxFrameLength: Int = defaultMaxFrameLength) throws -> ByteBuffer? {
        guard let size = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: Int32.self) else { return nil }
        guard size >= 0, Int(size) <= maxFrameLength else {
            throw KafkaDecodeError("frame", .invalidLength(Int(size)))
        }
        guard buffer.readableBytes >= 4 + Int(size) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(size))
    }
}

/// A NIO decoder that passes on each frame's payload (without the size prefix).
public struct KafkaFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    public let maxFrameLength: Int

    public init(maxFrameLength: Int = KafkaFraming.defaultMaxFrameLength) {
        self.maxFrameLength = maxFrameLength
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try KafkaFraming.nextFrame(from: &buffer, maxFrameLength: maxFrameLength) else {
            return .needMoreData
        }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Data records carried inside other messages' byte fields (the consumer protocol's
/// subscription and assignment), which are prefixed by their own int16 version.
public protocol KafkaVersionPrefixedData: KafkaMessage {}

extension KafkaVersionPrefixedData {
    /// Reads an int16 version, then the record. Versions above the highest known are read
    /// as the highest known one (later versions only append fields, which are ignored).
    public static func decodeVersionPrefixed(from buffer: inout ByteBuffer) throws -> (version: Int16, value: Self) {
        let version = try buffer.kafkaReadInt16(kafkaName + ".version")
        guard version >= validVersions.lowerBound else {
            throw KafkaDecodeError(kafkaName, .unsupportedVersion(version))
        }
        let readAs = min(version, validVersions.upperBound)
        return (version, try Self(from: &buffer, version: readAs))
    }

    public static func decodeVersionPrefixed(_ bytes: [UInt8]) throws -> (version: Int16, value: Self) {
        var buffer = ByteBuffer(bytes: bytes)
        return try decodeVersionPrefixed(from: &buffer)
    }

    /// Writes an int16 version, then the record.
    public func writeVersionPrefixed(to buffer: inout ByteBuffer, version: Int16) throws {
        buffer.kafkaWriteInt16(version)
        try write(to: &buffer, version: version)
    }

    public func encodeVersionPrefixed(version: Int16) throws -> [UInt8] {
        var buffer = ByteBuffer()
        try writeVersionPrefixed(to: &buffer, version: version)
        return Array(buffer.readableBytesView)
    }
}
