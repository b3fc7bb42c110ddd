/*
 * public: who the public is, in a dump, on an instance, and in the map.
 * Directus applies the permissions of every policy holding an access row
 * with neither role nor user to anonymous visitors; a push must leave
 * exactly the dump's grant there, and refuse where the dump cannot say.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "plan.h"
#include "public.h"
#include "strmap.h"
#include "xmalloc.h"

bool public_is_row(const struct json *a)
{
	return a && a->type == JSON_OBJECT &&
	    json_is_null(json_get(a, "role")) &&
	    json_is_null(json_get(a, "user"));
}

/* Whether one of a policy's access rows passes is(). */
static bool holds(const struct json *policy, bool (*is)(const struct json *))
{
	const struct json *roles = json_get(policy, "roles");
	size_t i;

	for (i = 0; roles && roles->type == JSON_ARRAY && i < roles->u.arr.len;
	     i++)
		if (is(roles->u.arr.items[i]))
			return true;
	return false;
}

bool public_holds(const struct json *policy)
{
	return holds(policy, public_is_row);
}

/* A policy in messages: "SyncID "name"". Caller frees. */
static char *dump_policy_name(const struct json *it)
{
	const char *name = json_str(json_get(it, "name"));
	char *s;

	xasprintf(&s, "%s \"%s\"", json_str(json_get(it, "_syncId")),
	    name ? name : "");
	return s;
}

/* Whether an access row of a dump is 3.4's {"role": null}: a public
 * access or a link to a user, the form cannot tell. */
static bool ambiguous_row(const struct json *a)
{
	return a && a->type == JSON_OBJECT && json_get(a, "user") == NULL &&
	    json_is_null(json_get(a, "role"));
}

static bool holds_ambiguous(const struct json *policy)
{
	return holds(policy, ambiguous_row);
}

/* The policies of list that pass keep(), as "SyncID "name"" joined. */
static char *names_of(const struct json *list, const struct json *except,
    bool (*keep)(const struct json *), size_t *n)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	*n = 0;
	for (i = 0; i < list->u.arr.len; i++) {
		const struct json *it = list->u.arr.items[i];
		char *s;

		if (it == except || !keep(it))
			continue;
		s = dump_policy_name(it);
		buf_addf(&b, "%s%s", (*n)++ ? ", " : "", s);
		free(s);
	}
	return buf_steal(&b, NULL);
}

int public_check_dump(const struct json *list, const char *path, char **errstr)
{
	const struct json *label = NULL;
	char *names, *lname;
	size_t i, n;

	for (i = 0; i < list->u.arr.len; i++) {
		const char *sid = json_str(
		    json_get(list->u.arr.items[i], "_syncId"));

		if (sid && strcmp(sid, PH_PUBLIC_POLICY) == 0)
			label = list->u.arr.items[i];
	}
	/* 3.4's {"role": null} outside the labelled policy. */
	names = names_of(list, label, holds_ambiguous, &n);
	if (n) {
		xasprintf(errstr,
		    "%s: the public policy cannot be told: "
		    "polic%s %s hold%s an access row {\"role\": null} without "
		    "\"user\" (directus-sync 3.4's form), which is either the "
		    "public access or a link to a user. Nothing was written. "
		    "Pull the source instance again with dsyncd, which writes "
		    "the two apart (\"user\": null for the public access, no "
		    "row for a user's link), and push that dump",
		    path, n > 1 ? "ies" : "y", names, n > 1 ? "" : "s");
		free(names);
		return SYNC_EDUMP;
	}
	free(names);
	if (label == NULL || public_holds(label))
		return 0;
	/* The label names a policy without the row while another holds it:
	 * a map that directus-sync mislabelled. */
	names = names_of(list, label, public_holds, &n);
	if (n == 0) {
		free(names);
		return 0; /* the dump grants the public nothing */
	}
	lname = dump_policy_name(label);
	xasprintf(errstr,
	    "%s: the public policy cannot be told: %s is "
	    "labelled the public policy but holds no public access row "
	    "(role and user null), while %s hold%s one. Nothing was written. "
	    "Pull the source instance again with dsyncd, which corrects the "
	    "SyncID map to label the policy that holds the row, and push that "
	    "dump",
	    path, lname, names, n > 1 ? "" : "s");
	free(lname);
	free(names);
	return SYNC_EDUMP;
}

/* --- the push --- */

