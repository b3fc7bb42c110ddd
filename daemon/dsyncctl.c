/*
 * dsyncctl: the control client. argv → the command table (proto_cmds) →
 * one request line on the daemon's socket → one reply line → printed for
 * people (or as JSON with --json) → an exit status scripts can test.
 * It reads replies leniently: any member may be missing or null.
 */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "buf.h"
#include "json.h"
#include "proto.h"
#include "xmalloc.h"

#define CTL_SOCKET "/run/dsyncd/control.sock"
#define CTL_RUNDIR "/run/dsyncd"
#define CTL_TIMEOUT 30.0	/* seconds, for commands that do not wait */
#define CTL_HISTORY 20		/* history -n default */
#define KEY_W 11		/* the status screen's key column */

enum { EXIT_OK = 0, EXIT_ERR = 1, EXIT_DIFF = 2 };

struct ctl {
	const char *socket;
	const char *cmd;
	bool json;
	bool pretty_diff;	/* diff -p: the values too */
	double timeout;		/* seconds; 0: wait as long as it takes */
	bool timeout_set;
	long history_n;
	char *reason;		/* pause */
	bool tty, colour;
	size_t cols;		/* the terminal's width, 80 when not one */
	time_t now;
};

/* --- small readers of a lenient tree --- */

static const struct json *jget(const struct json *o, const char *key)
{
	const struct json *v = json_get(o, key);

	return v && v->type != JSON_NULL ? v : NULL;
}

static const struct json *jobj(const struct json *o, const char *key)
{
	const struct json *v = json_get(o, key);

	return v && v->type == JSON_OBJECT ? v : NULL;
}

static const struct json *jarr(const struct json *o, const char *key)
{
	const struct json *v = json_get(o, key);

	return v && v->type == JSON_ARRAY ? v : NULL;
}

static const char *jstr(const struct json *o, const char *key)
{
	return json_str(json_get(o, key));
}

static bool jnum(const struct json *o, const char *key, double *d)
{
	const struct json *v = json_get(o, key);

	if (v == NULL || v->type != JSON_NUMBER)
		return false;
	*d = v->u.num;
	return true;
}

/* A count: a number, else the length of an array, else 0. */
static double jcount(const struct json *o, const char *key)
{
	const struct json *v = json_get(o, key);

	if (v && v->type == JSON_NUMBER)
		return v->u.num;
	if (v && v->type == JSON_ARRAY)
		return (double)v->u.arr.len;
	return 0;
}

static bool jtrue(const struct json *o, const char *key)
{
	const struct json *v = json_get(o, key);

	return v && v->type == JSON_TRUE;
}

/* --- text --- */

/* s with control characters (C0, DEL, the C1 range in UTF-8) as \xNN or
 * \u00NN and backslashes doubled, as dsyncd diff shows names: text from
 * the instance never moves the cursor or recolours the screen. */
static void add_safe(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			buf_addf(b, "\\x%02x", *p);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			buf_addf(b, "\\u%04x", p[1]);
			p++;
		} else if (*p == '\\')
			buf_adds(b, "\\\\");
		else
			buf_addc(b, (char)*p);
	}
}

static void put_safe(FILE *f, const char *s)
{
	struct buf b;

	buf_init(&b);
	add_safe(&b, s);
	fputs(b.data ? b.data : "", f);
	buf_clear(&b);
}

/* Columns of a text escaped by add_safe: its code points, less our own
 * colour sequences (ESC [ ... m: the only raw ESC it can hold). */
static size_t text_cols(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\033') {
			while (i < len && s[i] != 'm')
				i++;
			continue;
		}
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	}
	return n;
}

/* The first bytes of s that fill at most cols columns. */
static size_t text_prefix(const char *s, size_t cols)
{
	size_t i, n = 0;

	for (i = 0; s[i]; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80 && n++ == cols)
			break;
	return i;
}

/* s escaped and cut to cols columns ("..." at the end when cut). */
static void add_safe_cut(struct buf *b, const char *s, size_t cols)
{
	struct buf t;

	buf_init(&t);
	add_safe(&t, s);
	if (t.len && text_cols(t.data, t.len) > cols && cols > 3) {
		buf_add(b, t.data, text_prefix(t.data, cols - 3));
		buf_adds(b, "...");
	} else if (t.len)
		buf_add(b, t.data, t.len);
	buf_clear(&t);
}

/* A time span for people. A duration (tenths): "0.04 s", "1.4 s", "12 s",
 * "3 min 4 s", "25 min", "2 h 5 min", "3 d 4 h"; an age or a delay
 * (!tenths) drops what nobody reads: "12 s", "3 min", "2 h 5 min". */
static void add_span(struct buf *b, double s, bool tenths)
{
	long n;

	if (!(s >= 0))
		s = 0;
	if (tenths && s < 0.995) {
		char t[16];
		size_t tl;

		snprintf(t, sizeof(t), "%.2f", s);
		tl = strlen(t);
		if (t[tl - 1] == '0')	/* 0.80 → 0.8 */
			t[tl - 1] = '\0';
		buf_addf(b, "%s s", t);
		return;
	}
	if (tenths && s < 9.95) {
		buf_addf(b, "%.1f s", s);
		return;
	}
	if (s > 1e9) {
		buf_adds(b, "a very long time");
		return;
	}
	n = (long)(s + 0.5);
	if (n < 90)
		buf_addf(b, "%ld s", n);
	else if (tenths && n < 600)
		buf_addf(b, "%ld min %ld s", n / 60, n % 60);
	else if (n < 90 * 60)
		buf_addf(b, "%ld min", (n + 30) / 60);
	else if (n < 48 * 3600)
		buf_addf(b, "%ld h %ld min", n / 3600, n % 3600 / 60);
	else
		buf_addf(b, "%ld d %ld h", n / 86400, n % 86400 / 3600);
}

static void add_ago(struct buf *b, double s)
{
	if (s < 1) {
		buf_adds(b, "just now");
		return;
	}
	add_span(b, s, false);
	buf_adds(b, " ago");
}

/* "2026-12-01T10:00:03.123Z" or with an offset, to a time_t. */
static bool parse_iso(const char *s, time_t *t)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0;
	const char *p;
	long off = 0;

	if (s == NULL || sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &y, &mo,
	    &d, &h, &mi, &sec, &n) != 6 || n == 0)
		return false;
	p = s + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == '+' || *p == '-') {
		if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2 &&
		    sscanf(p + 1, "%2d%2d", &oh, &om) != 2)
			return false;
		off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
	} else if (*p != 'Z' && *p != 'z' && *p != '\0')
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*t = timegm(&tm) - off;
	return true;
}

