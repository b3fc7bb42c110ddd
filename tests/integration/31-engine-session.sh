#!/usr/bin/env bash
# The engine as the daemon will run it (tests/integration/drive.c): one
# session across many runs with the request count of each run right, a
# login session across access-token expiry (early renewal, and the 401
# TOKEN_EXPIRED path), a diff that writes nothing to the instance, and
# runs cancelled from another thread that stop at once and leave the tree
# and the instance as the crash-safety rules promise.
source "$(dirname "$0")/common.sh"
DRIVE="$build/tests/dsync-drive"

seeded_dump --as SRC

# lines FILE: the number of requests a counting proxy logged.
lines() { wc -l <"$1" | tr -d ' '; }
# field JSONLINE NAME
field() { node -pe 'const o = JSON.parse(process.argv[1]); String(o[process.argv[2]])' "$1" "$2"; }

# --- One session, many runs: each run counts its own requests, the same
# as the one-shot command makes.
declare -A ONE
for cmd in pull diff push; do
	start_proxy "$SRC_URL" --log "$T/one-$cmd.log"
	dsyncd -u "$PROXY_URL" -t "$SRC_TOKEN" "$cmd" --dump-path "$D" >"$T/one-$cmd.out" 2>&1
	stop_proxy
	ONE[$cmd]=$(lines "$T/one-$cmd.log")
done
start_proxy "$SRC_URL" --log "$T/session.log"
"$DRIVE" --url "$PROXY_URL" --token "$SRC_TOKEN" --dump "$D" pull diff push diff >"$T/session.out" 2>"$T/session.err"
stop_proxy
mapfile -t R <"$T/session.out"
check "session: four runs reported" test "${#R[@]}" = 4
sum=0 i=0
for cmd in pull diff push diff; do
	r=${R[$i]:-'{}'}
	n=$(field "$r" requests)
	check "session run $((i + 1)) ($cmd) succeeds" test "$(field "$r" result)" = ok
	# After the first run, the session knows the instance's version and
	# whether the extension answers: two requests fewer.
	want=${ONE[$cmd]}
	[ "$i" -gt 0 ] && want=$((want - 2))
	check "session run $((i + 1)) ($cmd) counts its own requests: $n, the one-shot $cmd's ${ONE[$cmd]}$([ "$i" -gt 0 ] && echo ' less the 2 the session remembers')" test "$n" = "$want"
	sum=$((sum + n)) i=$((i + 1))
done
check "session: the runs' counts add up to what the proxy saw ($sum, $(lines "$T/session.log"))" test "$sum" = "$(lines "$T/session.log")"

# --- A plan of a dump read from elsewhere (a base, a checkout of a
# commit), of some collections and without the schema: it reads only what
# those need, and does not touch or lock the dump tree.
B="$T/elsewhere"; cp -r "$D" "$B"
node -e '
const fs = require("fs"), f = process.argv[1] + "/collections/flows.json";
const a = JSON.parse(fs.readFileSync(f)); a[0].name = "Only in the copy";
fs.writeFileSync(f, JSON.stringify(a, null, 2) + "\n");' "$B"
tree_sum "$D" >"$T/d-before-plan"
start_proxy "$SRC_URL" --log "$T/plan.log"
flock "$D" "$DRIVE" --url "$PROXY_URL" --token "$SRC_TOKEN" --dump "$D" "plan:$B:flows:noschema" >"$T/plan.out" 2>&1
stop_proxy
r=$(head -1 "$T/plan.out")
check "plan of another dump root, while the dump tree is locked: ok ($(field "$r" error))" test "$(field "$r" result)" = ok
check "... its summary has the copy's one update of flows" test "$(node -pe 'const s = JSON.parse(process.argv[1]).summary; `${s.changes} ${s.collections.flows.update} ${s.collections.flows.first[0].name} ${Object.keys(s.collections)} ${s.schema}`' "$r")" = "1 1 Only in the copy flows null"
check "... it read no other collection's list" bash -c "! grep -E '^GET /(roles|policies|permissions|presets|panels|settings|folders|translations|dashboards)\?' '$T/plan.log'"
check "... and no schema" bash -c "! grep -q '/schema/' '$T/plan.log'"
check "... but the map tables the flows point into" grep -q '^GET /directus-extension-sync/table/operations ' "$T/plan.log"
tree_sum "$D" >"$T/d-after-plan"
check "... and the dump tree is as it was" cmp -s "$T/d-before-plan" "$T/d-after-plan"

