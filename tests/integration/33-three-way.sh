#!/usr/bin/env bash
# The three-way comparison (dsyncd diff --base DIR): with a base, the last
# state on which the dump and the instance agreed, every difference is
# dump-changed, instance-changed or a conflict, creations and deletions
# included, per item and per schema unit; the base holds the same bytes
# a pull writes, is written all or nothing, and a base of another
# instance is not used.
# versions: base 12
source "$(dirname "$0")/common.sh"

seeded_dump
B="$T/base"
diff3() { dsyncd -u "$URL" -t "$TOKEN" diff --dump-path "$D" --base "$B" "$@"; }
# class COLLECTION NAME: the class of that item in diff --base --json.
class_of() { json_of "(d.differences.find(x => x.collection === '$1' && x.name === '$2') || {class: 'in-sync'}).class" <"$T/three.json"; }
unit_class() { json_of "(d.differences.find(x => x.unit === '$1') || {class: 'in-sync'}).class" <"$T/three.json"; }

# --- No base: nothing to tell.
cp "$D/collections/flows.json" "$T/flows.json"
edit_json "$D/collections/flows.json" "a.find(f => f.name === 'Rebuild site').description = 'edited before any base'"
diff3 --json >"$T/three.json"; rc=$?
check "without a base: exit 2 (got $rc)" test "$rc" = 2
check "... the difference is 'differs'" test "$(class_of flows 'Rebuild site')" = differs
check "... and base is false" test "$(json_of 'd.base' <"$T/three.json")" = false
cp "$T/flows.json" "$D/collections/flows.json"

# --- A base from the agreed state: the same bytes as the dump's files.
diff3 --write-base agreed >"$T/wb.out" 2>&1; rc=$?
check "write the base (agreed; exit 0, got $rc)" test "$rc" = 0
check "the base's collection files are byte for byte the pull's" same_tree "$D/collections" "$B/collections"
check "... and so are its snapshot files" same_tree "$D/snapshot" "$B/snapshot"
check "... with meta.json naming the instance" test "$(json_of 'd.url' <"$B/meta.json")" = "$URL"
check "... and no staging left" test ! -e "$B/.dsync-staging"

# --- One change of each kind.
tr="$D/collections/translations.json"
t0=$(json_of 'd[0]._syncId' <"$tr"); t0n=$(json_of 'd[0].key + " (" + d[0].language + ")"' <"$tr")
t1n=$(json_of 'd[1].key + " (" + d[1].language + ")"' <"$tr"); t2n=$(json_of 'd[2].key + " (" + d[2].language + ")"' <"$tr")
lid() { dx_api GET "/translations?filter[key][_eq]=$1&filter[language][_eq]=$2&fields=id" | json_of 'd.data[0].id'; }
t1id=$(lid "$(json_of 'd[1].key' <"$tr")" "$(json_of 'd[1].language' <"$tr")")
t2id=$(lid "$(json_of 'd[2].key' <"$tr")" "$(json_of 'd[2].language' <"$tr")")
edit_json "$tr" "a[0].value = 'changed in git'; a[1].value = 'changed in git too'; a[2].value = 'the same on both sides'"
dx_api PATCH "/translations/$t1id" '{"value":"changed in Directus"}' >/dev/null
dx_api PATCH "/translations/$t2id" '{"value":"the same on both sides"}' >/dev/null
fid=$(dx_api GET '/flows?filter[name][_eq]=Publish%20article&fields=id' | json_of 'd.data[0].id')
dx_api PATCH "/flows/$fid" '{"name":"Renamed in Directus"}' >/dev/null
dx_api POST /flows '{"name":"Made in the Data Studio","status":"active","trigger":"manual"}' >/dev/null
dx_api POST /fields/articles '{"field":"by_hand","type":"string","meta":{},"schema":{}}' >/dev/null
edit_json "$D/collections/dashboards.json" "a.splice(0, 1)"
dash_gone=$(json_of 'd[0].name' <"$B/collections/dashboards.json")
diff3 --json >"$T/three.json"; rc=$?
check "three-way: exit 2 (got $rc)" test "$rc" = 2
check "an edit in git: dump-changed" test "$(class_of translations "$t0n")" = dump-changed
check "the same item edited differently on both sides: conflict" test "$(class_of translations "$t1n")" = conflict
check "... with both sides' values" test "$(json_of "JSON.stringify((x => [x.dump.value, x.instance.value, x.base.value !== x.dump.value])(d.differences.find(x => x.name === '$t1n')))" <"$T/three.json")" = '["changed in git too","changed in Directus",true]'
check "the same change on both sides: no difference" test "$(class_of translations "$t2n")" = in-sync
check "a rename in Directus: instance-changed (the dump's name shown)" test "$(class_of flows 'Publish article')" = instance-changed
check "an item made in Directus: instance-changed, without a SyncID yet" test "$(json_of "(d.differences.find(x => x.name === 'Made in the Data Studio') || {})._syncId === null && d.differences.find(x => x.name === 'Made in the Data Studio').class" <"$T/three.json")" = instance-changed
check "a field added in Directus: the schema unit is instance-changed" test "$(unit_class fields/articles/by_hand.json)" = instance-changed
check "an item deleted from the dump: dump-changed" test "$(class_of dashboards "$dash_gone")" = dump-changed
diff3 >"$T/three.txt"
check "the human form names the classes" grep -q "conflict .*translations" "$T/three.txt"
check "... and counts them" grep -q "1 conflict(s)" "$T/three.txt"

