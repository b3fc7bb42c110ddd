/*
 * push: dump -> instance. The plan is built from one read; then, in this
 * order: the schema, the dangling map rows, the creates (collections in
 * dependency order, and within a collection by levels, so that an item
 * is created after the items it points to), the updates, the deletes.
 * References that cannot be resolved yet (a cycle) are deferred to a
 * further pass; a pass that resolves nothing fails with the references it
 * could not resolve, rather than looping.
 *
 * Crash safety: items with uuid keys get their id from dsync and their
 * map row before they are created, so a push cut off at any point leaves
 * either a dangling map row (removed by the next push) or a tracked item
 * (compared by the next push), never an untracked copy. Items with
 * integer keys (permissions, presets) are mapped right after their
 * create; an untracked item equal to one the dump wants is adopted rather
 * than duplicated.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "plan.h"
#include "strmap.h"
#include "transform.h"
#include "uuid.h"
#include "xmalloc.h"

#define BATCH_BYTES (256 * 1024)	/* Directus' default limit is 1 MB */
#define BATCH_ITEMS 200

struct link {
	char *holder;		/* operation's local id */
	char *target;		/* its resolve or reject */
};

struct links {
	struct link *v;
	size_t len;
};

struct push {
	struct sync_ctx *ctx;
	const struct sync_opts *o;
	struct plan *plan;
	struct sync_stats *st;
	bool *create_done[COLL_COUNT];
	bool *update_done[COLL_COUNT];
	struct plan_list links;		/* flows' operation, set last */
	struct links resolve, reject;	/* operations' unique links */
	char *unresolved;		/* first reference not resolved */
	bool progress;
};

/* Creation order: dependencies first; settings points at roles and
 * folders and is never really created (see placeholders). */
static const char *const create_order[] = {
	"folders", "translations", "flows", "operations", "roles", "policies",
	"permissions", "dashboards", "panels", "presets", "settings",
};

static size_t coll_index(const char *name)
{
	return (size_t)(coll_find(name) - coll_rules);
}

static bool uuid_keyed(const struct coll_rule *r)
{
	return !r->singleton && strcmp(r->name, "permissions") != 0 &&
	    strcmp(r->name, "presets") != 0;
}

static char *item_path(const struct coll_rule *r, const char *local_id)
{
	char *p, *esc;

	if (r->singleton)
		return xstrdup(r->endpoint);
	esc = dx_escape(local_id);
	xasprintf(&p, "%s/%s", r->endpoint, esc);
	free(esc);
	return p;
}

/* --- operations' resolve/reject: unique on the instance --- */

static void links_set(struct links *l, const char *holder, const char *target)
{
	size_t i;

	for (i = 0; i < l->len; i++)
		if (strcmp(l->v[i].holder, holder) == 0) {
			free(l->v[i].holder);
			free(l->v[i].target);
			l->v[i] = l->v[--l->len];
			break;
		}
	if (target == NULL)
		return;
	l->v = xreallocarray(l->v, l->len + 1, sizeof(*l->v));
	l->v[l->len].holder = xstrdup(holder);
	l->v[l->len].target = xstrdup(target);
	l->len++;
}

static const char *links_holder(const struct links *l, const char *target)
{
	size_t i;

	for (i = 0; i < l->len; i++)
		if (strcmp(l->v[i].target, target) == 0)
			return l->v[i].holder;
	return NULL;
}

static void links_free(struct links *l)
{
	size_t i;

	for (i = 0; i < l->len; i++) {
		free(l->v[i].holder);
		free(l->v[i].target);
	}
	free(l->v);
}

static void links_init(struct push *ps)
{
	const struct json *t = ps->plan->c[coll_index("operations")].target;
	size_t i;

	for (i = 0; t && i < t->u.arr.len; i++) {
		const struct json *op = t->u.arr.items[i];
		char *id = json_scalar_string(json_get(op, "id"));
		char *rs = json_scalar_string(json_get(op, "resolve"));
		char *rj = json_scalar_string(json_get(op, "reject"));

		if (id && rs)
			links_set(&ps->resolve, id, rs);
		if (id && rj)
			links_set(&ps->reject, id, rj);
		free(id);
		free(rs);
		free(rj);
	}
}

/* Before operations are written with these bodies (ids[i] is the
 * operation each one writes): clear the resolve/reject of every other
 * operation that holds a value one of them is about to take. */
