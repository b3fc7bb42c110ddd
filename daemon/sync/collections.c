/*
 * collections: the rules table. Field lists come from directus-sync 3.5's
 * per-collection data mappers; everything not named here passes through
 * untouched, so new Directus columns need no change.
 */
#include <string.h>

#include "collections.h"
#include "directus.h"
#include "xmalloc.h"

const struct coll_rule coll_rules[COLL_COUNT] = {
	{ "settings", "/settings", NULL, true, COLL_SORT_SYNCID,
	    { "project_logo", "public_foreground", "public_background",
		"public_favicon", "project_url", "project_id" },
	    { { "public_registration_role", "roles" },
		{ "storage_default_folder", "folders" } } },
	{ "folders", "/folders", NULL, false, COLL_SORT_SYNCID, { NULL },
	    { { "parent", "folders" } } },
	{ "translations", "/translations", NULL, false, COLL_SORT_SYNCID,
	    { NULL }, { { NULL, NULL } } },
	{ "flows", "/flows", NULL, false, COLL_SORT_SYNCID,
	    { "date_created", "user_created", "operations" },
	    { { "operation", "operations" } } },
	{ "operations", "/operations", NULL, false, COLL_SORT_KEY,
	    { "date_created", "user_created" },
	    { { "flow", "flows" }, { "resolve", "operations" },
		{ "reject", "operations" }, { "options.flow", "flows" } } },
	{ "roles", "/roles", NULL, false, COLL_SORT_SYNCID,
	    { "users", "children", "policies" }, { { "parent", "roles" } } },
	{ "policies", "/policies", "&fields=*,roles.role,roles.user,roles.sort",
	    false, COLL_SORT_SYNCID, { "users", "permissions" },
	    { { "roles[].role", "roles" } } },
	{ "permissions", "/permissions", NULL, false, COLL_SORT_PERMISSION,
	    { NULL }, { { "policy", "policies" } } },
	{ "dashboards", "/dashboards", NULL, false, COLL_SORT_SYNCID,
	    { "date_created", "user_created", "panels" }, { { NULL, NULL } } },
	{ "panels", "/panels", NULL, false, COLL_SORT_SYNCID,
	    { "date_created", "user_created" },
	    { { "dashboard", "dashboards" } } },
	{ "presets", "/presets", "&filter[user][_null]=true", false,
	    COLL_SORT_SYNCID, { "user" }, { { "role", "roles" } } },
};

const struct coll_rule *coll_find(const char *name)
{
	int i = colls_index(name);

	return i < 0 ? NULL : &coll_rules[i];
}

unsigned coll_bit(const struct coll_rule *r)
{
	return 1u << (unsigned)(r - coll_rules);
}

size_t coll_tables_needed(unsigned set, const char *tables[])
{
	unsigned need = 0;
	size_t i, k, n = 0;

	for (i = 0; i < COLL_COUNT; i++) {
		if (!(set & coll_bit(&coll_rules[i])))
			continue;
		need |= coll_bit(&coll_rules[i]);
		for (k = 0;
		     k < COLL_MAX_RELATIONS && coll_rules[i].relations[k].path;
		     k++)
			need |= coll_bit(
			    coll_find(coll_rules[i].relations[k].table));
	}
	for (i = 0; i < COLL_COUNT; i++)
		if (need & coll_bit(&coll_rules[i]))
			tables[n++] = coll_rules[i].name;
	return n;
}

int coll_take_list(const struct coll_rule *r, struct dx_call *call,
    struct json **out, char **errstr)
{
	struct json *d = json_take(call->result, "data"), *it, *id;
	size_t i;

	if (r->singleton && (d == NULL || d->type != JSON_OBJECT)) {
		xasprintf(errstr, "GET %s: expected an object in \"data\"",
		    call->path);
		json_free(d);
		return SYNC_EPROTO;
	}
	if (r->singleton) {
		struct json *arr = json_new_array();

		/* The settings answer is one object; no id: none. */
		if (!json_is_null(json_get(d, "id")))
			json_array_append(arr, d);
		else
			json_free(d);
		d = arr;
	}
	if (d == NULL || d->type != JSON_ARRAY) {
		xasprintf(errstr, "GET %s: expected a list in \"data\"",
		    call->path);
		json_free(d);
		return SYNC_EPROTO;
	}
	/* Every item an object with its key (the synthetic permissions of
	 * an admin, "system": true, have none): one that is not would be
	 * left out, and a pull would drop it from the tree. */
	for (i = 0; i < d->u.arr.len; i++) {
		it = d->u.arr.items[i];
		id = it->type == JSON_OBJECT ? json_get(it, "id") : NULL;
		if (it->type == JSON_OBJECT &&
		    (id == NULL || id->type == JSON_NULL) &&
		    json_get(it, "system") &&
		    json_get(it, "system")->type == JSON_TRUE)
			continue;
		if (id == NULL ||
		    (id->type != JSON_STRING && id->type != JSON_NUMBER)) {
			xasprintf(errstr, "GET %s: item %zu of \"data\" is %s",
			    call->path, i + 1,
			    it->type != JSON_OBJECT ? "not an object" :
						      "without an id");
			json_free(d);
			return SYNC_EPROTO;
		}
	}
	*out = d;
	return 0;
}
