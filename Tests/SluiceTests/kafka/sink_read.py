#!/usr/bin/env python3
"""Reads every record of a topic from the earliest offset with kafka-python
(no group) until `expect` records arrived and nothing more came for a
moment, or 60 s passed.

  sink_read.py BOOTSTRAP TOPIC EXPECT dump [avro]
      one JSON object per record: partition, key, value, headers, timestamp,
      and for keyed records the partition Kafka's default partitioner picks;
      with 'avro' the value is decoded as Flume's AvroFlumeEvent
      ({"headers": {...}, "body": "..."}).
  sink_read.py BOOTSTRAP TOPIC EXPECT seq
      'COUNT <records> DISTINCT <distinct values> MISSING <n>' where MISSING
      counts the integers 0..EXPECT-1 that no record value holds.
"""
import json, sys, time
from kafka import KafkaConsumer, TopicPartition
from kafka.partitioner.default import murmur2

bootstrap, topic, expect, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
avro = len(sys.argv) > 5 and sys.argv[5] == "avro"


def avro_long(b, i):
    shift, acc = 0, 0
    while True:
        byte = b[i]
        i += 1
        acc |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return (acc >> 1) ^ -(acc & 1), i


def avro_flume_event(b):
    """AvroFlumeEvent { map<string> headers; bytes body; } in Avro binary."""
    headers, i = {}, 0
    while True:
        n, i = avro_long(b, i)
        if n == 0:
            break
        if n < 0:  # a block with its byte size after the count
            n = -n
            _, i = avro_long(b, i)
        for _ in range(n):
            kl, i = avro_long(b, i)
            k = b[i:i + kl].decode()
            i += kl
            vl, i = avro_long(b, i)
            headers[k] = b[i:i + vl].decode()
            i += vl
    bl, i = avro_long(b, i)
    body = b[i:i + bl].decode()
    assert i + bl == len(b), "trailing bytes after the body"
    return {"headers": headers, "body": body}


c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=1000)
deadline = time.time() + 60
parts = None
while not parts and time.time() < deadline:
    parts = c.partitions_for_topic(topic)
    if not parts:
        time.sleep(0.2)
parts = parts or set()
c.assign([TopicPartition(topic, p) for p in sorted(parts)])
c.seek_to_beginning()
records = []
idle_since = None
while time.time() < deadline:
    got = 0
    for tp, msgs in c.poll(timeout_ms=300).items():
        records += msgs
        got += len(msgs)
    if len(records) >= expect:
        if got:
            idle_since = time.time()
        elif idle_since is None:
            idle_since = time.time()
        elif time.time() - idle_since > 1.0:
            break

if mode == "seq":
    values = [r.value.decode() for r in records]
    present = set(values)
    missing = sum(1 for i in range(expect) if str(i) not in present)
    print("COUNT", len(values), "DISTINCT", len(present), "MISSING", missing)
else:
    for r in records:
        value = avro_flume_event(r.value) if avro else r.value.decode()
        print(json.dumps({
            "partition": r.partition,
            "key": None if r.key is None else r.key.decode(),
            "value": value,
            "headers": {k: v.decode() for k, v in (r.headers or [])},
            "timestamp": r.timestamp,
            "keyPartition": None if r.key is None else (murmur2(r.key) & 0x7FFFFFFF) % len(parts),
        }))
