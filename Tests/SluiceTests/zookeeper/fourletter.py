"""Compares the four-letter-word answers of Sluice's coordinator with Apache
ZooKeeper's, both running: the same lines, keys and value shapes, so that
monitoring scripts written for one read the other.

    python3 fourletter.py SLUICE_HOST:PORT ZOOKEEPER_HOST:PORT
Prints 'ALL OK' or the differences (exit 1).
"""
import re
import socket
import sys

from kazoo.client import KazooClient

sluice, apache = sys.argv[1], sys.argv[2]
problems = []


def ask(hosts, word):
    host, port = hosts.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(word.encode())
    out = b""
    while True:
        d = s.recv(65536)
        if not d:
            return out.decode()
        out += d


def keys(text, sep):
    return [line.split(sep, 1)[0] for line in text.splitlines() if sep in line]


def check(cond, what):
    if not cond:
        problems.append(what)


clients = []
for hosts in (sluice, apache):
    k = KazooClient(hosts=hosts)
    k.start(timeout=20)
    k.create("/fourletter", b"x")
    k.get("/fourletter")
    clients.append(k)

answers = {w: (ask(sluice, w), ask(apache, w)) for w in ["ruok", "srvr", "stat", "conf", "cons", "envi", "mntr"]}

ours, theirs = answers["ruok"]
check(ours == theirs == "imok", f"ruok: {ours!r} vs {theirs!r}")

for w in ["srvr", "stat"]:
    ours, theirs = answers[w]
    check(keys(ours, ":") == keys(theirs, ":"), f"{w} labels: {keys(ours, ':')} vs {keys(theirs, ':')}")
    latency = r"^Latency min/avg/max: \d+/\d+\.\d+(E-?\d+)?/\d+$"
    for text, who in ((ours, "sluice"), (theirs, "zookeeper")):
        check(re.search(latency, text, re.M), f"{w} latency line ({who}): {text}")
        check(re.search(r"^Zookeeper version: 3\.8\.\d+-", text, re.M), f"{w} version line ({who}): {text}")
        check(re.search(r"^Mode: standalone$", text, re.M), f"{w} mode ({who})")
        check(re.search(r"^Zxid: 0x[0-9a-f]+$", text, re.M), f"{w} zxid ({who})")

client_line = re.compile(r"^ /[0-9.]+:\d+\[[01]\]\(queued=\d+,recved=\d+,sent=\d+\)$")
ours, theirs = answers["stat"]
for text, who in ((ours, "sluice"), (theirs, "zookeeper")):
    lines = [l for l in text.splitlines() if l.startswith(" /")]
    check(len(lines) >= 2, f"stat clients ({who}): {lines}")
    check(all(client_line.match(l) for l in lines), f"stat client lines ({who}): {lines}")

ours, theirs = answers["conf"]
check(sorted(keys(ours, "=")) == sorted(keys(theirs, "=")), f"conf keys: {keys(ours, '=')} vs {keys(theirs, '=')}")

ours, theirs = answers["envi"]
check(ours.startswith("Environment:\n") and theirs.startswith("Environment:\n"), "envi header")
not_jvm = [k for k in keys(theirs, "=") if not k.startswith(("java.", "os.memory."))]
check(keys(ours, "=") == not_jvm, f"envi keys: {keys(ours, '=')} vs ZooKeeper's non-JVM keys {not_jvm}")


def fields(line):
    return [f.split("=", 1)[0] for f in line[line.index("(") + 1:-1].split(",")]


ours, theirs = answers["cons"]
ours_s = [l for l in ours.splitlines() if "sid=" in l]
theirs_s = [l for l in theirs.splitlines() if "sid=" in l]
check(len(ours_s) == 1 and len(theirs_s) == 1, f"cons session lines: {ours_s} / {theirs_s}")
if ours_s and theirs_s:
    check(fields(ours_s[0]) == fields(theirs_s[0]), f"cons fields: {fields(ours_s[0])} vs {fields(theirs_s[0])}")
    check("lop=GETD" in ours_s[0] and "lop=GETD" in theirs_s[0], f"cons last op: {ours_s[0]} / {theirs_s[0]}")
check(ours.endswith("\n\n") and theirs.endswith("\n\n"), "cons ends with an empty line")

ours, theirs = answers["mntr"]
mine = dict(l.split("\t", 1) for l in ours.splitlines())
zk = dict(l.split("\t", 1) for l in theirs.splitlines())
check(set(mine) <= set(zk), f"mntr keys ZooKeeper does not have: {sorted(set(mine) - set(zk))}")
for k, v in mine.items():
    if k in zk and re.fullmatch(r"[0-9.]+", zk[k]):
        check(re.fullmatch(r"[0-9.]+", v) is not None, f"mntr {k}: {v!r} is not a number like ZooKeeper's {zk[k]!r}")
check(mine.get("zk_global_sessions") == "1", f"mntr zk_global_sessions: {mine.get('zk_global_sessions')}")

for k in clients:
    k.stop()
if problems:
    print("\n".join("PROBLEM " + p for p in problems))
    sys.exit(1)
print("ALL OK")
