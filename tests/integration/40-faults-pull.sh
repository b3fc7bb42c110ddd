#!/usr/bin/env bash
# The fault matrix (issue 9, part 1) for the one-shot pull and diff: every
# kind of fault (faults-lib.sh: a refused connection, 500, 502, 503 and
# 429 with Retry-After, 431, 413, a stall past --request-timeout, a
# connection closed mid-body, truncated JSON, a body that is not JSON, 200
# with an error body, 200 with "data" an object, a string or null, the
# connection dropped after the request was sent) at several points of
# each: the first request, a list, a map table or the schema, and for a
# pull its first write (the map row of an item made in Directus). Each
# run must exit 1 naming the request and the fault, leave the dump tree
# byte for byte as it was with nothing staged, and print no token; a diff
# sends no write (the proxy's log). Afterwards a clean pull tracks every item
# once (no map row written twice by a run whose answer was lost).
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/faults-lib.sh"

seeded_dump
# The instance changes after the baseline, so that a pull that went on
# would rewrite files, and a diff would find differences.
flow=$(dx_api GET '/flows?limit=1&fields=id' | node -pe 'JSON.parse(require("fs").readFileSync(0)).data[0].id')
dx_api PATCH "/flows/$flow" '{"name":"Changed after the baseline"}' >/dev/null
dx_api PATCH /fields/articles/title '{"meta":{"note":"changed after the baseline"}}' >/dev/null
tree_sum "$D" >"$T/before"

# unchanged NAME: the dump tree as it was, nothing staged.
unchanged() {
	tree_sum "$D" >"$T/after"
	check "$1: the dump tree byte for byte as it was" cmp -s "$T/before" "$T/after"
	check "$1: nothing staged" test ! -e "$D/.dsync-staging"
}

# point CMD INDEX KIND -> PNAME, PARGS (the proxy's match), PRE (what the
# error names). Points cycle so that each fault meets several.
# Per kind i: the pull at the first request (i even) or a list (i odd),
# a late read and its first write; the diff at the other of the first
# two and a late read. Late reads alternate between a map table and the
# schema (the snapshot for a pull, /schema/diff for a diff).
point() {
	local cmd=$1 p=$2 i=$3 d=0
	[ "$cmd" = diff ] && d=1
	case $p in
	first) PARGS=(--match /server/info); PRE="GET /server/info" ;;
	list) if [ "$cmd" = pull ]; then PARGS=(--match "/flows?limit"); PRE="GET /flows\?limit=-1"
		else PARGS=(--match "/permissions?limit"); PRE="GET /permissions\?limit=-1"; fi ;;
	late) if [ $(((i / 2 + d) % 2)) = 0 ]; then
			PARGS=(--method GET --match /directus-extension-sync/table/flows)
			PRE="(GET /directus-extension-sync/table/flows|SyncID map: .*table flows)"
		elif [ "$cmd" = pull ]; then PARGS=(--match /schema/snapshot); PRE="GET /schema/snapshot"
		else PARGS=(--match /schema/diff); PRE="POST /schema/diff"; fi ;;
	write) PARGS=(--method POST --match /directus-extension-sync/table/flows)
		PRE="POST /directus-extension-sync/table/flows" ;;
	esac
	PNAME=$p
}

made=()		# flows made in Directus for the write points
i=0
for kind in "${FAULT_KINDS[@]}"; do
	for cmd in pull diff; do
		if [ $((i % 2)) = 0 ]; then pts=(first late write); else pts=(list late write); fi
		if [ "$cmd" = diff ]; then
			if [ $((i % 2)) = 0 ]; then pts=(list late); else pts=(first late); fi
		fi
		for p in "${pts[@]}"; do
			point "$cmd" "$p" "$i"
			name="$cmd-$kind-at-$PNAME"
			if [ "$p" = write ]; then
				# An item made in Directus: the pull gives it a map row.
				id=$(dx_api POST /flows "{\"name\":\"Made in Directus $i\",\"icon\":\"bolt\",\"color\":\"#6644FF\",\"status\":\"active\",\"trigger\":\"manual\",\"accountability\":\"all\"}" |
					node -pe 'JSON.parse(require("fs").readFileSync(0)).data.id')
				made+=("$id")
			fi
			FAULT_RC=1
			if [ "$kind" = refused ] && [ "$p" = first ]; then
				# Nothing listens: the connection itself is refused.
				fault_spec refused
				purl="http://127.0.0.1:$(free_port)"
				faulted_run "$name" refused "GET /server/info" -u "$purl" -t "$TOKEN" "$cmd" --dump-path "$D"
				FAULTS_INJECTED=$((FAULTS_INJECTED + 1))
			else
				fault_spec "$kind"
				fproxy "$URL" "${PARGS[@]}" "${FARGS[@]}"
				faulted_run "$name" "$kind" "$PRE" -u "$PROXY_URL" -t "$TOKEN" "$cmd" --dump-path "$D"
				check "$name: the fault was injected" injected
				[ "$cmd" = diff ] && check "$name: the diff sent no write" \
					bash -c '! grep -Ev "^(GET |POST /schema/diff )" "$1"' _ "$T/flog"
				funproxy
			fi
			unchanged "$name"
		done
	done
	i=$((i + 1))
done

# A clean pull now: every item tracked once, the items made in Directus
# too (a map row whose answer was lost is not written twice).
dsyncd -u "$URL" -t "$TOKEN" pull --dump-path "$D" >"$T/clean.log" 2>&1
check "a clean pull after the faults succeeds" test $? = 0
check "... every item of the instance tracked once, nothing missing" instance_ok "$URL" "$D"
n=$(node -pe 'JSON.parse(require("fs").readFileSync(process.argv[1])).filter(f => f.name.startsWith("Made in Directus ")).length' "$D/collections/flows.json")
check "... the ${#made[@]} flows made in Directus are in the dump once each ($n)" test "$n" = "${#made[@]}"
dsyncd -u "$URL" -t "$TOKEN" diff --dump-path "$D" >"$T/clean-diff.log" 2>&1
check "... and a diff finds nothing (exit 0)" test $? = 0

echo "faults injected: $FAULTS_INJECTED in $FAULT_RUNS runs (pull and diff), items lost: $( [ "$nfail" = 0 ] && echo 0 || echo 'see failures')"
finish
