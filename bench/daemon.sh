#!/usr/bin/env bash
# Daemon benchmark, by hand (about 15 minutes at the defaults). One
# Directus instance seeded with the large configuration (seed.mjs --scale
# 20: about 1,650 items), its dump in a git repository, then:
#   1. dsyncd idle for MINUTES with a POLL s poll interval and no full
#      diff (full_every = 0): requests per idle poll (a counting proxy),
#      CPU time per idle poll (/proc/PID/stat), RSS after the first full
#      job and at the end; then the cost of one full diff on its own.
#   2. The anchor, what people run today: directus-sync diff from cron at
#      the same interval: its requests, CPU and wall time per cycle.
#   3. Latency: one field of one item edited in the dump until Directus
#      has it; a flow renamed in Directus until it is renamed back. Five
#      of each, median and worst.
#   bench/daemon.sh [--minutes N] [--poll S] [--scale N] [--anchor N] [--schema-cache]
# --minutes 0 skips the idle part, --anchor 0 the reference (N cycles,
# default 3).
# --schema-cache starts Directus with its schema cache on (its default);
# the test recipe turns it off (every request then costs about 15 ms).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
minutes=10 poll=5 scale=20 anchor=3
while [ $# -gt 0 ]; do
	case $1 in
	--minutes) minutes=$2; shift 2 ;;
	--poll) poll=$2; shift 2 ;;
	--scale) scale=$2; shift 2 ;;
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
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

echo "Directus 11.11.0, SQLite, CACHE_SCHEMA=${DX_SCHEMA_CACHE:-false}; seeding (scale $scale)..."
node "$top/tests/lib/seed.mjs" --url "$DX_URL" --token "$DX_TOKEN" --scale "$scale" --quiet | tail -1
dump="$work/dump"
mkdir -p "$dump" && git -C "$dump" init -q
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
conf() { # FULL_EVERY [URL]
	cat >"$work/d.conf" <<EOF
directus = { url = "${2:-$purl}"; token_file = "$work/token"; };
dump_path = "$dump";
state_dir = "$work/state";
debounce = 0.5;
poll = { interval = $poll; full_every = $1; };
initial = "push";
control = { socket = "$work/ctl.sock"; };
EOF
}
ctl() { "$build/dsyncctl" -s "$work/ctl.sock" "$@"; }
settled() { ctl status --json 2>/dev/null | json 'd.job === null && d.queued === null && d.last_full_diff !== null' 2>/dev/null | grep -q true; }
wait_settled() { for _ in $(seq 600); do settled && return 0; sleep 0.1; done; return 1; }

# --- 1. Idle.
conf 0
"$build/dsyncd" -f "$work/d.conf" 2>"$work/daemon.log" &
daemon=$!
wait_settled
rss_first=$(rss_kb "$daemon")
: >"$work/requests.log"
t0=$(ticks "$daemon")
polls0=$(ctl history --json -n 500 | json 'd.jobs.length')
start=$SECONDS
echo "idle for $minutes min, a poll every $poll s..."
sleep $((minutes * 60))
t1=$(ticks "$daemon")
rss_end=$(rss_kb "$daemon")
requests=$(wc -l <"$work/requests.log")
probes=$(grep -c '^GET /activity' "$work/requests.log" || true)
jobs=$(( $(ctl history --json -n 500 | json 'd.jobs.length') - polls0 ))
cpu_ms=$(awk -v t="$((t1 - t0))" -v hz="$hz" -v n="$probes" 'BEGIN { printf "%.2f", n ? t * 1000 / hz / n : 0 }')
per_poll=$(awk -v r="$requests" -v n="$probes" 'BEGIN { printf "%.2f", n ? r / n : 0 }')
echo "  polls: $probes in $((SECONDS - start)) s; jobs started meanwhile: $jobs"
echo "  requests: $requests, $per_poll per idle poll"
echo "  CPU: $((t1 - t0)) ticks of 1/$hz s, $cpu_ms ms per idle poll"
echo "  RSS: $rss_first KB after the first full job, $rss_end KB at the end"
# One full diff on its own, through the control socket.
: >"$work/requests.log"
t0=$(ticks "$daemon")
s0=$EPOCHREALTIME
ctl diff >/dev/null || true
full_wall=$(awk -v a="$EPOCHREALTIME" -v b="$s0" 'BEGIN { printf "%.2f", a - b }')
t1=$(ticks "$daemon")
full_reqs=$(wc -l <"$work/requests.log" | tr -d ' ')
full_cpu=$(( (t1 - t0) * 1000 / hz ))
echo "  a full diff: $full_reqs requests, $full_cpu ms CPU, $full_wall s"
rss_full=$(rss_kb "$daemon")

