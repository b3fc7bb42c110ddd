/*
 * load: reading the dump tree back. Every message names the file.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "fsutil.h"
#include "hook.h"
#include "load.h"
#include "public.h"
#include "result.h"
#include "schema.h"
#include "strmap.h"
#include "xmalloc.h"

/*
 * The JSON types of the fields Directus 11 defines for the collections
 * dsync tracks, as its /fields answer gives them. A value of another
 * type in the dump is an error before any request: Directus would take
 * a number for a name, or refuse the item in the middle of a push. Null
 * is always let through, also where the column is marked not nullable:
 * instances hold such nulls (a flow made through the API without an
 * icon), a pull writes them as they are, as directus-sync does, and
 * whether a null may be written is Directus' own decision. Fields not
 * named here (json columns, new ones) are not checked.
 */
enum {
	T_NULL = 1 << 0,
	T_BOOL = 1 << 1,
	T_INT = 1 << 2, /* a number with an integral value */
	T_STR = 1 << 3,
	T_ARR = 1 << 4,	   /* of strings, for csv columns */
	T_ACCESS = 1 << 5, /* policies.roles: an array of access rows */
};
#define S T_STR
#define S0 (T_STR | T_NULL)
#define B T_BOOL
#define B0 (T_BOOL | T_NULL)
#define I T_INT
#define I0 (T_INT | T_NULL)
#define CSV (T_ARR | T_STR | T_NULL)

struct field_type {
	const char *coll, *field;
	unsigned types;
};

static const struct field_type field_types[] = {
	{ "flows", "name", S },
	{ "flows", "icon", S },
	{ "flows", "color", S0 },
	{ "flows", "description", S0 },
	{ "flows", "status", S },
	{ "flows", "trigger", S0 },
	{ "flows", "accountability", S0 },
	{ "flows", "operation", S0 },
	{ "operations", "name", S0 },
	{ "operations", "key", S },
	{ "operations", "type", S },
	{ "operations", "position_x", I },
	{ "operations", "position_y", I },
	{ "operations", "resolve", S0 },
	{ "operations", "reject", S0 },
	{ "operations", "flow", S },
	{ "roles", "name", S },
	{ "roles", "icon", S },
	{ "roles", "description", S0 },
	{ "roles", "parent", S0 },
	{ "policies", "name", S },
	{ "policies", "icon", S },
	{ "policies", "description", S0 },
	{ "policies", "ip_access", CSV },
	{ "policies", "enforce_tfa", B },
	{ "policies", "admin_access", B },
	{ "policies", "app_access", B },
	{ "policies", "roles", T_ACCESS },
	{ "permissions", "collection", S },
	{ "permissions", "action", S },
	{ "permissions", "fields", CSV },
	{ "permissions", "policy", S },
	{ "dashboards", "name", S },
	{ "dashboards", "icon", S },
	{ "dashboards", "note", S0 },
	{ "dashboards", "color", S0 },
	{ "panels", "dashboard", S },
	{ "panels", "name", S0 },
	{ "panels", "icon", S0 },
	{ "panels", "color", S0 },
	{ "panels", "show_header", B },
	{ "panels", "note", S0 },
	{ "panels", "type", S },
	{ "panels", "position_x", I },
	{ "panels", "position_y", I },
	{ "panels", "width", I },
	{ "panels", "height", I },
	{ "presets", "bookmark", S0 },
	{ "presets", "role", S0 },
	{ "presets", "collection", S0 },
	{ "presets", "search", S0 },
	{ "presets", "layout", S0 },
	{ "presets", "refresh_interval", I0 },
	{ "presets", "icon", S0 },
	{ "presets", "color", S0 },
	{ "translations", "language", S },
	{ "translations", "key", S },
	{ "translations", "value", S },
	{ "folders", "name", S },
	{ "folders", "parent", S0 },
	{ "settings", "project_name", S },
	{ "settings", "project_color", S },
	{ "settings", "public_note", S0 },
	{ "settings", "auth_login_attempts", I0 },
	{ "settings", "auth_password_policy", S0 },
	{ "settings", "storage_asset_transform", S0 },
	{ "settings", "custom_css", S0 },
	{ "settings", "storage_default_folder", S0 },
	{ "settings", "mapbox_key", S0 },
	{ "settings", "project_descriptor", S0 },
	{ "settings", "default_language", S },
	{ "settings", "default_appearance", S },
	{ "settings", "default_theme_light", S0 },
	{ "settings", "default_theme_dark", S0 },
	{ "settings", "report_error_url", S0 },
	{ "settings", "report_bug_url", S0 },
	{ "settings", "report_feature_url", S0 },
	{ "settings", "public_registration", B },
	{ "settings", "public_registration_verify_email", B },
	{ "settings", "public_registration_role", S0 },
	{ "settings", "accepted_terms", B0 },
	{ NULL, NULL, 0 },
};
#undef S
#undef S0
#undef B
#undef B0
#undef I
#undef I0
#undef CSV

