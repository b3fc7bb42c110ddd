#!/usr/bin/env bash
# Crash safety: dsyncd killed with SIGKILL at random moments, DSYNC_KILLS
# times (default 10; the long run is DSYNC_KILLS=50), cycling through four
# modes, each slowed down by the fault proxy's --delay so that the kill
# lands in the middle of the run:
#   pull         a one-shot pull after changes in Directus (--no-specs).
#                Once the next lock-taking command (dsyncd diff) has run,
#                the tree is byte for byte the old one or the new one (a
#                complete pull of the same instance state into a copy), no
#                .dsync-staging nor temporary file is left, and a rerun
#                gives the new one.
#   push         a one-shot push of a tree edited in three collections with
#                a new item, nothing deleted: a rerun converges (diff exits
#                0), no duplicates, every edit on the instance.
#   daemon-sync  the daemon both ways (policy sync, git.commit on): paused,
#                a tree edit and a rename in Directus, resumed, killed
#                inside the job; restarted with the same configuration and
#                state directory: both changes crossed, no duplicates, the
#                base's meta.json parses, one commit names the rename, no
#                staging or temporary file in the tree or in the base.
#   daemon-push  the daemon under policy push (git wins), tree edits and a
#                new item, killed during the push; the restart converges.
# Each delay is a random fraction of the mode's range: a pull's is the time
# the complete pull into the copy took, a push's the time a diff through
# the proxy took plus 1 s for the writes, a daemon job's 3.1 s (sync) or
# 3.3 s (push) from the resume (the whole job, at the proxy's pace). The
# fractions come from $RANDOM seeded with DSYNC_KILL_SEED (printed: set it
# to replay a run). Each kill is logged with its mode, delay and what the
# run had done; the last line is "kills: N (pull A, push B, daemon-sync C,
# daemon-push D), items lost: 0", which is asserted. Items lost counts
# every change not found on the other side after the recovery, every
# collection whose count differs between tree and instance, and every
# tree neither old nor new.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/daemon-lib.sh"

KILLS=${DSYNC_KILLS:-10}
if ! [[ $KILLS =~ ^[1-9][0-9]*$ ]]; then
	fail "DSYNC_KILLS='$KILLS' is not a positive number"
	finish
fi
SEED=${DSYNC_KILL_SEED:-$(((RANDOM << 15 | RANDOM) % 1000000))}
if ! [[ $SEED =~ ^[0-9]+$ ]]; then
	fail "DSYNC_KILL_SEED='$SEED' is not a number"
	finish
fi
# Every kill's fraction is drawn here, before anything else can take a
# value of $RANDOM: the same seed gives the same fractions.
RANDOM=$SEED
frac=()
for ((k = 0; k < KILLS; k++)); do frac[k]=$((RANDOM % 1000)); done
echo "seed: $SEED (DSYNC_KILL_SEED=$SEED DSYNC_KILLS=$KILLS replays these kills)"
t_start=$EPOCHREALTIME

ONESHOT_PID=
kill_loop_cleanup() {
	[ -n "$ONESHOT_PID" ] && kill -KILL "$ONESHOT_PID" 2>/dev/null
	[ -n "${PROXY_PID:-}" ] && stop_proxy
	daemon_cleanup
}
trap kill_loop_cleanup EXIT

dx_install || exit 1
dx_start || exit 1
URL=$DX_URL
D="$T/dump"
C="$D/collections"
setup_dump "$URL" "$DX_TOKEN" "$D" || { fail "set up the dump"; finish; }
notify_listen || { fail "notify listener"; finish; }
gitc() { git -C "$D" -c user.email=t@example.com -c user.name=test "$@"; }

