#!/usr/bin/env python3
"""Issue-5 benchmark: seq -> memory channel -> Kafka sink into the Sluice
broker (100-byte records), beside librdkafka producing the same number of
100-byte records to the same broker in the same run, twice: from Python
(confluent-kafka, one produce() call per record) and from C (kcat -P
reading a file of lines).

  Benchmarks/kafka_sink_bench.py <release bin dir> [records] [rounds] [batch]

Both are timed from start until the topic's log-end offsets add up to the
record count (for the sink: from the agent's start, process start-up
included). acks=1 for all; the sink sends `batch` (default 10000) events per
channel transaction (seq batchSize = flumeBatchSize = transactionCapacity). Best of `rounds` (default 3) for each, alternating.
"""
import os, shutil, socket, subprocess, sys, tempfile, time
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

BIN = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 3
BATCH = int(sys.argv[4]) if len(sys.argv) > 4 else 10000  # source batchSize = flumeBatchSize = transactionCapacity
WORK = tempfile.mkdtemp(prefix="sluice-sink-bench.", dir="/var/tmp")
PLUGINS = os.path.join(WORK, "plugins")
os.makedirs(PLUGINS, mode=0o700)
for lib in ["libSluiceKafkaBroker.so", "libSluiceSequenceSource.so", "libSluiceKafkaSink.so"]:
    shutil.copy(os.path.join(BIN, lib), PLUGINS)

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def agent(conf_text):
    conf = tempfile.mktemp(dir=WORK, suffix=".conf")
    open(conf, "w").write(conf_text)
    return subprocess.Popen([os.path.join(BIN, "sluice"), "agent", "-n", "a1", "-f", conf, "--plugin-dir", PLUGINS,
                             "--log-level", "warning"])

port = free_port()
bootstrap = f"127.0.0.1:{port}"
broker = agent(f"""a1.services = k1
a1.services.k1.type = kafka
a1.services.k1.listeners = PLAINTEXT://{bootstrap}
a1.services.k1.log.dirs = {WORK}/broker
a1.services.k1.num.partitions = 1
""")
time.sleep(0.7)
watcher = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-watch"})
admin = AdminClient({"bootstrap.servers": bootstrap})

def create(topic):
    # Created up front: the watcher's client caches a topic it asked about too early as unknown.
    for f in admin.create_topics([NewTopic(topic, 1, 1)]).values():
        f.result(30)

def wait_for(topic, n, t0, timeout=300):
    while time.perf_counter() - t0 < timeout:
        try:
            _, high = watcher.get_watermark_offsets(TopicPartition(topic, 0), timeout=5)
            if high >= n:
                return time.perf_counter() - t0
        except Exception:
            pass
        time.sleep(0.01)
    raise SystemExit(f"{topic}: fewer than {n} records after {timeout} s")

def run_sink(topic):
    t0 = time.perf_counter()
    a = agent(f"""a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = seq
a1.sources.r1.totalEvents = {N}
a1.sources.r1.batchSize = {BATCH}
a1.sources.r1.bodySize = 100
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = 100000
a1.channels.c1.transactionCapacity = {BATCH}
a1.sinks.k1.type = kafka
a1.sinks.k1.channel = c1
a1.sinks.k1.kafka.bootstrap.servers = {bootstrap}
a1.sinks.k1.kafka.topic = {topic}
a1.sinks.k1.flumeBatchSize = {BATCH}
a1.sinks.k1.kafka.producer.acks = 1
a1.sinks.k1.kafka.producer.batch.size = 1000000
""")
    dt = wait_for(topic, N, t0)
    a.terminate(); a.wait()
    return dt

LINES = os.path.join(WORK, "lines.txt")
with open(LINES, "wb") as f:
    f.write((b"v" * 100 + b"\n") * N)

def run_kcat(topic):
    """librdkafka driven from C: kcat sends the lines of a file (one record each)."""
    t0 = time.perf_counter()
    subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", topic, "-p", "0", "-X", "acks=1", "-X", "linger.ms=5",
                    "-X", "batch.size=1000000", "-X", "queue.buffering.max.messages=2000000", "-l", LINES],
                   check=True, timeout=300)
    return wait_for(topic, N, t0)

def run_librdkafka(topic):
    p = Producer({"bootstrap.servers": bootstrap, "acks": "1", "linger.ms": 5, "batch.size": 1_000_000,
                  "queue.buffering.max.messages": 2_000_000, "queue.buffering.max.kbytes": 2_000_000})
    value = b"v" * 100
    t0 = time.perf_counter()
    for _ in range(N):
        while True:
            try:
                p.produce(topic, value, partition=0); break
            except BufferError:
                p.poll(0.01)
    p.flush(120)
    return wait_for(topic, N, t0)

try:
    print(f"Kafka sink benchmark: {N} records of 100 bytes, acks=1, {BATCH} events per sink transaction, best of {ROUNDS}; librdkafka "
          f"{__import__('confluent_kafka').libversion()[0]} as the reference, same broker, same run")
    sink, ref, kc = [], [], []
    for r in range(ROUNDS):
        create(f"ref{r}"); create(f"kcat{r}"); create(f"sink{r}")
        ref.append(run_librdkafka(f"ref{r}"))
        kc.append(run_kcat(f"kcat{r}"))
        sink.append(run_sink(f"sink{r}"))
        print(f"  round {r + 1}: librdkafka from Python {N / ref[-1]:10.0f} rec/s   kcat -P {N / kc[-1]:10.0f} rec/s   "
              f"sluice kafka sink {N / sink[-1]:10.0f} rec/s")
    best_ref, best_kc, best_sink = N / min(ref), N / min(kc), N / min(sink)
    best = max(best_ref, best_kc)
    print(f"  best: librdkafka from Python {best_ref:.0f} rec/s, kcat {best_kc:.0f} rec/s, sink {best_sink:.0f} rec/s "
          f"= {best_sink / best * 100:.0f}% of the faster librdkafka (target >= 80%)")
finally:
    watcher.close()
    del admin  # before the broker goes, so librdkafka has nothing to complain about
    broker.terminate(); broker.wait()
    shutil.rmtree(WORK, ignore_errors=True)
