/*
 * conf_value: the walk of the parsed file. Each setting is checked against
 * its table line (type, range, the names it may take) and stored in struct
 * conf; a name the tables do not hold is refused, with the closest one
 * ("did you mean 'directus.timeout'?"). The webhooks of notify, a list of
 * groups, are walked entry by entry (notify_entry).
 */
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"
#include "json.h"
#include "xmalloc.h"

/* ---- suggestions ---- */

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
			int cost = a[i - 1] != b[j - 1],
			    v = d[i - 1][j - 1] + cost;

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
static const char *closest(const char *name, const void *base, size_t stride,
    size_t n)
{
	const char *best = NULL;
	int bd = 3, d;
	size_t i;

	for (i = 0; i < n; i++) {
		const char *cand = *(
		    const char *const *)(const void *)((const char *)base +
		    i * stride);

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
		xasprintf(&t, "%s%s%s", out,
		    i == 0	   ? "" :
			i + 1 == n ? " or " :
				     ", ",
		    names[i]);
		free(out);
		out = t;
	}
	return out;
}

/* The first of keys named "..._name" ("email": "author_email"), or NULL. */
static const char *suffixed(const char *name, const struct key *keys)
{
	size_t n = strlen(name), kn;

	for (; keys->name; keys++)
		if ((kn = strlen(keys->name)) > n + 1 &&
		    keys->name[kn - n - 1] == '_' &&
		    strcmp(keys->name + kn - n, name) == 0)
			return keys->name;
	return NULL;
}

static int unknown_setting(const struct load *l, const config_setting_t *s,
    const struct key *keys, const char *prefix, const char *path)
{
	const char *name = config_setting_name(s), *best, *where = prefix;
	size_t g;

	best = closest(name, &keys[0].name, sizeof(keys[0]), count_keys(keys));
	if (best == NULL)
		best = suffixed(name, keys);
	for (g = 0; best == NULL && g < conf_ngroups; g++) {
		const struct key *k;

		for (k = conf_groups[g].keys; best == NULL && k->name; k++)
			if (strcmp(k->name, name) == 0 &&
			    strcmp(conf_groups[g].prefix, prefix) != 0) {
				best = k->name;
				where = conf_groups[g].prefix;
			}
	}
	if (best)
		return conf_at(l, s,
		    "unknown setting '%s' (did you mean '%s%s'?)", path, where,
		    best);
	return conf_at(l, s, "unknown setting '%s'", path);
}

/* ---- values ---- */

static void set_owned(char **dst, char *v)
{
	free(*dst);
	*dst = v;
}

