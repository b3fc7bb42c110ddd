/*
 * three: the three-way comparison and the base it needs. The instance's
 * side is read as a plan reads it (lists, map tables, placeholders) and
 * put in dump form; the dump's and the base's sides are files. The base
 * is written as a dump tree, all or nothing (dump.c's journal).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "buf.h"
#include "directus.h"
#include "dump.h"
#include "http.h"
#include "fsutil.h"
#include "hook.h"
#include "load.h"
#include "schema.h"
#include "strmap.h"
#include "three.h"
#include "xmalloc.h"

#define META_FILE "meta.json"

const char *three_class_name(enum three_class c)
{
	static const char *const names[] = { "in-sync", "dump-changed",
		"instance-changed", "conflict", "differs" };

	return names[c];
}

static void item_free(struct three_item *it)
{
	free(it->key);
	free(it->local_id);
	free(it->label);
	free(it->who);
	free(it->when);
	json_free(it->base);
	json_free(it->dump);
	json_free(it->inst);
}

void three_free(struct three *t)
{
	size_t i;

	for (i = 0; i < t->len; i++)
		item_free(&t->v[i]);
	free(t->v);
	free(t->version);
	memset(t, 0, sizeof(*t));
}

static struct three_item *add(struct three *t)
{
	if (t->len == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
	}
	memset(&t->v[t->len], 0, sizeof(t->v[0]));
	return &t->v[t->len++];
}

/* --- equality, as the plan sees it: keys only the instance has are not
 * a difference (no push could remove them) --- */

static bool eq_to_inst(const struct json *x, const struct json *inst)
{
	struct json *d;

	if (x == NULL || inst == NULL)
		return x == inst;
	d = plan_item_diff(x, inst);
	json_free(d);
	return d == NULL;
}

static bool eq_files(const struct json *a, const struct json *b)
{
	return eq_to_inst(a, b) && eq_to_inst(b, a);
}

/* A uuid field's data_type as one value: SQLite reports it as char or
 * varchar, depending on how it was made (see plan.c). */
static struct json *unit_norm(const struct json *u)
{
	struct json *c, *sch;
	const char *t, *dt;
	const struct json *len;

	if (u == NULL)
		return NULL;
	c = json_copy(u);
	sch = json_get(c, "schema");
	t = json_str(json_get(c, "type"));
	dt = json_str(json_get(sch, "data_type"));
	len = json_get(sch, "max_length");
	if (dt && (strcmp(dt, "char") == 0 || strcmp(dt, "varchar") == 0) &&
	    ((t && strcmp(t, "uuid") == 0) ||
		(len && len->type == JSON_NUMBER && len->u.num == 36)))
		json_set(sch, "data_type", json_new_string("char"));
	return c;
}

static bool eq_units(const struct json *a, const struct json *b)
{
	struct json *x, *y;
	bool eq;

	if (a == NULL || b == NULL)
		return a == b;
	x = unit_norm(a);
	y = unit_norm(b);
	eq = json_equal(x, y);
	json_free(x);
	json_free(y);
	return eq;
}

/* --- the tree's files --- */

/* The file of collection r, relative to the dump's root. */
static char *coll_rel(const struct sync_ctx *ctx, const struct coll_rule *r)
{
	char *dir = dump_norm_rel(ctx->opts->collections_path), *name, *rel;

	xasprintf(&name, "%s.json", r->name);
	rel = dir[0] ? fs_join(dir, name) : xstrdup(name);
	free(name);
	free(dir);
	return rel;
}

static char *unit_rel(const struct sync_ctx *ctx, const char *key)
{
	char *dir = dump_norm_rel(ctx->opts->snapshot_path);
	char *rel = dir[0] ? fs_join(dir, key) : xstrdup(key);

	free(dir);
	return rel;
}

/* Unit rel's file as it is now in the tree under root, against what the
 * comparison read (dump): whether it changed since. */
static bool unit_stale(const char *root, const char *rel,
    const struct json *dump)
{
	char *path = fs_join(root, rel), *data;
	struct json *cur;
	size_t len;
	bool same;
	int e;

	if ((e = fs_read_file(path, &data, &len)) == 0) {
		cur = json_parse(data, len, NULL);
		free(data);
		same = cur && eq_units(cur, dump);
		json_free(cur);
	} else
		same = e == -ENOENT && dump == NULL;
	free(path);
	return !same;
}

/* The item of arr with SyncID key, or NULL; *at gets its index. */
static struct json *find_item(const struct json *arr, const char *key,
    size_t *at)
{
	size_t k;

	for (k = 0; arr && k < arr->u.arr.len; k++) {
		const char *sid = json_str(
		    json_get(arr->u.arr.items[k], "_syncId"));

		if (sid && strcmp(sid, key) == 0) {
			if (at)
				*at = k;
			return arr->u.arr.items[k];
		}
	}
	return NULL;
}

/* Whether collection r's items are compared without their "roles": a
 * policy's, under --no-sync-policy-roles. */
static bool roles_left_out(const struct sync_ctx *ctx,
    const struct coll_rule *r)
{
	return strcmp(r->name, "policies") == 0 &&
	    !ctx->opts->sync_policy_roles;
}

/* Whether the tree's item cur differs from what the comparison read
 * (dump): compared as the comparison compared (strip_roles). */
static bool item_stale(const struct sync_ctx *ctx, const struct coll_rule *r,
    const struct json *cur, const struct json *dump)
{
	struct json *one;
	bool stale;

	if (cur == NULL || !roles_left_out(ctx, r))
		return !eq_files(cur, dump);
	one = json_copy(cur);
	json_del(one, "roles");
	stale = !eq_files(one, dump);
	json_free(one);
	return stale;
}

