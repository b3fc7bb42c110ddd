/*
 * plan: what a push of the dump would change on the instance, computed
 * from one consistent read (the lists and map tables of the requested
 * collections, and the schema diff) before anything is written. diff
 * prints it; push carries it out; the daemon keeps its summary.
 *
 * Per collection, directus-sync's rules: an item of the dump whose SyncID
 * is tracked and whose local item exists is compared with it (top-level
 * keys, deep equality) and is unchanged or an update; any other item of
 * the dump is a create; a map row whose local item is gone is dangling; a
 * tracked item that the dump no longer has is a delete (never settings
 * or the built-in items). A policy's access rows are compared like any
 * field, its public access row (neither role nor user) included. Items
 * without a map row are not dsync's and never appear.
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
	char *local_id;	   /* update, delete: the instance's id */
	struct json *item; /* create, update: the dump's item (dump form);
				 * delete: the instance's item (dump form) */
	struct json *diff; /* update: {key: dump value} of changed keys */
};

struct plan_list {
	struct plan_change *v;
	size_t len, cap;
};

/* A new, zeroed change at the end of l. */
struct plan_change *plan_list_push(struct plan_list *l);

struct coll_plan {
	const struct coll_rule *rule;
	bool selected;
	struct plan_list create, update, del;
	size_t unchanged;
	char **dangling; /* SyncIDs of dangling map rows */
	size_t ndangling;
	struct json *target;	 /* the instance's items, API form */
	struct strmap *by_local; /* local id -> item in target */
	struct strmap *in_dump;	 /* SyncID -> the dump has it */
};

struct plan {
	struct coll_plan c[COLL_COUNT];
	unsigned requested;	  /* the collections compared */
	bool schema;		  /* the schema was compared */
	struct json *schema_diff; /* {collections, fields, relations},
					 * NULL when nothing differs */
	char *schema_hash;
	size_t schema_changes;
	size_t changes; /* items to create, update, delete */
	struct idmap *map;
	struct placeholders ph;
};

/* What a plan compares: the dump at dump_root (NULL: the run's dump
 * tree, --dump-path), the collections of a set, and the schema or not.
 * Only what these need is read from the instance. */
struct plan_req {
	const char *dump_root;
	unsigned collections; /* bit set over coll_rules */
	bool schema;
	/* Left out of the plan, as if they agreed (NULL: none): items by
	 * plan_skip_key(), schema entries by plan_unit_key(). The
	 * daemon's conflicts and what its policy does not push. */
	const struct strmap *skip;
	/* Only these items (NULL: all), keyed likewise: what the daemon
	 * decided to push, so that a change made meanwhile is not. Not for
	 * the schema, whose diff is applied whole but for skip. */
	const struct strmap *only;
};

/* The key of an item in plan_req.skip. */
char *plan_skip_key(const char *collection, const char *sync_id);
/* The key of a schema entry: "collections\tC", "fields\tC\tF" or
 * "relations\tC\tF". */
char *plan_unit_key(const char *kind, const char *collection,
    const char *field);

/* The request of a diff or push with these options. */
void plan_req_from_opts(const struct sync_opts *o, struct plan_req *req);

/* push, of the dump req names (NULL: plan_req_from_opts). A dump read
 * from elsewhere (req->dump_root) needs no lock of the dump tree. */
int sync_push_req(struct sync_ctx *ctx, const struct plan_req *req,
    struct sync_stats *st, char **errstr);

/* diff: the plan of req (NULL: plan_req_from_opts), read without any
 * write to the instance. p is the caller's (plan_free). */
int sync_diff(struct sync_ctx *ctx, const struct plan_req *req, struct plan *p,
    struct sync_stats *st, char **errstr);

/* Build the plan of req, reading the dump at root when req names none.
 * The version check is the caller's. */
int plan_build(struct sync_ctx *ctx, const char *root,
    const struct plan_req *req, struct plan *p, char **errstr);
void plan_free(struct plan *p);

/*
 * A plan as plain data, for a caller that outlives the plan (the
 * daemon's loop): counts, and the first few items of each kind with
 * their SyncID and name. No pointer into the plan.
 */
#define PLAN_SUMMARY_FIRST 5

struct plan_summary_item {
	char kind; /* '+' create, '~' update, '-' delete */
	char *sync_id;
	char *label; /* NULL when the item has no name */
};

struct plan_summary_coll {
	const char *name; /* static: the rules table's */
	bool selected;
	size_t create, update, del, unchanged, dangling;
	struct plan_summary_item first[PLAN_SUMMARY_FIRST];
	size_t nfirst;
};

struct plan_summary {
	bool schema;	       /* the schema was compared */
	size_t schema_changes; /* collections + fields + relations */
	size_t schema_collections, schema_fields, schema_relations;
	size_t schema_deletes; /* of those, deletes (they drop data) */
	char *schema_first[PLAN_SUMMARY_FIRST]; /* "create field a.b" */
	size_t nschema_first;
	size_t changes; /* items and schema changes */
	struct plan_summary_coll c[COLL_COUNT];
};

void plan_summarize(const struct plan *p, struct plan_summary *s);
void plan_summary_clear(struct plan_summary *s);
/* The summary as JSON: {"changes", "schema": {...} or null,
 * "collections": {name: {"create", "update", "delete", "unchanged",
 * "dangling", "first": [{"kind", "_syncId", "name"}]}}}. */
struct json *plan_summary_json(const struct plan_summary *s);

/* A short name for an item in messages: its name, key, or
 * "collection action" for permissions. Caller frees. */
/* The plan of the collection called name (one of coll_rules). */
const struct coll_plan *plan_coll(const struct plan *p, const char *name);

char *plan_label(const struct coll_rule *r, const struct json *item);

/* {key: dump value} for each top-level key of the dump's item src that
 * differs on the instance's item tgt (both in dump form), or NULL. */
struct json *plan_item_diff(const struct json *src, const struct json *tgt);

/* The instance's item raw (API form) in dump form under sync_id, as a
 * pull writes it. */
int plan_instance_form(const struct plan *p, const struct sync_opts *o,
    const struct coll_rule *r, const struct json *raw, const char *sync_id,
    struct json **out, char **errstr);

/* The plan as JSON (the --json output of diff). */
struct json *plan_json(const struct plan *p);

#endif
