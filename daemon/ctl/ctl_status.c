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

#define KEY_W 11		/* the status screen's key column */

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
	ctl_add_safe(b, text);
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
		if (col > KEY_W + 2 && col + 1 + ctl_text_cols(s, w) >
		    c->cols) {
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
	const char *state = ctl_jstr(r, "state"), *reason = ctl_jstr(r,
	    "state_reason");
	struct buf b;

	buf_init(&b);
	if (c->colour)
		buf_adds(&b, C_BOLD);
	add_coloured(c, &b, state_colour(state), state ? state : "unknown");
	if (state == NULL && reason == NULL)
		reason = "the daemon's status names no state";
	if (reason) {
		buf_adds(&b, ": ");
		ctl_add_safe(&b, reason);
	}
	puts(b.data);
	buf_clear(&b);
}

static void status_instance(struct ctl *c, const struct json *r)
{
	const struct json *dx = ctl_jobj(r, "directus"), *dump = ctl_jobj(r,
	    "dump"), *unc = ctl_jarr(dump, "uncommitted");
	const char *watch = ctl_jstr(dump, "watch"), *head = ctl_jstr(dump,
	    "head");
	struct buf b;
	size_t i;

	buf_init(&b);
	if (dx) {
		ctl_add_safe(&b, ctl_jstr(dx, "url") ? ctl_jstr(dx, "url") :
		    "?");
		if (ctl_jstr(dx, "version")) {
			buf_adds(&b, " (Directus ");
			ctl_add_safe(&b, ctl_jstr(dx, "version"));
			buf_addc(&b, ')');
		} else
			buf_adds(&b, " (version not known yet)");
		/* Only false says so: a daemon before tls_verify gives none. */
		if (ctl_jget(dx, "tls_verify") &&
		    ctl_jget(dx, "tls_verify")->type == JSON_FALSE)
			buf_adds(&b, ", TLS verification off");
		put_kv(c, "instance", &b);
	}
	if (dump) {
		buf_reset(&b);
		ctl_add_safe(&b, ctl_jstr(dump, "path") ? ctl_jstr(dump,
		    "path") : "?");
		if (watch || head)
			buf_adds(&b, " (");
		if (watch && strcmp(watch, "commits") == 0)
			buf_adds(&b, "watches commits");
		else if (watch && strcmp(watch, "tree") == 0)
			buf_adds(&b, "watches the tree");
		else if (watch) {
			buf_adds(&b, "watch ");
			ctl_add_safe(&b, watch);
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
			ctl_add_safe_cut(&b, json_str(unc->u.arr.items[i]) ?
			    json_str(unc->u.arr.items[i]) : "?", 40);
		}
		if (unc->u.arr.len > 3)
			buf_addf(&b, " and %zu more", unc->u.arr.len - 3);
		put_kv(c, "uncommitted", &b);
	}
	buf_clear(&b);
}

static void status_policy(struct ctl *c, const struct json *r)
{
	const struct json *p = ctl_jobj(r, "policy"), *cs = ctl_jobj(p,
	    "collections");
	struct buf b;
	size_t i;

	if (p == NULL)
		return;
	buf_init(&b);
	buf_adds(&b, "default ");
	ctl_add_safe(&b, ctl_jstr(p, "default") ? ctl_jstr(p, "default") : "?");
	if (ctl_jstr(p, "schema")) {
		buf_adds(&b, ", schema ");
		ctl_add_safe(&b, ctl_jstr(p, "schema"));
	}
	for (i = 0; cs && i < cs->u.obj.len; i++) {
		buf_adds(&b, ", ");
		ctl_add_safe(&b, cs->u.obj.members[i].key);
		buf_addc(&b, ' ');
		ctl_add_safe(&b, json_str(cs->u.obj.members[i].val) ?
		    json_str(cs->u.obj.members[i].val) : "?");
	}
	put_kv(c, "policy", &b);
	buf_clear(&b);
}