/* A timestamp in local time, with its year or not, or as sent when it
 * does not read. */
static void add_time(struct buf *b, const char *iso, bool year)
{
	char s[64];
	struct tm tm;
	time_t t;

	if (parse_iso(iso, &t) && localtime_r(&t, &tm) &&
	    (year ? strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S", &tm) :
	    strftime(s, sizeof(s), "%m-%d %H:%M:%S", &tm)) > 0)
		buf_adds(b, s);
	else
		add_safe_cut(b, iso ? iso : "?", 25);
}

/* --- colour --- */

#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_BOLD "\033[1m"
#define C_OFF "\033[0m"

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
	add_safe(b, text);
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
	if (!c->tty || col + text_cols(s, strlen(s)) <= c->cols) {
		printf("%s\n", s);
		return;
	}
	while (*s) {
		sp = strchr(s, ' ');
		w = sp ? (size_t)(sp - s) : strlen(s);
		if (col > KEY_W + 2 && col + 1 + text_cols(s, w) > c->cols) {
			printf("\n%*s", KEY_W + 2, "");
			col = KEY_W + 2;
		} else if (col > KEY_W + 2) {
			putchar(' ');
			col++;
		}
		fwrite(s, 1, w, stdout);
		col += text_cols(s, w);
		s += w;
		while (*s == ' ')
			s++;
	}
	putchar('\n');
}

static void status_head(struct ctl *c, const struct json *r)
{
	const char *state = jstr(r, "state"), *reason = jstr(r,
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
		add_safe(&b, reason);
	}
	puts(b.data);
	buf_clear(&b);
}

