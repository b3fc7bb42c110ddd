/*
 * notices: what is worth telling the webhooks of notify, decided on the
 * loop from what each job leaves and from the commands: one notice per
 * change of state, never one per poll. A drift, a conflict, held deletes
 * or a failure that stays is told once; a conflict that goes is told as
 * resolved. A flapping instance is held to one degraded/recovered pair
 * per FLAP_SECONDS: a degraded within that time of the last recovered
 * is not told, nor the recovered that ends it. webhook.c delivers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "log.h"
#include "options.h"
#include "service.h"
#include "xmalloc.h"

#define FLAP_SECONDS 300.0
#define HELD_SLOTS (COLL_COUNT + 1) /* the collections, then the schema */

struct notices {
	struct webhooks *w;
	struct strmap *drift;	/* keys told, still standing */
	struct json *conflicts; /* the conflicts told, still standing */
	size_t held[HELD_SLOTS];
	char *failed; /* the error last told as job_failed */
	bool degraded, quiet, push_failed;
	double recovered_at; /* monotonic; 0: never */
};

void notices_init(struct daemon *d)
{
	d->notices = xcalloc(1, sizeof(*d->notices));
	d->notices->w = webhooks_start();
	d->notices->drift = strmap_new();
	d->notices->conflicts = json_new_array();
}

void notices_free(struct daemon *d)
{
	struct notices *n = d->notices;

	if (n == NULL)
		return;
	webhooks_stop(n->w);
	strmap_free(n->drift);
	json_free(n->conflicts);
	free(n->failed);
	free(n);
	d->notices = NULL;
}

struct webhooks *notices_webhooks(const struct daemon *d)
{
	return d->notices ? d->notices->w : NULL;
}

/* The Slack body: {"text": "dsync, INSTANCE: MESSAGE"} and the items. */
static char *slack_body(const char *inst, const char *message,
    const struct json *details)
{
	const struct json *items = json_get(details, "items");
	struct json *o = json_new_object();
	struct buf t;
	char *s;
	size_t i;

	buf_init(&t);
	buf_addf(&t, "*dsync* %s: %s", inst, message);
	for (i = 0; items && items->type == JSON_ARRAY &&
	     i < items->u.arr.len && i < 10;
	     i++) {
		const struct json *e = items->u.arr.items[i];
		const char *c = json_str(json_get(e, "collection"));
		const char *name = json_str(json_get(e, "name"));
		const char *by = json_str(json_get(e, "by"));

		buf_addf(&t, "\n• %s \"%s\"%s%s",
		    c				      ? c :
			json_str(json_get(e, "unit")) ?:
							"?",
		    name				 ? name :
			json_str(json_get(e, "_syncId")) ?:
							   "",
		    by ? " by " : "", by ? by : "");
	}
	buf_addc(&t, '\0');
	json_set(o, "text", json_new_string(t.data));
	buf_clear(&t);
	s = json_write(o, false, NULL);
	json_free(o);
	return s;
}

/* One notice to every webhook that wants ev; details (taken) are added
 * to the JSON body. */
void notices_emit(struct daemon *d, enum conf_event ev, const char *message,
    struct json *details)
{
	const char *why, *state;
	struct json *o;
	char *inst, *json_body, *slack;
	size_t i;

	if (d->notices == NULL || d->conf->conf.nnotify == 0) {
		json_free(details);
		return;
	}
	state = daemon_state(d, &why);
	inst = sync_opts_url_shown(d->conf->conf.url);
	o = json_new_object();
	json_set(o, "event", json_new_string(conf_event_names[ev]));
	json_set(o, "time", json_new_string(times_iso(time(NULL))));
	json_set(o, "instance", json_new_string(inst));
	json_set(o, "state", json_new_string(state));
	json_set(o, "message", json_new_string(message));
	for (i = 0;
	     details && details->type == JSON_OBJECT && i < details->u.obj.len;
	     i++)
		json_set(o, details->u.obj.members[i].key,
		    json_copy(details->u.obj.members[i].val));
	json_body = json_write(o, false, NULL);
	slack = slack_body(inst, message, details);
	webhooks_send(d->notices->w, &d->conf->conf, ev, json_body, slack);
	log_debug("notice %s: %s", conf_event_names[ev], message);
	json_free(o);
	json_free(details);
	free(json_body);
	free(slack);
	free(inst);
}

