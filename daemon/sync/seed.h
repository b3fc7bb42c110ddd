/*
 * seed: directus-sync's push-only data (its "seed" command). Seed files
 * are JSON under the seed paths: one object or an array of them, each
 * {collection, meta, data}, the items keyed by "_sync_id". A seed is
 * only ever pushed: items are created, updated and deleted by the meta
 * flags, tracked in the same map tables as the reference's ("users",
 * "files", "items::<collection>"), and never written back to a file.
 *
 * Unlike the reference, which loops until every reference resolves, a
 * push reads everything first, checks every reference, and then creates
 * in dependency order in one pass.
 */
#ifndef DSYNC_SEED_H
#define DSYNC_SEED_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"
#include "sync.h"

struct seed_item {
	char *sync_id;
	struct json *data; /* the item without _sync_id */
	char *file_path;   /* directus_files: the file to upload */
	const char *file;  /* the seed file (borrowed from the set) */
	size_t index;	   /* in that file's "data" */
};

struct seed_rel {
	char *field;
	char *table; /* the map table of the target, NULL: many-to-any */
};

struct seed_coll {
	char *collection;
	char *table; /* its map table */
	bool create, update, del, preserve_ids;
	char **ignore; /* ignore_on_update, the built-in ones first */
	size_t nignore;
	struct seed_item *items;
	size_t nitems;
	const char *file; /* the first file that named it */
	/* From the instance's schema. */
	char *pk;
	bool pk_int;
	bool pk_uuid;
	struct seed_rel *rels;
	size_t nrels;
};

struct seed_set {
	struct seed_coll *v; /* in the reference's order */
	size_t len;
	char **files; /* every file read, for messages */
	size_t nfiles;
};

/* Read the seed paths (files or directories, *.json found recursively,
 * in name order), check each file and merge the seeds of one collection
 * as the reference merges them. A path that does not exist is warned
 * about and skipped; any file that is not a valid seed file is an error
 * naming it, and nothing is loaded. */
int seed_load(struct sync_ctx *ctx, char *const *paths, size_t npaths,
    struct seed_set *s, char **errstr);
void seed_set_free(struct seed_set *s);

/* The map table of a collection: "users" for directus_users, and
 * "items::name" for a collection of one's own. Caller frees. */
char *seed_table(const char *collection);

/* What seed push would do, as plan_text prints it: {"seed": true,
 * "collections": {name: {create, update, delete, unchanged, dangling,
 * table, files, not_applied}}, "changes": n}. */
int seed_diff(struct sync_ctx *ctx, const struct seed_set *s,
    struct json **plan, struct sync_stats *st, char **errstr);

/* Make the instance hold the seeds. */
int seed_push(struct sync_ctx *ctx, const struct seed_set *s,
    struct sync_stats *st, char **errstr);

#endif
