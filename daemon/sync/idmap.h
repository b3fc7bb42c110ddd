/*
 * idmap: the SyncID map of one instance, (table, sync_id, local_id) rows.
 * Two backends behind one interface: the directus-extension-sync routes,
 * or a hidden collection of dsync's own (dsync_id_map) reached through the
 * items API, for instances without the extension. Tables are loaded whole,
 * one request each, and looked up in memory.
 */
#ifndef DSYNC_IDMAP_H
#define DSYNC_IDMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "directus.h"
#include "options.h"

#define IDMAP_COLLECTION_NAME "dsync_id_map"

struct idmap;

struct idmap_row {
	char *sync_id;
	char *local_id;
	char *row_id; /* backend row id (collection backend) */
	bool unsaved; /* in memory only (see IDMAP_OPEN_ABSENT_OK) */
};

struct idmap_new {
	const char *local_id; /* in */
	const char *sync_id;  /* in: wanted SyncID, or NULL for a new one */
	char *result;	      /* out, owned by the map: the SyncID */
};

struct idmap *idmap_new(struct dx *dx, enum idmap_backend want);
void idmap_free(struct idmap *m);

enum {
	IDMAP_OPEN_CREATE = 1 << 0,    /* create the map collection now */
	IDMAP_OPEN_ABSENT_OK = 1 << 1, /* a missing map collection is an
					 * empty map: with CREATE it is
					 * created at the first new row,
					 * without, new rows stay in memory */
	IDMAP_OPEN_DEFER = 1 << 2,     /* new rows stay in memory until
					 * idmap_save (any backend) */
};

/* Pick the backend (auto: the extension when it answers) and, for the
 * collection backend, check the collection (flags above). */
int idmap_open(struct idmap *m, unsigned flags, char **errstr);
/* The collection backend found no map collection (yet). */
bool idmap_absent(const struct idmap *m);
/* From now on rows are written: the map collection is created if it is
 * absent, and the rows kept in memory so far (ABSENT_OK, DEFER) are
 * saved. */
int idmap_save(struct idmap *m, char **errstr);
enum idmap_backend idmap_backend(const struct idmap *m);
const char *idmap_backend_name(enum idmap_backend b);

/* Load the rows of these tables (in parallel, one request per table for
 * the extension, one in all for the collection backend). */
int idmap_load(struct idmap *m, const char *const *tables, size_t n,
    char **errstr);

/* Lookups in loaded tables; NULL when absent. */
const struct idmap_row *idmap_by_local(const struct idmap *m, const char *table,
    const char *local_id);
const struct idmap_row *idmap_by_sync(const struct idmap *m, const char *table,
    const char *sync_id);
/* The rows of a loaded table, in backend order; removed rows stay as
 * slots whose sync_id is NULL. Pointers into a table are valid until the
 * next idmap_create or idmap_remove on it. */
const struct idmap_row *idmap_rows(const struct idmap *m, const char *table,
    size_t *n);

/* Create rows in one table (requests in parallel); fills each result and
 * adds the rows to the loaded table. */
int idmap_create(struct idmap *m, const char *table, struct idmap_new *rows,
    size_t n, char **errstr);

/* Remove rows by SyncID (requests in parallel for the extension, one for
 * the collection backend); SyncIDs without a row are skipped. */
int idmap_remove(struct idmap *m, const char *table,
    const char *const *sync_ids, size_t n, char **errstr);

#endif
