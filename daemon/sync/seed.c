/*
 * seed: the plan and the push of the seed data (see seed.h). The plan
 * is made from one read: the schema snapshot (primary keys and
 * many-to-one relations of one's own collections), the map tables of
 * the seeds and of their relations' targets, and the instance's items
 * that the map tables name. Per collection, as directus-sync decides:
 * an item whose SyncID is tracked and whose local item exists is
 * compared on the seed's keys (relation values as SyncIDs; the primary
 * key and ignore_on_update left out) and is unchanged or an update;
 * any other item is a create; a map row whose local item is gone is
 * dangling; a tracked item the seeds no longer hold is a delete.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "idmap.h"
#include "placeholder.h"
#include "seed.h"
#include "strmap.h"
#include "uuid.h"
#include "xmalloc.h"

#define SEED_CHUNK 100 /* ids per lookup request */

enum act { ACT_CREATE, ACT_ADOPT, ACT_UPDATE, ACT_UNCHANGED };

struct item_plan {
	enum act act;
	char *local_id;	   /* adopt, update, unchanged; create: once done */
	struct json *diff; /* update, adopt: {field: the seed's value} */
	bool done;	   /* created, adopted, or updated */
	bool patched;	   /* its update was sent */
	bool single;	   /* created alone (its batch failed) */
	char *new_id;	   /* the id a batched create gives it */
};

struct del {
	char *sync_id;
	char *local_id;
	const struct json *item; /* the instance's, borrowed */
};

struct cstate {
	struct seed_coll *c;
	struct item_plan *ip;
	struct json *target;	 /* the instance's items it tracks */
	struct strmap *by_local; /* pk -> item of target */
	char **dangling;
	size_t ndangling;
	struct del *del;
	size_t ndel;
	size_t unchanged;
};

struct seed_run {
	struct sync_ctx *ctx;
	const struct seed_set *s;
	struct cstate *cs;
	struct idmap *map;
	struct placeholders ph;
	struct strmap *creating; /* "table\n" SyncID -> struct ref */
	struct sync_stats *st;
};

struct ref {
	size_t ci, ii; /* collection and item of a create */
};

static const char *endpoint_of(const struct seed_coll *c, char *buf, size_t len)
{
	if (strcmp(c->collection, "directus_users") == 0)
		return "/users";
	if (strcmp(c->collection, "directus_files") == 0)
		return "/files";
	snprintf(buf, len, "/items/%s", c->collection);
	return buf;
}

static char *key2(const char *table, const char *sid)
{
	char *k;

	xasprintf(&k, "%s\n%s", table, sid);
	return k;
}

static const char *item_label(const struct json *it)
{
	static const char *const keys[] = { "name", "title", "label", "email",
		"key", "filename_download", "slug" };
	size_t i;

	for (i = 0; it && i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_str(json_get(it, keys[i])))
			return json_str(json_get(it, keys[i]));
	return NULL;
}

/* --- the schema --- */

static void add_rel(struct seed_coll *c, const char *field, const char *target)
{
	c->rels = xreallocarray(c->rels, c->nrels + 1, sizeof(*c->rels));
	c->rels[c->nrels].field = xstrdup(field);
	c->rels[c->nrels].table = target ? seed_table(target) : NULL;
	c->nrels++;
}

static void system_schema(struct seed_coll *c)
{
	free(c->pk);
	c->pk = xstrdup("id");
	c->pk_int = false;
	c->pk_uuid = true;
	if (strcmp(c->collection, "directus_users") == 0)
		add_rel(c, "role", "directus_roles");
	else {
		add_rel(c, "folder", "directus_folders");
		add_rel(c, "uploaded_by", "directus_users");
	}
}

static int custom_schema(struct seed_coll *c, const struct json *snap,
    char **errstr)
{
	const struct json *fields = json_get_arr(snap, "fields");
	const struct json *rels = json_get_arr(snap, "relations");
	size_t i;

	for (i = 0; fields && i < fields->u.arr.len; i++) {
		const struct json *f = fields->u.arr.items[i];
		const char *coll = json_get_str(f, "collection");

		if (coll && strcmp(coll, c->collection) == 0 &&
		    json_get_true(json_get_obj(f, "schema"),
			"is_primary_key")) {
			c->pk = xstrdup(json_get_str(f, "field"));
			c->pk_uuid = json_get_str(f, "type") &&
			    strcmp(json_get_str(f, "type"), "uuid") == 0;
			c->pk_int = json_get_str(f, "type") &&
			    (strcmp(json_get_str(f, "type"), "integer") == 0 ||
				strcmp(json_get_str(f, "type"), "bigInteger") ==
				    0);
		}
	}
	if (c->pk == NULL) {
		xasprintf(errstr,
		    "seed file %s: collection \"%s\" does not exist on the "
		    "instance (or has no primary key): push the schema first",
		    c->file, c->collection);
		return SYNC_EGUARD;
	}
	for (i = 0; rels && i < rels->u.arr.len; i++) {
		const struct json *r = rels->u.arr.items[i];
		const char *coll = json_get_str(r, "collection");

		if (coll && strcmp(coll, c->collection) == 0 &&
		    json_get_str(r, "field"))
			add_rel(c, json_get_str(r, "field"),
			    json_get_str(r, "related_collection"));
	}
	return 0;
}

static int read_schema(struct seed_run *R, char **errstr)
{
	struct json *snap = NULL;
	bool custom = false;
	size_t i;
	int rc = 0;

	for (i = 0; i < R->s->len; i++)
		custom |= strncmp(R->s->v[i].collection, "directus_", 9) != 0;
	if (custom &&
	    (rc = dx_request(R->ctx->dx, "GET", "/schema/snapshot", NULL, &snap,
		 errstr)) < 0)
		return rc;
	for (i = 0; i < R->s->len && rc == 0; i++) {
		struct seed_coll *c = &R->s->v[i];

		if (c->pk)
			continue; /* a run before this one filled it */
		if (strncmp(c->collection, "directus_", 9) == 0)
			system_schema(c);
		else
			rc = custom_schema(c, dx_data(snap), errstr);
	}
	json_free(snap);
	return rc;
}

/* --- the map tables and the instance's items --- */

static void add_table(const char **tables, size_t *n, const char *t)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp(tables[i], t) == 0)
			return;
	tables[(*n)++] = t;
}

