/*
 * jobs: the worker thread and what it runs. The loop hands over one job
 * at a time; the worker runs the engine on its own session (kept across
 * jobs, renewed when the configuration's generation changes) and hands
 * the job back through a pipe, which the loop reads. The worker touches
 * nothing but its job and its session.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fsutil.h"
#include "log.h"
#include "seed.h"
#include "service.h"
#include "xmalloc.h"

struct worker {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *todo, *finished;
	bool quit, busy;
	int pipe[2];
	struct event *ev;
	void (*done)(void *arg, struct job *j);
	void *arg;
	atomic_int cancel;
	/* the worker's own */
	struct dx *dx;
	unsigned dx_gen;
	atomic_ulong start_count;
	struct dx *_Atomic session; /* for worker_requests */
	void (*count)(void *arg, const char *method, long status);
	void *count_arg; /* worker_set_counter */
};

const char *job_kind_name(enum job_kind k)
{
	static const char *const names[] = { "probe", "diff", "sync", "push",
		"pull", "git" };

	return names[k];
}

const char *job_trigger_name(enum job_trigger t)
{
	static const char *const names[] = { "start", "watch", "commit", "poll",
		"full", "control", "resume", "retry", "reload" };

	return names[t];
}

struct job *job_new(enum job_kind kind, enum job_trigger trigger,
    struct conf_ref *conf)
{
	struct job *j = xcalloc(1, sizeof(*j));

	j->kind = kind;
	j->trigger = trigger;
	j->conf = conf_ref_get(conf);
	return j;
}

void job_free(struct job *j)
{
	if (j == NULL)
		return;
	conf_ref_put(j->conf);
	free(j->error);
	free(j->old_head);
	free(j->head);
	git_free_paths(j->uncommitted, j->nuncommitted);
	if (j->have_summary)
		plan_summary_clear(&j->summary);
	json_free(j->plan);
	json_free(j->seed_pending);
	json_free(j->seed_plan);
	strmap_free(j->keep);
	json_free(j->three);
	json_free(j->drift);
	free(j->commit);
	free(j->git_wait);
	free(j->git_push_error);
	git_free_paths(j->wrote, j->nwrote);
	free(j->wrote_hash);
	free(j);
}

/* --- the engine, for one job --- */

static void engine_log(void *arg, enum sync_level level, const char *msg)
{
	(void)arg;
	log_msg((enum log_level)level, "%s", msg);
}

static const struct conf *jconf(const struct job *j)
{
	return &j->conf->conf;
}

/* With log_level = "debug": each request, never its headers. */
static void trace_cb(void *arg, const char *line)
{
	(void)arg;
	log_debug("%s", line);
}

/* Our own writes are told apart in the activity log by this. */
static char *own_agent(void)
{
	char *ua;

	xasprintf(&ua, "dsyncd/%s (pid %ld)", DSYNC_VERSION, (long)getpid());
	return ua;
}

/* The session: kept across jobs, made anew for a new configuration. */
static int session(struct worker *w, struct job *j)
{
	char *ua;
	int rc;

	if (w->dx && w->dx_gen == j->conf->generation)
		return 0;
	atomic_store(&w->session, NULL);
	dx_free(w->dx);
	w->dx = NULL;
	if ((rc = sync_connect(&jconf(j)->sync, &w->dx, &j->error)) < 0)
		return rc;
	ua = own_agent();
	dx_set_client(w->dx, ua, (long)jconf(j)->timeout);
	free(ua);
	dx_set_trace(w->dx, trace_cb, NULL);
	dx_set_counter(w->dx, w->count, w->count_arg);
	w->dx_gen = j->conf->generation;
	atomic_store(&w->session, w->dx);
	return 0;
}

static void ctx_init(struct worker *w, struct job *j, struct sync_ctx *ctx,
    struct sync_opts *o)
{
	const struct conf *c = jconf(j);

	/* A shallow copy: its strings are the configuration's. */
	*o = c->sync;
	o->hold_deletes = !c->allow_deletes;
	o->hold_schema_deletes = !c->allow_schema_deletes;
	o->max_deletes = c->max_deletes;
	memset(ctx, 0, sizeof(*ctx));
	ctx->opts = o;
	ctx->dx = w->dx;
	ctx->cancel = &w->cancel;
	ctx->log = engine_log;
}

/* What the job compares: its collections and the schema, less those
 * whose policy is ignore. */
static void compare_req(const struct job *j, const char *root,
    struct plan_req *req)
{
	const struct conf *c = jconf(j);
	unsigned sel = sync_opts_selected(&c->sync);
	size_t i;

