/*
 * three: the three-way comparison of the dump (D), the instance (I) and
 * the base (B), the last state on which both agreed, kept as a dump tree
 * of its own (the same bytes a pull writes). Per item (collection and
 * SyncID) and per schema unit (a file of the split snapshot):
 *   D = I                    in-sync
 *   D != B, I = B            dump-changed       (a change in git)
 *   D = B, I != B            instance-changed   (drift, the Data Studio)
 *   D != B, I != B, D != I   conflict
 * absent being a state like any other. Without a base, a difference is
 * only "differs".
 */
#ifndef DSYNC_THREE_H
#define DSYNC_THREE_H

#include <stdbool.h>
#include <stddef.h>

#include "plan.h"

enum three_class {
	THREE_IN_SYNC,
	THREE_DUMP_CHANGED,
	THREE_INSTANCE_CHANGED,
	THREE_CONFLICT,
	THREE_DIFFERS, /* no base to tell */
};

struct three_item {
	const struct coll_rule *rule; /* NULL: a schema unit */
	char *key;	/* SyncID, the unit's path under snapshot/, or
				 * NULL for an instance item without a map row */
	char *local_id; /* the instance's id, when it has the item */
	char *label;	/* a name for people, or NULL */
	enum three_class cls;
	struct json *base, *dump, *inst; /* dump form; NULL: absent */
	bool stale;	  /* three_write_tree: the tree's version was no
				 * longer the compared one; not written */
	char *who, *when; /* three_who: the last change on the instance
				 * (a user, an ISO time), or NULL */
};

struct three {
	bool have_base;
	struct three_item *v; /* every item and unit, in-sync ones too */
	size_t len, cap;
	size_t counts[5];     /* per class */
	unsigned collections; /* what was compared */
	bool schema;
	char *version; /* Directus' */
};

/* Compare the dump at root (NULL: the run's tree), the instance and the
 * base at base_root (NULL, or a missing directory: no base) for req
 * (NULL: from the options). Reads only; a schema comparison reads the
 * instance's snapshot (--split dumps only). */
int sync_three(struct sync_ctx *ctx, const char *base_root,
    const struct plan_req *req, struct three *t, char **errstr);
void three_free(struct three *t);

const char *three_class_name(enum three_class c);

/* {"base": bool, "counts": {class: n}, "differences": [{"collection" or
 * "unit", "_syncId", "id", "name", "class", "by", "at" (three_who's, when
 * known), "dump", "instance", "base"}]} (with_values: the three versions
 * too). */
struct json *three_json(const struct three *t, bool with_values);

/* What the new base holds. */
enum three_base {
	THREE_BASE_AGREED,   /* what agrees now (D = I); the rest keeps
				 * its old base */
	THREE_BASE_DUMP,     /* the dump as it is: what differs becomes
				 * instance-changed */
	THREE_BASE_INSTANCE, /* the instance as it is: what differs
				 * becomes dump-changed */
};

/* Write the base for what t compared, into base_root (made if missing),
 * all or nothing, with meta.json (instance URL, Directus version, dump
 * path, the time, and commit when not NULL). */
int three_write_base(const struct sync_ctx *ctx, const struct three *t,
    enum three_base what, const char *base_root, const char *commit,
    char **errstr);

/* What a schema unit is, whatever its file is called: its kind (the
 * first part of rel, "fields/a/b.json") with the collection and field v
 * holds, as plan_unit_key gives it; rel when v names no collection.
 * Caller frees. */
char *three_unit_key(const char *rel, const struct json *v);

/*
 * Write the instance's version of the items and units with take[i] set
 * (indexes into t->v) into the dump tree, in the exact bytes of a pull,
 * leaving every other item of the same files as it is (a local edit not
 * yet pushed survives); all or nothing. An item or unit whose version
 * in the tree is no longer the one compared (t's dump side: edited
 * since, or the comparison read HEAD's tree) is not written and gets
 * stale set. An item the instance made gets
 * its map row (and so its SyncID) now. Holds the tree's lock unless the
 * caller does (ctx->lock). t is updated: what was written is in-sync.
 * *written (may be NULL) gets how many items and units changed.
 */
int three_write_tree(struct sync_ctx *ctx, struct three *t, const bool *take,
    size_t *written, char **errstr);

/* Map rows (and so SyncIDs) now for the taken items the instance made,
 * as three_write_tree would make them. */
int three_key_new(struct sync_ctx *ctx, struct three *t, const bool *take,
    char **errstr);

/* Set stale on the taken items and units whose version in the tree
 * (--dump-path) is no longer the compared one: the tree's current files
 * are read, nothing is written. */
int three_mark_stale(struct sync_ctx *ctx, struct three *t, const bool *take,
    char **errstr);

/* Fill who and when of the instance-changed and conflicting items from
 * directus_activity (one request per collection that has any), when the
 * activity log knows them. */
int three_who(struct sync_ctx *ctx, struct three *t, char **errstr);

/* What is left to tell, as plan_summarize would put it: per collection
 * creates (only in the dump), updates and deletes (only on the
 * instance) of what differs; the schema units likewise. */
void three_summarize(const struct three *t, struct plan_summary *s);

/* The paths (relative to the dump tree, caller frees each and the array)
 * of the files that writing take[] changes: a collection file per
 * collection with any, a snapshot unit per unit. */
void three_files(const struct sync_ctx *ctx, const struct three *t,
    const bool *take, char ***rels, size_t *n);

/*
 * The file rel of the dump tree as it is in old (old NULL: no such file)
 * with the instance's version of the taken items or unit put in, in the
 * bytes of a pull: *out NULL when the file goes (a unit the instance no
 * longer has). For a commit that holds only these changes.
 */
int three_apply_file(const struct sync_ctx *ctx, const struct three *t,
    const bool *take, const char *rel, const char *old, size_t oldlen,
    char **out, size_t *outlen, char **errstr);

#endif
