#!/usr/bin/env python3
"""Feeds topics for the Kafka source tests (kafka-python).
  produce B TOPIC PARTITIONS START N [CODEC]  values m-<i>, keys k<i>, header origin=py,
                                              spread over the partitions (topic created if new)
  avro B TOPIC N                              values are Flume Avro events {h1=v<i>} a-<i>
"""
import sys
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

mode, b, topic = sys.argv[1], sys.argv[2], sys.argv[3]

def ensure_topic(partitions):
    a = KafkaAdminClient(bootstrap_servers=b)
    try:
        a.create_topics([NewTopic(topic, partitions, 1)])
    except TopicAlreadyExistsError:
        pass
    a.close()

def avro_long(n):
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        byte = n & 0x7f
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)

def avro_bytes(s):
    return avro_long(len(s)) + s

if mode == "produce":
    parts, start, n = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    codec = sys.argv[7] if len(sys.argv) > 7 and sys.argv[7] != "none" else None
    ensure_topic(parts)
    p = KafkaProducer(bootstrap_servers=b, acks="all", compression_type=codec, linger_ms=5)
    for i in range(start, start + n):
        p.send(topic, ("m-%d" % i).encode(), key=("k%d" % i).encode(), partition=i % parts,
               headers=[("origin", b"py")])
    p.flush()
    print("PRODUCED", n)
elif mode == "avro":
    n = int(sys.argv[4])
    ensure_topic(1)
    p = KafkaProducer(bootstrap_servers=b, acks="all")
    for i in range(n):
        headers = avro_long(1) + avro_bytes(b"h1") + avro_bytes(("v%d" % i).encode()) + avro_long(0)
        p.send(topic, headers + avro_bytes(("a-%d" % i).encode()))
    p.flush()
    print("PRODUCED", n)
