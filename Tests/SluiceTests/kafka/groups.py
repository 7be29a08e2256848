#!/usr/bin/env python3
"""Consumer-group checks with kafka-python. Modes:
  produce B TOPIC START N            acks=all, values "v<i>"
  consume B TOPIC GROUP N COMMIT_META  reads N records in the group, commits, prints GOT v..
  commit B TOPIC GROUP OFFSET META   commits partition 0 without reading
  committed B TOPIC GROUP            prints COMMITTED <offset> META <metadata>
  split B TOPIC GROUP                two member processes share 4 partitions, then one leaves
  member B TOPIC GROUP [SESSION_MS]  one member; prints ASSIGN lines, leaves on a stdin line
  admin B GROUP                      list/describe groups and their offsets
"""
import os, sys, time
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.structs import OffsetAndMetadata

mode, b = sys.argv[1], sys.argv[2]
if os.environ.get("KAFKA_DEBUG_DIR"):  # client debug log per process, for diagnosis
    import logging
    logging.basicConfig(filename="%s/%s-%d.log" % (os.environ["KAFKA_DEBUG_DIR"], mode, os.getpid()),
                        level=logging.DEBUG, format="%(asctime)s %(threadName)s %(name)s %(message)s")

def consumer(group, **kw):
    return KafkaConsumer(bootstrap_servers=b, group_id=group, enable_auto_commit=False,
                         auto_offset_reset="earliest", session_timeout_ms=10000,
                         heartbeat_interval_ms=500, **kw)

if mode == "produce":
    topic, start, n = sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    p = KafkaProducer(bootstrap_servers=b, acks="all")
    for i in range(start, start + n):
        p.send(topic, ("v%d" % i).encode(), partition=0)
    p.flush()
    print("PRODUCED", n)
elif mode == "consume":
    topic, group, n, meta = sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
    c = consumer(group, max_poll_records=1)
    c.subscribe([topic])
    got, deadline = [], time.time() + 30
    while len(got) < n and time.time() < deadline:
        for tp, msgs in c.poll(timeout_ms=200, max_records=1).items():
            for m in msgs:
                got.append(m.value.decode())
                c.commit({TopicPartition(topic, m.partition): OffsetAndMetadata(m.offset + 1, meta, -1)})
    print("GOT", " ".join(got))
    c.close()
elif mode == "commit":
    topic, group, off, meta = sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
    c = KafkaConsumer(bootstrap_servers=b, group_id=group, enable_auto_commit=False)
    tp = TopicPartition(topic, 0)
    c.assign([tp])
    c.commit({tp: OffsetAndMetadata(off, meta, -1)})
    print("COMMITTED-OK")
    c.close()
elif mode == "committed":
    topic, group = sys.argv[3], sys.argv[4]
    c = KafkaConsumer(bootstrap_servers=b, group_id=group, enable_auto_commit=False)
    r = c.committed(TopicPartition(topic, 0), metadata=True)
    print("COMMITTED", r.offset if r else None, "META", r.metadata if r else None)
    c.close()
elif mode == "member":
    # One group member in its own process; prints ASSIGN <partitions> on every
    # change and leaves the group when a line arrives on stdin.
    import select
    topic, group = sys.argv[3], sys.argv[4]
    session = int(sys.argv[5]) if len(sys.argv) > 5 else 10000
    c = KafkaConsumer(bootstrap_servers=b, group_id=group, enable_auto_commit=False,
                      auto_offset_reset="earliest", session_timeout_ms=session,
                      heartbeat_interval_ms=500, max_poll_interval_ms=10000)
    c.subscribe([topic])
    last = None
    while not select.select([sys.stdin], [], [], 0)[0]:
        # A poll that returns while a JoinGroup/SyncGroup is still in flight
        # can leave kafka-python's heartbeat disabled for good (its PR #2617
        # describes the race); a poll longer than a rebalance avoids it.
        c.poll(timeout_ms=2000)
        now = sorted(p.partition for p in c.assignment())
        if now != last:
            print("ASSIGN", ",".join(map(str, now)), flush=True)
            last = now
    c.close()
elif mode == "split":
    # Separate processes: kafka-python 3 shares one I/O thread between the
    # consumers of a process, and two members in one process can stall it.
    import subprocess, threading
    topic, group = sys.argv[3], sys.argv[4]
    a = KafkaAdminClient(bootstrap_servers=b)
    a.create_topics([NewTopic(topic, 4, 1)])
    a.close()
    members, seen = [], [set(), set()]
    def watch(i, proc):
        for line in proc.stdout:
            if line.startswith("ASSIGN"):
                parts = line.split()[1:]
                seen[i] = set(int(x) for x in parts[0].split(",")) if parts else set()
    for i in range(2):
        proc = subprocess.Popen([sys.executable, __file__, "member", b, topic, group],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        threading.Thread(target=watch, args=(i, proc), daemon=True).start()
        members.append(proc)
    deadline = time.time() + 40
    while time.time() < deadline:
        if len(seen[0]) == 2 and len(seen[1]) == 2 and not (seen[0] & seen[1]):
            break
        time.sleep(0.1)
    print("SPLIT", len(seen[0]), len(seen[1]), sorted(seen[0] | seen[1]), flush=True)
    members[1].stdin.write("stop\n"); members[1].stdin.flush()
    members[1].wait(30)
    deadline = time.time() + 40
    while time.time() < deadline and len(seen[0]) != 4:
        time.sleep(0.1)
    print("TAKEOVER", len(seen[0]), sorted(seen[0]), flush=True)
    members[0].stdin.write("stop\n"); members[0].stdin.flush()
    members[0].wait(30)
elif mode == "admin":
    group = sys.argv[3]
    a = KafkaAdminClient(bootstrap_servers=b)
    print("LIST", repr(a.list_groups()))
    print("DESCRIBE", repr(a.describe_groups([group])))
    print("OFFSETS", repr(a.list_group_offsets({group: None})))
    a.close()