# --- A diff writes nothing: only GETs and the schema diff (a POST that
# reads), and the activity log does not move; on an instance that has
# never been pushed to (where directus-sync's diff records map rows).
dx_start --as NEW || exit 1
before=$(activity "$NEW_URL")
start_proxy "$NEW_URL" --log "$T/diff-new.log"
dsyncd -u "$PROXY_URL" -t "$NEW_TOKEN" diff --dump-path "$D" >"$T/diff-new.out" 2>&1
rc=$?
stop_proxy
check "diff on a fresh instance: exit 2 (got $rc)" test "$rc" = 2
after=$(activity "$NEW_URL")
check "diff on a fresh instance: activity log unchanged ($before -> $after)" test "$before" = "$after"
writes=$(grep -Ev '^GET |^POST /schema/diff ' "$T/diff-new.log" || true)
if [ -z "$writes" ]; then pass "diff on a fresh instance: only reads ($(lines "$T/diff-new.log") requests)"
else printf '%s\n' "$writes" | head; fail "diff on a fresh instance: only reads"; fi
check "diff: no cache clear" bash -c "! grep -q '/utils/cache/clear' '$T/diff-new.log'"
check "the one-shot diff of the session test made only reads too" bash -c "! grep -Ev '^GET |^POST /schema/diff ' '$T/one-diff.log'"
check "... and push clears the cache before it reads" grep -q '^POST /utils/cache/clear ' "$T/one-push.log"

# --- Login session across expiry: access tokens of 6 s, renewed when
# less than 1.2 s is left. Each run takes less than that, so a session
# that renews early is never refused; the sleeps bring the token near,
# then past, its expiry between runs.
DX_EXTRA_ENV="ACCESS_TOKEN_TTL=6s" dx_start --as EXP || exit 1
seed "$EXP_URL" "$EXP_TOKEN" || fail "seed the 6 s instance"
E="$T/exp-dump"
dsyncd -u "$EXP_URL" -t "$EXP_TOKEN" pull --dump-path "$E" >/dev/null 2>&1 || fail "first pull of the 6 s instance"
start_proxy "$EXP_URL" --log "$T/exp.log"
"$DRIVE" --url "$PROXY_URL" --email "$EXP_EMAIL" --password "$EXP_PASSWORD" --dump "$E" \
	pull sleep:4.5 diff sleep:7 push diff >"$T/exp.out" 2>"$T/exp.err"
stop_proxy
mapfile -t R <"$T/exp.out"
ok=0
for r in "${R[@]}"; do [ "$(field "$r" result)" = ok ] && ok=$((ok + 1)); done
check "login session across expiry: all 4 runs succeed ($ok)" test "$ok" = 4
check "login session: the token was renewed before it expired (POST /auth/refresh)" grep -q '^POST /auth/refresh 200' "$T/exp.log"
check "login session: no request was refused" bash -c "! grep -q ' 401$' '$T/exp.log'"
last=${R[3]:-'{}'}
check "login session: renewals counted ($(field "$last" renewals))" test "$(field "$last" renewals)" -ge 2
# Without early renewal, the expired token meets a 401 TOKEN_EXPIRED: the
# session renews and sends the refused calls again.
start_proxy "$EXP_URL" --log "$T/exp401.log"
"$DRIVE" --no-early-renewal --url "$PROXY_URL" --email "$EXP_EMAIL" --password "$EXP_PASSWORD" --dump "$E" \
	diff sleep:7 diff >"$T/exp401.out" 2>"$T/exp401.err"
