/*
 * status: where things stand, as dsyncctl status shows it: the state and
 * why, the instance, the dump, the last poll, full diff, push and error,
 * and what differs per collection with the reason it is not applied.
 * Also the history entry of a job, and the STATUS= line for systemd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "service.h"
#include "three.h"
#include "xmalloc.h"

static size_t diff_count(const struct plan_summary_coll *c)
{
	return c->create + c->update + c->del;
}

/* Why the differences of collection i (or the schema, i < 0) are not
 * applied, or NULL when the next job applies them. */
static const char *held(const struct daemon *d, int i)
{
	const struct conf *c = &d->conf->conf;
	enum conf_policy p = i < 0 ? c->policy_schema : c->policy[i];

	if (p == CONF_POLICY_REPORT)
		return "policy report";
	if (d->paused)
		return "paused";
	if (i < 0)
		return d->diffs.schema_deletes == d->diffs.schema_changes &&
			!c->allow_schema_deletes ?
		    "schema deletes need allow_schema_deletes" :
		    NULL;
	if (d->diffs.c[i].del && !c->allow_deletes &&
	    diff_count(&d->diffs.c[i]) == d->diffs.c[i].del)
		return "deletes need allow_deletes";
	if (d->last_error.set && d->last_error.rc == SYNC_EGUARD)
		return "refused by a guard (see last_error)";
	return NULL;
}

/*
 * Deletes the last compare found that a push holds back, for collection
 * i (COLL_COUNT: the schema): allow_deletes (allow_schema_deletes) is
 * false. Its name into *name; false when it was not compared or its
 * policy is report (nothing pushed, so nothing held).
 */
bool daemon_held_deletes(const struct daemon *d, size_t i, const char **name,
    size_t *n)
{
	const struct conf *c = &d->conf->conf;

	if (!d->have_diffs)
		return false;
	if (i == COLL_COUNT) {
		*name = "schema";
		*n = c->allow_schema_deletes ? 0 : d->diffs.schema_deletes;
		return d->diffs.schema &&
		    c->policy_schema != CONF_POLICY_REPORT;
	}
	*name = d->diffs.c[i].name;
	*n = c->allow_deletes ? 0 : d->diffs.c[i].del;
	return d->diffs.c[i].selected && c->policy[i] != CONF_POLICY_REPORT;
}

/* The differences of the last compare: to apply (policy push), held
 * (policy push, waiting for a setting or a resume), reported (policy
 * report). */
struct counts {
	size_t apply, held, report;
};

/* One difference of the two-way comparison: to apply, held or
 * reported, as the policy of its collection (or the schema) says. */
static void count_three(const struct daemon *d, const struct json *e,
    struct counts *k)
{
	const struct conf *c = &d->conf->conf;
	const char *coll = json_str(json_get(e, "collection"));
	const char *cls = json_str(json_get(e, "class"));
	const struct coll_rule *r = coll ? coll_find(coll) : NULL;
	enum conf_policy p = r ? c->policy[r - coll_rules] : c->policy_schema;
	bool to_tree, del;

	if (cls == NULL || strcmp(cls, "conflict") == 0)
		return;
	if (strcmp(cls, "differs") == 0 || p == CONF_POLICY_REPORT) {
		k->report++;
		return;
	}
	if (strcmp(cls, "dump-changed") == 0) {
		if (p == CONF_POLICY_PULL) {
			k->held++; /* pending: never pushed */
			return;
		}
		to_tree = false;
	} else
		to_tree = p != CONF_POLICY_PUSH;
	if (!to_tree && coll && json_is_null(json_get(e, "_syncId"))) {
		k->report++; /* not tracked: nothing to correct */
		return;
	}
	del = json_is_null(json_get(e, to_tree ? "instance" : "dump"));
	if (d->paused || (del && !c->allow_deletes) ||
	    (!to_tree && del && coll == NULL && !c->allow_schema_deletes))
		k->held++;
	else
		k->apply++;
}

static void count_pending(const struct daemon *d, size_t *push, size_t *report,
    struct counts *k)
{
	const struct conf *c = &d->conf->conf;
	size_t i, n;

