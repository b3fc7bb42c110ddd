/*
 * plan: one read of everything a diff depends on, then the comparison.
 * A failed read fails the plan: nothing is ever concluded from a list
 * that did not arrive whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"
#include "plan.h"
#include "plan_text.h"
#include "license.h"
#include "public.h"
#include "schema.h"
#include "strmap.h"
#include "transform.h"
#include "xmalloc.h"

struct plan_change *plan_list_push(struct plan_list *l)
{
	struct plan_change *c;

	if (l->len == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	c = &l->v[l->len++];
	memset(c, 0, sizeof(*c));
	return c;
}

static void list_add(struct plan_list *l, const char *sync_id,
    const char *local_id, struct json *item, struct json *diff)
{
	struct plan_change *c = plan_list_push(l);

	c->sync_id = xstrdup(sync_id);
	c->local_id = local_id ? xstrdup(local_id) : NULL;
	c->item = item;
	c->diff = diff;
}

static void list_free(struct plan_list *l)
{
	size_t i;

	for (i = 0; i < l->len; i++) {
		free(l->v[i].sync_id);
		free(l->v[i].local_id);
		json_free(l->v[i].item);
		json_free(l->v[i].diff);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void plan_free(struct plan *p)
{
	size_t i, k;

	for (i = 0; i < COLL_COUNT; i++) {
		struct coll_plan *c = &p->c[i];

		list_free(&c->create);
		list_free(&c->update);
		list_free(&c->del);
		for (k = 0; k < c->ndangling; k++)
			free(c->dangling[k]);
		free(c->dangling);
		json_free(c->target);
		strmap_free(c->by_local);
		strmap_free(c->in_dump);
	}
	json_free(p->schema_diff);
	free(p->schema_hash);
	idmap_free(p->map);
	ph_clear(&p->ph);
	memset(p, 0, sizeof(*p));
}

/*
 * Equality as directus-sync's comparison sees it (deep-object-diff):
 * JSON values, object member order ignored, and an empty array equal to
 * an empty object.
 */
static bool is_empty_container(const struct json *v)
{
	return (v->type == JSON_ARRAY && v->u.arr.len == 0) ||
	    (v->type == JSON_OBJECT && v->u.obj.len == 0);
}

static bool same_value(const struct json *a, const struct json *b)
{
	size_t i;

	if (is_empty_container(a) && is_empty_container(b))
		return true;
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case JSON_ARRAY:
		if (a->u.arr.len != b->u.arr.len)
			return false;
		for (i = 0; i < a->u.arr.len; i++)
			if (!same_value(a->u.arr.items[i], b->u.arr.items[i]))
				return false;
		return true;
	case JSON_OBJECT:
		if (a->u.obj.len != b->u.obj.len)
			return false;
		for (i = 0; i < a->u.obj.len; i++) {
			const struct json *bv = json_get(b,
			    a->u.obj.members[i].key);

			if (bv == NULL ||
			    !same_value(a->u.obj.members[i].val, bv))
				return false;
		}
		return true;
	default:
		return json_equal(a, b);
	}
}

/* {key: source value} for each top-level key of the dump's item whose
 * value differs on the instance, or NULL when none does. Keys that only
 * the instance has are not a difference: no push could remove them (see
 * the README). */
/* Directus' stand-in for a concealed value (an API key in settings, say):
 * a dump holds it, never the secret, and writing it back would replace
 * the secret with ten asterisks. A key holding it is left as it is. */
static bool is_mask(const struct json *v)
{
	return json_str(v) && strcmp(json_str(v), "**********") == 0;
}

struct json *plan_item_diff(const struct json *src, const struct json *tgt)
{
	struct json *d = NULL;
	size_t i;

	for (i = 0; i < src->u.obj.len; i++) {
		const struct json_member *m = &src->u.obj.members[i];
		const struct json *tv;

		if (strcmp(m->key, "_syncId") == 0 ||
		    strcmp(m->key, "id") == 0 || is_mask(m->val))
			continue;
		tv = json_get(tgt, m->key);
		if (tv && same_value(m->val, tv))
			continue;
		if (d == NULL)
			d = json_new_object();
		json_set(d, m->key, json_copy(m->val));
	}
	return d;
}

/* The policies query adds the access rows' ids, which push needs to
 * update them in place. */
static char *list_path(const struct sync_opts *o, const struct coll_rule *r)
{
	char *path;
	const char *q = r->query ? r->query : "";

	if (strcmp(r->name, "policies") == 0)
		q = o->sync_policy_roles ?
		    "&fields=*,roles.id,roles.role,roles.user,roles.sort" :
		    "";
	xasprintf(&path, "%s?limit=-1%s", r->endpoint, q);
	return path;
}

