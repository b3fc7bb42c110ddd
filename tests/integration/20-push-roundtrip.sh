#!/usr/bin/env bash
# diff and push, both ways with directus-sync 3.4.1, on instances with the
# mapping extension: a reference dump pushed by dsyncd, a dsyncd dump
# pushed by the reference; a second push is a no-op (no activity rows);
# diff names what changed on either side; hand-made items survive; the
# 3.4.1 form of a user link, which reads the same as the public access,
# refuses the dump.
# versions: all
source "$(dirname "$0")/common.sh"

dx_install || exit 1
dx_start --as SRC || exit 1
seed "$SRC_URL" "$SRC_TOKEN" || { fail "seed the instance"; finish; }

# ref_clean URL DUMP: directus-sync diff reports nothing to do in the
# collections. (Its schema diff is Directus' own, which keeps one
# difference no apply removes: see the uuid rule in the README; dsyncd
# diff, which applies that rule, checks the schema.)
ref_clean() {
	local out
	out=$(dx_cli -u "$1" -t "$SRC_TOKEN" diff --no-snapshot --dump-path "$2" 2>&1) || { printf '%s\n' "$out" | tail -20 >&2; return 1; }
	if printf '%s\n' "$out" | grep -E 'To create: [1-9]|To update: [1-9]|To delete: [1-9]|Dangling id maps: [1-9]|Found [0-9]+ change'; then
		return 1
	fi
}
# activity URL: the number of rows in the activity log.
activity() { DX_URL=$1 dx_api GET '/activity?aggregate[count]=id' | node -pe 'JSON.parse(require("fs").readFileSync(0)).data[0].count.id'; }
# diff_rc URL DUMP [ARGS]: dsyncd diff's exit status, output in $T/diff.out.
diff_rc() { local u=$1 d=$2; shift 2; dsyncd -u "$u" -t "$SRC_TOKEN" diff --dump-path "$d" "$@" >"$T/diff.out" 2>"$T/diff.err"; echo $?; }

# --- A directus-sync dump, pushed by dsyncd into a fresh instance.
A="$T/A"
dx_cli -u "$SRC_URL" -t "$SRC_TOKEN" pull --dump-path "$A" >"$T/refpull.log" 2>&1 || { tail "$T/refpull.log"; fail "reference pull"; finish; }
dx_start --as D1 || exit 1
maprows() { DX_URL=$D1_URL dx_api GET "/directus-extension-sync/table/$1" | node -pe 'JSON.parse(require("fs").readFileSync(0)).length'; }
# 3.4.1 writes the seed's link to a user as {"role": null}, the same form
# as the public access: which one it is cannot be told, and dsyncd
# refuses the dump before any write, naming the policy.
before=$(activity "$D1_URL")
dsyncd -u "$D1_URL" -t "$D1_TOKEN" push --dump-path "$A" >"$T/push0.log" 2>&1
rc=$?
check "a 3.4.1 dump with a link to a user: push refused (exit 1, got $rc)" test "$rc" = 1
check "... naming the policy and the form" grep -q 'the public policy cannot be told: policy [0-9a-f-]* "Reviewer policy" holds an access row {"role": null} without "user"' "$T/push0.log"
check "... nothing written (activity $before -> $(activity "$D1_URL"), map rows $(maprows roles)$(maprows policies)$(maprows settings))" \
	test "$before$(maprows roles)$(maprows policies)$(maprows settings)" = "$(activity "$D1_URL")000"
