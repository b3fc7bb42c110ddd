#!/usr/bin/env bash
# Environment Sync side by side: Directus' own tool (@directus/cli 12.2.1,
# "d6s") and dsyncd on Directus 12.4.1 under its Core license. A source
# instance seeded within the Core limits (tests/lib/seed.mjs --scale N
# --rules core --translations M: 9 and 400 by default, about 1,100 items;
# the Core license's 25 collections bound the scale), then RUNS rounds,
# interleaved: each tool pulls the source, pushes its tree into a fresh
# 12.4.1 of its own, then diffs its tree against that target. Prints the
# median wall time and peak RSS of each step, and the HTTP requests of
# one round of each, counted by a pass-through proxy. dsyncd leaves out
# presets (-x presets) and the OpenAPI specs (--no-specs), which
# Environment Sync does not sync either. Its instances run without
# directus-extension-sync, so that dsyncd keeps its SyncID map in a
# collection of the instance (a batch of rows per push); with --extension
# they run with it, and each map row is one request, as directus-sync's.
#   bench/envsync.sh [--scale N] [--translations M] [--runs N] [--extension]
set -euo pipefail
export DSYNC_DIRECTUS=12.4.1
source "$(dirname "$0")/lib.sh"
scale=9 translations=400 runs=3 ext=--no-extension
while [ $# -gt 0 ]; do
	case $1 in
	--scale) scale=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--translations) translations=$2; shift 2 ;;
	--extension) ext=; shift ;;
	*) bench_usage ;;
	esac
done
bench_setup

# Environment Sync, from the npm registry, into the cache beside Directus.
D6S_DIR="$DX_CACHE/d6s-12.2.1"
if [ ! -x "$D6S_DIR/node_modules/.bin/d6s" ]; then
	mkdir -p "$D6S_DIR"
	echo '{"name":"dsync-bench-d6s","private":true}' >"$D6S_DIR/package.json"
	(cd "$D6S_DIR" && npm install --no-audit --no-fund --loglevel=error @directus/cli@12.2.1) >/dev/null
fi
D6S=("$DX_NODE" "$D6S_DIR/node_modules/@directus/cli/dist/bin.js")

work=$(mktemp -d)
trap 'dx_stop_all; rm -rf "$work"' EXIT
dx_start $ext --as SRC
echo "Directus $DX_VERSION, SQLite, CACHE_SCHEMA=${DX_SCHEMA_CACHE:-false}; seeding (scale $scale, Core rules)..."
node "$top/tests/lib/seed.mjs" --url "$SRC_URL" --token "$SRC_TOKEN" --scale "$scale" --rules core --translations "$translations" | tail -1

# d6s reads its profiles from directus.config.json in its working
# directory and each profile's token from DIRECTUS_<PROFILE>_TOKEN.
d6s_conf() { # DIR TARGET_URL
	cat >"$1/directus.config.json" <<EOF
{ "profiles": { "src": { "url": "$SRC_URL", "auth": { "type": "token" } },
                "dst": { "url": "$2", "auth": { "type": "token" } } },
  "directory": "directus", "format": "json" }
EOF
}
export NO_INTERACTIVE=1 CI=1 DIRECTUS_SRC_TOKEN=$SRC_TOKEN DIRECTUS_DST_TOKEN=$SRC_TOKEN

measure() { # LOG CMD...: one timed run, its line appended to LOG
	local log=$1; shift
	"$build/dsync-measure" "$@" >>"$log"
	[ "$(tail -1 "$log" | cut -d' ' -f3)" = 0 ] || { echo "failed: $*" >&2; exit 1; }
}

for i in $(seq "$runs"); do
	# Environment Sync: pull, push into a fresh instance, diff.
	dx_start --as E
	rm -rf "$work/e" && mkdir -p "$work/e" && d6s_conf "$work/e" "$E_URL"
	(cd "$work/e" && measure "$work/e.pull" "${D6S[@]}" sync pull --from src)
	(cd "$work/e" && measure "$work/e.push" "${D6S[@]}" sync push --to dst --mode merge --yes)
	(cd "$work/e" && measure "$work/e.diff" "${D6S[@]}" sync diff --to dst --mode merge)
	dx_stop "$E_PID"
	# dsyncd: the same steps.
	dx_start $ext --as S
	rm -rf "$work/s"
	measure "$work/s.pull" "$build/dsyncd" -u "$SRC_URL" -t "$SRC_TOKEN" pull -x presets --no-specs --dump-path "$work/s"
	measure "$work/s.push" "$build/dsyncd" -u "$S_URL" -t "$SRC_TOKEN" push -x presets --dump-path "$work/s"
	"$build/dsync-measure" "$build/dsyncd" -u "$S_URL" -t "$SRC_TOKEN" diff -x presets --dump-path "$work/s" >>"$work/s.diff"
	dx_stop "$S_PID"
	echo "round $i: d6s pull $(tail -1 "$work/e.pull" | cut -d' ' -f1) s push $(tail -1 "$work/e.push" | cut -d' ' -f1) s diff $(tail -1 "$work/e.diff" | cut -d' ' -f1) s;" \
		"dsyncd pull $(tail -1 "$work/s.pull" | cut -d' ' -f1) s push $(tail -1 "$work/s.push" | cut -d' ' -f1) s diff $(tail -1 "$work/s.diff" | cut -d' ' -f1) s"