/* "a string", "an object", ... for messages. */
static const char *type_name(const struct json *v)
{
	switch (v->type) {
	case JSON_NULL:
		return "null";
	case JSON_FALSE:
	case JSON_TRUE:
		return "a boolean";
	case JSON_NUMBER:
		return "a number";
	case JSON_STRING:
		return "a string";
	case JSON_ARRAY:
		return "an array";
	default:
		return "an object";
	}
}

static bool is_int(const struct json *v)
{
	double d = v->u.num;

	/* within 2^53: the cast is defined, and Directus' integers are
	 * 32-bit anyway */
	return v->type == JSON_NUMBER && d >= -9007199254740992.0 &&
	    d <= 9007199254740992.0 && d == (double)(long long)d;
}

static bool all_strings(const struct json *v)
{
	size_t i;

	for (i = 0; i < v->u.arr.len; i++)
		if (v->u.arr.items[i]->type != JSON_STRING)
			return false;
	return true;
}

/* What is wrong with an access row of policies.roles, or NULL. */
static const char *access_bad(const struct json *a)
{
	const struct json *v;

	if (a->type != JSON_OBJECT)
		return "is not an object";
	if ((v = json_get(a, "role")) && v->type != JSON_STRING &&
	    v->type != JSON_NULL)
		return "has a \"role\" that is neither a SyncID nor null";
	if ((v = json_get(a, "user")) && v->type != JSON_STRING &&
	    v->type != JSON_NULL)
		return "has a \"user\" that is neither an id nor null";
	if ((v = json_get(a, "sort")) && !is_int(v) && v->type != JSON_NULL)
		return "has a \"sort\" that is not an integer";
	return NULL;
}

static bool type_ok(const struct json *v, unsigned t, char **why)
{
	size_t i;
	const char *bad;

	*why = NULL;
	switch (v->type) {
	case JSON_NULL:
		return t & T_NULL;
	case JSON_FALSE:
	case JSON_TRUE:
		return t & T_BOOL;
	case JSON_NUMBER:
		return (t & T_INT) && is_int(v);
	case JSON_STRING:
		return t & T_STR;
	case JSON_ARRAY:
		if (t & T_ARR)
			return all_strings(v);
		if (!(t & T_ACCESS))
			return false;
		for (i = 0; i < v->u.arr.len; i++)
			if ((bad = access_bad(v->u.arr.items[i])) != NULL) {
				xasprintf(why, "element %zu %s", i + 1, bad);
				return false;
			}
		return true;
	default:
		return false;
	}
}

static const char *expected(unsigned t)
{
	if (t & T_ACCESS)
		return "an array of access rows {role, user, sort}";
	if (t & T_ARR)
		return "an array of strings, a string or null";
	switch (t) {
	case T_STR:
		return "a string";
	case T_STR | T_NULL:
		return "a string or null";
	case T_BOOL:
		return "true or false";
	case T_BOOL | T_NULL:
		return "true, false or null";
	case T_INT:
		return "an integer";
	default:
		return "an integer or null";
	}
}

int load_check_item(const char *where, const char *coll, const struct json *it,
    char **errstr)
{
	const struct field_type *f;
	const struct json *v;
	char *why;

	for (f = field_types; f->coll; f++) {
		unsigned t = f->types | T_NULL;

		if (strcmp(f->coll, coll) != 0 ||
		    (v = json_get(it, f->field)) == NULL || type_ok(v, t, &why))
			continue;
		if (why)
			xasprintf(errstr, "%s: \"%s\": %s", where, f->field,
			    why);
		else
			xasprintf(errstr, "%s: \"%s\" is %s%s; expected %s",
			    where, f->field, type_name(v),
			    v->type == JSON_NUMBER && (t & T_INT) ?
				" that is not an integer" :
				"",
			    expected(t));
		free(why);
		return -1;
	}
	return 0;
}