# --- 3. Latency, the daemon talking to Directus straight (the counting
# proxy costs a few milliseconds a request).
kill "$daemon"; wait "$daemon" 2>/dev/null || true
conf 0 "$DX_URL"
"$build/dsyncd" -f "$work/d.conf" 2>>"$work/daemon.log" &
daemon=$!
wait_settled
flows="$dump/collections/flows.json"
sid=$(json 'd[0]._syncId' <"$flows")
# curl and grep only: a check costs a few milliseconds, not a node start.
name_is() { curl -s -H "Authorization: Bearer $DX_TOKEN" "$DX_URL/flows/$sid?fields=name" | grep -qF "\"name\":\"$1\""; }
edit_lat=() drift_lat=() patch_lat=()
# The first "[flows] Updated" line logged after $1 (epoch seconds), as
# seconds after $1; it may come a moment after a reader saw the change.
patched_after() {
	local t e
	for _ in $(seq 100); do
		while read -r t; do
			e=$(date -d "$t" +%s.%N)
			if awk -v a="$e" -v b="$1" 'BEGIN { exit !(a >= b) }'; then
				awk -v a="$e" -v b="$1" 'BEGIN { printf "%.3f", a - b }'
				return
			fi
		done < <(grep '\[flows\] Updated' "$work/daemon.log" | awk '{ print $1 " " $2 }')
		sleep 0.05
	done
	echo "?"
}
for i in 1 2 3 4 5; do
	# The edited file is made first, then saved as an editor saves: a
	# rename over the old one. The clock starts at the save.
	node -e '
const fs = require("fs"), f = process.argv[1]; const a = JSON.parse(fs.readFileSync(f));
a[0].name = process.argv[2]; fs.writeFileSync(f + ".new", JSON.stringify(a, null, 2) + "\n");' "$flows" "Edit $i"
	s0=$EPOCHREALTIME
	mv "$flows.new" "$flows"
	until name_is "Edit $i"; do sleep 0.01; done
	edit_lat+=("$(awk -v a="$EPOCHREALTIME" -v b="$s0" 'BEGIN { printf "%.3f", a - b }')")
	# When the daemon's PATCH was answered, from its own log (a reader's
	# check above costs a round trip of its own).
	patch_lat+=("$(patched_after "$s0")")
	wait_settled
	curl -s -o /dev/null -X PATCH -H "Authorization: Bearer $DX_TOKEN" -H 'Content-Type: application/json' \
		-d '{"name":"Drift"}' "$DX_URL/flows/$sid"
	s0=$EPOCHREALTIME
	until name_is "Edit $i"; do sleep 0.02; done
	drift_lat+=("$(awk -v a="$EPOCHREALTIME" -v b="$s0" 'BEGIN { printf "%.3f", a - b }')")
	wait_settled
done
kill "$daemon"; wait "$daemon" 2>/dev/null || true; daemon=
printf '  edit -> Directus: median %s s, worst %s s (debounce 0.5 s), the PATCH answered after %s s (median)\n' \
	"$(printf '%s\n' "${edit_lat[@]}" | median)" "$(printf '%s\n' "${edit_lat[@]}" | sort -n | tail -1)" \
	"$(printf '%s\n' "${patch_lat[@]}" | median)"
printf '  drift -> corrected: median %s s, worst %s s (poll %s s)\n' \
	"$(printf '%s\n' "${drift_lat[@]}" | median)" "$(printf '%s\n' "${drift_lat[@]}" | sort -n | tail -1)" "$poll"

# --- 2. The anchor: directus-sync diff from cron, per cycle.
git -C "$dump" checkout -q -- .
echo "directus-sync diff, $anchor cycles..."
walls=() cpus=() reqs=()
for ((i = 1; i <= anchor; i++)); do
	: >"$work/requests.log"
	out=$("$build/dsync-measure" node "$DX_SYNC_BIN" -u "$purl" -t "$DX_TOKEN" diff --dump-path "$dump")
	walls+=("$(echo "$out" | awk '{ print $1 }')")
	cpus+=("$(echo "$out" | awk '{ print $4 }')")
	reqs+=("$(wc -l <"$work/requests.log")")
done
[ "$anchor" -gt 0 ] || reqs=(-) cpus=(-) walls=(-)
echo "  per cycle: $(printf '%s\n' "${reqs[@]}" | median) requests, $(printf '%s\n' "${cpus[@]}" | median) ms CPU, $(printf '%s\n' "${walls[@]}" | median) s (median of 3)"
echo
echo "| per poll, $items items, poll $poll s | requests | CPU | wall |"
echo "|---|---:|---:|---:|"
echo "| dsyncd, idle poll ($probes polls over $minutes min) | $per_poll | $cpu_ms ms | |"
echo "| dsyncd, a full diff (every full_every polls) | $full_reqs | $full_cpu ms | $full_wall s |"
echo "| directus-sync diff from cron | $(printf '%s\n' "${reqs[@]}" | median) | $(printf '%s\n' "${cpus[@]}" | median) ms | $(printf '%s\n' "${walls[@]}" | median) s |"
echo
echo "dsyncd RSS: $rss_first KB after the first full job, $rss_end KB after $minutes min idle, $rss_full KB after a full diff"