static enum three_class classify(bool have_base, bool di, bool db, bool ib)
{
	if (di)
		return THREE_IN_SYNC;
	if (!have_base)
		return THREE_DIFFERS;
	if (!db && ib)
		return THREE_DUMP_CHANGED;
	if (db && !ib)
		return THREE_INSTANCE_CHANGED;
	return db ? THREE_DUMP_CHANGED : THREE_CONFLICT;
}

/* --- the base's files --- */

/* A base collection file: a missing one holds nothing. */
static int load_base(const struct sync_ctx *ctx, const char *base_root,
    const struct coll_rule *r, struct json **items, char **errstr)
{
	char *dir = fs_join(base_root, ctx->opts->collections_path), *name;
	char *path;
	struct stat st;
	int rc = 0;

	xasprintf(&name, "%s.json", r->name);
	path = fs_join(dir, name);
	if (stat(path, &st) < 0)
		*items = json_new_array();
	else
		rc = load_collection_raw(ctx, base_root, r, items, errstr);
	free(path);
	free(name);
	free(dir);
	return rc;
}

/* Whether base_root holds a base of this instance and dump tree (named
 * by its real path). */
static bool base_usable(const struct sync_ctx *ctx, const char *base_root)
{
	char *path, *data, dump_root[PATH_MAX];
	struct json *meta;
	size_t len;
	bool ok;

	if (base_root == NULL)
		return false;
	if (realpath(ctx->opts->dump_path, dump_root) == NULL)
		snprintf(dump_root, sizeof(dump_root), "%s",
		    ctx->opts->dump_path);
	path = fs_join(base_root, META_FILE);
	if (fs_read_file(path, &data, &len) < 0) {
		free(path);
		return false;
	}
	meta = json_parse(data, len, NULL);
	free(data);
	ok = meta && json_str(json_get(meta, "url")) &&
	    json_str(json_get(meta, "dump_path")) &&
	    strcmp(json_str(json_get(meta, "url")), ctx->opts->url) == 0 &&
	    strcmp(json_str(json_get(meta, "dump_path")), dump_root) == 0;
	if (!ok)
		sync_logf(ctx, SYNC_WARN,
		    "%s: a base of another instance or "
		    "dump tree (or unreadable): not used",
		    path);
	json_free(meta);
	free(path);
	return ok;
}

/* --- the items --- */

struct side {
	struct strmap *by_sid; /* SyncID -> struct json * */
	struct json *arr;
};

static void side_of(struct side *s, struct json *arr)
{
	size_t i;

	s->arr = arr;
	s->by_sid = strmap_new();
	for (i = 0; arr && i < arr->u.arr.len; i++) {
		const char *sid = json_str(
		    json_get(arr->u.arr.items[i], "_syncId"));

		if (sid)
			strmap_put(s->by_sid, sid, arr->u.arr.items[i]);
	}
}

static void side_clear(struct side *s)
{
	strmap_free(s->by_sid);
	json_free(s->arr);
}

static void put_item(struct three *t, const struct coll_rule *r,
    const char *key, const char *lid, const struct json *b,
    const struct json *d, const struct json *i)
{
	struct three_item *it = add(t);
	const struct json *any = d ? d : i ? i : b;

	it->rule = r;
	it->key = key ? xstrdup(key) : NULL;
	it->local_id = lid ? xstrdup(lid) : NULL;
	it->label = any ? plan_label(r, any) : NULL;
	it->base = b ? json_copy(b) : NULL;
	it->dump = d ? json_copy(d) : NULL;
	it->inst = i ? json_copy(i) : NULL;
	it->cls = classify(t->have_base, eq_to_inst(d, i), eq_files(d, b),
	    eq_to_inst(b, i));
	t->counts[it->cls]++;
}

/* The instance's items of collection ci in dump form, keyed by SyncID;
 * those without a map row (and no placeholder) in *untracked. */
static int inst_side(struct sync_ctx *ctx, struct plan *p, size_t ci,
    struct side *s, struct json *untracked, char **errstr)
{
	const struct coll_rule *r = &coll_rules[ci];
	const struct json *tg = p->c[ci].target;
	struct json *arr = json_new_array();
	size_t k;
	int rc;

	for (k = 0; tg && k < tg->u.arr.len; k++) {
		const struct json *raw = tg->u.arr.items[k];
		char *lid = json_scalar_string(json_get(raw, "id"));
		const struct idmap_row *row = lid ?
		    idmap_by_local(p->map, r->name, lid) :
		    NULL;
		const char *sid = row ? row->sync_id : NULL;
		struct json *f;

		if (lid && sid == NULL &&
		    (strcmp(r->name, "roles") == 0 ||
			strcmp(r->name, "policies") == 0 || r->singleton)) {
			if ((rc = ph_fetch(ctx->dx, &p->ph, errstr)) < 0) {
				free(lid);
				json_free(arr);
				return rc;
			}
			sid = ph_sync_id(&p->ph, r->name, lid);
		}
		if (lid == NULL) {
			free(lid);
			continue; /* synthetic rows, not items */
		}
		if ((rc = plan_instance_form(p, ctx->opts, r, raw,
			 sid ? sid : "", &f, errstr)) < 0) {
			free(lid);
			json_free(arr);
			return rc;
		}
		if (sid == NULL) {
			json_set(f, "id", json_new_string(lid));
			json_array_append(untracked, f);
		} else
			json_array_append(arr, f);
		free(lid);
	}
	side_of(s, arr);
	return 0;
}

static void strip_roles(const struct sync_ctx *ctx, const struct coll_rule *r,
    struct json *arr)
{
	size_t k;

