/*
 * service: the daemon's private header, the map of the program. The main
 * thread owns a libevent loop and everything in struct daemon; the engine
 * runs on one worker thread, one job at a time, and hands each finished
 * job back through a pipe. Nothing here is touched by the worker but the
 * struct job it was given.
 */
#ifndef DSYNC_SERVICE_H
#define DSYNC_SERVICE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <event2/event.h>

#include "conf.h"
#include "json.h"
#include "plan.h"
#include "probe.h"
#include "proto.h"
#include "strmap.h"
#include "sync.h"

struct daemon;

/* --- configuration, shared by the loop and the jobs it starts --- */

/* A loaded configuration; jobs keep the one they started with across a
 * reload. */
struct conf_ref {
	struct conf conf;
	atomic_int refs;
	unsigned generation;
};

struct conf_ref *conf_ref_load(const char *path, unsigned generation,
    char **errstr);
struct conf_ref *conf_ref_get(struct conf_ref *r);
void conf_ref_put(struct conf_ref *r);

/* --- jobs (jobs.c) --- */

enum job_kind {
	JOB_PROBE, /* the cheap change probe of a poll */
	JOB_DIFF,  /* compare, write nothing */
	JOB_SYNC,  /* compare, then apply the policy */
	JOB_PUSH,  /* apply the policy without comparing first */
	JOB_PULL,  /* instance -> dump tree */
	JOB_GIT,   /* read the repository: HEAD, uncommitted edits */
};

enum job_trigger {
	TRIG_START,
	TRIG_WATCH,
	TRIG_COMMIT,
	TRIG_POLL,
	TRIG_FULL,
	TRIG_CONTROL,
	TRIG_RESUME,
	TRIG_RETRY,
	TRIG_RELOAD,
};

struct job {
	/* in: set by the loop */
	enum job_kind kind;
	enum job_trigger trigger;
	struct conf_ref *conf;
	unsigned collections; /* what to compare: a bit set */
	bool schema;
	bool write;	       /* may write (not paused) */
	bool want_plan;	       /* keep the plan's JSON (dsyncctl diff) */
	bool from_head;	       /* compare HEAD's tree, not the files */
	struct sync_mark base; /* JOB_PROBE: what the last probe saw */
	char *old_head;	       /* JOB_SYNC from HEAD: the previous one */
	struct strmap *keep;   /* resolve: plan_skip_key() or a unit path
				 * -> KEEP_DUMP or KEEP_INSTANCE */
	int keep_all;	       /* resolve --all: every conflict so */
	bool adopt;	       /* adopt: the base from the current state,
				 * every difference decided by keep_all */
	bool git_push_retry;   /* push the commits a git push left */
	bool seed_push;	       /* seed.enabled: push the seeds after the
				* configuration (they changed, or at start,
				* or asked) */
	bool seed_diff;	       /* compare the seeds (after any push) */
	/* out: set by the worker */
	int rc;
	char *error;
	double started, duration; /* monotonic seconds */
	time_t start_wall;
	unsigned long requests;
	double retry_after; /* failed: the largest Retry-After of its
				 * answers, seconds (0: none) */
	unsigned long created, updated, deleted, held_deletes, held_schema;
	bool pushed; /* a push ran */
	bool have_summary;
	struct plan_summary summary; /* after the job: what still differs */
	struct json *plan;	     /* want_plan */
	char version[32];	     /* Directus', when asked */
	struct sync_mark probe;	     /* the probe after the job */
	unsigned compared;	     /* what the job compared (have_summary) */
	bool compared_schema;
	bool moved;		    /* JOB_PROBE: the instance changed */
	unsigned moved_collections; /* ... in these collections */
	bool moved_schema;	    /* ... or in the schema */
	char *head;		    /* JOB_GIT: HEAD, short; NULL outside git */
	char **uncommitted;	    /* JOB_GIT: paths with uncommitted edits */
	size_t nuncommitted;
	unsigned changed_collections; /* JOB_GIT: HEAD moved, these changed */
	bool changed_schema;
	bool changed_seed; /* JOB_GIT: ... and seed files */
	bool head_moved;
	/* out, two-way (reconcile.c) */
	bool have_three;
	bool have_base;
	size_t three_counts[5]; /* per enum three_class, after the job */
	struct json *three;	/* the differences after the job: three_json
				 * with values, who and when */
	unsigned long pulled;	/* items and units written into the tree */
	unsigned long tree_counts[3]; /* ... of them created, updated and
				       * deleted there */
	unsigned long held_tree;      /* deletes into the tree held back */
	char *commit;		      /* the commit made, full hex */
	char *git_wait;		      /* why the tree's changes wait for git */
	struct json *drift;	      /* the instance's changes the job saw
			     * (three_json entries), with notify */
	char *git_push_error;	      /* a git push failed (the commit stays) */
	bool git_pushed;	      /* a git push succeeded */
	/* out, the seeds (with seed_push or seed_diff) */
	bool seed_ran;		      /* they were read and compared */
	unsigned long seed_counts[4]; /* created, updated, deleted, held
				       * deletes by the push */
	struct json *seed_pending;    /* what differs after the job:
				      * {collection: {create, update,
				      * delete}}, and "changes" */
	struct json *seed_plan;	      /* want_plan: seed_diff's plan */
	char **wrote; /* files written into the tree, and the hash */
	unsigned long long *wrote_hash; /* of what they hold now */
	size_t nwrote;
};

