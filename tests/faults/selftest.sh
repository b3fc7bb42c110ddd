#!/usr/bin/env bash
# Self-test of tests/faults/proxy.py against a small echo server (no
# Directus needed): every flag, forwarding, keep-alive, signals.
# Prints PASS:/FAIL: lines; exits 1 if anything failed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
PROXY="$here/proxy.py"
T=$(mktemp -d)
FAILS=0
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
export PYTHONDONTWRITEBYTECODE=1

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; FAILS=$((FAILS + 1)); }
# check NAME COMMAND...: PASS if the command succeeds.
check() { local n=$1; shift; if "$@"; then pass "$n"; else fail "$n"; fi; }

# The upstream: answers any method with JSON describing the request,
# logs "METHOD PATH" to $T/upstream.log; /status/N answers N, /nocontent
# answers 204. Prints its port first.
cat >"$T/upstream.py" <<'EOF'
import http.server, json, socketserver, sys
log = open(sys.argv[1], "a")
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else None
        log.write(f"{self.command} {self.path}\n"); log.flush()
        if self.path == "/nocontent":
            self.send_response(204); self.end_headers(); return
        status = int(self.path[8:11]) if self.path.startswith("/status/") else 200
        data = json.dumps({"data": {"method": self.command, "path": self.path,
                 "body": body, "id": 42,
                 "headers": {k.lower(): v for k, v in self.headers.items()}}}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Up", "yes")
        self.send_header("Set-Cookie", "a=1")
        self.send_header("Set-Cookie", "b=2")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = any
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
EOF

# wait_port FILE: wait for a first line in FILE, print it.
wait_port() {
	local _
	for _ in $(seq 100); do [ -s "$1" ] && { head -1 "$1"; return 0; }; sleep 0.05; done
	return 1
}
start_upstream() { # sets UP_PID, UP (host:port)
	python3 "$T/upstream.py" "$T/upstream.log" >"$T/up.port" &
	UP_PID=$!; PIDS+=("$UP_PID")
	UP="127.0.0.1:$(wait_port "$T/up.port")"
}
start_proxy() { # start_proxy ARGS...: sets P_PID, URL (upstream: $UP)
	: >"$T/p.port"
	python3 "$PROXY" --upstream "$UP" "$@" >"$T/p.port" 2>>"$T/proxy.err" &
	P_PID=$!; PIDS+=("$P_PID")
	URL="http://127.0.0.1:$(wait_port "$T/p.port")"
}
stop_proxy() { kill "$P_PID" 2>/dev/null || true; wait "$P_PID" 2>/dev/null || true; }

# req ARGS...: curl; sets CODE (HTTP status, 000 if none), RC (curl's exit
# status), BODY (the body), HDRS (the response headers file).
req() {
	RC=0
	CODE=$(curl -s -o "$T/body" -D "$T/hdrs" -w '%{http_code}' --max-time 10 "$@") || RC=$?
	BODY=$(cat "$T/body" 2>/dev/null || true)
	HDRS="$T/hdrs"
}
# jget EXPR: evaluate a Python expression on the JSON body as `j`.
jget() { python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$BODY" "$1"; }
codes() { # codes N ARGS...: the statuses of N identical requests, spaced
	local i out=()
	for i in $(seq "$1"); do req "${@:2}"; out+=("$CODE"); done
	echo "${out[*]}"
}

start_upstream

# --- Forwarding.
start_proxy
req "$URL/a/b?x=1&y=%20z" -H "X-Test: hello" -H "Connection: keep-alive, X-Hop" -H "X-Hop: no"
check "GET forwarded with path and query" [ "$CODE $(jget 'j["data"]["method"]+" "+j["data"]["path"]')" = "200 GET /a/b?x=1&y=%20z" ]
check "request headers forwarded" [ "$(jget 'j["data"]["headers"].get("x-test")')" = hello ]
check "hop-by-hop request headers dropped" [ "$(jget '"x-hop" in j["data"]["headers"] or "connection" in j["data"]["headers"]')" = False ]
check "response headers forwarded (repeated ones too)" \
	bash -c 'grep -qi "^X-Up: yes" "$1" && [ "$(grep -ci "^Set-Cookie:" "$1")" = 2 ]' _ "$HDRS"
for m in POST PATCH PUT DELETE; do
	req -X "$m" "$URL/items/x" -H "Content-Type: application/json" --data-binary "{\"m\":\"$m\"}"
	check "$m forwarded with its body" [ "$(jget 'j["data"]["method"]+" "+j["data"]["body"]')" = "$m {\"m\":\"$m\"}" ]
done
printf '%05000d' 7 >"$T/big"
req -X POST "$URL/chunked" -H "Transfer-Encoding: chunked" --data-binary @"$T/big"
check "chunked request body forwarded" [ "$(jget 'len(j["data"]["body"])')" = 5000 ]
req -X POST "$URL/empty" --data-binary ''
check "empty POST body forwarded" [ "$CODE $(jget 'j["data"]["body"]')" = "200 None" ]
req -I "$URL/head"
check "HEAD keeps the upstream Content-Length" bash -c '[ "$1" = 200 ] && grep -qi "^Content-Length: [1-9]" "$2"' _ "$CODE" "$HDRS"
req "$URL/nocontent"
check "204 forwarded" [ "$CODE" = 204 ]
req "$URL/status/404"
check "upstream status forwarded" [ "$CODE" = 404 ]
curl -sv -o /dev/null -o /dev/null "$URL/k1" "$URL/k2" -X POST -d x 2>"$T/ka" || true
check "keep-alive between client and proxy" grep -q "Re-using existing connection" "$T/ka"
stop_proxy

# --- --after N: from the Nth matching request on, every later one.
start_proxy --after 3 --status 503
check "--after 3 --status 503: 200 200 503 503 503" [ "$(codes 5 "$URL/x")" = "200 200 503 503 503" ]
req "$URL/x"
check "--status body is Directus-style" [ "$(jget 'j["errors"][0]["message"]+" "+j["errors"][0]["extensions"]["code"]')" = "injected fault SERVICE_UNAVAILABLE" ]
stop_proxy

# --- --match, --method, --count.
start_proxy --match /x --method post --count 2 --status 500
out=""
for r in "GET /x" "POST /y" "POST /x" "PATCH /x" "POST /a/x?q" "POST /x" "POST /x"; do
	req -X "${r% *}" "$URL${r#* }" -d '{}'; out="$out $CODE"
done
check "--match /x --method post --count 2" [ "$out" = " 200 200 500 200 500 200 200" ]
stop_proxy
start_proxy --match /x --after 2 --count 1 --status 502
check "--after 2 --count 1 --status 502" [ "$(codes 4 "$URL/x")" = "200 502 200 200" ]
stop_proxy

# --- --status codes, --retry-after, --code.
for sc in 401:INVALID_CREDENTIALS 403:FORBIDDEN 429:REQUESTS_EXCEEDED 413:CONTENT_TOO_LARGE 500:INTERNAL_SERVER_ERROR 431:INTERNAL_SERVER_ERROR; do
	start_proxy --status "${sc%:*}"
	req "$URL/x"
	check "--status ${sc%:*}: code ${sc#*:}" [ "$CODE $(jget 'j["errors"][0]["extensions"]["code"]')" = "${sc%:*} ${sc#*:}" ]
	stop_proxy
done
start_proxy --status 429 --retry-after 7
req "$URL/x"
check "--retry-after 7" grep -qi "^Retry-After: 7" "$HDRS"
stop_proxy
start_proxy --status 401 --code TOKEN_EXPIRED
req "$URL/x"
check "--code TOKEN_EXPIRED" [ "$CODE $(jget 'j["errors"][0]["extensions"]["code"]')" = "401 TOKEN_EXPIRED" ]
stop_proxy

# --- Answers that are wrong in content.
start_proxy --garbage
req "$URL/x"
check "--garbage: 200, not JSON" [ "$CODE $BODY" = "200 <html>proxy error</html>" ]
stop_proxy
for v in '"x"' '{}' 'null' '[1,2]'; do
	start_proxy --json-data "$v"
	req "$URL/x"
	check "--json-data $v" [ "$CODE $BODY" = "200 {\"data\":$v}" ]
	stop_proxy
done
check "--json-data refuses text that is not JSON" bash -c '! python3 "$1" --upstream "$2" --json-data "{x" 2>/dev/null' _ "$PROXY" "$UP"
start_proxy --error-body
req "$URL/x"
check "--error-body: 200 with errors" [ "$CODE $(jget 'j["errors"][0]["extensions"]["code"]')" = "200 INTERNAL_SERVER_ERROR" ]
stop_proxy
start_proxy --error-body --code FORBIDDEN
req "$URL/x"
check "--error-body --code FORBIDDEN" [ "$CODE $(jget 'j["errors"][0]["extensions"]["code"]')" = "200 FORBIDDEN" ]
stop_proxy

# --- --sub.
start_proxy --match /snap --sub '"path": "/snap[^"]*"' '"path": "../../x"' --sub '"id": (\d+)' '"id": "\1"'
req "$URL/snap?a=1"
check "--sub rewrites the body" [ "$CODE $(jget 'j["data"]["path"]') $(jget 'repr(j["data"]["id"])')" = "200 ../../x '42'" ]
check "--sub recomputes Content-Length" grep -qi "^Content-Length: ${#BODY}"$'\r' "$HDRS"
req "$URL/other"
check "--sub only on matching requests" [ "$(jget 'j["data"]["id"]')" = 42 ]
stop_proxy

# --- Connections closed without an answer.
start_proxy --truncate
req "$URL/x"
check "--truncate: curl sees a partial body" [ "$RC $CODE" = "18 200" ]
stop_proxy
start_proxy --close-mid-body
req "$URL/x"
check "--close-mid-body: same as --truncate" [ "$RC $CODE" = "18 200" ]
stop_proxy
start_proxy --drop-after-send --method POST
: >"$T/upstream.log"
req -X POST "$URL/write" -d '{"a":1}'
check "--drop-after-send: no answer" [ "$RC $CODE" = "52 000" ]
check "--drop-after-send: upstream got the write" grep -qx "POST /write" "$T/upstream.log"
stop_proxy
start_proxy --stall 1
s=$(date +%s%N)
req "$URL/x"
e=$((($(date +%s%N) - s) / 1000000))
check "--stall 1: closed with no answer after 1 s (${e} ms)" test "$RC $CODE" = "52 000" -a "$e" -ge 950
req --max-time 0.3 "$URL/x"
check "--stall: a client timeout fires" [ "$RC" = 28 ]
stop_proxy

# --- --truncate-json: a complete answer holding half the body.
start_proxy
req "$URL/half"; full=$BODY
stop_proxy
start_proxy --truncate-json --match /half
req "$URL/half"
check "--truncate-json: a complete answer (curl ok), half the body" \
	[ "$RC $CODE ${#BODY} $BODY" = "0 200 $((${#full} / 2)) ${full:0:$((${#full} / 2))}" ]
check "--truncate-json: the body is not JSON" bash -c '! python3 -c "import json,sys; json.loads(sys.argv[1])" "$1" 2>/dev/null' _ "$BODY"
check "--truncate-json: Content-Length says so" grep -qi "^Content-Length: ${#BODY}"$'\r' "$HDRS"
stop_proxy

# --- --refuse: from the Nth request on, no connection is accepted and
# open ones get no answer.
start_proxy --refuse --after 2 --state-file "$T/rstate"
req "$URL/r1"; c1=$CODE
curl -sv -o /dev/null -o /dev/null --max-time 5 "$URL/r2" "$URL/r3" 2>"$T/refuse" || true
req "$URL/r4"
check "--refuse --after 2: first answered, then refused (curl 7)" [ "$c1 $RC $CODE" = "200 7 000" ]
check "--refuse: the faulted request got no answer" grep -q "Empty reply\|Connection refused" "$T/refuse"
check "--refuse: counted as one fault" grep -q '"faults": 1' "$T/rstate"
stop_proxy

# --- --port: listen where asked, again after a stop.
python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' >"$T/pfree"
pp=$(cat "$T/pfree")
start_proxy --port "$pp"
req "$URL/p"
check "--port: listens on the port asked ($pp)" [ "$URL $CODE" = "http://127.0.0.1:$pp 200" ]
stop_proxy
start_proxy --port "$pp"
req "$URL/p"
check "--port: the same port again at once" [ "$URL $CODE" = "http://127.0.0.1:$pp 200" ]
stop_proxy

# --- --log-times: when each request came, and whether it was faulted.
start_proxy --log "$T/tlog" --log-times --match /f --status 503 --retry-after 1
s0=$(date +%s)
req "$URL/a"; req "$URL/f"
stop_proxy
check "--log-times: time and fault flag per line" awk -v s="$s0" '
	NR == 1 && !($1 == "GET" && $2 == "/a" && $3 == 200 && $4 >= s && $4 < s + 30 && $5 == "-") { exit 1 }
	NR == 2 && !($3 == 503 && $4 >= s && $5 == "F") { exit 1 }
	END { exit NR != 2 }' "$T/tlog"

# --- --kill: the upstream dies, the client gets no answer.
# (started outside this shell's jobs, so that bash does not report its death)
UP2_PID=$(bash -c 'python3 "$1" "$2" >"$3" 2>/dev/null & echo $!' _ "$T/upstream.py" "$T/upstream2.log" "$T/up2.port")
PIDS+=("$UP2_PID")
UP2="127.0.0.1:$(wait_port "$T/up2.port")"
saved=$UP; UP=$UP2
start_proxy --after 2 --kill "$UP2_PID"
req "$URL/x"; first=$CODE
req "$URL/x"
check "--after 2 --kill: first answered, second dropped" [ "$first $RC $CODE" = "200 52 000" ]
for _ in $(seq 50); do kill -0 "$UP2_PID" 2>/dev/null || break; sleep 0.05; done
check "--kill: the process is dead" bash -c '! kill -0 "$1" 2>/dev/null' _ "$UP2_PID"
stop_proxy
UP=$saved

# --- Upstream unreachable.
python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' >"$T/free"
saved=$UP; UP="127.0.0.1:$(cat "$T/free")"
start_proxy
req "$URL/x"
check "unreachable upstream: connection closed, no answer" [ "$RC $CODE" = "52 000" ]
stop_proxy
UP=$saved

# --- --log.
start_proxy --log "$T/log" --match /bad --status 500
req "$URL/a?q=1"; req -X POST "$URL/bad" -d x; req -X DELETE "$URL/c"
stop_proxy
start_proxy --log "$T/log" --drop-after-send
req -X PATCH "$URL/d" -d x
stop_proxy
printf 'GET /a?q=1 200\nPOST /bad 500\nDELETE /c 200\nPATCH /d -\n' >"$T/log.want"
check "--log: METHOD PATH STATUS per request, appended" cmp -s "$T/log" "$T/log.want"

# --- --delay.
start_proxy --delay 0.4 --log "$T/dlog"
s=$(date +%s%N)
req "$URL/x"; req "$URL/y"
e=$((($(date +%s%N) - s) / 1000000))
check "--delay 0.4: two requests take >= 800 ms (${e} ms)" test "$CODE" = 200 -a "$e" -ge 800
stop_proxy

# --- SIGUSR1/SIGUSR2 and --state-file.
start_proxy --status 500 --state-file "$T/state"
check "--state-file written at start" [ "$(cat "$T/state" 2>/dev/null)" = '{"requests": 0, "faults": 0, "paused": false}' ]
req "$URL/x"; c1=$CODE
kill -USR1 "$P_PID"
for _ in $(seq 50); do grep -q '"paused": true' "$T/state" && break; sleep 0.05; done
req "$URL/x"; c2=$CODE
req "$URL/x"; c3=$CODE
check "--state-file while paused" [ "$(cat "$T/state")" = '{"requests": 3, "faults": 1, "paused": true}' ]
kill -USR2 "$P_PID"
for _ in $(seq 50); do grep -q '"paused": false' "$T/state" && break; sleep 0.05; done
req "$URL/x"; c4=$CODE
check "SIGUSR1 pauses, SIGUSR2 resumes: 500 200 200 500" [ "$c1 $c2 $c3 $c4" = "500 200 200 500" ]
check "--state-file after resume" [ "$(cat "$T/state")" = '{"requests": 4, "faults": 2, "paused": false}' ]
check "--state-file: no temporary file left" [ "$(ls "$T" | grep -c '^state')" = 1 ]
stop_proxy

# --- Bad combinations are refused.
for bad in "--status 500 --garbage" "--retry-after 3" "--code X" "--truncate --stall 1" "--sub a" "--refuse --truncate-json"; do
	# shellcheck disable=SC2086
	check "refused: $bad" bash -c '! python3 "$1" --upstream "$2" $3 >/dev/null 2>&1' _ "$PROXY" "$UP" "$bad"
done

# --- Many concurrent requests.
start_proxy --log "$T/clog"
cpids=()
for i in $(seq 20); do curl -s -o /dev/null --max-time 10 "$URL/c$i" & cpids+=($!); done
wait "${cpids[@]}" || true
stop_proxy
check "20 concurrent requests all answered" [ "$(grep -c ' 200$' "$T/clog")" = 20 ]

# --- HTTPS: --tls-cert and --tls-key (a CA and a certificate for
# 127.0.0.1 made here), a client that refuses the certificate.
if command -v openssl >/dev/null; then
	ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
	# shellcheck disable=SC2086
	openssl req -x509 $ec -keyout "$T/ca.key" -out "$T/ca.pem" -days 2 -subj "/CN=proxy test CA" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null &&
	openssl req $ec -keyout "$T/srv.key" -out "$T/srv.csr" -subj "/CN=127.0.0.1" 2>/dev/null &&
	printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$T/srv.ext" &&
	openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
		-out "$T/srv.pem" -days 2 -extfile "$T/srv.ext" 2>/dev/null || fail "openssl: make the certificates"
	start_proxy --tls-cert "$T/srv.pem" --tls-key "$T/srv.key" --status 503 --after 2
	URL="https://${URL#http://}"
	req "$URL/t"
	check "--tls-cert: an untrusted certificate is refused by the client" [ "$CODE $RC" = "000 60" ]
	req --cacert "$T/ca.pem" "$URL/t?a=1"
	check "--tls-cert: with its CA, forwarded over HTTPS" [ "$CODE $(jget 'j["data"]["path"]')" = "200 /t?a=1" ]
	req --cacert "$T/ca.pem" "$URL/t"
	check "--tls-cert: faults as over HTTP (the refused handshake counted no request)" [ "$CODE" = 503 ]
	curl -sv --cacert "$T/ca.pem" -o /dev/null -o /dev/null "$URL/a" "$URL/b" 2>"$T/tls-ka" || true
	check "--tls-cert: keep-alive" grep -q "Re-using existing connection" "$T/tls-ka"
	stop_proxy
	check "refused: --tls-key without --tls-cert" bash -c '! python3 "$1" --upstream "$2" --tls-key "$3" >/dev/null 2>&1' _ "$PROXY" "$UP" "$T/srv.key"
	check "refused: --tls-cert that is not a certificate" bash -c '! python3 "$1" --upstream "$2" --tls-cert "$3" >/dev/null 2>&1' _ "$PROXY" "$UP" "$T/srv.ext"
else
	echo "SKIP: --tls-cert (no openssl)"
fi

if [ "$FAILS" -gt 0 ]; then echo "$FAILS check(s) failed"; exit 1; fi
echo "all checks passed"
