#!/usr/bin/env bash
# dsyncd pull against directus-sync pull on the same seeded instance: the
# trees must be identical, but for the two documented normalisations
# (3.4.1's policies roles form, openapi info.version). Then: two pulls in
# a row are identical, and stale snapshot files are gone after a pull.
# versions: all
source "$(dirname "$0")/common.sh"

dx_install || exit 1
dx_start || exit 1
seed "$DX_URL" "$DX_TOKEN" || { fail "seed the instance"; finish; }

# compare NAME ARGS...: reference into $T/NAME/ref, dsyncd into
# $T/NAME/dsync, with the same extra arguments.
compare() {
	local name=$1; shift
	local ref="$T/$name/ref" ds="$T/$name/dsync" sortflag="" a
	local global=() cmd=()
	mkdir -p "$T/$name"
	for a in "$@"; do
		if [ "$a" = --sort-json ]; then sortflag=--sort-json; global+=("$a"); else cmd+=("$a"); fi
	done
	if ! dx_cli -u "$DX_URL" -t "$DX_TOKEN" "${global[@]}" pull "${cmd[@]}" --dump-path "$ref" >"$T/$name/ref.log" 2>&1; then
		tail -20 "$T/$name/ref.log"; fail "$name: reference pull"; return
	fi
	if ! dsyncd -u "$DX_URL" -t "$DX_TOKEN" "${global[@]}" pull "${cmd[@]}" --dump-path "$ds" >"$T/$name/dsync.log" 2>&1; then
		tail -20 "$T/$name/dsync.log"; fail "$name: dsyncd pull"; return
	fi
	[ -f "$ref/collections/policies.json" ] &&
		node "$top/tests/integration/normalize-341.mjs" "$ref/collections/policies.json" $sortflag
	norm_openapi "$ref"; norm_openapi "$ds"
	check "$name: dsyncd tree == directus-sync tree" same_tree "$ref" "$ds"
}

compare default
compare sort-json --sort-json
compare no-split --no-split
compare only -o flows,operations,policies,permissions
compare exclude -x translations,presets,settings
compare no-specs-no-snapshot --no-specs --no-snapshot

# The fixture must really touch every collection, or the comparison
# proves little.
for c in settings folders translations flows operations roles policies permissions dashboards panels presets; do
	check "fixture: $c.json has items" node -e '
const a = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
process.exit(Array.isArray(a) && a.length > 0 ? 0 : 1)' "$T/default/dsync/collections/$c.json"
done
check "no user link dumped in policies.json" node -e '
const a = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
for (const p of a) for (const r of p.roles || [])
  if (r.user !== null || !("user" in r)) process.exit(1);' "$T/default/dsync/collections/policies.json"
check "no personal preset dumped" node -e '
const a = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
process.exit(a.some(p => "user" in p) ? 1 : 0)' "$T/default/dsync/collections/presets.json"

# Two pulls in a row: identical trees (openapi.json included, as dsyncd
# keeps it when only info.version moved).
d1="$T/twice/1"; mkdir -p "$T/twice"
check "first pull of the pair succeeds" dsyncd -u "$DX_URL" -t "$DX_TOKEN" pull --dump-path "$d1"
tree_sum "$d1" >"$T/twice/sum1"
check "second pull of the pair succeeds" dsyncd -u "$DX_URL" -t "$DX_TOKEN" pull --dump-path "$d1"
tree_sum "$d1" >"$T/twice/sum2"
check "two pulls in a row give an identical tree" cmp -s "$T/twice/sum1" "$T/twice/sum2"

# Stale files under snapshot/ go; files dsync does not own stay.
mkdir -p "$d1/snapshot/fields/gone" "$d1/seed"
echo '{}' >"$d1/snapshot/fields/gone/stale.json"
echo '{"keep": true}' >"$d1/seed/mine.json"
check "pull over a tree with stale files succeeds" dsyncd -u "$DX_URL" -t "$DX_TOKEN" pull --dump-path "$d1"
check "stale snapshot file removed" test ! -e "$d1/snapshot/fields/gone/stale.json"
check "a file dsync does not own is kept" grep -q keep "$d1/seed/mine.json"
check "no staging directory left beside the dump" \
	bash -c "! ls -a '$(dirname "$d1")' | grep -q dsync-"

finish
