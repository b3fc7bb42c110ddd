/*
 * helpers: the small maintenance commands of directus-sync, on either
 * map backend. untrack and remove-permission-duplicates change what the
 * dump's SyncIDs mean, so they hold the dump tree's lock when there is a
 * tree.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "buf.h"
#include "idmap.h"
#include "sync.h"
#include "xmalloc.h"

/* A helper's run: the dump tree is locked when it exists. */
static int helper_begin(struct sync_run *run, struct sync_ctx *ctx,
    char **errstr)
{
	struct stat st;
	unsigned flags = stat(ctx->opts->dump_path, &st) == 0 ? RUN_LOCK : 0;

	return sync_run_begin(run, ctx, NULL, flags, errstr);
}

int sync_untrack(struct sync_ctx *ctx, const char *table, const char *local_id,
    bool *found, char **errstr)
{
	struct sync_run run;
	struct idmap *m;
	const struct idmap_row *row;
	char *sid = NULL;
	int rc;

	*found = false;
	if ((rc = helper_begin(&run, ctx, errstr)) < 0)
		return rc;
	m = idmap_new(ctx->dx, ctx->opts->id_map);
	if ((rc = idmap_open(m, IDMAP_OPEN_ABSENT_OK, errstr)) < 0 ||
	    (rc = idmap_load(m, &table, 1, errstr)) < 0)
		goto out;
	row = idmap_by_local(m, table, local_id);
	if (row) {
		const char *s;

		sid = xstrdup(row->sync_id);
		s = sid;
		if ((rc = idmap_remove(m, table, &s, 1, errstr)) < 0)
			goto out;
		*found = true;
		sync_logf(ctx, SYNC_INFO, "[%s] Untracked %s (SyncID %s)",
		    table, local_id, sid);
	}
out:
	free(sid);
	idmap_free(m);
	return sync_run_end(&run, rc);
}

static bool same_key(const struct json *a, const struct json *b)
{
	return json_equal(json_get(a, "policy"), json_get(b, "policy")) &&
	    json_equal(json_get(a, "collection"), json_get(b, "collection")) &&
	    json_equal(json_get(a, "action"), json_get(b, "action"));
}

/* Permissions grouped by (policy, collection, action), in id order:
 * dead[i] for all but the first (or last) of each group. The synthetic
 * admin rows (no id) are not permissions. */
static void mark_duplicates(const struct json *list, bool keep_last, bool *dead)
{
	size_t i, k, n = list->u.arr.len;

	for (i = 0; i < n; i++) {
		const struct json *a = list->u.arr.items[i];

		if (json_is_null(json_get(a, "id")))
			continue;
		for (k = i + 1; k < n; k++) {
			const struct json *b = list->u.arr.items[k];

			if (dead[k] || json_is_null(json_get(b, "id")) ||
			    !same_key(a, b))
				continue;
			/* keep first: k dies; keep last: i dies, k lives. */
			if (keep_last) {
				dead[i] = true;
				break;
			}
			dead[k] = true;
		}
	}
}

static const char * or (const char *s, const char *dflt)
{
	return s ? s : dflt;
}

/* DELETE the ids in bodies of at most 1000 (far below Directus' 1 MB),
 * then their map rows. */
static int delete_permissions(struct sync_ctx *ctx, const struct json *ids,
    char **errstr)
{
	const char *table = "permissions";
	struct idmap *m = idmap_new(ctx->dx, ctx->opts->id_map);
	char **sids = xcalloc(ids->u.arr.len + 1, sizeof(char *));
	size_t i, k, nsids = 0;
	int rc;

	if ((rc = idmap_open(m, IDMAP_OPEN_ABSENT_OK, errstr)) < 0 ||
	    (rc = idmap_load(m, &table, 1, errstr)) < 0)
		goto out;
	for (i = 0; i < ids->u.arr.len; i++) {
		char *lid = json_scalar_string(ids->u.arr.items[i]);
		const struct idmap_row *row = idmap_by_local(m, table, lid);

		if (row)
			sids[nsids++] = xstrdup(row->sync_id);
		free(lid);
	}
	for (i = 0; i < ids->u.arr.len; i += 1000) {
		struct json *chunk = json_new_array();

		for (k = i; k < ids->u.arr.len && k < i + 1000; k++)
			json_array_append(chunk,
			    json_copy(ids->u.arr.items[k]));
		if ((rc = dx_request(ctx->dx, "DELETE", "/permissions", chunk,
			 NULL, errstr)) < 0)
			goto out;
	}
	rc = idmap_remove(m, table, (const char *const *)sids, nsids, errstr);
out:
	for (i = 0; i < nsids; i++)
		free(sids[i]);
	free(sids);
	idmap_free(m);
	return rc;
}

