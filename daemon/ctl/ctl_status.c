/*
 * ctl_status: dsyncctl status, the screen. The state and why, then one
 * "key: value" line per thing the daemon reports (wrapped on a narrow
 * terminal), then the differences per collection; the exit status from
 * the state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

#define KEY_W 11 /* the status screen's key column */

/* --- colour --- */

static const char *state_colour(const char *state)
{
	if (state == NULL)
		return C_RED;
	if (strcmp(state, "in-sync") == 0)
		return C_GREEN;
	if (strcmp(state, "pending") == 0 || strcmp(state, "drifted") == 0 ||
	    strcmp(state, "syncing") == 0 || strcmp(state, "paused") == 0)
		return C_YELLOW;
	return C_RED;
}

static void add_coloured(struct ctl *c, struct buf *b, const char *colour,
    const char *text)
{
	bool on = c->colour && *colour;

	if (on)
		buf_adds(b, colour);
	text_add_safe(b, text);
	if (on)
		buf_adds(b, C_OFF);
}

/* A failure name, red on a terminal unless it is "ok". */
static void add_result(struct ctl *c, struct buf *b, const char *result)
{
	if (result == NULL)
		result = "?";
	add_coloured(c, b, strcmp(result, "ok") == 0 ? "" : C_RED, result);
}

/* --- the status screen --- */

/* key: value, the value wrapped at spaces under itself on a terminal
 * narrower than the line; elsewhere on one line, for grep. */
static void put_kv(struct ctl *c, const char *key, const struct buf *v)
{
	const char *s = v->data ? v->data : "", *sp;
	size_t col = KEY_W + 2, w;

	printf("%*s: ", KEY_W, key);
	if (!c->tty || col + ctl_text_cols(s, strlen(s)) <= c->cols) {
		printf("%s\n", s);
		return;
	}
	while (*s) {
		sp = strchr(s, ' ');
		w = sp ? (size_t)(sp - s) : strlen(s);
		if (col > KEY_W + 2 &&
		    col + 1 + ctl_text_cols(s, w) > c->cols) {
			printf("\n%*s", KEY_W + 2, "");
			col = KEY_W + 2;
		} else if (col > KEY_W + 2) {
			putchar(' ');
			col++;
		}
		fwrite(s, 1, w, stdout);
		col += ctl_text_cols(s, w);
		s += w;
		while (*s == ' ')
			s++;
	}
	putchar('\n');
}

static void status_head(struct ctl *c, const struct json *r)
{
	const char *state = json_get_str(r, "state"),
		   *reason = json_get_str(r, "state_reason");
	struct buf b;

	buf_init(&b);
	if (c->colour)
		buf_adds(&b, C_BOLD);
	add_coloured(c, &b, state_colour(state), state ? state : "unknown");
	if (state == NULL && reason == NULL)
		reason = "the daemon's status names no state";
	if (reason) {
		buf_adds(&b, ": ");
		text_add_safe(&b, reason);
	}
	puts(b.data);
	buf_clear(&b);
}

