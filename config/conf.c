/*
 * conf: dsyncd.conf (libconfig syntax) read into struct conf. One table
 * line per setting gives its type, range and field; a walk of the parsed
 * file refuses what the tables do not name. Then the credentials, the
 * control group, and the printer of the effective configuration.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libconfig.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "fsutil.h"
#include "xmalloc.h"

#define CONF_MAX_FILE ((size_t)16 << 20)	/* a config or include file */
#define SECRET_MAX ((size_t)64 << 10)		/* a token or password file */
#define INCLUDE_MAX_DEPTH 10			/* libconfig 1.5's own limit */
#define SCAN_MAX_NEST 32
#define PLACEHOLDER "(set)"			/* a secret, in conf_print */
#define NO_FIELD SIZE_MAX
#define OFF(f) offsetof(struct conf, f)

/* Enum settings are stored through an int. */
_Static_assert(sizeof(enum conf_policy) == sizeof(int), "enum size");
_Static_assert(sizeof(enum conf_watch) == sizeof(int), "enum size");
_Static_assert(sizeof(enum idmap_backend) == sizeof(int), "enum size");

enum key_type {
	KEY_GROUP,	/* arg: the group's table */
	KEY_BOOL,
	KEY_LONG,	/* lo..hi */
	KEY_UINT,	/* lo..hi */
	KEY_FLOAT,	/* lo..hi, integers accepted; arg: the unit */
	KEY_STR,	/* not empty */
	KEY_PATH,	/* not empty; relative to the file's directory; hi:
			 * longest (0: any) */
	KEY_URL,
	KEY_ENUM,	/* arg: the names, index stored as an int */
	KEY_WORD,	/* arg: the names, the string stored */
	KEY_COLLS,	/* collection names: a bit set */
	KEY_PRESERVE,	/* the same, or "all" */
	KEY_HEADERS,
	KEY_MODE,	/* an octal string */
	KEY_GROUPNAME,	/* resolved after the walk */
	KEY_CRED,	/* checked as a string here, read after the walk */
	KEY_POLICIES,	/* policy.collections */
};

struct key {
	const char *name;
	enum key_type type;
	size_t off;		/* in struct conf */
	double lo, hi;
	const void *arg;
};

#define GROUP(n, t) { n, KEY_GROUP, NO_FIELD, 0, 0, t }
#define PLAIN(n, ty, f) { n, ty, OFF(f), 0, 0, NULL }
#define RANGE(n, ty, f, lo, hi, unit) { n, ty, OFF(f), lo, hi, unit }
#define ONE_OF(n, ty, f, names) { n, ty, OFF(f), 0, 0, names }
#define CRED(n) { n, KEY_CRED, NO_FIELD, 0, 0, NULL }

/* Indexed by the enums' values. */
static const char *const policy_names[] = { "push", "report", "ignore",
    NULL };
static const char *const watch_names[] = { "tree", "commits", NULL };
static const char *const id_map_names[] = { "auto", "extension",
    "collection", NULL };
static const char *const log_names[] = { "info", "debug", NULL };

static const struct key directus_keys[] = {
	PLAIN("url", KEY_URL, url),
	CRED("token_file"),
	CRED("token_env"),
	CRED("token"),
	CRED("email"),
	CRED("password_file"),
	PLAIN("headers", KEY_HEADERS, headers),
	RANGE("timeout", KEY_FLOAT, timeout, 1, 3600, "seconds"),
	RANGE("max_response_mb", KEY_FLOAT, max_response_mb, 0.001, 65536,
	    "MiB"),
	{ NULL, KEY_GROUP, 0, 0, 0, NULL },
};

static const struct key poll_keys[] = {
	RANGE("interval", KEY_FLOAT, poll_interval, 1, 86400, "seconds"),
	RANGE("full_every", KEY_UINT, poll_full_every, 0, 100000, NULL),
	RANGE("backoff_max", KEY_FLOAT, backoff_max, 1, 86400, "seconds"),
	{ NULL, KEY_GROUP, 0, 0, 0, NULL },
};

static const struct key policy_keys[] = {
	ONE_OF("default", KEY_ENUM, policy_default, policy_names),
	ONE_OF("schema", KEY_ENUM, policy_schema, policy_names),
	PLAIN("collections", KEY_POLICIES, policy),
	{ NULL, KEY_GROUP, 0, 0, 0, NULL },
};

static const struct key control_keys[] = {
	RANGE("socket", KEY_PATH, control_socket, 0,
	    sizeof(((struct sockaddr_un *)0)->sun_path) - 1, NULL),
	PLAIN("mode", KEY_MODE, control_mode),
	PLAIN("group", KEY_GROUPNAME, control_group),
	{ NULL, KEY_GROUP, 0, 0, 0, NULL },
};

