import PluginRegex
import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

/// One `filegroups.<g>` entry: a literal directory, a regex the whole file
/// name must match, and the group's static headers.
final class FileGroup {
    let name: String
    let directory: String
    let regex: PCRE2Regex
    let headers: [(key: [UInt8], value: [UInt8])]

    private var cachedNames: [String] = []
    private var cachedMtime: Int64?
    private var listedAt: Int64 = 0
    private var missingLogged = false
    private var badNameLogged = false

    init(name: String, directory: String, regex: PCRE2Regex, headers: [(String, String)]) {
        self.name = name
        self.directory = directory
        self.regex = regex
        self.headers = headers.map { (Array($0.0.utf8), Array($0.1.utf8)) }
    }

    func path(of fileName: String) -> String {
        directory == "/" ? "/" + fileName : directory + "/" + fileName
    }

    /// Names in the directory that match the pattern. With `useCache` the
    /// last listing is reused while the directory's mtime is unchanged, except
    /// right after a change: a listing taken less than 2 s after the mtime
    /// could have missed a later change within the same timestamp tick, so
    /// the directory is listed again until its mtime is older than that.
    func matchingNames(useCache: Bool, context: ComponentContext) -> [String] {
        guard let st = statPath(directory), (st.st_mode & S_IFMT) == S_IFDIR else {
            if !missingLogged {
                context.log(.warn, "file group '\(name)': directory '\(directory)' does not exist or is not a directory; checking again on every poll")
                missingLogged = true
            }
            cachedMtime = nil
            cachedNames = []
            return []
        }
        if missingLogged {
            context.log(.info, "file group '\(name)': directory '\(directory)' is there now")
            missingLogged = false
        }
        let mtime = nanos(st.st_mtim)
        if useCache, let m = cachedMtime, m == mtime, listedAt - mtime >= 2_000_000_000 {
            return cachedNames
        }
        let now = realtimeNanos()
        guard let dir = opendir(directory) else {
            context.log(.warn, "file group '\(name)': cannot list '\(directory)': \(errnoText())")
            return cachedNames
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let found: String?? = withUnsafeBytes(of: &entry.pointee.d_name) { raw -> String?? in
                guard let base = raw.baseAddress else { return nil }
                let length = strnlen(base.assumingMemoryBound(to: CChar.self), raw.count)
                let bytes = UnsafeRawBufferPointer(rebasing: raw[0..<length])
                if length == 0 || (length == 1 && bytes[0] == 0x2e) || (length == 2 && bytes[0] == 0x2e && bytes[1] == 0x2e) {
                    return nil
                }
                guard regex.matches(bytes, context: context) else { return nil }
                return .some(String(validating: bytes, as: UTF8.self))
            }
            switch found {
            case .some(.some(let n)): names.append(n)
            case .some(.none):
                if !badNameLogged {
                    context.log(.warn, "file group '\(name)': skipping a file in '\(directory)' whose name is not valid UTF-8 (logged once)")
                    badNameLogged = true
                }
            case .none: break
            }
        }
        cachedNames = names
        cachedMtime = mtime
        listedAt = now
        return names
    }
}

/// A file being followed, keyed by (device, inode) so it stays the same file
/// across renames.
final class TailFile {
    let id: FileID
    let group: Int
    /// Key of its record in the position table.
    let slot: Int
    var path: String
    var pathBytes: [UInt8]
    var fd: Int32 = -1
    /// Start of the next line to read; lines before it are in a batch.
    var readPos: Int64
    /// End of the lines whose batch was committed: what the position file gets.
    var committedPos: Int64
    /// Bumped when the position restarts from 0, so a batch read before
    /// that cannot move the committed position afterwards.
    var epoch = 0
    var birth: Int64?
    /// Matched by its group's pattern in the last scan.
    var matched = true
    /// Size seen by the last scan (used while the file is closed).
    var scanSize: Int64 = 0
    /// Since when it has been neither matched nor open.
    var missingSince: Int64?
    /// When it was opened or last delivered a line (monotonic ms).
    var lastActivity: Int64 = 0
    /// File size at which only a partial line was left: nothing to do until it changes.
    var stalledSize: Int64 = -1
    /// `readPos` is inside an over-long line that was delivered in pieces.
    var midLine = false
    var deleted = false
    var openFailureLogged = false

    init(id: FileID, group: Int, slot: Int, path: String, pos: Int64, birth: Int64?) {
        self.id = id
        self.group = group
        self.slot = slot
        self.path = path
        self.pathBytes = Array(path.utf8)
        self.readPos = pos
        self.committedPos = pos
        self.birth = birth
    }

    func rename(to newPath: String) {
        path = newPath
        pathBytes = Array(newPath.utf8)
    }

    func closeDescriptor() {
        if fd >= 0 { close(fd) }
        fd = -1
    }
}

/// The read buffer shared by all files (one file is read at a time). It
/// holds the bytes of one file from `offset` on; lines are cut out of it in
/// place, so no line is copied before the host copies it into the batch.
final class ReadBuffer {
    static let initialCapacity = 256 * 1024
    /// A line longer than this is delivered in pieces of this size.
    static let maxCapacity = 64 * 1024 * 1024

    enum Refill {
        case ok
        case full
        case failed(Int32)
    }

    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    var start = 0
    var end = 0
    /// File offset of `base[start]`.
    var offset: Int64 = 0
    /// The last read returned less than asked: the end of the file for now.
    var atEOF = false

    init() {
        capacity = ReadBuffer.initialCapacity
        base = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    func reset(at pos: Int64) {
        start = 0
        end = 0
        offset = pos
        atEOF = false
        if capacity > 4 * ReadBuffer.initialCapacity {
            // Give back what one very long line needed.
            base.deallocate()
            capacity = ReadBuffer.initialCapacity
            base = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        }
    }

    /// Moves the unread bytes to the front and reads more after them,
    /// growing the buffer when one line fills it.
    func refill(fd: Int32) -> Refill {
        if start > 0 {
            if end > start { memmove(base, base + start, end - start) }
            end -= start
            start = 0
        }
        if end == capacity {
            guard capacity < ReadBuffer.maxCapacity else { return .full }
            let bigger = min(capacity * 2, ReadBuffer.maxCapacity)
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: bigger)
            memcpy(grown, base, end)
            base.deallocate()
            base = grown
            capacity = bigger
        }
        while true {
            let want = capacity - end
            let n = pread(fd, base + end, want, off_t(offset + Int64(end)))
            if n < 0 {
                if errno == EINTR { continue }
                return .failed(errno)
            }
            if n < want { atEOF = true }
            end += n
            return .ok
        }
    }
}
