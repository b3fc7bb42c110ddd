/*
 * conf: dsyncd.conf (libconfig syntax) read into struct conf. One table
 * line per setting gives its type, range and field; conf_load reads the
 * file, has it parsed (conf_text.c) and walked (conf_value.c), then checks
 * what no single setting can, reads the credentials (conf_secret.c) and
 * resolves the control group. conf_print is in conf_print.c. Here too:
 * the parser of metrics.listen, for the walk and for the daemon's bind.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libconfig.h>
#include <libgen.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "conf_int.h"
#include "fsutil.h"
#include "xmalloc.h"

#define OFF(f) offsetof(struct conf, f)

/* Enum settings are stored through an int. */
_Static_assert(sizeof(enum conf_policy) == sizeof(int), "enum size");
_Static_assert(sizeof(enum conf_watch) == sizeof(int), "enum size");
_Static_assert(sizeof(enum conf_initial) == sizeof(int), "enum size");
_Static_assert(sizeof(enum idmap_backend) == sizeof(int), "enum size");
_Static_assert(CONF_EV_COUNT <= 32, "an unsigned holds the events");

#define GROUP(n, t) \
	{ \
		n, KEY_GROUP, NO_FIELD, 0, 0, t \
	}
#define PLAIN(n, ty, f) \
	{ \
		n, ty, OFF(f), 0, 0, NULL \
	}
#define RANGE(n, ty, f, lo, hi, unit) \
	{ \
		n, ty, OFF(f), lo, hi, unit \
	}
#define ONE_OF(n, ty, f, names) \
	{ \
		n, ty, OFF(f), 0, 0, names \
	}
#define CRED(n) \
	{ \
		n, KEY_CRED, NO_FIELD, 0, 0, NULL \
	}

/* Indexed by the enums' values. */
const char *const conf_policy_names[] = { "push", "report", "ignore", "pull",
	"sync", NULL };
static const char *const initial_names[] = { "report", "push", "pull", NULL };
static const char *const watch_names[] = { "tree", "commits", NULL };
static const char *const id_map_names[] = { "auto", "extension", "collection",
	NULL };
static const char *const log_names[] = { "info", "debug", NULL };
const char *const conf_event_names[] = { "drift", "conflict",
	"conflict_resolved", "held", "job_failed", "degraded", "recovered",
	"commit", "git_push_failed", "paused", "resumed", "config_error",
	NULL };
_Static_assert(sizeof(conf_event_names) / sizeof(conf_event_names[0]) ==
	CONF_EV_COUNT + 1,
    "an event's name each");
const char *const conf_notify_format_names[] = { "json", "slack", NULL };

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
	PLAIN("ca_file", KEY_CAFILE, ca_file),
	PLAIN("tls_verify", KEY_BOOL, tls_verify),
	{ NULL, KEY_GROUP, 0, 0, 0, NULL },
};

static const struct key poll_keys[] = {
	RANGE("interval", KEY_FLOAT, poll_interval, 1, 86400, "seconds"),
	RANGE("full_every", KEY_UINT, poll_full_every, 0, 100000, NULL),
	RANGE("backoff_max", KEY_FLOAT, backoff_max, 1, 86400, "seconds"),
	{ NULL, KEY_GROUP, 0, 0, 0, NULL },
};