static int take_target(struct coll_plan *c, struct dx_call *call, char **errstr)
{
	struct json *d;
	size_t i;
	int rc;

	if ((rc = coll_take_list(c->rule, call, &d, errstr)) < 0)
		return rc;
	c->target = d;
	c->by_local = strmap_new();
	for (i = 0; i < d->u.arr.len; i++) {
		char *lid = json_scalar_string(
		    json_get(d->u.arr.items[i], "id"));

		/* Rows without an id (virtual admin permissions) are not
		 * items. */
		if (lid)
			strmap_put(c->by_local, lid, d->u.arr.items[i]);
		free(lid);
	}
	return 0;
}

/* directus-sync maps a placeholder SyncID that has no map row yet to the
 * instance's built-in item, and records the row (diff included). */
struct ph_ctx {
	struct sync_ctx *ctx;
	struct plan *p;
	char **errstr;
};

static int map_placeholder(void *arg, const char *table, const char *field,
    const char *sid)
{
	struct ph_ctx *pc = arg;
	struct plan *p = pc->p;
	const struct idmap_row *row;
	struct idmap_new nr;
	const char *lid;

	(void)field;
	if (!ph_is(table, sid) || idmap_by_sync(p->map, table, sid))
		return 0;
	int rc;

	if ((rc = ph_fetch(pc->ctx->dx, &p->ph, pc->errstr)) < 0)
		return rc;
	lid = ph_local_id(&p->ph, table, sid);
	if (lid == NULL)
		return 0;
	row = idmap_by_local(p->map, table, lid);
	if (row) {
		sync_logf(pc->ctx, SYNC_WARN,
		    "[%s] %s: the instance's item %s is tracked as %s already",
		    table, sid, lid, row->sync_id);
		return 0;
	}
	memset(&nr, 0, sizeof(nr));
	nr.local_id = lid;
	nr.sync_id = sid;
	if ((rc = idmap_create(p->map, table, &nr, 1, pc->errstr)) < 0)
		return rc;
	sync_logf(pc->ctx, SYNC_DEBUG, "[%s] %s is the instance's %s", table,
	    sid, lid);
	return 0;
}

/* Placeholders as items of the dump, and as references in its items. */
static int map_placeholders(struct sync_ctx *ctx, struct plan *p,
    struct json *const *src, char **errstr)
{
	struct ph_ctx pc = { ctx, p, errstr };
	size_t i, k;
	int rc;

	for (i = 0; i < COLL_COUNT; i++) {
		if (src[i] == NULL)
			continue;
		for (k = 0; k < src[i]->u.arr.len; k++) {
			const struct json *it = src[i]->u.arr.items[k];

			if ((rc = map_placeholder(&pc, coll_rules[i].name, NULL,
				 json_str(json_get(it, "_syncId")))) < 0 ||
			    (rc = xform_refs(&coll_rules[i], it,
				 map_placeholder, &pc, errstr)) < 0)
				return rc;
		}
	}
	return 0;
}

/*
 * Without the policies' roles (--no-sync-policy-roles) the access rows
 * are the instance's own: a policy that gives the public its access (1)
 * is kept, since the dump cannot say who else should have it. With them,
 * such a policy is a delete like any other: the dump grants the public
 * what its own policies' rows say.
 */
static int public_policy_kept(struct sync_ctx *ctx, struct plan *p,
    const char *local_id, char **errstr)
{
	int rc;

	if ((rc = ph_fetch(ctx->dx, &p->ph, errstr)) < 0)
		return rc;
	return ph_is_public(&p->ph, local_id);
}

/* The instance's item in dump form, for comparison. */
int plan_instance_form(const struct plan *p, const struct sync_opts *o,
    const struct coll_rule *r, const struct json *raw, const char *sync_id,
    struct json **out, char **errstr)
{
	struct json *t = json_copy(raw);
	struct json *roles;
	size_t i;

	if (xform_to_dump(p->map, o, r, t, sync_id, errstr) < 0) {
		json_free(t);
		return SYNC_EPROTO;
	}
	roles = json_get(t, "roles");
	if (strcmp(r->name, "policies") == 0 && roles &&
	    roles->type == JSON_ARRAY)
		for (i = 0; i < roles->u.arr.len; i++)
			json_del(roles->u.arr.items[i], "id");
	*out = t;
	return 0;
}

/* The dump's items of collection ci against the instance's: each is a
 * create (no local item), an update (it differs) or unchanged. The plan
 * takes over the items it lists; c->in_dump gets every SyncID. */
static int compare_dump(struct sync_ctx *ctx, struct plan *p, size_t ci,
    struct json *src, char **errstr)
{
	struct coll_plan *c = &p->c[ci];
	const struct coll_rule *r = c->rule;
	size_t i;
	int rc;