	memset(req, 0, sizeof(*req));
	req->dump_root = root;
	for (i = 0; i < COLL_COUNT; i++)
		if ((j->collections & sel & coll_bit(&coll_rules[i])) &&
		    c->policy[i] != CONF_POLICY_IGNORE)
			req->collections |= coll_bit(&coll_rules[i]);
	req->schema = j->schema && c->sync.snapshot &&
	    c->policy_schema != CONF_POLICY_IGNORE;
}

static void take_stats(struct job *j, const struct sync_stats *st)
{
	j->requests += st->requests;
	if (st->directus_version[0])
		snprintf(j->version, sizeof(j->version), "%s",
		    st->directus_version);
}

/* A plan of req: its summary for status (with summary), and its JSON
 * for dsyncctl diff when the job wants it. */
static int do_diff(struct worker *w, struct job *j, const struct plan_req *req,
    bool summary)
{
	struct sync_ctx ctx;
	struct sync_opts o;
	struct sync_stats st;
	struct plan p;
	int rc;

	ctx_init(w, j, &ctx, &o);
	rc = sync_diff(&ctx, req, &p, &st, &j->error);
	take_stats(j, &st);
	if (rc == 0 && summary) {
		if (j->have_summary)
			plan_summary_clear(&j->summary);
		plan_summarize(&p, &j->summary);
		j->have_summary = true;
	}
	if (rc == 0 && j->want_plan) {
		json_free(j->plan);
		j->plan = plan_json(&p);
	}
	plan_free(&p);
	return rc;
}

static int do_pull(struct worker *w, struct job *j)
{
	struct sync_ctx ctx;
	struct sync_opts o;
	struct sync_stats st;
	int rc;

	ctx_init(w, j, &ctx, &o);
	rc = sync_pull(&ctx, &st, &j->error);
	take_stats(j, &st);
	j->pushed = true; /* it may have written map rows */
	return rc;
}

/* --- the probe --- */

/*
 * One probe (the engine's sync_probe): what moved since the last one, and
 * where this one leaves off. Without a baseline (base NULL), it only
 * takes one.
 */
static int probe(struct worker *w, struct job *j, const struct sync_mark *base)
{
	const struct conf *c = jconf(j);
	bool presets = c->policy[coll_find("presets") - coll_rules] !=
		CONF_POLICY_IGNORE &&
	    c->sync.collections;
	struct sync_ctx ctx;
	struct sync_opts o;
	struct sync_stats st;
	struct sync_moved m;
	char *ua = own_agent();
	int rc;

	ctx_init(w, j, &ctx, &o);
	rc = sync_probe(&ctx, presets, ua, base, &j->probe, &m, &st, &j->error);
	j->requests += st.requests;
	free(ua);
	if (rc < 0)
		return rc;
	j->moved |= m.moved;
	j->moved_collections |= m.collections;
	j->moved_schema |= m.schema;
	return 0;
}

/* --- the repository --- */

/* The collection or schema a dump path stands for. */
void job_mark_path(const struct conf *c, const char *rel, unsigned *colls,
    bool *schema)
{
	const struct sync_opts *o = &c->sync;
	char *snap = dump_norm_rel(o->snapshot_path);
	char *coll = dump_norm_rel(o->collections_path);
	size_t i, sl = strlen(snap);

	if (sl && strncmp(rel, snap, sl) == 0 && rel[sl] == '/')
		*schema = true;
	for (i = 0; i < COLL_COUNT && !*schema; i++) {
		char *f, *name;

		xasprintf(&name, "%s.json", coll_rules[i].name);
		f = coll[0] ? fs_join(coll, name) : xstrdup(name);
		if (strcmp(rel, f) == 0)
			*colls |= coll_bit(&coll_rules[i]);
		free(f);
		free(name);
	}
	free(snap);
	free(coll);
}

bool job_seed_path(const struct conf *c, const char *rel)
{
	size_t i;

	for (i = 0; c->seed_enabled && i < c->nseed_paths; i++) {
		char *p = dump_norm_rel(c->seed_paths[i]);
		size_t n = strlen(p);
		bool under = n == 0 ||
		    (strncmp(rel, p, n) == 0 &&
			(rel[n] == '/' || rel[n] == '\0'));

		free(p);
		if (under)
			return true;
	}
	return false;
}

