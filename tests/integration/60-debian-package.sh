#!/usr/bin/env bash
# The Debian package (debian/), on this machine, as an operator meets it:
# built twice from the tree's tracked files with dpkg-buildpackage (the
# version of debian/changelog, then a later one) and checked by lintian;
# the layout against `meson install` into a staging directory; installed
# with apt-get (the user, the directories and their modes, the units
# verified, the conffile's placeholder refused with 78); the installed
# dsyncd, run as user dsync with the installed configuration and the token
# handed over as systemd does, reaching in-sync; an upgrade keeping the
# edited conffile; remove, then purge leaving no file behind and the dump
# tree untouched. Needs root, and dsync not installed already: it installs
# and purges the package on this machine.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/daemon-lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: the package test installs a package: it needs root"
	finish
fi
# One package test at a time on a machine (two runs of the suite side by
# side would install and purge the same package under each other).
lockdir=/run/lock; [ -d "$lockdir" ] || lockdir=/tmp
exec 9>"$lockdir/dsync-package-test.lock"
flock -w 1200 9 || { fail "the package test's lock (another run holds it)"; finish; }
if dpkg-query -W -f='${Status}' dsync 2>/dev/null | grep -qE ' (installed|config-files|half-installed|unpacked|half-configured)$'; then
	echo "SKIP: package dsync is on this machine already; the test installs and purges it"
	finish
fi
for p in dpkg-buildpackage dh lintian systemd-analyze setpriv; do
	command -v "$p" >/dev/null ||
		{ fail "$p is installed (scripts/install-deps installs debhelper and lintian)"; finish; }
done
export DEBIAN_FRONTEND=noninteractive SYSTEMD_COLORS=0

CONF=/etc/dsyncd/dsyncd.conf
installed=0 pkg_pid=
pkg_cleanup() {
	if [ -n "$pkg_pid" ]; then
		kill -TERM "$pkg_pid" 2>/dev/null
		wait "$pkg_pid" 2>/dev/null
	fi
	[ "$installed" = 1 ] && apt-get purge -y -qq dsync >/dev/null 2>&1
	rm -rf /run/dsyncd
	daemon_cleanup
}
trap pkg_cleanup EXIT

# --- Build: the tracked files only (what a clean checkout has), twice.
A="$T/a" B="$T/b"
mkdir -p "$A/src" "$B/src"
git -C "$top" ls-files -z | (cd "$top" && tar --null -T - -cf -) | tar -xf - -C "$A/src"
cp -a "$A/src/." "$B/src/"
va=$(dpkg-parsechangelog -l "$A/src/debian/changelog" -S Version)
vb="$va+ci1"
{
	printf 'dsync (%s) unstable; urgency=medium\n\n  * The upgrade test'"'"'s later version.\n\n' "$vb"
	printf ' -- dsync developers <dsync@example.org>  %s\n\n' "$(date -R)"
	cat "$A/src/debian/changelog"
} >"$B/src/debian/changelog.new"
mv "$B/src/debian/changelog.new" "$B/src/debian/changelog"

build_pkg() { (cd "$1/src" && dpkg-buildpackage -us -uc -b) >"$1/build.log" 2>&1; }
check "dpkg-buildpackage -us -uc -b builds $va (with the unit tests)" build_pkg "$A" ||
	{ tail -40 "$A/build.log"; finish; }
check "... the build ran the unit tests, less suite node, and said why" \
	grep -q 'dsync: skipped here: the unit tests of suite node' "$A/build.log"
ok_line=$(grep -E '^Ok: +[0-9]+' "$A/build.log" | head -1)
check "... meson test: no test failed ($ok_line)" grep -Eq '^Fail: +0' "$A/build.log"
DEB_BUILD_OPTIONS=nocheck build_pkg "$B" || { tail -40 "$B/build.log"; fail "build $vb"; finish; }
arch=$(dpkg --print-architecture)
DEB_A="$A/dsync_${va}_$arch.deb" DEB_B="$B/dsync_${vb}_$arch.deb"
check "... dsync_${va}_$arch.deb and dsync_${vb}_$arch.deb" test -f "$DEB_A" -a -f "$DEB_B"
lint() { lintian --fail-on error,warning "$A/dsync_${va}_$arch.changes" >"$T/lintian.out" 2>&1; }
check "lintian --fail-on error,warning: clean" lint || cat "$T/lintian.out"

