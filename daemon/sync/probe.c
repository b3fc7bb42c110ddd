/*
 * probe: the activity log and the presets, read in parallel (two GETs),
 * turned into what moved (see probe.h).
 */
#include <stdlib.h>
#include <string.h>

#include "collections.h"
#include "directus.h"
#include "hash.h"
#include "json.h"
#include "probe.h"
#include "xmalloc.h"

/* The collections whose writes through the API leave activity rows. */
static const char probe_collections[] =
    "directus_settings,directus_folders,directus_translations,"
    "directus_flows,directus_operations,directus_roles,directus_policies,"
    "directus_permissions,directus_dashboards,directus_panels,"
    "directus_presets,directus_access,directus_collections,"
    "directus_fields,directus_relations";

/* What an activity row's collection stands for: a collection of the
 * dump (its bit), or the schema; anything else, everything. */
static void moved_of(const char *coll, struct sync_moved *m)
{
	size_t i;

	if (coll == NULL || strncmp(coll, "directus_", 9) != 0) {
		m->collections = ~0u;
		m->schema = true;
		return;
	}
	coll += 9;
	if (strcmp(coll, "collections") == 0 || strcmp(coll, "fields") == 0 ||
	    strcmp(coll, "relations") == 0) {
		m->schema = true;
		return;
	}
	if (strcmp(coll, "access") == 0)
		coll = "policies";
	for (i = 0; i < COLL_COUNT; i++)
		if (strcmp(coll_rules[i].name, coll) == 0)
			m->collections |= coll_bit(&coll_rules[i]);
}

/* The activity rows: flow runs are not changes. */
static char *activity_path(const struct sync_mark *since)
{
	char *path;

	if (since && since->valid)
		xasprintf(&path,
		    "/activity?limit=50&sort=-id"
		    "&fields=id,user_agent,collection&filter[id][_gt]=%ld"
		    "&filter[action][_neq]=run&filter[collection][_in]=%s",
		    since->activity, probe_collections);
	else
		xasprintf(&path,
		    "/activity?limit=1&sort=-id&fields=id"
		    "&filter[action][_neq]=run&filter[collection][_in]=%s",
		    probe_collections);
	return path;
}

static int take_activity(struct dx_call *call, const char *own_agent,
    bool since, struct sync_mark *now, struct sync_moved *moved, char **errstr)
{
	struct json *d = dx_data(call->result);
	size_t i;

	if (d == NULL || d->type != JSON_ARRAY) {
		xasprintf(errstr, "GET /activity: expected a list in \"data\"");
		return SYNC_EPROTO;
	}
	for (i = 0; i < d->u.arr.len; i++) {
		const struct json *row = d->u.arr.items[i];
		const struct json *id = json_get(row, "id");
		const char *ua = json_str(json_get(row, "user_agent"));

		if (i == 0 && id && id->type == JSON_NUMBER)
			now->activity = (long)id->u.num;
		if (since && (ua == NULL || strcmp(ua, own_agent) != 0)) {
			moved->moved = true;
			moved_of(json_str(json_get(row, "collection")), moved);
		}
	}
	return 0;
}

int sync_probe(struct sync_ctx *ctx, bool presets, const char *own_agent,
    const struct sync_mark *since, struct sync_mark *now,
    struct sync_moved *moved, struct sync_stats *st, char **errstr)
{
	bool have = since && since->valid;
	struct sync_run run;
	struct dx_call calls[2];
	size_t n = 0, i;
	int rc;

	memset(moved, 0, sizeof(*moved));
	memset(calls, 0, sizeof(calls));
	if ((rc = sync_run_begin(&run, ctx, st, 0, errstr)) < 0)
		return rc;
	dx_call_init(&calls[n++], "GET", activity_path(since), NULL, 0);
	if (presets)
		dx_call_init(&calls[n++], "GET",
		    xstrdup("/presets?limit=-1&filter[user][_null]=true"), NULL,
		    DX_RAW);
	if ((rc = dx_run(ctx->dx, calls, n, errstr)) < 0)
		goto out;
	if (have)
		*now = *since;
	if ((rc = take_activity(&calls[0], own_agent, have, now, moved,
		 errstr)) < 0)
		goto out;
	now->presets = presets ?
	    hash_bytes(calls[1].raw ? calls[1].raw : "", calls[1].rawlen) :
	    0;
	if (have && presets && now->presets != since->presets) {
		moved->moved = true;
		moved->collections |= coll_bit(coll_find("presets"));
	}
	now->valid = true;
out:
	for (i = 0; i < n; i++)
		dx_call_clear(&calls[i]);
	return sync_run_end(&run, rc);
}
