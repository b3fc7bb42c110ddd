/*
 * ctl_history: the daemon's job records. dsyncctl history, the last jobs
 * in a table; and push, pull and sync, whose result is the job's entry,
 * on one line (a failed job on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "xmalloc.h"

/* --- history: the table --- */

struct col {
	const char *head;
	bool left;
	size_t w;
};

enum { H_ID, H_START, H_KIND, H_TRIGGER, H_TIME, H_REQ, H_CHG, H_OUT,
    H_IN, H_COMMIT, H_RESULT, H_N };

/* One job's cells; cells[H_RESULT] holds the result only (not escaped
 * for colour: the table is plain). */
static void history_cells(const struct json *j, struct buf cells[H_N])
{
	double d;
	size_t i;

	for (i = 0; i < H_N; i++)
		buf_init(&cells[i]);
	if (ctl_jnum(j, "id", &d))
		buf_addf(&cells[H_ID], "%.0f", d);
	ctl_add_time(&cells[H_START], ctl_jstr(j, "start"), false);
	ctl_add_safe_cut(&cells[H_KIND], ctl_jstr(j, "kind") ? ctl_jstr(j,
	    "kind") : "?", 8);
	ctl_add_safe_cut(&cells[H_TRIGGER], ctl_jstr(j, "trigger") ?
	    ctl_jstr(j, "trigger") : "", 10);
	if (ctl_jnum(j, "duration", &d))
		ctl_add_span(&cells[H_TIME], d, true);
	if (ctl_jnum(j, "requests", &d))
		buf_addf(&cells[H_REQ], "%.0f", d);
	if (ctl_jnum(j, "changes", &d))
		buf_addf(&cells[H_CHG], "%.0f", d);
	/* Both ways: what went to Directus, what into the tree. */
	if (ctl_jobj(j, "to_instance"))
		buf_addf(&cells[H_OUT], "%.0f", ctl_jcount(ctl_jobj(j,
		    "to_instance"), "created") + ctl_jcount(ctl_jobj(j,
		    "to_instance"), "updated") + ctl_jcount(ctl_jobj(j,
		    "to_instance"), "deleted"));
	if (ctl_jnum(j, "to_tree", &d))
		buf_addf(&cells[H_IN], "%.0f", d);
	if (ctl_jstr(j, "commit"))
		buf_add(&cells[H_COMMIT], ctl_jstr(j, "commit"),
		    strlen(ctl_jstr(j, "commit")) > 7 ? 7 :
		    strlen(ctl_jstr(j, "commit")));
	ctl_add_safe_cut(&cells[H_RESULT], ctl_jstr(j, "result") ?
	    ctl_jstr(j, "result") : "?", 12);
}

static const struct col history_cols[H_N] = {
	{ "id", false, 0 }, { "start", true, 0 }, { "kind", true, 0 },
	{ "trigger", true, 0 }, { "time", false, 0 }, { "req", false, 0 },
	{ "chg", false, 0 }, { "out", false, 0 }, { "in", false, 0 },
	{ "commit", true, 0 }, { "result", true, 0 },
};

/* One line of the table (the head when j is NULL); then the job's error
 * after it when it fits in the width, else under it, cut. */
static void history_row(struct ctl *c, const struct col *cols,
    const struct json *j, struct buf *cells)
{
	struct buf line, err;
	size_t k, used = 0;

	buf_init(&line);
	buf_init(&err);
	for (k = 0; k < H_N; k++) {
		const char *s = j ? (cells[k].data ? cells[k].data : "") :
		    cols[k].head;
		size_t pad = cols[k].w - ctl_text_cols(s, strlen(s));

		if (!cols[k].left)
			buf_addf(&line, "%*s", (int)pad, "");
		if (j && k == H_RESULT && c->colour && strcmp(s, "ok") != 0)
			buf_addf(&line, "%s%s%s", C_RED, s, C_OFF);
		else
			buf_adds(&line, s);
		if (cols[k].left)
			buf_addf(&line, "%*s", (int)pad, "");
		buf_adds(&line, "  ");
		used += cols[k].w + 2;
	}
	if (j == NULL)
		buf_adds(&err, "error");
	else if (ctl_jstr(j, "error"))
		ctl_add_safe(&err, ctl_jstr(j, "error"));
	if (err.len && used + ctl_text_cols(err.data, err.len) <= c->cols)
		buf_add(&line, err.data, err.len);
	while (line.len && line.data[line.len - 1] == ' ')
		line.data[--line.len] = '\0';
	puts(line.data);
	if (j && err.len && used + ctl_text_cols(err.data, err.len) > c->cols) {
		buf_reset(&line);
		buf_addf(&line, "%*s", (int)(cols[H_ID].w + 2), "");
		ctl_add_safe_cut(&line, ctl_jstr(j, "error"), c->cols -
		    cols[H_ID].w - 2);
		puts(line.data);
	}
	buf_clear(&err);
	buf_clear(&line);
}