static int do_git(struct job *j)
{
	const struct conf *c = jconf(j);
	const char *dir = c->sync.dump_path;
	char *err = NULL;

	j->head = git_head(dir);
	if (c->watch == CONF_WATCH_COMMITS &&
	    git_uncommitted(dir, &j->uncommitted, &j->nuncommitted, &err) < 0) {
		log_warnx("%s", err);
		free(err);
		err = NULL;
	}
	if (j->head && j->old_head && strcmp(j->head, j->old_head) != 0) {
		char **paths = NULL;
		size_t n = 0, i;

		j->head_moved = true;
		if (git_changed(dir, j->old_head, j->head, &paths, &n, &err) <
		    0) {
			/* Unknown: everything. */
			j->changed_collections = ~0u;
			j->changed_schema = true;
			j->changed_seed = true;
			log_warnx("%s", err);
			free(err);
		}
		for (i = 0; i < n; i++) {
			job_mark_path(c, paths[i], &j->changed_collections,
			    &j->changed_schema);
			j->changed_seed |= job_seed_path(c, paths[i]);
		}
		git_free_paths(paths, n);
	} else if (j->head && j->old_head == NULL)
		j->head_moved = true;
	return 0;
}

/* --- one job --- */

/* The dump to read: the tree, or HEAD's version of it. */
static int dump_root(struct job *j, char **root)
{
	const struct conf *c = jconf(j);
	char *dest;
	int rc;

	*root = NULL;
	if (!j->from_head)
		return 0;
	dest = fs_join(c->state_dir, "head-tree");
	if ((rc = git_export(c->sync.dump_path, "HEAD", dest, &j->error)) < 0) {
		free(dest);
		return SYNC_EDUMP;
	}
	*root = dest;
	return 0;
}

/* What differs after the job, per collection, from a seed plan. */
static struct json *seed_pending(const struct json *plan)
{
	const struct json *colls = json_get_obj(plan, "collections");
	struct json *o = json_new_object(), *by = json_new_object();
	size_t i;

	for (i = 0; colls && i < colls->u.obj.len; i++) {
		const struct json *c = colls->u.obj.members[i].val;
		struct json *e = json_new_object();

		json_set(e, "create",
		    json_new_number(json_get_count(c, "create")));
		json_set(e, "update",
		    json_new_number(json_get_count(c, "update")));
		json_set(e, "delete",
		    json_new_number(json_get_count(c, "delete")));
		json_set(by, colls->u.obj.members[i].key, e);
	}
	json_set(o, "changes",
	    json_new_number(json_get_count(plan, "changes")));
	json_set(o, "collections", by);
	return o;
}

/* The seeds: pushed (seed_push, when the job may write), then compared.
 * Push only: nothing of the instance is ever written back to a seed. */
static int run_seed(struct worker *w, struct job *j, const char *root)
{
	const struct conf *c = jconf(j);
	struct sync_ctx ctx;
	struct sync_opts o;
	struct sync_stats st;
	struct seed_set s;
	struct json *plan = NULL;
	char **paths = xcalloc(c->nseed_paths + 1, sizeof(char *));
	size_t i;
	int rc;

	for (i = 0; i < c->nseed_paths; i++)
		paths[i] = fs_join(root ? root : c->sync.dump_path,
		    c->seed_paths[i]);
	ctx_init(w, j, &ctx, &o);
	rc = seed_load(&ctx, paths, c->nseed_paths, &s, &j->error);
	if (rc == 0 && j->seed_push && j->write) {
		rc = seed_push(&ctx, &s, &st, &j->error);
		take_stats(j, &st);
		j->seed_counts[0] = st.created;
		j->seed_counts[1] = st.updated;
		j->seed_counts[2] = st.deleted;
		j->seed_counts[3] = st.held_deletes;
		j->pushed |= st.created || st.updated || st.deleted;
	}
	if (rc == 0 && (rc = seed_diff(&ctx, &s, &plan, &st, &j->error)) == 0) {
		take_stats(j, &st);
		j->seed_ran = true;
		j->seed_pending = seed_pending(plan);
		if (j->want_plan)
			j->seed_plan = plan;
		else
			json_free(plan);
	}
	seed_set_free(&s);
	if (rc < 0 && j->error && strncmp(j->error, "seed", 4) != 0) {
		char *e;

		xasprintf(&e, "seed: %s", j->error);
		free(j->error);
		j->error = e;
	}
	for (i = 0; i < c->nseed_paths; i++)
		free(paths[i]);
	free(paths);
	return rc;
}

static int run_sync(struct worker *w, struct job *j)
{
	struct sync_ctx ctx;
	struct sync_opts o;
	struct plan_req cmp;
	char *root = NULL;
	bool write = j->write;
	int rc;

	if ((rc = dump_root(j, &root)) < 0)
		return rc;
	compare_req(j, root, &cmp);
	j->compared = cmp.collections;
	j->compared_schema = cmp.schema;
	ctx_init(w, j, &ctx, &o);
	if (j->kind == JOB_DIFF)
		j->write = false;
	/* A change of the seeds alone compares nothing else. */
	if (cmp.collections || cmp.schema || !(j->seed_push || j->seed_diff))
		rc = reconcile(&ctx, j, &cmp);
	if (rc == 0 && j->kind == JOB_DIFF && j->want_plan)
		rc = do_diff(w, j, &cmp, false);
	if (rc == 0 && (j->seed_push || j->seed_diff))
		rc = run_seed(w, j, root);
	j->write = write;
	reconcile_git_push(j);
	free(root);
	return rc;
}

