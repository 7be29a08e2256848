#!/usr/bin/env python3
"""Group checks that mix clients: librdkafka (confluent-kafka) beside kafka-python.
  expire B TOPIC GROUP   a confluent-kafka member and a kafka-python member split
                         4 partitions; the kafka-python process is killed with -9
                         and the confluent-kafka member gets all 4 once its
                         session expires (not through a LeaveGroup)
  delete B TOPIC GROUP   OffsetDelete and DeleteGroups: refused while the group
                         is active/subscribed, done once it is empty
"""
import os, signal, subprocess, sys, threading, time
from confluent_kafka import Consumer, Producer, TopicPartition, KafkaError
from confluent_kafka.admin import AdminClient, NewTopic

mode, b, topic, group = sys.argv[1:5]
groups_py = os.path.join(os.path.dirname(os.path.abspath(__file__)), "groups.py")

def create_topic(n):
    a = AdminClient({"bootstrap.servers": b})
    for f in a.create_topics([NewTopic(topic, n, 1)]).values():
        f.result(30)
    return a

if mode == "expire":
    create_topic(4)
    assigned = set()
    def on_assign(c, parts):
        assigned.clear(); assigned.update(p.partition for p in parts)
    def on_revoke(c, parts):
        assigned.clear()
    ck = Consumer({"bootstrap.servers": b, "group.id": group, "session.timeout.ms": 6000,
                   "heartbeat.interval.ms": 500, "auto.offset.reset": "earliest",
                   "partition.assignment.strategy": "range"})
    ck.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
    other = set()
    member = subprocess.Popen([sys.executable, groups_py, "member", b, topic, group, "6000"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    def watch():
        for line in member.stdout:
            if line.startswith("ASSIGN"):
                parts = line.split()[1:]
                other.clear(); other.update(int(x) for x in parts[0].split(",")) if parts else None
    threading.Thread(target=watch, daemon=True).start()
    deadline = time.time() + 40
    while time.time() < deadline and not (len(assigned) == 2 and len(other) == 2 and not (assigned & other)):
        ck.poll(0.1)
    print("SPLIT", len(assigned), len(other), sorted(assigned | other), flush=True)
    os.kill(member.pid, signal.SIGKILL)
    member.wait()
    killed = time.time()
    while time.time() < killed + 40 and len(assigned) != 4:
        ck.poll(0.1)
    print("EXPIRED", len(assigned), sorted(assigned), "after %.0f s" % (time.time() - killed), flush=True)
    ck.close()

elif mode == "delete":
    from kafka import KafkaConsumer
    from kafka.admin import KafkaAdminClient
    from kafka.structs import OffsetAndMetadata
    create_topic(1)
    p = Producer({"bootstrap.servers": b})
    for i in range(3):
        p.produce(topic, b"v%d" % i, partition=0)
    p.flush(30)
    c = KafkaConsumer(bootstrap_servers=b, group_id=group, enable_auto_commit=False,
                      auto_offset_reset="earliest", heartbeat_interval_ms=500)
    c.subscribe([topic])
    deadline = time.time() + 30
    while time.time() < deadline and not c.assignment():
        c.poll(timeout_ms=2000)
    tp = TopicPartition(topic, 0)
    from kafka import TopicPartition as KTP
    c.commit({KTP(topic, 0): OffsetAndMetadata(2, "m", -1)})
    ka = KafkaAdminClient(bootstrap_servers=b)
    def offsets():
        r = ka.list_group_offsets(group)
        r = r.get(group, r)  # {group: {tp: offset}} in kafka-python 3
        return {k.partition: v.offset for k, v in r.items()}
    print("OFFSETS", offsets())
    try:
        r = ka.delete_group_offsets(group, [KTP(topic, 0)])
        print("DELETE-OFFSETS-ACTIVE", r)
    except Exception as e:
        print("DELETE-OFFSETS-ACTIVE", type(e).__name__)
    print("DELETE-GROUP-ACTIVE", ka.delete_groups([group]))
    c.close()
    r = ka.delete_group_offsets(group, [KTP(topic, 0)])
    print("DELETE-OFFSETS-EMPTY", r)
    print("OFFSETS-AFTER", offsets())
    # confluent-kafka's admin client deletes the (now empty) group.
    ca = AdminClient({"bootstrap.servers": b})
    for g, f in ca.delete_consumer_groups([group]).items():
        f.result(30)
        print("DELETED", g)
    print("LISTED", group in [x.group_id for x in ca.list_consumer_groups().result(30).valid])
    try:
        for g, f in ca.delete_consumer_groups([group]).items():
            f.result(30)
        print("DELETE-AGAIN ok")
    except Exception as e:
        print("DELETE-AGAIN", e.args[0].name() if e.args and hasattr(e.args[0], "name") else e)
    ka.close()
