#!/usr/bin/env bash
# The catalogue of bad inputs (issue 9, part 3). Each input gets a clear
# error naming what is wrong and where, and has no side effect: the dump
# tree byte for byte as it was (tree_sum), no staging left in it, no row
# added to the instance's activity log, nothing pushed or deleted.
#   - the dump tree, for dsyncd diff and push: malformed JSON in every
#     kind of file (file, line and column), wrong types, duplicate and
#     missing SyncIDs, a snapshot of the wrong shape, a dump of another
#     Directus version, an unknown collection file; the daemon with a bad
#     tree stays up, shows the error in status and recovers once fixed;
#   - unexpected answers from Directus through tests/faults/proxy.py, for
#     pull, diff and push: objects where lists belong, no "data", nulls,
#     items without ids, bad map rows, a schema diff of the wrong shape,
#     deep nesting, a body over --max-response-mb, garbage;
#   - broken configuration files for dsyncd -n -f and dsyncd -f: wrong
#     types, unknown keys, huge values, include loops, unreadable files,
#     bad token files, a socket path too long (exit 78, file:line).
# Ends with "bad inputs tried: N".
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/daemon-lib.sh"

ntried=0
tried() { ntried=$((ntried + 1)); }

dx_install || exit 1
dx_start || exit 1
URL=$DX_URL TOKEN=$DX_TOKEN
D="$T/dump"
setup_dump "$URL" "$TOKEN" "$D" || { fail "set up the dump"; finish; }
W="$T/w"
counts0=$(same_counts "$URL" "$D" 2>&1 && echo ok)
check "the instance and the pulled dump agree before the catalogue" test "$counts0" = ok

# fresh: W is a copy of the pulled dump.
fresh() { rm -rf "$W" && cp -a "$D" "$W"; }
# edit FILE JS: apply JS to the parsed FILE (a) and write it back as a
# pull would.
edit() {
	node -e '
const fs = require("fs"), f = process.argv[1]; const a = JSON.parse(fs.readFileSync(f));
(new Function("a", process.argv[2]))(a); fs.writeFileSync(f, JSON.stringify(a, null, 2) + "\n");' "$1" "$2"
}
# no_staging DIR: nothing of dsync's own left in the tree.
no_staging() { test -z "$(find "$1" -name '.dsync-*' -print -quit)"; }

# bad_tree NAME NEEDLE [RC]: diff and push of W (already made bad) exit
# RC (default 1) with NEEDLE in their output; W and the instance as
# they were.
bad_tree() {
	local name=$1 needle=$2 want=${3:-1} cmd rc sum0 sum1 act0 act1
	tried
	sum0=$(tree_sum "$W")
	act0=$(activity "$URL")
	for cmd in diff push; do
		"$DSYNCD" -u "$URL" -t "$TOKEN" "$cmd" --dump-path "$W" >"$T/out" 2>&1
		rc=$?
		check "$name: dsyncd $cmd exits $want (got $rc)" test "$rc" = "$want"
		if grep -qF -- "$needle" "$T/out"; then pass "$name: $cmd says: $needle"
		else sed -n 1,5p "$T/out" >&2; fail "$name: $cmd says: $needle"; fi
	done
	sum1=$(tree_sum "$W")
	act1=$(activity "$URL")
	check "$name: the tree is byte for byte as it was, no staging left" \
		bash -c '[ "$1" = "$2" ]' _ "$sum0" "$sum1"
	no_staging "$W" || fail "$name: staging left in the tree"
	check "$name: nothing written to the instance (activity $act0 -> $act1)" test "$act0" = "$act1"
}

# --- Malformed JSON in every kind of dump file: a character that starts
# no token on a line of its own (line 3, column 3), and a file cut short.
files="collections/flows.json collections/operations.json collections/roles.json
collections/policies.json collections/permissions.json collections/dashboards.json
collections/panels.json collections/presets.json collections/settings.json
collections/translations.json collections/folders.json snapshot/info.json"
for sub in collections fields relations; do
	f=$(cd "$D" && find "snapshot/$sub" -name '*.json' | LC_ALL=C sort | head -1)
	check "the pulled tree has snapshot/$sub files (${f:-none})" test -n "$f"
	files="$files $f"
done
for f in $files; do
	fresh
	sed -i '3i\  @' "$W/$f"
	bad_tree "malformed $f" "$f: line 3, column 3: invalid char in json text"