# Every request waits this long in the proxy: a pull takes about 2 s, a
# push or a daemon job about 3 s, and the kills fall inside them (a slower
# machine only makes them longer: the time is the proxy's).
DELAY=0.1
start_proxy "$URL" --delay "$DELAY"
PROXY_PORT=${PROXY_URL##*:}
# Nothing is in flight through the proxy: no connection to its port is
# left (after a kill, a request it still holds reaches Directus late; a
# rerun that read the instance before it would see a world that changes
# under it).
proxy_quiet() { ! ss -tanH "( sport = :$PROXY_PORT )" 2>/dev/null | grep -qv -e LISTEN -e TIME-WAIT; }

# The items each mode changes, by SyncID, and their ids in Directus.
sid() { json_of "d[$2]._syncId" <"$C/$1.json"; }
in_file() { json_of "(d.find(x => x._syncId === '$3') || {}).$2" <"$C/$1.json"; }
count_in_file() { json_of "d.filter(x => x.$2 === '$3').length" <"$C/$1.json"; }
id_by() { dx_api GET "/$1?$2&fields=id" | json_of 'd.data[0].id'; }
flow_id() { id_by flows "filter[name][_eq]=$(node -p 'encodeURIComponent(process.argv[1])' "$(in_file flows name "$1")")"; }
dash_id() { id_by dashboards "filter[name][_eq]=$(node -p 'encodeURIComponent(process.argv[1])' "$(in_file dashboards name "$1")")"; }
tr_id() { id_by translations "filter[key][_eq]=$(in_file translations key "$1")&filter[language][_eq]=$(in_file translations language "$1")"; }
api_field() { dx_api GET "/$1/$2?fields=$3" | json_of "d.data.$3"; }
api_count() { dx_api GET "/$1?$2&aggregate[count]=id" | json_of 'd.data[0].count.id'; }

FLOW_PULL=$(sid flows 0) FLOW_PUSH=$(sid flows 1) FLOW_DPUSH=$(sid flows 2)
TR_PULL=$(sid translations 0) TR_PUSH=$(sid translations 1)
TR_DSYNC=$(sid translations 2) TR_DPUSH=$(sid translations 3)
DASH_DSYNC=$(sid dashboards 0) DASH_PUSH=$(sid dashboards 1)
FLOW_PULL_ID=$(flow_id "$FLOW_PULL") FLOW_PUSH_ID=$(flow_id "$FLOW_PUSH")
FLOW_DPUSH_ID=$(flow_id "$FLOW_DPUSH")
TR_PULL_ID=$(tr_id "$TR_PULL") TR_PUSH_ID=$(tr_id "$TR_PUSH")
TR_DSYNC_ID=$(tr_id "$TR_DSYNC") TR_DPUSH_ID=$(tr_id "$TR_DPUSH")
DASH_DSYNC_ID=$(dash_id "$DASH_DSYNC") DASH_PUSH_ID=$(dash_id "$DASH_PUSH")
for v in FLOW_PULL_ID FLOW_PUSH_ID FLOW_DPUSH_ID TR_PULL_ID TR_PUSH_ID TR_DSYNC_ID TR_DPUSH_ID DASH_DSYNC_ID DASH_PUSH_ID; do
	[[ ${!v} =~ ^[0-9a-f-]+$ ]] || { fail "the items to change are found ($v=${!v})"; finish; }
done

# leftovers DIR: staging directories and temporary files under DIR (not
# in .git), one a line.
leftovers() {
	find "$1" -path "$1/.git" -prune -o \( -name .dsync-staging -o -name '*.tmp*' \) -print
}
no_leftovers() { local l; l=$(leftovers "$1"); [ -z "$l" ] || { echo "left: $l" >&2; return 1; }; }
meta_parses() { node -e 'JSON.parse(require("fs").readFileSync(process.argv[1]))' "$1" 2>/dev/null; }
new_uuid() { node -p 'require("crypto").randomUUID()'; }

# Kill bookkeeping.
declare -A kills=([pull]=0 [push]=0 [daemon-sync]=0 [daemon-push]=0)
declare -A mid=([pull]=0 [push]=0 [daemon-sync]=0 [daemon-push]=0)
lost=0
# lose N WHAT: N items lost (or a tree neither old nor new), said why.
lose() { lost=$((lost + $1)); echo "LOST: kill $k ($mode): $2" >&2; }
# ms N: N milliseconds as seconds ("1.234").
ms() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
# kill_after PID MS: SIGKILL PID after MS milliseconds; KILL_DELAY is
# the delay in seconds. PID is dsyncd itself (started as "$DSYNCD" &,
# not through a function, which would put a subshell in between).
kill_after() {
	KILL_DELAY=$(ms "$2")
	sleep "$KILL_DELAY"
	kill -KILL "$1" 2>/dev/null
}
# record MODE WHERE [WHAT]: the kill counted; WHERE is "inside" (the run
# or job was cut) or says that it had ended; WHAT, what it had done.
record() {
	kills[$1]=$((${kills[$1]} + 1))
	[ "$2" = inside ] && mid[$1]=$((${mid[$1]} + 1))
	echo "kill $k: $1 after $KILL_DELAY s ($2${3:+: $3})"
	echo "$k $1 $KILL_DELAY $2${3:+: $3}" >>"$T/kills"
}
# writes FILE: how many "[collection] Created/Updated/Deleted" steps FILE
# logs.
writes() { grep -Ec '\] (Created|Updated|Deleted) [0-9]+ items' "$1"; }
GIT_CONF='git = { commit = true; author_name = "dsync bot"; author_email = "bot@staging.example.org"; branch = "main"; };'
POLL='poll = { interval = 1.0; full_every = 0; };'
# The daemon's configurations: the instance through the proxy (the base
# names it by that URL), one state directory for both.
write_conf "$T/sync.conf" "$PROXY_URL" "$D" 'policy = { default = "sync"; schema = "pull"; };' "$GIT_CONF" "$POLL"
write_conf "$T/push.conf" "$PROXY_URL" "$D" 'policy = { default = "push"; schema = "push"; };' "$GIT_CONF" "$POLL"
history_len() { wc -l <"$T/state/history.jsonl" 2>/dev/null || echo 0; }
# seen SYNCID...: no job runs or waits and status lists each SYNCID as a
# difference (the paused daemon has compared both sides).
seen() {
	local js="d.job === null && d.queued === null" s
	for s in "$@"; do js="$js && (d.two_way || []).some(e => e._syncId === '$s')"; done
	ctl status --json 2>/dev/null | json_of "$js" 2>/dev/null | grep -q true
}
# The tree as the daemon left it, committed by the test as a person
# would, so that every mode starts from a clean checkout.
commit_all() { gitc add -A && { gitc diff --cached --quiet || gitc commit -qm "$1"; }; }

# --- one-shot pull -------------------------------------------------------
mode_pull() {
	local rc where got left flow="Flow renamed in Directus $k" tr="Translation edited in Directus $k"
	local folder="Folder made in Directus $k" t0 took range
	if ! { dx_api PATCH "/flows/$FLOW_PULL_ID" "{\"name\":\"$flow\"}" &&
		dx_api PATCH "/translations/$TR_PULL_ID" "{\"value\":\"$tr\"}" &&
		dx_api POST /folders "{\"name\":\"$folder\"}"; } >/dev/null; then
		fail "kill $k (pull): change Directus"
		return
	fi
	tree_sum "$D" >"$T/old.sum"
	# The new tree: a complete pull of the same state into a copy, through
	# the proxy, timed: the kill falls inside that time.
	rm -rf "$T/new" && cp -a "$D" "$T/new"
	t0=$EPOCHREALTIME
	dsyncd -u "$PROXY_URL" -t "$DX_TOKEN" pull --no-specs --dump-path "$T/new" >"$T/new.log" 2>&1 ||
		{ tail -3 "$T/new.log"; fail "kill $k (pull): a complete pull into a copy"; return; }
	took=$(awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { printf "%d", (a - b) * 1000 }')
	tree_sum "$T/new" >"$T/new.sum"
	range=$((took * 95 / 100))
	"$DSYNCD" -u "$PROXY_URL" -t "$DX_TOKEN" pull --no-specs --dump-path "$D" >"$T/killed.log" 2>&1 &
	ONESHOT_PID=$!
	kill_after "$ONESHOT_PID" $((range * frac[k - 1] / 1000))
	wait "$ONESHOT_PID"; rc=$?; ONESHOT_PID=
	where=inside; [ "$rc" = 137 ] || where="after the end (exit $rc)"
	check "kill $k (pull): nothing in flight through the proxy" wait_for 10 proxy_quiet
	left=nothing
	[ -d "$D/.dsync-staging" ] && left="a staging directory"
	[ -f "$D/.dsync-staging/journal" ] && left="a journal"
	tree_sum "$D" >"$T/raw.sum"
	if cmp -s "$T/raw.sum" "$T/old.sum"; then left="$left, the old tree"
	elif cmp -s "$T/raw.sum" "$T/new.sum"; then left="$left, the new tree"; fi
	record pull "$where" "left $left"
	# A lock-taking command completes or discards what the kill left.
	dsyncd -u "$URL" -t "$DX_TOKEN" diff --dump-path "$D" >"$T/diff.log" 2>&1
	rc=$?
	check "kill $k (pull): the next command runs (diff exits $rc)" test "$rc" != 1
	if [ "${left%%,*}" = "a journal" ]; then
		check "kill $k (pull): ... and says it completed the interrupted update" grep -q 'completed an update of the dump tree that was interrupted' "$T/diff.log"
	fi
	tree_sum "$D" >"$T/now.sum"
	if cmp -s "$T/now.sum" "$T/old.sum"; then got=old
	elif cmp -s "$T/now.sum" "$T/new.sum"; then got=new
	else got=neither; diff "$T/old.sum" "$T/now.sum" | head -20 >&2; lose 1 "the tree is neither the old nor the new one"; fi
	check "kill $k (pull): the tree is byte for byte the old or the new one ($got)" test "$got" != neither
	check "kill $k (pull): no staging and no temporary file left" no_leftovers "$D"
	dsyncd -u "$URL" -t "$DX_TOKEN" pull --no-specs --dump-path "$D" >"$T/rerun.log" 2>&1 ||
		{ tail -3 "$T/rerun.log"; fail "kill $k (pull): the rerun"; }
	tree_sum "$D" >"$T/now.sum"
	if cmp -s "$T/now.sum" "$T/new.sum"; then
		pass "kill $k (pull): a rerun converges on the new tree"
	else
		fail "kill $k (pull): a rerun converges on the new tree"
		[ "$(in_file flows name "$FLOW_PULL")" = "$flow" ] || lose 1 "the flow's rename is not in the tree"
		[ "$(in_file translations value "$TR_PULL")" = "$tr" ] || lose 1 "the translation's edit is not in the tree"
	fi
	got=$(count_in_file folders name "$folder")
	[ "$got" = 1 ] || lose 1 "the new folder is $got times in the tree"
	check "kill $k (pull): the folder made in Directus is in the tree once ($got)" test "$got" = 1
	dsyncd -u "$URL" -t "$DX_TOKEN" diff --dump-path "$D" >/dev/null 2>&1
	check "kill $k (pull): ... and diff exits 0" test $? = 0
	commit_all "pull $k"
}

# --- one-shot push -------------------------------------------------------
mode_push() {
	local rc where got t0 range flow="Flow renamed in git $k" tr="Translation edited in git $k"
	local dash="Dashboard renamed in git $k" key="kill-loop-$k"
	edit_json "$C/flows.json" "a.find(x => x._syncId === '$FLOW_PUSH').name = '$flow'"
	edit_json "$C/translations.json" "a.find(x => x._syncId === '$TR_PUSH').value = '$tr'; a.push({ language: 'en-US', key: '$key', value: 'Made in git $k', _syncId: '$(new_uuid)' })"
	edit_json "$C/dashboards.json" "a.find(x => x._syncId === '$DASH_PUSH').name = '$dash'"
	# A push reads what a diff reads, then writes: the range is the time
	# of a diff through the proxy, timed now, and 1 s for the writes (four
	# steps of a request or two each).
	t0=$EPOCHREALTIME
	dsyncd -u "$PROXY_URL" -t "$DX_TOKEN" diff --dump-path "$D" >/dev/null 2>&1
	range=$(awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { printf "%d", (a - b) * 1000 + 1000 }')
	"$DSYNCD" -u "$PROXY_URL" -t "$DX_TOKEN" push --dump-path "$D" >"$T/killed.log" 2>&1 &
	ONESHOT_PID=$!
	kill_after "$ONESHOT_PID" $((range * frac[k - 1] / 1000))
	wait "$ONESHOT_PID"; rc=$?; ONESHOT_PID=
	where=inside; [ "$rc" = 137 ] || where="after the end (exit $rc)"
	record push "$where" "$(writes "$T/killed.log") write steps done"
	check "kill $k (push): nothing in flight through the proxy" wait_for 10 proxy_quiet
	dsyncd -u "$URL" -t "$DX_TOKEN" push --dump-path "$D" >"$T/rerun.log" 2>&1
	rc=$?
	[ "$rc" = 0 ] || tail -5 "$T/rerun.log"
	check "kill $k (push): the rerun succeeds" test "$rc" = 0
	dsyncd -u "$URL" -t "$DX_TOKEN" diff --dump-path "$D" >"$T/diff.log" 2>&1
	rc=$?
	[ "$rc" = 0 ] || head -20 "$T/diff.log"
	check "kill $k (push): ... converges (diff exits $rc)" test "$rc" = 0
	if same_counts "$URL" "$D"; then pass "kill $k (push): ... no duplicates, nothing missing"
	else fail "kill $k (push): ... no duplicates, nothing missing"; lose 1 "counts differ"; fi
	got=0
	[ "$(api_field flows "$FLOW_PUSH_ID" name)" = "$flow" ] || { got=$((got + 1)); lose 1 "the flow's rename"; }
	[ "$(api_field translations "$TR_PUSH_ID" value)" = "$tr" ] || { got=$((got + 1)); lose 1 "the translation's edit"; }
	[ "$(api_field dashboards "$DASH_PUSH_ID" name)" = "$dash" ] || { got=$((got + 1)); lose 1 "the dashboard's rename"; }
	[ "$(api_count translations "filter[key][_eq]=$key")" = 1 ] || { got=$((got + 1)); lose 1 "the new translation, not there once"; }
	check "kill $k (push): ... the three edits and the new item are on the instance" test "$got" = 0
	commit_all "push $k"
}

# --- the daemon ----------------------------------------------------------
# daemon_kill MODE RANGE_MS: resume the paused daemon, kill it at a random
# moment of the job that follows, restart it.
daemon_kill() {
	local h0 l0 where did
	h0=$(history_len)
	l0=$(wc -l <"$T/daemon.log")
	ctl resume >/dev/null || fail "kill $k ($1): resume"
	kill_after "$DAEMON_PID" $(($2 * frac[k - 1] / 1000))
	wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
	where=inside; [ "$(history_len)" = "$h0" ] || where="after the job"
	tail -n +$((l0 + 1)) "$T/daemon.log" >"$T/killed.log"
	did="$(writes "$T/killed.log") write steps to Directus"
	grep -q ' committed [0-9a-f]*:' "$T/killed.log" && did="the commit, $did"
	record "$1" "$where" "$did done"
	check "kill $k ($1): nothing in flight through the proxy" wait_for 10 proxy_quiet
	if [ -e "$T/state/base/meta.json" ]; then
		check "kill $k ($1): base/meta.json parses after the kill" meta_parses "$T/state/base/meta.json"
	fi
}
daemon_checks() { # MODE
	if same_counts "$URL" "$D"; then pass "kill $k ($1): ... no duplicates, nothing missing"
	else fail "kill $k ($1): ... no duplicates, nothing missing"; lose 1 "counts differ"; fi
	check "kill $k ($1): ... base/meta.json parses" meta_parses "$T/state/base/meta.json"
	check "kill $k ($1): ... no staging or temporary file in the tree" no_leftovers "$D"
	check "kill $k ($1): ... nor in the state directory's base" no_leftovers "$T/state/base"
}
# start CONF MODE: the daemon started and in-sync.
start_in_sync() {
	start_daemon "$1" || { tail "$T/daemon.log"; fail "kill $k ($2): the daemon starts"; return 1; }
	wait_for 60 is state in-sync || { tail "$T/daemon.log"; fail "kill $k ($2): the daemon is in-sync before"; return 1; }
}

mode_daemon_sync() {
	local dash="Dashboard renamed in Directus $k" tr="Translation edited in the tree $k" n
	start_in_sync "$T/sync.conf" daemon-sync || { stop_daemon; return; }
	ctl pause "kill $k" >/dev/null
	edit_json "$C/translations.json" "a.find(x => x._syncId === '$TR_DSYNC').value = '$tr'"
	dx_api PATCH "/dashboards/$DASH_DSYNC_ID" "{\"name\":\"$dash\"}" >/dev/null
	check "kill $k (daemon-sync): paused, both changes seen" wait_for 20 seen "$TR_DSYNC" "$DASH_DSYNC"
	daemon_kill daemon-sync 3100
	check "kill $k (daemon-sync): the state directory loads (the daemon starts)" start_daemon "$T/sync.conf"
	if wait_for 90 is state in-sync; then pass "kill $k (daemon-sync): in-sync after the restart ($WAITED s)"
	else tail "$T/daemon.log"; fail "kill $k (daemon-sync): in-sync after the restart"; fi
	if [ "$(api_field translations "$TR_DSYNC_ID" value)" = "$tr" ]; then pass "kill $k (daemon-sync): ... the tree's edit is in Directus"
	else fail "kill $k (daemon-sync): ... the tree's edit is in Directus"; lose 1 "the translation's edit"; fi
	if [ "$(in_file dashboards name "$DASH_DSYNC")" = "$dash" ]; then pass "kill $k (daemon-sync): ... the rename in Directus is in the tree"
	else fail "kill $k (daemon-sync): ... the rename in Directus is in the tree"; lose 1 "the dashboard's rename"; fi
	daemon_checks daemon-sync
	n=$(git -C "$D" log --format=%B | grep -c "\"$dash\"")
	check "kill $k (daemon-sync): ... one commit names the rename ($n)" test "$n" = 1
	check "kill $k (daemon-sync): ... nothing staged in git (the index followed the commit)" gitc diff --cached --quiet
	stop_daemon
	commit_all "daemon-sync $k"
}

mode_daemon_push() {
	local flow="Flow renamed in git (daemon) $k" tr="Translation edited in git (daemon) $k"
	local key="kill-loop-daemon-$k" got
	start_in_sync "$T/push.conf" daemon-push || { stop_daemon; return; }
	ctl pause "kill $k" >/dev/null
	local new; new=$(new_uuid)
	edit_json "$C/flows.json" "a.find(x => x._syncId === '$FLOW_DPUSH').name = '$flow'"
	edit_json "$C/translations.json" "a.find(x => x._syncId === '$TR_DPUSH').value = '$tr'; a.push({ language: 'de-DE', key: '$key', value: 'Made in git for the daemon $k', _syncId: '$new' })"
	check "kill $k (daemon-push): paused, the edits seen" wait_for 20 seen "$FLOW_DPUSH" "$TR_DPUSH" "$new"
	daemon_kill daemon-push 3300
	check "kill $k (daemon-push): the state directory loads (the daemon starts)" start_daemon "$T/push.conf"
	if wait_for 90 is state in-sync; then pass "kill $k (daemon-push): in-sync after the restart ($WAITED s)"
	else tail "$T/daemon.log"; fail "kill $k (daemon-push): in-sync after the restart"; fi
	got=0
	[ "$(api_field flows "$FLOW_DPUSH_ID" name)" = "$flow" ] || { got=$((got + 1)); lose 1 "the flow's rename"; }
	[ "$(api_field translations "$TR_DPUSH_ID" value)" = "$tr" ] || { got=$((got + 1)); lose 1 "the translation's edit"; }
	[ "$(api_count translations "filter[key][_eq]=$key")" = 1 ] || { got=$((got + 1)); lose 1 "the new translation, not there once"; }
	check "kill $k (daemon-push): ... the edits and the new item are on the instance" test "$got" = 0
	daemon_checks daemon-push
	stop_daemon
	commit_all "daemon-push $k"
}

modes=(pull push daemon-sync daemon-push)
for ((k = 1; k <= KILLS; k++)); do
	mode=${modes[(k - 1) % 4]}
	case $mode in
	pull) mode_pull ;;
	push) mode_push ;;
	daemon-sync) mode_daemon_sync ;;
	daemon-push) mode_daemon_push ;;
	esac
done

total=0 inside=0
for m in "${modes[@]}"; do total=$((total + ${kills[$m]})); inside=$((inside + ${mid[$m]})); done
took=$(awk -v a="$EPOCHREALTIME" -v b="$t_start" 'BEGIN { printf "%.0f", a - b }')
echo "inside the run: $inside of $total kills (pull ${mid[pull]}, push ${mid[push]}, daemon-sync ${mid[daemon-sync]}, daemon-push ${mid[daemon-push]}), $took s, seed $SEED"
check "every kill was made ($total of $KILLS)" test "$total" = "$KILLS"
# Shown, not asserted: temporary files the kills left in the state
# directory itself, outside the base (the history's, the pause file's).
l=$(leftovers "$T/state" | grep -v "^$T/state/base")
[ -z "$l" ] || echo "left in the state directory, outside base/: $(echo "$l" | tr '\n' ' ')"
check "most kills landed inside the run ($inside of $total)" test $((inside * 2)) -ge "$total"
summary="kills: $total (pull ${kills[pull]}, push ${kills[push]}, daemon-sync ${kills[daemon-sync]}, daemon-push ${kills[daemon-push]}), items lost: $lost"
echo "$summary"
check "$summary" test "$lost" = 0
finish
