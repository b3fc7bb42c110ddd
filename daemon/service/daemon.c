/*
 * daemon: dsyncd without a command. The loop (main thread) owns the
 * watch, the poll timer, the control socket, the signals and the
 * watchdog; it decides which job runs next and keeps what the jobs
 * learnt. What a job does with a difference is its collection's policy
 * (reconcile.c): push (git is the truth: dump changes pushed, drift
 * corrected back), pull (Directus is: its changes written into the tree
 * and committed), sync (both; a change on both sides is a conflict),
 * report or ignore.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"
#include "service.h"
#include "xmalloc.h"

#define RETRY_FIRST 2.0 /* seconds before the first retry */

/* --- configuration references --- */

struct conf_ref *conf_ref_load(const char *path, unsigned generation,
    char **errstr)
{
	struct conf_ref *r = xcalloc(1, sizeof(*r));

	conf_init(&r->conf);
	if (conf_load(&r->conf, path, errstr) < 0) {
		conf_clear(&r->conf);
		free(r);
		return NULL;
	}
	atomic_init(&r->refs, 1);
	r->generation = generation;
	return r;
}

struct conf_ref *conf_ref_get(struct conf_ref *r)
{
	atomic_fetch_add(&r->refs, 1);
	return r;
}

void conf_ref_put(struct conf_ref *r)
{
	if (r && atomic_fetch_sub(&r->refs, 1) == 1) {
		conf_clear(&r->conf);
		free(r);
	}
}

static const struct conf *cur(const struct daemon *d)
{
	return &d->conf->conf;
}

static unsigned all_collections(void)
{
	return (1u << COLL_COUNT) - 1;
}

/* --- scheduling --- */

/* seconds less up to spread of it: polls never come later than their
 * interval, so that drift is seen within one. */
static double jitter(double seconds, double spread)
{
	unsigned r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (unsigned)rand();
	return seconds * (1 - spread * (r / 4294967295.0));
}

static void arm_timer(struct daemon *d, double in)
{
	struct timeval tv;

	if (in < 0)
		in = 0;
	d->next_at = times_mono() + in;
	tv.tv_sec = (time_t)in;
	tv.tv_usec = (suseconds_t)((in - (double)tv.tv_sec) * 1e6);
	evtimer_add(d->timer, &tv);
}

static void schedule_poll(struct daemon *d)
{
	d->retry = false;
	d->retry_after = 0;
	d->hold_until = 0;
	arm_timer(d, jitter(cur(d)->poll_interval, 0.1));
}

bool daemon_retryable(int rc)
{
	return sync_result_transient(rc) || rc == SYNC_EPROTO;
}

/*
 * Exponential backoff with jitter and a cap (poll.backoff_max). When the
 * failed job's answers carried a Retry-After (asked, in seconds, already
 * at most DX_RETRY_AFTER_MAX, one hour: a larger value is taken as an
 * hour), the retry waits at least that long, even beyond backoff_max,
 * plus up to a tenth more so that daemons refused together do not come
 * back together; and until then no automatic job (a change in the tree,
 * a poll) talks to Directus. A request through dsyncctl still runs.
 */
static void schedule_retry(struct daemon *d, enum job_kind kind, double asked)
{
	double delay = RETRY_FIRST, wait;
	unsigned i;

	for (i = 1; i < d->attempt && delay < cur(d)->backoff_max; i++)
		delay *= 2;
	if (delay > cur(d)->backoff_max)
		delay = cur(d)->backoff_max;
	wait = jitter(delay, 0.2);
	if (asked > DX_RETRY_AFTER_MAX)
		asked = DX_RETRY_AFTER_MAX;
	d->retry_after = asked > 0 ? asked : 0;
	d->hold_until = 0;
	if (asked > 0 && wait < asked)
		wait = asked * (1 + 0.1 * (1 - jitter(1, 1)));
	d->retry = true;
	d->retry_kind = kind;
	arm_timer(d, wait);
	if (asked > 0) {
		d->hold_until = d->next_at;
		log_info("retry %u in %.1f s (Directus asked to wait %.0f s: "
			 "Retry-After)",
		    d->attempt, d->next_at - times_mono(), asked);
	} else
		log_info("retry %u in %.1f s", d->attempt,
		    d->next_at - times_mono());
}