int sync_remove_permission_duplicates(struct sync_ctx *ctx, bool keep_last,
    size_t *deleted, char **errstr)
{
	struct sync_run run;
	struct json *res = NULL, *list, *ids = json_new_array();
	size_t i;
	bool *dead = NULL;
	int rc;

	*deleted = 0;
	if ((rc = helper_begin(&run, ctx, errstr)) < 0) {
		json_free(ids);
		return rc;
	}
	if ((rc = dx_request(ctx->dx, "GET",
		 "/permissions?limit=-1&sort=id"
		 "&fields=id,policy,collection,action",
		 NULL, &res, errstr)) < 0)
		goto out;
	list = dx_data(res);
	if (list == NULL || list->type != JSON_ARRAY) {
		*errstr = xstrdup("GET /permissions: expected a list in "
				  "\"data\"");
		rc = SYNC_EPROTO;
		goto out;
	}
	dead = xcalloc(list->u.arr.len + 1, sizeof(bool));
	mark_duplicates(list, keep_last, dead);
	for (i = 0; i < list->u.arr.len; i++) {
		const struct json *a = list->u.arr.items[i];
		char *id;

		if (!dead[i])
			continue;
		id = json_scalar_string(json_get(a, "id"));
		json_array_append(ids, json_copy(json_get(a, "id")));
		sync_logf(ctx, SYNC_INFO,
		    "[permissions] Duplicate of %s/%s/%s: deleting id %s",
		    or (json_str(json_get(a, "policy")), "public"),
		    or (json_str(json_get(a, "collection")), "?"),
		    or (json_str(json_get(a, "action")), "?"), or (id, "?"));
		free(id);
	}
	*deleted = ids->u.arr.len;
	if (*deleted == 0)
		sync_logf(ctx, SYNC_INFO, "[permissions] No duplicates");
	else if ((rc = delete_permissions(ctx, ids, errstr)) < 0)
		*deleted = 0;
out:
	free(dead);
	json_free(ids);
	json_free(res);
	return sync_run_end(&run, rc);
}

static void sleep_seconds(double s, atomic_int *cancel)
{
	struct timespec ts;

	while (s > 0 && !(cancel && atomic_load(cancel))) {
		double step = s < 0.2 ? s : 0.2;

		ts.tv_sec = (time_t)step;
		ts.tv_nsec = (long)((step - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
		s -= step;
	}
}

/* GET /server/ping: whether it answered "pong"; why not in *why. */
static bool ping_ok(struct sync_ctx *ctx, char **why)
{
	struct dx_call c;
	char *err = NULL;
	bool ok;

	dx_call_init(&c, "GET", xstrdup("/server/ping"), NULL, DX_RAW);
	ok = dx_run(ctx->dx, &c, 1, &err) == 0 && c.raw &&
	    strcmp(c.raw, "pong") == 0;
	if (!ok)
		*why = xstrdup(err ? err : "no \"pong\"");
	free(err);
	dx_call_clear(&c);
	return ok;
}

/*
 * One health probe: whether it said "ok"; why not in *why. Directus 12
 * answers /server/health to an admin only, and this helper's session
 * carries no credentials (the server may not know them yet): a 403 there
 * is followed by /server/ping, whose "pong" says the same (the server is
 * up and answering).
 */
static bool health_ok(struct sync_ctx *ctx, char **why)
{
	struct dx_call c;
	char *err = NULL;
	const char *status = NULL;
	bool ok;

	dx_call_init(&c, "GET", xstrdup("/server/health"), NULL, 0);
	if (dx_run(ctx->dx, &c, 1, &err) == 0)
		status = json_str(json_get(c.result, "status"));
	ok = status && strcmp(status, "ok") == 0;
	if (!ok && c.status == 403) {
		if (!ping_ok(ctx, why))
			goto out;
		sync_logf(ctx, SYNC_DEBUG,
		    "GET /server/health is for admins here (HTTP 403); "
		    "GET /server/ping answered \"pong\"");
		ok = true;
		goto out;
	}
	if (!ok)
		*why = xstrdup(err ? err : status ? status : "no status");
out:
	free(err);
	dx_call_clear(&c);
	return ok;
}

static double since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) +
	    (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

int sync_wait_ready(struct sync_ctx *ctx, double interval, double timeout,
    unsigned successes, char **errstr)
{
	struct sync_run run;
	struct timespec start;
	unsigned ok = 0;
	int rc;

	if ((rc = sync_run_begin(&run, ctx, NULL, 0, errstr)) < 0)
		return rc;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		char *why = NULL;

		if (sync_cancelled(ctx)) {
			*errstr = xstrdup("cancelled");
			rc = SYNC_ECANCELED;
			break;
		}
		if (health_ok(ctx, &why)) {
			ok++;
			sync_logf(ctx, SYNC_INFO, "Server is ready (%u/%u)", ok,
			    successes);
		} else {
			ok = 0;
			sync_logf(ctx, SYNC_INFO, "Server is not ready: %s",
			    why);
			free(why);
		}
		if (ok >= successes)
			break;
		if (since(&start) + interval > timeout) {
			xasprintf(errstr,
			    "Timeout waiting for server to be ready after %gs",
			    timeout);
			rc = SYNC_EUNREACH;
			break;
		}
		sleep_seconds(interval, ctx->cancel);
	}
	return sync_run_end(&run, rc);
}