/* The file's settings, in the order conf_print shows them. */
static const struct key top_keys[] = {
	GROUP("directus", directus_keys),
	PLAIN("dump_path", KEY_PATH, sync.dump_path),
	PLAIN("collections_path", KEY_STR, sync.collections_path),
	PLAIN("snapshot_path", KEY_STR, sync.snapshot_path),
	PLAIN("specs_path", KEY_STR, sync.specs_path),
	PLAIN("collections", KEY_BOOL, sync.collections),
	PLAIN("snapshot", KEY_BOOL, sync.snapshot),
	PLAIN("split", KEY_BOOL, sync.split),
	PLAIN("specs", KEY_BOOL, sync.specs),
	PLAIN("only_collections", KEY_COLLS, sync.only),
	PLAIN("exclude_collections", KEY_COLLS, sync.exclude),
	PLAIN("preserve_ids", KEY_PRESERVE, sync.preserve),
	PLAIN("sort_json", KEY_BOOL, sync.sort_json),
	ONE_OF("id_map", KEY_ENUM, sync.id_map, id_map_names),
	PLAIN("sync_policy_roles", KEY_BOOL, sync.sync_policy_roles),
	PLAIN("force", KEY_BOOL, sync.force),
	RANGE("max_push_retries", KEY_LONG, sync.max_push_retries, 0, 1000,
	    NULL),
	RANGE("lock_wait", KEY_FLOAT, sync.lock_wait, 0, 3600, "seconds"),
	PLAIN("state_dir", KEY_PATH, state_dir),
	ONE_OF("watch", KEY_ENUM, watch, watch_names),
	RANGE("debounce", KEY_FLOAT, debounce, 0.05, 3600, "seconds"),
	GROUP("poll", poll_keys),
	GROUP("policy", policy_keys),
	PLAIN("allow_deletes", KEY_BOOL, allow_deletes),
	RANGE("max_deletes", KEY_LONG, max_deletes, -1, 1000000, NULL),
	PLAIN("allow_schema_deletes", KEY_BOOL, allow_schema_deletes),
	GROUP("control", control_keys),
	ONE_OF("log_level", KEY_WORD, log_level, log_names),
	{ NULL, KEY_GROUP, 0, 0, 0, NULL },
};

/* Every group, for "did you mean 'directus.timeout'?" */
static const struct {
	const char *prefix;
	const struct key *keys;
} groups[] = {
	{ "", top_keys },
	{ "directus.", directus_keys },
	{ "poll.", poll_keys },
	{ "policy.", policy_keys },
	{ "control.", control_keys },
};

/* One conf_load. */
struct load {
	struct conf *c;
	char *dir;		/* the file's directory, absolute */
	mode_t mode;		/* the file's */
	unsigned policy_set;	/* collections named in policy.collections */
	char **errstr;
};

void conf_init(struct conf *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	sync_opts_init(&c->sync);
	free(c->sync.dump_path);	/* required: no default */
	c->sync.dump_path = NULL;
	c->sync.max_deletes = 10;
	c->sync.lock_wait = 30.0;
	c->sync.max_body = (size_t)256 << 20;
	c->timeout = 300.0;
	c->max_response_mb = 256.0;
	c->state_dir = xstrdup("/var/lib/dsyncd");
	c->watch = CONF_WATCH_TREE;
	c->debounce = 1.0;
	c->poll_interval = 60.0;
	c->poll_full_every = 10;
	c->backoff_max = 300.0;
	c->policy_default = CONF_POLICY_PUSH;
	c->policy_schema = CONF_POLICY_PUSH;
	for (i = 0; i < COLL_COUNT; i++)
		c->policy[i] = CONF_POLICY_PUSH;
	c->allow_deletes = false;
	c->max_deletes = 10;
	c->allow_schema_deletes = false;
	c->control_socket = xstrdup("/run/dsyncd/control.sock");
	c->control_mode = 0660;
	c->control_group = NULL;
	c->control_gid = (gid_t)-1;
	c->log_level = xstrdup("info");
}

