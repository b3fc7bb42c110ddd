/*
 * idmap: SyncID map backends. The extension keeps its rows in
 * directus_sync_id_map and answers under /directus-extension-sync; the
 * collection backend keeps the same rows in dsync_id_map, a hidden user
 * collection with one unique column per lookup direction, since the API
 * cannot declare composite unique keys.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "idmap.h"
#include "strmap.h"
#include "uuid.h"
#include "xmalloc.h"

#define EXT "/directus-extension-sync"
#define COLL "/items/" IDMAP_COLLECTION_NAME

struct table {
	char *name;
	struct idmap_row *rows;
	size_t len, cap;
	struct strmap *by_local, *by_sync; /* -> row index + 1 */
};

struct idmap {
	struct dx *dx;
	enum idmap_backend backend;
	struct table *tables;
	size_t ntables;
	unsigned flags; /* IDMAP_OPEN_* given to idmap_open */
	bool absent;	/* collection backend, collection missing */
};

struct idmap *idmap_new(struct dx *dx, enum idmap_backend want)
{
	struct idmap *m = xcalloc(1, sizeof(*m));

	m->dx = dx;
	m->backend = want;
	return m;
}

static void table_clear(struct table *t)
{
	size_t i;

	for (i = 0; i < t->len; i++) {
		free(t->rows[i].sync_id);
		free(t->rows[i].local_id);
		free(t->rows[i].row_id);
	}
	free(t->rows);
	strmap_free(t->by_local);
	strmap_free(t->by_sync);
	t->rows = NULL;
	t->len = t->cap = 0;
	t->by_local = strmap_new();
	t->by_sync = strmap_new();
}

void idmap_free(struct idmap *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->ntables; i++) {
		table_clear(&m->tables[i]);
		strmap_free(m->tables[i].by_local);
		strmap_free(m->tables[i].by_sync);
		free(m->tables[i].name);
	}
	free(m->tables);
	free(m);
}

const char *idmap_backend_name(enum idmap_backend b)
{
	switch (b) {
	case IDMAP_EXTENSION:
		return "extension";
	case IDMAP_COLLECTION:
		return "collection";
	default:
		return "auto";
	}
}

enum idmap_backend idmap_backend(const struct idmap *m)
{
	return m->backend;
}

static struct table *table_get(struct idmap *m, const char *name, int create)
{
	size_t i;
	struct table *t;

	for (i = 0; i < m->ntables; i++)
		if (strcmp(m->tables[i].name, name) == 0)
			return &m->tables[i];
	if (!create)
		return NULL;
	m->tables = xreallocarray(m->tables, m->ntables + 1, sizeof(*t));
	t = &m->tables[m->ntables++];
	memset(t, 0, sizeof(*t));
	t->name = xstrdup(name);
	t->by_local = strmap_new();
	t->by_sync = strmap_new();
	return t;
}

static void table_add(struct table *t, const char *sync_id,
    const char *local_id, const char *row_id)
{
	struct idmap_row *r;

	if (t->len == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 32;
		t->rows = xreallocarray(t->rows, t->cap, sizeof(*r));
	}
	r = &t->rows[t->len++];
	r->sync_id = xstrdup(sync_id);
	r->local_id = xstrdup(local_id);
	r->row_id = row_id ? xstrdup(row_id) : NULL;
	r->unsaved = false;
	strmap_put(t->by_local, local_id, (void *)(uintptr_t)t->len);
	strmap_put(t->by_sync, sync_id, (void *)(uintptr_t)t->len);
}

/* A local id as the extension stores it: numbers become their decimal
 * string, as String(n) in JavaScript. */
static char *value_string(const struct json *v)
{
	return v ? json_scalar_string(v) : NULL;
}

static int ext_probe(struct idmap *m, int *present, char **errstr)
{
	struct dx_call c;
	const char *msg;
	int rc;

	dx_call_init(&c, "GET",
	    xstrdup(EXT "/table/__ping_test__/sync_id/__ping_test__"), NULL,
	    DX_ALLOW_404);
	rc = dx_run(m->dx, &c, 1, errstr);
	if (rc == 0) {
		msg = json_str(json_get(c.result, "message"));
		*present = c.status == 404 && msg &&
		    strcmp(msg, "No id map found") == 0;
	}
	dx_call_clear(&c);
	return rc;
}

