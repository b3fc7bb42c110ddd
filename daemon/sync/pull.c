/*
 * pull: instance -> dump tree, as directus-sync pull does it, in four
 * steps: read everything (parallel GETs, one per mapping table), give
 * every item a SyncID (creating the missing map rows), turn items into
 * their dump form, then write the new tree beside the old one and swap.
 * Nothing is written before every read has succeeded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "collate.h"
#include "collections.h"
#include "dump.h"
#include "hook.h"
#include "idmap.h"
#include "json.h"
#include "load.h"
#include "placeholder.h"
#include "public.h"
#include "plan.h"
#include "schema.h"
#include "transform.h"
#include "sync.h"
#include "xmalloc.h"

enum { SPEC_ITEM, SPEC_SYSTEM, SPEC_OAS, SPEC_COUNT };

struct pull {
	struct sync_ctx *ctx;
	const struct sync_opts *o;
	struct idmap *map;
	unsigned selected;
	struct json *items[COLL_COUNT]; /* arrays */
	struct placeholders ph;
	char *collections_rel, *snapshot_rel, *specs_rel;
	struct dump_stage *stage;
	struct sync_stats *st;
	const char *root; /* the dump tree (locked) */
};

static const char *const spec_paths[SPEC_COUNT] = {
	"/server/specs/graphql",
	"/server/specs/graphql/system",
	"/server/specs/oas",
};
static const char *const spec_files[SPEC_COUNT] = {
	"item.graphql",
	"system.graphql",
	"openapi.json",
};

static char *rel_join(const char *dir, const char *name)
{
	char *r;

	if (dir[0] == '\0')
		return xstrdup(name);
	xasprintf(&r, "%s/%s", dir, name);
	return r;
}

/* The SyncID a new map row gets, as directus-sync's id mappers choose
 * it: a placeholder, the id itself when ids are preserved, or random. */
static const char *wanted_sync_id(struct pull *p, const struct coll_rule *r,
    const char *local_id)
{
	const char *ph = ph_sync_id(&p->ph, r->name, local_id);

	if (ph)
		return ph;
	if (sync_opts_preserves(p->o, r->name))
		return local_id;
	return NULL;
}

/* Give every item of collection i a map row. */
static int assign_sync_ids(struct pull *p, size_t ci, char **errstr)
{
	const struct coll_rule *r = &coll_rules[ci];
	struct json *arr = p->items[ci];
	struct idmap_new *rows;
	char **lids;
	size_t i, n = 0;
	int rc = SYNC_EPROTO;

	/* Rows without an id (virtual admin permissions) are not items. */
	for (i = arr->u.arr.len; i-- > 0;)
		if (json_is_null(json_get(arr->u.arr.items[i], "id")))
			json_array_remove(arr, i);
	rows = xcalloc(arr->u.arr.len + 1, sizeof(*rows));
	lids = xcalloc(arr->u.arr.len + 1, sizeof(char *));
	for (i = 0; i < arr->u.arr.len; i++) {
		char *lid = json_scalar_string(
		    json_get(arr->u.arr.items[i], "id"));

		if (lid == NULL) {
			xasprintf(errstr,
			    "%s: an item has an id that is neither"
			    " a string nor a number",
			    r->name);
			goto fail;
		}
		if (idmap_by_local(p->map, r->name, lid)) {
			free(lid);
			continue;
		}
		lids[n] = lid;
		rows[n].local_id = lid;
		n++;
	}
	if (n == 0) {
		rc = 0;
		goto fail;
	}
	if ((strcmp(r->name, "roles") == 0 ||
		strcmp(r->name, "policies") == 0) &&
	    (rc = ph_fetch(p->ctx->dx, &p->ph, errstr)) < 0)
		goto fail;
	for (i = 0; i < n; i++)
		rows[i].sync_id = wanted_sync_id(p, r, rows[i].local_id);
	sync_logf(p->ctx, SYNC_DEBUG, "[%s] Creating %zu id map(s)", r->name,
	    n);
	if ((rc = idmap_create(p->map, r->name, rows, n, errstr)) < 0)
		goto fail;
	p->st->map_rows_created += n;
	rc = 0;
fail:
	for (i = 0; i < n; i++)
		free(lids[i]);
	free(lids);
	free(rows);
	return rc;
}