static int load_maps(struct seed_run *R, char **errstr)
{
	const char **tables = NULL;
	size_t n = 0, i, k;
	bool roles = false;
	int rc;

	for (i = 0; i < R->s->len; i++) {
		const struct seed_coll *c = &R->s->v[i];

		tables = xreallocarray(tables, n + c->nrels + 1,
		    sizeof(char *));
		add_table(tables, &n, c->table);
		for (k = 0; k < c->nrels; k++)
			if (c->rels[k].table) {
				add_table(tables, &n, c->rels[k].table);
				roles |= strcmp(c->rels[k].table, "roles") == 0;
			}
	}
	R->map = idmap_new(R->ctx->dx, R->ctx->opts->id_map);
	if ((rc = idmap_open(R->map, IDMAP_OPEN_ABSENT_OK | IDMAP_OPEN_DEFER,
		 errstr)) == 0 &&
	    (rc = idmap_load(R->map, tables, n, errstr)) == 0 && roles)
		rc = ph_fetch(R->ctx->dx, &R->ph, errstr);
	free(tables);
	return rc;
}

/* The ids a lookup asks for: the local ids of the collection's map
 * rows, and with preserve_ids the SyncIDs of the items not tracked yet
 * (an item may already hold its SyncID as id). */
static char **lookup_ids(struct seed_run *R, const struct seed_coll *c,
    size_t *n)
{
	const struct idmap_row *rows;
	size_t nrows, i;
	char **ids = NULL;

	*n = 0;
	rows = idmap_rows(R->map, c->table, &nrows);
	for (i = 0; i < nrows; i++)
		if (rows[i].sync_id) {
			ids = xreallocarray(ids, *n + 1, sizeof(char *));
			ids[(*n)++] = rows[i].local_id;
		}
	for (i = 0; c->preserve_ids && i < c->nitems; i++)
		if (idmap_by_sync(R->map, c->table, c->items[i].sync_id) ==
		    NULL) {
			ids = xreallocarray(ids, *n + 1, sizeof(char *));
			ids[(*n)++] = c->items[i].sync_id;
		}
	return ids;
}

static bool is_int(const char *s)
{
	char *end;

	if (*s == '\0')
		return false;
	(void)strtoll(s, &end, 10);
	return *end == '\0';
}

/* GET endpoint?filter={pk:{_in:[...]}}&limit=-1 for ids[from, to). */
static char *lookup_path(const struct seed_coll *c, char *const *ids,
    size_t from, size_t to)
{
	struct json *f = json_new_object(), *in = json_new_object();
	struct json *a = json_new_array(), *o;
	char ep[512], *text, *esc, *path;
	size_t i;

	for (i = from; i < to; i++)
		if (!c->pk_int)
			json_array_append(a, json_new_string(ids[i]));
		else if (is_int(ids[i]))
			json_array_append(a,
			    json_new_number(strtod(ids[i], NULL)));
	json_set(in, "_in", a);
	json_set(f, c->pk, in);
	text = json_write(f, false, NULL);
	esc = dx_escape(text);
	xasprintf(&path, "%s?filter=%s&limit=-1",
	    endpoint_of(c, ep, sizeof(ep)), esc);
	o = f;
	json_free(o);
	free(text);
	free(esc);
	return path;
}

static int take_items(struct cstate *cs, struct dx_call *call, char **errstr)
{
	struct json *data = dx_data(call->result);
	size_t i;

	if (data == NULL || data->type != JSON_ARRAY) {
		xasprintf(errstr, "GET %s: the answer holds no list of items",
		    call->path);
		return SYNC_EPROTO;
	}
	while (data->u.arr.len) {
		struct json *it = data->u.arr.items[0];
		char *pk = json_scalar_string(json_get(it, cs->c->pk));

		data->u.arr.items[0] = json_new_null();
		json_array_remove(data, 0);
		if (pk == NULL) {
			json_free(it);
			continue;
		}
		json_array_append(cs->target, it);
		strmap_put(cs->by_local, pk, it);
		free(pk);
	}
	(void)i;
	return 0;
}

static int read_items(struct seed_run *R, char **errstr)
{
	struct dx_call *calls = NULL;
	size_t *owner = NULL, n = 0, i, k;
	int rc;

	for (i = 0; i < R->s->len; i++) {
		struct cstate *cs = &R->cs[i];
		size_t nids;
		char **ids = lookup_ids(R, cs->c, &nids);

		cs->target = json_new_array();
		cs->by_local = strmap_new();
		for (k = 0; k < nids; k += SEED_CHUNK) {
			size_t to = k + SEED_CHUNK < nids ? k + SEED_CHUNK :
							    nids;

			calls = xreallocarray(calls, n + 1, sizeof(*calls));
			owner = xreallocarray(owner, n + 1, sizeof(size_t));
			dx_call_init(&calls[n], "GET",
			    lookup_path(cs->c, ids, k, to), NULL, 0);
			owner[n++] = i;
		}
		free(ids);
	}
	rc = n ? dx_run(R->ctx->dx, calls, n, errstr) : 0;
	for (i = 0; i < n && rc == 0; i++)
		rc = take_items(&R->cs[owner[i]], &calls[i], errstr);
	for (i = 0; i < n; i++)
		dx_call_clear(&calls[i]);
	free(calls);
	free(owner);
	return rc;
}

/* --- comparing --- */

static const struct seed_rel *rel_of(const struct seed_coll *c,
    const char *field)
{
	size_t i;

	for (i = 0; i < c->nrels; i++)
		if (strcmp(c->rels[i].field, field) == 0)
			return &c->rels[i];
	return NULL;
}

static bool ignored(const struct seed_coll *c, const char *field)
{
	size_t i;

	if (strcmp(field, c->pk) == 0)
		return true;
	for (i = 0; i < c->nignore; i++)
		if (strcmp(c->ignore[i], field) == 0)
			return true;
	return false;
}

/* A local id of a relation's target as the seeds name it: its SyncID,
 * else the id itself (as the reference does). */
static struct json *to_sync(struct seed_run *R, const struct seed_rel *rel,
    const struct json *v)
{
	const struct idmap_row *row;
	const char *ph;
	char *lid;
	struct json *out;
	size_t i;

	if (v == NULL || rel == NULL || rel->table == NULL ||
	    v->type == JSON_NULL || v->type == JSON_OBJECT)
		return v ? json_copy(v) : NULL;
	if (v->type == JSON_ARRAY) {
		out = json_new_array();
		for (i = 0; i < v->u.arr.len; i++)
			json_array_append(out,
			    to_sync(R, rel, v->u.arr.items[i]));
		return out;
	}
	if ((lid = json_scalar_string(v)) == NULL)
		return json_copy(v);
	if ((row = idmap_by_local(R->map, rel->table, lid)) != NULL)
		out = json_new_string(row->sync_id);
	else if (R->ph.fetched &&
	    (ph = ph_sync_id(&R->ph, rel->table, lid)) != NULL)
		out = json_new_string(ph);
	else
		out = json_copy(v);
	free(lid);
	return out;
}

