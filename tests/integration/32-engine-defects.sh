#!/usr/bin/env bash
# Defects a review of the engine found, each checked as a user sees it:
# a DELETE refused with 403 does not untrack a live item; diff | head
# ends with the diff's status, not SIGPIPE; names are shown escaped in
# the human diff; remove-permission-duplicates names the ids it deletes,
# whatever their JSON type.
source "$(dirname "$0")/common.sh"

seeded_dump

# --- A token that may not delete: the DELETE gets 403 (here from the
# proxy, in front of the real instance), the flow stays, and so does its
# map row: the next diff still shows the delete.
sid=$(json_of 'd.find(f => f.name === "Nightly cleanup")._syncId' <"$D/collections/flows.json")
node -e '
const fs = require("fs"), f = process.argv[1] + "/collections/flows.json";
fs.writeFileSync(f, JSON.stringify(JSON.parse(fs.readFileSync(f)).filter(x => x._syncId !== process.argv[2]), null, 2) + "\n");' "$D" "$sid"
node -e '
const fs = require("fs"), f = process.argv[1] + "/collections/operations.json";
fs.writeFileSync(f, JSON.stringify(JSON.parse(fs.readFileSync(f)).filter(x => x.flow !== process.argv[2]), null, 2) + "\n");' "$D" "$sid"
fid=$(dx_api GET '/flows?filter[name][_eq]=Nightly%20cleanup&fields=id' | json_of 'd.data[0].id')
# The item's own path only: not the map row's (/table/flows/sync_id/...).
start_proxy "$URL" --method DELETE --match "/flows/$fid" --status 403
dsyncd -u "$PROXY_URL" -t "$TOKEN" push --dump-path "$D" >"$T/403.log" 2>&1
rc=$?
stop_proxy
check "DELETE answered 403: the push fails (exit 1, got $rc)" test "$rc" = 1
check "... saying the item is still there" grep -q "HTTP 403 FORBIDDEN, and flows $sid is still there" "$T/403.log"
check "... the flow is still on the instance" test "$(dx_api GET '/flows?filter[name][_eq]=Nightly%20cleanup&fields=id' | json_of 'd.data.length')" = 1
dsyncd -u "$URL" -t "$TOKEN" diff --dump-path "$D" >"$T/403-diff.out" 2>&1
check "... and still tracked: the next diff still shows its delete" grep -q -- "- delete flows $sid" "$T/403-diff.out"
dsyncd -u "$URL" -t "$TOKEN" push --dump-path "$D" >"$T/403-push.log" 2>&1
check "with a token that may delete, the push deletes it" test "$(dx_api GET '/flows?filter[name][_eq]=Nightly%20cleanup&fields=id' | json_of 'd.data.length')" = 0

# --- A reader that goes away: the diff's own status, not 141.
dsyncd -u "$URL" -t "$TOKEN" pull --dump-path "$D" >/dev/null 2>&1
node -e '
const fs = require("fs"), f = process.argv[1] + "/collections/translations.json";
const a = JSON.parse(fs.readFileSync(f)); for (const t of a) t.value = "changed " + t.value;
fs.writeFileSync(f, JSON.stringify(a, null, 2) + "\n");' "$D"
"$DSYNCD" -u "$URL" -t "$TOKEN" diff --dump-path "$D" --pretty-diff 2>"$T/pipe.err" | true
check "diff | true: exit 2, the diff's status (got ${PIPESTATUS[0]})" test "${PIPESTATUS[0]}" = 2
"$DSYNCD" -u "$URL" -t "$TOKEN" diff --dump-path "$D" 2>>"$T/pipe.err" | head -1 >/dev/null
check "diff | head -1: exit 2 (got ${PIPESTATUS[0]})" test "${PIPESTATUS[0]}" = 2
check "... and nothing said about the pipe" bash -c "! grep -qi 'pipe' '$T/pipe.err'"

# --- Control characters in names are shown escaped.
node -e '
const fs = require("fs"), f = process.argv[1] + "/collections/flows.json";
const a = JSON.parse(fs.readFileSync(f)); a[0].name = "evil\u001b[31mred\u0007\u009b";
fs.writeFileSync(f, JSON.stringify(a, null, 2) + "\n");' "$D"
dsyncd -u "$URL" -t "$TOKEN" diff --dump-path "$D" >"$T/esc.out" 2>&1
check "a name with an escape sequence is shown escaped" grep -qF 'evil\x1b[31mred\x07\u009b' "$T/esc.out"
check "... and no raw control character reaches the terminal" bash -c "! LC_ALL=C grep -q \$'[\\x01-\\x08\\x0b-\\x1f\\x7f]' '$T/esc.out'"
check "... no raw C1 control either" bash -c "! grep -qP '\\x{9b}' '$T/esc.out'"

# --- remove-permission-duplicates names the ids it deletes, also when an
# answer gives them as strings.
pol=$(dx_api GET '/policies?filter[name][_eq]=Editor%20policy&fields=id' | json_of 'd.data[0].id')
dup=$(dx_api POST /permissions "{\"policy\":\"$pol\",\"collection\":\"articles\",\"action\":\"read\",\"fields\":[\"id\"]}" | json_of 'd.data.id')
start_proxy "$URL" --match '/permissions?limit=-1&sort=id' --sub '"id":([0-9]+)' '"id":"\1"'
dsyncd -u "$PROXY_URL" -t "$TOKEN" helpers remove-permission-duplicates --keep first >"$T/dups.log" 2>&1
check "remove-permission-duplicates succeeds" test $? = 0
stop_proxy
check "... and names the id it deleted ($dup)" grep -q "deleting id $dup\$" "$T/dups.log"

finish
