#!/usr/bin/env bash
# Two-way benchmark, by hand (about 5 minutes). One Directus instance
# seeded with the large configuration (seed.mjs --scale 20: about 1,650
# items), its dump in a git repository, dsyncd with policy pull and
# git.commit on, through the counting proxy. Then N times: a flow renamed
# in Directus (as the Data Studio does it: one PATCH), timed until git has
# the commit that holds it; per job, its requests (the proxy's log) and
# the daemon's CPU (/proc/PID/stat) from the rename to the commit.
# Beside it, the anchor: what people run today, directus-sync pull from
# cron and a commit of what changed (--anchor N cycles, default 1).
#   bench/two-way.sh [--poll S] [--scale N] [--runs N] [--anchor N] [--schema-cache]
# --schema-cache starts Directus with its schema cache on (its default);
# the test recipe turns it off (every request then costs about 15 ms).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
poll=5 scale=20 runs=5 anchor=1
while [ $# -gt 0 ]; do
	case $1 in
	--poll) poll=$2; shift 2 ;;
	--scale) scale=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--anchor) anchor=$2; shift 2 ;;
	--schema-cache) export DX_SCHEMA_CACHE=true; shift ;;
	*) bench_usage ;;
	esac
done
bench_setup
dx_start
work=$(mktemp -d)
daemon= proxy=
cleanup() {
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	[ -n "$proxy" ] && kill "$proxy" 2>/dev/null
	dx_stop_all
	[ -n "${BENCH_KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
json() { node -pe "const d = JSON.parse(require('fs').readFileSync(0)); $1"; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }	# utime + stime
hz=$(getconf CLK_TCK)
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
worst() { sort -n | tail -1; }

echo "Directus 11.11.0, SQLite, CACHE_SCHEMA=${DX_SCHEMA_CACHE:-false}; seeding (scale $scale)..."
node "$top/tests/lib/seed.mjs" --url "$DX_URL" --token "$DX_TOKEN" --scale "$scale" --quiet | tail -1
dump="$work/dump"
mkdir -p "$dump" && git -C "$dump" init -q -b main
"$build/dsyncd" -u "$DX_URL" -t "$DX_TOKEN" pull --dump-path "$dump" >/dev/null 2>&1
git -C "$dump" add -A && git -C "$dump" -c user.email=b@example.com -c user.name=bench commit -qm pulled
items=$(cd "$dump/collections" && node -e '
let n = 0; for (const f of require("fs").readdirSync(".")) n += JSON.parse(require("fs").readFileSync(f, "utf8")).length;
console.log(n)')
echo "$items items"

python3 "$top/tests/faults/proxy.py" --upstream "${DX_URL#http://}" --log "$work/requests.log" >"$work/proxy.port" 2>/dev/null &
proxy=$!
for _ in $(seq 50); do [ -s "$work/proxy.port" ] && break; sleep 0.1; done
purl="http://127.0.0.1:$(head -1 "$work/proxy.port")"
printf '%s' "$DX_TOKEN" >"$work/token"; chmod 600 "$work/token"
cat >"$work/d.conf" <<CONF
directus = { url = "$purl"; token_file = "$work/token"; };
dump_path = "$dump";
state_dir = "$work/state";
debounce = 0.5;
poll = { interval = $poll; full_every = 0; };
policy = { default = "pull"; schema = "pull"; };
initial = "pull";
git = { commit = true; author_name = "dsync"; author_email = "dsync@bench.example.org"; };
control = { socket = "$work/ctl.sock"; };
CONF
ctl() { "$build/dsyncctl" -s "$work/ctl.sock" "$@"; }
settled() { ctl status --json 2>/dev/null | json 'd.job === null && d.queued === null && d.last_full_diff !== null' 2>/dev/null | grep -q true; }
wait_settled() { for _ in $(seq 600); do settled && return 0; sleep 0.1; done; return 1; }
"$build/dsyncd" -f "$work/d.conf" 2>"$work/daemon.log" &
daemon=$!
wait_settled
flows="$dump/collections/flows.json"
sid=$(json 'd[0]._syncId' <"$flows")
lat=() reqs=() cpus=() jobreqs=() jobdur=()
for ((i = 1; i <= runs; i++)); do
	head0=$(git -C "$dump" rev-parse HEAD)
	: >"$work/requests.log"
	t0=$(ticks "$daemon")
	s0=$EPOCHREALTIME
	curl -s -o /dev/null -X PATCH -H "Authorization: Bearer $DX_TOKEN" -H 'Content-Type: application/json' \
		-d "{\"name\":\"Renamed in Directus $i\"}" "$DX_URL/flows/$sid"
	until [ "$(git -C "$dump" rev-parse HEAD)" != "$head0" ]; do sleep 0.02; done
	lat+=("$(awk -v a="$EPOCHREALTIME" -v b="$s0" 'BEGIN { printf "%.3f", a - b }')")
	wait_settled
	t1=$(ticks "$daemon")
	git -C "$dump" show --name-only --format=%s HEAD | head -2 | tr '\n' ' '; echo
	# The job's requests: all of them less the polls' (2 each).
	reqs+=("$(grep -vc '^GET /\(activity\|presets\)' "$work/requests.log" || true)")
	jobreqs+=("$(ctl history --json -n 1 | json 'd.jobs[d.jobs.length - 1].requests')")
	jobdur+=("$(ctl history --json -n 1 | json 'd.jobs[d.jobs.length - 1].duration')")
	cpus+=("$(( (t1 - t0) * 1000 / hz ))")
done
kill "$daemon"; wait "$daemon" 2>/dev/null || true; daemon=
awalls=() acpus=() areqs=()
for ((i = 1; i <= anchor; i++)); do
	echo "directus-sync pull and git commit, cycle $i of $anchor..."
	curl -s -o /dev/null -X PATCH -H "Authorization: Bearer $DX_TOKEN" -H 'Content-Type: application/json' \
		-d "{\"name\":\"Renamed for the reference $i\"}" "$DX_URL/flows/$sid"
	: >"$work/requests.log"
	out=$("$build/dsync-measure" node "$DX_SYNC_BIN" -u "$purl" -t "$DX_TOKEN" pull --dump-path "$dump")
	git -C "$dump" add -A && git -C "$dump" -c user.email=b@example.com -c user.name=cron commit -qm "directus-sync pull" || true
	awalls+=("$(echo "$out" | awk '{ print $1 }')")
	acpus+=("$(echo "$out" | awk '{ print $4 }')")
	areqs+=("$(wc -l <"$work/requests.log")")
done
echo
echo "| a flow renamed in Directus, until git has the commit ($items items, poll $poll s, policy pull) | median | worst |"
echo "|---|---:|---:|"
echo "| latency | $(printf '%s\n' "${lat[@]}" | median) s | $(printf '%s\n' "${lat[@]}" | worst) s |"
echo "| requests of the job (its history entry) | $(printf '%s\n' "${jobreqs[@]}" | median) | $(printf '%s\n' "${jobreqs[@]}" | worst) |"
echo "| requests other than polls (the proxy's log) | $(printf '%s\n' "${reqs[@]}" | median) | $(printf '%s\n' "${reqs[@]}" | worst) |"
echo "| the job's own time (its history entry) | $(printf '%s\n' "${jobdur[@]}" | median) s | $(printf '%s\n' "${jobdur[@]}" | worst) s |"
echo "| daemon CPU from the rename to the commit | $(printf '%s\n' "${cpus[@]}" | median) ms | $(printf '%s\n' "${cpus[@]}" | worst) ms |"
if [ "$anchor" -gt 0 ]; then
	echo "| directus-sync pull + git commit: wall, CPU, requests (median of $anchor) | $(printf '%s\n' "${awalls[@]}" | median) s, $(printf '%s\n' "${acpus[@]}" | median) ms, $(printf '%s\n' "${areqs[@]}" | median) | |"
fi
