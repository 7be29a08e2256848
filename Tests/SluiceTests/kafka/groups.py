#!/usr/bin/env python3
"""Consumer-group checks with kafka-python. Modes:
  produce B TOPIC START N            acks=all, values "v<i>"
  consume B TOPIC GROUP N COMMIT_META  reads N records in the group, commits, prints GOT v..
  commit B TOPIC GROUP OFFSET META   commits partition 0 without reading
  committed B TOPIC GROUP            prints COMMITTED <offset> META <metadata>
  split B TOPIC GROUP                two members share 4 partitions, then one leaves
  admin B GROUP                      list/describe groups and their offsets
"""
import sys, time
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.structs import OffsetAndMetadata

mode, b = sys.argv[1], sys.argv[2]

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
elif mode == "split":
    import threading
    topic, group = sys.argv[3], sys.argv[4]
    a = KafkaAdminClient(bootstrap_servers=b)
    a.create_topics([NewTopic(topic, 4, 1)])
    a.close()
    c1, c2 = consumer(group, max_poll_interval_ms=10000), consumer(group, max_poll_interval_ms=10000)
    c1.subscribe([topic]); c2.subscribe([topic])
    stop = {c1: False, c2: False}
    def run(c):
        while not stop[c]:
            c.poll(timeout_ms=100)
        c.close()
    t1, t2 = threading.Thread(target=run, args=(c1,)), threading.Thread(target=run, args=(c2,))
    t1.start(); t2.start()
    deadline = time.time() + 40
    while time.time() < deadline:
        s1, s2 = c1.assignment(), c2.assignment()
        if len(s1) == 2 and len(s2) == 2 and not (s1 & s2):
            break
        time.sleep(0.1)
    print("SPLIT", len(c1.assignment()), len(c2.assignment()), sorted(p.partition for p in c1.assignment() | c2.assignment()))
    stop[c2] = True
    t2.join()
    deadline = time.time() + 40
    while time.time() < deadline and len(c1.assignment()) != 4:
        time.sleep(0.1)
    print("TAKEOVER", len(c1.assignment()), sorted(p.partition for p in c1.assignment()))
    stop[c1] = True
    t1.join()
elif mode == "admin":
    group = sys.argv[3]
    a = KafkaAdminClient(bootstrap_servers=b)
    print("LIST", repr(a.list_groups()))
    print("DESCRIBE", repr(a.describe_groups([group])))
    print("OFFSETS", repr(a.list_group_offsets({group: None})))
    a.close()
