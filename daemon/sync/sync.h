/*
 * sync: the engine's entry points (pull now; diff and push build on the
 * same context). Plain synchronous C: no globals, no printing, no exit.
 * Progress and warnings go through the log callback, errors come back as
 * a message the caller owns, and a run stops between requests when the
 * cancel flag is raised. One context per run, one run per thread.
 */
#ifndef DSYNC_SYNC_H
#define DSYNC_SYNC_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "directus.h"
#include "options.h"

enum sync_level {
	SYNC_ERR = 3,		/* syslog's numbers */
	SYNC_WARN = 4,
	SYNC_INFO = 6,
	SYNC_DEBUG = 7,
};

typedef void (*sync_log_cb)(void *arg, enum sync_level level,
    const char *msg);

struct sync_ctx {
	const struct sync_opts *opts;	/* borrowed */
	struct dx *dx;			/* borrowed, authenticated */
	atomic_int *cancel;		/* may be NULL */
	sync_log_cb log;		/* may be NULL */
	void *log_arg;
};

struct sync_stats {
	unsigned long requests;		/* HTTP requests made */
	unsigned long items;		/* collection items written */
	unsigned long files;		/* files written */
	unsigned long map_rows_created;
	unsigned long created, updated, deleted;	/* push */
	unsigned long passes;				/* push */
};

/* Connect: a dx for opts (token, or login), with headers set. */
int sync_connect(const struct sync_opts *opts, struct dx **out,
    char **errstr);

int sync_pull(struct sync_ctx *ctx, struct sync_stats *st, char **errstr);

/* Make the instance match the dump (see push.c). */
int sync_push(struct sync_ctx *ctx, struct sync_stats *st, char **errstr);

/* helpers: remove the map row of one local item (*found: there was
 * one); delete duplicate permissions, keeping the first or the last of
 * each (policy, collection, action); poll /server/health until it says
 * "ok" successes times in a row. */
int sync_untrack(struct sync_ctx *ctx, const char *table,
    const char *local_id, bool *found, char **errstr);
int sync_remove_permission_duplicates(struct sync_ctx *ctx, bool keep_last,
    size_t *deleted, char **errstr);
int sync_wait_ready(struct sync_ctx *ctx, double interval, double timeout,
    unsigned successes, char **errstr);

void sync_logf(const struct sync_ctx *ctx, enum sync_level level,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