#define KEEP_DUMP 1
#define KEEP_INSTANCE 2

struct job *job_new(enum job_kind kind, enum job_trigger trigger,
    struct conf_ref *conf);
void job_free(struct job *j);
const char *job_kind_name(enum job_kind k);
/* The collection (*colls) or the schema (*schema) that a path of the
 * dump tree stands for; other paths (specs, seed) stand for nothing. */
void job_mark_path(const struct conf *c, const char *rel, unsigned *colls,
    bool *schema);
/* Whether a path of the dump tree is under one of seed.paths. */
bool job_seed_path(const struct conf *c, const char *rel);
const char *job_trigger_name(enum job_trigger t);

struct worker;

/* Start the worker thread; done(arg, job) is called on the loop's thread
 * for each finished job (the job is the callee's). */
struct worker *worker_start(struct event_base *base,
    void (*done)(void *arg, struct job *j), void *arg);
/* Run a job (takes it). Only one at a time: worker_busy() first. */
void worker_run(struct worker *w, struct job *j);
bool worker_busy(const struct worker *w);
/* Raise the running job's cancel flag. */
void worker_cancel(struct worker *w);
/* Requests the running job has made so far. */
unsigned long worker_requests(const struct worker *w);
/* Each request of the worker's sessions to cb, on the worker's thread
 * (dx_set_counter); set before the first job. */
void worker_set_counter(struct worker *w,
    void (*cb)(void *arg, const char *method, long status), void *arg);
/* Stop the thread (after the running job ends) and free. */
void worker_stop(struct worker *w);

/* --- the two-way job (reconcile.c), on the worker --- */

/* Compare the dump, the instance and the base (state_dir/base), then
 * carry each change to the other side as the policies say: the tree's
 * pushed, the instance's written into the tree and committed; conflicts
 * never decided but by j->keep. Writes the new base. */
int reconcile(struct sync_ctx *ctx, struct job *j, const struct plan_req *cmp);
/* git push after a commit (git.push), or again after a failed one. */
void reconcile_git_push(struct job *j);

/* --- the repository of the dump tree (git.c): git run as a program --- */

/* Whether dir is inside a git work tree; *toplevel and *gitdir (caller
 * frees) when it is. */
bool git_find(const char *dir, char **toplevel, char **gitdir);
/* Whether a git operation is in progress (index.lock, a merge, a rebase,
 * a cherry-pick, a revert, a bisect). */
bool git_busy(const char *gitdir);
/* HEAD's commit (full hex), or NULL. */
char *git_head(const char *dir);
/* Paths under dir (relative to dir) with uncommitted edits. */
int git_uncommitted(const char *dir, char ***paths, size_t *n, char **errstr);
/* Paths under dir changed between two commits. */
int git_changed(const char *dir, const char *from, const char *to,
    char ***paths, size_t *n, char **errstr);
/* HEAD's tree of dir, written into dest (made anew). */
int git_export(const char *dir, const char *rev, const char *dest,
    char **errstr);
void git_free_paths(char **paths, size_t n);
/* The file rel of dir's tree at rev: 0 with *data, 1 when rev has no such
 * file. */
int git_show(const char *dir, const char *rev, const char *rel, char **data,
    size_t *len, char **errstr);

/* A change of a file under the dump tree: new contents, or NULL when the
 * file goes. */
struct git_change {
	const char *rel;
	const char *data;
	size_t len;
};

/*
 * Commit exactly these changes on top of HEAD, and nothing else: built
 * through a private index from HEAD's tree, so a person's uncommitted or
 * staged edits stay as they are; with that author and committer and the
 * message. 1 (and *errstr) when it must wait: a git operation in
 * progress, or HEAD not on branch (when not NULL). *sha: the commit, or
 * NULL when the changes were already in HEAD.
 */
int git_commit_changes(const char *dir, const struct git_change *ch, size_t n,
    const char *name, const char *email, const char *message,
    const char *branch, char **sha, char **errstr);
/* git push REMOTE HEAD:refs/heads/BRANCH. */
int git_push_to(const char *dir, const char *remote, const char *branch,
    char **errstr);

/* --- the watch of the dump tree (watch.c) --- */

struct watch;

