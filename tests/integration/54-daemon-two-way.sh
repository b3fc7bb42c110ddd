#!/usr/bin/env bash
# Both ways: under policy pull a change made in Directus is written into
# the tree and committed (only dsync's change, with its author, naming the
# item and the user), pushed to a bare remote; an uncommitted edit in the
# same file survives; deletes wait for allow_deletes. Under sync both
# sides move in one job; a conflict is shown and never decided until
# resolve; a field made in Directus is committed under schema pull. The
# first start without a base writes nothing until adopt. What the daemon
# writes is what dsyncd pull writes.
# versions: all
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/daemon-lib.sh"

daemon_setup
gitd() { git -C "$D" "$@"; }
git init -q --bare -b main "$T/remote.git"
gitd remote add origin "$T/remote.git" && gitd push -q origin main ||
	{ fail "a bare remote"; finish; }

flows="$D/collections/flows.json"
sid_of() { json_of "d.find(x => x.name === '$2')._syncId" <"$D/collections/$1.json"; }
id_of() { dx_api GET "/$1?filter[name][_eq]=$(node -p 'encodeURIComponent(process.argv[1])' "$2")&fields=id" | json_of 'd.data[0].id'; }
in_file() { json_of "(d.find(x => x._syncId === '$3') || {}).$2" <"$D/collections/$1.json"; }
polls() { ctl status --json | json_of 'd.polls'; }
# wait_polls N: N more polls are done
wait_polls() { local p; p=$(polls); wait_for 20 at_least polls $((p + $1)); }
commits() { gitd rev-list --count HEAD; }
# ctl_rc ARGS: dsyncctl's exit status
ctl_rc() { ctl "$@" >/dev/null 2>&1; echo $?; }
GIT_CONF='git = { commit = true; author_name = "dsync bot"; author_email = "bot@staging.example.org"; branch = "main"; push = "origin main"; };'
POLL='poll = { interval = 1.0; full_every = 0; };'

# --- policy pull ---------------------------------------------------------
INITIAL=pull write_conf "$T/pull.conf" "$URL" "$D" \
	'policy = { default = "pull"; schema = "pull"; };' "$GIT_CONF" "$POLL"
start_daemon "$T/pull.conf" || { tail "$T/daemon.log"; fail "daemon starts"; finish; }
check "pull: the first job ends in-sync, with a base" wait_for 20 is 'state' in-sync
check "... the base is in the state directory" test -f "$T/state/base/meta.json"

pub=$(sid_of flows "Publish article")
notify=$(sid_of flows "Notify editors")
pub_id=$(id_of flows "Publish article")
edit_json "$flows" "a.find(f => f._syncId === '$notify').description = 'a local edit, not committed'"
check "a local edit under pull is pending, not pushed" wait_for 5 is 'state' pending
wait_for 5 idle
w0=$(jobs watch)
n0=$(commits)
dx_api PATCH "/flows/$pub_id" '{"name":"Publish article (renamed in Directus)"}' >/dev/null
if wait_for 5 is 'in_file flows name "$pub"' "Publish article (renamed in Directus)"; then
	pass "pull: a flow renamed in Directus is in flows.json ($WAITED s, poll interval 1 s)"
else fail "pull: a flow renamed in Directus is in flows.json"; fi
check "... a commit appears" wait_for 5 is commits $((n0 + 1))
check "... with the configured author" test "$(gitd log -1 --format='%an <%ae>')" = "dsync bot <bot@staging.example.org>"
gitd log -1 --format=%B >"$T/msg"
check "... its subject counts the changes and names the instance" test "$(head -1 "$T/msg")" = "dsync: 1 change from $URL"
check "... it names the flow and its SyncID" grep -q "^flows update \"Publish article (renamed in Directus)\" $pub" "$T/msg"
check "... and the user who renamed it" grep -q "by admin@example.com at 20" "$T/msg"
check "... it holds flows.json only" test "$(gitd show --name-only --format= HEAD)" = collections/flows.json
check "... without the local edit" bash -c "! git -C '$D' show HEAD:collections/flows.json | grep -q 'a local edit'"
check "the uncommitted edit of another flow survives" test "$(in_file flows description "$notify")" = "a local edit, not committed"
check "... still uncommitted" test "$(gitd diff --name-only)" = collections/flows.json
check "... and not pushed (policy pull)" test "$(dx_api GET "/flows/$(id_of flows 'Notify editors')?fields=description" | json_of 'd.data.description')" != "a local edit, not committed"
check "git push: the bare remote has the commit" test "$(git -C "$T/remote.git" rev-parse main)" = "$(gitd rev-parse HEAD)"
check "... status shows the commit" test "$(ctl status --json | json_of 'd.git.last_commit')" = "$(gitd rev-parse HEAD)"
ctl history --json -n 5 | json_of 'd.jobs.filter(j => j.commit).pop()' >"$T/hist"
check "... history records it, one change to the tree" grep -q "to_tree: 1" "$T/hist"
wait_polls 2
check "a second poll makes no commit" test "$(commits)" = $((n0 + 1))
check "the daemon's own writes into the tree start no job" test "$(jobs watch)" = "$w0"
gitd checkout -q -- collections/flows.json
check "... the local edit taken back: in-sync" wait_for 5 is 'state' in-sync