/* Every item of collection i gets its SyncID, and loses its id. */
static int tag_all(struct pull *p, size_t ci, char **errstr)
{
	const struct coll_rule *r = &coll_rules[ci];
	struct json *arr = p->items[ci];
	size_t i;

	for (i = 0; i < arr->u.arr.len; i++) {
		struct json *it = arr->u.arr.items[i];
		char *lid = json_scalar_string(json_get(it, "id"));
		const struct idmap_row *row = idmap_by_local(p->map, r->name,
		    lid);

		free(lid);
		if (row == NULL) {
			xasprintf(errstr, "%s: an item lost its id map row",
			    r->name);
			return SYNC_EFAIL;
		}
		xform_tag(it, row->sync_id);
	}
	return 0;
}

/* Turn collection i's items into their dump form: their SyncIDs, the
 * onDump hook when there is one, then the rest. */
static int postprocess(struct pull *p, size_t ci, char **errstr)
{
	const struct coll_rule *r = &coll_rules[ci];
	struct json *arr;
	size_t i;
	int rc;

	if ((rc = tag_all(p, ci, errstr)) < 0 ||
	    (rc = hook_run(p->ctx, (int)ci, HOOK_DUMP, &p->items[ci], errstr)) <
		0)
		return rc;
	arr = p->items[ci];
	for (i = 0; i < arr->u.arr.len; i++)
		if (xform_finish(p->map, p->o, r, arr->u.arr.items[i], errstr) <
		    0)
			return SYNC_EPROTO;
	return 0;
}

/* The string an item sorts by, as the reference's template strings
 * build it (String(undefined) included). */
static char *sort_key(const struct coll_rule *r, const struct json *it)
{
	char *s, *a, *b, *c;

	switch (r->sort) {
	case COLL_SORT_KEY:
		s = json_scalar_string(json_get(it, "key"));
		return s ? s :
			   xstrdup(json_get(it, "key") ? "null" : "undefined");
	case COLL_SORT_PERMISSION:
		a = json_scalar_string(json_get(it, "policy"));
		b = json_scalar_string(json_get(it, "collection"));
		c = json_scalar_string(json_get(it, "action"));
		xasprintf(&s, "%s-%s-%s", a ? a : "null", b ? b : "null",
		    c ? c : "null");
		free(a);
		free(b);
		free(c);
		return s;
	default:
		return json_scalar_string(json_get(it, "_syncId"));
	}
}

struct keyed {
	char *key;
	struct json *item;
};

/* Stable merge sort, as Array.prototype.sort is stable. */
static void merge_sort(struct keyed *a, struct keyed *tmp, size_t n)
{
	size_t mid = n / 2, i = 0, j = mid, k = 0;

	if (n < 2)
		return;
	merge_sort(a, tmp, mid);
	merge_sort(a + mid, tmp, n - mid);
	while (i < mid && j < n)
		tmp[k++] = collate_compare(a[j].key, a[i].key) < 0 ? a[j++] :
								     a[i++];
	while (i < mid)
		tmp[k++] = a[i++];
	while (j < n)
		tmp[k++] = a[j++];
	memcpy(a, tmp, n * sizeof(*a));
}