static struct json *compare(struct seed_run *R, const struct seed_coll *c,
    const struct seed_item *it, const struct json *target)
{
	struct json *diff = json_new_object();
	size_t i;

	for (i = 0; i < it->data->u.obj.len; i++) {
		const struct json_member *m = &it->data->u.obj.members[i];
		struct json *tv;

		if (ignored(c, m->key))
			continue;
		tv = to_sync(R, rel_of(c, m->key), json_get(target, m->key));
		if (tv == NULL || !json_equal(tv, m->val))
			json_set(diff, m->key, json_copy(m->val));
		json_free(tv);
	}
	if (diff->u.obj.len == 0) {
		json_free(diff);
		return NULL;
	}
	return diff;
}

static void plan_item(struct seed_run *R, struct cstate *cs, size_t i)
{
	const struct seed_coll *c = cs->c;
	const struct seed_item *it = &c->items[i];
	struct item_plan *ip = &cs->ip[i];
	const struct idmap_row *row = idmap_by_sync(R->map, c->table,
	    it->sync_id);
	const struct json *target = NULL;

	if (row)
		target = strmap_get(cs->by_local, row->local_id);
	if (target) {
		ip->local_id = xstrdup(row->local_id);
		ip->diff = compare(R, c, it, target);
		ip->act = ip->diff ? ACT_UPDATE : ACT_UNCHANGED;
		cs->unchanged += ip->act == ACT_UNCHANGED;
		return;
	}
	ip->act = ACT_CREATE;
	/* preserve_ids: an item holding the SyncID as id, and tracked by
	 * no row, is taken over (the reference does so when its create
	 * fails as not unique). */
	if (c->preserve_ids && strmap_get(cs->by_local, it->sync_id) &&
	    idmap_by_local(R->map, c->table, it->sync_id) == NULL) {
		ip->act = ACT_ADOPT;
		ip->local_id = xstrdup(it->sync_id);
		/* ... and given the seed's values, as an update would. */
		ip->diff = compare(R, c, it,
		    strmap_get(cs->by_local, it->sync_id));
	}
}

static void plan_rows(struct seed_run *R, struct cstate *cs)
{
	const struct seed_coll *c = cs->c;
	const struct idmap_row *rows;
	struct strmap *in_seed = strmap_new();
	size_t nrows, i;

	for (i = 0; i < c->nitems; i++)
		strmap_put(in_seed, c->items[i].sync_id, &c->items[i]);
	rows = idmap_rows(R->map, c->table, &nrows);
	for (i = 0; i < nrows; i++) {
		const struct json *t;

		if (rows[i].sync_id == NULL)
			continue;
		t = strmap_get(cs->by_local, rows[i].local_id);
		if (t == NULL) {
			cs->dangling = xreallocarray(cs->dangling,
			    cs->ndangling + 1, sizeof(char *));
			cs->dangling[cs->ndangling++] = xstrdup(
			    rows[i].sync_id);
		} else if (strmap_get(in_seed, rows[i].sync_id) == NULL) {
			cs->del = xreallocarray(cs->del, cs->ndel + 1,
			    sizeof(*cs->del));
			cs->del[cs->ndel].sync_id = xstrdup(rows[i].sync_id);
			cs->del[cs->ndel].local_id = xstrdup(rows[i].local_id);
			cs->del[cs->ndel++].item = t;
		}
	}
	strmap_free(in_seed);
}

static void plan_colls(struct seed_run *R)
{
	size_t i, k;

	R->creating = strmap_new();
	for (i = 0; i < R->s->len; i++) {
		struct cstate *cs = &R->cs[i];

		for (k = 0; k < cs->c->nitems; k++) {
			plan_item(R, cs, k);
			if (cs->ip[k].act == ACT_CREATE && cs->c->create) {
				struct ref *r = xmalloc(sizeof(*r));
				char *key = key2(cs->c->table,
				    cs->c->items[k].sync_id);

				r->ci = i;
				r->ii = k;
				strmap_put(R->creating, key, r);
				free(key);
			}
		}
		plan_rows(R, cs);
	}
}

/* --- references: SyncIDs of the seeds to the instance's ids --- */

enum resolved { RES_OK, RES_WAIT, RES_MISSING, RES_BAD };

/* One value of a relation field to the local id: RES_WAIT when its
 * target is created by this push and not yet, RES_MISSING when no one
 * has it, RES_BAD for a nested object. */
static enum resolved to_local(struct seed_run *R, const struct seed_rel *rel,
    const struct json *v, struct json **out)
{
	const struct idmap_row *row;
	const struct ref *ref;
	const char *s;
	char *sid, *key;

	*out = NULL;
	if (v->type == JSON_NULL || rel->table == NULL) {
		*out = json_copy(v);
		return RES_OK;
	}
	if (v->type == JSON_OBJECT || v->type == JSON_ARRAY ||
	    (sid = json_scalar_string(v)) == NULL)
		return RES_BAD;
	for (s = sid; *s == ' ' || *s == '\t' || *s == '\n'; s++)
		;
	if (strncmp(s, "{{", 2) == 0)
		*out = json_copy(v); /* a template, resolved by Directus */
	else if ((row = idmap_by_sync(R->map, rel->table, sid)) != NULL)
		*out = json_new_string(row->local_id);
	else if (strcmp(rel->table, "roles") == 0 &&
	    strcmp(sid, PH_ADMIN_ROLE) == 0 && R->ph.admin_role)
		*out = json_new_string(R->ph.admin_role);
	else {
		key = key2(rel->table, sid);
		ref = strmap_get(R->creating, key);
		free(key);
		if (ref && R->cs[ref->ci].ip[ref->ii].done)
			*out = json_new_string(
			    R->cs[ref->ci].ip[ref->ii].local_id);
		free(sid);
		return *out ? RES_OK : ref ? RES_WAIT : RES_MISSING;
	}
	free(sid);
	return RES_OK;
}

/* The seed's values with the relations' SyncIDs made local ids; NULL
 * when one waits for a create (or, with why, cannot resolve: why says
 * which field and value). */
static struct json *map_item(struct seed_run *R, const struct seed_coll *c,
    const struct json *src, enum resolved *res, char **why)
{
	struct json *out = json_new_object();
	size_t i, k;

	*res = RES_OK;
	for (i = 0; i < src->u.obj.len; i++) {
		const struct json_member *m = &src->u.obj.members[i];
		const struct seed_rel *rel = rel_of(c, m->key);
		struct json *v = NULL;
		enum resolved r = RES_OK;

		if (rel == NULL) {
			json_set(out, m->key, json_copy(m->val));
			continue;
		}
		if (m->val->type == JSON_ARRAY) {
			v = json_new_array();
			for (k = 0; k < m->val->u.arr.len && r == RES_OK; k++) {
				struct json *e;

				if (json_is_null(m->val->u.arr.items[k]))
					continue;
				r = to_local(R, rel, m->val->u.arr.items[k],
				    &e);
				if (e)
					json_array_append(v, e);
			}
		} else
			r = to_local(R, rel, m->val, &v);
		if (r != RES_OK) {
			char *text = json_write(m->val, false, NULL);

			if (why && r != RES_WAIT)
				xasprintf(why, "field \"%s\" = %s: %s", m->key,
				    text,
				    r == RES_BAD ?
					"a relation holds a SyncID, not an "
					"object" :
					"no item has this SyncID (not in the "
					"map table, not created by the seeds)");
			free(text);
			json_free(v);
			json_free(out);
			*res = r;
			return NULL;
		}
		json_set(out, m->key, v);
	}
	return out;
}

