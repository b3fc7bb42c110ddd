#!/usr/bin/env bash
# The daemon's Prometheus scrape (metrics.listen), in the foreground
# against a real Directus behind the fault proxy: GET /metrics while idle,
# paused, in error, in conflict, during a slow push and degraded, each time
# matching dsyncctl status --json; promtool check metrics on the
# exposition; a scrape during a 20 s job answered at once; 100 scrapes at
# once, all answered, no descriptor left open; other paths 404; a reload
# moving the listener to a Unix socket; the token in no scrape.
# versions: base 12
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/daemon-lib.sh"

daemon_setup
# Every request goes through the proxy; its one fault, a 20 s delay of the
# first GET of /flows, waits (SIGUSR1) until the slow push below.
start_proxy "$URL" --slow 20 --match /flows --method GET --count 1
kill -USR1 "$PROXY_PID"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
M="http://127.0.0.1:$port/metrics"
write_conf "$T/d.conf" "$PROXY_URL" "$D" \
	'poll = { interval = 2.0; full_every = 3; backoff_max = 4.0; };' \
	"metrics = { listen = \"127.0.0.1:$port\"; };"
start_daemon "$T/d.conf" || { tail "$T/daemon.log"; fail "daemon starts (READY=1)"; finish; }
check "the first job ends in-sync" wait_for 30 is 'state' in-sync
check "the log says where the metrics are" grep -qF "metrics on http://127.0.0.1:$port" "$T/daemon.log"
check "... and so does dsyncctl status" sh -c "'$DSYNCCTL' -s '$T/ctl.sock' status | grep -qF '   metrics: http://127.0.0.1:$port/metrics'"

MJS="$top/tests/lib/metrics.mjs"
: >"$T/all-scrapes"
# scrape [URL]: GET it into $T/scrape (kept in $T/all-scrapes); prints
# "STATUS CONTENT-TYPE".
scrape() {
	curl -sS --max-time 5 -o "$T/scrape" -w '%{http_code} %{content_type}' "${1:-$M}"
	cat "$T/scrape" >>"$T/all-scrapes"
}
# agree: a scrape and dsyncctl status --json that say the same (taken one
# after the other, so tried until a moment when nothing moved between).
# status exits 1 or 2 in the states that need a look: only its output
# counts here.
agree() {
	scrape >/dev/null || return 1
	ctl status --json >"$T/st.json" 2>/dev/null
	[ -s "$T/st.json" ] && node "$MJS" match "$T/scrape" "$T/st.json" 2>"$T/agree.err"
}
agree_check() { # WHEN
	if wait_for 10 agree; then pass "$1: the scrape matches dsyncctl status --json"; else
		fail "$1: the scrape matches dsyncctl status --json"; cat "$T/agree.err"; fi
}
value() { node "$MJS" value "$T/scrape" "$1" 2>/dev/null; }
sum() { node "$MJS" sum "$T/scrape" "$1"; }
promtool=${DSYNC_PROMTOOL:-$(command -v promtool || echo "$DX_CACHE/prometheus/usr/bin/promtool")}

# --- Idle.
got=$(scrape)
check "GET /metrics: 200, the Prometheus text format ($got)" \
	test "$got" = "200 text/plain; version=0.0.4; charset=utf-8"
agree_check "idle"
check "... dsync_state{state=\"in-sync\"} 1" test "$(value 'dsync_state{state="in-sync"}')" = 1
dv=$(ctl status --json | json_of 'd.directus.version')
check "... dsync_info names dsyncd's and Directus' versions ($dv)" grep -q "^dsync_info{version=\"[0-9.]*\",directus_version=\"$dv\"" "$T/scrape"
if [ -x "$promtool" ]; then
	check "promtool check metrics: no problem" sh -c "'$promtool' check metrics <'$T/scrape' >'$T/promtool.out' 2>&1" ||
		cat "$T/promtool.out"
	check "promtool check rules config/dsyncd.alerts.yml" \
		sh -c "'$promtool' check rules '$top/config/dsyncd.alerts.yml' >'$T/promtool.out' 2>&1" ||
		cat "$T/promtool.out"