static void status_instance(struct ctl *c, const struct json *r)
{
	const struct json *dx = json_get_obj(r, "directus"),
			  *dump = json_get_obj(r, "dump"),
			  *unc = json_get_arr(dump, "uncommitted");
	const char *watch = json_get_str(dump, "watch"),
		   *head = json_get_str(dump, "head");
	struct buf b;
	size_t i;

	buf_init(&b);
	if (dx) {
		text_add_safe(&b,
		    json_get_str(dx, "url") ? json_get_str(dx, "url") : "?");
		if (json_get_str(dx, "version")) {
			buf_adds(&b, " (Directus ");
			text_add_safe(&b, json_get_str(dx, "version"));
			buf_addc(&b, ')');
		} else
			buf_adds(&b, " (version not known yet)");
		/* Only false says so: a daemon before tls_verify gives none. */
		if (json_get_nonnull(dx, "tls_verify") &&
		    json_get_nonnull(dx, "tls_verify")->type == JSON_FALSE)
			buf_adds(&b, ", TLS verification off");
		put_kv(c, "instance", &b);
	}
	if (dump) {
		buf_reset(&b);
		text_add_safe(&b,
		    json_get_str(dump, "path") ? json_get_str(dump, "path") :
						 "?");
		if (watch || head)
			buf_adds(&b, " (");
		if (watch && strcmp(watch, "commits") == 0)
			buf_adds(&b, "watches commits");
		else if (watch && strcmp(watch, "tree") == 0)
			buf_adds(&b, "watches the tree");
		else if (watch) {
			buf_adds(&b, "watch ");
			text_add_safe(&b, watch);
		}
		if (head) {
			buf_adds(&b, watch ? ", head " : "head ");
			ctl_add_safe_cut(&b, head, 12);
		}
		if (watch || head)
			buf_addc(&b, ')');
		put_kv(c, "dump", &b);
	}
	if (unc && unc->u.arr.len) {
		buf_reset(&b);
		for (i = 0; i < unc->u.arr.len && i < 3; i++) {
			if (i)
				buf_adds(&b, ", ");
			ctl_add_safe_cut(&b,
			    json_str(unc->u.arr.items[i]) ?
				json_str(unc->u.arr.items[i]) :
				"?",
			    40);
		}
		if (unc->u.arr.len > 3)
			buf_addf(&b, " and %zu more", unc->u.arr.len - 3);
		put_kv(c, "uncommitted", &b);
	}
	buf_clear(&b);
}

static void status_policy(struct ctl *c, const struct json *r)
{
	const struct json *p = json_get_obj(r, "policy"),
			  *cs = json_get_obj(p, "collections");
	struct buf b;
	size_t i;

	if (p == NULL)
		return;
	buf_init(&b);
	buf_adds(&b, "default ");
	text_add_safe(&b,
	    json_get_str(p, "default") ? json_get_str(p, "default") : "?");
	if (json_get_str(p, "schema")) {
		buf_adds(&b, ", schema ");
		text_add_safe(&b, json_get_str(p, "schema"));
	}
	for (i = 0; cs && i < cs->u.obj.len; i++) {
		buf_adds(&b, ", ");
		text_add_safe(&b, cs->u.obj.members[i].key);
		buf_addc(&b, ' ');
		text_add_safe(&b,
		    json_str(cs->u.obj.members[i].val) ?
			json_str(cs->u.obj.members[i].val) :
			"?");
	}
	put_kv(c, "policy", &b);
	buf_clear(&b);
}

/* "12 s ago, " from a record's "age", or from "at". */
static void add_record_age(struct ctl *c, struct buf *b, const struct json *o)
{
	double age;
	time_t t;

	if (json_get_num(o, "age", &age))
		ctl_add_ago(b, age);
	else if (ctl_parse_iso(json_get_str(o, "at"), &t))
		ctl_add_ago(b, difftime(c->now, t));
	else
		buf_adds(b, "at an unknown time");
}

static void status_polls(struct ctl *c, const struct json *r)
{
	const struct json *o;
	struct buf b;
	double d;

	buf_init(&b);
	if ((o = json_get_obj(r, "last_poll"))) {
		add_record_age(c, &b, o);
		buf_adds(&b, ", ");
		add_result(c, &b, json_get_str(o, "result"));
		if (json_get_true(o, "moved"))
			buf_adds(&b, ", the instance changed");
		ctl_add_requests(&b, o);
		put_kv(c, "last poll", &b);
	}
	if ((o = json_get_obj(r, "next_poll")) && json_get_num(o, "in", &d)) {
		buf_reset(&b);
		buf_adds(&b, "in ");
		ctl_add_span(&b, d, false);
		put_kv(c, "next poll", &b);
	}
	if ((o = json_get_obj(r, "last_full_diff"))) {
		buf_reset(&b);
		add_record_age(c, &b, o);
		buf_adds(&b, ", ");
		add_result(c, &b, json_get_str(o, "result"));
		if (json_get_num(o, "changes", &d))
			buf_addf(&b, ", %.0f change%s", d, d == 1 ? "" : "s");
		ctl_add_requests(&b, o);
		put_kv(c, "full diff", &b);
	}
	buf_clear(&b);
}

