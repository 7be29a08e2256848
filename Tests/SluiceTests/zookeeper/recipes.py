"""kazoo's recipes against the coordinator: Lock, Election, Barrier,
DoubleBarrier, Counter, Queue, LockingQueue, Party. Prints OK <recipe> for each."""
import sys
import threading
import time
from kazoo.client import KazooClient

hosts = sys.argv[1]


def client():
    zk = KazooClient(hosts=hosts, timeout=10)
    zk.start(timeout=10)
    return zk


clients = [client() for _ in range(4)]
a, b, c, d = clients

# Lock: four clients, 50 increments each of a plain (non-atomic) value, under the lock.
a.ensure_path("/recipes/lockdata")
a.set("/recipes/lockdata", b"0")
errors = []


def worker(zk, n):
    lock = zk.Lock("/recipes/lock", "w")
    for _ in range(n):
        with lock:
            v = int(zk.get("/recipes/lockdata")[0])
            zk.set("/recipes/lockdata", str(v + 1).encode())


threads = [threading.Thread(target=worker, args=(zk, 50)) for zk in clients]
for t in threads:
    t.start()
for t in threads:
    t.join()
v = int(a.get("/recipes/lockdata")[0])
assert v == 200, f"lock lost updates: {v}"
print("OK Lock")

# Election: one leader at a time; when it leaves, another takes over.
leaders = []
stop = threading.Event()


def run_for(zk, name):
    def lead():
        leaders.append(name)
        stop.wait(0.5)
    zk.Election("/recipes/election", name).run(lead)


ts = [threading.Thread(target=run_for, args=(zk, f"n{i}")) for i, zk in enumerate([a, b, c])]
for t in ts:
    t.start()
for t in ts:
    t.join(timeout=30)
assert sorted(leaders) == ["n0", "n1", "n2"], leaders
print("OK Election")

# Barrier: waiters block until the barrier node is removed.
barrier = a.Barrier("/recipes/barrier")
barrier.create()
passed = []
bt = threading.Thread(target=lambda: passed.append(b.Barrier("/recipes/barrier").wait(20)))
bt.start()
time.sleep(0.5)
assert not passed
barrier.remove()
bt.join(20)
assert passed == [True], passed
print("OK Barrier")

# DoubleBarrier: three members enter and leave together.
entered = []


def member(zk, i):
    db = zk.DoubleBarrier("/recipes/double", 3)
    db.enter()
    entered.append(i)
    db.leave()


ts = [threading.Thread(target=member, args=(zk, i)) for i, zk in enumerate([a, b, c])]
for t in ts:
    t.start()
for t in ts:
    t.join(30)
assert sorted(entered) == [0, 1, 2], entered
print("OK DoubleBarrier")

# Counter: concurrent increments from four clients (versioned setData retries).
def count(zk):
    ctr = zk.Counter("/recipes/counter")
    for _ in range(25):
        ctr += 1


ts = [threading.Thread(target=count, args=(zk,)) for zk in clients]
for t in ts:
    t.start()
for t in ts:
    t.join()
assert a.Counter("/recipes/counter").value == 100, a.Counter("/recipes/counter").value
print("OK Counter")

# Queue: FIFO with priorities, consumed from another client.
q = a.Queue("/recipes/queue")
for i in range(10):
    q.put(f"item{i}".encode(), priority=100 if i != 7 else 1)
qb = b.Queue("/recipes/queue")
got = [qb.get() for _ in range(10)]
assert got[0] == b"item7" and got[1:] == [f"item{i}".encode() for i in range(10) if i != 7], got
assert qb.get() is None
print("OK Queue")

lq = a.LockingQueue("/recipes/lqueue")
lq.put_all([b"x", b"y"])
lqb = b.LockingQueue("/recipes/lqueue")
item = lqb.get(5)
assert item == b"x", item
assert lqb.consume()
assert lqb.get(5) == b"y" and lqb.consume()
print("OK LockingQueue")

# Party: members are ephemeral; leaving (or closing the session) removes them.
parties = [zk.Party("/recipes/party", f"m{i}") for i, zk in enumerate([a, b, c])]
for p in parties:
    p.join()
assert len(a.Party("/recipes/party")) == 3
parties[1].leave()
assert sorted(a.Party("/recipes/party")) == ["m0", "m2"], list(a.Party("/recipes/party"))
c.stop()
c.close()
deadline = time.time() + 10
while len(a.Party("/recipes/party")) != 1 and time.time() < deadline:
    time.sleep(0.1)
assert list(a.Party("/recipes/party")) == ["m0"], list(a.Party("/recipes/party"))
print("OK Party")

for zk in (a, b, d):
    zk.stop()
    zk.close()
print("ALL OK")