static void status_instance(struct ctl *c, const struct json *r)
{
	const struct json *dx = jobj(r, "directus"), *dump = jobj(r, "dump"),
	    *unc = jarr(dump, "uncommitted");
	const char *watch = jstr(dump, "watch"), *head = jstr(dump, "head");
	struct buf b;
	size_t i;

	buf_init(&b);
	if (dx) {
		add_safe(&b, jstr(dx, "url") ? jstr(dx, "url") : "?");
		if (jstr(dx, "version")) {
			buf_adds(&b, " (Directus ");
			add_safe(&b, jstr(dx, "version"));
			buf_addc(&b, ')');
		} else
			buf_adds(&b, " (version not known yet)");
		put_kv(c, "instance", &b);
	}
	if (dump) {
		buf_reset(&b);
		add_safe(&b, jstr(dump, "path") ? jstr(dump, "path") : "?");
		if (watch || head)
			buf_adds(&b, " (");
		if (watch && strcmp(watch, "commits") == 0)
			buf_adds(&b, "watches commits");
		else if (watch && strcmp(watch, "tree") == 0)
			buf_adds(&b, "watches the tree");
		else if (watch) {
			buf_adds(&b, "watch ");
			add_safe(&b, watch);
		}
		if (head) {
			buf_adds(&b, watch ? ", head " : "head ");
			add_safe_cut(&b, head, 12);
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
			add_safe_cut(&b, json_str(unc->u.arr.items[i]) ?
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
	const struct json *p = jobj(r, "policy"), *cs = jobj(p,
	    "collections");
	struct buf b;
	size_t i;

	if (p == NULL)
		return;
	buf_init(&b);
	buf_adds(&b, "default ");
	add_safe(&b, jstr(p, "default") ? jstr(p, "default") : "?");
	if (jstr(p, "schema")) {
		buf_adds(&b, ", schema ");
		add_safe(&b, jstr(p, "schema"));
	}
	for (i = 0; cs && i < cs->u.obj.len; i++) {
		buf_adds(&b, ", ");
		add_safe(&b, cs->u.obj.members[i].key);
		buf_addc(&b, ' ');
		add_safe(&b, json_str(cs->u.obj.members[i].val) ?
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

	if (jnum(o, "age", &age))
		add_ago(b, age);
	else if (parse_iso(jstr(o, "at"), &t))
		add_ago(b, difftime(c->now, t));
	else
		buf_adds(b, "at an unknown time");
}

/* ", 12 requests" */
static void add_requests(struct buf *b, const struct json *o)
{
	double n;

	if (jnum(o, "requests", &n))
		buf_addf(b, ", %.0f request%s", n, n == 1 ? "" : "s");
}

static void add_counts(struct buf *b, const struct json *o)
{
	static const char *const keys[] = { "created", "updated", "deleted" };
	double n;
	size_t i;
	bool any = false;

	for (i = 0; i < 3; i++)
		if (jnum(o, keys[i], &n) && n != 0) {
			buf_addf(b, "%s%.0f %s", any ? ", " : ": ", n, keys[i]);
			any = true;
		}
	if (!any && jget(o, "created"))
		buf_adds(b, ": nothing to change");
}

static void status_polls(struct ctl *c, const struct json *r)
{
	const struct json *o;
	struct buf b;
	double d;

	buf_init(&b);
	if ((o = jobj(r, "last_poll"))) {
		add_record_age(c, &b, o);
		buf_adds(&b, ", ");
		add_result(c, &b, jstr(o, "result"));
		if (jtrue(o, "moved"))
			buf_adds(&b, ", the instance changed");
		add_requests(&b, o);
		put_kv(c, "last poll", &b);
	}
	if ((o = jobj(r, "next_poll")) && jnum(o, "in", &d)) {
		buf_reset(&b);
		buf_adds(&b, "in ");
		add_span(&b, d, false);
		put_kv(c, "next poll", &b);
	}
	if ((o = jobj(r, "last_full_diff"))) {
		buf_reset(&b);
		add_record_age(c, &b, o);
		buf_adds(&b, ", ");
		add_result(c, &b, jstr(o, "result"));
		if (jnum(o, "changes", &d))
			buf_addf(&b, ", %.0f change%s", d, d == 1 ? "" : "s");
		add_requests(&b, o);
		put_kv(c, "full diff", &b);
	}
	buf_clear(&b);
}

static void status_push(struct ctl *c, const struct json *r)
{
	const struct json *o = jobj(r, "last_push");
	struct buf b;
	double d;

	if (o == NULL)
		return;
	buf_init(&b);
	add_record_age(c, &b, o);
	buf_adds(&b, ", ");
	add_result(c, &b, jstr(o, "result"));
	add_counts(&b, o);
	if (jnum(o, "duration", &d)) {
		buf_adds(&b, ", ");
		add_span(&b, d, true);
	}
	add_requests(&b, o);
	if (jstr(o, "error")) {
		buf_adds(&b, ": ");
		add_safe(&b, jstr(o, "error"));
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
	if ((o = jobj(r, "job"))) {
		add_safe(&b, jstr(o, "kind") ? jstr(o, "kind") : "job");
		if (jstr(o, "trigger")) {
			buf_adds(&b, " (");
			add_safe(&b, jstr(o, "trigger"));
			buf_addc(&b, ')');
		}
		if (jnum(o, "elapsed", &d)) {
			buf_adds(&b, ", running for ");
			add_span(&b, d, true);
		}
		if (jnum(o, "requests", &d))
			buf_addf(&b, ", %.0f request%s so far", d, d == 1 ? "" :
			    "s");
		put_kv(c, "job", &b);
	}
	if (jstr(r, "queued")) {
		buf_reset(&b);
		add_safe(&b, jstr(r, "queued"));
		buf_adds(&b, o ? ", after this job" : "");
		put_kv(c, "queued", &b);
	}
	if ((o = jobj(r, "paused"))) {
		buf_reset(&b);
		buf_adds(&b, "since ");
		add_time(&b, jstr(o, "since"), true);
		if (parse_iso(jstr(o, "since"), &t)) {
			buf_adds(&b, " (");
			add_ago(&b, difftime(c->now, t));
			buf_addc(&b, ')');
		}
		if (jstr(o, "reason") && *jstr(o, "reason")) {
			buf_adds(&b, ": ");
			add_safe(&b, jstr(o, "reason"));
		}
		put_kv(c, "paused", &b);
	}
	buf_clear(&b);
}

static void status_error(struct ctl *c, const struct json *r)
{
	const struct json *o;
	struct buf b;
	double d;

	buf_init(&b);
	if ((o = jobj(r, "last_error"))) {
		add_record_age(c, &b, o);
		buf_adds(&b, ", ");
		add_result(c, &b, jstr(o, "result") ? jstr(o, "result") :
		    "failed");
		if (jstr(o, "message")) {
			buf_adds(&b, ": ");
			add_safe(&b, jstr(o, "message"));
		}
		put_kv(c, "last error", &b);
	}
	if ((o = jobj(r, "next_retry"))) {
		buf_reset(&b);
		if (jnum(o, "in", &d)) {
			buf_adds(&b, "in ");
			add_span(&b, d, false);
		} else
			buf_adds(&b, "soon");
		if (jnum(o, "attempt", &d))
			buf_addf(&b, " (attempt %.0f)", d);
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
	if (jnum(r, "uptime", &d))
		add_span(&b, d, false);
	else
		buf_adds(&b, "?");
	if (jstr(r, "version")) {
		buf_adds(&b, " (dsyncd ");
		add_safe(&b, jstr(r, "version"));
		paren = true;
	}
	if (jnum(r, "pid", &d)) {
		buf_addf(&b, "%s %.0f", paren ? ", pid" : " (pid", d);
		paren = true;
	}
	if (paren)
		buf_addc(&b, ')');
	if (paren || jnum(r, "uptime", &d))
		put_kv(c, "uptime", &b);
	if (jstr(r, "config")) {
		buf_reset(&b);
		add_safe(&b, jstr(r, "config"));
		put_kv(c, "config", &b);
	}
	buf_clear(&b);
}

/* The pending count of a collection, or -1 when the daemon sent none. */
static double pending_of(const struct json *r, const char *name)
{
	double n;

	return jnum(jobj(r, "pending"), name, &n) ? n : -1;
}

/* True when "pending" (or, without it, "differences") holds any. */
static bool has_pending(const struct json *r)
{
	const struct json *p = jobj(r, "pending"), *d = jobj(r,
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

		if (jcount(o, "create") + jcount(o, "update") +
		    jcount(o, "delete") + jcount(o, "dangling") +
		    jcount(o, "changes") != 0)
			return true;
	}
	return false;
}

/* One collection of the differences: a row, the held reason, the first
 * items. */
static void diff_row(struct ctl *c, const char *name, const struct json *o,
    double pending)
{
	const struct json *first = jarr(o, "first");
	const char *policy = jstr(o, "policy");
	double shown = 0, total;
	struct buf b;
	size_t i;

	buf_init(&b);
	buf_adds(&b, "  ");
	add_safe_cut(&b, name, 14);
	while (text_cols(b.data, b.len) < 16)
		buf_addc(&b, ' ');
	if (strcmp(name, "schema") == 0 || jget(o, "changes")) {
		char n[48];

		total = o ? jcount(o, "changes") : pending;
		snprintf(n, sizeof(n), "%.0f change%s", total, total == 1 ?
		    "" : "s");
		buf_addf(&b, "%20s", n);
	} else if (o == NULL) {
		total = pending;
		buf_addf(&b, "%20s", "");
	} else {
		total = jcount(o, "create") + jcount(o, "update") +
		    jcount(o, "delete");
		buf_addf(&b, "%6.0f %6.0f %6.0f", jcount(o, "create"),
		    jcount(o, "update"), jcount(o, "delete"));
	}
	buf_addf(&b, "  %-7s", policy ? policy : "");
	if (o && jcount(o, "dangling") != 0)
		buf_addf(&b, " %.0f dangling", jcount(o, "dangling"));
	else if (o == NULL && pending >= 0)
		buf_addf(&b, " %.0f pending", pending);
	while (b.len && b.data[b.len - 1] == ' ')
		b.data[--b.len] = '\0';
	puts(b.data);
	if (jstr(o, "held")) {
		buf_reset(&b);
		buf_adds(&b, "    held: ");
		add_coloured(c, &b, C_YELLOW, jstr(o, "held"));
		puts(b.data);
	}
	for (i = 0; first && i < first->u.arr.len; i++, shown++) {
		const struct json *it = first->u.arr.items[i];

		buf_reset(&b);
		buf_adds(&b, "    ");
		if (it->type == JSON_STRING) {
			add_safe_cut(&b, it->u.str.ptr, c->cols - 5);
			puts(b.data);
			continue;
		}
		add_safe_cut(&b, jstr(it, "kind") ? jstr(it, "kind") : "?", 1);
		buf_addc(&b, ' ');
		add_safe_cut(&b, jstr(it, "_syncId") ? jstr(it, "_syncId") :
		    "?", 36);
		if (jstr(it, "name")) {
			size_t used = text_cols(b.data, b.len) + 3;

			buf_adds(&b, " \"");
			add_safe_cut(&b, jstr(it, "name"), c->cols > used + 8 ?
			    c->cols - used - 1 : 8);
			buf_addc(&b, '"');
		}
		puts(b.data);
	}
	if (total > shown && shown > 0)
		printf("    and %.0f more\n", total - shown);
	buf_clear(&b);
}

/* A collection the daemon lists with nothing in it. */
static bool row_empty(const struct json *o)
{
	return jcount(o, "create") + jcount(o, "update") + jcount(o,
	    "delete") + jcount(o, "dangling") + jcount(o, "changes") == 0 &&
	    jstr(o, "held") == NULL && jcount(o, "first") == 0;
}

static void status_differences(struct ctl *c, const struct json *r)
{
	const struct json *d = jobj(r, "differences"), *p = jobj(r,
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

		if (jobj(d, m->key) || m->val->type != JSON_NUMBER ||
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

static int status_exit(const struct json *r)
{
	const char *s = jstr(r, "state");

	if (s == NULL)
		return EXIT_ERR;
	if (strcmp(s, "in-sync") == 0)
		return EXIT_OK;
	if (strcmp(s, "pending") == 0 || strcmp(s, "drifted") == 0)
		return EXIT_DIFF;
	if (strcmp(s, "syncing") == 0 || strcmp(s, "paused") == 0)
		return has_pending(r) ? EXIT_DIFF : EXIT_OK;
	return EXIT_ERR;
}

static int print_status(struct ctl *c, const struct json *r)
{
	status_head(c, r);
	status_instance(c, r);
	status_policy(c, r);
	status_polls(c, r);
	status_push(c, r);
	status_now(c, r);
	status_error(c, r);
	status_self(c, r);
	status_differences(c, r);
	return status_exit(r);
}

/* --- diff: the lines of dsyncd diff (daemon/report.c), from the JSON --- */

static const char *schema_verb(const struct json *e)
{
	const struct json *recs = jarr(e, "diff");

	if (recs && recs->u.arr.len == 1 &&
	    json_get(recs->u.arr.items[0], "path") == NULL) {
		const char *k = jstr(recs->u.arr.items[0], "kind");

		if (k && k[0] == 'N')
			return "create";
		if (k && k[0] == 'D')
			return "delete";
	}
	return "update";
}

static const char *kind_word(const struct json *rec)
{
	const char *k = jstr(rec, "kind");

	if (k == NULL)
		return "Change";
	switch (k[0]) {
	case 'N':
		return "Add";
	case 'D':
		return "Remove";
	case 'A':
		return "Change in array";
	default:
		return "Set";
	}
}

/* A value on one line, cut at 120 characters. */
static void put_value(const struct json *v)
{
	size_t len;
	char *s = json_write(v, false, &len);

	if (len > 120)
		printf("%.117s...", s);
	else
		fputs(s, stdout);
	free(s);
}

static void schema_entry(const char *what, const struct json *e,
    bool detail)
{
	const char *verb = schema_verb(e), *coll = jstr(e, "collection"),
	    *field = jstr(e, "field"), *rel = jstr(e, "related_collection");
	const struct json *recs = jarr(e, "diff"), *path;
	char *name;
	size_t i, k;

	xasprintf(&name, "%s%s%s%s%s", coll ? coll : "?", field ? "." : "",
	    field ? field : "", rel ? " -> " : "", rel ? rel : "");
	printf("  %c%s %s ", verb[0] - 'a' + 'A', verb + 1, what);
	put_safe(stdout, name);
	putchar('\n');
	free(name);
	if (!detail || strcmp(verb, "update") != 0 || recs == NULL)
		return;
	for (i = 0; i < recs->u.arr.len; i++) {
		const struct json *rec = recs->u.arr.items[i];

		printf("      %s ", kind_word(rec));
		path = jarr(rec, "path");
		for (k = 0; path && k < path->u.arr.len; k++) {
			char *s = json_scalar_string(path->u.arr.items[k]);

			if (k)
				putchar('.');
			put_safe(stdout, s ? s : "?");
			free(s);
		}
		if (json_get(rec, "rhs")) {
			fputs(" = ", stdout);
			put_value(json_get(rec, "rhs"));
		}
		putchar('\n');
	}
}

/* The name of an item as plan_label gives it (daemon/sync/plan.c). */
static char *item_label(const char *coll, const struct json *item)
{
	const char *name = jstr(item, "name");
	char *s;

	if (strcmp(coll, "permissions") == 0) {
		xasprintf(&s, "%s %s", jstr(item, "collection") ?
		    jstr(item, "collection") : "?", jstr(item, "action") ?
		    jstr(item, "action") : "?");
		return s;
	}
	if (strcmp(coll, "translations") == 0) {
		xasprintf(&s, "%s (%s)", jstr(item, "key") ? jstr(item, "key") :
		    "?", jstr(item, "language") ? jstr(item, "language") : "?");
		return s;
	}
	if (strcmp(coll, "operations") == 0 && jstr(item, "key"))
		return xstrdup(jstr(item, "key"));
	if (strcmp(coll, "presets") == 0 && jstr(item, "collection") &&
	    name == NULL)
		return xstrdup(jstr(item, "collection"));
	if (strcmp(coll, "settings") == 0)
		return xstrdup("settings");
	return name ? xstrdup(name) : NULL;
}

/* An item's name: its own "name" member when the daemon sends one, its
 * item, else the summary's first items (updates carry no item). */
static char *change_label(const char *coll, const struct json *ch,
    const struct json *summary)
{
	const struct json *first = jarr(jobj(jobj(summary, "collections"),
	    coll), "first");
	const char *sid = jstr(ch, "_syncId");
	size_t i;

	if (jstr(ch, "name"))
		return xstrdup(jstr(ch, "name"));
	if (jobj(ch, "item") || strcmp(coll, "settings") == 0)
		return item_label(coll, jobj(ch, "item"));
	for (i = 0; sid && first && i < first->u.arr.len; i++) {
		const struct json *it = first->u.arr.items[i];

		if (jstr(it, "_syncId") && strcmp(jstr(it, "_syncId"), sid) ==
		    0 && jstr(it, "name"))
			return xstrdup(jstr(it, "name"));
	}
	return NULL;
}

static void change_line(const char *coll, const struct json *ch, char sign,
    const char *verb, bool detail, const struct json *summary)
{
	const struct json *diff = jobj(ch, "changes");
	char *label = change_label(coll, ch, summary);
	size_t i;

	printf("  %c %-6s %s ", sign, verb, coll);
	put_safe(stdout, jstr(ch, "_syncId") ? jstr(ch, "_syncId") : "?");
	if (label) {
		fputs(" \"", stdout);
		put_safe(stdout, label);
		putchar('"');
	}
	if (jstr(ch, "id")) {
		fputs(" (id ", stdout);
		put_safe(stdout, jstr(ch, "id"));
		putchar(')');
	}
	free(label);
	if (diff && !detail) {
		fputs(": ", stdout);
		for (i = 0; i < diff->u.obj.len; i++) {
			if (i)
				fputs(", ", stdout);
			put_safe(stdout, diff->u.obj.members[i].key);
		}
	}
	putchar('\n');
	for (i = 0; diff && detail && i < diff->u.obj.len; i++) {
		fputs("      ", stdout);
		put_safe(stdout, diff->u.obj.members[i].key);
		fputs(" = ", stdout);
		put_value(diff->u.obj.members[i].val);
		putchar('\n');
	}
}

static void diff_collection(const char *name, const struct json *o,
    bool detail, const struct json *summary)
{
	static const char *const keys[] = { "create", "update", "delete" };
	static const char signs[] = "+~-";
	const struct json *a;
	double unchanged = 0;
	size_t i, k;

	jnum(o, "unchanged", &unchanged);
	printf("%s: %.0f to create, %.0f to update, %.0f to delete, %.0f "
	    "unchanged", name, jcount(o, "create"), jcount(o, "update"),
	    jcount(o, "delete"), unchanged);
	if (jcount(o, "dangling") != 0)
		printf(", %.0f dangling map row(s)", jcount(o, "dangling"));
	putchar('\n');
	for (k = 0; k < 3; k++)
		for (i = 0; (a = jarr(o, keys[k])) && i < a->u.arr.len; i++)
			change_line(name, a->u.arr.items[i], signs[k], keys[k],
			    detail, summary);
}

/* The plan's "changes", the summary's, or what the plan lists. */
static double plan_changes(const struct json *plan,
    const struct json *summary)
{
	const struct json *colls = jobj(plan, "collections");
	double n = 0;
	size_t i;

	if (jnum(plan, "changes", &n) || jnum(summary, "changes", &n))
		return n;
	n = jcount(jobj(plan, "schema"), "changes");
	for (i = 0; colls && i < colls->u.obj.len; i++) {
		const struct json *o = colls->u.obj.members[i].val;

		n += jcount(o, "create") + jcount(o, "update") +
		    jcount(o, "delete");
	}
	return n;
}

static int print_plan(const struct json *plan, bool detail,
    const struct json *summary)
{
	static const char *const parts[] = { "collections", "fields",
	    "relations" };
	static const char *const what[] = { "collection", "field",
	    "relation" };
	const struct json *schema = jobj(plan, "schema"), *sd = jobj(schema,
	    "diff"), *colls = jobj(plan, "collections"), *a;
	double changes = 0;
	size_t i, k;

	if (schema) {
		if (sd == NULL)
			puts("schema: no changes");
		else
			printf("schema: %.0f change(s)\n", jcount(schema,
			    "changes"));
		for (i = 0; sd && i < 3; i++)
			for (k = 0; (a = jarr(sd, parts[i])) && k <
			    a->u.arr.len; k++)
				schema_entry(what[i], a->u.arr.items[k],
				    detail);
	}
	for (i = 0; colls && i < colls->u.obj.len; i++)
		if (colls->u.obj.members[i].val->type == JSON_OBJECT)
			diff_collection(colls->u.obj.members[i].key,
			    colls->u.obj.members[i].val, detail, summary);
	changes = plan_changes(plan, summary);
	if (changes == 0)
		puts("No differences.");
	else
		printf("%.0f difference(s).\n", changes);
	return changes == 0 ? EXIT_OK : EXIT_DIFF;
}

static int diff_exit(const struct json *r)
{
	if (jobj(r, "plan") == NULL && jobj(r, "summary") == NULL)
		return EXIT_ERR;
	return plan_changes(jobj(r, "plan"), jobj(r, "summary")) == 0 ?
	    EXIT_OK : EXIT_DIFF;
}

static int print_diff(struct ctl *c, const struct json *r)
{
	if (jobj(r, "plan") == NULL && jobj(r, "summary") == NULL) {
		fprintf(stderr, "dsyncctl: diff: the reply holds no plan\n");
		return EXIT_ERR;
	}
	return print_plan(jobj(r, "plan"), c->pretty_diff, jobj(r,
	    "summary"));
}

/* --- history and jobs --- */

struct col {
	const char *head;
	bool left;
	size_t w;
};

enum { H_ID, H_START, H_KIND, H_TRIGGER, H_TIME, H_REQ, H_CHG, H_RESULT,
    H_N };

/* One job's cells; cells[H_RESULT] holds the result only (not escaped
 * for colour: the table is plain). */
static void history_cells(const struct json *j, struct buf cells[H_N])
{
	double d;
	size_t i;

	for (i = 0; i < H_N; i++)
		buf_init(&cells[i]);
	if (jnum(j, "id", &d))
		buf_addf(&cells[H_ID], "%.0f", d);
	add_time(&cells[H_START], jstr(j, "start"), false);
	add_safe_cut(&cells[H_KIND], jstr(j, "kind") ? jstr(j, "kind") : "?",
	    8);
	add_safe_cut(&cells[H_TRIGGER], jstr(j, "trigger") ? jstr(j,
	    "trigger") : "", 10);
	if (jnum(j, "duration", &d))
		add_span(&cells[H_TIME], d, true);
	if (jnum(j, "requests", &d))
		buf_addf(&cells[H_REQ], "%.0f", d);
	if (jnum(j, "changes", &d))
		buf_addf(&cells[H_CHG], "%.0f", d);
	add_safe_cut(&cells[H_RESULT], jstr(j, "result") ? jstr(j, "result") :
	    "?", 12);
}

static const struct col history_cols[H_N] = {
	{ "id", false, 0 }, { "start", true, 0 }, { "kind", true, 0 },
	{ "trigger", true, 0 }, { "time", false, 0 }, { "req", false, 0 },
	{ "chg", false, 0 }, { "result", true, 0 },
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
		size_t pad = cols[k].w - text_cols(s, strlen(s));

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
	else if (jstr(j, "error"))
		add_safe(&err, jstr(j, "error"));
	if (err.len && used + text_cols(err.data, err.len) <= c->cols)
		buf_add(&line, err.data, err.len);
	while (line.len && line.data[line.len - 1] == ' ')
		line.data[--line.len] = '\0';
	puts(line.data);
	if (j && err.len && used + text_cols(err.data, err.len) > c->cols) {
		buf_reset(&line);
		buf_addf(&line, "%*s", (int)(cols[H_ID].w + 2), "");
		add_safe_cut(&line, jstr(j, "error"), c->cols - cols[H_ID].w -
		    2);
		puts(line.data);
	}
	buf_clear(&err);
	buf_clear(&line);
}

/* The jobs, oldest first, in columns as wide as their widest cell. */
static int print_history(struct ctl *c, const struct json *r)
{
	const struct json *jobs = jarr(r, "jobs"), **rows;
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
			if ((w = text_cols(cells[i][k].data ? cells[i][k].data :
			    "", cells[i][k].len)) > cols[k].w)
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

static int job_exit(const struct json *r)
{
	const char *res = jstr(r, "result");

	return res && strcmp(res, "ok") == 0 ? EXIT_OK : EXIT_ERR;
}

/* "push (job 14): ok: 1 created, 2 updated, 1.2 s, 30 requests" */
static void job_ok(struct ctl *c, const struct json *r)
{
	struct buf b;
	double d;

	buf_init(&b);
	add_safe(&b, jstr(r, "kind") ? jstr(r, "kind") : c->cmd);
	if (jnum(r, "id", &d))
		buf_addf(&b, " (job %.0f)", d);
	buf_adds(&b, ": ok");
	if (jnum(r, "created", &d) || jnum(r, "updated", &d) ||
	    jnum(r, "deleted", &d))
		add_counts(&b, r);
	else if (jnum(r, "changes", &d))
		buf_addf(&b, ", %.0f change%s", d, d == 1 ? "" : "s");
	if (jnum(r, "duration", &d)) {
		buf_adds(&b, ", ");
		add_span(&b, d, true);
	}
	add_requests(&b, r);
	puts(b.data);
	buf_clear(&b);
}

/* "dsyncctl: push: job 14 failed after 0.02 s: GET ...: refused
 * (unreachable)", on stderr. */
static void job_failed(struct ctl *c, const struct json *r)
{
	const char *res = jstr(r, "result"), *err = jstr(r, "error"),
	    *kind = jstr(r, "kind");
	struct buf b;
	double d;

	buf_init(&b);
	buf_adds(&b, "job");
	if (jnum(r, "id", &d))
		buf_addf(&b, " %.0f", d);
	if (kind && strcmp(kind, c->cmd) != 0) {
		buf_adds(&b, " (");
		add_safe(&b, kind);
		buf_addc(&b, ')');
	}
	buf_adds(&b, " failed");
	if (jnum(r, "duration", &d)) {
		buf_adds(&b, " after ");
		add_span(&b, d, true);
	}
	buf_adds(&b, ": ");
	add_safe(&b, err ? err : "no message");
	buf_adds(&b, " (");
	add_safe(&b, res ? res : "no result");
	buf_addc(&b, ')');
	fprintf(stderr, "dsyncctl: %s: %s\n", c->cmd, b.data);
	buf_clear(&b);
}

/* push, pull, sync: the job's history entry on one line; a failed job on
 * stderr, as an error. */
static int print_job(struct ctl *c, const struct json *r)
{
	if (r == NULL || r->type != JSON_OBJECT) {
		fprintf(stderr, "dsyncctl: %s: the reply holds no job\n",
		    c->cmd);
		return EXIT_ERR;
	}
	if (job_exit(r) != EXIT_OK) {
		job_failed(c, r);
		return EXIT_ERR;
	}
	job_ok(c, r);
	return EXIT_OK;
}

/* --- the one-line commands --- */

static int print_pause(struct ctl *c, const struct json *r)
{
	const struct json *p = jobj(r, "paused");
	struct buf b;

	buf_init(&b);
	if (p == NULL)
		buf_adds(&b, "not paused: writes go on");
	else {
		buf_adds(&b, "paused since ");
		add_time(&b, jstr(p, "since"), true);
		if (jstr(p, "reason") && *jstr(p, "reason")) {
			buf_adds(&b, ": ");
			add_safe(&b, jstr(p, "reason"));
		}
		buf_adds(&b, "; polls go on");
	}
	puts(b.data);
	buf_clear(&b);
	return EXIT_OK;
}

static int print_reload(struct ctl *c, const struct json *r)
{
	fputs("reloaded ", stdout);
	put_safe(stdout, jstr(r, "config") ? jstr(r, "config") :
	    "the configuration");
	putchar('\n');
	return EXIT_OK;
}

static int print_version(struct ctl *c, const struct json *r)
{
	double d = 0;

	fputs("dsyncd ", stdout);
	put_safe(stdout, jstr(r, "version") ? jstr(r, "version") : "?");
	if (jnum(r, "protocol", &d))
		printf(", protocol %.0f", d);
	printf(" (dsyncctl %s, protocol %d)\n", DSYNC_VERSION, PROTO_VERSION);
	return EXIT_OK;
}

/* A command this dsyncctl has no printer for (a newer table). */
static int print_other(struct ctl *c, const struct json *r)
{
	char *s = json_write(r, true, NULL);

	puts(s);
	free(s);
	return EXIT_OK;
}

static int exit_zero(const struct json *r)
{
	return EXIT_OK;
}

/* How dsyncctl handles each command of proto_cmds. */
static const struct ctl_cmd {
	const char *name;
	bool waits;		/* for a job: no default timeout */
	int (*print)(struct ctl *, const struct json *);
	int (*exit_of)(const struct json *);
} ctl_cmds[] = {
	{ "status", false, print_status, status_exit },
	{ "diff", false, print_diff, diff_exit },
	{ "history", false, print_history, exit_zero },
	{ "version", false, print_version, exit_zero },
	{ "push", true, print_job, job_exit },
	{ "pull", true, print_job, job_exit },
	{ "sync", true, print_job, job_exit },
	{ "pause", false, print_pause, exit_zero },
	{ "resume", false, print_pause, exit_zero },
	{ "reload", false, print_reload, exit_zero },
};

static const struct ctl_cmd *ctl_find(const char *name)
{
	static const struct ctl_cmd other = { NULL, false, print_other,
	    exit_zero };
	size_t i;

	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		if (strcmp(ctl_cmds[i].name, name) == 0)
			return &ctl_cmds[i];
	return &other;
}

/* --- the socket --- */

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Connected to the daemon, or -1 with the message printed. The send
 * timeout bounds connect() too on a Unix socket (a full backlog). */
static int ctl_connect(const struct ctl *c)
{
	struct sockaddr_un sa;
	int fd, e;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(c->socket) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "dsyncctl: %s: socket path too long (at most "
		    "%zu bytes)\n", c->socket, sizeof(sa.sun_path) - 1);
		return -1;
	}
	strcpy(sa.sun_path, c->socket);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		fprintf(stderr, "dsyncctl: socket: %s\n", strerror(errno));
		return -1;
	}
	if (c->timeout > 0) {
		struct timeval tv;

		tv.tv_sec = (time_t)c->timeout;
		tv.tv_usec = (suseconds_t)((c->timeout - (double)tv.tv_sec) *
		    1e6);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	e = errno;
	if (e == ENOENT || e == ECONNREFUSED)
		fprintf(stderr, "dsyncctl: no daemon answers on %s: %s\n",
		    c->socket, strerror(e));
	else if (e == EAGAIN || e == EWOULDBLOCK || e == EINPROGRESS)
		fprintf(stderr, "dsyncctl: %s: the daemon does not accept the "
		    "connection (waited %g s)\n", c->socket, c->timeout);
	else if (e == EACCES || e == EPERM)
		fprintf(stderr, "dsyncctl: cannot connect to %s: %s (root and "
		    "the members of the socket's group may)\n", c->socket,
		    strerror(e));
	else
		fprintf(stderr, "dsyncctl: cannot connect to %s: %s\n",
		    c->socket, strerror(e));
	close(fd);
	return -1;
}

static int send_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read up to the first newline into b, within the deadline (0: none).
 * Returns 0, or -1 with *errstr. */
static int read_line(const struct ctl *c, int fd, struct buf *b,
    char **errstr)
{
	double deadline = c->timeout > 0 ? now_mono() + c->timeout : 0;
	char chunk[16384], *nl;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int ms, rc;

	for (;;) {
		ms = -1;
		if (deadline) {
			double left = deadline - now_mono();

			if (left <= 0)
				goto timeout;
			ms = left > 3600 ? 3600 * 1000 : (int)(left * 1000) + 1;
		}
		if ((rc = poll(&pfd, 1, ms)) < 0 && errno != EINTR) {
			xasprintf(errstr, "poll: %s", strerror(errno));
			return -1;
		}
		if (rc <= 0)
			continue;
		if ((n = read(fd, chunk, sizeof(chunk))) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			xasprintf(errstr, "reading the reply: %s",
			    strerror(errno));
			return -1;
		}
		if (n == 0) {
			xasprintf(errstr, "the daemon closed the connection %s",
			    b->len ? "in the middle of its reply" :
			    "without a reply");
			return -1;
		}
		if ((nl = memchr(chunk, '\n', (size_t)n)) != NULL)
			n = nl - chunk + 1;
		buf_add(b, chunk, (size_t)n);
		if (b->len > PROTO_MAX_REPLY) {
			xasprintf(errstr, "the reply is over %d bytes",
			    PROTO_MAX_REPLY);
			return -1;
		}
		if (nl)
			return 0;
	}
timeout:
	xasprintf(errstr, "no reply from %s within %g s (--timeout)",
	    c->socket, c->timeout);
	return -1;
}

/* The request's args from the command line. */
static struct json *request_args(const struct ctl *c)
{
	struct json *a = json_new_object();

	if (strcmp(c->cmd, "history") == 0)
		json_set(a, "n", json_new_number((double)c->history_n));
	if (strcmp(c->cmd, "pause") == 0 && c->reason)
		json_set(a, "reason", json_new_string(c->reason));
	return a;
}

/* Send the request, read the reply: 0 with *result, or an exit status
 * with the message printed. */
static int exchange(struct ctl *c, struct json **result)
{
	const long id = 1;
	struct buf b;
	char *line, *err = NULL;
	size_t len;
	long rid;
	bool ok;
	int fd, rc = EXIT_ERR;

	if ((fd = ctl_connect(c)) < 0)
		return EXIT_ERR;
	buf_init(&b);
	line = proto_request_line(id, c->cmd, request_args(c), &len);
	if (send_all(fd, line, len) < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			xasprintf(&err, "sending the request: no room within "
			    "%g s", c->timeout);
		else
			xasprintf(&err, "sending the request: %s",
			    strerror(errno));
		goto fail;
	}
	if (read_line(c, fd, &b, &err) < 0)
		goto fail;
	if (proto_parse_reply(b.data, b.len, &rid, &ok, result, &err) < 0) {
		char *e = err;

		xasprintf(&err, "the daemon's reply is not valid: %s", e);
		free(e);
		goto fail;
	}
	if (rid != id && rid != 0) {
		xasprintf(&err, "a reply to request %ld, not %ld", rid, id);
		json_free(*result);
		*result = NULL;
		goto fail;
	}
	if (!ok) {
		struct buf m;

		buf_init(&m);
		add_safe(&m, jstr(*result, "message") ? jstr(*result,
		    "message") : "refused");
		buf_adds(&m, " (");
		add_safe(&m, jstr(*result, "code"));
		buf_addc(&m, ')');
		fprintf(stderr, "dsyncctl: %s: %s\n", c->cmd, m.data);
		buf_clear(&m);
		json_free(*result);
		*result = NULL;
		goto done;
	}
	rc = EXIT_OK;
	goto done;
fail:
	fprintf(stderr, "dsyncctl: %s: %s\n", c->cmd, err);
done:
	free(err);
	free(line);
	buf_clear(&b);
	close(fd);
	return rc;
}

/* --- argv --- */

static void usage(FILE *f)
{
	size_t i, pass;

	fprintf(f, "Usage: dsyncctl [-s SOCKET | -i NAME] [--json] "
	    "[--timeout SECONDS] COMMAND [ARGS]\n"
	    "       dsyncctl --help | --version\n"
	    "\n"
	    "Ask the running dsyncd how things stand, or tell it what to "
	    "do.\n");
	for (pass = 0; pass < 2; pass++) {
		fputs(pass == 0 ? "\nCommands that read:\n" :
		    "\nCommands that change something (root or dsyncd's user "
		    "only):\n", f);
		for (i = 0; i < proto_ncmds; i++) {
			const struct proto_cmd *p = &proto_cmds[i];
			char name[64];

			if (p->access != (pass ? PROTO_WRITE : PROTO_READ))
				continue;
			snprintf(name, sizeof(name), "%s%s%s", p->name,
			    *p->args ? " " : "", p->args);
			fprintf(f, "  %-16s%s\n", name, p->help);
		}
	}
	fprintf(f, "\nOptions:\n"
	    "  -s, --socket SOCKET    the daemon's socket (default "
	    CTL_SOCKET ")\n"
	    "  -i, --instance NAME    dsyncd@NAME's socket: " CTL_RUNDIR
	    "/NAME/control.sock\n"
	    "      --json             print the daemon's result as JSON\n"
	    "      --timeout SECONDS  wait at most this long for the reply "
	    "(default %g;\n"
	    "                         0: no limit, the default of push, pull "
	    "and sync)\n"
	    "  -n N                   history: the last N jobs (default %d)\n"
	    "  -p, --pretty-diff      diff: the values that differ too\n"
	    "  -h, --help             this help\n"
	    "  -V, --version          dsyncctl's version\n"
	    "\n"
	    "Exit status: 0 ok. status: 0 in sync, 2 differences wait, 1 "
	    "degraded, error\n"
	    "or no daemon. diff: 0 none, 2 some, 1 error. push, pull, sync: "
	    "0 when the\n"
	    "job's result is ok, else 1. See dsyncctl(8).\n", CTL_TIMEOUT,
	    CTL_HISTORY);
}

static int bad_usage(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* A usage error: the message, a pointer to --help, -1. */
static int bad_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("dsyncctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'dsyncctl --help'.\n", stderr);
	return -1;
}

static int parse_timeout(struct ctl *c, const char *s)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || end == s || *end || !(d >= 0) || d > 86400 * 365)
		return bad_usage("--timeout: '%s' is not a number of seconds",
		    s);
	c->timeout = d;
	c->timeout_set = true;
	return 0;
}

static int parse_count(struct ctl *c, const char *s)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || end == s || *end || n < 1 || n > 1000000)
		return bad_usage("-n: '%s' is not a number of jobs", s);
	c->history_n = n;
	return 0;
}

static const struct option long_opts[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "instance", required_argument, NULL, 'i' },
	{ "json", no_argument, NULL, 'j' },
	{ "timeout", required_argument, NULL, 't' },
	{ "pretty-diff", no_argument, NULL, 'p' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* One run of getopt over argv (argv[0] is the program or the command).
 * Returns 0 (*next: the first argument left), 1 when done (help,
 * version), -1 on a usage error. */
static int parse_opts(struct ctl *c, int argc, char **argv, int *next,
    const char **sock, const char **inst)
{
	int ch;

	optind = 0;	/* a full restart of glibc's getopt */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+s:i:n:phV", long_opts,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
			*sock = optarg;
			break;
		case 'i':
			*inst = optarg;
			break;
		case 'j':
			c->json = true;
			break;
		case 't':
			if (parse_timeout(c, optarg) < 0)
				return -1;
			break;
		case 'n':
			if (c->cmd == NULL || strcmp(c->cmd, "history") != 0)
				return bad_usage("-n is an option of history");
			if (parse_count(c, optarg) < 0)
				return -1;
			break;
		case 'p':
			if (c->cmd == NULL || strcmp(c->cmd, "diff") != 0)
				return bad_usage("-p is an option of diff");
			c->pretty_diff = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("dsyncctl %s (protocol %d)\n", DSYNC_VERSION,
			    PROTO_VERSION);
			return 1;
		default:
			if (optopt && strchr("sint", optopt))
				return bad_usage("%s needs a value",
				    argv[optind - 1]);
			return bad_usage("unknown option '%s'",
			    argv[optind - 1]);
		}
	}
	*next = optind;
	return 0;
}

/* Options before the command, and the command's own after it (the
 * global ones are taken there too: dsyncctl status --json). Returns 0,
 * 1 when done (help, version), -1 on a usage error. */
static int parse_argv(struct ctl *c, int argc, char **argv, char **sockbuf)
{
	const char *inst = NULL, *sock = NULL;
	struct buf r;
	int rc, at, rest, i;

	if ((rc = parse_opts(c, argc, argv, &at, &sock, &inst)) != 0)
		return rc;
	if (at >= argc)
		return bad_usage("no command given");
	c->cmd = argv[at];
	if (proto_find(c->cmd) == NULL)
		return bad_usage("unknown command '%s'", c->cmd);
	if ((rc = parse_opts(c, argc - at, argv + at, &rest, &sock,
	    &inst)) != 0)
		return rc;
	rest += at;
	if (strcmp(c->cmd, "pause") == 0 && rest < argc) {
		buf_init(&r);
		for (i = rest; i < argc; i++) {
			if (i > rest)
				buf_addc(&r, ' ');
			buf_adds(&r, argv[i]);
		}
		c->reason = buf_steal(&r, NULL);
	} else if (rest < argc)
		return bad_usage("%s takes no argument '%s'", c->cmd,
		    argv[rest]);
	if (sock && inst)
		return bad_usage("-s and -i: one or the other");
	if (inst) {
		if (!*inst || strchr(inst, '/') || strcmp(inst, ".") == 0 ||
		    strcmp(inst, "..") == 0)
			return bad_usage("-i: '%s' is not an instance name",
			    inst);
		xasprintf(sockbuf, CTL_RUNDIR "/%s/control.sock", inst);
		sock = *sockbuf;
	}
	c->socket = sock ? sock : CTL_SOCKET;
	if (!c->timeout_set)
		c->timeout = ctl_find(c->cmd)->waits ? 0 : CTL_TIMEOUT;
	return 0;
}

static void ctl_terminal(struct ctl *c)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
	struct winsize ws;

	c->tty = isatty(STDOUT_FILENO) == 1;
	c->colour = c->tty && (nc == NULL || *nc == '\0') &&
	    !(term && strcmp(term, "dumb") == 0);
	c->cols = 80;
	if (c->tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col >= 40)
		c->cols = ws.ws_col;
	c->now = time(NULL);
}

int main(int argc, char **argv)
{
	struct ctl c = { .history_n = CTL_HISTORY };
	struct json *result = NULL;
	char *sockbuf = NULL;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if ((rc = parse_argv(&c, argc, argv, &sockbuf)) != 0) {
		rc = rc > 0 ? EXIT_OK : EXIT_ERR;
		goto done;
	}
	ctl_terminal(&c);
	if ((rc = exchange(&c, &result)) != EXIT_OK)
		goto done;
	if (c.json) {
		char *s = json_write(result, true, NULL);

		puts(s);
		free(s);
		rc = ctl_find(c.cmd)->exit_of(result);
	} else
		rc = ctl_find(c.cmd)->print(&c, result);
	/* a reader that went away (dsyncctl diff | head) is not an error */
	if ((fflush(stdout) != 0 || ferror(stdout)) && errno != EPIPE) {
		fprintf(stderr, "dsyncctl: writing to standard output: %s\n",
		    strerror(errno));
		rc = EXIT_ERR;
	}
done:
	json_free(result);
	free(sockbuf);
	free(c.reason);
	return rc;
}