	if (!roles_left_out(ctx, r))
		return;
	for (k = 0; arr && k < arr->u.arr.len; k++)
		json_del(arr->u.arr.items[k], "roles");
}

/* Every SyncID of the three sides of collection ci, in the dump's order,
 * then the instance's, then the base's. */
static int compare_coll(struct sync_ctx *ctx, struct plan *p, size_t ci,
    const char *root, const char *base_root, struct three *t, char **errstr)
{
	const struct coll_rule *r = &coll_rules[ci];
	struct side ds = { 0 }, is = { 0 }, bs = { 0 };
	struct json *darr = NULL, *barr = NULL, *untracked = json_new_array();
	struct strmap *seen = strmap_new();
	struct side *sides[3] = { &ds, &is, &bs };
	size_t s, k;
	int rc;

	if ((rc = load_collection(ctx, root, r, &darr, errstr)) < 0)
		goto out;
	if (t->have_base &&
	    (rc = load_base(ctx, base_root, r, &barr, errstr)) < 0)
		goto out;
	strip_roles(ctx, r, darr);
	strip_roles(ctx, r, barr);
	side_of(&ds, darr);
	side_of(&bs, barr ? barr : json_new_array());
	darr = barr = NULL;
	if ((rc = inst_side(ctx, p, ci, &is, untracked, errstr)) < 0)
		goto out;
	for (s = 0; s < 3; s++)
		for (k = 0; k < sides[s]->arr->u.arr.len; k++) {
			const char *sid = json_str(
			    json_get(sides[s]->arr->u.arr.items[k], "_syncId"));
			const struct idmap_row *row;

			if (sid == NULL || strmap_get(seen, sid))
				continue;
			strmap_put(seen, sid, (void *)1);
			row = idmap_by_sync(p->map, r->name, sid);
			put_item(t, r, sid, row ? row->local_id : NULL,
			    strmap_get(bs.by_sid, sid),
			    strmap_get(ds.by_sid, sid),
			    strmap_get(is.by_sid, sid));
		}
	for (k = 0; k < untracked->u.arr.len; k++) {
		struct json *u = untracked->u.arr.items[k];

		put_item(t, r, NULL, json_str(json_get(u, "id")), NULL, NULL,
		    u);
	}
	rc = 0;
out:
	json_free(darr);
	json_free(barr);
	json_free(untracked);
	strmap_free(seen);
	side_clear(&ds);
	side_clear(&is);
	side_clear(&bs);
	return rc;
}

/* --- the schema units --- */

/* Files of a split snapshot: path (under snapshot/) -> content. */
struct units {
	struct strmap *m;
	struct json *names;   /* the paths, in the order found */
	struct strmap *by_id; /* three_unit_key() -> path (borrowed) */
};

/* A split names clashing names with suffixes in the order it meets them,
 * so that the same field may have another file name on the instance's
 * side: units are matched by what they hold. */
char *three_unit_key(const char *rel, const struct json *v)
{
	const char *slash = strchr(rel, '/');
	const char *c = json_str(json_get(v, "collection"));
	char *kind, *id;

	if (slash == NULL || c == NULL)
		return xstrdup(rel);
	kind = xstrndup(rel, (size_t)(slash - rel));
	id = plan_unit_key(kind, c, json_str(json_get(v, "field")));
	free(kind);
	return id;
}

static void units_init(struct units *u)
{
	u->m = strmap_new();
	u->names = json_new_array();
	u->by_id = strmap_new();
}

static const struct json *unit_by_id(const struct units *u, const char *id,
    const char **rel)
{
	const char *r = strmap_get(u->by_id, id);

	if (rel && r)
		*rel = r;
	return r ? strmap_get(u->m, r) : NULL;
}

static void units_put(struct units *u, const char *rel, struct json *v)
{
	struct json *old = strmap_get(u->m, rel);

	if (old)
		json_free(old);
	else
		json_array_append(u->names, json_new_string(rel));
	strmap_put(u->m, rel, v);
}

static void units_clear(struct units *u)
{
	size_t i;

	for (i = 0; u->names && i < u->names->u.arr.len; i++)
		json_free(strmap_get(u->m, json_str(u->names->u.arr.items[i])));
	strmap_free(u->m);
	strmap_free(u->by_id);
	json_free(u->names);
}

static int unit_cb(void *arg, const char *rel, const struct json *content,
    char **errstr)
{
	(void)errstr;
	units_put(arg, rel, json_copy(content));
	return 0;
}

/* The .json files under dir/rel, by path relative to dir. */
static int read_units(const char *dir, const char *rel, struct units *u,
    char **errstr)
{
	char *path = rel[0] ? fs_join(dir, rel) : xstrdup(dir);
	DIR *d = opendir(path);
	struct dirent *de;
	int rc = 0;

	free(path);
	if (d == NULL)
		return 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char *r, *full, *data, *why = NULL;
		struct stat st;
		size_t len, n = strlen(de->d_name);

		if (de->d_name[0] == '.')
			continue;
		r = rel[0] ? fs_join(rel, de->d_name) : xstrdup(de->d_name);
		full = fs_join(dir, r);
		if (stat(full, &st) == 0 && S_ISDIR(st.st_mode))
			rc = read_units(dir, r, u, errstr);
		else if (n > 5 && strcmp(de->d_name + n - 5, ".json") == 0 &&
		    fs_read_file(full, &data, &len) == 0) {
			struct json *v = json_parse(data, len, &why);

			free(data);
			if (v == NULL) {
				xasprintf(errstr, "%s: %s", full, why);
				rc = SYNC_EDUMP;
			} else
				units_put(u, r, v);
			free(why);
		}
		free(full);
		free(r);
	}
	closedir(d);
	return rc;
}