void pull_sort_items(const struct coll_rule *r, struct json *arr)
{
	size_t n = arr->u.arr.len, i;
	struct keyed *k = xcalloc(n + 1, sizeof(*k));
	struct keyed *tmp = xcalloc(n + 1, sizeof(*tmp));

	for (i = 0; i < n; i++) {
		k[i].item = arr->u.arr.items[i];
		k[i].key = sort_key(r, k[i].item);
		if (k[i].key == NULL)
			k[i].key = xstrdup("");
	}
	merge_sort(k, tmp, n);
	for (i = 0; i < n; i++) {
		arr->u.arr.items[i] = k[i].item;
		free(k[i].key);
	}
	free(k);
	free(tmp);
}

char *pull_format(struct json *v, bool sort, size_t *lenp)
{
	char *text;
	size_t len;

	if (sort)
		json_sort_keys(v);
	text = json_write(v, true, &len);
	text = xreallocarray(text, len + 2, 1);
	text[len++] = '\n';
	text[len] = '\0';
	*lenp = len;
	return text;
}

/* JSON.stringify(v, null, 2) + "\n" into the staging tree. */
static int write_json(struct pull *p, const char *rel, struct json *v,
    bool sort, char **errstr)
{
	char *text;
	size_t len;
	int rc;

	text = pull_format(v, sort, &len);
	rc = dump_stage_write(p->stage, rel, text, len, errstr);
	free(text);
	if (rc == 0)
		p->st->files++;
	return rc;
}

static int snapshot_file_cb(void *arg, const char *rel,
    const struct json *content, char **errstr)
{
	struct pull *p = arg;
	char *full = rel_join(p->snapshot_rel, rel);
	int rc = write_json(p, full, (struct json *)content, p->o->sort_json,
	    errstr);

	free(full);
	return rc;
}

/* openapi.json: Directus 11.11 puts a fresh value in info.version on
 * every request; when nothing else changed, the old file stays. The
 * comparison is on the text, around the one value that may differ, so
 * that the old file need not be parsed. */
static int write_openapi(struct pull *p, const struct json *fresh,
    char **errstr)
{
	const char *ver;
	char *rel = rel_join(p->specs_rel, spec_files[SPEC_OAS]), *old = NULL;
	char *text, *needle, *at;
	size_t len, oldlen = 0;
	int rc;

	if (fresh == NULL) {
		*errstr = xstrdup("GET /server/specs/oas: empty answer");
		free(rel);
		return SYNC_EPROTO;
	}
	text = json_write(fresh, true, &len);
	text = xreallocarray(text, len + 2, 1);
	text[len++] = '\n';
	text[len] = '\0';
	ver = json_str(json_get(json_get(fresh, "info"), "version"));
	if (ver && dump_stage_read_old(p->stage, rel, &old, &oldlen) == 0 &&
	    old && oldlen == len) {
		xasprintf(&needle, "\n    \"version\": \"%s\"", ver);
		at = strstr(text, needle);
		if (at) {
			size_t start = (size_t)(at - text) + strlen(needle) -
			    strlen(ver) - 1,
			       end = start + strlen(ver);

			if (memcmp(old, text, start) == 0 &&
			    memcmp(old + end, text + end, len - end) == 0 &&
			    dump_stage_keep(p->stage, rel) == 0) {
				sync_logf(p->ctx, SYNC_DEBUG,
				    "[specifications]"
				    " openapi.json unchanged but for "
				    "info.version: kept");
				p->st->files++;
				free(needle);
				free(old);
				free(text);
				free(rel);
				return 0;
			}
		}
		free(needle);
	}
	free(old);
	rc = dump_stage_write(p->stage, rel, text, len, errstr);
	if (rc == 0)
		p->st->files++;
	free(text);
	free(rel);
	return rc;
}

/* What the pull owns in the tree: the snapshot directory, the specs and
 * the files of the selected collections. A file there that the pull
 * does not write again is removed; everything else in the tree is left
 * alone. The schema and specs are written as soon as they arrive and
 * freed, which keeps the pull's peak memory low. */