	memset(k, 0, sizeof(*k));
	*push = *report = 0;
	if (d->have_three) {
		for (i = 0; d->three && i < d->three->u.arr.len; i++)
			count_three(d, d->three->u.arr.items[i], k);
		*push = k->apply + k->held;
		*report = k->report;
		return;
	}
	if (!d->have_diffs)
		return;
	for (i = 0; i < COLL_COUNT; i++) {
		if (!d->diffs.c[i].selected ||
		    (n = diff_count(&d->diffs.c[i])) == 0)
			continue;
		if (c->policy[i] == CONF_POLICY_REPORT)
			k->report += n;
		else if (held(d, (int)i))
			k->held += n;
		else
			k->apply += n;
	}
	if (d->diffs.schema && (n = d->diffs.schema_changes) > 0) {
		if (c->policy_schema == CONF_POLICY_REPORT)
			k->report += n;
		else if (held(d, -1))
			k->held += n;
		else
			k->apply += n;
	}
	*push = k->apply + k->held;
	*report = k->report;
}

/* "2 to apply, 1 held (see below), 1 reported" */
static void counts_text(const struct counts *k, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	if (k->apply)
		off += (size_t)snprintf(buf + off, len - off,
		    "%zu difference(s) to apply", k->apply);
	if (k->held && off < len)
		off += (size_t)snprintf(buf + off, len - off,
		    "%s%zu held (see below)", off ? ", " : "", k->held);
	if (k->report && off < len)
		snprintf(buf + off, len - off,
		    "%s%zu reported (not applied by the policy)",
		    off ? ", " : "", k->report);
}

/* Why the daemon is degraded: the error and when it is tried again. */
static void retry_text(const struct daemon *d, char *why, size_t len)
{
	const char *error = d->last_error.error ? d->last_error.error :
						  "failed";
	double left = d->next_at > times_mono() ? d->next_at - times_mono() : 0;

	if (d->retry && d->retry_after > 0)
		snprintf(why, len,
		    "%s; retrying in %.0f s, as Directus asked (Retry-After: "
		    "%.0f s)",
		    error, left, d->retry_after);
	else
		snprintf(why, len, "%s; retrying in %.0f s", error, left);
}

const char *daemon_state(const struct daemon *d, const char **reason)
{
	static __thread char why[512];
	size_t push, report, n;
	struct counts k;

	count_pending(d, &push, &report, &k);
	if (d->paused) {
		snprintf(why, sizeof(why), "paused%s%s; %zu difference(s)",
		    d->pause_reason && *d->pause_reason ? ": " : "",
		    d->pause_reason ? d->pause_reason : "", push + report);
		*reason = why;
		return "paused";
	}
	if (d->job && d->job->kind != JOB_PROBE && d->job->kind != JOB_GIT) {
		snprintf(why, sizeof(why), "a %s job runs (%s)",
		    job_kind_name(d->job->kind),
		    job_trigger_name(d->job->trigger));
		*reason = why;
		return "syncing";
	}
	if (d->last_error.set && daemon_retryable(d->last_error.rc)) {
		retry_text(d, why, sizeof(why));
		*reason = why;
		return "degraded";
	}
	if (d->last_error.set) {
		snprintf(why, sizeof(why), "%s",
		    d->last_error.error ? d->last_error.error : "failed");
		*reason = why;
		return "error";
	}
	if ((n = sides_count(d, "conflict")) > 0) {
		snprintf(why, sizeof(why),
		    "%zu conflict(s): both sides changed "
		    "(dsyncctl resolve COLLECTION SYNCID --keep dump|instance)",
		    n);
		*reason = why;
		return "conflict";
	}
	if (d->have_three && !d->have_base && report) {
		snprintf(why, sizeof(why),
		    "%zu difference(s) and no base yet "
		    "(initial = %s): dsyncctl adopt --keep dump|instance",
		    report + push, conf_initial_name(d->conf->conf.initial));
		*reason = why;
		return "drifted";
	}
	if (d->git_wait) {
		snprintf(why, sizeof(why),
		    "the instance's changes wait for git: %s", d->git_wait);
		*reason = why;
		return "pending";
	}
	if (d->nuncommitted) {
		snprintf(why, sizeof(why),
		    "%zu uncommitted edit(s) in the dump "
		    "(watch = commits: only commits are pushed)",
		    d->nuncommitted);
		*reason = why;
		return "pending";
	}
	if (push || report) {
		counts_text(&k, why, sizeof(why));
		*reason = why;
		return push ? "pending" : "drifted";
	}
	if ((n = (size_t)json_get_count(d->seed_pending, "changes")) > 0) {
		snprintf(why, sizeof(why),
		    "%zu seed difference(s): seeded items differ from the seed "
		    "files (pushed when they change, or by dsyncctl push)",
		    n);
		*reason = why;
		return "drifted";
	}
	*reason = d->have_diffs ? "the instance matches the dump" :
				  "not compared yet";
	return d->have_diffs ? "in-sync" : "pending";
}