static void wipe(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void conf_clear(struct conf *c)
{
	size_t i;

	free(c->path);
	free(c->url);
	wipe(c->token);
	free(c->token_source);
	free(c->email);
	wipe(c->password);
	free(c->password_source);
	for (i = 0; i < c->nheaders; i++)
		free(c->headers[i]);
	free(c->headers);
	sync_opts_clear(&c->sync);
	free(c->state_dir);
	free(c->control_socket);
	free(c->control_group);
	free(c->log_level);
	memset(c, 0, sizeof(*c));
	c->control_gid = (gid_t)-1;
}

const char *conf_policy_name(enum conf_policy p)
{
	switch (p) {
	case CONF_POLICY_REPORT:
		return "report";
	case CONF_POLICY_IGNORE:
		return "ignore";
	default:
		return "push";
	}
}

/* ---- messages ---- */

/* "file:line: message", for a setting. */
static int at(const struct load *l, const config_setting_t *s,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int at(const struct load *l, const config_setting_t *s,
    const char *fmt, ...)
{
	const char *file = config_setting_source_file(s);
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	xasprintf(l->errstr, "%s:%u: %s", file ? file : l->c->path,
	    config_setting_source_line(s), msg);
	free(msg);
	return -1;
}

/* Optimal string alignment distance (a swap of two letters is one). */
static int edit_distance(const char *a, const char *b)
{
	int d[33][33];
	size_t la = strlen(a), lb = strlen(b), i, j;

	if (la > 32 || lb > 32)
		return INT_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			int cost = a[i - 1] != b[j - 1], v = d[i - 1][j - 1] +
			    cost;

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

/* The closest of n names (each a const char * at base + i * stride)
 * within two edits, or NULL. */
static const char *closest(const char *name, const void *base,
    size_t stride, size_t n)
{
	const char *best = NULL;
	int bd = 3, d;
	size_t i;

	for (i = 0; i < n; i++) {
		const char *cand = *(const char *const *)(const void *)
		    ((const char *)base + i * stride);

		if (cand && (d = edit_distance(name, cand)) < bd) {
			bd = d;
			best = cand;
		}
	}
	return best;
}

static size_t count_keys(const struct key *keys)
{
	size_t n = 0;

	while (keys[n].name)
		n++;
	return n;
}

static size_t count_names(const char *const *names)
{
	size_t n = 0;

	while (names[n])
		n++;
	return n;
}

/* "a, b or c" */
static char *join_names(const char *const *names)
{
	size_t n = count_names(names), i;
	char *out = xstrdup(""), *t;

	for (i = 0; i < n; i++) {
		xasprintf(&t, "%s%s%s", out, i == 0 ? "" : i + 1 == n ?
		    " or " : ", ", names[i]);
		free(out);
		out = t;
	}
	return out;
}

static int unknown_setting(const struct load *l, const config_setting_t *s,
    const struct key *keys, const char *prefix, const char *path)
{
	const char *name = config_setting_name(s), *best, *where = prefix;
	size_t g;

	best = closest(name, &keys[0].name, sizeof(keys[0]), count_keys(keys));
	for (g = 0; best == NULL && g < sizeof(groups) / sizeof(groups[0]);
	    g++) {
		const struct key *k;

		for (k = groups[g].keys; best == NULL && k->name; k++)
			if (strcmp(k->name, name) == 0 &&
			    strcmp(groups[g].prefix, prefix) != 0) {
				best = k->name;
				where = groups[g].prefix;
			}
	}
	if (best)
		return at(l, s, "unknown setting '%s' (did you mean '%s%s'?)",
		    path, where, best);
	return at(l, s, "unknown setting '%s'", path);
}

/* ---- values ---- */

static char *resolve(const struct load *l, const char *p)
{
	return p[0] == '/' ? xstrdup(p) : fs_join(l->dir, p);
}

static void set_owned(char **dst, char *v)
{
	free(*dst);
	*dst = v;
}

static int get_bool(const struct load *l, const config_setting_t *s,
    const char *path, bool *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return at(l, s, "%s must be true or false", path);
	*out = config_setting_get_bool(s) != 0;
	return 0;
}

/* Integers only: 1.0 is refused. */
static int get_int(const struct load *l, const config_setting_t *s,
    const struct key *k, const char *path, void *out)
{
	int t = config_setting_type(s);
	long long v;

	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
		return at(l, s, "%s must be an integer from %.0f to %.0f",
		    path, k->lo, k->hi);
	v = config_setting_get_int64(s);
	if ((double)v < k->lo || (double)v > k->hi)
		return at(l, s, "%s must be an integer from %.0f to %.0f",
		    path, k->lo, k->hi);
	if (k->type == KEY_LONG)
		*(long *)out = (long)v;
	else
		*(unsigned *)out = (unsigned)v;
	return 0;
}

/* Numbers: 1 and 1.0 alike. */
static int get_float(const struct load *l, const config_setting_t *s,
    const struct key *k, const char *path, double *out)
{
	int t = config_setting_type(s);
	double v;

	if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
		v = (double)config_setting_get_int64(s);
	else if (t == CONFIG_TYPE_FLOAT)
		v = config_setting_get_float(s);
	else
		v = NAN;
	if (!(v >= k->lo && v <= k->hi))
		return at(l, s, "%s must be a number%s%s from %g to %g", path,
		    k->arg ? " of " : "", k->arg ? (const char *)k->arg : "",
		    k->lo, k->hi);
	*out = v;
	return 0;
}

static bool url_ok(const char *u)
{
	const char *p;

	if (strncmp(u, "http://", 7) == 0)
		p = u + 7;
	else if (strncmp(u, "https://", 8) == 0)
		p = u + 8;
	else
		return false;
	if (*p == '\0' || *p == '/')
		return false;
	for (; *u; u++)
		if ((unsigned char)*u <= ' ' || *u == 0x7f)
			return false;
	return true;
}

/* The string kinds. Values are never quoted back: a URL may hold a
 * password, and credentials are strings too. */
static int get_string(const struct load *l, const config_setting_t *s,
    const struct key *k, const char *path, char **out)
{
	const char *v;
	char *r;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return at(l, s, "%s must be a string", path);
	v = config_setting_get_string(s);
	if (*v == '\0')
		return at(l, s, "%s must not be empty", path);
	if (k->type == KEY_CRED)
		return 0;
	if (k->type == KEY_URL && !url_ok(v))
		return at(l, s, "%s must be an http:// or https:// URL (no "
		    "spaces)", path);
	r = k->type == KEY_PATH ? resolve(l, v) : xstrdup(v);
	if (k->type == KEY_PATH && k->hi > 0 && (double)strlen(r) > k->hi) {
		free(r);
		return at(l, s, "%s is too long for a Unix socket (at most %.0f "
		    "bytes, once made absolute)", path, k->hi);
	}
	set_owned(out, r);
	return 0;
}

/* One of names; *idx gets its index. */
static int get_one_of(const struct load *l, const config_setting_t *s,
    const char *const *names, const char *path, int *idx)
{
	bool str = config_setting_type(s) == CONFIG_TYPE_STRING;
	const char *v = str ? config_setting_get_string(s) : NULL, *best;
	char *list;
	size_t i;
	int rc;

	for (i = 0; str && names[i]; i++)
		if (strcmp(v, names[i]) == 0) {
			*idx = (int)i;
			return 0;
		}
	list = join_names(names);
	if (!str) {
		rc = at(l, s, "%s must be one of %s (a string)", path, list);
	} else {
		best = closest(v, names, sizeof(names[0]), count_names(names));
		rc = at(l, s, "%s: unknown value '%s' (%s%s%sexpected %s)", path,
		    v, best ? "did you mean '" : "", best ? best : "",
		    best ? "'?; " : "", list);
	}
	free(list);
	return rc;
}

static int get_enum(const struct load *l, const config_setting_t *s,
    const struct key *k, const char *path, void *out)
{
	const char *const *names = k->arg;
	int idx;

	if (get_one_of(l, s, names, path, &idx) < 0)
		return -1;
	if (k->type == KEY_WORD)
		set_owned((char **)out, xstrdup(names[idx]));
	else
		*(int *)out = idx;
	return 0;
}

/* A list of collection names (preserve_ids: or "all"). */
static int get_colls(const struct load *l, const config_setting_t *s,
    const struct key *k, const char *path, unsigned *out)
{
	bool preserve = k->type == KEY_PRESERVE;
	const char *form = preserve ? "a list of collection names, or \"all\""
	    : "a list of collection names: [ \"flows\", \"operations\" ]";
	unsigned set = 0;
	int i, n, rc = 0;

	if (preserve && config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char *v = config_setting_get_string(s);

		if (strcmp(v, "all") != 0 && strcmp(v, "*") != 0)
			return at(l, s, "%s must be %s", path, form);
		return sync_opts_parse_collections(path, v, true, out,
		    l->errstr);
	}
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return at(l, s, "%s must be %s", path, form);
	n = config_setting_length(s);
	for (i = 0; rc == 0 && i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		char *what;

		if (config_setting_type(e) != CONFIG_TYPE_STRING ||
		    *config_setting_get_string(e) == '\0')
			return at(l, e, "%s[%d] must be a collection name",
			    path, i);
		xasprintf(&what, "%s:%u: %s", config_setting_source_file(e) ?
		    config_setting_source_file(e) : l->c->path,
		    config_setting_source_line(e), path);
		rc = sync_opts_parse_collections(what,
		    config_setting_get_string(e), preserve, &set, l->errstr);
		free(what);
	}
	if (rc == 0)
		*out = set;
	return rc;
}

/* "Name: value": a token, a colon, no line break anywhere. */
static bool header_ok(const char *h)
{
	size_t n = strspn(h, "!#$%&'*+-.^_`|~0123456789"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

	if (n == 0 || h[n] != ':')
		return false;
	for (; *h; h++)
		if (((unsigned char)*h < ' ' && *h != '\t') || *h == 0x7f)
			return false;
	return true;
}

static int get_headers(const struct load *l, const config_setting_t *s,
    const char *path)
{
	struct conf *c = l->c;
	int i, n;

	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return at(l, s, "%s must be a list of strings: [ \"Name: "
		    "value\" ]", path);
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);

		/* The value is not quoted back: it may be a proxy's key. */
		if (config_setting_type(e) != CONFIG_TYPE_STRING ||
		    !header_ok(config_setting_get_string(e)))
			return at(l, e, "%s[%d] must be a string \"Name: "
			    "value\" (no line breaks)", path, i);
	}
	for (i = 0; i < (int)c->nheaders; i++)
		free(c->headers[i]);
	free(c->headers);
	c->headers = xreallocarray(NULL, n ? (size_t)n : 1, sizeof(char *));
	for (i = 0; i < n; i++)
		c->headers[i] = xstrdup(config_setting_get_string(
		    config_setting_get_elem(s, i)));
	c->nheaders = (size_t)n;
	return 0;
}

/* libconfig has no octal numbers (0660 is six hundred and sixty): a
 * string. */
static int get_mode(const struct load *l, const config_setting_t *s,
    const char *path, mode_t *out)
{
	const char *v = config_setting_type(s) == CONFIG_TYPE_STRING ?
	    config_setting_get_string(s) : NULL;
	size_t n = v ? strlen(v) : 0;
	long m;

	if (v == NULL || n < 3 || n > 4 || strspn(v, "01234567") != n ||
	    (m = strtol(v, NULL, 8)) > 0777)
		return at(l, s, "%s must be an octal mode in a string, from "
		    "\"0000\" to \"0777\", such as \"0660\"%s", path,
		    config_setting_is_number(s) ? " (a bare number is read as "
		    "decimal)" : "");
	*out = (mode_t)m;
	return 0;
}

static int unknown_collection(const struct load *l,
    const config_setting_t *s, const char *path, const char *name)
{
	char list[256];
	size_t i, off = 0;

	list[0] = '\0';
	for (i = 0; i < COLL_COUNT; i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
		    i ? ", " : "", coll_rules[i].name);
	return at(l, s, "%s: unknown collection '%s' (expected %s)", path,
	    name, list);
}

static int get_policies(struct load *l, const config_setting_t *s,
    const char *path)
{
	int i, n, idx;

	if (!config_setting_is_group(s))
		return at(l, s, "%s must be a group: { flows = \"report\"; }",
		    path);
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *name = config_setting_name(e), *best;
		const struct coll_rule *r = coll_find(name);
		char *p;
		int rc;

		if (r == NULL) {
			best = closest(name, &coll_rules[0].name,
			    sizeof(coll_rules[0]), COLL_COUNT);
			if (best)
				return at(l, e, "%s: unknown collection '%s' "
				    "(did you mean '%s'?)", path, name, best);
			return unknown_collection(l, e, path, name);
		}
		xasprintf(&p, "%s.%s", path, name);
		rc = get_one_of(l, e, policy_names, p, &idx);
		free(p);
		if (rc < 0)
			return -1;
		l->c->policy[r - coll_rules] = (enum conf_policy)idx;
		l->policy_set |= coll_bit(r);
	}
	return 0;
}

static int walk(struct load *l, const config_setting_t *g,
    const struct key *keys, const char *prefix);

static int apply(struct load *l, const config_setting_t *s,
    const struct key *k, const char *path)
{
	void *p = k->off == NO_FIELD ? NULL : (char *)l->c + k->off;
	char *prefix;
	int rc;

	switch (k->type) {
	case KEY_GROUP:
		if (!config_setting_is_group(s))
			return at(l, s, "%s must be a group: %s = { ... };",
			    path, path);
		xasprintf(&prefix, "%s.", path);
		rc = walk(l, s, k->arg, prefix);
		free(prefix);
		return rc;
	case KEY_BOOL:
		return get_bool(l, s, path, p);
	case KEY_LONG:
	case KEY_UINT:
		return get_int(l, s, k, path, p);
	case KEY_FLOAT:
		return get_float(l, s, k, path, p);
	case KEY_STR:
	case KEY_PATH:
	case KEY_URL:
	case KEY_GROUPNAME:
	case KEY_CRED:
		return get_string(l, s, k, path, p);
	case KEY_ENUM:
	case KEY_WORD:
		return get_enum(l, s, k, path, p);
	case KEY_COLLS:
	case KEY_PRESERVE:
		return get_colls(l, s, k, path, p);
	case KEY_HEADERS:
		return get_headers(l, s, path);
	case KEY_MODE:
		return get_mode(l, s, path, p);
	case KEY_POLICIES:
		return get_policies(l, s, path);
	}
	return 0;
}

/* Every member of group g must be one of keys. */
static int walk(struct load *l, const config_setting_t *g,
    const struct key *keys, const char *prefix)
{
	int i, n = config_setting_length(g), rc = 0;

	for (i = 0; rc == 0 && i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, i);
		const char *name = config_setting_name(s);
		const struct key *k;
		char *path;

		for (k = keys; k->name && strcmp(k->name, name) != 0; k++)
			;
		xasprintf(&path, "%s%s", prefix, name);
		rc = k->name ? apply(l, s, k, path) :
		    unknown_setting(l, s, keys, prefix, path);
		free(path);
	}
	return rc;
}