static void status_push(struct ctl *c, const struct json *r)
{
	const struct json *o = json_get_obj(r, "last_push");
	struct buf b;
	double d;

	if (o == NULL)
		return;
	buf_init(&b);
	add_record_age(c, &b, o);
	buf_adds(&b, ", ");
	add_result(c, &b, json_get_str(o, "result"));
	ctl_add_counts(&b, o);
	if (json_get_num(o, "duration", &d)) {
		buf_adds(&b, ", ");
		ctl_add_span(&b, d, true);
	}
	ctl_add_requests(&b, o);
	if (json_get_str(o, "error")) {
		buf_adds(&b, ": ");
		text_add_safe(&b, json_get_str(o, "error"));
	}
	put_kv(c, "last push", &b);
	buf_clear(&b);
}

static void status_now(struct ctl *c, const struct json *r)
{
	const struct json *o;
	struct buf b;
	double d;
	time_t t;

	buf_init(&b);
	if ((o = json_get_obj(r, "job"))) {
		text_add_safe(&b,
		    json_get_str(o, "kind") ? json_get_str(o, "kind") : "job");
		if (json_get_str(o, "trigger")) {
			buf_adds(&b, " (");
			text_add_safe(&b, json_get_str(o, "trigger"));
			buf_addc(&b, ')');
		}
		if (json_get_num(o, "elapsed", &d)) {
			buf_adds(&b, ", running for ");
			ctl_add_span(&b, d, true);
		}
		if (json_get_num(o, "requests", &d))
			buf_addf(&b, ", %.0f request%s so far", d,
			    d == 1 ? "" : "s");
		put_kv(c, "job", &b);
	}
	if (json_get_str(r, "queued")) {
		buf_reset(&b);
		text_add_safe(&b, json_get_str(r, "queued"));
		buf_adds(&b, o ? ", after this job" : "");
		put_kv(c, "queued", &b);
	}
	if ((o = json_get_obj(r, "paused"))) {
		buf_reset(&b);
		buf_adds(&b, "since ");
		ctl_add_time(&b, json_get_str(o, "since"), true);
		if (ctl_parse_iso(json_get_str(o, "since"), &t)) {
			buf_adds(&b, " (");
			ctl_add_ago(&b, difftime(c->now, t));
			buf_addc(&b, ')');
		}
		if (json_get_str(o, "reason") && *json_get_str(o, "reason")) {
			buf_adds(&b, ": ");
			text_add_safe(&b, json_get_str(o, "reason"));
		}
		put_kv(c, "paused", &b);
	}
	buf_clear(&b);
}

static void status_error(struct ctl *c, const struct json *r)
{
	const struct json *o;
	struct buf b;
	double d, a, ra;
	bool has_a, has_ra;

	buf_init(&b);
	if ((o = json_get_obj(r, "last_error"))) {
		add_record_age(c, &b, o);
		buf_adds(&b, ", ");
		add_result(c, &b,
		    json_get_str(o, "result") ? json_get_str(o, "result") :
						"failed");
		if (json_get_str(o, "message")) {
			buf_adds(&b, ": ");
			text_add_safe(&b, json_get_str(o, "message"));
		}
		put_kv(c, "last error", &b);
	}
	if ((o = json_get_obj(r, "next_retry"))) {
		buf_reset(&b);
		if (json_get_num(o, "in", &d)) {
			buf_adds(&b, "in ");
			ctl_add_span(&b, d, false);
		} else
			buf_adds(&b, "soon");
		has_a = json_get_num(o, "attempt", &a);
		has_ra = json_get_num(o, "retry_after", &ra);
		if (has_a && has_ra)
			buf_addf(&b,
			    " (attempt %.0f; Directus asked to wait "
			    "%.0f s: Retry-After)",
			    a, ra);
		else if (has_a)
			buf_addf(&b, " (attempt %.0f)", a);
		else if (has_ra)
			buf_addf(&b,
			    " (Directus asked to wait %.0f s: Retry-After)",
			    ra);
		put_kv(c, "next retry", &b);
	}
	buf_clear(&b);
}