/* Whether a queued request waits for the Retry-After to pass: automatic
 * jobs that talk to Directus do; a client's request does not. */
static bool held_back(const struct daemon *d, const struct request *rq)
{
	return rq->client == NULL && rq->kind != JOB_GIT && d->hold_until > 0 &&
	    times_mono() < d->hold_until;
}

/* --- starting jobs --- */

/* Whether every collection of the set (and the schema, with schema) has
 * policy push (or ignore): an automatic job is then a push, by its name
 * in the history; it runs the same two-way job as a sync. */
static bool all_push(const struct conf *c, unsigned colls, bool schema)
{
	size_t i;

	for (i = 0; i < COLL_COUNT; i++)
		if ((colls & coll_bit(&coll_rules[i])) &&
		    c->policy[i] != CONF_POLICY_PUSH &&
		    c->policy[i] != CONF_POLICY_IGNORE)
			return false;
	return !schema || c->policy_schema == CONF_POLICY_PUSH ||
	    c->policy_schema == CONF_POLICY_IGNORE;
}

static void start(struct daemon *d, const struct request *rq)
{
	const struct conf *c = cur(d);
	enum job_kind kind = rq->kind;
	struct job *j;

	if (kind == JOB_SYNC && !d->paused && rq->client == NULL &&
	    (rq->trigger == TRIG_WATCH || rq->trigger == TRIG_POLL ||
		rq->trigger == TRIG_COMMIT) &&
	    all_push(c, rq->collections, rq->schema))
		kind = JOB_PUSH;
	j = job_new(kind, rq->trigger, d->conf);

	j->collections = rq->collections;
	j->schema = rq->schema;
	j->keep = rq->keep;
	j->keep_all = rq->keep_all;
	j->adopt = rq->adopt;
	j->git_push_retry = d->git_push_pending && !d->paused;
	/* The seeds: pushed when they changed (and at start, after a
	 * resume or a reload, or when asked), by a job that may write;
	 * compared with every full comparison. */
	if (c->seed_enabled && kind != JOB_PULL && kind != JOB_GIT &&
	    kind != JOB_PROBE) {
		if (rq->trigger == TRIG_CONTROL && kind == JOB_PUSH)
			d->seed_due = true;
		j->seed_push = d->seed_due && !d->paused && kind != JOB_DIFF;
		if (j->seed_push)
			d->seed_due = false;
		j->seed_diff = j->seed_push || kind == JOB_DIFF ||
		    rq->trigger == TRIG_FULL || rq->trigger == TRIG_START;
	}
	j->write = !d->paused;
	j->want_plan = rq->kind == JOB_DIFF && rq->client != NULL;
	/* With watch = commits, what is in git at HEAD is the dump. */
	j->from_head = c->watch == CONF_WATCH_COMMITS && d->git_dir &&
	    rq->kind != JOB_PULL && rq->kind != JOB_GIT &&
	    rq->kind != JOB_PROBE;
	j->base = d->probe;
	if (rq->kind == JOB_GIT && d->commit_pushed)
		j->old_head = xstrdup(d->commit_pushed);
	d->waiting = rq->client;
	d->job = j;
	if (rq->kind == JOB_PULL)
		watch_mute(d->watch, true);
	if (rq->kind != JOB_PROBE && rq->kind != JOB_GIT)
		log_info("job: %s (%s)", job_kind_name(kind),
		    job_trigger_name(rq->trigger));
	worker_run(d->worker, j);
	daemon_notify_status(d);
}

/* Merge an automatic trigger into one already queued. */
static bool merge(struct daemon *d, const struct request *rq)
{
	size_t i;

	if (rq->client)
		return false;
	for (i = 0; i < d->nqueue; i++) {
		struct request *q = &d->queue[i];

		if (q->client || q->kind == JOB_GIT || rq->kind == JOB_GIT)
			continue;
		if (q->kind == JOB_PROBE && rq->kind == JOB_PROBE)
			return true;
		if (rq->kind == JOB_PROBE)
			return true; /* a job that compares is queued */
		q->kind = q->kind == JOB_PROBE ? rq->kind : q->kind;
		q->collections |= rq->collections;
		q->schema |= rq->schema;
		return true;
	}
	return false;
}

