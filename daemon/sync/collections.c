/*
 * collections: the rules table. Field lists come from directus-sync 3.5's
 * per-collection data mappers; everything not named here passes through
 * untouched, so new Directus columns need no change.
 */
#include <string.h>

#include "collections.h"

const struct coll_rule coll_rules[COLL_COUNT] = {
	{ "settings", "/settings", NULL, true, COLL_SORT_SYNCID,
	  COLL_PRESERVE_NEVER,
	  { "project_logo", "public_foreground", "public_background",
	    "public_favicon", "project_url", "project_id" },
	  { { "public_registration_role", "roles" },
	    { "storage_default_folder", "folders" } } },
	{ "folders", "/folders", NULL, false, COLL_SORT_SYNCID,
	  COLL_PRESERVE_ALWAYS, { NULL },
	  { { "parent", "folders" } } },
	{ "translations", "/translations", NULL, false, COLL_SORT_SYNCID,
	  COLL_PRESERVE_OPTIONAL, { NULL }, { { NULL, NULL } } },
	{ "flows", "/flows", NULL, false, COLL_SORT_SYNCID,
	  COLL_PRESERVE_ALWAYS,
	  { "date_created", "user_created", "operations" },
	  { { "operation", "operations" } } },
	{ "operations", "/operations", NULL, false, COLL_SORT_KEY,
	  COLL_PRESERVE_OPTIONAL, { "date_created", "user_created" },
	  { { "flow", "flows" }, { "resolve", "operations" },
	    { "reject", "operations" }, { "options.flow", "flows" } } },
	{ "roles", "/roles", NULL, false, COLL_SORT_SYNCID,
	  COLL_PRESERVE_OPTIONAL, { "users", "children", "policies" },
	  { { "parent", "roles" } } },
	{ "policies", "/policies", "&fields=*,roles.role,roles.user,roles.sort",
	  false, COLL_SORT_SYNCID, COLL_PRESERVE_OPTIONAL,
	  { "users", "permissions" },
	  { { "roles[].role", "roles" } } },
	{ "permissions", "/permissions", NULL, false, COLL_SORT_PERMISSION,
	  COLL_PRESERVE_NEVER, { NULL },
	  { { "policy", "policies" } } },
	{ "dashboards", "/dashboards", NULL, false, COLL_SORT_SYNCID,
	  COLL_PRESERVE_OPTIONAL, { "date_created", "user_created", "panels" },
	  { { NULL, NULL } } },
	{ "panels", "/panels", NULL, false, COLL_SORT_SYNCID,
	  COLL_PRESERVE_OPTIONAL, { "date_created", "user_created" },
	  { { "dashboard", "dashboards" } } },
	{ "presets", "/presets", "&filter[user][_null]=true", false,
	  COLL_SORT_SYNCID, COLL_PRESERVE_NEVER, { "user" },
	  { { "role", "roles" } } },
};

const struct coll_rule *coll_find(const char *name)
{
	size_t i;

	for (i = 0; i < COLL_COUNT; i++)
		if (strcmp(coll_rules[i].name, name) == 0)
			return &coll_rules[i];
	return NULL;
}

unsigned coll_bit(const struct coll_rule *r)
{
	return 1u << (unsigned)(r - coll_rules);
}
