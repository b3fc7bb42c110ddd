#!/usr/bin/env bash
# A push never gives anonymous visitors more than the dump grants them.
# The fixture is the case found on a public CMS template: a policy with no
# access rows whose id sorts first ("Live preview") reads every page, the
# real public policy reads published pages only; a draft and a published
# page. directus-sync 3.4.1 labels Live preview as the public policy and
# records that in the SyncID map; dsyncd's pull corrects the map, and its
# dump, pushed anywhere, lets the public read the published page and not
# the draft. directus-sync's own mislabelled dump is refused. An instance
# with a second public policy is repaired by one push. Permissions and
# public access rows that the dump does not grant stop a push before its
# first write. Then the daemon, under the policies push and sync.
# versions: base 12
# needs: custom-permission-rules
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/daemon-lib.sh"

dx_install || exit 1
LIVE=00000000-0000-4000-8000-000000000001
PUB=abf8a154-5b1c-4a46-ac9c-7300570f4f17
PH=_sync_default_public_policy

# pages_schema URL: the pages collection (status, title).
pages_schema() {
	DX_URL=$1 dx_api POST /collections '{"collection":"pages","meta":{"icon":"article"},"schema":{},"fields":[
		{"field":"id","type":"integer","meta":{"hidden":true},"schema":{"is_primary_key":true,"has_auto_increment":true}},
		{"field":"status","type":"string","meta":{},"schema":{"default_value":"draft"}},
		{"field":"title","type":"string","meta":{},"schema":{}}]}' >/dev/null
}
# pages_rows URL: one draft page and one published page.
pages_rows() {
	DX_URL=$1 dx_api POST /items/pages '[{"status":"draft","title":"Draft"},{"status":"published","title":"Published"}]' >/dev/null
}
# fixture URL: the pages, "Live preview" (no access rows, an id that sorts
# before the public policy's, an unfiltered read of pages) and the public
# policy's read of published pages only.
fixture() {
	local url=$1
	pages_schema "$url" && pages_rows "$url" &&
	DX_URL=$url dx_api POST /policies "{\"id\":\"$LIVE\",\"name\":\"Live preview\",\"icon\":\"preview\",\"admin_access\":false,\"app_access\":false}" >/dev/null &&
	DX_URL=$url dx_api POST /permissions "{\"policy\":\"$LIVE\",\"collection\":\"pages\",\"action\":\"read\",\"fields\":[\"*\"]}" >/dev/null &&
	DX_URL=$url dx_api POST /permissions "{\"policy\":\"$PUB\",\"collection\":\"pages\",\"action\":\"read\",\"fields\":[\"*\"],\"permissions\":{\"status\":{\"_eq\":\"published\"}}}" >/dev/null
}
# anon URL: the titles of the pages an anonymous visitor reads, or HTTP n.
anon() {
	local out code
	out=$(curl -s -w '\n%{http_code}' "$1/items/pages?fields=title&sort=title")
	code=${out##*$'\n'}
	[ "$code" = 200 ] || { echo "HTTP $code"; return; }
	printf '%s' "${out%$'\n'*}" | json_of 'd.data.map(p => p.title).join(",")'
}
# publics URL: the ids of the policies holding a public access row.
publics() {
	DX_URL=$1 dx_api GET '/access?limit=-1&fields=policy&filter[role][_null]=true&filter[user][_null]=true' |
		json_of '[...new Set(d.data.map(a => a.policy))].sort().join(",")'
}
# grants URL: what the public may do, as sorted lines (collection,
# action, fields, filter, of every public policy), to compare instances.
grants() {
	local ids
	ids=$(publics "$1")
	[ -n "$ids" ] || { echo none; return; }
	DX_URL=$1 dx_api GET "/permissions?limit=-1&fields=collection,action,fields,permissions&filter[policy][_in]=$ids" |
		json_of 'd.data.filter(p => p.collection).map(p => JSON.stringify([p.collection, p.action, p.fields, p.permissions])).sort().join("\n")'
}
# access_state URL: every access row and permission, to show nothing
# changed.
access_state() {
	{ DX_URL=$1 dx_api GET '/access?limit=-1&fields=id,policy,role,user,sort&sort=id'
	  DX_URL=$1 dx_api GET '/permissions?limit=-1&fields=id,policy,collection,action,fields,permissions&sort=id'; } | sha256sum
}
# label DUMP SYNCID: the name of the dump's policy with that SyncID.
label() { json_of "(d.find(p => p._syncId === '$2') || {}).name" <"$1/collections/policies.json"; }
sid_of() { json_of "(d.find(p => p.name === '$2') || {})._syncId" <"$1/collections/policies.json"; }
roles_of() { json_of "JSON.stringify((d.find(p => p.name === '$2') || {}).roles)" <"$1/collections/policies.json"; }
maprow() { DX_URL=$1 dx_api GET /directus-extension-sync/table/policies | json_of "(d.find(r => r.local_id === '$2') || {}).sync_id"; }
pid_named() { DX_URL=$1 dx_api GET "/policies?filter[name][_eq]=$(node -p 'encodeURIComponent(process.argv[1])' "$2")&fields=id" | json_of 'd.data.map(p => p.id).join(",")'; }

# --- The source: directus-sync pulls first and mislabels.
dx_start --as SRC || exit 1
fixture "$SRC_URL" || fail "fixture"
check "the source's public reads the published page only" test "$(anon "$SRC_URL")" = Published
M="$T/reference"
dx_cli -u "$SRC_URL" -t "$DX_TOKEN" pull --dump-path "$M" >"$T/ref.log" 2>&1 || { tail "$T/ref.log"; fail "directus-sync pull"; }
check "directus-sync 3.4.1 labels Live preview the public policy" test "$(label "$M" $PH)" = "Live preview"
check "... and records it in the map" test "$(maprow "$SRC_URL" $LIVE)" = $PH
old_sid=$(maprow "$SRC_URL" $PUB)
check "... the real public policy gets a SyncID of its own ($old_sid)" test -n "$old_sid" -a "$old_sid" != $PH

# --- dsyncd pull: the map and the dump label the policy holding the row.
D="$T/dump"
dsyncd -u "$SRC_URL" -t "$DX_TOKEN" pull --dump-path "$D" >"$T/pull.log" 2>&1
check "dsyncd pull succeeds" test $? = 0
check "pull: the dump labels the real public policy" test "$(label "$D" $PH)" = '$t:public_label'
check "pull: ... with its public access row" test "$(roles_of "$D" '$t:public_label')" = '[{"role":null,"user":null,"sort":1}]'
check "pull: Live preview takes the public policy's old SyncID" test "$(sid_of "$D" 'Live preview')" = "$old_sid"
check "pull: ... and holds no access row" test "$(roles_of "$D" 'Live preview')" = '[]'
check "pull: the map is corrected (public policy)" test "$(maprow "$SRC_URL" $PUB)" = $PH
check "pull: the map is corrected (Live preview)" test "$(maprow "$SRC_URL" $LIVE)" = "$old_sid"
check "pull: the log names both policies with their old and new SyncIDs" \
	grep -qF "[policies] $PH named policy $LIVE \"Live preview\", which holds no public access row, while policy $PUB \"\$t:public_label\" holds it. The SyncID map is corrected: $PUB \"\$t:public_label\" was $old_sid, is now $PH; $LIVE \"Live preview\" was $PH, is now $old_sid" "$T/pull.log"
check "pull: the filtered read belongs to the public policy" test "$(json_of "d.filter(p => p.policy === '$PH' && p.collection === 'pages').map(p => JSON.stringify(p.permissions)).join()" <"$D/collections/permissions.json")" = '{"status":{"_eq":"published"}}'
dsyncd -u "$SRC_URL" -t "$DX_TOKEN" pull --dump-path "$T/again" >"$T/pull2.log" 2>&1
check "a second pull changes nothing in the map and says nothing" bash -c "! grep -q 'named policy' '$T/pull2.log'"
check "... and writes the same tree" same_tree "$D/collections" "$T/again/collections"
# directus-sync reads the same map: its pull now agrees.
dx_cli -u "$SRC_URL" -t "$DX_TOKEN" pull --dump-path "$T/reference2" >"$T/ref2.log" 2>&1 || fail "directus-sync pull after dsyncd's"
check "directus-sync pull after the correction labels the real public policy too" test "$(label "$T/reference2" $PH)" = '$t:public_label'
check "... and gives Live preview the same SyncID as dsyncd" test "$(sid_of "$T/reference2" 'Live preview')" = "$old_sid"
check "... with the same permissions file as dsyncd's" same_tree "$T/reference2/collections/permissions.json" "$D/collections/permissions.json"

# --- The corrected dump into a fresh instance.
dx_start --as DST || exit 1
dsyncd -u "$DST_URL" -t "$DX_TOKEN" push --dump-path "$D" >"$T/dst-push.log" 2>&1
check "push of the corrected dump succeeds" test $? = 0
pages_rows "$DST_URL"
check "target: the public reads the published page and not the draft ($(anon "$DST_URL"))" test "$(anon "$DST_URL")" = Published
check "target: one public policy, the built-in one" test "$(publics "$DST_URL")" = $PUB
check "target: the public's permissions are the source's" test "$(grants "$DST_URL")" = "$(grants "$SRC_URL")"
dsyncd -u "$DST_URL" -t "$DX_TOKEN" diff --dump-path "$D" >"$T/dst-diff.out" 2>&1
rc=$?
check "target: diff exits 0 after one push (got $rc)" test "$rc" = 0
[ "$rc" = 0 ] || cat "$T/dst-diff.out"
before=$(activity "$DST_URL")
dsyncd -u "$DST_URL" -t "$DX_TOKEN" push --dump-path "$D" >"$T/dst-push2.log" 2>&1
check "target: a second push changes nothing (activity $before -> $(activity "$DST_URL"))" test "$before" = "$(activity "$DST_URL")"
check "target: ... and says so" grep -q "0 created, 0 updated, 0 deleted" "$T/dst-push2.log"

# --- directus-sync's own dump: refused, nothing written.
dx_start --as MIS || exit 1
pages_schema "$MIS_URL" && pages_rows "$MIS_URL"
st0=$(access_state "$MIS_URL")
act0=$(activity "$MIS_URL")
dsyncd -u "$MIS_URL" -t "$DX_TOKEN" push --dump-path "$M" >"$T/mis-push.log" 2>&1
rc=$?
check "directus-sync's mislabelled dump: the push is refused (exit $rc)" test "$rc" = 1
check "... naming the policy and the form" grep -qF "policies.json: the public policy cannot be told: policy $old_sid \"\$t:public_label\" holds an access row {\"role\": null} without \"user\" (directus-sync 3.4's form)" "$T/mis-push.log"
check "... and the way out" grep -q 'Pull the source instance again with dsyncd' "$T/mis-push.log"
check "... nothing written to access rows or permissions" test "$(access_state "$MIS_URL")" = "$st0"
check "... nothing written at all (activity $act0 -> $(activity "$MIS_URL"))" test "$(activity "$MIS_URL")" = "$act0"
check "... the draft stays unreadable ($(anon "$MIS_URL"))" test "$(anon "$MIS_URL")" = "HTTP 403"
dsyncd -u "$MIS_URL" -t "$DX_TOKEN" diff --dump-path "$M" >"$T/mis-diff.out" 2>&1
rc=$?
check "... diff refuses it too (exit $rc)" test "$rc" = 1
# The same instance's dump written by dsyncd before the correction: the
# label on Live preview, the row on the real public policy.
O="$T/old-form"
cp -r "$D" "$O"
edit_json "$O/collections/policies.json" "for (const p of a) p._syncId = p._syncId === '$PH' ? '$old_sid' : p._syncId === '$old_sid' ? '$PH' : p._syncId"
edit_json "$O/collections/permissions.json" "for (const p of a) p.policy = p.policy === '$PH' ? '$old_sid' : p.policy === '$old_sid' ? '$PH' : p.policy"
dsyncd -u "$MIS_URL" -t "$DX_TOKEN" push --dump-path "$O" >"$T/old-push.log" 2>&1
rc=$?
check "dsyncd's dump of a mislabelled map: refused (exit $rc)" test "$rc" = 1
check "... naming both policies" grep -qF "policies.json: the public policy cannot be told: $PH \"Live preview\" is labelled the public policy but holds no public access row (role and user null), while $old_sid \"\$t:public_label\" holds one" "$T/old-push.log"
check "... nothing written" test "$(access_state "$MIS_URL")" = "$st0"

# --- An instance with a second public policy (the damage a push of a
# mislabelled dump did before): one push of the corrected dump repairs
# it, removing only the extra public row.
dx_start --as DAM || exit 1
dsyncd -u "$DAM_URL" -t "$DX_TOKEN" push --dump-path "$D" >"$T/dam0.log" 2>&1 || fail "damaged: the first push"
pages_rows "$DAM_URL"
live=$(pid_named "$DAM_URL" 'Live preview')
DX_URL=$DAM_URL dx_api POST /access "{\"policy\":\"$live\",\"role\":null,\"user\":null,\"sort\":2}" >/dev/null
check "damaged: two public policies" test "$(publics "$DAM_URL")" = "$(printf '%s\n' "$live" $PUB | sort | paste -sd,)"
check "damaged: the public reads the draft ($(anon "$DAM_URL"))" test "$(anon "$DAM_URL")" = "Draft,Published"
dsyncd -u "$DAM_URL" -t "$DX_TOKEN" diff --dump-path "$D" >"$T/dam-diff.out" 2>&1
check "damaged: diff shows the difference (exit 2)" test $? = 2
dsyncd -u "$DAM_URL" -t "$DX_TOKEN" push --dump-path "$D" >"$T/dam.log" 2>&1
check "damaged: one push succeeds" test $? = 0
check "damaged: ... one update" grep -q "0 created, 1 updated, 0 deleted" "$T/dam.log"
check "damaged: one public policy again" test "$(publics "$DAM_URL")" = $PUB
check "damaged: the public reads the published page only ($(anon "$DAM_URL"))" test "$(anon "$DAM_URL")" = Published
check "damaged: Live preview is still there, with its read" test "$(DX_URL=$DAM_URL dx_api GET "/permissions?filter[policy][_eq]=$live&fields=collection,action" | json_of 'd.data.filter(p => p.collection).map(p => p.collection + " " + p.action).join()')" = "pages read"
check "damaged: the public's permissions are the source's" test "$(grants "$DAM_URL")" = "$(grants "$SRC_URL")"
dsyncd -u "$DAM_URL" -t "$DX_TOKEN" diff --dump-path "$D" >/dev/null 2>&1
check "damaged: diff exits 0 after the push" test $? = 0

# ... and one left with no public policy at all (what directus-sync's
# push of its own mislabelled dump does) gets the dump's back.
row=$(DX_URL=$DAM_URL dx_api GET "/access?filter[policy][_eq]=$PUB&filter[role][_null]=true&filter[user][_null]=true&fields=id" | json_of 'd.data[0].id')
DX_URL=$DAM_URL dx_api DELETE "/access/$row" >/dev/null
check "no public policy: the public reads nothing ($(anon "$DAM_URL"))" test "$(anon "$DAM_URL")" = "HTTP 403"
dsyncd -u "$DAM_URL" -t "$DX_TOKEN" push --dump-path "$D" >"$T/none.log" 2>&1
check "no public policy: one push succeeds" test $? = 0
check "no public policy: the public policy is public again" test "$(publics "$DAM_URL")" = $PUB
check "no public policy: the public reads the published page only ($(anon "$DAM_URL"))" test "$(anon "$DAM_URL")" = Published

# --- What the dump does not grant stops a push before its first write:
# a permission made by hand on the public policy, and a policy made public
# by hand.
perm=$(DX_URL=$DAM_URL dx_api POST /permissions "{\"policy\":\"$PUB\",\"collection\":\"pages\",\"action\":\"create\",\"fields\":[\"*\"]}" | json_of 'd.data.id')
st0=$(access_state "$DAM_URL")
dsyncd -u "$DAM_URL" -t "$DX_TOKEN" push --dump-path "$D" >"$T/stray.log" 2>&1
rc=$?
check "a public permission the dump lacks: push refused (exit $rc)" test "$rc" = 1
check "... naming it" grep -qF "policy $PUB \"\$t:public_label\" (in the dump, with permissions the dump does not have) gives the public permissions pages create (id $perm)" "$T/stray.log"
check "... nothing written" test "$(access_state "$DAM_URL")" = "$st0"
dsyncd -u "$DAM_URL" -t "$DX_TOKEN" diff --dump-path "$D" >"$T/stray-diff.out" 2>&1
check "... diff warns of it" grep -qF "gives the public permissions pages create (id $perm)" "$T/stray-diff.out"
DX_URL=$DAM_URL dx_api DELETE "/permissions/$perm" >/dev/null
hand=$(DX_URL=$DAM_URL dx_api POST /policies '{"name":"Made public by hand","app_access":true,"admin_access":false}' | json_of 'd.data.id')
DX_URL=$DAM_URL dx_api POST /access "{\"policy\":\"$hand\",\"role\":null,\"user\":null,\"sort\":3}" >/dev/null
st0=$(access_state "$DAM_URL")
dsyncd -u "$DAM_URL" -t "$DX_TOKEN" push --dump-path "$D" >"$T/hand.log" 2>&1
rc=$?
check "a public policy the dump lacks: push refused (exit $rc)" test "$rc" = 1
check "... naming it" grep -qF "policy $hand \"Made public by hand\" (not in the dump) gives the public app access" "$T/hand.log"
check "... nothing written" test "$(access_state "$DAM_URL")" = "$st0"
DX_URL=$DAM_URL dx_api DELETE "/policies/$hand" >/dev/null
dsyncd -u "$DAM_URL" -t "$DX_TOKEN" push --dump-path "$D" >"$T/clean.log" 2>&1
check "once removed, the push goes through" test $? = 0

# --- The daemon. Policy push, directus-sync's dump in git: the error
# state with the message, nothing written.
gitdump() { rm -rf "$2" && cp -r "$1" "$2" && git -C "$2" init -q -b main && git -C "$2" add -A && git_commit "$2" dump; }
gitdump "$M" "$T/dmis"
st0=$(access_state "$MIS_URL")
write_conf "$T/mis.conf" "$MIS_URL" "$T/dmis" 'poll = { interval = 2.0; full_every = 1; };'
notify_listen || fail "notify listener"
start_daemon "$T/mis.conf" || { tail "$T/daemon.log"; fail "daemon starts"; }
check "daemon (push), directus-sync's dump: the error state" wait_for 30 is state error
ctl status --json >"$T/mis-status.json" 2>&1
check "... whose message names the policy" grep -qF "policy $old_sid" "$T/mis-status.json"
check "... and says the public policy cannot be told" grep -q 'the public policy cannot be told' "$T/mis-status.json"
check "... nothing written to access rows or permissions" test "$(access_state "$MIS_URL")" = "$st0"
check "... the draft stays unreadable ($(anon "$MIS_URL"))" test "$(anon "$MIS_URL")" = "HTTP 403"
stop_daemon

# Policy sync, the corrected dump in git, an instance made public twice:
# the daemon pushes the dump's access and the public reads what the
# source's reads.
dx_start --as SYN || exit 1
dsyncd -u "$SYN_URL" -t "$DX_TOKEN" push --dump-path "$D" >"$T/syn0.log" 2>&1 || fail "sync: the first push"
pages_rows "$SYN_URL"
live=$(pid_named "$SYN_URL" 'Live preview')
DX_URL=$SYN_URL dx_api POST /access "{\"policy\":\"$live\",\"role\":null,\"user\":null,\"sort\":2}" >/dev/null
check "sync: the instance reads drafts publicly before ($(anon "$SYN_URL"))" test "$(anon "$SYN_URL")" = "Draft,Published"
gitdump "$D" "$T/dsyn"
rm -rf "$T/state"
write_conf "$T/syn.conf" "$SYN_URL" "$T/dsyn" 'poll = { interval = 2.0; full_every = 1; };' 'policy = { default = "sync"; schema = "pull"; };' \
	'git = { commit = true; author_name = "dsync bot"; author_email = "bot@example.org"; branch = "main"; };'
start_daemon "$T/syn.conf" || { tail "$T/daemon.log"; fail "daemon starts"; }
check "daemon (sync): in-sync" wait_for 30 is state in-sync
check "daemon (sync): one public policy" test "$(publics "$SYN_URL")" = $PUB
check "daemon (sync): the public reads the published page only ($(anon "$SYN_URL"))" test "$(anon "$SYN_URL")" = Published
check "daemon (sync): the public's permissions are the source's" test "$(grants "$SYN_URL")" = "$(grants "$SRC_URL")"
# Deletes wait for allow_deletes, except those that withdraw what the
# public may do: the public read removed in git is deleted, Live
# preview's read removed with it waits.
edit_json "$T/dsyn/collections/permissions.json" "a.splice(0, a.length, ...a.filter(p => p.collection !== 'pages'))"
git -C "$T/dsyn" add -A && git_commit "$T/dsyn" "no more pages reads"
check "daemon (sync, deletes held): the public read removed in git is deleted" wait_for 30 is "anon '$SYN_URL'" "HTTP 403"
live_reads() { DX_URL=$SYN_URL dx_api GET "/permissions?filter[policy][_eq]=$live&fields=collection,action" | json_of 'd.data.filter(p => p.collection).length'; }
check "daemon (sync, deletes held): ... Live preview's read waits for allow_deletes" test "$(live_reads)" = 1
check "daemon (sync, deletes held): ... in the log" grep -q '\[permissions\] 1 delete(s) not held: they withdraw what the public may do' "$T/daemon.log"
# A second public row made in the Data Studio: written into git, as the
# instance's change, not pushed over.
DX_URL=$SYN_URL dx_api POST /access "{\"policy\":\"$live\",\"role\":null,\"user\":null,\"sort\":2}" >/dev/null
check "daemon (sync): a public row added in Directus is written into the tree" \
	wait_for 30 is "roles_of '$T/dsyn' 'Live preview'" '[{"role":null,"user":null,"sort":2}]'
check "daemon (sync): ... and committed by the daemon" wait_for 10 bash -c "git -C '$T/dsyn' log -1 --format=%s -- collections/policies.json | grep -q '^dsync: '"
stop_daemon

finish
