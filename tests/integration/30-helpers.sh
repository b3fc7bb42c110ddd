#!/usr/bin/env bash
# dsyncd helpers: wait-server-ready, untrack (both map backends),
# remove-permission-duplicates (keep first, keep last, none).
# versions: base 12
source "$(dirname "$0")/common.sh"

dx_install || exit 1
dx_start --as EXT || exit 1
dx_start --no-extension --as COL || exit 1

check "wait-server-ready: a running instance" dsyncd -u "$EXT_URL" helpers wait-server-ready --interval 0.2
check "wait-server-ready: with a token given" dsyncd -u "$EXT_URL" -t "$EXT_TOKEN" helpers wait-server-ready --interval 0.2 --timeout 5
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
dsyncd -u "http://127.0.0.1:$port" helpers wait-server-ready --interval 0.2 --timeout 1 >"$T/wait.log" 2>&1
check "wait-server-ready: nothing listening: exit 1" test $? = 1
check "wait-server-ready: says it timed out" grep -q "Timeout waiting for server to be ready after 1s" "$T/wait.log"

# untrack NAME URL TOKEN: a pulled role loses its map row, and the next
# pull gives it a new SyncID.
untrack_case() {
	local name=$1 url=$2 token=$3
	DX_URL=$url dx_api POST /roles '{"name":"Untrack me"}' >/dev/null
	local d="$T/$name"
	dsyncd -u "$url" -t "$token" pull --dump-path "$d" -o roles >/dev/null 2>&1 || { fail "$name: pull"; return; }
	local lid sid1 sid2
	lid=$(DX_URL=$url dx_api GET '/roles?filter[name][_eq]=Untrack%20me&fields=id' | node -pe 'JSON.parse(require("fs").readFileSync(0)).data[0].id')
	sid1=$(node -pe 'JSON.parse(require("fs").readFileSync(process.argv[1])).find(r => r.name === "Untrack me")._syncId' "$d/collections/roles.json")
	check "$name: untrack exits 0" dsyncd -u "$url" -t "$token" helpers untrack --collection roles --id "$lid"
	dsyncd -u "$url" -t "$token" pull --dump-path "$d" -o roles >/dev/null 2>&1
	sid2=$(node -pe 'JSON.parse(require("fs").readFileSync(process.argv[1])).find(r => r.name === "Untrack me")._syncId' "$d/collections/roles.json")
	check "$name: a new SyncID after untrack ($sid1 -> $sid2)" test -n "$sid2" -a "$sid1" != "$sid2"
	dsyncd -u "$url" -t "$token" helpers untrack --collection roles --id no-such-id >"$T/$name-none.log" 2>&1
	check "$name: untrack of an untracked id: exit 0" test $? = 0
	check "$name: untrack of an untracked id: says so" grep -q "no map row" "$T/$name-none.log"
}
untrack_case untrack-extension "$EXT_URL" "$EXT_TOKEN"
untrack_case untrack-collection "$COL_URL" "$COL_TOKEN"

# Duplicates: three rows for one (policy, collection, action), one for
# another action.
pol=$(DX_URL=$EXT_URL dx_api POST '/policies?fields=id' '{"name":"Dup policy","app_access":true}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).data.id')
# mk ACTION FIELD: a permission of that action, on FIELD (every field on
# Directus 12, whose Core license takes no field lists).
mk() {
	local f="\"$2\""
	[ "$DX_MAJOR" -ge 12 ] && f='"*"'
	DX_URL=$EXT_URL dx_api POST '/permissions?fields=id' "{\"policy\":\"$pol\",\"collection\":\"directus_files\",\"action\":\"$1\",\"fields\":[$f]}" |
		node -pe 'JSON.parse(require("fs").readFileSync(0)).data.id'
}
a=$(mk read id); b=$(mk read title); c=$(mk read type); u=$(mk update id)
ids() { DX_URL=$EXT_URL dx_api GET "/permissions?filter[policy][_eq]=$pol&fields=id&sort=id" | node -pe 'JSON.parse(require("fs").readFileSync(0)).data.map(p => p.id).join(",")'; }
check "remove-permission-duplicates --keep first" dsyncd -u "$EXT_URL" -t "$EXT_TOKEN" helpers remove-permission-duplicates --keep first
check "keep first: the first read row and the update row remain" test "$(ids)" = "$a,$u"
b=$(mk read title); c=$(mk read type)
check "remove-permission-duplicates (keep last by default)" dsyncd -u "$EXT_URL" -t "$EXT_TOKEN" helpers remove-permission-duplicates
check "keep last: the last read row and the update row remain" test "$(ids)" = "$u,$c"
dsyncd -u "$EXT_URL" -t "$EXT_TOKEN" helpers remove-permission-duplicates >"$T/nodup.log" 2>&1
check "no duplicates: exit 0" test $? = 0
check "no duplicates: says so" grep -q "No duplicates" "$T/nodup.log"
dsyncd -u "$EXT_URL" -t "$EXT_TOKEN" helpers no-such-helper >"$T/bad.log" 2>&1
check "unknown helper: exit 1" test $? = 1
check "unknown helper: named" grep -q "unknown helper 'no-such-helper'" "$T/bad.log"
finish