done
fresh
head -n 10 "$D/collections/roles.json" >"$W/collections/roles.json"
bad_tree "collections/roles.json cut after 10 lines" "collections/roles.json: line 11, column 1: premature EOF"
fresh
head -n 2 "$D/snapshot/info.json" >"$W/snapshot/info.json"
bad_tree "snapshot/info.json cut after 2 lines" "snapshot/info.json: line 3, column 1: premature EOF"
# specs/ is written by pull and read by nobody else: diff and push go on,
# and a pull replaces a broken file.
fresh
echo '{"openapi": ' >"$W/specs/openapi.json"
tried
"$DSYNCD" -u "$URL" -t "$TOKEN" diff --dump-path "$W" >"$T/out" 2>&1
rc=$?
check "malformed specs/openapi.json: diff does not read it (exit 0, got $rc)" test "$rc" = 0
"$DSYNCD" -u "$URL" -t "$TOKEN" pull --dump-path "$W" >"$T/out" 2>&1
check "malformed specs/openapi.json: a pull writes it anew" node -e 'JSON.parse(require("fs").readFileSync(process.argv[1]))' "$W/specs/openapi.json"

# --- Wrong types in fields.
fresh; echo '"not a list"' >"$W/collections/flows.json"
bad_tree "a string where the array of items belongs" "collections/flows.json: expected an array of items, not a string"
fresh; edit "$W/collections/flows.json" 'a[0].name = 5'
sid=$(json_of 'd[0]._syncId' <"$W/collections/flows.json")
bad_tree "a number for a flow's name" "collections/flows.json: item 1 (_syncId $sid): \"name\" is a number; expected a string"
fresh; edit "$W/collections/roles.json" 'a[0]._syncId = {"id": 1}'
bad_tree "an object for _syncId" "collections/roles.json: item 1: \"_syncId\" is an object; expected a non-empty string"
fresh; edit "$W/collections/policies.json" 'a[0].roles = "admin"'
bad_tree "a string for a policy's roles" "\"roles\" is a string; expected an array of access rows"
fresh; edit "$W/collections/policies.json" 'a[0].roles = [7]'
bad_tree "a number as a policy's access row" "\"roles\": element 1 is not an object"
fresh; edit "$W/collections/permissions.json" 'a[0].collection = 12'
bad_tree "a number for a permission's collection" "collections/permissions.json: item 1 (_syncId"
fresh; edit "$W/collections/panels.json" 'a[0].dashboard = []'
bad_tree "an array for a panel's dashboard" "\"dashboard\" is an array; expected a string"
fresh; edit "$W/collections/operations.json" 'a[0].position_x = 1.5'
bad_tree "a fraction for an operation's position" "\"position_x\" is a number that is not an integer"
fresh; edit "$W/collections/settings.json" 'a.push({"_syncId": "second"})'
bad_tree "two items in settings" "collections/settings.json: holds 2 items; settings is one item"
fresh; echo '[7]' >"$W/collections/folders.json"
bad_tree "a number as an item" "collections/folders.json: item 1 is a number, not an object"

# --- SyncIDs: duplicate, missing.
fresh; edit "$W/collections/roles.json" 'a[1]._syncId = a[0]._syncId'
sid=$(json_of 'd[0]._syncId' <"$W/collections/roles.json")
bad_tree "a duplicate _syncId" "collections/roles.json: items 1 and 2 have the same _syncId $sid"
fresh; edit "$W/collections/flows.json" 'delete a[1]._syncId'
bad_tree "a missing _syncId" "collections/flows.json: item 2 has no \"_syncId\""

# --- Snapshot files of the wrong shape.
fld=$(cd "$D" && find snapshot/fields -name '*.json' | LC_ALL=C sort | head -1)
rel=$(cd "$D" && find snapshot/relations -name '*.json' | LC_ALL=C sort | head -1)
col=$(cd "$D" && find snapshot/collections -name '*.json' | LC_ALL=C sort | head -1)
fresh; echo '[]' >"$W/snapshot/info.json"
bad_tree "an array for snapshot/info.json" "snapshot/info.json: expected an object, not an array"
fresh; edit "$W/snapshot/info.json" 'delete a.version'
bad_tree "snapshot/info.json without version" "snapshot/info.json: \"version\" is missing"
fresh; echo '[]' >"$W/$col"
bad_tree "an array for $col" "$col: expected an object, not an array"
fresh; edit "$W/$fld" 'delete a.field'
bad_tree "$fld without field" "$fld: no \"field\""
fresh; edit "$W/$rel" 'a.collection = 3'
bad_tree "a number for $rel's collection" "$rel: \"collection\" is a number"
fresh; edit "$W/$col" 'a.meta = "x"'
bad_tree "a string for $col's meta" "$col: \"meta\" is a string; expected an object or null"