static struct json *field_def(const char *name, const char *type, int unique,
    int hidden)
{
	struct json *f = json_new_object(), *schema = json_new_object(),
		    *meta = json_new_object();

	json_set(f, "field", json_new_string(name));
	json_set(f, "type", json_new_string(type));
	json_set(schema, "is_nullable", json_new_bool(false));
	if (unique)
		json_set(schema, "is_unique", json_new_bool(true));
	json_set(meta, "hidden", json_new_bool(hidden));
	json_set(f, "schema", schema);
	json_set(f, "meta", meta);
	return f;
}

/* Create dsync_id_map: hidden, with unique "table|sync_id" and
 * "table|local_id" columns standing in for composite keys. */
static int coll_create(struct idmap *m, char **errstr)
{
	struct json *body = json_new_object(), *meta = json_new_object(),
		    *schema = json_new_object(), *fields = json_new_array(),
		    *id;
	int rc;

	json_set(body, "collection", json_new_string(IDMAP_COLLECTION_NAME));
	json_set(meta, "hidden", json_new_bool(true));
	json_set(meta, "icon", json_new_string("sync"));
	json_set(meta, "note",
	    json_new_string("SyncID map kept by dsync; do not edit"));
	json_set(body, "meta", meta);
	json_set(schema, "name", json_new_string(IDMAP_COLLECTION_NAME));
	json_set(body, "schema", schema);
	id = json_new_object();
	json_set(id, "field", json_new_string("id"));
	json_set(id, "type", json_new_string("integer"));
	schema = json_new_object();
	json_set(schema, "is_primary_key", json_new_bool(true));
	json_set(schema, "has_auto_increment", json_new_bool(true));
	json_set(id, "schema", schema);
	json_set(id, "meta", json_new_object());
	json_set(json_get(id, "meta"), "hidden", json_new_bool(true));
	json_array_append(fields, id);
	json_array_append(fields, field_def("table", "string", 0, 0));
	json_array_append(fields, field_def("sync_id", "string", 0, 0));
	json_array_append(fields, field_def("local_id", "string", 0, 0));
	json_array_append(fields, field_def("table_sync_id", "string", 1, 1));
	json_array_append(fields, field_def("table_local_id", "string", 1, 1));
	json_set(body, "fields", fields);
	rc = dx_request(m->dx, "POST", "/collections", body, NULL, errstr);
	return rc;
}

static int coll_probe(struct idmap *m, int create_ok, char **errstr)
{
	struct dx_call c;
	int rc, exists;

	/* Directus answers 403, not 404, for a collection that does not
	 * exist, even to an administrator. */
	dx_call_init(&c, "GET", xstrdup("/collections/" IDMAP_COLLECTION_NAME),
	    NULL, DX_ALLOW_404 | DX_ALLOW_403);
	rc = dx_run(m->dx, &c, 1, errstr);
	exists = c.status == 200;
	dx_call_clear(&c);
	if (rc < 0 || exists)
		return rc;
	if (m->flags & IDMAP_OPEN_ABSENT_OK) {
		m->absent = true;
		return 0;
	}
	if (!create_ok) {
		xasprintf(errstr,
		    "this instance has neither the "
		    "directus-extension-sync routes nor the %s collection",
		    IDMAP_COLLECTION_NAME);
		return SYNC_EPROTO;
	}
	return coll_create(m, errstr);
}

int idmap_open(struct idmap *m, unsigned flags, char **errstr)
{
	int present = 0, create_ok = (flags & IDMAP_OPEN_CREATE) != 0, rc;

	const char *known = dx_memo_get(m->dx, "extension");

	m->flags = flags;
	if (m->backend == IDMAP_COLLECTION)
		return coll_probe(m, create_ok, errstr);
	if (known)
		present = strcmp(known, "yes") == 0;
	else if ((rc = ext_probe(m, &present, errstr)) < 0)
		return rc;
	else
		dx_memo_set(m->dx, "extension", present ? "yes" : "no");
	if (present) {
		m->backend = IDMAP_EXTENSION;
		return 0;
	}
	if (m->backend == IDMAP_EXTENSION) {
		*errstr = xstrdup(
		    "GET " EXT "/table/...: the mapping extension "
		    "directus-extension-sync does not answer on this instance "
		    "(use --id-map auto or collection)");
		return SYNC_EPROTO;
	}
	m->backend = IDMAP_COLLECTION;
	return coll_probe(m, create_ok, errstr);
}