# What the daemon wrote is what a pull writes of the same instance.
"$DSYNCD" -u "$URL" -t "$DX_TOKEN" pull --dump-path "$T/fresh" >/dev/null 2>&1
check "flows.json is byte-identical to dsyncd pull's" cmp "$flows" "$T/fresh/collections/flows.json"

# Deletes in Directus wait for allow_deletes.
nf_id=$(id_of flows "Notify editors")
n1=$(commits)
dx_api DELETE "/flows/$nf_id" >/dev/null
check "a flow deleted in Directus: held without allow_deletes" wait_for 8 bash -c "'$DSYNCCTL' -s '$T/ctl.sock' history --json -n 3 | grep -q '\"held_tree\": [1-9]'"
check "... still in its file" test "$(in_file flows name "$notify")" = "Notify editors"
check "... reported in status" test "$(ctl status --json | json_of "d.two_way.filter(e => e._syncId === '$notify').length")" = 1
check "... no commit" test "$(commits)" = "$n1"
INITIAL=pull write_conf "$T/pull.conf" "$URL" "$D" \
	'policy = { default = "pull"; schema = "pull"; };' "$GIT_CONF" "$POLL" 'allow_deletes = true;'
ctl reload >/dev/null
ctl sync >/dev/null
check "... with allow_deletes: removed from its file" wait_for 8 is 'in_file flows name "$notify"' undefined
check "... and committed" test "$(commits)" -gt "$n1"
check "... the commit says delete" bash -c "git -C '$D' log -1 --format=%B | grep -q '^flows delete \"Notify editors\" $notify'"
check "... in-sync after" wait_for 5 is 'state' in-sync

# git.branch: with HEAD on another branch the instance's changes wait.
gitd checkout -q -b feature
n5=$(commits)
dx_api PATCH "/flows/$pub_id" '{"name":"Renamed while on a branch"}' >/dev/null
waiting() { ctl status --json | json_of 'd.git.waiting || ""'; }
check "HEAD on another branch: the change waits, and status says why" wait_for 8 bash -c "'$DSYNCCTL' -s '$T/ctl.sock' status --json | grep -q 'HEAD is on feature, not on main'"
check "... as pending" test "$(state)" = pending
check "... nothing written into the tree" test "$(in_file flows name "$pub")" = "Publish article (renamed in Directus)"
check "... no commit" test "$(commits)" = "$n5"
gitd checkout -q main
check "back on main: written into the tree" wait_for 8 is 'in_file flows name "$pub"' "Renamed while on a branch"
check "... committed on main" wait_for 5 is 'gitd log -1 --format=%s main' "dsync: 1 change from $URL"
check "... nothing waits" wait_for 5 is waiting ""

# git push fails: shown, the commit stays, retried until the remote has it.
mv "$T/remote.git" "$T/remote.away"
dx_api PATCH "/flows/$pub_id" '{"name":"Renamed while the remote is away"}' >/dev/null
push_error() { ctl status --json | json_of 'd.git.push_error ? "failed" : "none"'; }
check "a failed git push is shown in status" wait_for 10 is push_error failed
check "... the commit is made all the same" test "$(gitd log -1 --format=%B | grep -c 'Renamed while the remote is away')" = 1
mv "$T/remote.away" "$T/remote.git"
if wait_for 40 is 'git -C "$T/remote.git" rev-parse main' "$(gitd rev-parse HEAD)"; then
	pass "... retried with backoff: the remote gets it ($WAITED s)"
else fail "... retried with backoff: the remote gets it"; fi
check "... and status clears" wait_for 5 is push_error none
stop_daemon