static int free_links(struct push *ps, struct json *const *bodies,
    char *const *ids, size_t n, char **errstr)
{
	static const char *const fields[] = { "resolve", "reject" };
	size_t f, i, k;

	for (f = 0; f < 2; f++) {
		struct links *l = f ? &ps->reject : &ps->resolve;
		struct json *keys = json_new_array(), *body, *data;

		for (i = 0; i < n; i++) {
			char *v = json_scalar_string(json_get(bodies[i],
			    fields[f]));
			const char *h = v ? links_holder(l, v) : NULL;
			bool dup = false;

			if (h && strcmp(h, ids[i]) != 0) {
				for (k = 0; k < keys->u.arr.len; k++)
					dup |= strcmp(json_str(
					    keys->u.arr.items[k]), h) == 0;
				if (!dup)
					json_array_append(keys,
					    json_new_string(h));
			}
			free(v);
		}
		if (keys->u.arr.len == 0) {
			json_free(keys);
			continue;
		}
		for (k = 0; k < keys->u.arr.len; k++)
			links_set(l, json_str(keys->u.arr.items[k]), NULL);
		body = json_new_object();
		data = json_new_object();
		json_set(data, fields[f], json_new_null());
		json_set(body, "keys", keys);
		json_set(body, "data", data);
		sync_logf(ps->ctx, SYNC_DEBUG, "[operations] clearing %s of %zu"
		    " operation(s) first (unique on the instance)", fields[f],
		    keys->u.arr.len);
		if (dx_request(ps->ctx->dx, "PATCH", "/operations", body, NULL,
		    errstr) < 0)
			return -1;
	}
	return 0;
}

static void note_links(struct push *ps, const struct json *body,
    const char *id)
{
	const struct json *v;
	char *s;

	if ((v = json_get(body, "resolve")) != NULL) {
		s = json_scalar_string(v);
		links_set(&ps->resolve, id, s);
		free(s);
	}
	if ((v = json_get(body, "reject")) != NULL) {
		s = json_scalar_string(v);
		links_set(&ps->reject, id, s);
		free(s);
	}
}

/* --- mapping --- */

/* The dump's value, mapped to local ids: 0 ready, 1 deferred (a
 * reference is not resolvable yet), -1 error. */
static int to_local(struct push *ps, const struct coll_rule *r,
    const char *sync_id, struct json *body, char **errstr)
{
	char *missing = NULL;
	int rc = xform_to_local(ps->plan->map, r, body, &missing, errstr);

	if (rc == 1) {
		sync_logf(ps->ctx, SYNC_DEBUG, "[%s] %s: no id map for %s yet",
		    r->name, sync_id, missing);
		if (ps->unresolved == NULL)
			xasprintf(&ps->unresolved, "%s %s: %s", r->name,
			    sync_id, missing);
		free(missing);
	}
	return rc;
}

/* --- policies' access rows --- */

static bool same_scalar(const struct json *a, const struct json *b)
{
	char *x = json_scalar_string(a), *y = json_scalar_string(b);
	bool eq = (x == NULL && y == NULL) ||
	    (x && y && strcmp(x, y) == 0);

	free(x);
	free(y);
	return eq;
}

/*
 * A policy's "roles" (already mapped) as a nested change of its access
 * rows: rows of the dump's roles that exist are updated (sort), the
 * others created, role rows the dump no longer has deleted. Rows that
 * link a user are never touched. NULL when nothing is to be done.
 */
static struct json *nested_roles(const struct json *raw, const struct json *want)
{
	const struct json *have = json_get(raw, "roles");
	struct json *create = json_new_array(), *update = json_new_array(),
	    *del = json_new_array(), *out;
	size_t nh = have && have->type == JSON_ARRAY ? have->u.arr.len : 0;
	bool *used = xcalloc(nh + 1, sizeof(bool));
	size_t i, k;

	for (i = 0; want && want->type == JSON_ARRAY && i < want->u.arr.len;
	    i++) {
		const struct json *e = want->u.arr.items[i];
		const struct json *role = json_get(e, "role");
		bool found = false;

		if (!json_is_null(json_get(e, "user")))
			continue;
		for (k = 0; k < nh && !found; k++) {
			const struct json *h = have->u.arr.items[k];

			if (used[k] || !json_is_null(json_get(h, "user")) ||
			    !same_scalar(json_get(h, "role"), role))
				continue;
			found = used[k] = true;
			if (!same_scalar(json_get(h, "sort"),
			    json_get(e, "sort"))) {
				struct json *u = json_new_object();

				json_set(u, "id", json_copy(json_get(h, "id")));
				json_set(u, "sort", json_get(e, "sort") ?
				    json_copy(json_get(e, "sort")) :
				    json_new_null());
				json_array_append(update, u);
			}
		}
		if (!found && !json_is_null(role))
			json_array_append(create, json_copy(e));
	}
	for (k = 0; k < nh; k++) {
		const struct json *h = have->u.arr.items[k];

		if (!used[k] && json_is_null(json_get(h, "user")) &&
		    !json_is_null(json_get(h, "role")))
			json_array_append(del, json_copy(json_get(h, "id")));
	}
	free(used);
	if (create->u.arr.len + update->u.arr.len + del->u.arr.len == 0) {
		json_free(create);
		json_free(update);
		json_free(del);
		return NULL;
	}
	out = json_new_object();
	json_set(out, "create", create);
	json_set(out, "update", update);
	json_set(out, "delete", del);
	return out;
}

/* Append an update (taking over ch's members) to collection ci, with
 * its done flag. */
