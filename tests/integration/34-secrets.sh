#!/usr/bin/env bash
# Secrets (issue 9, part 7): the static token, the admin password and a
# wrong token given by mistake never appear in anything dsyncd writes or
# shows: one-shot runs with -d (token and login, right and wrong,
# on the command line, in the environment, in broken config files), a
# daemon at work both ways with debug logging (an edit pushed, drift
# committed and pushed to a remote, a reload onto a wrong token and back,
# a login session), every dsyncctl answer, the notify messages, the state
# directory, the dump tree, the git history of the tree and its remote,
# and the daemon's /proc/PID/cmdline and environ. A planted copy of the
# token shows that the search finds one.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/daemon-lib.sh"

daemon_setup
O="$T/out"
mkdir -p "$O"
git init -q --bare -b main "$T/remote.git"
git -C "$D" remote add origin "$T/remote.git" && git -C "$D" push -q origin main ||
	{ fail "a bare remote"; finish; }

WRONG="wrongtoken-$RANDOM$RANDOM-not-valid"
WRONGPW="wrong-password-$RANDOM$RANDOM"
# A webhook (notify) whose URL holds its key, as Slack's do, and the key
# of its HMAC signature; a local receiver takes the notices.
HOOK_KEY="hookkey-$RANDOM$RANDOM$RANDOM"
HMAC_KEY="hmackey-$RANDOM$RANDOM$RANDOM"
(umask 077 && printf '%s\n' "$HMAC_KEY" >"$T/hook-secret")
: >"$T/received"
python3 "$top/tests/lib/webhook-receiver.py" "$T/received" "$T/hook-mode" >"$T/receiver.port" 2>/dev/null &
RECV_PID=$!
wait_for 5 test -s "$T/receiver.port" || { fail "the webhook receiver starts"; finish; }
HOOK="http://127.0.0.1:$(head -1 "$T/receiver.port")/hook/$HOOK_KEY"
NOTIFY="notify = ( { url = \"$HOOK\"; secret_file = \"$T/hook-secret\"; } );"
# The secrets, whole and as their first 12 characters (a token cut short
# in a message is still a leak).
for s in "$DX_TOKEN" "$DX_PASSWORD" "$WRONG" "$WRONGPW" "$HOOK_KEY" "$HMAC_KEY"; do
	printf '%s\n%s\n' "$s" "${s:0:12}"
done >"$T/secrets"
# found PATH...: the paths (files, or directories searched whole, binary
# files too) that hold any secret, one per line.
found() { grep -rlaF -f "$T/secrets" -- "$@" 2>/dev/null; }
nscanned=0
# secret_free NAME PATH...: no secret in any of the paths.
secret_free() {
	local name=$1 hits n; shift
	n=$(find "$@" -type f 2>/dev/null | wc -l)
	nscanned=$((nscanned + n))
	hits=$(found "$@")
	if [ -z "$hits" ] && [ "$n" -gt 0 ]; then pass "$name ($n files)"
	else printf 'secret found in: %s\n' "$hits" >&2; fail "$name ($n files)"; fi
}

# The search itself can fail: a planted token is found.
mkdir -p "$T/planted" && printf 'x %s y\n' "${DX_TOKEN:0:12}" >"$T/planted/f"
check "the search finds a planted token prefix" test -n "$(found "$T/planted")"