# --- A dump of another Directus version: refused as the reference does
# (Directus' own check), --force compares anyway.
fresh; edit "$W/snapshot/info.json" 'a.directus = "11.10.0"'
bad_tree "a dump of Directus 11.10.0" "snapshot's directus version 11.10.0 does not match the current instance's version $DX_VERSION"
"$DSYNCD" -u "$URL" -t "$TOKEN" diff --force --dump-path "$W" >"$T/out" 2>&1
rc=$?
check "... diff --force compares it anyway (exit 0 or 2, got $rc)" test "$rc" = 0 -o "$rc" = 2

# --- An unknown collection file: left alone (directus-sync ignores it
# too), with a warning naming it; nothing pushed.
fresh; echo '[{"_syncId": "x", "name": "y"}]' >"$W/collections/bogus.json"
bad_tree "collections/bogus.json" "collections/bogus.json: not a collection dsync syncs" 0
fresh; echo '[{' >"$W/collections/bogus.json"
bad_tree "a malformed collections/bogus.json" "collections/bogus.json: not a collection dsync syncs" 0

check "after the dump-tree inputs: the instance still agrees with the dump" same_counts "$URL" "$D"

# --- The daemon with a bad tree: stays up, shows the error, writes
# nothing, recovers when the file is fixed.
notify_listen || fail "notify listener"
write_conf "$T/d.conf" "$URL" "$D" 'poll = { interval = 2.0; full_every = 1; };'
if start_daemon "$T/d.conf" && wait_for 30 is 'state' in-sync; then
	pass "the daemon starts in sync"
	cp -a "$D/collections" "$T/good-collections"
	cp -a "$D/snapshot" "$T/good-snapshot"
	err() { ctl status --json 2>/dev/null | json_of 'd.last_error ? d.last_error.message : ""'; }
	# daemon_bad NAME NEEDLE RESTORE: the tree is bad already.
	daemon_bad() {
		local name=$1 needle=$2 act0
		tried
		act0=$(activity "$URL")
		check "daemon, $name: state error" wait_for 10 is 'state' error
		if err | grep -qF -- "$needle"; then pass "daemon, $name: status says: $needle"
		else echo "status: $(err)" >&2; fail "daemon, $name: status says: $needle"; fi
		ctl status >"$T/status.txt" 2>&1
		check "daemon, $name: dsyncctl status shows it too" grep -qF -- "$needle" "$T/status.txt"
		sleep 2.5   # let a poll (every 2 s) meet the bad tree
		check "daemon, $name: still running" kill -0 "$DAEMON_PID"
		check "daemon, $name: nothing written to the instance" test "$(activity "$URL")" = "$act0"
		rm -rf "$D/collections" "$D/snapshot"
		cp -a "$T/good-collections" "$D/collections"
		cp -a "$T/good-snapshot" "$D/snapshot"
		check "daemon, $name: in sync again once fixed" wait_for 15 is 'state' in-sync
	}
	sed -i '3i\  @' "$D/collections/flows.json"
	daemon_bad "malformed collections/flows.json" "collections/flows.json: line 3, column 3: invalid char in json text"
	edit "$D/collections/dashboards.json" 'a[0].name = 42'
	daemon_bad "a number for a dashboard's name" "\"name\" is a number; expected a string"
	edit "$D/$fld" 'delete a.field'
	daemon_bad "$fld without field" "$fld: no \"field\""
	stop_daemon
	check "the daemon stops cleanly (exit $DAEMON_RC)" test "$DAEMON_RC" = 0
else
	tail -n 20 "$T/daemon.log"
	fail "the daemon starts in sync"
fi
check "the dump tree is as pulled after the daemon's part" test -z "$(git -C "$D" status --porcelain)"