static int begin_tree(struct pull *p, char **errstr)
{
	size_t i;
	int rc;

	if ((rc = dump_stage_begin(p->root, &p->stage, errstr)) < 0)
		return rc;
	if (p->o->snapshot)
		dump_stage_own_dir(p->stage, p->snapshot_rel);
	for (i = 0; p->o->specs && i < SPEC_COUNT; i++) {
		char *f = rel_join(p->specs_rel, spec_files[i]);

		dump_stage_own_file(p->stage, f);
		free(f);
	}
	for (i = 0; i < COLL_COUNT; i++) {
		char *name, *f;

		if (!(p->selected & coll_bit(&coll_rules[i])))
			continue;
		xasprintf(&name, "%s.json", coll_rules[i].name);
		f = rel_join(p->collections_rel, name);
		dump_stage_own_file(p->stage, f);
		free(f);
		free(name);
	}
	/* Both folders exist after any run, as with the reference. */
	if (p->collections_rel[0] &&
	    (rc = dump_stage_write_dir(p->stage, p->collections_rel, errstr)) <
		0)
		return rc;
	return dump_stage_write_dir(p->stage, p->snapshot_rel, errstr);
}

/* snapshot.onSave: the snapshot as the dump would hold it, through the
 * hook; its answer must still be a snapshot. */
static int snapshot_hook(struct pull *p, struct json **snap, char **errstr)
{
	char *why = NULL;
	int rc;

	if ((rc = schema_check_snapshot("GET /schema/snapshot", *snap,
		 errstr)) < 0)
		return rc;
	schema_filter(*snap);
	if ((rc = hook_run(p->ctx, HOOK_SNAPSHOT, HOOK_SAVE, snap, errstr)) < 0)
		return rc;
	if (schema_check_snapshot("the answer", *snap, &why) < 0) {
		xasprintf(errstr,
		    "hook snapshot.onSave: %s; nothing was written", why);
		free(why);
		return SYNC_EFAIL;
	}
	return 0;
}

static int snapshot_done(struct dx_call *c, void *arg, char **errstr)
{
	struct pull *p = arg;
	struct json *snap = json_take(c->result, "data");
	int rc;

	json_free(c->result);
	c->result = NULL;
	if (hook_set(p->o, HOOK_SNAPSHOT, HOOK_SAVE) &&
	    (rc = snapshot_hook(p, &snap, errstr)) < 0) {
		json_free(snap);
		return rc;
	}
	rc = schema_to_files(snap, p->o->split, snapshot_file_cb, p, errstr);
	if (rc == SYNC_EPROTO && *errstr &&
	    strncmp(*errstr, "GET /schema/snapshot", 20) != 0) {
		char *m;

		xasprintf(&m, "GET /schema/snapshot: %s; nothing was written",
		    *errstr);
		free(*errstr);
		*errstr = m;
	}
	return rc;
}

static int spec_done(struct dx_call *c, void *arg, char **errstr)
{
	struct pull *p = arg;
	size_t i;
	char *rel;
	int rc;

	for (i = 0; i < SPEC_COUNT; i++)
		if (strcmp(c->path, spec_paths[i]) == 0)
			break;
	if (i == SPEC_OAS) {
		rc = write_openapi(p, c->result, errstr);
		json_free(c->result);
		c->result = NULL;
		return rc;
	}
	rel = rel_join(p->specs_rel, spec_files[i]);
	rc = dump_stage_write(p->stage, rel, c->raw ? c->raw : "", c->rawlen,
	    errstr);
	free(rel);
	free(c->raw);
	c->raw = NULL;
	if (rc == 0)
		p->st->files++;
	return rc;
}

/* Read the schema, specs and collections in one parallel batch. */
/* The items a pull would write have the types diff and push require
 * (load_check_item): a tree that would not load is never written. The
 * synthetic permissions of an admin ("system": true) are dropped later. */
