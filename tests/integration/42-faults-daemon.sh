#!/usr/bin/env bash
# The fault matrix (issue 9, part 1) for the daemon: dsyncd -f in the
# foreground, talking to a real Directus through tests/faults/proxy.py.
# Every kind of fault (faults-lib.sh) during its polls, and a few during
# its push jobs (an update, a create with an integer key and one with a
# uuid, a delete): the daemon stays up, dsyncctl status shows the state
# degraded with the request and the fault and the next retry, and once the
# proxy stops injecting (SIGUSR1, or a proxy started again) it recovers by
# itself: in-sync, the pending edit pushed, no duplicates. Retry-After
# (delta-seconds on a 429, an HTTP date on a 503) makes the next request
# wait at least that long, even with a change in the tree meanwhile, and
# status says so; without it the retries back off (2 s, then 4 s).
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/daemon-lib.sh"
RA503=3 RA429=3	# the daemon waits them out
source "$(dirname "$0")/faults-lib.sh"

daemon_setup

PORT=$(free_port)
PURL="http://127.0.0.1:$PORT"
# dproxy ARGS...: the proxy on the daemon's port, logging request times.
dproxy() {
	[ -n "${PROXY_PID:-}" ] && { kill -0 "$PROXY_PID" 2>/dev/null && funproxy; }
	rm -f "$T/fstate" "$T/dlog"
	start_proxy "$URL" --port "$PORT" --state-file "$T/fstate" --log "$T/dlog" --log-times "$@"
	PROXY_PID=$PROXY_PID
}
dproxy
write_conf "$T/d.conf" "$PURL" "$D" 'poll = { interval = 1.0; full_every = 5; backoff_max = 4.0; };' \
	'allow_deletes = true;'
sed -i 's|token_file = "\([^"]*\)"; };|token_file = "\1"; timeout = 2.0; };|' "$T/d.conf"
check "the configuration has the request timeout" grep -q 'timeout = 2.0' "$T/d.conf"
start_daemon "$T/d.conf" || { tail "$T/daemon.log"; fail "daemon starts"; finish; }
check "the first job ends in-sync" wait_for 30 is 'state' in-sync

up() { kill -0 "$DAEMON_PID" 2>/dev/null; }
sj() { ctl status --json 2>/dev/null | json_of "$1"; }
flows="$D/collections/flows.json"
flow_of() { json_of "d.find(f => f.name === '$1')._syncId" <"$flows"; }

# degraded_with PATTERN: state degraded, last_error's message matching.
degraded_with() {
	[ "$(state)" = degraded ] && sj 'd.last_error && d.last_error.message || ""' | grep -Eq -- "$1"
}
# shows_failure NAME PRE: the status screen and JSON show the failure.
# The screen is read between tries: while a retry job runs, the state is
# syncing, so the read waits (with a deadline) for degraded.
screen_degraded() {
	SCREEN_RC=0
	ctl status >"$T/$1.status" 2>&1 || SCREEN_RC=$?
	[ "$SCREEN_RC" = 1 ] && grep -q "^degraded: " "$T/$1.status"
}
shows_failure() {
	local name=$1 pre=$2 rc
	wait_for 10 screen_degraded "$name"
	rc=$SCREEN_RC
	check "$name: dsyncctl status exits 1 while degraded (got $rc)" test "$rc" = 1
	check "$name: the screen shows the error with its request, and the next retry" \
		bash -c 'grep -q "^degraded: " "$1" && grep -Eq "last error: .*$2" "$1" && grep -q "next retry: in " "$1"' _ "$T/$name.status" "$pre"
	check "$name: the daemon stays up" up
}