static void run_next(struct daemon *d)
{
	struct request rq;

	size_t i;

	if (d->job || d->nqueue == 0 || d->stopping)
		return;
	for (i = 0; i < d->nqueue && held_back(d, &d->queue[i]); i++)
		;
	if (i == d->nqueue)
		return; /* the retry's timer starts them */
	rq = d->queue[i];
	d->nqueue--;
	memmove(d->queue + i, d->queue + i + 1,
	    (d->nqueue - i) * sizeof(*d->queue));
	start(d, &rq);
}

void daemon_trigger(struct daemon *d, enum job_kind kind,
    enum job_trigger trigger, unsigned collections, bool schema,
    struct control_client *cl)
{
	struct request rq = { kind, trigger, collections, schema, cl, NULL, 0,
		false };

	if (d->stopping) {
		if (cl)
			control_reply(cl, NULL, "shutting_down",
			    "the daemon is stopping");
		return;
	}
	if (!merge(d, &rq)) {
		d->queue = xreallocarray(d->queue, d->nqueue + 1,
		    sizeof(*d->queue));
		d->queue[d->nqueue++] = rq;
	}
	run_next(d);
}

void daemon_resolve(struct daemon *d, struct strmap *keep, int keep_all,
    bool adopt, struct control_client *cl)
{
	struct request rq = { JOB_SYNC, TRIG_CONTROL, all_collections(), true,
		cl, keep, keep_all, adopt };

	d->queue = xreallocarray(d->queue, d->nqueue + 1, sizeof(*d->queue));
	d->queue[d->nqueue++] = rq;
	run_next(d);
}

/* --- what a finished job teaches --- */

static void set_last(struct last *l, const struct job *j)
{
	l->set = true;
	l->at = j->start_wall;
	l->rc = j->rc;
	l->requests = j->requests;
	free(l->error);
	l->error = j->rc < 0 && j->error ? xstrdup(j->error) : NULL;
}

/* The job's comparison replaces what was known of what it compared. */
static void take_diffs(struct daemon *d, struct job *j)
{
	size_t i, k;

	if (!j->have_summary)
		return;
	if (!d->have_diffs) {
		d->diffs = j->summary;
		memset(&j->summary, 0, sizeof(j->summary));
		j->have_summary = false;
		d->have_diffs = true;
		return;
	}
	for (i = 0; i < COLL_COUNT; i++) {
		if (!(j->compared & coll_bit(&coll_rules[i])))
			continue;
		for (k = 0; k < d->diffs.c[i].nfirst; k++) {
			free(d->diffs.c[i].first[k].sync_id);
			free(d->diffs.c[i].first[k].label);
		}
		d->diffs.c[i] = j->summary.c[i];
		j->summary.c[i].nfirst = 0;
	}
	if (j->compared_schema) {
		for (k = 0; k < d->diffs.nschema_first; k++)
			free(d->diffs.schema_first[k]);
		d->diffs.schema = j->summary.schema;
		d->diffs.schema_changes = j->summary.schema_changes;
		d->diffs.schema_collections = j->summary.schema_collections;
		d->diffs.schema_fields = j->summary.schema_fields;
		d->diffs.schema_relations = j->summary.schema_relations;
		d->diffs.schema_deletes = j->summary.schema_deletes;
		memcpy(d->diffs.schema_first, j->summary.schema_first,
		    sizeof(d->diffs.schema_first));
		d->diffs.nschema_first = j->summary.nschema_first;
		j->summary.nschema_first = 0;
	}
	d->diffs.changes = 0;
	for (i = 0; i < COLL_COUNT; i++)
		d->diffs.changes += d->diffs.c[i].create +
		    d->diffs.c[i].update + d->diffs.c[i].del;
	d->diffs.changes += d->diffs.schema_changes;
}