	for (i = 0; i < src->u.arr.len; i++) {
		struct json *it = src->u.arr.items[i];
		const char *sid = json_str(json_get(it, "_syncId"));
		const struct idmap_row *row = idmap_by_sync(p->map, r->name,
		    sid);
		struct json *raw = row ?
		    strmap_get(c->by_local, row->local_id) :
		    NULL,
			    *t, *d;

		strmap_put(c->in_dump, sid, (void *)1);
		if (raw == NULL) {
			/* The plan takes the item over from the file's list;
			 * sid points into it and stays valid. */
			list_add(&c->create, sid, NULL, it, NULL);
			src->u.arr.items[i] = NULL;
			continue;
		}
		if ((rc = plan_instance_form(p, ctx->opts, r, raw, sid, &t,
			 errstr)) < 0)
			return rc;
		d = plan_item_diff(it, t);
		json_free(t);
		if (d) {
			list_add(&c->update, sid, row->local_id, it, d);
			src->u.arr.items[i] = NULL;
		} else
			c->unchanged++;
	}
	return 0;
}

/* Whether the tracked item row, which the dump no longer has, stays:
 * the instance's own admin role and policies (deleting them would lock
 * the administrator out), a public policy under --no-sync-policy-roles.
 * 1 kept, 0 a delete, or an error. */
static int kept_item(struct sync_ctx *ctx, struct plan *p,
    const struct coll_rule *r, const struct idmap_row *row, char **errstr)
{
	int rc;

	if (ph_is(r->name, row->sync_id)) {
		sync_logf(ctx, SYNC_WARN,
		    "[%s] %s is not in the dump; the "
		    "instance's built-in item is kept",
		    r->name, row->sync_id);
		return 1;
	}
	if (strcmp(r->name, "policies") != 0 || ctx->opts->sync_policy_roles)
		return 0;
	if ((rc = public_policy_kept(ctx, p, row->local_id, errstr)) > 0)
		sync_logf(ctx, SYNC_WARN,
		    "[policies] %s is not in the dump, "
		    "but it holds the instance's public access: kept",
		    row->sync_id);
	return rc;
}

/* The map rows of collection ci that the dump has no item for: dangling
 * (the local item is gone) or a delete. */
static int compare_map(struct sync_ctx *ctx, struct plan *p, size_t ci,
    char **errstr)
{
	struct coll_plan *c = &p->c[ci];
	const struct coll_rule *r = c->rule;
	const struct idmap_row *rows;
	size_t i, n;
	int rc;

	rows = idmap_rows(p->map, r->name, &n);
	for (i = 0; i < n; i++) {
		const struct idmap_row *row = &rows[i];
		struct json *raw, *t;

		if (row->sync_id == NULL)
			continue;
		raw = strmap_get(c->by_local, row->local_id);
		if (raw == NULL) {
			c->dangling = xreallocarray(c->dangling,
			    c->ndangling + 1, sizeof(char *));
			c->dangling[c->ndangling++] = xstrdup(row->sync_id);
			continue;
		}
		if (strmap_get(c->in_dump, row->sync_id) || r->singleton)
			continue;
		if ((rc = kept_item(ctx, p, r, row, errstr)) != 0) {
			if (rc < 0)
				return rc;
			continue;
		}
		if ((rc = plan_instance_form(p, ctx->opts, r, raw, row->sync_id,
			 &t, errstr)) < 0)
			return rc;
		list_add(&c->del, row->sync_id, row->local_id, t, NULL);
	}
	return 0;
}

/* Collection ci's part of the plan: the dump's items (src), then the map
 * rows it lacks. */
static int compare(struct sync_ctx *ctx, struct plan *p, size_t ci,
    struct json *src, char **errstr)
{
	struct coll_plan *c = &p->c[ci];
	int rc;

	c->in_dump = strmap_new();
	if ((rc = compare_dump(ctx, p, ci, src, errstr)) < 0 ||
	    (rc = compare_map(ctx, p, ci, errstr)) < 0)
		return rc;
	p->changes += c->create.len + c->update.len + c->del.len;
	return 0;
}

static size_t schema_count(const struct json *diff)
{
	static const char *const keys[] = { "collections", "fields",
		"relations" };
	size_t k, n = 0;

	for (k = 0; k < 3; k++) {
		const struct json *a = json_get(diff, keys[k]);

		if (a && a->type == JSON_ARRAY)
			n += a->u.arr.len;
	}
	return n;
}

/* Note a uuid field of the dump, "collection/field": type uuid, or a 36
 * character char/varchar column (how SQLite reports a uuid field). */
static void note_uuid_field(void *arg, const struct json *e)
{
	struct strmap *m = arg;
	const char *c = json_str(json_get(e, "collection"));
	const char *n = json_str(json_get(e, "field"));
	const char *t = json_str(json_get(e, "type"));
	const struct json *sch = json_get(e, "schema");
	const struct json *len = json_get(sch, "max_length");
	const char *dt = json_str(json_get(sch, "data_type"));
	bool uuid = t && strcmp(t, "uuid") == 0;
	char *k;

	if (!uuid && dt && len && len->type == JSON_NUMBER &&
	    len->u.num == 36 &&
	    (strcmp(dt, "char") == 0 || strcmp(dt, "varchar") == 0))
		uuid = true;
	if (c == NULL || n == NULL || !uuid)
		return;
	xasprintf(&k, "%s/%s", c, n);
	strmap_put(m, k, (void *)1);
	free(k);
}

