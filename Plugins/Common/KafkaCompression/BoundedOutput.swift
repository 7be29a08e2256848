import KafkaProtocol
import NIOCore

/// The most any codec reads or writes in one call: Kafka sizes are int32, and a ByteBuffer
/// holds at most 4 GiB (it traps past that, so the limit has to be enforced before it).
let largestSize = Int(Int32.max)

/// Where a decompressor writes: appends to a ByteBuffer and stops once more than `limit`
/// bytes came out (the decompression-bomb guard). Each step is offered at most one byte
/// beyond the limit, so going over is noticed without writing far past it.
struct BoundedOutput {
    private(set) var buffer: ByteBuffer
    let codec: KafkaCompression
    let limit: Int
    private let start: Int

    /// Bytes requested per step while the output is small; later steps double it.
    static let initialStep = 64 << 10

    init(appendingTo buffer: ByteBuffer, codec: KafkaCompression, limit: Int) {
        precondition(limit >= 0, "maxOutput must not be negative")
        self.buffer = buffer
        self.codec = codec
        self.limit = min(limit, largestSize)
        self.start = buffer.writerIndex
    }

    var written: Int { buffer.writerIndex - start }

    /// Bytes that may still be written.
    var remaining: Int { limit - written }

    /// Throws `outputTooLarge` unless `count` more bytes fit under the limit.
    func checkRoom(for count: Int) throws {
        guard count <= remaining else { throw KafkaCompressionError(codec, .outputTooLarge(limit: limit)) }
    }

    /// Calls `body` with writable space (at least `minimum` bytes where the limit allows;
    /// never more than one byte beyond it), keeps the bytes `body` says it wrote and returns
    /// their count. Throws `outputTooLarge` once more than `limit` bytes have been written.
    @discardableResult
    mutating func write(minimum: Int = initialStep, _ body: (UnsafeMutableRawBufferPointer) throws -> Int) throws -> Int {
        let allowed = remaining + 1
        let step = min(allowed, max(minimum, written))
        let count = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: step) { space in
            try body(UnsafeMutableRawBufferPointer(rebasing: space.prefix(allowed)))
        }
        guard written <= limit else { throw KafkaCompressionError(codec, .outputTooLarge(limit: limit)) }
        return count
    }
}

/// Throws `inputTooLarge` for inputs the C libraries' length types (and Kafka) cannot take.
func checkInputSize(_ input: UnsafeRawBufferPointer, _ codec: KafkaCompression) throws {
    guard input.count <= largestSize else { throw KafkaCompressionError(codec, .inputTooLarge(input.count)) }
}

/// Calls `body` with `input`, or with an empty buffer at a real address when `input` has
/// none (an empty array's), so the codecs can hand the C libraries a non-NULL pointer.
func withNonNilBase<T>(_ input: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
    if input.baseAddress != nil { return try body(input) }
    var byte: UInt8 = 0
    return try withUnsafeBytes(of: &byte) { try body(UnsafeRawBufferPointer(rebasing: $0[0..<0])) }
}