static char *item_key(const struct json *e)
{
	const char *c = json_str(json_get(e, "collection"));
	const char *k = json_str(json_get(e, "_syncId"));
	char *key;

	xasprintf(&key, "%s/%s", c ? c : "schema",
	    k				      ? k :
		json_str(json_get(e, "unit")) ?:
						"?");
	return key;
}

static struct json *item_json(const struct json *e)
{
	static const char *const keys[] = { "collection", "unit", "_syncId",
		"name", "by", "at" };
	struct json *o = json_new_object();
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_get(e, keys[i]))
			json_set(o, keys[i], json_copy(json_get(e, keys[i])));
	return o;
}

/* The entries of list (an array of three_json differences) of class cls
 * whose key is not in seen; *n of them. */
static struct json *new_items(const struct json *list, const char *cls,
    const struct strmap *seen, size_t *n)
{
	struct json *items = json_new_array();
	size_t i;

	*n = 0;
	for (i = 0; list && list->type == JSON_ARRAY && i < list->u.arr.len;
	     i++) {
		const struct json *e = list->u.arr.items[i];
		const char *c = json_str(json_get(e, "class"));
		char *key;

		if (cls && (c == NULL || strcmp(c, cls) != 0))
			continue;
		key = item_key(e);
		if (strmap_get(seen, key) == NULL) {
			json_array_append(items, item_json(e));
			(*n)++;
		}
		free(key);
	}
	return items;
}

static void emit_items(struct daemon *d, enum conf_event ev, struct json *items,
    size_t n, const char *what)
{
	struct json *det = json_new_object();
	char *msg;

	xasprintf(&msg, "%zu %s", n, what);
	json_set(det, "items", items);
	notices_emit(d, ev, msg, det);
	free(msg);
}

/* The keys of list's entries of class cls (all: NULL). */
static struct strmap *keys_of(const struct json *list, const char *cls)
{
	struct strmap *m = strmap_new();
	size_t i;

	for (i = 0; list && list->type == JSON_ARRAY && i < list->u.arr.len;
	     i++) {
		const struct json *e = list->u.arr.items[i];
		const char *c = json_str(json_get(e, "class"));
		char *key;

		if (cls && (c == NULL || strcmp(c, cls) != 0))
			continue;
		key = item_key(e);
		strmap_put(m, key, (void *)1);
		free(key);
	}
	return m;
}

/* drift: changes made in Directus that the job saw, less those told and
 * still standing. */
static void drift(struct daemon *d, const struct job *j)
{
	struct notices *n = d->notices;
	struct json *items;
	size_t k;

	if (!j->have_three)
		return;
	items = new_items(j->drift, NULL, n->drift, &k);
	if (k)
		emit_items(d, CONF_EV_DRIFT, items, k,
		    "change(s) made in Directus");
	else
		json_free(items);
	strmap_free(n->drift);
	n->drift = keys_of(d->three, "instance-changed");
}

/* conflict for the new ones, conflict_resolved for those gone. */
static void conflicts(struct daemon *d, const struct job *j)
{
	struct notices *n = d->notices;
	struct strmap *told, *now;
	struct json *items, *gone = json_new_array(), *keep;
	size_t k, i, ngone = 0;

	if (!j->have_three) {
		json_free(gone);
		return;
	}
	told = keys_of(n->conflicts, NULL);
	now = keys_of(d->three, "conflict");
	items = new_items(d->three, "conflict", told, &k);
	if (k)
		emit_items(d, CONF_EV_CONFLICT, items, k,
		    "conflict(s): changed both in git and in Directus "
		    "(dsyncctl resolve)");
	else
		json_free(items);
	for (i = 0; i < n->conflicts->u.arr.len; i++) {
		char *key = item_key(n->conflicts->u.arr.items[i]);

		if (strmap_get(now, key) == NULL) {
			json_array_append(gone,
			    json_copy(n->conflicts->u.arr.items[i]));
			ngone++;
		}
		free(key);
	}
	if (ngone)
		emit_items(d, CONF_EV_CONFLICT_RESOLVED, gone, ngone,
		    "conflict(s) resolved");
	else
		json_free(gone);
	keep = json_new_array();
	for (i = 0; d->three && i < d->three->u.arr.len; i++) {
		const char *c = json_str(
		    json_get(d->three->u.arr.items[i], "class"));

		if (c && strcmp(c, "conflict") == 0)
			json_array_append(keep,
			    item_json(d->three->u.arr.items[i]));
	}
	json_free(n->conflicts);
	n->conflicts = keep;
	strmap_free(told);
	strmap_free(now);
}

/* held: deletes a push holds back (as dsync_held_deletes), per
 * collection, told when a collection's count goes from none to some. */