static void run_job(struct worker *w, struct job *j)
{
	int rc = 0;

	j->started = times_mono();
	j->start_wall = time(NULL);
	if (j->kind != JOB_GIT && (rc = session(w, j)) < 0)
		goto out;
	if (w->dx) {
		atomic_store(&w->start_count, dx_requests(w->dx));
		dx_clear_retry_after(w->dx);
	}
	switch (j->kind) {
	case JOB_PROBE:
		rc = probe(w, j, &j->base);
		break;
	case JOB_GIT:
		rc = do_git(j);
		break;
	case JOB_PULL:
		if ((rc = do_pull(w, j)) == 0) {
			struct plan_req cmp;

			compare_req(j, NULL, &cmp);
			j->compared = cmp.collections;
			j->compared_schema = cmp.schema;
			rc = do_diff(w, j, &cmp, true);
		}
		break;
	default:
		rc = run_sync(w, j);
		break;
	}
	/* After the job, the probe goes on from what it left: our own
	 * writes are not a change, but another's made meanwhile is (moved).
	 * If that read fails, the next poll takes a new start. */
	if (rc == 0 && j->kind != JOB_PROBE && j->kind != JOB_GIT &&
	    probe(w, j, &j->base) < 0) {
		log_warnx("after the %s job: %s", job_kind_name(j->kind),
		    j->error);
		free(j->error);
		j->error = NULL;
		j->probe.valid = false;
	}
out:
	j->rc = rc;
	/* What the server asked for when it refused (429, 503): the loop
	 * waits at least that long before it tries again. */
	j->retry_after = rc < 0 && w->dx ? dx_retry_after(w->dx) : 0;
	if (rc < 0 && j->error == NULL)
		j->error = xstrdup(sync_result_name(rc));
	j->duration = times_mono() - j->started;
}

static void *worker_main(void *arg)
{
	/* What a job freed goes back to the system: an idle daemon stays
	 * small. */
	struct worker *w = arg;
	struct job *j;
	char x = 'x';
	ssize_t n;

	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (w->todo == NULL && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->todo == NULL && w->quit) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		j = w->todo;
		w->todo = NULL;
		pthread_mutex_unlock(&w->mu);
		run_job(w, j);
		malloc_trim(0);
		pthread_mutex_lock(&w->mu);
		w->finished = j;
		pthread_mutex_unlock(&w->mu);
		while ((n = write(w->pipe[1], &x, 1)) < 0 && errno == EINTR)
			;
	}
	dx_free(w->dx);
	w->dx = NULL;
	return NULL;
}

static void pipe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct job *j;
	char buf[16];

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&w->mu);
	j = w->finished;
	w->finished = NULL;
	pthread_mutex_unlock(&w->mu);
	if (j == NULL)
		return;
	w->busy = false;
	w->done(w->arg, j);
}

struct worker *worker_start(struct event_base *base,
    void (*done)(void *arg, struct job *j), void *arg)
{
	struct worker *w = xcalloc(1, sizeof(*w));

	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	atomic_init(&w->cancel, 0);
	atomic_init(&w->start_count, 0);
	atomic_init(&w->session, NULL);
	w->done = done;
	w->arg = arg;
	if (pipe2(w->pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		fatal("pipe");
	w->ev = event_new(base, w->pipe[0], EV_READ | EV_PERSIST, pipe_cb, w);
	event_add(w->ev, NULL);
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
		fatalx("cannot start the worker thread");
	return w;
}

void worker_run(struct worker *w, struct job *j)
{
	atomic_store(&w->cancel, 0);
	pthread_mutex_lock(&w->mu);
	w->todo = j;
	w->busy = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

bool worker_busy(const struct worker *w)
{
	return w->busy;
}

void worker_cancel(struct worker *w)
{
	atomic_store(&w->cancel, 1);
}

void worker_set_counter(struct worker *w,
    void (*cb)(void *arg, const char *method, long status), void *arg)
{
	w->count = cb;
	w->count_arg = arg;
}

unsigned long worker_requests(const struct worker *w)
{
	struct dx *dx = atomic_load(&((struct worker *)w)->session);

	return dx ?
	    dx_requests(dx) - atomic_load(&((struct worker *)w)->start_count) :
	    0;
}

void worker_stop(struct worker *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->quit = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	if (w->finished)
		job_free(w->finished);
	job_free(w->todo);
	event_free(w->ev);
	close(w->pipe[0]);
	close(w->pipe[1]);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}
