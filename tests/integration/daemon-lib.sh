# Shared by the daemon tests: an instance with a dump tree that is a git
# repository, a temporary config, dsyncd in the foreground with a fake
# NOTIFY_SOCKET, dsyncctl on its socket, and waits with deadlines.
# shellcheck shell=bash
DSYNCCTL="$build/dsyncctl"

# wait_for SECONDS CMD...: run CMD until it succeeds or the deadline
# passes; returns CMD's last status. WAITED gets the seconds it took.
# DSYNC_TIME_FACTOR (default 1) multiplies every deadline: for runs under
# valgrind or a sanitizer (tests/memcheck), which are many times slower.
wait_for() {
	local limit start=$EPOCHREALTIME
	limit=$(awk -v l="$1" -v f="${DSYNC_TIME_FACTOR:-1}" 'BEGIN { print l * f }'); shift
	while :; do
		if "$@"; then
			WAITED=$(awk -v a="$EPOCHREALTIME" -v b="$start" 'BEGIN { printf "%.2f", a - b }')
			return 0
		fi
		WAITED=$(awk -v a="$EPOCHREALTIME" -v b="$start" 'BEGIN { printf "%.2f", a - b }')
		if awk -v w="$WAITED" -v l="$limit" 'BEGIN { exit !(w > l) }'; then
			return 1
		fi
		sleep 0.1
	done
}

# is 'CMD' VALUE: CMD's output is VALUE (CMD is evaluated anew each time,
# for wait_for).
is() { [ "$(eval "$1")" = "$2" ]; }
# at_least 'CMD' N: CMD's output is a number >= N.
at_least() { local v; v=$(eval "$1"); [ -n "$v" ] && [ "$v" -ge "$2" ] 2>/dev/null; }

# setup_dump URL TOKEN DIR: seed the instance, pull it into DIR, a git
# repository with one commit.
setup_dump() {
	local url=$1 token=$2 dir=$3
	seed "$url" "$token" || return 1
	mkdir -p "$dir" && git -C "$dir" init -q -b main &&
	"$DSYNCD" -u "$url" -t "$token" pull --dump-path "$dir" >"$T/pull0.log" 2>&1 &&
	git -C "$dir" add -A && git_commit "$dir" "pulled"
}
git_commit() { git -C "$1" -c user.email=t@example.com -c user.name=test commit -qm "$2"; }

# daemon_setup: the opening of a daemon test: a Directus instance (URL),
# seeded and pulled into $T/dump (D), a git repository with one commit,
# and the fake NOTIFY_SOCKET listening.
daemon_setup() {
	dx_install || exit 1
	dx_start || exit 1
	URL=$DX_URL
	D="$T/dump"
	setup_dump "$URL" "$DX_TOKEN" "$D" || { fail "set up the dump"; finish; }
	notify_listen || { fail "notify listener"; finish; }
}

# write_conf FILE URL DUMP [EXTRA SETTINGS...]; STATE_DIR overrides the
# state directory ($T/state), CONTROL_GROUP sets the socket's group and
# CONTROL_MODE its mode (default 0660),
# INITIAL the first start without a base (default here "push": git wins
# from the first job, the daemon's behaviour before two-way sync).
write_conf() {
	local f=$1 url=$2 dump=$3; shift 3
	printf '%s' "$DX_TOKEN" >"$T/token"; chmod 600 "$T/token"
	{
		echo "directus = { url = \"$url\"; token_file = \"$T/token\"; };"
		echo "dump_path = \"$dump\";"
		echo "state_dir = \"${STATE_DIR:-$T/state}\";"
		echo "debounce = 0.5;"
		echo "initial = \"${INITIAL:-push}\";"
		echo "control = { socket = \"$T/ctl.sock\"; mode = \"${CONTROL_MODE:-0660}\";${CONTROL_GROUP:+ group = \"$CONTROL_GROUP\";} };"
		local s
		for s in "$@"; do echo "$s"; done
	} >"$f"
}

# notify_listen: a datagram socket that appends what it gets, one
# message per line (newlines inside a message become "|"), to $T/notify.
notify_listen() {
	: >"$T/notify"
	python3 -c '
import socket, sys, os
p = sys.argv[1]
try: os.unlink(p)
except FileNotFoundError: pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(p)
print("ready", flush=True)
while True:
    m = s.recv(65536).decode(errors="replace").replace("\n", "|")
    with open(sys.argv[2], "a") as f: f.write(m + "\n")
' "$T/notify.sock" "$T/notify" >"$T/notify.ready" 2>&1 &
	NOTIFY_PID=$!
	wait_for 5 grep -q ready "$T/notify.ready"
}

# start_daemon CONF: dsyncd -f CONF in the foreground (background job),
# DAEMON_PID; waits for READY=1. DSYNC_WRAP (split into words) runs it
# under another program that keeps its pid, e.g. valgrind (tests/memcheck).
start_daemon() {
	local conf=$1 wrap
	read -ra wrap <<<"${DSYNC_WRAP:-}"
	: >"$T/notify"
	NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=2000000 \
		"${wrap[@]}" "$DSYNCD" -f "$conf" >>"$T/daemon.log" 2>&1 &
	DAEMON_PID=$!
	wait_for 15 grep -q '^READY=1' "$T/notify"
}
stop_daemon() {
	[ -n "${DAEMON_PID:-}" ] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_RC=$?
	DAEMON_PID=
}
ctl() { "$DSYNCCTL" -s "$T/ctl.sock" "$@"; }
# state: dsyncctl status --json's state.
state() { ctl status --json 2>/dev/null | json_of 'd.state'; }
# jobs: the number of jobs in the history (TRIGGER: of that trigger).
jobs() { ctl history --json -n 500 2>/dev/null | json_of "d.jobs.filter(j => !'${1:-}' || j.trigger === '${1:-}').length"; }
# idle: no job runs and none is queued.
idle() { ctl status --json 2>/dev/null | json_of 'd.job === null && d.queued === null' | grep -q true; }
flow_name() { dx_api GET "/flows/$1?fields=name" | json_of 'd.data.name'; }
daemon_cleanup() {
	stop_daemon
	[ -n "${NOTIFY_PID:-}" ] && kill "$NOTIFY_PID" 2>/dev/null
	it_cleanup
}
trap daemon_cleanup EXIT
