#!/usr/bin/env bash
# push's special cases: a fresh push needs one pass; operations swapping
# their resolve targets (unique on the instance); a translation changing
# key and language; --preserve-ids; --no-sync-policy-roles and user
# attachments.
# versions: base 12
source "$(dirname "$0")/common.sh"

seeded_dump --as SRC
dx_start --as DST || exit 1
dsyncd -u "$DST_URL" -t "$DST_TOKEN" push --dump-path "$D" >"$T/push.log" 2>&1 || { tail "$T/push.log"; fail "first push"; finish; }
check "a push into a fresh instance needs one pass" grep -q "(1 pass(es)" "$T/push.log"

clean() { dsyncd -u "$DST_URL" -t "$DST_TOKEN" diff --dump-path "$1" >"$T/diff.out" 2>&1 || { head -20 "$T/diff.out" >&2; return 1; }; }
edit() { node -e "const fs = require('fs'), f = process.argv[1]; const a = JSON.parse(fs.readFileSync(f)); $2; fs.writeFileSync(f, JSON.stringify(a, null, 2) + '\n');" "$1"; }

# The built-in admin role is never deleted, even when the dump lacks it.
B="$T/builtin"; cp -r "$D" "$B"
edit "$B/collections/roles.json" 'a.splice(a.findIndex(r => r._syncId === "_sync_default_admin_role"), 1)'
dsyncd -u "$DST_URL" -t "$DST_TOKEN" diff --dump-path "$B" >"$T/builtin.out" 2>"$T/builtin.err"
check "dump without the admin role: nothing to delete (diff exits 0)" test $? = 0
check "dump without the admin role: a warning says it is kept" grep -q "_sync_default_admin_role is not in the dump" "$T/builtin.err"

# --no-split: the snapshot is one snapshot.json.
dsyncd -u "$DST_URL" -t "$DST_TOKEN" pull --dump-path "$T/nosplit" --no-split >/dev/null 2>&1 || fail "pull --no-split"
check "diff --no-split of a no-split dump exits 0" dsyncd -u "$DST_URL" -t "$DST_TOKEN" diff --dump-path "$T/nosplit" --no-split

# A dump from another Directus version: the schema diff needs -f.
V="$T/version"; cp -r "$D" "$V"
edit "$V/snapshot/info.json" 'a.directus = "11.99.0"'
dsyncd -u "$DST_URL" -t "$DST_TOKEN" diff --dump-path "$V" >"$T/version.out" 2>&1
check "another version without -f: exit 1" test $? = 1
check "another version without -f: Directus' refusal is shown" grep -q "POST /schema/diff: HTTP 400" "$T/version.out"
check "another version with -f: diff exits 0" dsyncd -u "$DST_URL" -t "$DST_TOKEN" diff --dump-path "$V" -f

# Items whose map rows were lost are adopted, not duplicated: a flow (id
# preserved: the id is the SyncID) and a permission (integer id: an
# untracked permission equal to the dump's).
fl=$(node -pe 'JSON.parse(require("fs").readFileSync(process.argv[1]))[0]._syncId' "$D/collections/flows.json")
pm=$(DX_URL=$DST_URL dx_api GET '/permissions?limit=1&sort=id&fields=id' | node -pe 'JSON.parse(require("fs").readFileSync(0)).data[0].id')
dsyncd -u "$DST_URL" -t "$DST_TOKEN" helpers untrack --collection flows --id "$fl" >/dev/null 2>&1
dsyncd -u "$DST_URL" -t "$DST_TOKEN" helpers untrack --collection permissions --id "$pm" >/dev/null 2>&1
dsyncd -u "$DST_URL" -t "$DST_TOKEN" push --dump-path "$D" >"$T/adopt.log" 2>&1 || { tail "$T/adopt.log"; fail "push after lost map rows"; }
check "lost map rows: the flow and the permission are adopted" test "$(grep -c 'already exists but had no id map' "$T/adopt.log")" = 2
check "lost map rows: nothing created" grep -q " 0 created" "$T/adopt.log"
check "lost map rows: no duplicates" same_counts "$DST_URL" "$D"
check "lost map rows: diff exits 0" clean "$D"

