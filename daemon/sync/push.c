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
 * than duplicated. A map row goes only once its item is verified gone.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "plan.h"
#include "plan_text.h"
#include "license.h"
#include "public.h"
#include "strmap.h"
#include "transform.h"
#include "uuid.h"
#include "xmalloc.h"

#define BATCH_BYTES (256 * 1024) /* Directus' default limit is 1 MB */
#define BATCH_ITEMS 200

struct link {
	char *holder; /* operation's local id */
	char *target; /* its resolve or reject */
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
	struct plan_list links;	      /* flows' operation, set last */
	struct links resolve, reject; /* operations' unique links */
	char *unresolved;	      /* first reference not resolved */
	bool progress;
};

/* The ready items of one collection in one round: their bodies (mapped
 * to local ids), which change each one is, and their ids. */
struct batch {
	size_t n;
	struct json **bodies;
	size_t *which;
	char **ids;
};

/* Creation order: dependencies first; settings points at roles and
 * folders and is never really created (see placeholders). */
static const char *const create_order[] = {
	"folders",
	"translations",
	"flows",
	"operations",
	"roles",
	"policies",
	"permissions",
	"dashboards",
	"panels",
	"presets",
	"settings",
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

static void batch_init(struct batch *b, size_t cap)
{
	b->n = 0;
	b->bodies = xcalloc(cap + 1, sizeof(*b->bodies));
	b->which = xcalloc(cap + 1, sizeof(*b->which));
	b->ids = xcalloc(cap + 1, sizeof(*b->ids));
}

/* Bodies and ids left in the batch are freed, unless owned is false
 * (the ids are borrowed). */
static void batch_free(struct batch *b, size_t cap, bool own_ids)
{
	size_t i;

	for (i = 0; i < cap; i++) {
		json_free(b->bodies[i]);
		if (own_ids)
			free(b->ids[i]);
	}
	free(b->bodies);
	free(b->which);
	free(b->ids);
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
	int rc;

	for (f = 0; f < 2; f++) {
		struct links *l = f ? &ps->reject : &ps->resolve;
		struct json *keys = json_new_array(), *body, *data;

		for (i = 0; i < n; i++) {
			char *v = json_scalar_string(
			    json_get(bodies[i], fields[f]));
			const char *h = v ? links_holder(l, v) : NULL;
			bool dup = false;

			if (h && strcmp(h, ids[i]) != 0) {
				for (k = 0; k < keys->u.arr.len; k++)
					dup |= strcmp(json_str(
							  keys->u.arr.items[k]),
						   h) == 0;
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
		sync_logf(ps->ctx, SYNC_DEBUG,
		    "[operations] clearing %s of %zu"
		    " operation(s) first (unique on the instance)",
		    fields[f], keys->u.arr.len);
		if ((rc = dx_request(ps->ctx->dx, "PATCH", "/operations", body,
			 NULL, errstr)) < 0)
			return rc;
	}
	return 0;
}

static void note_links(struct push *ps, const struct json *body, const char *id)
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
 * reference is not resolvable yet), < 0 error. */
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
	return rc < 0 ? SYNC_EPROTO : rc;
}

/* --- policies' access rows --- */

static bool same_scalar(const struct json *a, const struct json *b)
{
	char *x = json_scalar_string(a), *y = json_scalar_string(b);
	bool eq = (x == NULL && y == NULL) || (x && y && strcmp(x, y) == 0);

	free(x);
	free(y);
	return eq;
}

/*
 * A policy's "roles" (already mapped) as a nested change of its access
 * rows: rows of the dump's roles that exist are updated (sort), the
 * others created, rows the dump no longer has deleted: links to roles,
 * and the public access (neither role nor user), which the dump grants
 * exactly. Rows that link a user are never touched. NULL when nothing is
 * to be done.
 */
static struct json *nested_roles(const struct json *raw,
    const struct json *want)
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
				json_set(u, "sort",
				    json_get(e, "sort") ?
					json_copy(json_get(e, "sort")) :
					json_new_null());
				json_array_append(update, u);
			}
		}
		if (!found)
			json_array_append(create, json_copy(e));
	}
	for (k = 0; k < nh; k++) {
		const struct json *h = have->u.arr.items[k];

		if (!used[k] && json_is_null(json_get(h, "user")))
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

	*plan_list_push(u) = *ch;
	ps->update_done[ci] = xreallocarray(ps->update_done[ci], u->len,
	    sizeof(bool));
	ps->update_done[ci][u->len - 1] = false;
}

/* --- adoption --- */

struct adopt {
	struct json **cand; /* untracked items of the instance, dump form */
	char **cid;	    /* their ids; NULL once adopted */
	size_t n;
};

/* Integer keys: every untracked item, in dump form, as a candidate. */
static int adopt_candidates(struct push *ps, const struct coll_plan *c,
    struct adopt *a, char **errstr)
{
	const struct coll_rule *r = c->rule;
	size_t k, n = c->target->u.arr.len;

	a->cand = xcalloc(n + 1, sizeof(*a->cand));
	a->cid = xcalloc(n + 1, sizeof(*a->cid));
	for (k = 0; k < n; k++) {
		const struct json *t = c->target->u.arr.items[k];
		char *tl = json_scalar_string(json_get(t, "id"));

		if (tl == NULL || idmap_by_local(ps->plan->map, r->name, tl)) {
			free(tl);
			continue;
		}
		a->cand[a->n] = json_copy(t);
		a->cid[a->n] = tl;
		if (xform_to_dump(ps->plan->map, ps->o, r, a->cand[a->n++], "_",
			errstr) < 0)
			return SYNC_EPROTO;
	}
	return 0;
}

