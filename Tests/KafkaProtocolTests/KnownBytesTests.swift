import KafkaProtocol
import NIOCore
import XCTest

/// Byte vectors written by hand from the protocol's encoding rules.
final class KnownBytesTests: XCTestCase {
    private func bytes(_ buffer: ByteBuffer) -> [UInt8] { Array(buffer.readableBytesView) }

    // MARK: Primitives

    func testVarints() throws {
        var b = ByteBuffer()
        b.kafkaWriteUnsignedVarint(0)
        b.kafkaWriteUnsignedVarint(1)
        b.kafkaWriteUnsignedVarint(127)
        b.kafkaWriteUnsignedVarint(128)
        b.kafkaWriteUnsignedVarint(300)
        b.kafkaWriteUnsignedVarint(UInt32.max)
        XCTAssertEqual(bytes(b), [0x00, 0x01, 0x7F, 0x80, 0x01, 0xAC, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
        XCTAssertEqual(try b.kafkaReadUnsignedVarint("t"), 0)
        XCTAssertEqual(try b.kafkaReadUnsignedVarint("t"), 1)
        XCTAssertEqual(try b.kafkaReadUnsignedVarint("t"), 127)
        XCTAssertEqual(try b.kafkaReadUnsignedVarint("t"), 128)
        XCTAssertEqual(try b.kafkaReadUnsignedVarint("t"), 300)
        XCTAssertEqual(try b.kafkaReadUnsignedVarint("t"), UInt32.max)

        // Zig-zag: 0 -> 0, -1 -> 1, 1 -> 2, -64 -> 127, 64 -> 128.
        var z = ByteBuffer()
        for v: Int32 in [0, -1, 1, -64, 64, Int32.min, Int32.max] { z.kafkaWriteVarint(v) }
        XCTAssertEqual(Array(bytes(z).prefix(6)), [0x00, 0x01, 0x02, 0x7F, 0x80, 0x01])
        for v: Int32 in [0, -1, 1, -64, 64, Int32.min, Int32.max] { XCTAssertEqual(try z.kafkaReadVarint("t"), v) }
        var l = ByteBuffer()
        for v: Int64 in [0, -1, 1, Int64.min, Int64.max, 1_700_000_000_000] { l.kafkaWriteVarlong(v) }
        for v: Int64 in [0, -1, 1, Int64.min, Int64.max, 1_700_000_000_000] { XCTAssertEqual(try l.kafkaReadVarlong("t"), v) }

        var tooLong = ByteBuffer(bytes: [0x80, 0x80, 0x80, 0x80, 0x80, 0x01])
        XCTAssertThrowsError(try tooLong.kafkaReadUnsignedVarint("t")) { error in
            XCTAssertEqual((error as? KafkaDecodeError)?.problem, .varintTooLong)
        }
        var cut = ByteBuffer(bytes: [0x80, 0x80])
        XCTAssertThrowsError(try cut.kafkaReadUnsignedVarint("t"))
    }

    func testStringsAndLengths() throws {
        var b = ByteBuffer()
        try b.kafkaWriteString("hi", "t", flexible: false)
        try b.kafkaWriteNullableString(nil, "t", flexible: false, nullable: true)
        try b.kafkaWriteString("hi", "t", flexible: true)
        try b.kafkaWriteNullableString(nil, "t", flexible: true, nullable: true)
        try b.kafkaWriteBytes([7], "t", flexible: false)
        try b.kafkaWriteNullableBytes(nil, "t", flexible: false, nullable: true)
        try b.kafkaWriteBytes([7], "t", flexible: true)
        XCTAssertEqual(bytes(b), [
            0x00, 0x02, 0x68, 0x69,  // STRING
            0xFF, 0xFF,  // NULLABLE_STRING null
            0x03, 0x68, 0x69,  // COMPACT_STRING: length + 1
            0x00,  // COMPACT_NULLABLE_STRING null
            0x00, 0x00, 0x00, 0x01, 0x07,  // BYTES
            0xFF, 0xFF, 0xFF, 0xFF,  // NULLABLE_BYTES null
            0x02, 0x07,  // COMPACT_BYTES
        ])
        XCTAssertThrowsError(try ByteBuffer().kafkaWriteNullableStringCopy(nil)) { error in
            XCTAssertEqual((error as? KafkaEncodeError)?.problem, .nullNotAllowed)
        }

        // Negative lengths other than -1, null where not allowed, lengths past the end.
        var minusTwo = ByteBuffer(bytes: [0xFF, 0xFE])
        XCTAssertThrowsError(try minusTwo.kafkaReadNullableString("x.s", flexible: false, nullable: true)) { error in
            XCTAssertEqual(error as? KafkaDecodeError, KafkaDecodeError("x.s", .invalidLength(-2)))
        }
        var null = ByteBuffer(bytes: [0xFF, 0xFF])
        XCTAssertThrowsError(try null.kafkaReadString("x.s", flexible: false)) { error in
            XCTAssertEqual((error as? KafkaDecodeError)?.problem, .nullNotAllowed)
        }
        var long = ByteBuffer(bytes: [0x00, 0x05, 0x61])
        XCTAssertThrowsError(try long.kafkaReadString("x.s", flexible: false)) { error in
            XCTAssertEqual((error as? KafkaDecodeError)?.problem, .truncated(needed: 5, available: 1))
        }
        var negativeBytes = ByteBuffer(bytes: [0x80, 0x00, 0x00, 0x00])
        XCTAssertThrowsError(try negativeBytes.kafkaReadNullableBytes("x.b", flexible: false, nullable: true))
        // An array count no remaining bytes could hold is refused before allocating.
        var hugeArray = ByteBuffer(bytes: [0x7F, 0xFF, 0xFF, 0xFF, 0x00])
        XCTAssertThrowsError(try hugeArray.kafkaReadArray("x.a", flexible: false) { try $0.kafkaReadInt8("x.a") }) { error in
            XCTAssertEqual((error as? KafkaDecodeError)?.problem, .countTooLarge(count: Int(Int32.max), remaining: 1))
        }
        var hugeCompact = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
        XCTAssertThrowsError(try hugeCompact.kafkaReadArray("x.a", flexible: true) { try $0.kafkaReadInt8("x.a") })
    }

    // MARK: Requests

    /// ApiVersions v0: request header v1 (int16-length client id) and an empty body.
    func testApiVersionsV0Request() throws {
        let expected: [UInt8] = [
            0x00, 0x00, 0x00, 0x0D,  // size 13
            0x00, 0x12,  // api key 18
            0x00, 0x00,  // version 0
            0x00, 0x00, 0x00, 0x07,  // correlation id 7
            0x00, 0x03, 0x61, 0x62, 0x63,  // client id "abc"
        ]
        var out = ByteBuffer()
        try ApiVersionsRequest().writeFrame(to: &out, version: 0, correlationId: 7, clientId: "abc")
        XCTAssertEqual(bytes(out), expected)

        var stream = ByteBuffer(bytes: expected)
        var frame = try XCTUnwrap(try KafkaFraming.nextFrame(from: &stream))
        let header = try RequestHeader.read(from: &frame)
        XCTAssertEqual(header, RequestHeader(requestApiKey: 18, requestApiVersion: 0, correlationId: 7, clientId: "abc"))
        guard case .apiVersions(let request) = try KafkaRequestBody(header: header, from: &frame) else {
            return XCTFail("wrong body")
        }
        XCTAssertEqual(request, ApiVersionsRequest())
    }

    /// ApiVersions v3 (flexible): header v2 keeps the int16 client id but adds tagged
    /// fields; here the header carries an unknown tag (5) that must be skipped.
    func testApiVersionsV3RequestWithTaggedField() throws {
        let frameBytes: [UInt8] = [
            0x00, 0x12, 0x00, 0x03,  // api key 18, version 3
            0x00, 0x00, 0x00, 0x01,  // correlation id 1
            0x00, 0x01, 0x63,  // client id "c" (int16 length even in header v2)
            0x01, 0x05, 0x02, 0xAA, 0xBB,  // one tagged field: tag 5, 2 bytes
            0x07, 0x73, 0x6C, 0x75, 0x69, 0x63, 0x65,  // ClientSoftwareName "sluice" (compact)
            0x04, 0x31, 0x2E, 0x30,  // ClientSoftwareVersion "1.0"
            0x00,  // no tagged fields in the body
        ]
        var frame = ByteBuffer(bytes: frameBytes)
        let header = try RequestHeader.read(from: &frame)
        XCTAssertEqual(header.requestApiVersion, 3)
        XCTAssertEqual(header.clientId, "c")
        let request = try ApiVersionsRequest(from: &frame, version: 3)
        XCTAssertEqual(request, ApiVersionsRequest(clientSoftwareName: "sluice", clientSoftwareVersion: "1.0"))
        XCTAssertEqual(frame.readableBytes, 0)

        // Written back, the unknown tag is gone and the rest is identical.
        var out = ByteBuffer()
        try request.writeFrame(to: &out, version: 3, correlationId: 1, clientId: "c")
        var expected: [UInt8] = [0x00, 0x00, 0x00, 0x18]
        expected += frameBytes[0..<11] + [0x00] + frameBytes[16...]
        XCTAssertEqual(bytes(out), expected)
    }

    /// ApiVersions v3 response: header v0 even though the body is flexible; a known
    /// tagged field (FinalizedFeaturesEpoch, tag 1) is written only when not default.
    func testApiVersionsV3ResponseTaggedField() throws {
        var response = ApiVersionsResponse()
        response.apiKeys = [.init(apiKey: 18, minVersion: 0, maxVersion: 4)]
        response.finalizedFeaturesEpoch = 42
        var out = ByteBuffer()
        try response.writeFrame(to: &out, version: 3, correlationId: 9)
        let expected: [UInt8] = [
            0x00, 0x00, 0x00, 0x1D,  // size 29
            0x00, 0x00, 0x00, 0x09,  // response header v0: correlation id only
            0x00, 0x00,  // error code
            0x02, 0x00, 0x12, 0x00, 0x00, 0x00, 0x04, 0x00,  // compact array of one ApiVersion (+ its empty tags)
            0x00, 0x00, 0x00, 0x00,  // throttle time
            0x01, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2A,  // tag 1, 8 bytes: 42
        ]
        XCTAssertEqual(bytes(out), expected)

        var frame = try XCTUnwrap(try KafkaFraming.nextFrame(from: &out))
        XCTAssertEqual(try ResponseHeader.read(from: &frame, apiKey: 18, apiVersion: 3).correlationId, 9)
        let decoded = try ApiVersionsResponse(from: &frame, version: 3)
        XCTAssertEqual(decoded.finalizedFeaturesEpoch, 42)
        XCTAssertEqual(decoded, response)

        // With the default (-1) the tag is not written.
        response.finalizedFeaturesEpoch = -1
        var plain = ByteBuffer()
        try response.write(to: &plain, version: 3)
        XCTAssertEqual(bytes(plain).last, 0x00)
    }

    func testMetadataV0AndV9() throws {
        let request = MetadataRequest(topics: [.init(name: "t")])
        var v0 = ByteBuffer()
        try request.write(to: &v0, version: 0)
        XCTAssertEqual(bytes(v0), [0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x74])
        var v9 = ByteBuffer()
        try request.write(to: &v9, version: 9)
        // Compact array (1+1), compact string "t", struct tags, AllowAutoTopicCreation (default true),
        // two authorized-operations flags, message tags.
        XCTAssertEqual(bytes(v9), [0x02, 0x02, 0x74, 0x00, 0x01, 0x00, 0x00, 0x00])

        // Null topics ("all topics") is not expressible in v0.
        var all = MetadataRequest()
        all.topics = nil
        var out = ByteBuffer()
        XCTAssertThrowsError(try all.write(to: &out, version: 0)) { error in
            XCTAssertEqual(error as? KafkaEncodeError, KafkaEncodeError("MetadataRequest.topics", .nullNotAllowed))
        }
        out.clear()
        try all.write(to: &out, version: 1)
        XCTAssertEqual(bytes(out), [0xFF, 0xFF, 0xFF, 0xFF])
    }

    // MARK: Version rules

    func testFieldsAbsentFromAVersion() throws {
        var out = ByteBuffer()
        // TransactionalId exists from v3 and is not ignorable.
        let transactional = ProduceRequest(transactionalId: "tx", acks: -1, timeoutMs: 1000)
        XCTAssertThrowsError(try transactional.write(to: &out, version: 2)) { error in
            XCTAssertEqual(error as? KafkaEncodeError,
                           KafkaEncodeError("ProduceRequest.transactionalId", .fieldNotInVersion(2)))
        }
        // MaxBytes exists from v3 but is ignorable: silently left out.
        out.clear()
        var fetch = FetchRequest()
        fetch.maxBytes = 5
        XCTAssertNoThrow(try fetch.write(to: &out, version: 2))
        var back = out
        XCTAssertEqual(try FetchRequest(from: &back, version: 2).maxBytes, Int32.max)  // the schema default
        // A nested non-ignorable field with a non-default value.
        out.clear()
        var fetch12 = FetchRequest()
        fetch12.topics = [.init(topic: "t", partitions: [.init(partition: 0, lastFetchedEpoch: 3)])]
        XCTAssertThrowsError(try fetch12.write(to: &out, version: 11)) { error in
            XCTAssertEqual((error as? KafkaEncodeError)?.field, "FetchRequest.FetchPartition.lastFetchedEpoch")
        }
    }

    func testUnsupportedVersions() throws {
        var empty = ByteBuffer()
        XCTAssertThrowsError(try ProduceRequest(from: &empty, version: 12)) { error in
            XCTAssertEqual(error as? KafkaDecodeError, KafkaDecodeError("ProduceRequest", .unsupportedVersion(12)))
        }
        XCTAssertThrowsError(try ProduceRequest().write(to: &empty, version: -1))
        XCTAssertEqual(empty.readableBytes, 0)
    }

    /// A newer client's ApiVersions (v9, say) still has a readable header: flexible
    /// versions are open-ended, so it is read as header v2.
    func testHeaderOfUnknownHigherVersion() throws {
        var frame = ByteBuffer(bytes: [0x00, 0x12, 0x00, 0x09, 0x00, 0x00, 0x00, 0x05, 0xFF, 0xFF, 0x00, 0x42])
        let header = try RequestHeader.read(from: &frame)
        XCTAssertEqual(header, RequestHeader(requestApiKey: 18, requestApiVersion: 9, correlationId: 5, clientId: nil))
        XCTAssertEqual(frame.readableBytes, 1)
        XCTAssertThrowsError(try KafkaRequestBody(header: header, from: &frame))
        // Unknown API keys: the header is read as v1; the body cannot be dispatched.
        var unknown = ByteBuffer(bytes: [0x03, 0xE7, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00])
        let unknownHeader = try RequestHeader.read(from: &unknown)
        XCTAssertNil(unknownHeader.api)
        XCTAssertThrowsError(try KafkaRequestBody(header: unknownHeader, from: &unknown))
    }

    func testResponseHeaderVersions() {
        XCTAssertEqual(KafkaApiKey.apiVersions.responseHeaderVersion(3), 0)
        XCTAssertEqual(KafkaApiKey.apiVersions.requestHeaderVersion(3), 2)
        XCTAssertEqual(KafkaApiKey.produce.requestHeaderVersion(8), 1)
        XCTAssertEqual(KafkaApiKey.produce.requestHeaderVersion(9), 2)
        XCTAssertEqual(KafkaApiKey.produce.responseHeaderVersion(9), 1)
        XCTAssertEqual(KafkaApiKey.saslHandshake.requestHeaderVersion(1), 1)
        XCTAssertEqual(KafkaApiKey.describeCluster.responseHeaderVersion(0), 1)
        XCTAssertEqual(KafkaApiKey.fetch.validVersions, 0...17)
        XCTAssertEqual(KafkaApiKey.fetch.flexibleVersions?.lowerBound, 12)
        XCTAssertNil(KafkaApiKey.offsetDelete.flexibleVersions)
    }

    func testFrameLimits() throws {
        var negative = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertThrowsError(try KafkaFraming.nextFrame(from: &negative))
        var big = ByteBuffer(bytes: [0x00, 0x10, 0x00, 0x00])
        XCTAssertThrowsError(try KafkaFraming.nextFrame(from: &big, maxFrameLength: 1024))
        var partial = ByteBuffer(bytes: [0x00, 0x00, 0x00, 0x03, 0x01])
        XCTAssertNil(try KafkaFraming.nextFrame(from: &partial))
        XCTAssertEqual(partial.readableBytes, 5)
    }

    // MARK: Consumer protocol

    func testConsumerProtocolSubscriptionVersionPrefix() throws {
        var subscription = ConsumerProtocolSubscription()
        subscription.topics = ["a", "b"]
        subscription.userData = nil
        subscription.ownedPartitions = [.init(topic: "a", partitions: [0, 1])]
        subscription.generationId = 3
        subscription.rackId = "r1"
        let encoded = try subscription.encodeVersionPrefixed(version: 3)
        XCTAssertEqual(Array(encoded.prefix(2)), [0x00, 0x03])
        let (version, decoded) = try ConsumerProtocolSubscription.decodeVersionPrefixed(encoded)
        XCTAssertEqual(version, 3)
        XCTAssertEqual(decoded, subscription)

        // A future version with extra trailing fields is read as the highest known one.
        var future = encoded
        future[1] = 7
        future += [0xDE, 0xAD]
        let (futureVersion, futureValue) = try ConsumerProtocolSubscription.decodeVersionPrefixed(future)
        XCTAssertEqual(futureVersion, 7)
        XCTAssertEqual(futureValue, subscription)

        // v0 assignment: topics with partitions, then user data (int32 length).
        let assignment = ConsumerProtocolAssignment(assignedPartitions: [.init(topic: "t", partitions: [2])], userData: nil)
        XCTAssertEqual(try assignment.encodeVersionPrefixed(version: 0), [
            0x00, 0x00,  // version
            0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x74, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
            0xFF, 0xFF, 0xFF, 0xFF,  // null user data
        ])
    }

    // MARK: UUID

    func testUUIDForms() {
        let id = KafkaUUID(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)
        XCTAssertEqual(KafkaUUID(bytes: id.bytes), id)
        XCTAssertEqual(KafkaUUID(base64URL: id.base64URL), id)
        XCTAssertEqual(id.base64URL.count, 22)
        XCTAssertEqual(KafkaUUID.zero.base64URL, "AAAAAAAAAAAAAAAAAAAAAA")
        var rng = SplitMix64(seed: 1)
        let random = KafkaUUID.random(using: &rng)
        XCTAssertEqual(random.high >> 12 & 0xF, 4)
        XCTAssertEqual(random.low >> 62, 2)
        var b = ByteBuffer()
        b.kafkaWriteUUID(id)
        XCTAssertEqual(Array(b.readableBytesView), id.bytes)
        XCTAssertEqual(Array(b.readableBytesView.prefix(2)), [0x01, 0x23])
    }
}

private extension ByteBuffer {
    /// Writing null to a non-nullable string must throw.
    func kafkaWriteNullableStringCopy(_ value: String?) throws {
        var copy = self
        try copy.kafkaWriteNullableString(value, "t", flexible: false, nullable: false)
    }
}

final class ApiVersionsSupportTests: XCTestCase {
    func testSupportedApisAndFallback() throws {
        let apis = ApiVersionsResponse.supportedApis(limits: [.produce: 3...9, .fetch: 4...12], excluding: [.saslHandshake])
        XCTAssertEqual(apis.count, KafkaApiKey.allCases.count - 1)
        XCTAssertEqual(apis.first, .init(apiKey: 0, minVersion: 3, maxVersion: 9))
        XCTAssertEqual(apis.first { $0.apiKey == 1 }, .init(apiKey: 1, minVersion: 4, maxVersion: 12))
        XCTAssertEqual(apis.first { $0.apiKey == 18 }, .init(apiKey: 18, minVersion: 0, maxVersion: 4))
        XCTAssertNil(apis.first { $0.apiKey == 17 })

        // A v9 ApiVersions request is answered with a v0 body and error 35.
        var out = ByteBuffer()
        try ApiVersionsResponse.unsupportedVersion(apis: apis).writeFrame(to: &out, version: 0, correlationId: 3)
        var frame = try XCTUnwrap(try KafkaFraming.nextFrame(from: &out))
        XCTAssertEqual(try ResponseHeader.read(from: &frame, apiKey: 18, apiVersion: 0).correlationId, 3)
        let decoded = try ApiVersionsResponse(from: &frame, version: 0)
        XCTAssertEqual(decoded.errorCode, 35)
        XCTAssertEqual(decoded.apiKeys, apis)
    }
}
