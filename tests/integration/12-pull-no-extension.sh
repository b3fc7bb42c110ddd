#!/usr/bin/env bash
# An instance without directus-extension-sync: dsyncd keeps the SyncID
# map in a hidden collection of its own, left out of the dumped snapshot,
# and a second pull keeps every SyncID.
# versions: base 12
source "$(dirname "$0")/common.sh"

dx_install || exit 1
dx_start --no-extension || exit 1
seed "$DX_URL" "$DX_TOKEN" || { fail "seed the instance"; finish; }

check "the extension's routes are absent" \
	bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $DX_TOKEN' $DX_URL/directus-extension-sync/table/flows)\" = 404 ]"

dsyncd -u "$DX_URL" -t "$DX_TOKEN" pull --dump-path "$T/a" >"$T/a.log" 2>&1
check "pull without the extension succeeds" test -s "$T/a/collections/flows.json"
check "the map collection exists and is hidden" bash -c \
	"dx_api() { curl -sf -H 'Authorization: Bearer $DX_TOKEN' \"$DX_URL\$1\"; }; dx_api /collections/dsync_id_map | grep -q '\"hidden\":true'"
check "the map collection is not in the dumped snapshot" \
	bash -c "test -s '$T/a/snapshot/info.json' && ! grep -rq dsync_id_map '$T/a/snapshot'"
rc=0; dsyncd -u "$DX_URL" -t "$DX_TOKEN" pull --id-map extension --dump-path "$T/x" >"$T/x.log" 2>&1 || rc=$?
check "--id-map extension on this instance: exit 1" test "$rc" -eq 1
check "--id-map extension on this instance: says the extension is missing" grep -q "directus-extension-sync does not answer" "$T/x.log"
check "--id-map extension on this instance: no dump written" test ! -e "$T/x"

dsyncd -u "$DX_URL" -t "$DX_TOKEN" pull --dump-path "$T/b" >"$T/b.log" 2>&1
norm_openapi "$T/a"; norm_openapi "$T/b"
check "a second pull keeps every SyncID" same_tree "$T/a" "$T/b"
check "SyncIDs are UUIDs or placeholders" node -e '
const a = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const ok = s => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(s) || s.startsWith("_sync_default_");
process.exit(a.every(i => ok(i._syncId)) ? 0 : 1)' "$T/a/collections/roles.json"

finish