static void adopt_clear(struct adopt *a)
{
	size_t k;

	for (k = 0; k < a->n; k++) {
		json_free(a->cand[k]);
		free(a->cid[k]);
	}
	free(a->cand);
	free(a->cid);
}

static bool same_member(const struct json *a, const struct json *b,
    const char *key)
{
	const struct json *x = json_get(a, key), *y = json_get(b, key);

	return (json_is_null(x) && json_is_null(y)) ||
	    (x && y && json_equal(x, y));
}

/*
 * The key that makes two items the same thing on the instance, where
 * there is one: a permission's (policy, collection, action), which
 * Directus expects to be unique (it merges duplicates unpredictably), and
 * a preset's (collection, role) when it is a collection's default (no
 * bookmark; presets of users are not dsync's).
 */
static bool same_key(const struct coll_rule *r, const struct json *a,
    const struct json *b)
{
	if (strcmp(r->name, "permissions") == 0)
		return same_member(a, b, "policy") &&
		    same_member(a, b, "collection") &&
		    same_member(a, b, "action");
	if (strcmp(r->name, "presets") == 0)
		return json_is_null(json_get(a, "bookmark")) &&
		    json_is_null(json_get(b, "bookmark")) &&
		    same_member(a, b, "collection") &&
		    same_member(a, b, "role");
	return false;
}

static char *take_candidate(struct adopt *a, size_t k)
{
	char *lid = a->cid[k];

	a->cid[k] = NULL;
	return lid;
}

/* The untracked item create ch can take over, or NULL: by id where ids
 * are kept, else the first candidate equal to it, else the first with
 * the same key (it then becomes an update, never a duplicate). */
static char *adopt_match(struct push *ps, const struct coll_plan *c,
    const struct plan_change *ch, bool by_id, struct adopt *a)
{
	size_t k;

	if (by_id) {
		if (strmap_get(c->by_local, ch->sync_id) &&
		    !idmap_by_local(ps->plan->map, c->rule->name, ch->sync_id))
			return xstrdup(ch->sync_id);
		return NULL;
	}
	for (k = 0; k < a->n; k++) {
		struct json *d;

		if (a->cid[k] == NULL)
			continue;
		d = plan_item_diff(ch->item, a->cand[k]);
		json_free(d);
		if (d == NULL)
			return take_candidate(a, k);
	}
	for (k = 0; k < a->n; k++)
		if (a->cid[k] && same_key(c->rule, ch->item, a->cand[k]))
			return take_candidate(a, k);
	return NULL;
}

/* Track the instance's item lid as create i of ci, which becomes an
 * update when the item differs from the dump's. Takes lid. */
static int adopt_one(struct push *ps, size_t ci, size_t i, char *lid,
    char **errstr)
{
	struct coll_plan *c = &ps->plan->c[ci];
	const struct coll_rule *r = c->rule;
	struct plan_change *ch = &c->create.v[i];
	const struct json *raw = strmap_get(c->by_local, lid);
	struct idmap_new nr;
	struct json *copy, *d;
	int rc;

	memset(&nr, 0, sizeof(nr));
	nr.local_id = lid;
	nr.sync_id = ch->sync_id;
	if ((rc = idmap_create(ps->plan->map, r->name, &nr, 1, errstr)) < 0) {
		free(lid);
		return rc;
	}
	sync_logf(ps->ctx, SYNC_WARN,
	    "[%s] Item %s already exists but had no id map: tracking it",
	    r->name, lid);
	ps->create_done[ci][i] = true;
	copy = json_copy(raw);
	if (xform_to_dump(ps->plan->map, ps->o, r, copy, ch->sync_id, errstr) <
	    0) {
		json_free(copy);
		free(lid);
		return SYNC_EPROTO;
	}
	d = plan_item_diff(ch->item, copy);
	json_free(copy);
	if (d) {
		struct plan_change up;

		up.sync_id = xstrdup(ch->sync_id);
		up.local_id = lid;
		up.item = json_copy(ch->item);
		up.diff = d;
		add_update(ps, ci, &up);
	} else
		free(lid);
	return 0;
}

/* Adopt, instead of creating: an untracked item whose id is the SyncID
 * (ids preserved: a push cut off before its map row, or an item made by
 * directus-sync), or for integer keys an untracked item equal to the
 * dump's. Adopted items become updates or stay unchanged. */
static int adopt(struct push *ps, size_t ci, char **errstr)
{
	struct coll_plan *c = &ps->plan->c[ci];
	const struct coll_rule *r = c->rule;
	bool by_id = sync_opts_preserves(ps->o, r->name) && uuid_keyed(r);
	struct adopt a;
	size_t i;
	int rc = 0;

	if ((uuid_keyed(r) && !by_id) || r->singleton)
		return 0;
	memset(&a, 0, sizeof(a));
	if (!by_id && (rc = adopt_candidates(ps, c, &a, errstr)) < 0)
		goto out;
	for (i = 0; i < c->create.len && rc == 0; i++) {
		char *lid;

		if (ps->create_done[ci][i])
			continue;
		lid = adopt_match(ps, c, &c->create.v[i], by_id, &a);
		if (lid)
			rc = adopt_one(ps, ci, i, lid, errstr);
	}
out:
	adopt_clear(&a);
	return rc;
}

/* --- creates --- */

/* POST bodies in batches of at most BATCH_ITEMS items and BATCH_BYTES;
 * the next batch starts at *next. The array is the caller's. */
