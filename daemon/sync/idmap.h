/*
 * idmap: the SyncID map of one instance, (table, sync_id, local_id) rows.
 * Two backends behind one interface: the directus-extension-sync routes,
 * or a hidden collection of dsync's own (dsync_id_map) reached through the
 * items API, for instances without the extension. Tables are loaded whole,
 * one request each, and looked up in memory.
 */
#ifndef DSYNC_IDMAP_H
#define DSYNC_IDMAP_H

#include <stddef.h>

#include "directus.h"

#define IDMAP_COLLECTION_NAME "dsync_id_map"

enum idmap_backend {
	IDMAP_AUTO,
	IDMAP_EXTENSION,
	IDMAP_COLLECTION,
};

struct idmap;

struct idmap_row {
	char *sync_id;
	char *local_id;
	char *row_id;		/* backend row id (collection backend) */
};

struct idmap_new {
	const char *local_id;	/* in */
	const char *sync_id;	/* in: wanted SyncID, or NULL for a new one */
	char *result;		/* out, owned by the map: the SyncID */
};

struct idmap *idmap_new(struct dx *dx, enum idmap_backend want);
void idmap_free(struct idmap *m);

/* Pick the backend (auto: the extension when it answers) and, for the
 * collection backend, create the collection when create_ok and it is
 * missing. */
int idmap_open(struct idmap *m, int create_ok, char **errstr);
enum idmap_backend idmap_backend(const struct idmap *m);
const char *idmap_backend_name(enum idmap_backend b);

/* Load the rows of these tables (in parallel, one request per table for
 * the extension, one in all for the collection backend). */
int idmap_load(struct idmap *m, const char *const *tables, size_t n,
    char **errstr);

/* Lookups in loaded tables; NULL when absent. */
const struct idmap_row *idmap_by_local(const struct idmap *m,
    const char *table, const char *local_id);
const struct idmap_row *idmap_by_sync(const struct idmap *m,
    const char *table, const char *sync_id);
/* The rows of a loaded table, in backend order. */
const struct idmap_row *idmap_rows(const struct idmap *m, const char *table,
    size_t *n);

/* Create rows in one table (requests in parallel); fills each result and
 * adds the rows to the loaded table. */
int idmap_create(struct idmap *m, const char *table, struct idmap_new *rows,
    size_t n, char **errstr);

#endif