# --- Faults during polls: the probe's read of the activity log.
for kind in "${FAULT_KINDS[@]}"; do
	fault_spec "$kind"
	name="poll-$kind"
	pre="GET /activity"
	if [ "$kind" = refused ]; then
		funproxy	# nothing listens on the port
		FAULTS_INJECTED=$((FAULTS_INJECTED + 1))
		pre="GET /"
	else
		dproxy --match /activity "${FARGS[@]}"
	fi
	FAULT_RUNS=$((FAULT_RUNS + 1))
	if wait_for 12 degraded_with "$pre.*$FPAT"; then
		pass "$name: state degraded, naming the request and the fault (in $WAITED s)"
	else
		fail "$name: state degraded with $pre ... $FPAT (state $(state): $(sj 'd.last_error && d.last_error.message'))"
	fi
	shows_failure "$name" "$pre"
	if [ "$kind" = refused ]; then dproxy; else kill -USR1 "$PROXY_PID"; fi
	check "$name: recovers by itself once the faults stop" wait_for 15 is 'state' in-sync
done

# --- Backoff without Retry-After: every poll answered 500 for a while;
# the retries come about 2 s, then 4 s apart (20 % jitter below).
dproxy --match /activity --status 500
faulted() { [ "$(grep -c ' F$' "$T/dlog")" -ge "$1" ]; }
check "backoff: four polls refused" wait_for 20 faulted 4
kill -USR1 "$PROXY_PID"
gaps=$(awk '$NF == "F" { if (t) printf "%.2f ", $(NF-1) - t; t = $(NF-1) }' "$T/dlog")
echo "backoff: the refused requests came at gaps of: $gaps(s)"
# A refusal of the probe after a job may come first, a poll's soon after.
check "backoff: a retry about 2 s after a failure, the next about 4 s after it (gaps: $gaps)" \
	awk -v g="$gaps" 'BEGIN { n = split(g, a, " ")
		for (i = 1; i < n; i++) if (a[i] >= 1.5 && a[i] <= 2.6 && a[i+1] >= 3.1 && a[i+1] <= 4.6) exit 0
		exit 1 }'
check "backoff: recovers" wait_for 15 is 'state' in-sync

# --- Retry-After on a 429 (delta-seconds) and on a 503 (an HTTP date):
# the next request waits at least that long, even though the tree
# changed meanwhile; status shows it; then the change is pushed.
ra_case() {
	local name=$1 wait=$2 ra=$3 fid newname t0 next n
	dproxy --match /activity "${@:4}" --retry-after "$ra"
	FAULT_RUNS=$((FAULT_RUNS + 1))
	if wait_for 12 degraded_with "GET /activity.*Retry-After"; then
		pass "$name: degraded, the error has the Retry-After"
	else fail "$name: degraded with a Retry-After ($(sj 'd.last_error && d.last_error.message'))"; fi
	kill -USR1 "$PROXY_PID"	# the retry will pass, once it comes
	ctl status --json >"$T/$name.json"
	ctl status >"$T/$name.status"
	n=$(json_of 'd.next_retry && d.next_retry.retry_after' <"$T/$name.json")
	check "$name: status' next_retry.retry_after is $wait s or a little more ($n)" \
		awk -v n="$n" -v w="$wait" 'BEGIN { exit !(n >= w && n <= w + 3) }'
	check "$name: the screen says Directus asked for it" grep -Eq "next retry: in .*Directus asked to wait [0-9]+ s: Retry-After" "$T/$name.status"
	check "$name: ... and the state's reason too" grep -q "as Directus asked (Retry-After" "$T/$name.status"
	# A change in the tree while the daemon waits.
	fid=$(flow_of "Publish article")
	newname="Renamed during $name"
	edit_json "$flows" "a.find(f => f._syncId === '$fid').name = '$newname'"
	check "$name: the edit is pushed once the wait is over" wait_for $((wait + 15)) is 'flow_name "$fid"' "$newname"
	t0=$(awk '$NF == "F" { t = $(NF-1) } END { print t }' "$T/dlog")
	next=$(awk -v t="$t0" '$NF != "F" && $(NF-1) > t + 0.3 { print $(NF-1); exit }' "$T/dlog")
	check "$name: no request for $wait s after the refusal (the next came $(awk -v a="$next" -v b="$t0" 'BEGIN { printf "%.2f", a - b }') s later)" \
		awk -v a="${next:-0}" -v b="$t0" -v w="$wait" 'BEGIN { exit !(a - b >= w - 0.5) }'
	check "$name: in-sync again" wait_for 15 is 'state' in-sync
	edit_json "$flows" "a.find(f => f._syncId === '$fid').name = 'Publish article'"
	wait_for 15 is 'flow_name "$fid"' "Publish article"
	wait_for 10 is 'state' in-sync
}
ra_case retry-after-429 6 6 --status 429
ra_case retry-after-503-date 5 "$(date -u -R -d '+8 seconds' | sed 's/+0000$/GMT/')" --status 503