# --- The layout: what the .deb holds against `meson install` into a
# staging directory from a plain `meson setup --prefix=/usr` (the defaults,
# not debhelper's options). debhelper adds the copyright and changelog and
# compresses the man pages and the README.
expected='/etc/dsyncd/dsyncd.conf
/lib/systemd/system/dsyncd.service
/lib/systemd/system/dsyncd@.service
/usr/bin/dsyncctl
/usr/lib/sysusers.d/dsyncd.conf
/usr/lib/tmpfiles.d/dsyncd.conf
/usr/sbin/dsyncd
/usr/share/doc/dsync/README.md.gz
/usr/share/doc/dsync/changelog.gz
/usr/share/doc/dsync/copyright
/usr/share/doc/dsync/examples/directus-sync.config.json
/usr/share/doc/dsync/examples/dsyncd.alerts.yml
/usr/share/doc/dsync/examples/dsyncd.conf.example
/usr/share/doc/dsync/examples/dsyncd.env
/usr/share/dsync/hook-bridge.cjs
/usr/share/man/man5/dsyncd.conf.5.gz
/usr/share/man/man8/dsyncctl.8.gz
/usr/share/man/man8/dsyncd.8.gz'
dpkg-deb -c "$DEB_A" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' | LC_ALL=C sort >"$T/deb.files"
same_list() { diff -u "$1" "$2" >&2; }
check "the .deb holds the expected files" same_list <(echo "$expected") "$T/deb.files"
stage() {
	meson setup "$T/mbuild" "$A/src" --prefix=/usr -Dtests=disabled &&
		ninja -C "$T/mbuild" && DESTDIR="$T/stage" meson install -C "$T/mbuild"
} >"$T/meson.log" 2>&1
check "meson setup --prefix=/usr, meson install into a staging directory" stage ||
	tail -20 "$T/meson.log"
(cd "$T/stage" && find . ! -type d | sed 's/^\.//' | LC_ALL=C sort) >"$T/stage.files"
grep -vxE '/usr/share/doc/dsync/(copyright|changelog.gz)' "$T/deb.files" |
	sed -E 's#^(/usr/share/man/.*|/usr/share/doc/dsync/README\.md)\.gz$#\1#' >"$T/deb.cmp"
check "... the staging directory holds the same files as the .deb" same_list "$T/deb.cmp" "$T/stage.files"
check "... the same units, byte for byte" cmp "$T/stage/lib/systemd/system/dsyncd.service" "$top/systemd/dsyncd.service"
check "... and the starting point of /etc/dsyncd/dsyncd.conf" cmp "$T/stage/etc/dsyncd/dsyncd.conf" "$top/config/dsyncd.conf"
echo "# edited" >>"$T/stage/etc/dsyncd/dsyncd.conf"
check "... a second meson install keeps an existing dsyncd.conf" \
	env DESTDIR="$T/stage" meson install -C "$T/mbuild" --no-rebuild >"$T/meson2.log" 2>&1
check "... (its last line is still '# edited')" test "$(tail -1 "$T/stage/etc/dsyncd/dsyncd.conf")" = "# edited"

# --- Install. The file list compared after the purge: where a package
# writes, less what dpkg, apt and other users' tools keep (their databases,
# and the backups the user tools write of /etc/passwd and the like).
snapshot() {
	find /etc /lib /usr /var/lib /srv /opt /run/dsyncd \
		\( -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/lib/ucf \) -prune -o \
		-print 2>/dev/null |
		grep -vxE '/etc/(passwd|group|shadow|gshadow|subuid|subgid)-|/etc/\.pwd\.lock|/etc/ld\.so\.cache' |
		LC_ALL=C sort
}
snapshot >"$T/before.files"
apt_install() { apt-get install -y -qq "$1" >"$T/apt.log" 2>&1 || { tail -20 "$T/apt.log" >&2; return 1; }; }
check "apt-get install ./dsync_${va}_$arch.deb" apt_install "$DEB_A" || finish
installed=1
check "dpkg -L dsync lists the expected files" \
	same_list <(echo "$expected") <(dpkg -L dsync | while read -r f; do [ -d "$f" ] || echo "$f"; done | LC_ALL=C sort)
