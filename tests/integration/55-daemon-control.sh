#!/usr/bin/env bash
# The control socket and the configuration: junk, an oversized line, a
# wrong version and a half-closed connection get an error or an answer,
# never a crash; a mutating command from another uid is refused while
# status from the socket's group works, the socket has the configured
# mode and group, and mode 0600 shuts the group out (users made for the
# test);
# dsyncd -n on broken files names the line; an unknown setting and a
# token file readable by others are refused; the example config passes.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/daemon-lib.sh"

# --- Configuration checks, no Directus needed.
printf 'secret-token-%s' "$$" >"$T/token"; chmod 600 "$T/token"
conf() { printf '%s\n' "directus = { url = \"http://127.0.0.1:9\"; token_file = \"$T/token\"; };" "dump_path = \"$T\";" "$@" >"$T/c.conf"; }
conf 'allow_deletes = ;'
"$DSYNCD" -n -f "$T/c.conf" >"$T/n1.out" 2>&1; rc=$?
check "dsyncd -n: a broken file exits 78 (got $rc)" test "$rc" = 78
check "... naming the file and line" grep -q "c.conf:3" "$T/n1.out"
conf 'max_delete = 3;'
"$DSYNCD" -n -f "$T/c.conf" >"$T/n2.out" 2>&1; rc=$?
check "an unknown setting is refused ($rc), with a suggestion" grep -q "c.conf:3: unknown setting 'max_delete' (did you mean 'max_deletes'?)" "$T/n2.out"
conf
chmod 644 "$T/token"
"$DSYNCD" -n -f "$T/c.conf" >"$T/n3.out" 2>&1; rc=$?
check "a token file readable by others is refused ($rc)" grep -q "readable by other users" "$T/n3.out"
chmod 600 "$T/token"
"$DSYNCD" -n -f "$T/c.conf" >"$T/n4.out" 2>&1
check "dsyncd -n prints the effective configuration" grep -q '^dump_path' "$T/n4.out"
check "... the token shown as (set), never itself" bash -c "grep -q '(set)' '$T/n4.out' && ! grep -qF 'secret-token-$$' '$T/n4.out'"
sed "s|/etc/dsyncd/token|$T/token|" "$top/config/dsyncd.conf.example" >"$T/example.conf"
check "the example configuration passes dsyncd -n" "$DSYNCD" -n -f "$T/example.conf"

# --- A daemon to talk to.
dx_install || exit 1
dx_start || exit 1
D="$T/dump"
setup_dump "$DX_URL" "$DX_TOKEN" "$D" || { fail "set up the dump"; finish; }
notify_listen || { fail "notify listener"; finish; }
group=
if [ "$(id -u)" = 0 ]; then
	group=dsynctest$$
	groupadd "$group" && useradd -M -N -g "$group" "dsyncr$$" && useradd -M -N "dsyncx$$" ||
		{ fail "make the test users"; group=; }
fi
CONTROL_GROUP=$group write_conf "$T/d.conf" "$DX_URL" "$D" 'poll = { interval = 30.0; };'
start_daemon "$T/d.conf" || { tail "$T/daemon.log"; cat "$T/d.conf"; fail "daemon starts"; finish; }
wait_for 20 is 'state' in-sync

# raw LINE...: send lines on one connection, print the replies.
raw() {
	python3 - "$T/ctl.sock" "$@" <<'EOF'
import socket, sys, json
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
mode = sys.argv[2]
if mode == "junk": s.sendall(b"this is not json\n")
elif mode == "long": s.sendall(b"{" + b" " * 70000 + b"\n")
elif mode == "version": s.sendall(b'{"v":2,"id":1,"cmd":"status"}\n')
elif mode == "unknown": s.sendall(b'{"v":1,"id":3,"cmd":"rm-rf"}\n')
elif mode == "half":
    s.sendall(b'{"v":1,"id":9,"cmd":"status"}\n'); s.shutdown(socket.SHUT_WR)
elif mode == "nul": s.sendall(b'{"v":1,"id":4,"cmd":"sta\x00tus"}\n')
elif mode == "deep": s.sendall(b"[" * 20000 + b"\n")
b = b""
try:
    while True:
        c = s.recv(1 << 20)
        if not c: break
        b += c
        if mode != "half" and b.endswith(b"\n"): break
except socket.timeout: pass
print(b.decode(errors="replace").strip()[:300])
EOF
}
for m in junk long version unknown half nul deep; do
	out=$(raw "$m")
	case $m in
	junk) want='"bad_request"' ;; long) want='"too_long"' ;; version) want='"bad_version"' ;;
	unknown) want='"unknown_command"' ;; half) want='"ok":true' ;; nul) want='"ok":false' ;; deep) want='"bad_request"' ;;
	esac
	if printf '%s' "$out" | grep -q "$want"; then pass "socket, $m: $want"
	else printf '%s\n' "$out"; fail "socket, $m: $want"; fi
	check "... and the daemon still answers" test "$(state)" = in-sync
done
check "the daemon is still up after the junk" kill -0 "$DAEMON_PID"

# --- Other users.
if [ -n "$group" ]; then
	chmod 711 "$T"
	cp "$DSYNCCTL" "$T/dsyncctl-copy" && chmod 755 "$T/dsyncctl-copy"
	as() { local u=$1; shift; setpriv --reuid "$u" --regid "$(id -g "$u")" --init-groups "$T/dsyncctl-copy" -s "$T/ctl.sock" "$@"; }
	check "the socket has the configured mode and group" test "$(stat -c '%a %G %U' "$T/ctl.sock")" = "660 $group $(id -un)"
	as "dsyncr$$" status --json >"$T/group-status.json" 2>&1
	check "status from the socket's group works" test "$(json_of 'd.state' <"$T/group-status.json")" = in-sync
	as "dsyncr$$" pause "not mine" >"$T/group-pause.out" 2>&1; rc=$?
	check "a mutating command from another uid is refused (exit $rc)" test "$rc" = 1
	check "... as denied" grep -q denied "$T/group-pause.out"
	check "... and nothing changed" test "$(state)" = in-sync
	as "dsyncx$$" status >"$T/other.out" 2>&1; rc=$?
	check "a user outside the group cannot even connect (exit $rc)" test "$rc" = 1
	check "... and is told which socket was tried" grep -qF "$T/ctl.sock" "$T/other.out"
	# Another mode: 0600 shuts the group out too; the owner still works.
	stop_daemon
	CONTROL_MODE=0600 CONTROL_GROUP=$group write_conf "$T/d600.conf" "$DX_URL" "$D" 'poll = { interval = 30.0; };'
	start_daemon "$T/d600.conf" || { tail "$T/daemon.log"; fail "daemon starts with mode 0600"; }
	check "mode 0600: the socket has it" test "$(stat -c '%a %G' "$T/ctl.sock")" = "600 $group"
	as "dsyncr$$" status >"$T/group600.out" 2>&1; rc=$?
	check "... a member of the group cannot connect (exit $rc)" test "$rc" = 1
	check "... the owner is answered" wait_for 20 is state in-sync
	as "dsyncr$$" resume >"$T/group600-resume.out" 2>&1; rc=$?
	check "... nor send a mutating command (exit $rc)" test "$rc" = 1
	stop_daemon
	userdel "dsyncr$$"; userdel "dsyncx$$"; groupdel "$group"
else
	echo "SKIP: users made for the test (needs root)"
	stop_daemon
fi
check "the daemon stopped cleanly" test "$DAEMON_RC" = 0
check "the token is in no log line" bash -c "! grep -qF -- '$DX_TOKEN' '$T/daemon.log'"
finish