/* The fields of item i (1-based) of collection coll have their types. */
static int check_types(const char *path, const char *coll, size_t i,
    const struct json *it, char **errstr)
{
	char *where;
	int rc;

	xasprintf(&where, "%s: item %zu (_syncId %s)", path, i,
	    json_str(json_get(it, "_syncId")));
	rc = load_check_item(where, coll, it, errstr);
	free(where);
	return rc < 0 ? SYNC_EDUMP : 0;
}

static int read_json(const char *path, struct json **out, char **errstr)
{
	char *data, *why = NULL;
	size_t len;
	int rc;

	rc = fs_read_file(path, &data, &len);
	if (rc == -ENOENT) {
		xasprintf(errstr,
		    "%s: no such file (a collection with no "
		    "items is written as [])",
		    path);
		return SYNC_EDUMP;
	}
	if (rc < 0) {
		xasprintf(errstr, "%s: %s", path, strerror(-rc));
		return SYNC_EDUMP;
	}
	*out = json_parse(data, len, &why);
	free(data);
	if (*out == NULL) {
		xasprintf(errstr, "%s: %s", path, why ? why : "not valid JSON");
		free(why);
		return SYNC_EDUMP;
	}
	return 0;
}

/*
 * directus-sync 3.4 wrote a policy's access rows as {role, sort}, and a
 * link to a user as {"role": null, "sort": n}, the same as the public
 * access. An element without "user" gets "user": null. One with a null
 * role outside the public policy refuses the dump (public_check_dump);
 * only without the policies' roles, where no access row is pushed, is it
 * dropped.
 */
static void policy_roles_compat(const struct sync_ctx *ctx, const char *path,
    struct json *item)
{
	struct json *roles = json_get(item, "roles");
	const char *sid = json_str(json_get(item, "_syncId"));
	size_t i;

	if (roles == NULL || roles->type != JSON_ARRAY)
		return;
	for (i = roles->u.arr.len; i-- > 0;) {
		struct json *a = roles->u.arr.items[i];

		if (a->type != JSON_OBJECT || json_get(a, "user"))
			continue;
		if (json_is_null(json_get(a, "role")) &&
		    strcmp(sid, PH_PUBLIC_POLICY) != 0) {
			sync_logf(ctx, SYNC_WARN,
			    "%s: policy %s: skipped a "
			    "link to a user (a {\"role\": null} element "
			    "written by directus-sync 3.4)",
			    path, sid);
			json_array_remove(roles, i);
			continue;
		}
		/* {role, user, sort}: the 3.5 order. */
		{
			struct json *sort = json_take(a, "sort");

			json_set(a, "user", json_new_null());
			if (sort)
				json_set(a, "sort", sort);
		}
	}
}

static int load_coll(const struct sync_ctx *ctx, const char *root,
    const struct coll_rule *r, bool hook, struct json **items, char **errstr);

int load_collection(const struct sync_ctx *ctx, const char *root,
    const struct coll_rule *r, struct json **items, char **errstr)
{
	return load_coll(ctx, root, r, true, items, errstr);
}

int load_collection_raw(const struct sync_ctx *ctx, const char *root,
    const struct coll_rule *r, struct json **items, char **errstr)
{
	return load_coll(ctx, root, r, false, items, errstr);
}

/* Every item an object with a non-empty, unique _syncId, and its fields
 * of the types Directus gives them. */
static int check_all(const char *path, const struct coll_rule *r,
    const struct json *arr, char **errstr)
{
	struct strmap *seen = strmap_new();
	size_t i;
	int rc = SYNC_EDUMP;

	for (i = 0; i < arr->u.arr.len; i++) {
		struct json *it = arr->u.arr.items[i];
		const char *sid = json_str(json_get(it, "_syncId"));
		void *prev;

		if (it->type != JSON_OBJECT) {
			xasprintf(errstr, "%s: item %zu is %s, not an object",
			    path, i + 1, type_name(it));
			goto out;
		}
		if (json_get(it, "_syncId") == NULL) {
			xasprintf(errstr, "%s: item %zu has no \"_syncId\"",
			    path, i + 1);
			goto out;
		}
		if (sid == NULL || sid[0] == '\0') {
			xasprintf(errstr,
			    "%s: item %zu: \"_syncId\" is %s; "
			    "expected a non-empty string",
			    path, i + 1,
			    sid ? "empty" : type_name(json_get(it, "_syncId")));
			goto out;
		}
		if ((prev = strmap_get(seen, sid)) != NULL) {
			xasprintf(errstr,
			    "%s: items %zu and %zu have the same _syncId %s",
			    path, (size_t)(uintptr_t)prev, i + 1, sid);
			goto out;
		}
		strmap_put(seen, sid, (void *)(uintptr_t)(i + 1));
		if (check_types(path, r->name, i + 1, it, errstr) < 0)
			goto out;
	}
	rc = 0;
out:
	strmap_free(seen);
	return rc;
}

