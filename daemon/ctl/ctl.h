/*
 * ctl: dsyncctl's private header, the map of the client. dsyncctl.c has
 * main, argv, the command table and the socket; each printer turns one
 * reply into text: ctl_status.c, ctl_diff.c, ctl_history.c. ctl.c holds
 * the helpers they share to read a reply leniently and write it safely.
 */
#ifndef DSYNC_CTL_H
#define DSYNC_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "buf.h"
#include "json.h"
#include "plan_text.h"
#include "proto.h"

enum { EXIT_OK = 0, EXIT_ERR = 1, EXIT_DIFF = 2 };

struct ctl {
	const char *socket;
	const char *cmd;
	const struct proto_cmd *pc; /* cmd's entry of proto_cmds */
	bool json;
	bool pretty_diff; /* diff -p: the values too */
	double timeout;	  /* seconds; 0: wait as long as it takes */
	bool timeout_set;
	long history_n;
	char *reason;	  /* pause */
	const char *keep; /* resolve, adopt: --keep dump|instance */
	bool all;	  /* resolve --all */
	const char *collection, *sync_id; /* resolve */
	bool tty, colour;
	size_t cols; /* the terminal's width, 80 when not one */
	time_t now;
};

#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_BOLD "\033[1m"
#define C_OFF "\033[0m"

/* --- ctl.c: text --- */

size_t ctl_text_cols(const char *s, size_t len);
void ctl_add_safe_cut(struct buf *b, const char *s, size_t cols);
void ctl_add_span(struct buf *b, double s, bool tenths);
void ctl_add_ago(struct buf *b, double s);
bool ctl_parse_iso(const char *s, time_t *t);
void ctl_add_time(struct buf *b, const char *iso, bool year);

/* --- ctl.c: parts of a record: a job, a poll, a push --- */

void ctl_add_requests(struct buf *b, const struct json *o);
void ctl_add_counts(struct buf *b, const struct json *o);
/* The webhooks' notices ("3 sent, 1 failed; last failure 2 min ago:
 * ..."); false when there is nothing to say (none sent or failed). */
bool ctl_add_notices(struct buf *b, const struct json *n, time_t now);

/* --- the printers: each prints one command's result and returns its
 * exit status; the _exit ones give that status without printing (for
 * --json) --- */

/* ctl_status.c */
int ctl_status_print(struct ctl *c, const struct json *r);
int ctl_status_exit(const struct json *r);

/* ctl_diff.c */
int ctl_diff_print(struct ctl *c, const struct json *r);
int ctl_diff_exit(const struct json *r);

/* ctl_history.c: the history table, and push, pull and sync, whose
 * result is one job's history entry */
int ctl_history_print(struct ctl *c, const struct json *r);
int ctl_history_job(struct ctl *c, const struct json *r);
int ctl_history_job_exit(const struct json *r);

#endif
