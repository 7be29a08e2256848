import CSluiceCRC

/// CRC-32C (Castagnoli), the checksum of record batch v2. Exposed so tests and
/// callers that build batches need not link the C target themselves.
public enum CRC32C {
    /// Checksum of `bytes`, or the continuation of `initial` over them.
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing initial: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return initial }
        return sluice_crc32c(initial, base, bytes.count)
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }
}