static void held(struct daemon *d)
{
	struct notices *n = d->notices;
	struct json *items = json_new_array();
	const char *name;
	size_t i, k = 0, now;

	for (i = 0; i < HELD_SLOTS; i++) {
		if (!daemon_held_deletes(d, i, &name, &now))
			now = 0;
		if (now && !n->held[i]) {
			struct json *e = json_new_object();

			json_set(e, "collection", json_new_string(name));
			json_set(e, "deletes", json_new_number((double)now));
			json_set(e, "setting",
			    json_new_string(i == COLL_COUNT ?
				    "allow_schema_deletes" :
				    "allow_deletes"));
			json_array_append(items, e);
			k += now;
		}
		n->held[i] = now;
	}
	if (k)
		emit_items(d, CONF_EV_HELD, items, k,
		    "delete(s) held: the setting named allows them");
	else
		json_free(items);
}

/* job_failed, told once per error; degraded and recovered, with the
 * flap rule. */
static void failures(struct daemon *d, const struct job *j)
{
	struct notices *n = d->notices;
	bool degraded = d->last_error.set && daemon_retryable(d->last_error.rc);
	struct json *det;
	char *msg;

	if (j->rc < 0 && j->rc != SYNC_ECANCELED && !daemon_retryable(j->rc) &&
	    j->error && (n->failed == NULL || strcmp(n->failed, j->error))) {
		free(n->failed);
		n->failed = xstrdup(j->error);
		det = json_new_object();
		json_set(det, "job", json_new_string(job_kind_name(j->kind)));
		json_set(det, "result",
		    json_new_string(sync_result_name(j->rc)));
		xasprintf(&msg, "a %s job failed: %s", job_kind_name(j->kind),
		    j->error);
		notices_emit(d, CONF_EV_JOB_FAILED, msg, det);
		free(msg);
	} else if (j->rc == 0 && j->kind != JOB_GIT && !d->last_error.set) {
		free(n->failed);
		n->failed = NULL;
	}
	if (degraded && !n->degraded) {
		n->degraded = true;
		n->quiet = n->recovered_at > 0 &&
		    times_mono() - n->recovered_at < FLAP_SECONDS;
		if (!n->quiet) {
			xasprintf(&msg, "Directus fails: %s (retried)",
			    d->last_error.error ? d->last_error.error : "?");
			notices_emit(d, CONF_EV_DEGRADED, msg, NULL);
			free(msg);
		}
	} else if (!degraded && n->degraded && j->rc == 0) {
		n->degraded = false;
		if (!n->quiet) {
			notices_emit(d, CONF_EV_RECOVERED,
			    "Directus answers again", NULL);
			n->recovered_at = times_mono();
		}
	}
}

/* commit, and git_push_failed once until a push succeeds. */
static void git_events(struct daemon *d, const struct job *j)
{
	struct notices *n = d->notices;
	struct json *det;
	char *msg;
	size_t i;

	if (j->commit) {
		det = json_new_object();
		json_set(det, "commit", json_new_string(j->commit));
		json_set(det, "changes", json_new_number((double)j->pulled));
		json_set(det, "files", json_new_array());
		/* The job's files went to d->ours (sides_take), at its end. */
		for (i = 0; d->nours >= j->nwrote && i < j->nwrote; i++)
			if (d->ours[d->nours - j->nwrote + i])
				json_array_append(json_get(det, "files"),
				    json_new_string(
					d->ours[d->nours - j->nwrote + i]));
		xasprintf(&msg,
		    "committed %.12s: %lu change(s) made in "
		    "Directus",
		    j->commit, j->pulled);
		notices_emit(d, CONF_EV_COMMIT, msg, det);
		free(msg);
	}
	if (j->git_push_error && !n->push_failed) {
		n->push_failed = true;
		xasprintf(&msg, "git push failed (retried): %s",
		    j->git_push_error);
		notices_emit(d, CONF_EV_GIT_PUSH_FAILED, msg, NULL);
		free(msg);
	} else if (j->git_pushed)
		n->push_failed = false;
}

/* After a job's results are in struct daemon. */
void notices_job(struct daemon *d, const struct job *j)
{
	if (d->notices == NULL || d->conf->conf.nnotify == 0)
		return;
	if (j->kind == JOB_SYNC || j->kind == JOB_PUSH || j->kind == JOB_DIFF) {
		drift(d, j);
		conflicts(d, j);
		held(d);
	}
	failures(d, j);
	git_events(d, j);
}
