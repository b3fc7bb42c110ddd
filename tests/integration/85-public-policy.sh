#!/usr/bin/env bash
# The public policy is the one with an access row whose role and user are
# null: a policy with no access rows, or with only a link to a user, is
# never taken for it, even when its id sorts first (directus-sync 3.4.1
# takes such a policy). Pushes keep the public access and converge, also
# from a dump the reference mislabelled. And a permission created where an
# untracked one holds the same (policy, collection, action) adopts it
# instead of duplicating it; nothing is deleted.
source "$(dirname "$0")/common.sh"

dx_install || exit 1
json() { node -pe "const d = JSON.parse(require('fs').readFileSync(0)); $1"; }
anon() { curl -s -o /dev/null -w '%{http_code}' "$1$2"; }

# fixture URL: the seed, then two policies whose ids sort before the
# public policy's: one with no access rows (and a permission, on authors),
# one linked to a user only.
fixture() {
	local url=$1 u
	node "$top/tests/lib/seed.mjs" --url "$url" --token "$DX_TOKEN" >"$T/seed.log" 2>&1 || return 1
	DX_URL=$url dx_api POST /policies '{"id":"00000000-0000-4000-8000-000000000001","name":"Live preview","admin_access":false,"app_access":false}' >/dev/null &&
	DX_URL=$url dx_api POST /permissions '{"policy":"00000000-0000-4000-8000-000000000001","collection":"authors","action":"read","fields":["*"]}' >/dev/null &&
	u=$(DX_URL=$url dx_api POST /users '{"email":"viewer@example.com","password":"viewer-pass-123"}' | json 'd.data.id') &&
	DX_URL=$url dx_api POST /policies '{"id":"00000000-0000-4000-8000-000000000002","name":"Only a user link","admin_access":false,"app_access":false}' >/dev/null &&
	DX_URL=$url dx_api POST /access "{\"policy\":\"00000000-0000-4000-8000-000000000002\",\"user\":\"$u\",\"sort\":1}" >/dev/null
}
# label DUMP SYNCID: the name of the dump's policy with that SyncID.
label() { json "(d.find(p => p._syncId === '$2') || {}).name" <"$1/collections/policies.json"; }
# pushed_twice URL DUMP NAME COLLECTION: push, diff 0, a second push
# changes nothing, and the public may read COLLECTION.
pushed_twice() {
	local url=$1 dump=$2 name=$3 coll=$4 before after
	dsyncd -u "$url" -t "$DX_TOKEN" push --dump-path "$dump" >"$T/$name-push.log" 2>&1
	check "$name: push succeeds" test $? = 0
	dsyncd -u "$url" -t "$DX_TOKEN" diff --dump-path "$dump" >"$T/$name-diff.out" 2>&1
	local rc=$?
	check "$name: diff exits 0 after one push (got $rc)" test "$rc" = 0
	[ "$rc" = 0 ] || cat "$T/$name-diff.out"
	before=$(activity "$url")
	dsyncd -u "$url" -t "$DX_TOKEN" push --dump-path "$dump" >"$T/$name-push2.log" 2>&1
	after=$(activity "$url")
	check "$name: a second push changes nothing (activity $before -> $after)" test "$before" = "$after"
	check "$name: ... and says so" grep -q "0 created, 0 updated, 0 deleted" "$T/$name-push2.log"
	check "$name: the public may read $coll (HTTP $(anon "$url" "/items/$coll"))" test "$(anon "$url" "/items/$coll")" = 200
}

# --- dsyncd pulls an instance with the traps first: the right label.
dx_start --as SRC || exit 1
fixture "$SRC_URL" || { cat "$T/seed.log"; fail "fixture"; finish; }
check "the fixture's public may read tags, not authors" test "$(anon "$SRC_URL" /items/tags)$(anon "$SRC_URL" /items/authors)" = 200403
D="$T/dump"
dsyncd -u "$SRC_URL" -t "$DX_TOKEN" pull --dump-path "$D" >"$T/pull.log" 2>&1 || fail "pull"
check "pull: _sync_default_public_policy is the public policy (\$t:public_label)" test "$(label "$D" _sync_default_public_policy)" = '$t:public_label'
check "pull: its roles hold the public access row" test "$(json 'JSON.stringify(d.find(p => p._syncId === "_sync_default_public_policy").roles)' <"$D/collections/policies.json")" = '[{"role":null,"user":null,"sort":1}]'
check "pull: the policy without access rows has a SyncID of its own" test "$(json 'd.find(p => p.name === "Live preview")._syncId' <"$D/collections/policies.json")" != _sync_default_public_policy
check "pull: no warning about the map" bash -c "! grep -q 'no public access row' '$T/pull.log'"