static void take_git(struct daemon *d, struct job *j)
{
	free(d->head);
	d->head = j->head;
	j->head = NULL;
	git_free_paths(d->uncommitted, d->nuncommitted);
	d->uncommitted = j->uncommitted;
	d->nuncommitted = j->nuncommitted;
	j->uncommitted = NULL;
	j->nuncommitted = 0;
	if (cur(d)->watch == CONF_WATCH_COMMITS && j->head_moved && d->head) {
		free(d->commit_pushed);
		d->commit_pushed = xstrdup(d->head);
		d->seed_due |= !j->old_head || j->changed_seed;
		daemon_trigger(d, JOB_SYNC, TRIG_COMMIT,
		    j->old_head ? j->changed_collections : all_collections(),
		    j->old_head ? j->changed_schema : true, NULL);
	}
}

/* What the job did with the seeds, and what still differs. */
static void take_seed(struct daemon *d, struct job *j)
{
	if (j->seed_push && (j->rc < 0 || !j->write))
		d->seed_due = true; /* tried again by the next one */
	if (j->seed_push && j->rc == 0 && j->write) {
		set_last(&d->last_seed_push, j);
		memcpy(d->last_seed_counts, j->seed_counts,
		    sizeof(d->last_seed_counts));
	}
	if (j->seed_ran) {
		json_free(d->seed_pending);
		d->seed_pending = j->seed_pending;
		j->seed_pending = NULL;
		d->seed_pending_at = j->start_wall;
	}
}

/* Failures: a transient one is retried with backoff (degraded); others
 * are shown until a job that covers what failed succeeds. */
static void take_result(struct daemon *d, struct job *j)
{
	bool covers;

	if (j->rc < 0 && j->rc != SYNC_ECANCELED) {
		set_last(&d->last_error, j);
		d->error_collections = j->collections;
		d->error_schema = j->schema;
		if (daemon_retryable(j->rc)) {
			d->attempt++;
			schedule_retry(d,
			    j->kind == JOB_PROBE ? JOB_PROBE : JOB_SYNC,
			    j->retry_after);
		}
		log_warnx("%s job (%s) failed: %s", job_kind_name(j->kind),
		    job_trigger_name(j->trigger), j->error);
		return;
	}
	/* A git job talks to no Directus: it tells nothing of whether
	 * Directus answers again, and leaves the backoff (and a Retry-After
	 * wait) as it is. */
	if (j->rc < 0 || j->kind == JOB_GIT)
		return;
	covers = (j->collections & d->error_collections) ==
		d->error_collections &&
	    (j->schema || !d->error_schema);
	if (d->last_error.set &&
	    (daemon_retryable(d->last_error.rc) ||
		(covers && j->kind != JOB_PROBE && j->kind != JOB_GIT))) {
		if (daemon_retryable(d->last_error.rc))
			log_info("Directus answers again");
		d->last_error.set = false;
	} else if (d->last_error.set && j->kind != JOB_PROBE &&
	    j->kind != JOB_GIT) {
		/* Part of what failed works now: check the rest at once. */
		daemon_trigger(d, JOB_SYNC, TRIG_RETRY, d->error_collections,
		    d->error_schema, NULL);
	}
	if (d->retry) {
		d->attempt = 0;
		schedule_poll(d);
	}
}