/* "12 s ago, " from a record's "age", or from "at". */
static void add_record_age(struct ctl *c, struct buf *b, const struct json *o)
{
	double age;
	time_t t;

	if (ctl_jnum(o, "age", &age))
		ctl_add_ago(b, age);
	else if (ctl_parse_iso(ctl_jstr(o, "at"), &t))
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
	if ((o = ctl_jobj(r, "last_poll"))) {
		add_record_age(c, &b, o);
		buf_adds(&b, ", ");
		add_result(c, &b, ctl_jstr(o, "result"));
		if (ctl_jtrue(o, "moved"))
			buf_adds(&b, ", the instance changed");
		ctl_add_requests(&b, o);
		put_kv(c, "last poll", &b);
	}
	if ((o = ctl_jobj(r, "next_poll")) && ctl_jnum(o, "in", &d)) {
		buf_reset(&b);
		buf_adds(&b, "in ");
		ctl_add_span(&b, d, false);
		put_kv(c, "next poll", &b);
	}
	if ((o = ctl_jobj(r, "last_full_diff"))) {
		buf_reset(&b);
		add_record_age(c, &b, o);
		buf_adds(&b, ", ");
		add_result(c, &b, ctl_jstr(o, "result"));
		if (ctl_jnum(o, "changes", &d))
			buf_addf(&b, ", %.0f change%s", d, d == 1 ? "" : "s");
		ctl_add_requests(&b, o);
		put_kv(c, "full diff", &b);
	}
	buf_clear(&b);
}

