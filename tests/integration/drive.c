/*
 * dsync-drive: runs the engine the way the daemon will, for the
 * integration tests: one session (dx) across many runs, each run on a
 * worker thread, and a cancel raised from the main thread. Prints one
 * JSON line per step:
 *   {"step":"pull","rc":0,"result":"ok","requests":29,"renewals":0,
 *    "error":null}
 * and for cancel-STEP:N also "started_after_cancel" (requests the run
 * started once the flag was up) and "ms_after_cancel" (how long the run
 * took to return after it).
 *
 * Usage: dsync-drive --url URL (--token T | --email E --password P)
 *            --dump DIR [--no-early-renewal] STEP...
 *   STEP: pull | diff | push | sleep:SECONDS | cancel-pull:N |
 *         cancel-push:N (cancel once N requests have finished) |
 *         plan:ROOT:COLLECTIONS:schema|noschema (a diff of the dump at
 *         ROOT, of some collections ("a,b" or "none"), printing its
 *         summary as "summary")
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "json.h"
#include "plan.h"
#include "sync.h"
#include "xmalloc.h"

struct drive {
	struct sync_ctx ctx;
	atomic_int cancel;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned long finished, cancel_at;
	int reached, raised;
	/* the run on the worker */
	const char *what;
	struct plan_req req; /* for "plan" */
	struct json *summary;
	struct sync_stats st;
	char *err;
	int rc;
};

static void trace_cb(void *arg, const struct http_req *r)
{
	struct drive *d = arg;

	(void)r;
	pthread_mutex_lock(&d->mu);
	d->finished++;
	if (d->cancel_at && d->finished >= d->cancel_at && !d->reached) {
		/* Hold the worker here until the main thread has raised
		 * the flag, so that "started after the cancel" is exact. */
		d->reached = 1;
		pthread_cond_broadcast(&d->cv);
		while (!d->raised)
			pthread_cond_wait(&d->cv, &d->mu);
	}
	pthread_mutex_unlock(&d->mu);
}

static void log_cb(void *arg, enum sync_level level, const char *msg)
{
	(void)arg;
	if (level <= SYNC_WARN)
		fprintf(stderr, "drive: %s\n", msg);
}

static void *worker(void *arg)
{
	struct drive *d = arg;

	memset(&d->st, 0, sizeof(d->st));
	d->err = NULL;
	if (strcmp(d->what, "pull") == 0)
		d->rc = sync_pull(&d->ctx, &d->st, &d->err);
	else if (strcmp(d->what, "push") == 0)
		d->rc = sync_push(&d->ctx, &d->st, &d->err);
	else {
		struct plan p;
		bool custom = strcmp(d->what, "plan") == 0;

		d->rc = sync_diff(&d->ctx, custom ? &d->req : NULL, &p, &d->st,
		    &d->err);
		if (d->rc == 0 && custom) {
			struct plan_summary s;

			plan_summarize(&p, &s);
			d->summary = plan_summary_json(&s);
			plan_summary_clear(&s);
		}
		plan_free(&p);
	}
	pthread_mutex_lock(&d->mu);
	d->reached = 1; /* a run that ends before N wakes main */
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void print_result(struct drive *d, const char *step, long after,
    double ms)
{
	struct json *o = json_new_object();
	char *s;

	json_set(o, "step", json_new_string(step));
	json_set(o, "rc", json_new_number(d->rc));
	json_set(o, "result", json_new_string(sync_result_name(d->rc)));
	json_set(o, "requests", json_new_number((double)d->st.requests));
	json_set(o, "renewals",
	    json_new_number((double)dx_renewals(d->ctx.dx)));
	json_set(o, "tree_changed", json_new_bool(d->st.tree_changed));
	json_set(o, "error",
	    d->err ? json_new_string(d->err) : json_new_null());
	if (d->summary) {
		json_set(o, "summary", d->summary);
		d->summary = NULL;
	}
	if (after >= 0) {
		json_set(o, "started_after_cancel",
		    json_new_number((double)after));
		json_set(o, "ms_after_cancel", json_new_number(ms));
	}
	s = json_write(o, false, NULL);
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	json_free(o);
	free(d->err);
	d->err = NULL;
}

/* One step on the worker; with cancel_at, raise the flag from here once
 * that many requests have finished. */
static void run_step(struct drive *d, const char *step, const char *what,
    unsigned long cancel_at)
{
	pthread_t t;
	unsigned long started = 0;
	double raised = 0;

	d->what = what;
	pthread_mutex_lock(&d->mu);
	d->finished = 0;
	d->reached = 0;
	d->raised = 0;
	d->cancel_at = cancel_at;
	pthread_mutex_unlock(&d->mu);
	atomic_store(&d->cancel, 0);
	if (pthread_create(&t, NULL, worker, d) != 0) {
		perror("pthread_create");
		exit(1);
	}
	if (cancel_at) {
		pthread_mutex_lock(&d->mu);
		while (!d->reached)
			pthread_cond_wait(&d->cv, &d->mu);
		atomic_store(&d->cancel, 1);
		started = http_count(dx_http(d->ctx.dx));
		raised = now_ms();
		d->raised = 1;
		pthread_cond_broadcast(&d->cv);
		pthread_mutex_unlock(&d->mu);
	}
	pthread_join(t, NULL);
	print_result(d, step,
	    cancel_at ? (long)(http_count(dx_http(d->ctx.dx)) - started) : -1,
	    cancel_at ? now_ms() - raised : 0);
}

static void usage(void)
{
	fputs("usage: dsync-drive --url URL (--token T | --email E --password "
	      "P) --dump DIR [--no-early-renewal] STEP...\n",
	    stderr);
	exit(2);
}

/* The flags before the steps, into o; returns the first step's index. */
static int parse_flags(int argc, char **argv, struct sync_opts *o, bool *early)
{
	int i;

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--no-early-renewal") == 0) {
			*early = false;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		if (strcmp(a, "--url") == 0)
			o->url = xstrdup(argv[++i]);
		else if (strcmp(a, "--token") == 0)
			o->token = xstrdup(argv[++i]);
		else if (strcmp(a, "--email") == 0)
			o->email = xstrdup(argv[++i]);
		else if (strcmp(a, "--password") == 0)
			o->password = xstrdup(argv[++i]);
		else if (strcmp(a, "--dump") == 0) {
			free(o->dump_path);
			o->dump_path = xstrdup(argv[++i]);
		} else
			usage();
	}
	if (o->url == NULL || i == argc)
		usage();
	return i;
}