# --- One-shot runs, with debug logging ----------------------------------
P="$T/p"
run() { local name=$1; shift; "$DSYNCD" "$@" >"$O/$name.log" 2>&1; echo $? >"$O/$name.rc"; }
run pull-token -d -u "$URL" -t "$DX_TOKEN" pull --dump-path "$P"
check "one-shot pull with a token works" test "$(cat "$O/pull-token.rc")" = 0
run pull-login -d -u "$URL" -e "$DX_EMAIL" -p "$DX_PASSWORD" pull --dump-path "$P"
check "one-shot pull with a login works" test "$(cat "$O/pull-login.rc")" = 0
DIRECTUS_URL=$URL DIRECTUS_TOKEN=$DX_TOKEN run pull-env -d pull --dump-path "$P"
check "one-shot pull with the token in the environment works" test "$(cat "$O/pull-env.rc")" = 0
edit_json "$P/collections/flows.json" "a[0].description = 'pushed by the one-shot'"
run diff-token -d -u "$URL" -t "$DX_TOKEN" diff --dump-path "$P"
run push-token -d -u "$URL" -t "$DX_TOKEN" push --dump-path "$P"
check "one-shot push works" test "$(cat "$O/push-token.rc")" = 0
run pull-wrong -d -u "$URL" -t "$WRONG" pull --dump-path "$P"
check "a wrong token fails (exit 1)" test "$(cat "$O/pull-wrong.rc")" = 1
run pull-wrongpw -d -u "$URL" -e "$DX_EMAIL" -p "$WRONGPW" pull --dump-path "$P"
check "a wrong password fails (exit 1)" test "$(cat "$O/pull-wrongpw.rc")" = 1
run helpers -d -u "$URL" -t "$DX_TOKEN" helpers wait-server-ready
# A directus-sync config file that holds the token, broken right after it.
printf '{\n  "directusUrl": "%s",\n  "directusToken": "%s",\n  "dumpPath": oops\n}\n' "$URL" "$DX_TOKEN" >"$T/directus-sync.config.json"
run json-config -d -c "$T/directus-sync.config.json" pull --dump-path "$P"
check "a broken directus-sync config is refused" test "$(cat "$O/json-config.rc")" = 1
# A dsyncd.conf with the token inline and a syntax error on its line, and
# one that is valid: -n prints the effective configuration.
printf 'directus = { url = "%s"; token = "%s" oops; };\ndump_path = "%s";\n' "$URL" "$DX_TOKEN" "$P" >"$T/bad.conf"
run bad-conf -n -f "$T/bad.conf"
check "a broken dsyncd.conf is refused" test "$(cat "$O/bad-conf.rc")" != 0
printf 'directus = { url = "%s"; token = "%s"; };\ndump_path = "%s";\nstate_dir = "%s";\n%s\n' "$URL" "$DX_TOKEN" "$P" "$T/state-n" "$NOTIFY" >"$T/inline.conf"
chmod 600 "$T/inline.conf"
run print-conf -n -f "$T/inline.conf"
check "dsyncd -n prints the configuration, the token as (set)" grep -qF 'token = "(set)"' "$O/print-conf.log"
check "... and the webhook's URL as (set)" grep -qF 'url = "(set)"' "$O/print-conf.log"
# The token and password in the environment of a one-shot command are
# wiped from /proc/PID/environ once read (it waits on a closed port).
env -u DX_TOKEN -u DX_PASSWORD DIRECTUS_TOKEN="$DX_TOKEN" DIRECTUS_ADMIN_PASSWORD="$DX_PASSWORD" \
	"$DSYNCD" -u http://127.0.0.1:9 helpers wait-server-ready --interval 1 --timeout 20 >"$O/wait.log" 2>&1 &
ONE=$!
proc_free() {
	local hit
	[ -r "/proc/$1/environ" ] || return 1
	hit=$(tr '\0' '\n' <"/proc/$1/environ" | grep -aF -f "$T/secrets" | cut -d= -f1)
	[ -z "$hit" ] || { echo "a secret in /proc/$1/environ: $hit" >&2; return 1; }
	! grep -qaF -f "$T/secrets" "/proc/$1/cmdline"
}
check "a one-shot's DIRECTUS_TOKEN and DIRECTUS_ADMIN_PASSWORD are gone from /proc/PID/environ" wait_for 5 proc_free "$ONE"
kill "$ONE" 2>/dev/null; wait "$ONE" 2>/dev/null
secret_free "one-shot outputs hold no secret" "$O"
secret_free "the one-shot dump tree holds no secret" "$P"

# --- The daemon at work, debug logging ----------------------------------
GIT_CONF='git = { commit = true; author_name = "dsync bot"; author_email = "bot@example.org"; branch = "main"; push = "origin main"; };'
INITIAL=push write_conf "$T/d.conf" "$URL" "$D" 'log_level = "debug";' \
	'policy = { default = "sync"; schema = "push"; };' "$GIT_CONF" \
	'poll = { interval = 1.0; full_every = 0; };' "$NOTIFY"
