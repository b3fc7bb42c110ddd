/*
 * placeholder: the four SyncIDs that name an instance's built-in items
 * instead of a random id, so that a dump pushed to a fresh instance
 * updates its default admin role, admin policy, public policy and
 * settings rather than creating copies of them.
 */
#ifndef DSYNC_PLACEHOLDER_H
#define DSYNC_PLACEHOLDER_H

#include <stdbool.h>
#include <stddef.h>

#include "directus.h"

#define PH_ADMIN_ROLE "_sync_default_admin_role"
#define PH_ADMIN_POLICY "_sync_default_admin_policy"
#define PH_PUBLIC_POLICY "_sync_default_public_policy"
#define PH_SETTINGS "_sync_default_settings"

struct placeholders {
	bool fetched;
	char *admin_role;    /* the token user's role */
	char *admin_policy;  /* first admin policy linked to that role */
	char *public_policy; /* the access row with neither role nor user */
	char **publics;	     /* every policy holding such a row */
	size_t npublics;
	char *settings; /* the settings row's id */
};

/* Ask the instance for the four local ids (once; parallel GETs). */
int ph_fetch(struct dx *dx, struct placeholders *ph, char **errstr);
void ph_clear(struct placeholders *ph);

/* After ph_fetch: whether policy local_id holds a public access row. */
bool ph_is_public(const struct placeholders *ph, const char *local_id);

/* Whether sync_id is a placeholder of this mapping table. */
bool ph_is(const char *table, const char *sync_id);
/* After ph_fetch: the placeholder SyncID of a local id, or NULL. */
const char *ph_sync_id(const struct placeholders *ph, const char *table,
    const char *local_id);
/* After ph_fetch: the local id a placeholder stands for, or NULL. */
const char *ph_local_id(const struct placeholders *ph, const char *table,
    const char *sync_id);

#endif
