#!/usr/bin/env python3
"""Topic administration through kafka-python's admin client."""
import sys
from kafka.admin import KafkaAdminClient, NewTopic, NewPartitions

bootstrap = sys.argv[1]
a = KafkaAdminClient(bootstrap_servers=bootstrap)
a.create_topics([NewTopic("admin-t", num_partitions=3, replication_factor=1)])
topics = a.list_topics()
assert "admin-t" in topics, topics
meta = a.describe_topics(["admin-t"])
assert len(meta[0]["partitions"]) == 3, meta
try:
    a.create_topics([NewTopic("admin-t", num_partitions=1, replication_factor=1)])
    sys.exit("creating an existing topic should fail")
except Exception as e:
    assert "TopicAlreadyExists" in type(e).__name__ or "TopicAlreadyExists" in str(e), repr(e)
from kafka.admin import ConfigResource, ConfigResourceType
cfg = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "admin-t")], config_filter="all")
text = repr(cfg)
assert "retention.ms" in text and "604800000" in text, text
cfg = a.describe_configs([ConfigResource(ConfigResourceType.BROKER, "0")], config_filter="all")
assert "num.partitions" in repr(cfg), repr(cfg)
a.create_partitions({"admin-t": NewPartitions(total_count=5)})
meta = a.describe_topics(["admin-t"])
assert len(meta[0]["partitions"]) == 5, meta
a.delete_topics(["admin-t"])
assert "admin-t" not in a.list_topics()
print("OK")