else
	echo "SKIP: promtool check metrics and check rules (no promtool: scripts/install-deps takes it from Debian's prometheus package)"
fi
history_len() { ctl history --json -n 500 | json_of 'd.jobs.length'; }
same_jobs() { scrape >/dev/null && [ "$(sum dsync_jobs_total)" = "$(history_len)" ]; }
check "dsync_jobs_total adds up to dsyncctl history's jobs" wait_for 10 same_jobs
check "dsync_requests_total counts the 200s from Directus ($(value 'dsync_requests_total{method="GET",code="200"}'))" \
	test "$(value 'dsync_requests_total{method="GET",code="200"}')" -gt 0
check "dsync_polls_total{result=\"ok\"} counts polls" wait_for 10 sh -c "curl -s '$M' | grep -Eq '^dsync_polls_total\{result=\"ok\"\} [1-9]'"
check "dsync_held_deletes: none held" test "$(sum dsync_held_deletes)" = 0
check "process_* figures: RSS, CPU, descriptors, start time" \
	sh -c "grep -q '^process_resident_memory_bytes [1-9]' '$T/scrape' && grep -q '^process_cpu_seconds_total ' '$T/scrape' && grep -q '^process_open_fds [1-9]' '$T/scrape' && grep -q '^process_start_time_seconds [1-9]' '$T/scrape'"
check "another path: 404" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")" = 404
check "... and /metrics/x: 404" test "$(curl -s -o /dev/null -w '%{http_code}' "$M/x")" = 404

# --- Paused.
ctl pause "metrics test" >/dev/null
check "paused" wait_for 10 is 'state' paused
agree_check "paused"
check "... dsync_paused 1" test "$(value dsync_paused)" = 1
ctl resume >/dev/null
check "resumed: in-sync" wait_for 20 is 'state' in-sync

# --- Error: a file of the dump that does not load.
flows="$D/collections/flows.json"
cp "$flows" "$T/flows.json"
printf '[{"name": ' >"$flows"
check "a broken dump file: state error" wait_for 20 is 'state' error
agree_check "error"
check "... dsync_state{state=\"error\"} 1" test "$(value 'dsync_state{state="error"}')" = 1
check "... dsync_jobs_total counts a job with result dump" grep -q '^dsync_jobs_total{kind="[a-z]*",trigger="[a-z]*",result="dump"} [1-9]' "$T/scrape"
cp "$T/flows.json" "$flows"
check "the file back: in-sync" wait_for 20 is 'state' in-sync

# --- A conflict: the same flow renamed differently on both sides.
fid=$(json_of 'd.find(f => f.name === "Publish article")._syncId' <"$flows")
lid=$(dx_api GET "/flows?filter[name][_eq]=Publish%20article&fields=id" | json_of 'd.data[0].id')
ctl pause "a conflict" >/dev/null
# A job that started before the pause may still write: wait for it.
check "paused, and no job left that started before" wait_for 20 idle
edit_json "$flows" "a.find(f => f._syncId === '$fid').name = 'Renamed in git'"
dx_api PATCH "/flows/$lid" '{"name":"Renamed in the Data Studio"}' >/dev/null
polls=$(ctl status --json | json_of 'd.polls')
wait_for 10 at_least "ctl status --json | json_of 'd.polls'" $((polls + 2)) >/dev/null
ctl resume >/dev/null
check "conflict" wait_for 20 is 'state' conflict
agree_check "conflict"
check "... dsync_conflicts 1" test "$(value dsync_conflicts)" = 1
ctl resolve flows "$fid" --keep dump >/dev/null
check "resolved: in-sync" wait_for 20 is 'state' in-sync
check "... Directus has the dump's name" wait_for 10 is "flow_name $lid" "Renamed in git"
git -C "$D" add -A && git_commit "$D" "metrics test edits"

