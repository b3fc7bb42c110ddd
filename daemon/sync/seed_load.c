/*
 * seed_load: the seed files, read and checked as directus-sync reads
 * them (see seed.h): every *.json under a directory in name order, or
 * one file; meta's defaults; the seeds sorted by insert_order (the ones
 * without it after, in the order read); the seeds of one collection
 * merged (data joined, create, update and delete ANDed, preserve_ids
 * ORed, ignore_on_update joined).
 */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "seed.h"
#include "strmap.h"
#include "xmalloc.h"

#define SEED_MAX_DEPTH 32

/* One seed as read, before merging. */
struct raw_seed {
	struct json *obj; /* the seed object, owned */
	const char *file;
	const char *folder; /* _file_path is relative to it */
	bool has_order;
	double order;
	size_t seq;
};

struct loader {
	struct sync_ctx *ctx;
	struct seed_set *s;
	struct raw_seed *raw;
	size_t nraw, capraw;
	char *folder; /* of the seed path being read */
	char **folders;
	size_t nfolders;
	char *errstr;
};

static const char *const builtin_ignore[][2] = {
	{ "directus_users", "password" },
	{ "directus_files", "_file_path" },
};

char *seed_table(const char *collection)
{
	char *t;

	if (strncmp(collection, "directus_", 9) == 0)
		return xstrdup(collection + 9);
	xasprintf(&t, "items::%s", collection);
	return t;
}

static bool supported_system(const char *c)
{
	return strcmp(c, "directus_users") == 0 ||
	    strcmp(c, "directus_files") == 0;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), k = strlen(tail);

	return n >= k && strcmp(s + n - k, tail) == 0;
}

/* "F: [2].data[3]._sync_id": where in a file a value is. */
static char *where(const char *file, long seed, const char *rest)
{
	char *w;

	if (seed < 0)
		xasprintf(&w, "seed file %s: %s", file, rest);
	else
		xasprintf(&w, "seed file %s: [%ld]%s%s", file, seed,
		    *rest ? "." : "", rest);
	return w;
}

static int bad(struct loader *L, const char *file, long seed, const char *rest,
    const char *why)
{
	char *w = where(file, seed, rest);

	xasprintf(&L->errstr, "%s %s", w, why);
	free(w);
	return SYNC_EDUMP;
}

static int check_meta(struct loader *L, const char *file, long k,
    const struct json *meta)
{
	static const char *const flags[] = { "create", "update", "delete",
		"preserve_ids" };
	const struct json *v;
	size_t i;
	char *name;
	int rc = 0;

	if (meta->type != JSON_OBJECT)
		return bad(L, file, k, "meta", "must be an object");
	if ((v = json_get(meta, "insert_order")) && v->type != JSON_NUMBER)
		return bad(L, file, k, "meta.insert_order", "must be a number");
	for (i = 0; i < 4 && rc == 0; i++)
		if ((v = json_get(meta, flags[i])) && v->type != JSON_TRUE &&
		    v->type != JSON_FALSE) {
			xasprintf(&name, "meta.%s", flags[i]);
			rc = bad(L, file, k, name, "must be true or false");
			free(name);
		}
	if (rc == 0 && (v = json_get(meta, "ignore_on_update"))) {
		if (v->type != JSON_ARRAY)
			return bad(L, file, k, "meta.ignore_on_update",
			    "must be an array of field names");
		for (i = 0; i < v->u.arr.len; i++)
			if (json_str(v->u.arr.items[i]) == NULL)
				return bad(L, file, k, "meta.ignore_on_update",
				    "must be an array of field names");
	}
	return rc;
}

