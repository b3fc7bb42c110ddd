/*
 * reconcile: the two-way job. One three-way comparison of the dump, the
 * instance and the base decides, item by item and unit by unit, what goes
 * where under the policies: a change made in git is pushed, one made in
 * Directus is written into the tree (and committed), a conflict waits for
 * a person. Then a second comparison, and the base is what agrees.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fsutil.h"
#include "hash.h"
#include "log.h"
#include "service.h"
#include "strmap.h"
#include "three.h"
#include "xmalloc.h"

enum act { ACT_NONE, ACT_PUSH, ACT_TREE };

static const struct conf *rconf(const struct job *j)
{
	return &j->conf->conf;
}

static enum conf_policy policy_of(const struct conf *c,
    const struct three_item *it)
{
	return it->rule ? c->policy[it->rule - coll_rules] : c->policy_schema;
}

static char *item_key(const struct three_item *it)
{
	return it->rule ?
	    plan_skip_key(it->rule->name, it->key ? it->key : "") :
	    xstrdup(it->key);
}

/* A schema unit as the push's schema diff names it: by the collection
 * and field its content holds (the file's name may carry a suffix). */
static char *unit_key(const struct three_item *it)
{
	return three_unit_key(it->key,
	    it->inst	 ? it->inst :
		it->dump ? it->dump :
			   it->base);
}

/* What a resolve or an adopt asks of this item: KEEP_*, or 0. */
static int kept(const struct job *j, const struct three_item *it)
{
	int k = 0;

	if (j->keep && (it->key || it->rule == NULL)) {
		char *key = item_key(it);

		k = (int)(long)strmap_get(j->keep, key);
		free(key);
	}
	if (k == 0 && j->keep_all && (j->adopt || it->cls == THREE_CONFLICT))
		k = j->keep_all;
	return k;
}

/* What the policy (or a person's resolve) does with one difference. */
static enum act decide(const struct job *j, const struct three_item *it)
{
	const struct conf *c = rconf(j);
	enum conf_policy p = policy_of(c, it);
	int k;

	if (it->cls == THREE_IN_SYNC || p == CONF_POLICY_IGNORE)
		return ACT_NONE;
	if ((k = kept(j, it)) != 0)
		return k == KEEP_DUMP ?
		    (it->rule && it->key == NULL ? ACT_NONE : ACT_PUSH) :
		    ACT_TREE;
	switch (it->cls) {
	case THREE_DUMP_CHANGED:
		return p == CONF_POLICY_PUSH || p == CONF_POLICY_SYNC ?
		    ACT_PUSH :
		    ACT_NONE;
	case THREE_INSTANCE_CHANGED:
		if (p == CONF_POLICY_PULL || p == CONF_POLICY_SYNC)
			return ACT_TREE;
		/* An item no map row names is not dsync's to correct. */
		return p == CONF_POLICY_PUSH && !(it->rule && it->key == NULL) ?
		    ACT_PUSH :
		    ACT_NONE;
	default:
		return ACT_NONE; /* a conflict, or no base to tell */
	}
}

/* Items the instance made and no map row names: only a policy that
 * writes into the tree takes them; for the others they are not a
 * difference (as a plan sees it). */
static void drop_untracked(const struct job *j, struct three *t)
{
	const struct conf *c = rconf(j);
	size_t i;

	for (i = 0; i < t->len; i++) {
		struct three_item *it = &t->v[i];
		enum conf_policy p;

		if (it->rule == NULL || it->key || it->cls == THREE_IN_SYNC)
			continue;
		p = policy_of(c, it);
		if (p == CONF_POLICY_PULL || p == CONF_POLICY_SYNC ||
		    kept(j, it) == KEEP_INSTANCE)
			continue;
		t->counts[it->cls]--;
		it->cls = THREE_IN_SYNC;
		t->counts[THREE_IN_SYNC]++;
	}
}

static void count_requests(struct sync_ctx *ctx, struct job *j,
    unsigned long before)
{
	j->requests += dx_requests(ctx->dx) - before;
}

static const char *action_of(const struct three_item *it)
{
	return it->dump == NULL ? "create" :
	    it->inst == NULL	? "delete" :
				  "update";
}

