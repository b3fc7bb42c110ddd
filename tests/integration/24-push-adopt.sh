#!/usr/bin/env bash
# A permission or a preset that the dump creates where an untracked item
# of the instance holds the same key (a permission's policy, collection
# and action; a collection's default preset) is adopted, not duplicated:
# tracked, given the dump's content, and nothing is deleted.
# versions: base 12
source "$(dirname "$0")/common.sh"

seeded_dump --as SRC

# --- Same-key permissions: an instance with the dump's policies (pushed
# without permissions), then hand-made permissions on the dump's keys.
dx_start --as ADO || exit 1
dsyncd -u "$ADO_URL" -t "$DX_TOKEN" push --dump-path "$D" -x permissions,presets >"$T/ado-base.log" 2>&1 || fail "push without permissions and presets"
# The instance's ids of two of the dump's policies.
pid_of() { DX_URL=$ADO_URL dx_api GET "/policies?filter[name][_eq]=$1&fields=id" | json_of 'd.data[0].id'; }
editor=$(pid_of 'Editor%20policy')
# Their content differs from the dump's where the version lets it: Directus
# 12's Core license takes no field lists (the dump's fields are "*" there).
if [ "$DX_MAJOR" -ge 12 ]; then
	f1='["*"]' f2='["*"]' tags_fields='["*"]'
else
	f1='["id"]' f2='["title"]' tags_fields='["id","label"]'
fi
hand=()
for body in \
	"{\"policy\":\"$editor\",\"collection\":\"articles\",\"action\":\"read\",\"fields\":$f1}" \
	"{\"policy\":\"$editor\",\"collection\":\"articles\",\"action\":\"update\",\"fields\":$f2}" \
	"{\"policy\":\"abf8a154-5b1c-4a46-ac9c-7300570f4f17\",\"collection\":\"tags\",\"action\":\"read\",\"fields\":$f1}"; do
	hand+=("$(DX_URL=$ADO_URL dx_api POST /permissions "$body" | json_of 'd.data.id')")
done
check "three hand-made permissions on the dump's keys" test "${#hand[@]}" = 3
# A collection's default preset (no bookmark, no user) for articles, the
# same key as the dump's, with another layout.
preset=$(DX_URL=$ADO_URL dx_api POST /presets '{"collection":"articles","layout":"cards","bookmark":null,"user":null,"role":null}' | json_of 'd.data.id')
dsyncd -u "$ADO_URL" -t "$DX_TOKEN" push --dump-path "$D" >"$T/ado.log" 2>&1
check "push over same-key permissions succeeds" test $? = 0
check "... it adopted them (tracking, not creating)" test "$(grep -c '\[permissions\] Item .* already exists but had no id map: tracking it' "$T/ado.log")" = 3
check "... and the preset (tracking, not creating)" grep -q "\[presets\] Item $preset already exists but had no id map: tracking it" "$T/ado.log"
check "... which now has the dump's layout" test "$(DX_URL=$ADO_URL dx_api GET "/presets/$preset?fields=layout" | json_of 'd.data.layout')" = tabular
check "... one default articles preset, not two" test "$(DX_URL=$ADO_URL dx_api GET '/presets?filter[collection][_eq]=articles&filter[bookmark][_null]=true&filter[role][_null]=true&filter[user][_null]=true&fields=id' | json_of 'd.data.length')" = 1
check "... and deleted nothing" grep -q ", 0 deleted" "$T/ado.log"
for id in "${hand[@]}"; do
	check "... hand-made permission $id is still there" test "$(DX_URL=$ADO_URL dx_api GET "/permissions/$id?fields=id" | json_of 'd.data.id')" = "$id"
done
dups=$(DX_URL=$ADO_URL dx_api GET '/permissions?limit=-1&fields=policy,collection,action' |
	json_of 'const n = {}; for (const p of d.data) if (p.policy) { const k = p.policy + "/" + p.collection + "/" + p.action; n[k] = (n[k] || 0) + 1 } Object.keys(n).filter(k => n[k] > 1).join(" ")')
check "... no (policy, collection, action) appears twice (${dups:-none})" test -z "$dups"
dsyncd -u "$ADO_URL" -t "$DX_TOKEN" diff --dump-path "$D" >"$T/ado-diff.out" 2>&1
check "... diff exits 0" test $? = 0
check "... and the adopted ones hold the dump's content (the public's tags fields)" test "$(DX_URL=$ADO_URL dx_api GET "/permissions/${hand[2]}?fields=fields" | json_of 'JSON.stringify(d.data.fields)')" = "$tags_fields"

finish