/* ---- files and secrets ---- */

/* Reads what fd holds, up to max bytes; -EFBIG beyond. *out is
 * NUL-terminated; the caller wipes its *len bytes. Buffers left behind
 * as it grows are wiped here. */
static int read_fd(int fd, size_t max, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = xmalloc(cap), *grown;
	ssize_t r;
	int rc = 0;

	for (;;) {
		if (n + 1 == cap) {
			grown = xmalloc(cap * 2);
			memcpy(grown, buf, n);
			explicit_bzero(buf, n);
			free(buf);
			buf = grown;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - 1 - n);
		if (r == 0)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		n += (size_t)r;
		if (n > max) {
			rc = -EFBIG;
			break;
		}
	}
	if (rc < 0) {
		explicit_bzero(buf, n);
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* A regular file's contents (NUL-terminated, *len bytes to wipe); *mode
 * gets its mode. Messages start with the path. */
static int read_file(const char *path, size_t max, char **out, size_t *len,
    mode_t *mode, char **errstr)
{
	struct stat st;
	int fd, rc;

	/* O_NONBLOCK: a FIFO must not hang the start. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) <
	    0) {
		xasprintf(errstr, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		xasprintf(errstr, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		xasprintf(errstr, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	*mode = st.st_mode;
	rc = read_fd(fd, max, out, len);
	close(fd);
	if (rc == -EFBIG)
		xasprintf(errstr, "%s: larger than %zu KiB", path, max >> 10);
	else if (rc < 0)
		xasprintf(errstr, "%s: %s", path, strerror(-rc));
	return rc < 0 ? -1 : 0;
}

/* A secret file, less one trailing newline. Refused: a file that gives
 * any permission to the users that mask names (077: group and others). */
static int read_secret(const char *path, mode_t mask, char **out,
    char **errstr)
{
	char *buf;
	size_t len, size;
	mode_t mode;

	if (read_file(path, SECRET_MAX, &buf, &size, &mode, errstr) < 0)
		return -1;
	len = size;
	if (mode & mask) {
		xasprintf(errstr, "%s: %s by other users (mode %04o); chmod 600 "
		    "it", path, mode & mask & 044 ? "readable" : "accessible",
		    (unsigned)(mode & 07777));
		goto fail;
	}
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (len == 0 || memchr(buf, '\0', len) != NULL) {
		xasprintf(errstr, "%s: %s", path, len ? "holds a NUL byte" :
		    "empty");
		goto fail;
	}
	*out = xstrndup(buf, len);
	explicit_bzero(buf, size);
	free(buf);
	return 0;
fail:
	explicit_bzero(buf, size);
	free(buf);
	return -1;
}

/* A token goes into an HTTP header: no control characters. */
static bool token_ok(const char *t)
{
	for (; *t; t++)
		if ((unsigned char)*t < ' ' || *t == 0x7f)
			return false;
	return true;
}

static int token_from_file(struct load *l, const config_setting_t *s)
{
	char *path = resolve(l, config_setting_get_string(s)), *e = NULL;
	int rc = -1;

	if (read_secret(path, 077, &l->c->token, &e) < 0) {
		at(l, s, "%s", e);
		goto fail;
	}
	if (!token_ok(l->c->token)) {
		at(l, s, "%s: the token holds a line break or another control "
		    "character", path);
		goto fail;
	}
	xasprintf(&l->c->token_source, "file %s", path);
	rc = 0;
fail:
	free(e);
	free(path);
	return rc;
}

static int token_from_env(struct load *l, const config_setting_t *s)
{
	const char *name = config_setting_get_string(s);
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		return at(l, s, "directus.token_env: the environment variable "
		    "%s is %s", name, v ? "empty" : "not set");
	if (!token_ok(v))
		return at(l, s, "directus.token_env: the token in %s holds a "
		    "line break or another control character", name);
	l->c->token = xstrdup(v);
	xasprintf(&l->c->token_source, "environment %s", name);
	return 0;
}

/* An inline token: the file holding it must be its owner's alone. */
static int token_inline(struct load *l, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);
	const char *src = config_setting_source_file(s);
	char *file = src ? resolve(l, src) : xstrdup(l->c->path);
	struct stat st;
	mode_t mode = l->mode;
	int rc = -1;

	if (strcmp(v, PLACEHOLDER) == 0) {
		at(l, s, "directus.token is \"%s\", the placeholder that the "
		    "printed configuration shows: give the token itself, or "
		    "directus.token_file", PLACEHOLDER);
		goto fail;
	}
	if (!token_ok(v)) {
		at(l, s, "directus.token holds a line break or another "
		    "control character");
		goto fail;
	}
	if (src != NULL) {
		if (stat(file, &st) < 0) {
			at(l, s, "%s: %s", file, strerror(errno));
			goto fail;
		}
		mode = st.st_mode;
	}
	if (mode & 077) {
		at(l, s, "%s holds directus.token and is %s by other users "
		    "(mode %04o); chmod 600 it, or use directus.token_file",
		    file, mode & 044 ? "readable" : "accessible",
		    (unsigned)(mode & 07777));
		goto fail;
	}
	l->c->token = xstrdup(v);
	l->c->token_source = xstrdup("inline");
	rc = 0;
fail:
	free(file);
	return rc;
}

static int login_from_file(struct load *l, const config_setting_t *email,
    const config_setting_t *pw)
{
	char *path = resolve(l, config_setting_get_string(pw)), *e = NULL;
	int rc = -1;

	if (read_secret(path, 077, &l->c->password, &e) < 0) {
		at(l, pw, "%s", e);
		goto fail;
	}
	l->c->email = xstrdup(config_setting_get_string(email));
	xasprintf(&l->c->password_source, "file %s", path);
	rc = 0;
fail:
	free(e);
	free(path);
	return rc;
}

/*
 * systemd's LoadCredential=: the directory is the service's alone, and
 * systemd grants its user read access through an ACL, whose mask shows
 * as the group bits: only the bits of others are checked.
 */
static int token_from_credentials(struct load *l)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	char *path = NULL, *e = NULL;
	struct stat st;
	int rc = -1;

	if (dir != NULL && *dir != '\0')
		path = fs_join(dir, "token");
	if (path == NULL || (stat(path, &st) < 0 && (errno == ENOENT ||
	    errno == ENOTDIR))) {
		xasprintf(l->errstr, "%s: no Directus credential: set one of "
		    "directus.token_file, directus.token_env, directus.token, "
		    "or directus.email with directus.password_file (or give "
		    "the token as the systemd credential \"token\", read from "
		    "$CREDENTIALS_DIRECTORY/token)", l->c->path);
		goto fail;
	}
	if (read_secret(path, 007, &l->c->token, &e) < 0) {
		xasprintf(l->errstr, "%s", e);
		goto fail;
	}
	if (!token_ok(l->c->token)) {
		xasprintf(l->errstr, "%s: the token holds a line break or "
		    "another control character", path);
		goto fail;
	}
	l->c->token_source = xstrdup("credential $CREDENTIALS_DIRECTORY/token");
	rc = 0;
fail:
	free(e);
	free(path);
	return rc;
}

/* Exactly one way, then read it. */
static int load_credentials(struct load *l, const config_t *cfg)
{
	static const char *const names[] = { "directus.token_file",
	    "directus.token_env", "directus.token", "directus.email",
	    "directus.password_file" };
	const config_setting_t *s[5], *first = NULL, *second = NULL;
	int i, fi = 0, si = 0;

	for (i = 0; i < 5; i++)
		s[i] = config_lookup(cfg, names[i]);
	if ((s[3] == NULL) != (s[4] == NULL))
		return at(l, s[3] ? s[3] : s[4], "%s needs %s: a login takes "
		    "both", names[s[3] ? 3 : 4], names[s[3] ? 4 : 3]);
	for (i = 0; i < 4; i++)
		if (s[i] && first == NULL)
			first = s[fi = i];
		else if (s[i] && second == NULL)
			second = s[si = i];
	if (second)
		return at(l, second, "%s and %s: give one credential, not two",
		    names[fi], names[si]);
	if (s[0])
		return token_from_file(l, s[0]);
	if (s[1])
		return token_from_env(l, s[1]);
	if (s[2])
		return token_inline(l, s[2]);
	if (s[3])
		return login_from_file(l, s[3], s[4]);
	return token_from_credentials(l);
}

static int resolve_group(struct load *l, const config_t *cfg)
{
	const config_setting_t *s = config_lookup(cfg, "control.group");
	const char *name = l->c->control_group;
	struct group gr, *res = NULL;
	size_t size = 1024;
	char *buf;
	int e;

	for (;;) {
		buf = xmalloc(size);
		e = getgrnam_r(name, &gr, buf, size, &res);
		if (e != ERANGE || size >= ((size_t)1 << 20))
			break;
		free(buf);
		size *= 2;
	}
	if (e == 0 && res != NULL)
		l->c->control_gid = res->gr_gid;
	free(buf);
	if (e != 0 && e != ENOENT && e != ESRCH && e != EBADF && e != EPERM)
		return at(l, s, "control.group: cannot look up group '%s': %s",
		    name, strerror(e));
	if (res == NULL)
		return at(l, s, "control.group: unknown group '%s'", name);
	return 0;
}

/* The engine's copy of what it needs. */
static void fill_sync(struct conf *c)
{
	struct sync_opts *o = &c->sync;
	size_t i;

	free(o->url);
	o->url = xstrdup(c->url);
	wipe(o->token);
	o->token = c->token ? xstrdup(c->token) : NULL;
	free(o->email);
	o->email = c->email ? xstrdup(c->email) : NULL;
	wipe(o->password);
	o->password = c->password ? xstrdup(c->password) : NULL;
	for (i = 0; i < o->nheaders; i++)
		free(o->headers[i]);
	free(o->headers);
	o->headers = xreallocarray(NULL, c->nheaders ? c->nheaders : 1,
	    sizeof(char *));
	for (i = 0; i < c->nheaders; i++)
		o->headers[i] = xstrdup(c->headers[i]);
	o->nheaders = c->nheaders;
	o->max_body = (size_t)(c->max_response_mb * 1048576.0);
	o->max_deletes = c->max_deletes;
	o->debug = strcmp(c->log_level, "debug") == 0;
}

/* What no single setting can check. */
static int finish(struct load *l, const config_t *cfg)
{
	struct conf *c = l->c;
	const config_setting_t *s;
	size_t i;

	if (c->url == NULL) {
		xasprintf(l->errstr, "%s: directus.url is required: directus "
		    "= { url = \"https://...\"; };", c->path);
		return -1;
	}
	if (c->sync.dump_path == NULL) {
		xasprintf(l->errstr, "%s: dump_path is required", c->path);
		return -1;
	}
	if ((s = config_lookup(cfg, "poll.backoff_max")) == NULL) {
		if (c->backoff_max < c->poll_interval)
			c->backoff_max = c->poll_interval;
	} else if (c->backoff_max < c->poll_interval)
		return at(l, s, "poll.backoff_max must not be less than "
		    "poll.interval");
	if (c->max_response_mb * 1048576.0 >= (double)SIZE_MAX)
		return at(l, config_lookup(cfg, "directus.max_response_mb"),
		    "directus.max_response_mb is too large for this system");
	for (i = 0; i < COLL_COUNT; i++)
		if (!(l->policy_set & coll_bit(&coll_rules[i])))
			c->policy[i] = c->policy_default;
	if (load_credentials(l, cfg) < 0)
		return -1;
	if (c->control_group != NULL && resolve_group(l, cfg) < 0)
		return -1;
	fill_sync(c);
	return 0;
}

/* ---- the text pass ---- */

/*
 * Before libconfig reads a file, a pass over its text and its includes'
 * (followed as libconfig 1.5 follows them). libconfig 1.5 wraps an integer
 * that does not fit (3000000000 reads as -1294967296, 0xFFFFFFFF as -1),
 * and exits the process when an @include names a directory.
 */
struct scan {
	const char *dir;	/* libconfig's include directory */
	const char *file;
	unsigned line;
	char *stack[SCAN_MAX_NEST];	/* the enclosing groups' names */
	int nstack, deep;
	char *word;		/* the last name */
	char *name;		/* the last name before '=' or ':' */
	char *bad;		/* the first integer out of range */
	char **errstr;
};

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
		if (*q == '.' || ((*q == 'e' || *q == 'E') &&
		    (isdigit((unsigned char)q[1]) || ((q[1] == '-' ||
		    q[1] == '+') && isdigit((unsigned char)q[2]))))) {
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

		over = errno == ERANGE || u > (wide ? (unsigned long long)
		    LLONG_MAX : (unsigned long long)INT_MAX);
	} else {
		long long v = strtoll(p, NULL, 10);

		over = errno == ERANGE || (!wide && (v < INT_MIN ||
		    v > INT_MAX));
	}
	if (over && sc->bad == NULL) {
		char *path = scan_path(sc);

		xasprintf(&sc->bad, "%s:%u: %s%sinteger out of range (beyond %s "
		    "bits)", sc->file, sc->line, path, *path ? ": " : "",
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
		xasprintf(sc->errstr, "%s:%u: @include \"%s\": give the path "
		    "relative to %s (libconfig 1.5 reads every include there)",
		    sc->file, line, name, sc->dir);
	else if (depth + 1 > INCLUDE_MAX_DEPTH)
		xasprintf(sc->errstr, "%s:%u: @include \"%s\": includes nest "
		    "deeper than %d files (an include loop?)", sc->file, line,
		    name, INCLUDE_MAX_DEPTH);
	else if (stat(full = fs_join(sc->dir, name), &st) < 0)
		xasprintf(sc->errstr, "%s:%u: @include \"%s\": %s: %s",
		    sc->file, line, name, full, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		xasprintf(sc->errstr, "%s:%u: @include \"%s\": %s: not a "
		    "regular file", sc->file, line, name, full);
	else
		*rc = scan_file(sc, full, depth + 1);
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
		} else if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f') {
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
			size_t n = strspn(p, "-_*0123456789abcdefghijklmnopqrstu"
			    "vwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");

			free(sc->word);
			sc->word = xstrndup(p, n);
			p += n;
			bol = false;
		} else if (isdigit((unsigned char)*p) || ((*p == '-' ||
		    *p == '+' || *p == '.') && (isdigit((unsigned char)p[1]) ||
		    p[1] == '.'))) {
			p = scan_number(sc, p);
			bol = false;
		} else {
			scan_punct(sc, *p++);
			bol = false;
		}
	}
	return rc;
}