static void add_update(struct push *ps, size_t ci, const struct plan_change *ch)
{
	struct plan_list *u = &ps->plan->c[ci].update;

	if (u->len == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 16;
		u->v = xreallocarray(u->v, u->cap, sizeof(*u->v));
	}
	ps->update_done[ci] = xreallocarray(ps->update_done[ci], u->len + 1,
	    sizeof(bool));
	u->v[u->len] = *ch;
	ps->update_done[ci][u->len++] = false;
}

/* --- creates --- */

/* Adopt, instead of creating: an untracked item whose id is the SyncID
 * (ids preserved: a push cut off before its map row, or an item made by
 * directus-sync), or for integer keys an untracked item equal to the
 * dump's. Adopted items become updates or stay unchanged. */
static int adopt(struct push *ps, size_t ci, char **errstr)
{
	struct coll_plan *c = &ps->plan->c[ci];
	const struct coll_rule *r = c->rule;
	bool by_id = sync_opts_preserves(ps->o, r->name) && uuid_keyed(r);
	struct json **cand = NULL;	/* untracked items, dump form */
	char **cid = NULL;		/* their ids; NULL once adopted */
	size_t i, k, nc = 0;
	int rc = -1;

	if ((uuid_keyed(r) && !by_id) || r->singleton)
		return 0;
	if (!by_id) {
		cand = xcalloc(c->target->u.arr.len + 1, sizeof(*cand));
		cid = xcalloc(c->target->u.arr.len + 1, sizeof(*cid));
		for (k = 0; k < c->target->u.arr.len; k++) {
			const struct json *t = c->target->u.arr.items[k];
			char *tl = json_scalar_string(json_get(t, "id"));

			if (tl == NULL || idmap_by_local(ps->plan->map, r->name,
			    tl)) {
				free(tl);
				continue;
			}
			cand[nc] = json_copy(t);
			cid[nc] = tl;
			if (xform_to_dump(ps->plan->map, ps->o, r, cand[nc++],
			    "_", errstr) < 0)
				goto out;
		}
	}
	for (i = 0; i < c->create.len; i++) {
		struct plan_change *ch = &c->create.v[i];
		const struct json *raw = NULL;
		struct json *copy, *d;
		struct idmap_new nr;
		char *lid = NULL;

		if (ps->create_done[ci][i])
			continue;
		if (by_id) {
			raw = strmap_get(c->by_local, ch->sync_id);
			if (raw && !idmap_by_local(ps->plan->map, r->name,
			    ch->sync_id))
				lid = xstrdup(ch->sync_id);
		} else {
			for (k = 0; k < nc && lid == NULL; k++) {
				if (cid[k] == NULL)
					continue;
				d = plan_item_diff(ch->item, cand[k]);
				if (d == NULL) {
					lid = cid[k];
					cid[k] = NULL;
					raw = strmap_get(c->by_local, lid);
				}
				json_free(d);
			}
		}
		if (lid == NULL || raw == NULL) {
			free(lid);
			continue;
		}
		memset(&nr, 0, sizeof(nr));
		nr.local_id = lid;
		nr.sync_id = ch->sync_id;
		if (idmap_create(ps->plan->map, r->name, &nr, 1, errstr) < 0) {
			free(lid);
			goto out;
		}
		sync_logf(ps->ctx, SYNC_WARN, "[%s] Item %s already exists but "
		    "had no id map: tracking it", r->name, lid);
		ps->create_done[ci][i] = true;
		/* It is compared as an update. */
		copy = json_copy(raw);
		if (xform_to_dump(ps->plan->map, ps->o, r, copy, ch->sync_id,
		    errstr) < 0) {
			json_free(copy);
			free(lid);
			goto out;
		}
		d = plan_item_diff(ch->item, copy);
		json_free(copy);
		if (d) {
			struct plan_change nc2;

			nc2.sync_id = xstrdup(ch->sync_id);
			nc2.local_id = lid;
			nc2.item = json_copy(ch->item);
			nc2.diff = d;
			add_update(ps, ci, &nc2);
		} else
			free(lid);
	}
	rc = 0;
out:
	for (k = 0; k < nc; k++) {
		json_free(cand[k]);
		free(cid[k]);
	}
	free(cand);
	free(cid);
	return rc;
}

/* POST bodies in batches of at most BATCH_ITEMS items and BATCH_BYTES. */
static int post_batches(struct push *ps, const struct coll_rule *r,
    struct json **bodies, size_t n, char **errstr)
{
	size_t i = 0;

	while (i < n) {
		struct json *arr = json_new_array();
		size_t bytes = 0;

		while (i < n && arr->u.arr.len < BATCH_ITEMS) {
			size_t len;
			char *s = json_write(bodies[i], false, &len);

			free(s);
			if (arr->u.arr.len > 0 && bytes + len > BATCH_BYTES)
				break;
			bytes += len + 1;
			json_array_append(arr, bodies[i]);
			bodies[i++] = NULL;
		}
		if (dx_request(ps->ctx->dx, "POST", r->endpoint, arr, NULL,
		    errstr) < 0)
			return -1;
	}
	return 0;
}