static int check_item(struct loader *L, const char *file, long k,
    const char *coll, size_t i, const struct json *it)
{
	const struct json *v;
	char *rest;
	int rc = 0;

	xasprintf(&rest, "data[%zu]", i);
	if (it->type != JSON_OBJECT)
		rc = bad(L, file, k, rest, "must be an object");
	else if ((v = json_get(it, "_sync_id")) == NULL ||
	    v->type != JSON_STRING || v->u.str.len == 0)
		rc = bad(L, file, k, rest,
		    "needs \"_sync_id\", a string that names the item");
	else if ((v = json_get(it, "_file_path")) && v->type != JSON_STRING)
		rc = bad(L, file, k, rest, "_file_path must be a string");
	else if (strcmp(coll, "directus_files") == 0 && v == NULL)
		rc = bad(L, file, k, rest,
		    "needs \"_file_path\", the file to upload (directus_files)");
	free(rest);
	return rc;
}

static int check_collection(struct loader *L, const char *file, long k,
    const char *c)
{
	char *why;
	int rc;

	if (strcmp(c, "dsync_id_map") == 0 ||
	    (strncmp(c, "directus_", 9) == 0 && !supported_system(c))) {
		xasprintf(&why,
		    "names collection \"%s\": a seed may hold items of "
		    "one's own collections, directus_users and directus_files "
		    "only",
		    c);
		rc = bad(L, file, k, "collection", why);
		free(why);
		return rc;
	}
	return 0;
}

/* One seed object of a file: checked, kept for sorting. */
static int take_seed(struct loader *L, const char *file, long k,
    struct json *obj)
{
	const struct json *c, *meta, *data, *o;
	struct raw_seed *r;
	size_t i;
	int rc;

	if (obj->type != JSON_OBJECT)
		return bad(L, file, k, "", "must be an object");
	if ((c = json_get(obj, "collection")) == NULL ||
	    c->type != JSON_STRING || c->u.str.len == 0)
		return bad(L, file, k, "collection",
		    "must be the name of a collection");
	if ((rc = check_collection(L, file, k, c->u.str.ptr)) < 0)
		return rc;
	if ((meta = json_get(obj, "meta")) &&
	    (rc = check_meta(L, file, k, meta)) < 0)
		return rc;
	if ((data = json_get(obj, "data")) == NULL || data->type != JSON_ARRAY)
		return bad(L, file, k, "data", "must be an array of items");
	for (i = 0; i < data->u.arr.len; i++)
		if ((rc = check_item(L, file, k, c->u.str.ptr, i,
			 data->u.arr.items[i])) < 0)
			return rc;
	if (L->nraw == L->capraw) {
		L->capraw = L->capraw ? L->capraw * 2 : 8;
		L->raw = xreallocarray(L->raw, L->capraw, sizeof(*L->raw));
	}
	r = &L->raw[L->nraw];
	memset(r, 0, sizeof(*r));
	r->obj = obj;
	r->file = file;
	r->folder = L->folder;
	r->seq = L->nraw++;
	if (meta && (o = json_get(meta, "insert_order"))) {
		r->has_order = true;
		r->order = o->u.num;
	}
	return 0;
}