done
items=$(cd "$work/s/collections" && node -e '
let n = 0; for (const f of require("fs").readdirSync(".")) n += JSON.parse(require("fs").readFileSync(f, "utf8")).length;
console.log(n)')
records=$(cd "$work/e/directus/default/data" && node -e '
let n = 0; for (const f of require("fs").readdirSync(".")) { if (f === "metadata.json") continue;
  const r = JSON.parse(require("fs").readFileSync(f, "utf8")).records; n += Array.isArray(r) ? r.length : 1 }
console.log(n)')

# Requests of one round each, through counting pass-through proxies.
proxy() { # UPSTREAM_URL NAME: a proxy logging to $work/NAME.log; sets PURL
	python3 "$top/tests/faults/proxy.py" --upstream "${1#http://}" --after 999999999 >"$work/$2.port" 2>"$work/$2.log" &
	for _ in $(seq 50); do [ -s "$work/$2.port" ] && break; sleep 0.1; done
	PURL="http://127.0.0.1:$(head -1 "$work/$2.port")"
}
count() { grep -c '"' "$work/$1.log" || true; }
proxy "$SRC_URL" srcp; SRCP=$PURL
dx_start --as E; proxy "$E_URL" ep
rm -rf "$work/e" && mkdir -p "$work/e"
SRC_URL=$SRCP d6s_conf "$work/e" "$PURL"
: >"$work/srcp.log"; (cd "$work/e" && "${D6S[@]}" sync pull --from src >/dev/null 2>&1); sleep 0.3; epull=$(count srcp)
: >"$work/ep.log"; (cd "$work/e" && "${D6S[@]}" sync push --to dst --mode merge --yes >/dev/null 2>&1); sleep 0.3; epush=$(count ep)
: >"$work/ep.log"; (cd "$work/e" && "${D6S[@]}" sync diff --to dst --mode merge >/dev/null 2>&1); sleep 0.3; ediff=$(count ep)
dx_start $ext --as S; proxy "$S_URL" sp
rm -rf "$work/s"
: >"$work/srcp.log"; "$build/dsyncd" -u "$SRCP" -t "$SRC_TOKEN" pull -x presets --no-specs --dump-path "$work/s" >/dev/null 2>&1; sleep 0.3; spull=$(count srcp)
: >"$work/sp.log"; "$build/dsyncd" -u "$PURL" -t "$SRC_TOKEN" push -x presets --dump-path "$work/s" >/dev/null 2>&1; sleep 0.3; spush=$(count sp)
: >"$work/sp.log"; "$build/dsyncd" -u "$PURL" -t "$SRC_TOKEN" diff -x presets --dump-path "$work/s" >/dev/null 2>&1 || true; sleep 0.3; sdiff=$(count sp)

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
row() { # TOOL STEP LOG REQUESTS
	printf '%-8s %-5s %9.2f %14.1f %9s\n' "$1" "$2" "$(cut -d' ' -f1 "$3" | median)" \
		"$(cut -d' ' -f2 "$3" | median | awk '{print $1 / 1024}')" "$4"
}
echo
map=directus-extension-sync
[ -n "$ext" ] && map="a collection (no extension)"
echo "Directus 12.4.1 (Core license, CACHE_SCHEMA=${DX_SCHEMA_CACHE:-false}), dsyncd's map: $map; $items items in dsyncd's tree (presets left out), $records records in d6s' data; median of $runs rounds"
printf '%-8s %-5s %9s %14s %9s\n' tool step "wall (s)" "peak RSS (MB)" requests
row d6s pull "$work/e.pull" "$epull"
row dsyncd pull "$work/s.pull" "$spull"
row d6s push "$work/e.push" "$epush"
row dsyncd push "$work/s.push" "$spush"
row d6s diff "$work/e.diff" "$ediff"
row dsyncd diff "$work/s.diff" "$sdiff"
