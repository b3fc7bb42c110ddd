#!/usr/bin/env bash
# watch = "commits": an uncommitted edit is shown in status and never
# pushed; the commit is pushed. And SIGTERM during a push: the daemon
# exits within a few seconds, the dump tree and the state directory are
# intact, and the next start converges with no duplicates.
# versions: base 12
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/daemon-lib.sh"

daemon_setup
gitc() { git -C "$D" -c user.email=t@example.com -c user.name=test "$@"; }
write_conf "$T/d.conf" "$URL" "$D" 'watch = "commits";' 'poll = { interval = 2.0; full_every = 5; };'
start_daemon "$T/d.conf" || { tail "$T/daemon.log"; fail "daemon starts"; finish; }
check "the first job ends: in-sync" wait_for 20 is 'state' in-sync

flows="$D/collections/flows.json"
fid=$(json_of 'd.find(f => f.name === "Publish article")._syncId' <"$flows")
edit_json "$flows" "a.find(f => f._syncId === '$fid').name = 'Not committed yet'"
check "an uncommitted edit is shown in status" wait_for 5 bash -c "'$DSYNCCTL' -s '$T/ctl.sock' status --json | grep -q 'collections/flows.json'"
check "... as pending" test "$(state)" = pending
sleep 2.5
check "... and not pushed" test "$(flow_name "$fid")" = "Publish article"
gitc commit -qam "rename a flow"
if wait_for 3 is 'flow_name "$fid"' "Not committed yet"; then
	pass "the commit is pushed ($WAITED s)"
else fail "the commit is pushed"; fi
check "... and nothing is left uncommitted" wait_for 5 is 'state' in-sync
check "... by a job triggered by the commit" test "$(jobs commit)" -ge 1
# Drift is corrected back to HEAD, not to the working tree.
edit_json "$flows" "a.find(f => f._syncId === '$fid').name = 'Edited again, not committed'"
dx_api PATCH "/flows/$fid" '{"name":"Drifted"}' >/dev/null
check "drift is corrected to what HEAD holds" wait_for 6 is 'flow_name "$fid"' "Not committed yet"
gitc checkout -q -- collections/flows.json
stop_daemon

# --- SIGTERM during a push into an empty instance, slowed down by the
# proxy so that it is still running when the signal comes.
dx_start --as CUT || exit 1
start_proxy "$CUT_URL" --delay 0.2
STATE_DIR="$T/state2" write_conf "$T/cut.conf" "$PROXY_URL" "$D" 'poll = { interval = 60.0; };'
tree_sum "$D" >"$T/tree-before"
: >"$T/notify"
NOTIFY_SOCKET="$T/notify.sock" "$DSYNCD" -f "$T/cut.conf" >>"$T/daemon.log" 2>&1 &
DAEMON_PID=$!
wait_for 15 grep -q '^READY=1' "$T/notify"
cut_started() { [ "$(DX_URL=$CUT_URL dx_api GET '/flows?aggregate[count]=id' 2>/dev/null | json_of 'd.data[0].count.id' 2>/dev/null)" -ge 1 ] 2>/dev/null; }
check "a push is running (items appear on the instance)" wait_for 30 cut_started
t0=$EPOCHREALTIME
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
rc=$?
took=$(awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
DAEMON_PID=
stop_proxy
dsyncd -u "$CUT_URL" -t "$DX_TOKEN" diff --dump-path "$D" >/dev/null 2>&1
check "... it was cut in the middle (diff exits 2)" test $? = 2
check "SIGTERM during a push: exits within 5 s ($took s)" awk -v t="$took" 'BEGIN { exit !(t < 5) }'
check "... with status 0 (got $rc)" test "$rc" = 0
tree_sum "$D" >"$T/tree-after"
check "... the dump tree is intact" cmp -s "$T/tree-before" "$T/tree-after"
check "... no staging left in the tree" test ! -e "$D/.dsync-staging"
STATE_DIR="$T/state2" write_conf "$T/cut.conf" "$CUT_URL" "$D" 'poll = { interval = 60.0; };'
check "... the state directory loads: the next start" start_daemon "$T/cut.conf"
check "the next start converges" wait_for 60 is 'state' in-sync
check "... no duplicates, nothing missing" same_counts "$CUT_URL" "$D"
stop_daemon
finish
