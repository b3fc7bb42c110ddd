# Shared by the integration tests: paths, the dsyncd binary, and checks
# that print "PASS: name" or "FAIL: name" lines for tests/run to count.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${DSYNC_BUILD_DIR:-$top/build}
DSYNCD="$build/dsyncd"
# shellcheck source=../lib/directus.sh
source "$top/tests/lib/directus.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/dsync-it.XXXXXX")
it_cleanup() { dx_stop_all >/dev/null 2>&1 || true; rm -rf "$T"; }
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

finish() {
	[ "$nfail" -eq 0 ]
	exit $?
}