static bool is_char_varchar(const struct json *rec)
{
	const struct json *path = json_get(rec, "path");
	const char *l = json_str(json_get(rec, "lhs"));
	const char *r = json_str(json_get(rec, "rhs"));

	if (path == NULL || path->type != JSON_ARRAY || path->u.arr.len != 2 ||
	    strcmp(json_str(path->u.arr.items[0]) ?
		    json_str(path->u.arr.items[0]) :
		    "",
		"schema") != 0 ||
	    strcmp(json_str(path->u.arr.items[1]) ?
		    json_str(path->u.arr.items[1]) :
		    "",
		"data_type") != 0 ||
	    l == NULL || r == NULL)
		return false;
	return (strcmp(l, "char") == 0 && strcmp(r, "varchar") == 0) ||
	    (strcmp(l, "varchar") == 0 && strcmp(r, "char") == 0);
}

/*
 * Differences that no apply removes. Directus on SQLite stores a uuid
 * field created through /fields as char(36) and the same field created
 * by /schema/apply as varchar(36): for a uuid field, char and varchar are
 * the same column.
 */
static void schema_normalize(struct json *diff, struct strmap *uuids)
{
	struct json *fields = json_get(diff, "fields");
	size_t i, k;

	for (i = fields ? fields->u.arr.len : 0; i-- > 0;) {
		struct json *e = fields->u.arr.items[i];
		struct json *recs = json_get(e, "diff");
		const char *c = json_str(json_get(e, "collection"));
		const char *n = json_str(json_get(e, "field"));
		char *key;
		bool uuid;

		if (c == NULL || n == NULL || recs == NULL ||
		    recs->type != JSON_ARRAY)
			continue;
		xasprintf(&key, "%s/%s", c, n);
		uuid = strmap_get(uuids, key) != NULL;
		free(key);
		if (!uuid)
			continue;
		for (k = recs->u.arr.len; k-- > 0;)
			if (is_char_varchar(recs->u.arr.items[k]))
				json_array_remove(recs, k);
		if (recs->u.arr.len == 0)
			json_array_remove(fields, i);
	}
}

static int take_schema_diff(struct sync_ctx *ctx, struct plan *p,
    struct dx_call *call, struct strmap *uuids, char **errstr)
{
	struct json *data = dx_data(call->result), *diff;

	p->schema = true;
	/* No body, or "data": null (as the SDK reads it): no changes. Any
	 * other answer must hold the diff: read as "no changes", a push
	 * would skip the schema and go on. */
	if (call->status == 204 || call->result == NULL ||
	    (data != NULL && data->type == JSON_NULL))
		return 0;
	if (data == NULL || data->type != JSON_OBJECT ||
	    (diff = json_get(data, "diff")) == NULL ||
	    diff->type != JSON_OBJECT) {
		xasprintf(errstr,
		    "POST /schema/diff: HTTP %ld: expected "
		    "{\"data\": {\"hash\": ..., \"diff\": {...}}} or no body",
		    call->status);
		return SYNC_EPROTO;
	}
	diff = json_take(data, "diff");
	schema_filter(diff);
	schema_normalize(diff, uuids);
	p->schema_changes = schema_count(diff);
	if (p->schema_changes == 0) {
		json_free(diff);
		return 0;
	}
	p->schema_diff = diff;
	p->schema_hash = json_scalar_string(json_get(data, "hash"));
	if (p->schema_hash == NULL) {
		*errstr = xstrdup("POST /schema/diff: no hash in the answer");
		return SYNC_EPROTO;
	}
	sync_logf(ctx, SYNC_DEBUG, "[snapshot] %zu change(s)",
	    p->schema_changes);
	return 0;
}

/* The schema diff sends the whole snapshot in one body, which cannot be
 * split: past Directus' MAX_PAYLOAD_SIZE (1 MB by default) say so. */
static void payload_hint(size_t len, char **errstr)
{
	char *msg;

	if (len < 1000 * 1000)
		return;
	xasprintf(&msg,
	    "%s (the snapshot is %zu KB in one request: Directus'"
	    " MAX_PAYLOAD_SIZE must be larger)",
	    *errstr, len / 1024);
	free(*errstr);
	*errstr = msg;
}

void plan_req_from_opts(const struct sync_opts *o, struct plan_req *req)
{
	memset(req, 0, sizeof(*req));
	req->collections = sync_opts_selected(o);
	req->schema = o->snapshot;
}

/* The files first: a bad dump fails before any request. */
static int load_dump(struct sync_ctx *ctx, const char *root,
    const struct plan_req *req, struct json **src, char **snap,
    struct strmap *uuids, char **errstr)
{
	size_t i, k;
	int rc;