/* Whether a created item, as Directus answers it, is the one sent. */
static bool same_item(const struct coll_rule *r, const struct json *sent,
    const struct json *got)
{
	static const char *const keys[] = { "collection", "action", "policy",
	    "role", "bookmark" };
	size_t i;

	(void)r;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct json *a = json_get(sent, keys[i]);

		if (a && !json_equal(a, json_get(got, keys[i])) &&
		    !(json_is_null(a) && json_is_null(json_get(got, keys[i]))))
			return false;
	}
	return true;
}

/*
 * Create items with integer keys (permissions, presets) in batches, or
 * the settings row. Directus gives an array's items consecutive ids and
 * answers them sorted by id, so the answer is in the order sent; each
 * is checked against what was sent before its id is taken. ids[i] gets
 * the id of bodies[i] (caller frees); bodies are consumed.
 */
static int post_int_batches(struct push *ps, const struct coll_rule *r,
    struct json **bodies, size_t n, char **ids, char **errstr)
{
	size_t i = 0, k;

	while (i < n) {
		struct json *arr = json_new_array(), *res = NULL, *data;
		size_t first = i, bytes = 0;
		int rc;

		if (r->singleton) {
			rc = dx_request(ps->ctx->dx, "PATCH", r->endpoint,
			    bodies[i], &res, errstr);
			bodies[i] = NULL;
			json_free(arr);
			if (rc < 0)
				return -1;
			ids[i] = json_scalar_string(json_get(dx_data(res),
			    "id"));
			json_free(res);
			if (ids[i++] == NULL) {
				xasprintf(errstr, "PATCH %s: no id in the "
				    "answer", r->endpoint);
				return -1;
			}
			continue;
		}
		while (i < n && arr->u.arr.len < BATCH_ITEMS) {
			size_t len;
			char *t = json_write(bodies[i], false, &len);

			free(t);
			if (arr->u.arr.len > 0 && bytes + len > BATCH_BYTES)
				break;
			bytes += len + 1;
			json_array_append(arr, json_copy(bodies[i++]));
		}
		rc = dx_request(ps->ctx->dx, "POST", r->endpoint, arr, &res,
		    errstr);
		if (rc < 0)
			return -1;
		data = dx_data(res);
		/* /permissions answers add synthetic rows without an id. */
		for (k = data && data->type == JSON_ARRAY ? data->u.arr.len : 0;
		    k-- > 0;)
			if (json_is_null(json_get(data->u.arr.items[k], "id")))
				json_array_remove(data, k);
		if (data == NULL || data->type != JSON_ARRAY ||
		    data->u.arr.len != i - first) {
			xasprintf(errstr, "POST %s: expected %zu items in the "
			    "answer", r->endpoint, i - first);
			json_free(res);
			return -1;
		}
		for (k = first; k < i; k++) {
			const struct json *got = data->u.arr.items[k - first];

			if (!same_item(r, bodies[k], got)) {
				xasprintf(errstr, "POST %s: the answer's items "
				    "are not in the order sent; the next push "
				    "will adopt them", r->endpoint);
				json_free(res);
				return -1;
			}
			ids[k] = json_scalar_string(json_get(got, "id"));
			if (ids[k] == NULL) {
				xasprintf(errstr, "POST %s: an item without id "
				    "in the answer", r->endpoint);
				json_free(res);
				return -1;
			}
		}
		json_free(res);
	}
	for (k = 0; k < n; k++) {
		json_free(bodies[k]);
		bodies[k] = NULL;
	}
	return 0;
}