/* "dsync: 3 changes from URL", then a line per change. */
static char *commit_message(const struct conf *c, const struct three *t,
    const bool *take)
{
	struct buf b;
	size_t i, n = 0;

	for (i = 0; i < t->len; i++)
		n += take[i] && !t->v[i].stale;
	buf_init(&b);
	buf_addf(&b, "dsync: %zu change%s from %s\n\n", n, n == 1 ? "" : "s",
	    c->url);
	for (i = 0; i < t->len; i++) {
		const struct three_item *it = &t->v[i];

		if (!take[i] || it->stale)
			continue;
		if (it->rule) {
			/* The name it has now, on the instance. */
			char *l = it->inst ? plan_label(it->rule, it->inst) :
					     NULL;
			const char *name = l ? l : it->label;

			buf_addf(&b, "%s %s \"%s\" %s", it->rule->name,
			    action_of(it), name ? name : "",
			    it->key ? it->key : "");
			free(l);
		} else
			buf_addf(&b, "schema %s %s", action_of(it), it->key);
		if (it->who)
			buf_addf(&b, " by %s", it->who);
		if (it->when)
			buf_addf(&b, " at %s", it->when);
		buf_addc(&b, '\n');
	}
	return buf_steal(&b, NULL);
}

/*
 * Commit what writing take[] changes, built from HEAD's version of each
 * file: a person's uncommitted edit of another item stays theirs. 1: it
 * must wait (j->git_wait says why).
 */
static int commit_tree(struct sync_ctx *ctx, struct job *j, struct three *t,
    const bool *take)
{
	const struct conf *c = rconf(j);
	const char *dir = c->sync.dump_path;
	struct git_change *ch;
	char **rels, *msg, *err = NULL, **datas;
	size_t n, i;
	int rc = 0;

	three_files(ctx, t, take, &rels, &n);
	if (n == 0)
		return 0;
	ch = xcalloc(n, sizeof(*ch));
	datas = xcalloc(n, sizeof(*datas));
	for (i = 0; i < n && rc == 0; i++) {
		char *old = NULL, *out = NULL;
		size_t oldlen = 0, outlen = 0;
		int e = git_show(dir, "HEAD", rels[i], &old, &oldlen, &err);

		if (e < 0) {
			rc = -1;
			break;
		}
		rc = three_apply_file(ctx, t, take, rels[i],
		    e == 0 ? old : NULL, oldlen, &out, &outlen, &err);
		free(old);
		ch[i].rel = rels[i];
		ch[i].data = datas[i] = out;
		ch[i].len = outlen;
	}
	if (rc == 0) {
		msg = commit_message(c, t, take);
		rc = git_commit_changes(dir, ch, n, c->git.author_name,
		    c->git.author_email, msg, c->git.branch, &j->commit, &err);
		free(msg);
	}
	if (rc == 1) {
		j->git_wait = err;
		err = NULL;
		log_warnx("the tree's changes wait: %s", j->git_wait);
	} else if (rc < 0) {
		xasprintf(&j->error, "git commit: %s", err ? err : "failed");
		rc = SYNC_EIO;
	} else if (j->commit)
		log_info("committed %.12s: %zu file(s)", j->commit, n);
	free(err);
	for (i = 0; i < n; i++) {
		free(rels[i]);
		free(datas[i]);
	}
	free(rels);
	free(datas);
	free(ch);
	return rc;
}

/* What the tree holds now of the files written, for the watch to know
 * them as ours. */
static void note_written(struct sync_ctx *ctx, struct job *j, struct three *t,
    const bool *take)
{
	char **rels;
	size_t n, i;

	three_files(ctx, t, take, &rels, &n);
	for (i = 0; i < n; i++) {
		char *path = fs_join(rconf(j)->sync.dump_path, rels[i]), *data;
		size_t len = 0;

		j->wrote = xreallocarray(j->wrote, j->nwrote + 1,
		    sizeof(*j->wrote));
		j->wrote_hash = xreallocarray(j->wrote_hash, j->nwrote + 1,
		    sizeof(*j->wrote_hash));
		if (fs_read_file(path, &data, &len) == 0) {
			j->wrote_hash[j->nwrote] = hash_bytes(data, len);
			free(data);
		} else
			j->wrote_hash[j->nwrote] = 0; /* removed */
		j->wrote[j->nwrote++] = rels[i];
		free(path);
	}
	free(rels);
}

/* The instance's side of take[] into the tree (committed first, when
 * git.commit): deletes only with allow_deletes, up to max_deletes. */
