#!/usr/bin/env python3
"""Real clients against the broker: confluent-kafka (librdkafka) produces with
each compression codec, with headers and with null keys; kafka-python reads
everything back from earliest. Prints 'OK <n>' or fails with a reason."""
import sys, time
from confluent_kafka import Producer
from kafka import KafkaConsumer, TopicPartition

bootstrap, topic = sys.argv[1], sys.argv[2]
codecs = ["none", "gzip", "snappy", "lz4", "zstd"]
sent = []
for codec in codecs:
    p = Producer({"bootstrap.servers": bootstrap, "compression.type": codec, "linger.ms": 5, "acks": "1"})
    errors = []
    for i in range(50):
        key = None if i % 5 == 0 else f"{codec}-k{i}".encode()
        value = f"{codec}-v{i}".encode()
        headers = [("codec", codec.encode()), ("i", str(i).encode())]
        p.produce(topic, key=key, value=value, headers=headers,
                  on_delivery=lambda err, msg: errors.append(err) if err else None)
        sent.append((key, value, codec, str(i)))
    p.flush(30)
    if errors:
        sys.exit(f"delivery failed with {codec}: {errors[:3]}")

c = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False,
                  consumer_timeout_ms=5000)
parts = c.partitions_for_topic(topic)
c.assign([TopicPartition(topic, p) for p in parts])
c.seek_to_beginning()
got = []
deadline = time.time() + 30
while len(got) < len(sent) and time.time() < deadline:
    for tp, msgs in c.poll(timeout_ms=1000).items():
        for m in msgs:
            h = dict(m.headers)
            got.append((m.key, m.value, h["codec"].decode(), h["i"].decode()))
if sorted(got, key=repr) != sorted(sent, key=repr):
    missing = set(sent) - set(got)
    sys.exit(f"got {len(got)} of {len(sent)} records; missing e.g. {list(missing)[:3]}")
print("OK", len(got))