static const struct key policy_keys[] = {
	ONE_OF("default", KEY_ENUM, policy_default, conf_policy_names),
	ONE_OF("schema", KEY_ENUM, policy_schema, conf_policy_names),
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

static const struct key git_keys[] = {
	PLAIN("commit", KEY_BOOL, git.commit),
	PLAIN("author_name", KEY_AUTHOR, git.author_name),
	PLAIN("author_email", KEY_EMAIL, git.author_email),
	PLAIN("branch", KEY_BRANCH, git.branch),
	PLAIN("push", KEY_PUSH, git.push_remote),
	{ NULL, KEY_GROUP, 0, 0, 0, NULL },
};

static const struct key metrics_keys[] = {
	PLAIN("listen", KEY_LISTEN, metrics_listen),
	{ NULL, KEY_GROUP, 0, 0, 0, NULL },
};

static const struct key seed_keys[] = {
	PLAIN("enabled", KEY_BOOL, seed_enabled),
	PLAIN("paths", KEY_SEEDPATHS, seed_paths),
	{ NULL, KEY_GROUP, 0, 0, 0, NULL },
};

/* The file's settings, in the order conf_print shows them. */
const struct key conf_keys[] = {
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
	ONE_OF("initial", KEY_ENUM, initial, initial_names),
	PLAIN("allow_deletes", KEY_BOOL, allow_deletes),
	RANGE("max_deletes", KEY_LONG, max_deletes, -1, 1000000, NULL),
	PLAIN("allow_schema_deletes", KEY_BOOL, allow_schema_deletes),
	GROUP("git", git_keys),
	GROUP("seed", seed_keys),
	PLAIN("hooks", KEY_HOOKS, sync.hooks),
	GROUP("control", control_keys),
	GROUP("metrics", metrics_keys),
	PLAIN("notify", KEY_NOTIFY, notify),
	ONE_OF("log_level", KEY_WORD, log_level, log_names),
	PLAIN("dumpable", KEY_BOOL, dumpable),
	{ NULL, KEY_GROUP, 0, 0, 0, NULL },
};

/* Every group, for "did you mean 'directus.timeout'?" */
const struct conf_group conf_groups[] = {
	{ "", conf_keys },
	{ "directus.", directus_keys },
	{ "poll.", poll_keys },
	{ "policy.", policy_keys },
	{ "git.", git_keys },
	{ "control.", control_keys },
	{ "metrics.", metrics_keys },
	{ "seed.", seed_keys },
};
const size_t conf_ngroups = sizeof(conf_groups) / sizeof(conf_groups[0]);

void conf_init(struct conf *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	sync_opts_init(&c->sync);
	free(c->sync.dump_path); /* required: no default */
	c->sync.dump_path = NULL;
	c->sync.max_deletes = 10;
	c->sync.lock_wait = 30.0;
	c->sync.max_body = (size_t)256 << 20;
	c->timeout = 300.0;
	c->max_response_mb = 256.0;
	c->ca_file = NULL;
	c->tls_verify = true;
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
	c->initial = CONF_INITIAL_REPORT;
	c->git.commit = false;
	c->git.author_name = xstrdup("dsync");
	c->git.author_email = xstrdup("dsync@localhost");
	c->git.branch = NULL;
	c->git.push_remote = NULL;
	c->git.push_branch = NULL;
	c->control_socket = xstrdup("/run/dsyncd/control.sock");
	c->control_mode = 0660;
	c->control_group = NULL;
	c->control_gid = (gid_t)-1;
	c->metrics_listen = NULL;
	c->seed_enabled = false;
	c->seed_paths = xcalloc(2, sizeof(char *));
	c->seed_paths[0] = xstrdup("seed");
	c->nseed_paths = 1;
	c->notify = NULL;
	c->nnotify = 0;
	c->log_level = xstrdup("info");
	c->dumpable = false;
}

void conf_notify_clear(struct conf *c)
{
	size_t i;

	for (i = 0; i < c->nnotify; i++) {
		xfree_secret(c->notify[i].url);
		xfree_secret(c->notify[i].secret);
		free(c->notify[i].secret_file);
	}
	free(c->notify);
	c->notify = NULL;
	c->nnotify = 0;
}

void conf_clear(struct conf *c)
{
	size_t i;

	free(c->path);
	free(c->url);
	xfree_secret(c->token);
	free(c->token_source);
	free(c->email);
	xfree_secret(c->password);
	free(c->password_source);
	for (i = 0; i < c->nheaders; i++)
		free(c->headers[i]);
	free(c->headers);
	free(c->ca_file);
	sync_opts_clear(&c->sync);
	free(c->state_dir);
	free(c->git.author_name);
	free(c->git.author_email);
	free(c->git.branch);
	free(c->git.push_remote);
	free(c->git.push_branch);
	free(c->control_socket);
	free(c->control_group);
	free(c->metrics_listen);
	free(c->hooks_js_config);
	for (i = 0; i < c->nseed_paths; i++)
		free(c->seed_paths[i]);
	free(c->seed_paths);
	conf_notify_clear(c);
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
	case CONF_POLICY_PULL:
		return "pull";
	case CONF_POLICY_SYNC:
		return "sync";
	default:
		return "push";
	}
}

const char *conf_initial_name(enum conf_initial i)
{
	switch (i) {
	case CONF_INITIAL_PUSH:
		return "push";
	case CONF_INITIAL_PULL:
		return "pull";
	default:
		return "report";
	}
}

/* ---- metrics.listen ---- */

/* What is wrong with the port of a listen address, or NULL. */
static const char *port_bad(const char *p, unsigned *port)
{
	unsigned long v = 0;

	if (*p == '\0')
		return "no port after the ':'";
	if (strspn(p, "0123456789") != strlen(p))
		return "a port that is not a decimal number";
	for (; *p && v <= 65535; p++)
		v = v * 10 + (unsigned long)(*p - '0');
	if (v < 1 || v > 65535)
		return "a port out of 1..65535";
	*port = (unsigned)v;
	return NULL;
}

