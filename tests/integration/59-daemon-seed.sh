#!/usr/bin/env bash
# The daemon's seed group: seeds in the dump tree pushed at start and
# when a seed file changes (push only: an edit on the instance is never
# written back, only shown, and put back by dsyncctl push); status,
# history and dsyncctl diff name them apart; deletes held without
# allow_deletes; a broken seed file is an error naming it, and the fix
# recovers; paused, nothing is pushed until resume; seed.paths checked.
# versions: base
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/daemon-lib.sh"

daemon_setup
mkdir -p "$D/seed/blog"
cat >"$D/seed/blog/authors.json" <<'EOF'
{
  "collection": "authors",
  "data": [
    { "_sync_id": "d-ada", "name": "Ada", "email": "ada@daemon.example.com" },
    { "_sync_id": "d-bob", "name": "Bob", "email": "bob@daemon.example.com" }
  ]
}
EOF
cat >"$D/seed/tags.json" <<'EOF'
{ "collection": "tags", "meta": { "preserve_ids": true }, "data": [ { "_sync_id": "d-news", "label": "News" } ] }
EOF
git -C "$D" add -A && git_commit "$D" "seeds"

write_conf "$T/bad.conf" "$URL" "$D" 'seed = { enabled = true; paths = [ "/etc/seed" ]; };'
"$DSYNCD" -n -f "$T/bad.conf" >"$T/bad.out" 2>&1
check "seed.paths outside the tree: exit 78" test $? = 78
check "... naming the setting" grep -q 'seed.paths\[0\] must be a path inside the dump tree' "$T/bad.out"
write_conf "$T/d.conf" "$URL" "$D" 'poll = { interval = 1.0; full_every = 2; };' 'seed = { enabled = true; paths = [ "seed" ]; };'
"$DSYNCD" -n -f "$T/d.conf" >"$T/n.out" 2>&1
check "dsyncd -n prints the seed group" grep -q 'paths = \[ "seed" \]' "$T/n.out"

start_daemon "$T/d.conf" || { tail "$T/daemon.log"; fail "daemon starts"; finish; }
author() { dx_api GET "/items/authors?filter[email][_eq]=$1@daemon.example.com&fields=$2" | json_of "d.data.length ? d.data[0].$2 : ''"; }
check "the seeds are pushed at start" wait_for 20 is 'author ada name' Ada
check "... all of them" wait_for 5 is 'dx_api GET "/items/tags/d-news?fields=label" | json_of d.data.label' News
wait_for 10 idle
st() { ctl status --json | json_of "$1"; }
check "status: seed pending 0 after the push" wait_for 10 is 'st "d.seed.pending && d.seed.pending.changes"' 0
check "... the last push of the seeds: 3 created" test "$(st 'd.seed.last_push.created')" = 3
check "... in-sync" test "$(state)" = in-sync
check "history: a job with seed.created 3" \
	test "$(ctl history --json -n 50 | json_of 'd.jobs.filter(j => j.seed && j.seed.created === 3).length')" = 1

# --- A seed file edited: pushed, by a job that compares nothing else.
edit_json "$D/seed/blog/authors.json" 'a.data[0].name = "Ada L."'
check "an edited seed file is pushed" wait_for 10 is 'author ada name' "Ada L."
wait_for 10 idle
last=$(ctl history --json -n 50 | json_of 'JSON.stringify((j => [j.trigger, j.collections.length, j.schema, j.seed.updated])(d.jobs.filter(j => j.seed && j.seed.pushed).pop()))')
check "... by a watch job that read no collection and no schema, 1 seed item updated ($last)" \
	test "$last" = '["watch",0,false,1]'
git -C "$D" add -A && git_commit "$D" "Ada L."

# --- An edit on the instance: shown, never written back, not corrected
# by polls.
ada=$(author ada id)
before=$(sha256sum "$D/seed/blog/authors.json")
dx_api PATCH "/items/authors/$ada" '{"name":"Edited in Directus"}' >/dev/null
check "the instance's edit shows as 1 seed difference" \
	wait_for 20 is 'st "d.seed.pending && d.seed.pending.changes"' 1
check "... state drifted, the reason naming the seeds" \
	wait_for 5 is 'st "d.state + \" \" + /seed difference/.test(d.state_reason)"' "drifted true"
ctl status >"$T/status.txt"
check "dsyncctl status: a seed line with the collection" grep -qE '^ *seed: 1 difference \(authors 1 to update\)' "$T/status.txt"
check "... the seed file is as it was (never written back)" test "$(sha256sum "$D/seed/blog/authors.json")" = "$before"
seen=$(st 'd.seed.compared_at')
check "... compared again by a later full poll" wait_for 20 bash -c "[ \"\$(\"$DSYNCCTL\" -s '$T/ctl.sock' status --json | node -pe 'JSON.parse(require(\"fs\").readFileSync(0)).seed.compared_at')\" != '$seen' ]"
check "... which left the instance's edit" test "$(author ada name)" = "Edited in Directus"
ctl diff >"$T/diff.txt"
check "dsyncctl diff exits 2" test $? = 2
check "... and shows the seed update apart" grep -qE '^ *~ update authors d-ada' "$T/diff.txt" || cat "$T/diff.txt"
check "... under a seed: heading" grep -q '^seed:$' "$T/diff.txt"
ctl push >"$T/push.txt" 2>&1
check "dsyncctl push puts the seed's value back" wait_for 10 is 'author ada name' "Ada L."
check "... and the seeds are in sync again" wait_for 10 is 'st "d.seed.pending.changes"' 0

# --- An item removed from the seeds: the delete is held (allow_deletes
# false), shown as pending.
edit_json "$D/seed/blog/authors.json" 'a.data.pop()'
check "a removed seed item: its delete is held" \
	wait_for 10 is 'ctl history --json -n 50 | json_of "d.jobs.filter(j => j.seed && j.seed.held_deletes === 1).length"' 1
check "... Bob stays" test "$(author bob name)" = Bob
check "... status shows 1 to delete" wait_for 5 is 'st "d.seed.pending.collections.authors.delete"' 1
edit_json "$D/seed/blog/authors.json" 'a.data.push({ _sync_id: "d-bob", name: "Bob", email: "bob@daemon.example.com" })'
wait_for 10 is 'st "d.seed.pending.changes"' 0

# --- A broken seed file: an error naming it; the fix recovers.
cp "$D/seed/tags.json" "$T/tags.json"
printf '{ "collection": "tags", ' >"$D/seed/tags.json"
check "a broken seed file: state error" wait_for 10 is 'state' error
reason=$(st 'd.state_reason')
check "... naming the file ($reason)" grep -q 'seed file .*seed/tags.json' <<<"$reason"
cp "$T/tags.json" "$D/seed/tags.json"
check "... fixed: in-sync again" wait_for 15 is 'state' in-sync

# --- Paused: a seed change waits for resume.
ctl pause "seed test" >/dev/null
edit_json "$D/seed/blog/authors.json" 'a.data[1].name = "Bob B."'
check "paused: the seed change waits (due)" wait_for 10 is 'st "d.seed.due"' true
wait_for 10 idle
check "... and is not pushed" test "$(author bob name)" = Bob
ctl resume >/dev/null
check "... resumed: pushed" wait_for 15 is 'author bob name' "Bob B."

stop_daemon
check "dsyncd exits 0 on SIGTERM" test "$DAEMON_RC" = 0
check "no token in the daemon's log" bash -c "! grep -qF '$DX_TOKEN' '$T/daemon.log'"

finish
