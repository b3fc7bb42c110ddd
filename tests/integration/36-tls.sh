#!/usr/bin/env bash
# TLS and secrets in the process. A CA and a certificate for 127.0.0.1
# made here, the fault proxy serving HTTPS in front of the real instance:
# without the CA a pull fails on the certificate (exit 1, nothing
# written, no request sent); with --ca-file or DSYNC_CA_FILE it gives the
# plain-http pull's tree; --insecure works and warns; a certificate for
# another name is refused. The daemon with directus.ca_file reaches
# in-sync; with tls_verify = false it works and warns at start and at each
# reload; a ca_file that does not exist is a configuration error naming
# the line (exit 78). The daemon and the commands are not dumpable (users
# made for the test): the same user cannot read /proc/PID/environ or mem;
# dumpable = true and DSYNC_DUMPABLE=1 undo it; the token is never in
# /proc/PID/cmdline or environ.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/daemon-lib.sh"

# Everything this script starts, and the users it makes, go on any exit.
tls_cleanup() {
	[ -n "${A_PID:-}" ] && kill "$A_PID" 2>/dev/null && wait "$A_PID" 2>/dev/null
	[ -n "${PROXY_PID:-}" ] && kill "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null
	[ -n "${ua:-}" ] && { userdel "$ua"; userdel "$ub"; } 2>/dev/null
	daemon_cleanup
}
trap tls_cleanup EXIT
not() { ! "$@"; }

command -v openssl >/dev/null || { fail "openssl is needed"; finish; }
dx_install || exit 1
dx_start || exit 1
D="$T/dump"
setup_dump "$DX_URL" "$DX_TOKEN" "$D" || { fail "set up the dump"; finish; }
dsyncd -u "$DX_URL" -t "$DX_TOKEN" pull --dump-path "$T/plain" >"$T/plain.log" 2>&1
check "a plain-http pull" test -f "$T/plain/collections/flows.json"
norm_openapi "$T/plain"

# --- The CA, and a certificate for 127.0.0.1 (name and SAN) signed by it.
mkdir -p "$T/tls"
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
# shellcheck disable=SC2086
openssl req -x509 $ec -keyout "$T/tls/ca.key" -out "$T/tls/ca.pem" -days 2 \
	-subj "/CN=dsync test CA" -addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" >"$T/tls/openssl.log" 2>&1 &&
openssl req $ec -keyout "$T/tls/srv.key" -out "$T/tls/srv.csr" -subj "/CN=127.0.0.1" >>"$T/tls/openssl.log" 2>&1 &&
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$T/tls/srv.ext" &&
openssl x509 -req -in "$T/tls/srv.csr" -CA "$T/tls/ca.pem" -CAkey "$T/tls/ca.key" -CAcreateserial \
	-out "$T/tls/srv.pem" -days 2 -extfile "$T/tls/srv.ext" >>"$T/tls/openssl.log" 2>&1 ||
	{ cat "$T/tls/openssl.log"; fail "openssl: make the certificates"; finish; }

