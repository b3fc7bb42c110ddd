#!/usr/bin/env bash
# Cheap polling and policy report: an idle poll makes at most 2
# requests (counted by the proxy in front of Directus); a change through
# the REST API is seen by the next poll, one made straight in the SQLite
# database by the next full diff; with policy report nothing is written,
# status shows the drift per collection and exits 2, and dsyncctl diff
# --json holds the plan.
# versions: base 12
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/daemon-lib.sh"

daemon_setup
start_proxy "$URL" --log "$T/requests.log"
write_conf "$T/d.conf" "$PROXY_URL" "$D" 'poll = { interval = 1.0; full_every = 8; };' \
	'policy = { default = "report"; schema = "report"; };'
start_daemon "$T/d.conf" || { tail "$T/daemon.log"; fail "daemon starts"; finish; }
check "the first job ends: in-sync" wait_for 20 is 'state' in-sync

# --- Idle polls: count the requests between two polls, nothing changing.
polls() { ctl status --json | json_of 'd.last_poll ? d.last_poll.at + " " + d.last_poll.requests : ""'; }
wait_for 5 at_least 'ctl status --json | json_of "d.last_poll ? 1 : 0"' 1
sleep 1.2
: >"$T/requests.log"
before=$(ctl status --json | json_of 'd.last_poll.at')
sleep 3.3
n=$(grep -cv ' /server/info \|^$' "$T/requests.log" || true)
p=$(ctl status --json | json_of 'd.last_poll.requests')
# Three or so idle polls in 3.3 s, each one GET of the activity log and
# one of the presets; a window cut in the middle of a poll may hold one
# half of it.
npolls=$(grep -c '^GET /activity' "$T/requests.log" || true)
npresets=$(grep -c '^GET /presets' "$T/requests.log" || true)
other=$(grep -Ev '^GET /(activity|presets)\?' "$T/requests.log" || true)
check "idle polls happened ($npolls in 3.3 s)" test "$npolls" -ge 2
check "an idle poll makes at most 2 requests (the daemon counts $p)" test "$p" -le 2
check "... one of the activity log and one of the presets ($npolls and $npresets)" test $((npolls - npresets)) -le 1 -a $((npresets - npolls)) -le 1
check "... and nothing else${other:+ (got: $other)}" test -z "$other"
check "... only reads" bash -c "! grep -Ev '^GET ' '$T/requests.log'"

# --- A change through the REST API: seen by the next poll.
fid=$(dx_api GET '/flows?filter[name][_eq]=Publish%20article&fields=id' | json_of 'd.data[0].id')
dx_api PATCH "/flows/$fid" '{"name":"Changed through the API"}' >/dev/null
check "a change through the API is seen by the next poll (drifted)" wait_for 5 is 'state' drifted
check "... in $WAITED s" true
ctl status >"$T/drift.txt"; rc=$?
check "policy report: dsyncctl status exits 2 (got $rc)" test "$rc" = 2
check "... and shows the drift per collection" test "$(ctl status --json | json_of 'd.pending.flows')" = 1
check "... nothing was written: the flow keeps its new name" test "$(flow_name "$fid")" = "Changed through the API"
ctl diff --json >"$T/diff.json"; rc=$?
check "dsyncctl diff exits 2 (got $rc)" test "$rc" = 2
check "dsyncctl diff --json holds the plan (the flow's update)" test "$(json_of 'd.plan.collections.flows.update[0].changes.name' <"$T/diff.json")" = "Publish article"
check "no write went through the proxy" bash -c "! grep -Ev '^GET |^POST /schema/diff ' '$T/requests.log'"

# --- Straight into the database: no activity row, seen by a full diff.
dx_api PATCH "/flows/$fid" '{"name":"Publish article"}' >/dev/null
wait_for 5 is 'state' in-sync
tid=$(dx_api GET '/translations?limit=1&fields=id' | json_of 'd.data[0].id')
# Directus' own sqlite3 module, on the node it was built for.
"$DX_NODE" -e '
const sqlite3 = require(process.argv[1]);
const db = new sqlite3.Database(process.argv[2]);
db.run("UPDATE directus_translations SET value = ? WHERE id = ?", ["changed in SQL", process.argv[3]], e => { if (e) { console.error(e); process.exit(1); } db.close(); });
' "$DX_INSTALL/node_modules/sqlite3" "$DX_DIR/data.db" "$tid" || fail "UPDATE through SQLite"
sleep 2.5
check "a change in the database is not seen by the probe" test "$(state)" = in-sync
check "... but by the next full diff (every 8 polls)" wait_for 12 is 'state' drifted
check "... in translations" test "$(ctl status --json | json_of 'd.pending.translations')" = 1

stop_daemon
stop_proxy
check "the daemon stopped cleanly" test "$DAEMON_RC" = 0
finish