# --- Faults during push jobs: the write of an edit fails; once the
# faults stop, the retry pushes it, and nothing is applied twice.
# push_case NAME KIND FILE EDIT_JS DONE PROXY_MATCH...: DONE (evaluated)
# tells that the edit reached Directus.
count_of() { # count_of PATH: the number of items a list has
	curl -s -g -H "Authorization: Bearer $DX_TOKEN" "$URL$1&aggregate[count]=id" |
		sed -n 's/.*"id":\([0-9]*\).*/\1/p'
}
push_case() {
	local name=$1 kind=$2 file=$3 js=$4 done_cmd=$5; shift 5
	fault_spec "$kind"
	dproxy "$@" "${FARGS[@]}"
	FAULT_RUNS=$((FAULT_RUNS + 1))
	edit_json "$D/collections/$file" "$js"
	if wait_for 15 degraded_with "$FPAT"; then
		pass "$name: state degraded, naming the fault (in $WAITED s)"
	else
		fail "$name: state degraded with $FPAT (state $(state): $(sj 'd.last_error && d.last_error.message'))"
	fi
	shows_failure "$name" "(PATCH|POST|DELETE) /"
	kill -USR1 "$PROXY_PID"
	check "$name: recovers by itself, the edit pushed" wait_for 20 eval "$done_cmd"
	check "$name: in-sync" wait_for 15 is 'state' in-sync
	check "$name: no duplicates, nothing missing" instance_ok "$URL" "$D"
}
fid=$(flow_of "Publish article")
push_case push-update-http503 http503 flows.json "a.find(f => f._syncId === '$fid').name = 'Pushed through a 503'" \
	"is 'flow_name $fid' 'Pushed through a 503'" --method PATCH
push_case push-update-stall stall flows.json "a.find(f => f._syncId === '$fid').name = 'Pushed through a stall'" \
	"is 'flow_name $fid' 'Pushed through a stall'" --method PATCH
push_case push-intcreate-lost-answer drop permissions.json \
	"const n = JSON.parse(JSON.stringify(a[0])); n._syncId = '88888888-0000-4000-8000-0000000000d1'; n.collection = 'directus_files'; n.action = 'share'; a.push(n)" \
	"is 'count_of \"/permissions?filter[collection][_eq]=directus_files&filter[action][_eq]=share\"' 1" \
	--method POST --match /permissions --count 1
check "push-intcreate-lost-answer: the POST was sent once" \
	test "$(grep -c '^POST /permissions ' "$T/dlog")" = 1
push_case push-create-bad-json bad-json flows.json \
	"const n = JSON.parse(JSON.stringify(a[0])); n._syncId = '88888888-0000-4000-8000-0000000000d2'; n.name = 'Created through garbage'; n.operation = null; a.push(n)" \
	"is 'count_of \"/flows?filter[name][_eq]=Created%20through%20garbage\"' 1" \
	--method POST --match /flows
ntr=$(json_of 'd.length' <"$D/collections/translations.json")
push_case push-delete-http500 http500 translations.json "a.pop()" \
	"is 'count_of \"/translations?limit=-1\"' $((ntr - 1))" --method DELETE

funproxy
ctl status --json >"$T/final-status.json"
check "the token is in no log line or status" bash -c '! grep -qF -- "$1" "$2" "$3" "$4"' _ "$DX_TOKEN" "$T/daemon.log" "$T/final-status.json" "$T/notify"
check "the daemon was up throughout" up
dproxy
stop_daemon
funproxy
check "the daemon stopped cleanly" test "$DAEMON_RC" = 0
echo "faults injected: $FAULTS_INJECTED in $FAULT_RUNS phases (the daemon), items lost: $( [ "$nfail" = 0 ] && echo 0 || echo 'see failures')"
finish
