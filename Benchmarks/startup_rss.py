#!/usr/bin/env python3
"""Start-up time (exec → "agent ... started" logged) and idle RSS of `sluice agent`
with every first-party plugin loaded. Prints figures next to references measured
in the same run: exec of /bin/true, and a JVM start (`java -Xmx128m -version`) when
java is installed, since Flume is a JVM process."""
import os, shutil, statistics, subprocess, sys, tempfile, time

sluice, plugins = sys.argv[1], sys.argv[2]
conf = os.path.join(tempfile.mkdtemp(), "idle.conf")
with open(conf, "w") as f:
    f.write("""a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = netcat
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = 0
a1.sources.r1.channels = c1
a1.sources.r1.interceptors = ts h st u
a1.sources.r1.interceptors.ts.type = timestamp
a1.sources.r1.interceptors.h.type = host
a1.sources.r1.interceptors.st.type = static
a1.sources.r1.interceptors.u.type = uuid
a1.channels.c1.type = memory
a1.sinks.k1.type = logger
a1.sinks.k1.channel = c1
""")

def start_once():
    t0 = time.perf_counter()
    p = subprocess.Popen([sluice, "agent", "-n", "a1", "-f", conf, "--plugin-dir", plugins],
                         stderr=subprocess.PIPE, text=True)
    for line in p.stderr:
        if " started: " in line:
            break
    t = time.perf_counter() - t0
    return p, t

def timed(cmd):
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0

times = []
for i in range(10):
    p, t = start_once()
    times.append(t)
    if i == 0:
        time.sleep(1.0)
        rss = int([l for l in open(f"/proc/{p.pid}/status") if l.startswith("VmRSS")][0].split()[1])
        loaded = sum(1 for l in open(f"/proc/{p.pid}/maps") if plugins in l and "r-xp" in l)
    p.terminate()
    p.wait()

true_ms = statistics.median(timed(["/bin/true"]) for _ in range(10)) * 1000
print(f"Start-up, exec → all components started (median of 10): {statistics.median(times)*1000:.1f} ms"
      f"  (exec of /bin/true: {true_ms:.1f} ms)")
java = shutil.which("java")
if java:
    jvm = statistics.median(timed([java, "-Xmx128m", "-version"]) for _ in range(5)) * 1000
    print(f"  reference: a bare JVM start (java -Xmx128m -version, median of 5): {jvm:.0f} ms")
print(f"Idle RSS with every first-party plugin loaded ({loaded} plugin images mapped): {rss/1024:.1f} MiB")