/* Fill table t from an array of {sync_id, local_id[, id]} rows. */
static int load_rows(struct idmap *m, struct json *rows, const char *only,
    char **errstr)
{
	size_t i;

	if (rows == NULL || rows->type != JSON_ARRAY) {
		xasprintf(errstr, "SyncID map: expected an array of rows%s%s",
		    only ? " for table " : "", only ? only : "");
		return SYNC_EPROTO;
	}
	for (i = 0; i < rows->u.arr.len; i++) {
		struct json *r = rows->u.arr.items[i];
		const char *tname = only ? only :
					   json_str(json_get(r, "table"));
		char *sid = value_string(json_get(r, "sync_id"));
		char *lid = value_string(json_get(r, "local_id"));
		char *rid = value_string(json_get(r, "id"));
		struct table *t = tname ? table_get(m, tname, 0) : NULL;

		/* A row without its two ids would read as no row: items
		 * created again, or given new SyncIDs. */
		if (sid == NULL || lid == NULL || *sid == '\0' ||
		    *lid == '\0') {
			xasprintf(errstr, "SyncID map: row %zu%s%s %s", i + 1,
			    tname ? " of table " : "", tname ? tname : "",
			    r->type != JSON_OBJECT ? "is not an object" :
				sid == NULL || *sid == '\0' ?
						     "has no sync_id" :
						     "has no local_id");
			free(sid);
			free(lid);
			free(rid);
			return SYNC_EPROTO;
		}
		if (t)
			table_add(t, sid, lid, rid);
		free(sid);
		free(lid);
		free(rid);
	}
	return 0;
}

int idmap_load(struct idmap *m, const char *const *tables, size_t n,
    char **errstr)
{
	struct dx_call *calls;
	size_t i, ncalls;
	int rc = -1;

	for (i = 0; i < n; i++)
		table_clear(table_get(m, tables[i], 1));
	if (m->absent)
		return 0;
	ncalls = m->backend == IDMAP_EXTENSION ? n : 1;
	calls = xcalloc(ncalls, sizeof(*calls));
	if (m->backend == IDMAP_EXTENSION) {
		for (i = 0; i < n; i++) {
			char *p, *esc = dx_escape(tables[i]);

			xasprintf(&p, EXT "/table/%s", esc);
			free(esc);
			dx_call_init(&calls[i], "GET", p, NULL, 0);
		}
	} else
		dx_call_init(&calls[0], "GET",
		    xstrdup(COLL "?limit=-1"
				 "&fields=id,table,sync_id,local_id&sort=id"),
		    NULL, 0);
	if ((rc = dx_run(m->dx, calls, ncalls, errstr)) < 0)
		goto fail;
	for (i = 0; i < ncalls; i++) {
		if (m->backend == IDMAP_EXTENSION)
			rc = load_rows(m, calls[i].result, tables[i], errstr);
		else
			rc = load_rows(m, dx_data(calls[i].result), NULL,
			    errstr);
		if (rc < 0)
			goto fail;
	}
	rc = 0;
fail:
	for (i = 0; i < ncalls; i++)
		dx_call_clear(&calls[i]);
	free(calls);
	return rc;
}

const struct idmap_row *idmap_by_local(const struct idmap *m, const char *table,
    const char *local_id)
{
	struct table *t = table_get((struct idmap *)m, table, 0);
	uintptr_t i;

	if (t == NULL || local_id == NULL)
		return NULL;
	i = (uintptr_t)strmap_get(t->by_local, local_id);
	return i ? &t->rows[i - 1] : NULL;
}

const struct idmap_row *idmap_by_sync(const struct idmap *m, const char *table,
    const char *sync_id)
{
	struct table *t = table_get((struct idmap *)m, table, 0);
	uintptr_t i;

	if (t == NULL || sync_id == NULL)
		return NULL;
	i = (uintptr_t)strmap_get(t->by_sync, sync_id);
	return i ? &t->rows[i - 1] : NULL;
}

const struct idmap_row *idmap_rows(const struct idmap *m, const char *table,
    size_t *n)
{
	struct table *t = table_get((struct idmap *)m, table, 0);

	*n = t ? t->len : 0;
	return t ? t->rows : NULL;
}