# --- Unexpected answers from Directus, through the proxy. Each for
# pull (the tree as it was, nothing staged), diff and push (exit 1,
# nothing written).
# bad_answer NAME NEEDLE COMMANDS PROXY-ARGS...
bad_answer() {
	local name=$1 needle=$2 cmds=$3 cmd rc sum0 act0 extra=()
	shift 3
	tried
	start_proxy "$URL" "$@"
	[ -n "${MAX_MB:-}" ] && extra=(--max-response-mb "$MAX_MB")
	for cmd in $cmds; do
		fresh
		sum0=$(tree_sum "$W")
		act0=$(activity "$URL")
		"$DSYNCD" -u "$PROXY_URL" -t "$TOKEN" "$cmd" --dump-path "$W" "${extra[@]}" >"$T/out" 2>&1
		rc=$?
		check "$name: dsyncd $cmd exits 1 (got $rc)" test "$rc" = 1
		if grep -qF -- "$needle" "$T/out"; then pass "$name: $cmd says: $needle"
		else sed -n 1,5p "$T/out" >&2; fail "$name: $cmd says: $needle"; fi
		check "$name: $cmd leaves the tree byte for byte as it was" bash -c '[ "$1" = "$(tree_sum "$2")" ]' _ "$sum0" "$W"
		no_staging "$W" || fail "$name: $cmd left staging in the tree"
		check "$name: $cmd writes nothing to the instance" test "$(activity "$URL")" = "$act0"
	done
	stop_proxy
}
export -f tree_sum
all="pull diff push"
bad_answer "an object for the flows list" 'GET /flows?limit=-1: expected a list in "data"' "$all" --match '/flows?' --json-data '{}'
bad_answer "null for the flows list" 'GET /flows?limit=-1: expected a list in "data"' "$all" --match '/flows?' --json-data 'null'
bad_answer "no data in the flows answer" 'GET /flows?limit=-1: expected a list in "data"' "$all" --match '/flows?' --sub '"data":' '"dota":'
bad_answer "an array for settings" 'GET /settings?limit=-1: expected an object in "data"' "$all" --match '/settings?' --json-data '[]'
bad_answer "no data in the settings answer" 'GET /settings?limit=-1: expected an object in "data"' "$all" --match '/settings?' --sub '"data":' '"dota":'
bad_answer "null as an item" 'GET /roles?limit=-1: item 1 of "data" is not an object' "$all" --match '/roles?' --json-data '[null]'
bad_answer "items without ids" 'GET /flows?limit=-1: item 1 of "data" is without an id' "$all" --match '/flows?' --sub '"id":"[^"]*"' '"id":null'
bad_answer "numbers for the flows' names" 'GET /flows?limit=-1: item 1 (id ' pull --match '/flows?' --sub '"name":"[^"]*"' '"name":7'
bad_answer "an object for a role's name" '"name" is an object; expected a string' pull --match '/roles?' --sub '"name":"[^"]*"' '"name":{}'
bad_answer "an object for a map table" 'SyncID map: expected an array of rows for table flows' "$all" --match '/table/flows' --json-data '[]'
bad_answer "map rows without sync_id" 'SyncID map: row 1 of table flows has no sync_id' "$all" --match '/table/flows' --sub '"sync_id":"[^"]*"' '"sync_id":null'
bad_answer "null as a map row" 'SyncID map: row 1 of table flows is not an object' "$all" --match '/table/flows' --sub '^\[' '[null,'
bad_answer "an array for the schema diff" 'POST /schema/diff: HTTP 200: expected' "diff push" --match '/schema/diff' --json-data '[]'
bad_answer "a schema diff without diff" 'POST /schema/diff: HTTP 200: expected' "diff push" --match '/schema/diff' --json-data '{"hash":"x"}'
bad_answer "no data in the schema snapshot" 'GET /schema/snapshot: no snapshot object in the answer' pull --match '/schema/snapshot' --sub '"data":' '"dota":'
bad_answer "an array for the server info" 'GET /server/info: no version in the answer' "$all" --match '/server/info' --json-data '[]'
bad_answer "a body that is not JSON" 'GET /flows?limit=-1: HTTP 200: response is not JSON' "$all" --match '/flows?' --garbage
deep=$(printf '%*s' 50000 '' | tr ' ' '['; printf '%*s' 50000 '' | tr ' ' ']')
bad_answer "50000 nested arrays" 'GET /flows?limit=-1: HTTP 200: response is not JSON (line 1, column 10008: nesting too deep)' "$all" --match '/flows?' --sub '"data":' "\"deep\":$deep,\"data\":"
# About 10 MB: a 100-byte string grown tenfold five times.
MAX_MB=2 bad_answer "a 10 MB answer over --max-response-mb 2" 'GET /flows?limit=-1: the answer is larger than the limit of 2 MiB' "$all" --match '/flows?' \
	--sub '"data":' "\"pad\":\"$(printf '%*s' 100 '' | tr ' ' x)\",\"data\":" \
	--sub '(x{100,})' '\1\1\1\1\1\1\1\1\1\1' --sub '(x{1000,})' '\1\1\1\1\1\1\1\1\1\1' \
	--sub '(x{10000,})' '\1\1\1\1\1\1\1\1\1\1' --sub '(x{100000,})' '\1\1\1\1\1\1\1\1\1\1' \
	--sub '(x{1000000,})' '\1\1\1\1\1\1\1\1\1\1'