static struct json *next_batch(struct json **bodies, size_t n, size_t *next,
    bool take)
{
	struct json *arr = json_new_array();
	size_t bytes = 0, i = *next;

	while (i < n && arr->u.arr.len < BATCH_ITEMS) {
		size_t len;
		char *t = json_write(bodies[i], false, &len);

		free(t);
		if (arr->u.arr.len > 0 && bytes + len > BATCH_BYTES)
			break;
		bytes += len + 1;
		if (take) {
			json_array_append(arr, bodies[i]);
			bodies[i] = NULL;
		} else
			json_array_append(arr, json_copy(bodies[i]));
		i++;
	}
	*next = i;
	return arr;
}

/*
 * Whether a create's answer holds the items sent, by their ids (uuid
 * keys: dsync chose them), in any order (Directus sorts its answer).
 * Anything else is no proof that they were made: an answer cut or
 * replaced on the way, which the next push settles (the items are there
 * and tracked, or their map rows dangle).
 */
static bool created_all(const struct json *data, char *const *ids, size_t n)
{
	struct strmap *got;
	size_t k;
	bool all = true;

	if (data == NULL || data->type != JSON_ARRAY || data->u.arr.len != n)
		return false;
	got = strmap_new();
	for (k = 0; k < n; k++) {
		char *id = json_scalar_string(
		    json_get(data->u.arr.items[k], "id"));

		if (id)
			strmap_put(got, id, (void *)1);
		free(id);
	}
	for (k = 0; k < n && all; k++)
		all = ids[k] && strmap_get(got, ids[k]) != NULL;
	strmap_free(got);
	return all;
}

static int post_batches(struct push *ps, const struct coll_rule *r,
    struct json **bodies, size_t n, char **errstr)
{
	size_t i = 0, k;
	int rc;

	while (i < n) {
		struct json *arr = next_batch(bodies, n, &i, true), *res = NULL;
		size_t m = arr->u.arr.len;
		char **ids = xcalloc(m + 1, sizeof(*ids));

		for (k = 0; k < m; k++)
			ids[k] = json_scalar_string(
			    json_get(arr->u.arr.items[k], "id"));
		rc = dx_request(ps->ctx->dx, "POST", r->endpoint, arr, &res,
		    errstr);
		if (rc == 0 && !created_all(dx_data(res), ids, m)) {
			xasprintf(errstr,
			    "POST %s: the answer is not the items "
			    "sent (expected %zu with their ids); the next push "
			    "finds what was made",
			    r->endpoint, m);
			rc = SYNC_EPROTO;
		}
		for (k = 0; k < m; k++)
			free(ids[k]);
		free(ids);
		json_free(res);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Whether a created item, as Directus answers it, is the one sent. */
static bool same_item(const struct json *sent, const struct json *got)
{
	static const char *const keys[] = { "collection", "action", "policy",
		"role", "bookmark" };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct json *a = json_get(sent, keys[i]);

		if (a && !json_equal(a, json_get(got, keys[i])) &&
		    !(json_is_null(a) && json_is_null(json_get(got, keys[i]))))
			return false;
	}
	return true;
}

/* The settings row: a PATCH, whose answer gives its id. */
static int post_singleton(struct push *ps, const struct coll_rule *r,
    struct json *body, char **id, char **errstr)
{
	struct json *res = NULL;
	int rc;

	if ((rc = dx_request(ps->ctx->dx, "PATCH", r->endpoint, body, &res,
		 errstr)) < 0)
		return rc;
	*id = json_scalar_string(json_get(dx_data(res), "id"));
	json_free(res);
	if (*id == NULL) {
		xasprintf(errstr, "PATCH %s: no id in the answer", r->endpoint);
		return SYNC_EPROTO;
	}
	return 0;
}

/* The ids of one batch's answer, each checked against what was sent. */
static int take_int_ids(const struct coll_rule *r, struct json *data,
    struct json **bodies, size_t first, size_t end, char **ids, char **errstr)
{
	size_t k;

	/* /permissions answers add synthetic rows without an id. */
	for (k = data && data->type == JSON_ARRAY ? data->u.arr.len : 0;
	     k-- > 0;)
		if (json_is_null(json_get(data->u.arr.items[k], "id")))
			json_array_remove(data, k);
	if (data == NULL || data->type != JSON_ARRAY ||
	    data->u.arr.len != end - first) {
		xasprintf(errstr, "POST %s: expected %zu items in the answer",
		    r->endpoint, end - first);
		return SYNC_EPROTO;
	}
	for (k = first; k < end; k++) {
		const struct json *got = data->u.arr.items[k - first];

		if (!same_item(bodies[k], got)) {
			xasprintf(errstr,
			    "POST %s: the answer's items are not "
			    "in the order sent; the next push will adopt them",
			    r->endpoint);
			return SYNC_EPROTO;
		}
		ids[k] = json_scalar_string(json_get(got, "id"));
		if (ids[k] == NULL) {
			xasprintf(errstr,
			    "POST %s: an item without id in the answer",
			    r->endpoint);
			return SYNC_EPROTO;
		}
	}
	return 0;
}

/*
 * Create items with integer keys (permissions, presets) in batches, or
 * the settings row. Directus gives an array's items consecutive ids and
 * answers them sorted by id, so the answer is in the order sent; each
 * is checked against what was sent before its id is taken. ids[i] gets
 * the id of bodies[i] (caller frees).
 */
static int post_int_batches(struct push *ps, const struct coll_rule *r,
    struct json **bodies, size_t n, char **ids, char **errstr)
{
	size_t i = 0;
	int rc;

