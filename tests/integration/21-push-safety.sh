#!/usr/bin/env bash
# push refuses bad input and failed reads before writing anything, and a
# push cut off by Directus dying converges on the next run without
# duplicates.
source "$(dirname "$0")/common.sh"

seeded_dump --as SRC

# --- A push cut off by Directus dying, then rerun after a restart.
dx_start --as CUT || exit 1
start_proxy "$CUT_URL" --after 70 --kill "$CUT_PID"
if dsyncd -u "$PROXY_URL" -t "$CUT_TOKEN" push --dump-path "$D" >"$T/cut.log" 2>&1; then
	fail "push through a dying Directus fails"
else
	pass "push through a dying Directus fails"
fi
stop_proxy
dx_resume "$CUT_DIR" --as CUT >/dev/null || { fail "restart Directus"; finish; }
check "cut-off push had created some items (it was cut mid-way)" grep -q "Created" "$T/cut.log"
if dsyncd -u "$CUT_URL" -t "$CUT_TOKEN" push --dump-path "$D" >"$T/rerun.log" 2>&1; then pass "rerun after the restart"; else tail "$T/rerun.log"; fail "rerun after the restart"; fi
dsyncd -u "$CUT_URL" -t "$CUT_TOKEN" diff --dump-path "$D" >"$T/diff.out" 2>&1
check "rerun converged: diff exits 0" test $? = 0
check "rerun converged: no duplicates, nothing missing" same_counts "$CUT_URL" "$D"

# --- Bad input and failed reads: a target with the dump pushed, and a
# dump that differs from it, so that a push that went ahead would write.
dx_start --as TGT || exit 1
dsyncd -u "$TGT_URL" -t "$TGT_TOKEN" push --dump-path "$D" >/dev/null 2>&1 || fail "first push"
E="$T/edited"; cp -r "$D" "$E"
node -e '
const fs = require("fs"), f = process.argv[1] + "/collections/translations.json";
const a = JSON.parse(fs.readFileSync(f)); a[0].value = "changed"; fs.writeFileSync(f, JSON.stringify(a, null, 2) + "\n");' "$E"

# refused NAME PATTERN DUMP [ARGS]: push exits 1, says PATTERN, and the
# activity log did not move.
refused() {
	local name=$1 pat=$2 dump=$3 url=$TGT_URL; shift 3
	[ "${1:-}" = --url ] && { url=$2; shift 2; }
	local before after rc
	before=$(activity "$TGT_URL")
	dsyncd -u "$url" -t "$TGT_TOKEN" push --dump-path "$dump" "$@" >"$T/$name.log" 2>&1; rc=$?
	after=$(activity "$TGT_URL")
	check "$name: exit 1 (got $rc)" test "$rc" = 1
	if grep -Eq "$pat" "$T/$name.log"; then pass "$name: the error names it"; else tail -5 "$T/$name.log"; fail "$name: the error names it"; fi
	check "$name: nothing written ($before -> $after activity rows)" test "$before" = "$after"
	check "$name: no token in the output" bash -c "! grep -qF '$TGT_TOKEN' '$T/$name.log'"
}

M="$T/missing"; cp -r "$E" "$M"; rm "$M/collections/flows.json"
refused missing-file "collections/flows.json: no such file" "$M"
X="$T/truncated"; cp -r "$E" "$X"; head -c 700 "$D/collections/operations.json" >"$X/collections/operations.json"
refused truncated-file "collections/operations.json: line [0-9]+, column [0-9]+" "$X"
Y="$T/notarray"; cp -r "$E" "$Y"; echo '{"a":1}' >"$Y/collections/roles.json"
refused not-an-array "collections/roles.json: expected an array" "$Y"
S="$T/badsnap"; cp -r "$E" "$S"; echo '{' >"$S/snapshot/info.json"
refused bad-snapshot "snapshot/info.json: line" "$S"

U="$T/unresolved"; cp -r "$E" "$U"
node -e '
const fs = require("fs"), f = process.argv[1] + "/collections/panels.json";
const a = JSON.parse(fs.readFileSync(f)); a[0].dashboard = "no-such-dashboard"; fs.writeFileSync(f, JSON.stringify(a, null, 2) + "\n");' "$U"
refused unresolved-reference "dashboard refers to dashboards no-such-dashboard" "$U"

start_proxy "$TGT_URL" --match "/permissions?" --status 500
refused read-500 "GET /permissions.*HTTP 500" "$E" --url "$PROXY_URL"
stop_proxy
start_proxy "$TGT_URL" --match "/flows?" --status 431
refused read-431 "GET /flows.*HTTP 431" "$E" --url "$PROXY_URL"
stop_proxy
start_proxy "$TGT_URL" --match "/directus-extension-sync/table/roles" --garbage
refused map-not-json "/directus-extension-sync/table/roles.*not JSON" "$E" --url "$PROXY_URL"
stop_proxy
start_proxy "$TGT_URL" --match "/schema/diff" --truncate
refused schema-truncated "/schema/diff" "$E" --url "$PROXY_URL"
stop_proxy

# --max-deletes: refused before any write, with the list.
R="$T/removed"; cp -r "$E" "$R"
node -e '
const fs = require("fs"), f = process.argv[1] + "/collections/panels.json";
const a = JSON.parse(fs.readFileSync(f)); a.splice(0, 2); fs.writeFileSync(f, JSON.stringify(a, null, 2) + "\n");' "$R"
refused max-deletes "would delete 2 item\(s\), more than --max-deletes 1" "$R" --max-deletes 1
check "max-deletes: the refusal lists the panels" test "$(grep -c '^  panels ' "$T/max-deletes.log")" = 2
if dsyncd -u "$TGT_URL" -t "$TGT_TOKEN" push --dump-path "$R" --max-deletes 2 >"$T/del2.log" 2>&1; then pass "max-deletes 2 lets the push through"; else tail "$T/del2.log"; fail "max-deletes 2 lets the push through"; fi
check "the two panels are gone" grep -q "\[panels\] Deleted 2 items" "$T/del2.log"
finish