static const struct plan_change *change_of(const struct plan_list *l,
    const char *local_id)
{
	size_t i;

	for (i = 0; i < l->len; i++)
		if (l->v[i].local_id && strcmp(l->v[i].local_id, local_id) == 0)
			return &l->v[i];
	return NULL;
}

/* Whether the instance's policy raw holds a public access row once the
 * plan is carried out. */
static bool public_after(const struct coll_plan *c, const char *lid,
    const struct json *raw)
{
	const struct plan_change *ch;

	if (change_of(&c->del, lid))
		return false;
	ch = change_of(&c->update, lid);
	if (ch && json_get(ch->diff, "roles"))
		return public_holds(ch->item);
	return public_holds(raw);
}

bool public_now_or_after(const struct plan *p, const char *lid)
{
	const struct coll_plan *c = plan_coll(p, "policies");
	const struct json *raw = c->by_local ? strmap_get(c->by_local, lid) :
					       NULL;

	return ph_is_public(&p->ph, lid) ||
	    (raw && (public_holds(raw) || public_after(c, lid, raw)));
}

/* Whether the dump governs the instance's policy lid: a map row names it
 * with a SyncID of the dump. */
static bool governed(const struct plan *p, const struct coll_plan *c,
    const char *lid)
{
	const struct idmap_row *row = idmap_by_local(p->map, "policies", lid);

	return row && row->sync_id && c->in_dump &&
	    strmap_get(c->in_dump, row->sync_id);
}

/* Whether the push creates a permission with the key of the instance's
 * untracked permission perm: it adopts it, with the dump's content. */
static bool adopted(const struct plan *p, const struct json *perm)
{
	const struct plan_list *l = &plan_coll(p, "permissions")->create;
	char *pol = json_scalar_string(json_get(perm, "policy"));
	const char *coll = json_str(json_get(perm, "collection"));
	const char *act = json_str(json_get(perm, "action"));
	bool found = false;
	size_t i;

	for (i = 0; pol && coll && act && i < l->len && !found; i++) {
		const struct json *it = l->v[i].item;
		const struct idmap_row *row = idmap_by_sync(p->map, "policies",
		    json_str(json_get(it, "policy")));
		const char *c2 = json_str(json_get(it, "collection"));
		const char *a2 = json_str(json_get(it, "action"));

		found = row && row->local_id &&
		    strcmp(row->local_id, pol) == 0 && c2 &&
		    strcmp(c2, coll) == 0 && a2 && strcmp(a2, act) == 0;
	}
	free(pol);
	return found;
}

/* The instance's permissions on policy lid that stay after the push and
 * are not the dump's: all of them for a policy the dump does not govern
 * (the dump has none on it), the untracked ones not adopted otherwise. */
static void stray_permissions(const struct plan *p, const char *lid, bool gov,
    struct buf *b, size_t *n)
{
	const struct coll_plan *c = plan_coll(p, "permissions");
	size_t i, k = 0;

	for (i = 0; c->target && i < c->target->u.arr.len; i++) {
		const struct json *t = c->target->u.arr.items[i];
		char *id = json_scalar_string(json_get(t, "id"));
		char *pol = json_scalar_string(json_get(t, "policy"));
		bool tracked = id && idmap_by_local(p->map, "permissions", id);
		const char *coll = json_str(json_get(t, "collection"));
		const char *act = json_str(json_get(t, "action"));

		if (id && pol && strcmp(pol, lid) == 0 &&
		    !change_of(&c->del, id) && !(gov && tracked) &&
		    !(!tracked && adopted(p, t))) {
			buf_addf(b, "%s%s%s %s (id %s)", *n ? ", " : "",
			    k++ ? "" : "permissions ", coll ? coll : "?",
			    act ? act : "?", id);
			(*n)++;
		}
		free(id);
		free(pol);
	}
}

/* What the instance's public policy raw grants beyond the dump, into b;
 * whether it grants anything. */
static bool stray_grant(const struct plan *p, const struct json *raw,
    const char *lid, bool gov, struct buf *b)
{
	struct buf what;
	const char *name = json_str(json_get(raw, "name"));
	size_t n = 0;
	bool admin = !gov && json_get_true(raw, "admin_access");
	bool app = !gov && json_get_true(raw, "app_access");

	buf_init(&what);
	if (admin)
		buf_adds(&what, "admin access");
	if (app)
		buf_addf(&what, "%sapp access", admin ? ", " : "");
	if (admin || app)
		n++;
	stray_permissions(p, lid, gov, &what, &n);
	if (n)
		buf_addf(b, "\n  policy %s \"%s\" (%s) gives the public %s",
		    lid, name ? name : "",
		    gov ? "in the dump, with permissions the "
			  "dump does not have" :
			  "not in the dump",
		    what.data);
	buf_clear(&what);
	return n > 0;
}

