#!/usr/bin/env bash
# dsyncd seed diff|push: directus-sync's seed files (one object or an
# array per file, found recursively, merged per collection, insert
# order), relations by SyncID, directus_users (roles by SyncID and the
# admin placeholder, password ignored on update), directus_files
# (uploaded, folder and uploader mapped), preserve_ids, ignore_on_update,
# the meta flags, deletes and their guard, bad input, and directus-sync
# 3.4.1 side by side: a seed pushed by one tool is a no-op for the other.
# versions: base 12
source "$(dirname "$0")/common.sh"

seeded_dump --as SRC
S="$T/seed"
mkdir -p "$S/blog/more" "$S/files"
# SyncIDs of the dump's Editor role and Images folder (tracked by the pull).
editor_role=$(json_of 'd.find(r => r.name === "Editor")._syncId' <"$D/collections/roles.json")
images=$(json_of 'd.find(f => f.name === "Images")._syncId' <"$D/collections/folders.json")

cat >"$S/blog/authors.json" <<'EOF'
{
  "collection": "authors",
  "meta": { "insert_order": 1, "ignore_on_update": ["bio"] },
  "data": [
    { "_sync_id": "author-ada", "name": "Ada", "email": "ada@seed.example.com", "active": true, "bio": "first" },
    { "_sync_id": "author-bob", "name": "Bob", "email": "bob@seed.example.com", "birth_year": 1970 }
  ]
}
EOF
# An array of seeds in one file, in a sub-directory; articles before
# authors in name order, after them by insert_order.
cat >"$S/blog/more/a-articles.json" <<'EOF'
[
  {
    "collection": "articles",
    "meta": { "insert_order": 2 },
    "data": [
      { "_sync_id": "art-1", "title": "First", "slug": "seed-first", "status": "published", "author": "author-ada" },
      { "_sync_id": "art-2", "title": "Second", "slug": "seed-second", "author": "author-bob" }
    ]
  },
  {
    "collection": "tags",
    "meta": { "preserve_ids": true },
    "data": [ { "_sync_id": "seed-news", "label": "News" } ]
  },
  {
    "collection": "articles_tags",
    "data": [ { "_sync_id": "at-1", "articles_id": "art-1", "tags_id": "seed-news" } ]
  }
]
EOF
# A second seed of tags: merged with the first (data joined, preserve_ids
# ORed).
cat >"$S/blog/tags-more.json" <<'EOF'
{ "collection": "tags", "data": [ { "_sync_id": "seed-tech", "label": "Tech" } ] }
EOF
printf 'hello, seed\n' >"$S/files/hello.txt"
printf '\x89PNG\r\n\x1a\nnot really a picture\n' >"$S/files/logo.png"
cat >"$S/people.json" <<EOF
[
  {
    "collection": "directus_users",
    "data": [
      { "_sync_id": "user-eve", "email": "eve@seed.example.com", "password": "Seed-password-1", "first_name": "Eve", "role": "_sync_default_admin_role" },
      { "_sync_id": "user-sam", "email": "sam@seed.example.com", "password": "Seed-password-2", "first_name": "Sam", "role": "$editor_role" }
    ]
  },
  {
    "collection": "directus_files",
    "data": [
      { "_sync_id": "file-hello", "_file_path": "files/hello.txt", "title": "Hello" },
      { "_sync_id": "file-logo", "_file_path": "files/logo.png", "title": "Logo", "folder": "$images", "uploaded_by": "user-sam" }
    ]
  }
]
EOF
cp -r "$S" "$T/seed-orig"

api() { DX_URL=$URL dx_api "$@"; }
map_rows() { api GET "/directus-extension-sync/table/$1" | json_of 'd.length'; }
local_of() { api GET "/directus-extension-sync/table/$1/sync_id/$2" | json_of 'd.local_id'; }
sd() { dsyncd -u "$URL" -t "$TOKEN" seed "$@"; }

# --- seed diff on an instance that has none of it.
sd diff --seed-path "$S" >"$T/d1.out" 2>"$T/d1.err"
check "seed diff of new seeds exits 2" test $? = 2
check "... 2 authors, 2 articles, 2 tags (merged), 1 link, 2 users, 2 files to create" \
	grep -q '^authors: 2 to create' "$T/d1.out"
