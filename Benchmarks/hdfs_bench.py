#!/usr/bin/env python3
"""Issue-7 benchmark: seq → memory → hdfs sink (local destination,
DataStream, 1 KiB lines, large hdfs.batchSize) in MB/s, beside this disk's
sequential write rate measured in the same run:

  * "synced chunks": the same number of bytes written in batch-sized chunks,
    one fdatasync per chunk (what the sink does per transaction);
  * "plain": 512 MiB of plain writes and one fsync at the end.

  Benchmarks/hdfs_bench.py <release bin dir> [MB] [batchSize] [work dir]

The machine is shared and noisy: every figure is the best of 3 runs, the disk
being measured between the sink runs. Prints its figures; Benchmarks/README.md
keeps the results."""
import json, os, shutil, subprocess, sys, tempfile, time, urllib.request

BIN = sys.argv[1]
MB = int(sys.argv[2]) if len(sys.argv) > 2 else 400
BATCH = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
WORK = sys.argv[4] if len(sys.argv) > 4 else tempfile.mkdtemp(prefix="sluice-hdfs-bench.", dir="/var/tmp")
LINE = 1024                      # body 1023 bytes + the serializer's newline
EVENTS = MB * 1_000_000 // LINE
TOTAL = EVENTS * LINE
ROUNDS = 3
os.makedirs(WORK, exist_ok=True)


def disk_synced_chunks(dirpath):
    """MB/s writing TOTAL bytes in BATCH*LINE chunks, fdatasync after each."""
    p = os.path.join(dirpath, "disk-rate.tmp")
    chunk = BATCH * LINE
    buf = b"d" * chunk
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    t0 = time.perf_counter(); n = 0
    while n < TOTAL:
        k = min(chunk, TOTAL - n)
        os.write(fd, buf[:k]); os.fdatasync(fd); n += k
    dt = time.perf_counter() - t0
    os.close(fd); os.unlink(p)
    return n / dt / 1e6


def disk_plain(dirpath, total=512 << 20):
    """MB/s writing 512 MiB in 1 MiB writes, then one fsync."""
    p = os.path.join(dirpath, "disk-plain.tmp")
    buf = b"p" * (1 << 20)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    t0 = time.perf_counter(); n = 0
    while n < total:
        os.write(fd, buf); n += len(buf)
    os.fsync(fd)
    dt = time.perf_counter() - t0
    os.close(fd); os.unlink(p)
    return n / dt / 1e6


def plugin_dir():
    d = os.path.join(WORK, "plugins")
    if not os.path.isdir(d):
        os.makedirs(d, mode=0o700)
        for name in ["SequenceSource", "HDFSSink", "NullSink"]:
            shutil.copy(os.path.join(BIN, f"libSluice{name}.so"), d)
    return d


def sink_run(i, null=False):
    run = os.path.join(WORK, f"run{i}")
    shutil.rmtree(run, ignore_errors=True)
    out = os.path.join(run, "out"); os.makedirs(out)
    conf = os.path.join(run, "agent.conf")
    with open(conf, "w") as f:
        f.write(f"""a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = seq
a1.sources.r1.totalEvents = {EVENTS}
a1.sources.r1.batchSize = 1000
a1.sources.r1.bodySize = {LINE - 1}
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = {max(100000, 4 * BATCH)}
a1.channels.c1.transactionCapacity = {BATCH}
a1.sinks.k1.channel = c1
""" + (f"""a1.sinks.k1.type = null
a1.sinks.k1.batchSize = {BATCH}
""" if null else f"""a1.sinks.k1.type = hdfs
a1.sinks.k1.hdfs.path = file://{out}
a1.sinks.k1.hdfs.fileType = DataStream
a1.sinks.k1.hdfs.batchSize = {BATCH}
a1.sinks.k1.hdfs.rollCount = 0
a1.sinks.k1.hdfs.rollInterval = 0
a1.sinks.k1.hdfs.rollSize = {128 << 20}
"""))
    port = 41800 + i + (10 if null else 0)
    t0 = time.perf_counter()
    p = subprocess.Popen([os.path.join(BIN, "sluice"), "agent", "-n", "a1", "-f", conf, "--plugin-dir", plugin_dir(),
                          "--monitoring-type", "http", "--monitoring-port", str(port), "--log-level", "warning"])
    try:
        while True:
            try:
                m = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2))
                if int(m["SINK.k1"]["EventDrainSuccessCount"]) >= EVENTS:
                    break
            except (OSError, KeyError, ValueError):
                pass
            if p.poll() is not None:
                raise SystemExit(f"run {i}: agent exited with {p.returncode}")
            time.sleep(0.01)
        dt = time.perf_counter() - t0
    finally:
        p.terminate(); p.wait()
    if null:
        shutil.rmtree(run, ignore_errors=True)
        return TOTAL / dt / 1e6
    written = sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out))
    if written != TOTAL:
        raise SystemExit(f"run {i}: {written} bytes in {out}, expected {TOTAL}")
    shutil.rmtree(run, ignore_errors=True)
    return TOTAL / dt / 1e6


print(f"HDFS sink benchmark: {EVENTS} events of {LINE} bytes ({TOTAL / 1e6:.0f} MB), hdfs.batchSize {BATCH}, "
      f"DataStream, local destination, work dir {WORK}; best of {ROUNDS}")
sink, synced, plain, null = [], [], [], []
for i in range(ROUNDS):
    null.append(sink_run(i, null=True))
    synced.append(disk_synced_chunks(WORK))
    sink.append(sink_run(i))
    plain.append(disk_plain(WORK))
synced.append(disk_synced_chunks(WORK))
s, d, pl = max(sink), max(synced), max(plain)
print(f"  disk, {TOTAL / 1e6:.0f} MB in {BATCH * LINE / 1e6:.1f} MB chunks, fdatasync per chunk: {d:.0f} MB/s  (runs: {', '.join(f'{x:.0f}' for x in synced)})")
print(f"  disk, 512 MiB plain writes + one fsync:                 {pl:.0f} MB/s  (runs: {', '.join(f'{x:.0f}' for x in plain)})")
print(f"  seq → memory → hdfs (DataStream, file://):              {s:.0f} MB/s  (runs: {', '.join(f'{x:.0f}' for x in sink)})"
      f" = {s / d * 100:.0f}% of the synced-chunk rate, {s / pl * 100:.0f}% of the plain rate")
print(f"  seq → memory → null (same events, the pipeline without the sink): {max(null):.0f} MB/s  (runs: {', '.join(f'{x:.0f}' for x in null)})")
shutil.rmtree(WORK, ignore_errors=True)