static void record(struct daemon *d, struct job *j)
{
	struct json *h;
	char *err = NULL;

	if (j->version[0])
		snprintf(d->version, sizeof(d->version), "%s", j->version);
	if (j->probe.valid)
		d->probe = j->probe;
	if (j->kind == JOB_PROBE || j->trigger == TRIG_FULL)
		d->polls++;
	if (j->kind == JOB_PROBE) {
		set_last(&d->last_poll, j);
		d->last_poll_moved = j->moved;
		return;
	}
	if (j->kind == JOB_GIT)
		return;
	if (j->trigger == TRIG_FULL || j->trigger == TRIG_START) {
		set_last(&d->last_full, j);
		d->last_full_changes = j->have_summary ? j->summary.changes : 0;
		if (j->trigger == TRIG_FULL) {
			set_last(&d->last_poll, j);
			d->last_poll_moved = false;
		}
	}
	if (j->pushed) {
		set_last(&d->last_push, j);
		d->last_push_counts[0] = j->created;
		d->last_push_counts[1] = j->updated;
		d->last_push_counts[2] = j->deleted;
		d->last_push_duration = j->duration;
	}
	d->job_id++;
	h = job_history_json(d, j);
	if (state_history_append(cur(d)->state_dir, h, &err) < 0) {
		log_warnx("%s", err);
		free(err);
	}
	json_free(h);
	if (j->rc == 0 && (j->created || j->updated || j->deleted))
		log_info("%s: %lu created, %lu updated, %lu deleted (%lu "
			 "requests, %.2f s)",
		    job_kind_name(j->kind), j->created, j->updated, j->deleted,
		    j->requests, j->duration);
}

/* The answer for a client that waited. */
static void answer(struct daemon *d, struct job *j)
{
	struct json *r;

	if (d->waiting == NULL)
		return;
	if (j->kind == JOB_DIFF && j->rc == 0) {
		r = json_new_object();
		json_set(r, "at", json_new_string(times_iso(j->start_wall)));
		json_set(r, "summary",
		    j->have_summary ? plan_summary_json(&j->summary) :
				      json_new_null());
		json_set(r, "plan", j->plan ? j->plan : json_new_null());
		j->plan = NULL;
		json_set(r, "two_way",
		    j->three ? json_copy(j->three) : json_new_null());
		json_set(r, "seed",
		    j->seed_plan ? j->seed_plan : json_new_null());
		j->seed_plan = NULL;
		control_reply(d->waiting, r, NULL, NULL);
	} else if (j->kind == JOB_DIFF)
		control_reply(d->waiting, NULL, "failed", j->error);
	else {
		d->job_id += 0;
		control_reply(d->waiting, job_history_json(d, j), NULL, NULL);
	}
	d->waiting = NULL;
}

static void apply_conf(struct daemon *d, struct conf_ref *r);
static void tree_changed(void *arg, char **paths, size_t n);

static void job_done(void *arg, struct job *j)
{
	struct daemon *d = arg;

	d->job = NULL;
	if (j->kind == JOB_PULL)
		watch_mute(d->watch, false);
	record(d, j);
	metrics_job(d->metrics, j);
	take_diffs(d, j);
	if (j->kind == JOB_GIT)
		take_git(d, j);
	take_seed(d, j);
	if (j->kind == JOB_SYNC || j->kind == JOB_PUSH || j->kind == JOB_DIFF)
		sides_take(d, j);
	take_result(d, j);
	notices_job(d, j);
	answer(d, j);
	if (j->moved && j->rc == 0) {
		log_info("the instance changed: comparing");
		daemon_trigger(d, JOB_SYNC, TRIG_POLL,
		    j->moved_collections & all_collections(), j->moved_schema,
		    NULL);
	}
	job_free(j);
	if (d->ndeferred || d->deferred_all) {
		char **paths = d->deferred;
		size_t n = d->ndeferred;
		bool all = d->deferred_all;

		d->deferred = NULL;
		d->ndeferred = 0;
		d->deferred_all = false;
		tree_changed(d, all ? NULL : paths, all ? 0 : n);
		git_free_paths(paths, n);
	}
	if (d->pending_conf) {
		struct conf_ref *r = d->pending_conf;

		d->pending_conf = NULL;
		apply_conf(d, r);
	}
	run_next(d);
	daemon_notify_status(d);
}

/* --- triggers --- */

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	if (d->retry) {
		d->hold_until = 0;
		daemon_trigger(d, d->retry_kind, TRIG_RETRY, all_collections(),
		    true, NULL);
		/* The next retry is armed by the result. */
		return;
	}
	if (d->job == NULL) {
		if (d->redo || sides_push_due(d)) {
			d->redo = false;
			daemon_trigger(d, JOB_SYNC, TRIG_POLL,
			    all_collections(), true, NULL);
		} else if (cur(d)->poll_full_every &&
		    ++d->polls_since_full >= cur(d)->poll_full_every) {
			d->polls_since_full = 0;
			daemon_trigger(d, JOB_SYNC, TRIG_FULL,
			    all_collections(), true, NULL);
		} else
			daemon_trigger(d, JOB_PROBE, TRIG_POLL, 0, false, NULL);
	}
	schedule_poll(d);
}