/* The jobs, oldest first, in columns as wide as their widest cell. */
int ctl_history_print(struct ctl *c, const struct json *r)
{
	const struct json *jobs = ctl_jarr(r, "jobs"), **rows;
	struct col cols[H_N];
	struct buf (*cells)[H_N];
	size_t n = 0, i, k, w;

	rows = xreallocarray(NULL, jobs ? jobs->u.arr.len + 1 : 1,
	    sizeof(*rows));
	for (i = 0; jobs && i < jobs->u.arr.len; i++)
		if (jobs->u.arr.items[i]->type == JSON_OBJECT)
			rows[n++] = jobs->u.arr.items[i];
	if (n == 0) {
		puts("no jobs yet");
		free(rows);
		return EXIT_OK;
	}
	memcpy(cols, history_cols, sizeof(cols));
	cells = xreallocarray(NULL, n, sizeof(*cells));
	for (k = 0; k < H_N; k++)
		cols[k].w = strlen(cols[k].head);
	for (i = 0; i < n; i++) {
		history_cells(rows[i], cells[i]);
		for (k = 0; k < H_N; k++)
			if ((w = ctl_text_cols(cells[i][k].data ?
			    cells[i][k].data : "", cells[i][k].len)) >
			    cols[k].w)
				cols[k].w = w;
	}
	history_row(c, cols, NULL, NULL);
	for (i = 0; i < n; i++)
		history_row(c, cols, rows[i], cells[i]);
	for (i = 0; i < n; i++)
		for (k = 0; k < H_N; k++)
			buf_clear(&cells[i][k]);
	free(cells);
	free(rows);
	return EXIT_OK;
}

/* --- push, pull, sync: one job --- */

/* A job's exit status: 0 when its result is ok, else 1. */
int ctl_history_job_exit(const struct json *r)
{
	const char *res = ctl_jstr(r, "result");

	return res && strcmp(res, "ok") == 0 ? EXIT_OK : EXIT_ERR;
}

/* "push (job 14): ok: 1 created, 2 updated, 1.2 s, 30 requests" */
static void job_ok(struct ctl *c, const struct json *r)
{
	struct buf b;
	double d;

	buf_init(&b);
	ctl_add_safe(&b, ctl_jstr(r, "kind") ? ctl_jstr(r, "kind") : c->cmd);
	if (ctl_jnum(r, "id", &d))
		buf_addf(&b, " (job %.0f)", d);
	buf_adds(&b, ": ok");
	if (ctl_jnum(r, "created", &d) || ctl_jnum(r, "updated", &d) ||
	    ctl_jnum(r, "deleted", &d))
		ctl_add_counts(&b, r);
	else if (ctl_jnum(r, "changes", &d))
		buf_addf(&b, ", %.0f change%s", d, d == 1 ? "" : "s");
	if (ctl_jnum(r, "duration", &d)) {
		buf_adds(&b, ", ");
		ctl_add_span(&b, d, true);
	}
	ctl_add_requests(&b, r);
	if (ctl_jnum(r, "to_tree", &d) && d > 0)
		buf_addf(&b, "; %.0f written into the tree", d);
	if (ctl_jstr(r, "commit"))
		buf_addf(&b, ", commit %.12s", ctl_jstr(r, "commit"));
	if (ctl_jnum(r, "conflicts", &d) && d > 0)
		buf_addf(&b, "; %.0f conflict%s left", d, d == 1 ? "" : "s");
	puts(b.data);
	buf_clear(&b);
}

/* "dsyncctl: push: job 14 failed after 0.02 s: GET ...: refused
 * (unreachable)", on stderr. */
static void job_failed(struct ctl *c, const struct json *r)
{
	const char *res = ctl_jstr(r, "result"), *err = ctl_jstr(r, "error"),
	    *kind = ctl_jstr(r, "kind");
	struct buf b;
	double d;

	buf_init(&b);
	buf_adds(&b, "job");
	if (ctl_jnum(r, "id", &d))
		buf_addf(&b, " %.0f", d);
	if (kind && strcmp(kind, c->cmd) != 0) {
		buf_adds(&b, " (");
		ctl_add_safe(&b, kind);
		buf_addc(&b, ')');
	}
	buf_adds(&b, " failed");
	if (ctl_jnum(r, "duration", &d)) {
		buf_adds(&b, " after ");
		ctl_add_span(&b, d, true);
	}
	buf_adds(&b, ": ");
	ctl_add_safe(&b, err ? err : "no message");
	buf_adds(&b, " (");
	ctl_add_safe(&b, res ? res : "no result");
	buf_addc(&b, ')');
	fprintf(stderr, "dsyncctl: %s: %s\n", c->cmd, b.data);
	buf_clear(&b);
}

/* push, pull, sync: the job's history entry on one line; a failed job on
 * stderr, as an error. */
int ctl_history_job(struct ctl *c, const struct json *r)
{
	if (r == NULL || r->type != JSON_OBJECT) {
		fprintf(stderr, "dsyncctl: %s: the reply holds no job\n",
		    c->cmd);
		return EXIT_ERR;
	}
	if (ctl_history_job_exit(r) != EXIT_OK) {
		job_failed(c, r);
		return EXIT_ERR;
	}
	job_ok(c, r);
	return EXIT_OK;
}
