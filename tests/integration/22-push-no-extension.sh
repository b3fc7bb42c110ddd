#!/usr/bin/env bash
# diff and push with the collection map backend (instances without
# directus-extension-sync): the same round trip, a no-op second push, and
# a pull from the target that gives the source dump back.
# versions: base 12
source "$(dirname "$0")/common.sh"

seeded_dump --no-extension --as SRC

dx_start --no-extension --as DST || exit 1
dsyncd -u "$DST_URL" -t "$DST_TOKEN" diff --dump-path "$D" >"$T/diff0.out" 2>&1
check "diff against a fresh instance exits 2" test $? = 2
no_map_collection() { ! DX_URL=$DST_URL dx_api GET /collections/dsync_id_map >/dev/null 2>&1; }
check "diff wrote no map collection on the target" no_map_collection
if dsyncd -u "$DST_URL" -t "$DST_TOKEN" push --dump-path "$D" >"$T/push1.log" 2>&1; then pass "push into an instance without the extension"; else tail -20 "$T/push1.log"; fail "push into an instance without the extension"; fi
dsyncd -u "$DST_URL" -t "$DST_TOKEN" diff --dump-path "$D" >"$T/diff1.out" 2>&1
rc=$?; [ $rc = 0 ] || head -30 "$T/diff1.out"
check "diff exits 0 after the push" test "$rc" = 0
check "no duplicates, nothing missing" same_counts "$DST_URL" "$D"
before=$(activity "$DST_URL")
dsyncd -u "$DST_URL" -t "$DST_TOKEN" push --dump-path "$D" >"$T/push2.log" 2>&1 || fail "second push"
after=$(activity "$DST_URL")
check "second push adds no activity rows ($before -> $after)" test "$before" = "$after"
dsyncd -u "$DST_URL" -t "$DST_TOKEN" pull --dump-path "$T/back" >/dev/null 2>&1 || fail "pull from the target"
check "pull from the target gives the source dump back" node "$top/tests/integration/compare-dumps.mjs" "$D" "$T/back"
check "the map collection stays out of the pulled snapshot" bash -c "! grep -rlq dsync_id_map '$T/back/snapshot'"
finish
