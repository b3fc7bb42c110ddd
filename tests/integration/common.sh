# Shared by the integration tests: paths, the dsyncd binary, and checks
# that print "PASS: name" or "FAIL: name" lines for tests/run to count.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${DSYNC_BUILD_DIR:-$top/build}
DSYNCD="$build/dsyncd"
# shellcheck source=../lib/directus.sh
source "$top/tests/lib/directus.sh" || exit 1

T=$(mktemp -d "${TMPDIR:-/tmp}/dsync-it.XXXXXX")
# DSYNC_KEEP_T=1 keeps the test's temporary directory (printed) for a look.
it_cleanup() {
	dx_stop_all >/dev/null 2>&1 || true
	if [ -n "${DSYNC_KEEP_T:-}" ]; then echo "kept $T" >&2; else rm -rf "$T"; fi
}
trap it_cleanup EXIT
trap 'exit 130' INT TERM

nfail=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; nfail=$((nfail + 1)); }

# check NAME CMD...: passes when CMD exits 0.
check() {
	local name=$1; shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}

# Recursive comparison of two trees, printing the first differences.
same_tree() {
	local out
	if out=$(diff -r "$1" "$2" 2>&1); then return 0; fi
	printf '%s\n' "$out" | head -n 40 >&2
	return 1
}

# A fingerprint of a tree: every path, mode and content hash.
tree_sum() {
	(cd "$1" && find . -printf '%p %m %y\n' | LC_ALL=C sort &&
	 find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
}

# Copy a dump and put the same value in specs/openapi.json info.version,
# the one value Directus changes on every request.
norm_openapi() {
	local f="$1/specs/openapi.json"
	[ -f "$f" ] || return 0
	node -e '
const fs = require("fs"); const f = process.argv[1];
const v = JSON.parse(fs.readFileSync(f, "utf8"));
if (v.info) v.info.version = "normalised";
fs.writeFileSync(f, JSON.stringify(v, null, 2) + "\n");' "$f"
}

dsyncd() { "$DSYNCD" "$@"; }
# The tree's bridge to JavaScript configs, not an installed one.
export DSYNC_HOOK_BRIDGE="$top/daemon/hook-bridge.cjs"

# json_of JS: evaluates JS with d = the JSON read from standard input.
json_of() { node -pe "const d = JSON.parse(require('fs').readFileSync(0)); $1"; }
edit_json() { # FILE JS: apply JS (with a = the parsed array) and write back
	node -e '
const fs = require("fs"), f = process.argv[1]; const a = JSON.parse(fs.readFileSync(f));
(new Function("a", process.argv[2]))(a); fs.writeFileSync(f, JSON.stringify(a, null, 2) + "\n");' "$1" "$2"
}

# seed URL TOKEN: tests/lib/seed.mjs's configuration written into the
# instance; on failure its log is printed and the status returned.
seed() {
	node "$top/tests/lib/seed.mjs" --url "$1" --token "$2" >"$T/seed.log" 2>&1 ||
		{ cat "$T/seed.log"; return 1; }
}

# seeded_dump [dx_start's arguments]: a fresh seeded instance (URL,
# TOKEN, and NAME_* with --as NAME) pulled into $D ($T/dump), the
# starting point of most tests; ends the test when a step fails.
seeded_dump() {
	dx_install || exit 1
	dx_start "$@" || exit 1
	URL=$DX_URL TOKEN=$DX_TOKEN D="$T/dump"
	seed "$URL" "$TOKEN" || { fail "seed the instance"; finish; }
	dsyncd -u "$URL" -t "$TOKEN" pull --dump-path "$D" >"$T/pull0.log" 2>&1 ||
		{ cat "$T/pull0.log"; fail "the first pull"; finish; }
}

finish() {
	[ "$nfail" -eq 0 ]
	exit $?
}

# start_proxy UPSTREAM_URL ARGS...: the fault-injecting proxy in front of
# a real instance (tests/faults/proxy.py); sets PROXY_URL and PROXY_PID.
start_proxy() {
	local up=$1; shift
	: >"$T/proxy.port"
	python3 "$top/tests/faults/proxy.py" --upstream "${up#http://}" "$@" >"$T/proxy.port" 2>"$T/proxy.log" &
	PROXY_PID=$!
	for _ in $(seq 50); do [ -s "$T/proxy.port" ] && break; sleep 0.1; done
	PROXY_URL="http://127.0.0.1:$(head -1 "$T/proxy.port")"
}
stop_proxy() { kill "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null; : >"$T/proxy.port"; }

# activity URL: the number of rows in the instance's activity log.
activity() {
	DX_URL=$1 dx_api GET '/activity?aggregate[count]=id' |
		node -pe 'JSON.parse(require("fs").readFileSync(0)).data[0].count.id'
}

# same_counts URL DUMP: every collection of the dump has exactly as many
# items on the instance as in its file (no duplicates, nothing missing);
# presets count global and role presets only, settings is left out.
# The rows are counted, not aggregated: Directus 12 answers an aggregate
# of /permissions with its built-in rows (system, without an id).
same_counts() {
	local url=$1 dump=$2 c n m rc=0
	for c in folders translations flows operations roles policies permissions dashboards panels presets; do
		local q='limit=-1&fields=id'
		[ "$c" = presets ] && q="$q&filter[user][_null]=true"
		n=$(DX_URL=$url dx_api GET "/$c?$q" | node -pe 'JSON.parse(require("fs").readFileSync(0)).data.filter(r => r.id != null).length')
		m=$(node -pe 'JSON.parse(require("fs").readFileSync(process.argv[1])).length' "$dump/collections/$c.json")
		[ "$n" = "$m" ] || { echo "$c: $n on the instance, $m in the dump" >&2; rc=1; }
	done
	return $rc
}
