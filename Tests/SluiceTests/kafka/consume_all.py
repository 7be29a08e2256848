#!/usr/bin/env python3
"""Reads every record of a topic from earliest with kafka-python (no group);
prints 'COUNT <n> DISTINCT <d>'."""
import sys, time
from kafka import KafkaConsumer, TopicPartition

bootstrap, topic, expect = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
parts = c.partitions_for_topic(topic) or set()
c.assign([TopicPartition(topic, p) for p in parts])
c.seek_to_beginning()
values = []
deadline = time.time() + 30
while len(values) < expect and time.time() < deadline:
    for tp, msgs in c.poll(timeout_ms=500).items():
        values += [m.value for m in msgs]
print("COUNT", len(values), "DISTINCT", len(set(values)))
