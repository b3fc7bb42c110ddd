#!/usr/bin/env bash
# The dump tree as a daemon's watcher and git see it: a pull that changes
# nothing touches nothing (inode and mtime of every file), a pull that
# changes one item rewrites one file; a dump path that is a symlink, ".",
# or "./x/."; one lock for every command on a tree (a push while a pull
# runs is refused with the pull's pid, and the reverse; --lock-wait
# waits); names from the instance that would leave the tree; a cap on
# the size of answers.
source "$(dirname "$0")/common.sh"

seeded_dump

# stamps DIR: path, inode and mtime of everything under DIR.
stamps() { (cd "$1" && find . -printf '%p %i %T@\n' | LC_ALL=C sort); }
# files DIR: the same for files only (a rename changes its directory's
# mtime).
files() { (cd "$1" && find . -type f -printf '%p %i %T@\n' | LC_ALL=C sort); }
flow=$(dx_api GET '/flows?limit=1&fields=id' | node -pe 'JSON.parse(require("fs").readFileSync(0)).data[0].id')

# --- Unchanged instance: nothing on disk moves.
stamps "$D" >"$T/s1"
dsyncd -u "$URL" -t "$TOKEN" pull --dump-path "$D" >"$T/p2.log" 2>&1
check "second pull succeeds" test $? = 0
stamps "$D" >"$T/s2"
if cmp -s "$T/s1" "$T/s2"; then pass "two pulls in a row: every inode and mtime as it was"
else diff "$T/s1" "$T/s2" | head; fail "two pulls in a row: every inode and mtime as it was"; fi
check "the pull says the tree is unchanged" grep -q "unchanged" "$T/p2.log"

# --- One item changes: one file is rewritten, the others stay.
dx_api PATCH "/flows/$flow" '{"name":"Renamed once"}' >/dev/null
files "$D" >"$T/s2"
dsyncd -u "$URL" -t "$TOKEN" pull --dump-path "$D" >/dev/null 2>&1
files "$D" >"$T/s3"
changed=$(diff "$T/s2" "$T/s3" | grep '^>' | awk '{print $2}' | tr '\n' ' ')
check "a renamed flow rewrites collections/flows.json only (changed: $changed)" test "$changed" = "./collections/flows.json "
check "... with the new name" grep -q "Renamed once" "$D/collections/flows.json"

# --- A symlink as dump path: the link stays, its target is updated.
ln -s "$D" "$T/link"
dx_api PATCH "/flows/$flow" '{"name":"Renamed through a link"}' >/dev/null
dsyncd -u "$URL" -t "$TOKEN" pull --dump-path "$T/link" >"$T/link.log" 2>&1
check "pull through a symlink succeeds" test $? = 0
check "the symlink is still a symlink" test -L "$T/link"
check "its target has the change" grep -q "Renamed through a link" "$D/collections/flows.json"

# --- "." and "./x/.": no recursion into the staging area.
dx_api PATCH "/flows/$flow" '{"name":"Renamed in dot"}' >/dev/null
(cd "$D" && "$DSYNCD" -u "$URL" -t "$TOKEN" pull --dump-path . >"$T/dot.log" 2>&1)
check "pull --dump-path . succeeds" test $? = 0
check "pull --dump-path . wrote the change" grep -q "Renamed in dot" "$D/collections/flows.json"
check "pull --dump-path . left no staging and no nested copy" bash -c "test ! -e '$D/.dsync-staging' && test -z \"\$(find '$D' -mindepth 5 -print -quit)\""
(cd "$T" && "$DSYNCD" -u "$URL" -t "$TOKEN" pull --dump-path ./x/. >"$T/x.log" 2>&1)
check "pull --dump-path ./x/. succeeds" test $? = 0
check "pull --dump-path ./x/. made the tree in x" test -f "$T/x/collections/flows.json"
(cd "$D" && "$DSYNCD" -u "$URL" -t "$TOKEN" diff --dump-path . >/dev/null 2>&1)
check "diff --dump-path . finds nothing to do" test $? = 0