/* "plan:ROOT:COLLECTIONS|none:schema|noschema": a plan of that scope. */
static void plan_step(struct drive *d, const char *arg)
{
	char *copy = xstrdup(arg), *root, *colls, *schema, *err = NULL;

	root = strtok(copy, ":");
	colls = strtok(NULL, ":");
	schema = strtok(NULL, ":");
	if (root == NULL || colls == NULL || schema == NULL)
		usage();
	memset(&d->req, 0, sizeof(d->req));
	d->req.dump_root = root;
	d->req.schema = strcmp(schema, "schema") == 0;
	if (strcmp(colls, "none") != 0 &&
	    sync_opts_parse_collections("plan", colls, false,
		&d->req.collections, &err) < 0) {
		fprintf(stderr, "drive: %s\n", err);
		exit(2);
	}
	run_step(d, "plan", "plan", 0);
	free(copy);
}

/* One step of the command line (see usage()). */
static void step(struct drive *d, const char *s)
{
	if (strncmp(s, "sleep:", 6) == 0) {
		struct timespec ts;
		double sec = atof(s + 6);

		ts.tv_sec = (time_t)sec;
		ts.tv_nsec = (long)((sec - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	} else if (strncmp(s, "cancel-", 7) == 0 && strchr(s, ':')) {
		char *what = xstrndup(s + 7, (size_t)(strchr(s, ':') - s - 7));

		run_step(d, s, what, strtoul(strchr(s, ':') + 1, NULL, 10));
		free(what);
	} else if (strncmp(s, "plan:", 5) == 0)
		plan_step(d, s + 5);
	else if (strcmp(s, "pull") == 0 || strcmp(s, "diff") == 0 ||
	    strcmp(s, "push") == 0)
		run_step(d, s, s, 0);
	else
		usage();
}

int main(int argc, char **argv)
{
	struct sync_opts o;
	struct drive d;
	bool early = true;
	char *err = NULL;
	int i;

	sync_opts_init(&o);
	i = parse_flags(argc, argv, &o, &early);
	if (http_global_init() < 0)
		return 1;
	memset(&d, 0, sizeof(d));
	pthread_mutex_init(&d.mu, NULL);
	pthread_cond_init(&d.cv, NULL);
	atomic_init(&d.cancel, 0);
	d.ctx.opts = &o;
	d.ctx.cancel = &d.cancel;
	d.ctx.log = log_cb;
	if (sync_connect(&o, &d.ctx.dx, &err) < 0) {
		fprintf(stderr, "drive: %s\n", err);
		return 1;
	}
	dx_set_early_renewal(d.ctx.dx, early);
	http_set_trace(dx_http(d.ctx.dx), trace_cb, &d);
	for (; i < argc; i++)
		step(&d, argv[i]);
	dx_free(d.ctx.dx);
	sync_opts_clear(&o);
	http_global_cleanup();
	return 0;
}
