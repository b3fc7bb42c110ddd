#!/usr/bin/env bash
# Hooks: command hooks in a JSON config at each point (onQuery filters
# the pull, onDump sees the items before their relations are mapped and
# their ignored fields dropped, onSave writes, onLoad reads; the
# snapshot's onSave and onLoad), and hooks that fail, hang, answer
# something that is not JSON or not of the right shape: an error naming
# the hook, the tree as it was. A directus-sync.config.js run through the
# bridge gives the same dump as directus-sync 3.4.1 with the same file,
# its hooks using a Directus client; without node it is an error that
# says so. The daemon runs its hooks (dsyncd.conf and js_config) in its
# jobs and starts no process on an idle poll.
# versions: base 12
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/daemon-lib.sh"

daemon_setup
H="$T/hooks"
mkdir -p "$H"
# A hook is any program: these are small node scripts.
hook() { # NAME JS-BODY (a = the data; the result is printed)
	printf '%s\n' "const fs = require('fs'); let a = JSON.parse(fs.readFileSync(0, 'utf8'));" "$2" \
		"process.stdout.write(JSON.stringify(a));" >"$H/$1.js"
}
hook query-flows 'a.filter = { name: { _neq: "Nightly cleanup" } };'
hook dump-roles 'fs.writeFileSync(process.env.OUT + "/roles-dump.json", JSON.stringify(a)); a.forEach((r) => { r.description = "dumped"; });'
hook save-flows 'fs.writeFileSync(process.env.OUT + "/env.txt", process.env.DSYNC_HOOK + " " + process.env.DSYNC_COLLECTION); fs.writeFileSync(process.env.OUT + "/hook-env.txt", JSON.stringify(process.env) + "\n" + fs.readFileSync("/proc/self/cmdline", "utf8")); a.forEach((f) => { f.description = "[saved] " + (f.description || ""); });'
hook load-flows 'a.forEach((f) => { f.description = f.description.replace(/^\[saved\] /, "") || null; });'
hook save-snap 'a.x_dsync_hook = true;'
hook load-snap 'fs.writeFileSync(process.env.OUT + "/snap-load.txt", String(a.x_dsync_hook)); delete a.x_dsync_hook;'
export OUT="$T"
cat >"$T/cfg.json" <<EOF
{ "hooks": {
    "flows": { "onQuery": "node $H/query-flows.js", "onSave": "node $H/save-flows.js", "onLoad": "node $H/load-flows.js" },
    "roles": { "onDump": "node $H/dump-roles.js" },
    "snapshot": { "onSave": "node $H/save-snap.js", "onLoad": "node $H/load-snap.js" } } }
EOF
P="$T/hooked"
# The token through DIRECTUS_TOKEN (and the test's own DX_TOKEN out of the
# way): dsyncd takes it out of its environment before any hook runs.
env -u DX_TOKEN DIRECTUS_TOKEN="$DX_TOKEN" "$DSYNCD" -u "$URL" -c "$T/cfg.json" pull --dump-path "$P" >"$T/p1.log" 2>&1
check "a pull with command hooks exits 0" test $? = 0 || cat "$T/p1.log"
flows_in() { json_of 'd.map((f) => f.name).sort().join("|")' <"$1/collections/flows.json"; }
api_flows=$(dx_api GET '/flows?fields=name&limit=-1' | json_of 'd.data.map((f) => f.name).filter((n) => n !== "Nightly cleanup").sort().join("|")')
check "onQuery: the flows but Nightly cleanup ($(flows_in "$P"))" test "$(flows_in "$P")" = "$api_flows"
check "onSave: the file holds what it wrote" \
	test "$(json_of 'd.every((f) => f.description.startsWith("[saved] "))' <"$P/collections/flows.json")" = true
check "... with DSYNC_HOOK and DSYNC_COLLECTION set" test "$(cat "$T/env.txt")" = "onSave flows"
check "... and neither the token in its environment nor in its command line" bash -c "! grep -qF '$DX_TOKEN' '$T/hook-env.txt'"
check "onDump: items with their SyncID and no id" \
	test "$(json_of 'd.every((r) => r._syncId && !("id" in r))' <"$T/roles-dump.json")" = true
check "... before the ignored fields are dropped (roles' users is there)" \
	test "$(json_of 'd.every((r) => "users" in r)' <"$T/roles-dump.json")" = true
check "... and what it changed is in the file" \
	test "$(json_of 'd.every((r) => r.description === "dumped")' <"$P/collections/roles.json")" = true