# --- One lock per tree. A pull slowed down by the proxy holds it.
start_proxy "$URL" --delay 0.5 --log "$T/slow.log"
"$DSYNCD" -u "$PROXY_URL" -t "$TOKEN" pull --dump-path "$D" >"$T/slow-pull.log" 2>&1 &
pull_pid=$!
for _ in $(seq 100); do [ -s "$T/slow.log" ] && break; sleep 0.1; done
dsyncd -u "$URL" -t "$TOKEN" push --dump-path "$D" >"$T/refused-push.log" 2>&1
rc=$?
check "a push while a pull runs is refused (exit 1, got $rc)" test "$rc" = 1
check "... naming the pull's pid $pull_pid" grep -q "in use by pid $pull_pid (dsyncd)" "$T/refused-push.log"
dsyncd -u "$URL" -t "$TOKEN" pull --dump-path "$T/x" >"$T/beside.log" 2>&1
check "... while a pull of a tree beside it goes ahead (the lock is the tree's own)" test $? = 0
start=$SECONDS
dsyncd -u "$URL" -t "$TOKEN" push --dump-path "$D" --lock-wait 120 >"$T/waited-push.log" 2>&1
rc=$?
wait "$pull_pid"
check "the pull it waited for succeeded" test $? = 0
check "a push with --lock-wait waits for the pull, then succeeds (exit $rc)" test "$rc" = 0
check "... and it did wait: the pull was done before it ($((SECONDS - start)) s)" grep -q "Done" "$T/slow-pull.log"
: >"$T/slow.log"
"$DSYNCD" -u "$PROXY_URL" -t "$TOKEN" push --dump-path "$D" >"$T/slow-push.log" 2>&1 &
push_pid=$!
for _ in $(seq 100); do [ -s "$T/slow.log" ] && break; sleep 0.1; done
dsyncd -u "$URL" -t "$TOKEN" pull --dump-path "$D" >"$T/refused-pull.log" 2>&1
rc=$?
check "a pull while a push runs is refused (exit 1, got $rc)" test "$rc" = 1
check "... naming the push's pid $push_pid" grep -q "in use by pid $push_pid (dsyncd)" "$T/refused-pull.log"
dsyncd -u "$URL" -t "$TOKEN" diff --dump-path "$D" >"$T/refused-diff.log" 2>&1
check "a diff while a push runs is refused too (exit 1)" test $? = 1
wait "$push_pid"
check "the slow push succeeded" test $? = 0
stop_proxy

# --- Names from the instance that would make paths outside the tree.
tree_sum "$D" >"$T/before-names"
start_proxy "$URL" --match /schema/snapshot --sub '"collection":"articles"' '"collection":"../../../escaped"'
dsyncd -u "$PROXY_URL" -t "$TOKEN" pull --dump-path "$D" >"$T/names.log" 2>&1
check "a collection named ../../../escaped: pull refused (exit 1)" test $? = 1
check "... the error names it" grep -q 'collection name "../../../escaped" cannot be a file name' "$T/names.log"
check "... and the request" grep -q "GET /schema/snapshot" "$T/names.log"
stop_proxy
check "... nothing was written outside the tree" test -z "$(find "$T" -name 'escaped*' -print -quit)"
tree_sum "$D" >"$T/after-names"
check "... and the tree is as it was" cmp -s "$T/before-names" "$T/after-names"
start_proxy "$URL" --match /schema/snapshot --sub '"field":"title"' '"field":"a/b"'
dsyncd -u "$PROXY_URL" -t "$TOKEN" pull --dump-path "$D" >"$T/fname.log" 2>&1
check "a field named a/b: pull refused (exit 1)" test $? = 1
check "... the error names it" grep -q 'field name "a/b" cannot be a file name' "$T/fname.log"
stop_proxy

# --- Answers are capped; the error names the request.
dsyncd -u "$URL" -t "$TOKEN" pull --dump-path "$D" --max-response-mb 0.05 >"$T/cap.log" 2>&1
check "an answer over --max-response-mb fails the pull (exit 1)" test $? = 1
check "... naming the request and the limit" grep -Eq "GET /server/specs/[a-z/]+: the answer is larger than the limit of 51 KiB" "$T/cap.log"
tree_sum "$D" >"$T/after-cap"
check "... and the tree is as it was" cmp -s "$T/before-names" "$T/after-cap"
check "--max-response-mb refuses nonsense" bash -c "! '$DSYNCD' -u '$URL' -t '$TOKEN' pull --dump-path '$D' --max-response-mb -3 2>/dev/null"


# --- Links planted in the tree: never written through.
mkdir -p "$T/outside"
mv "$D/snapshot/relations" "$T/relations.real"
ln -s "$T/outside" "$D/snapshot/relations"
tree_sum "$D" >"$T/before-link"
dsyncd -u "$URL" -t "$TOKEN" pull --dump-path "$D" >"$T/dirlink.log" 2>&1
check "a directory of the tree that is a link out of it: pull refused (exit 1)" test $? = 1
check "... the error names the link" grep -q "snapshot/relations is a symbolic link" "$T/dirlink.log"
check "... nothing was written where it points" test -z "$(ls -A "$T/outside")"
tree_sum "$D" >"$T/after-link"
check "... and the tree is as it was" cmp -s "$T/before-link" "$T/after-link"
rm "$D/snapshot/relations" && mv "$T/relations.real" "$D/snapshot/relations"
printf 'precious\n' >"$T/victim"
cp "$D/collections/flows.json" "$T/flows.json.real"
rm "$D/collections/flows.json" && ln -s "$T/victim" "$D/collections/flows.json"
dx_api PATCH "/flows/$flow" '{"description":"changed, to be pulled"}' >/dev/null
dsyncd -u "$URL" -t "$TOKEN" pull --dump-path "$D" >"$T/filelink.log" 2>&1
check "a dump file that is a link: pull refused (exit 1)" test $? = 1
check "... the error names it" grep -q "collections/flows.json: it is a symbolic link" "$T/filelink.log"
check "... the file it points to is untouched" test "$(cat "$T/victim")" = precious
rm "$D/collections/flows.json" && cp "$T/flows.json.real" "$D/collections/flows.json"
dsyncd -u "$URL" -t "$TOKEN" pull --dump-path "$D" >/dev/null 2>&1
check "... without the link, the pull goes through" grep -q "changed, to be pulled" "$D/collections/flows.json"

finish
