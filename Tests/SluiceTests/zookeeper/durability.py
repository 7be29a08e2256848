"""kill -9 durability. `write HOSTS ACKFILE`: creates /dur/k<i> and sets
/dur/last to i, appending "ACK i czxid" to ACKFILE (flushed) after each answer,
until the server goes away. `verify HOSTS ACKFILE`: every acknowledged write is
present with its data, /dur/last is at least the last acknowledged i, and a
new write gets a zxid above every acknowledged one."""
import sys
from kazoo.client import KazooClient

mode, hosts, ackfile = sys.argv[1:4]
zk = KazooClient(hosts=hosts, timeout=10, connection_retry=None, command_retry=None)
zk.start(timeout=10)

if mode == "clear":
    zk.delete("/dur", recursive=True)
    zk.stop()
    sys.exit(0)

if mode == "write":
    zk.ensure_path("/dur")
    zk.create("/dur/last", b"-1")
    with open(ackfile, "w") as out:
        i = 0
        try:
            while True:
                _, st = zk.create(f"/dur/k{i}", f"v{i}".encode(), include_data=True)
                st2 = zk.set("/dur/last", str(i).encode())
                out.write(f"ACK {i} {st2.mzxid}\n")
                out.flush()
                i += 1
        except Exception as e:
            print(f"STOPPED after {i}: {type(e).__name__}")
    sys.exit(0)

acked = [tuple(line.split()[1:3]) for line in open(ackfile) if line.startswith("ACK ")]
assert acked, "nothing was acknowledged"
missing = [i for i, _ in acked if zk.exists(f"/dur/k{i}") is None]
assert not missing, f"{len(missing)} acknowledged creates lost, first {missing[:5]}"
bad = [i for i, _ in acked if zk.get(f"/dur/k{i}")[0] != f"v{i}".encode()]
assert not bad, f"wrong data for {bad[:5]}"
last = int(zk.get("/dur/last")[0])
assert last >= int(acked[-1][0]), f"/dur/last is {last}, acknowledged {acked[-1][0]}"
parent = zk.exists("/dur")
# Only creates happen under /dur, so its cversion counts its children (a
# replay over a fuzzy snapshot must not lose or double an increment).
assert parent.cversion == parent.numChildren, parent
top = max(int(z) for _, z in acked)
_, st = zk.create("/dur/after-restart", b"", include_data=True)
assert st.czxid > top, f"zxid went backwards: {st.czxid:#x} <= {top:#x}"
print(f"VERIFIED {len(acked)} last={last} zxid {top:#x} -> {st.czxid:#x}")
zk.stop()