# --- A slow push: the first GET of /flows waits 20 s at the proxy.
kill -USR2 "$PROXY_PID"
edit_json "$flows" "a.find(f => f._syncId === '$fid').name = 'Slow push'"
check "a push through a slow Directus: syncing" wait_for 10 is 'state' syncing
agree_check "during a push"
check "... dsync_state{state=\"syncing\"} 1" test "$(value 'dsync_state{state="syncing"}')" = 1
times=()
for _ in 1 2 3 4 5; do
	times+=("$(curl -s -o /dev/null -w '%{time_total}' --max-time 5 "$M")")
done
best=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
check "... scrapes during the job answered at once (median of 5: $best s; ${times[*]})" \
	awk -v t="$best" 'BEGIN { exit !(t < 0.1) }'
check "... still syncing afterwards (the job was running)" is 'state' syncing
check "the slow push ends in-sync" wait_for 60 is 'state' in-sync
check "... Directus has the push" wait_for 10 is "flow_name $lid" "Slow push"
check "... dsync_items_written_total counts the update" \
	wait_for 10 sh -c "curl -s '$M' | grep -Eq '^dsync_items_written_total\{direction=\"to_instance\",action=\"update\"\} [1-9]'"
git -C "$D" add -A && git_commit "$D" "slow push"

# --- 100 scrapes at once.
fds() { ls "/proc/$DAEMON_PID/fd" | wc -l; }
before=$(fds)
seq 100 | xargs -P 100 -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 20 "$M" >"$T/codes"
check "100 scrapes at once: all answered 200 ($(sort "$T/codes" | uniq -c | tr -s ' ' | tr '\n' ';'))" \
	test "$(grep -c '^200$' "$T/codes")" = 100
check "... no descriptor left open ($before before)" wait_for 10 is fds "$before"

# --- Degraded: Directus stopped; back: recovered.
dx_kill "$DX_DIR"
check "Directus stopped: degraded" wait_for 20 is 'state' degraded
agree_check "degraded"
check "... dsync_requests_total counts the failures (code=\"error\")" \
	sh -c "grep -Eq '^dsync_requests_total\{method=\"[A-Z]+\",code=\"error\"\} [1-9]' '$T/scrape'"
check "... dsync_polls_total counts failed polls" grep -Eq '^dsync_polls_total\{result="unreachable"\} [1-9]' "$T/scrape"
check "Directus back" dx_resume "$DX_DIR"
check "... recovered: in-sync" wait_for 60 is 'state' in-sync
agree_check "recovered"
latest() { grep '^dsync_last_success_timestamp_seconds{' "$T/scrape" | awk '$2 > m { m = $2 } END { print m + 0 }'; }
check "the latest dsync_last_success_timestamp_seconds is recent ($(( $(date +%s) - $(latest) )) s ago)" \
	test $(( $(date +%s) - $(latest) )) -lt 30

# --- Reload: the listener moves to a Unix socket.
sed -i "s|metrics = { listen = \"127.0.0.1:$port\"; };|metrics = { listen = \"$T/metrics.sock\"; };|" "$T/d.conf"
ctl reload >/dev/null
check "reload: metrics on the Unix socket" wait_for 10 test -S "$T/metrics.sock"
got=$(curl -s --unix-socket "$T/metrics.sock" -o "$T/scrape" -w '%{http_code}' http://localhost/metrics)
check "... GET /metrics there: 200" test "$got" = 200
cat "$T/scrape" >>"$T/all-scrapes"
check "... the TCP port is closed" sh -c "! curl -s -o /dev/null --max-time 2 '$M'"

check "the token is in no scrape" sh -c "! grep -qF -- '$DX_TOKEN' '$T/all-scrapes'"
stop_daemon
check "the daemon stopped cleanly (got $DAEMON_RC)" test "$DAEMON_RC" = 0
check "... and removed its metrics socket" test ! -e "$T/metrics.sock"
stop_proxy
finish
