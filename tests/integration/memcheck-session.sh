#!/usr/bin/env bash
# A daemon session for tests/memcheck valgrind (not part of tests/run:
# its name has no number). dsyncd -f runs under $DSYNC_WRAP (valgrind)
# through the fault proxy, policy sync with commits, and does what a day
# brings: its first job, an edit in git pushed, a rename in Directus
# committed, dsyncctl's reads, a reload, a minute of 503 answers with
# Retry-After and the recovery, a resolve of a conflict, SIGTERM. The
# one-shot pull, diff and push run under it too. Deadlines are generous:
# valgrind makes everything 20 to 50 times slower; DSYNC_TIME_FACTOR
# multiplies them again.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/daemon-lib.sh"

read -ra WRAP <<<"${DSYNC_WRAP:-}"
daemon_setup
start_proxy "$URL" --status 503 --retry-after 3 --state-file "$T/proxy.state"
kill -USR1 "$PROXY_PID"	# no faults until asked for

# One-shot commands under the wrap.
P="$T/p"
"${WRAP[@]}" "$DSYNCD" -u "$URL" -t "$DX_TOKEN" pull --dump-path "$P" >"$T/pull.log" 2>&1
check "one-shot pull" test -f "$P/collections/flows.json"
edit_json "$P/collections/flows.json" "a[0].description = 'pushed by the one-shot'"
"${WRAP[@]}" "$DSYNCD" -u "$URL" -t "$DX_TOKEN" diff --dump-path "$P" >"$T/diff.log" 2>&1; rc=$?
check "one-shot diff sees the edit (exit $rc)" test "$rc" = 2
"${WRAP[@]}" "$DSYNCD" -u "$URL" -t "$DX_TOKEN" push --dump-path "$P" >"$T/push.log" 2>&1
check "one-shot push" test "$(dx_api GET '/flows?fields=description&filter[description][_eq]=pushed%20by%20the%20one-shot' | json_of 'd.data.length')" = 1
# The tree follows the instance again before the daemon starts.
"$DSYNCD" -u "$URL" -t "$DX_TOKEN" pull --dump-path "$D" >/dev/null 2>&1 && git -C "$D" add -A && git_commit "$D" "after the one-shots"

GIT_CONF='git = { commit = true; author_name = "dsync bot"; author_email = "bot@example.org"; branch = "main"; };'
write_conf "$T/d.conf" "$PROXY_URL" "$D" 'policy = { default = "sync"; schema = "push"; };' \
	"$GIT_CONF" 'poll = { interval = 2.0; full_every = 0; backoff_max = 10.0; };'
sed -i 's|^debounce = .*|debounce = 1.0;|' "$T/d.conf"
start_daemon_slow() {
	: >"$T/notify"
	NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=60000000 \
		"${WRAP[@]}" "$DSYNCD" -f "$1" >>"$T/daemon.log" 2>&1 &
	DAEMON_PID=$!
	wait_for 120 grep -q '^READY=1' "$T/notify"
}
start_daemon_slow "$T/d.conf" || { tail "$T/daemon.log"; fail "daemon starts"; finish; }
check "the first job ends in-sync" wait_for 300 is state in-sync

flows="$D/collections/flows.json"
name0=$(json_of 'd[0].name' <"$flows")
edit_json "$flows" "a[0].description = 'edited in git'"
git -C "$D" -c user.email=t@example.com -c user.name=test commit -qam "an edit"
flow_desc() { dx_api GET "/flows?filter[name][_eq]=$(node -p 'encodeURIComponent(process.argv[1])' "$1")&fields=description" | json_of 'd.data[0].description'; }
check "an edit in git is pushed" wait_for 300 is "flow_desc '$name0'" "edited in git"

dash=$(dx_api GET '/dashboards?limit=1&fields=id' | json_of 'd.data[0].id')
n0=$(git -C "$D" rev-list --count HEAD)
dx_api PATCH "/dashboards/$dash" '{"name":"Renamed in Directus"}' >/dev/null
check "a rename in Directus is committed" wait_for 300 is "git -C '$D' rev-list --count HEAD" $((n0 + 1))
wait_for 300 idle
for c in status "status --json" diff "diff --json" history "history --json" version; do
	# shellcheck disable=SC2086
	ctl --timeout 120 $c >/dev/null 2>&1
done
check "dsyncctl answers" test "$(ctl --timeout 120 status --json | json_of 'd.state')" = in-sync
kill -HUP "$DAEMON_PID"
check "after a reload: in-sync" wait_for 300 is state in-sync

# Faults for a while: degraded, then it recovers by itself.
kill -USR2 "$PROXY_PID"
ctl --timeout 0 sync >/dev/null 2>&1
check "503 with Retry-After: degraded" wait_for 300 is state degraded
kill -USR1 "$PROXY_PID"
check "... then in-sync again by itself" wait_for 300 is state in-sync

# A conflict, resolved.
sid=$(json_of "d.find(x => x.name === 'Renamed in Directus')._syncId" <"$D/collections/dashboards.json")
edit_json "$D/collections/dashboards.json" "a.find(x => x._syncId === '$sid').name = 'Named in git'"
dx_api PATCH "/dashboards/$dash" '{"name":"Named in Directus"}' >/dev/null
check "the same item changed on both sides is a conflict" wait_for 300 is state conflict
ctl --timeout 0 resolve dashboards "$sid" --keep dump >/dev/null 2>&1
check "... resolved toward the dump" wait_for 300 is "dx_api GET '/dashboards/$dash?fields=name' | json_of 'd.data.name'" "Named in git"
check "... in-sync" wait_for 300 is state in-sync

stop_daemon
check "the daemon stopped cleanly (exit $DAEMON_RC)" test "$DAEMON_RC" = 0
stop_proxy
finish