static int check_items(const struct coll_rule *r, const struct dx_call *call,
    const struct json *items, char **errstr)
{
	size_t i;

	for (i = 0; i < items->u.arr.len; i++) {
		const struct json *it = items->u.arr.items[i];
		const struct json *sys = json_get(it, "system");
		char *where, *id;
		int rc;

		if (sys && sys->type == JSON_TRUE)
			continue;
		id = json_scalar_string(json_get(it, "id"));
		xasprintf(&where, "GET %s: item %zu (id %s)", call->path, i + 1,
		    id ? id : "?");
		rc = load_check_item(where, r->name, it, errstr);
		free(where);
		free(id);
		if (rc < 0)
			return SYNC_EPROTO;
	}
	return 0;
}

/* A query object as URL parameters: lists joined by commas (fields,
 * sort), objects as JSON (filter, deep), the rest as it is. */
static void add_params(struct buf *b, const struct json *q)
{
	size_t i, k;

	for (i = 0; i < q->u.obj.len; i++) {
		const struct json *v = q->u.obj.members[i].val;
		char *text, *esc;
		struct buf l;

		if (v->type == JSON_ARRAY) {
			buf_init(&l);
			for (k = 0; k < v->u.arr.len; k++) {
				char *s = json_scalar_string(v->u.arr.items[k]);

				buf_addf(&l, "%s%s", k ? "," : "", s ? s : "");
				free(s);
			}
			text = buf_steal(&l, NULL);
		} else if ((text = json_scalar_string(v)) == NULL)
			text = json_write(v, false, NULL);
		esc = dx_escape(text);
		buf_addf(b, "%s%s=%s", b->len ? "&" : "?",
		    q->u.obj.members[i].key, esc);
		free(esc);
		free(text);
	}
}

/* Deep merge b into a, as the reference's deepmerge (arrays joined). */
static void deep_merge(struct json *a, const struct json *b)
{
	size_t i, k;

	for (i = 0; i < b->u.obj.len; i++) {
		const char *key = b->u.obj.members[i].key;
		const struct json *bv = b->u.obj.members[i].val;
		struct json *av = json_get(a, key);

		if (av && av->type == JSON_OBJECT && bv->type == JSON_OBJECT)
			deep_merge(av, bv);
		else if (av && av->type == JSON_ARRAY && bv->type == JSON_ARRAY)
			for (k = 0; k < bv->u.arr.len; k++)
				json_array_append(av,
				    json_copy(bv->u.arr.items[k]));
		else
			json_set(a, key, json_copy(bv));
	}
}

/* The path of collection r's read: {limit: -1} through the onQuery hook,
 * then what the collection itself needs, as the reference adds it
 * (presets: no user's own; policies: their role links; settings: no
 * filter). */
static int query_path(struct pull *p, size_t ci, char **path, char **errstr)
{
	const struct coll_rule *r = &coll_rules[ci];
	static const char base[] = "{\"limit\":-1}",
			  presets[] =
			      "{\"filter\":{\"user\":{\"_null\":true}}}",
			  policies[] = "{\"fields\":[\"*\",\"roles.role\","
				       "\"roles.user\",\"roles.sort\"]}";
	struct json *q = json_parse(base, strlen(base), NULL), *own = NULL;
	struct buf b;
	int rc;

	if ((rc = hook_run(p->ctx, (int)ci, HOOK_QUERY, &q, errstr)) < 0) {
		json_free(q);
		return rc;
	}
	if (strcmp(r->name, "presets") == 0)
		own = json_parse(presets, strlen(presets), NULL);
	else if (strcmp(r->name, "policies") == 0 && p->o->sync_policy_roles)
		own = json_parse(policies, strlen(policies), NULL);
	else if (strcmp(r->name, "settings") == 0)
		json_del(q, "filter");
	if (own)
		deep_merge(q, own);
	json_free(own);
	buf_init(&b);
	add_params(&b, q);
	xasprintf(path, "%s%s", r->endpoint, b.data ? b.data : "");
	buf_clear(&b);
	json_free(q);
	return 0;
}

