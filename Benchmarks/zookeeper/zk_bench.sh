#!/usr/bin/env bash
# Sluice's coordinator against Apache ZooKeeper (Debian's `zookeeper` package,
# 3.8) in the same run, with the same two clients — zk_bench.c (the C client,
# libzookeeper-mt) and zk_wire_bench.c (a lean driver speaking the wire
# protocol, which needs far less CPU per request than the C client) — and
# the same fsync setting (forceSync=yes on both, data on the same filesystem).
#
#   Benchmarks/zookeeper/zk_bench.sh [N] [CONNS] [WINDOW] [VALUE]
#
# Prints ops/s and p50/p99 latency of create / get / set for each server,
# the server's CPU time per operation, and its RSS (VmRSS, after the run).
# With PIN=1 (the default on a machine with 2+ CPUs) each server runs on CPU 0
# and the client on CPU 1, so a client that needs a lot of CPU (the C client
# spends most of it in send/recv system calls) does not take it from the server.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-50000}; CONNS=${2:-8}; WINDOW=${3:-32}; VALUE=${4:-100}
WORK=$(mktemp -d /tmp/zk-bench.XXXXXX)
trap 'kill $SPID $ZPID 2>/dev/null || true; rm -rf "$WORK"' EXIT
SPID=""; ZPID=""

swift build -c release --product sluice >/dev/null
swift build -c release --product SluiceZooKeeper >/dev/null
BIN=$(swift build -c release --show-bin-path)
mkdir -p "$WORK/plugins" && chmod 755 "$WORK/plugins"
cp "$BIN/libSluiceZooKeeper.so" "$WORK/plugins/"
gcc -O2 -o "$WORK/zk_bench" Benchmarks/zookeeper/zk_bench.c -lzookeeper_mt -lpthread
gcc -O2 -o "$WORK/zk_wire_bench" Benchmarks/zookeeper/zk_wire_bench.c -lpthread

NCPU=$(nproc); PIN=${PIN:-$([ "$NCPU" -ge 2 ] && echo 1 || echo 0)}
if [ "$PIN" = 1 ]; then SERVER_CPU="taskset -c 0"; CLIENT_CPU="taskset -c 1"; else SERVER_CPU=""; CLIENT_CPU=""; fi
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
run_client() { # pid port
    local before after
    before=$(cpu_ticks "$1")
    echo "-- C client (libzookeeper-mt)"
    $CLIENT_CPU "$WORK/zk_bench" 127.0.0.1:"$2" "$N" "$CONNS" "$WINDOW" "$VALUE"
    after=$(cpu_ticks "$1")
    echo "server_cpu_us_per_op=$(( (after - before) * 10000 / (3 * N) ))"
    before=$after
    echo "-- wire-protocol driver"
    $CLIENT_CPU "$WORK/zk_wire_bench" 127.0.0.1 "$2" "$N" "$CONNS" "$WINDOW" "$VALUE"
    after=$(cpu_ticks "$1")
    echo "server_cpu_us_per_op=$(( (after - before) * 10000 / (3 * N) ))"
}
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
wait_port() { for _ in $(seq 1 200); do (echo ruok | timeout 2 nc -q1 127.0.0.1 "$1" 2>/dev/null | grep -q imok) && return 0; sleep 0.1; done; echo "server on $1 did not start" >&2; exit 1; }

# Sluice
cat > "$WORK/agent.conf" <<CONF
a1.services = zk
a1.services.zk.type = zookeeper
a1.services.zk.clientPort = 22181
a1.services.zk.clientPortAddress = 127.0.0.1
a1.services.zk.dataDir = $WORK/sluice-data
a1.services.zk.forceSync = yes
a1.services.zk.4lw.commands.whitelist = ruok
CONF
$SERVER_CPU "$BIN/sluice" agent -n a1 -f "$WORK/agent.conf" --plugin-dir "$WORK/plugins" 2>"$WORK/sluice.log" &
SPID=$!
wait_port 22181
echo "== Sluice coordinator (PIN=$PIN, N=$N, $CONNS sessions x window $WINDOW, ${VALUE}-byte values)"
run_client $SPID 22181
echo "rss_mib=$(rss_mib $SPID)"
kill $SPID; wait $SPID 2>/dev/null || true; SPID=""

# Apache ZooKeeper, as Debian packages it (default JVM options)
mkdir -p "$WORK/zk-data"
cat > "$WORK/zoo.cfg" <<CONF
tickTime=2000
dataDir=$WORK/zk-data
clientPort=22182
clientPortAddress=127.0.0.1
forceSync=yes
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=ruok
CONF
$SERVER_CPU java -cp "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar" -Dzookeeper.log.dir="$WORK" -Dzookeeper.root.logger=WARN,CONSOLE \
    org.apache.zookeeper.server.ZooKeeperServerMain "$WORK/zoo.cfg" >"$WORK/zk.log" 2>&1 &
ZPID=$!
wait_port 22182
echo "== Apache ZooKeeper $(dpkg-query -W -f='${Version}' zookeeper 2>/dev/null) (same client, same settings)"
run_client $ZPID 22182
echo "rss_mib=$(rss_mib $ZPID)"