static struct json *num(double v)
{
	return json_new_number(v);
}

static struct json *str_or_null(const char *s)
{
	return s ? json_new_string(s) : json_new_null();
}

static struct json *last_json(const struct last *l, time_t now)
{
	struct json *o;

	if (!l->set)
		return json_new_null();
	o = json_new_object();
	json_set(o, "at", json_new_string(times_iso(l->at)));
	json_set(o, "age", num((double)(now - l->at)));
	json_set(o, "result", json_new_string(sync_result_name(l->rc)));
	json_set(o, "requests", num((double)l->requests));
	return o;
}

static struct json *differences_json(const struct daemon *d)
{
	const struct conf *c = &d->conf->conf;
	struct json *o = json_new_object();
	size_t i, k;

	for (i = 0; d->have_diffs && i < COLL_COUNT; i++) {
		const struct plan_summary_coll *sc = &d->diffs.c[i];
		struct json *e, *first;

		if (!sc->selected || diff_count(sc) + sc->dangling == 0)
			continue;
		e = json_new_object();
		json_set(e, "create", num((double)sc->create));
		json_set(e, "update", num((double)sc->update));
		json_set(e, "delete", num((double)sc->del));
		json_set(e, "dangling", num((double)sc->dangling));
		json_set(e, "policy",
		    json_new_string(conf_policy_name(c->policy[i])));
		json_set(e, "held", str_or_null(held(d, (int)i)));
		first = json_new_array();
		for (k = 0; k < sc->nfirst; k++) {
			struct json *it = json_new_object();
			char kind[2] = { sc->first[k].kind, '\0' };

			json_set(it, "kind", json_new_string(kind));
			json_set(it, "_syncId",
			    json_new_string(sc->first[k].sync_id));
			json_set(it, "name", str_or_null(sc->first[k].label));
			json_array_append(first, it);
		}
		json_set(e, "first", first);
		json_set(o, sc->name, e);
	}
	if (d->have_diffs && d->diffs.schema && d->diffs.schema_changes) {
		struct json *e = json_new_object(), *first = json_new_array();

		json_set(e, "changes", num((double)d->diffs.schema_changes));
		json_set(e, "policy",
		    json_new_string(conf_policy_name(c->policy_schema)));
		json_set(e, "held", str_or_null(held(d, -1)));
		for (k = 0; k < d->diffs.nschema_first; k++)
			json_array_append(first,
			    json_new_string(d->diffs.schema_first[k]));
		json_set(e, "first", first);
		json_set(o, "schema", e);
	}
	return o;
}

static struct json *pending_json(const struct daemon *d)
{
	struct json *o = json_new_object();
	size_t i;

	for (i = 0; d->have_diffs && i < COLL_COUNT; i++)
		if (d->diffs.c[i].selected && diff_count(&d->diffs.c[i]))
			json_set(o, d->diffs.c[i].name,
			    num((double)diff_count(&d->diffs.c[i])));
	if (d->have_diffs && d->diffs.schema && d->diffs.schema_changes)
		json_set(o, "schema", num((double)d->diffs.schema_changes));
	return o;
}

static struct json *dump_json(const struct daemon *d)
{
	const struct conf *c = &d->conf->conf;
	struct json *o = json_new_object(), *u = json_new_array();
	size_t i;

	json_set(o, "path", json_new_string(c->sync.dump_path));
	json_set(o, "watch",
	    json_new_string(
		c->watch == CONF_WATCH_COMMITS ? "commits" : "tree"));
	json_set(o, "head",
	    d->head ? json_new_stringn(d->head,
			  strlen(d->head) > 12 ? 12 : strlen(d->head)) :
		      json_new_null());
	for (i = 0; i < d->nuncommitted; i++)
		json_array_append(u, json_new_string(d->uncommitted[i]));
	json_set(o, "uncommitted", u);
	return o;
}

static struct json *policy_json(const struct conf *c)
{
	struct json *o = json_new_object(), *colls = json_new_object();
	size_t i;

	json_set(o, "default",
	    json_new_string(conf_policy_name(c->policy_default)));
	json_set(o, "schema",
	    json_new_string(conf_policy_name(c->policy_schema)));
	for (i = 0; i < COLL_COUNT; i++)
		if (c->policy[i] != c->policy_default)
			json_set(colls, coll_rules[i].name,
			    json_new_string(conf_policy_name(c->policy[i])));
	json_set(o, "collections", colls);
	return o;
}