	while (i < n) {
		struct json *arr, *res = NULL;
		size_t first = i;

		if (r->singleton) {
			rc = post_singleton(ps, r, bodies[i], &ids[i], errstr);
			bodies[i++] = NULL;
			if (rc < 0)
				return rc;
			continue;
		}
		arr = next_batch(bodies, n, &i, false);
		if ((rc = dx_request(ps->ctx->dx, "POST", r->endpoint, arr,
			 &res, errstr)) < 0)
			return rc;
		rc = take_int_ids(r, dx_data(res), bodies, first, i, ids,
		    errstr);
		json_free(res);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The creates of collection ci whose references all resolve now. */
static int ready_creates(struct push *ps, size_t ci, struct batch *b,
    char **errstr)
{
	struct coll_plan *c = &ps->plan->c[ci];
	bool flows = strcmp(c->rule->name, "flows") == 0;
	size_t i;
	int m;

	b->n = 0;
	for (i = 0; i < c->create.len; i++) {
		struct plan_change *ch = &c->create.v[i];
		struct json *body;

		if (ps->create_done[ci][i])
			continue;
		body = json_copy(ch->item);
		/* A flow's first operation is set once it exists. */
		if (flows && !json_is_null(json_get(body, "operation")))
			json_set(body, "operation", json_new_null());
		m = to_local(ps, c->rule, ch->sync_id, body, errstr);
		if (m != 0) {
			json_free(body);
			if (m < 0)
				return m;
			continue;
		}
		b->which[b->n] = i;
		b->bodies[b->n++] = body;
	}
	return 0;
}

/* uuid keys: ids and map rows first, then the items. */
static int create_uuid_keyed(struct push *ps, size_t ci, struct batch *b,
    char **errstr)
{
	struct coll_plan *c = &ps->plan->c[ci];
	const struct coll_rule *r = c->rule;
	struct idmap_new *rows = xcalloc(b->n + 1, sizeof(*rows));
	size_t i;
	int rc;

	for (i = 0; i < b->n; i++) {
		const char *sid = c->create.v[b->which[i]].sync_id;

		b->ids[i] = sync_opts_preserves(ps->o, r->name) ? xstrdup(sid) :
								  uuid_v4();
		json_set(b->bodies[i], "id", json_new_string(b->ids[i]));
		rows[i].local_id = b->ids[i];
		rows[i].sync_id = sid;
	}
	rc = idmap_create(ps->plan->map, r->name, rows, b->n, errstr);
	free(rows);
	if (rc < 0)
		return rc;
	ps->st->map_rows_created += b->n;
	if (strcmp(r->name, "operations") == 0) {
		if ((rc = free_links(ps, b->bodies, b->ids, b->n, errstr)) < 0)
			return rc;
		for (i = 0; i < b->n; i++)
			note_links(ps, b->bodies[i], b->ids[i]);
	}
	return post_batches(ps, r, b->bodies, b->n, errstr);
}

/* Integer keys (and settings): the answers give the ids, then the map
 * rows, in one go. */
static int create_int_keyed(struct push *ps, size_t ci, struct batch *b,
    char **errstr)
{
	struct coll_plan *c = &ps->plan->c[ci];
	const struct coll_rule *r = c->rule;
	struct idmap_new *rows;
	size_t k, nrows = 0;
	int rc;

	if ((rc = post_int_batches(ps, r, b->bodies, b->n, b->ids, errstr)) < 0)
		return rc;
	rows = xcalloc(b->n + 1, sizeof(*rows));
	for (k = 0; k < b->n; k++) {
		const char *sid = c->create.v[b->which[k]].sync_id;

		/* Settings: the placeholder row may exist. */
		if (idmap_by_sync(ps->plan->map, r->name, sid))
			continue;
		rows[nrows].local_id = b->ids[k];
		rows[nrows++].sync_id = sid;
	}
	rc = idmap_create(ps->plan->map, r->name, rows, nrows, errstr);
	free(rows);
	if (rc == 0)
		ps->st->map_rows_created += nrows;
	return rc;
}

/* Created flows get their first operation at the end of the pass. */
static void note_flow_link(struct push *ps, const struct plan_change *ch,
    const char *id)
{
	const struct json *op = json_get(ch->item, "operation");
	struct plan_change *l;

	if (json_is_null(op))
		return;
	l = plan_list_push(&ps->links);
	l->sync_id = xstrdup(ch->sync_id);
	l->local_id = xstrdup(id);
	l->diff = json_new_object();
	json_set(l->diff, "operation", json_copy(op));
}

/* Create what is ready in collection ci, level by level. */
static int create_items(struct push *ps, size_t ci, char **errstr)
{
	struct coll_plan *c = &ps->plan->c[ci];
	const struct coll_rule *r = c->rule;
	bool flows = strcmp(r->name, "flows") == 0;
	size_t n = c->create.len, i, made = 0;
	struct batch b;
	int rc;

	batch_init(&b, n);
	for (;;) {
		if ((rc = ready_creates(ps, ci, &b, errstr)) < 0)
			goto out;
		if (b.n == 0)
			break;
		rc = uuid_keyed(r) ? create_uuid_keyed(ps, ci, &b, errstr) :
				     create_int_keyed(ps, ci, &b, errstr);
		if (rc < 0)
			goto out;
		for (i = 0; i < b.n; i++) {
			struct plan_change *ch = &c->create.v[b.which[i]];

			ps->create_done[ci][b.which[i]] = true;
			if (flows)
				note_flow_link(ps, ch, b.ids[i]);
			json_free(b.bodies[i]);
			b.bodies[i] = NULL;
			free(b.ids[i]);
			b.ids[i] = NULL;
		}
		made += b.n;
		ps->progress = true;
	}
	if (made) {
		ps->st->created += made;
		sync_logf(ps->ctx, SYNC_INFO, "[%s] Created %zu items", r->name,
		    made);
	}
	rc = 0;
out:
	batch_free(&b, n, true);
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

/* The updates of list l whose references resolve now, as PATCH bodies;
 * policies' roles become a nested change of their access rows. */
static int ready_updates(struct push *ps, size_t ci, struct plan_list *l,
    const bool *done, struct batch *b, char **errstr)
{
	struct coll_plan *c = &ps->plan->c[ci];
	bool policies = strcmp(c->rule->name, "policies") == 0;
	bool permissions = strcmp(c->rule->name, "permissions") == 0;
	size_t i;
	int m;

	b->n = 0;
	for (i = 0; i < l->len; i++) {
		struct plan_change *ch = &l->v[i];
		struct json *body;

		if (done[i])
			continue;
		body = json_copy(ch->diff);
		/* Directus 12 takes a permission's change without its
		 * fields for a field list, which its Core license refuses:
		 * the fields go along, unchanged. */
		if (permissions && !json_get(body, "fields") &&
		    json_get(ch->item, "fields"))
			json_set(body, "fields",
			    json_copy(json_get(ch->item, "fields")));
		m = to_local(ps, c->rule, ch->sync_id, body, errstr);
		if (m != 0) {
			json_free(body);
			if (m < 0)
				return m;
			continue;
		}
		if (policies && json_get(body, "roles")) {
			struct json *nested =
			    nested_roles(strmap_get(c->by_local, ch->local_id),
				json_get(body, "roles"));

			if (nested)
				json_set(body, "roles", nested);
			else
				json_del(body, "roles");
		}
		b->which[b->n] = i;
		b->ids[b->n] = ch->local_id;
		b->bodies[b->n++] = body;
	}
	return 0;
}

/* Send the batch's PATCHes: translations that change key and language
 * send one of the two first (see first_step). */
static int send_updates(struct push *ps, size_t ci, struct batch *b,
    char **errstr)
{
	struct coll_plan *c = &ps->plan->c[ci];
	const struct coll_rule *r = c->rule;
	bool translations = strcmp(r->name, "translations") == 0;
	struct dx_call *calls = xcalloc(2 * b->n + 1, sizeof(*calls));
	size_t i, k, nfirst = 0;
	int rc = 0;

	for (i = 0; translations && i < b->n; i++)
		if (json_get(b->bodies[i], "key") &&
		    json_get(b->bodies[i], "language"))
			dx_call_init(&calls[nfirst++], "PATCH",
			    item_path(r, b->ids[i]),
			    first_step(c, b->ids[i], b->bodies[i]), 0);
	if (nfirst && (rc = dx_run(ps->ctx->dx, calls, nfirst, errstr)) < 0)
		goto out;
	k = nfirst;
	for (i = 0; i < b->n; i++) {
		if (b->bodies[i]->u.obj.len == 0)
			continue;
		dx_call_init(&calls[k++], "PATCH", item_path(r, b->ids[i]),
		    b->bodies[i], 0);
		b->bodies[i] = NULL;
	}
	if (k > nfirst)
		rc = dx_run(ps->ctx->dx, calls + nfirst, k - nfirst, errstr);
	/* An update answers the item (or 204 when it may not be read
	 * back); anything else is no proof that it was made. */
	for (i = 0; rc == 0 && i < k; i++) {
		const struct json *d = dx_data(calls[i].result);

		if (calls[i].result && (d == NULL || d->type != JSON_OBJECT)) {
			xasprintf(errstr,
			    "PATCH %s: expected an object in "
			    "\"data\" (the item updated)",
			    calls[i].path);
			rc = SYNC_EPROTO;
		}
	}
out:
	for (i = 0; i < 2 * b->n; i++)
		dx_call_clear(&calls[i]);
	free(calls);
	return rc;
}

/* PATCH every ready update of list l (done flags in done). */
static int update_list(struct push *ps, size_t ci, struct plan_list *l,
    bool *done, char **errstr)
{
	const struct coll_rule *r = ps->plan->c[ci].rule;
	size_t i, n = l->len;
	struct batch b;
	int rc;

	batch_init(&b, n);
	if ((rc = ready_updates(ps, ci, l, done, &b, errstr)) < 0 || b.n == 0)
		goto out;
	if (strcmp(r->name, "operations") == 0) {
		if ((rc = free_links(ps, b.bodies, b.ids, b.n, errstr)) < 0)
			goto out;
		for (i = 0; i < b.n; i++)
			note_links(ps, b.bodies[i], b.ids[i]);
	}
	if ((rc = send_updates(ps, ci, &b, errstr)) < 0)
		goto out;
	for (i = 0; i < b.n; i++)
		done[b.which[i]] = true;
	ps->st->updated += b.n;
	ps->progress = true;
	sync_logf(ps->ctx, SYNC_INFO, "[%s] Updated %zu items", r->name, b.n);
out:
	batch_free(&b, n, false);
	return rc;
}

/* --- deletes --- */

/*
 * Of the deletes answered 403, those still on the instance: Directus
 * answers 403 both for an item that is gone (a cascade took it) and for
 * a token that may not delete it, so a list filtered on the ids tells.
 * still[i] is set for the items that are still there.
 */
static int verify_gone(struct push *ps, const struct coll_rule *r,
    const char *const *lids, size_t n, bool *still, char **errstr)
{
	struct buf q;
	struct json *res = NULL, *d;
	char *path, *esc;
	size_t i, k;
	int rc;

	buf_init(&q);
	for (i = 0; i < n; i++) {
		esc = dx_escape(lids[i]);
		buf_addf(&q, "%s%s", i ? "," : "", esc);
		free(esc);
	}
	xasprintf(&path, "%s?limit=-1&fields=id&filter[id][_in]=%s",
	    r->endpoint, q.data);
	buf_clear(&q);
	rc = dx_request(ps->ctx->dx, "GET", path, NULL, &res, errstr);
	free(path);
	if (rc < 0)
		return rc;
	d = dx_data(res);
	if (d == NULL || d->type != JSON_ARRAY) {
		xasprintf(errstr, "GET %s: expected a list in \"data\"",
		    r->endpoint);
		json_free(res);
		return SYNC_EPROTO;
	}
	for (k = 0; k < d->u.arr.len; k++) {
		char *id = json_scalar_string(
		    json_get(d->u.arr.items[k], "id"));

		for (i = 0; id && i < n; i++)
			if (strcmp(lids[i], id) == 0)
				still[i] = true;
		free(id);
	}
	json_free(res);
	return 0;
}

/* DELETE each item of collection ci's deletes; its map row goes once the
 * item is verified gone. An item that a 403 left in place fails the
 * push (SYNC_EAUTH), its map row kept. */
static int delete_items(struct push *ps, size_t ci, char **errstr)
{
	struct coll_plan *c = &ps->plan->c[ci];
	const struct coll_rule *r = c->rule;
	size_t n = c->del.len, i, nf = 0, ngone = 0, nkept = 0;
	struct dx_call *calls;
	const char **gone, **forbidden;
	bool *still;
	int rc;

	if (n == 0)
		return 0;
	calls = xcalloc(n, sizeof(*calls));
	gone = xcalloc(n, sizeof(char *));
	forbidden = xcalloc(n, sizeof(char *));
	still = xcalloc(n, sizeof(bool));
	for (i = 0; i < n; i++) {
		/* 404: gone already (a cascade), as good as deleted. */
		dx_call_init(&calls[i], "DELETE",
		    item_path(r, c->del.v[i].local_id), NULL,
		    DX_ALLOW_404 | DX_ALLOW_403);
		if (strcmp(r->name, "operations") == 0) {
			links_set(&ps->resolve, c->del.v[i].local_id, NULL);
			links_set(&ps->reject, c->del.v[i].local_id, NULL);
		}
	}
	if ((rc = dx_run(ps->ctx->dx, calls, n, errstr)) < 0)
		goto out;
	/* Directus answers a delete 204, with nothing: a 2xx with a body is
	 * not its answer, and the item is not taken as gone (its map row
	 * stays, the next push tells). */
	for (i = 0; i < n; i++)
		if (calls[i].status / 100 == 2 && calls[i].result) {
			xasprintf(errstr,
			    "DELETE %s: HTTP %ld with a body, not "
			    "the answer of a delete (204)",
			    calls[i].path, calls[i].status);
			rc = SYNC_EPROTO;
			goto out;
		}
	for (i = 0; i < n; i++)
		if (calls[i].status == 403)
			forbidden[nf++] = c->del.v[i].local_id;
	if (nf && (rc = verify_gone(ps, r, forbidden, nf, still, errstr)) < 0)
		goto out;
	for (i = 0, nf = 0; i < n; i++) {
		if (calls[i].status == 403 && still[nf++]) {
			if (nkept++ == 0)
				xasprintf(errstr,
				    "DELETE %s: HTTP 403 FORBIDDEN, "
				    "and %s %s is still there: the token may "
				    "not delete it (its SyncID stays tracked)",
				    calls[i].path, r->name,
				    c->del.v[i].sync_id);
			continue;
		}
		gone[ngone++] = c->del.v[i].sync_id;
	}
	if ((rc = idmap_remove(ps->plan->map, r->name, gone, ngone, errstr)) <
	    0)
		goto out;
	ps->st->deleted += ngone;
	if (ngone)
		sync_logf(ps->ctx, SYNC_INFO, "[%s] Deleted %zu items", r->name,
		    ngone);
	rc = nkept ? SYNC_EAUTH : 0;
out:
	for (i = 0; i < n; i++)
		dx_call_clear(&calls[i]);
	free(calls);
	free(gone);
	free(forbidden);
	free(still);
	return rc;
}

/*
 * Deletes that narrow the public's access go out even when deletes are
 * held (the daemon without allow_deletes): a permission of a policy that
 * holds a public access row, and a policy holding one. Holding them
 * would leave anonymous visitors a grant the dump withdrew.
 */
static bool narrows_public(struct push *ps, const struct coll_plan *c,
    const struct plan_change *ch)
{
	const struct json *raw = strmap_get(c->by_local, ch->local_id);
	char *pol;
	bool yes;

	if (raw == NULL)
		return false;
	if (strcmp(c->rule->name, "policies") == 0)
		return public_now_or_after(ps->plan, ch->local_id);
	pol = json_scalar_string(json_get(raw, "policy"));
	yes = pol && public_now_or_after(ps->plan, pol);
	free(pol);
	return yes;
}

static int delete_public(struct push *ps, char **errstr)
{
	static const char *const order[] = { "permissions", "policies" };
	size_t k, i;
	int rc;

	for (k = 0; k < 2; k++) {
		struct coll_plan *c = &ps->plan->c[coll_index(order[k])];
		struct plan_list held = { 0 }, now = { 0 };

		if (!c->selected || c->del.len == 0)
			continue;
		if ((rc = ph_fetch(ps->ctx->dx, &ps->plan->ph, errstr)) < 0)
			return rc;
		for (i = 0; i < c->del.len; i++)
			*plan_list_push(narrows_public(ps, c, &c->del.v[i]) ?
				&now :
				&held) = c->del.v[i];
		free(c->del.v);
		c->del = now;
		rc = now.len ? delete_items(ps, coll_index(order[k]), errstr) :
			       0;
		if (rc == 0 && now.len) {
			ps->st->held_deletes -= now.len;
			sync_logf(ps->ctx, SYNC_INFO,
			    "[%s] %zu delete(s) not "
			    "held: they withdraw what the public may do",
			    c->rule->name, now.len);
		}
		/* The held ones stay in the plan, for what reports it. */
		for (i = 0; i < held.len; i++)
			*plan_list_push(&c->del) = held.v[i];
		free(held.v);
		if (rc < 0)
			return rc;
	}
	return 0;
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
		xasprintf(errstr,
		    "%zu reference(s) name items that are "
		    "neither in the dump nor tracked on the instance; nothing "
		    "was written:%s%s",
		    rc.nbad, rc.bad.data, rc.nbad > 10 ? "\n  ..." : "");
		ret = SYNC_EGUARD;
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
	if (ps->o->hold_deletes) {
		/* Left for later (the daemon without allow_deletes). */
		ps->st->held_deletes = n;
		return 0;
	}
	if (ps->o->max_deletes < 0 || n <= (size_t)ps->o->max_deletes)
		return 0;
	buf_init(&b);
	buf_addf(&b,
	    "the push would delete %zu item(s), more than "
	    "--max-deletes %ld; nothing was written. It would delete:",
	    n, ps->o->max_deletes);
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
	return SYNC_EGUARD;
}

/* Leave the schema diff's deletes of collections, fields and relations
 * (they drop data); returns how many. */
static size_t hold_schema_deletes(struct plan *p)
{
	static const char *const parts[] = { "collections", "fields",
		"relations" };
	size_t i, k, held = 0, left = 0;

	for (i = 0; p->schema_diff && i < 3; i++) {
		struct json *a = json_get(p->schema_diff, parts[i]);

		for (k = a && a->type == JSON_ARRAY ? a->u.arr.len : 0;
		     k-- > 0;)
			if (strcmp(plan_text_schema_verb(a->u.arr.items[k]),
				"delete") == 0) {
				json_array_remove(a, k);
				held++;
			}
		left += a && a->type == JSON_ARRAY ? a->u.arr.len : 0;
	}
	if (p->schema_diff && left == 0) {
		json_free(p->schema_diff);
		p->schema_diff = NULL;
	}
	p->schema_changes = left;
	return held;
}

static int apply_schema(struct push *ps, char **errstr)
{
	struct plan *p = ps->plan;
	struct json *body;
	int rc;

	if (ps->o->hold_schema_deletes &&
	    (ps->st->held_schema = hold_schema_deletes(p)) > 0)
		sync_logf(ps->ctx, SYNC_INFO,
		    "[snapshot] %lu delete(s) left "
		    "(schema deletes are not allowed)",
		    ps->st->held_schema);
	if (p->schema_diff == NULL) {
		sync_logf(ps->ctx, SYNC_DEBUG,
		    "[snapshot] No changes to apply");
		return 0;
	}
	body = json_new_object();
	json_set(body, "hash", json_new_string(p->schema_hash));
	json_set(body, "diff", p->schema_diff); /* taken over */
	p->schema_diff = NULL;
	if ((rc = dx_request(ps->ctx->dx, "POST", "/schema/apply", body, NULL,
		 errstr)) < 0)
		return rc;
	sync_logf(ps->ctx, SYNC_INFO, "[snapshot] Changes applied (%zu)",
	    p->schema_changes);
	return 0;
}

static int clean_dangling(struct push *ps, char **errstr)
{
	size_t i;
	int rc;

	for (i = 0; i < COLL_COUNT; i++) {
		struct coll_plan *c = &ps->plan->c[i];

		if (c->ndangling == 0)
			continue;
		if ((rc = idmap_remove(ps->plan->map, c->rule->name,
			 (const char *const *)c->dangling, c->ndangling,
			 errstr)) < 0)
			return rc;
		sync_logf(ps->ctx, SYNC_INFO,
		    "[%s] Deleted %zu dangling id maps", c->rule->name,
		    c->ndangling);
	}
	return 0;
}

static void links_clear(struct plan_list *l)
{
	size_t i;

	for (i = 0; i < l->len; i++) {
		free(l->v[i].sync_id);
		free(l->v[i].local_id);
		json_free(l->v[i].diff);
	}
	l->len = 0;
}

/* Flows created in this pass get their first operation now; those not
 * ready yet become updates for the next pass. */
static int link_flows(struct push *ps, char **errstr)
{
	size_t i, fi = coll_index("flows");
	bool *done;
	int rc;

	if (ps->links.len == 0)
		return 0;
	done = xcalloc(ps->links.len, sizeof(bool));
	rc = update_list(ps, fi, &ps->links, done, errstr);
	for (i = 0; i < ps->links.len; i++)
		if (!done[i]) {
			add_update(ps, fi, &ps->links.v[i]);
			memset(&ps->links.v[i], 0, sizeof(ps->links.v[i]));
		}
	free(done);
	links_clear(&ps->links);
	return rc;
}

static int run_pass(struct push *ps, unsigned pass, char **errstr)
{
	size_t i;
	int rc;

	for (i = 0; i < sizeof(create_order) / sizeof(create_order[0]); i++) {
		size_t ci = coll_index(create_order[i]);

		if (ps->plan->c[ci].selected &&
		    (rc = create_items(ps, ci, errstr)) < 0)
			return rc;
	}
	for (i = 0; i < COLL_COUNT; i++)
		if (ps->plan->c[i].selected &&
		    (rc = update_list(ps, i, &ps->plan->c[i].update,
			 ps->update_done[i], errstr)) < 0)
			return rc;
	if ((rc = link_flows(ps, errstr)) < 0)
		return rc;
	if (pass == 1 && !ps->o->hold_deletes)
		for (i = COLL_COUNT; i-- > 0;)
			if (ps->plan->c[i].selected &&
			    (rc = delete_items(ps, i, errstr)) < 0)
				return rc;
	if (pass == 1 && ps->o->hold_deletes &&
	    (rc = delete_public(ps, errstr)) < 0)
		return rc;
	return 0;
}

/* Passes until nothing is pending, or no pass makes progress. */
static int run_passes(struct push *ps, char **errstr)
{
	unsigned pass;
	int rc;

	for (pass = 1;; pass++) {
		if (ps->o->max_push_retries > 0 &&
		    pass > (unsigned)ps->o->max_push_retries) {
			xasprintf(errstr,
			    "Push: max retries reached after %u "
			    "attempts (%zu item(s) left; first unresolved "
			    "reference: %s)",
			    pass - 1, pending(ps),
			    ps->unresolved ? ps->unresolved : "none");
			return SYNC_EFAIL;
		}
		sync_logf(ps->ctx, SYNC_DEBUG, "Push: iteration %u", pass);
		ps->progress = false;
		free(ps->unresolved);
		ps->unresolved = NULL;
		if ((rc = run_pass(ps, pass, errstr)) < 0)
			return rc;
		ps->st->passes = pass;
		if (pending(ps) == 0)
			return 0;
		if (!ps->progress) {
			xasprintf(errstr,
			    "push: %zu item(s) refer to items "
			    "that are neither in the dump nor tracked on the "
			    "instance; the first: %s",
			    pending(ps), ps->unresolved ? ps->unresolved : "?");
			return SYNC_EFAIL;
		}
	}
}

/* Everything is read and checked before the first write. The cache is
 * cleared first, so that the plan sees what the database holds. */
static int push_prepare(struct push *ps, const char *root,
    const struct plan_req *req, char **errstr)
{
	size_t i;
	int rc;

	if ((rc = sync_check_instance(ps->ctx, ps->st, errstr)) < 0 ||
	    (rc = dx_request(ps->ctx->dx, "POST", "/utils/cache/clear", NULL,
		 NULL, errstr)) < 0 ||
	    (rc = plan_build(ps->ctx, root, req, ps->plan, errstr)) < 0 ||
	    (rc = public_check_push(ps->plan, errstr)) < 0 ||
	    (rc = license_check(ps->ctx, ps->plan, errstr)) < 0 ||
	    (rc = check_deletes(ps, errstr)) < 0 ||
	    (rc = check_refs(ps, errstr)) < 0)
		return rc;
	for (i = 0; i < COLL_COUNT; i++) {
		ps->create_done[i] = xcalloc(ps->plan->c[i].create.len + 1,
		    sizeof(bool));
		ps->update_done[i] = xcalloc(ps->plan->c[i].update.len + 1,
		    sizeof(bool));
	}
	links_init(ps);
	return 0;
}

int sync_push(struct sync_ctx *ctx, struct sync_stats *st, char **errstr)
{
	return sync_push_req(ctx, NULL, st, errstr);
}

int sync_push_req(struct sync_ctx *ctx, const struct plan_req *req,
    struct sync_stats *st, char **errstr)
{
	struct push ps;
	struct plan plan;
	struct plan_req def;
	struct sync_run run;
	size_t i;
	int rc;

	memset(&ps, 0, sizeof(ps));
	memset(&plan, 0, sizeof(plan));
	if (req == NULL) {
		plan_req_from_opts(ctx->opts, &def);
		req = &def;
	}
	if ((rc = sync_run_begin(&run, ctx, st, req->dump_root ? 0 : RUN_LOCK,
		 errstr)) < 0)
		return rc;
	ps.ctx = ctx;
	ps.o = ctx->opts;
	ps.plan = &plan;
	ps.st = run.st;
	if ((rc = push_prepare(&ps, run.root, req, errstr)) < 0 ||
	    (rc = apply_schema(&ps, errstr)) < 0 ||
	    (rc = idmap_save(plan.map, errstr)) < 0 ||
	    (rc = clean_dangling(&ps, errstr)) < 0)
		goto out;
	for (i = 0; i < COLL_COUNT; i++)
		if (plan.c[i].selected && (rc = adopt(&ps, i, errstr)) < 0)
			goto out;
	rc = run_passes(&ps, errstr);
out:
	for (i = 0; i < COLL_COUNT; i++) {
		free(ps.create_done[i]);
		free(ps.update_done[i]);
	}
	links_clear(&ps.links);
	free(ps.links.v);
	links_free(&ps.resolve);
	links_free(&ps.reject);
	free(ps.unresolved);
	plan_free(&plan);
	return sync_run_end(&run, rc);
}
