import KafkaProtocol
import NIOCore
import XCTest

/// Every generated message at every valid version: encode a sample with each field of that
/// version set, decode, compare, encode again; every truncation must throw; random damage
/// must never trap.
final class RoundTripTests: XCTestCase {
    func testEveryMessageRoundTripsAtEveryVersion() throws {
        var checked = 0
        for type in allSampleMessages {
            checked += try roundTrip(type)
        }
        // 50 schemas, 2 variants each of every version.
        XCTAssertGreaterThan(checked, 500)
    }

    private func roundTrip<M: SampleMessage>(_ type: M.Type) throws -> Int {
        var count = 0
        for version in M.validVersions {
            for nulls in [false, true] {
                let what = "\(M.self) v\(version)\(nulls ? " with nulls" : "")"
                let value = M.sample(version: version, nulls: nulls)
                var encoded = ByteBuffer()
                do {
                    try value.write(to: &encoded, version: version)
                } catch {
                    XCTFail("\(what): encode failed: \(error)")
                    continue
                }
                let bytes = Array(encoded.readableBytesView)
                var input = encoded
                let decoded: M
                do {
                    decoded = try M(from: &input, version: version)
                } catch {
                    XCTFail("\(what): decode failed: \(error)")
                    continue
                }
                XCTAssertEqual(input.readableBytes, 0, "\(what): bytes left after decoding")
                XCTAssertEqual(decoded, value, "\(what): decoded value differs")
                var again = ByteBuffer()
                try decoded.write(to: &again, version: version)
                XCTAssertEqual(Array(again.readableBytesView), bytes, "\(what): re-encoding differs")

                // Bytes arriving one at a time: every proper prefix must throw.
                for cut in 0..<bytes.count {
                    var partial = ByteBuffer(bytes: bytes[0..<cut])
                    XCTAssertThrowsError(try M(from: &partial, version: version), "\(what): \(cut) of \(bytes.count) bytes decoded")
                }
                count += 1
            }
        }
        return count
    }

    func testDamagedInputNeverTraps() throws {
        var rng = SplitMix64(seed: 0x5eed)
        var decodedOK = 0
        var rejected = 0
        for type in allSampleMessages {
            try damage(type, rng: &rng, decodedOK: &decodedOK, rejected: &rejected)
        }
        XCTAssertGreaterThan(rejected, 0)
        XCTAssertGreaterThan(decodedOK, 0)
    }

    private func damage<M: SampleMessage>(_ type: M.Type, rng: inout SplitMix64, decodedOK: inout Int, rejected: inout Int) throws {
        for version in M.validVersions {
            var encoded = ByteBuffer()
            try M.sample(version: version, nulls: false).write(to: &encoded, version: version)
            let original = Array(encoded.readableBytesView)
            if original.isEmpty { continue }  // e.g. ApiVersionsRequest v0
            for round in 0..<40 {
                var bytes = original
                switch round % 4 {
                case 0:  // one random byte
                    bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
                case 1:  // a byte set to 0xFF (negative lengths, huge varints)
                    bytes[Int(rng.next() % UInt64(bytes.count))] = 0xFF
                case 2:  // several random bytes
                    for _ in 0..<4 { bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next()) }
                default:  // pure noise of the same length
                    bytes = bytes.map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                }
                var input = ByteBuffer(bytes: bytes)
                do {
                    let value = try M(from: &input, version: version)
                    // Whatever decodes must encode again.
                    var out = ByteBuffer()
                    XCTAssertNoThrow(try value.write(to: &out, version: version), "\(M.self) v\(version)")
                    decodedOK += 1
                } catch is KafkaDecodeError {
                    rejected += 1
                }
            }
        }
    }

    /// Requests and responses through the whole path a broker uses: frame, header, dispatch.
    func testFramedDispatchForEveryApiAndVersion() throws {
        var requests = 0
        var responses = 0
        for type in allSampleMessages {
            if let request = type as? any (KafkaRequest & SampleMessage).Type {
                try framedRequest(request)
                requests += 1
            } else if let response = type as? any (KafkaResponse & SampleMessage).Type {
                try framedResponse(response)
                responses += 1
            }
        }
        XCTAssertEqual(requests, KafkaApiKey.allCases.count)
        XCTAssertEqual(responses, KafkaApiKey.allCases.count)
    }

    private func framedRequest<R: KafkaRequest & SampleMessage>(_ type: R.Type) throws {
        XCTAssertEqual(R.api.validVersions, R.validVersions)
        XCTAssertTrue(R.api.requestType == R.self)
        XCTAssertTrue(R.api.responseType == R.Response.self)
        for version in R.validVersions {
            let value = R.sample(version: version, nulls: false)
            var stream = ByteBuffer()
            try value.writeFrame(to: &stream, version: version, correlationId: 4242, clientId: "sluice-test")
            stream.writeBytes([9, 9])  // start of a next frame
            guard var frame = try KafkaFraming.nextFrame(from: &stream) else {
                XCTFail("no frame")
                return
            }
            XCTAssertEqual(stream.readableBytes, 2)
            XCTAssertNil(try KafkaFraming.nextFrame(from: &stream))
            let header = try RequestHeader.read(from: &frame)
            XCTAssertEqual(header.requestApiKey, R.apiKey)
            XCTAssertEqual(header.requestApiVersion, version)
            XCTAssertEqual(header.correlationId, 4242)
            XCTAssertEqual(header.clientId, "sluice-test")
            let body = try KafkaRequestBody(header: header, from: &frame)
            XCTAssertEqual(body.apiKey, R.api)
            XCTAssertEqual(body.message as? R, value, "\(R.self) v\(version)")
            XCTAssertEqual(frame.readableBytes, 0)
        }
    }

    private func framedResponse<R: KafkaResponse & SampleMessage>(_ type: R.Type) throws {
        for version in R.validVersions {
            let value = R.sample(version: version, nulls: false)
            var stream = ByteBuffer()
            try value.writeFrame(to: &stream, version: version, correlationId: -7)
            guard var frame = try KafkaFraming.nextFrame(from: &stream) else {
                XCTFail("no frame")
                return
            }
            let header = try ResponseHeader.read(from: &frame, apiKey: R.apiKey, apiVersion: version)
            XCTAssertEqual(header.correlationId, -7)
            let body = try KafkaResponseBody(apiKey: R.api, version: version, from: &frame)
            XCTAssertEqual(body.message as? R, value, "\(R.self) v\(version)")
            XCTAssertEqual(frame.readableBytes, 0)
        }
    }
}

/// Small deterministic generator for the damage test.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
