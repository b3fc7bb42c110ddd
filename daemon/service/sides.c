/*
 * sides: what the loop knows of the two sides after each two-way job: the
 * differences by class (conflicts among them), the files our own jobs
 * wrote into the tree (so the watch does not take them for a person's
 * edit), and the commits made and their git push, retried with backoff.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "hash.h"
#include "log.h"
#include "service.h"
#include "xmalloc.h"

#define PUSH_BACKOFF_MIN 10.0
#define PUSH_BACKOFF_MAX 600.0

/* Whether difference e is of what job j compared. */
static bool compared(const struct job *j, const struct json *e)
{
	const char *coll = json_str(json_get(e, "collection"));
	const struct coll_rule *r;

	if (coll == NULL)
		return j->compared_schema;
	r = coll_find(coll);
	return r && (j->compared & coll_bit(r));
}

static void take_differences(struct daemon *d, struct job *j)
{
	struct json *old = d->three, *add;
	size_t i;

	if (!j->have_three)
		return;
	add = json_get(j->three, "differences");
	d->three = json_new_array();
	for (i = 0; old && i < old->u.arr.len; i++)
		if (!compared(j, old->u.arr.items[i]))
			json_array_append(d->three,
			    json_copy(old->u.arr.items[i]));
	for (i = 0; add && i < add->u.arr.len; i++)
		json_array_append(d->three, json_copy(add->u.arr.items[i]));
	json_free(old);
	d->have_three = true;
	d->have_base = j->have_base;
}

static void take_written(struct daemon *d, struct job *j)
{
	size_t i;

	for (i = 0; i < j->nwrote; i++) {
		d->ours = xreallocarray(d->ours, d->nours + 1,
		    sizeof(*d->ours));
		d->ours_hash = xreallocarray(d->ours_hash, d->nours + 1,
		    sizeof(*d->ours_hash));
		d->ours[d->nours] = j->wrote[i];
		d->ours_hash[d->nours++] = j->wrote_hash[i];
		j->wrote[i] = NULL;
	}
}

static void take_git_result(struct daemon *d, struct job *j)
{
	if (j->kind != JOB_DIFF) {
		free(d->git_wait);
		d->git_wait = j->git_wait ? xstrdup(j->git_wait) : NULL;
		d->redo = d->git_wait != NULL;
	}
	if (j->commit) {
		free(d->last_commit);
		d->last_commit = xstrdup(j->commit);
		free(d->head); /* ours is HEAD now */
		d->head = xstrdup(j->commit);

		d->last_commit_at = j->start_wall;
		d->last_pulled = j->pulled;
		d->git_push_pending = d->conf->conf.git.commit &&
		    d->conf->conf.git.push_remote != NULL && !j->git_pushed;
	}
	if (j->git_pushed) {
		d->git_push_pending = false;
		d->git_push_attempt = 0;
		free(d->git_push_error);
		d->git_push_error = NULL;
	} else if (j->git_push_error) {
		double wait = PUSH_BACKOFF_MIN;
		unsigned k;

		d->git_push_pending = true;
		for (k = 0; k < d->git_push_attempt && wait < PUSH_BACKOFF_MAX;
		     k++)
			wait *= 2;
		d->git_push_attempt++;
		d->git_push_next = times_mono() +
		    (wait < PUSH_BACKOFF_MAX ? wait : PUSH_BACKOFF_MAX);
		free(d->git_push_error);
		d->git_push_error = xstrdup(j->git_push_error);
	}
}

void sides_take(struct daemon *d, struct job *j)
{
	take_differences(d, j);
	take_written(d, j);
	take_git_result(d, j);
}

bool sides_push_due(const struct daemon *d)
{
	return d->git_push_pending && times_mono() >= d->git_push_next;
}

