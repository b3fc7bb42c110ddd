#!/usr/bin/env bash
# The daemon's notices to webhooks (notify = ( ... )), against a real
# Directus and a local receiver (tests/lib/webhook-receiver.py): exactly
# one notice for a drift, a conflict and its resolution, held deletes,
# Directus down (degraded) and back (recovered), a commit, a pause and a
# resume; the HMAC signature verifies; a Slack-format webhook that asks
# for drift only gets that, as {"text": ...}; a receiver that answers 500
# or hangs delays no job (drift still corrected within a poll) and its
# failure shows in status, history and the metrics; the webhook URLs and
# the secret are in no log, status, history or scrape.
# versions: base 12
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/daemon-lib.sh"

daemon_setup
R="$T/received" MODE="$T/mode"
: >"$R"
python3 "$top/tests/lib/webhook-receiver.py" "$R" "$MODE" >"$T/receiver.port" 2>"$T/receiver.log" &
RECV_PID=$!
wait_for 5 test -s "$T/receiver.port" || { fail "the webhook receiver starts"; finish; }
rport=$(head -1 "$T/receiver.port")
HOOK_KEY=k$RANDOM$RANDOM$RANDOM SLACK_KEY=s$RANDOM$RANDOM$RANDOM SECRET=hmac-$RANDOM$RANDOM$RANDOM
printf '%s\n' "$SECRET" >"$T/hook-secret"
chmod 600 "$T/hook-secret"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
write_conf "$T/d.conf" "$URL" "$D" \
	'poll = { interval = 2.0; full_every = 3; backoff_max = 4.0; };' \
	'policy = { default = "push"; schema = "push"; collections = { dashboards = "pull"; }; };' \
	'git = { commit = true; author_name = "dsync"; author_email = "dsync@test.example.org"; };' \
	"metrics = { listen = \"127.0.0.1:$port\"; };" \
	"notify = ( { url = \"http://127.0.0.1:$rport/hook/$HOOK_KEY\"; secret_file = \"$T/hook-secret\"; }," \
	"  { url = \"http://127.0.0.1:$rport/slack/$SLACK_KEY\"; format = \"slack\"; events = [ \"drift\" ]; } );"
check "dsyncd -n accepts the webhooks, and prints neither URL nor secret" \
	sh -c "'$DSYNCD' -n -f '$T/d.conf' >'$T/n.out' 2>&1 && ! grep -qF -e '$HOOK_KEY' -e '$SLACK_KEY' -e '$SECRET' '$T/n.out'"
start_daemon "$T/d.conf" || { tail "$T/daemon.log"; fail "daemon starts (READY=1)"; finish; }
check "the first job ends in-sync" wait_for 30 is 'state' in-sync

# got EVENT [PATH]: how many notices of EVENT the receiver has (on
# /hook/..., the JSON webhook, unless PATH says /slack).
got() {
	node -e '
const [file, ev, path] = process.argv.slice(1);
const lines = require("fs").readFileSync(file, "utf8").split("\n").filter(Boolean).map(JSON.parse);
console.log(lines.filter(l => l.path.startsWith(path) && l.answered === 204 &&
	(path === "/slack" || JSON.parse(l.body).event === ev)).length);' "$R" "$1" "${2:-/hook}"
}
# last EVENT JS: JS on the body (d) of the last JSON notice of EVENT.
last() {
	node -e '
const [file, ev, js] = process.argv.slice(1);
const l = require("fs").readFileSync(file, "utf8").split("\n").filter(Boolean).map(JSON.parse)
	.filter(l => l.path.startsWith("/hook") && JSON.parse(l.body).event === ev).pop();
const d = JSON.parse(l.body); console.log(eval(js));' "$R" "$1" "$2"
}
polls_pass() { # N: wait for N more polls
	local p
	p=$(ctl status --json | json_of 'd.polls')
	wait_for 30 at_least "ctl status --json | json_of 'd.polls'" $((p + $1)) >/dev/null
}
check "nothing sent while nothing happened" test "$(wc -l <"$R")" = 0

# --- A drift, corrected (policy push).
flows="$D/collections/flows.json"
fid=$(json_of 'd.find(f => f.name === "Publish article")._syncId' <"$flows")
lid=$(dx_api GET "/flows?filter[name][_eq]=Publish%20article&fields=id" | json_of 'd.data[0].id')
dx_api PATCH "/flows/$lid" '{"name":"Drifted"}' >/dev/null
check "a drift: one notice" wait_for 20 is 'got drift' 1
check "... corrected" wait_for 20 is "flow_name $lid" "Publish article"
check "... names the item and who changed it" \
	test "$(last drift 'd.items[0].collection + "|" + d.items[0]._syncId + "|" + d.items[0].by')" = "flows|$fid|admin@example.com"
check "... with event, time, instance, state and message" \
	test "$(last drift '[d.event, !!d.time, d.instance, !!d.state, !!d.message].join("|")')" = "drift|true|$URL|true|true"
sig_ok() {
	node -e '
const [file, secret] = process.argv.slice(1);
const crypto = require("crypto");
const l = require("fs").readFileSync(file, "utf8").split("\n").filter(Boolean).map(JSON.parse)
	.filter(l => l.path.startsWith("/hook"));
process.exit(l.length && l.every(x => x.signature === "sha256=" + crypto.createHmac("sha256", secret).update(x.body).digest("hex")) ? 0 : 1);' "$R" "$SECRET"
}
check "... its X-Dsync-Signature is the HMAC-SHA256 of the body" sig_ok
check "the Slack webhook got the drift as {\"text\": ...}" wait_for 10 is 'got drift /slack' 1
check "... naming the flow" sh -c "grep '/slack/' '$R' | grep -q 'flows'"
polls_pass 3
check "... not told again on later polls" test "$(got drift)" = 1