static void status_self(struct ctl *c, const struct json *r)
{
	struct buf b;
	double d;
	bool paren = false;

	buf_init(&b);
	if (json_get_num(r, "uptime", &d))
		ctl_add_span(&b, d, false);
	else
		buf_adds(&b, "?");
	if (json_get_str(r, "version")) {
		buf_adds(&b, " (dsyncd ");
		text_add_safe(&b, json_get_str(r, "version"));
		paren = true;
	}
	if (json_get_num(r, "pid", &d)) {
		buf_addf(&b, "%s %.0f", paren ? ", pid" : " (pid", d);
		paren = true;
	}
	if (paren)
		buf_addc(&b, ')');
	if (paren || json_get_num(r, "uptime", &d))
		put_kv(c, "uptime", &b);
	if (json_get_str(r, "config")) {
		buf_reset(&b);
		text_add_safe(&b, json_get_str(r, "config"));
		put_kv(c, "config", &b);
	}
	if (json_get_str(r, "metrics")) {
		const char *m = json_get_str(r, "metrics");

		buf_reset(&b);
		if (*m != '/')
			buf_adds(&b, "http://");
		text_add_safe(&b, m);
		buf_adds(&b, *m == '/' ? " (GET /metrics)" : "/metrics");
		put_kv(c, "metrics", &b);
	}
	buf_clear(&b);
}

/* The pending count of a collection, or -1 when the daemon sent none. */
static double pending_of(const struct json *r, const char *name)
{
	double n;

	return json_get_num(json_get_obj(r, "pending"), name, &n) ? n : -1;
}

/* True when "pending" (or, without it, "differences") holds any. */
static bool has_pending(const struct json *r)
{
	const struct json *p = json_get_obj(r, "pending"),
			  *d = json_get_obj(r, "differences");
	size_t i;

	if (p) {
		for (i = 0; i < p->u.obj.len; i++) {
			const struct json *v = p->u.obj.members[i].val;

			if (v->type == JSON_NUMBER ?
				v->u.num != 0 :
				v->type != JSON_NULL && v->type != JSON_FALSE)
				return true;
		}
		return false;
	}
	for (i = 0; d && i < d->u.obj.len; i++) {
		const struct json *o = d->u.obj.members[i].val;

		if (json_get_count(o, "create") + json_get_count(o, "update") +
			json_get_count(o, "delete") +
			json_get_count(o, "dangling") +
			json_get_count(o, "changes") !=
		    0)
			return true;
	}
	return false;
}

/* The first items of a collection, one a line, cut to the width: a
 * line the daemon wrote, or kind, SyncID and name. Returns how many. */
static double diff_row_first(struct ctl *c, const struct json *first)
{
	double shown = 0;
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; first && i < first->u.arr.len; i++, shown++) {
		const struct json *it = first->u.arr.items[i];

		buf_reset(&b);
		buf_adds(&b, "    ");
		if (it->type == JSON_STRING) {
			ctl_add_safe_cut(&b, it->u.str.ptr, c->cols - 5);
			puts(b.data);
			continue;
		}
		ctl_add_safe_cut(&b,
		    json_get_str(it, "kind") ? json_get_str(it, "kind") : "?",
		    1);
		buf_addc(&b, ' ');
		ctl_add_safe_cut(&b,
		    json_get_str(it, "_syncId") ? json_get_str(it, "_syncId") :
						  "?",
		    36);
		if (json_get_str(it, "name")) {
			size_t used = ctl_text_cols(b.data, b.len) + 3;

			buf_adds(&b, " \"");
			ctl_add_safe_cut(&b, json_get_str(it, "name"),
			    c->cols > used + 8 ? c->cols - used - 1 : 8);
			buf_addc(&b, '"');
		}
		puts(b.data);
	}
	buf_clear(&b);
	return shown;
}

/* One collection of the differences: a row, the held reason, the first
 * items. */