/* Create what is ready in collection ci, level by level. */
static int create_items(struct push *ps, size_t ci, char **errstr)
{
	struct coll_plan *c = &ps->plan->c[ci];
	const struct coll_rule *r = c->rule;
	bool flows = strcmp(r->name, "flows") == 0;
	bool ops = strcmp(r->name, "operations") == 0;
	size_t n = c->create.len, i, made = 0;
	struct json **bodies = xcalloc(n + 1, sizeof(*bodies));
	size_t *which = xcalloc(n + 1, sizeof(size_t));
	char **ids = xcalloc(n + 1, sizeof(char *));
	struct idmap_new *rows = xcalloc(n + 1, sizeof(*rows));
	int rc = -1;

	for (;;) {
		size_t nready = 0;

		for (i = 0; i < n; i++) {
			struct plan_change *ch = &c->create.v[i];
			struct json *b;
			int m;

			if (ps->create_done[ci][i])
				continue;
			b = json_copy(ch->item);
			if (flows && !json_is_null(json_get(b, "operation"))) {
				json_set(b, "operation", json_new_null());
			}
			m = to_local(ps, r, ch->sync_id, b, errstr);
			if (m < 0) {
				json_free(b);
				goto out;
			}
			if (m > 0) {
				json_free(b);
				continue;
			}
			which[nready] = i;
			bodies[nready++] = b;
		}
		if (nready == 0)
			break;
		/* Ids and map rows first for uuid keys. */
		for (i = 0; i < nready; i++) {
			const char *sid = c->create.v[which[i]].sync_id;

			ids[i] = NULL;
			if (!uuid_keyed(r))
				continue;
			ids[i] = sync_opts_preserves(ps->o, r->name) ?
			    xstrdup(sid) : uuid_v4();
			json_set(bodies[i], "id", json_new_string(ids[i]));
			rows[i].local_id = ids[i];
			rows[i].sync_id = sid;
		}
		if (uuid_keyed(r)) {
			if (idmap_create(ps->plan->map, r->name, rows, nready,
			    errstr) < 0)
				goto out;
			ps->st->map_rows_created += nready;
			if (ops && free_links(ps, bodies, ids, nready,
			    errstr) < 0)
				goto out;
			for (i = 0; ops && i < nready; i++)
				note_links(ps, bodies[i], ids[i]);
			if (post_batches(ps, r, bodies, nready, errstr) < 0)
				goto out;
		} else {
			/* Integer keys (and settings): the answers give the
			 * ids, then the map rows, in one go. */
			size_t k, nrows = 0;

			if (post_int_batches(ps, r, bodies, nready, ids,
			    errstr) < 0)
				goto out;
			for (k = 0; k < nready; k++) {
				const char *sid = c->create.v[which[k]].sync_id;

				/* Settings: the placeholder row may exist. */
				if (idmap_by_sync(ps->plan->map, r->name, sid))
					continue;
				rows[nrows].local_id = ids[k];
				rows[nrows++].sync_id = sid;
			}
			if (idmap_create(ps->plan->map, r->name, rows, nrows,
			    errstr) < 0)
				goto out;
			ps->st->map_rows_created += nrows;
		}
		for (i = 0; i < nready; i++) {
			struct plan_change *ch = &c->create.v[which[i]];
			const struct json *op = json_get(ch->item, "operation");

			ps->create_done[ci][which[i]] = true;
			if (flows && !json_is_null(op)) {
				struct json *d = json_new_object();
				struct plan_list *l = &ps->links;

				json_set(d, "operation", json_copy(op));
				if (l->len == l->cap) {
					l->cap = l->cap ? l->cap * 2 : 16;
					l->v = xreallocarray(l->v, l->cap,
					    sizeof(*l->v));
				}
				l->v[l->len].sync_id = xstrdup(ch->sync_id);
				l->v[l->len].local_id = xstrdup(ids[i]);
				l->v[l->len].item = NULL;
				l->v[l->len].diff = d;
				l->len++;
			}
			json_free(bodies[i]);
			bodies[i] = NULL;
			free(ids[i]);
			ids[i] = NULL;
		}
		made += nready;
		ps->progress = true;
	}
	if (made) {
		ps->st->created += made;
		sync_logf(ps->ctx, SYNC_INFO, "[%s] Created %zu items", r->name,
		    made);
	}
	rc = 0;
out:
	for (i = 0; i < n; i++) {
		json_free(bodies[i]);
		free(ids[i]);
	}
	free(bodies);
	free(which);
	free(ids);
	free(rows);
	return rc;
}

/* --- updates --- */

static bool pair_exists(const struct coll_plan *c, const struct json *key,
    const struct json *lang)
{
	size_t i;

	for (i = 0; i < c->target->u.arr.len; i++) {
		const struct json *t = c->target->u.arr.items[i];

		if (json_equal(json_get(t, "key"), key) &&
		    json_equal(json_get(t, "language"), lang))
			return true;
	}
	return false;
}

/*
 * A translation's (key, language) pair is unique, so a change of both
 * goes in two steps, the first through a pair that is free: the new key
 * with the old language, else the old key with the new language, else a
 * temporary key. Returns the first step's body; body keeps the rest.
 */
static struct json *first_step(const struct coll_plan *c, const char *id,
    struct json *body)
{
	const struct json *raw = strmap_get(c->by_local, id);
	const struct json *key = json_get(body, "key");
	const struct json *lang = json_get(body, "language");
	struct json *first = json_new_object();

	if (!pair_exists(c, key, json_get(raw, "language"))) {
		json_set(first, "key", json_take(body, "key"));
	} else if (!pair_exists(c, json_get(raw, "key"), lang)) {
		json_set(first, "language", json_take(body, "language"));
	} else {
		char *u = uuid_v4(), *tmp;

		xasprintf(&tmp, "dsync-rename-%s", u);
		json_set(first, "key", json_new_string(tmp));
		free(tmp);
		free(u);
	}
	return first;
}