check "snapshot.onSave: info.json holds its mark" test "$(json_of 'd.x_dsync_hook' <"$P/snapshot/info.json")" = true
dsyncd -u "$URL" -t "$DX_TOKEN" -c "$T/cfg.json" diff --dump-path "$P" -x roles,flows,operations >"$T/d1.out" 2>&1
check "diff: snapshot.onLoad takes the mark out again (exit 0)" test $? = 0 || cat "$T/d1.out"
check "... having read it from the files" test "$(cat "$T/snap-load.txt")" = true
dsyncd -u "$URL" -t "$DX_TOKEN" -c "$T/cfg.json" diff --dump-path "$P" -o flows >"$T/d2.out" 2>&1
check "diff: onLoad undoes onSave, the only flow missing is the one onQuery left out" \
	grep -q '^flows: 0 to create, 0 to update, 1 to delete' "$T/d2.out" || cat "$T/d2.out"

# --- Hooks that fail: an error naming the hook; the tree as it was.
sum0=$(tree_sum "$P")
bad_hook() { # NAME CMD EXPECTED-REGEX [EXTRA]
	printf '{ "hooks": { "timeout": 2, "flows": { "onSave": "%s" } } }\n' "$2" >"$T/bad.json"
	local start=$EPOCHREALTIME
	dsyncd -u "$URL" -t "$DX_TOKEN" -c "$T/bad.json" pull --dump-path "$P" >"$T/bad.log" 2>&1
	local rc=$?
	BAD_SECONDS=$(awk -v a="$EPOCHREALTIME" -v b="$start" 'BEGIN { printf "%.1f", a - b }')
	check "$1: exit 1" test "$rc" = 1
	check "... the message names the hook: $3" grep -qE "$3" "$T/bad.log" || cat "$T/bad.log"
	check "... the tree as it was" test "$(tree_sum "$P")" = "$sum0"
}
bad_hook "a hook that fails" "echo broken >&2; exit 3" 'hook flows\.onSave: exited with status 3: broken; nothing was written'
bad_hook "a hook that hangs" "exec sleep 1001" 'hook flows\.onSave: did not answer within 2 s \(killed\)'
check "... given up after about 2 s ($BAD_SECONDS s)" awk -v s="$BAD_SECONDS" 'BEGIN { exit !(s < 10) }'
check "... and killed (no sleep 1001 left)" bash -c '! pgrep -f "sleep [1]001" >/dev/null'
bad_hook "a hook that answers no JSON" "echo not json" 'hook flows\.onSave: answered something that is not JSON'
bad_hook "a hook that answers an object" "echo {}" 'hook flows\.onSave: answered no array of items'
bad_hook "a hook that answers nothing" "cat >/dev/null" 'hook flows\.onSave: answered nothing'
printf '{ "hooks": { "flows": { "onLoad": "exit 1" } } }\n' >"$T/badload.json"
dsyncd -u "$URL" -t "$DX_TOKEN" -c "$T/badload.json" push --dump-path "$D" >"$T/bl.log" 2>&1
check "push with an onLoad that fails: exit 1, naming it" grep -q 'hook flows.onLoad: exited with status 1' "$T/bl.log"
printf '{ "hooks": { "flow": { "onLoad": "cat" } } }\n' >"$T/typo.json"
dsyncd -u "$URL" -t "$DX_TOKEN" -c "$T/typo.json" diff --dump-path "$D" >"$T/typo.log" 2>&1
check "a JSON config's hooks for no collection: exit 1, named" grep -q 'hooks.flow: not a collection dsync syncs' "$T/typo.log"

# --- directus-sync.config.js through the bridge, beside directus-sync.
# The config requires @directus/sdk: both tools find it in the reference
# CLI's install.
export NODE_PATH="$DX_INSTALL/node_modules"
mkdir -p "$T/js"
cat >"$T/js/directus-sync.config.js" <<EOF
const { readFlows } = require('@directus/sdk');
module.exports = {
  directusUrl: '$URL',
  hooks: {
    flows: {
      onQuery: (query) => ({ ...query, filter: { name: { _neq: 'Nightly cleanup' } } }),
      onDump: async (flows, client) => {
        const all = await client.request(readFlows({ fields: ['id', 'name'] }));
        return flows.map((f) => ({ ...f, description: 'one of ' + all.length + ' flows' }));
      },
      onSave: async (flows) => flows.map((f) => ({ ...f, icon: 'bolt' })),
    },
    roles: { onSave: (roles) => roles.filter((r) => r.name !== 'Junior Editor') },
    snapshot: { onSave: (s) => ({ ...s, collections: s.collections.filter((c) => c.collection !== 'profile') }) },
  },
};
EOF
(cd "$T/js" && dx_cli -t "$DX_TOKEN" pull --dump-path ref) >"$T/js-ref.log" 2>&1 || { tail "$T/js-ref.log"; fail "directus-sync pull with the JS config"; }
(cd "$T/js" && "$DSYNCD" -t "$DX_TOKEN" pull --dump-path ds) >"$T/js-ds.log" 2>&1
check "dsyncd pull with directus-sync.config.js exits 0" test $? = 0 || cat "$T/js-ds.log"
node "$top/tests/integration/normalize-341.mjs" "$T/js/ref/collections/policies.json"
norm_openapi "$T/js/ref"; norm_openapi "$T/js/ds"
check "... the same dump as directus-sync's with the same file" same_tree "$T/js/ref" "$T/js/ds"
check "... in which the hooks ran (onDump's client, onSave, onQuery)" \
	test "$(json_of 'd.length > 0 && d.every((f) => f.icon === "bolt" && /^one of [0-9]+ flows$/.test(f.description) && f.name !== "Nightly cleanup")' <"$T/js/ds/collections/flows.json")" = true