static void tree_changed(void *arg, char **paths, size_t n)
{
	struct daemon *d = arg;
	unsigned colls = 0;
	bool schema = false, seed = false;
	size_t i, theirs = 0;
	char **mine;

	/* A job of ours may be writing into the tree: what it wrote is
	 * known when it ends. */
	if (d->job && (d->job->kind == JOB_SYNC || d->job->kind == JOB_PUSH)) {
		sides_defer(d, paths, n);
		return;
	}
	mine = xcalloc(n + 1, sizeof(*mine));
	for (i = 0; paths && i < n; i++)
		if (!sides_ours(d, paths[i]))
			mine[theirs++] = paths[i];
		else
			log_debug("%s: our own write", paths[i]);
	if (paths && theirs == 0) {
		free(mine);
		return;
	}
	if (paths) {
		paths = mine;
		n = theirs;
	}

	if (paths == NULL) { /* too many events: everything */
		colls = all_collections();
		schema = true;
		seed = cur(d)->seed_enabled;
	}
	for (i = 0; i < n; i++) {
		job_mark_path(cur(d), paths[i], &colls, &schema);
		seed |= job_seed_path(cur(d), paths[i]);
	}
	if (d->git_dir)
		daemon_trigger(d, JOB_GIT, TRIG_WATCH, 0, false, NULL);
	free(mine);
	if (cur(d)->watch == CONF_WATCH_COMMITS ||
	    (colls == 0 && !schema && !seed))
		return;
	d->seed_due |= seed;
	log_info("the dump changed (%zu file(s)): comparing", n);
	daemon_trigger(d, JOB_SYNC, TRIG_WATCH, colls, schema, NULL);
}

static void head_changed(void *arg)
{
	struct daemon *d = arg;

	daemon_trigger(d, JOB_GIT, TRIG_COMMIT, 0, false, NULL);
}

/* --- pause, resume, reload --- */

int daemon_pause(struct daemon *d, const char *reason, char **errstr)
{
	time_t now = time(NULL);

	if (state_save_pause(cur(d)->state_dir, reason, now, errstr) < 0)
		return -1;
	free(d->pause_reason);
	d->pause_reason = xstrdup(reason ? reason : "");
	d->pause_since = now;
	d->paused = true;
	log_info("paused%s%s", reason && *reason ? ": " : "",
	    reason ? reason : "");
	daemon_notify_status(d);
	{
		char *msg;

		xasprintf(&msg, "paused%s%s: no write until resume",
		    reason && *reason ? ": " : "", reason ? reason : "");
		notices_emit(d, CONF_EV_PAUSED, msg, NULL);
		free(msg);
	}
	return 0;
}

int daemon_resume(struct daemon *d, char **errstr)
{
	if (!d->paused)
		return 0;
	if (state_clear_pause(cur(d)->state_dir, errstr) < 0)
		return -1;
	d->paused = false;
	free(d->pause_reason);
	d->pause_reason = NULL;
	log_info("resumed: catching up");
	notices_emit(d, CONF_EV_RESUMED, "resumed: catching up", NULL);
	d->seed_due = true;
	daemon_trigger(d, JOB_SYNC, TRIG_RESUME, all_collections(), true, NULL);
	return 0;
}

static int start_watch(struct daemon *d, char **errstr)
{
	watch_free(d->watch);
	d->watch = watch_new(d->base, cur(d)->sync.dump_path, d->git_dir,
	    cur(d)->debounce, tree_changed, head_changed, d, errstr);
	return d->watch ? 0 : -1;
}

static bool str_same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* The scrape on metrics.listen: a failure ends the start; at a reload it
 * leaves the metrics off, with a warning. */
