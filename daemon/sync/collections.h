/*
 * collections: one row per Directus system collection that dsync tracks,
 * with everything that differs between them (endpoint, query, ignored
 * fields, relation fields and the tables they point into, sort key). The
 * engine's code is the same for every collection.
 */
#ifndef DSYNC_COLLECTIONS_H
#define DSYNC_COLLECTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "colls.h"

#define COLL_MAX_IGNORED 8
#define COLL_MAX_RELATIONS 5

enum coll_sort {
	COLL_SORT_SYNCID,
	COLL_SORT_KEY,	      /* operations: by "key" */
	COLL_SORT_PERMISSION, /* "<policy>-<collection>-<action>" */
};

/* A relation field: "parent" or a nested path like "options.flow" or
 * "roles[].role" (an array of objects, each with a "role"). */
struct coll_relation {
	const char *path;
	const char *table; /* mapping table of the target */
};

struct coll_rule {
	const char *name;     /* mapping-table and file name: "flows" */
	const char *endpoint; /* "/flows" */
	const char *query;    /* extra query for pull, after limit=-1 */
	bool singleton;	      /* settings */
	enum coll_sort sort;
	const char *ignored[COLL_MAX_IGNORED];
	struct coll_relation relations[COLL_MAX_RELATIONS];
};

/* The 11 collections in the reference's processing order: colls_names
 * (common/colls.c), whose ids rule (colls_preserve) they follow. */
extern const struct coll_rule coll_rules[COLL_COUNT];

const struct coll_rule *coll_find(const char *name);
/* Bit for a collection in a set (index in coll_rules). */
unsigned coll_bit(const struct coll_rule *r);

/* The map tables that the collections of the set need (their own and
 * those their relations point into), in rules order; tables must hold
 * COLL_COUNT names. Returns how many. */
size_t coll_tables_needed(unsigned set, const char *tables[]);

struct dx_call;
struct json;
/* The list a GET of collection r answered, taken out of the call: an
 * array, also for settings (its one object, or none). SYNC_EPROTO, with
 * the request named, for any other shape. */
int coll_take_list(const struct coll_rule *r, struct dx_call *call,
    struct json **out, char **errstr);

#endif
