#!/usr/bin/env bash
# Runs every host benchmark on a release build and prints the figures.
#   Benchmarks/run.sh [events]
# Not part of the test suite. Results and targets: Benchmarks/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-20000000}

swift build -c release >/dev/null
BIN=$(swift build -c release --show-bin-path)
WORK=$(mktemp -d /tmp/sluice-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -m 700 "$WORK/plugins"
cp "$BIN"/libSluice*.so "$WORK/plugins/"
cc -O2 -shared -fPIC -fvisibility=hidden -I sdk/include Benchmarks/keep_nonempty.c -o "$WORK/plugins/libBenchKeepNonEmptyC.so"

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$BIN/PipelineBench" --plugin-dir "$WORK/plugins" --events "$EVENTS"

# Issue 3: 1,000,000 lines of 200 bytes through spooldir, memory vs file channel, vs rsyslog.
command -v rsyslogd >/dev/null || echo "(rsyslog not installed: apt-get install rsyslog for the comparison)"
python3 Benchmarks/spool_bench.py "$BIN" 1000000

# Idle RSS and start-up time use only the first-party plugins.
rm "$WORK/plugins/libSluiceBenchKeepNonEmpty.so" "$WORK/plugins/libBenchKeepNonEmptyC.so"
python3 Benchmarks/startup_rss.py "$BIN/sluice" "$WORK/plugins"
