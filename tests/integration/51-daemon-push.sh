#!/usr/bin/env bash
# The daemon with git as the truth (policy push), in the foreground with
# a temporary config, socket and state directory, and a dump tree that is
# a git repository: an edited file reaches Directus; a checkout that
# touches several files gives one job; a half-written file is an error
# and no push; drift is corrected; a field added in Directus and an item
# deleted from the dump wait for allow_schema_deletes and allow_deletes,
# and max_deletes stops a job before its first write; systemd's
# notifications; reload; pause across a restart; Directus gone and back.
# versions: all
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/daemon-lib.sh"

daemon_setup
# backoff_max 8: Directus stopped and back, below, is tried again within
# 8 s whatever the time it was away (a loaded machine starts it slowly).
write_conf "$T/d.conf" "$URL" "$D" 'poll = { interval = 2.0; full_every = 3; backoff_max = 8.0; };'
check "dsyncd -n accepts the test's config" "$DSYNCD" -n -f "$T/d.conf"
start_daemon "$T/d.conf" || { tail "$T/daemon.log"; fail "daemon starts (READY=1)"; finish; }
pass "READY=1 once the socket listens"
check "STATUS= lines say what it does" wait_for 5 grep -q '^STATUS=' "$T/notify"
check "WATCHDOG=1 with WATCHDOG_USEC set" wait_for 5 grep -q '^WATCHDOG=1' "$T/notify"
check "the first job ends in-sync" wait_for 20 is 'state' in-sync
ctl status >"$T/status.txt"; rc=$?
check "dsyncctl status exits 0 in sync (got $rc)" test "$rc" = 0
check "dsyncctl status names the instance" grep -qF "$URL" "$T/status.txt"

flows="$D/collections/flows.json"
gitc() { git -C "$D" -c user.email=t@example.com -c user.name=test "$@"; }
fid=$(json_of 'd.find(f => f.name === "Publish article")._syncId' <"$flows")

# --- An edited file reaches Directus within the debounce plus 2 s.
edit_json "$flows" "a.find(f => f._syncId === '$fid').name = 'Edited in git'"
if wait_for 2.5 is 'flow_name "$fid"' "Edited in git"; then
	pass "an edited file reaches Directus in $WAITED s (debounce 0.5 + 2)"
else fail "an edited file reaches Directus within 2.5 s"; fi
wait_for 5 idle
last_watch() { ctl history --json -n 500 | json_of "JSON.stringify((j => [j.collections, j.schema])(d.jobs.filter(j => j.trigger === 'watch').pop()))"; }
check "... by a job that read flows only, not the schema ($(last_watch))" test "$(last_watch)" = '[["flows"],false]'
gitc commit -qam edit

# --- A checkout of another commit, touching several files: one job,
# after the checkout ends.
git -C "$D" checkout -q -b other
edit_json "$flows" "a.find(f => f._syncId === '$fid').name = 'On the other branch'"
edit_json "$D/collections/translations.json" "a[0].value = 'Other value'"
edit_json "$D/collections/roles.json" "a.find(r => r.name === 'Editor').description = 'Other description'"
wait_for 10 is 'flow_name "$fid"' "On the other branch"
gitc commit -qam other
wait_for 10 idle
before=$(jobs watch)
git -C "$D" checkout -q main
check "the checkout is pushed" wait_for 10 is 'flow_name "$fid"' "Edited in git"
wait_for 5 idle
sleep 1.5   # a second job would have started by now (debounce 0.5)
after=$(jobs watch)
check "a checkout touching 3 files gives exactly one job ($before -> $after)" test "$after" = $((before + 1))

# --- A half-written file: an error naming the file, line and column,
# and no push; the fix is pushed.
acts=$(activity "$URL")
printf '[\n  {\n    "_syncId": "x",\n    "name": ' >"$D/collections/roles.json"
check "a half-written file: state error" wait_for 5 is 'state' error
ctl status --json | json_of 'd.last_error.message' >"$T/half.txt"
check "... the error names the file, line and column ($(cat "$T/half.txt"))" grep -Eq 'collections/roles.json: line [0-9]+, column [0-9]+' "$T/half.txt"
check "... nothing was pushed" test "$(activity "$URL")" = "$acts"
git -C "$D" checkout -q -- collections/roles.json
edit_json "$D/collections/roles.json" "a.find(r => r.name === 'Editor').description = 'Fixed'"
check "... the fix is pushed" wait_for 5 is 'dx_api GET '\''/roles?filter[name][_eq]=Editor&fields=description'\'' | json_of '\''d.data[0].description'\''' Fixed
check "... and the error is gone" wait_for 5 is 'state' in-sync
gitc commit -qam fixed

# --- Drift: a flow renamed in Directus is renamed back within one poll
# interval (2 s) plus 1 s.
local_id=$(dx_api GET "/flows?filter[name][_eq]=Edited%20in%20git&fields=id" | json_of 'd.data[0].id')
dx_api PATCH "/flows/$local_id" '{"name":"Renamed in the Data Studio"}' >/dev/null
if wait_for 3.5 is 'flow_name "$local_id"' "Edited in git"; then
	pass "drift corrected in $WAITED s (poll 2 s + 1 s)"
else fail "drift corrected within 3.5 s ($(flow_name "$local_id"))"; fi

# --- A field added in the Data Studio is left alone, and reported.
dx_api POST /fields/articles '{"field":"added_by_hand","type":"string","meta":{"note":"made in the Data Studio"},"schema":{}}' >/dev/null
wait_for 8 is 'ctl status --json | json_of '\''d.differences.schema ? d.differences.schema.held : ""'\''' "schema deletes need allow_schema_deletes"
check "a field added in Directus is reported, held for allow_schema_deletes" test "$(ctl status --json | json_of 'd.differences.schema.held')" = "schema deletes need allow_schema_deletes"
sleep 2.5
check "... and still there after a poll" dx_api GET /fields/articles/added_by_hand
ctl status >/dev/null; rc=$?
check "... dsyncctl status exits 2 (differences pending, got $rc)" test "$rc" = 2

