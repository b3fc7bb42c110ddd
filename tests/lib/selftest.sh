#!/usr/bin/env bash
# tests/lib/selftest.sh: exercise tests/lib/directus.sh and seed.mjs against real
# Directus instances, and check the reference CLI's pull of the seeded fixture.
#   bash tests/lib/selftest.sh [--scale-bench]   (--scale-bench also times --scale 20)
# Prints PASS:/FAIL: lines (tests/run runs it as 02-test-lib).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=directus.sh
source "$here/directus.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/dx-selftest.XXXXXX")
trap 'rm -rf "$work"' EXIT # dx_start chains its own cleanup in front of this
fail() { echo "FAIL: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }

t=$(now); dx_install; echo "install check: $(since "$t")s"
t=$(now); dx_template; echo "template check: $(since "$t")s"

t=$(now); dx_start --as SRC; echo "warm start (with extension): $(since "$t")s  $SRC_URL"
t=$(now); dx_start --no-extension --as NOEXT; echo "warm start (no extension): $(since "$t")s  $NOEXT_URL"

code() { curl -s -o /dev/null -w '%{http_code}' -K <(printf 'header = "Authorization: Bearer %s"\n' "$DX_TOKEN") "$1"; }
[[ $(code "$SRC_URL/directus-extension-sync/table/flows") == 200 ]] || fail "extension route missing on SRC"
[[ $(code "$NOEXT_URL/directus-extension-sync/table/flows") == 404 ]] || fail "extension route present on NOEXT"
echo "PASS: extension route: 200 with, 404 without"

t=$(now)
node "$here/seed.mjs" --url "$SRC_URL" --token "$SRC_TOKEN" --quiet
echo "seed --scale 1: $(since "$t")s"

dump=$work/refdump
t=$(now)
dx_cli -u "$SRC_URL" -t "$SRC_TOKEN" pull --dump-path "$dump" >"$work/pull.log" 2>&1 || { tail -n 30 "$work/pull.log"; fail "reference pull"; }
echo "reference pull: $(since "$t")s"
for c in dashboards flows folders operations panels permissions policies presets roles settings translations; do
	f=$dump/collections/$c.json
	[[ -f $f ]] || fail "$c.json missing"
	n=$(jq length "$f")
	((n > 0)) || fail "$c.json is empty"
	printf '%s=%s ' "$c" "$n"
done
echo
[[ -s $dump/snapshot/info.json ]] || fail "snapshot/info.json"
[[ -s $dump/snapshot/collections/Profile.json && -s $dump/snapshot/collections/profile_2.json ]] || fail "Profile/profile_2 clash files"
[[ -s $dump/snapshot/fields/profile/Content_2.json ]] || fail "Content_2 clash file"
for s in item.graphql system.graphql openapi.json; do [[ -s $dump/specs/$s ]] || fail "specs/$s"; done
[[ $(jq '[.[] | select(.user != null)] | length' "$dump/collections/presets.json") == 0 ]] || fail "personal preset dumped"
echo "PASS: the reference pull of the seed: every collection file, the clash files, snapshot files: $(find "$dump/snapshot" -type f | wc -l), specs"

# the same seed on a second instance gives the same schema (deterministic)
dx_stop "$NOEXT_PID"
dx_start --as DST
node "$here/seed.mjs" --url "$DST_URL" --token "$DST_TOKEN" --quiet >/dev/null
DX_URL=$SRC_URL dx_api GET /schema/snapshot | jq .data >"$work/snap.json"
[[ -z $(DX_URL=$DST_URL dx_api POST /schema/diff "@$work/snap.json") ]] || fail "schema differs between two seeded instances"
echo "PASS: two seeded instances: schema diff empty"

# kill / resume keeps the database and the port
DX_URL=$DST_URL dx_api PATCH /settings '{"project_name":"before restart"}' >/dev/null
t=$(now); dx_restart "$DST_PID" --as DST; echo "restart: $(since "$t")s"
[[ $(dx_api GET '/settings?fields=project_name' | jq -r .data.project_name) == "before restart" ]] || fail "data lost on restart"
[[ $DST_URL == "$DX_URL" ]] || fail "port changed on restart"
echo "PASS: a restart keeps the database and the port"

if [[ ${1:-} == --scale-bench ]]; then
	dx_start --as BIG
	t=$(now)
	node "$here/seed.mjs" --url "$BIG_URL" --token "$BIG_TOKEN" --scale 20
	echo "seed --scale 20: $(since "$t")s"
fi

dx_stop_all
echo "PASS: selftest of tests/lib"