# The TLS proxy in front of the instance; its log has every request.
start_proxy "$DX_URL" --tls-cert "$T/tls/srv.pem" --tls-key "$T/tls/srv.key" --log "$T/tls-requests.log"
HTTPS="https://${PROXY_URL#http://}"
port=${HTTPS##*:}

# --- The commands.
rc=0; dsyncd -u "$HTTPS" -t "$DX_TOKEN" pull --dump-path "$T/d-no-ca" >"$T/no-ca.log" 2>&1 || rc=$?
check "without the CA: exit 1 (got $rc)" test "$rc" = 1
if grep -q "GET /server/info: SSL certificate problem: .*not trusted: give its CA with --ca-file" "$T/no-ca.log"; then
	pass "... a certificate error naming the request and the way out"
else cat "$T/no-ca.log"; fail "... a certificate error naming the request and the way out"; fi
check "... nothing written" test ! -e "$T/d-no-ca"
check "... no request reached the proxy (the token never left)" test ! -s "$T/tls-requests.log"
check "... the token not printed" bash -c "! grep -qF -- '$DX_TOKEN' '$T/no-ca.log'"

rc=0; dsyncd -u "$HTTPS" -t "$DX_TOKEN" --ca-file "$T/tls/ca.pem" pull --dump-path "$T/d-ca" >"$T/ca.log" 2>&1 || rc=$?
check "--ca-file: the pull succeeds (exit $rc)" test "$rc" = 0
check "... through the TLS proxy" grep -q "^GET /server/info 200" "$T/tls-requests.log"
norm_openapi "$T/d-ca"
check "... the same tree as the plain-http pull" same_tree "$T/plain" "$T/d-ca"
check "... no TLS warning" bash -c "! grep -q 'TLS verification' '$T/ca.log'"

rc=0; DSYNC_CA_FILE="$T/tls/ca.pem" dsyncd -u "$HTTPS" -t "$DX_TOKEN" pull --dump-path "$T/d-env" >"$T/env.log" 2>&1 || rc=$?
check "DSYNC_CA_FILE: the pull succeeds (exit $rc)" test "$rc" = 0
norm_openapi "$T/d-env"
check "... the same tree as the plain-http pull" same_tree "$T/plain" "$T/d-env"
rc=0; DSYNC_CA_FILE="$T/tls/ca.pem" dsyncd -u "$HTTPS" -t "$DX_TOKEN" diff --dump-path "$T/d-env" >"$T/env-diff.log" 2>&1 || rc=$?
check "DSYNC_CA_FILE: diff of that tree finds nothing (exit $rc)" test "$rc" = 0

rc=0; dsyncd -u "$HTTPS" -t "$DX_TOKEN" --insecure pull --dump-path "$T/d-insecure" >"$T/insecure.log" 2>&1 || rc=$?
check "--insecure: the pull succeeds (exit $rc)" test "$rc" = 0
check "... and warns once: TLS verification is off for URL: $HTTPS" \
	test "$(grep -c "WARN: TLS verification is off for URL: $HTTPS\$" "$T/insecure.log")" = 1
norm_openapi "$T/d-insecure"
check "... the same tree" same_tree "$T/plain" "$T/d-insecure"
rc=0; dsyncd -u "$HTTPS" --insecure helpers wait-server-ready --timeout 10 >"$T/insecure-ready.log" 2>&1 || rc=$?
check "--insecure: wait-server-ready warns too (exit $rc)" grep -q "WARN: TLS verification is off" "$T/insecure-ready.log"
rc=0; dsyncd -u "$HTTPS" helpers wait-server-ready --interval 0.2 --timeout 1 >"$T/ready-no-ca.log" 2>&1 || rc=$?
check "wait-server-ready verifies as well: without the CA it fails (exit $rc)" \
	bash -c "[ $rc = 1 ] && grep -q 'SSL certificate problem' '$T/ready-no-ca.log'"
rc=0; dsyncd -u "$HTTPS" --ca-file "$T/tls/ca.pem" helpers wait-server-ready --timeout 10 >"$T/ready-ca.log" 2>&1 || rc=$?
check "... with --ca-file it succeeds (exit $rc)" test "$rc" = 0

rc=0; dsyncd -u "https://localhost:$port" -t "$DX_TOKEN" --ca-file "$T/tls/ca.pem" pull --dump-path "$T/d-name" >"$T/name.log" 2>&1 || rc=$?
check "a certificate for another name is refused, CA or not (exit $rc)" test "$rc" = 1
if grep -q "target host name 'localhost' (the URL must name a host the certificate was issued for)" "$T/name.log"; then
	pass "... naming the host"; else cat "$T/name.log"; fail "... naming the host"; fi
rc=0; dsyncd -u "$HTTPS" -t "$DX_TOKEN" --ca-file "$T/tls/nope.pem" pull --dump-path "$T/d-nope" >"$T/nope.log" 2>&1 || rc=$?
check "--ca-file that does not exist: exit 1 (got $rc)" test "$rc" = 1
check "... naming the file" grep -qF "the CA file (--ca-file, DSYNC_CA_FILE) $T/tls/nope.pem: No such file or directory" "$T/nope.log"
rc=0; DSYNC_CA_FILE="$T/tls/srv.key" dsyncd -u "$HTTPS" -t "$DX_TOKEN" pull --dump-path "$T/d-key" >"$T/key.log" 2>&1 || rc=$?
check "DSYNC_CA_FILE that holds no certificate: exit 1, said so (got $rc)" grep -qF "$T/tls/srv.key: holds no PEM certificate" "$T/key.log"
dsyncd --help >"$T/help.out"
check "--help shows --ca-file, DSYNC_CA_FILE and --insecure" \
	bash -c "grep -q -- '--ca-file <file>' '$T/help.out' && grep -q DSYNC_CA_FILE '$T/help.out' && grep -q -- '--insecure' '$T/help.out'"

# --- The daemon. The directus line of write_conf with a setting more.
# tls_conf FILE SETTINGS URL [EXTRA...]: SETTINGS go into directus = { }.
tls_conf() {
	local f=$1 set=$2 url=$3; shift 3
	write_conf "$f" "$url" "$D" 'poll = { interval = 2.0; };' "$@"
	sed -i "1s|token_file = |$set token_file = |" "$f"
}
warnings() { grep -c "TLS verification is off for URL: $HTTPS" "$T/daemon.log"; }

# ca_file relative to the configuration's directory.
tls_conf "$T/ca.conf" 'ca_file = "tls/ca.pem";' "$HTTPS"
"$DSYNCD" -n -f "$T/ca.conf" >"$T/n-ca.out" 2>&1; rc=$?
check "dsyncd -n with ca_file: valid (exit $rc)" test "$rc" = 0
check "... ca_file made absolute, tls_verify true" \
	bash -c "grep -qF '  ca_file = \"$T/tls/ca.pem\";' '$T/n-ca.out' && grep -q '^  tls_verify = true;' '$T/n-ca.out'"
check "... dumpable = false by default" grep -q '^dumpable = false;' "$T/n-ca.out"
notify_listen || { fail "notify listener"; finish; }
: >"$T/tls-requests.log"
start_daemon "$T/ca.conf" || { tail "$T/daemon.log"; fail "the daemon with ca_file starts"; finish; }
if wait_for 30 is 'state' in-sync; then pass "the daemon with ca_file reaches in-sync (${WAITED}s)"
else ctl status; tail "$T/daemon.log"; fail "the daemon with ca_file reaches in-sync"; fi
check "... through the TLS proxy" grep -q "^GET " "$T/tls-requests.log"
check "... no TLS warning" test "$(warnings)" = 0
check "... status: directus.tls_verify true" is "ctl status --json | json_of 'd.directus.tls_verify'" true
stop_daemon

# tls_verify = false: works, and warns at every start and every reload.
tls_conf "$T/off.conf" 'tls_verify = false;' "$HTTPS"
"$DSYNCD" -n -f "$T/off.conf" >"$T/n-off.out" 2>"$T/n-off.err"; rc=$?
check "dsyncd -n with tls_verify = false: valid (exit $rc)" test "$rc" = 0
check "... prints tls_verify = false" grep -q '^  tls_verify = false;' "$T/n-off.out"
check "... and the warning" grep -qF "warning: TLS verification is off for URL: $HTTPS" "$T/n-off.err"
: >"$T/daemon.log"
start_daemon "$T/off.conf" || { tail "$T/daemon.log"; fail "the daemon with tls_verify = false starts"; finish; }
if wait_for 30 is 'state' in-sync; then pass "the daemon with tls_verify = false reaches in-sync (${WAITED}s)"
else ctl status; tail "$T/daemon.log"; fail "the daemon with tls_verify = false reaches in-sync"; fi
check "... its log has the warning once" test "$(warnings)" = 1
check "... status: directus.tls_verify false" is "ctl status --json | json_of 'd.directus.tls_verify'" false
says_off() { ctl status | grep -q 'instance: .*TLS verification off'; }
check "... dsyncctl status says so" says_off
kill -HUP "$DAEMON_PID"
check "a reload warns again" wait_for 15 is warnings 2
kill -HUP "$DAEMON_PID"
check "... and again" wait_for 15 is warnings 3
check "... and stays in sync" wait_for 20 is 'state' in-sync
stop_daemon
check "the daemon stopped cleanly" test "$DAEMON_RC" = 0
check "the token is in no log line" bash -c "! grep -qF -- '$DX_TOKEN' '$T/daemon.log'"

# A ca_file that does not exist, or holds no certificate: a configuration
# error naming the file and line, for -n and for the daemon (exit 78).
tls_conf "$T/bad.conf" 'ca_file = "tls/missing.pem";' "$HTTPS"
"$DSYNCD" -n -f "$T/bad.conf" >"$T/n-bad.out" 2>&1; rc=$?
check "dsyncd -n, ca_file missing: exit 78 (got $rc)" test "$rc" = 78
check "... naming the file and line" grep -qF "bad.conf:1: directus.ca_file: $T/tls/missing.pem: No such file or directory" "$T/n-bad.out"
"$DSYNCD" -f "$T/bad.conf" >"$T/d-bad.out" 2>&1; rc=$?
check "the daemon, ca_file missing: exit 78 (got $rc)" test "$rc" = 78
check "... naming the file and line" grep -qF "bad.conf:1: directus.ca_file: $T/tls/missing.pem" "$T/d-bad.out"
tls_conf "$T/bad2.conf" 'ca_file = "tls/srv.key";' "$HTTPS"
"$DSYNCD" -n -f "$T/bad2.conf" >"$T/n-bad2.out" 2>&1; rc=$?
check "dsyncd -n, ca_file not a certificate: exit 78 (got $rc)" \
	bash -c "[ $rc = 78 ] && grep -qF 'bad2.conf:1: directus.ca_file: $T/tls/srv.key: holds no PEM certificate' '$T/n-bad2.out'"
stop_proxy

# --- Not dumpable. Users made for the test: A runs dsyncd, B is another.
# Their processes start with an empty environment (the test's own holds
# DX_TOKEN), so that what /proc shows is dsyncd's doing.
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: dumpable (needs root to make users)"
	finish
fi
ua=dsynctla$$ ub=dsynctlb$$
useradd -M -N "$ua" || { ua=; fail "make the test user A"; finish; }
useradd -M -N "$ub" || { userdel "$ua"; ua=; fail "make the test user B"; finish; }
chmod 711 "$T"
# as USER CMD...: CMD as USER, with an empty environment but PATH. AS_A:
# the same for A as words, for a command started in the background, whose
# $! must be dsyncd itself (env and setpriv exec it).
as() { local u=$1; shift; env -i PATH=/usr/bin:/bin setpriv --reuid "$u" --regid "$(id -g "$u")" --init-groups "$@"; }
AS_A=(env -i PATH=/usr/bin:/bin setpriv --reuid "$ua" --regid "$(id -g "$ua")" --init-groups)
owner() { stat -c %u "/proc/$1/environ" 2>/dev/null; }
# opens USER PID FILE: USER can open /proc/PID/FILE for reading (environ:
# a read ptrace check; mem: an attach check).
opens() { as "$1" /bin/bash -c 'exec 3<"$1"' _ "/proc/$2/$3" 2>/dev/null; }
# secret_free PID: the token is in neither cmdline nor environ (read as root).
secret_free() { [ -r "/proc/$1/environ" ] && grep -qa . "/proc/$1/environ" && ! grep -qaF -- "$DX_TOKEN" "/proc/$1/cmdline" "/proc/$1/environ"; }

A="$T/as-a"
mkdir -p "$A" && cp -a "$D" "$A/dump" && printf '%s' "$DX_TOKEN" >"$A/token" && chmod 600 "$A/token"
{
	echo "directus = { url = \"$DX_URL\"; token_file = \"token\"; };"
	echo 'dump_path = "dump";'
	echo 'state_dir = "state";'
	echo 'initial = "push";'
	echo 'control = { socket = "ctl.sock"; };'
} >"$A/d.conf"
chmod 600 "$A/d.conf"
chown -R "$ua" "$A"
uid_a=$(id -u "$ua")
actl() { "$DSYNCCTL" -s "$A/ctl.sock" "$@"; }
astate() { actl status --json 2>/dev/null | json_of 'd.state' 2>/dev/null; }
# start_a: dsyncd -f $A/d.conf as user A, A_PID.
start_a() {
	"${AS_A[@]}" env HOME="$A" "$DSYNCD" -f "$A/d.conf" >>"$T/as-a.log" 2>&1 &
	A_PID=$!
	wait_for 30 is astate in-sync
}
stop_a() { kill "$A_PID" 2>/dev/null; wait "$A_PID" 2>/dev/null; A_PID=; }

if start_a; then pass "the daemon runs as user A, in sync"; else tail "$T/as-a.log"; fail "the daemon runs as user A"; fi
check "... as A (Uid in /proc/PID/status)" test "$(awk '/^Uid:/ { print $2 }' "/proc/$A_PID/status")" = "$uid_a"
check "... not dumpable: /proc/PID is root's, not A's" test "$(owner "$A_PID")" = 0
check "... A itself cannot open /proc/PID/environ" not opens "$ua" "$A_PID" environ
check "... nor /proc/PID/mem (no ptrace attach)" not opens "$ua" "$A_PID" mem
check "... nor can user B open /proc/PID/environ" not opens "$ub" "$A_PID" environ
check "... the token in neither /proc/PID/cmdline nor environ" secret_free "$A_PID"
stop_a

echo 'dumpable = true;' >>"$A/d.conf"
if start_a; then pass "dumpable = true: the daemon runs, in sync"; else tail "$T/as-a.log"; fail "dumpable = true: the daemon runs"; fi
check "... dumpable: /proc/PID is A's" test "$(owner "$A_PID")" = "$uid_a"
a_opens_both() { opens "$ua" "$A_PID" environ && opens "$ua" "$A_PID" mem; }
check "... A can open /proc/PID/environ and mem (so the checks above can fail)" a_opens_both
check "... B still cannot" not opens "$ub" "$A_PID" environ
check "... the token in neither /proc/PID/cmdline nor environ" secret_free "$A_PID"
stop_a

# The commands: waiting for a server that never answers keeps one
# running; -t's value is wiped from argv at start.
# one_shot [ENV...]: dsyncd helpers wait-server-ready as A, ONE_PID.
one_shot() {
	"${AS_A[@]}" env "$@" "$DSYNCD" -u http://127.0.0.1:9 -t "$DX_TOKEN" helpers wait-server-ready \
		--interval 0.2 --timeout 4 >>"$T/one-shot.log" 2>&1 &
	ONE_PID=$!
	sleep 1
}
one_shot DSYNC_X=1
check "a command: not dumpable (/proc/PID is root's)" test "$(owner "$ONE_PID")" = 0
check "... A cannot open its /proc/PID/environ" not opens "$ua" "$ONE_PID" environ
check "... the token (given with -t) not in its cmdline" secret_free "$ONE_PID"
wait "$ONE_PID"
one_shot DSYNC_DUMPABLE=1
check "DSYNC_DUMPABLE=1: the command is dumpable (/proc/PID is A's)" test "$(owner "$ONE_PID")" = "$uid_a"
check "... A can open its /proc/PID/environ" opens "$ua" "$ONE_PID" environ
check "... the token not in its cmdline" secret_free "$ONE_PID"
wait "$ONE_PID"
finish