static int load_coll(const struct sync_ctx *ctx, const char *root,
    const struct coll_rule *r, bool hook, struct json **items, char **errstr)
{
	const struct sync_opts *o = ctx->opts;
	char *dir = fs_join(root, o->collections_path), *name, *path;
	struct json *arr = NULL;
	size_t i;
	int rc = SYNC_EDUMP;

	xasprintf(&name, "%s.json", r->name);
	path = fs_join(dir, name);
	free(name);
	free(dir);
	if (read_json(path, &arr, errstr) < 0)
		goto out;
	/* onLoad: right after the file is read; what it answers is checked
	 * as the file would be. */
	if (hook && arr->type == JSON_ARRAY &&
	    (rc = hook_run(ctx, (int)(r - coll_rules), HOOK_LOAD, &arr,
		 errstr)) < 0)
		goto out;
	rc = SYNC_EDUMP;
	if (arr->type != JSON_ARRAY) {
		xasprintf(errstr, "%s: expected an array of items, not %s",
		    path, type_name(arr));
		goto out;
	}
	if (r->singleton && arr->u.arr.len > 1) {
		xasprintf(errstr,
		    "%s: holds %zu items; %s is one item (or none)", path,
		    arr->u.arr.len, r->name);
		goto out;
	}
	if (check_all(path, r, arr, errstr) < 0)
		goto out;
	if (strcmp(r->name, "policies") == 0) {
		if (o->sync_policy_roles &&
		    public_check_dump(arr, path, errstr) < 0)
			goto out;
		for (i = 0; i < arr->u.arr.len; i++)
			policy_roles_compat(ctx, path, arr->u.arr.items[i]);
	}
	*items = arr;
	arr = NULL;
	rc = 0;
out:
	json_free(arr);
	free(path);
	return rc;
}

void load_warn_unknown(const struct sync_ctx *ctx, const char *root)
{
	char *dir = fs_join(root, ctx->opts->collections_path);
	DIR *d = opendir(dir);
	struct dirent *e;

	free(dir);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		char *name;

		if (e->d_name[0] == '.' || l <= 5 ||
		    strcmp(e->d_name + l - 5, ".json") != 0)
			continue;
		name = xstrndup(e->d_name, l - 5);
		if (coll_find(name) == NULL)
			sync_logf(ctx, SYNC_WARN,
			    "%s/%s: not a collection dsync "
			    "syncs (settings, folders, translations, flows, "
			    "operations, roles, policies, permissions, "
			    "dashboards, panels, presets): left alone, as "
			    "directus-sync does",
			    ctx->opts->collections_path, e->d_name);
		free(name);
	}
	closedir(d);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A member that must be a non-empty string, or (opt) absent. */
static int need_str(const char *where, const struct json *v, const char *key,
    bool opt, bool null_ok, char **errstr)
{
	const struct json *m = json_get(v, key);

	if (m == NULL && opt)
		return 0;
	if (m == NULL) {
		xasprintf(errstr, "%s: no \"%s\"", where, key);
		return SYNC_EDUMP;
	}
	if ((m->type == JSON_NULL && null_ok) ||
	    (m->type == JSON_STRING && m->u.str.len > 0))
		return 0;
	xasprintf(errstr, "%s: \"%s\" is %s; expected a non-empty string%s",
	    where, key, m->type == JSON_STRING ? "empty" : type_name(m),
	    null_ok ? " or null" : "");
	return SYNC_EDUMP;
}

/*
 * One unit of the snapshot (a collection, a field or a relation): the
 * keys that say what it is must be there, and its meta and schema be
 * objects (or null). Directus would take an entry without a field name
 * as a delete of the field the file once held and a create of nothing.
 */
