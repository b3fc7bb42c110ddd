/*
 * schema: the Directus schema snapshot in the dump: the SyncID map
 * collections left out, and the split into info/collections/fields/
 * relations files with directus-sync's "_2" suffixes for names that clash
 * on case-insensitive file systems.
 */
#ifndef DSYNC_SCHEMA_H
#define DSYNC_SCHEMA_H

#include <stdbool.h>

#include "json.h"

/* Drop directus_sync_id_map and dsync_id_map (and their fields and
 * relations) from a snapshot or a schema diff; missing arrays become []. */
void schema_filter(struct json *snap);
/* A snapshot as Directus answers it, checked before anything is taken
 * from it: an object whose collections, fields and relations are arrays.
 * Anything else (an answer cut or replaced on the way) is an error naming
 * what is wrong, never an empty schema: a pull would delete every
 * snapshot file of the dump. what names the request in the message. */
int schema_check_snapshot(const char *what, const struct json *snap,
    char **errstr);
/* Whether a collection, field or relation belongs to a map collection. */
int schema_is_ignored(const struct json *item);

/* Called once per file: rel is relative to the snapshot directory. */
typedef int (*schema_file_cb)(void *arg, const char *rel,
    const struct json *content, char **errstr);

/* Split a snapshot into its files, in the reference's order. The snapshot
 * loses its collections, fields and relations arrays (it becomes info). */
int schema_split(struct json *snap, schema_file_cb cb, void *arg,
    char **errstr);

/* The snapshot Directus answered (GET /schema/snapshot's "data", taken
 * over), as the dump holds it: checked, the map collections left out,
 * then given to cb as its files (split), or as one snapshot.json. */
int schema_to_files(struct json *snap, bool split, schema_file_cb cb, void *arg,
    char **errstr);

#endif