check "after the answers: the instance still agrees with the dump, nothing lost" same_counts "$URL" "$D"
"$DSYNCD" -u "$URL" -t "$TOKEN" diff --dump-path "$D" >"$T/out" 2>&1
rc=$?
check "... and dsyncd diff finds no difference (exit $rc)" test "$rc" = 0

# Not bad input: a null where Directus marks the column not nullable,
# which the API lets through (a flow made without an icon), is pulled as
# it is and compares clean, as directus-sync does.
nid=$(DX_URL=$URL dx_api POST /flows '{"name":"No icon","icon":null,"status":"inactive","trigger":"manual","options":{}}' | json_of 'd.data.id')
check "a flow with a null icon is made through the API" test "$(DX_URL=$URL dx_api GET "/flows/$nid?fields=icon" | json_of 'd.data.icon')" = null
"$DSYNCD" -u "$URL" -t "$TOKEN" pull --dump-path "$T/null-icon" >"$T/out" 2>&1
rc=$?
check "... a pull takes it (exit $rc)" test "$rc" = 0
check "... with its null icon" test "$(json_of 'd.find(f => f.name === "No icon").icon' <"$T/null-icon/collections/flows.json")" = null
"$DSYNCD" -u "$URL" -t "$TOKEN" diff --dump-path "$T/null-icon" >"$T/out" 2>&1
rc=$?
check "... and a diff of that pull finds nothing (exit $rc)" test "$rc" = 0
DX_URL=$URL dx_api DELETE "/flows/$nid" >/dev/null