static void status_push(struct ctl *c, const struct json *r)
{
	const struct json *o = ctl_jobj(r, "last_push");
	struct buf b;
	double d;

	if (o == NULL)
		return;
	buf_init(&b);
	add_record_age(c, &b, o);
	buf_adds(&b, ", ");
	add_result(c, &b, ctl_jstr(o, "result"));
	ctl_add_counts(&b, o);
	if (ctl_jnum(o, "duration", &d)) {
		buf_adds(&b, ", ");
		ctl_add_span(&b, d, true);
	}
	ctl_add_requests(&b, o);
	if (ctl_jstr(o, "error")) {
		buf_adds(&b, ": ");
		ctl_add_safe(&b, ctl_jstr(o, "error"));
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
	if ((o = ctl_jobj(r, "job"))) {
		ctl_add_safe(&b, ctl_jstr(o, "kind") ? ctl_jstr(o, "kind") :
		    "job");
		if (ctl_jstr(o, "trigger")) {
			buf_adds(&b, " (");
			ctl_add_safe(&b, ctl_jstr(o, "trigger"));
			buf_addc(&b, ')');
		}
		if (ctl_jnum(o, "elapsed", &d)) {
			buf_adds(&b, ", running for ");
			ctl_add_span(&b, d, true);
		}
		if (ctl_jnum(o, "requests", &d))
			buf_addf(&b, ", %.0f request%s so far", d, d == 1 ? "" :
			    "s");
		put_kv(c, "job", &b);
	}
	if (ctl_jstr(r, "queued")) {
		buf_reset(&b);
		ctl_add_safe(&b, ctl_jstr(r, "queued"));
		buf_adds(&b, o ? ", after this job" : "");
		put_kv(c, "queued", &b);
	}
	if ((o = ctl_jobj(r, "paused"))) {
		buf_reset(&b);
		buf_adds(&b, "since ");
		ctl_add_time(&b, ctl_jstr(o, "since"), true);
		if (ctl_parse_iso(ctl_jstr(o, "since"), &t)) {
			buf_adds(&b, " (");
			ctl_add_ago(&b, difftime(c->now, t));
			buf_addc(&b, ')');
		}
		if (ctl_jstr(o, "reason") && *ctl_jstr(o, "reason")) {
			buf_adds(&b, ": ");
			ctl_add_safe(&b, ctl_jstr(o, "reason"));
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
	if ((o = ctl_jobj(r, "last_error"))) {
		add_record_age(c, &b, o);
		buf_adds(&b, ", ");
		add_result(c, &b, ctl_jstr(o, "result") ? ctl_jstr(o,
		    "result") : "failed");
		if (ctl_jstr(o, "message")) {
			buf_adds(&b, ": ");
			ctl_add_safe(&b, ctl_jstr(o, "message"));
		}
		put_kv(c, "last error", &b);
	}
	if ((o = ctl_jobj(r, "next_retry"))) {
		buf_reset(&b);
		if (ctl_jnum(o, "in", &d)) {
			buf_adds(&b, "in ");
			ctl_add_span(&b, d, false);
		} else
			buf_adds(&b, "soon");
		has_a = ctl_jnum(o, "attempt", &a);
		has_ra = ctl_jnum(o, "retry_after", &ra);
		if (has_a && has_ra)
			buf_addf(&b, " (attempt %.0f; Directus asked to wait "
			    "%.0f s: Retry-After)", a, ra);
		else if (has_a)
			buf_addf(&b, " (attempt %.0f)", a);
		else if (has_ra)
			buf_addf(&b, " (Directus asked to wait %.0f s: "
			    "Retry-After)", ra);
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
	if (ctl_jnum(r, "uptime", &d))
		ctl_add_span(&b, d, false);
	else
		buf_adds(&b, "?");
	if (ctl_jstr(r, "version")) {
		buf_adds(&b, " (dsyncd ");
		ctl_add_safe(&b, ctl_jstr(r, "version"));
		paren = true;
	}
	if (ctl_jnum(r, "pid", &d)) {
		buf_addf(&b, "%s %.0f", paren ? ", pid" : " (pid", d);
		paren = true;
	}
	if (paren)
		buf_addc(&b, ')');
	if (paren || ctl_jnum(r, "uptime", &d))
		put_kv(c, "uptime", &b);
	if (ctl_jstr(r, "config")) {
		buf_reset(&b);
		ctl_add_safe(&b, ctl_jstr(r, "config"));
		put_kv(c, "config", &b);
	}
	buf_clear(&b);
}

/* The pending count of a collection, or -1 when the daemon sent none. */
static double pending_of(const struct json *r, const char *name)
{
	double n;

	return ctl_jnum(ctl_jobj(r, "pending"), name, &n) ? n : -1;
}

/* True when "pending" (or, without it, "differences") holds any. */
static bool has_pending(const struct json *r)
{
	const struct json *p = ctl_jobj(r, "pending"), *d = ctl_jobj(r,
	    "differences");
	size_t i;

	if (p) {
		for (i = 0; i < p->u.obj.len; i++) {
			const struct json *v = p->u.obj.members[i].val;

			if (v->type == JSON_NUMBER ? v->u.num != 0 :
			    v->type != JSON_NULL && v->type != JSON_FALSE)
				return true;
		}
		return false;
	}
	for (i = 0; d && i < d->u.obj.len; i++) {
		const struct json *o = d->u.obj.members[i].val;

		if (ctl_jcount(o, "create") + ctl_jcount(o, "update") +
		    ctl_jcount(o, "delete") + ctl_jcount(o, "dangling") +
		    ctl_jcount(o, "changes") != 0)
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
		ctl_add_safe_cut(&b, ctl_jstr(it, "kind") ? ctl_jstr(it,
		    "kind") : "?", 1);
		buf_addc(&b, ' ');
		ctl_add_safe_cut(&b, ctl_jstr(it, "_syncId") ? ctl_jstr(it,
		    "_syncId") : "?", 36);
		if (ctl_jstr(it, "name")) {
			size_t used = ctl_text_cols(b.data, b.len) + 3;

			buf_adds(&b, " \"");
			ctl_add_safe_cut(&b, ctl_jstr(it, "name"), c->cols >
			    used + 8 ? c->cols - used - 1 : 8);
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
	const char *policy = ctl_jstr(o, "policy");
	double shown, total;
	struct buf b;

	buf_init(&b);
	buf_adds(&b, "  ");
	ctl_add_safe_cut(&b, name, 14);
	while (ctl_text_cols(b.data, b.len) < 16)
		buf_addc(&b, ' ');
	if (strcmp(name, "schema") == 0 || ctl_jget(o, "changes")) {
		char n[48];

		total = o ? ctl_jcount(o, "changes") : pending;
		snprintf(n, sizeof(n), "%.0f change%s", total, total == 1 ?
		    "" : "s");
		buf_addf(&b, "%20s", n);
	} else if (o == NULL) {
		total = pending;
		buf_addf(&b, "%20s", "");
	} else {
		total = ctl_jcount(o, "create") + ctl_jcount(o, "update") +
		    ctl_jcount(o, "delete");
		buf_addf(&b, "%6.0f %6.0f %6.0f", ctl_jcount(o, "create"),
		    ctl_jcount(o, "update"), ctl_jcount(o, "delete"));
	}
	buf_addf(&b, "  %-7s", policy ? policy : "");
	if (o && ctl_jcount(o, "dangling") != 0)
		buf_addf(&b, " %.0f dangling", ctl_jcount(o, "dangling"));
	else if (o == NULL && pending >= 0)
		buf_addf(&b, " %.0f pending", pending);
	while (b.len && b.data[b.len - 1] == ' ')
		b.data[--b.len] = '\0';
	puts(b.data);
	if (ctl_jstr(o, "held")) {
		buf_reset(&b);
		buf_adds(&b, "    held: ");
		add_coloured(c, &b, C_YELLOW, ctl_jstr(o, "held"));
		puts(b.data);
	}
	shown = diff_row_first(c, ctl_jarr(o, "first"));
	if (total > shown && shown > 0)
		printf("    and %.0f more\n", total - shown);
	buf_clear(&b);
}

/* A collection the daemon lists with nothing in it. */
static bool row_empty(const struct json *o)
{
	return ctl_jcount(o, "create") + ctl_jcount(o, "update") +
	    ctl_jcount(o, "delete") + ctl_jcount(o, "dangling") +
	    ctl_jcount(o, "changes") == 0 && ctl_jstr(o, "held") == NULL &&
	    ctl_jcount(o, "first") == 0;
}

static void status_differences(struct ctl *c, const struct json *r)
{
	const struct json *d = ctl_jobj(r, "differences"), *p = ctl_jobj(r,
	    "pending");
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

		if (ctl_jobj(d, m->key) || m->val->type != JSON_NUMBER ||
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
	const char *s = ctl_jstr(r, "state");

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
	const struct json *g = ctl_jobj(r, "git");
	const char *sha = ctl_jstr(g, "last_commit"), *e;
	struct buf b;
	time_t t;

	if (g == NULL || !ctl_jtrue(g, "commit"))
		return;
	buf_init(&b);
	if (sha) {
		buf_adds(&b, "last commit ");
		buf_add(&b, sha, strlen(sha) > 12 ? 12 : strlen(sha));
		buf_addf(&b, " (%.0f change%s", ctl_jcount(g,
		    "last_commit_changes"), ctl_jcount(g,
		    "last_commit_changes") == 1 ? "" : "s");
		if (ctl_parse_iso(ctl_jstr(g, "last_commit_at"), &t)) {
			buf_adds(&b, ", ");
			ctl_add_ago(&b, difftime(c->now, t));
		}
		buf_addc(&b, ')');
	} else
		buf_adds(&b, "no commit yet");
	if ((e = ctl_jstr(g, "push_error"))) {
		buf_adds(&b, "; ");
		add_coloured(c, &b, C_RED, "git push failed");
		buf_adds(&b, " (retried): ");
		ctl_add_safe(&b, e);
	} else if (ctl_jtrue(g, "push_pending"))
		buf_adds(&b, "; git push to come");
	else if (sha && ctl_jstr(g, "push")) {
		buf_adds(&b, "; pushed to ");
		ctl_add_safe(&b, ctl_jstr(g, "push"));
	}
	if ((e = ctl_jstr(g, "waiting"))) {
		buf_adds(&b, "; waiting: ");
		ctl_add_safe(&b, e);
	}
	put_kv(c, "git", &b);
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
			ctl_add_safe(&b, m->key);
			buf_adds(&b, ": ");
			add_value(&b, m->val, w / 2);
		}
	if (by) {
		buf_adds(&b, "  (");
		ctl_add_safe(&b, by);
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
	const struct json *a = ctl_jarr(r, "conflicts");
	size_t i;

	if (a == NULL || a->u.arr.len == 0)
		return;
	printf("\nconflicts: both sides changed; dsyncctl resolve COLLECTION "
	    "SYNCID --keep dump|instance\n");
	for (i = 0; i < a->u.arr.len; i++) {
		const struct json *e = a->u.arr.items[i];
		const char *coll = ctl_jstr(e, "collection");
		struct buf b;

		buf_init(&b);
		buf_adds(&b, "  ");
		ctl_add_safe(&b, coll ? coll : "schema");
		buf_addc(&b, ' ');
		ctl_add_safe(&b, coll ? ctl_jstr(e, "_syncId") : ctl_jstr(e,
		    "unit"));
		if (ctl_jstr(e, "name")) {
			buf_adds(&b, " \"");
			ctl_add_safe(&b, ctl_jstr(e, "name"));
			buf_addc(&b, '"');
		}
		puts(b.data);
		buf_clear(&b);
		conflict_side(c, "dump:", ctl_jget(e, "dump"), ctl_jget(e,
		    "instance"), NULL, NULL);
		conflict_side(c, "instance:", ctl_jget(e, "instance"),
		    ctl_jget(e, "dump"), ctl_jstr(e, "by"), ctl_jstr(e, "at"));
	}
}

/* "two-way: 1 dump-changed, 2 instance-changed" */
static void status_classes(struct ctl *c, const struct json *r)
{
	static const char *const names[] = { "dump-changed",
	    "instance-changed", "conflict", "differs" };
	const struct json *k = ctl_jobj(r, "classes");
	struct buf b;
	size_t i;

	if (k == NULL)
		return;
	buf_init(&b);
	for (i = 0; i < 4; i++) {
		double n = ctl_jcount(k, names[i]);

		if (n == 0)
			continue;
		buf_addf(&b, "%s%.0f %s", b.len ? ", " : "", n, names[i]);
	}
	if (!ctl_jtrue(r, "base"))
		buf_addf(&b, "%sno base yet (dsyncctl adopt)", b.len ? "; " :
		    "");
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
	status_classes(c, r);
	status_self(c, r);
	status_differences(c, r);
	status_conflicts(c, r);
	return ctl_status_exit(r);
}
