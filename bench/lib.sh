# Shared by the benchmarks: their usage line, read from the script's own
# opening comment (so that the two cannot drift), and their set-up: the
# release build they measure (DSYNC_BENCH_BUILD, default build-rel/, made
# when missing, brought up to date), and Directus and the reference CLI
# installed (tests/lib/directus.sh).
# shellcheck shell=bash
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# bench_usage: the "#   ...bench/NAME.sh [...]" line of the calling
# script's opening comment, on stderr; exits 1.
bench_usage() {
	sed -n "s|^#   \(.*bench/$(basename "$0")\)|usage: \1|p" "$0" >&2
	exit 1
}

# bench_setup: $build up to date, Directus installed.
bench_setup() {
	build="${DSYNC_BENCH_BUILD:-$top/build-rel}"
	[ -f "$build/build.ninja" ] || meson setup "$build" --buildtype=release >/dev/null
	ninja -C "$build" >/dev/null
	dx_install
}

# shellcheck source=../tests/lib/directus.sh
source "$top/tests/lib/directus.sh"
