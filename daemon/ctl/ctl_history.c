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

enum {
	H_ID,
	H_START,
	H_KIND,
	H_TRIGGER,
	H_TIME,
	H_REQ,
	H_CHG,
	H_OUT,
	H_IN,
	H_COMMIT,
	H_RESULT,
	H_N
};

/* One job's cells; cells[H_RESULT] holds the result only (not escaped
 * for colour: the table is plain). */
static void history_cells(const struct json *j, struct buf cells[H_N])
{
	double d;
	size_t i;

	for (i = 0; i < H_N; i++)
		buf_init(&cells[i]);
	if (json_get_num(j, "id", &d))
		buf_addf(&cells[H_ID], "%.0f", d);
	ctl_add_time(&cells[H_START], json_get_str(j, "start"), false);
	ctl_add_safe_cut(&cells[H_KIND],
	    json_get_str(j, "kind") ? json_get_str(j, "kind") : "?", 8);
	ctl_add_safe_cut(&cells[H_TRIGGER],
	    json_get_str(j, "trigger") ? json_get_str(j, "trigger") : "", 10);
	if (json_get_num(j, "duration", &d))
		ctl_add_span(&cells[H_TIME], d, true);
	if (json_get_num(j, "requests", &d))
		buf_addf(&cells[H_REQ], "%.0f", d);
	if (json_get_num(j, "changes", &d))
		buf_addf(&cells[H_CHG], "%.0f", d);
	/* Both ways: what went to Directus, what into the tree. */
	if (json_get_obj(j, "to_instance"))
		buf_addf(&cells[H_OUT], "%.0f",
		    json_get_count(json_get_obj(j, "to_instance"), "created") +
			json_get_count(json_get_obj(j, "to_instance"),
			    "updated") +
			json_get_count(json_get_obj(j, "to_instance"),
			    "deleted"));
	if (json_get_num(j, "to_tree", &d))
		buf_addf(&cells[H_IN], "%.0f", d);
	if (json_get_str(j, "commit"))
		buf_add(&cells[H_COMMIT], json_get_str(j, "commit"),
		    strlen(json_get_str(j, "commit")) > 7 ?
			7 :
			strlen(json_get_str(j, "commit")));
	ctl_add_safe_cut(&cells[H_RESULT],
	    json_get_str(j, "result") ? json_get_str(j, "result") : "?", 12);
}

static const struct col history_cols[H_N] = {
	{ "id", false, 0 },
	{ "start", true, 0 },
	{ "kind", true, 0 },
	{ "trigger", true, 0 },
	{ "time", false, 0 },
	{ "req", false, 0 },
	{ "chg", false, 0 },
	{ "out", false, 0 },
	{ "in", false, 0 },
	{ "commit", true, 0 },
	{ "result", true, 0 },
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
	else if (json_get_str(j, "error"))
		text_add_safe(&err, json_get_str(j, "error"));
	if (err.len && used + ctl_text_cols(err.data, err.len) <= c->cols)
		buf_add(&line, err.data, err.len);
	while (line.len && line.data[line.len - 1] == ' ')
		line.data[--line.len] = '\0';
	puts(line.data);
	if (j && err.len && used + ctl_text_cols(err.data, err.len) > c->cols) {
		buf_reset(&line);
		buf_addf(&line, "%*s", (int)(cols[H_ID].w + 2), "");
		ctl_add_safe_cut(&line, json_get_str(j, "error"),
		    c->cols - cols[H_ID].w - 2);
		puts(line.data);
	}
	buf_clear(&err);
	buf_clear(&line);
}

/* The jobs, oldest first, in columns as wide as their widest cell. */
/* Under the table: the webhooks' notices, when any went out. */
static void history_notices(struct ctl *c, const struct json *r)
{
	struct buf b;

	buf_init(&b);
	if (ctl_add_notices(&b, json_get_obj(r, "notices"), c->now)) {
		buf_addc(&b, '\0');
		printf("\nnotices: %s\n", b.data);
	}
	buf_clear(&b);
}

int ctl_history_print(struct ctl *c, const struct json *r)
{
	const struct json *jobs = json_get_arr(r, "jobs"), **rows;
	struct col cols[H_N];
	struct buf(*cells)[H_N];
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
				     cells[i][k].data :
				     "",
				 cells[i][k].len)) > cols[k].w)
				cols[k].w = w;
	}
	history_row(c, cols, NULL, NULL);
	for (i = 0; i < n; i++)
		history_row(c, cols, rows[i], cells[i]);
	history_notices(c, r);
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
	const char *res = json_get_str(r, "result");

	return res && strcmp(res, "ok") == 0 ? EXIT_OK : EXIT_ERR;
}

/* "push (job 14): ok: 1 created, 2 updated, 1.2 s, 30 requests" */
static void job_ok(struct ctl *c, const struct json *r)
{
	struct buf b;
	double d;

	buf_init(&b);
	text_add_safe(&b,
	    json_get_str(r, "kind") ? json_get_str(r, "kind") : c->cmd);
	if (json_get_num(r, "id", &d))
		buf_addf(&b, " (job %.0f)", d);
	buf_adds(&b, ": ok");
	if (json_get_num(r, "created", &d) || json_get_num(r, "updated", &d) ||
	    json_get_num(r, "deleted", &d))
		ctl_add_counts(&b, r);
	else if (json_get_num(r, "changes", &d))
		buf_addf(&b, ", %.0f change%s", d, d == 1 ? "" : "s");
	if (json_get_num(r, "duration", &d)) {
		buf_adds(&b, ", ");
		ctl_add_span(&b, d, true);
	}
	ctl_add_requests(&b, r);
	if (json_get_num(r, "to_tree", &d) && d > 0)
		buf_addf(&b, "; %.0f written into the tree", d);
	if (json_get_str(r, "commit"))
		buf_addf(&b, ", commit %.12s", json_get_str(r, "commit"));
	if (json_get_num(r, "conflicts", &d) && d > 0)
		buf_addf(&b, "; %.0f conflict%s left", d, d == 1 ? "" : "s");
	puts(b.data);
	buf_clear(&b);
}

/* "dsyncctl: push: job 14 failed after 0.02 s: GET ...: refused
 * (unreachable)", on stderr. */
static void job_failed(struct ctl *c, const struct json *r)
{
	const char *res = json_get_str(r, "result"),
		   *err = json_get_str(r, "error"),
		   *kind = json_get_str(r, "kind");
	struct buf b;
	double d;

	buf_init(&b);
	buf_adds(&b, "job");
	if (json_get_num(r, "id", &d))
		buf_addf(&b, " %.0f", d);
	if (kind && strcmp(kind, c->cmd) != 0) {
		buf_adds(&b, " (");
		text_add_safe(&b, kind);
		buf_addc(&b, ')');
	}
	buf_adds(&b, " failed");
	if (json_get_num(r, "duration", &d)) {
		buf_adds(&b, " after ");
		ctl_add_span(&b, d, true);
	}
	buf_adds(&b, ": ");
	text_add_safe(&b, err ? err : "no message");
	buf_adds(&b, " (");
	text_add_safe(&b, res ? res : "no result");
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