/* What is wrong with the host (n bytes at h) of "HOST:PORT", or NULL: an
 * IPv4 address, or a host name of letters, digits, '-' and '.'. */
static const char *host_bad(const char *h, size_t n)
{
	char buf[256];
	struct in_addr a;
	size_t i;

	if (n == 0)
		return "no host before the ':'";
	if (memchr(h, ':', n) != NULL)
		return "an IPv6 address without brackets: write [ADDRESS]:PORT";
	if (n > 253)
		return "a host name longer than 253 bytes";
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)h[i]) && h[i] != '-' && h[i] != '.')
			return "a host that is neither an IPv4 address nor a "
			       "host name (letters, digits, '-' and '.')";
	memcpy(buf, h, n);
	buf[n] = '\0';
	if (strspn(buf, "0123456789.") == n)
		return inet_pton(AF_INET, buf, &a) == 1 ?
		    NULL :
		    "a host that is not a valid IPv4 address";
	if (buf[0] == '-' || buf[0] == '.' || strstr(buf, "..") != NULL)
		return "a host name that is not valid";
	return NULL;
}

/* "[IPV6]:PORT": the address into *host. */
static const char *bracket_bad(const char *v, char **host, unsigned *port)
{
	const char *end = strchr(v, ']'), *why;
	char buf[INET6_ADDRSTRLEN];
	struct in6_addr a;
	size_t n;

	if (end == NULL)
		return "a '[' without its ']'";
	n = (size_t)(end - v - 1);
	if (n == 0 || n >= sizeof(buf))
		return "no valid IPv6 address in the brackets";
	memcpy(buf, v + 1, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET6, buf, &a) != 1)
		return "no valid IPv6 address in the brackets";
	if (end[1] != ':')
		return "no ':PORT' after the ']'";
	if ((why = port_bad(end + 2, port)) != NULL)
		return why;
	*host = xstrdup(buf);
	return NULL;
}

/* What is wrong with listen, or NULL; its parts into *host and *port, or
 * *path. */
