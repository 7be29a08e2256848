// Protocols the generated message types conform to.
//
// Module overview (KafkaProtocol):
//   Generated/       one struct per request/response/header schema (KafkaCodegen output),
//                    ApiKeys.swift with KafkaApiKey and the KafkaRequestBody/KafkaResponseBody
//                    dispatch enums.
//   Primitives.swift the wire types on ByteBuffer; Errors.swift KafkaDecodeError/KafkaEncodeError.
//   Framing.swift    size-prefixed frames, header versions, writeFrame, KafkaFrameDecoder.
//   RecordBatch.swift v2 record batches: parse, CRC-32C, offset rewrite, records, builder.
//
// A broker, per frame payload (after the int32 size):
//   let header = try RequestHeader.read(from: &payload)
//   switch try KafkaRequestBody(header: header, from: &payload) {
//   case .produce(let request): ...
//   }
//   try response.writeFrame(to: &out, version: header.requestApiVersion, correlationId: header.correlationId)

import NIOCore

/// A struct of a Kafka schema (a message or one of its nested structs). The message
/// version decides which fields are on the wire; `flexible` says whether that version
/// uses compact encodings and tagged fields (all structs of a message share it).
public protocol KafkaStruct: Equatable, Sendable {
    /// Every field at its schema default.
    init()
    /// Reads the fields present in `version`; the others keep their defaults.
    init(from buffer: inout ByteBuffer, version: Int16, flexible: Bool) throws
    /// Writes the fields present in `version`. Throws if a field that is absent in that
    /// version, and not ignorable, holds a non-default value.
    func write(to buffer: inout ByteBuffer, version: Int16, flexible: Bool) throws
}

/// A top-level schema: a request, a response, a header or a data record.
public protocol KafkaMessage: KafkaStruct {
    static var validVersions: ClosedRange<Int16> { get }
    /// From this version on, the message uses the flexible (compact, tagged) encoding; nil if never.
    static var flexibleVersions: PartialRangeFrom<Int16>? { get }
}

extension KafkaMessage {
    public static func isFlexible(_ version: Int16) -> Bool {
        flexibleVersions?.contains(version) ?? false
    }

    /// The message name used in error reports.
    static var kafkaName: String { String(describing: Self.self) }

    /// Decodes the message body as `version`; throws for versions outside `validVersions`.
    public init(from buffer: inout ByteBuffer, version: Int16) throws {
        guard Self.validVersions.contains(version) else {
            throw KafkaDecodeError(Self.kafkaName, .unsupportedVersion(version))
        }
        try self.init(from: &buffer, version: version, flexible: Self.isFlexible(version))
    }

    /// Encodes the message body as `version`; throws for versions outside `validVersions`.
    public func write(to buffer: inout ByteBuffer, version: Int16) throws {
        guard Self.validVersions.contains(version) else {
            throw KafkaEncodeError(Self.kafkaName, .unsupportedVersion(version))
        }
        try write(to: &buffer, version: version, flexible: Self.isFlexible(version))
    }
}

/// A request or response body of one API.
public protocol KafkaApiMessage: KafkaMessage {
    static var apiKey: Int16 { get }
}

extension KafkaApiMessage {
    /// The API as an enum value (always known for generated types).
    public static var api: KafkaApiKey { KafkaApiKey(rawValue: apiKey)! }
}

public protocol KafkaRequest: KafkaApiMessage {
    associatedtype Response: KafkaResponse
}

public protocol KafkaResponse: KafkaApiMessage {}
