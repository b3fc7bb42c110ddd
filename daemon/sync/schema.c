/*
 * schema: snapshot filtering and splitting. The suffix rule: a lower-cased
 * name that was already used gets "_2", "_3"... on its original-case name,
 * per category, in API order.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"
#include "idmap.h"
#include "result.h"
#include "schema.h"
#include "strmap.h"
#include "xmalloc.h"

static const char *const ignored[] = {
	"directus_sync_id_map",
	IDMAP_COLLECTION_NAME,
};

int schema_is_ignored(const struct json *item)
{
	const char *c = json_str(json_get(item, "collection"));
	size_t i;

	for (i = 0; c && i < sizeof(ignored) / sizeof(ignored[0]); i++)
		if (strcmp(c, ignored[i]) == 0)
			return 1;
	return 0;
}

void schema_filter(struct json *snap)
{
	static const char *const keys[] = { "collections", "fields",
		"relations" };
	size_t k, i;

	if (snap == NULL || snap->type != JSON_OBJECT)
		return;
	for (k = 0; k < 3; k++) {
		struct json *arr = json_get(snap, keys[k]);

		if (arr == NULL || arr->type != JSON_ARRAY) {
			json_set(snap, keys[k], json_new_array());
			continue;
		}
		for (i = arr->u.arr.len; i-- > 0;)
			if (schema_is_ignored(arr->u.arr.items[i]))
				json_array_remove(arr, i);
	}
}

int schema_check_snapshot(const char *what, const struct json *snap,
    char **errstr)
{
	static const char *const keys[] = { "collections", "fields",
		"relations" };
	const struct json *v;
	size_t k;

	if (snap == NULL || snap->type != JSON_OBJECT) {
		xasprintf(errstr, "%s: no snapshot object in the answer", what);
		return SYNC_EPROTO;
	}
	for (k = 0; k < 3; k++)
		if ((v = json_get(snap, keys[k])) == NULL ||
		    v->type != JSON_ARRAY) {
			xasprintf(errstr,
			    "%s: the snapshot's \"%s\" is %s, not an array",
			    what, keys[k],
			    v == NULL		       ? "missing" :
				v->type == JSON_NULL   ? "null" :
				v->type == JSON_OBJECT ? "an object" :
				v->type == JSON_STRING ? "a string" :
							 "a scalar");
			return SYNC_EPROTO;
		}
	return 0;
}

static char *lower(const char *s)
{
	char *p = xstrdup(s), *q;

	for (q = p; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	return p;
}

/* The suffix for base ("" or "_N"), recorded in seen. */
static char *suffix_for(struct strmap *seen, const char *base)
{
	char *l = lower(base), *key, *suffix;
	int i = 2;

	if (strmap_get(seen, l) == NULL) {
		strmap_put(seen, l, (void *)1);
		free(l);
		return xstrdup("");
	}
	for (;;) {
		xasprintf(&key, "%s_%d", l, i);
		if (strmap_get(seen, key) == NULL)
			break;
		free(key);
		i++;
	}
	strmap_put(seen, key, (void *)1);
	free(key);
	free(l);
	xasprintf(&suffix, "_%d", i);
	return suffix;
}

static const char *str_or(const struct json *v, const char *key)
{
	const char *s = json_str(json_get(v, key));

	return s ? s : "undefined";
}

static int split_array(struct json *arr, const char *dir, int with_field,
    schema_file_cb cb, void *arg, char **errstr)
{
	struct strmap *seen = strmap_new();
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && arr && i < arr->u.arr.len; i++) {
		struct json *it = arr->u.arr.items[i];
		char *base, *suffix, *rel;

		/* The names come from the instance and become file names:
		 * none may leave its folder. */
		if ((rc = dump_check_name("the snapshot's collection name",
			 json_str(json_get(it, "collection")), errstr)) < 0 ||
		    (with_field &&
			(rc = dump_check_name("the snapshot's field name",
			     json_str(json_get(it, "field")), errstr)) < 0))
			break;
		if (with_field)
			xasprintf(&base, "%s/%s", str_or(it, "collection"),
			    str_or(it, "field"));
		else
			base = xstrdup(str_or(it, "collection"));
		suffix = suffix_for(seen, base);
		xasprintf(&rel, "%s/%s%s.json", dir, base, suffix);
		rc = cb(arg, rel, it, errstr);
		free(rel);
		free(suffix);
		free(base);
	}
	strmap_free(seen);
	return rc;
}

int schema_split(struct json *snap, schema_file_cb cb, void *arg, char **errstr)
{
	struct json *colls = json_take(snap, "collections");
	struct json *fields = json_take(snap, "fields");
	struct json *rels = json_take(snap, "relations");
	int rc;

	rc = cb(arg, "info.json", snap, errstr);
	if (rc == 0)
		rc = split_array(colls, "collections", 0, cb, arg, errstr);
	if (rc == 0)
		rc = split_array(fields, "fields", 1, cb, arg, errstr);
	if (rc == 0)
		rc = split_array(rels, "relations", 1, cb, arg, errstr);
	json_free(colls);
	json_free(fields);
	json_free(rels);
	return rc;
}

int schema_to_files(struct json *snap, bool split, schema_file_cb cb, void *arg,
    char **errstr)
{
	int rc;

	if (schema_check_snapshot("GET /schema/snapshot", snap, errstr) < 0) {
		json_free(snap);
		return SYNC_EPROTO;
	}
	schema_filter(snap);
	if (split)
		rc = schema_split(snap, cb, arg, errstr);
	else
		rc = cb(arg, "snapshot.json", snap, errstr);
	json_free(snap);
	return rc;
}
