#!/usr/bin/env bash
# Seed benchmark: seed files of N authors, N articles (each naming an
# author by SyncID), N tags (preserve_ids) and N article-tag links (two
# references each), pushed into fresh instances (the test schema of
# tests/lib/seed.mjs, pushed first) by directus-sync 3.4.1 and by dsyncd,
# then a seed diff by each tool on the instance it seeded (nothing
# differs). The first push of each tool goes through a counting proxy
# (its requests are reported, its time is not); then RUNS timed runs of
# each, interleaved, each into a fresh instance. Prints the median wall
# time and peak RSS of seed push and seed diff, and their requests.
# DX_SCHEMA_CACHE=true runs the instances with Directus' schema cache on.
#   [DX_SCHEMA_CACHE=true] bench/seed.sh [--items N] [--runs N]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
items=200 runs=3
while [ $# -gt 0 ]; do
	case $1 in
	--items) items=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	*) bench_usage ;;
	esac
done
bench_setup
work=$(mktemp -d)
trap 'dx_stop_all; rm -rf "$work"' EXIT

# The schema and configuration of the tests, as a dump to push first.
dx_start --as SRC >/dev/null
node "$top/tests/lib/seed.mjs" --url "$SRC_URL" --token "$SRC_TOKEN" | tail -1
"$build/dsyncd" -u "$SRC_URL" -t "$SRC_TOKEN" pull --dump-path "$work/dump" 2>/dev/null
dx_stop "$SRC_DIR"

mkdir -p "$work/seed"
node -e '
const n = +process.argv[1], dir = process.argv[2], fs = require("fs");
const seq = (f) => Array.from({ length: n }, (_, i) => f(i));
const write = (name, seed) => fs.writeFileSync(`${dir}/${name}.json`, JSON.stringify(seed, null, 2) + "\n");
write("1-authors", { collection: "authors", meta: { insert_order: 1 },
  data: seq((i) => ({ _sync_id: `author-${i}`, name: `Author ${i}`, email: `author${i}@bench.example.com`, birth_year: 1950 + (i % 50) })) });
write("2-articles", { collection: "articles", meta: { insert_order: 2 },
  data: seq((i) => ({ _sync_id: `article-${i}`, title: `Article ${i}`, slug: `bench-${i}`, status: "published", author: `author-${i % n}` })) });
write("3-tags", { collection: "tags", meta: { insert_order: 3, preserve_ids: true },
  data: seq((i) => ({ _sync_id: `bench-tag-${i}`, label: `Tag ${i}` })) });
write("4-links", { collection: "articles_tags", meta: { insert_order: 4 },
  data: seq((i) => ({ _sync_id: `link-${i}`, articles_id: `article-${i}`, tags_id: `bench-tag-${(i * 7) % n}` })) });
' "$items" "$work/seed"
total=$((items * 4))
echo "seed: $total items in 4 collections, $((items * 3)) references"

# A fresh instance with the schema and configuration pushed.
fresh() {
	dx_start >/dev/null
	"$build/dsyncd" -u "$DX_URL" -t "$DX_TOKEN" push --dump-path "$work/dump" >/dev/null 2>&1
}
refcmd() { echo node "$DX_SYNC_BIN" -u "$1" -t "$DX_TOKEN" seed "$2" --seed-path "$work/seed"; }
dscmd() { echo "$build/dsyncd" -u "$1" -t "$DX_TOKEN" seed "$2" --seed-path "$work/seed"; }

# counted TOOL: one seed push and one seed diff through a counting proxy.
counted() {
	local tool=$1 ppid purl
	fresh
	python3 "$top/tests/faults/proxy.py" --upstream "${DX_URL#http://}" --after 999999999 >"$work/port" 2>"$work/proxy.log" &
	ppid=$!
	for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
	purl="http://127.0.0.1:$(head -1 "$work/port")"
	: >"$work/proxy.log"; $($tool "$purl" push) >"$work/$tool.counted.log" 2>&1 || echo "$tool seed push failed" >&2; sleep 0.3
	grep -c '"' "$work/proxy.log" >"$work/$tool.push.req" || true
	: >"$work/proxy.log"; $($tool "$purl" diff) >/dev/null 2>&1 || true; sleep 0.3
	grep -c '"' "$work/proxy.log" >"$work/$tool.diff.req" || true
	kill "$ppid"; wait "$ppid" 2>/dev/null || true
	dx_stop
}
# timed TOOL: a seed push into a fresh instance, then a seed diff on it.
timed() {
	local tool=$1
	fresh
	"$build/dsync-measure" $($tool "$DX_URL" push) >>"$work/$tool.push.times"
	"$build/dsync-measure" $($tool "$DX_URL" diff) >>"$work/$tool.diff.times"
	dx_stop
}
echo "counting requests (one seed push and diff of each)..."
counted refcmd
counted dscmd
for i in $(seq "$runs"); do
	timed refcmd
	timed dscmd
	echo "run $i: seed push: reference $(tail -1 "$work/refcmd.push.times" | cut -d' ' -f1) s (exit $(tail -1 "$work/refcmd.push.times" | cut -d' ' -f3)), dsyncd $(tail -1 "$work/dscmd.push.times" | cut -d' ' -f1) s (exit $(tail -1 "$work/dscmd.push.times" | cut -d' ' -f3)); seed diff: reference $(tail -1 "$work/refcmd.diff.times" | cut -d' ' -f1) s, dsyncd $(tail -1 "$work/dscmd.diff.times" | cut -d' ' -f1) s (exit $(tail -1 "$work/dscmd.diff.times" | cut -d' ' -f3))"
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo
echo "$total seed items, median of $runs runs"
printf '%-6s %-14s %10s %14s %10s\n' "" tool "wall (s)" "peak RSS (MB)" requests
for op in push diff; do
	rt=$(cut -d' ' -f1 "$work/refcmd.$op.times" | median); dt=$(cut -d' ' -f1 "$work/dscmd.$op.times" | median)
	rm_=$(cut -d' ' -f2 "$work/refcmd.$op.times" | median); dm=$(cut -d' ' -f2 "$work/dscmd.$op.times" | median)
	awk -v op="$op" -v rt="$rt" -v dt="$dt" -v rm="$rm_" -v dm="$dm" -v rr="$(cat "$work/refcmd.$op.req")" -v dr="$(cat "$work/dscmd.$op.req")" 'BEGIN {
		printf "%-6s %-14s %10.2f %14.1f %10s\n", op, "directus-sync", rt, rm / 1024, rr
		printf "%-6s %-14s %10.2f %14.1f %10s\n", op, "dsyncd", dt, dm / 1024, dr
		printf "%-6s speed-up: %.1fx\n", op, rt / dt }'
done