static void diff_row(struct ctl *c, const char *name, const struct json *o,
    double pending)
{
	const char *policy = json_get_str(o, "policy");
	double shown, total;
	struct buf b;

	buf_init(&b);
	buf_adds(&b, "  ");
	ctl_add_safe_cut(&b, name, 14);
	while (ctl_text_cols(b.data, b.len) < 16)
		buf_addc(&b, ' ');
	if (strcmp(name, "schema") == 0 || json_get_nonnull(o, "changes")) {
		char n[48];

		total = o ? json_get_count(o, "changes") : pending;
		snprintf(n, sizeof(n), "%.0f change%s", total,
		    total == 1 ? "" : "s");
		buf_addf(&b, "%20s", n);
	} else if (o == NULL) {
		total = pending;
		buf_addf(&b, "%20s", "");
	} else {
		total = json_get_count(o, "create") +
		    json_get_count(o, "update") + json_get_count(o, "delete");
		buf_addf(&b, "%6.0f %6.0f %6.0f", json_get_count(o, "create"),
		    json_get_count(o, "update"), json_get_count(o, "delete"));
	}
	buf_addf(&b, "  %-7s", policy ? policy : "");
	if (o && json_get_count(o, "dangling") != 0)
		buf_addf(&b, " %.0f dangling", json_get_count(o, "dangling"));
	else if (o == NULL && pending >= 0)
		buf_addf(&b, " %.0f pending", pending);
	while (b.len && b.data[b.len - 1] == ' ')
		b.data[--b.len] = '\0';
	puts(b.data);
	if (json_get_str(o, "held")) {
		buf_reset(&b);
		buf_adds(&b, "    held: ");
		add_coloured(c, &b, C_YELLOW, json_get_str(o, "held"));
		puts(b.data);
	}
	shown = diff_row_first(c, json_get_arr(o, "first"));
	if (total > shown && shown > 0)
		printf("    and %.0f more\n", total - shown);
	buf_clear(&b);
}

/* A collection the daemon lists with nothing in it. */
static bool row_empty(const struct json *o)
{
	return json_get_count(o, "create") + json_get_count(o, "update") +
		json_get_count(o, "delete") + json_get_count(o, "dangling") +
		json_get_count(o, "changes") ==
	    0 &&
	    json_get_str(o, "held") == NULL && json_get_count(o, "first") == 0;
}

static void status_differences(struct ctl *c, const struct json *r)
{
	const struct json *d = json_get_obj(r, "differences"),
			  *p = json_get_obj(r, "pending");
	size_t i;
	bool head = false;

	for (i = 0; d && i < d->u.obj.len; i++) {
		const struct json_member *m = &d->u.obj.members[i];

		if (m->val->type != JSON_OBJECT || row_empty(m->val))
			continue;
		if (!head)
			printf("\n%-16s%6s %6s %6s  %s\n", "differences",
			    "create", "update", "delete", "policy");
		head = true;
		diff_row(c, m->key, m->val, pending_of(r, m->key));
	}
	/* counts the daemon sent without details */
	for (i = 0; p && i < p->u.obj.len; i++) {
		const struct json_member *m = &p->u.obj.members[i];

		if (json_get_obj(d, m->key) || m->val->type != JSON_NUMBER ||
		    m->val->u.num == 0)
			continue;
		if (!head)
			printf("\n%-16s%6s %6s %6s  %s\n", "differences",
			    "create", "update", "delete", "policy");
		head = true;
		diff_row(c, m->key, NULL, m->val->u.num);
	}
	if (!head)
		printf("\nno differences\n");
}

/* 0 in sync, 2 differences wait, 1 for the rest (dsyncctl(8), EXIT
 * STATUS). */
int ctl_status_exit(const struct json *r)
{
	const char *s = json_get_str(r, "state");

	if (s == NULL)
		return EXIT_ERR;
	if (strcmp(s, "in-sync") == 0)
		return EXIT_OK;
	if (strcmp(s, "pending") == 0 || strcmp(s, "drifted") == 0 ||
	    strcmp(s, "conflict") == 0)
		return EXIT_DIFF;
	if (strcmp(s, "syncing") == 0 || strcmp(s, "paused") == 0)
		return has_pending(r) ? EXIT_DIFF : EXIT_OK;
	return EXIT_ERR;
}