	if (req->collections)
		load_warn_unknown(ctx, root);
	for (i = 0; i < COLL_COUNT; i++) {
		if (!(req->collections & coll_bit(&coll_rules[i])))
			continue;
		if ((rc = load_collection(ctx, root, &coll_rules[i], &src[i],
			 errstr)) < 0)
			return rc;
		if (strcmp(coll_rules[i].name, "policies") == 0 &&
		    !ctx->opts->sync_policy_roles)
			for (k = 0; k < src[i]->u.arr.len; k++)
				json_del(src[i]->u.arr.items[k], "roles");
	}
	if (req->schema)
		return load_snapshot_text(ctx, root, snap, note_uuid_field,
		    uuids, errstr);
	return 0;
}

/* Whether the schema diff alone failed, refused because the snapshot
 * holds systemFields, which Directus before 11.17 does not know (a dump
 * of a later version pushed with -f). */
static bool system_fields_refused(const struct dx_call *calls, size_t n,
    int schema_idx)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((int)i != schema_idx && calls[i].error)
			return false;
	return calls[schema_idx].status == 400 && calls[schema_idx].error &&
	    strstr(calls[schema_idx].error, "\"systemFields\" is not allowed");
}

/* The schema diff again, without the snapshot's systemFields: the
 * instance has none to compare them with. Said as a warning. */
static int diff_without_system_fields(struct sync_ctx *ctx, struct dx_call *c,
    char **errstr)
{
	struct json *snap = json_parse(c->raw_body, strlen(c->raw_body), NULL);
	struct dx_call again;
	char *text;
	int rc;

	if (snap == NULL || !json_del(snap, "systemFields")) {
		json_free(snap);
		*errstr = xstrdup(c->error);
		return SYNC_EPROTO;
	}
	sync_logf(ctx, SYNC_WARN,
	    "the snapshot's systemFields are left out: Directus %s has none "
	    "(%s)",
	    dx_memo_get(ctx->dx, "version") ? dx_memo_get(ctx->dx, "version") :
					      "here",
	    c->error);
	text = json_write(snap, false, NULL);
	json_free(snap);
	dx_call_init(&again, c->method, xstrdup(c->path), NULL, c->flags);
	again.raw_body = text;
	rc = dx_run(ctx->dx, &again, 1, errstr);
	dx_call_clear(c);
	*c = again;
	return rc;
}

/* Every list and the schema diff in one parallel batch. The snapshot
 * text is taken over. */
static int read_instance(struct sync_ctx *ctx, struct plan *p, char *snap,
    struct strmap *uuids, char **errstr)
{
	const struct sync_opts *o = ctx->opts;
	struct dx_call calls[COLL_COUNT + 1];
	int idx[COLL_COUNT], schema_idx = -1, rc = 0;
	size_t i, n = 0, snaplen = snap ? strlen(snap) : 0;

	memset(calls, 0, sizeof(calls));
	for (i = 0; i < COLL_COUNT; i++) {
		idx[i] = -1;
		if (!p->c[i].selected)
			continue;
		idx[i] = (int)n;
		dx_call_init(&calls[n++], "GET", list_path(o, &coll_rules[i]),
		    NULL, 0);
	}
	if (snap) {
		schema_idx = (int)n;
		dx_call_init(&calls[n], "POST",
		    xstrdup(
			o->force ? "/schema/diff?force=true" : "/schema/diff"),
		    NULL, 0);
		calls[n++].raw_body = snap;
	}
	if (n && (rc = dx_run(ctx->dx, calls, n, errstr)) < 0 &&
	    schema_idx >= 0 && system_fields_refused(calls, n, schema_idx)) {
		free(*errstr);
		*errstr = NULL;
		rc = diff_without_system_fields(ctx, &calls[schema_idx],
		    errstr);
	}
	if (rc < 0) {
		if (schema_idx >= 0 && calls[schema_idx].error && *errstr &&
		    strstr(*errstr, "/schema/diff"))
			payload_hint(snaplen, errstr);
		goto out;
	}
	for (i = 0; i < COLL_COUNT; i++)
		if (idx[i] >= 0 &&
		    (rc = take_target(&p->c[i], &calls[idx[i]], errstr)) < 0)
			goto out;
	if (schema_idx >= 0)
		rc = take_schema_diff(ctx, p, &calls[schema_idx], uuids,
		    errstr);
out:
	for (i = 0; i < n; i++)
		dx_call_clear(&calls[i]);
	return rc;
}

char *plan_skip_key(const char *collection, const char *sync_id)
{
	char *k;

	xasprintf(&k, "%s\t%s", collection, sync_id);
	return k;
}

/* Drop the changes of l whose item is in skip; how many went. */
static bool dropped(const struct plan_req *req, const char *key)
{
	return (req->skip && strmap_get(req->skip, key)) ||
	    (req->only && !strmap_get(req->only, key));
}