/* Calls changed(arg, paths, n) once the tree has been quiet for the
 * debounce and no git operation is in progress; paths are relative to
 * the tree. head(arg) when the repository's HEAD may have moved. */
struct watch *watch_new(struct event_base *base, const char *root,
    const char *gitdir, double debounce,
    void (*changed)(void *arg, char **paths, size_t n), void (*head)(void *arg),
    void *arg, char **errstr);
/* While muted (a job of ours writes the tree), events are dropped. */
void watch_mute(struct watch *w, bool on);
void watch_free(struct watch *w);

/* --- the control socket (control.c) --- */

struct control;
struct control_client;

struct control *control_open(struct event_base *base, const char *path,
    mode_t mode, gid_t gid, struct daemon *d, char **errstr);
void control_close(struct control *c);
/* Whether the daemon has a handler for cmd (an entry of proto_cmds). */
bool control_handles(const struct proto_cmd *cmd);
/* Answer a client whose request waited for a job (NULL result: error
 * with code and message). The client may have gone: then nothing. */
void control_reply(struct control_client *cl, struct json *result,
    const char *code, const char *message);
void control_client_put(struct control_client *cl);

/* --- the state directory (state.c) --- */

/* Lock the state directory (one daemon per directory). */
int state_open(const char *dir, int *lockfd, char **errstr);
/* The pause flag, kept across restarts. */
int state_load_pause(const char *dir, char **reason, time_t *since);
int state_save_pause(const char *dir, const char *reason, time_t since,
    char **errstr);
int state_clear_pause(const char *dir, char **errstr);
/* History: one JSON object per line, the last HISTORY_KEEP kept. */
#define HISTORY_KEEP 500
int state_history_append(const char *dir, const struct json *entry,
    char **errstr);
struct json *state_history_load(const char *dir, size_t n);

/* --- systemd (notify.c): the one funnel for sd_notify --- */

void notify_init(struct event_base *base);
void notify_ready(void);
void notify_reloading(void);
void notify_stopping(void);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void notify_done(void);

/* --- the Prometheus scrape (metrics.c) --- */

struct metrics;
struct buf;

struct metrics *metrics_new(const struct daemon *d);
/* Listen on metrics.listen ("HOST:PORT", "[V6]:PORT" or a Unix socket's
 * path; NULL: off), in place of what it listened on. */
int metrics_listen(struct metrics *m, struct event_base *base,
    const char *listen, char **errstr);
void metrics_close(struct metrics *m);
void metrics_free(struct metrics *m);
/* A finished job's counts (the loop's thread). */
void metrics_job(struct metrics *m, const struct job *j);
/* One request to Directus (any thread): worker_set_counter's callback. */
void metrics_request(void *arg, const char *method, long status);
/* The exposition, appended to o. */
void metrics_render(struct metrics *m, struct buf *o);

/* --- notices to webhooks (notices.c decides, webhook.c delivers) --- */

struct webhooks;
struct notices;

/* The delivery thread; stop cuts off a try under way and drops what
 * waits. */
struct webhooks *webhooks_start(void);
void webhooks_stop(struct webhooks *w);
/* Queue a notice for each webhook of c that wants ev, in its format. */
void webhooks_send(struct webhooks *w, const struct conf *c, enum conf_event ev,
    const char *json_body, const char *slack_body);
/* {"sent", "failed", "queued", "last_failure"} for status and history. */
struct json *webhooks_json(struct webhooks *w);
/* dsync_notices_total{event,result}. */
void webhooks_metrics(struct webhooks *w, struct buf *o);

void notices_init(struct daemon *d);
void notices_free(struct daemon *d);
struct webhooks *notices_webhooks(const struct daemon *d);
/* After a job's results are taken: drift, conflicts and their
 * resolution, held deletes, failures, degraded and recovered, commits and
 * git push failures, each told once. */
void notices_job(struct daemon *d, const struct job *j);
/* One notice (paused, resumed, config_error...); details taken. */
void notices_emit(struct daemon *d, enum conf_event ev, const char *message,
    struct json *details);

/* --- the daemon (daemon.c, status.c) --- */

/* A job asked for and not started yet. */
struct request {
	enum job_kind kind;
	enum job_trigger trigger;
	unsigned collections;
	bool schema;
	struct control_client *client; /* waits for the result, or NULL */
	struct strmap *keep;	       /* resolve, adopt (see struct job) */
	int keep_all;
	bool adopt;
};

struct last {
	bool set;
	time_t at;
	int rc;
	unsigned long requests;
	char *error;
};

struct daemon {
	const char *conf_path;
	struct conf_ref *conf;
	unsigned generation;
	struct event_base *base;
	struct worker *worker;
	struct watch *watch;
	struct control *control;
	struct metrics *metrics;
	struct notices *notices;
	char *metrics_on; /* the metrics.listen in use, or NULL */
	struct event *sig_term, *sig_int, *sig_hup, *timer;
	int state_lock;
	char *git_top, *git_dir;
	double started; /* monotonic */