static void start_metrics(struct daemon *d, bool at_start)
{
	char *err = NULL;

	free(d->metrics_on);
	d->metrics_on = NULL;
	if (metrics_listen(d->metrics, d->base, cur(d)->metrics_listen, &err) <
	    0) {
		if (at_start)
			fatalx("%s", err);
		log_warnx("%s; metrics off", err);
		free(err);
		return;
	}
	if (cur(d)->metrics_listen)
		d->metrics_on = xstrdup(cur(d)->metrics_listen);
}

/* Put r in use (a job holds its own reference to the old one). */
static void apply_conf(struct daemon *d, struct conf_ref *r)
{
	char *err = NULL;
	bool new_tree = strcmp(r->conf.sync.dump_path,
			    cur(d)->sync.dump_path) ||
	    r->conf.debounce != cur(d)->debounce;

	conf_ref_put(d->conf);
	d->conf = r;
	log_set_level(
	    strcmp(cur(d)->log_level, "debug") == 0 || getenv("DSYNCD_DEBUG") ?
		LOG_LEVEL_DEBUG :
		LOG_LEVEL_INFO);
	if (new_tree) {
		free(d->git_top);
		free(d->git_dir);
		d->git_top = d->git_dir = NULL;
		git_find(cur(d)->sync.dump_path, &d->git_top, &d->git_dir);
		if (start_watch(d, &err) < 0) {
			log_warnx("%s", err);
			free(err);
		}
	}
	if (!str_same(d->metrics_on, cur(d)->metrics_listen))
		start_metrics(d, false);
	log_info("configuration reloaded from %s", d->conf_path);
	notify_ready();
	schedule_poll(d);
	d->seed_due = true;
	daemon_trigger(d, JOB_SYNC, TRIG_RELOAD, all_collections(), true, NULL);
}

/* A new configuration, checked whole before it replaces the old one (a
 * bad file is refused and the one in use stays); while a job runs, it
 * is put in use when the job ends. */
int daemon_reload(struct daemon *d, char **errstr)
{
	struct conf_ref *r;

	notify_reloading();
	r = conf_ref_load(d->conf_path, ++d->generation, errstr);
	if (r == NULL) {
		log_warnx("reload refused, the configuration in use stays: %s",
		    *errstr);
		{
			char *msg;

			xasprintf(&msg,
			    "reload refused, the configuration in "
			    "use stays: %s",
			    *errstr);
			notices_emit(d, CONF_EV_CONFIG_ERROR, msg, NULL);
			free(msg);
		}
		notify_ready();
		return -1;
	}
	conf_ref_put(d->pending_conf);
	d->pending_conf = NULL;
	if (d->job) {
		d->pending_conf = r;
		return 0;
	}
	apply_conf(d, r);
	return 0;
}

/* --- signals and the loop --- */

static void stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	if (d->stopping)
		return;
	log_info("%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	d->stopping = true;
	notify_stopping();
	if (d->job)
		worker_cancel(d->worker);
	event_base_loopexit(d->base, NULL);
}

static void hup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	char *err = NULL;

	(void)sig;
	(void)what;
	log_info("SIGHUP: reloading %s", d->conf_path);
	if (daemon_reload(d, &err) < 0)
		free(err);
}

static void load_pause(struct daemon *d)
{
	char *reason = NULL;
	time_t since;

	if (state_load_pause(cur(d)->state_dir, &reason, &since) > 0) {
		d->paused = true;
		d->pause_reason = reason;
		d->pause_since = since;
		log_info("paused since %s%s%s (kept across restarts)",
		    times_iso(since), *reason ? ": " : "", reason);
	} else
		free(reason);
}

