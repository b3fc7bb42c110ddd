#!/usr/bin/env python3
"""What the fault tests check on a real instance after a fault and a rerun.

    faults-check.py URL DUMP [--untracked COLLECTION:ID ...] [--absent COLLECTION:ID ...]

The token comes from DX_TOKEN. For every collection of the dump but
settings, from the instance's items and its SyncID map table:

- no duplicate map rows (one row per SyncID, one per local id);
- every item of the dump is on the instance, through its map row;
- every item on the instance is tracked (a map row), but those named with
  --untracked, which must exist: so a write applied twice (an untracked
  copy) shows, and an untracked item deleted shows too;
- no map row points to an item that is not there;
- as many tracked items as the dump has.
--absent COLLECTION:ID: that item must not be on the instance.
Prints one line per problem and "ok: N items in M collections" or exits 1.
"""
import concurrent.futures
import json
import os
import sys
import urllib.request

COLLS = ["folders", "translations", "flows", "operations", "roles",
         "policies", "permissions", "dashboards", "panels", "presets"]


def get(url, token, path):
    req = urllib.request.Request(url + path,
                                 headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    url, dump = argv[1].rstrip("/"), argv[2]
    token = os.environ["DX_TOKEN"]
    untracked, absent = {}, {}
    i = 3
    while i < len(argv):
        if argv[i] not in ("--untracked", "--absent") or i + 1 >= len(argv):
            sys.exit(f"faults-check.py: bad argument {argv[i]}")
        coll, _, iid = argv[i + 1].partition(":")
        (untracked if argv[i] == "--untracked" else absent) \
            .setdefault(coll, set()).add(iid)
        i += 2
    paths = []
    for c in COLLS:
        q = "?limit=-1&fields=id"
        if c == "presets":
            q += "&filter[user][_null]=true"
        paths += ["/" + c + q, "/directus-extension-sync/table/" + c]
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        got = dict(zip(paths, ex.map(lambda p: get(url, token, p), paths)))
    problems, total = [], 0
    for k, c in enumerate(COLLS):
        items = [x for x in got[paths[2 * k]]["data"]
                 if x.get("id") is not None]
        ids = {str(x["id"]) for x in items}
        rows = got[paths[2 * k + 1]]
        if isinstance(rows, dict):
            rows = rows.get("data", [])
        with open(os.path.join(dump, "collections", c + ".json")) as f:
            want = [x["_syncId"] for x in json.load(f)]
        by_sync, by_local = {}, {}
        for r in rows:
            by_sync.setdefault(r["sync_id"], []).append(str(r["local_id"]))
            by_local.setdefault(str(r["local_id"]), []).append(r["sync_id"])
        for s, ls in by_sync.items():
            if len(ls) > 1:
                problems.append(f"{c}: SyncID {s} has {len(ls)} map rows")
        for lid, ss in by_local.items():
            if len(ss) > 1:
                problems.append(f"{c}: item {lid} has {len(ss)} map rows")
            if lid not in ids:
                problems.append(f"{c}: map row {ss[0]} -> {lid}, an item "
                                "that is not there")
        for s in want:
            lids = by_sync.get(s)
            if not lids or lids[0] not in ids:
                problems.append(f"{c}: the dump's {s} is missing")
        for lid in sorted(ids - set(by_local)):
            if lid not in untracked.get(c, set()):
                problems.append(f"{c}: item {lid} is not tracked (a "
                                "duplicate, or made by hand)")
        for lid in untracked.get(c, set()):
            if lid not in ids:
                problems.append(f"{c}: the untracked item {lid} is gone")
        for lid in absent.get(c, set()):
            if lid in ids:
                problems.append(f"{c}: item {lid} should be gone")
        tracked = len(ids & set(by_local))
        if tracked != len(want):
            problems.append(f"{c}: {tracked} tracked items on the "
                            f"instance, {len(want)} in the dump")
        total += len(items)
    for p in problems:
        print(p)
    if problems:
        sys.exit(1)
    print(f"ok: {total} items in {len(COLLS)} collections")


if __name__ == "__main__":
    main(sys.argv)