static int fetch_all(struct pull *p, char **errstr)
{
	struct dx_call calls[1 + SPEC_COUNT + COLL_COUNT];
	int idx_coll[COLL_COUNT];
	size_t n = 0, i;
	int rc;

	memset(calls, 0, sizeof(calls));
	if (p->o->snapshot) {
		dx_call_init(&calls[n], "GET", xstrdup("/schema/snapshot"),
		    NULL, 0);
		calls[n].done = snapshot_done;
		calls[n++].done_arg = p;
	}
	if (p->o->specs)
		for (i = 0; i < SPEC_COUNT; i++) {
			dx_call_init(&calls[n], "GET", xstrdup(spec_paths[i]),
			    NULL, i == SPEC_OAS ? 0 : DX_RAW);
			calls[n].done = spec_done;
			calls[n++].done_arg = p;
		}
	for (i = 0; i < COLL_COUNT; i++) {
		const struct coll_rule *r = &coll_rules[i];
		const char *q = r->query ? r->query : "";
		char *path;

		idx_coll[i] = -1;
		if (!(p->selected & coll_bit(r)))
			continue;
		if (strcmp(r->name, "policies") == 0 &&
		    !p->o->sync_policy_roles)
			q = "";
		if (!hook_set(p->o, (int)i, HOOK_QUERY))
			xasprintf(&path, "%s?limit=-1%s", r->endpoint, q);
		else if ((rc = query_path(p, i, &path, errstr)) < 0)
			goto fail;
		idx_coll[i] = (int)n;
		dx_call_init(&calls[n++], "GET", path, NULL, 0);
	}
	sync_logf(p->ctx, SYNC_DEBUG, "Reading the collections%s%s",
	    p->o->snapshot ? ", the schema" : "",
	    p->o->specs ? " and the specs" : "");
	/* One batch: the requests overlap on the server. */
	if ((rc = dx_run(p->ctx->dx, calls, n, errstr)) < 0)
		goto fail;
	for (i = 0; i < COLL_COUNT; i++) {
		if (idx_coll[i] < 0)
			continue;
		if ((rc = coll_take_list(&coll_rules[i], &calls[idx_coll[i]],
			 &p->items[i], errstr)) < 0 ||
		    (rc = check_items(&coll_rules[i], &calls[idx_coll[i]],
			 p->items[i], errstr)) < 0)
			goto fail;
	}
	rc = 0;
fail:
	for (i = 0; i < n; i++)
		dx_call_clear(&calls[i]);
	return rc;
}

/* Post-process, sort and write collection i, then free its items. */
static int write_collection(struct pull *p, size_t i, char **errstr)
{
	char *name, *rel;
	int rc;

	if ((rc = postprocess(p, i, errstr)) < 0)
		return rc;
	pull_sort_items(&coll_rules[i], p->items[i]);
	if ((rc = hook_run(p->ctx, (int)i, HOOK_SAVE, &p->items[i], errstr)) <
	    0)
		return rc;
	sync_logf(p->ctx, SYNC_DEBUG, "[%s] Pulled %zu items.",
	    coll_rules[i].name, p->items[i]->u.arr.len);
	xasprintf(&name, "%s.json", coll_rules[i].name);
	rel = rel_join(p->collections_rel, name);
	free(name);
	rc = write_json(p, rel, p->items[i], p->o->sort_json, errstr);
	free(rel);
	if (rc < 0)
		return rc;
	p->st->items += p->items[i]->u.arr.len;
	json_free(p->items[i]);
	p->items[i] = NULL;
	return 0;
}

