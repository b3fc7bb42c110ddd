/*
 * transform: an item between its API form and its dump form. To the dump:
 * ignored fields dropped, relation fields turned from local ids into
 * SyncIDs, "_syncId" appended (pull, and the target side of a diff). To
 * the instance: relation fields turned from SyncIDs into local ids (push).
 */
#ifndef DSYNC_TRANSFORM_H
#define DSYNC_TRANSFORM_H

#include "collections.h"
#include "idmap.h"
#include "json.h"
#include "options.h"

/* API form -> dump form, in place: sets "_syncId" (last), removes "id"
 * and the ignored fields, maps relations; a relation value without a map
 * row stays as it is, as with directus-sync. */
int xform_to_dump(const struct idmap *m, const struct sync_opts *o,
    const struct coll_rule *r, struct json *item, const char *sync_id,
    char **errstr);

/* The same in two steps, with pull's onDump hook between them: the
 * SyncID set and "id" removed; then the ignored fields dropped and the
 * relations mapped. */
void xform_tag(struct json *item, const char *sync_id);
int xform_finish(const struct idmap *m, const struct sync_opts *o,
    const struct coll_rule *r, struct json *item, char **errstr);

/* Dump form -> API form, in place: maps relation fields to local ids and
 * removes "_syncId". Returns 0 when done, 1 when a referenced item has no
 * map row yet (*missing names it, "field:syncid"; the item is then left
 * half-mapped and must be discarded), -1 on a malformed value. Values
 * starting with "{{" are templates and stay. */
int xform_to_local(const struct idmap *m, const struct coll_rule *r,
    struct json *item, char **missing, char **errstr);

/* Call visit(arg, table, field, value) for every reference of a dump
 * item (templates and nulls left out); a negative return stops. */
int xform_refs(const struct coll_rule *r, const struct json *item,
    int (*visit)(void *arg, const char *table, const char *field,
	const char *value),
    void *arg, char **errstr);

#endif
