#!/usr/bin/env bash
# What an instance's Directus license does not allow. Directus 12 without
# a key runs under its Core license: no custom permission rules, at most
# 5 active flows. A dump with a filtered permission and two more active
# flows, pushed into a fresh instance: on 12 the push is refused before
# its first write, naming the permission (its SyncID, policy, collection
# and action, what rule) and the flows with the limit, and nothing is
# written; diff says the same as a warning; the daemon shows it in its
# status as an error, not retried. A rule that the check leaves to
# Directus (on a directus_* collection) is refused by Directus with the
# same kind of error. On 11, which has no license, the same dump pushes.
# versions: all
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/daemon-lib.sh"

seeded_dump
SRC_PID=$DX_PID
mv "$D" "$T/oneshot" && D="$T/oneshot"
dx_start --as DST || exit 1

# The dump's Editor policy, its articles read permission, and two more
# active flows (the seed has 4 active: 6 in all).
pol=$(json_of 'd.find(p => p.name === "Editor policy")._syncId' <"$D/collections/policies.json")
perm=$(json_of "d.find(p => p.policy === '$pol' && p.collection === 'articles' && p.action === 'read')._syncId" <"$D/collections/permissions.json")
check "the dump has the Editor policy's articles read ($perm)" test -n "$perm" -a "$perm" != undefined
L="$T/license-dump"
cp -r "$D" "$L"
edit_json "$L/collections/permissions.json" \
	"a.find(p => p._syncId === '$perm').permissions = { status: { _eq: 'published' } }"
edit_json "$L/collections/flows.json" "
for (const k of [1, 2]) {
	const f = JSON.parse(JSON.stringify(a.find(x => x.name === 'Rebuild site')));
	f._syncId = '7e57f100-0000-4000-8000-00000000000' + k;
	f.name = 'Extra flow ' + k; f.status = 'active'; f.operation = null;
	a.push(f);
}"

before=$(activity "$DST_URL")
dsyncd -u "$DST_URL" -t "$DST_TOKEN" push --dump-path "$L" >"$T/push.out" 2>&1
rc=$?
after=$(activity "$DST_URL")
if [ "$DX_MAJOR" -ge 12 ]; then
	check "12: the push is refused (exit 1, got $rc)" test "$rc" = 1
	check "... naming the license's limits" grep -q "the push would cross the limits of the instance's Directus license" "$T/push.out"
	check "... the permission: SyncID, policy, collection, action and the rule" \
		grep -qF "permissions $perm (policy \"Editor policy\", articles read): a filter" "$T/push.out"
	check "... the six flows it would create active, beyond the limit of 5" grep -qF "6 more active flow(s), where the license allows 5 and 0 are active" "$T/push.out"
	check "... each flow by name" grep -q 'flows 7e57f100-0000-4000-8000-000000000002 "Extra flow 2" (created active)' "$T/push.out"
	check "... and says nothing was written" grep -q "nothing was written" "$T/push.out"
	check "... nothing was written (activity $before -> $after)" test "$before" = "$after"
	check "... no flow, no policy on the instance" \
		test "$(DX_URL=$DST_URL dx_api GET '/flows?limit=-1&fields=id' | json_of 'd.data.length')" = 0
	dsyncd -u "$DST_URL" -t "$DST_TOKEN" diff --dump-path "$L" >"$T/diff.out" 2>&1
	rc=$?
	check "12: diff exits 2 (differences), got $rc" test "$rc" = 2
	check "... and warns of the permission" grep -qF "permissions $perm (policy \"Editor policy\", articles read): a filter" "$T/diff.out"

	# A rule on a directus_* collection is left to Directus: its refusal
	# is an error that says it is the license's, not a retry.
	S="$T/system-rule"
	cp -r "$D" "$S"
	edit_json "$S/collections/permissions.json" \
		"a.find(p => p.collection === 'directus_files').permissions = { type: { _eq: 'image/png' } }"
	dsyncd -u "$DST_URL" -t "$DST_TOKEN" push --dump-path "$S" >"$T/sys.out" 2>&1
	rc=$?
	check "12: a rule on directus_files: Directus refuses it (exit 1, got $rc)" test "$rc" = 1
	check "... the error is Directus' RESOURCE_RESTRICTED, said to be the license's" \
		grep -q "RESOURCE_RESTRICTED.*(refused by the instance's Directus license)" "$T/sys.out"
else
	check "11: no license: the push goes through (exit 0, got $rc)" test "$rc" = 0
	check "... the filter is on the instance" \
		test "$(DX_URL=$DST_URL dx_api GET '/permissions?limit=-1&filter[collection][_eq]=articles&filter[action][_eq]=read&fields=permissions' | json_of 'd.data.some(p => p.permissions && p.permissions.status)')" = true
	check "... six active flows" \
		test "$(DX_URL=$DST_URL dx_api GET '/flows?limit=-1&filter[status][_eq]=active&fields=id' | json_of 'd.data.length')" = 6
fi

# --- The daemon, policy push, with the filter committed into its tree.
dx_stop "$DST_PID"
dx_stop "$SRC_PID"
daemon_setup
write_conf "$T/d.conf" "$URL" "$D" 'poll = { interval = 2.0; };'
start_daemon "$T/d.conf" || { tail "$T/daemon.log"; fail "daemon starts (READY=1)"; finish; }
check "daemon: the first job ends in-sync" wait_for 20 is 'state' in-sync
perm=$(json_of "d.find(p => p.collection === 'articles' && p.action === 'read' && p.fields && p.fields.length)._syncId" <"$D/collections/permissions.json")
edit_json "$D/collections/permissions.json" \
	"a.find(p => p._syncId === '$perm').permissions = { status: { _eq: 'published' } }"
before=$(activity "$URL")
git -C "$D" add -A && git_commit "$D" "a filter"
if [ "$DX_MAJOR" -ge 12 ]; then
	check "daemon 12: the state is error" wait_for 15 is 'state' error
	ctl status >"$T/status.txt" 2>&1
	check "... dsyncctl status shows the license's refusal" grep -q "limits of the instance's Directus license" "$T/status.txt"
	check "... naming the permission" grep -qF "permissions $perm" "$T/status.txt"
	# Directus 12 hides a permission with custom rules from reads: the
	# activity log tells whether anything was written.
	check "... nothing was written (activity $before -> $(activity "$URL"))" test "$before" = "$(activity "$URL")"
	if wait_for 6 at_least 'jobs retry' 1; then
		fail "... not retried: a retry job ran"
	else
		pass "... not retried: no retry job in 6 s (3 polls)"
	fi
	check "... still error, not degraded" is 'state' error
else
	check "daemon 11: the filter is pushed" \
		wait_for 15 is "dx_api GET '/permissions?limit=-1&fields=permissions' | json_of 'd.data.some(p => p.permissions && p.permissions.status && p.permissions.status._eq === \"published\")'" true
fi
finish