stop_proxy
mapfile -t R <"$T/exp401.out"
second=${R[1]:-'{}'}
check "401 TOKEN_EXPIRED: the second diff succeeds ($(field "$second" error))" test "$(field "$second" result)" = ok
check "401 TOKEN_EXPIRED: the instance did refuse the expired token" grep -q ' 401$' "$T/exp401.log"
check "401 TOKEN_EXPIRED: then the session renewed" bash -c "sed -n '/ 401\$/,\$p' '$T/exp401.log' | grep -q '^POST /auth/refresh 200'"
check "401 TOKEN_EXPIRED: the refused request was sent again" bash -c "
	first=\$(grep ' 401\$' '$T/exp401.log' | head -1 | cut -d' ' -f1,2)
	sed -n '/ 401\$/,\$p' '$T/exp401.log' | grep -F \"\$first 200\" >/dev/null"
check "no password or token in the driver's output" bash -c "! grep -qF -- '$EXP_PASSWORD' '$T/exp.out' '$T/exp.err' '$T/exp401.out' '$T/exp401.err'"

# --- Cancel from another thread, in the middle of a pull: the run says
# "cancelled", starts no request after the flag, and the tree is the old
# one (the instance has changed, so the pull had files to write).
dx_api_src() { DX_URL=$SRC_URL dx_api "$@"; }
flow=$(dx_api_src GET '/flows?limit=1&fields=id' | node -pe 'JSON.parse(require("fs").readFileSync(0)).data[0].id')
dx_api_src PATCH "/flows/$flow" '{"name":"Renamed while pulling"}' >/dev/null
tree_sum "$D" >"$T/before-cancel"
"$DRIVE" --url "$SRC_URL" --token "$SRC_TOKEN" --dump "$D" cancel-pull:5 >"$T/cancel-pull.out" 2>&1
r=$(head -1 "$T/cancel-pull.out")
check "cancelled pull: the result is cancelled, not a failure ($(field "$r" result))" test "$(field "$r" result)" = cancelled
check "cancelled pull: no request started after the cancel ($(field "$r" started_after_cancel))" test "$(field "$r" started_after_cancel)" = 0
tree_sum "$D" >"$T/after-cancel"
check "cancelled pull: the tree is the old one, byte for byte" cmp -s "$T/before-cancel" "$T/after-cancel"
check "cancelled pull: no staging left" test ! -e "$D/.dsync-staging"
"$DRIVE" --url "$SRC_URL" --token "$SRC_TOKEN" --dump "$D" pull >"$T/repull.out" 2>&1
check "the next pull brings the change" grep -q "Renamed while pulling" "$D/collections/flows.json"

# ... and of a push into a fresh instance: cancelled, then a rerun
# converges with nothing duplicated.
dx_start --as CUT || exit 1
cut_before=$(activity "$CUT_URL")
"$DRIVE" --url "$CUT_URL" --token "$CUT_TOKEN" --dump "$D" cancel-push:40 >"$T/cancel-push.out" 2>&1
r=$(head -1 "$T/cancel-push.out")
check "cancelled push: the result is cancelled ($(field "$r" result): $(field "$r" error))" test "$(field "$r" result)" = cancelled
check "cancelled push: no request started after the cancel ($(field "$r" started_after_cancel))" test "$(field "$r" started_after_cancel)" = 0
cut_after=$(activity "$CUT_URL")
check "cancelled push: it had written ($cut_before -> $cut_after activity rows)" test "$cut_after" -gt "$cut_before"
dsyncd -u "$CUT_URL" -t "$CUT_TOKEN" diff --dump-path "$D" >/dev/null 2>&1
check "cancelled push: it stopped before the end (diff exits 2)" test $? = 2
dsyncd -u "$CUT_URL" -t "$CUT_TOKEN" push --dump-path "$D" >"$T/cut-rerun.log" 2>&1
check "the push after a cancel converges" test $? = 0
dsyncd -u "$CUT_URL" -t "$CUT_TOKEN" diff --dump-path "$D" >/dev/null 2>&1
check "after the rerun: diff exits 0" test $? = 0
check "after the rerun: no duplicates, nothing missing" same_counts "$CUT_URL" "$D"

finish
