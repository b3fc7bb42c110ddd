#!/usr/bin/env bash
# bench/seed-large.sh: a Directus 11.11.0 instance seeded at benchmark scale.
#
#   bench/seed-large.sh [--scale N] [--ref-pull DIR] [--hold] [--no-extension]
#   bench/seed-large.sh --url URL --token TOKEN [--scale N]   (seed an existing instance)
#
#   --scale N       seed.mjs scale (default 20: about 1,650 synced items, 46 collections, 435 fields)
#   --ref-pull DIR  afterwards time the reference CLI (directus-sync 3.4.1) pulling into DIR
#   --hold          keep the instance running until Ctrl-C (prints its URL; the admin
#                   token is in the cache's credentials file, never printed)
# The instance is stopped on exit (tests/lib/directus.sh EXIT trap).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../tests/lib/directus.sh
source "$root/tests/lib/directus.sh"

scale=20 url='' token='' refpull='' hold=0 startargs=()
while (($#)); do
	case $1 in
	--scale) scale=$2; shift ;;
	--url) url=$2; shift ;;
	--token) token=$2; shift ;;
	--ref-pull) refpull=$2; shift ;;
	--hold) hold=1 ;;
	--no-extension) startargs+=(--no-extension) ;;
	-h | --help) sed -n '2,13p' "$0"; exit 0 ;;
	*) echo "seed-large.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }

if [[ -z $url ]]; then
	t=$(now)
	dx_start ${startargs[@]+"${startargs[@]}"}
	echo "instance: $DX_URL (pid $DX_PID, dir $DX_DIR) started in $(since "$t")s"
	url=$DX_URL token=$DX_TOKEN
elif [[ -z $token ]]; then
	echo "seed-large.sh: --url needs --token" >&2
	exit 2
fi

t=$(now)
node "$root/tests/lib/seed.mjs" --url "$url" --token "$token" --scale "$scale"
echo "seed: $(since "$t")s"

if [[ -n $refpull ]]; then
	rm -rf "$refpull"
	t=$(now)
	dx_cli -u "$url" -t "$token" pull --dump-path "$refpull" >"$refpull.log" 2>&1 ||
		{ tail -n 30 "$refpull.log" >&2; exit 1; }
	echo "reference pull: $(since "$t")s ($(cat "$refpull"/collections/*.json | jq -s 'map(length) | add') items; log $refpull.log)"
fi

if ((hold)) && [[ -n ${DX_PID:-} ]]; then
	echo "holding $DX_URL; admin token: the DX_TOKEN line of $DX_TEMPLATE/credentials. Ctrl-C to stop."
	while _dx_alive "$DX_PID"; do sleep 1; done
fi
