"""A session survives a server kill -9 and restart.
`restart.py HOSTS MARKER_DIR`: client A creates an ephemeral, writes
MARKER_DIR/ready and waits for MARKER_DIR/restarted (the test kills and
restarts the server meanwhile); A reconnects within its timeout with its
session id and password and still has its session and its ephemeral.
(kazoo drops its watches on any disconnect, firing a NONE event, and never
sends setWatches: c_client.c's restart mode tests those.) Prints OK lines."""
import os
import sys
import time
from kazoo.client import KazooClient
from kazoo.protocol.states import EventType

hosts, marker = sys.argv[1:3]
a = KazooClient(hosts=hosts, timeout=15)
a.start(timeout=10)
sid = a.client_id[0]
a.create("/r/eph", b"", ephemeral=True, makepath=True)
a.create("/r/x", b"before")
open(os.path.join(marker, "ready"), "w").close()
deadline = time.time() + 60
while not os.path.exists(os.path.join(marker, "restarted")) and time.time() < deadline:
    time.sleep(0.05)

b = KazooClient(hosts=hosts, timeout=10)
b.start(timeout=20)
b.set("/r/x", b"after")
# A still has its session (it reconnected with id and password), and its ephemeral.
deadline = time.time() + 20
while not a.connected and time.time() < deadline:
    time.sleep(0.05)
assert a.client_id[0] == sid, (a.client_id, sid)
st = b.exists("/r/eph")
assert st is not None and st.ephemeralOwner == sid, st
assert a.get("/r/x")[0] == b"after"
print("OK session kept")
a.stop()
b.stop()
print("ALL OK")
