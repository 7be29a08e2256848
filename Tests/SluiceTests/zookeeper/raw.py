"""Requests no installed client library sends, over a plain socket in jute:
multiRead, checkWatches, removeWatches, getEphemerals, whoAmI, and the order
of a watch event relative to the answer that caused it. Prints OK lines."""
import socket
import struct
import sys

host, port = sys.argv[1].rsplit(":", 1)


def ustr(s):
    b = s.encode()
    return struct.pack(">i", len(b)) + b


class Conn:
    def __init__(self):
        self.s = socket.create_connection((host, int(port)), timeout=5)
        self.xid = 0
        self.buf = b""
        self.send_raw(struct.pack(">iqiq", 0, 0, 10000, 0) + struct.pack(">i", 16) + b"\0" * 16 + b"\0")
        body = self.packet()
        self.session = struct.unpack(">q", body[8:16])[0]

    def send_raw(self, body):
        self.s.sendall(struct.pack(">i", len(body)) + body)

    def packet(self):
        while len(self.buf) < 4 or len(self.buf) < 4 + struct.unpack(">i", self.buf[:4])[0]:
            chunk = self.s.recv(65536)
            assert chunk, "connection closed"
            self.buf += chunk
        n = struct.unpack(">i", self.buf[:4])[0]
        p, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
        return p

    def call(self, op, body):
        """Sends a request; returns [(xid, err, body)] up to and including its answer."""
        self.xid += 1
        self.send_raw(struct.pack(">ii", self.xid, op) + body)
        seen = []
        while True:
            p = self.packet()
            xid, zxid, err = struct.unpack(">iqi", p[:16])
            seen.append((xid, err, p[16:]))
            if xid == self.xid:
                return seen


OPEN = struct.pack(">i", 1) + struct.pack(">i", 31) + ustr("world") + ustr("anyone")
c = Conn()
assert c.call(1, ustr("/raw") + struct.pack(">i", 3) + b"abc" + OPEN + struct.pack(">i", 0))[-1][1] == 0
assert c.call(1, ustr("/raw/kid") + struct.pack(">i", 0) + OPEN + struct.pack(">i", 0))[-1][1] == 0
assert c.call(1, ustr("/raw/e") + struct.pack(">i", 0) + OPEN + struct.pack(">i", 1))[-1][1] == 0

# multiRead: getData, getChildren and a missing node, each answered on its own.
body = b""
for op, rec in [(4, ustr("/raw") + b"\0"), (8, ustr("/raw") + b"\0"), (4, ustr("/none") + b"\0")]:
    body += struct.pack(">i?i", op, False, -1) + rec
body += struct.pack(">i?i", -1, True, -1)
xid, err, rsp = c.call(22, body)[-1]
assert err == 0, err
t1, done1, e1 = struct.unpack(">i?i", rsp[:9])
n = struct.unpack(">i", rsp[9:13])[0]
assert (t1, done1, e1) == (4, False, 0) and rsp[13:13 + n] == b"abc", rsp
rest = rsp[13 + n + 68:]  # skip the Stat
t2, _, _ = struct.unpack(">i?i", rest[:9])
count = struct.unpack(">i", rest[9:13])[0]
assert t2 == 8 and count == 2, rest
names = set()
off = 13
for _ in range(count):
    ln = struct.unpack(">i", rest[off:off + 4])[0]
    names.add(rest[off + 4:off + 4 + ln].decode())
    off += 4 + ln
assert names == {"kid", "e"}, names
t3, _, e3 = struct.unpack(">i?i", rest[off:off + 9])
assert (t3, e3) == (-1, -101), (t3, e3)
print("OK multiRead")

# checkWatches / removeWatches: NOWATCHER (-121) until a watch exists.
assert c.call(17, ustr("/raw") + struct.pack(">i", 2))[-1][1] == -121
c.call(4, ustr("/raw") + b"\1")  # getData with a watch
assert c.call(17, ustr("/raw") + struct.pack(">i", 2))[-1][1] == 0
assert c.call(17, ustr("/raw") + struct.pack(">i", 1))[-1][1] == -121  # no child watch
assert c.call(18, ustr("/raw") + struct.pack(">i", 3))[-1][1] == 0
assert c.call(18, ustr("/raw") + struct.pack(">i", 3))[-1][1] == -121
print("OK checkWatches removeWatches")

# A watch event reaches its client before the answer that caused it.
c.call(4, ustr("/raw") + b"\1")
seen = c.call(5, ustr("/raw") + struct.pack(">i", 1) + b"z" + struct.pack(">i", -1))
assert [x for x, _, _ in seen] == [-1, c.xid], seen
etype, state = struct.unpack(">ii", seen[0][2][:8])
assert (etype, state) == (3, 3), (etype, state)  # NodeDataChanged, SyncConnected
print("OK event before answer")

# getEphemerals and whoAmI.
xid, err, rsp = c.call(103, ustr("/raw"))[-1]
assert err == 0 and rsp == struct.pack(">i", 1) + ustr("/raw/e"), rsp
xid, err, rsp = c.call(107, b"")[-1]
assert err == 0 and rsp == struct.pack(">i", 1) + ustr("ip") + ustr("127.0.0.1"), rsp
# An unknown op gets UNIMPLEMENTED (-6) and the connection stays usable.
assert c.call(77, b"")[-1][1] == -6
assert c.call(3, ustr("/raw") + b"\0")[-1][1] == 0
print("OK getEphemerals whoAmI unimplemented")
print("ALL OK")
