/*
 * ctl: the helpers every printer of dsyncctl shares. Readers of a reply
 * tree that take any member missing, null or of another type; text from
 * the daemon escaped and cut to columns; spans, ages and timestamps as
 * people read them.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

/* --- text --- */

/* Columns of a text escaped by text_add_safe: its code points, less our own
 * colour sequences (ESC [ ... m: the only raw ESC it can hold). */
size_t ctl_text_cols(const char *s, size_t len)
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
void ctl_add_safe_cut(struct buf *b, const char *s, size_t cols)
{
	struct buf t;

	buf_init(&t);
	text_add_safe(&t, s);
	if (t.len && ctl_text_cols(t.data, t.len) > cols && cols > 3) {
		buf_add(b, t.data, text_prefix(t.data, cols - 3));
		buf_adds(b, "...");
	} else if (t.len)
		buf_add(b, t.data, t.len);
	buf_clear(&t);
}

/* A time span for people. A duration (tenths): "0.04 s", "1.4 s", "12 s",
 * "3 min 4 s", "25 min", "2 h 5 min", "3 d 4 h"; an age or a delay
 * (!tenths) drops what nobody reads: "12 s", "3 min", "2 h 5 min". */
void ctl_add_span(struct buf *b, double s, bool tenths)
{
	long n;

	if (!(s >= 0))
		s = 0;
	if (tenths && s < 0.995) {
		char t[16];
		size_t tl;

		snprintf(t, sizeof(t), "%.2f", s);
		tl = strlen(t);
		if (t[tl - 1] == '0') /* 0.80 → 0.8 */
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

void ctl_add_ago(struct buf *b, double s)
{
	if (s < 1) {
		buf_adds(b, "just now");
		return;
	}
	ctl_add_span(b, s, false);
	buf_adds(b, " ago");
}

/* "2026-12-01T10:00:03.123Z" or with an offset, to a time_t. */
bool ctl_parse_iso(const char *s, time_t *t)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0;
	const char *p;
	long off = 0;

	if (s == NULL ||
	    sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi,
		&sec, &n) != 6 ||
	    n == 0)
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
void ctl_add_time(struct buf *b, const char *iso, bool year)
{
	char s[64];
	struct tm tm;
	time_t t;

	if (ctl_parse_iso(iso, &t) && localtime_r(&t, &tm) &&
	    (year ? strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S", &tm) :
		    strftime(s, sizeof(s), "%m-%d %H:%M:%S", &tm)) > 0)
		buf_adds(b, s);
	else
		ctl_add_safe_cut(b, iso ? iso : "?", 25);
}

/* --- parts of a record: a job, a poll, a push --- */

/* ", 12 requests" */
void ctl_add_requests(struct buf *b, const struct json *o)
{
	double n;

	if (json_get_num(o, "requests", &n))
		buf_addf(b, ", %.0f request%s", n, n == 1 ? "" : "s");
}

/* ": 1 created, 2 updated", the counts that are not 0; ": nothing to
 * change" when the record has counts and all are 0. */
bool ctl_add_notices(struct buf *b, const struct json *n, time_t now)
{
	const struct json *f = json_get_obj(n, "last_failure");
	double sent = json_get_count(n, "sent"),
	       failed = json_get_count(n, "failed");
	double queued = json_get_count(n, "queued");
	time_t t;

	if (n == NULL || (sent == 0 && failed == 0 && queued == 0 && f == NULL))
		return false;
	buf_addf(b, "%.0f sent, %.0f failed", sent, failed);
	if (queued)
		buf_addf(b, ", %.0f to send", queued);
	if (f) {
		buf_adds(b, "; last failure");
		if (ctl_parse_iso(json_get_str(f, "at"), &t)) {
			buf_addc(b, ' ');
			ctl_add_ago(b, difftime(now, t));
		}
		buf_adds(b, ": ");
		text_add_safe(b,
		    json_get_str(f, "error") ? json_get_str(f, "error") : "?");
	}
	return true;
}

void ctl_add_counts(struct buf *b, const struct json *o)
{
	static const char *const keys[] = { "created", "updated", "deleted" };
	double n;
	size_t i;
	bool any = false;

	for (i = 0; i < 3; i++)
		if (json_get_num(o, keys[i], &n) && n != 0) {
			buf_addf(b, "%s%.0f %s", any ? ", " : ": ", n, keys[i]);
			any = true;
		}
	if (!any && json_get_nonnull(o, "created"))
		buf_adds(b, ": nothing to change");
}