/* git: the last commit, its push, what waits. */
static void status_git(struct ctl *c, const struct json *r)
{
	const struct json *g = json_get_obj(r, "git");
	const char *sha = json_get_str(g, "last_commit"), *e;
	struct buf b;
	time_t t;

	if (g == NULL || !json_get_true(g, "commit"))
		return;
	buf_init(&b);
	if (sha) {
		buf_adds(&b, "last commit ");
		buf_add(&b, sha, strlen(sha) > 12 ? 12 : strlen(sha));
		buf_addf(&b, " (%.0f change%s",
		    json_get_count(g, "last_commit_changes"),
		    json_get_count(g, "last_commit_changes") == 1 ? "" : "s");
		if (ctl_parse_iso(json_get_str(g, "last_commit_at"), &t)) {
			buf_adds(&b, ", ");
			ctl_add_ago(&b, difftime(c->now, t));
		}
		buf_addc(&b, ')');
	} else
		buf_adds(&b, "no commit yet");
	if ((e = json_get_str(g, "push_error"))) {
		buf_adds(&b, "; ");
		add_coloured(c, &b, C_RED, "git push failed");
		buf_adds(&b, " (retried): ");
		text_add_safe(&b, e);
	} else if (json_get_true(g, "push_pending"))
		buf_adds(&b, "; git push to come");
	else if (sha && json_get_str(g, "push")) {
		buf_adds(&b, "; pushed to ");
		text_add_safe(&b, json_get_str(g, "push"));
	}
	if ((e = json_get_str(g, "waiting"))) {
		buf_adds(&b, "; waiting: ");
		text_add_safe(&b, e);
	}
	put_kv(c, "git", &b);
	buf_clear(&b);
}

/* One collection's seed differences: "authors 1 to update". */
static void add_seed_coll(struct buf *b, const char *name, const struct json *o)
{
	static const char *const keys[] = { "create", "update", "delete" };
	const char *sep = " ";
	size_t k;

	text_add_safe(b, name);
	for (k = 0; k < 3; k++)
		if (json_get_count(o, keys[k]) != 0) {
			buf_addf(b, "%s%.0f to %s", sep,
			    json_get_count(o, keys[k]), keys[k]);
			sep = ", ";
		}
}

/* seed: what differs from the seed files (push only: never written back),
 * and their last push. */
static void status_seed(struct ctl *c, const struct json *r)
{
	const struct json *s = json_get_obj(r, "seed"), *p, *colls, *lp;
	const char *sep = " (";
	struct buf b;
	double n;
	size_t i;

	if (s == NULL)
		return;
	buf_init(&b);
	p = json_get_obj(s, "pending");
	colls = json_get_obj(p, "collections");
	if (p == NULL)
		buf_adds(&b, "not compared yet");
	else if ((n = json_get_count(p, "changes")) == 0)
		add_coloured(c, &b, C_GREEN, "the instance holds the seeds");
	else {
		char t[64];

		snprintf(t, sizeof(t), "%.0f difference%s", n,
		    n == 1 ? "" : "s");
		add_coloured(c, &b, C_YELLOW, t);
		for (i = 0; colls && i < colls->u.obj.len; i++) {
			const struct json *o = colls->u.obj.members[i].val;

			if (json_get_count(o, "create") +
				json_get_count(o, "update") +
				json_get_count(o, "delete") ==
			    0)
				continue;
			buf_adds(&b, sep);
			add_seed_coll(&b, colls->u.obj.members[i].key, o);
			sep = "; ";
		}
		if (sep[0] == ';')
			buf_addc(&b, ')');
	}
	if ((lp = json_get_obj(s, "last_push")) != NULL) {
		buf_adds(&b, "; pushed ");
		add_record_age(c, &b, lp);
		buf_adds(&b, ", ");
		add_result(c, &b, json_get_str(lp, "result"));
		ctl_add_counts(&b, lp);
	}
	put_kv(c, "seed", &b);
	buf_clear(&b);
}

/* notices: what the webhooks got, and the last failure. */
static void status_notices(struct ctl *c, const struct json *r)
{
	struct buf b;

	buf_init(&b);
	if (ctl_add_notices(&b, json_get_obj(r, "notices"), c->now))
		put_kv(c, "notices", &b);
	buf_clear(&b);
}

/* A value in one line, cut to cols. */
static void add_value(struct buf *b, const struct json *v, size_t cols)
{
	char *s = v ? json_write(v, false, NULL) : NULL;

	ctl_add_safe_cut(b, s ? s : "(absent)", cols);
	free(s);
}

