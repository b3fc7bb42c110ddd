#!/usr/bin/env bash
# Pull benchmark: one Directus instance seeded with a large configuration
# (tests/lib/seed.mjs --scale N, about 2,000 items at the default 20), then
# directus-sync pull and dsyncd pull, a warm-up each (the first pull
# creates the map rows), then RUNS runs of each, interleaved. Prints the
# median wall time and peak RSS of each, and the HTTP requests of one
# pull of each, counted by a pass-through proxy.
#   bench/pull.sh [--scale N] [--runs N]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
scale=20 runs=5
while [ $# -gt 0 ]; do
	case $1 in
	--scale) scale=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	*) bench_usage ;;
	esac
done
bench_setup
dx_start
work=$(mktemp -d)
trap 'dx_stop_all; rm -rf "$work"' EXIT
echo "seeding (scale $scale)..."
node "$top/tests/lib/seed.mjs" --url "$DX_URL" --token "$DX_TOKEN" --scale "$scale" | tail -1

ref() { dx_cli -u "$1" -t "$DX_TOKEN" pull --dump-path "$work/ref" ; }
ds() { "$build/dsyncd" -u "$1" -t "$DX_TOKEN" pull --dump-path "$work/ds"; }
refcmd=(node "$DX_SYNC_BIN" -u "$DX_URL" -t "$DX_TOKEN" pull --dump-path "$work/ref")
dscmd=("$build/dsyncd" -u "$DX_URL" -t "$DX_TOKEN" pull --dump-path "$work/ds")

echo "warm-up..."
"$build/dsync-measure" "${refcmd[@]}" >/dev/null
"$build/dsync-measure" "${dscmd[@]}" >/dev/null
items=$(cd "$work/ds/collections" && node -e '
let n = 0; for (const f of require("fs").readdirSync(".")) n += JSON.parse(require("fs").readFileSync(f, "utf8")).length;
console.log(n)')
fields=$(find "$work/ds/snapshot/fields" -name '*.json' | wc -l)
echo "instance: $items items in the 11 collections, $fields fields in the schema"

: >"$work/ref.times"; : >"$work/ds.times"
for i in $(seq "$runs"); do
	"$build/dsync-measure" "${refcmd[@]}" >>"$work/ref.times"
	"$build/dsync-measure" "${dscmd[@]}" >>"$work/ds.times"
	echo "run $i: reference $(tail -1 "$work/ref.times" | cut -d' ' -f1) s, dsyncd $(tail -1 "$work/ds.times" | cut -d' ' -f1) s"
done

# Requests of one pull each, through a counting pass-through proxy.
python3 "$top/tests/faults/proxy.py" --upstream "${DX_URL#http://}" --after 999999999 >"$work/port" 2>"$work/proxy.log" &
ppid=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
purl="http://127.0.0.1:$(head -1 "$work/port")"
: >"$work/proxy.log"; ref "$purl" >/dev/null 2>&1; sleep 0.3
refreq=$(grep -c '"' "$work/proxy.log" || true)
: >"$work/proxy.log"; ds "$purl" >/dev/null 2>&1; sleep 0.3
dsreq=$(grep -c '"' "$work/proxy.log" || true)
kill "$ppid"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
rt=$(cut -d' ' -f1 "$work/ref.times" | median); dt=$(cut -d' ' -f1 "$work/ds.times" | median)
rm_=$(cut -d' ' -f2 "$work/ref.times" | median); dm=$(cut -d' ' -f2 "$work/ds.times" | median)
echo
echo "pull, $items items, median of $runs runs"
printf '%-14s %10s %14s %10s\n' tool "wall (s)" "peak RSS (MB)" requests
awk -v rt="$rt" -v dt="$dt" -v rm="$rm_" -v dm="$dm" -v rr="$refreq" -v dr="$dsreq" 'BEGIN {
	printf "%-14s %10.2f %14.1f %10s\n", "directus-sync", rt, rm / 1024, rr
	printf "%-14s %10.2f %14.1f %10s\n", "dsyncd", dt, dm / 1024, dr
	printf "speed-up: %.1fx\n", rt / dt }'