check "... articles: 2 to create" grep -q '^articles: 2 to create' "$T/d1.out"
check "... tags: both seeds merged into 2 to create" grep -q '^tags: 2 to create' "$T/d1.out"
check "... directus_users: 2 to create" grep -q '^directus_users: 2 to create' "$T/d1.out"
check "... directus_files: 2 to create" grep -q '^directus_files: 2 to create' "$T/d1.out"
check "... 11 differences" grep -q '^11 difference(s)\.$' "$T/d1.out"
order=$(grep -o '^[a-z_]*:' "$T/d1.out" | tr -d ':' | tr '\n' ' ')
check "... in insert order, then the order read ($order)" \
	test "$order" = "authors articles tags articles_tags directus_users directus_files "
sd diff --seed-path "$S" --json >"$T/d1.json"
check "seed diff --json exits 2 too" test $? = 2
check "... changes 11, the files named, nothing applied by the diff" \
	test "$(json_of '[d.seed, d.changes, d.collections.articles.create[0].file.endsWith("blog/more/a-articles.json"), d.collections.articles.create[1].index].join()' <"$T/d1.json")" = "true,11,true,1"
check "... and the diff wrote nothing" test "$(api GET '/items/authors?filter[email][_ends_with]=@seed.example.com&fields=id' | json_of 'd.data.length')" = 0

# --- push: one pass, in dependency order.
sd push --seed-path "$S" >"$T/p1.log" 2>&1
check "seed push exits 0" test $? = 0 || cat "$T/p1.log"
# Directus 12 keeps the uploader as uploaded_by: the seed's follows as an
# update of the new file, in the same push.
fix=0; [ "$DX_MAJOR" -ge 12 ] && fix=1
check "... 11 created ($fix updated after the upload)" grep -q "Seeded: 11 created, $fix updated, 0 deleted" "$T/p1.log"
ada=$(local_of items::authors author-ada)
check "... articles.author holds Ada's id ($ada)" \
	test "$(api GET '/items/articles?filter[slug][_eq]=seed-first&fields=author' | json_of 'd.data[0].author')" = "$ada"
check "... preserve_ids: the tags' ids are their SyncIDs" \
	test "$(api GET '/items/tags?filter[id][_in]=seed-news,seed-tech&fields=id&sort=id' | json_of 'd.data.map(t => t.id).join()')" = "seed-news,seed-tech"
art1=$(local_of items::articles art-1)
check "... the link joins art-1 ($art1) and seed-news" \
	test "$(api GET "/items/articles_tags?filter[articles_id][_eq]=$art1&fields=tags_id" | json_of 'd.data.map(x => x.tags_id).join()')" = "seed-news"
admin_role=$(api GET '/users/me?fields=role' | json_of 'd.data.role')
editor_local=$(local_of roles "$editor_role")
check "... Eve has the admin role (_sync_default_admin_role)" \
	test "$(api GET '/users?filter[email][_eq]=eve@seed.example.com&fields=role' | json_of 'd.data[0].role')" = "$admin_role"
check "... Sam has the Editor role, by its SyncID" \
	test "$(api GET '/users?filter[email][_eq]=sam@seed.example.com&fields=role' | json_of 'd.data[0].role')" = "$editor_local"
sam=$(local_of users user-sam)
logo=$(local_of files file-logo)
hello=$(local_of files file-hello)
check "... the logo is in the Images folder, uploaded by Sam" \
	test "$(api GET "/files/$logo?fields=folder,uploaded_by,type" | json_of '[d.data.folder, d.data.uploaded_by, d.data.type].join()')" = "$(local_of folders "$images"),$sam,image/png"
curl -sS -o "$T/hello.got" -H "Authorization: Bearer $TOKEN" "$URL/assets/$hello"
check "... the uploaded file holds the seed's bytes" cmp -s "$T/hello.got" "$S/files/hello.txt"
check "... the map tables have the reference's names (items::authors 2, users 2, files 2)" \
	test "$(map_rows items::authors) $(map_rows users) $(map_rows files)" = "2 2 2"
check "... Sam can log in with the seed's password" \
	curl -sf -o /dev/null -H 'Content-Type: application/json' -d '{"email":"sam@seed.example.com","password":"Seed-password-2"}' "$URL/auth/login"

sd diff --seed-path "$S" >"$T/d2.out" 2>&1
check "seed diff after the push exits 0" test $? = 0 || cat "$T/d2.out"
check "... No differences." grep -q '^No differences\.$' "$T/d2.out"

# --- directus-sync 3.4.1 on what dsyncd pushed: nothing to do.
(cd "$T" && dx_cli -u "$URL" -t "$TOKEN" seed push --seed-path "$S" --debug) >"$T/ref1.log" 2>&1
check "directus-sync seed push after dsyncd's exits 0" test $? = 0 || tail -20 "$T/ref1.log"
check "... and creates, updates, deletes nothing" \
	test "$(sed 's/\x1b\[[0-9;]*m//g' "$T/ref1.log" | grep -cE '(Created|Updated|Deleted) [1-9]')" = 0
