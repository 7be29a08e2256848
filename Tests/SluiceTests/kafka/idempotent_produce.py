#!/usr/bin/env python3
"""An idempotent librdkafka producer (InitProducerId, sequence numbers):
every record acknowledged once, then read back: 'OK <n>'."""
import sys, time
from confluent_kafka import Producer, Consumer, TopicPartition

bootstrap, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5})
errors = []
for i in range(n):
    p.produce(topic, value=f"i{i}".encode(), on_delivery=lambda e, m: errors.append(e) if e else None)
    p.poll(0)
p.flush(30)
if errors:
    sys.exit(f"delivery errors: {errors[:3]}")
c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False})
c.assign([TopicPartition(topic, 0, 0)])
seen = []
deadline = time.time() + 30
while len(seen) < n and time.time() < deadline:
    m = c.poll(1.0)
    if m is not None and m.error() is None:
        seen.append(m.value())
c.close()
if len(seen) != n or len(set(seen)) != n:
    sys.exit(f"read {len(seen)} records, {len(set(seen))} distinct, expected {n}")
print("OK", n)