/* The instance's snapshot, split as a pull splits it. */
static int inst_units(struct sync_ctx *ctx, struct units *u, char **errstr)
{
	struct json *res = NULL, *snap;
	int rc;

	if ((rc = dx_request(ctx->dx, "GET", "/schema/snapshot", NULL, &res,
		 errstr)) < 0)
		return rc;
	snap = json_take(res, "data");
	json_free(res);
	return schema_to_files(snap, ctx->opts->split, unit_cb, u, errstr);
}

static void put_unit(struct three *t, const char *rel, const struct json *b,
    const struct json *d, const struct json *i)
{
	struct three_item *it = add(t);
	size_t n = strlen(rel);

	it->key = xstrdup(rel);
	it->label = xstrndup(rel, n > 5 ? n - 5 : n);
	it->base = b ? json_copy(b) : NULL;
	it->dump = d ? json_copy(d) : NULL;
	it->inst = i ? json_copy(i) : NULL;
	it->cls = classify(t->have_base, eq_units(d, i), eq_units(d, b),
	    eq_units(b, i));
	t->counts[it->cls]++;
}

static int compare_schema(struct sync_ctx *ctx, const char *root,
    const char *base_root, struct three *t, char **errstr)
{
	struct units us[3]; /* dump, instance, base */
	char *ddir = fs_join(root, ctx->opts->snapshot_path), *bdir = NULL;
	struct strmap *seen = strmap_new();
	size_t s, k;
	int rc;

	for (s = 0; s < 3; s++)
		units_init(&us[s]);
	if ((rc = read_units(ddir, "", &us[0], errstr)) < 0 ||
	    (rc = inst_units(ctx, &us[1], errstr)) < 0)
		goto out;
	if (t->have_base) {
		bdir = fs_join(base_root, ctx->opts->snapshot_path);
		if ((rc = read_units(bdir, "", &us[2], errstr)) < 0)
			goto out;
	}
	for (s = 0; s < 3; s++)
		for (k = 0; k < us[s].names->u.arr.len; k++) {
			const char *rel = json_str(us[s].names->u.arr.items[k]);
			char *id = three_unit_key(rel,
			    strmap_get(us[s].m, rel));

			strmap_put(us[s].by_id, id, (void *)rel);
			free(id);
		}
	for (s = 0; s < 3; s++)
		for (k = 0; k < us[s].names->u.arr.len; k++) {
			const char *rel = json_str(us[s].names->u.arr.items[k]);
			char *id = three_unit_key(rel,
			    strmap_get(us[s].m, rel));
			const char *path = NULL;
			const struct json *b, *d, *i;

			if (strmap_get(seen, id)) {
				free(id);
				continue;
			}
			strmap_put(seen, id, (void *)1);
			/* The tree's name first: it is the file to write. */
			b = unit_by_id(&us[2], id, &path);
			i = unit_by_id(&us[1], id, &path);
			d = unit_by_id(&us[0], id, &path);
			put_unit(t, path ? path : rel, b, d, i);
			free(id);
		}
	rc = 0;
out:
	for (s = 0; s < 3; s++)
		units_clear(&us[s]);
	strmap_free(seen);
	free(ddir);
	free(bdir);
	return rc;
}

/* --- the run --- */

int sync_three(struct sync_ctx *ctx, const char *base_root,
    const struct plan_req *req, struct three *t, char **errstr)
{
	struct sync_run run;
	struct plan_req def, colls;
	struct plan p;
	const char *root;
	size_t i;
	int rc;

	memset(t, 0, sizeof(*t));
	memset(&p, 0, sizeof(p));
	if (req == NULL) {
		plan_req_from_opts(ctx->opts, &def);
		req = &def;
	}
	if ((rc = sync_run_begin(&run, ctx, NULL, req->dump_root ? 0 : RUN_LOCK,
		 errstr)) < 0)
		return rc;
	root = req->dump_root ? req->dump_root : run.root;
	t->have_base = base_usable(ctx, base_root);
	t->collections = req->collections;
	t->schema = req->schema;
	/* The lists and map tables as a plan reads them; the schema on its
	 * own, as a snapshot. */
	colls = *req;
	colls.schema = false;
	if ((rc = sync_check_instance(ctx, run.st, errstr)) < 0 ||
	    (rc = plan_build(ctx, run.root, &colls, &p, errstr)) < 0)
		goto out;
	t->version = run.st->directus_version[0] ?
	    xstrdup(run.st->directus_version) :
	    NULL;
	for (i = 0; i < COLL_COUNT; i++)
		if ((req->collections & coll_bit(&coll_rules[i])) &&
		    (rc = compare_coll(ctx, &p, i, root, base_root, t,
			 errstr)) < 0)
			goto out;
	if (req->schema)
		rc = compare_schema(ctx, root, base_root, t, errstr);
out:
	plan_free(&p);
	return sync_run_end(&run, rc);
}

/* --- output --- */

struct json *three_json(const struct three *t, bool with_values)
{
	struct json *o = json_new_object(), *counts = json_new_object();
	struct json *diffs = json_new_array();
	size_t i;