static size_t skip_list(const char *coll, struct plan_list *l,
    const struct plan_req *skip)
{
	size_t i, k = 0, n = 0;

	for (i = 0; i < l->len; i++) {
		char *key = plan_skip_key(coll, l->v[i].sync_id);
		bool drop = dropped(skip, key);

		free(key);
		if (!drop) {
			l->v[k++] = l->v[i];
			continue;
		}
		free(l->v[i].sync_id);
		free(l->v[i].local_id);
		json_free(l->v[i].item);
		json_free(l->v[i].diff);
		n++;
	}
	l->len = k;
	return n;
}

char *plan_unit_key(const char *kind, const char *collection, const char *field)
{
	char *k;

	if (strcmp(kind, "collections") == 0)
		xasprintf(&k, "collections\t%s", collection ? collection : "");
	else
		xasprintf(&k, "%s\t%s\t%s", kind, collection ? collection : "",
		    field ? field : "");
	return k;
}

/* The key of an entry of the schema diff (the split file's name may
 * carry a suffix; the key does not). */
static char *unit_of(const char *kind, const struct json *e)
{
	return plan_unit_key(kind, json_str(json_get(e, "collection")),
	    json_str(json_get(e, "field")));
}

static void skip_schema(struct plan *p, const struct plan_req *skip)
{
	static const char *const keys[] = { "collections", "fields",
		"relations" };
	size_t k, i;

	if (p->schema_diff == NULL)
		return;
	for (k = 0; k < 3; k++) {
		struct json *a = json_get(p->schema_diff, keys[k]);

		if (a == NULL || a->type != JSON_ARRAY)
			continue;
		for (i = a->u.arr.len; i-- > 0;) {
			char *rel = unit_of(keys[k], a->u.arr.items[i]);

			/* Only skip: a schema diff cut to a list could
			 * create a relation without its field. */
			if (skip->skip && strmap_get(skip->skip, rel))
				json_array_remove(a, i);
			free(rel);
		}
	}
	p->schema_changes = schema_count(p->schema_diff);
	if (p->schema_changes == 0) {
		json_free(p->schema_diff);
		p->schema_diff = NULL;
	}
}

static void plan_skip(struct plan *p, const struct plan_req *skip)
{
	size_t i;

	for (i = 0; i < COLL_COUNT; i++) {
		struct coll_plan *c = &p->c[i];
		const char *n = c->rule->name;

		p->changes -= skip_list(n, &c->create, skip) +
		    skip_list(n, &c->update, skip) +
		    skip_list(n, &c->del, skip);
	}
	skip_schema(p, skip);
}

int plan_build(struct sync_ctx *ctx, const char *root,
    const struct plan_req *req, struct plan *p, char **errstr)
{
	const struct sync_opts *o = ctx->opts;
	struct json *src[COLL_COUNT] = { 0 };
	struct strmap *uuids = strmap_new();
	const char *tables[COLL_COUNT];
	char *snap = NULL;
	size_t i, nt;
	int rc;

	memset(p, 0, sizeof(*p));
	p->requested = req->collections;
	for (i = 0; i < COLL_COUNT; i++) {
		p->c[i].rule = &coll_rules[i];
		p->c[i].selected = (req->collections &
				       coll_bit(&coll_rules[i])) != 0;
	}
	if ((rc = load_dump(ctx, req->dump_root ? req->dump_root : root, req,
		 src, &snap, uuids, errstr)) < 0)
		goto out;
	p->map = idmap_new(ctx->dx, o->id_map);
	/* Nothing is written while planning: the placeholders' new map
	 * rows stay in memory (a diff writes nothing at all), and a push
	 * saves them once the schema is applied. */
	if (req->collections &&
	    (rc = idmap_open(p->map, IDMAP_OPEN_ABSENT_OK | IDMAP_OPEN_DEFER,
		 errstr)) < 0)
		goto out;
	if (req->collections)
		sync_logf(ctx, SYNC_DEBUG, "SyncID map: %s%s",
		    idmap_backend_name(idmap_backend(p->map)),
		    idmap_absent(p->map) ? " (none yet)" : "");
	rc = read_instance(ctx, p, snap, uuids, errstr);
	snap = NULL;
	if (rc < 0)
		goto out;
	/* The map tables of the compared collections and their targets. */
	nt = coll_tables_needed(req->collections, tables);
	if ((nt && (rc = idmap_load(p->map, tables, nt, errstr)) < 0) ||
	    (rc = map_placeholders(ctx, p, src, errstr)) < 0)
		goto out;
	for (i = 0; i < COLL_COUNT; i++)
		if (src[i] && (rc = compare(ctx, p, i, src[i], errstr)) < 0)
			goto out;
	if (req->skip || req->only)
		plan_skip(p, req);
	rc = 0;
out:
	for (i = 0; i < COLL_COUNT; i++)
		json_free(src[i]);
	free(snap);
	strmap_free(uuids);
	return rc;
}

int sync_diff(struct sync_ctx *ctx, const struct plan_req *req, struct plan *p,
    struct sync_stats *st, char **errstr)
{
	struct sync_run run;
	struct plan_req def;
	int rc;

