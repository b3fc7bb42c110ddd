#!/usr/bin/env bash
# Failures of a pull: wrong URL, wrong token, a non-admin token, Directus
# killed mid-pull, a 5xx, a truncated or non-JSON answer. Each must give
# a clear error and a non-zero exit, leave the previous dump byte for byte
# as it was, and never print the token.
# versions: base 12
source "$(dirname "$0")/common.sh"

seeded_dump
PID=$DX_PID
check "baseline pull succeeds" test -f "$D/collections/flows.json"
tree_sum "$D" >"$T/before"

# The instance changes after the baseline, so that a pull that went on
# would rewrite files: the failures below happen with a new tree staged.
flow=$(dx_api GET '/flows?limit=1&fields=id' | node -pe 'JSON.parse(require("fs").readFileSync(0)).data[0].id')
dx_api PATCH "/flows/$flow" '{"name":"Changed after the baseline"}' >/dev/null
dx_api PATCH /fields/articles/title '{"meta":{"note":"changed after the baseline"}}' >/dev/null

# expect_failure NAME PATTERN SECRET ARGS...: dsyncd pull ARGS must exit
# 1, print PATTERN, leave the tree as it was (no staging left), and not
# print SECRET (the token or password it was given; "" for none).
expect_failure() {
	local name=$1 pattern=$2 secret=$3; shift 3
	local log="$T/$name.log" rc=0
	dsyncd "$@" pull --dump-path "$D" >"$log" 2>&1 || rc=$?
	check "$name: exit status 1" test "$rc" -eq 1
	if grep -qE -- "$pattern" "$log"; then pass "$name: error names the cause"
	else cat "$log"; fail "$name: error names the cause ($pattern)"; fi
	tree_sum "$D" >"$T/after"
	check "$name: previous dump untouched" cmp -s "$T/before" "$T/after"
	check "$name: no staging left" test ! -e "$D/.dsync-staging"
	if [ -n "$secret" ]; then
		check "$name: the secret given is not printed" bash -c "! grep -qF -- '$secret' '$log'"
	fi
}

expect_failure wrong-url "GET /server/info: .*(onnect|refused)" "$TOKEN" -u "http://127.0.0.1:9" -t "$TOKEN"
expect_failure wrong-token "HTTP 401 INVALID_CREDENTIALS" "not-the-token-$$" -u "$URL" -t "not-the-token-$$"
expect_failure wrong-password "POST /auth/login: HTTP 401 INVALID_CREDENTIALS" "wrong-pass-$$" -u "$URL" -e "$DX_EMAIL" -p "wrong-pass-$$"
expect_failure bad-url-scheme "must start with http" "$TOKEN" -u "ftp://x" -t "$TOKEN"
expect_failure no-credentials "no credentials" "" -u "$URL"

# A user whose role has a non-admin policy, with a static token.
NA_TOKEN="dsync-nonadmin-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
role=$(dx_api POST /roles '{"name":"Editor"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).data.id')
dx_api POST /policies "{\"name\":\"Editing\",\"app_access\":true,\"admin_access\":false,\"roles\":[{\"role\":\"$role\"}]}" >/dev/null
dx_api POST /users "{\"email\":\"editor@example.com\",\"password\":\"editor-pass-123\",\"role\":\"$role\",\"token\":\"$NA_TOKEN\"}" >/dev/null
# The failed pulls above must not have changed the instance's map either.
dsyncd -u "$URL" -t "$TOKEN" pull --dump-path "$D" >/dev/null 2>&1
tree_sum "$D" >"$T/before"
dx_api PATCH "/flows/$flow" '{"name":"Changed again"}' >/dev/null
expect_failure non-admin "(admin|FORBIDDEN)" "$NA_TOKEN" -u "$URL" -t "$NA_TOKEN"

# Faults injected by a proxy in front of the real instance.
proxy() {
	python3 "$top/tests/faults/proxy.py" --upstream "${URL#http://}" "$@" >"$T/proxy.port" 2>"$T/proxy.log" &
	PROXY_PID=$!
	for _ in $(seq 50); do [ -s "$T/proxy.port" ] && break; sleep 0.1; done
	PROXY_URL="http://127.0.0.1:$(head -1 "$T/proxy.port")"
}
unproxy() { kill "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null; : >"$T/proxy.port"; }

proxy --after 6 --status 503
expect_failure status-503 "HTTP 503" "$TOKEN" -u "$PROXY_URL" -t "$TOKEN"
unproxy
proxy --after 1 --match /schema/snapshot --truncate
expect_failure truncated-body "/schema/snapshot" "$TOKEN" -u "$PROXY_URL" -t "$TOKEN"
unproxy
proxy --after 1 --match /flows --garbage
expect_failure not-json "GET /flows.*not JSON" "$TOKEN" -u "$PROXY_URL" -t "$TOKEN"
unproxy
# A failure after the whole first batch: the schema and specs that
# changed are staged by then.
dx_api PATCH /fields/articles/title '{"meta":{"note":"changed before the failure"}}' >/dev/null
proxy --match /directus-extension-sync/table/flows --status 500
expect_failure after-staging "GET /directus-extension-sync/table/flows: HTTP 500" "$TOKEN" -d -u "$PROXY_URL" -t "$TOKEN"
check "after-staging: a changed file had been staged, and was discarded" grep -q "discarded [1-9][0-9]* staged file" "$T/after-staging.log"
unproxy
proxy --after 8 --kill "$PID"
expect_failure directus-killed "(onnect|Empty reply|closed|recv)" "$TOKEN" -u "$PROXY_URL" -t "$TOKEN"
unproxy

finish