	json_set(o, "base", json_new_bool(t->have_base));
	for (i = 0; i < 5; i++)
		json_set(counts, three_class_name((enum three_class)i),
		    json_new_number((double)t->counts[i]));
	json_set(o, "counts", counts);
	for (i = 0; i < t->len; i++) {
		const struct three_item *it = &t->v[i];
		struct json *e;

		if (it->cls == THREE_IN_SYNC)
			continue;
		e = json_new_object();
		if (it->rule)
			json_set(e, "collection",
			    json_new_string(it->rule->name));
		else
			json_set(e, "unit", json_new_string(it->key));
		json_set(e, "_syncId",
		    it->rule && it->key ? json_new_string(it->key) :
					  json_new_null());
		json_set(e, "id",
		    it->local_id ? json_new_string(it->local_id) :
				   json_new_null());
		json_set(e, "name",
		    it->label ? json_new_string(it->label) : json_new_null());
		json_set(e, "class",
		    json_new_string(three_class_name(it->cls)));
		if (it->who)
			json_set(e, "by", json_new_string(it->who));
		if (it->when)
			json_set(e, "at", json_new_string(it->when));
		if (with_values) {
			json_set(e, "dump",
			    it->dump ? json_copy(it->dump) : json_new_null());
			json_set(e, "instance",
			    it->inst ? json_copy(it->inst) : json_new_null());
			json_set(e, "base",
			    it->base ? json_copy(it->base) : json_new_null());
		}
		json_array_append(diffs, e);
	}
	json_set(o, "differences", diffs);
	return o;
}

/* --- the base --- */

static const struct json *base_value(const struct three_item *it,
    enum three_base what)
{
	switch (what) {
	case THREE_BASE_DUMP:
		return it->dump;
	case THREE_BASE_INSTANCE:
		return it->key ? it->inst : NULL;
	default:
		return it->cls == THREE_IN_SYNC ? it->dump : it->base;
	}
}

static int write_file(struct dump_stage *s, const char *rel, struct json *v,
    bool sort, char **errstr)
{
	size_t len;
	char *text = pull_format(v, sort, &len);
	int rc = dump_stage_write(s, rel, text, len, errstr);

	free(text);
	return rc;
}

static int base_collection(const struct sync_ctx *ctx, const struct three *t,
    size_t ci, enum three_base what, struct dump_stage *s, char **errstr)
{
	const struct coll_rule *r = &coll_rules[ci];
	char *rel = coll_rel(ctx, r);
	struct json *arr = json_new_array();
	size_t i;
	int rc;

	for (i = 0; i < t->len; i++) {
		const struct json *v = t->v[i].rule == r ?
		    base_value(&t->v[i], what) :
		    NULL;

		if (v)
			json_array_append(arr, json_copy(v));
	}
	pull_sort_items(r, arr);
	dump_stage_own_file(s, rel);
	rc = write_file(s, rel, arr, ctx->opts->sort_json, errstr);
	json_free(arr);
	free(rel);
	return rc;
}

static int base_schema(const struct sync_ctx *ctx, const struct three *t,
    enum three_base what, struct dump_stage *s, char **errstr)
{
	char *dir = dump_norm_rel(ctx->opts->snapshot_path);
	size_t i;
	int rc = 0;

	if (dir[0] == '\0') {
		free(dir);
		return 0;
	}
	dump_stage_own_dir(s, dir);
	for (i = 0; i < t->len && rc == 0; i++) {
		const struct json *v = t->v[i].rule == NULL ?
		    base_value(&t->v[i], what) :
		    NULL;
		char *rel;
		struct json *c;

		if (v == NULL)
			continue;
		rel = fs_join(dir, t->v[i].key);
		c = json_copy(v);
		rc = write_file(s, rel, c, ctx->opts->sort_json, errstr);
		json_free(c);
		free(rel);
	}
	free(dir);
	return rc;
}

static int base_meta(const struct sync_ctx *ctx, const struct three *t,
    const char *dump_root, const char *commit, struct dump_stage *s,
    char **errstr)
{
	struct json *m = json_new_object();
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_set(m, "url", json_new_string(ctx->opts->url));
	json_set(m, "dump_path", json_new_string(dump_root));
	json_set(m, "directus",
	    t->version ? json_new_string(t->version) : json_new_null());
	json_set(m, "commit",
	    commit ? json_new_string(commit) : json_new_null());
	json_set(m, "time", json_new_string(when));
	dump_stage_own_file(s, META_FILE);
	rc = write_file(s, META_FILE, m, false, errstr);
	json_free(m);
	return rc;
}

int three_write_base(const struct sync_ctx *ctx, const struct three *t,
    enum three_base what, const char *base_root, const char *commit,
    char **errstr)
{
	struct dump_lock *lock = NULL;
	struct dump_stage *s = NULL;
	char real[PATH_MAX];
	size_t i;
	int rc;

	/* The base names the tree by its real path, as the lock does. */
	if (realpath(ctx->opts->dump_path, real) == NULL)
		snprintf(real, sizeof(real), "%s", ctx->opts->dump_path);
	if ((rc = dump_lock_acquire(base_root, true, 0, NULL, &lock, errstr)) <
		0 ||
	    (rc = dump_stage_begin(dump_lock_root(lock), &s, errstr)) < 0)
		goto out;
	for (i = 0; i < COLL_COUNT && rc == 0; i++)
		if (t->collections & coll_bit(&coll_rules[i]))
			rc = base_collection(ctx, t, i, what, s, errstr);
	if (rc == 0 && t->schema)
		rc = base_schema(ctx, t, what, s, errstr);
	if (rc == 0)
		rc = base_meta(ctx, t, real, commit, s, errstr);
	if (rc == 0) {
		rc = dump_stage_commit(s, NULL, errstr);
		s = NULL;
	}
out:
	dump_stage_abort(s);
	dump_lock_release(lock);
	return rc;
}

/* --- the instance's side into the tree --- */