static int check_unit(const char *where, const char *part, const struct json *v,
    char **errstr)
{
	static const char *const objs[] = { "meta", "schema" };
	const struct json *m;
	size_t i;

	if (v->type != JSON_OBJECT) {
		xasprintf(errstr, "%s: expected an object, not %s", where,
		    type_name(v));
		return SYNC_EDUMP;
	}
	if (need_str(where, v, "collection", false, false, errstr) < 0)
		return SYNC_EDUMP;
	if (strcmp(part, "collections") != 0 &&
	    need_str(where, v, "field", false, false, errstr) < 0)
		return SYNC_EDUMP;
	if (strcmp(part, "fields") == 0 &&
	    need_str(where, v, "type", true, false, errstr) < 0)
		return SYNC_EDUMP;
	if (strcmp(part, "relations") == 0 &&
	    need_str(where, v, "related_collection", true, true, errstr) < 0)
		return SYNC_EDUMP;
	for (i = 0; i < 2; i++)
		if ((m = json_get(v, objs[i])) != NULL &&
		    m->type != JSON_OBJECT && m->type != JSON_NULL) {
			xasprintf(errstr,
			    "%s: \"%s\" is %s; expected an object or null",
			    where, objs[i], type_name(m));
			return SYNC_EDUMP;
		}
	return 0;
}

/* info.json (or snapshot.json's top): what /schema/diff needs. */
static int check_info(const char *path, const struct json *info, char **errstr)
{
	const struct json *v = json_get(info, "version");

	if (v == NULL || !is_int(v)) {
		xasprintf(errstr,
		    "%s: \"version\" is %s; expected the "
		    "snapshot format's number (1)",
		    path, v ? type_name(v) : "missing");
		return SYNC_EDUMP;
	}
	if (need_str(path, info, "directus", false, false, errstr) < 0 ||
	    need_str(path, info, "vendor", true, false, errstr) < 0)
		return SYNC_EDUMP;
	return 0;
}

/* Hand every .json file under dir (recursively, in name order) to
 * each(arg, content), which takes it over, after check_unit(part); a
 * missing dir has none. */
