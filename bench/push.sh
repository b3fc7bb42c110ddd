#!/usr/bin/env bash
# Push and diff benchmark: a dump of a large configuration (a source
# instance seeded with tests/lib/seed.mjs --scale N, about 2,000 items at
# the default 20, pulled by dsyncd) pushed into fresh instances by
# directus-sync and by dsyncd, then a diff by each tool on the instance it
# pushed (nothing differs). The first push of each tool goes through a
# counting proxy (its requests are reported, its time is not); then RUNS
# timed runs of each, interleaved, each into a fresh instance. Prints the
# median wall time and peak RSS of push and diff, and their requests.
# DX_SCHEMA_CACHE=true runs the instances with Directus' schema cache on
# (its default; the test recipe turns it off).
# --no-count skips the counted push and diff (the request counts do not
# depend on timing; a reference push takes many minutes).
#   [DX_SCHEMA_CACHE=true] bench/push.sh [--scale N] [--runs N] [--no-count]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
scale=20 runs=3 count=1
while [ $# -gt 0 ]; do
	case $1 in
	--scale) scale=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--no-count) count=0; shift ;;
	*) bench_usage ;;
	esac
done
bench_setup
work=$(mktemp -d)
trap 'dx_stop_all; rm -rf "$work"' EXIT

dx_start --as SRC
echo "seeding (scale $scale)..."
node "$top/tests/lib/seed.mjs" --url "$SRC_URL" --token "$SRC_TOKEN" --scale "$scale" | tail -1
"$build/dsyncd" -u "$SRC_URL" -t "$SRC_TOKEN" pull --dump-path "$work/dump" 2>/dev/null
dx_stop "$SRC_DIR"
items=$(cd "$work/dump/collections" && node -e '
let n = 0; for (const f of require("fs").readdirSync(".")) n += JSON.parse(require("fs").readFileSync(f, "utf8")).length;
console.log(n)')
echo "dump: $items items in the 11 collections, $(find "$work/dump/snapshot/fields" -name '*.json' | wc -l) fields"

refcmd() { echo node "$DX_SYNC_BIN" -u "$1" -t "$DX_TOKEN" "$2" --dump-path "$work/dump"; }
dscmd() { echo "$build/dsyncd" -u "$1" -t "$DX_TOKEN" "$2" --dump-path "$work/dump"; }

# counted TOOL: one push and one diff through a counting proxy.
counted() {
	local tool=$1 pport ppid purl
	dx_start >/dev/null
	python3 "$top/tests/faults/proxy.py" --upstream "${DX_URL#http://}" --after 999999999 >"$work/port" 2>"$work/proxy.log" &
	ppid=$!
	for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
	purl="http://127.0.0.1:$(head -1 "$work/port")"
	: >"$work/proxy.log"; $($tool "$purl" push) >/dev/null 2>&1 || echo "$tool push failed" >&2; sleep 0.3
	grep -c '"' "$work/proxy.log" >"$work/$tool.push.req" || true
	: >"$work/proxy.log"; $($tool "$purl" diff) >/dev/null 2>&1 || true; sleep 0.3
	grep -c '"' "$work/proxy.log" >"$work/$tool.diff.req" || true
	kill "$ppid"; wait "$ppid" 2>/dev/null || true
	dx_stop
}
# timed TOOL: a push into a fresh instance, then a diff on it.
timed() {
	local tool=$1
	dx_start >/dev/null
	"$build/dsync-measure" $($tool "$DX_URL" push) >>"$work/$tool.push.times"
	"$build/dsync-measure" $($tool "$DX_URL" diff) >>"$work/$tool.diff.times"
	dx_stop
}
if [ "$count" = 1 ]; then
	echo "counting requests (one push and diff of each)..."
	counted refcmd
	counted dscmd
else
	for f in refcmd.push refcmd.diff dscmd.push dscmd.diff; do echo - >"$work/$f.req"; done
fi
for i in $(seq "$runs"); do
	timed refcmd
	timed dscmd
	echo "run $i: push: reference $(tail -1 "$work/refcmd.push.times" | cut -d' ' -f1) s (exit $(tail -1 "$work/refcmd.push.times" | cut -d' ' -f3)), dsyncd $(tail -1 "$work/dscmd.push.times" | cut -d' ' -f1) s (exit $(tail -1 "$work/dscmd.push.times" | cut -d' ' -f3)); diff: reference $(tail -1 "$work/refcmd.diff.times" | cut -d' ' -f1) s, dsyncd $(tail -1 "$work/dscmd.diff.times" | cut -d' ' -f1) s"
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo
echo "$items items, median of $runs runs"
printf '%-6s %-14s %10s %14s %10s\n' "" tool "wall (s)" "peak RSS (MB)" requests
for op in push diff; do
	rt=$(cut -d' ' -f1 "$work/refcmd.$op.times" | median); dt=$(cut -d' ' -f1 "$work/dscmd.$op.times" | median)
	rm_=$(cut -d' ' -f2 "$work/refcmd.$op.times" | median); dm=$(cut -d' ' -f2 "$work/dscmd.$op.times" | median)
	awk -v op="$op" -v rt="$rt" -v dt="$dt" -v rm="$rm_" -v dm="$dm" -v rr="$(cat "$work/refcmd.$op.req")" -v dr="$(cat "$work/dscmd.$op.req")" 'BEGIN {
		printf "%-6s %-14s %10.2f %14.1f %10s\n", op, "directus-sync", rt, rm / 1024, rr
		printf "%-6s %-14s %10.2f %14.1f %10s\n", op, "dsyncd", dt, dm / 1024, dr
		printf "%-6s speed-up: %.1fx\n", op, rt / dt }'
done
