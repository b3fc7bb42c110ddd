/*
 * plan: what a push of the dump would change on the instance, computed
 * from one consistent read (every list, every map table, the schema diff)
 * before anything is written. diff prints it; push carries it out.
 *
 * Per collection, directus-sync's rules: an item of the dump whose SyncID
 * is tracked and whose local item exists is compared with it (top-level
 * keys, deep equality) and is unchanged or an update; any other item of
 * the dump is a create; a map row whose local item is gone is dangling; a
 * tracked item that the dump no longer has is a delete (never settings).
 * Items without a map row are not dsync's and never appear.
 */
#ifndef DSYNC_PLAN_H
#define DSYNC_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "collections.h"
#include "idmap.h"
#include "json.h"
#include "placeholder.h"
#include "sync.h"

struct plan_change {
	char *sync_id;
	char *local_id;		/* update, delete: the instance's id */
	struct json *item;	/* create, update: the dump's item (dump form);
				 * delete: the instance's item (dump form) */
	struct json *diff;	/* update: {key: dump value} of changed keys */
};

struct plan_list {
	struct plan_change *v;
	size_t len, cap;
};

struct coll_plan {
	const struct coll_rule *rule;
	bool selected;
	struct plan_list create, update, del;
	size_t unchanged;
	char **dangling;		/* SyncIDs of dangling map rows */
	size_t ndangling;
	struct json *target;		/* the instance's items, API form */
	struct strmap *by_local;	/* local id -> item in target */
};

struct plan {
	struct coll_plan c[COLL_COUNT];
	bool schema;			/* the schema was compared */
	struct json *schema_diff;	/* {collections, fields, relations},
					 * NULL when nothing differs */
	char *schema_hash;
	size_t schema_changes;
	size_t changes;			/* items to create, update, delete */
	struct idmap *map;
	struct placeholders ph;
};

/* Start of diff and push: the version check and the cache clear. */
int sync_begin(struct sync_ctx *ctx, char **errstr);

/* Build the plan. for_push opens the map for writing (the collection
 * backend's collection is created when a row is first needed). */
int plan_build(struct sync_ctx *ctx, struct plan *p, bool for_push,
    char **errstr);
void plan_free(struct plan *p);

/* A short name for an item in messages: its name, key, or
 * "collection action" for permissions. Caller frees. */
char *plan_label(const struct coll_rule *r, const struct json *item);

/* {key: dump value} for each top-level key of the dump's item src that
 * differs on the instance's item tgt (both in dump form), or NULL. */
struct json *plan_item_diff(const struct json *src, const struct json *tgt);

/* The plan as JSON (the --json output of diff). */
struct json *plan_json(const struct plan *p);

#endif