	memset(p, 0, sizeof(*p));
	if (req == NULL) {
		plan_req_from_opts(ctx->opts, &def);
		req = &def;
	}
	/* A dump read from elsewhere needs no lock of the dump tree. */
	if ((rc = sync_run_begin(&run, ctx, st, req->dump_root ? 0 : RUN_LOCK,
		 errstr)) < 0)
		return rc;
	if ((rc = sync_check_instance(ctx, run.st, errstr)) == 0)
		rc = plan_build(ctx, run.root, req, p, errstr);
	/* What a push would refuse, said by the diff too. */
	if (rc == 0) {
		char *why = NULL;

		if (public_check_push(p, &why) < 0)
			sync_logf(ctx, SYNC_WARN, "%s", why);
		free(why);
		why = NULL;
		/* A failed read of the license is no warning. */
		if (license_check(ctx, p, &why) == SYNC_EGUARD)
			sync_logf(ctx, SYNC_WARN, "%s", why);
		free(why);
	}
	return sync_run_end(&run, rc);
}

const struct coll_plan *plan_coll(const struct plan *p, const char *name)
{
	return &p->c[coll_find(name) - coll_rules];
}

char *plan_label(const struct coll_rule *r, const struct json *item)
{
	const char *name = json_str(json_get(item, "name"));
	char *s;

	if (strcmp(r->name, "permissions") == 0) {
		xasprintf(&s, "%s %s",
		    json_str(json_get(item, "collection")) ?
			json_str(json_get(item, "collection")) :
			"?",
		    json_str(json_get(item, "action")) ?
			json_str(json_get(item, "action")) :
			"?");
		return s;
	}
	if (strcmp(r->name, "translations") == 0) {
		xasprintf(&s, "%s (%s)",
		    json_str(json_get(item, "key")) ?
			json_str(json_get(item, "key")) :
			"?",
		    json_str(json_get(item, "language")) ?
			json_str(json_get(item, "language")) :
			"?");
		return s;
	}
	if (strcmp(r->name, "operations") == 0 &&
	    json_str(json_get(item, "key")))
		return xstrdup(json_str(json_get(item, "key")));
	if (strcmp(r->name, "presets") == 0 && name == NULL) {
		/* A bookmark by its name, a collection's default preset by
		 * the collection. */
		if (json_str(json_get(item, "bookmark")))
			return xstrdup(json_str(json_get(item, "bookmark")));
		if (json_str(json_get(item, "collection")))
			return xstrdup(json_str(json_get(item, "collection")));
	}
	if (r->singleton)
		return xstrdup("settings");
	return name ? xstrdup(name) : NULL;
}

static struct json *change_json(const struct coll_rule *r,
    const struct plan_change *c, bool with_item, bool with_diff)
{
	struct json *o = json_new_object();
	char *label = plan_label(r, c->item);

	json_set(o, "_syncId", json_new_string(c->sync_id));
	json_set(o, "name", label ? json_new_string(label) : json_new_null());
	free(label);
	if (c->local_id)
		json_set(o, "id", json_new_string(c->local_id));
	if (with_diff && c->diff)
		json_set(o, "changes", json_copy(c->diff));
	if (with_item && c->item)
		json_set(o, "item", json_copy(c->item));
	return o;
}

struct json *plan_json(const struct plan *p)
{
	struct json *root = json_new_object(), *colls = json_new_object();
	size_t i, k;

	if (p->schema) {
		struct json *s = json_new_object();

		json_set(s, "changes",
		    json_new_number((double)p->schema_changes));
		json_set(s, "diff",
		    p->schema_diff ? json_copy(p->schema_diff) :
				     json_new_null());
		json_set(root, "schema", s);
	} else
		json_set(root, "schema", json_new_null());
	for (i = 0; i < COLL_COUNT; i++) {
		const struct coll_plan *c = &p->c[i];
		struct json *o, *a;

		if (!c->selected)
			continue;
		o = json_new_object();
		a = json_new_array();
		for (k = 0; k < c->create.len; k++)
			json_array_append(a,
			    change_json(c->rule, &c->create.v[k], true, false));
		json_set(o, "create", a);
		a = json_new_array();
		for (k = 0; k < c->update.len; k++)
			json_array_append(a,
			    change_json(c->rule, &c->update.v[k], false, true));
		json_set(o, "update", a);
		a = json_new_array();
		for (k = 0; k < c->del.len; k++)
			json_array_append(a,
			    change_json(c->rule, &c->del.v[k], true, false));
		json_set(o, "delete", a);
		json_set(o, "unchanged", json_new_number((double)c->unchanged));
		a = json_new_array();
		for (k = 0; k < c->ndangling; k++)
			json_array_append(a, json_new_string(c->dangling[k]));
		json_set(o, "dangling", a);
		json_set(colls, c->rule->name, o);
	}
	json_set(root, "collections", colls);
	json_set(root, "changes",
	    json_new_number((double)(p->changes + p->schema_changes)));
	return root;
}

/* --- the summary --- */