/* PATCH every ready update of list l (done flags in done). */
static int update_list(struct push *ps, size_t ci, struct plan_list *l,
    bool *done, char **errstr)
{
	struct coll_plan *c = &ps->plan->c[ci];
	const struct coll_rule *r = c->rule;
	bool ops = strcmp(r->name, "operations") == 0;
	bool policies = strcmp(r->name, "policies") == 0;
	bool translations = strcmp(r->name, "translations") == 0;
	size_t n = l->len, i, nready = 0, nfirst = 0, k;
	struct json **bodies = xcalloc(n + 1, sizeof(*bodies));
	char **ids = xcalloc(n + 1, sizeof(char *));
	size_t *which = xcalloc(n + 1, sizeof(size_t));
	struct dx_call *calls = NULL;
	int rc = -1;

	for (i = 0; i < n; i++) {
		struct plan_change *ch = &l->v[i];
		struct json *b;
		int m;

		if (done[i])
			continue;
		b = json_copy(ch->diff);
		m = to_local(ps, r, ch->sync_id, b, errstr);
		if (m < 0) {
			json_free(b);
			goto out;
		}
		if (m > 0) {
			json_free(b);
			continue;
		}
		if (policies && json_get(b, "roles")) {
			const struct json *raw = strmap_get(c->by_local,
			    ch->local_id);
			struct json *nested = nested_roles(raw,
			    json_get(b, "roles"));

			if (nested)
				json_set(b, "roles", nested);
			else
				json_del(b, "roles");
		}
		which[nready] = i;
		ids[nready] = ch->local_id;
		bodies[nready++] = b;
	}
	if (nready == 0) {
		rc = 0;
		goto out;
	}
	if (ops && free_links(ps, bodies, ids, nready, errstr) < 0)
		goto out;
	for (i = 0; ops && i < nready; i++)
		note_links(ps, bodies[i], ids[i]);
	/* Translations that change key and language: one of the two
	 * first (see first_step). */
	calls = xcalloc(2 * nready, sizeof(*calls));
	for (i = 0; translations && i < nready; i++)
		if (json_get(bodies[i], "key") &&
		    json_get(bodies[i], "language"))
			dx_call_init(&calls[nfirst++], "PATCH",
			    item_path(r, ids[i]), first_step(c, ids[i],
			    bodies[i]), 0);
	if (nfirst && dx_run(ps->ctx->dx, calls, nfirst, errstr) < 0)
		goto out;
	k = nfirst;
	for (i = 0; i < nready; i++) {
		if (bodies[i]->u.obj.len == 0)
			continue;
		dx_call_init(&calls[k++], "PATCH", item_path(r, ids[i]),
		    bodies[i], 0);
		bodies[i] = NULL;
	}
	if (k > nfirst && dx_run(ps->ctx->dx, calls + nfirst, k - nfirst,
	    errstr) < 0)
		goto out;
	for (i = 0; i < nready; i++)
		done[which[i]] = true;
	ps->st->updated += nready;
	ps->progress = true;
	sync_logf(ps->ctx, SYNC_INFO, "[%s] Updated %zu items", r->name,
	    nready);
	rc = 0;
out:
	if (calls) {
		for (i = 0; i < 2 * nready; i++)
			dx_call_clear(&calls[i]);
		free(calls);
	}
	for (i = 0; i < nready; i++)
		json_free(bodies[i]);
	free(bodies);
	free(ids);
	free(which);
	return rc;
}

/* --- deletes --- */

static int delete_items(struct push *ps, size_t ci, char **errstr)
{
	struct coll_plan *c = &ps->plan->c[ci];
	const struct coll_rule *r = c->rule;
	size_t n = c->del.len, i;
	struct dx_call *calls;
	const char **sids;
	int rc = -1;

	if (n == 0)
		return 0;
	calls = xcalloc(n, sizeof(*calls));
	sids = xcalloc(n, sizeof(char *));
	for (i = 0; i < n; i++) {
		/* Gone already (a cascade) is as good as deleted. */
		dx_call_init(&calls[i], "DELETE", item_path(r,
		    c->del.v[i].local_id), NULL, DX_ALLOW_404 | DX_ALLOW_403);
		sids[i] = c->del.v[i].sync_id;
		if (strcmp(r->name, "operations") == 0) {
			links_set(&ps->resolve, c->del.v[i].local_id, NULL);
			links_set(&ps->reject, c->del.v[i].local_id, NULL);
		}
	}
	if (dx_run(ps->ctx->dx, calls, n, errstr) < 0 ||
	    idmap_remove(ps->plan->map, r->name, sids, n, errstr) < 0)
		goto out;
	ps->st->deleted += n;
	sync_logf(ps->ctx, SYNC_INFO, "[%s] Deleted %zu items", r->name, n);
	rc = 0;
out:
	for (i = 0; i < n; i++)
		dx_call_clear(&calls[i]);
	free(calls);
	free(sids);
	return rc;
}

/* --- references, checked before any write --- */

struct refcheck {
	struct push *ps;
	struct strmap *creating[COLL_COUNT];
	const struct coll_rule *r;
	const char *sync_id;
	struct buf bad;
	size_t nbad;
};