check "... diff refuses it too (exit 1)" test "$(diff_rc "$D1_URL" "$A")" = 1
# What the element meant, a link to a user, is not dsync's to push: the
# dump without it is the one pushed below.
node -e '
const fs = require("fs"), f = process.argv[1];
const a = JSON.parse(fs.readFileSync(f));
for (const p of a) if (p._syncId !== "_sync_default_public_policy" && p.roles) p.roles = p.roles.filter(r => r.role !== null);
fs.writeFileSync(f, JSON.stringify(a, null, 2) + "\n");' "$A/collections/policies.json"
# diff writes nothing, not even the built-in items' map rows.
rc=$(diff_rc "$D1_URL" "$A")
check "diff on a fresh instance runs to the end (exit 2, got $rc)" test "$rc" = 2
check "diff on a fresh instance writes no map rows" test "$(maprows roles)$(maprows policies)$(maprows settings)" = 000
if dsyncd -u "$D1_URL" -t "$D1_TOKEN" push --dump-path "$A" >"$T/push1.log" 2>&1; then pass "dsyncd push of a directus-sync dump"; else tail -20 "$T/push1.log"; fail "dsyncd push of a directus-sync dump"; fi
check "directus-sync diff finds nothing to do after dsyncd push" ref_clean "$D1_URL" "$A"
check "dsyncd diff exits 0 after dsyncd push" test "$(diff_rc "$D1_URL" "$A")" = 0
n=$(DX_URL=$D1_URL dx_api GET '/access?filter[role][_null]=true&filter[user][_null]=true&aggregate[count]=id' | node -pe 'JSON.parse(require("fs").readFileSync(0)).data[0].count.id')
check "no access row without role and user but the public one (found $n)" test "$n" = 1
dx_cli -u "$D1_URL" -t "$SRC_TOKEN" pull --dump-path "$T/A2" >"$T/refpull2.log" 2>&1 || fail "reference pull from the target"
node "$top/tests/integration/normalize-341.mjs" "$A/collections/policies.json"
node "$top/tests/integration/normalize-341.mjs" "$T/A2/collections/policies.json"
check "directus-sync pull from the target gives the source dump back" node "$top/tests/integration/compare-dumps.mjs" "$A" "$T/A2"

# --- A second push changes nothing.
before=$(activity "$D1_URL")
dsyncd -u "$D1_URL" -t "$D1_TOKEN" push --dump-path "$A" >"$T/push2.log" 2>&1 || fail "second push"
after=$(activity "$D1_URL")
check "second push adds no activity rows ($before -> $after)" test "$before" = "$after"
check "second push reports nothing done" grep -q '0 created, 0 updated, 0 deleted' "$T/push2.log"

# --- diff names what changed, on either side.
flow=$(node -pe 'JSON.parse(require("fs").readFileSync(process.argv[1])).find(f => f.name === "Publish article")._syncId' "$A/collections/flows.json")
DX_URL=$D1_URL dx_api PATCH "/flows/$flow" '{"name":"Publish article (renamed)"}' >/dev/null
rc=$(diff_rc "$D1_URL" "$A")
check "flow renamed in Directus: diff exits 2" test "$rc" = 2
check "flow renamed in Directus: diff names it and the field" grep -q "update flows $flow .*: name" "$T/diff.out"
dsyncd -u "$D1_URL" -t "$D1_TOKEN" push --dump-path "$A" -o flows >/dev/null 2>&1
check "push -o flows restores the name" test "$(DX_URL=$D1_URL dx_api GET "/flows/$flow?fields=name" | node -pe 'JSON.parse(require("fs").readFileSync(0)).data.name')" = "Publish article"

cp -r "$A" "$T/E"
node -e '
const fs = require("fs"), f = process.argv[1] + "/collections/translations.json";
const a = JSON.parse(fs.readFileSync(f)); a[0].value = "edited in the file";
fs.writeFileSync(f, JSON.stringify(a, null, 2) + "\n");
const g = process.argv[1] + "/collections/dashboards.json";
const d = JSON.parse(fs.readFileSync(g));
d.push({ name: "Added in the file", icon: "add", note: null, color: null, _syncId: "added-dashboard-0001" });
fs.writeFileSync(g, JSON.stringify(d, null, 2) + "\n");
const h = process.argv[1] + "/collections/presets.json";
const p = JSON.parse(fs.readFileSync(h)); fs.writeFileSync(process.argv[1] + "/removed-preset", p.pop()._syncId);
fs.writeFileSync(h, JSON.stringify(p, null, 2) + "\n");' "$T/E"
tr=$(node -pe 'JSON.parse(require("fs").readFileSync(process.argv[1]))[0]._syncId' "$T/E/collections/translations.json")
rp=$(cat "$T/E/removed-preset")
rc=$(diff_rc "$D1_URL" "$T/E")
check "edited files: diff exits 2" test "$rc" = 2
check "translation edited in the file: named" grep -q "update translations $tr .*: value" "$T/diff.out"
check "item added in the file: named" grep -q "create dashboards added-dashboard-0001 \"Added in the file\"" "$T/diff.out"
check "item deleted from the file: named" grep -q "delete presets $rp" "$T/diff.out"
diff_rc "$D1_URL" "$T/E" --json >/dev/null
check "diff --json has the whole plan" node -e '
const p = JSON.parse(require("fs").readFileSync(process.argv[1]));
const c = p.collections;
process.exit(p.changes === 3 && c.dashboards.create.length === 1 && c.presets.delete.length === 1 &&
  c.translations.update[0].changes.value === "edited in the file" ? 0 : 1)' "$T/diff.out"

