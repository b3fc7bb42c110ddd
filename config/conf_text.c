/*
 * conf_text: the file's text to a libconfig tree. Before libconfig reads a
 * file, a pass over its text and its includes' (followed as libconfig 1.5
 * follows them): libconfig 1.5 wraps an integer that does not fit
 * (3000000000 reads as -1294967296, 0xFFFFFFFF as -1), and exits the
 * process when an @include names a directory.
 */
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "conf_int.h"
#include "fsutil.h"
#include "xmalloc.h"

#define INCLUDE_MAX_DEPTH 10 /* libconfig 1.5's own limit */
#define SCAN_MAX_NEST 32

/* ---- the text pass ---- */

struct scan {
	const char *dir; /* libconfig's include directory */
	const char *file;
	unsigned line;
	char *stack[SCAN_MAX_NEST]; /* the enclosing groups' names */
	int nstack, deep;
	char *word; /* the last name */
	char *name; /* the last name before '=' or ':' */
	char *bad;  /* the first integer out of range */
	char **errstr;
	/* the files being read, outermost first, for include loops */
	struct {
		dev_t dev;
		ino_t ino;
		const char *name;
	} open[INCLUDE_MAX_DEPTH + 2];
	int nopen;
};

/* "a.conf -> b.conf -> a.conf": the open files from the one that
 * path repeats, then path. */
static char *loop_chain(const struct scan *sc, int from, const char *path)
{
	char *out = xstrdup(""), *t;
	int i;

	for (i = from; i < sc->nopen; i++) {
		xasprintf(&t, "%s%s -> ", out, sc->open[i].name);
		free(out);
		out = t;
	}
	xasprintf(&t, "%s%s", out, path);
	free(out);
	return t;
}

static int scan_file(struct scan *sc, const char *path, int depth);

static char *scan_path(const struct scan *sc)
{
	char *p = xstrdup(""), *t;
	int i;

	for (i = 0; i <= sc->nstack; i++) {
		const char *n = i < sc->nstack ? sc->stack[i] : sc->name;

		if (n == NULL || *n == '\0')
			continue;
		xasprintf(&t, "%s%s%s", p, *p ? "." : "", n);
		free(p);
		p = t;
	}
	return p;
}

/* An integer literal at p; past its end. A float is skipped. */
static const char *scan_number(struct scan *sc, const char *p)
{
	const char *q = p;
	bool hex = false, wide = false, over;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
	    isxdigit((unsigned char)p[2])) {
		hex = true;
		for (q = p + 2; isxdigit((unsigned char)*q); q++)
			;
	} else {
		q += *q == '-' || *q == '+';
		while (isdigit((unsigned char)*q))
			q++;
		if (*q == '.' ||
		    ((*q == 'e' || *q == 'E') &&
			(isdigit((unsigned char)q[1]) ||
			    ((q[1] == '-' || q[1] == '+') &&
				isdigit((unsigned char)q[2]))))) {
			q += *q == '.';
			while (isdigit((unsigned char)*q))
				q++;
			if (*q == 'e' || *q == 'E')
				q += 1 + (q[1] == '-' || q[1] == '+');
			while (isdigit((unsigned char)*q))
				q++;
			return q;
		}
	}
	if (*q == 'L') {
		wide = true;
		q += 1 + (q[1] == 'L');
	}
	errno = 0;
	if (hex) {
		unsigned long long u = strtoull(p + 2, NULL, 16);

		over = errno == ERANGE ||
		    u > (wide ? (unsigned long long)LLONG_MAX :
				(unsigned long long)INT_MAX);
	} else {
		long long v = strtoll(p, NULL, 10);

		over = errno == ERANGE ||
		    (!wide && (v < INT_MIN || v > INT_MAX));
	}
	if (over && sc->bad == NULL) {
		char *path = scan_path(sc);

		xasprintf(&sc->bad,
		    "%s:%u: %s%sinteger out of range (beyond %s bits)",
		    sc->file, sc->line, path, *path ? ": " : "",
		    wide ? "64" : "32");
		free(path);
	}
	return q;
}

/* An @include at p (past the quote); past its closing quote. */
static const char *scan_include(struct scan *sc, const char *p, int depth,
    int *rc)
{
	char *name = xmalloc(strlen(p) + 1), *full = NULL;
	unsigned line = sc->line;
	size_t n = 0;
	struct stat st;

	for (; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1])
			p++;
		sc->line += *p == '\n';
		name[n++] = *p;
	}
	name[n] = '\0';
	p += *p == '"';
	*rc = -1;
	if (name[0] == '/')
		xasprintf(sc->errstr,
		    "%s:%u: @include \"%s\": give the path "
		    "relative to %s (libconfig 1.5 reads every include there)",
		    sc->file, line, name, sc->dir);
	else if (depth + 1 > INCLUDE_MAX_DEPTH)
		xasprintf(sc->errstr,
		    "%s:%u: @include \"%s\": includes nest "
		    "deeper than %d files (an include loop?)",
		    sc->file, line, name, INCLUDE_MAX_DEPTH);
	else if (stat(full = fs_join(sc->dir, name), &st) < 0)
		xasprintf(sc->errstr, "%s:%u: @include \"%s\": %s: %s",
		    sc->file, line, name, full, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		xasprintf(sc->errstr,
		    "%s:%u: @include \"%s\": %s: not a regular file", sc->file,
		    line, name, full);
	else {
		int i;

		for (i = 0; i < sc->nopen; i++)
			if (sc->open[i].dev == st.st_dev &&
			    sc->open[i].ino == st.st_ino)
				break;
		if (i < sc->nopen) {
			char *chain = loop_chain(sc, i, full);

			xasprintf(sc->errstr,
			    "%s:%u: @include \"%s\": an include loop: %s",
			    sc->file, line, name, chain);
			free(chain);
		} else {
			*rc = scan_file(sc, full, depth + 1);
		}
	}
	free(full);
	free(name);
	return p;
}