/* --- the checks made before any write --- */

static bool applies(const struct seed_coll *c, const struct item_plan *ip)
{
	return ((ip->act == ACT_CREATE || ip->act == ACT_ADOPT) && c->create) ||
	    (ip->act == ACT_UPDATE && c->update);
}

static void name_item(struct buf *b, const struct seed_coll *c,
    const struct seed_item *it)
{
	buf_addf(b, "\n  %s data[%zu] (%s, _sync_id \"%s\")", it->file,
	    it->index, c->collection, it->sync_id);
}

/* Every relation value of the creates and updates names an item that is
 * tracked or created by the seeds. */
static size_t missing_refs(struct seed_run *R, struct buf *b)
{
	size_t i, k, n = 0;

	for (i = 0; i < R->s->len; i++) {
		const struct seed_coll *c = R->cs[i].c;

		for (k = 0; k < c->nitems; k++) {
			const struct item_plan *ip = &R->cs[i].ip[k];
			enum resolved res;
			char *why = NULL;

			if (!applies(c, ip) ||
			    (ip->act == ACT_ADOPT && ip->diff == NULL))
				continue;
			json_free(map_item(R, c,
			    ip->act == ACT_CREATE ? c->items[k].data : ip->diff,
			    &res, &why));
			if (why) {
				name_item(b, c, &c->items[k]);
				buf_addf(b, ": %s", why);
				n++;
			}
			free(why);
		}
	}
	return n;
}

/* The creates in waves, without writing: what is left when no wave
 * makes progress refers to itself in a cycle. */
static size_t cycles(struct seed_run *R, struct buf *b)
{
	size_t i, k, left, progress, n = 0;

	do {
		progress = left = 0;
		for (i = 0; i < R->s->len; i++)
			for (k = 0; k < R->cs[i].c->nitems; k++) {
				struct item_plan *ip = &R->cs[i].ip[k];
				enum resolved res;

				if (ip->act != ACT_CREATE ||
				    !R->cs[i].c->create || ip->done)
					continue;
				json_free(map_item(R, R->cs[i].c,
				    R->cs[i].c->items[k].data, &res, NULL));
				if (res != RES_OK) {
					left++;
					continue;
				}
				ip->done = true;
				ip->local_id = xstrdup("");
				progress++;
			}
	} while (progress && left);
	for (i = 0; i < R->s->len; i++)
		for (k = 0; k < R->cs[i].c->nitems; k++) {
			struct item_plan *ip = &R->cs[i].ip[k];

			if (ip->act != ACT_CREATE)
				continue;
			if (!ip->done && R->cs[i].c->create) {
				name_item(b, R->cs[i].c, &R->cs[i].c->items[k]);
				n++;
			}
			ip->done = false;
			free(ip->local_id);
			ip->local_id = NULL;
		}
	return n;
}

/* The files to upload can be read. */
static size_t unreadable(struct seed_run *R, struct buf *b)
{
	size_t i, k, n = 0;

	for (i = 0; i < R->s->len; i++)
		for (k = 0; k < R->cs[i].c->nitems; k++) {
			const struct seed_item *it = &R->cs[i].c->items[k];

			if (it->file_path == NULL ||
			    !applies(R->cs[i].c, &R->cs[i].ip[k]) ||
			    R->cs[i].ip[k].act != ACT_CREATE ||
			    access(it->file_path, R_OK) == 0)
				continue;
			name_item(b, R->cs[i].c, it);
			buf_addf(b, ": _file_path %s: %s", it->file_path,
			    strerror(errno));
			n++;
		}
	return n;
}

/* Before any write: the files to upload, the references, the order. */
static int check_refs(struct seed_run *R, char **errstr)
{
	static const struct {
		size_t (*find)(struct seed_run *R, struct buf *b);
		const char *what;
		int rc;
	} checks[] = {
		{ unreadable, "file(s) to upload cannot be read", SYNC_EDUMP },
		{ missing_refs, "item(s) refer to items that do not exist",
		    SYNC_EGUARD },
		{ cycles,
		    "item(s) refer to each other in a cycle, which no order "
		    "of creates resolves",
		    SYNC_EGUARD },
	};
	struct buf b;
	size_t i, n;

	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		char *list;

		buf_init(&b);
		if ((n = checks[i].find(R, &b)) == 0) {
			buf_clear(&b);
			continue;
		}
		list = buf_steal(&b, NULL);
		xasprintf(errstr, "seed: %zu %s; nothing was written:%s", n,
		    checks[i].what, list);
		free(list);
		return checks[i].rc;
	}
	return 0;
}

static size_t count_deletes(const struct seed_run *R)
{
	size_t i, n = 0;

	for (i = 0; i < R->s->len; i++)
		if (R->cs[i].c->del)
			n += R->cs[i].ndel;
	return n;
}

static int check_deletes(struct seed_run *R, char **errstr)
{
	const struct sync_opts *o = R->ctx->opts;
	size_t n = count_deletes(R), i, k;
	struct buf b;

	if (o->hold_deletes) {
		R->st->held_deletes = n;
		return 0;
	}
	if (o->max_deletes < 0 || n <= (size_t)o->max_deletes)
		return 0;
	buf_init(&b);
	buf_addf(&b,
	    "the seed push would delete %zu item(s), more than "
	    "--max-deletes %ld; nothing was written. It would delete:",
	    n, o->max_deletes);
	for (i = 0; i < R->s->len; i++)
		for (k = 0; R->cs[i].c->del && k < R->cs[i].ndel; k++) {
			const char *label = item_label(R->cs[i].del[k].item);

			buf_addf(&b, "\n  %s %s%s%s%s (id %s)",
			    R->cs[i].c->collection, R->cs[i].del[k].sync_id,
			    label ? " \"" : "", label ? label : "",
			    label ? "\"" : "", R->cs[i].del[k].local_id);
		}
	*errstr = buf_steal(&b, NULL);
	return SYNC_EGUARD;
}

/* --- the plan as JSON --- */

static struct json *change_json(const char *sid, const char *lid,
    const struct json *item, const struct seed_item *from)
{
	struct json *o = json_new_object();
	const char *label = item_label(item);

	json_set(o, "_syncId", json_new_string(sid));
	json_set(o, "name", label ? json_new_string(label) : json_new_null());
	if (lid)
		json_set(o, "id", json_new_string(lid));
	if (from) {
		json_set(o, "file", json_new_string(from->file));
		json_set(o, "index", json_new_number((double)from->index));
	}
	return o;
}