static int ext_create(struct idmap *m, struct table *t, struct idmap_new *rows,
    size_t n, char **errstr)
{
	struct dx_call *calls = xcalloc(n, sizeof(*calls));
	char *esc = dx_escape(t->name);
	size_t i;
	int rc = -1;

	for (i = 0; i < n; i++) {
		struct json *body = json_new_object();
		char *p;

		json_set(body, "table", json_new_string(t->name));
		json_set(body, "local_id", json_new_string(rows[i].local_id));
		if (rows[i].sync_id)
			json_set(body, "sync_id",
			    json_new_string(rows[i].sync_id));
		xasprintf(&p, EXT "/table/%s", esc);
		dx_call_init(&calls[i], "POST", p, body, 0);
	}
	if ((rc = dx_run(m->dx, calls, n, errstr)) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		const char *sid = json_str(
		    json_get(calls[i].result, "sync_id"));

		if (sid == NULL) {
			xasprintf(errstr, "POST %s: no sync_id in the answer",
			    calls[i].path);
			rc = SYNC_EPROTO;
			goto fail;
		}
		table_add(t, sid, rows[i].local_id, NULL);
	}
	rc = 0;
fail:
	for (i = 0; i < n; i++)
		dx_call_clear(&calls[i]);
	free(calls);
	free(esc);
	return rc;
}

static int coll_create_rows(struct idmap *m, struct table *t,
    struct idmap_new *rows, size_t n, char **errstr)
{
	struct json *body = json_new_array(), *res = NULL, *data;
	char **sids = xcalloc(n, sizeof(char *));
	size_t i;
	int rc = -1;

	for (i = 0; i < n; i++) {
		struct json *r = json_new_object();
		char *k;

		sids[i] = rows[i].sync_id ? xstrdup(rows[i].sync_id) :
					    uuid_v4();
		json_set(r, "table", json_new_string(t->name));
		json_set(r, "sync_id", json_new_string(sids[i]));
		json_set(r, "local_id", json_new_string(rows[i].local_id));
		xasprintf(&k, "%s|%s", t->name, sids[i]);
		json_set(r, "table_sync_id", json_new_string(k));
		free(k);
		xasprintf(&k, "%s|%s", t->name, rows[i].local_id);
		json_set(r, "table_local_id", json_new_string(k));
		free(k);
		json_array_append(body, r);
	}
	if ((rc = dx_request(m->dx, "POST", COLL "?fields=id", body, &res,
		 errstr)) < 0)
		goto fail;
	data = dx_data(res);
	for (i = 0; i < n; i++) {
		char *rid = NULL;

		if (data && data->type == JSON_ARRAY && i < data->u.arr.len)
			rid = value_string(
			    json_get(data->u.arr.items[i], "id"));
		table_add(t, sids[i], rows[i].local_id, rid);
		free(rid);
	}
	rc = 0;
fail:
	for (i = 0; i < n; i++)
		free(sids[i]);
	free(sids);
	json_free(res);
	return rc;
}

int idmap_create(struct idmap *m, const char *table, struct idmap_new *rows,
    size_t n, char **errstr)
{
	struct table *t = table_get(m, table, 1);
	size_t i, first = t->len;
	int rc;

	if (n == 0)
		return 0;
	if ((m->absent && !(m->flags & IDMAP_OPEN_CREATE)) ||
	    (m->flags & IDMAP_OPEN_DEFER)) {
		/* Rows live in memory, until idmap_save if it comes. */
		for (i = 0; i < n; i++) {
			char *sid = rows[i].sync_id ? xstrdup(rows[i].sync_id) :
						      uuid_v4();

			table_add(t, sid, rows[i].local_id, NULL);
			t->rows[t->len - 1].unsaved = true;
			free(sid);
		}
		rc = 0;
	} else if (m->absent && (rc = coll_create(m, errstr)) < 0) {
		return rc;
	} else if (m->backend == IDMAP_EXTENSION) {
		rc = ext_create(m, t, rows, n, errstr);
	} else {
		/* A few hundred bytes a row: chunks stay far below Directus'
		 * default 1 MB body limit. */
		m->absent = false;
		for (i = 0, rc = 0; i < n && rc == 0; i += 1000)
			rc = coll_create_rows(m, t, rows + i,
			    n - i < 1000 ? n - i : 1000, errstr);
	}
	if (rc < 0)
		return rc;
	for (i = 0; i < n; i++)
		rows[i].result = t->rows[first + i].sync_id;
	return 0;
}

