#!/usr/bin/env bash
# Compares the deltabox CLI with xdelta3, zstd and rdiff on one BASIS/TARGET pair, as measured for
# docs/DESIGN.md §Delta version 2: delta size, wall and CPU seconds (user + sys) and peak RSS per tool, and a
# verified deltabox patch. CPU seconds are the figure to compare on a loaded machine. Needs a built CLI
# (`npx -y pnpm@10.34.8 build`) and the Debian packages xdelta3, zstd, rdiff. Usage: peer-compare.sh BASIS TARGET
set -euo pipefail
old=$1; new=$2
D="node $(cd "$(dirname "$0")/../../cli" && pwd)/bin/deltabox.js"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
t() {
  local name=$1 out=$2; shift 2
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { echo "$name FAILED: $(head -1 "$work/err")"; return; }
  read -r e u s k < "$work/time"
  printf "%-22s size=%-10s wall=%-6s cpu=%-6s rssMB=%s\n" "$name" "$([ -n "$out" ] && stat -c%s "$out")" "$e" "$(echo "$u + $s" | bc)" $((k / 1024))
}
$D signature "$old" "$work/sig"
command -v rdiff >/dev/null && rdiff signature -f "$old" "$work/rsig"
command -v xdelta3 >/dev/null && t xdelta3-9 "$work/xd3" xdelta3 -9 -f -e -s "$old" "$new" "$work/xd3" || echo "xdelta3 missing"
command -v zstd >/dev/null && t zstd-19-patch-from "$work/zst" zstd -q -f -19 --patch-from="$old" "$new" -o "$work/zst" || echo "zstd missing"
command -v rdiff >/dev/null && t rdiff-delta "$work/rdelta" rdiff delta -f "$work/rsig" "$new" "$work/rdelta" || echo "rdiff missing"
t deltabox-delta-sig "$work/dd" $D delta "$work/sig" "$new" "$work/dd"
t deltabox-delta-basis "$work/ddb" $D delta --basis "$old" "$work/sig" "$new" "$work/ddb"
command -v rdiff >/dev/null && t rdiff-patch "" rdiff patch -f "$old" "$work/rdelta" "$work/rnew"
t deltabox-patch "" $D patch "$old" "$work/ddb" "$work/dnew"
cmp -s "$work/dnew" "$new" && echo "deltabox patch verified" || echo "deltabox patch DIFFERS"
t node-e-0 "" node -e 0