static void pull_clear(struct pull *p)
{
	size_t i;

	if (p->stage)
		sync_logf(p->ctx, SYNC_DEBUG,
		    "The dump tree is left as it was: "
		    "discarded %zu staged file(s)",
		    dump_stage_changes(p->stage));

	idmap_free(p->map);
	for (i = 0; i < COLL_COUNT; i++)
		json_free(p->items[i]);
	ph_clear(&p->ph);
	free(p->collections_rel);
	free(p->snapshot_rel);
	free(p->specs_rel);
	dump_stage_abort(p->stage);
}

/* Check the paths, then the instance and its map. */
static int pull_prepare(struct pull *p, char **errstr)
{
	struct sync_ctx *ctx = p->ctx;
	int rc;

	if ((rc = dump_check_relpath("collections path", p->collections_rel,
		 errstr)) < 0 ||
	    (rc = dump_check_relpath("snapshot path", p->snapshot_rel,
		 errstr)) < 0 ||
	    (rc = dump_check_relpath("specs path", p->specs_rel, errstr)) < 0)
		return rc;
	if (p->o->snapshot && p->snapshot_rel[0] == '\0') {
		*errstr = xstrdup(
		    "the snapshot path must be a directory inside "
		    "the dump, not the dump itself");
		return SYNC_EDUMP;
	}
	if ((rc = sync_check_instance(ctx, p->st, errstr)) < 0)
		return rc;
	if ((rc = dx_request(ctx->dx, "POST", "/utils/cache/clear", NULL, NULL,
		 errstr)) < 0)
		return rc;
	p->map = idmap_new(ctx->dx, p->o->id_map);
	if (p->selected &&
	    (rc = idmap_open(p->map, IDMAP_OPEN_CREATE, errstr)) < 0)
		return rc;
	if (p->selected)
		sync_logf(ctx, SYNC_DEBUG, "SyncID map: %s",
		    idmap_backend_name(idmap_backend(p->map)));
	return 0;
}

int sync_pull(struct sync_ctx *ctx, struct sync_stats *st, char **errstr)
{
	struct pull p;
	struct sync_run run;
	const char *tables[COLL_COUNT];
	size_t i, nt;
	int rc;

	memset(&p, 0, sizeof(p));
	if ((rc = sync_run_begin(&run, ctx, st, RUN_LOCK | RUN_LOCK_CREATE,
		 errstr)) < 0)
		return rc;
	p.ctx = ctx;
	p.o = ctx->opts;
	p.st = run.st;
	p.root = run.root;
	p.selected = sync_opts_selected(p.o);
	p.collections_rel = dump_norm_rel(p.o->collections_path);
	p.snapshot_rel = dump_norm_rel(p.o->snapshot_path);
	p.specs_rel = dump_norm_rel(p.o->specs_path);
	if ((rc = pull_prepare(&p, errstr)) < 0 ||
	    (rc = begin_tree(&p, errstr)) < 0 ||
	    (rc = fetch_all(&p, errstr)) < 0)
		goto fail;
	/* The map tables of the selected collections and their targets. */
	nt = coll_tables_needed(p.selected, tables);
	if (nt && (rc = idmap_load(p.map, tables, nt, errstr)) < 0)
		goto fail;
	if (p.items[coll_find("policies") - coll_rules] &&
	    (rc = public_relabel(ctx, p.map, &p.ph,
		 p.items[coll_find("policies") - coll_rules], errstr)) < 0)
		goto fail;
	for (i = 0; i < COLL_COUNT; i++)
		if (p.items[i] && (rc = assign_sync_ids(&p, i, errstr)) < 0)
			goto fail;
	for (i = 0; i < COLL_COUNT; i++)
		if (p.items[i] && (rc = write_collection(&p, i, errstr)) < 0)
			goto fail;
	if (sync_cancelled(ctx)) {
		*errstr = xstrdup("cancelled");
		rc = SYNC_ECANCELED;
		goto fail;
	}
	rc = dump_stage_commit(p.stage, &p.st->tree_changed, errstr);
	p.stage = NULL;
fail:
	pull_clear(&p);
	return sync_run_end(&run, rc);
}
