/*
 * load: the dump tree read back for diff and push. Stricter than
 * directus-sync: a missing or malformed collection file is an error that
 * names the file (with line and column for a parse error), never an empty
 * list, since an empty list would mean "delete every tracked item". A file
 * holding [] still means "none".
 */
#ifndef DSYNC_LOAD_H
#define DSYNC_LOAD_H

#include "collections.h"
#include "json.h"
#include "sync.h"

/* <root>/<collections>/<name>.json as an array of items, each an object
 * with a non-empty, unique string "_syncId". Policies written by
 * directus-sync 3.4 are brought to the 3.5 form (see load.c). root is
 * the dump tree to read (the run's, or another copy of it). Failures
 * are SYNC_EDUMP. */
int load_collection(const struct sync_ctx *ctx, const char *root,
    const struct coll_rule *r, struct json **items, char **errstr);

/* The same without the onLoad hook: the daemon's base, which is kept in
 * the dump's form without the hooks. */
int load_collection_raw(const struct sync_ctx *ctx, const char *root,
    const struct coll_rule *r, struct json **items, char **errstr);

/* The fields of it, an item of collection coll, have the JSON types
 * Directus 11 gives them (those it types; others are not checked);
 * otherwise -1 and "WHERE: \"name\" is a number; expected a string".
 * Pull checks the instance's items with it too, so that it never
 * writes a tree that diff and push refuse. */
int load_check_item(const char *where, const char *coll, const struct json *it,
    char **errstr);

/* A warning for each <collections>/NAME.json that names no collection
 * dsync syncs (directus-sync ignores such files, and so does dsync). */
void load_warn_unknown(const struct sync_ctx *ctx, const char *root);

/* The schema snapshot as the JSON text of a /schema/diff body: the split
 * files put back together (info.json is required, the sub-trees may be
 * missing) or snapshot.json with --no-split, without the map
 * collections; built file by file, so that no tree of the whole snapshot
 * is held. field(arg, f) sees each field on the way. *text is the
 * caller's. */
int load_snapshot_text(const struct sync_ctx *ctx, const char *root,
    char **text, void (*field)(void *arg, const struct json *f), void *arg,
    char **errstr);

#endif
