/*
 * license: the limits of the instance's Directus license, read once per
 * push, and the check of a plan against them (see license.h).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "directus.h"
#include "license.h"
#include "plan.h"
#include "strmap.h"
#include "xmalloc.h"

void license_init(struct license *l)
{
	memset(l, 0, sizeof(*l));
	l->rules = true;
	l->flows = l->collections = -1;
}

void license_clear(struct license *l)
{
	free(l->name);
	license_init(l);
}

/* A feature flag, {"default": bool, "override": bool|null}: whether it is
 * on; a flag the license does not name restricts nothing. */
static bool entitled(const struct json *flag)
{
	const struct json *o = json_get(flag, "override");

	if (flag == NULL)
		return true;
	if (o && o->type == JSON_TRUE)
		return true;
	if (o && o->type == JSON_FALSE)
		return false;
	return !json_get(flag, "default") ||
	    json_get(flag, "default")->type != JSON_FALSE;
}

/* A countable entitlement, {"limit", "overage", "addon"}: the most it
 * allows, as Directus adds them up; -1 for none (or unnamed). */
static long limit_of(const struct json *e)
{
	static const char *const parts[] = { "limit", "overage", "addon" };
	double v, sum = 0;
	size_t i;

	if (e == NULL || !json_get_num(e, "limit", &v))
		return -1;
	for (i = 0; i < 3; i++) {
		if (!json_get_num(e, parts[i], &v))
			continue;
		if (v == -1)
			return -1;
		sum += v;
	}
	return (long)sum;
}

static long used(const struct json *usage, const char *key)
{
	double v;

	return json_get_num(usage, key, &v) ? (long)v : 0;
}

int license_read(struct sync_ctx *ctx, struct license *l, char **errstr)
{
	const char *version = dx_memo_get(ctx->dx, "version");
	const struct json *d, *e;
	struct dx_call c;
	int rc;

	license_clear(l);
	if (version == NULL || atoi(version) < 12)
		return 0;
	dx_call_init(&c, "GET", xstrdup("/license"), NULL, DX_ALLOW_404);
	if ((rc = dx_run(ctx->dx, &c, 1, errstr)) < 0) {
		dx_call_clear(&c);
		return rc;
	}
	d = c.status == 404 ? NULL : dx_data(c.result);
	if (d && d->type == JSON_OBJECT) {
		e = json_get(d, "entitlements");
		l->known = true;
		if (json_get_str(d, "name"))
			l->name = xstrdup(json_get_str(d, "name"));
		l->rules = entitled(
		    json_get(e, "custom_permission_rules_enabled"));
		l->flows = limit_of(json_get(e, "flows"));
		l->collections = limit_of(json_get(e, "collections"));
		l->flows_used = used(json_get(d, "usage"), "flows");
		l->collections_used = used(json_get(d, "usage"), "collections");
	}
	dx_call_clear(&c);
	return 0;
}

static bool nonempty_object(const struct json *v)
{
	return v && v->type == JSON_OBJECT && v->u.obj.len > 0;
}

static bool all_fields(const struct json *fields)
{
	size_t i;

	for (i = 0;
	     fields && fields->type == JSON_ARRAY && i < fields->u.arr.len; i++)
		if (json_str(fields->u.arr.items[i]) &&
		    strcmp(json_str(fields->u.arr.items[i]), "*") == 0)
			return true;
	return false;
}

bool license_custom_rule(const struct json *perm)
{
	return !all_fields(json_get(perm, "fields")) ||
	    nonempty_object(json_get(perm, "permissions")) ||
	    nonempty_object(json_get(perm, "validation")) ||
	    nonempty_object(json_get(perm, "presets"));
}

/*
 * Directus lets through its "recommended app permissions" (rules on its
 * own collections that an app-access policy is offered): none of them
 * holds validation or presets. A rule on a directus_* collection without
 * those is left to Directus, which names it if it refuses.
 */
static bool checked(const struct json *perm)
{
	const char *coll = json_get_str(perm, "collection");

	return coll == NULL || strncmp(coll, "directus_", 9) != 0 ||
	    nonempty_object(json_get(perm, "validation")) ||
	    nonempty_object(json_get(perm, "presets"));
}

/* The name of the dump's policy sid: from the dump's items the plan
 * writes, else the instance's policy its map row names. */
static const char *policy_name(const struct plan *p, const char *sid)
{
	const struct coll_plan *c = plan_coll(p, "policies");
	const struct plan_list *lists[] = { &c->create, &c->update };
	const struct idmap_row *row;
	const struct json *raw;
	size_t i, k;

	if (sid == NULL)
		return NULL;
	for (k = 0; k < 2; k++)
		for (i = 0; i < lists[k]->len; i++)
			if (lists[k]->v[i].sync_id &&
			    strcmp(lists[k]->v[i].sync_id, sid) == 0)
				return json_get_str(lists[k]->v[i].item,
				    "name");
	row = idmap_by_sync(p->map, "policies", sid);
	raw = row && row->local_id && c->by_local ?
	    strmap_get(c->by_local, row->local_id) :
	    NULL;
	return json_get_str(raw, "name");
}

/* One line for a permission with custom rules: which, and what rules. */
static void rule_line(const struct plan *p, const struct plan_change *ch,
    struct buf *b)
{
	const struct json *it = ch->item;
	const char *pol = json_get_str(it, "policy");
	const char *name = policy_name(p, pol);
	const char *sep = "";

	const char *coll = json_get_str(it, "collection");
	const char *act = json_get_str(it, "action");