static const char *listen_bad(const char *v, char **host, unsigned *port,
    char **path)
{
	const char *colon, *why, *p;

	if (v[0] == '/') {
		for (p = v; *p; p++)
			if ((unsigned char)*p < ' ' || *p == 0x7f)
				return "a path with a control character";
		if (strlen(v) > sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
			return "a path too long for a Unix socket (at most "
			       "107 bytes)";
		*path = xstrdup(v);
		return NULL;
	}
	if (v[0] == '[')
		return bracket_bad(v, host, port);
	if ((colon = strrchr(v, ':')) == NULL)
		return strchr(v, '/') != NULL ?
		    "a relative path: a Unix socket's path must start with "
		    "'/'" :
		    "no ':PORT'; a Unix socket's path must start with '/'";
	if ((why = host_bad(v, (size_t)(colon - v))) != NULL ||
	    (why = port_bad(colon + 1, port)) != NULL)
		return why;
	*host = xstrndup(v, (size_t)(colon - v));
	return NULL;
}

int conf_listen_split(const char *listen, char **host, unsigned *port,
    char **path, const char **why)
{
	*host = NULL;
	*path = NULL;
	*port = 0;
	*why = listen == NULL ? "nothing" :
	    *listen == '\0'   ? "an empty string" :
				listen_bad(listen, host, port, path);
	if (*why == NULL)
		return 0;
	free(*host);
	*host = NULL;
	*port = 0;
	return -1;
}

int conf_listen_parse(const char *listen, char **host, unsigned *port,
    char **path)
{
	const char *why;

	return conf_listen_split(listen, host, port, path, &why);
}

/* ---- messages and files ---- */

/* "file:line: message", for a setting. */
int conf_at(const struct load *l, const config_setting_t *s, const char *fmt,
    ...)
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

char *conf_resolve(const struct load *l, const char *p)
{
	return p[0] == '/' ? xstrdup(p) : fs_join(l->dir, p);
}

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
int conf_read_file(const char *path, size_t max, char **out, size_t *len,
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

/* ---- after the walk ---- */

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
		return conf_at(l, s,
		    "control.group: cannot look up group '%s': %s", name,
		    strerror(e));
	if (res == NULL)
		return conf_at(l, s, "control.group: unknown group '%s'", name);
	return 0;
}

/* The engine's copy of what it needs. */
static void fill_sync(struct conf *c)
{
	struct sync_opts *o = &c->sync;
	size_t i;

	free(o->url);
	o->url = xstrdup(c->url);
	xfree_secret(o->token);
	o->token = c->token ? xstrdup(c->token) : NULL;
	free(o->email);
	o->email = c->email ? xstrdup(c->email) : NULL;
	xfree_secret(o->password);
	o->password = c->password ? xstrdup(c->password) : NULL;
	for (i = 0; i < o->nheaders; i++)
		free(o->headers[i]);
	free(o->headers);
	o->headers = xreallocarray(NULL, c->nheaders ? c->nheaders : 1,
	    sizeof(char *));
	for (i = 0; i < c->nheaders; i++)
		o->headers[i] = xstrdup(c->headers[i]);
	o->nheaders = c->nheaders;
	free(o->ca_file);
	o->ca_file = c->ca_file ? xstrdup(c->ca_file) : NULL;
	o->insecure = !c->tls_verify;
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
		xasprintf(l->errstr,
		    "%s: directus.url is required: directus "
		    "= { url = \"https://...\"; };",
		    c->path);
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
		return conf_at(l, s,
		    "poll.backoff_max must not be less than poll.interval");
	if (c->max_response_mb * 1048576.0 >= (double)SIZE_MAX)
		return conf_at(l,
		    config_lookup(cfg, "directus.max_response_mb"),
		    "directus.max_response_mb is too large for this system");
	if (c->git.push_remote != NULL && !c->git.commit)
		return conf_at(l, config_lookup(cfg, "git.push"),
		    "git.push "
		    "needs git.commit = true (only the daemon's own commits "
		    "are pushed)");
	for (i = 0; i < COLL_COUNT; i++)
		if (!(l->policy_set & COLLS_BIT(i)))
			c->policy[i] = c->policy_default;
	if (conf_secret_load(l, cfg) < 0)
		return -1;
	if (c->control_group != NULL && resolve_group(l, cfg) < 0)
		return -1;
	fill_sync(c);
	return 0;
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

static void wipe_string(config_setting_t *s)
{
	if (s != NULL && config_setting_type(s) == CONFIG_TYPE_STRING)
		explicit_bzero((char *)config_setting_get_string(s),
		    strlen(config_setting_get_string(s)));
}

/* libconfig frees without wiping: an inline token, and the webhooks'
 * URLs, are wiped here. */
static void wipe_inline_token(config_t *cfg)
{
	config_setting_t *notify = config_lookup(cfg, "notify"), *e;
	int i;

	wipe_string(config_lookup(cfg, "directus.token"));
	for (i = 0; notify != NULL &&
	     (e = config_setting_get_elem(notify, (unsigned)i)) != NULL;
	     i++)
		if (config_setting_is_group(e))
			wipe_string(config_setting_get_member(e, "url"));
}

bool conf_peek_dumpable(const char *path)
{
	struct conf c;
	char *err = NULL, *text = NULL;
	struct load l = { .c = &c, .errstr = &err };
	const config_setting_t *s;
	size_t len = 0;
	config_t cfg;
	bool on = false;

	conf_init(&c);
	config_init(&cfg);
	c.path = xstrdup(path);
	l.dir = dir_of(path);
	if (conf_read_file(path, CONF_MAX_FILE, &text, &len, &l.mode, &err) ==
		0 &&
	    conf_text_parse(&l, &cfg, text) == 0 &&
	    (s = config_lookup(&cfg, "dumpable")) != NULL &&
	    config_setting_type(s) == CONFIG_TYPE_BOOL)
		on = config_setting_get_bool(s) != 0;
	wipe_inline_token(&cfg);
	config_destroy(&cfg);
	if (text)
		explicit_bzero(text, len);
	free(text);
	free(err);
	free(l.dir);
	conf_clear(&c);
	return on;
}

int conf_load(struct conf *c, const char *path, char **errstr)
{
	struct load l = { .c = c, .errstr = errstr };
	char *text = NULL;
	size_t len = 0;
	config_t cfg;
	int rc = -1;

	config_init(&cfg);
	free(c->path);
	c->path = xstrdup(path);
	l.dir = dir_of(path);
	if (conf_read_file(path, CONF_MAX_FILE, &text, &len, &l.mode, errstr) <
	    0)
		goto fail;
	if (conf_text_parse(&l, &cfg, text) < 0)
		goto fail;
	if (conf_value_walk(&l, config_root_setting(&cfg), conf_keys, "") < 0)
		goto fail;
	rc = finish(&l, &cfg);
fail:
	wipe_inline_token(&cfg);
	config_destroy(&cfg);
	if (text)
		explicit_bzero(text, len);
	free(text);
	free(l.dir);
	return rc;
}