static struct json *job_json(const struct daemon *d)
{
	struct json *o;

	if (d->job == NULL || d->job->kind == JOB_PROBE ||
	    d->job->kind == JOB_GIT)
		return json_new_null();
	o = json_new_object();
	json_set(o, "kind", json_new_string(job_kind_name(d->job->kind)));
	json_set(o, "trigger",
	    json_new_string(job_trigger_name(d->job->trigger)));
	json_set(o, "started",
	    json_new_string(times_iso(
		d->job->start_wall ? d->job->start_wall : time(NULL))));
	json_set(o, "elapsed",
	    num(d->job->started ? times_mono() - d->job->started : 0));
	json_set(o, "requests", num((double)worker_requests(d->worker)));
	return o;
}

static void put_times(const struct daemon *d, struct json *o, time_t now)
{
	struct json *v;
	double left = d->next_at - times_mono();

	json_set(o, "polls", num((double)d->polls));
	json_set(o, "last_poll", last_json(&d->last_poll, now));
	if (d->last_poll.set)
		json_set(json_get(o, "last_poll"), "moved",
		    json_new_bool(d->last_poll_moved));
	json_set(o, "next_poll",
	    d->retry || d->stopping ? json_new_null() : json_new_object());
	if ((v = json_get(o, "next_poll")) && v->type == JSON_OBJECT)
		json_set(v, "in", num(left > 0 ? left : 0));
	v = last_json(&d->last_full, now);
	if (v->type == JSON_OBJECT)
		json_set(v, "changes", num((double)d->last_full_changes));
	json_set(o, "last_full_diff", v);
	v = last_json(&d->last_push, now);
	if (v->type == JSON_OBJECT) {
		json_set(v, "duration", num(d->last_push_duration));
		json_set(v, "created", num((double)d->last_push_counts[0]));
		json_set(v, "updated", num((double)d->last_push_counts[1]));
		json_set(v, "deleted", num((double)d->last_push_counts[2]));
		json_set(v, "error", str_or_null(d->last_push.error));
	}
	json_set(o, "last_push", v);
	v = last_json(&d->last_error, now);
	if (v->type == JSON_OBJECT) {
		json_del(v, "requests");
		json_set(v, "message", str_or_null(d->last_error.error));
	}
	json_set(o, "last_error", v);
	if (d->retry && !d->stopping) {
		v = json_new_object();
		json_set(v, "in", num(left > 0 ? left : 0));
		json_set(v, "at",
		    json_new_string(
			times_iso(now + (time_t)(left > 0 ? left + 0.5 : 0))));
		json_set(v, "attempt", num((double)d->attempt));
		json_set(v, "retry_after",
		    d->retry_after > 0 ? num(d->retry_after) : json_new_null());
		json_set(o, "next_retry", v);
	} else
		json_set(o, "next_retry", json_new_null());
}

/* The seeds: where, what differs, the last push of them. */
static struct json *seed_json(const struct daemon *d, time_t now)
{
	const struct conf *c = &d->conf->conf;
	struct json *o, *a, *p;
	size_t i;

	if (!c->seed_enabled)
		return json_new_null();
	o = json_new_object();
	a = json_new_array();
	for (i = 0; i < c->nseed_paths; i++)
		json_array_append(a, json_new_string(c->seed_paths[i]));
	json_set(o, "paths", a);
	json_set(o, "pending",
	    d->seed_pending ? json_copy(d->seed_pending) : json_new_null());
	json_set(o, "compared_at",
	    d->seed_pending ? json_new_string(times_iso(d->seed_pending_at)) :
			      json_new_null());
	json_set(o, "due", json_new_bool(d->seed_due));
	p = last_json(&d->last_seed_push, now);
	if (p->type == JSON_OBJECT) {
		json_set(p, "created", num((double)d->last_seed_counts[0]));
		json_set(p, "updated", num((double)d->last_seed_counts[1]));
		json_set(p, "deleted", num((double)d->last_seed_counts[2]));
		json_set(p, "held_deletes",
		    num((double)d->last_seed_counts[3]));
	}
	json_set(o, "last_push", p);
	return o;
}

struct json *daemon_status_json(const struct daemon *d)
{
	const struct conf *c = &d->conf->conf;
	struct json *o = json_new_object(), *dx;
	const char *reason, *state = daemon_state(d, &reason);
	time_t now = time(NULL);