# A chain of operations reversed (check_status -reject-> log_refused ->
# notify_user -> mail_admin becomes check_status -reject-> mail_admin ->
# notify_user -> log_refused): resolve is unique on the instance, so the
# old holders must let go first.
E="$T/reverse"; cp -r "$D" "$E"
edit "$E/collections/operations.json" '
const k = Object.fromEntries(a.map(o => [o.key, o]));
k.check_status.reject = k.mail_admin._syncId;
k.mail_admin.resolve = k.notify_user._syncId;
k.notify_user.resolve = k.log_refused._syncId;
k.log_refused.resolve = null;'
if dsyncd -u "$DST_URL" -t "$DST_TOKEN" push --dump-path "$E" >"$T/reverse.log" 2>&1; then pass "a reversed chain of operations pushes"; else tail "$T/reverse.log"; fail "a reversed chain of operations pushes"; fi
check "reversed chain: 4 operations updated" grep -q "\[operations\] Updated 4 items" "$T/reverse.log"
check "reversed chain: diff exits 0 after" clean "$E"

# A translation changes key and language at once.
E="$T/tr"; cp -r "$D" "$E"
edit "$E/collections/translations.json" 'a[0].key = "renamed.key"; a[0].language = a[0].language === "fr-FR" ? "de-DE" : "fr-FR";'
if dsyncd -u "$DST_URL" -t "$DST_TOKEN" push --dump-path "$E" >"$T/tr.log" 2>&1; then pass "translation key and language change pushes"; else tail "$T/tr.log"; fail "translation key and language change pushes"; fi
check "translation: diff exits 0 after" clean "$E"

# --preserve-ids: a new role's SyncID is its id, and the push keeps it.
rid=$(DX_URL=$SRC_URL dx_api POST '/roles?fields=id' '{"name":"Preserved role"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).data.id')
P="$T/preserve"
dsyncd -u "$SRC_URL" -t "$SRC_TOKEN" pull --dump-path "$P" --preserve-ids roles >/dev/null 2>&1 || fail "pull --preserve-ids"
check "pull --preserve-ids: the new role's SyncID is its id" node -e '
process.exit(JSON.parse(require("fs").readFileSync(process.argv[1])).some(r => r._syncId === process.argv[2]) ? 0 : 1)' "$P/collections/roles.json" "$rid"
dsyncd -u "$DST_URL" -t "$DST_TOKEN" push --dump-path "$P" --preserve-ids roles >"$T/preserve.log" 2>&1 || { tail "$T/preserve.log"; fail "push --preserve-ids"; }
got=$(DX_URL=$DST_URL dx_api GET "/roles/$rid?fields=name" 2>/dev/null | node -pe 'JSON.parse(require("fs").readFileSync(0)).data.name' 2>/dev/null)
check "push --preserve-ids: the role has the same id on the target" test "$got" = "Preserved role"

# Policies' role links: --no-sync-policy-roles leaves them alone; a
# normal push removes a role link the dump does not have, and keeps
# links to users.
pol=$(node -pe 'JSON.parse(require("fs").readFileSync(process.argv[1])).find(p => p.name === "Editor policy")._syncId' "$P/collections/policies.json")
plid=$(DX_URL=$DST_URL dx_api GET "/policies?filter[name][_eq]=Editor%20policy&fields=id" | node -pe 'JSON.parse(require("fs").readFileSync(0)).data[0].id')
extra=$(DX_URL=$DST_URL dx_api POST '/roles?fields=id' '{"name":"Extra role"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).data.id')
user=$(DX_URL=$DST_URL dx_api POST '/users?fields=id' '{"email":"someone@example.com","status":"active"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).data.id')
DX_URL=$DST_URL dx_api POST /access "{\"role\":\"$extra\",\"policy\":\"$plid\",\"sort\":5}" >/dev/null
DX_URL=$DST_URL dx_api POST /access "{\"user\":\"$user\",\"policy\":\"$plid\",\"sort\":6}" >/dev/null
links() { DX_URL=$DST_URL dx_api GET "/access?filter[policy][_eq]=$plid&filter[$1][_eq]=$2&aggregate[count]=id" | node -pe 'JSON.parse(require("fs").readFileSync(0)).data[0].count.id'; }
dsyncd -u "$DST_URL" -t "$DST_TOKEN" push --dump-path "$P" --preserve-ids roles --no-sync-policy-roles >/dev/null 2>&1 || fail "push --no-sync-policy-roles"
check "--no-sync-policy-roles: the extra role link stays" test "$(links role "$extra")" = 1
dsyncd -u "$DST_URL" -t "$DST_TOKEN" push --dump-path "$P" --preserve-ids roles >"$T/roles.log" 2>&1 || fail "push with policy roles"
check "push: the role link the dump does not have is gone" test "$(links role "$extra")" = 0
check "push: the link to a user stays" test "$(links user "$user")" = 1
check "policy roles: diff exits 0 after" clean "$P"
finish
