/*
 * helpers: the small maintenance commands of directus-sync, on either
 * map backend.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "idmap.h"
#include "sync.h"
#include "xmalloc.h"

int sync_untrack(struct sync_ctx *ctx, const char *table,
    const char *local_id, bool *found, char **errstr)
{
	struct idmap *m = idmap_new(ctx->dx, ctx->opts->id_map);
	const struct idmap_row *row;
	char *sid = NULL;
	int rc = -1;

	*found = false;
	if (idmap_open(m, IDMAP_OPEN_ABSENT_OK, errstr) < 0 ||
	    idmap_load(m, &table, 1, errstr) < 0)
		goto out;
	row = idmap_by_local(m, table, local_id);
	if (row) {
		const char *s;

		sid = xstrdup(row->sync_id);
		s = sid;
		if (idmap_remove(m, table, &s, 1, errstr) < 0)
			goto out;
		*found = true;
		sync_logf(ctx, SYNC_INFO, "[%s] Untracked %s (SyncID %s)",
		    table, local_id, sid);
	}
	rc = 0;
out:
	free(sid);
	idmap_free(m);
	return rc;
}

/* Permissions grouped by (policy, collection, action), in id order; all
 * but the first (or last) of each group are deleted, with their map
 * rows. */
int sync_remove_permission_duplicates(struct sync_ctx *ctx, bool keep_last,
    size_t *deleted, char **errstr)
{
	struct json *res = NULL, *list, *ids = json_new_array();
	struct idmap *m = NULL;
	const char *table = "permissions";
	char **sids = NULL;
	size_t i, k, n, nsids = 0;
	bool *dead = NULL;
	int rc = -1;

	*deleted = 0;
	if (dx_request(ctx->dx, "GET", "/permissions?limit=-1&sort=id"
	    "&fields=id,policy,collection,action", NULL, &res, errstr) < 0)
		goto out;
	list = dx_data(res);
	if (list == NULL || list->type != JSON_ARRAY) {
		*errstr = xstrdup("GET /permissions: expected a list in "
		    "\"data\"");
		goto out;
	}
	n = list->u.arr.len;
	dead = xcalloc(n + 1, sizeof(bool));
	for (i = 0; i < n; i++) {
		const struct json *a = list->u.arr.items[i];

		if (json_is_null(json_get(a, "id")))
			continue;	/* the synthetic admin rows */
		for (k = i + 1; k < n; k++) {
			const struct json *b = list->u.arr.items[k];

			if (dead[k] || json_is_null(json_get(b, "id")) ||
			    !json_equal(json_get(a, "policy"),
			    json_get(b, "policy")) ||
			    !json_equal(json_get(a, "collection"),
			    json_get(b, "collection")) ||
			    !json_equal(json_get(a, "action"),
			    json_get(b, "action")))
				continue;
			/* keep first: k dies; keep last: i dies, k lives. */
			if (keep_last) {
				dead[i] = true;
				break;
			}
			dead[k] = true;
		}
	}
	for (i = 0; i < n; i++) {
		const struct json *a = list->u.arr.items[i];

		if (!dead[i])
			continue;
		json_array_append(ids, json_copy(json_get(a, "id")));
		sync_logf(ctx, SYNC_INFO, "[permissions] Duplicate of "
		    "%s/%s/%s: deleting id %.0f",
		    json_str(json_get(a, "policy")) ?
		    json_str(json_get(a, "policy")) : "public",
		    json_str(json_get(a, "collection")) ?
		    json_str(json_get(a, "collection")) : "?",
		    json_str(json_get(a, "action")) ?
		    json_str(json_get(a, "action")) : "?",
		    json_get(a, "id")->u.num);
	}
	*deleted = ids->u.arr.len;
	if (*deleted == 0) {
		sync_logf(ctx, SYNC_INFO, "[permissions] No duplicates");
		rc = 0;
		goto out;
	}
	/* The map rows of the deleted permissions go with them. */
	m = idmap_new(ctx->dx, ctx->opts->id_map);
	if (idmap_open(m, IDMAP_OPEN_ABSENT_OK, errstr) < 0 ||
	    idmap_load(m, &table, 1, errstr) < 0)
		goto out;
	sids = xcalloc(*deleted, sizeof(char *));
	for (i = 0; i < ids->u.arr.len; i++) {
		char *lid = json_scalar_string(ids->u.arr.items[i]);
		const struct idmap_row *row = idmap_by_local(m, table, lid);

		if (row)
			sids[nsids++] = xstrdup(row->sync_id);
		free(lid);
	}
	/* Ids in bodies of at most 1000 (far below Directus' 1 MB). */
	for (i = 0; i < ids->u.arr.len; i += 1000) {
		struct json *chunk = json_new_array();

		for (k = i; k < ids->u.arr.len && k < i + 1000; k++)
			json_array_append(chunk, json_copy(
			    ids->u.arr.items[k]));
		if (dx_request(ctx->dx, "DELETE", "/permissions", chunk, NULL,
		    errstr) < 0)
			goto out;
	}
	if (idmap_remove(m, table, (const char *const *)sids, nsids,
	    errstr) < 0)
		goto out;
	rc = 0;
out:
	for (i = 0; i < nsids; i++)
		free(sids[i]);
	free(sids);
	free(dead);
	json_free(ids);
	json_free(res);
	idmap_free(m);
	return rc;
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

int sync_wait_ready(struct sync_ctx *ctx, double interval, double timeout,
    unsigned successes, char **errstr)
{
	struct timespec start, now;
	unsigned ok = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct json *res = NULL;
		char *err = NULL;
		const char *status = NULL;

		if (ctx->cancel && atomic_load(ctx->cancel)) {
			*errstr = xstrdup("cancelled");
			return -1;
		}
		if (dx_request(ctx->dx, "GET", "/server/health", NULL, &res,
		    &err) == 0)
			status = json_str(json_get(res, "status"));
		if (status && strcmp(status, "ok") == 0) {
			ok++;
			sync_logf(ctx, SYNC_INFO, "Server is ready (%u/%u)", ok,
			    successes);
		} else {
			ok = 0;
			sync_logf(ctx, SYNC_INFO, "Server is not ready: %s",
			    err ? err : status ? status : "no status");
		}
		free(err);
		json_free(res);
		if (ok >= successes)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec -
		    start.tv_nsec) / 1e9 + interval > timeout) {
			xasprintf(errstr, "Timeout waiting for server to be ready"
			    " after %gs", timeout);
			return -1;
		}
		sleep_seconds(interval, ctx->cancel);
	}
}
