#!/usr/bin/env bash
# Soak, by hand (30 minutes at the default): dsyncd polling a seeded
# instance every second through the fault proxy, which injects a fault
# (503 with Retry-After, by default) into every request for one minute in
# every three (SIGUSR2 on, SIGUSR1 off), while an edit in the tree and a
# rename in Directus come every minute. Every minute: RSS, descriptors,
# the state. At the end: first, last and largest RSS and descriptor
# counts, the jobs run, faults injected, and whether the tree and the
# instance agree (items lost: none may be).
#   bench/soak.sh [--minutes N] [--fault "--status 503 --retry-after 2"]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
minutes=30 fault="--status 503 --retry-after 2"
while [ $# -gt 0 ]; do
	case $1 in
	--minutes) minutes=$2; shift 2 ;;
	--fault) fault=$2; shift 2 ;;
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
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }

node "$top/tests/lib/seed.mjs" --url "$DX_URL" --token "$DX_TOKEN" --quiet | tail -1
dump="$work/dump"
mkdir -p "$dump" && git -C "$dump" init -q -b main
"$build/dsyncd" -u "$DX_URL" -t "$DX_TOKEN" pull --dump-path "$dump" >/dev/null 2>&1
git -C "$dump" add -A && git -C "$dump" -c user.email=b@example.com -c user.name=soak commit -qm pulled
# shellcheck disable=SC2086
python3 "$top/tests/faults/proxy.py" --upstream "${DX_URL#http://}" --log "$work/requests.log" $fault >"$work/proxy.port" 2>/dev/null &
proxy=$!
for _ in $(seq 50); do [ -s "$work/proxy.port" ] && break; sleep 0.1; done
kill -USR1 "$proxy"	# no faults to begin with
purl="http://127.0.0.1:$(head -1 "$work/proxy.port")"
printf '%s' "$DX_TOKEN" >"$work/token"; chmod 600 "$work/token"
cat >"$work/d.conf" <<CONF
directus = { url = "$purl"; token_file = "$work/token"; };
dump_path = "$dump";
state_dir = "$work/state";
debounce = 0.5;
poll = { interval = 1.0; full_every = 30; backoff_max = 10.0; };
policy = { default = "sync"; schema = "pull"; };
initial = "pull";
git = { commit = true; author_name = "dsync"; author_email = "dsync@soak.example.org"; };
control = { socket = "$work/ctl.sock"; };
CONF
ctl() { "$build/dsyncctl" -s "$work/ctl.sock" "$@"; }
"$build/dsyncd" -f "$work/d.conf" 2>"$work/daemon.log" &
daemon=$!
for _ in $(seq 300); do [ "$(ctl status --json 2>/dev/null | json 'd.state' 2>/dev/null)" = in-sync ] && break; sleep 0.2; done
flows="$dump/collections/flows.json"
sid=$(json 'd[0]._syncId' <"$flows")
tsid=$(json 'd[0]._syncId' <"$dump/collections/translations.json")
fid=$(curl -s -H "Authorization: Bearer $DX_TOKEN" "$DX_URL/flows?limit=1&fields=id&sort=name" | json 'd.data[0].id')
rss0=$(rss_kb "$daemon") fd0=$(fds "$daemon")
rss_max=$rss0 fd_max=$fd0 faulty=0
echo "minute  rss_kb  fds  state"
for ((m = 1; m <= minutes; m++)); do
	if (( m % 3 == 2 )); then kill -USR2 "$proxy"; faulty=$((faulty + 1)); else kill -USR1 "$proxy"; fi
	# a change on each side
	node -e '
const fs = require("fs"), f = process.argv[1]; const a = JSON.parse(fs.readFileSync(f));
a.find(t => t._syncId === process.argv[2]).value = "soak " + process.argv[3]; fs.writeFileSync(f, JSON.stringify(a, null, 2) + "\n");' \
		"$dump/collections/translations.json" "$tsid" "$m"
	curl -s -o /dev/null -X PATCH -H "Authorization: Bearer $DX_TOKEN" -H 'Content-Type: application/json' \
		-d "{\"description\":\"soak $m\"}" "$DX_URL/flows/$fid"
	sleep 60
	r=$(rss_kb "$daemon") f=$(fds "$daemon")
	(( r > rss_max )) && rss_max=$r
	(( f > fd_max )) && fd_max=$f
	echo "$m  $r  $f  $(ctl status --json | json 'd.state')"
done
kill -USR1 "$proxy"
for _ in $(seq 120); do [ "$(ctl status --json 2>/dev/null | json 'd.state' 2>/dev/null)" = in-sync ] && break; sleep 1; done
state=$(ctl status --json | json 'd.state')
jobs=$(wc -l <"$work/state/history.jsonl")
faults=$(grep -c ' 503$' "$work/requests.log" || true)
commits=$(git -C "$dump" rev-list --count HEAD)
tr_ok=$(curl -sg -H "Authorization: Bearer $DX_TOKEN" "$DX_URL/translations?filter[value][_eq]=soak%20$minutes&fields=id" | json 'd.data.length')
desc_ok=$(grep -c "\"soak $minutes\"" "$flows" || true)
rss1=$(rss_kb "$daemon") fd1=$(fds "$daemon")
(( rss1 > rss_max )) && rss_max=$rss1
(( fd1 > fd_max )) && fd_max=$fd1
"$build/dsyncd" -u "$DX_URL" -t "$DX_TOKEN" diff --dump-path "$dump" >/dev/null 2>&1 && agree=yes || agree=no
echo
echo "| soak, $minutes min, poll 1 s, faults one minute in three ($fault) | |"
echo "|---|---|"
echo "| RSS first / last / largest | $rss0 / $rss1 / $rss_max KB |"
echo "| descriptors first / last / largest | $fd0 / $fd1 / $fd_max |"
echo "| faults injected (answers $fault) | $faults in $faulty faulty minutes |"
echo "| jobs (history.jsonl, at most 500 kept) / commits made | $jobs / $((commits - 1)) |"
echo "| at the end | state $state; the tree's last edit in Directus: $tr_ok, Directus' last edit in the tree: $desc_ok; the tree and the instance agree (dsyncd diff): $agree |"