/* One side of a conflict: the keys that differ from the other side. */
static void conflict_side(struct ctl *c, const char *label,
    const struct json *mine, const struct json *other, const char *by,
    const char *at)
{
	struct buf b;
	size_t i, w = c->cols > 40 ? c->cols - 24 : 16;
	time_t t;

	buf_init(&b);
	if (mine == NULL || mine->type != JSON_OBJECT || other == NULL ||
	    other->type != JSON_OBJECT)
		add_value(&b, mine, w);
	else
		for (i = 0; i < mine->u.obj.len; i++) {
			const struct json_member *m = &mine->u.obj.members[i];

			if (json_equal(m->val, json_get(other, m->key)))
				continue;
			if (b.len)
				buf_adds(&b, ", ");
			text_add_safe(&b, m->key);
			buf_adds(&b, ": ");
			add_value(&b, m->val, w / 2);
		}
	if (by) {
		buf_adds(&b, "  (");
		text_add_safe(&b, by);
		if (ctl_parse_iso(at, &t)) {
			buf_adds(&b, ", ");
			ctl_add_ago(&b, difftime(c->now, t));
		}
		buf_addc(&b, ')');
	}
	printf("    %-9s %s\n", label, b.data ? b.data : "");
	buf_clear(&b);
}

/* Both sides of each conflict, and how to decide it. */
static void status_conflicts(struct ctl *c, const struct json *r)
{
	const struct json *a = json_get_arr(r, "conflicts");
	size_t i;

	if (a == NULL || a->u.arr.len == 0)
		return;
	printf("\nconflicts: both sides changed; dsyncctl resolve COLLECTION "
	       "SYNCID --keep dump|instance\n");
	for (i = 0; i < a->u.arr.len; i++) {
		const struct json *e = a->u.arr.items[i];
		const char *coll = json_get_str(e, "collection");
		struct buf b;

		buf_init(&b);
		buf_adds(&b, "  ");
		text_add_safe(&b, coll ? coll : "schema");
		buf_addc(&b, ' ');
		text_add_safe(&b,
		    coll ? json_get_str(e, "_syncId") :
			   json_get_str(e, "unit"));
		if (json_get_str(e, "name")) {
			buf_adds(&b, " \"");
			text_add_safe(&b, json_get_str(e, "name"));
			buf_addc(&b, '"');
		}
		puts(b.data);
		buf_clear(&b);
		conflict_side(c, "dump:", json_get_nonnull(e, "dump"),
		    json_get_nonnull(e, "instance"), NULL, NULL);
		conflict_side(c, "instance:", json_get_nonnull(e, "instance"),
		    json_get_nonnull(e, "dump"), json_get_str(e, "by"),
		    json_get_str(e, "at"));
	}
}

/* "two-way: 1 dump-changed, 2 instance-changed" */
static void status_classes(struct ctl *c, const struct json *r)
{
	static const char *const names[] = { "dump-changed", "instance-changed",
		"conflict", "differs" };
	const struct json *k = json_get_obj(r, "classes");
	struct buf b;
	size_t i;

	if (k == NULL)
		return;
	buf_init(&b);
	for (i = 0; i < 4; i++) {
		double n = json_get_count(k, names[i]);

		if (n == 0)
			continue;
		buf_addf(&b, "%s%.0f %s", b.len ? ", " : "", n, names[i]);
	}
	if (!json_get_true(r, "base"))
		buf_addf(&b, "%sno base yet (dsyncctl adopt)",
		    b.len ? "; " : "");
	if (b.len)
		put_kv(c, "two-way", &b);
	buf_clear(&b);
}

int ctl_status_print(struct ctl *c, const struct json *r)
{
	status_head(c, r);
	status_instance(c, r);
	status_policy(c, r);
	status_polls(c, r);
	status_push(c, r);
	status_now(c, r);
	status_error(c, r);
	status_git(c, r);
	status_seed(c, r);
	status_notices(c, r);
	status_classes(c, r);
	status_self(c, r);
	status_differences(c, r);
	status_conflicts(c, r);
	return ctl_status_exit(r);
}
