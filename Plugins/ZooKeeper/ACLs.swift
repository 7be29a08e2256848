import Crypto
import ZooKeeperProtocol

/// ACL lists interned to small ids, as ZooKeeper's ACL cache does: most nodes
/// share a handful of lists, so a node stores an Int32.
final class AclCache {
    static let openACL = [ACL(perms: Perms.all, id: Id(scheme: "world", id: "anyone"))]

    private(set) var lists: [[ACL]] = []
    private var ids: [[ACL]: Int32] = [:]

    private var last: (acl: [ACL], id: Int32)?

    func intern(_ acl: [ACL]) -> Int32 {
        // Most creates repeat the previous list: compare before hashing.
        if let last, last.acl == acl { return last.id }
        if let id = ids[acl] {
            last = (acl, id)
            return id
        }
        let id = Int32(lists.count)
        lists.append(acl)
        ids[acl] = id
        return id
    }

    func list(_ id: Int32) -> [ACL] {
        id >= 0 && Int(id) < lists.count ? lists[Int(id)] : AclCache.openACL
    }

    func restore(_ all: [[ACL]]) {
        lists = []
        ids = [:]
        last = nil
        for l in all { _ = intern(l) }
    }
}

/// ACL schemes: world, auth, digest, ip.
enum AclCheck {
    /// `user:base64(sha1(user:password))`, the digest scheme's id for an addAuth of `user:password`.
    static func digestID(_ credentials: String) -> String? {
        guard let colon = credentials.firstIndex(of: ":") else { return nil }
        let user = credentials[..<colon]
        let hash = Insecure.SHA1.hash(data: Array(credentials.utf8))
        return "\(user):\(base64(Array(hash)))"
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b0 = Int(bytes[i]), b1 = i + 1 < bytes.count ? Int(bytes[i + 1]) : 0, b2 = i + 2 < bytes.count ? Int(bytes[i + 2]) : 0
            out.append(table[b0 >> 2])
            out.append(table[((b0 & 3) << 4) | (b1 >> 4)])
            out.append(i + 1 < bytes.count ? table[((b1 & 15) << 2) | (b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? table[b2 & 63] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Does a client holding `auth` ids have `perm` on a node with `acl`?
    static func permits(_ acl: [ACL], _ perm: Int32, auth: [Id]) -> Bool {
        if acl.isEmpty { return true }
        for a in acl where a.perms & perm != 0 {
            switch a.id.scheme {
            case "world":
                if a.id.id == "anyone" { return true }
            case "ip":
                for id in auth where id.scheme == "ip" && ipMatches(pattern: a.id.id, address: id.id) { return true }
            default:
                for id in auth where id.scheme == a.id.scheme && id.id == a.id.id { return true }
            }
        }
        return false
    }

    /// Validates a client-given ACL list and expands `auth` entries into the
    /// client's authenticated ids; nil means INVALIDACL.
    static func fixup(_ acl: [ACL], auth: [Id]) -> [ACL]? {
        guard !acl.isEmpty else { return nil }
        var out: [ACL] = []
        for a in acl {
            guard a.perms & ~Perms.all == 0 else { return nil }
            switch a.id.scheme {
            case "world":
                guard a.id.id == "anyone" else { return nil }
                out.append(a)
            case "auth":
                let ids = auth.filter { $0.scheme == "digest" }
                guard !ids.isEmpty else { return nil }
                for id in ids { out.append(ACL(perms: a.perms, id: id)) }
            case "digest":
                guard a.id.id.contains(":") else { return nil }
                out.append(a)
            case "ip":
                guard parseCIDR(a.id.id) != nil else { return nil }
                out.append(a)
            default:
                return nil
            }
        }
        if out.count < 2 { return out }
        var seen = Set<ACL>()
        return out.filter { seen.insert($0).inserted }
    }

    /// "a.b.c.d" or "a.b.c.d/bits" (IPv4).
    static func parseCIDR(_ s: String) -> (addr: UInt32, bits: Int)? {
        let parts = s.split(separator: "/", maxSplits: 1)
        guard let addr = parseIPv4(String(parts[0])) else { return nil }
        var bits = 32
        if parts.count == 2 {
            guard let b = Int(parts[1]), (0...32).contains(b) else { return nil }
            bits = b
        }
        return (addr, bits)
    }

    static func parseIPv4(_ s: String) -> UInt32? {
        let octets = s.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var v: UInt32 = 0
        for o in octets {
            guard let n = UInt32(o), n < 256 else { return nil }
            v = v << 8 | n
        }
        return v
    }

    static func ipMatches(pattern: String, address: String) -> Bool {
        guard let p = parseCIDR(pattern), let a = parseIPv4(address) else { return false }
        let mask: UInt32 = p.bits == 0 ? 0 : ~UInt32(0) << UInt32(32 - p.bits)
        return p.addr & mask == a & mask
    }
}