static void items_json(const struct cstate *cs, struct json *o, size_t *n)
{
	struct json *cr = json_new_array(), *up = json_new_array();
	size_t k;

	for (k = 0; k < cs->c->nitems; k++) {
		const struct seed_item *it = &cs->c->items[k];
		const struct item_plan *ip = &cs->ip[k];
		struct json *e;

		if (!applies(cs->c, ip))
			continue;
		e = change_json(it->sync_id, ip->local_id, it->data, it);
		if (ip->act == ACT_UPDATE) {
			json_set(e, "changes", json_copy(ip->diff));
			json_array_append(up, e);
		} else {
			if (ip->act == ACT_ADOPT)
				json_set(e, "adopt", json_new_bool(true));
			if (ip->diff)
				json_set(e, "changes", json_copy(ip->diff));
			json_set(e, "item", json_copy(it->data));
			json_array_append(cr, e);
		}
		(*n)++;
	}
	json_set(o, "create", cr);
	json_set(o, "update", up);
}

static struct json *not_applied(const struct cstate *cs)
{
	struct json *o = json_new_object();
	size_t k, ncr = 0, nup = 0;

	for (k = 0; k < cs->c->nitems; k++) {
		ncr += cs->ip[k].act == ACT_CREATE && !cs->c->create;
		nup += cs->ip[k].act == ACT_UPDATE && !cs->c->update;
	}
	json_set(o, "create", json_new_number((double)ncr));
	json_set(o, "update", json_new_number((double)nup));
	json_set(o, "delete",
	    json_new_number(cs->c->del ? 0 : (double)cs->ndel));
	return o;
}

static struct json *coll_json(const struct seed_run *R, const struct cstate *cs,
    size_t *n)
{
	struct json *o = json_new_object(), *a = json_new_array();
	size_t k;

	json_set(o, "table", json_new_string(cs->c->table));
	items_json(cs, o, n);
	for (k = 0; cs->c->del && k < cs->ndel; k++)
		json_array_append(a,
		    change_json(cs->del[k].sync_id, cs->del[k].local_id,
			cs->del[k].item, NULL));
	*n += a->u.arr.len;
	json_set(o, "delete", a);
	json_set(o, "unchanged", json_new_number((double)cs->unchanged));
	a = json_new_array();
	for (k = 0; k < cs->ndangling; k++)
		json_array_append(a, json_new_string(cs->dangling[k]));
	json_set(o, "dangling", a);
	json_set(o, "not_applied", not_applied(cs));
	(void)R;
	return o;
}

static struct json *plan_json(const struct seed_run *R)
{
	struct json *root = json_new_object(), *colls = json_new_object();
	size_t i, n = 0;

	json_set(root, "seed", json_new_bool(true));
	for (i = 0; i < R->s->len; i++)
		json_set(colls, R->cs[i].c->collection,
		    coll_json(R, &R->cs[i], &n));
	json_set(root, "collections", colls);
	json_set(root, "changes", json_new_number((double)n));
	return root;
}

/* --- the writes --- */

static void log_count(struct seed_run *R, const char *coll, const char *what,
    size_t n)
{
	sync_logf(R->ctx, n ? SYNC_INFO : SYNC_DEBUG, "[%s] %s %zu items", coll,
	    what, n);
}

static int clean_dangling(struct seed_run *R, char **errstr)
{
	size_t i;
	int rc;

	for (i = 0; i < R->s->len; i++) {
		struct cstate *cs = &R->cs[i];

		if (cs->ndangling &&
		    (rc = idmap_remove(R->map, cs->c->table,
			 (const char *const *)cs->dangling, cs->ndangling,
			 errstr)) < 0)
			return rc;
		sync_logf(R->ctx, cs->ndangling ? SYNC_INFO : SYNC_DEBUG,
		    "[%s] Removed %zu dangling items", cs->c->collection,
		    cs->ndangling);
	}
	return 0;
}

/* Items that hold their SyncID as id already: tracked, not created. */
static int adopt(struct seed_run *R, char **errstr)
{
	size_t i, k;
	int rc;

	for (i = 0; i < R->s->len; i++) {
		struct cstate *cs = &R->cs[i];

		for (k = 0; cs->c->create && k < cs->c->nitems; k++) {
			struct idmap_new row;

			if (cs->ip[k].act != ACT_ADOPT)
				continue;
			sync_logf(R->ctx, SYNC_WARN,
			    "[%s] Item %s already exists but id map was "
			    "missing. Will recreate id map.",
			    cs->c->collection, cs->c->items[k].sync_id);
			row.local_id = cs->ip[k].local_id;
			row.sync_id = cs->c->items[k].sync_id;
			if ((rc = idmap_create(R->map, cs->c->table, &row, 1,
				 errstr)) < 0)
				return rc;
			cs->ip[k].done = true;
		}
	}
	return 0;
}

static char *item_path(const struct seed_coll *c, const char *lid)
{
	char ep[512], *esc = dx_escape(lid), *p;

	xasprintf(&p, "%s/%s", endpoint_of(c, ep, sizeof(ep)), esc);
	free(esc);
	return p;
}

/* Why a write of one item failed: the item, then the request. */
static void write_failed(char **errstr, const struct seed_coll *c,
    const struct seed_item *it, const char *verb, const char *why)
{
	xasprintf(errstr, "seed: %s %s data[%zu] (%s, _sync_id \"%s\"): %s",
	    verb, it->file, it->index, c->collection, it->sync_id, why);
}

/* A file's upload: the multipart fields and the strings they point to. */
struct upload {
	struct http_part *parts;
	size_t nparts;
	char **strs;
	size_t nstrs;
};

/* The requests of one wave of creates; a request creates one item, or a
 * batch of one collection's items whose ids are known beforehand (refs
 * [first[i], first[i] + count[i])). */
struct wave {
	struct dx_call *calls;
	struct ref *who; /* a request's first item */
	struct upload *up;
	size_t *first, *count;
	size_t n;
	struct ref *refs;
	size_t nrefs;
	bool open; /* the last request is a batch that may grow */
};

#define SEED_BATCH 100 /* items per batched create */

static void wave_add(struct wave *w, size_t ci, size_t ii, const char *method,
    char *path, struct json *body)
{
	w->calls = xreallocarray(w->calls, w->n + 1, sizeof(*w->calls));
	w->who = xreallocarray(w->who, w->n + 1, sizeof(*w->who));
	w->up = xreallocarray(w->up, w->n + 1, sizeof(*w->up));
	w->first = xreallocarray(w->first, w->n + 1, sizeof(size_t));
	w->count = xreallocarray(w->count, w->n + 1, sizeof(size_t));
	w->refs = xreallocarray(w->refs, w->nrefs + 1, sizeof(*w->refs));
	memset(&w->up[w->n], 0, sizeof(*w->up));
	dx_call_init(&w->calls[w->n], method, path, body, 0);
	w->who[w->n].ci = ci;
	w->who[w->n].ii = ii;
	w->first[w->n] = w->nrefs;
	w->count[w->n] = 1;
	w->refs[w->nrefs].ci = ci;
	w->refs[w->nrefs++].ii = ii;
	w->n++;
	w->open = false;
}