check "... 2 authors, not 4" test "$(api GET '/items/authors?filter[email][_ends_with]=@seed.example.com&fields=id' | json_of 'd.data.length')" = 2

# --- changes of the seeds.
edit() { node -e '
const fs = require("fs"), f = process.argv[1]; let a = JSON.parse(fs.readFileSync(f));
(new Function("a", process.argv[2]))(a); fs.writeFileSync(f, JSON.stringify(a, null, 2) + "\n");' "$@"; }
edit "$S/blog/authors.json" 'a.data[0].bio = "changed, and ignored on update"'
edit "$S/people.json" 'a[0].data[1].password = "Another-password-3"'
sd diff --seed-path "$S" >"$T/d3.out" 2>&1
check "ignore_on_update (bio) and users' password: no update" test $? = 0 || cat "$T/d3.out"
edit "$S/blog/authors.json" 'a.data[0].name = "Ada L."'
sd diff --seed-path "$S" >"$T/d4.out" 2>&1
check "a changed name: exit 2" test $? = 2
check "... one update of name, and nothing else" grep -qx '  ~ update authors author-ada "Ada L." (id '"$ada"'): name' "$T/d4.out"
sd push --seed-path "$S" >"$T/p2.log" 2>&1
check "... pushed: 1 updated" grep -q 'Seeded: 0 created, 1 updated, 0 deleted' "$T/p2.log"
check "... the name changed, the bio did not" \
	test "$(api GET "/items/authors/$ada?fields=name,bio" | json_of '[d.data.name, d.data.bio].join()')" = "Ada L.,first"

# update: false: the instance's edit stays; the diff says what is held.
edit "$S/blog/authors.json" 'a.meta.update = false'
api PATCH "/items/authors/$ada" '{"name":"Edited on the instance"}' >/dev/null
sd diff --seed-path "$S" --json >"$T/d5.json"
check "meta.update false: the diff exits 0" test $? = 0
check "... and says one update is not applied" test "$(json_of 'd.collections.authors.not_applied.update' <"$T/d5.json")" = 1
sd push --seed-path "$S" >"$T/p3.log" 2>&1
check "... the push leaves the instance's edit" \
	test "$(api GET "/items/authors/$ada?fields=name" | json_of 'd.data.name')" = "Edited on the instance"

# create: false: a new item is not created.
edit "$S/blog/tags-more.json" 'a.meta = { create: false }; a.data.push({ _sync_id: "seed-sport", label: "Sport" })'
sd push --seed-path "$S" >"$T/p4.log" 2>&1
check "meta.create false (ANDed over the merged tags seeds): seed-sport not created" \
	test "$(api GET '/items/tags?filter[id][_eq]=seed-sport&fields=id' | json_of 'd.data.length')" = 0
edit "$S/blog/tags-more.json" 'a.data.pop(); delete a.meta'

# preserve_ids and an untracked item that holds the SyncID already.
api POST /items/tags '{"id":"seed-legacy","label":"Made by hand"}' >/dev/null
edit "$S/blog/tags-more.json" 'a.data.push({ _sync_id: "seed-legacy", label: "Legacy" })'
sd push --seed-path "$S" >"$T/p5.log" 2>&1
check "an item with the SyncID as id is taken over, not created twice" \
	grep -q '\[tags\] Item seed-legacy already exists but id map was missing' "$T/p5.log"
check "... tracked, with the seed's label" \
	test "$(local_of items::tags seed-legacy) $(api GET '/items/tags/seed-legacy?fields=label' | json_of 'd.data.label')" = "seed-legacy Legacy"

# --- deletes: an item gone from the seeds; the guard first.
edit "$S/blog/authors.json" 'a.meta.update = true; a.data.pop()'
edit "$S/blog/more/a-articles.json" 'a[0].data.pop()'
sd push --seed-path "$S" --max-deletes 1 >"$T/p6.log" 2>&1
check "--max-deletes 1 refuses 2 deletes (exit 1)" test $? = 1
check "... naming them" grep -q 'authors author-bob "Bob"' "$T/p6.log"
check "... and nothing was written (Ada's edit is still there)" \
	test "$(api GET "/items/authors/$ada?fields=name" | json_of 'd.data.name')" = "Edited on the instance"
bob=$(local_of items::authors author-bob)
sd push --seed-path "$S" >"$T/p7.log" 2>&1
check "the push deletes Bob and art-2" grep -q 'Seeded: 0 created, 1 updated, 2 deleted' "$T/p7.log"
check "... Bob is gone from the instance" test "$(api GET "/items/authors?filter[id][_eq]=$bob&fields=id" | json_of 'd.data.length')" = 0
check "... and from the map table" test "$(map_rows items::authors)" = 1
check "... meta.update true again: Ada's name is the seed's" \
	test "$(api GET "/items/authors/$ada?fields=name" | json_of 'd.data.name')" = "Ada L."

# A map row whose item was deleted by hand: dangling, removed, and the
# item created again.
api DELETE "/items/tags/seed-tech" >/dev/null
sd diff --seed-path "$S" >"$T/d6.out" 2>&1
check "an item deleted by hand: its row is dangling, the item to create" \
	grep -q '^tags: 1 to create, 0 to update, 0 to delete, 2 unchanged, 1 dangling map row(s)' "$T/d6.out" || cat "$T/d6.out"
sd push --seed-path "$S" >"$T/p8.log" 2>&1
check "... pushed: created again with its id" \
	test "$(api GET '/items/tags/seed-tech?fields=label' | json_of 'd.data.label')" = Tech

# --- bad input: errors that name the file and the item; nothing written.
before=$(api GET '/items/authors?limit=-1&fields=id,name' | json_of 'JSON.stringify(d.data)')
bad() { # NAME FILE-CONTENT EXPECTED-REGEX
	rm -rf "$T/bad" && mkdir -p "$T/bad" && printf '%s\n' "$2" >"$T/bad/x.json"
	sd push --seed-path "$S" --seed-path "$T/bad" >"$T/bad.log" 2>&1
	local rc=$?
	check "$1: exit 1" test "$rc" = 1
	check "... the message: $3" grep -qE "$3" "$T/bad.log" || cat "$T/bad.log"
}
bad "an item without _sync_id" '{"collection":"authors","data":[{"name":"X"}]}' \
	'seed file .*/bad/x\.json: data\[0\] needs "_sync_id"'
bad "not JSON" '{"collection": "authors",' 'seed file .*/bad/x\.json: '
bad "a system collection other than users and files" '[{"collection":"directus_roles","data":[]}]' \
	'\[0\]\.collection names collection "directus_roles"'
bad "a collection the instance lacks" '{"collection":"nope","data":[{"_sync_id":"n1"}]}' \
	'collection "nope" does not exist on the instance'
bad "a reference to no item" '{"collection":"articles","data":[{"_sync_id":"art-x","title":"X","slug":"seed-x","author":"author-zed"}]}' \
	'x\.json data\[0\] \(articles, _sync_id "art-x"\): field "author" = "author-zed": no item has this SyncID'
bad "a file that is not there" '{"collection":"directus_files","data":[{"_sync_id":"f-x","_file_path":"missing.png"}]}' \
	'_file_path .*/bad/missing\.png: No such file'
bad "a file without _file_path" '{"collection":"directus_files","data":[{"_sync_id":"f-y"}]}' \
	'needs "_file_path"'
bad "one SyncID twice" '{"collection":"authors","data":[{"_sync_id":"author-ada","name":"Twin"}]}' \
	'two items of authors have the _sync_id "author-ada"'
check "... after all of them, the authors are as they were" \
	test "$(api GET '/items/authors?limit=-1&fields=id,name' | json_of 'JSON.stringify(d.data)')" = "$before"

# A relation of a collection to itself: creates in dependency order (the
# child is listed first), and a cycle refused before any write.
api POST /fields/tags '{"field":"parent","type":"string","meta":{"special":["m2o"],"interface":"select-dropdown-m2o"},"schema":{}}' >/dev/null
api POST /relations '{"collection":"tags","field":"parent","related_collection":"tags","schema":{"on_delete":"SET NULL"}}' >/dev/null
mkdir -p "$T/tree"
printf '%s\n' '{"collection":"tags","data":[{"_sync_id":"t-child","id":"t-child","label":"Child","parent":"t-parent"},{"_sync_id":"t-parent","id":"t-parent","label":"Parent"}]}' >"$T/tree/tree.json"
sd push --seed-path "$T/tree" >"$T/p-tree.log" 2>&1
check "a child listed before its parent: created after it, in one push" test $? = 0 || cat "$T/p-tree.log"
check "... the child's parent is the parent's id" \
	test "$(api GET "/items/tags/$(local_of items::tags t-child)?fields=parent" | json_of 'd.data.parent')" = "$(local_of items::tags t-parent)"
bad "two items that refer to each other" '{"collection":"tags","data":[{"_sync_id":"t-a","label":"A","parent":"t-b"},{"_sync_id":"t-b","label":"B","parent":"t-a"}]}' \
	'refer to each other in a cycle'
check "... naming both" test "$(grep -cE 'x\.json data\[[01]\] \(tags, _sync_id "t-[ab]"\)$' "$T/bad.log")" = 2
check "... the cycle created nothing" test "$(api GET '/items/tags?filter[label][_in]=A,B&fields=id' | json_of 'd.data.length')" = 0

# A create that Directus refuses (a unique email taken): the error names
# the item; what was created before it is tracked, and nothing is lost.
edit "$S/blog/authors.json" 'a.data.push({ _sync_id: "author-cy", name: "Cy", email: "cy@seed.example.com" }, { _sync_id: "author-dup", name: "Dup", email: "ada@seed.example.com" })'
sd push --seed-path "$S" >"$T/p9.log" 2>&1
check "a create Directus refuses: exit 1" test $? = 1
check "... naming the seed file and the item" grep -q 'creating .*blog/authors.json data\[2\] (authors, _sync_id "author-dup")' "$T/p9.log" || cat "$T/p9.log"
check "... Cy, created in the same wave, is tracked" test -n "$(local_of items::authors author-cy)"
edit "$S/blog/authors.json" 'a.data.pop()'
sd push --seed-path "$S" >"$T/p10.log" 2>&1
check "... the next push (fixed) creates nothing twice" grep -q 'Seeded: 0 created' "$T/p10.log"
check "... one Cy" test "$(api GET '/items/authors?filter[email][_eq]=cy@seed.example.com&fields=id' | json_of 'd.data.length')" = 1

# --- paths: a missing one is warned about; the default is
# ./directus-config/seed, not under --dump-path; seedPath in the config.
sd diff --seed-path "$T/nowhere" >"$T/d7.out" 2>&1
check "a seed path that does not exist: exit 0" test $? = 0
check "... with a warning" grep -q 'WARN: Seed path does not exist: .*/nowhere' "$T/d7.out"
mkdir -p "$T/cwd/directus-config" && cp -r "$S" "$T/cwd/directus-config/seed"
(cd "$T/cwd" && "$DSYNCD" -u "$URL" -t "$TOKEN" seed diff --dump-path "$T/elsewhere") >"$T/d8.out" 2>&1
check "the default seed path is ./directus-config/seed (no differences)" test $? = 0 || cat "$T/d8.out"
printf '{"seedPath": ["%s/blog", "%s/people.json"]}\n' "$S" "$S" >"$T/cfg.json"
dsyncd -u "$URL" -t "$TOKEN" -c "$T/cfg.json" seed diff >"$T/d9.out" 2>&1
check "seedPath of a JSON config, an array of a directory and a file" test $? = 0 || cat "$T/d9.out"
check "... both read" test "$(grep -c ' unchanged' "$T/d9.out")" = 6

# --- the other way: directus-sync 3.4.1 seeds a fresh instance, then
# dsyncd finds nothing to do.
dx_start --as REF || exit 1
dsyncd -u "$REF_URL" -t "$TOKEN" push --dump-path "$D" >"$T/ref-push.log" 2>&1 || { cat "$T/ref-push.log"; fail "push the dump to REF"; }
(cd "$T" && dx_cli -u "$REF_URL" -t "$TOKEN" seed push --seed-path "$T/seed-orig") >"$T/ref2.log" 2>&1
check "directus-sync seed push on a fresh instance exits 0" test $? = 0 || tail -20 "$T/ref2.log"
# Directus 12 keeps the uploader as uploaded_by: directus-sync sets the
# seed's on its next push (dsyncd right after the upload).
if [ "$DX_MAJOR" -ge 12 ]; then
	(cd "$T" && dx_cli -u "$REF_URL" -t "$TOKEN" seed push --seed-path "$T/seed-orig") >"$T/ref3.log" 2>&1
	check "... and again (12: uploaded_by), exit 0" test $? = 0
fi
dsyncd -u "$REF_URL" -t "$TOKEN" seed diff --seed-path "$T/seed-orig" >"$T/d10.out" 2>&1
check "... dsyncd seed diff then exits 0" test $? = 0 || cat "$T/d10.out"
check "... with 11 unchanged items" \
	test "$(grep -o '[0-9]* unchanged' "$T/d10.out" | awk '{n += $1} END {print n}')" = 11
dsyncd -u "$REF_URL" -t "$TOKEN" seed push --seed-path "$T/seed-orig" >"$T/p11.log" 2>&1
check "... and dsyncd seed push creates nothing" grep -q 'Seeded: 0 created, 0 updated, 0 deleted' "$T/p11.log"

finish