# --- A deletion in Directus of an item the base and the dump have.
pid=$(dx_api GET '/presets?filter[bookmark][_nnull]=true&filter[user][_null]=true&fields=id,bookmark' | json_of 'd.data[0].id')
pname=$(dx_api GET "/presets/$pid?fields=bookmark" | json_of 'd.data.bookmark')
dx_api DELETE "/presets/$pid" >/dev/null
diff3 --json >"$T/three.json"
check "an item deleted in Directus: instance-changed" test "$(class_of presets "$pname")" = instance-changed

# --- --write-base agreed keeps the old base where the sides differ.
diff3 --write-base agreed >/dev/null 2>&1
diff3 --json >"$T/three2.json"
check "after writing the agreed base, the classes stay (no change lost)" test "$(json_of 'JSON.stringify(d.counts)' <"$T/three2.json")" = "$(json_of 'JSON.stringify(d.counts)' <"$T/three.json")"
# --write-base instance: what differs becomes dump-changed.
diff3 --write-base instance >/dev/null 2>&1
diff3 --json >"$T/three3.json"
check "after --write-base instance, every keyed difference is dump-changed" test "$(json_of 'd.differences.filter(x => x._syncId !== null || x.unit).every(x => x.class === "dump-changed")' <"$T/three3.json")" = true

# --- A base of another instance is not used.
cp -r "$B" "$T/other"
node -e 'const fs = require("fs"), f = process.argv[1]; const m = JSON.parse(fs.readFileSync(f)); m.url = "http://elsewhere.example"; fs.writeFileSync(f, JSON.stringify(m));' "$T/other/meta.json"
dsyncd -u "$URL" -t "$TOKEN" diff --dump-path "$D" --base "$T/other" --json >"$T/other.json" 2>"$T/other.err"
check "a base of another instance is not used" test "$(json_of 'd.base' <"$T/other.json")" = false
check "... and says so" grep -q "another instance" "$T/other.err"
check "the token is in no output" bash -c "! grep -qF -- '$TOKEN' '$T'/three*.json '$T/three.txt' '$T/other.err' '$T/wb.out'"