static int to_tree(struct sync_ctx *ctx, struct job *j, struct three *t,
    bool *take)
{
	const struct conf *c = rconf(j);
	size_t i, dels = 0, n = 0, written = 0;
	int rc;

	for (i = 0; i < t->len; i++) {
		if (!take[i])
			continue;
		if (t->v[i].inst == NULL) {
			if (!c->allow_deletes) {
				take[i] = false;
				j->held_tree++;
				continue;
			}
			dels++;
		}
		n++;
	}
	if (c->max_deletes >= 0 && dels > (size_t)c->max_deletes) {
		log_warnx("%zu deletes into the tree: more than max_deletes "
			  "(%ld), held",
		    dels, c->max_deletes);
		for (i = 0; i < t->len; i++)
			if (take[i] && t->v[i].inst == NULL) {
				take[i] = false;
				j->held_tree++;
				n--;
			}
	}
	if (n == 0)
		return 0;
	if ((rc = three_key_new(ctx, t, take, &j->error)) < 0 ||
	    (rc = three_mark_stale(ctx, t, take, &j->error)) < 0)
		return rc;
	if (three_who(ctx, t, &j->error) < 0) {
		log_warnx("who changed what: %s", j->error);
		free(j->error);
		j->error = NULL;
	}
	if (c->git.commit && (rc = commit_tree(ctx, j, t, take)) != 0)
		return rc == 1 ? 0 : rc;
	if ((rc = three_write_tree(ctx, t, take, &written, &j->error)) < 0)
		return rc;
	j->pulled += written;
	for (i = 0; i < t->len; i++)
		if (take[i] && !t->v[i].stale)
			j->tree_counts[t->v[i].inst == NULL ? 2 :
				t->v[i].dump == NULL	    ? 0 :
							      1]++;
	note_written(ctx, j, t, take);
	return 0;
}

/* Push only what was decided: a change made meanwhile waits for the
 * next comparison. */
static int to_instance(struct sync_ctx *ctx, struct job *j,
    const struct plan_req *cmp, const struct three *t, const enum act *acts)
{
	struct plan_req req = *cmp;
	struct strmap *only = strmap_new(), *skip = strmap_new();
	struct sync_stats st;
	size_t i;
	int rc;

	req.collections = 0;
	req.schema = false;
	for (i = 0; i < t->len; i++) {
		const struct three_item *it = &t->v[i];
		char *key;

		if (it->rule == NULL) {
			/* The schema diff goes whole, less what is not to
			 * push. */
			if (it->cls == THREE_IN_SYNC)
				continue;
			key = unit_key(it);
			if (acts[i] == ACT_PUSH)
				req.schema = true;
			else
				strmap_put(skip, key, (void *)1);
			free(key);
			continue;
		}
		if (acts[i] != ACT_PUSH)
			continue;
		key = item_key(it);
		strmap_put(only, key, (void *)1);
		free(key);
		req.collections |= coll_bit(it->rule);
	}
	req.only = only;
	req.skip = skip;
	memset(&st, 0, sizeof(st));
	rc = sync_push_req(ctx, &req, &st, &j->error);
	j->requests += st.requests;
	j->pushed = true;
	j->created += st.created;
	j->updated += st.updated;
	j->deleted += st.deleted;
	j->held_deletes = st.held_deletes;
	j->held_schema = st.held_schema;
	strmap_free(only);
	strmap_free(skip);
	return rc;
}

/* The differences for status and history, with who and when. */
static void take_three(struct sync_ctx *ctx, struct job *j, struct three *t)
{
	if (t->counts[THREE_INSTANCE_CHANGED] + t->counts[THREE_CONFLICT] &&
	    three_who(ctx, t, &j->error) < 0) {
		log_warnx("who changed what: %s", j->error);
		free(j->error);
		j->error = NULL;
	}
	json_free(j->three);
	j->three = three_json(t, true);
	memcpy(j->three_counts, t->counts, sizeof(j->three_counts));
	j->have_base = t->have_base;
	j->have_three = true;
	if (j->have_summary)
		plan_summary_clear(&j->summary);
	three_summarize(t, &j->summary);
	j->have_summary = true;
}

static int compare(struct sync_ctx *ctx, struct job *j, const char *base,
    const struct plan_req *cmp, struct three *t)
{
	unsigned long before = dx_requests(ctx->dx);
	int rc;

	three_free(t);
	rc = sync_three(ctx, base, cmp, t, &j->error);
	count_requests(ctx, j, before);
	if (rc == 0) {
		drop_untracked(j, t);
		if (t->version)
			snprintf(j->version, sizeof(j->version), "%s",
			    t->version);
	}
	return rc;
}

static int write_base(struct sync_ctx *ctx, struct job *j,
    const struct three *t, enum three_base what, const char *base)
{
	char *head = git_head(rconf(j)->sync.dump_path);
	int rc = three_write_base(ctx, t, what, base, head, &j->error);

	free(head);
	return rc;
}