/* Past a string (p past the opening quote) or a block comment. */
static const char *scan_skip(struct scan *sc, const char *p, bool string)
{
	for (; *p; p++) {
		if (string && *p == '\\' && p[1])
			p++;
		else if (string && *p == '"')
			return p + 1;
		else if (!string && p[0] == '*' && p[1] == '/')
			return p + 2;
		sc->line += *p == '\n';
	}
	return p;
}

/* The structure that names need: words, '=', groups. */
static void scan_punct(struct scan *sc, char ch)
{
	if (ch == '=' || ch == ':') {
		free(sc->name);
		sc->name = sc->word;
		sc->word = NULL;
	} else if (ch == '{' && sc->nstack < SCAN_MAX_NEST) {
		sc->stack[sc->nstack++] = sc->name ? sc->name : xstrdup("");
		sc->name = NULL;
	} else if (ch == '{') {
		sc->deep++;
	} else if (ch == '}' && sc->deep > 0) {
		sc->deep--;
	} else if (ch == '}' && sc->nstack > 0) {
		free(sc->name);
		sc->name = sc->stack[--sc->nstack];
	}
}

static int scan_text(struct scan *sc, const char *p, int depth)
{
	bool bol = true;
	int rc = 0;

	while (*p && rc == 0) {
		if (*p == '\n') {
			sc->line++;
			bol = true;
			p++;
		} else if (*p == ' ' || *p == '\t' || *p == '\r' ||
		    *p == '\f') {
			p++;
		} else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			p += strcspn(p, "\n");
		} else if (p[0] == '/' && p[1] == '*') {
			p = scan_skip(sc, p + 2, false);
		} else if (*p == '"') {
			p = scan_skip(sc, p + 1, true);
			bol = false;
		} else if (bol && strncmp(p, "@include", 8) == 0 &&
		    (p[8] == ' ' || p[8] == '\t') &&
		    p[8 + strspn(p + 8, " \t")] == '"') {
			p = scan_include(sc, p + 9 + strspn(p + 8, " \t"),
			    depth, &rc);
			bol = false;
		} else if (isalpha((unsigned char)*p) || *p == '*') {
			size_t n = strspn(p,
			    "-_*0123456789abcdefghijklmnopqrstu"
			    "vwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");

			free(sc->word);
			sc->word = xstrndup(p, n);
			p += n;
			bol = false;
		} else if (isdigit((unsigned char)*p) ||
		    ((*p == '-' || *p == '+' || *p == '.') &&
			(isdigit((unsigned char)p[1]) || p[1] == '.'))) {
			p = scan_number(sc, p);
			bol = false;
		} else {
			scan_punct(sc, *p++);
			bol = false;
		}
	}
	return rc;
}

/* path is being read (a file that stat cannot see is no loop). */
static void scan_push(struct scan *sc, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		memset(&st, 0, sizeof(st));
	sc->open[sc->nopen].dev = st.st_dev;
	sc->open[sc->nopen].ino = st.st_ino;
	sc->open[sc->nopen].name = path;
	sc->nopen++;
}

static int scan_file(struct scan *sc, const char *path, int depth)
{
	const char *file = sc->file;
	unsigned line = sc->line;
	char *text, *e = NULL;
	size_t len;
	mode_t mode;
	int rc;

	if (conf_read_file(path, CONF_MAX_FILE, &text, &len, &mode, &e) < 0) {
		xasprintf(sc->errstr, "%s:%u: @include: %s", file, line, e);
		free(e);
		return -1;
	}
	sc->file = path;
	sc->line = 1;
	scan_push(sc, path);
	rc = scan_text(sc, text, depth);
	sc->nopen--;
	sc->file = file;
	sc->line = line;
	explicit_bzero(text, len);
	free(text);
	return rc;
}

static void scan_clear(struct scan *sc)
{
	while (sc->nstack > 0)
		free(sc->stack[--sc->nstack]);
	free(sc->word);
	free(sc->name);
	free(sc->bad);
}

/* ---- the parse ---- */

/* The parsed file, with the pass's findings. */
int conf_text_parse(struct load *l, config_t *cfg, const char *text)
{
	struct scan sc;
	int rc = -1;

	memset(&sc, 0, sizeof(sc));
	sc.dir = l->dir;
	sc.file = l->c->path;
	sc.line = 1;
	sc.errstr = l->errstr;
	scan_push(&sc, l->c->path);
	if (scan_text(&sc, text, 0) < 0)
		goto fail;
	config_set_include_dir(cfg, l->dir);
	if (!config_read_string(cfg, text)) {
		xasprintf(l->errstr, "%s:%d: %s",
		    config_error_file(cfg) ? config_error_file(cfg) :
					     l->c->path,
		    config_error_line(cfg), config_error_text(cfg));
		goto fail;
	}
	if (sc.bad) {
		*l->errstr = sc.bad;
		sc.bad = NULL;
		goto fail;
	}
	rc = 0;
fail:
	scan_clear(&sc);
	return rc;
}