static int scan_file(struct scan *sc, const char *path, int depth)
{
	const char *file = sc->file;
	unsigned line = sc->line;
	char *text, *e = NULL;
	size_t len;
	mode_t mode;
	int rc;

	if (read_file(path, CONF_MAX_FILE, &text, &len, &mode, &e) < 0) {
		xasprintf(sc->errstr, "%s:%u: @include: %s", file, line, e);
		free(e);
		return -1;
	}
	sc->file = path;
	sc->line = 1;
	rc = scan_text(sc, text, depth);
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

/* ---- conf_load ---- */

/* The directory of path, absolute. */
static char *dir_of(const char *path)
{
	char *copy = xstrdup(path), *d = dirname(copy), *cwd, *out;

	if (d[0] == '/') {
		out = xstrdup(d);
	} else if ((cwd = getcwd(NULL, 0)) == NULL) {
		out = xstrdup(d);
	} else {
		out = strcmp(d, ".") == 0 ? xstrdup(cwd) : fs_join(cwd, d);
		free(cwd);
	}
	free(copy);
	return out;
}

/* The parsed file, with the pass's findings. */
static int parse(struct load *l, config_t *cfg, const char *text)
{
	struct scan sc;
	int rc = -1;

	memset(&sc, 0, sizeof(sc));
	sc.dir = l->dir;
	sc.file = l->c->path;
	sc.line = 1;
	sc.errstr = l->errstr;
	if (scan_text(&sc, text, 0) < 0)
		goto fail;
	config_set_include_dir(cfg, l->dir);
	if (!config_read_string(cfg, text)) {
		xasprintf(l->errstr, "%s:%d: %s", config_error_file(cfg) ?
		    config_error_file(cfg) : l->c->path, config_error_line(cfg),
		    config_error_text(cfg));
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

int conf_load(struct conf *c, const char *path, char **errstr)
{
	struct load l = { .c = c, .errstr = errstr };
	config_setting_t *tok;
	char *text = NULL;
	size_t len = 0;
	config_t cfg;
	int rc = -1;

	config_init(&cfg);
	free(c->path);
	c->path = xstrdup(path);
	l.dir = dir_of(path);
	if (read_file(path, CONF_MAX_FILE, &text, &len, &l.mode, errstr) < 0)
		goto fail;
	if (parse(&l, &cfg, text) < 0)
		goto fail;
	if (walk(&l, config_root_setting(&cfg), top_keys, "") < 0)
		goto fail;
	rc = finish(&l, &cfg);
fail:
	/* libconfig frees without wiping. */
	if ((tok = config_lookup(&cfg, "directus.token")) != NULL &&
	    config_setting_type(tok) == CONFIG_TYPE_STRING)
		explicit_bzero((char *)config_setting_get_string(tok),
		    strlen(config_setting_get_string(tok)));
	config_destroy(&cfg);
	if (text)
		explicit_bzero(text, len);
	free(text);
	free(l.dir);
	return rc;
}

/* ---- conf_print ---- */

static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch == '\t')
			fputs("\\t", f);
		else if (ch == '\r')
			fputs("\\r", f);
		else if (ch == '\f')
			fputs("\\f", f);
		else if (ch < ' ' || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* Text in a comment: one line. */
static void put_comment(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < ' ' || *s == 0x7f ? '?' : *s, f);
}

/* The shortest form that reads back the same, always with a '.' or an
 * exponent. */
static void put_double(FILE *f, double v)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	fputs(buf, f);
	if (strpbrk(buf, ".e") == NULL)
		fputs(".0", f);
}

static void indent(FILE *f, int depth)
{
	fprintf(f, "%*s", depth * 2, "");
}

static void put_colls(FILE *f, unsigned set)
{
	size_t i, n = 0;

	fputc('[', f);
	for (i = 0; i < COLL_COUNT; i++)
		if (set & coll_bit(&coll_rules[i]))
			fprintf(f, "%s \"%s\"", n++ ? "," : "",
			    coll_rules[i].name);
	fputs(n ? " ]" : "]", f);
}

static void put_credentials(const struct conf *c, FILE *f, int depth)
{
	indent(f, depth);
	if (c->token) {
		fputs("token = \"" PLACEHOLDER "\";  # from ", f);
		put_comment(f, c->token_source ? c->token_source : "");
		fputc('\n', f);
	} else if (c->email) {
		fputs("email = ", f);
		put_string(f, c->email);
		fputs(";\n", f);
		indent(f, depth);
		fputs("password = \"" PLACEHOLDER "\";  # from ", f);
		put_comment(f, c->password_source ? c->password_source : "");
		fputc('\n', f);
	} else {
		fputs("# no credential\n", f);
	}
}

static void print_keys(const struct conf *c, FILE *f, const struct key *keys,
    int depth);

static void print_value(const struct conf *c, FILE *f, const struct key *k,
    const void *p, int depth)
{
	size_t i;

	switch (k->type) {
	case KEY_GROUP:
		fputs("{\n", f);
		print_keys(c, f, k->arg, depth + 1);
		indent(f, depth);
		fputc('}', f);
		break;
	case KEY_BOOL:
		fputs(*(const bool *)p ? "true" : "false", f);
		break;
	case KEY_LONG:
		fprintf(f, "%ld", *(const long *)p);
		break;
	case KEY_UINT:
		fprintf(f, "%u", *(const unsigned *)p);
		break;
	case KEY_FLOAT:
		put_double(f, *(const double *)p);
		break;
	case KEY_ENUM:
		fprintf(f, "\"%s\"", ((const char *const *)k->arg)[
		    *(const int *)p]);
		break;
	case KEY_COLLS:
	case KEY_PRESERVE:
		put_colls(f, *(const unsigned *)p);
		break;
	case KEY_HEADERS:
		fputc('[', f);
		for (i = 0; i < c->nheaders; i++) {
			fputs(i ? ", " : " ", f);
			put_string(f, c->headers[i]);
		}
		fputs(c->nheaders ? " ]" : "]", f);
		break;
	case KEY_MODE:
		fprintf(f, "\"%04o\"", (unsigned)*(const mode_t *)p);
		break;
	case KEY_POLICIES:
		fputs("{\n", f);
		for (i = 0; i < COLL_COUNT; i++) {
			indent(f, depth + 1);
			fprintf(f, "%s = \"%s\";\n", coll_rules[i].name,
			    conf_policy_name(c->policy[i]));
		}
		indent(f, depth);
		fputc('}', f);
		break;
	default:
		put_string(f, *(char *const *)p);
		break;
	}
}

static void print_keys(const struct conf *c, FILE *f, const struct key *keys,
    int depth)
{
	const struct key *k;

	for (k = keys; k->name; k++) {
		const void *p = k->off == NO_FIELD ? NULL :
		    (const char *)c + k->off;

		if (k->type == KEY_CRED) {
			if (strcmp(k->name, "token_file") == 0)
				put_credentials(c, f, depth);
			continue;
		}
		indent(f, depth);
		if (k->type == KEY_GROUPNAME && c->control_group == NULL) {
			fprintf(f, "# %s: none (the daemon's own)\n", k->name);
			continue;
		}
		if ((k->type == KEY_STR || k->type == KEY_PATH ||
		    k->type == KEY_URL || k->type == KEY_WORD ||
		    k->type == KEY_GROUPNAME) && *(char *const *)p == NULL) {
			fprintf(f, "# %s: not set\n", k->name);
			continue;
		}
		fprintf(f, "%s = ", k->name);
		print_value(c, f, k, p, depth);
		fputs(";\n", f);
	}
}

void conf_print(const struct conf *c, FILE *f)
{
	fputs("# dsyncd: the effective configuration", f);
	if (c->path) {
		fputs(" of ", f);
		put_comment(f, c->path);
	}
	fputs("\n# Each secret shows as \"" PLACEHOLDER "\", with where it came "
	    "from.\n", f);
	print_keys(c, f, top_keys, 0);
}