# One renderer: the plan dsyncd diff --json printed, fed to dsyncctl diff
# (through a socket that answers with it), prints the same bytes as
# dsyncd diff, with and without the values.
cp "$T/diff.out" "$T/plan.json"
python3 "$top/tests/integration/plan-socket.py" "$T/plan.json" "$T/plan.sock" >"$T/plan-sock.ready" 2>&1 &
plan_sock=$!
for _ in $(seq 50); do grep -q ready "$T/plan-sock.ready" 2>/dev/null && break; sleep 0.1; done
for p in "" "--pretty-diff"; do
	diff_rc "$D1_URL" "$T/E" $p >/dev/null
	"$build/dsyncctl" -s "$T/plan.sock" diff ${p:+-p} >"$T/ctl-diff.out" 2>&1
	check "dsyncctl diff ${p:+-p }of dsyncd's plan prints what dsyncd diff $p prints ($(wc -l <"$T/diff.out") lines)" cmp "$T/diff.out" "$T/ctl-diff.out"
done
kill "$plan_sock" 2>/dev/null

# Items made by hand in the target survive a push.
hand_role=$(DX_URL=$D1_URL dx_api POST '/roles?fields=id' '{"name":"Made by hand"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).data.id')
hand_flow=$(DX_URL=$D1_URL dx_api POST '/flows?fields=id' '{"name":"Hand flow","trigger":"manual","status":"active"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).data.id')
if dsyncd -u "$D1_URL" -t "$D1_TOKEN" push --dump-path "$T/E" >"$T/push3.log" 2>&1; then pass "push of the edited dump"; else tail "$T/push3.log"; fail "push of the edited dump"; fi
check "edited dump: diff exits 0 after its push" test "$(diff_rc "$D1_URL" "$T/E")" = 0
exists() { DX_URL=$D1_URL dx_api GET "$1?fields=id" >/dev/null; }
check "hand-made role survives" exists "/roles/$hand_role"
check "hand-made flow survives" exists "/flows/$hand_flow"
check "the deleted preset is gone" test "$(DX_URL=$D1_URL dx_api GET '/presets?aggregate[count]=id&filter[user][_null]=true' | node -pe 'JSON.parse(require("fs").readFileSync(0)).data[0].count.id')" = "$(node -pe 'JSON.parse(require("fs").readFileSync(process.argv[1])).length' "$T/E/collections/presets.json")"

# --- The other way: a dsyncd dump pushed by directus-sync.
B="$T/B"
dsyncd -u "$SRC_URL" -t "$SRC_TOKEN" pull --dump-path "$B" >"$T/pullB.log" 2>&1 || fail "dsyncd pull"
dx_start --as D2 || exit 1
if dx_cli -u "$D2_URL" -t "$D2_TOKEN" push --dump-path "$B" >"$T/refpush.log" 2>&1; then pass "directus-sync push of a dsyncd dump"; else tail -20 "$T/refpush.log"; fail "directus-sync push of a dsyncd dump"; fi
rc=$(diff_rc "$D2_URL" "$B")
[ "$rc" = 0 ] || head -40 "$T/diff.out"
check "dsyncd diff exits 0 after directus-sync push" test "$rc" = 0
finish