pv=$(sed -n "s/^  version : '\\(.*\\)',$/\\1/p" "$top/meson.build")
check "dsyncd -V runs: $(/usr/sbin/dsyncd -V 2>&1)" sh -c "/usr/sbin/dsyncd -V | grep -qx 'dsyncd $pv'"
check "dsyncctl -V runs: $(/usr/bin/dsyncctl -V 2>&1)" sh -c "/usr/bin/dsyncctl -V | grep -q '^dsyncctl $pv '"
verify=(systemd-analyze verify)
command -v man >/dev/null || verify+=(--man=no)
quiet() { "$@" >"$T/q.out" 2>&1 && [ ! -s "$T/q.out" ] || { cat "$T/q.out" >&2; return 1; }; }
check "systemd-analyze verify dsyncd.service (installed): prints nothing" \
	quiet "${verify[@]}" /lib/systemd/system/dsyncd.service
mkdir -p "$T/units"
cp /lib/systemd/system/dsyncd@.service "$T/units/dsyncd@ci.service"
check "systemd-analyze verify dsyncd@ci.service (installed template): prints nothing" \
	quiet "${verify[@]}" "$T/units/dsyncd@ci.service"

user=$(getent passwd dsync)
gid=$(getent group dsync | cut -d: -f3)
uid=$(cut -d: -f3 <<<"$user")
check "user dsync: a system user in group dsync, home /var/lib/dsyncd, no login ($user)" \
	test -n "$user" -a "$uid" -lt 1000 -a "$(cut -d: -f4 <<<"$user")" = "$gid" \
	-a "$(cut -d: -f6,7 <<<"$user")" = /var/lib/dsyncd:/usr/sbin/nologin
m() { stat -c '%a %U:%G' "$1"; }
check "/etc/dsyncd 0750 root:dsync ($(m /etc/dsyncd))" test "$(m /etc/dsyncd)" = "750 root:dsync"
check "$CONF 0640 root:dsync ($(m $CONF))" test "$(m $CONF)" = "640 root:dsync"
check "/var/lib/dsyncd 0700 dsync:dsync ($(m /var/lib/dsyncd))" test "$(m /var/lib/dsyncd)" = "700 dsync:dsync"
check "no token file shipped" test ! -e /etc/dsyncd/token
check "$CONF is a conffile" grep -qx "$CONF" /var/lib/dpkg/info/dsync.conffiles
check "dsyncd.service enabled (multi-user.target.wants)" \
	test -L /etc/systemd/system/multi-user.target.wants/dsyncd.service
# Not checked by running (no systemd as PID 1 here): what the maintainer
# scripts ask systemd to do.
scripts_ok() {
	local info=/var/lib/dpkg/info/dsync
	grep -q "deb-systemd-invoke try-restart 'dsyncd.service'" $info.postinst &&
		! grep -q 'deb-systemd-invoke start' $info.postinst &&
		grep -q "deb-systemd-invoke stop 'dsyncd.service'" $info.prerm
}
check "maintainer scripts: not started at install, try-restart on upgrade, stop on remove" scripts_ok

rc=0
/usr/sbin/dsyncd -n -f "$CONF" >/dev/null 2>"$T/n.err" || rc=$?
check "dsyncd -n with the shipped placeholder exits 78 (got $rc)" test "$rc" = 78
check "... naming the setting: $(cat "$T/n.err")" grep -q "$CONF:[0-9]*: directus.url is empty" "$T/n.err"

# --- The installed daemon as user dsync, the way dsyncd.service runs it:
# the installed configuration, filled in; the token handed over as
# LoadCredential= does ($CREDENTIALS_DIRECTORY/token, owned by the user);
# /run/dsyncd as RuntimeDirectory= makes it.
dx_install || exit 1
dx_start || exit 1
chmod 0711 "$T"
mkdir -m 0711 "$T/srv"
D="$T/srv/directus-config"
setup_dump "$DX_URL" "$DX_TOKEN" "$D" || { fail "set up the dump"; finish; }
chown -R dsync:dsync "$D"
sed -i "s|^  url = \"\";|  url = \"$DX_URL\";|; s|^dump_path = .*|dump_path = \"$D\";|" "$CONF"
(umask 077 && printf '%s\n' "$DX_TOKEN" >/etc/dsyncd/token)
rc=0
/usr/sbin/dsyncd -n -f "$CONF" >/dev/null 2>"$T/n.err" || rc=$?
check "dsyncd -n, URL filled in, no credential given: exits 78 (got $rc)" test "$rc" = 78
check "... naming it: $(cat "$T/n.err")" grep -q 'no Directus credential' "$T/n.err"
rc=0
CREDENTIALS_DIRECTORY=/etc/dsyncd /usr/sbin/dsyncd -n -f "$CONF" >"$T/n.out" 2>&1 || rc=$?
check "CREDENTIALS_DIRECTORY=/etc/dsyncd dsyncd -n -f $CONF, URL and token filled in: exits 0 (got $rc)" test "$rc" = 0
check "... and prints no token" sh -c "! grep -qF -- '$DX_TOKEN' '$T/n.out'"
rm -f /etc/dsyncd/token

