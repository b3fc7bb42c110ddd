/*
 * placeholder: finding the built-in items, with the filters that
 * directus-sync uses for them, except for the public policy: see
 * public_policy().
 */
#include <stdlib.h>
#include <string.h>

#include "placeholder.h"
#include "xmalloc.h"

static char *first_id(struct json *res)
{
	struct json *d = dx_data(res);

	if (d && d->type == JSON_ARRAY && d->u.arr.len > 0)
		return json_scalar_string(json_get(d->u.arr.items[0], "id"));
	return NULL;
}

static char *policy_query(const char *filter)
{
	char *esc = dx_escape(filter), *path;

	xasprintf(&path, "/policies?fields=id&limit=1&filter=%s", esc);
	free(esc);
	return path;
}

/*
 * Directus makes a policy public through an access row whose role and
 * user are both null. directus-sync looks for it with a filter on the
 * policies' o2m ("roles.role is null"), which also matches a policy that
 * has no access row at all; the access rows themselves tell. Of several
 * public rows, the first with sort 1 or none wins, as in directus-sync.
 */
static char *public_policy(struct json *res)
{
	struct json *d = dx_data(res);
	size_t i;

	if (d == NULL || d->type != JSON_ARRAY)
		return NULL;
	for (i = 0; i < d->u.arr.len; i++) {
		const struct json *a = d->u.arr.items[i];
		const struct json *sort = json_get(a, "sort");

		if (json_is_null(json_get(a, "role")) &&
		    json_is_null(json_get(a, "user")) &&
		    (json_is_null(sort) ||
			(sort->type == JSON_NUMBER && sort->u.num == 1)))
			return json_scalar_string(json_get(a, "policy"));
	}
	for (i = 0; i < d->u.arr.len; i++) {
		const struct json *a = d->u.arr.items[i];

		if (json_is_null(json_get(a, "role")) &&
		    json_is_null(json_get(a, "user")))
			return json_scalar_string(json_get(a, "policy"));
	}
	return NULL;
}

/* Every policy with a public access row, once each. */
static void public_all(struct placeholders *ph, struct json *res)
{
	struct json *d = dx_data(res);
	size_t i;

	for (i = 0; d && d->type == JSON_ARRAY && i < d->u.arr.len; i++) {
		const struct json *a = d->u.arr.items[i];
		char *id;

		if (!json_is_null(json_get(a, "role")) ||
		    !json_is_null(json_get(a, "user")) ||
		    (id = json_scalar_string(json_get(a, "policy"))) == NULL)
			continue;
		if (ph_is_public(ph, id)) {
			free(id);
			continue;
		}
		ph->publics = xreallocarray(ph->publics, ph->npublics + 1,
		    sizeof(char *));
		ph->publics[ph->npublics++] = id;
	}
}

bool ph_is_public(const struct placeholders *ph, const char *local_id)
{
	size_t i;

	for (i = 0; local_id && i < ph->npublics; i++)
		if (strcmp(ph->publics[i], local_id) == 0)
			return true;
	return false;
}

int ph_fetch(struct dx *dx, struct placeholders *ph, char **errstr)
{
	struct json *me = NULL;
	struct dx_call calls[3];
	char *filter;
	size_t i;
	int rc = -1;

	if (ph->fetched)
		return 0;
	if ((rc = dx_request(dx, "GET", "/users/me?fields=role", NULL, &me,
		 errstr)) < 0)
		return rc;
	ph->admin_role = json_scalar_string(json_get(dx_data(me), "role"));
	json_free(me);

	memset(calls, 0, sizeof(calls));
	xasprintf(&filter,
	    "{\"_and\":[{\"roles\":{\"role\":{\"_eq\":\"%s\"}}},"
	    "{\"admin_access\":{\"_eq\":true}}]}",
	    ph->admin_role ? ph->admin_role : "");
	dx_call_init(&calls[0], "GET", policy_query(filter), NULL, 0);
	free(filter);
	dx_call_init(&calls[1], "GET",
	    xstrdup("/access?limit=-1"
		    "&fields=policy,role,user,sort&filter[role][_null]=true"
		    "&filter[user][_null]=true"),
	    NULL, 0);
	dx_call_init(&calls[2], "GET", xstrdup("/settings?fields=id"), NULL, 0);
	if ((rc = dx_run(dx, calls, 3, errstr)) < 0)
		goto out;
	ph->admin_policy = first_id(calls[0].result);
	ph->public_policy = public_policy(calls[1].result);
	public_all(ph, calls[1].result);
	ph->settings = json_scalar_string(
	    json_get(dx_data(calls[2].result), "id"));
	if (ph->settings == NULL)
		ph->settings = xstrdup("1");
	ph->fetched = true;
	rc = 0;
out:
	for (i = 0; i < 3; i++)
		dx_call_clear(&calls[i]);
	return rc;
}

void ph_clear(struct placeholders *ph)
{
	free(ph->admin_role);
	free(ph->admin_policy);
	free(ph->public_policy);
	for (size_t i = 0; i < ph->npublics; i++)
		free(ph->publics[i]);
	free(ph->publics);
	free(ph->settings);
	memset(ph, 0, sizeof(*ph));
}

bool ph_is(const char *table, const char *sync_id)
{
	if (strcmp(table, "roles") == 0)
		return strcmp(sync_id, PH_ADMIN_ROLE) == 0;
	if (strcmp(table, "policies") == 0)
		return strcmp(sync_id, PH_ADMIN_POLICY) == 0 ||
		    strcmp(sync_id, PH_PUBLIC_POLICY) == 0;
	if (strcmp(table, "settings") == 0)
		return strcmp(sync_id, PH_SETTINGS) == 0;
	return false;
}

static bool same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

const char *ph_sync_id(const struct placeholders *ph, const char *table,
    const char *local_id)
{
	if (strcmp(table, "settings") == 0)
		return PH_SETTINGS;
	if (strcmp(table, "roles") == 0 && same(local_id, ph->admin_role))
		return PH_ADMIN_ROLE;
	if (strcmp(table, "policies") == 0) {
		if (same(local_id, ph->admin_policy))
			return PH_ADMIN_POLICY;
		if (same(local_id, ph->public_policy))
			return PH_PUBLIC_POLICY;
	}
	return NULL;
}

const char *ph_local_id(const struct placeholders *ph, const char *table,
    const char *sync_id)
{
	if (strcmp(table, "settings") == 0 && same(sync_id, PH_SETTINGS))
		return ph->settings;
	if (strcmp(table, "roles") == 0 && same(sync_id, PH_ADMIN_ROLE))
		return ph->admin_role;
	if (strcmp(table, "policies") == 0) {
		if (same(sync_id, PH_ADMIN_POLICY))
			return ph->admin_policy;
		if (same(sync_id, PH_PUBLIC_POLICY))
			return ph->public_policy;
	}
	return NULL;
}
