/*
 * plan_text: a plan as the lines people read, from its JSON form (what
 * dsyncd diff --json prints, and the plan of the daemon's diff reply).
 * dsyncd diff and dsyncctl diff both print through it, so the two show
 * the same plan in the same bytes. Also the escaping of text that comes
 * from the instance, for every printer.
 */
#ifndef DSYNC_PLAN_TEXT_H
#define DSYNC_PLAN_TEXT_H

#include <stdbool.h>
#include <stdio.h>

#include "buf.h"
#include "json.h"

/* s with control characters (C0, DEL, the C1 range in UTF-8) as \xNN or
 * \u00NN and backslashes doubled: a name from the instance never moves
 * the cursor or recolours the screen. NULL reads as "". */
void text_add_safe(struct buf *b, const char *s);
void text_put_safe(FILE *f, const char *s);

/* The plan: the schema entries, each collection's creates, updates and
 * deletes (detail: with the values), then the count. summary (may be
 * NULL) gives the count when the plan has none. Returns the count of
 * differences. */
double plan_text_print(FILE *f, const struct json *plan, bool detail,
    const struct json *summary);
/* The count of differences a plan (or else its summary) holds. */
double plan_text_changes(const struct json *plan, const struct json *summary);

/* "create", "update" or "delete" for one schema entry of a diff, as
 * Directus' records say. */
const char *plan_text_schema_verb(const struct json *entry);
/* Its name, "collection", "collection.field" or "collection.field ->
 * related". Caller frees. */
char *plan_text_schema_name(const struct json *entry);

#endif
