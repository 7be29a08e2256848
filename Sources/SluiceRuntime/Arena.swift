#if canImport(Glibc)
import Glibc
#endif

/// Bump allocator for event bytes. Every byte of an event (body, header keys
/// and values, header arrays) lives in an arena; the arena is freed as a
/// whole when the last batch or channel chunk holding it lets go, so moving
/// events between batches and channels never copies their bytes.
/// Not thread-safe: one writer (the batch that owns it), then read-only.
final class Arena {
    private var blocks: [UnsafeMutableRawPointer] = []
    private var cursor: UnsafeMutableRawPointer?
    private var remaining = 0
    private var blockSize: Int
    private(set) var bytesAllocated = 0

    init(initialBlockSize: Int = 64 * 1024) {
        blockSize = max(4096, initialBlockSize)
    }

    deinit {
        for b in blocks { free(b) }
    }

    /// Memory for `count` bytes aligned to 8; nil only when malloc fails.
    @inline(__always)
    func allocate(_ count: Int) -> UnsafeMutableRawPointer? {
        let n = (count + 7) & ~7
        if n > remaining { return grow(n) }
        let p = cursor!
        cursor = p + n
        remaining -= n
        return p
    }

    private func grow(_ n: Int) -> UnsafeMutableRawPointer? {
        if n > blockSize / 4 {
            // Large values get their own block so the current one keeps its tail.
            guard let p = malloc(n) else { return nil }
            blocks.append(p)
            bytesAllocated += n
            return p
        }
        guard let p = malloc(blockSize) else { return nil }
        blocks.append(p)
        bytesAllocated += blockSize
        cursor = p + n
        remaining = blockSize - n
        if blockSize < 1 << 20 { blockSize *= 2 }
        return p
    }

    /// Copies `count` bytes into the arena.
    @inline(__always)
    func copy(_ src: UnsafeRawPointer?, _ count: Int) -> UnsafePointer<UInt8>? {
        if count == 0 { return nil }
        guard let src, let dst = allocate(count) else { return nil }
        dst.copyMemory(from: src, byteCount: count)
        return UnsafePointer(dst.assumingMemoryBound(to: UInt8.self))
    }
}