/* One item into the open batch of its collection, or a new batch. */
static void wave_batch(struct wave *w, size_t ci, size_t ii, char *path,
    struct json *item)
{
	size_t c = w->n - 1;

	if (!w->open || w->who[c].ci != ci || w->count[c] >= SEED_BATCH) {
		struct json *arr = json_new_array();

		json_array_append(arr, item);
		wave_add(w, ci, ii, "POST", path, arr);
		w->open = true;
		return;
	}
	free(path);
	json_array_append(w->calls[c].body, item);
	w->refs = xreallocarray(w->refs, w->nrefs + 1, sizeof(*w->refs));
	w->refs[w->nrefs].ci = ci;
	w->refs[w->nrefs++].ii = ii;
	w->count[c]++;
}

static void wave_clear(struct wave *w)
{
	size_t i, k;

	for (i = 0; i < w->n; i++) {
		dx_call_clear(&w->calls[i]);
		for (k = 0; k < w->up[i].nstrs; k++)
			free(w->up[i].strs[k]);
		free(w->up[i].strs);
		free(w->up[i].parts);
	}
	free(w->calls);
	free(w->who);
	free(w->up);
	free(w->first);
	free(w->count);
	free(w->refs);
	memset(w, 0, sizeof(*w));
}

static const char *up_str(struct upload *u, char *s)
{
	u->strs = xreallocarray(u->strs, u->nstrs + 1, sizeof(char *));
	u->strs[u->nstrs++] = s;
	return s;
}

/* The media type of a file by its name, for the ones seeds hold most;
 * a seed's "type" comes first. */