# --- policy sync ---------------------------------------------------------
SYNC_POLICY='policy = { default = "sync"; schema = "pull"; };'
write_conf "$T/sync.conf" "$URL" "$D" "$SYNC_POLICY" "$GIT_CONF" "$POLL"
start_daemon "$T/sync.conf" || { tail "$T/daemon.log"; fail "sync: daemon starts"; finish; }
check "sync: in-sync" wait_for 20 is 'state' in-sync
dash=$(json_of 'd[0]._syncId' <"$D/collections/dashboards.json")
dash_name=$(in_file dashboards name "$dash")
dash_id=$(id_of dashboards "$dash_name")
tr=$(json_of 'd[0]._syncId' <"$D/collections/translations.json")
tr_key=$(json_of "d.find(x => x._syncId === '$tr').key" <"$D/collections/translations.json")
ctl pause "two changes at once" >/dev/null
n2=$(commits)
dx_api PATCH "/dashboards/$dash_id" '{"name":"Dashboard renamed in Directus"}' >/dev/null
edit_json "$D/collections/translations.json" "a.find(t => t._syncId === '$tr').value = 'Edited in the tree'"
wait_polls 1
ctl resume >/dev/null
tr_value() { dx_api GET "/translations?filter[key][_eq]=$tr_key&fields=value,language" | json_of "d.data.map(x => x.value).includes('Edited in the tree')"; }
check "sync: the tree's translation reaches Directus" wait_for 10 is tr_value true
check "... the dashboard renamed in Directus reaches the tree" wait_for 10 is 'in_file dashboards name "$dash"' "Dashboard renamed in Directus"
both_ways() { ctl history --json -n 10 | json_of 'd.jobs.filter(j => j.to_tree >= 1 && (j.to_instance || {}).updated >= 1).length'; }
check "... in one job" wait_for 5 is both_ways 1
check "... one commit for the pulled part" test "$(commits)" = $((n2 + 1))
check "... holding dashboards.json only" test "$(gitd show --name-only --format= HEAD)" = collections/dashboards.json
gitd -c user.email=t@example.com -c user.name=test commit -qam "translation edit"

# A conflict: the same flow renamed differently on both sides.
conflict() { # TREE_NAME DIRECTUS_NAME
	ctl pause "a conflict" >/dev/null
	edit_json "$flows" "a.find(f => f._syncId === '$pub').name = '$1'"
	dx_api PATCH "/flows/$pub_id" "{\"name\":\"$2\"}" >/dev/null
	wait_polls 1
	ctl resume >/dev/null
}
conflict "Renamed in git" "Renamed in the Data Studio"
check "conflict: status says conflict" wait_for 10 is 'state' conflict
check "... dsyncctl status exits 2" test "$(ctl_rc status)" = 2
ctl status --json >"$T/st"
check "... with both sides' values" test "$(json_of "const c = d.conflicts.find(e => e._syncId === '$pub'); c.dump.name + '|' + c.instance.name" <"$T/st")" = "Renamed in git|Renamed in the Data Studio"
check "... and who changed the instance's side" test "$(json_of "d.conflicts[0].by" <"$T/st")" = admin@example.com
check "... dsyncctl diff shows its class" test "$(ctl diff --json | json_of "d.two_way.differences.find(e => e._syncId === '$pub').class")" = conflict
check "... and so does dsyncd diff --base with the daemon's base" test "$("$DSYNCD" -u "$URL" -t "$DX_TOKEN" diff --dump-path "$D" --base "$T/state/base" --json 2>/dev/null | json_of "d.differences.find(e => e._syncId === '$pub').class")" = conflict
ctl status >"$T/st.txt"
check "... the screen shows it" grep -q "Renamed in the Data Studio" "$T/st.txt"
wait_polls 3
check "... across three polls neither side changed" test "$(in_file flows name "$pub")|$(flow_name "$pub_id")" = "Renamed in git|Renamed in the Data Studio"
check "... still a conflict" test "$(state)" = conflict
n3=$(commits)
check "resolve --keep instance" test "$(ctl_rc resolve flows "$pub" --keep instance)" = 0
check "... writes the instance's version into the tree" test "$(in_file flows name "$pub")" = "Renamed in the Data Studio"
check "... and commits it" test "$(commits)" = $((n3 + 1))
check "... in-sync" wait_for 5 is 'state' in-sync
conflict "Kept from git" "Lost in the Data Studio"
check "the same case again: a conflict" wait_for 10 is 'state' conflict
check "resolve --keep dump" test "$(ctl_rc resolve flows "$pub" --keep dump)" = 0
check "... pushes the dump's version" test "$(flow_name "$pub_id")" = "Kept from git"
check "... in-sync" wait_for 5 is 'state' in-sync
gitd -c user.email=t@example.com -c user.name=test commit -qam "kept from git"
conflict "Same on both sides" "Same on both sides"
check "renamed the same way on both sides: no conflict, in-sync" wait_for 10 is 'state' in-sync
gitd -c user.email=t@example.com -c user.name=test commit -qam "same"
check "resolve of an unknown item is refused" test "$(ctl_rc resolve flows no-such-id --keep dump)" = 1