# --- Deletes: an item deleted from the dump stays without allow_deletes.
npanels=$(dx_api GET '/panels?aggregate[count]=id' | json_of 'd.data[0].count.id')
edit_json "$D/collections/panels.json" "a.splice(0, 1)"
wait_for 6 is 'ctl status --json | json_of '\''d.differences.panels ? d.differences.panels.held : ""'\''' "deletes need allow_deletes"
check "a delete without allow_deletes is held" test "$(ctl status --json | json_of 'd.differences.panels.held')" = "deletes need allow_deletes"
check "... and the panel is still there" test "$(dx_api GET '/panels?aggregate[count]=id' | json_of 'd.data[0].count.id')" = "$npanels"
# max_deletes: 2 more deletes, 3 in all, over max_deletes = 2.
# backoff_max 8: Directus stopped and back, below, is tried again within
# 8 s whatever the time it was away (a loaded machine starts it slowly).
write_conf "$T/d.conf" "$URL" "$D" 'poll = { interval = 2.0; full_every = 3; backoff_max = 8.0; };' 'allow_deletes = true; max_deletes = 2; allow_schema_deletes = true;'
edit_json "$D/collections/panels.json" "a.splice(0, 2)"
: >"$T/notify"
kill -HUP "$DAEMON_PID"
check "SIGHUP: RELOADING=1, then READY=1" wait_for 5 bash -c "grep -n '' '$T/notify' | grep -m1 RELOADING=1 >/dev/null && sed -n '/RELOADING=1/,\$p' '$T/notify' | grep -q '^READY=1'"
check "more deletes than max_deletes: state error" wait_for 8 is 'state' error
check "... and status says why" bash -c "'$DSYNCCTL' -s '$T/ctl.sock' status --json | grep -q 'max-deletes'"
check "... nothing deleted" test "$(dx_api GET '/panels?aggregate[count]=id' | json_of 'd.data[0].count.id')" = "$npanels"
# allow_schema_deletes was set with it: the hand-made field goes.
git -C "$D" checkout -q -- collections/panels.json
edit_json "$D/collections/panels.json" "a.splice(0, 1)"
check "with allow_deletes, the deleted item goes" wait_for 8 is 'dx_api GET '\''/panels?aggregate[count]=id'\'' | json_of '\''d.data[0].count.id'\''' $((npanels - 1))
field_gone() { ! dx_api GET /fields/articles/added_by_hand >/dev/null 2>&1; }
check "with allow_schema_deletes, the hand-made field goes" wait_for 8 field_gone
gitc commit -qam deletes

# --- A bad configuration on reload is refused; the old one stays.
cp "$T/d.conf" "$T/good.conf"
echo 'max_delete = 3;' >>"$T/d.conf"
ctl reload >"$T/reload.out" 2>&1; rc=$?
check "dsyncctl reload of a bad file fails (exit 1, got $rc)" test "$rc" = 1
check "... naming the line and the setting" grep -q "d.conf:[0-9]*: unknown setting 'max_delete'" "$T/reload.out"
check "... and the daemon goes on" test "$(state)" != ""
cp "$T/good.conf" "$T/d.conf"

# --- Pause: no writes, across a restart; resume catches up.
ctl pause "release freeze" >/dev/null
check "pause: state paused" test "$(state)" = paused
edit_json "$flows" "a.find(f => f._syncId === '$fid').name = 'Edited while paused'"
sleep 2
check "... an edit is not pushed" test "$(flow_name "$local_id")" = "Edited in git"
stop_daemon
check "SIGTERM: STOPPING=1" grep -q '^STOPPING=1' "$T/notify"
check "... exit status 0" test "$DAEMON_RC" = 0
start_daemon "$T/d.conf" || fail "restart"
check "after a restart, still paused" wait_for 5 is 'state' paused
check "... with its reason" bash -c "'$DSYNCCTL' -s '$T/ctl.sock' status --json | grep -q 'release freeze'"
sleep 2
check "... and still nothing pushed" test "$(flow_name "$local_id")" = "Edited in git"
ctl resume >/dev/null
check "resume catches up" wait_for 5 is 'flow_name "$local_id"' "Edited while paused"

# --- Directus stopped: degraded, exit 1, the next retry; back: recovers.
dx_kill "$DX_DIR"
check "Directus stopped: state degraded" wait_for 10 is 'state' degraded
ctl status --json >"$T/degraded.json"
ctl status >/dev/null; rc=$?
check "... dsyncctl status exits 1 (got $rc)" test "$rc" = 1
check "... status has the error and the next retry" bash -c "node -e 'const d = JSON.parse(require(\"fs\").readFileSync(process.argv[1])); process.exit(d.last_error && d.last_error.message && d.next_retry && d.next_retry.in >= 0 ? 0 : 1)' '$T/degraded.json'"
check "... the daemon stays up" kill -0 "$DAEMON_PID"
check "Directus back: it starts again" dx_resume "$DX_DIR"
check "Directus back: it recovers by itself" wait_for 60 is 'state' in-sync

# --- The token appears nowhere.
ctl status --json >"$T/final-status.json"
ctl history --json -n 500 >"$T/final-history.json"
check "the token is in no log line, status or history" bash -c "! grep -qF -- '$DX_TOKEN' '$T/daemon.log' '$T/final-status.json' '$T/final-history.json' '$T/notify'"
stop_daemon
check "the daemon stopped cleanly at the end" test "$DAEMON_RC" = 0
finish