static void setup(struct daemon *d)
{
	const struct conf *c = cur(d);
	char *err = NULL;

	if (state_open(c->state_dir, &d->state_lock, &err) < 0)
		fatalx("%s", err);
	load_pause(d);
	if (git_find(c->sync.dump_path, &d->git_top, &d->git_dir))
		log_info("dump %s, in the git work tree %s", c->sync.dump_path,
		    d->git_top);
	else if (c->watch == CONF_WATCH_COMMITS)
		fatalx("%s: watch = \"commits\" needs the dump tree in a git "
		       "work tree",
		    c->sync.dump_path);
	d->base = event_base_new();
	if (d->base == NULL)
		fatalx("libevent: no event base");
	d->worker = worker_start(d->base, job_done, d);
	if (start_watch(d, &err) < 0)
		fatalx("%s", err);
	d->control = control_open(d->base, c->control_socket, c->control_mode,
	    c->control_gid, d, &err);
	if (d->control == NULL)
		fatalx("%s", err);
	d->sig_term = evsignal_new(d->base, SIGTERM, stop_cb, d);
	d->sig_int = evsignal_new(d->base, SIGINT, stop_cb, d);
	d->sig_hup = evsignal_new(d->base, SIGHUP, hup_cb, d);
	evsignal_add(d->sig_term, NULL);
	evsignal_add(d->sig_int, NULL);
	evsignal_add(d->sig_hup, NULL);
	d->timer = evtimer_new(d->base, timer_cb, d);
	notices_init(d);
	d->metrics = metrics_new(d);
	worker_set_counter(d->worker, metrics_request, d->metrics);
	start_metrics(d, true);
	notify_init(d->base);
}

static void teardown(struct daemon *d)
{
	size_t i;

	worker_stop(d->worker); /* the cancelled job ends first */
	if (d->waiting)
		control_client_put(d->waiting);
	for (i = 0; i < d->nqueue; i++)
		if (d->queue[i].client)
			control_client_put(d->queue[i].client);
	free(d->queue);
	control_close(d->control);
	metrics_free(d->metrics);
	notices_free(d);
	free(d->metrics_on);
	watch_free(d->watch);
	event_free(d->sig_term);
	event_free(d->sig_int);
	event_free(d->sig_hup);
	event_free(d->timer);
	notify_done();
	event_base_free(d->base);
	if (d->have_diffs)
		plan_summary_clear(&d->diffs);
	sides_clear(d);
	free(d->last_poll.error);
	free(d->last_full.error);
	free(d->last_push.error);
	free(d->last_error.error);
	free(d->last_seed_push.error);
	json_free(d->seed_pending);
	free(d->head);
	free(d->commit_pushed);
	git_free_paths(d->uncommitted, d->nuncommitted);
	free(d->git_top);
	free(d->git_dir);
	free(d->pause_reason);
	conf_ref_put(d->pending_conf);
	conf_ref_put(d->conf);
	if (d->state_lock >= 0)
		close(d->state_lock);
}

int daemon_main(const char *conf_path)
{
	struct daemon d;
	char *err = NULL;

	memset(&d, 0, sizeof(d));
	d.state_lock = -1;
	d.conf_path = conf_path;
	d.started = times_mono();
	log_init("dsyncd", LOG_LEVEL_INFO);
	d.conf = conf_ref_load(conf_path, ++d.generation, &err);
	if (d.conf == NULL) {
		log_msg(LOG_LEVEL_ERR, "%s", err);
		free(err);
		return 78; /* EX_CONFIG: systemd need not restart */
	}
	if (strcmp(cur(&d)->log_level, "debug") == 0 || getenv("DSYNCD_DEBUG"))
		log_set_level(LOG_LEVEL_DEBUG);
	setup(&d);
	log_info("dsyncd %s: %s <-> %s, control socket %s", DSYNC_VERSION,
	    cur(&d)->sync.dump_path, cur(&d)->url, cur(&d)->control_socket);
	notify_ready();
	d.seed_due = true;
	if (d.git_dir)
		daemon_trigger(&d, JOB_GIT, TRIG_START, 0, false, NULL);
	if (cur(&d)->watch == CONF_WATCH_TREE || d.git_dir == NULL)
		daemon_trigger(&d, JOB_SYNC, TRIG_START, all_collections(),
		    true, NULL);
	schedule_poll(&d);
	daemon_notify_status(&d);
	event_base_dispatch(d.base);
	teardown(&d);
	log_info("stopped");
	return 0;
}