	buf_addf(b, "\n  permissions %s (policy ",
	    ch->sync_id ? ch->sync_id : "?");
	if (name)
		buf_addf(b, "\"%s\"", name);
	else
		buf_adds(b, pol ? pol : "?");
	buf_addf(b, ", %s %s):", coll ? coll : "?", act ? act : "?");
	if (!all_fields(json_get(it, "fields"))) {
		buf_adds(b, " a field list");
		sep = ",";
	}
	if (nonempty_object(json_get(it, "permissions"))) {
		buf_addf(b, "%s a filter", sep);
		sep = ",";
	}
	if (nonempty_object(json_get(it, "validation"))) {
		buf_addf(b, "%s validation", sep);
		sep = ",";
	}
	if (nonempty_object(json_get(it, "presets")))
		buf_addf(b, "%s presets", sep);
}

/* The permissions the push writes with custom rules. */
static size_t check_rules(const struct plan *p, struct buf *b)
{
	const struct coll_plan *c = plan_coll(p, "permissions");
	const struct plan_list *lists[] = { &c->create, &c->update };
	size_t i, k, n = 0;

	if (!c->selected)
		return 0;
	for (k = 0; k < 2; k++)
		for (i = 0; i < lists[k]->len; i++) {
			const struct json *it = lists[k]->v[i].item;

			if (!license_custom_rule(it) || !checked(it))
				continue;
			if (n++ == 0)
				buf_adds(b,
				    "\ncustom permission rules, which the "
				    "license does not allow:");
			rule_line(p, &lists[k]->v[i], b);
		}
	return n;
}

static bool is_active(const struct json *status)
{
	return json_str(status) && strcmp(json_str(status), "active") == 0;
}

/* When the n things the push makes active (named, one a line, in names,
 * which this frees) pass the license's limit with the used ones: a line
 * on b, and n; else 0. */
static size_t over_limit(struct buf *b, struct buf *names, size_t n,
    const char *what, long limit, long used)
{
	if (n > 0 && used + (long)n > limit)
		buf_addf(b,
		    "\n%zu more active %s(s), where the license allows %ld "
		    "and %ld are active:%s",
		    n, what, limit, used, names->data);
	else
		n = 0;
	buf_clear(names);
	return n;
}

static bool activates(const struct plan_change *ch, bool create)
{
	const struct json *st = json_get(create ? ch->item : ch->diff,
	    "status");

	if (create && st == NULL)
		return true;
	return is_active(st);
}

/* The flows the push makes active, beyond the license's limit. */
static size_t check_flows(const struct plan *p, const struct license *l,
    struct buf *b)
{
	const struct coll_plan *c = plan_coll(p, "flows");
	const struct plan_list *lists[] = { &c->create, &c->update };
	struct buf names;
	size_t i, k, n = 0;

	if (!c->selected || l->flows < 0)
		return 0;
	buf_init(&names);
	for (k = 0; k < 2; k++)
		for (i = 0; i < lists[k]->len; i++) {
			const struct plan_change *ch = &lists[k]->v[i];
			const char *name = json_get_str(ch->item, "name");

			if (!activates(ch, k == 0))
				continue;
			n++;
			buf_addf(&names, "\n  flows %s \"%s\" (%s)",
			    ch->sync_id ? ch->sync_id : "?", name ? name : "",
			    k == 0 ? "created active" : "made active");
		}
	return over_limit(b, &names, n, "flow", l->flows, l->flows_used);
}

/* The user collections the schema diff creates active, beyond the
 * license's limit. */
static size_t check_collections(const struct plan *p, const struct license *l,
    struct buf *b)
{
	const struct json *a = json_get(p->schema_diff, "collections");
	struct buf names;
	size_t i, n = 0;

	if (a == NULL || a->type != JSON_ARRAY || l->collections < 0)
		return 0;
	buf_init(&names);
	for (i = 0; i < a->u.arr.len; i++) {
		const struct json *u = a->u.arr.items[i];
		const struct json *d = json_get(u, "diff"), *d0, *rhs, *st;

		d0 = d && d->type == JSON_ARRAY && d->u.arr.len ?
		    d->u.arr.items[0] :
		    NULL;
		if (d0 == NULL || json_get_str(d0, "kind") == NULL ||
		    strcmp(json_get_str(d0, "kind"), "N") != 0)
			continue;
		rhs = json_get(d0, "rhs");
		st = json_get(json_get(rhs, "meta"), "status");
		if (json_is_null(json_get(rhs, "schema")) ||
		    json_is_null(json_get(rhs, "meta")) ||
		    (st && !is_active(st)))
			continue;
		n++;
		buf_addf(&names, "\n  collection %s",
		    json_get_str(u, "collection") ?
			json_get_str(u, "collection") :
			"?");
	}
	return over_limit(b, &names, n, "collection", l->collections,
	    l->collections_used);
}

int license_check_push(const struct plan *p, const struct license *l,
    char **errstr)
{
	struct buf b;
	size_t n = 0;

	if (!l->known)
		return 0;
	buf_init(&b);
	if (!l->rules)
		n += check_rules(p, &b);
	n += check_flows(p, l, &b);
	n += check_collections(p, l, &b);
	if (n == 0) {
		buf_clear(&b);
		return 0;
	}
	xasprintf(errstr,
	    "the push would cross the limits of the instance's Directus "
	    "license%s%s%s; nothing was written:%s\nGive the instance a "
	    "license that allows them, or leave them out of the dump",
	    l->name ? " (" : "", l->name ? l->name : "", l->name ? ")" : "",
	    b.data);
	buf_clear(&b);
	return SYNC_EGUARD;
}

int license_check(struct sync_ctx *ctx, const struct plan *p, char **errstr)
{
	struct license l;
	int rc;

	license_init(&l);
	if ((rc = license_read(ctx, &l, errstr)) == 0)
		rc = license_check_push(p, &l, errstr);
	license_clear(&l);
	return rc;
}
