#!/usr/bin/env python3
"""Produces N records with acks=all through librdkafka and prints the
offsets the broker acknowledged: 'ACKED <n>'."""
import sys
from confluent_kafka import Producer

bootstrap, topic, n, prefix = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 2})
acked = []
def done(err, msg):
    if err is None:
        acked.append(msg.value())
for i in range(n):
    p.produce(topic, key=b"k", value=f"{prefix}{i}".encode(), on_delivery=done)
    p.poll(0)
p.flush(30)
print("ACKED", len(acked))