static int ref_visit(void *arg, const char *table, const char *field,
    const char *value)
{
	struct refcheck *rc = arg;
	const struct coll_rule *t = coll_find(table);

	if (idmap_by_sync(rc->ps->plan->map, table, value) ||
	    (t && strmap_get(rc->creating[t - coll_rules], value)))
		return 0;
	if (rc->nbad++ < 10)
		buf_addf(&rc->bad, "\n  %s %s: %s refers to %s %s", rc->r->name,
		    rc->sync_id, field, table, value);
	return 0;
}

/* Every reference of the dump's creates and updates must name an item
 * that is tracked on the instance or created by this push. */
static int check_refs(struct push *ps, char **errstr)
{
	struct refcheck rc;
	size_t i, k;
	int ret = 0;

	memset(&rc, 0, sizeof(rc));
	rc.ps = ps;
	buf_init(&rc.bad);
	for (i = 0; i < COLL_COUNT; i++) {
		rc.creating[i] = strmap_new();
		for (k = 0; k < ps->plan->c[i].create.len; k++)
			strmap_put(rc.creating[i],
			    ps->plan->c[i].create.v[k].sync_id, (void *)1);
	}
	for (i = 0; i < COLL_COUNT && ret == 0; i++) {
		struct coll_plan *c = &ps->plan->c[i];

		rc.r = c->rule;
		for (k = 0; k < c->create.len && ret == 0; k++) {
			rc.sync_id = c->create.v[k].sync_id;
			ret = xform_refs(c->rule, c->create.v[k].item,
			    ref_visit, &rc, errstr);
		}
		for (k = 0; k < c->update.len && ret == 0; k++) {
			rc.sync_id = c->update.v[k].sync_id;
			ret = xform_refs(c->rule, c->update.v[k].diff,
			    ref_visit, &rc, errstr);
		}
	}
	if (ret == 0 && rc.nbad) {
		xasprintf(errstr, "%zu reference(s) name items that are "
		    "neither in the dump nor tracked on the instance; nothing "
		    "was written:%s%s", rc.nbad, rc.bad.data,
		    rc.nbad > 10 ? "\n  ..." : "");
		ret = -1;
	}
	for (i = 0; i < COLL_COUNT; i++)
		strmap_free(rc.creating[i]);
	buf_clear(&rc.bad);
	return ret;
}

/* --- the run --- */

static size_t pending(const struct push *ps)
{
	size_t i, k, n = 0;

	for (i = 0; i < COLL_COUNT; i++) {
		const struct coll_plan *c = &ps->plan->c[i];

		for (k = 0; k < c->create.len; k++)
			n += !ps->create_done[i][k];
		for (k = 0; k < c->update.len; k++)
			n += !ps->update_done[i][k];
	}
	return n;
}

static int check_deletes(struct push *ps, char **errstr)
{
	struct buf b;
	size_t i, k, n = 0;

	for (i = 0; i < COLL_COUNT; i++)
		n += ps->plan->c[i].del.len;
	if (ps->o->max_deletes < 0 || n <= (size_t)ps->o->max_deletes)
		return 0;
	buf_init(&b);
	buf_addf(&b, "the push would delete %zu item(s), more than "
	    "--max-deletes %ld; nothing was written. It would delete:", n,
	    ps->o->max_deletes);
	for (i = 0; i < COLL_COUNT; i++) {
		const struct coll_plan *c = &ps->plan->c[i];

		for (k = 0; k < c->del.len; k++) {
			char *label = plan_label(c->rule, c->del.v[k].item);

			buf_addf(&b, "\n  %s %s%s%s%s (id %s)", c->rule->name,
			    c->del.v[k].sync_id, label ? " \"" : "",
			    label ? label : "", label ? "\"" : "",
			    c->del.v[k].local_id);
			free(label);
		}
	}
	*errstr = buf_steal(&b, NULL);
	return -1;
}

static int apply_schema(struct push *ps, char **errstr)
{
	struct plan *p = ps->plan;
	struct json *body;

	if (p->schema_diff == NULL) {
		sync_logf(ps->ctx, SYNC_DEBUG, "[snapshot] No changes to apply");
		return 0;
	}
	body = json_new_object();
	json_set(body, "hash", json_new_string(p->schema_hash));
	json_set(body, "diff", p->schema_diff);	/* taken over */
	p->schema_diff = NULL;
	if (dx_request(ps->ctx->dx, "POST", "/schema/apply", body, NULL,
	    errstr) < 0)
		return -1;
	sync_logf(ps->ctx, SYNC_INFO, "[snapshot] Changes applied (%zu)",
	    p->schema_changes);
	return 0;
}

static int clean_dangling(struct push *ps, char **errstr)
{
	size_t i;

	for (i = 0; i < COLL_COUNT; i++) {
		struct coll_plan *c = &ps->plan->c[i];

		if (c->ndangling == 0)
			continue;
		if (idmap_remove(ps->plan->map, c->rule->name,
		    (const char *const *)c->dangling, c->ndangling,
		    errstr) < 0)
			return -1;
		sync_logf(ps->ctx, SYNC_INFO, "[%s] Deleted %zu dangling id "
		    "maps", c->rule->name, c->ndangling);
	}
	return 0;
}