static int get_bool(const struct load *l, const config_setting_t *s,
    const char *path, bool *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return conf_at(l, s, "%s must be true or false", path);
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
		return conf_at(l, s, "%s must be an integer from %.0f to %.0f",
		    path, k->lo, k->hi);
	v = config_setting_get_int64(s);
	if ((double)v < k->lo || (double)v > k->hi)
		return conf_at(l, s, "%s must be an integer from %.0f to %.0f",
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
		return conf_at(l, s, "%s must be a number%s%s from %g to %g",
		    path, k->arg ? " of " : "",
		    k->arg ? (const char *)k->arg : "", k->lo, k->hi);
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

static bool is_control(char ch)
{
	return (unsigned char)ch < ' ' || ch == 0x7f;
}

/* What is wrong with a git author's name or email, or a branch, or NULL:
 * git takes "Name <email>" apart at the angle brackets, a line break
 * would end the header, and a branch that starts with '-' reads as an
 * option. */
static const char *git_word_bad(enum key_type t, const char *v)
{
	const char *p;

	for (p = v; *p; p++)
		if (*p == '<' || *p == '>' || is_control(*p))
			return "must not hold '<', '>', a line break or "
			       "another control character";
	if (t == KEY_EMAIL && strchr(v, '@') == NULL)
		return "must be an email address (with an '@')";
	if (t == KEY_BRANCH && v[0] == '-')
		return "must not start with '-'";
	if (t == KEY_BRANCH && strchr(v, ' ') != NULL)
		return "must be a branch name (no spaces)";
	return NULL;
}

/* The string kinds. Values are never quoted back: a URL may hold a
 * password, and credentials are strings too. */
static int get_string(const struct load *l, const config_setting_t *s,
    const struct key *k, const char *path, char **out)
{
	const char *v, *bad;
	char *r;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return conf_at(l, s, "%s must be a string", path);
	v = config_setting_get_string(s);
	if (*v == '\0' && k->type == KEY_URL)
		return conf_at(l, s,
		    "%s is empty: set it to the address of the Directus "
		    "instance (http:// or https://)",
		    path);
	if (*v == '\0')
		return conf_at(l, s, "%s must not be empty", path);
	if (strlen(v) > CONF_MAX_STRING)
		return conf_at(l, s, "%s is too long (%zu bytes; at most %zu)",
		    path, strlen(v), CONF_MAX_STRING);
	if (k->type == KEY_CRED)
		return 0;
	if (k->type == KEY_URL && !url_ok(v))
		return conf_at(l, s,
		    "%s must be an http:// or https:// URL (no spaces)", path);
	if ((k->type == KEY_AUTHOR || k->type == KEY_EMAIL ||
		k->type == KEY_BRANCH) &&
	    (bad = git_word_bad(k->type, v)) != NULL)
		return conf_at(l, s, "%s %s", path, bad);
	r = k->type == KEY_PATH || k->type == KEY_CAFILE ? conf_resolve(l, v) :
							   xstrdup(v);
	if ((k->type == KEY_PATH || k->type == KEY_CAFILE) &&
	    strlen(r) >= PATH_MAX) {
		free(r);
		return conf_at(l, s,
		    "%s is too long for a path (at most %d "
		    "bytes, once made absolute)",
		    path, PATH_MAX - 1);
	}
	if (k->type == KEY_PATH && k->hi > 0 && (double)strlen(r) > k->hi) {
		free(r);
		return conf_at(l, s,
		    "%s is too long for a Unix socket (at "
		    "most %.0f bytes, once made absolute)",
		    path, k->hi);
	}
	if (k->type == KEY_CAFILE) {
		char *e = NULL;

		if (sync_opts_check_ca_file(r, &e) < 0) {
			conf_at(l, s, "%s: %s", path, e);
			free(e);
			free(r);
			return -1;
		}
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
		rc = conf_at(l, s, "%s must be one of %s (a string)", path,
		    list);
	} else {
		best = closest(v, names, sizeof(names[0]), count_names(names));
		rc = conf_at(l, s, "%s: unknown value '%s' (%s%s%sexpected %s)",
		    path, v, best ? "did you mean '" : "", best ? best : "",
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
	const char *form = preserve ?
	    "a list of collection names, or \"all\"" :
	    "a list of collection names: [ \"flows\", \"operations\" ]";
	unsigned set = 0;
	int i, n, rc = 0;

	if (preserve && config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char *v = config_setting_get_string(s);

		if (strcmp(v, "all") != 0 && strcmp(v, "*") != 0)
			return conf_at(l, s, "%s must be %s", path, form);
		return sync_opts_parse_collections(path, v, true, out,
		    l->errstr);
	}
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return conf_at(l, s, "%s must be %s", path, form);
	n = config_setting_length(s);
	for (i = 0; rc == 0 && i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		char *what;

		if (config_setting_type(e) != CONFIG_TYPE_STRING ||
		    *config_setting_get_string(e) == '\0')
			return conf_at(l, e, "%s[%d] must be a collection name",
			    path, i);
		xasprintf(&what, "%s:%u: %s",
		    config_setting_source_file(e) ?
			config_setting_source_file(e) :
			l->c->path,
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
	size_t n = strspn(h,
	    "!#$%&'*+-.^_`|~0123456789"
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
		return conf_at(l, s,
		    "%s must be a list of strings: [ \"Name: value\" ]", path);
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);

		/* The value is not quoted back: it may be a proxy's key. */
		if (config_setting_type(e) != CONFIG_TYPE_STRING ||
		    !header_ok(config_setting_get_string(e)))
			return conf_at(l, e,
			    "%s[%d] must be a string \"Name: "
			    "value\" (no line breaks)",
			    path, i);
		if (strlen(config_setting_get_string(e)) > CONF_MAX_STRING)
			return conf_at(l, e,
			    "%s[%d] is too long (%zu bytes; at most %zu)", path,
			    i, strlen(config_setting_get_string(e)),
			    CONF_MAX_STRING);
	}
	for (i = 0; i < (int)c->nheaders; i++)
		free(c->headers[i]);
	free(c->headers);
	c->headers = xreallocarray(NULL, n ? (size_t)n : 1, sizeof(char *));
	for (i = 0; i < n; i++)
		c->headers[i] = xstrdup(
		    config_setting_get_string(config_setting_get_elem(s, i)));
	c->nheaders = (size_t)n;
	return 0;
}

/* git.push: "REMOTE BRANCH", the two words git push is given. */
static int get_push(const struct load *l, const config_setting_t *s,
    const char *path)
{
	struct conf_git *g = &l->c->git;
	const char *v, *w[3], *p;
	size_t len[3], n = 0;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return conf_at(l, s, "%s must be a string: \"REMOTE BRANCH\"",
		    path);
	v = config_setting_get_string(s);
	if (strlen(v) > CONF_MAX_STRING)
		return conf_at(l, s, "%s is too long (%zu bytes; at most %zu)",
		    path, strlen(v), CONF_MAX_STRING);
	for (p = v; *p; p++)
		if (*p != '\t' && is_control(*p))
			return conf_at(l, s,
			    "%s must not hold a line break or "
			    "another control character",
			    path);
	for (p = v + strspn(v, " \t"); *p && n < 3; p += strspn(p, " \t")) {
		w[n] = p;
		len[n] = strcspn(p, " \t");
		p += len[n++];
	}
	if (n == 0)
		return conf_at(l, s, "%s must not be empty", path);
	if (n != 2)
		return conf_at(l, s,
		    "%s must be two words, \"REMOTE BRANCH\" "
		    "(such as \"origin main\"), not %s",
		    path, n == 1 ? "one" : "three or more");
	if (w[0][0] == '-' || w[1][0] == '-')
		return conf_at(l, s, "%s: the %s must not start with '-'", path,
		    w[0][0] == '-' ? "remote" : "branch");
	set_owned(&g->push_remote, xstrndup(w[0], len[0]));
	set_owned(&g->push_branch, xstrndup(w[1], len[1]));
	return 0;
}

/* libconfig has no octal numbers (0660 is six hundred and sixty): a
 * string. */
static int get_mode(const struct load *l, const config_setting_t *s,
    const char *path, mode_t *out)
{
	const char *v = config_setting_type(s) == CONFIG_TYPE_STRING ?
	    config_setting_get_string(s) :
	    NULL;
	size_t n = v ? strlen(v) : 0;
	long m;

	if (v == NULL || n < 3 || n > 4 || strspn(v, "01234567") != n ||
	    (m = strtol(v, NULL, 8)) > 0777)
		return conf_at(l, s,
		    "%s must be an octal mode in a string, "
		    "from \"0000\" to \"0777\", such as \"0660\"%s",
		    path,
		    config_setting_is_number(s) ? " (a bare number is read as "
						  "decimal)" :
						  "");
	*out = (mode_t)m;
	return 0;
}

static int unknown_collection(const struct load *l, const config_setting_t *s,
    const char *path, const char *name)
{
	char list[256];
	size_t i, off = 0;

	list[0] = '\0';
	for (i = 0; i < COLL_COUNT; i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
		    i ? ", " : "", colls_names[i]);
	return conf_at(l, s, "%s: unknown collection '%s' (expected %s)", path,
	    name, list);
}

static int get_policies(struct load *l, const config_setting_t *s,
    const char *path)
{
	int i, n, idx;

	if (!config_setting_is_group(s))
		return conf_at(l, s,
		    "%s must be a group: { flows = \"report\"; }", path);
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *name = config_setting_name(e), *best;
		int r = colls_index(name);
		char *p;
		int rc;

		if (r < 0) {
			best = closest(name, &colls_names[0],
			    sizeof(colls_names[0]), COLL_COUNT);
			if (best)
				return conf_at(l, e,
				    "%s: unknown collection "
				    "'%s' (did you mean '%s'?)",
				    path, name, best);
			return unknown_collection(l, e, path, name);
		}
		xasprintf(&p, "%s.%s", path, name);
		rc = get_one_of(l, e, conf_policy_names, p, &idx);
		free(p);
		if (rc < 0)
			return -1;
		l->c->policy[r] = (enum conf_policy)idx;
		l->policy_set |= COLLS_BIT(r);
	}
	return 0;
}

/* metrics.listen: conf_listen_split's forms. Not a secret: quoted. */
static int get_listen(const struct load *l, const config_setting_t *s,
    const char *path, char **out)
{
	const char *v, *why;
	char *host, *sock;
	unsigned port;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return conf_at(l, s,
		    "%s must be a string: \"127.0.0.1:9464\", or the "
		    "absolute path of a Unix socket",
		    path);
	v = config_setting_get_string(s);
	if (*v == '\0')
		return conf_at(l, s,
		    "%s is empty: leave it out to turn the listener off", path);
	if (strlen(v) > CONF_MAX_STRING)
		return conf_at(l, s, "%s is too long (%zu bytes; at most %zu)",
		    path, strlen(v), CONF_MAX_STRING);
	if (conf_listen_split(v, &host, &port, &sock, &why) < 0)
		return conf_at(l, s,
		    "%s must be HOST:PORT, [IPV6]:PORT or an absolute path of "
		    "a Unix socket (got %s)",
		    path, why);
	free(host);
	free(sock);
	set_owned(out, xstrdup(v));
	return 0;
}

/* ---- notify: a list of webhooks ---- */

/* An entry's settings, for the suggestions; notify_member reads them. */
static const struct key notify_keys[] = {
	{ "url", KEY_URL, NO_FIELD, 0, 0, NULL },
	{ "events", KEY_ENUM, NO_FIELD, 0, 0, conf_event_names },
	{ "format", KEY_ENUM, NO_FIELD, 0, 0, conf_notify_format_names },
	{ "secret_file", KEY_PATH, NO_FIELD, 0, 0, NULL },
	{ NULL, KEY_GROUP, 0, 0, 0, NULL },
};

/* A webhook's URL is a secret (Slack's hold their key): never quoted. */
static int notify_url(const struct load *l, const config_setting_t *s,
    const char *path, char **out)
{
	const char *v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return conf_at(l, s, "%s must be a string: \"https://...\"",
		    path);
	v = config_setting_get_string(s);
	if (*v == '\0')
		return conf_at(l, s, "%s must not be empty", path);
	if (strcmp(v, PLACEHOLDER) == 0)
		return conf_at(l, s,
		    "%s is \"%s\", the placeholder that the printed "
		    "configuration shows: give the URL itself",
		    path, PLACEHOLDER);
	if (strlen(v) > CONF_MAX_STRING)
		return conf_at(l, s, "%s is too long (%zu bytes; at most %zu)",
		    path, strlen(v), CONF_MAX_STRING);
	if (!url_ok(v))
		return conf_at(l, s,
		    "%s must be an http:// or https:// URL (no spaces)", path);
	xfree_secret(*out);
	*out = xstrdup(v);
	return 0;
}

static int notify_events(const struct load *l, const config_setting_t *s,
    const char *path, unsigned *out)
{
	unsigned set = 0;
	int i, n, idx, rc;

	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return conf_at(l, s,
		    "%s must be a list of event names: [ \"drift\", "
		    "\"conflict\" ]",
		    path);
	if ((n = config_setting_length(s)) == 0)
		return conf_at(l, s, "%s is empty: leave it out for all events",
		    path);
	for (i = 0; i < n; i++) {
		char *p;

		xasprintf(&p, "%s[%d]", path, i);
		rc = get_one_of(l, config_setting_get_elem(s, (unsigned)i),
		    conf_event_names, p, &idx);
		free(p);
		if (rc < 0)
			return -1;
		set |= 1u << idx;
	}
	*out = set;
	return 0;
}

/* secret_file: a path like the others, read now like a token file. */
static int notify_secret(const struct load *l, const config_setting_t *s,
    const char *path, struct conf_notify *n)
{
	char *file = NULL, *e = NULL;

	if (get_string(l, s, &notify_keys[3], path, &file) < 0)
		return -1;
	if (conf_secret_file(file, &n->secret, &e) < 0) {
		conf_at(l, s, "%s: %s", path, e);
		free(e);
		free(file);
		return -1;
	}
	set_owned(&n->secret_file, file);
	return 0;
}

static int notify_member(const struct load *l, const config_setting_t *s,
    const char *prefix, struct conf_notify *n)
{
	const char *name = config_setting_name(s);
	char *path;
	int rc, idx;

	xasprintf(&path, "%s%s", prefix, name);
	if (strcmp(name, "url") == 0) {
		rc = notify_url(l, s, path, &n->url);
	} else if (strcmp(name, "events") == 0) {
		rc = notify_events(l, s, path, &n->events);
	} else if (strcmp(name, "format") == 0) {
		rc = get_one_of(l, s, conf_notify_format_names, path, &idx);
		if (rc == 0)
			n->format = (enum conf_notify_format)idx;
	} else if (strcmp(name, "secret_file") == 0) {
		rc = notify_secret(l, s, path, n);
	} else {
		rc = unknown_setting(l, s, notify_keys, prefix, path);
	}
	free(path);
	return rc;
}

/* notify[i], a group, into n. */
static int notify_entry(const struct load *l, const config_setting_t *e, int i,
    struct conf_notify *n)
{
	char *prefix;
	int j, m, rc = 0;

	if (!config_setting_is_group(e))
		return conf_at(l, e,
		    "notify[%d] must be a group: { url = \"https://...\"; }",
		    i);
	xasprintf(&prefix, "notify[%d].", i);
	m = config_setting_length(e);
	for (j = 0; rc == 0 && j < m; j++)
		rc = notify_member(l, config_setting_get_elem(e, (unsigned)j),
		    prefix, n);
	free(prefix);
	if (rc == 0 && n->url == NULL)
		return conf_at(l, e,
		    "notify[%d].url is required: the http:// or https:// "
		    "address the events are posted to",
		    i);
	return rc;
}

static int get_notify(struct load *l, const config_setting_t *s,
    const char *path)
{
	struct conf *c = l->c;
	int i, n, rc = 0;

	/* [] is an empty list too; an array cannot hold groups. */
	if (!config_setting_is_list(s) &&
	    !(config_setting_is_array(s) && config_setting_length(s) == 0))
		return conf_at(l, s,
		    "%s must be a list of groups: %s = ( { url = "
		    "\"https://...\"; }, ... );",
		    path, path);
	n = config_setting_length(s);
	if (n > CONF_NOTIFY_MAX)
		return conf_at(l, s, "%s has %d entries: at most %d", path, n,
		    CONF_NOTIFY_MAX);
	conf_notify_clear(c);
	if (n == 0)
		return 0;
	c->notify = xcalloc((size_t)n, sizeof(*c->notify));
	for (i = 0; rc == 0 && i < n; i++) {
		struct conf_notify *e = &c->notify[c->nnotify++];

		e->events = CONF_EV_ALL;
		e->format = CONF_NOTIFY_JSON;
		rc = notify_entry(l, config_setting_get_elem(s, (unsigned)i), i,
		    e);
	}
	return rc;
}

/* seed.paths: a list of paths inside the dump tree (relative, no ".."
 * part), which the watch sees. */
static bool inside(const char *p)
{
	const char *s = p;

	if (*p == '\0' || *p == '/')
		return false;
	for (;;) {
		size_t n = strcspn(s, "/");

		if (n == 2 && strncmp(s, "..", 2) == 0)
			return false;
		if (s[n] == '\0')
			return true;
		s += n + 1;
	}
}

static int get_seed_paths(const struct load *l, const config_setting_t *s,
    const char *path)
{
	struct conf *c = l->c;
	int i, n;

	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return conf_at(l, s, "%s must be a list of paths: [ \"seed\" ]",
		    path);
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *v = config_setting_type(e) == CONFIG_TYPE_STRING ?
		    config_setting_get_string(e) :
		    NULL;

		if (v == NULL || !inside(v) || strlen(v) > CONF_MAX_STRING)
			return conf_at(l, e,
			    "%s[%d] must be a path inside the dump tree, "
			    "relative to it (no leading / and no ..)",
			    path, i);
	}
	for (i = 0; i < (int)c->nseed_paths; i++)
		free(c->seed_paths[i]);
	free(c->seed_paths);
	c->seed_paths = xcalloc((size_t)n + 1, sizeof(char *));
	for (i = 0; i < n; i++)
		c->seed_paths[i] = xstrdup(
		    config_setting_get_string(config_setting_get_elem(s, i)));
	c->nseed_paths = (size_t)n;
	return 0;
}

/* hooks.js_config: the hook functions of a JavaScript config, through the
 * bridge (node), read now so that a config that does not load is said at
 * start; the file's other settings are not the daemon's. */
static int hooks_js(const struct load *l, const config_setting_t *s,
    const char *path)
{
	struct conf *c = l->c;
	char *file, *err = NULL, *abs;
	struct json *cfg;
	int rc = 0;

	if (config_setting_type(s) != CONFIG_TYPE_STRING ||
	    *config_setting_get_string(s) == '\0')
		return conf_at(l, s,
		    "%s must be the path of a .js or .cjs file", path);
	file = conf_resolve(l, config_setting_get_string(s));
	if ((cfg = sync_js_read(file, &err)) == NULL)
		rc = conf_at(l, s, "%s: %s", path, err);
	else if (json_get(cfg, "hooks")) {
		abs = realpath(file, NULL);
		if (sync_opts_hooks_from_json(&c->sync, path, abs ? abs : file,
			json_get(cfg, "hooks"), &err) < 0)
			rc = conf_at(l, s, "%s", err);
		free(abs);
	}
	json_free_wipe(cfg);
	free(err);
	free(c->hooks_js_config);
	c->hooks_js_config = file;
	return rc;
}

/* hooks.ROW = { on_query = "CMD"; ... }; */
static int hooks_row(const struct load *l, const config_setting_t *g, int row,
    const char *path)
{
	static const char *const names[] = { "on_query", "on_dump", "on_save",
		"on_load" };
	int i, p, n;

	if (!config_setting_is_group(g))
		return conf_at(l, g,
		    "%s must be a group: %s = { on_load = \"COMMAND\"; };",
		    path, path);
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, i);
		const char *name = config_setting_name(s);

		for (p = 0; p < HOOK_POINTS && strcmp(names[p], name); p++)
			;
		if (p == HOOK_POINTS ||
		    (row == HOOK_SNAPSHOT && p != HOOK_LOAD && p != HOOK_SAVE))
			return conf_at(l, s, "%s.%s: not a hook (%s)", path,
			    name,
			    row == HOOK_SNAPSHOT ?
				"on_load or on_save" :
				"on_query, on_dump, on_save or on_load");
		if (config_setting_type(s) != CONFIG_TYPE_STRING ||
		    *config_setting_get_string(s) == '\0')
			return conf_at(l, s,
			    "%s.%s must be a command (a string)", path, name);
		sync_opts_set_hook(&l->c->sync, row, (enum hook_point)p,
		    config_setting_get_string(s), NULL);
	}
	return 0;
}

static int get_hooks(const struct load *l, const config_setting_t *g,
    const char *path)
{
	static const struct key timeout = { "timeout", KEY_FLOAT, 0, 0.1, 86400,
		"seconds" };
	const config_setting_t *js;
	int i, n, rc = 0;
	char *p;

	if (!config_setting_is_group(g))
		return conf_at(l, g, "%s must be a group: %s = { ... };", path,
		    path);
	/* The commands win over a js_config's functions. */
	if ((js = config_setting_get_member(g, "js_config")) != NULL) {
		xasprintf(&p, "%s.js_config", path);
		rc = hooks_js(l, js, p);
		free(p);
	}
	n = config_setting_length(g);
	for (i = 0; rc == 0 && i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, i);
		const char *name = config_setting_name(s);
		int row = strcmp(name, "snapshot") == 0 ? HOOK_SNAPSHOT :
							  colls_index(name);

		xasprintf(&p, "%s.%s", path, name);
		if (strcmp(name, "timeout") == 0)
			rc = get_float(l, s, &timeout, p,
			    &l->c->sync.hook_timeout);
		else if (strcmp(name, "js_config") == 0)
			rc = 0;
		else if (row < 0)
			rc = conf_at(l, s,
			    "unknown setting %s (hooks holds timeout, "
			    "js_config, snapshot and the collections: flows, "
			    "operations, ...)",
			    p);
		else
			rc = hooks_row(l, s, row, p);
		free(p);
	}
	return rc;
}

/* ---- the walk ---- */

static int apply(struct load *l, const config_setting_t *s, const struct key *k,
    const char *path)
{
	void *p = k->off == NO_FIELD ? NULL : (char *)l->c + k->off;
	char *prefix;
	int rc;

	switch (k->type) {
	case KEY_GROUP:
		if (!config_setting_is_group(s))
			return conf_at(l, s,
			    "%s must be a group: %s = { ... };", path, path);
		xasprintf(&prefix, "%s.", path);
		rc = conf_value_walk(l, s, k->arg, prefix);
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
	case KEY_CAFILE:
	case KEY_URL:
	case KEY_GROUPNAME:
	case KEY_CRED:
	case KEY_AUTHOR:
	case KEY_EMAIL:
	case KEY_BRANCH:
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
	case KEY_PUSH:
		return get_push(l, s, path);
	case KEY_LISTEN:
		return get_listen(l, s, path, p);
	case KEY_NOTIFY:
		return get_notify(l, s, path);
	case KEY_SEEDPATHS:
		return get_seed_paths(l, s, path);
	case KEY_HOOKS:
		return get_hooks(l, s, path);
	}
	return 0;
}

/* Every member of group g must be one of keys. */
int conf_value_walk(struct load *l, const config_setting_t *g,
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