	/* what is known */
	char version[32];	   /* Directus' */
	struct plan_summary diffs; /* what differs, from the last compare */
	bool have_diffs;
	struct sync_mark probe;
	char *head;
	char **uncommitted;
	size_t nuncommitted;
	char *commit_pushed; /* watch = commits: HEAD of the last
					 * job from HEAD */

	/* the running job and what comes next */
	struct job *job;		/* running (owned by the worker) */
	struct control_client *waiting; /* a client waiting for it */
	struct request *queue;		/* asked for meanwhile, in order */
	size_t nqueue;
	unsigned polls_since_full;
	double next_at;	  /* monotonic: next poll or retry */
	unsigned attempt; /* failures in a row */
	bool retry;	  /* next_at is a retry */
	enum job_kind retry_kind;
	double retry_after;	    /* the Retry-After that retry honours
					 * (seconds, 0: none) */
	double hold_until;	    /* monotonic: automatic jobs wait
					 * until then (Retry-After) */
	unsigned error_collections; /* what the failed job compared */
	bool error_schema;
	bool last_poll_moved;
	unsigned long polls; /* polls done since the start */
	unsigned long job_id;

	struct last last_poll, last_full, last_push, last_error;
	unsigned long last_full_changes;
	unsigned long last_push_counts[3];
	double last_push_duration;

	bool paused;
	char *pause_reason;
	time_t pause_since;
	bool stopping;
	struct conf_ref *pending_conf; /* loaded, for when the job ends */

	/* both ways (sides.c) */
	struct json *three; /* the differences known, by class:
					 * three_json entries with values */
	bool have_three, have_base;
	bool redo;	   /* the next poll compares: a change
					 * waits (for git) */
	char *git_wait;	   /* why */
	char *last_commit; /* the last commit made, full hex */
	time_t last_commit_at;
	unsigned long last_pulled; /* written into the tree by it */
	bool git_push_pending;	   /* a commit still to push */
	char *git_push_error;
	unsigned git_push_attempt;
	double git_push_next;	       /* monotonic */
	char **ours;		       /* files we wrote into the tree, */
	unsigned long long *ours_hash; /* and what they held */
	size_t nours;
	char **deferred; /* tree changes seen while a job of
					 * ours wrote into it */
	size_t ndeferred;
	bool deferred_all;

	/* the seeds (seed.enabled) */
	bool seed_due;		   /* a writing job pushes them */
	struct json *seed_pending; /* the last comparison's (see struct
				     * job), or NULL */
	time_t seed_pending_at;
	struct last last_seed_push; /* the last job that pushed them */
	unsigned long last_seed_counts[4];
};

/* sides.c */
void sides_take(struct daemon *d, struct job *j);
/* Whether rel holds what a job of ours wrote into it (then forgotten). */
bool sides_ours(struct daemon *d, const char *rel);
void sides_defer(struct daemon *d, char **paths, size_t n);
bool sides_push_due(const struct daemon *d);
size_t sides_count(const struct daemon *d, const char *cls);
void sides_put(const struct daemon *d, struct json *o);
void sides_clear(struct daemon *d);
/* Queue a resolve (keep NULL and keep_all: --all) or an adopt. */
void daemon_resolve(struct daemon *d, struct strmap *keep, int keep_all,
    bool adopt, struct control_client *cl);

/* Queue a job for a trigger (coalesced with those waiting); cl waits for
 * its result when not NULL. */
void daemon_trigger(struct daemon *d, enum job_kind kind,
    enum job_trigger trigger, unsigned collections, bool schema,
    struct control_client *cl);
int daemon_pause(struct daemon *d, const char *reason, char **errstr);
int daemon_resume(struct daemon *d, char **errstr);
int daemon_reload(struct daemon *d, char **errstr);

/* Whether a failed job is retried with backoff (the state degraded):
 * no answer, a 429 or 5xx, the dump's lock held, or an answer that
 * cannot be used (another 4xx, not JSON, the wrong shape). */
bool daemon_retryable(int rc);

/* status.c */
const char *daemon_state(const struct daemon *d, const char **reason);
bool daemon_held_deletes(const struct daemon *d, size_t i, const char **name,
    size_t *n);
struct json *daemon_status_json(const struct daemon *d);
struct json *job_history_json(const struct daemon *d, const struct job *j);
void daemon_notify_status(const struct daemon *d);

/* times.c: the monotonic clock in seconds; a wall time as
 * "2026-12-01T10:00:03Z" (a thread's rotating buffers: a few may be used
 * in one expression). */
double times_mono(void);
char *times_iso(time_t t);

int daemon_main(const char *conf_path);

#endif
