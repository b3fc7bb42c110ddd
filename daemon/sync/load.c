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
#include "load.h"
#include "result.h"
#include "schema.h"
#include "strmap.h"
#include "xmalloc.h"

#define PUBLIC_POLICY "_sync_default_public_policy"

static int read_json(const char *path, struct json **out, char **errstr)
{
	char *data, *why = NULL;
	size_t len;
	int rc;

	rc = fs_read_file(path, &data, &len);
	if (rc == -ENOENT) {
		xasprintf(errstr, "%s: no such file (a collection with no "
		    "items is written as [])", path);
		return SYNC_EDUMP;
	}
	if (rc < 0) {
		xasprintf(errstr, "%s: %s", path, strerror(-rc));
		return SYNC_EDUMP;
	}
	*out = json_parse(data, len, &why);
	free(data);
	if (*out == NULL) {
		xasprintf(errstr, "%s: %s", path, why ? why :
		    "not valid JSON");
		free(why);
		return SYNC_EDUMP;
	}
	return 0;
}

/*
 * directus-sync 3.4 wrote a policy's access rows as {role, sort}, and a
 * link to a user as {"role": null, "sort": n}. An element without "user"
 * gets "user": null; one with a null role outside the public policy was a
 * user link and is dropped (pushing it would create an access row with
 * neither role nor user).
 */
static void policy_roles_compat(const struct sync_ctx *ctx,
    const char *path, struct json *item)
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
		    strcmp(sid, PUBLIC_POLICY) != 0) {
			sync_logf(ctx, SYNC_WARN, "%s: policy %s: skipped a "
			    "link to a user (a {\"role\": null} element "
			    "written by directus-sync 3.4)", path, sid);
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

int load_collection(const struct sync_ctx *ctx, const char *root,
    const struct coll_rule *r, struct json **items, char **errstr)
{
	const struct sync_opts *o = ctx->opts;
	char *dir = fs_join(root, o->collections_path), *name, *path;
	struct json *arr = NULL;
	struct strmap *seen = NULL;
	size_t i;
	int rc = SYNC_EDUMP;

	xasprintf(&name, "%s.json", r->name);
	path = fs_join(dir, name);
	free(name);
	free(dir);
	if (read_json(path, &arr, errstr) < 0)
		goto out;
	if (arr->type != JSON_ARRAY) {
		xasprintf(errstr, "%s: expected an array of items", path);
		goto out;
	}
	seen = strmap_new();
	for (i = 0; i < arr->u.arr.len; i++) {
		struct json *it = arr->u.arr.items[i];
		const char *sid = json_str(json_get(it, "_syncId"));
		void *prev;

		if (it->type != JSON_OBJECT) {
			xasprintf(errstr, "%s: item %zu is not an object", path,
			    i + 1);
			goto out;
		}
		if (sid == NULL || sid[0] == '\0') {
			xasprintf(errstr, "%s: item %zu has no \"_syncId\" "
			    "string", path, i + 1);
			goto out;
		}
		if ((prev = strmap_get(seen, sid)) != NULL) {
			xasprintf(errstr, "%s: items %zu and %zu have the same "
			    "_syncId %s", path, (size_t)(uintptr_t)prev, i + 1,
			    sid);
			goto out;
		}
		strmap_put(seen, sid, (void *)(uintptr_t)(i + 1));
		if (strcmp(r->name, "policies") == 0)
			policy_roles_compat(ctx, path, it);
	}
	*items = arr;
	arr = NULL;
	rc = 0;
out:
	strmap_free(seen);
	json_free(arr);
	free(path);
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Hand every .json file under dir (recursively, in name order) to
 * each(arg, content), which takes it over; a missing dir has none. */
static int read_tree(const char *dir, int (*each)(void *arg,
    struct json *v, char **errstr), void *arg, char **errstr)
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
			rc = read_tree(p, each, arg, errstr);
		} else if (l > 5 && strcmp(names[i] + l - 5, ".json") == 0) {
			struct json *v;

			rc = read_json(p, &v, errstr);
			if (rc == 0 && v->type != JSON_OBJECT) {
				xasprintf(errstr, "%s: expected an object", p);
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

int load_snapshot_text(const struct sync_ctx *ctx, const char *root,
    char **text, void (*field)(void *arg, const struct json *f), void *arg,
    char **errstr)
{
	static const char *const parts[] = { "collections", "fields",
	    "relations" };
	const struct sync_opts *o = ctx->opts;
	char *dir = fs_join(root, o->snapshot_path), *path, *s;
	struct json *info = NULL;
	struct buf b;
	size_t i, len;
	int rc = SYNC_EDUMP;

	buf_init(&b);
	path = fs_join(dir, o->split ? "info.json" : "snapshot.json");
	if (read_json(path, &info, errstr) < 0)
		goto out;
	if (info->type != JSON_OBJECT) {
		xasprintf(errstr, "%s: expected an object", path);
		goto out;
	}
	for (i = 0; i < 3; i++) {
		const struct json *a = json_get(info, parts[i]);

		if (a && a->type != JSON_ARRAY) {
			xasprintf(errstr, "%s: \"%s\" is not an array", path,
			    parts[i]);
			goto out;
		}
	}
	/* info's members, then the three lists. */
	{
		struct json *lists[3];

		for (i = 0; i < 3; i++)
			lists[i] = json_take(info, parts[i]);
		s = json_write(info, false, &len);
		buf_add(&b, s, len - 1);	/* without the closing brace */
		free(s);
		for (i = 0; i < 3; i++) {
			struct text_ctx t = { &b, true, i == 1 ? field : NULL,
			    arg };
			size_t k;

			buf_addf(&b, "%s\"%s\":[", len > 2 ? "," : "",
			    parts[i]);
			len = 3;	/* a member is written now */
			if (!o->split) {
				for (k = 0; lists[i] && k < lists[i]->u.arr.len;
				    k++)
					add_item(&t, lists[i]->u.arr.items[k]);
			} else {
				char *sub = fs_join(dir, parts[i]);

				rc = read_tree(sub, text_cb, &t, errstr);
				free(sub);
				if (rc < 0) {
					for (k = i; k < 3; k++)
						json_free(lists[k]);
					goto out;
				}
				rc = SYNC_EDUMP;
			}
			json_free(lists[i]);
			buf_addc(&b, ']');
		}
		buf_addc(&b, '}');
	}
	*text = buf_steal(&b, NULL);
	rc = 0;
out:
	buf_clear(&b);
	json_free(info);
	free(path);
	free(dir);
	return rc;
}
