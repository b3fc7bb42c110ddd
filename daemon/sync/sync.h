/*
 * sync: the engine's entry points: pull, push, the helpers (and diff, in
 * plan.h). Plain synchronous C: no globals, no printing, no exit.
 * Progress and warnings go through the log callback, errors come back as
 * a message the caller owns and an enum sync_result, and a run stops
 * between requests when the cancel flag is raised. One session (dx) may
 * serve many runs, one run at a time.
 */
#ifndef DSYNC_SYNC_H
#define DSYNC_SYNC_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "directus.h"
#include "dump.h"
#include "options.h"
#include "result.h"

enum sync_level {
	SYNC_ERR = 3, /* syslog's numbers */
	SYNC_WARN = 4,
	SYNC_INFO = 6,
	SYNC_DEBUG = 7,
};

typedef void (*sync_log_cb)(void *arg, enum sync_level level, const char *msg);

struct sync_ctx {
	const struct sync_opts *opts; /* borrowed */
	struct dx *dx;		      /* borrowed, authenticated */
	atomic_int *cancel;	      /* may be NULL; bound to the session
					 * for the length of each run */
	struct dump_lock *lock;	      /* borrowed, may be NULL: the lock of
					 * opts->dump_path, held by the
					 * caller across runs; without it,
					 * each run takes it for itself */
	sync_log_cb log;	      /* may be NULL */
	void *log_arg;
};

struct sync_stats {
	unsigned long requests; /* HTTP requests of this run */
	unsigned long items;	/* pull: collection items written */
	unsigned long files;	/* pull: files in the new tree */
	bool tree_changed;	/* pull: some file was written or
					 * removed */
	unsigned long map_rows_created;
	unsigned long created, updated, deleted; /* push */
	unsigned long passes;			 /* push */
	unsigned long held_deletes; /* push: left by hold_deletes */
	unsigned long held_schema;  /* push: left by hold_schema_deletes */
	char directus_version[32];  /* of the instance, once checked */
};

/* A dx for opts, not authenticated: its URL, headers, limits and TLS
 * settings (wait-server-ready needs no more). */
struct dx *sync_session(const struct sync_opts *opts);

/* A session for opts: sync_session's dx, authenticated by the token, or
 * logged in with email and password. */
int sync_connect(const struct sync_opts *opts, struct dx **out, char **errstr);

int sync_pull(struct sync_ctx *ctx, struct sync_stats *st, char **errstr);

struct coll_rule;
struct json;
/* The file format of a pull: a collection's items in pull's order, and
 * any file's text, JSON.stringify(v, null, 2) and a newline (keys
 * sorted with sort). */
void pull_sort_items(const struct coll_rule *r, struct json *arr);
char *pull_format(struct json *v, bool sort, size_t *len);

/* Make the instance match the dump (see push.c). */
int sync_push(struct sync_ctx *ctx, struct sync_stats *st, char **errstr);

/* helpers: remove the map row of one local item (*found: there was
 * one); delete duplicate permissions, keeping the first or the last of
 * each (policy, collection, action); poll /server/health until it says
 * "ok" successes times in a row. */
int sync_untrack(struct sync_ctx *ctx, const char *table, const char *local_id,
    bool *found, char **errstr);
int sync_remove_permission_duplicates(struct sync_ctx *ctx, bool keep_last,
    size_t *deleted, char **errstr);
int sync_wait_ready(struct sync_ctx *ctx, double interval, double timeout,
    unsigned successes, char **errstr);

void sync_logf(const struct sync_ctx *ctx, enum sync_level level,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The start of every run that talks to the instance: its version
 * (refusing anything below 11, and tokens that are not an
 * administrator's). */
int sync_check_instance(struct sync_ctx *ctx, struct sync_stats *st,
    char **errstr);

/* Whether the run's cancel flag is raised. */
bool sync_cancelled(const struct sync_ctx *ctx);

/*
 * One run, for the entry points: binds the cancel flag to the session,
 * counts the run's requests, takes the dump tree's lock unless the
 * caller holds it (flags below), and undoes all of it at the end.
 */
enum {
	RUN_LOCK = 1 << 0,	  /* lock opts->dump_path */
	RUN_LOCK_CREATE = 1 << 1, /* ... making it if missing */
};

struct sync_run {
	struct sync_ctx *ctx;
	struct sync_stats *st;
	struct sync_stats own;	/* when the caller gave none */
	unsigned long start;	/* http_count at the start */
	struct dump_lock *lock; /* taken by this run */
	const char *root;	/* the dump tree's real path */
};

int sync_run_begin(struct sync_run *r, struct sync_ctx *ctx,
    struct sync_stats *st, unsigned flags, char **errstr);
/* Returns rc, or SYNC_ECANCELED for a failure after a cancel. */
int sync_run_end(struct sync_run *r, int rc);

#endif