static void summary_item(struct plan_summary_coll *sc,
    const struct coll_plan *c, const struct plan_change *ch, char kind)
{
	struct plan_summary_item *it;

	if (sc->nfirst == PLAN_SUMMARY_FIRST)
		return;
	it = &sc->first[sc->nfirst++];
	it->kind = kind;
	it->sync_id = xstrdup(ch->sync_id);
	it->label = plan_label(c->rule, ch->item);
}

static void summary_schema(const struct plan *p, struct plan_summary *s)
{
	static const char *const parts[] = { "collections", "fields",
		"relations" };
	static const char *const what[] = { "collection", "field", "relation" };
	size_t *counts[] = { &s->schema_collections, &s->schema_fields,
		&s->schema_relations };
	size_t i, k;

	s->schema = p->schema;
	s->schema_changes = p->schema_changes;
	for (i = 0; p->schema_diff && i < 3; i++) {
		const struct json *a = json_get(p->schema_diff, parts[i]);

		for (k = 0; a && a->type == JSON_ARRAY && k < a->u.arr.len;
		     k++) {
			char *name;

			(*counts[i])++;
			if (strcmp(plan_text_schema_verb(a->u.arr.items[k]),
				"delete") == 0)
				s->schema_deletes++;
			if (s->nschema_first == PLAN_SUMMARY_FIRST)
				continue;
			name = plan_text_schema_name(a->u.arr.items[k]);
			xasprintf(&s->schema_first[s->nschema_first++],
			    "%s %s %s",
			    plan_text_schema_verb(a->u.arr.items[k]), what[i],
			    name);
			free(name);
		}
	}
}

void plan_summarize(const struct plan *p, struct plan_summary *s)
{
	size_t i, k;

	memset(s, 0, sizeof(*s));
	summary_schema(p, s);
	for (i = 0; i < COLL_COUNT; i++) {
		const struct coll_plan *c = &p->c[i];
		struct plan_summary_coll *sc = &s->c[i];

		sc->name = coll_rules[i].name;
		sc->selected = c->selected;
		sc->create = c->create.len;
		sc->update = c->update.len;
		sc->del = c->del.len;
		sc->unchanged = c->unchanged;
		sc->dangling = c->ndangling;
		for (k = 0; k < c->create.len; k++)
			summary_item(sc, c, &c->create.v[k], '+');
		for (k = 0; k < c->update.len; k++)
			summary_item(sc, c, &c->update.v[k], '~');
		for (k = 0; k < c->del.len; k++)
			summary_item(sc, c, &c->del.v[k], '-');
	}
	s->changes = p->changes + p->schema_changes;
}

void plan_summary_clear(struct plan_summary *s)
{
	size_t i, k;

	for (i = 0; i < s->nschema_first; i++)
		free(s->schema_first[i]);
	for (i = 0; i < COLL_COUNT; i++)
		for (k = 0; k < s->c[i].nfirst; k++) {
			free(s->c[i].first[k].sync_id);
			free(s->c[i].first[k].label);
		}
	memset(s, 0, sizeof(*s));
}

static struct json *num(size_t n)
{
	return json_new_number((double)n);
}

struct json *plan_summary_json(const struct plan_summary *s)
{
	struct json *root = json_new_object(), *colls = json_new_object();
	size_t i, k;

	json_set(root, "changes", num(s->changes));
	if (s->schema) {
		struct json *o = json_new_object(), *a = json_new_array();

		json_set(o, "changes", num(s->schema_changes));
		json_set(o, "collections", num(s->schema_collections));
		json_set(o, "fields", num(s->schema_fields));
		json_set(o, "relations", num(s->schema_relations));
		for (i = 0; i < s->nschema_first; i++)
			json_array_append(a,
			    json_new_string(s->schema_first[i]));
		json_set(o, "first", a);
		json_set(root, "schema", o);
	} else
		json_set(root, "schema", json_new_null());
	for (i = 0; i < COLL_COUNT; i++) {
		const struct plan_summary_coll *c = &s->c[i];
		struct json *o, *a;

		if (!c->selected)
			continue;
		o = json_new_object();
		a = json_new_array();
		json_set(o, "create", num(c->create));
		json_set(o, "update", num(c->update));
		json_set(o, "delete", num(c->del));
		json_set(o, "unchanged", num(c->unchanged));
		json_set(o, "dangling", num(c->dangling));
		for (k = 0; k < c->nfirst; k++) {
			struct json *it = json_new_object();
			char kind[2] = { c->first[k].kind, '\0' };

			json_set(it, "kind", json_new_string(kind));
			json_set(it, "_syncId",
			    json_new_string(c->first[k].sync_id));
			json_set(it, "name",
			    c->first[k].label ?
				json_new_string(c->first[k].label) :
				json_new_null());
			json_array_append(a, it);
		}
		json_set(o, "first", a);
		json_set(colls, c->name, o);
	}
	json_set(root, "collections", colls);
	return root;
}