# A field made in the Data Studio, schema pull.
n4=$(commits)
dx_api POST /fields/articles '{"field":"dsync_note","type":"string","meta":{"interface":"input"}}' >/dev/null
unit="$D/snapshot/fields/articles/dsync_note.json"
check "schema pull: a field added in Directus gets its snapshot file" wait_for 10 test -f "$unit"
check "... committed" wait_for 5 is commits $((n4 + 1))
check "... the commit holds that file" test "$(gitd show --name-only --format= HEAD)" = snapshot/fields/articles/dsync_note.json
"$DSYNCD" -u "$URL" -t "$DX_TOKEN" pull --dump-path "$T/fresh2" >/dev/null 2>&1
check "... byte-identical to dsyncd pull's" cmp "$unit" "$T/fresh2/snapshot/fields/articles/dsync_note.json"
check "... and dashboards.json too" cmp "$D/collections/dashboards.json" "$T/fresh2/collections/dashboards.json"
stop_daemon

# --- SIGKILL in the middle of a two-way job ------------------------------
start_proxy "$URL" --delay 0.15
# The base names the instance by its URL: the proxy's is another, so this
# daemon keeps its own state.
STATE_DIR="$T/state-kill" INITIAL=pull write_conf "$T/slow.conf" "$PROXY_URL" "$D" "$SYNC_POLICY" 'git = { commit = true; author_name = "dsync bot"; author_email = "bot@staging.example.org"; };' 'poll = { interval = 60.0; full_every = 0; };'
start_daemon "$T/slow.conf" || { tail "$T/daemon.log"; fail "kill: daemon starts"; finish; }
check "kill: in-sync through the slow proxy" wait_for 60 is 'state' in-sync
cp "$T/state-kill/base/meta.json" "$T/base-before"
ctl pause "two changes" >/dev/null
dx_api PATCH "/dashboards/$dash_id" '{"name":"Renamed before the kill"}' >/dev/null
edit_json "$D/collections/translations.json" "a.find(t => t._syncId === '$tr').value = 'Edited before the kill'"
ctl resume >/dev/null
job_requests() { ctl status --json 2>/dev/null | json_of 'd.job ? d.job.requests : 0'; }
check "... a job runs" wait_for 30 at_least job_requests 30
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
check "... the base after the kill is whole (old or new)" node -e 'JSON.parse(require("fs").readFileSync(process.argv[1]))' "$T/state-kill/base/meta.json"
start_daemon "$T/slow.conf" || { tail "$T/daemon.log"; fail "kill: restarts"; finish; }
tr_value2() { dx_api GET "/translations?filter[key][_eq]=$tr_key&fields=value" | json_of "d.data.map(x => x.value).includes('Edited before the kill')"; }
check "after the restart: the tree's change is in Directus" wait_for 60 is tr_value2 true
check "... the instance's change is in the tree" wait_for 30 is 'in_file dashboards name "$dash"' "Renamed before the kill"
check "... in-sync" wait_for 30 is 'state' in-sync
check "... no duplicates, nothing missing" same_counts "$URL" "$D"
check "... one commit names the change" test "$(gitd log --format=%B | grep -c 'Renamed before the kill')" = 1
stop_daemon
stop_proxy

# --- the first start without a base: initial = report ------------------
gitd -c user.email=t@example.com -c user.name=test commit -qam "before report" >/dev/null 2>&1 || true
edit_json "$flows" "a.find(f => f._syncId === '$pub').description = 'Only in the tree'"
dx_api PATCH "/dashboards/$dash_id" '{"name":"Only in Directus"}' >/dev/null
tree_sum "$D" >"$T/sum-before"
act0=$(activity "$URL")
STATE_DIR="$T/state-report" INITIAL=report write_conf "$T/report.conf" "$URL" "$D" "$SYNC_POLICY" "$GIT_CONF" "$POLL"
start_daemon "$T/report.conf" || { tail "$T/daemon.log"; fail "report: daemon starts"; finish; }
check "initial report: drifted, no base" wait_for 20 is 'state' drifted
ctl status --json >"$T/st2"
check "... every difference shown" test "$(json_of "d.two_way.map(e => e.collection + ':' + e.class).sort().join(',')" <"$T/st2")" = "dashboards:differs,flows:differs"
wait_polls 2
tree_sum "$D" >"$T/sum-after"
check "... nothing written into the tree" cmp -s "$T/sum-before" "$T/sum-after"
check "... nor into Directus" test "$(activity "$URL")" = "$act0"
check "... no base written" test ! -e "$T/state-report/base"
check "adopt --keep dump" test "$(ctl_rc adopt --keep dump)" = 0
check "... converges: in-sync" wait_for 10 is 'state' in-sync
check "... Directus has the dump's versions" test "$(dx_api GET "/dashboards/$dash_id?fields=name" | json_of 'd.data.name')" = "Renamed before the kill"
check "... and a base" test -f "$T/state-report/base/meta.json"
stop_daemon
finish
