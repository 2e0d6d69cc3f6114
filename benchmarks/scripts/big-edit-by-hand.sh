#!/bin/bash
# By-hand timing of a large-file edit (benchmarks/README.md "Stop 23"): a random file synced once to a local
# `deltabox serve`, then RUNS times: 10 scattered 100-byte edits (dd conv=notrunc), GAP seconds of quiet, and one
# `deltabox scan --once` timed with /usr/bin/time (wall, client CPU) and the server's CPU from /proc/PID/stat.
# Usage: benchmarks/scripts/big-edit-by-hand.sh REPO [RUNS=3] [SIZE_MIB=256]   (REPO: a built checkout)
# Compare two builds by alternating them (OLD, NEW, OLD, NEW): one machine's load moves both.
set -euo pipefail
REPO=$(cd "$1" && pwd); RUNS=${2:-3}; MB=${3:-256}; GAP=${GAP:-2.5}
BIN="$REPO/packages/cli/bin/deltabox.js"
W=$(mktemp -d); mkdir -p "$W/c" "$W/s"
trap 'kill "$SP" 2>/dev/null || true; wait "$SP" 2>/dev/null || true; rm -rf "$W"' EXIT
head -c "${MB}M" /dev/urandom > "$W/c/big.bin"
PORT=$((20000 + RANDOM % 10000))
node "$BIN" serve --sdir "$W/s" --port "$PORT" --issue-token-file "$W/tok" > "$W/serve.log" 2>&1 &
SP=$!
for _ in $(seq 100); do [ -s "$W/tok" ] && break; sleep 0.1; done
node "$BIN" scan --cdir "$W/c" --server "http://127.0.0.1:$PORT" --token-file "$W/tok" --once --json > /dev/null
sleep "$GAP"
scpu() { awk '{print $14 + $15}' "/proc/$SP/stat"; }
for r in $(seq "$RUNS"); do
  for _ in $(seq 10); do
    off=$(( (RANDOM * 32768 + RANDOM) % (MB * 1048576 - 200) ))
    head -c 100 /dev/urandom | dd of="$W/c/big.bin" bs=1 seek="$off" conv=notrunc status=none
  done
  sleep "$GAP"
  s0=$(scpu)
  /usr/bin/time -f "%e %U %S" -o "$W/time" node "$BIN" scan --cdir "$W/c" --server "http://127.0.0.1:$PORT" --token-file "$W/tok" --once --json > /dev/null
  s1=$(scpu)
  read -r el us sy < "$W/time"
  echo "run $r: wall $el s, client CPU $(echo "$us + $sy" | bc) s, server CPU $(( (s1 - s0) * 10 )) ms"
done
cmp "$W/c/big.bin" "$W/s/big.bin" && echo "server copy identical"
