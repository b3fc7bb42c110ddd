#!/usr/bin/env bash
# A dump made on Directus 11 pushed into 12, and the reverse. Without -f
# the push is refused, as directus-sync refuses it (Directus' own check of
# the snapshot's version), and nothing is written; with -f it goes
# through, and a pull of the target gives the same collections back. The
# differences between the two versions' trees are named, key by key
# (tree-keys.mjs): what each version has that the other lacks, among them
# 12's systemFields (in snapshot/info.json, as directus-sync keeps them),
# which a push into 11 leaves out with a warning. Both seeds within 12's
# Core license.
# versions: base
source "$(dirname "$0")/common.sh"

# dump_of VERSION DIR: a fresh seeded instance of VERSION pulled into DIR.
dump_of() {
	dx_version "$1" && dx_install || exit 1
	dx_start || exit 1
	node "$top/tests/lib/seed.mjs" --url "$DX_URL" --token "$DX_TOKEN" --rules core >"$T/seed.log" 2>&1 ||
		{ cat "$T/seed.log"; fail "seed Directus $1"; finish; }
	# 12 conceals its settings' API keys in reads: the dump holds the mask.
	if [ "$DX_MAJOR" -ge 12 ]; then
		dx_api PATCH /settings '{"ai_openai_api_key":"sk-not-in-any-dump"}' >/dev/null ||
			fail "set an API key in 12's settings"
	fi
	dsyncd -u "$DX_URL" -t "$DX_TOKEN" pull --dump-path "$2" >"$T/pull.log" 2>&1 ||
		{ cat "$T/pull.log"; fail "pull Directus $1"; finish; }
	dx_stop
}

# across FROM TO: FROM's dump pushed into a fresh TO.
across() {
	local from=$1 to=$2 d="$T/d-$1" back="$T/back-$1-$2" rc before after
	dump_of "$from" "$d"
	dx_version "$to" && dx_install || exit 1
	dx_start || exit 1
	before=$(activity "$DX_URL")
	dsyncd -u "$DX_URL" -t "$DX_TOKEN" push --dump-path "$d" >"$T/nof-$from.out" 2>&1
	rc=$?
	after=$(activity "$DX_URL")
	check "$from into $to: without -f, refused (exit 1, got $rc)" test "$rc" = 1
	check "... naming both versions" \
		grep -q "snapshot's directus version $from does not match the current instance's version $to" "$T/nof-$from.out"
	check "... nothing written (activity $before -> $after)" test "$before" = "$after"
	dsyncd -u "$DX_URL" -t "$DX_TOKEN" push -f --dump-path "$d" >"$T/f-$from.out" 2>&1
	rc=$?
	check "$from into $to: with -f, the push goes through (exit 0, got $rc)" test "$rc" = 0
	[ "$rc" = 0 ] || tail -20 "$T/f-$from.out"
	if [ "${from%%.*}" -ge 12 ] && [ "${to%%.*}" -lt 12 ]; then
		check "... saying that 12's systemFields are left out" \
			grep -q "the snapshot's systemFields are left out: Directus $to has none" "$T/f-$from.out"
	fi
	dsyncd -u "$DX_URL" -t "$DX_TOKEN" diff -f --dump-path "$d" >"$T/fdiff-$from.out" 2>&1
	rc=$?
	changed=$(sed -n 's/^\([a-z]*\): \([0-9]*\) to create, \([0-9]*\) to update, \([0-9]*\) to delete.*/\1 \2 \3 \4/p' "$T/fdiff-$from.out" |
		awk '$2 + $3 + $4 > 0 { print $1 }' | LC_ALL=C sort | tr '\n' ' ')
	check "... then diff -f (exit 2, got $rc) finds only what one version has and the other lacks: settings, and 11's flows and folders without 12's fields (${changed:-none})" \
		test "$rc" = 2 -a "$changed" = "$expect_changed"
	dsyncd -u "$DX_URL" -t "$DX_TOKEN" pull --dump-path "$back" >/dev/null 2>&1 ||
		fail "... a pull of the $to target"
	# The differences between the dump and the target's tree, named.
	words=$(node "$top/tests/integration/tree-keys.mjs" "$d" "$back")
	check "... the trees differ where the versions do: $(grep -o '[^ ]*' <<<"$words" | grep -vc '^settings:') schema and item keys as expected" \
		test "$(grep -o '[^ ]*' <<<"$words" | grep -v '^settings:' | tr '\n' ' ')" = "$VERSION_KEYS "
	check "... and settings only in keys one version has ($(grep -o '[^ ]*' <<<"$words" | grep -c '^settings:'))" node -e '
const fs = require("fs");
const a = JSON.parse(fs.readFileSync(process.argv[1]))[0], b = JSON.parse(fs.readFileSync(process.argv[2]))[0];
for (const w of process.argv[3].split(" ").filter(w => w.startsWith("settings:"))) {
  const k = w.slice(9);
  if (k in a && k in b) { console.error(`settings.${k} differs`); process.exit(1); }
}' "$d/collections/settings.json" "$back/collections/settings.json" "$words"
	dx_stop
}

# What differs between an 11.11 and a 12.4 tree of the same configuration:
# files of fields whose names clash by case (the _2 suffix goes by
# Directus' order, which changed), 12's new collection and field meta
# (autosave_revision_interval, status, searchable), SQLite's type names,
# 12's flow folders and folder types, the snapshot's version and 12's
# systemFields; and settings keys one of them lacks.
VERSION_KEYS="+snapshot/fields/profile/Content.json +snapshot/fields/profile/content_2.json \
-snapshot/fields/profile/Content_2.json -snapshot/fields/profile/content.json \
collections:meta.autosave_revision_interval collections:meta.status fields:meta.searchable \
fields:schema.data_type flows:folder folders:type info:directus info:systemFields"
expect_changed="settings "
across 11.11.0 12.4.1
expect_changed="flows folders settings "
across 12.4.1 11.11.0

# --- 12's mask of a concealed setting ("**********") is never written:
# the dump of 12 pushed into a fresh 12 leaves its API key unset.
check "the 12 dump holds the mask, not the key" \
	test "$(json_of 'd[0].ai_openai_api_key' <"$T/d-12.4.1/collections/settings.json")" = '**********'
check "... and the key is in no file of it" bash -c "! grep -rq sk-not-in-any-dump '$T/d-12.4.1'"
dx_version 12.4.1 && dx_start || exit 1
dsyncd -u "$DX_URL" -t "$DX_TOKEN" push --dump-path "$T/d-12.4.1" >"$T/mask.out" 2>&1 ||
	{ tail "$T/mask.out"; fail "push the 12 dump into a fresh 12"; }
stored=$("$DX_NODE" -e '
const sqlite3 = require(process.argv[1]); const db = new sqlite3.Database(process.argv[2]);
db.get("SELECT ai_openai_api_key AS k FROM directus_settings", (e, r) => { console.log(e ? "error" : String(r && r.k)); db.close(); });' \
	"$DX_INSTALL/node_modules/sqlite3" "$DX_DIR/data.db")
check "... a push leaves the target's key unset, not ten asterisks (stored: $stored)" test "$stored" = null
finish