# The daemon's environment: none of the test's own variables, but the
# secrets under the names the one-shot commands read, which it must wipe.
DSYNC_WRAP="env -u DX_TOKEN -u DX_PASSWORD DIRECTUS_TOKEN=$DX_TOKEN DIRECTUS_ADMIN_PASSWORD=$DX_PASSWORD"
start_daemon "$T/d.conf" || { tail "$T/daemon.log"; fail "daemon starts"; finish; }
check "the daemon's first job ends in-sync" wait_for 20 is state in-sync
cmdline_environ() { proc_free "$DAEMON_PID"; }
check "... no secret in its /proc/PID/cmdline or environ" cmdline_environ
# An edit in the tree is pushed.
flows="$D/collections/flows.json"
sid=$(json_of 'd[0]._syncId' <"$flows")
edit_json "$flows" "a[0].description = 'edited in git'"
git -C "$D" -c user.email=t@example.com -c user.name=test commit -qam "an edit"
flow_desc() { dx_api GET "/flows?filter[name][_eq]=$(node -p 'encodeURIComponent(process.argv[1])' "$1")&fields=description" | json_of 'd.data[0].description'; }
name0=$(json_of 'd[0].name' <"$flows")
check "an edit in git is pushed" wait_for 20 is "flow_desc '$name0'" "edited in git"
# Drift in Directus is committed and pushed to the remote.
dash=$(dx_api GET '/dashboards?limit=1&fields=id' | json_of 'd.data[0].id')
n0=$(git -C "$D" rev-list --count HEAD)
dx_api PATCH "/dashboards/$dash" '{"name":"Renamed in Directus"}' >/dev/null
check "drift in Directus is committed" wait_for 20 is "git -C '$D' rev-list --count HEAD" $((n0 + 1))
check "... and pushed to the remote" wait_for 20 is "git -C '$T/remote.git' rev-parse main" "$(git -C "$D" rev-parse HEAD)"
wait_for 10 idle
i=0
for c in "status" "status --json" "diff" "diff --json" "diff -p" "history" "history --json" "version" "version --json"; do
	i=$((i + 1))
	# shellcheck disable=SC2086
	ctl $c >"$O/ctl-$i.out" 2>&1
done
# A reload onto a wrong token: the failure is shown, the token is not.
printf '%s' "$WRONG" >"$T/token"
ctl reload >"$O/ctl-reload-wrong.out" 2>&1
ctl sync >"$O/ctl-sync-wrong.out" 2>&1
check "a wrong token after reload shows in status" wait_for 20 is "ctl status --json | json_of 'd.state'" error
for c in "status" "status --json" "history --json"; do
	i=$((i + 1))
	# shellcheck disable=SC2086
	ctl $c >"$O/ctl-$i.out" 2>&1
done
printf '%s' "$DX_TOKEN" >"$T/token"
ctl reload >"$O/ctl-reload.out" 2>&1
ctl sync >"$O/ctl-sync.out" 2>&1
check "... back on the right token it recovers" wait_for 30 is state in-sync
check "... no secret in its /proc/PID/cmdline or environ after the reloads" cmdline_environ
stop_daemon
check "the daemon stopped cleanly" test "$DAEMON_RC" = 0

# A second daemon on a login session (email and password file).
printf '%s' "$DX_PASSWORD" >"$T/password"; chmod 600 "$T/password"
sed "s|token_file = \"$T/token\"|email = \"$DX_EMAIL\"; password_file = \"$T/password\"|" "$T/d.conf" >"$T/login.conf"
check "the login configuration names a password file" grep -q password_file "$T/login.conf"
start_daemon "$T/login.conf" || { tail "$T/daemon.log"; fail "the login daemon starts"; finish; }
check "the login daemon is in-sync" wait_for 20 is state in-sync
check "... no secret in its /proc/PID/cmdline or environ" cmdline_environ
ctl status --json >"$O/ctl-login-status.json" 2>&1
ctl history --json >"$O/ctl-login-history.json" 2>&1
stop_daemon

secret_free "dsyncctl's answers hold no secret" "$O"
secret_free "the daemon's log (debug) holds no secret" "$T/daemon.log"
secret_free "the notify messages hold no secret" "$T/notify"
secret_free "the state directory holds no secret" "$T/state"
secret_free "the dump tree (git's files too) holds no secret" "$D"
git -C "$D" log -p --all --format='%H %an %ae %cn %ce%n%B' >"$T/git-log.txt" 2>&1
git -C "$T/remote.git" log -p --all --format='%H %an %ae %cn %ce%n%B' >"$T/remote-log.txt" 2>&1
git -C "$D" config --list >"$T/git-config.txt" 2>&1
check "the git history was read" test -s "$T/git-log.txt"
secret_free "the git history of the tree and its remote, and its config, hold no secret" \
	"$T/git-log.txt" "$T/remote-log.txt" "$T/git-config.txt"
echo "files scanned for secrets: $nscanned"
# The notices the webhook got during the daemon's work: their bodies (the
# receiver's log also holds the path, whose key it was given).
mkdir -p "$T/bodies"
node -e '
const fs = require("fs");
const l = fs.readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map(JSON.parse);
l.forEach((x, i) => fs.writeFileSync(process.argv[2] + "/" + i + ".json", x.body));' "$T/received" "$T/bodies"
check "the webhook got the daemon's notices, a commit among them" grep -qlF '"event":"commit"' -r "$T/bodies"
secret_free "the notices' bodies hold no secret" "$T/bodies"
kill "$RECV_PID" 2>/dev/null

finish
