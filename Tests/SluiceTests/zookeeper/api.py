"""Operations, error codes, watches and ACLs through kazoo. Prints OK <part>."""
import sys
import threading
import time
from kazoo.client import KazooClient
from kazoo.exceptions import (BadArgumentsError, BadVersionError, NoAuthError, NoChildrenForEphemeralsError,
                              NodeExistsError, NoNodeError, NotEmptyError, InvalidACLError)
from kazoo.protocol.states import EventType
from kazoo.security import make_digest_acl, make_acl, OPEN_ACL_UNSAFE

hosts = sys.argv[1]


def client(**kw):
    zk = KazooClient(hosts=hosts, timeout=10, **kw)
    zk.start(timeout=10)
    return zk


a, b = client(), client()


def expect(exc, fn, *args, **kw):
    try:
        fn(*args, **kw)
    except exc:
        return
    raise AssertionError(f"{fn.__name__}{args} did not raise {exc.__name__}")


# Error codes.
a.create("/api", b"root")
expect(NodeExistsError, a.create, "/api")
expect(NoNodeError, a.create, "/missing/child")
expect(NoNodeError, a.get, "/api/none")
# Paths kazoo would not send as given go out as raw Create requests.
from kazoo.protocol.serialization import Create  # noqa: E402


def raw_create(path):
    r = a.handler.async_result()
    a._call(Create(path, b"", OPEN_ACL_UNSAFE, 0), r)
    return r.get()


for bad in ["/api//x", "/api/.", "/api/..", "/api/x/", "api", "/api/\x01"]:
    expect(BadArgumentsError, raw_create, bad)
assert raw_create("/api/...") == "/api/..."
a.create("/api/v", b"1")
expect(BadVersionError, a.set, "/api/v", b"2", version=5)
a.set("/api/v", b"2", version=0)
expect(BadVersionError, a.delete, "/api/v", version=0)
a.create("/api/v/kid")
expect(NotEmptyError, a.delete, "/api/v")
a.create("/api/eph", ephemeral=True)
expect(NoChildrenForEphemeralsError, a.create, "/api/eph/kid")
stat = a.exists("/api/eph")
assert stat.ephemeralOwner == a.client_id[0], (stat, a.client_id)
s1 = a.create("/api/seq-", sequence=True)
s2 = a.create("/api/seq-", sequence=True)
assert int(s2[-10:]) == int(s1[-10:]) + 1 and len(s2[-10:]) == 10, (s1, s2)
assert a.exists("/api/none") is None
path, st = a.create("/api/c2", b"abc", include_data=True)
assert path == "/api/c2" and st.dataLength == 3 and st.version == 0, st
print("OK errors")

# Watches: one-shot data / child / exists watches, event types, and the event
# arrives before the client can read the new data.
events = []
got = threading.Event()


def watcher(ev):
    events.append((ev.type, ev.path))
    got.set()


b.get("/api/v", watch=watcher)
b.get_children("/api", watch=watcher)
b.exists("/api/new", watch=watcher)
a.set("/api/v", b"3")
a.create("/api/new", b"")
deadline = time.time() + 5
while len(events) < 3 and time.time() < deadline:
    time.sleep(0.02)
assert (EventType.CHANGED, "/api/v") in events, events
assert (EventType.CREATED, "/api/new") in events, events
assert (EventType.CHILD, "/api") in events, events
n = len(events)
a.set("/api/v", b"4")  # one-shot: no second event
time.sleep(0.3)
assert len(events) == n, events
# Deleting a watched node: NodeDeleted to its data watch.
b.get("/api/new", watch=watcher)
a.delete("/api/new")
time.sleep(0.3)
assert events[-1] == (EventType.DELETED, "/api/new"), events
print("OK watches")

# Ordering: a client that saw the event then reads sees the new value.
seen = []
ready = threading.Event()


def ordered(ev):
    seen.append(b.get("/api/v")[0])
    ready.set()


b.get("/api/v", watch=ordered)
a.set("/api/v", b"ordered")
ready.wait(5)
assert seen == [b"ordered"], seen
print("OK ordering")

# ACLs: digest, auth, ip, world; enforced on every operation.
a.add_auth("digest", "alice:pw")
a.create("/api/secret", b"s", acl=[make_digest_acl("alice", "pw", all=True)])
expect(NoAuthError, b.get, "/api/secret")
expect(NoAuthError, b.set, "/api/secret", b"x")
expect(NoAuthError, b.create, "/api/secret/kid")
expect(NoAuthError, b.get_children, "/api/secret")
expect(NoAuthError, b.set_acls, "/api/secret", OPEN_ACL_UNSAFE)
assert a.get("/api/secret")[0] == b"s"
b.add_auth("digest", "alice:pw")
assert b.get("/api/secret")[0] == b"s"
c = client()
c.add_auth("digest", "carol:pw2")
c.create("/api/authed", b"", acl=[make_acl("auth", "", all=True)])
acls, _ = c.get_acls("/api/authed")
assert acls[0].id.scheme == "digest" and acls[0].id.id.startswith("carol:"), acls
expect(NoAuthError, a.get, "/api/authed")
expect(InvalidACLError, a.create, "/api/badacl", acl=[make_acl("world", "someone", all=True)])
a.create("/api/iponly", b"ip", acl=[make_acl("ip", "127.0.0.0/8", read=True)])
assert b.get("/api/iponly")[0] == b"ip"
expect(NoAuthError, b.set, "/api/iponly", b"x")
a.create("/api/other-ip", b"", acl=[make_acl("ip", "10.1.2.3", all=True)])
expect(NoAuthError, b.get, "/api/other-ip")
a.create("/api/readonly", b"r", acl=[make_acl("world", "anyone", read=True, create=True)])
a.create("/api/readonly/x")
expect(NoAuthError, a.delete, "/api/readonly/x")
expect(NoAuthError, a.set, "/api/readonly", b"w")
print("OK acls")

# multi: all-or-none.
t = a.transaction()
t.create("/api/m1")
t.delete("/api/nope")
t.create("/api/m2")
res = t.commit()
assert type(res[0]).__name__ == "RolledBackError" and isinstance(res[1], NoNodeError), res
assert type(res[2]).__name__ == "RuntimeInconsistency", res
assert a.exists("/api/m1") is None
t = a.transaction()
t.create("/api/m1")
t.create("/api/m1/k")
t.set_data("/api/m1", b"d")
t.delete("/api/m1/k")
assert t.commit() == ["/api/m1", "/api/m1/k", a.exists("/api/m1"), True]
print("OK multi")

a.sync("/api")
for zk in (a, b, c):
    zk.stop()
    zk.close()
print("ALL OK")
