# Shared by the 4x-faults tests (40-faults-pull, 41-faults-push, 42-faults-daemon): the faults tests/faults/proxy.py
# injects between dsyncd and a real Directus, and one faulted run of a
# one-shot command with its checks.
# shellcheck shell=bash

# Every kind of fault, in the order the tests try them.
FAULT_KINDS=(refused http500 http502 http503 http429 http431 http413 stall
	mid-body trunc-json bad-json error-body data-object data-string data-null
	drop)
# The one-shot runs' time limit per request; the stall is longer.
REQ_TIMEOUT=2
STALL=4
# The Retry-After of the 503 and the 429 (the daemon's test waits them).
RA503=${RA503:-7}
RA429=${RA429:-30}
# What a wrong "data" gives, as the request that got it says it.
DATA_PAT='(expected a list in "data"|expected an array of rows|the snapshot.s "(collections|fields|relations)" is|no snapshot object|expected an object in "data"|no version in the answer|expected [0-9]+ items in the answer|no id in the answer|no sync_id in the answer|is not the items sent|with a body, not the answer of a delete|expected \{"data")'

# fault_spec KIND: FARGS, the proxy's arguments, and FPAT, what the
# error must say (an extended regular expression).
fault_spec() {
	case $1 in
	refused) FARGS=(--refuse)
		FPAT="(Couldn't connect|Failed to connect|Connection refused|Empty reply from server|Connection reset by peer|Connection died)" ;;
	http500) FARGS=(--status 500); FPAT="HTTP 500 INTERNAL_SERVER_ERROR: injected fault" ;;
	http502) FARGS=(--status 502); FPAT="HTTP 502 INTERNAL_SERVER_ERROR" ;;
	http503) FARGS=(--status 503 --retry-after "$RA503")
		FPAT="HTTP 503 SERVICE_UNAVAILABLE: injected fault \(Retry-After: $RA503 s\)" ;;
	http429) FARGS=(--status 429 --retry-after "$RA429")
		FPAT="HTTP 429 REQUESTS_EXCEEDED: injected fault \(Retry-After: $RA429 s\)" ;;
	http431) FARGS=(--status 431); FPAT="HTTP 431" ;;
	http413) FARGS=(--status 413); FPAT="HTTP 413 CONTENT_TOO_LARGE" ;;
	stall) FARGS=(--stall "$STALL"); FPAT="timed out after 2[0-9][0-9][0-9] milliseconds" ;;
	mid-body) FARGS=(--close-mid-body); FPAT="transfer closed with [0-9]+ bytes remaining" ;;
	trunc-json) FARGS=(--truncate-json); FPAT="response is not JSON \(.*premature EOF\)" ;;
	bad-json) FARGS=(--garbage); FPAT="response is not JSON" ;;
	error-body) FARGS=(--error-body); FPAT="HTTP 200 with an error instead of data: INTERNAL_SERVER_ERROR" ;;
	data-object) FARGS=(--json-data '{}'); FPAT=$DATA_PAT ;;
	data-string) FARGS=(--json-data '"x"'); FPAT=$DATA_PAT ;;
	data-null) FARGS=(--json-data null); FPAT=$DATA_PAT ;;
	# On a kept-alive connection libcurl sends a GET again when it gets
	# no answer (never a write: see http.c), and gives up after 5 tries.
	drop) FARGS=(--drop-after-send); FPAT="(Empty reply from server|Connection died, tried 5 times)" ;;
	*) echo "fault_spec: unknown fault $1" >&2; return 1 ;;
	esac
}

# The faults injected so far (the proxies' state files), and the runs.
FAULTS_INJECTED=0
FAULT_RUNS=0
count_faults() {
	local n
	n=$(sed -n 's/.*"faults": \([0-9]*\).*/\1/p' "$T/fstate" 2>/dev/null)
	FAULTS_INJECTED=$((FAULTS_INJECTED + ${n:-0}))
}

# fproxy UPSTREAM_URL ARGS...: a proxy for one faulted run (start_proxy
# with its state file and log).
fproxy() {
	rm -f "$T/fstate" "$T/flog"
	start_proxy "$@" --state-file "$T/fstate" --log "$T/flog"
}
funproxy() { stop_proxy; count_faults; }

# faulted_run NAME KIND POINT_RE CMD...: run dsyncd CMD (its URL is
# $PROXY_URL, or a closed port for KIND refused at the first request,
# given by the caller) and check: exit status 1 (FAULT_RC), the error
# names the request (POINT_RE) and the fault (FPAT of KIND) on one line,
# the token is not printed, and a fault was injected. The output is in
# $T/NAME.log.
FAULT_RC=1
faulted_run() {
	local name=$1 kind=$2 point=$3 rc=0; shift 3
	fault_spec "$kind" || return 1
	FAULT_RUNS=$((FAULT_RUNS + 1))
	"$DSYNCD" --request-timeout "$REQ_TIMEOUT" "$@" >"$T/$name.log" 2>&1 || rc=$?
	check "$name: exit status $FAULT_RC (got $rc)" test "$rc" = "$FAULT_RC"
	# With --refuse every request after the fault fails: any may be named.
	[ "$kind" = refused ] && point="(GET|POST|PATCH|DELETE) /"
	if P=$point F=$FPAT awk '/ERROR: / && $0 ~ ENVIRON["P"] && $0 ~ ENVIRON["F"] { ok = 1 }
	    END { exit !ok }' "$T/$name.log"; then
		pass "$name: the error names the request and the fault"
	else
		grep -v ' INFO: ' "$T/$name.log" | tail -3
		fail "$name: the error names the request ($point) and the fault ($FPAT)"
	fi
	check "$name: no token in the output" bash -c '! grep -qF -- "$1" "$2"' _ "$DX_TOKEN" "$T/$name.log"
}

# injected: the proxy of the run injected at least one fault (so that a
# run that passed through the faulted point unharmed counts as a failure).
injected() { grep -q '"faults": [1-9]' "$T/fstate" 2>/dev/null; }

# act_count: the number of rows in the activity log of $DX_URL (what
# moves when anything is written).
act_count() {
	curl -s -g -H "Authorization: Bearer $DX_TOKEN" "$DX_URL/activity?aggregate[count]=id" |
		sed -n 's/.*"id":\([0-9]*\).*/\1/p'
}

# free_port: a port nothing listens on (bound, then released).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# instance_ok URL DUMP [ARGS]: faults-check.py (no duplicates, nothing
# missing, every item tracked but the untracked ones named).
instance_ok() {
	local url=$1 dump=$2; shift 2
	DX_TOKEN=$DX_TOKEN python3 "$top/tests/integration/faults-check.py" "$url" "$dump" "$@" >"$T/icheck.out" 2>&1 ||
		{ head -20 "$T/icheck.out" >&2; return 1; }
}