static const char *media_type(const char *path)
{
	static const char *const types[][2] = { { "png", "image/png" },
		{ "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
		{ "gif", "image/gif" }, { "webp", "image/webp" },
		{ "svg", "image/svg+xml" }, { "avif", "image/avif" },
		{ "ico", "image/vnd.microsoft.icon" },
		{ "pdf", "application/pdf" }, { "json", "application/json" },
		{ "txt", "text/plain" }, { "csv", "text/csv" },
		{ "md", "text/markdown" }, { "html", "text/html" },
		{ "css", "text/css" }, { "mp4", "video/mp4" },
		{ "webm", "video/webm" }, { "mp3", "audio/mpeg" },
		{ "zip", "application/zip" } };
	const char *dot = strrchr(path, '.');
	size_t i;

	for (i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(dot + 1, types[i][0]) == 0)
			return types[i][1];
	return "application/octet-stream";
}

/* directus_files: the item's fields as form fields (strings as they are,
 * objects and arrays as JSON, null as empty), then the file, as the
 * reference uploads it. The file is named by its own name. */
static void upload_parts(struct upload *u, const struct json *body,
    const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *type = json_get_str(body, "type");
	size_t i;

	u->parts = xcalloc(body->u.obj.len + 2, sizeof(*u->parts));
	for (i = 0; i < body->u.obj.len; i++) {
		const struct json *v = body->u.obj.members[i].val;
		char *text;

		if (v->type == JSON_STRING)
			text = xstrdup(v->u.str.ptr);
		else if (v->type == JSON_NULL)
			text = xstrdup("");
		else if (v->type == JSON_TRUE || v->type == JSON_FALSE)
			text = xstrdup(v->type == JSON_TRUE ? "true" : "false");
		else if (v->type == JSON_NUMBER)
			text = json_scalar_string(v);
		else
			text = json_write(v, false, NULL);
		u->parts[u->nparts].name = up_str(u,
		    xstrdup(body->u.obj.members[i].key));
		u->parts[u->nparts++].value = up_str(u, text);
	}
	u->parts[u->nparts].name = "file";
	u->parts[u->nparts].file = up_str(u, xstrdup(path));
	u->parts[u->nparts].filename = up_str(u,
	    xstrdup(slash ? slash + 1 : path));
	u->parts[u->nparts++].type = up_str(u,
	    xstrdup(type ? type : media_type(path)));
}

/* The creates whose references all resolve now. */
static void ready_creates(struct seed_run *R, struct wave *w, size_t *left)
{
	char ep[512];
	size_t i, k;

	*left = 0;
	for (i = 0; i < R->s->len; i++) {
		struct cstate *cs = &R->cs[i];

		for (k = 0; cs->c->create && k < cs->c->nitems; k++) {
			struct json *body;
			enum resolved res;

			if (cs->ip[k].act != ACT_CREATE || cs->ip[k].done)
				continue;
			body = map_item(R, cs->c, cs->c->items[k].data, &res,
			    NULL);
			if (body == NULL) {
				(*left)++;
				continue;
			}
			if (cs->c->preserve_ids)
				json_set(body, "id",
				    json_new_string(cs->c->items[k].sync_id));
			/* Known ids (preserve_ids, or a uuid of ours): in
			 * batches; an answer need not keep their order. */
			if (cs->c->items[k].file_path == NULL &&
			    !cs->ip[k].single &&
			    (cs->c->preserve_ids || cs->c->pk_uuid)) {
				free(cs->ip[k].new_id);
				cs->ip[k].new_id = cs->c->preserve_ids ?
				    xstrdup(cs->c->items[k].sync_id) :
				    uuid_v4();
				json_set(body, cs->c->pk,
				    json_new_string(cs->ip[k].new_id));
				wave_batch(w, i, k,
				    xstrdup(endpoint_of(cs->c, ep, sizeof(ep))),
				    body);
				continue;
			}
			if (cs->ip[k].new_id) /* its batch failed */
				json_set(body, cs->c->pk,
				    json_new_string(cs->ip[k].new_id));
			if (cs->c->items[k].file_path == NULL) {
				wave_add(w, i, k, "POST",
				    xstrdup(endpoint_of(cs->c, ep, sizeof(ep))),
				    body);
				continue;
			}
			wave_add(w, i, k, "POST", xstrdup("/files"), NULL);
			upload_parts(&w->up[w->n - 1], body,
			    cs->c->items[k].file_path);
			w->calls[w->n - 1].parts = w->up[w->n - 1].parts;
			w->calls[w->n - 1].nparts = w->up[w->n - 1].nparts;
			json_free(body);
		}
	}
}

/* The map rows of a wave's creates, one batch per collection. */
static int wave_rows(struct seed_run *R, struct wave *w, char **errstr)
{
	struct idmap_new *rows = xcalloc(w->nrefs + 1, sizeof(*rows));
	size_t i, k, n;
	int rc = 0;

	for (i = 0; i < R->s->len && rc == 0; i++) {
		struct cstate *cs = &R->cs[i];

		for (k = n = 0; k < w->nrefs; k++) {
			struct item_plan *ip = &cs->ip[w->refs[k].ii];

			if (w->refs[k].ci != i || !ip->done)
				continue;
			rows[n].local_id = ip->local_id;
			rows[n++].sync_id = cs->c->items[w->refs[k].ii].sync_id;
		}
		if (n)
			rc = idmap_create(R->map, cs->c->table, rows, n,
			    errstr);
	}
	free(rows);
	return rc;
}

/* The answers of a wave: new ids, and their map rows (also when some
 * create failed: what was created is tracked). */
/* A batch's answer: the items whose ids it holds are created; the others
 * (all of them when it failed) are created one by one in the next wave,
 * with the same ids, so that the item that fails is named. */
static void batch_done(struct seed_run *R, struct wave *w, size_t i)
{
	struct cstate *cs = &R->cs[w->who[i].ci];
	const struct json *data = w->calls[i].error ?
	    NULL :
	    dx_data(w->calls[i].result);
	struct strmap *got = strmap_new();
	size_t k;

	for (k = 0; data && data->type == JSON_ARRAY && k < data->u.arr.len;
	     k++) {
		char *id = json_scalar_string(
		    json_get(data->u.arr.items[k], cs->c->pk));

		if (id)
			strmap_put(got, id, (void *)1);
		free(id);
	}
	for (k = w->first[i]; k < w->first[i] + w->count[i]; k++) {
		struct item_plan *ip = &cs->ip[w->refs[k].ii];

		if (strmap_get(got, ip->new_id)) {
			ip->local_id = xstrdup(ip->new_id);
			ip->done = true;
			R->st->created++;
		} else
			ip->single = true;
	}
	if (w->calls[i].error)
		sync_logf(R->ctx, SYNC_DEBUG,
		    "[%s] a batch of %zu creates failed (%s): one by one now",
		    cs->c->collection, w->count[i], w->calls[i].error);
	strmap_free(got);
}

static int created(struct seed_run *R, struct wave *w, char **errstr)
{
	char *rerr = NULL;
	size_t i;
	int rc = 0, rrc;

	for (i = 0; i < w->n; i++) {
		struct cstate *cs = &R->cs[w->who[i].ci];
		if (w->calls[i].body && w->calls[i].body->type == JSON_ARRAY) {
			batch_done(R, w, i);
			continue;
		}
		struct item_plan *ip = &cs->ip[w->who[i].ii];
		char *id = w->calls[i].error ?
		    NULL :
		    json_scalar_string(
			json_get(dx_data(w->calls[i].result), cs->c->pk));

		if (id != NULL) {
			ip->local_id = id;
			ip->done = true;
			R->st->created++;
			/* An upload keeps fields of its own (Directus 12 sets
			 * uploaded_by to the uploader): the seed's values
			 * follow as an update. */
			if (cs->c->items[w->who[i].ii].file_path)
				ip->diff = compare(R, cs->c,
				    &cs->c->items[w->who[i].ii],
				    dx_data(w->calls[i].result));
		} else if (rc == 0) {
			write_failed(errstr, cs->c, &cs->c->items[w->who[i].ii],
			    "creating",
			    w->calls[i].error ? w->calls[i].error :
						"the answer holds no id");
			rc = w->calls[i].fail ? w->calls[i].fail : SYNC_EPROTO;
		}
	}
	rrc = wave_rows(R, w, &rerr);
	if (rc == 0 && rrc < 0) {
		*errstr = rerr;
		rerr = NULL;
		rc = rrc;
	}
	free(rerr);
	return rc;
}

static int create_all(struct seed_run *R, char **errstr)
{
	struct wave w;
	size_t left = 0, i, k;
	int rc = 0;

	memset(&w, 0, sizeof(w));
	for (;;) {
		ready_creates(R, &w, &left);
		if (w.n == 0)
			break;
		(void)dx_run(R->ctx->dx, w.calls, w.n, NULL);
		if ((rc = created(R, &w, errstr)) < 0)
			break;
		wave_clear(&w);
	}
	wave_clear(&w);
	for (i = 0; i < R->s->len && rc == 0; i++) {
		size_t n = 0;

		for (k = 0; k < R->cs[i].c->nitems; k++)
			n += R->cs[i].ip[k].act == ACT_CREATE &&
			    R->cs[i].ip[k].done;
		log_count(R, R->cs[i].c->collection, "Created", n);
	}
	/* check_refs ran the same waves: nothing can be left. */
	if (rc == 0 && left) {
		xasprintf(errstr, "seed: %zu item(s) could not be created",
		    left);
		rc = SYNC_EFAIL;
	}
	return rc;
}

/* What the update step sends: the updates, the items taken over, and
 * the uploads whose answer differs from the seed, once done. */
static bool to_patch(const struct seed_coll *c, const struct item_plan *ip)
{
	if (ip->diff == NULL)
		return false;
	if (ip->act == ACT_CREATE)
		return ip->done;
	if (ip->act == ACT_ADOPT)
		return ip->done && c->update;
	return c->update;
}

static int update_all(struct seed_run *R, char **errstr)
{
	struct wave w;
	size_t i, k;
	int rc = 0;

	memset(&w, 0, sizeof(w));
	for (i = 0; i < R->s->len; i++) {
		struct cstate *cs = &R->cs[i];

		for (k = 0; k < cs->c->nitems; k++) {
			struct json *body;
			enum resolved res;

			if (!to_patch(cs->c, &cs->ip[k]))
				continue;
			body = map_item(R, cs->c, cs->ip[k].diff, &res, NULL);
			if (body == NULL) {
				write_failed(errstr, cs->c, &cs->c->items[k],
				    "updating", "a reference does not resolve");
				wave_clear(&w);
				return SYNC_EFAIL;
			}
			wave_add(&w, i, k, "PATCH",
			    item_path(cs->c, cs->ip[k].local_id), body);
		}
	}
	(void)dx_run(R->ctx->dx, w.calls, w.n, NULL);
	for (i = 0; i < w.n; i++) {
		struct cstate *cs = &R->cs[w.who[i].ci];

		if (w.calls[i].error == NULL) {
			R->st->updated++;
			cs->ip[w.who[i].ii].patched = true;
		} else if (rc == 0) {
			write_failed(errstr, cs->c, &cs->c->items[w.who[i].ii],
			    "updating", w.calls[i].error);
			rc = w.calls[i].fail ? w.calls[i].fail : SYNC_EFAIL;
		}
	}
	wave_clear(&w);
	for (i = 0; i < R->s->len && rc == 0; i++) {
		size_t n = 0;

		for (k = 0; k < R->cs[i].c->nitems; k++)
			n += R->cs[i].ip[k].patched;
		log_count(R, R->cs[i].c->collection, "Updated", n);
	}
	return rc;
}

/* One collection's deletes; its map rows go with its items. */
static int delete_coll(struct seed_run *R, struct cstate *cs, char **errstr)
{
	struct dx_call *calls = xcalloc(cs->ndel + 1, sizeof(*calls));
	const char **gone = xcalloc(cs->ndel + 1, sizeof(char *));
	size_t k, n = 0;
	int rc = 0, rrc;

	for (k = 0; k < cs->ndel; k++)
		dx_call_init(&calls[k], "DELETE",
		    item_path(cs->c, cs->del[k].local_id), NULL, 0);
	(void)dx_run(R->ctx->dx, calls, cs->ndel, NULL);
	for (k = 0; k < cs->ndel; k++) {
		if (calls[k].error == NULL) {
			gone[n++] = cs->del[k].sync_id;
			continue;
		}
		if (rc == 0) {
			xasprintf(errstr, "seed: deleting %s %s (id %s): %s",
			    cs->c->collection, cs->del[k].sync_id,
			    cs->del[k].local_id, calls[k].error);
			rc = calls[k].fail ? calls[k].fail : SYNC_EFAIL;
		}
	}
	rrc = n ? idmap_remove(R->map, cs->c->table, gone, n,
		      rc == 0 ? errstr : NULL) :
		  0;
	if (rc == 0)
		rc = rrc;
	R->st->deleted += n;
	log_count(R, cs->c->collection, "Deleted", n);
	for (k = 0; k < cs->ndel; k++)
		dx_call_clear(&calls[k]);
	free(calls);
	free(gone);
	return rc;
}

/* Deletes last, the seeds in reverse order: what refers to an item goes
 * before it. */
static int delete_all(struct seed_run *R, char **errstr)
{
	size_t i;
	int rc;

	if (R->ctx->opts->hold_deletes)
		return 0;
	for (i = R->s->len; i-- > 0;)
		if (R->cs[i].c->del && R->cs[i].ndel &&
		    (rc = delete_coll(R, &R->cs[i], errstr)) < 0)
			return rc;
	return 0;
}

/* --- the entry points --- */

/* The reads (a push clears Directus' cache first, so that it sees what
 * the database holds; a diff writes nothing at all). */
static int prepare(struct seed_run *R, bool push, char **errstr)
{
	size_t i;
	int rc;

	R->cs = xcalloc(R->s->len + 1, sizeof(*R->cs));
	for (i = 0; i < R->s->len; i++) {
		R->cs[i].c = &R->s->v[i];
		R->cs[i].ip = xcalloc(R->s->v[i].nitems + 1,
		    sizeof(struct item_plan));
	}
	if ((rc = sync_check_instance(R->ctx, R->st, errstr)) < 0 ||
	    (push &&
		(rc = dx_request(R->ctx->dx, "POST", "/utils/cache/clear", NULL,
		     NULL, errstr)) < 0))
		return rc;
	if (R->s->len == 0) {
		sync_logf(R->ctx, SYNC_WARN, "No seeds found");
		return 0;
	}
	if ((rc = read_schema(R, errstr)) < 0 ||
	    (rc = load_maps(R, errstr)) < 0 || (rc = read_items(R, errstr)) < 0)
		return rc;
	plan_colls(R);
	return 0;
}

static void run_free(struct seed_run *R)
{
	size_t i, k;

	for (i = 0; R->cs && i < R->s->len; i++) {
		struct cstate *cs = &R->cs[i];

		for (k = 0; k < cs->c->nitems; k++) {
			free(cs->ip[k].local_id);
			free(cs->ip[k].new_id);
			json_free(cs->ip[k].diff);
		}
		free(cs->ip);
		json_free(cs->target);
		strmap_free(cs->by_local);
		for (k = 0; k < cs->ndangling; k++)
			free(cs->dangling[k]);
		free(cs->dangling);
		for (k = 0; k < cs->ndel; k++) {
			free(cs->del[k].sync_id);
			free(cs->del[k].local_id);
		}
		free(cs->del);
	}
	free(R->cs);
	if (R->creating) {
		for (i = 0; i < R->s->len; i++)
			for (k = 0; k < R->s->v[i].nitems; k++) {
				char *key = key2(R->s->v[i].table,
				    R->s->v[i].items[k].sync_id);

				free(strmap_del(R->creating, key));
				free(key);
			}
		strmap_free(R->creating);
	}
	ph_clear(&R->ph);
	idmap_free(R->map);
}

/* The start of a seed diff or push: one run of the engine (no lock: the
 * seeds are not the dump tree). */
static int seed_begin(struct seed_run *R, struct sync_run *run,
    struct sync_ctx *ctx, const struct seed_set *s, struct sync_stats *st,
    char **errstr)
{
	int rc;

	memset(R, 0, sizeof(*R));
	if ((rc = sync_run_begin(run, ctx, st, 0, errstr)) < 0)
		return rc;
	R->ctx = ctx;
	R->s = s;
	R->st = run->st;
	return 0;
}

int seed_diff(struct sync_ctx *ctx, const struct seed_set *s,
    struct json **plan, struct sync_stats *st, char **errstr)
{
	struct seed_run R;
	struct sync_run run;
	int rc;

	*plan = NULL;
	if ((rc = seed_begin(&R, &run, ctx, s, st, errstr)) < 0)
		return rc;
	if ((rc = prepare(&R, false, errstr)) == 0) {
		char *why = NULL;

		/* What a push would refuse, said by the diff too. */
		if (s->len && check_refs(&R, &why) < 0)
			sync_logf(ctx, SYNC_WARN, "%s", why);
		free(why);
		*plan = plan_json(&R);
	}
	run_free(&R);
	return sync_run_end(&run, rc);
}

int seed_push(struct sync_ctx *ctx, const struct seed_set *s,
    struct sync_stats *st, char **errstr)
{
	struct seed_run R;
	struct sync_run run;
	int rc;

	if ((rc = seed_begin(&R, &run, ctx, s, st, errstr)) < 0)
		return rc;
	if ((rc = prepare(&R, true, errstr)) < 0 || s->len == 0)
		goto out;
	if ((rc = check_refs(&R, errstr)) < 0 ||
	    (rc = check_deletes(&R, errstr)) < 0 ||
	    (rc = idmap_save(R.map, errstr)) < 0 ||
	    (rc = clean_dangling(&R, errstr)) < 0 ||
	    (rc = adopt(&R, errstr)) < 0 || (rc = create_all(&R, errstr)) < 0 ||
	    (rc = update_all(&R, errstr)) < 0)
		goto out;
	rc = delete_all(&R, errstr);
	R.st->passes = 1;
out:
	run_free(&R);
	return sync_run_end(&run, rc);
}