bool sides_ours(struct daemon *d, const char *rel)
{
	size_t i;

	for (i = 0; i < d->nours; i++) {
		char *path, *data;
		size_t len = 0;
		unsigned long long h = 0;
		bool same;
		int e;

		if (strcmp(d->ours[i], rel) != 0)
			continue;
		path = fs_join(d->conf->conf.sync.dump_path, rel);
		if ((e = fs_read_file(path, &data, &len)) == 0) {
			h = hash_bytes(data, len);
			free(data);
		}
		same = (e == 0 && h == d->ours_hash[i]) ||
		    (e == -ENOENT && d->ours_hash[i] == 0);
		free(path);
		free(d->ours[i]);
		d->ours[i] = d->ours[d->nours - 1];
		d->ours_hash[i] = d->ours_hash[d->nours - 1];
		d->nours--;
		return same;
	}
	return false;
}

void sides_defer(struct daemon *d, char **paths, size_t n)
{
	size_t i;

	if (paths == NULL) {
		d->deferred_all = true;
		return;
	}
	for (i = 0; i < n; i++) {
		d->deferred = xreallocarray(d->deferred, d->ndeferred + 1,
		    sizeof(*d->deferred));
		d->deferred[d->ndeferred++] = xstrdup(paths[i]);
	}
}

size_t sides_count(const struct daemon *d, const char *cls)
{
	size_t i, n = 0;

	for (i = 0; d->three && i < d->three->u.arr.len; i++) {
		const char *c = json_str(
		    json_get(d->three->u.arr.items[i], "class"));

		n += c && strcmp(c, cls) == 0;
	}
	return n;
}

/* Into status: "base", "classes" {class: n}, "conflicts" (with both
 * sides' values, who and when), "two_way" (every difference, without the
 * values) and "git". */
void sides_put(const struct daemon *d, struct json *o)
{
	static const char *const classes[] = { "dump-changed",
		"instance-changed", "conflict", "differs" };
	struct json *counts = json_new_object();
	struct json *conf = json_new_array(), *diffs = json_new_array(), *g;
	size_t i;

	json_set(o, "base", json_new_bool(d->have_base));
	for (i = 0; i < 4; i++)
		json_set(counts, classes[i],
		    json_new_number((double)sides_count(d, classes[i])));
	json_set(o, "classes", counts);
	for (i = 0; d->three && i < d->three->u.arr.len; i++) {
		const struct json *e = d->three->u.arr.items[i];
		const char *c = json_str(json_get(e, "class"));
		struct json *x = json_copy(e);

		if (c && strcmp(c, "conflict") == 0)
			json_array_append(conf, json_copy(e));
		json_del(x, "dump");
		json_del(x, "instance");
		json_del(x, "base");
		json_array_append(diffs, x);
	}
	json_set(o, "conflicts", conf);
	json_set(o, "two_way", diffs);
	g = json_new_object();
	json_set(g, "commit", json_new_bool(d->conf->conf.git.commit));
	json_set(g, "last_commit",
	    d->last_commit ? json_new_string(d->last_commit) : json_new_null());
	json_set(g, "last_commit_at",
	    d->last_commit ? json_new_string(times_iso(d->last_commit_at)) :
			     json_new_null());
	json_set(g, "last_commit_changes",
	    json_new_number((double)d->last_pulled));
	json_set(g, "waiting",
	    d->git_wait ? json_new_string(d->git_wait) : json_new_null());
	json_set(g, "push",
	    d->conf->conf.git.push_remote ?
		json_new_string(d->conf->conf.git.push_remote) :
		json_new_null());
	json_set(g, "push_pending", json_new_bool(d->git_push_pending));
	json_set(g, "push_error",
	    d->git_push_error ? json_new_string(d->git_push_error) :
				json_new_null());
	json_set(o, "git", g);
}

void sides_clear(struct daemon *d)
{
	size_t i;

	json_free(d->three);
	d->three = NULL;
	free(d->git_wait);
	free(d->last_commit);
	free(d->git_push_error);
	for (i = 0; i < d->nours; i++)
		free(d->ours[i]);
	free(d->ours);
	free(d->ours_hash);
	git_free_paths(d->deferred, d->ndeferred);
}