/* Map rows for the items the instance made that are to be written. */
static int key_new_items(struct sync_ctx *ctx, struct three *t,
    const bool *take, struct idmap *m, char **errstr)
{
	size_t i;
	int rc;

	for (i = 0; i < t->len; i++) {
		struct three_item *it = &t->v[i];
		struct idmap_new nr;
		const char *table;

		if (!take[i] || it->rule == NULL || it->key || !it->inst ||
		    it->local_id == NULL)
			continue;
		table = it->rule->name;
		if ((rc = idmap_load(m, &table, 1, errstr)) < 0)
			return rc;
		memset(&nr, 0, sizeof(nr));
		nr.local_id = it->local_id;
		nr.sync_id = sync_opts_preserves(ctx->opts, table) ?
		    it->local_id :
		    NULL;
		if ((rc = idmap_create(m, table, &nr, 1, errstr)) < 0)
			return rc;
		it->key = xstrdup(nr.result);
		json_del(it->inst, "id");
		json_set(it->inst, "_syncId", json_new_string(it->key));
		sync_logf(ctx, SYNC_INFO, "[%s] %s \"%s\" gets the SyncID %s",
		    table, it->local_id, it->label ? it->label : "", it->key);
	}
	return 0;
}

/* Collection ci's file with the taken items in the instance's version. */
static int tree_collection(struct sync_ctx *ctx, const char *root,
    struct three *t, const bool *take, size_t ci, struct dump_stage *s,
    size_t *written, char **errstr)
{
	const struct coll_rule *r = &coll_rules[ci];
	struct json *arr = NULL;
	char *rel;
	size_t i, n = 0, w = 0;
	int rc;

	for (i = 0; i < t->len; i++)
		n += take[i] && t->v[i].rule == r && t->v[i].key;
	if (n == 0)
		return 0;
	if ((rc = load_collection(ctx, root, r, &arr, errstr)) < 0)
		return rc;
	for (i = 0; i < t->len; i++) {
		struct three_item *it = &t->v[i];
		const struct json *cur;
		size_t at = 0;

		if (!take[i] || it->rule != r || it->key == NULL)
			continue;
		cur = find_item(arr, it->key, &at);
		/* Edited in the tree since it was compared: the edit is
		 * the person's, and it stays. */
		if (item_stale(ctx, r, cur, it->dump)) {
			it->stale = true;
			sync_logf(ctx, SYNC_WARN,
			    "[%s] %s \"%s\" changed in "
			    "the tree since it was compared: not written",
			    r->name, it->key, it->label ? it->label : "");
			continue;
		}
		if (cur)
			json_array_remove(arr, at);
		if (it->inst)
			json_array_append(arr, json_copy(it->inst));
		w++;
	}
	if (w == 0) {
		json_free(arr);
		return 0;
	}
	*written += w;
	pull_sort_items(r, arr);
	/* The tree's file as a pull writes it: through onSave. */
	if ((rc = hook_run(ctx, (int)(r - coll_rules), HOOK_SAVE, &arr,
		 errstr)) < 0) {
		json_free(arr);
		return rc;
	}
	rel = coll_rel(ctx, r);
	rc = write_file(s, rel, arr, ctx->opts->sort_json, errstr);
	json_free(arr);
	free(rel);
	return rc;
}

/* The taken schema units: written, or removed when the instance has
 * none. */
static int tree_units(struct sync_ctx *ctx, const char *root, struct three *t,
    const bool *take, struct dump_stage *s, size_t *written, char **errstr)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < t->len && rc == 0; i++) {
		struct three_item *it = &t->v[i];
		char *rel;

		if (!take[i] || it->rule != NULL)
			continue;
		rel = unit_rel(ctx, it->key);
		if (unit_stale(root, rel, it->dump)) {
			it->stale = true;
			sync_logf(ctx, SYNC_WARN,
			    "[snapshot] %s changed in the "
			    "tree since it was compared: not written",
			    it->key);
			free(rel);
			continue;
		}
		if (it->inst) {
			struct json *c = json_copy(it->inst);

			rc = write_file(s, rel, c, ctx->opts->sort_json,
			    errstr);
			json_free(c);
		} else
			dump_stage_own_file(s, rel); /* removed */
		(*written)++;
		free(rel);
	}
	return rc;
}

int three_write_tree(struct sync_ctx *ctx, struct three *t, const bool *take,
    size_t *written, char **errstr)
{
	struct sync_run run;
	struct idmap *m = NULL;
	struct dump_stage *s = NULL;
	size_t i, n = 0;
	int rc;

	if ((rc = sync_run_begin(&run, ctx, NULL, RUN_LOCK, errstr)) < 0)
		return rc;
	m = idmap_new(ctx->dx, ctx->opts->id_map);
	if ((rc = idmap_open(m, IDMAP_OPEN_CREATE, errstr)) < 0 ||
	    (rc = key_new_items(ctx, t, take, m, errstr)) < 0 ||
	    (rc = dump_stage_begin(run.root, &s, errstr)) < 0)
		goto out;
	for (i = 0; i < COLL_COUNT && rc == 0; i++)
		rc = tree_collection(ctx, run.root, t, take, i, s, &n, errstr);
	if (rc == 0)
		rc = tree_units(ctx, run.root, t, take, s, &n, errstr);
	if (rc < 0)
		goto out;
	rc = dump_stage_commit(s, NULL, errstr);
	s = NULL;
	if (rc < 0)
		goto out;
	/* What was written agrees now. */
	for (i = 0; i < t->len; i++) {
		struct three_item *it = &t->v[i];

		if (!take[i] || it->stale || (it->rule && it->key == NULL))
			continue;
		t->counts[it->cls]--;
		it->cls = THREE_IN_SYNC;
		t->counts[it->cls]++;
		json_free(it->dump);
		it->dump = it->inst ? json_copy(it->inst) : NULL;
	}
	if (written)
		*written = n;
out:
	dump_stage_abort(s);
	idmap_free(m);
	return sync_run_end(&run, rc);
}