static int read_file(struct loader *L, const char *path)
{
	char *data = NULL, *perr = NULL, *file;
	struct json *j;
	size_t len, i;
	int rc;

	if ((rc = fs_read_file(path, &data, &len)) < 0) {
		xasprintf(&L->errstr, "seed file %s: %s", path, strerror(-rc));
		return SYNC_EIO;
	}
	j = json_parse(data, len, &perr);
	free(data);
	if (j == NULL) {
		xasprintf(&L->errstr, "seed file %s: %s", path, perr);
		free(perr);
		return SYNC_EDUMP;
	}
	file = xstrdup(path);
	L->s->files = xreallocarray(L->s->files, L->s->nfiles + 1,
	    sizeof(char *));
	L->s->files[L->s->nfiles++] = file;
	if (j->type != JSON_ARRAY) {
		if ((rc = take_seed(L, file, -1, j)) < 0)
			json_free(j);
		return rc;
	}
	/* The array's seeds are taken out of it, one by one. */
	for (i = 0; i < j->u.arr.len; i++) {
		struct json *one = j->u.arr.items[i];

		if ((rc = take_seed(L, file, (long)i, one)) < 0)
			break;
		j->u.arr.items[i] = json_new_null();
	}
	json_free(j);
	return rc < 0 ? rc : 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.json under dir, in name order (the reference's readdir is
 * sorted by name), directories descended into. */
static int read_dir(struct loader *L, const char *dir, int depth)
{
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, i;
	int rc = 0;

	if (depth > SEED_MAX_DEPTH) {
		xasprintf(&L->errstr, "seed path %s: directories nest too deep",
		    dir);
		return SYNC_EDUMP;
	}
	if ((d = opendir(dir)) == NULL) {
		xasprintf(&L->errstr, "seed path %s: %s", dir, strerror(errno));
		return SYNC_EIO;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		names = xreallocarray(names, n + 1, sizeof(char *));
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(char *), cmp_name);
	for (i = 0; i < n && rc == 0; i++) {
		char *p = fs_join(dir, names[i]);
		struct stat sb;

		if (stat(p, &sb) < 0) {
			xasprintf(&L->errstr, "seed path %s: %s", p,
			    strerror(errno));
			rc = SYNC_EIO;
		} else if (S_ISDIR(sb.st_mode))
			rc = read_dir(L, p, depth + 1);
		else if (ends_with(names[i], ".json"))
			rc = read_file(L, p);
		free(p);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int read_path(struct loader *L, const char *path)
{
	struct stat sb;
	bool exists = stat(path, &sb) == 0;
	char *copy;

	if (exists && S_ISREG(sb.st_mode)) {
		copy = xstrdup(path);
		L->folder = xstrdup(dirname(copy));
		free(copy);
	} else
		L->folder = xstrdup(path);
	L->folders = xreallocarray(L->folders, L->nfolders + 1, sizeof(char *));
	L->folders[L->nfolders++] = L->folder;
	if (!exists && !ends_with(path, ".json")) {
		sync_logf(L->ctx, SYNC_WARN, "Seed path does not exist: %s",
		    path);
		return 0;
	}
	if (ends_with(path, ".json") || !S_ISDIR(sb.st_mode))
		return read_file(L, path);
	return read_dir(L, path, 0);
}

static int cmp_order(const void *a, const void *b)
{
	const struct raw_seed *x = a, *y = b;

	if (x->has_order != y->has_order)
		return x->has_order ? -1 : 1;
	if (x->has_order && x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool meta_flag(const struct json *meta, const char *k, bool def)
{
	const struct json *v = json_get(meta, k);

	return v ? v->type == JSON_TRUE : def;
}

static void add_ignore(struct seed_coll *c, const char *f)
{
	c->ignore = xreallocarray(c->ignore, c->nignore + 1, sizeof(char *));
	c->ignore[c->nignore++] = xstrdup(f);
}

static struct seed_coll *coll_for(struct seed_set *s, const char *name,
    const char *file)
{
	struct seed_coll *c;
	size_t i;

	for (i = 0; i < s->len; i++)
		if (strcmp(s->v[i].collection, name) == 0)
			return &s->v[i];
	s->v = xreallocarray(s->v, s->len + 1, sizeof(*s->v));
	c = &s->v[s->len++];
	memset(c, 0, sizeof(*c));
	c->collection = xstrdup(name);
	c->table = seed_table(name);
	c->create = c->update = c->del = true;
	c->file = file;
	for (i = 0; i < sizeof(builtin_ignore) / sizeof(builtin_ignore[0]); i++)
		if (strcmp(builtin_ignore[i][0], name) == 0)
			add_ignore(c, builtin_ignore[i][1]);
	return c;
}

static void take_item(struct seed_coll *c, const struct raw_seed *r, size_t i,
    struct json *it)
{
	struct seed_item *si;
	struct json *fp;

	c->items = xreallocarray(c->items, c->nitems + 1, sizeof(*c->items));
	si = &c->items[c->nitems++];
	memset(si, 0, sizeof(*si));
	si->sync_id = xstrdup(json_str(json_get(it, "_sync_id")));
	json_del(it, "_sync_id");
	si->file = r->file;
	si->index = i;
	if ((fp = json_get(it, "_file_path")) != NULL) {
		const char *p = json_str(fp);
		char *full = p[0] == '/' ? xstrdup(p) : fs_join(r->folder, p);

		if (strcmp(c->collection, "directus_files") == 0) {
			si->file_path = full;
			json_del(it, "_file_path");
		} else {
			json_set(it, "_file_path", json_new_string(full));
			free(full);
		}
	}
	si->data = it;
}

/* Fold one seed into the set (merging with its collection's). */
static void merge(struct seed_set *s, const struct raw_seed *r)
{
	const struct json *meta = json_get(r->obj, "meta");
	const char *name = json_str(json_get(r->obj, "collection"));
	struct seed_coll *c = coll_for(s, name, r->file);
	const struct json *ign = json_get(meta, "ignore_on_update");
	struct json *data = json_get(r->obj, "data");
	size_t i;

	c->create = c->create && meta_flag(meta, "create", true);
	c->update = c->update && meta_flag(meta, "update", true);
	c->del = c->del && meta_flag(meta, "delete", true);
	c->preserve_ids = c->preserve_ids ||
	    meta_flag(meta, "preserve_ids", false);
	for (i = 0; ign && i < ign->u.arr.len; i++)
		add_ignore(c, json_str(ign->u.arr.items[i]));
	for (i = 0; i < data->u.arr.len; i++) {
		take_item(c, r, i, data->u.arr.items[i]);
		data->u.arr.items[i] = json_new_null();
	}
}

/* Two items of one collection with one SyncID: which would the map row
 * name? Refused, naming both. */
static int check_unique(struct seed_set *s, char **errstr)
{
	size_t i, k;

	for (i = 0; i < s->len; i++) {
		struct seed_coll *c = &s->v[i];
		struct strmap *seen = strmap_new();

		for (k = 0; k < c->nitems; k++) {
			struct seed_item *o = strmap_get(seen,
			    c->items[k].sync_id);

			if (o) {
				xasprintf(errstr,
				    "seed: two items of %s have the _sync_id "
				    "\"%s\": %s data[%zu] and %s data[%zu]",
				    c->collection, o->sync_id, o->file,
				    o->index, c->items[k].file,
				    c->items[k].index);
				strmap_free(seen);
				return SYNC_EDUMP;
			}
			strmap_put(seen, c->items[k].sync_id, &c->items[k]);
		}
		strmap_free(seen);
	}
	return 0;
}

int seed_load(struct sync_ctx *ctx, char *const *paths, size_t npaths,
    struct seed_set *s, char **errstr)
{
	struct loader L;
	size_t i;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	memset(&L, 0, sizeof(L));
	L.ctx = ctx;
	L.s = s;
	for (i = 0; i < npaths && rc == 0; i++)
		rc = read_path(&L, paths[i]);
	if (rc == 0) {
		qsort(L.raw, L.nraw, sizeof(*L.raw), cmp_order);
		for (i = 0; i < L.nraw; i++)
			merge(s, &L.raw[i]);
		rc = check_unique(s, &L.errstr);
	}
	for (i = 0; i < L.nraw; i++)
		json_free(L.raw[i].obj);
	free(L.raw);
	for (i = 0; i < L.nfolders; i++)
		free(L.folders[i]);
	free(L.folders);
	if (rc < 0) {
		*errstr = L.errstr;
		seed_set_free(s);
	}
	return rc;
}

void seed_set_free(struct seed_set *s)
{
	size_t i, k;

	for (i = 0; i < s->len; i++) {
		struct seed_coll *c = &s->v[i];

		for (k = 0; k < c->nitems; k++) {
			free(c->items[k].sync_id);
			json_free(c->items[k].data);
			free(c->items[k].file_path);
		}
		free(c->items);
		for (k = 0; k < c->nignore; k++)
			free(c->ignore[k]);
		free(c->ignore);
		for (k = 0; k < c->nrels; k++) {
			free(c->rels[k].field);
			free(c->rels[k].table);
		}
		free(c->rels);
		free(c->collection);
		free(c->table);
		free(c->pk);
	}
	free(s->v);
	for (i = 0; i < s->nfiles; i++)
		free(s->files[i]);
	free(s->files);
	memset(s, 0, sizeof(*s));
}
