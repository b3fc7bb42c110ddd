#!/usr/bin/env bash
# Load on the daemon: 100 dsyncctl clients at once, three rounds, while a
# long push runs (an empty instance behind a slow proxy), then three more
# rounds while it is idle. Every status is answered, within a bound that
# is measured and printed; no descriptor is left behind (/proc/PID/fd
# before and after); the daemon's RSS does not grow with the rounds.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/daemon-lib.sh"

daemon_setup
dx_start --as CUT || exit 1
start_proxy "$CUT_URL" --delay 0.2
write_conf "$T/d.conf" "$PROXY_URL" "$D" 'poll = { interval = 60.0; full_every = 0; };'
start_daemon "$T/d.conf" || { tail "$T/daemon.log"; fail "daemon starts"; finish; }

fds() { find "/proc/$DAEMON_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$DAEMON_PID/status"; }
job_requests() { ctl status --json 2>/dev/null | json_of 'd.job ? d.job.requests : 0'; }
# round N: 100 clients at once; each writes "EXIT SECONDS", its status
# in o.N.I (read afterwards: a node per client would be the load).
round() {
	local i pids=()
	for i in $(seq 100); do
		(
			s=$EPOCHREALTIME
			"$DSYNCCTL" -s "$T/ctl.sock" status --json >"$T/o$1.$i" 2>"$T/e$1.$i"
			rc=$?
			echo "$rc $(awk -v a="$EPOCHREALTIME" -v b="$s" 'BEGIN { printf "%.3f", a - b }')" >"$T/r$1.$i"
		) &
		pids+=($!)
	done
	wait "${pids[@]}"	# these clients, not the daemon
}
# answered N: the clients of round N that got a status (exit 0 or 2:
# differences wait while the push runs) with a state
answered() {
	local i n=0
	for i in $(seq 100); do
		read -r rc _ <"$T/r$1.$i" || continue
		{ [ "$rc" = 0 ] || [ "$rc" = 2 ]; } && grep -Eq '"state": "[a-z-]+"' "$T/o$1.$i" && n=$((n + 1))
	done
	echo "$n"
}
slowest() { for r in "$@"; do cat "$T"/r"$r".[0-9]* ; done | awk '{ print $2 }' | sort -n | tail -1; }
median() { for r in "$@"; do cat "$T"/r"$r".[0-9]* ; done | awk '{ print $2 }' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

check "a long push runs (the empty instance, 0.2 s a request)" wait_for 60 at_least job_requests 10
rss0=$(rss)
for r in 1 2 3; do round "$r"; done
check "... and it was still running after the three rounds" at_least job_requests 11
for r in 1 2 3; do
	check "push running, round $r: 100 of 100 clients answered" test "$(answered "$r")" = 100
done
busy_max=$(slowest 1 2 3)
busy_med=$(median 1 2 3)
check "... the slowest answer in ${busy_max} s (median ${busy_med} s), within 5 s" awk -v t="$busy_max" 'BEGIN { exit !(t < 5) }'
check "the push ends: in-sync" wait_for 120 is 'state' in-sync
wait_for 10 idle
fd0=$(fds)
rss1=$(rss)
for r in 4 5 6; do round "$r"; done
for r in 4 5 6; do
	check "idle, round $r: 100 of 100 clients answered" test "$(answered "$r")" = 100
done
idle_max=$(slowest 4 5 6)
check "... the slowest answer in ${idle_max} s (median $(median 4 5 6) s), within 2 s" awk -v t="$idle_max" 'BEGIN { exit !(t < 2) }'
if wait_for 5 is fds "$fd0"; then
	pass "no descriptor left behind ($fd0 before and after 300 clients)"
else fail "no descriptor left behind ($fd0 before, $(fds) after)"; fi
rss2=$(rss)
# Under ASan (tests/memcheck asan sets DSYNC_SANITIZED) freed memory
# waits in a quarantine: RSS grows with what is allocated, leak or not,
# and LeakSanitizer checks leaks instead.
if [ -n "${DSYNC_SANITIZED:-}" ]; then
	echo "SKIP: RSS under a sanitizer (${rss1} KB idle, ${rss2} KB after): not a measure of leaks there"
else
	check "RSS: ${rss0} KB during the push, ${rss1} KB idle, ${rss2} KB after 300 more clients (at most 1 MB more)" test $((rss2 - rss1)) -le 1024
fi
check "the daemon is up and answers" test "$(state)" = in-sync
stop_daemon
check "... and stops cleanly (exit 0)" test "$DAEMON_RC" = 0
stop_proxy
finish