# --- pull --base: the instance's changes into the tree, byte for byte a
# pull's, and nothing else. A fresh dump and base on a second instance.
dx_start --as P || exit 1
seed "$P_URL" "$TOKEN" || fail "seed the second instance"
PD="$T/pdump" PB="$T/pbase"
dsyncd -u "$P_URL" -t "$TOKEN" pull --dump-path "$PD" >/dev/null 2>&1
dsyncd -u "$P_URL" -t "$TOKEN" diff --dump-path "$PD" --base "$PB" --write-base agreed >/dev/null 2>&1
ptr="$PD/collections/translations.json"
mine=$(json_of 'd[0].key + " (" + d[0].language + ")"' <"$ptr")
edit_json "$ptr" "a[0].value = 'my edit, not pushed'"
pflow=$(DX_URL=$P_URL dx_api GET '/flows?filter[name][_eq]=Rebuild%20site&fields=id' | json_of 'd.data[0].id')
DX_URL=$P_URL dx_api PATCH "/flows/$pflow" '{"name":"Renamed in the Data Studio"}' >/dev/null
DX_URL=$P_URL dx_api POST /flows '{"name":"New in the Data Studio","status":"active","trigger":"manual"}' >/dev/null
DX_URL=$P_URL dx_api POST /fields/articles '{"field":"by_hand","type":"string","meta":{},"schema":{}}' >/dev/null
dsyncd -u "$P_URL" -t "$TOKEN" pull --dump-path "$PD" --base "$PB" >"$T/pull3.log" 2>&1; rc=$?
check "pull --base succeeds (exit $rc)" test "$rc" = 0
check "... the rename is in flows.json" grep -q "Renamed in the Data Studio" "$PD/collections/flows.json"
check "... the new flow too, with a SyncID" test "$(json_of "(d.find(f => f.name === 'New in the Data Studio') || {})._syncId || ''" <"$PD/collections/flows.json" | wc -c)" -gt 30
check "... and the new field's snapshot file" test -f "$PD/snapshot/fields/articles/by_hand.json"
check "... the local edit not yet pushed survives" test "$(json_of "d.find(t => t.key + ' (' + t.language + ')' === '$mine').value" <"$ptr")" = "my edit, not pushed"
# A plain pull of the same instance state into another tree: the files
# the three-way pull wrote are the same bytes, but for the local edit.
dsyncd -u "$P_URL" -t "$TOKEN" pull --dump-path "$T/plain" >/dev/null 2>&1
check "the files it wrote are byte for byte a plain pull's (flows, the new field)" bash -c "cmp -s '$PD/collections/flows.json' '$T/plain/collections/flows.json' && cmp -s '$PD/snapshot/fields/articles/by_hand.json' '$T/plain/snapshot/fields/articles/by_hand.json'"
check "... and the whole snapshot is" same_tree "$PD/snapshot" "$T/plain/snapshot"
dsyncd -u "$P_URL" -t "$TOKEN" diff --dump-path "$PD" --base "$PB" --json >"$T/after3.json"
check "after it, only the local edit differs, as dump-changed" test "$(json_of 'JSON.stringify(d.differences.map(x => x.class))' <"$T/after3.json")" = '["dump-changed"]'
dsyncd -u "$P_URL" -t "$TOKEN" pull --dump-path "$PD" --base "$PB" >"$T/pull3b.log" 2>&1
check "a second pull --base writes nothing" grep -q "Pulled 0 change(s)" "$T/pull3b.log"

# Without the policies' roles (--no-sync-policy-roles) the comparison
# leaves them out of every side; a tree whose policies.json holds them is
# checked the same way before a write: a policy renamed in Directus is
# written, not taken for an edit made in the tree since the comparison.
NR=--no-sync-policy-roles
dsyncd -u "$P_URL" -t "$TOKEN" diff --dump-path "$PD" --base "$T/nrbase" --write-base agreed $NR >/dev/null 2>&1
check "the tree's policies hold their roles" test "$(json_of 'd.filter(p => p.roles && p.roles.length).length' <"$PD/collections/policies.json")" -gt 0
ppol=$(DX_URL=$P_URL dx_api GET '/policies?filter[name][_eq]=Editor%20policy&fields=id' | json_of 'd.data[0].id')
DX_URL=$P_URL dx_api PATCH "/policies/$ppol" '{"name":"Editor policy (renamed)"}' >/dev/null
dsyncd -u "$P_URL" -t "$TOKEN" pull --dump-path "$PD" --base "$T/nrbase" $NR >"$T/pull-nr.log" 2>&1
check "$NR: pull --base writes the policy renamed in Directus" grep -q '"Editor policy (renamed)"' "$PD/collections/policies.json"
check "$NR: ... not taken for an edit in the tree" bash -c "! grep -q 'changed in the tree since it was compared' '$T/pull-nr.log'"
finish