/* --- who changed it --- */

/* A user of an activity row as people know them. */
static char *user_name(const struct json *u)
{
	const char *email = json_str(json_get(u, "email"));
	const char *first = json_str(json_get(u, "first_name"));
	const char *last = json_str(json_get(u, "last_name"));
	char *s;

	if (email && *email)
		return xstrdup(email);
	if (first || last) {
		xasprintf(&s, "%s%s%s", first ? first : "",
		    first && last ? " " : "", last ? last : "");
		return s;
	}
	return json_scalar_string(u); /* the id, or NULL */
}

static bool told(const struct three_item *it, const struct coll_rule *r)
{
	return it->rule == r && it->local_id && it->who == NULL &&
	    (it->cls == THREE_INSTANCE_CHANGED || it->cls == THREE_CONFLICT);
}

/* The newest activity row of each asked item of collection r. */
static int who_coll(struct sync_ctx *ctx, struct three *t,
    const struct coll_rule *r, char **errstr)
{
	struct dx_call c;
	struct buf ids;
	struct json *d;
	size_t i, k, n = 0;
	char *path;
	int rc;

	buf_init(&ids);
	for (i = 0; i < t->len; i++)
		if (told(&t->v[i], r)) {
			char *e = dx_escape(t->v[i].local_id);

			buf_addf(&ids, "%s%s", n++ ? "," : "", e);
			free(e);
		}
	if (n == 0) {
		buf_clear(&ids);
		return 0;
	}
	/* A few rows per item: enough for the newest of each. */
	xasprintf(&path,
	    "/activity?limit=%zu&sort=-id&fields=item,timestamp,"
	    "user.email,user.first_name,user.last_name"
	    "&filter[collection][_eq]=directus_%s&filter[action][_neq]=run"
	    "&filter[item][_in]=%s",
	    n * 4 + 20, r->name, ids.data ? ids.data : "");
	buf_clear(&ids);
	dx_call_init(&c, "GET", path, NULL, 0);
	if ((rc = dx_run(ctx->dx, &c, 1, errstr)) < 0)
		goto out;
	d = dx_data(c.result);
	for (k = 0; d && d->type == JSON_ARRAY && k < d->u.arr.len; k++) {
		const struct json *row = d->u.arr.items[k];
		char *item = json_scalar_string(json_get(row, "item"));
		const char *ts = json_str(json_get(row, "timestamp"));

		for (i = 0; item && i < t->len; i++) {
			struct three_item *it = &t->v[i];

			if (!told(it, r) || strcmp(it->local_id, item) != 0)
				continue;
			it->who = user_name(json_get(row, "user"));
			if (it->who == NULL)
				it->who = xstrdup("(no user)");
			it->when = ts ? xstrdup(ts) : NULL;
		}
		free(item);
	}
out:
	dx_call_clear(&c);
	return rc;
}

int three_who(struct sync_ctx *ctx, struct three *t, char **errstr)
{
	size_t i;
	int rc = 0;

	http_set_cancel(dx_http(ctx->dx), ctx->cancel);
	for (i = 0; i < COLL_COUNT && rc == 0; i++)
		rc = who_coll(ctx, t, &coll_rules[i], errstr);
	http_set_cancel(dx_http(ctx->dx), NULL);
	return rc;
}

/* --- what is left, as a summary --- */

static void sum_item(struct plan_summary_coll *sc, char kind,
    const struct three_item *it)
{
	struct plan_summary_item *f;

	if (sc->nfirst == PLAN_SUMMARY_FIRST)
		return;
	f = &sc->first[sc->nfirst++];
	f->kind = kind;
	f->sync_id = it->key ? xstrdup(it->key) : xstrdup("");
	f->label = it->label ? xstrdup(it->label) : NULL;
}

void three_summarize(const struct three *t, struct plan_summary *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->schema = t->schema;
	for (i = 0; i < COLL_COUNT; i++) {
		s->c[i].name = coll_rules[i].name;
		s->c[i].selected = (t->collections &
				       coll_bit(&coll_rules[i])) != 0;
	}
	for (i = 0; i < t->len; i++) {
		const struct three_item *it = &t->v[i];
		char kind = it->dump && it->inst ? '~' : it->dump ? '+' : '-';

		if (it->rule == NULL) {
			if (it->cls == THREE_IN_SYNC)
				continue;
			s->schema_changes++;
			if (strncmp(it->key, "collections/", 12) == 0)
				s->schema_collections++;
			else if (strncmp(it->key, "fields/", 7) == 0)
				s->schema_fields++;
			else
				s->schema_relations++;
			s->schema_deletes += kind == '-';
			if (s->nschema_first < PLAN_SUMMARY_FIRST)
				xasprintf(&s->schema_first[s->nschema_first++],
				    "%s %s",
				    kind == '+'	    ? "create" :
					kind == '-' ? "delete" :
						      "update",
				    it->key);
			continue;
		}
		{
			struct plan_summary_coll *sc =
			    &s->c[it->rule - coll_rules];

			if (it->cls == THREE_IN_SYNC) {
				sc->unchanged++;
				continue;
			}
			if (kind == '+')
				sc->create++;
			else if (kind == '~')
				sc->update++;
			else
				sc->del++;
			sum_item(sc, kind, it);
			s->changes++;
		}
	}
	s->changes += s->schema_changes;
}

/* --- the files a write changes, for a commit of those changes only --- */

static bool taken(const struct three_item *it, const bool *take, size_t i)
{
	return take[i] && !it->stale && !(it->rule && it->key == NULL);
}