/* Forget row i of t (its slot stays, with NULL ids). */
static void table_forget(struct table *t, size_t i)
{
	struct idmap_row *r = &t->rows[i];

	if (r->sync_id == NULL)
		return;
	strmap_del(t->by_local, r->local_id);
	strmap_del(t->by_sync, r->sync_id);
	free(r->sync_id);
	free(r->local_id);
	free(r->row_id);
	r->sync_id = r->local_id = r->row_id = NULL;
}

int idmap_remove(struct idmap *m, const char *table,
    const char *const *sync_ids, size_t n, char **errstr)
{
	struct table *t = table_get(m, table, 0);
	struct dx_call *calls;
	struct json *ids = NULL;
	size_t i, ncalls = 0;
	int rc = -1;

	if (t == NULL || n == 0)
		return 0;
	calls = xcalloc(n, sizeof(*calls));
	if (m->backend == IDMAP_EXTENSION) {
		char *esc = dx_escape(table);

		for (i = 0; i < n; i++) {
			char *p, *se = dx_escape(sync_ids[i]);

			xasprintf(&p, EXT "/table/%s/sync_id/%s", esc, se);
			free(se);
			dx_call_init(&calls[ncalls++], "DELETE", p, NULL, 0);
		}
		free(esc);
	} else if (!m->absent) {
		/* Row ids in bodies of at most 1000 (far below 1 MB). */
		for (i = 0; i < n; i++) {
			uintptr_t k = (uintptr_t)strmap_get(t->by_sync,
			    sync_ids[i]);

			if (k == 0 || t->rows[k - 1].row_id == NULL)
				continue;
			if (ids == NULL)
				ids = json_new_array();
			json_array_append(ids,
			    json_new_string(t->rows[k - 1].row_id));
			if (ids->u.arr.len == 1000) {
				dx_call_init(&calls[ncalls++], "DELETE",
				    xstrdup(COLL), ids, 0);
				ids = NULL;
			}
		}
		if (ids) {
			dx_call_init(&calls[ncalls++], "DELETE", xstrdup(COLL),
			    ids, 0);
			ids = NULL;
		}
	}
	if (ncalls && (rc = dx_run(m->dx, calls, ncalls, errstr)) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		uintptr_t k = (uintptr_t)strmap_get(t->by_sync, sync_ids[i]);

		if (k)
			table_forget(t, k - 1);
	}
	rc = 0;
fail:
	for (i = 0; i < ncalls; i++)
		dx_call_clear(&calls[i]);
	free(calls);
	json_free(ids);
	return rc;
}

bool idmap_absent(const struct idmap *m)
{
	return m->absent;
}

int idmap_save(struct idmap *m, char **errstr)
{
	size_t i, k;

	m->flags |= IDMAP_OPEN_CREATE;
	m->flags &= ~(unsigned)IDMAP_OPEN_DEFER;
	for (i = 0; i < m->ntables; i++) {
		struct table *t = &m->tables[i];
		struct idmap_new *rows = xcalloc(t->len + 1, sizeof(*rows));
		char **sids = xcalloc(t->len + 1, sizeof(char *));
		size_t n = 0;
		int rc;

		for (k = 0; k < t->len; k++) {
			if (t->rows[k].sync_id == NULL || !t->rows[k].unsaved)
				continue;
			sids[n] = xstrdup(t->rows[k].sync_id);
			rows[n].local_id = xstrdup(t->rows[k].local_id);
			rows[n].sync_id = sids[n];
			n++;
			table_forget(t, k);
		}
		rc = idmap_create(m, t->name, rows, n, errstr);
		for (k = 0; k < n; k++) {
			free(sids[k]);
			free((char *)rows[k].local_id);
		}
		free(sids);
		free(rows);
		if (rc < 0)
			return rc;
	}
	if (m->absent && m->backend == IDMAP_COLLECTION) {
		int rc;

		if ((rc = coll_create(m, errstr)) < 0)
			return rc;
		m->absent = false;
	}
	return 0;
}
