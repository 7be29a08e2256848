import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// Hands out producer ids for idempotent producers (InitProducerId). Ids
/// must never repeat across restarts, so the next free id is persisted in
/// blocks: a crash skips the rest of a block, it never reuses one.
final class ProducerIDs: @unchecked Sendable {
    private static let block: Int64 = 1000
    private let path: String
    private let state: Locked<(next: Int64, limit: Int64)>

    init(directory: String) throws {
        path = directory + "/sluice-producer-ids"
        var start: Int64 = 0
        if let f = fopen(path, "r") {
            var buf = [CChar](repeating: 0, count: 64)
            if fgets(&buf, 64, f) != nil { start = Int64(String(cString: buf).trimmingSpaces.filter { $0.isNumber }) ?? 0 }
            fclose(f)
        }
        state = Locked((start, start))
    }

    func next() throws -> Int64 {
        try state.withLock { s in
            if s.next >= s.limit {
                let limit = s.limit + Self.block
                try persist(limit)
                s.limit = limit
            }
            defer { s.next += 1 }
            return s.next
        }
    }

    private func persist(_ limit: Int64) throws {
        let tmp = path + ".tmp"
        guard let f = fopen(tmp, "w") else { throw SluiceError.io("cannot write \(tmp): \(String(cString: strerror(errno)))") }
        fputs("\(limit)\n", f)
        fflush(f)
        fsync(fileno(f))
        fclose(f)
        guard rename(tmp, path) == 0 else { throw SluiceError.io("cannot rename \(tmp): \(String(cString: strerror(errno)))") }
    }
}