check "... roles.onSave and snapshot.onSave too" \
	test "$(json_of 'd.some((r) => r.name === "Junior Editor")' <"$T/js/ds/collections/roles.json"):$([ -e "$T/js/ds/snapshot/collections/profile.json" ] && echo y || echo n)" = "false:n"
cat >"$T/js/throws.cjs" <<'EOF'
module.exports = { hooks: { flows: { onSave: () => { throw new Error('no flows today'); } } } };
EOF
(cd "$T/js" && "$DSYNCD" -u "$URL" -t "$DX_TOKEN" -c throws.cjs pull --dump-path ds) >"$T/js-throw.log" 2>&1
check "a JavaScript hook that throws: exit 1" test $? = 1
check "... naming the hook, the file and the message" grep -q 'hook flows.onSave (.*/js/throws.cjs): exited with status 1: .*no flows today' "$T/js-throw.log" || cat "$T/js-throw.log"
(cd "$T/js" && DSYNC_NODE=/nonexistent/node "$DSYNCD" -t "$DX_TOKEN" pull --dump-path ds2) >"$T/js-nonode.log" 2>&1
check "without node, a JavaScript config: exit 1" test $? = 1
check "... saying it needs node" grep -q 'a JavaScript config is read by dsync.s bridge, which needs node' "$T/js-nonode.log" || cat "$T/js-nonode.log"
check "... and nothing was written" test ! -e "$T/js/ds2/collections"

# --- The daemon: hooks from dsyncd.conf (a command, and a js_config's
# functions); an onLoad that counts its runs: the start's job runs it,
# idle polls do not.
hook count-load 'fs.appendFileSync(process.env.OUT + "/loads", "x\n");'
cat >"$T/daemon.js" <<'EOF'
module.exports = { hooks: { roles: { onLoad: (roles) => roles } } };
EOF
write_conf "$T/d.conf" "$URL" "$D" 'poll = { interval = 1.0; full_every = 0; };' \
	"hooks = { timeout = 30.0; js_config = \"$T/daemon.js\"; flows = { on_load = \"node $H/count-load.js\"; }; };"
"$DSYNCD" -n -f "$T/d.conf" >"$T/n.out" 2>&1
check "dsyncd -n shows the hooks" grep -q "flows = { on_load = \"node $H/count-load.js\"; };" "$T/n.out" || cat "$T/n.out"
check "... and the js_config's function" grep -q 'roles = { on_load = "(js_config)"; };' "$T/n.out"
: >"$T/loads"
start_daemon "$T/d.conf" || { tail "$T/daemon.log"; fail "daemon starts"; finish; }
check "the daemon's first job runs the onLoad hook" wait_for 20 at_least 'wc -l <"$T/loads" | tr -d " "' 1
wait_for 10 idle
check "... and ends in-sync" wait_for 10 is state in-sync
loads=$(wc -l <"$T/loads" | tr -d ' ')
polls0=$(ctl status --json | json_of 'd.polls')
check "three idle polls later" wait_for 20 at_least 'ctl status --json | json_of d.polls' $((polls0 + 3))
check "... no hook ran again (idle polls start no process)" test "$(wc -l <"$T/loads" | tr -d ' ')" = "$loads"
edit_json "$D/collections/flows.json" 'a[0].description = "edited in git"'
check "a change of the dump: the job runs the hook again" wait_for 10 at_least 'wc -l <"$T/loads" | tr -d " "' $((loads + 1))
stop_daemon
check "dsyncd exits 0" test "$DAEMON_RC" = 0

finish