# --- Pause, a conflict while paused, resume; then its resolution.
ctl pause "notify test" >/dev/null
# A job that started before the pause may still write: wait for it.
check "paused, and no job left that started before" wait_for 20 idle
check "pause: one notice" wait_for 10 is 'got paused' 1
edit_json "$flows" "a.find(f => f._syncId === '$fid').name = 'Renamed in git'"
dx_api PATCH "/flows/$lid" '{"name":"Renamed in the Data Studio"}' >/dev/null
polls_pass 2
ctl resume >/dev/null
check "resume: one notice" wait_for 10 is 'got resumed' 1
check "a conflict: one notice" wait_for 20 is 'got conflict' 1
check "... naming the item" test "$(last conflict 'd.items[0]._syncId')" = "$fid"
polls_pass 3
check "... not told again while it stands" test "$(got conflict)" = 1
ctl resolve flows "$fid" --keep dump >/dev/null
check "resolved: one conflict_resolved notice" wait_for 20 is 'got conflict_resolved' 1
check "... naming the item" test "$(last conflict_resolved 'd.items[0]._syncId')" = "$fid"
git -C "$D" add -A && git_commit "$D" "notify test: the conflict's side kept"

# --- Held deletes: a panel gone from the dump, allow_deletes false.
panels="$D/collections/panels.json"
cp "$panels" "$T/panels.json"
edit_json "$panels" "a.pop()"
check "a delete held: one notice" wait_for 20 is 'got held' 1
check "... naming panels and allow_deletes" \
	test "$(last held 'd.items[0].collection + "|" + d.items[0].deletes + "|" + d.items[0].setting')" = "panels|1|allow_deletes"
polls_pass 3
check "... not told again while held" test "$(got held)" = 1
cp "$T/panels.json" "$panels"
check "the panel back: in-sync" wait_for 20 is 'state' in-sync

# --- A commit: a dashboard renamed in Directus (policy pull).
dash=$(dx_api GET "/dashboards?fields=id&limit=1&sort=date_created" | json_of 'd.data[0].id')
head0=$(git -C "$D" rev-parse HEAD)
dx_api PATCH "/dashboards/$dash" '{"name":"Renamed for a commit"}' >/dev/null
check "a commit: one notice" wait_for 20 is 'got commit' 1
check "... with the commit the tree has" test "$(last commit 'd.commit')" = "$(git -C "$D" rev-parse HEAD)"
check "... a new one" test "$(git -C "$D" rev-parse HEAD)" != "$head0"

# --- Degraded, recovered.
dx_kill "$DX_DIR"
check "Directus stopped: one degraded notice" wait_for 30 is 'got degraded' 1
errors() { curl -s "http://127.0.0.1:$port/metrics" | awk '/^dsync_requests_total\{.*code="error"\}/ { n += $2 } END { print n + 0 }'; }
e0=$(errors)
check "... Directus tried again twice" wait_for 30 at_least errors $((e0 + 2))
check "... not told again at each retry" test "$(got degraded)" = 1
check "Directus back" dx_resume "$DX_DIR"
check "... one recovered notice" wait_for 60 is 'got recovered' 1

# --- A receiver that fails: 500, then no answer. Jobs go on.
echo 500 >"$MODE"
dx_api PATCH "/flows/$lid" '{"name":"Drifted while the hook fails"}' >/dev/null
check "receiver answers 500: the drift is still corrected within a poll" \
	wait_for 15 is "flow_name $lid" "Renamed in git"
failed_shown() { ctl status --json | json_of 'd.notices.last_failure && d.notices.last_failure.error' | grep -q 'HTTP 500'; }
check "... status shows the last delivery failure" wait_for 20 failed_shown
ctl status >"$T/status.txt" 2>&1
check "... dsyncctl status has a notices line" grep -q 'notices: .*failed.*answered HTTP 500' "$T/status.txt"
echo hang >"$MODE"
dx_api PATCH "/flows/$lid" '{"name":"Drifted while the hook hangs"}' >/dev/null
check "receiver hangs: the drift is still corrected within a poll" \
	wait_for 15 is "flow_name $lid" "Renamed in git"
check "... and the daemon is in-sync meanwhile" wait_for 15 is 'state' in-sync
echo ok >"$MODE"
ctl history >"$T/history.txt" 2>&1
check "dsyncctl history counts the notices" grep -q '^notices: [0-9]* sent, [0-9]* failed' "$T/history.txt"
# The three counts, taken together until no retry lands in between.
counts() {
	sent_h=$(ctl history --json | json_of 'd.notices.sent')
	sent_m=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^dsync_notices_total\{.*result="sent"\}/ { n += $2 } END { print n + 0 }')
	sent_r=$(grep -c '"answered": 204' "$R")
	[ "$sent_h" = "$sent_m" ] && [ "$sent_m" = "$sent_r" ]
}
check "history, the metrics and the receiver count the same notices sent" wait_for 30 counts
echo "(history $sent_h, metrics $sent_m, receiver $sent_r)"

# --- Secrets.
ctl status --json >"$T/final-status.json" 2>&1
ctl history --json -n 500 >"$T/final-history.json" 2>&1
curl -s "http://127.0.0.1:$port/metrics" >"$T/final-scrape"
check "the webhook URLs and the secret are in no log, status, history or scrape" \
	sh -c "! grep -qF -e '$HOOK_KEY' -e '$SLACK_KEY' -e '$SECRET' '$T/daemon.log' '$T/final-status.json' '$T/final-history.json' '$T/final-scrape' '$T/status.txt' '$T/history.txt'"
stop_daemon
check "the daemon stops cleanly (got $DAEMON_RC)" test "$DAEMON_RC" = 0
kill "$RECV_PID" 2>/dev/null
finish
