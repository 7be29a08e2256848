"""Session expiry and reconnection. A child process holding ephemerals is
killed with SIGKILL (no closeSession): after its timeout its ephemerals go
and watchers see NodeDeleted / NodeChildrenChanged. A second session is
resumed by id and password from a new client within its timeout and keeps
its ephemeral. Prints OK <part>."""
import os
import signal
import subprocess
import sys
import threading
import time
from kazoo.client import KazooClient
from kazoo.protocol.states import EventType

hosts = sys.argv[1]

if len(sys.argv) > 2 and sys.argv[2] == "holder":
    zk = KazooClient(hosts=hosts, timeout=2)
    zk.start(timeout=10)
    zk.ensure_path("/sessions")
    zk.create(f"/sessions/{sys.argv[3]}", b"", ephemeral=True)
    sid, pw = zk.client_id
    print(f"SESSION {sid} {pw.hex()} {int(zk._session_timeout)}", flush=True)
    time.sleep(600)
    sys.exit(0)


def holder(name):
    p = subprocess.Popen([sys.executable, __file__, hosts, "holder", name], stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline().split()
    assert line and line[0] == "SESSION", line
    return p, int(line[1]), bytes.fromhex(line[2]), int(line[3])


w = KazooClient(hosts=hosts, timeout=10)
w.start(timeout=10)

# Expiry.
p, sid, pw, timeout = holder("doomed")
assert 1000 <= timeout <= 2000, f"negotiated timeout {timeout}"
events = []
w.exists("/sessions/doomed", watch=lambda e: events.append((e.type, e.path)))
w.get_children("/sessions", watch=lambda e: events.append((e.type, e.path)))
os.kill(p.pid, signal.SIGKILL)
p.wait()
killed = time.time()
time.sleep(0.3)
assert w.exists("/sessions/doomed") is not None, "ephemeral gone before the timeout"
deadline = killed + timeout / 1000 + 5
while len(events) < 2 and time.time() < deadline:
    time.sleep(0.05)
gone_after = time.time() - killed
assert w.exists("/sessions/doomed") is None, "ephemeral still there after expiry"
assert (EventType.DELETED, "/sessions/doomed") in events, events
assert (EventType.CHILD, "/sessions") in events, events
assert gone_after >= timeout / 1000 * 0.9, f"expired after {gone_after:.2f}s, timeout {timeout} ms"
print(f"OK expiry after {gone_after:.2f}s")

# Reconnect within the timeout keeps the session and its ephemeral.
p, sid, pw, timeout = holder("kept")
os.kill(p.pid, signal.SIGKILL)
p.wait()
r = KazooClient(hosts=hosts, timeout=2, client_id=(sid, pw))
r.start(timeout=10)
assert r.client_id[0] == sid, (r.client_id, sid)
time.sleep(timeout / 1000 * 2 + 1)
st = w.exists("/sessions/kept")
assert st is not None and st.ephemeralOwner == sid, st
print("OK reconnect")

# A wrong password is refused as an expired session.
bad = KazooClient(hosts=hosts, timeout=2, client_id=(sid, b"\x00" * 16))
expired = threading.Event()
bad.add_listener(lambda state: expired.set() if state == "LOST" else None)
try:
    bad.start(timeout=5)
except Exception:
    pass
assert expired.wait(5) or bad.client_id is None or bad.client_id[0] != sid, "wrong password accepted"
bad.stop()
print("OK password")

r.stop()
r.close()
time.sleep(0.3)
assert w.exists("/sessions/kept") is None, "closeSession must remove the ephemeral"
print("OK close")
w.stop()
print("ALL OK")