void three_files(const struct sync_ctx *ctx, const struct three *t,
    const bool *take, char ***rels, size_t *n)
{
	unsigned colls = 0;
	size_t i;

	*rels = NULL;
	*n = 0;
	for (i = 0; i < t->len; i++) {
		const struct three_item *it = &t->v[i];

		if (!taken(it, take, i))
			continue;
		if (it->rule)
			colls |= coll_bit(it->rule);
		else {
			*rels = xreallocarray(*rels, *n + 1, sizeof(**rels));
			(*rels)[(*n)++] = unit_rel(ctx, it->key);
		}
	}
	for (i = 0; i < COLL_COUNT; i++)
		if (colls & coll_bit(&coll_rules[i])) {
			*rels = xreallocarray(*rels, *n + 1, sizeof(**rels));
			(*rels)[(*n)++] = coll_rel(ctx, &coll_rules[i]);
		}
}

static int apply_coll(const struct sync_ctx *ctx, const struct three *t,
    const bool *take, const struct coll_rule *r, const char *rel,
    const char *old, size_t oldlen, char **out, size_t *outlen, char **errstr)
{
	struct json *arr;
	char *perr = NULL;
	size_t i, k;
	int rc;

	arr = old ? json_parse(old, oldlen, &perr) : json_new_array();
	if (arr == NULL || arr->type != JSON_ARRAY) {
		xasprintf(errstr, "%s at HEAD: %s", rel,
		    perr ? perr : "not a list of items");
		free(perr);
		json_free(arr);
		return SYNC_EDUMP;
	}
	/* The file as diff reads it (onLoad); written back through onSave. */
	if ((rc = hook_run(ctx, (int)(r - coll_rules), HOOK_LOAD, &arr,
		 errstr)) < 0) {
		json_free(arr);
		return rc;
	}
	for (i = 0; i < t->len; i++) {
		const struct three_item *it = &t->v[i];

		if (it->rule != r || !taken(it, take, i))
			continue;
		for (k = arr->u.arr.len; k-- > 0;) {
			const char *sid = json_str(
			    json_get(arr->u.arr.items[k], "_syncId"));

			if (sid && strcmp(sid, it->key) == 0)
				json_array_remove(arr, k);
		}
		if (it->inst)
			json_array_append(arr, json_copy(it->inst));
	}
	pull_sort_items(r, arr);
	if ((rc = hook_run(ctx, (int)(r - coll_rules), HOOK_SAVE, &arr,
		 errstr)) < 0) {
		json_free(arr);
		return rc;
	}
	*out = pull_format(arr, ctx->opts->sort_json, outlen);
	json_free(arr);
	return 0;
}

int three_apply_file(const struct sync_ctx *ctx, const struct three *t,
    const bool *take, const char *rel, const char *old, size_t oldlen,
    char **out, size_t *outlen, char **errstr)
{
	size_t i;

	*out = NULL;
	*outlen = 0;
	for (i = 0; i < COLL_COUNT; i++) {
		char *cr = coll_rel(ctx, &coll_rules[i]);
		bool is = strcmp(cr, rel) == 0;

		free(cr);
		if (is)
			return apply_coll(ctx, t, take, &coll_rules[i], rel,
			    old, oldlen, out, outlen, errstr);
	}
	for (i = 0; i < t->len; i++) {
		const struct three_item *it = &t->v[i];
		char *ur;
		bool is;

		if (it->rule || !taken(it, take, i))
			continue;
		ur = unit_rel(ctx, it->key);
		is = strcmp(ur, rel) == 0;
		free(ur);
		if (!is)
			continue;
		if (it->inst) {
			struct json *c = json_copy(it->inst);

			*out = pull_format(c, ctx->opts->sort_json, outlen);
			json_free(c);
		}
		return 0;
	}
	xasprintf(errstr, "%s: not a file of this write", rel);
	return -EINVAL;
}

/* --- what changed in the tree since the comparison --- */

int three_mark_stale(struct sync_ctx *ctx, struct three *t, const bool *take,
    char **errstr)
{
	const char *root = ctx->opts->dump_path;
	size_t ci, i;
	int rc;

	for (ci = 0; ci < COLL_COUNT; ci++) {
		const struct coll_rule *r = &coll_rules[ci];
		struct json *arr = NULL;
		size_t n = 0;

		for (i = 0; i < t->len; i++)
			n += taken(&t->v[i], take, i) && t->v[i].rule == r;
		if (n == 0)
			continue;
		if ((rc = load_collection(ctx, root, r, &arr, errstr)) < 0)
			return rc;
		for (i = 0; i < t->len; i++) {
			struct three_item *it = &t->v[i];

			if (it->rule != r || !taken(it, take, i))
				continue;
			it->stale = item_stale(ctx, r,
			    find_item(arr, it->key, NULL), it->dump);
		}
		json_free(arr);
	}
	for (i = 0; i < t->len; i++) {
		struct three_item *it = &t->v[i];
		char *rel;

		if (it->rule || !taken(it, take, i))
			continue;
		rel = unit_rel(ctx, it->key);
		it->stale = unit_stale(root, rel, it->dump);
		free(rel);
	}
	return 0;
}

int three_key_new(struct sync_ctx *ctx, struct three *t, const bool *take,
    char **errstr)
{
	struct sync_run run;
	struct idmap *m;
	int rc;

	if ((rc = sync_run_begin(&run, ctx, NULL, 0, errstr)) < 0)
		return rc;
	m = idmap_new(ctx->dx, ctx->opts->id_map);
	if ((rc = idmap_open(m, IDMAP_OPEN_CREATE, errstr)) == 0)
		rc = key_new_items(ctx, t, take, m, errstr);
	idmap_free(m);
	return sync_run_end(&run, rc);
}