	json_set(o, "state", json_new_string(state));
	json_set(o, "state_reason", json_new_string(reason));
	json_set(o, "version", json_new_string(DSYNC_VERSION));
	json_set(o, "pid", num((double)getpid()));
	json_set(o, "uptime", num(times_mono() - d->started));
	json_set(o, "config", json_new_string(d->conf_path));
	json_set(o, "metrics", str_or_null(d->metrics_on));
	dx = json_new_object();
	json_set(dx, "url", json_new_string(c->url));
	json_set(dx, "version",
	    d->version[0] ? json_new_string(d->version) : json_new_null());
	json_set(dx, "tls_verify", json_new_bool(c->tls_verify));
	json_set(o, "directus", dx);
	json_set(o, "dump", dump_json(d));
	json_set(o, "policy", policy_json(c));
	json_set(o, "pending", pending_json(d));
	json_set(o, "differences", differences_json(d));
	json_set(o, "seed", seed_json(d, now));
	sides_put(d, o);
	json_set(o, "job", job_json(d));
	json_set(o, "queued",
	    d->nqueue ? json_new_string(job_kind_name(d->queue[0].kind)) :
			json_new_null());
	put_times(d, o, now);
	json_set(o, "notices",
	    notices_webhooks(d) ? webhooks_json(notices_webhooks(d)) :
				  json_new_null());
	if (d->paused) {
		struct json *p = json_new_object();

		json_set(p, "since",
		    json_new_string(times_iso(d->pause_since)));
		json_set(p, "reason",
		    json_new_string(d->pause_reason ? d->pause_reason : ""));
		json_set(o, "paused", p);
	} else
		json_set(o, "paused", json_new_null());
	return o;
}

struct json *job_history_json(const struct daemon *d, const struct job *j)
{
	struct json *o = json_new_object(), *colls = json_new_array();
	size_t i, changes = 0;

	json_set(o, "id", num((double)d->job_id));
	json_set(o, "kind", json_new_string(job_kind_name(j->kind)));
	json_set(o, "trigger", json_new_string(job_trigger_name(j->trigger)));
	json_set(o, "start", json_new_string(times_iso(j->start_wall)));
	json_set(o, "duration", num((double)(long)(j->duration * 1000) / 1000));
	json_set(o, "requests", num((double)j->requests));
	if (j->have_summary)
		changes = j->summary.changes;
	json_set(o, "changes", num((double)changes));
	json_set(o, "created", num((double)j->created));
	json_set(o, "updated", num((double)j->updated));
	json_set(o, "deleted", num((double)j->deleted));
	if (j->have_three) {
		struct json *p = json_new_object();

		json_set(p, "created", num((double)j->created));
		json_set(p, "updated", num((double)j->updated));
		json_set(p, "deleted", num((double)j->deleted));
		json_set(o, "to_instance", p);
		json_set(o, "to_tree", num((double)j->pulled));
		json_set(o, "held_tree", num((double)j->held_tree));
		json_set(o, "conflicts",
		    num((double)j->three_counts[THREE_CONFLICT]));
		json_set(o, "commit", str_or_null(j->commit));
		json_set(o, "git_wait", str_or_null(j->git_wait));
		json_set(o, "git_push_error", str_or_null(j->git_push_error));
	}
	for (i = 0; i < COLL_COUNT; i++)
		if (j->collections & coll_bit(&coll_rules[i]))
			json_array_append(colls,
			    json_new_string(coll_rules[i].name));
	json_set(o, "collections", colls);
	json_set(o, "schema", json_new_bool(j->schema));
	if (j->seed_push || j->seed_ran) {
		struct json *s = json_new_object();

		json_set(s, "pushed", json_new_bool(j->seed_push && j->write));
		json_set(s, "created", num((double)j->seed_counts[0]));
		json_set(s, "updated", num((double)j->seed_counts[1]));
		json_set(s, "deleted", num((double)j->seed_counts[2]));
		json_set(s, "held_deletes", num((double)j->seed_counts[3]));
		json_set(s, "pending",
		    num(json_get_count(j->seed_pending, "changes")));
		json_set(o, "seed", s);
	} else
		json_set(o, "seed", json_new_null());
	json_set(o, "result", json_new_string(sync_result_name(j->rc)));
	json_set(o, "error", str_or_null(j->rc < 0 ? j->error : NULL));
	return o;
}

void daemon_notify_status(const struct daemon *d)
{
	const char *reason, *state = daemon_state(d, &reason);

	notify_status("%s: %s", state, reason);
}