static int read_tree(const char *dir, const char *part,
    int (*each)(void *arg, struct json *v, char **errstr), void *arg,
    char **errstr)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int rc = 0;

	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		xasprintf(errstr, "%s: %s", dir, strerror(errno));
		return SYNC_EDUMP;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			names = xreallocarray(names, cap, sizeof(*names));
		}
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n && rc == 0; i++) {
		char *p = fs_join(dir, names[i]);
		struct stat st;
		size_t l = strlen(names[i]);

		if (stat(p, &st) < 0) {
			xasprintf(errstr, "%s: %s", p, strerror(errno));
			rc = SYNC_EDUMP;
		} else if (S_ISDIR(st.st_mode)) {
			rc = read_tree(p, part, each, arg, errstr);
		} else if (l > 5 && strcmp(names[i] + l - 5, ".json") == 0) {
			struct json *v;

			rc = read_json(p, &v, errstr);
			if (rc == 0 && check_unit(p, part, v, errstr) < 0) {
				json_free(v);
				rc = SYNC_EDUMP;
			} else if (rc == 0) {
				rc = each(arg, v, errstr);
			}
		}
		free(p);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

struct text_ctx {
	struct buf *b;
	bool first;
	void (*field)(void *arg, const struct json *f);
	void *arg;
};

static void add_item(struct text_ctx *t, const struct json *v)
{
	size_t len;
	char *s;

	if (schema_is_ignored(v))
		return;
	if (t->field)
		t->field(t->arg, v);
	s = json_write(v, false, &len);
	if (!t->first)
		buf_addc(t->b, ',');
	buf_add(t->b, s, len);
	free(s);
	t->first = false;
}

static int text_cb(void *arg, struct json *v, char **errstr)
{
	(void)errstr;
	add_item(arg, v);
	json_free(v);
	return 0;
}

static const char *const snap_parts[] = { "collections", "fields",
	"relations" };

/* info.json (or snapshot.json with --no-split) at path: an object, whose
 * collections, fields and relations, when there, are arrays (of valid
 * units, for a snapshot.json). */
static int check_snapshot_head(const struct sync_opts *o, const char *path,
    const struct json *info, char **errstr)
{
	size_t i, k;

	if (info->type != JSON_OBJECT) {
		xasprintf(errstr, "%s: expected an object, not %s", path,
		    type_name(info));
		return SYNC_EDUMP;
	}
	if (check_info(path, info, errstr) < 0)
		return SYNC_EDUMP;
	for (i = 0; i < 3; i++) {
		const struct json *a = json_get(info, snap_parts[i]);

		if (a && a->type != JSON_ARRAY) {
			xasprintf(errstr, "%s: \"%s\" is %s, not an array",
			    path, snap_parts[i], type_name(a));
			return SYNC_EDUMP;
		}
		for (k = 0; a && !o->split && k < a->u.arr.len; k++) {
			char *where;
			int bad;

			xasprintf(&where, "%s: %s[%zu]", path, snap_parts[i],
			    k);
			bad = check_unit(where, snap_parts[i],
			    a->u.arr.items[k], errstr);
			free(where);
			if (bad < 0)
				return SYNC_EDUMP;
		}
	}
	return 0;
}

/* One of the three lists into the text: from info's own array (list,
 * --no-split), or from the files of its sub-tree under dir. */
static int add_part(const struct sync_opts *o, const char *dir, size_t i,
    const struct json *list, struct text_ctx *t, char **errstr)
{
	char *sub;
	size_t k;
	int rc;

	if (!o->split) {
		for (k = 0; list && k < list->u.arr.len; k++)
			add_item(t, list->u.arr.items[k]);
		return 0;
	}
	sub = fs_join(dir, snap_parts[i]);
	rc = read_tree(sub, snap_parts[i], text_cb, t, errstr);
	free(sub);
	return rc;
}

/* snapshot.onLoad: the snapshot read, through the hook, then its fields
 * to field() and back to text. */
static int snapshot_hook(const struct sync_ctx *ctx, char **text,
    void (*field)(void *arg, const struct json *f), void *arg, char **errstr)
{
	struct json *snap = json_parse(*text, strlen(*text), NULL);
	const struct json *fields;
	char *why = NULL;
	size_t i;
	int rc;

	if (snap == NULL) {
		*errstr = xstrdup("the snapshot read back is not JSON");
		return SYNC_EFAIL;
	}
	if ((rc = hook_run(ctx, HOOK_SNAPSHOT, HOOK_LOAD, &snap, errstr)) < 0)
		goto out;
	if ((rc = schema_check_snapshot("the answer", snap, &why)) < 0) {
		xasprintf(errstr,
		    "hook snapshot.onLoad: %s; nothing was written", why);
		free(why);
		rc = SYNC_EFAIL;
		goto out;
	}
	fields = json_get_arr(snap, "fields");
	for (i = 0; field && fields && i < fields->u.arr.len; i++)
		field(arg, fields->u.arr.items[i]);
	free(*text);
	*text = json_write(snap, false, NULL);
out:
	json_free(snap);
	return rc;
}

int load_snapshot_text(const struct sync_ctx *ctx, const char *root,
    char **text, void (*field)(void *arg, const struct json *f), void *arg,
    char **errstr)
{
	bool hook = hook_set(ctx->opts, HOOK_SNAPSHOT, HOOK_LOAD);
	const struct sync_opts *o = ctx->opts;
	char *dir = fs_join(root, o->snapshot_path), *path, *s;
	struct json *info = NULL, *lists[3] = { NULL, NULL, NULL };
	struct buf b;
	size_t i, len;
	int rc = SYNC_EDUMP;

	buf_init(&b);
	path = fs_join(dir, o->split ? "info.json" : "snapshot.json");
	if (read_json(path, &info, errstr) < 0 ||
	    (rc = check_snapshot_head(o, path, info, errstr)) < 0)
		goto out;
	/* info's members, then the three lists. */
	for (i = 0; i < 3; i++)
		lists[i] = json_take(info, snap_parts[i]);
	s = json_write(info, false, &len);
	buf_add(&b, s, len - 1); /* without the closing brace */
	free(s);
	for (i = 0; i < 3; i++) {
		struct text_ctx t = { &b, true, i == 1 && !hook ? field : NULL,
			arg };

		buf_addf(&b, "%s\"%s\":[", len > 2 ? "," : "", snap_parts[i]);
		len = 3; /* a member is written now */
		if ((rc = add_part(o, dir, i, lists[i], &t, errstr)) < 0)
			goto out;
		buf_addc(&b, ']');
	}
	buf_addc(&b, '}');
	*text = buf_steal(&b, NULL);
	rc = hook ? snapshot_hook(ctx, text, field, arg, errstr) : 0;
out:
	for (i = 0; i < 3; i++)
		json_free(lists[i]);
	buf_clear(&b);
	json_free(info);
	free(path);
	free(dir);
	return rc < 0 ? rc : 0;
}