static int run_pass(struct push *ps, unsigned pass, char **errstr)
{
	size_t i;
	bool *link_done;
	int lrc;

	for (i = 0; i < sizeof(create_order) / sizeof(create_order[0]); i++) {
		size_t ci = coll_index(create_order[i]);

		if (ps->plan->c[ci].selected && create_items(ps, ci,
		    errstr) < 0)
			return -1;
	}
	for (i = 0; i < COLL_COUNT; i++)
		if (ps->plan->c[i].selected && update_list(ps, i,
		    &ps->plan->c[i].update, ps->update_done[i], errstr) < 0)
			return -1;
	/* Flows created in this pass get their first operation now. */
	if (ps->links.len) {
		link_done = xcalloc(ps->links.len, sizeof(bool));
		lrc = update_list(ps, coll_index("flows"), &ps->links,
		    link_done, errstr);
		for (i = 0; i < ps->links.len; i++)
			if (!link_done[i]) {
				/* Leave it for the next pass. */
				struct plan_change *ch = &ps->links.v[i];

				add_update(ps, coll_index("flows"), ch);
				memset(ch, 0, sizeof(*ch));
			}
		free(link_done);
		for (i = 0; i < ps->links.len; i++) {
			free(ps->links.v[i].sync_id);
			free(ps->links.v[i].local_id);
			json_free(ps->links.v[i].diff);
		}
		ps->links.len = 0;
		if (lrc < 0)
			return -1;
	}
	if (pass == 1)
		for (i = COLL_COUNT; i-- > 0;)
			if (ps->plan->c[i].selected && delete_items(ps, i,
			    errstr) < 0)
				return -1;
	return 0;
}

int sync_push(struct sync_ctx *ctx, struct sync_stats *st, char **errstr)
{
	struct push ps;
	struct plan plan;
	struct sync_stats dummy;
	unsigned pass;
	size_t i;
	int rc = -1;

	memset(&ps, 0, sizeof(ps));
	memset(st ? st : &dummy, 0, sizeof(*st));
	ps.ctx = ctx;
	ps.o = ctx->opts;
	ps.plan = &plan;
	ps.st = st ? st : &dummy;
	memset(&plan, 0, sizeof(plan));

	/* Everything is read and checked before the first write. */
	if (sync_begin(ctx, errstr) < 0 ||
	    plan_build(ctx, &plan, true, errstr) < 0 ||
	    check_deletes(&ps, errstr) < 0 || check_refs(&ps, errstr) < 0)
		goto out;
	for (i = 0; i < COLL_COUNT; i++) {
		ps.create_done[i] = xcalloc(plan.c[i].create.len + 1,
		    sizeof(bool));
		ps.update_done[i] = xcalloc(plan.c[i].update.len + 1,
		    sizeof(bool));
	}
	links_init(&ps);

	if (apply_schema(&ps, errstr) < 0 ||
	    idmap_save(plan.map, errstr) < 0 ||
	    clean_dangling(&ps, errstr) < 0)
		goto out;
	for (i = 0; i < COLL_COUNT; i++)
		if (plan.c[i].selected && adopt(&ps, i, errstr) < 0)
			goto out;
	for (pass = 1;; pass++) {
		if (ps.o->max_push_retries > 0 &&
		    pass > (unsigned)ps.o->max_push_retries) {
			xasprintf(errstr, "Push: max retries reached after %u "
			    "attempts (%zu item(s) left; first unresolved "
			    "reference: %s)", pass - 1, pending(&ps),
			    ps.unresolved ? ps.unresolved : "none");
			goto out;
		}
		sync_logf(ctx, SYNC_DEBUG, "Push: iteration %u", pass);
		ps.progress = false;
		free(ps.unresolved);
		ps.unresolved = NULL;
		if (run_pass(&ps, pass, errstr) < 0)
			goto out;
		ps.st->passes = pass;
		if (pending(&ps) == 0)
			break;
		if (!ps.progress) {
			xasprintf(errstr, "push: %zu item(s) refer to items "
			    "that are neither in the dump nor tracked on the "
			    "instance; the first: %s", pending(&ps),
			    ps.unresolved ? ps.unresolved : "?");
			goto out;
		}
	}
	rc = 0;
out:
	ps.st->requests = http_count(dx_http(ctx->dx));
	for (i = 0; i < COLL_COUNT; i++) {
		free(ps.create_done[i]);
		free(ps.update_done[i]);
	}
	for (i = 0; i < ps.links.len; i++) {
		free(ps.links.v[i].sync_id);
		free(ps.links.v[i].local_id);
		json_free(ps.links.v[i].diff);
	}
	free(ps.links.v);
	links_free(&ps.resolve);
	links_free(&ps.reject);
	free(ps.unresolved);
	plan_free(&plan);
	return rc;
}
