#!/usr/bin/env python3
"""Fetch across many segments and partitions, in a flexible and a classic
Fetch version.  fetch_many.py BOOTSTRAP TOPIC
Produces 3 x 1500 keyed records with confluent-kafka, then reads them back
with kafka-python twice: negotiating the newest Fetch (v12, flexible) and
pinned to api_version 1.0 (Fetch v6, classic encoding). Prints one line per
read: OK <version label> <count> or BAD <details>."""
import sys
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer, TopicPartition

b, topic = sys.argv[1], sys.argv[2]
admin = AdminClient({"bootstrap.servers": b})
for f in admin.create_topics([NewTopic(topic, 3, 1)]).values():
    f.result(30)
p = Producer({"bootstrap.servers": b, "linger.ms": 5, "batch.num.messages": 50})
want = {}
for part in range(3):
    want[part] = ["p%d-%d-%s" % (part, i, "x" * (i % 200)) for i in range(1500)]
    for v in want[part]:
        p.produce(topic, v.encode(), key=b"k", partition=part)
p.flush(60)

for label, kw in [("newest", {}), ("classic", {"api_version": (1, 0)})]:
    c = KafkaConsumer(bootstrap_servers=b, enable_auto_commit=False, consumer_timeout_ms=5000,
                      fetch_max_bytes=70000, max_partition_fetch_bytes=30000, **kw)
    tps = [TopicPartition(topic, i) for i in range(3)]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    got = {0: [], 1: [], 2: []}
    for m in c:
        got[m.partition].append(m.value.decode())
        if sum(map(len, got.values())) == 4500:
            break
    c.close()
    bad = [i for i in range(3) if got[i] != want[i]]
    print(("OK %s %d" % (label, sum(map(len, got.values())))) if not bad
          else "BAD %s partitions %s: got %s" % (label, bad, {i: len(got[i]) for i in range(3)}), flush=True)
