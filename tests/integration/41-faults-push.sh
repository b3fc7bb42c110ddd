#!/usr/bin/env bash
# The fault matrix (issue 9, part 1) for the one-shot push: every kind of
# fault (faults-lib.sh) at a read (the first request, the cache clear
# before the reads, a list, the schema diff) and at two writes (a map
# row, an item created with a uuid or an integer key, an update, a
# delete, a map row's delete), pushing one way and back between two dumps
# that differ by a rename, a new flow, a new permission and a deleted
# translation. A push that fails at a read must leave Directus as it was
# (its activity log did not move); one that fails at a write must be
# completed by a clean rerun without duplicates: every item tracked once,
# nothing missing, the untracked flow made by hand still there. The
# dumps are never written. Then the connection dropped after each kind
# of write was sent (the write happened, its answer was lost): dsyncd
# sends it once, and the rerun does not apply it twice.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/faults-lib.sh"

seeded_dump
# An item made by hand after the pull: untracked, never to be touched.
UNTR=$(dx_api POST /flows '{"name":"Made by hand","icon":"bolt","color":"#6644FF","status":"active","trigger":"manual","accountability":"all"}' |
	node -pe 'JSON.parse(require("fs").readFileSync(0)).data.id')
E="$T/edited"
cp -r "$D" "$E"
node -e '
const fs = require("fs"), d = process.argv[1] + "/collections/";
const rd = f => JSON.parse(fs.readFileSync(d + f)), wr = (f, a) => fs.writeFileSync(d + f, JSON.stringify(a, null, 2) + "\n");
const f = rd("flows.json"); f[0].name = "Renamed in the dump";
const nf = JSON.parse(JSON.stringify(f[1])); nf._syncId = "88888888-0000-4000-8000-000000000001"; nf.name = "New in the dump"; nf.operation = null;
f.push(nf); wr("flows.json", f);
const p = rd("permissions.json"), np = JSON.parse(JSON.stringify(p[0]));
np._syncId = "88888888-0000-4000-8000-000000000002"; np.collection = "directus_files"; np.action = "share";
p.push(np); wr("permissions.json", p);
const t = rd("translations.json"); t.pop(); wr("translations.json", t);' "$E"
tree_sum "$D" >"$T/sum-D"
tree_sum "$E" >"$T/sum-E"
check "the instance is the dump at the start" instance_ok "$URL" "$D" --untracked "flows:$UNTR"

cur=D		# the dump the instance holds now
other() { [ "$cur" = D ] && echo E || echo D; }
dir_of() { [ "$1" = D ] && echo "$D" || echo "$E"; }