mkdir -m 0700 "$T/cred"
printf '%s\n' "$DX_TOKEN" >"$T/cred/token"
chmod 0400 "$T/cred/token"
chown -R dsync:dsync "$T/cred"
install -d -m 0750 -o dsync -g dsync /run/dsyncd
env -i PATH=/usr/bin:/bin HOME=/var/lib/dsyncd CREDENTIALS_DIRECTORY="$T/cred" \
	setpriv --reuid dsync --regid dsync --init-groups \
	/usr/sbin/dsyncd -f "$CONF" >"$T/pkgd.log" 2>&1 &
pkg_pid=$!
pstate() { /usr/bin/dsyncctl status --json 2>/dev/null | json_of 'd.state'; }
check "the installed dsyncd as user dsync reaches in-sync (dsyncctl on /run/dsyncd/control.sock)" \
	wait_for 60 is pstate in-sync || tail -20 "$T/pkgd.log"
check "... it runs as dsync" test "$(stat -c %U "/proc/$pkg_pid")" = dsync
check "... its socket: /run/dsyncd/control.sock, group dsync, 0660 ($(m /run/dsyncd/control.sock))" \
	test "$(m /run/dsyncd/control.sock)" = "660 dsync:dsync"
check "... its state in /var/lib/dsyncd" test -n "$(ls -A /var/lib/dsyncd)"
/usr/bin/dsyncctl status >"$T/status.txt" 2>&1
check "... dsyncctl status names the instance" grep -qF "$DX_URL" "$T/status.txt"
kill -TERM "$pkg_pid"
rc=0
wait "$pkg_pid" || rc=$?
pkg_pid=
check "... SIGTERM: it exits 0 (got $rc)" test "$rc" = 0
check "... and leaves no token in its log" sh -c "! grep -qF -- '$DX_TOKEN' '$T/pkgd.log'"
rm -rf /run/dsyncd

# --- Upgrade to the later version: the edited conffile stays as it is.
sum_a=$(sha256sum <"$CONF")
check "apt-get install ./dsync_${vb}_$arch.deb (an upgrade)" apt_install "$DEB_B"
check "... dsync $vb installed" test "$(dpkg-query -W -f='${Version}' dsync)" = "$vb"
check "... the edited $CONF kept, byte for byte" test "$(sha256sum <"$CONF")" = "$sum_a"
check "... and its mode and owner ($(m $CONF))" test "$(m $CONF)" = "640 root:dsync"
check "... no .dpkg-dist or .dpkg-new beside it" sh -c '! ls /etc/dsyncd/*.dpkg-* 2>/dev/null | grep -q .'

# --- Remove, then purge.
tree_sum "$D" >"$T/tree.before"
check "apt-get remove dsync" sh -c "apt-get remove -y -qq dsync >'$T/apt.log' 2>&1"
check "... the programs are gone" test ! -e /usr/sbin/dsyncd -a ! -e /usr/bin/dsyncctl
check "... the configuration stays ($CONF)" test -f "$CONF"
check "apt-get purge dsync" sh -c "apt-get purge -y -qq dsync >'$T/apt.log' 2>&1"
installed=0
snapshot >"$T/after.files"
check "... no file of the package left behind (the file lists before install and after purge)" \
	same_list "$T/before.files" "$T/after.files"
tree_sum "$D" >"$T/tree.after"
check "... the dump tree untouched" cmp -s "$T/tree.before" "$T/tree.after"
check "... user dsync kept (Debian leaves system users)" getent passwd dsync

finish