# --- Configuration files: dsyncd -n -f (the check) and dsyncd -f (the
# daemon's start) exit 78, naming the file and line and the setting;
# the daemon creates no socket and no state directory.
C="$T/conf"
mkdir -p "$C"
printf '%s' "$TOKEN" >"$C/token"; chmod 600 "$C/token"
base() {
	printf 'directus = { url = "%s"; token_file = "token"; };\n' "$URL"
	printf 'dump_path = "%s";\nstate_dir = "%s/state";\n' "$D" "$C"
	printf 'control = { socket = "%s/ctl.sock"; };\n' "$C"
}
# bad_conf NAME FILE NEEDLE: both exit 78 with NEEDLE.
bad_conf() {
	local name=$1 file=$2 needle=$3 rc
	tried
	timeout 20 "$DSYNCD" -n -f "$file" >"$T/out" 2>&1
	rc=$?
	check "config, $name: dsyncd -n exits 78 (got $rc)" test "$rc" = 78
	if grep -qF -- "$needle" "$T/out"; then pass "config, $name: -n says: $needle"
	else sed -n 1,3p "$T/out" >&2; fail "config, $name: -n says: $needle"; fi
	rm -rf "$C/state" "$C/ctl.sock"
	timeout 20 "$DSYNCD" -f "$file" >"$T/out" 2>&1
	rc=$?
	check "config, $name: dsyncd -f exits 78 (got $rc)" test "$rc" = 78
	grep -qF -- "$needle" "$T/out" || fail "config, $name: the daemon says: $needle"
	check "config, $name: no socket, no state directory" test ! -e "$C/ctl.sock" -a ! -e "$C/state"
}
base >"$C/ok.conf"
check "config: the base file loads (dsyncd -n)" "$DSYNCD" -n -f "$C/ok.conf" >/dev/null
{ base; echo 'poll = { interval = "60"; };'; } >"$C/c.conf"
bad_conf "a string for poll.interval" "$C/c.conf" "c.conf:5: poll.interval must be a number of seconds from 1 to 86400"
{ echo 'directus = 5;'; echo "dump_path = \"$D\";"; } >"$C/c.conf"
bad_conf "a number for the directus group" "$C/c.conf" "c.conf:1: directus must be a group"
{ base; echo 'allow_deletes = "yes";'; } >"$C/c.conf"
bad_conf "a string for allow_deletes" "$C/c.conf" "c.conf:5: allow_deletes must be true or false"
{ base; echo 'max_delets = 3;'; } >"$C/c.conf"
bad_conf "an unknown key" "$C/c.conf" "c.conf:5: unknown setting 'max_delets' (did you mean 'max_deletes'?)"
{ base; echo 'poll = { intreval = 3.0; };'; } >"$C/c.conf"
bad_conf "an unknown key in a group" "$C/c.conf" "c.conf:5: unknown setting 'poll.intreval' (did you mean 'poll.interval'?)"
{ base; echo 'poll = { interval = 1e308; };'; } >"$C/c.conf"
bad_conf "interval = 1e308" "$C/c.conf" "c.conf:5: poll.interval must be a number of seconds from 1 to 86400"
{ base; echo 'max_deletes = 123456789012345678901234567890;'; } >"$C/c.conf"
bad_conf "a huge integer" "$C/c.conf" "c.conf:5: max_deletes: integer out of range"
{ base; printf 'collections_path = "%s";\n' "$(head -c 10485760 /dev/zero | tr '\0' x)"; } >"$C/c.conf"
bad_conf "a 10 MB string" "$C/c.conf" "c.conf:5: collections_path is too long (10485760 bytes; at most 8192)"
{ base; echo '@include "c.conf"'; } >"$C/c.conf"
bad_conf "an @include of itself" "$C/c.conf" "c.conf:5: @include \"c.conf\": an include loop: "
{ base; echo '@include "b.conf"'; } >"$C/c.conf"; echo '@include "c.conf"' >"$C/b.conf"
bad_conf "includes A -> B -> A" "$C/c.conf" "b.conf:1: @include \"c.conf\": an include loop: "
base >"$C/locked.conf"; chmod 000 "$C/locked.conf"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	# root reads any file: the check runs as nobody, who may not.
	tried
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$DSYNCD" -n -f "$C/locked.conf" >"$T/out" 2>&1
	rc=$?
	check "config, an unreadable file: exit 78 (got $rc)" test "$rc" = 78
	check "config, an unreadable file: says Permission denied" grep -qF "locked.conf: Permission denied" "$T/out"
else
	bad_conf "an unreadable file" "$C/locked.conf" "locked.conf: Permission denied"
fi
mkdir -p "$C/dir.conf"
bad_conf "a directory as the config" "$C/dir.conf" "dir.conf: not a regular file"
bad_conf "a config that does not exist" "$C/none.conf" "none.conf: No such file or directory"
{ base; printf 'poll = { interval = 10; };\nforce = = true;\n'; } >"$C/c.conf"
bad_conf "a syntax error" "$C/c.conf" "c.conf:6: syntax error"
base >"$C/c.conf"
chmod 644 "$C/token"
bad_conf "a world-readable token file" "$C/c.conf" "c.conf:1: $C/token: readable by other users (mode 0644); chmod 600 it"
rm -f "$C/token"
bad_conf "a missing token file" "$C/c.conf" "c.conf:1: $C/token: No such file or directory"
: >"$C/token"; chmod 600 "$C/token"
bad_conf "an empty token file" "$C/c.conf" "c.conf:1: $C/token: empty"
printf '%s' "$TOKEN" >"$C/token"
{ base | grep -v '^control'; printf 'control = { socket = "%s/%s/ctl.sock"; };\n' "$C" "$(printf '%*s' 120 '' | tr ' ' y)"; } >"$C/c.conf"
bad_conf "a socket path too long for sun_path" "$C/c.conf" "c.conf:4: control.socket is too long for a Unix socket (at most 107 bytes"

if same_counts "$URL" "$D"; then
	pass "after everything: the instance agrees with the dump"
	lost=0
else
	fail "after everything: the instance agrees with the dump"
	lost="some (see above)"
fi
echo "bad inputs tried: $ntried, items lost: $lost"
finish
