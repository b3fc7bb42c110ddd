/*
 * transform: relation mapping in both directions. A relation rule's path
 * is "field" (a scalar, or an array of ids whose null elements are
 * dropped), "a.b" (a field inside an object) or "a[].b" (a field inside
 * each object of an array).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "transform.h"
#include "xmalloc.h"

struct mapper {
	const struct idmap *m;
	bool to_local;
	const char *coll;
	char *missing; /* first unmapped reference (to_local) */
	/* Visit mode (xform_refs): called for each reference, no change. */
	int (*visit)(void *arg, const char *table, const char *field,
	    const char *value);
	void *visit_arg;
};

static void set_string(struct json *v, const char *s)
{
	if (v->type == JSON_STRING)
		free(v->u.str.ptr);
	v->type = JSON_STRING;
	v->u.str.ptr = xstrdup(s);
	v->u.str.len = strlen(s);
}

static bool is_template(const struct json *v)
{
	const char *s = json_str(v);

	if (s == NULL)
		return false;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return strncmp(s, "{{", 2) == 0;
}

static int map_scalar(struct mapper *mp, struct json *v, const char *table,
    const char *field, char **errstr)
{
	const struct idmap_row *row;
	char *key;

	if (v->type == JSON_NULL)
		return 0;
	if (v->type == JSON_OBJECT || v->type == JSON_ARRAY) {
		xasprintf(errstr,
		    "%s: field %s holds a nested value where an "
		    "id was expected",
		    mp->coll, field);
		return -1;
	}
	if (mp->to_local && is_template(v))
		return 0;
	key = json_scalar_string(v);
	if (key == NULL)
		return 0;
	if (mp->visit) {
		int rc = mp->visit(mp->visit_arg, table, field, key);

		free(key);
		return rc;
	}
	row = mp->to_local ? idmap_by_sync(mp->m, table, key) :
			     idmap_by_local(mp->m, table, key);
	if (row)
		set_string(v, mp->to_local ? row->local_id : row->sync_id);
	else if (mp->to_local && mp->missing == NULL)
		xasprintf(&mp->missing, "%s:%s", field, key);
	free(key);
	return 0;
}

static int map_field(struct mapper *mp, struct json *obj, const char *key,
    const char *table, char **errstr)
{
	struct json *v;
	size_t i;

	if (obj->type != JSON_OBJECT || (v = json_get(obj, key)) == NULL)
		return 0;
	if (v->type != JSON_ARRAY)
		return map_scalar(mp, v, table, key, errstr);
	for (i = v->u.arr.len; i-- > 0 && !mp->visit;)
		if (v->u.arr.items[i]->type == JSON_NULL)
			json_array_remove(v, i);
	for (i = 0; i < v->u.arr.len; i++)
		if (map_scalar(mp, v->u.arr.items[i], table, key, errstr) < 0)
			return -1;
	return 0;
}

static int map_relation(struct mapper *mp, struct json *item,
    const struct coll_relation *rel, char **errstr)
{
	const char *dot = strchr(rel->path, '.');
	char *head;
	struct json *sub;
	size_t i, n;
	int rc = 0;

	if (dot == NULL)
		return map_field(mp, item, rel->path, rel->table, errstr);
	head = xstrndup(rel->path, (size_t)(dot - rel->path));
	n = strlen(head);
	if (n > 2 && strcmp(head + n - 2, "[]") == 0)
		head[n - 2] = '\0';
	sub = json_get(item, head);
	if (sub && sub->type == JSON_OBJECT)
		rc = map_field(mp, sub, dot + 1, rel->table, errstr);
	else if (sub && sub->type == JSON_ARRAY)
		for (i = 0; rc == 0 && i < sub->u.arr.len; i++)
			rc = map_field(mp, sub->u.arr.items[i], dot + 1,
			    rel->table, errstr);
	free(head);
	return rc;
}

static int map_all(struct mapper *mp, const struct coll_rule *r,
    struct json *item, char **errstr)
{
	size_t k;

	for (k = 0; k < COLL_MAX_RELATIONS && r->relations[k].path; k++)
		if (map_relation(mp, item, &r->relations[k], errstr) < 0)
			return -1;
	return 0;
}

/* A policy's access rows as directus-sync 3.5 dumps them: role links
 * only (user attachments are the users' business). */
static void policy_roles(struct json *item)
{
	struct json *roles = json_get(item, "roles");
	size_t i;

	if (roles == NULL || roles->type != JSON_ARRAY)
		return;
	for (i = roles->u.arr.len; i-- > 0;) {
		struct json *a = roles->u.arr.items[i];

		if (a->type == JSON_OBJECT &&
		    json_is_null(json_get(a, "role")) &&
		    !json_is_null(json_get(a, "user")))
			json_array_remove(roles, i);
	}
}

void xform_tag(struct json *item, const char *sync_id)
{
	json_set(item, "_syncId", json_new_string(sync_id));
	json_del(item, "id");
}

int xform_to_dump(const struct idmap *m, const struct sync_opts *o,
    const struct coll_rule *r, struct json *item, const char *sync_id,
    char **errstr)
{
	xform_tag(item, sync_id);
	return xform_finish(m, o, r, item, errstr);
}

int xform_finish(const struct idmap *m, const struct sync_opts *o,
    const struct coll_rule *r, struct json *item, char **errstr)
{
	struct mapper mp = { m, false, r->name, NULL, NULL, NULL };
	bool policies = strcmp(r->name, "policies") == 0;
	size_t k;

	for (k = 0; k < COLL_MAX_IGNORED && r->ignored[k]; k++)
		json_del(item, r->ignored[k]);
	if (policies && !o->sync_policy_roles)
		json_del(item, "roles");
	if (map_all(&mp, r, item, errstr) < 0)
		return -1;
	if (policies)
		policy_roles(item);
	return 0;
}

int xform_to_local(const struct idmap *m, const struct coll_rule *r,
    struct json *item, char **missing, char **errstr)
{
	struct mapper mp = { m, true, r->name, NULL, NULL, NULL };

	json_del(item, "_syncId");
	if (map_all(&mp, r, item, errstr) < 0) {
		free(mp.missing);
		return -1;
	}
	if (mp.missing) {
		*missing = mp.missing;
		return 1;
	}
	return 0;
}

int xform_refs(const struct coll_rule *r, const struct json *item,
    int (*visit)(void *arg, const char *table, const char *field,
	const char *value),
    void *arg, char **errstr)
{
	struct mapper mp = { NULL, true, r->name, NULL, visit, arg };

	/* Visiting changes nothing: the cast is safe. */
	return map_all(&mp, r, (struct json *)item, errstr);
}
