/// Kafka's 32-bit murmur2 (the Java client's `Utils.murmur2`), the hash its
/// default partitioner applies to record keys.
public func kafkaMurmur2(_ data: UnsafeRawBufferPointer) -> Int32 {
    let m: UInt32 = 0x5bd1_e995
    let r: UInt32 = 24
    let length = data.count
    var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: length)
    var i = 0
    while i + 4 <= length {
        var k = UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24
        k = k &* m
        k ^= k >> r
        k = k &* m
        h = h &* m
        h ^= k
        i += 4
    }
    let tail = length & 3
    if tail == 3 { h ^= UInt32(data[i + 2]) << 16 }
    if tail >= 2 { h ^= UInt32(data[i + 1]) << 8 }
    if tail >= 1 {
        h ^= UInt32(data[i])
        h = h &* m
    }
    h ^= h >> 13
    h = h &* m
    h ^= h >> 15
    return Int32(bitPattern: h)
}

/// The partition Kafka's default partitioner gives a keyed record:
/// `toPositive(murmur2(key)) % numPartitions` over all partitions, so a key
/// lands where a Java producer would put it.
public func kafkaPartition(forKey key: UnsafeRawBufferPointer, partitionCount: Int) -> Int32 {
    let positive = kafkaMurmur2(key) & 0x7fff_ffff
    return Int32(Int(positive) % partitionCount)
}

/// Where records without a key (and without a partition) go: one partition
/// until `batchSize` bytes went to it, then the next available one (Kafka's
/// sticky partitioning), so batches fill up instead of spreading thin.
struct StickyPartitioner {
    private var current: Int32 = -1
    private var bytes = 0
    private var turn: Int

    init(seed: Int) { turn = seed }

    mutating func partition(available: [Int32], partitionCount: Int, recordBytes: Int, batchSize: Int) -> Int32 {
        if current < 0 || bytes >= max(batchSize, 1) || Int(current) >= partitionCount {
            let pool = available.isEmpty ? Array(0..<Int32(partitionCount)) : available
            turn = (turn &+ 1) & Int.max
            let next = pool[turn % pool.count]
            // Move on when there is somewhere else to go.
            current = next == current && pool.count > 1 ? pool[(turn &+ 1) % pool.count] : next
            bytes = 0
        }
        bytes += recordBytes
        return current
    }
}