# --- The reference, on an instance nobody pulled yet, mislabels.
dx_start --as REF || exit 1
fixture "$REF_URL" || fail "second fixture"
M="$T/mislabelled"
dx_cli -u "$REF_URL" -t "$DX_TOKEN" pull --dump-path "$M" >"$T/ref.log" 2>&1 || { tail "$T/ref.log"; fail "reference pull"; }
check "directus-sync 3.4.1 takes the policy without access rows for the public one" test "$(label "$M" _sync_default_public_policy)" = "Live preview"
# dsyncd keeps the map it finds (SyncIDs never change once given), and says so.
dsyncd -u "$REF_URL" -t "$DX_TOKEN" pull --dump-path "$T/after-ref" >"$T/pull-ref.log" 2>&1
check "dsyncd after the reference: the map is kept" test "$(label "$T/after-ref" _sync_default_public_policy)" = "Live preview"
check "... with a warning that names the policy and the way out" grep -q '_sync_default_public_policy is mapped to policy 00000000-0000-4000-8000-000000000001 "Live preview", which has no public access row.*untrack' "$T/pull-ref.log"

# --- Pushes: the right dump, and the mislabelled one, each into a fresh
# instance: converged after one push, public access kept.
dx_start --as DST || exit 1
pushed_twice "$DST_URL" "$D" right tags
check "right: the public still may not read authors" test "$(anon "$DST_URL" /items/authors)" = 403
dx_start --as MIS || exit 1
# The mislabelled dump's public policy is the one that reads authors: the
# instance's public policy gets that content, its public access row stays.
pushed_twice "$MIS_URL" "$M" mislabelled authors
check "mislabelled: the instance's public access row is still there" test "$(DX_URL=$MIS_URL dx_api GET '/access?filter[policy][_eq]=abf8a154-5b1c-4a46-ac9c-7300570f4f17&filter[role][_null]=true&filter[user][_null]=true&fields=id' | json 'd.data.length')" = 1

# --- Same-key permissions: an instance with the dump's policies (pushed
# without permissions), then hand-made permissions on the dump's keys.
dx_start --as ADO || exit 1
dsyncd -u "$ADO_URL" -t "$DX_TOKEN" push --dump-path "$D" -x permissions,presets >"$T/ado-base.log" 2>&1 || fail "push without permissions and presets"
# The instance's ids of two of the dump's policies.
pid_of() { DX_URL=$ADO_URL dx_api GET "/policies?filter[name][_eq]=$1&fields=id" | json 'd.data[0].id'; }
editor=$(pid_of 'Editor%20policy')
hand=()
for body in \
	"{\"policy\":\"$editor\",\"collection\":\"articles\",\"action\":\"read\",\"fields\":[\"id\"]}" \
	"{\"policy\":\"$editor\",\"collection\":\"articles\",\"action\":\"update\",\"fields\":[\"title\"]}" \
	'{"policy":"abf8a154-5b1c-4a46-ac9c-7300570f4f17","collection":"tags","action":"read","fields":["id"]}'; do
	hand+=("$(DX_URL=$ADO_URL dx_api POST /permissions "$body" | json 'd.data.id')")
done
check "three hand-made permissions on the dump's keys" test "${#hand[@]}" = 3
# A collection's default preset (no bookmark, no user) for articles, the
# same key as the dump's, with another layout.
preset=$(DX_URL=$ADO_URL dx_api POST /presets '{"collection":"articles","layout":"cards","bookmark":null,"user":null,"role":null}' | json 'd.data.id')
dsyncd -u "$ADO_URL" -t "$DX_TOKEN" push --dump-path "$D" >"$T/ado.log" 2>&1
check "push over same-key permissions succeeds" test $? = 0
check "... it adopted them (tracking, not creating)" test "$(grep -c '\[permissions\] Item .* already exists but had no id map: tracking it' "$T/ado.log")" = 3
check "... and the preset (tracking, not creating)" grep -q "\[presets\] Item $preset already exists but had no id map: tracking it" "$T/ado.log"
check "... which now has the dump's layout" test "$(DX_URL=$ADO_URL dx_api GET "/presets/$preset?fields=layout" | json 'd.data.layout')" = tabular
check "... one default articles preset, not two" test "$(DX_URL=$ADO_URL dx_api GET '/presets?filter[collection][_eq]=articles&filter[bookmark][_null]=true&filter[role][_null]=true&filter[user][_null]=true&fields=id' | json 'd.data.length')" = 1
check "... and deleted nothing" grep -q ", 0 deleted" "$T/ado.log"
for id in "${hand[@]}"; do
	check "... hand-made permission $id is still there" test "$(DX_URL=$ADO_URL dx_api GET "/permissions/$id?fields=id" | json 'd.data.id')" = "$id"
done
dups=$(DX_URL=$ADO_URL dx_api GET '/permissions?limit=-1&fields=policy,collection,action' |
	json 'const n = {}; for (const p of d.data) if (p.policy) { const k = p.policy + "/" + p.collection + "/" + p.action; n[k] = (n[k] || 0) + 1 } Object.keys(n).filter(k => n[k] > 1).join(" ")')
check "... no (policy, collection, action) appears twice (${dups:-none})" test -z "$dups"
dsyncd -u "$ADO_URL" -t "$DX_TOKEN" diff --dump-path "$D" >"$T/ado-diff.out" 2>&1
check "... diff exits 0" test $? = 0
check "... and the adopted ones hold the dump's content (the public's tags fields)" test "$(DX_URL=$ADO_URL dx_api GET "/permissions/${hand[2]}?fields=fields" | json 'JSON.stringify(d.data.fields)')" = '["id","label"]'

finish