# rpoint NAME: a read point; wpoint NAME TARGET: a write point of a push
# to TARGET. Both set PARGS (the proxy's match) and PRE (what the error
# names); wpoint fails when the push has no such write.
rpoint() {
	case $1 in
	first) PARGS=(--match /server/info); PRE="GET /server/info" ;;
	cache) PARGS=(--match /utils/cache/clear); PRE="POST /utils/cache/clear" ;;
	list) PARGS=(--match "/permissions?limit"); PRE="GET /permissions\?limit=-1" ;;
	schema) PARGS=(--match /schema/diff); PRE="POST /schema/diff" ;;
	esac
}
wpoint() {
	case $1/$2 in
	mapadd/*) PARGS=(--method POST --match /directus-extension-sync/table/)
		PRE="POST /directus-extension-sync/table/(flows|translations)" ;;
	create/E) PARGS=(--method POST --match /flows --after 2); PRE="POST /flows" ;;
	create/D) PARGS=(--method POST --match /translations --after 2); PRE="POST /translations" ;;
	intcreate/E) PARGS=(--method POST --match /permissions); PRE="POST /permissions" ;;
	update/*) PARGS=(--method PATCH); PRE="PATCH /flows/" ;;
	delete/E) PARGS=(--method DELETE); PRE="DELETE /translations/" ;;
	delete/D) PARGS=(--method DELETE); PRE="DELETE /permissions/" ;;
	mapdel/*) PARGS=(--method DELETE --match /sync_id/); PRE="DELETE /directus-extension-sync/table/" ;;
	*) return 1 ;;
	esac
}

# A write point for kind index i (the second of its two): creates,
# updates and deletes in turn; faults that cut or rewrite a body go where
# the answer has one (a delete answers 204), and a forged "data" not to a
# map row's delete, whose answer dsync does not read (a row that stays
# dangles, and the next push removes it).
later_write() {
	local kind=$1 i=$2 t=$3 cands
	case $kind in
	mid-body|trunc-json) cands=(create update) ;;
	data-*|error-body|bad-json) cands=(create update delete) ;;
	*) cands=(create update delete mapdel) ;;
	esac
	[ "$t" = E ] && [ "${cands[0]}" = create ] && [ $((i % 3)) = 0 ] && { echo intcreate; return; }
	echo "${cands[$((i % ${#cands[@]}))]}"
}

# read_case NAME KIND: the push fails at a read; Directus unchanged.
read_case() {
	local name=$1 kind=$2 t a0 a1 purl
	t=$(other)
	a0=$(act_count)
	if [ "$kind" = refused ] && [ "${PARGS[1]}" = /server/info ]; then
		purl="http://127.0.0.1:$(free_port)"
		faulted_run "$name" refused "$PRE" -u "$purl" -t "$TOKEN" push --dump-path "$(dir_of "$t")"
		FAULTS_INJECTED=$((FAULTS_INJECTED + 1))
	else
		fault_spec "$kind"
		fproxy "$URL" "${PARGS[@]}" "${FARGS[@]}"
		faulted_run "$name" "$kind" "$PRE" -u "$PROXY_URL" -t "$TOKEN" push --dump-path "$(dir_of "$t")"
		check "$name: the fault was injected" injected
		funproxy
	fi
	a1=$(act_count)
	check "$name: Directus as it was (activity rows $a0 -> $a1)" test "$a0" = "$a1"
	tree_sum "$(dir_of "$t")" >"$T/sum-now"
	check "$name: the dump byte for byte as it was" cmp -s "$T/sum-$t" "$T/sum-now"
}

# write_case NAME KIND [ONCE_RE]: the push fails at a write; a clean
# rerun completes it without duplicates. With ONCE_RE, the proxy's log
# must hold that write exactly once (dsyncd did not send it again).
write_case() {
	local name=$1 kind=$2 once=${3:-} t n
	t=$(other)
	fault_spec "$kind"
	fproxy "$URL" "${PARGS[@]}" "${FARGS[@]}" --count 1
	faulted_run "$name" "$kind" "$PRE" -u "$PROXY_URL" -t "$TOKEN" push --dump-path "$(dir_of "$t")"
	check "$name: the fault was injected" injected
	if [ -n "$once" ]; then
		n=$(grep -Ec "$once" "$T/flog")
		check "$name: the write was sent once ($n)" test "$n" = 1
	fi
	funproxy
	tree_sum "$(dir_of "$t")" >"$T/sum-now"
	check "$name: the dump byte for byte as it was" cmp -s "$T/sum-$t" "$T/sum-now"
	dsyncd -u "$URL" -t "$TOKEN" push --dump-path "$(dir_of "$t")" >"$T/$name.rerun.log" 2>&1
	check "$name: a clean rerun completes the push" test $? = 0
	check "$name: ... no duplicates, nothing missing, the untracked flow kept" \
		instance_ok "$URL" "$(dir_of "$t")" --untracked "flows:$UNTR"
	cur=$t
}

# The read point of kind i: in turn; the cache clear only for faults
# that it notices (its answer is empty and not read: a body cut or
# replaced changes nothing there).
reads=(first cache list schema)
i=0
for kind in "${FAULT_KINDS[@]}"; do
	r=${reads[$((i % 4))]}
	case $kind/$r in mid-body/cache|trunc-json/cache|data-*/cache) r=list ;; esac
	rpoint "$r"
	read_case "push-$kind-at-$r" "$kind"
	wpoint mapadd "$(other)"
	write_case "push-$kind-at-mapadd-to-$(other)" "$kind"
	w=$(later_write "$kind" "$i" "$(other)")
	if ! wpoint "$w" "$(other)"; then w=update; wpoint update "$(other)"; fi
	write_case "push-$kind-at-$w-to-$(other)" "$kind"
	i=$((i + 1))
done

# Lost answers: the write happened, the connection dropped before its
# answer. Each kind of write once, both ways.
for w in mapadd create intcreate update delete mapdel create; do
	wpoint "$w" "$(other)" || continue
	case $w in
	mapadd) once="^POST /directus-extension-sync/table/(flows|translations) " ;;
	create|intcreate) once="^$PRE " ;;
	update|delete) once="^$PRE" ;;
	mapdel) once="^DELETE /directus-extension-sync/table/[a-z]+/sync_id/" ;;
	esac
	write_case "lost-answer-$w-to-$(other)" drop "$once"
done

# The end: the instance holds the last dump pushed, and a diff agrees.
dsyncd -u "$URL" -t "$TOKEN" diff --dump-path "$(dir_of "$cur")" >"$T/final-diff.log" 2>&1
check "after all the faults, a diff against the last dump pushed finds nothing (exit 0)" test $? = 0
echo "faults injected: $FAULTS_INJECTED in $FAULT_RUNS pushes, items lost: $( [ "$nfail" = 0 ] && echo 0 || echo 'see failures')"
finish