/* No base yet: the first start's setting, or an adopt, makes one. */
static int first_base(struct sync_ctx *ctx, struct job *j, const char *base,
    const struct plan_req *cmp, struct three *t, bool *made)
{
	enum conf_initial ini = rconf(j)->initial;
	enum three_base what;
	int rc;

	*made = false;
	if (j->adopt)
		what = j->keep_all == KEEP_DUMP ? THREE_BASE_INSTANCE :
						  THREE_BASE_DUMP;
	else if (t->have_base || !j->write)
		return 0;
	else if (t->len == t->counts[THREE_IN_SYNC])
		what = THREE_BASE_AGREED; /* both agree: no choice to make */
	else if (ini == CONF_INITIAL_REPORT)
		return 0;
	else
		what = ini == CONF_INITIAL_PUSH ? THREE_BASE_INSTANCE :
						  THREE_BASE_DUMP;
	log_info("the base: made from %s",
	    what == THREE_BASE_AGREED ?
		"the tree and the instance, which agree" :
		what == THREE_BASE_INSTANCE ?
		"the instance (the tree's differences are to push)" :
		"the tree (the instance's differences are to write into it)");
	if ((rc = write_base(ctx, j, t, what, base)) < 0)
		return rc;
	if (what == THREE_BASE_AGREED) {
		t->have_base = true; /* and every item in-sync */
		return 0;
	}
	if ((rc = compare(ctx, j, base, cmp, t)) < 0)
		return rc;
	*made = true;
	return 0;
}

/* For the webhooks (notify set): the changes made in Directus that this
 * job sees, with who made them, before it acts on them. */
static void note_drift(struct sync_ctx *ctx, struct job *j, struct three *t)
{
	struct json *all, *list;
	char *err = NULL;
	size_t i;

	if (rconf(j)->nnotify == 0 || !t->have_base ||
	    t->counts[THREE_INSTANCE_CHANGED] == 0)
		return;
	if (three_who(ctx, t, &err) < 0) {
		log_warnx("who changed what: %s", err);
		free(err);
	}
	all = three_json(t, false);
	list = json_get(all, "differences");
	json_free(j->drift);
	j->drift = json_new_array();
	for (i = 0; list && i < list->u.arr.len; i++) {
		const char *c = json_str(
		    json_get(list->u.arr.items[i], "class"));

		if (c && strcmp(c, "instance-changed") == 0)
			json_array_append(j->drift,
			    json_copy(list->u.arr.items[i]));
	}
	json_free(all);
}

int reconcile(struct sync_ctx *ctx, struct job *j, const struct plan_req *cmp)
{
	char *base = fs_join(rconf(j)->state_dir, "base");
	struct three t;
	enum act *acts = NULL;
	bool *take = NULL, any_push = false, any_tree = false, made;
	size_t i;
	int rc;

	memset(&t, 0, sizeof(t));
	if ((rc = compare(ctx, j, base, cmp, &t)) < 0 ||
	    (rc = first_base(ctx, j, base, cmp, &t, &made)) < 0)
		goto out;
	note_drift(ctx, j, &t);
	if (!j->write || !t.have_base)
		goto done;
	acts = xcalloc(t.len ? t.len : 1, sizeof(*acts));
	take = xcalloc(t.len ? t.len : 1, sizeof(*take));
	for (i = 0; i < t.len; i++) {
		acts[i] = decide(j, &t.v[i]);
		take[i] = acts[i] == ACT_TREE;
		any_push |= acts[i] == ACT_PUSH;
		any_tree |= take[i];
	}
	/* Into the tree first: what is pushed then is the tree's own. */
	if (any_tree && (rc = to_tree(ctx, j, &t, take)) < 0)
		goto out;
	if (any_push && (rc = to_instance(ctx, j, cmp, &t, acts)) < 0)
		goto out;
	if (any_push || j->pulled || made || j->commit) {
		if ((rc = compare(ctx, j, base, cmp, &t)) < 0)
			goto out;
	}
	/* What agrees now is the base; the rest keeps the old one. */
	if ((rc = write_base(ctx, j, &t, THREE_BASE_AGREED, base)) < 0)
		goto out;
done:
	take_three(ctx, j, &t);
	rc = 0;
out:
	three_free(&t);
	free(acts);
	free(take);
	free(base);
	return rc;
}

/* After a commit, or when one is still to go out: git push. A failure is
 * shown and retried; the commit stays. */
void reconcile_git_push(struct job *j)
{
	const struct conf *c = rconf(j);
	char *err = NULL;

	if (!c->git.commit || c->git.push_remote == NULL ||
	    (j->commit == NULL && !j->git_push_retry))
		return;
	if (git_push_to(c->sync.dump_path, c->git.push_remote,
		c->git.push_branch, &err) < 0) {
		j->git_push_error = err ? err : xstrdup("git push failed");
		log_warnx("git push %s %s: %s", c->git.push_remote,
		    c->git.push_branch, j->git_push_error);
		return;
	}
	j->git_pushed = true;
	log_info("pushed to %s %s", c->git.push_remote, c->git.push_branch);
}