int public_check_push(const struct plan *p, char **errstr)
{
	const struct coll_plan *c = plan_coll(p, "policies");
	struct buf b;
	size_t i, n = 0;

	if (!c->selected || c->target == NULL)
		return 0;
	buf_init(&b);
	for (i = 0; i < c->target->u.arr.len; i++) {
		const struct json *raw = c->target->u.arr.items[i];
		char *lid = json_scalar_string(json_get(raw, "id"));

		if (lid && public_after(c, lid, raw) &&
		    stray_grant(p, raw, lid, governed(p, c, lid), &b))
			n++;
		free(lid);
	}
	if (n == 0) {
		buf_clear(&b);
		return 0;
	}
	xasprintf(errstr,
	    "the push would leave the public (access rows with "
	    "role and user null) more than the dump grants; nothing was "
	    "written:%s\nRemove that access or those permissions in Directus, "
	    "or pull them into the dump and push again",
	    b.data);
	buf_clear(&b);
	return SYNC_EGUARD;
}

/* --- the pull --- */

static const struct json *api_policy(const struct json *list, const char *id)
{
	size_t i;

	for (i = 0; i < list->u.arr.len; i++) {
		char *x = json_scalar_string(
		    json_get(list->u.arr.items[i], "id"));
		bool same = x && strcmp(x, id) == 0;

		free(x);
		if (same)
			return list->u.arr.items[i];
	}
	return NULL;
}

static const char *api_name(const struct json *list, const char *id)
{
	const char *n = json_str(json_get(api_policy(list, id), "name"));

	return n ? n : "";
}

int public_relabel(struct sync_ctx *ctx, struct idmap *map,
    struct placeholders *ph, const struct json *list, char **errstr)
{
	const struct idmap_row *row = idmap_by_sync(map, "policies",
				   PH_PUBLIC_POLICY),
			       *other;
	struct idmap_new nr[2];
	const char *gone[2];
	char *wrong = NULL, *right = NULL, *sid = NULL;
	size_t nn = 0;
	int rc;

	if (row == NULL)
		return 0;
	if ((rc = ph_fetch(ctx->dx, ph, errstr)) < 0)
		return rc;
	if (ph->public_policy == NULL || ph_is_public(ph, row->local_id))
		return 0;
	/* Copies: the rows move when the table changes. */
	wrong = xstrdup(row->local_id);
	right = xstrdup(ph->public_policy);
	other = idmap_by_local(map, "policies", right);
	sid = other && other->sync_id ? xstrdup(other->sync_id) : NULL;
	gone[0] = PH_PUBLIC_POLICY;
	gone[1] = sid;
	if ((rc = idmap_remove(map, "policies", gone, sid ? 2 : 1, errstr)) < 0)
		goto out;
	memset(nr, 0, sizeof(nr));
	nr[nn].local_id = right;
	nr[nn++].sync_id = PH_PUBLIC_POLICY;
	if (api_policy(list, wrong)) {
		nr[nn].local_id = wrong;
		nr[nn++].sync_id = sid; /* NULL: a new one */
	}
	if ((rc = idmap_create(map, "policies", nr, nn, errstr)) < 0)
		goto out;
	sync_logf(ctx, SYNC_WARN,
	    "[policies] %s named policy %s \"%s\", "
	    "which holds no public access row, while policy %s \"%s\" holds "
	    "it. The SyncID map is corrected: %s \"%s\" was %s, is now %s; "
	    "%s \"%s\" was %s, is now %s",
	    PH_PUBLIC_POLICY, wrong, api_name(list, wrong), right,
	    api_name(list, right), right, api_name(list, right),
	    sid ? sid : "untracked", PH_PUBLIC_POLICY, wrong,
	    api_name(list, wrong), PH_PUBLIC_POLICY,
	    nn > 1 ? nr[1].result : "untracked (it is gone)");
out:
	free(wrong);
	free(right);
	free(sid);
	return rc;
}
