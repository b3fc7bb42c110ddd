/*
 * options: defaults, collection lists and the JSON config file of
 * directus-sync (keys of directus-sync.config.json; "extends" files are
 * merged first, the child wins, arrays are joined).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "colls.h"
#include "fsutil.h"
#include "json.h"
#include "options.h"
#include "xmalloc.h"

#define MAX_EXTENDS_DEPTH 16

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = v ? xstrdup(v) : NULL;
}

void sync_opts_init(struct sync_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->dump_path = xstrdup("./directus-config");
	o->collections_path = xstrdup("collections");
	o->snapshot_path = xstrdup("snapshot");
	o->specs_path = xstrdup("specs");
	o->collections = true;
	o->snapshot = true;
	o->split = true;
	o->specs = true;
	o->sync_policy_roles = true;
	o->max_push_retries = 20;
	o->max_deletes = -1;
	o->id_map = IDMAP_AUTO;
	sync_opts_seed_path(o, "./directus-config/seed", false);
	o->hook_timeout = 60.0;
}

const char *sync_hook_point_name(enum hook_point p)
{
	static const char *const names[] = { "onQuery", "onDump", "onSave",
		"onLoad" };

	return (unsigned)p < HOOK_POINTS ? names[p] : "?";
}

const char *sync_hook_row_name(int row)
{
	if (row == HOOK_SNAPSHOT)
		return "snapshot";
	return row >= 0 && row < COLL_COUNT ? colls_names[row] : "?";
}

void sync_opts_set_hook(struct sync_opts *o, int row, enum hook_point p,
    const char *cmd, const char *js_file)
{
	struct sync_hook *h = &o->hooks[row][p];

	free(h->cmd);
	free(h->js_file);
	h->cmd = cmd ? xstrdup(cmd) : NULL;
	h->js_file = js_file ? xstrdup(js_file) : NULL;
}

void sync_opts_seed_path(struct sync_opts *o, const char *path, bool list)
{
	size_t i;

	if (!list || !o->seed_paths_list) {
		for (i = 0; i < o->nseed_paths; i++)
			free(o->seed_paths[i]);
		o->nseed_paths = 0;
	}
	o->seed_paths = xreallocarray(o->seed_paths, o->nseed_paths + 1,
	    sizeof(char *));
	o->seed_paths[o->nseed_paths++] = xstrdup(path);
	o->seed_paths_list = list;
}

void sync_opts_clear(struct sync_opts *o)
{
	size_t i, k;

	free(o->url);
	xfree_secret(o->token);
	free(o->email);
	xfree_secret(o->password);
	free(o->config_path);
	free(o->dump_path);
	free(o->collections_path);
	free(o->snapshot_path);
	free(o->specs_path);
	for (i = 0; i < o->nheaders; i++)
		free(o->headers[i]);
	free(o->headers);
	free(o->ca_file);
	for (i = 0; i < o->nseed_paths; i++)
		free(o->seed_paths[i]);
	free(o->seed_paths);
	for (i = 0; i <= COLL_COUNT; i++)
		for (k = 0; k < HOOK_POINTS; k++) {
			free(o->hooks[i][k].cmd);
			free(o->hooks[i][k].js_file);
		}
	memset(o, 0, sizeof(*o));
}

unsigned sync_opts_selected(const struct sync_opts *o)
{
	unsigned all = (1u << COLL_COUNT) - 1;

	if (!o->collections)
		return 0;
	return (o->only ? o->only : all) & ~o->exclude;
}

bool sync_opts_preserves(const struct sync_opts *o, const char *coll)
{
	int i = colls_index(coll);

	if (i < 0 || colls_preserve[i] == COLL_PRESERVE_NEVER)
		return false;
	if (colls_preserve[i] == COLL_PRESERVE_ALWAYS)
		return true;
	return (o->preserve & COLLS_BIT(i)) != 0;
}

static int add_collection(const char *what, const char *name, size_t len,
    bool preserve, unsigned *out, char **errstr)
{
	char *n = xstrndup(name, len);
	int i, k;

	if (preserve && (strcmp(n, "all") == 0 || strcmp(n, "*") == 0)) {
		for (i = 0; i < COLL_COUNT; i++)
			if (colls_preserve[i] == COLL_PRESERVE_OPTIONAL)
				*out |= COLLS_BIT(i);
		free(n);
		return 0;
	}
	k = colls_index(n);
	if (k < 0 ||
	    (preserve && colls_preserve[k] != COLL_PRESERVE_OPTIONAL)) {
		char ok[256];
		size_t off = 0;

		ok[0] = '\0';
		for (i = 0; i < COLL_COUNT; i++) {
			if (preserve &&
			    colls_preserve[i] != COLL_PRESERVE_OPTIONAL)
				continue;
			off += (size_t)snprintf(ok + off, sizeof(ok) - off,
			    "%s%s", off ? ", " : "", colls_names[i]);
		}
		xasprintf(errstr, "%s: unknown collection '%s' (expected %s%s)",
		    what, n, ok, preserve ? ", all or *" : "");
		free(n);
		return -1;
	}
	*out |= COLLS_BIT(k);
	free(n);
	return 0;
}

int sync_opts_parse_collections(const char *what, const char *list,
    bool preserve, unsigned *out, char **errstr)
{
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");
		const char *s = p;
		size_t len = n;

		while (len && (*s == ' ')) {
			s++;
			len--;
		}
		while (len && s[len - 1] == ' ')
			len--;
		if (len &&
		    add_collection(what, s, len, preserve, out, errstr) < 0)
			return -1;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int list_from_json(const char *file, const char *key,
    const struct json *v, bool preserve, unsigned *out, char **errstr)
{
	size_t i;
	char *what;
	int rc = 0;

	xasprintf(&what, "%s: %s", file, key);
	if (v->type == JSON_STRING)
		rc = sync_opts_parse_collections(what, v->u.str.ptr, preserve,
		    out, errstr);
	else if (v->type != JSON_ARRAY) {
		xasprintf(errstr, "%s must be an array of collection names",
		    what);
		rc = -1;
	} else
		for (i = 0; rc == 0 && i < v->u.arr.len; i++) {
			const char *s = json_str(v->u.arr.items[i]);

			if (s == NULL) {
				xasprintf(errstr, "%s[%zu] must be a string",
				    what, i);
				rc = -1;
			} else
				rc = add_collection(what, s, strlen(s),
				    preserve, out, errstr);
		}
	free(what);
	return rc;
}

/* The string and boolean keys of a config file: one table line each. */
static const struct {
	const char *key;
	size_t off;
} str_keys[] = {
	{ "directusUrl", offsetof(struct sync_opts, url) },
	{ "directusToken", offsetof(struct sync_opts, token) },
	{ "directusEmail", offsetof(struct sync_opts, email) },
	{ "directusPassword", offsetof(struct sync_opts, password) },
	{ "dumpPath", offsetof(struct sync_opts, dump_path) },
	{ "collectionsPath", offsetof(struct sync_opts, collections_path) },
	{ "snapshotPath", offsetof(struct sync_opts, snapshot_path) },
	{ "specsPath", offsetof(struct sync_opts, specs_path) },
}, bool_keys[] = {
	{ "debug", offsetof(struct sync_opts, debug) },
	{ "sortJson", offsetof(struct sync_opts, sort_json) },
	{ "collections", offsetof(struct sync_opts, collections) },
	{ "snapshot", offsetof(struct sync_opts, snapshot) },
	{ "split", offsetof(struct sync_opts, split) },
	{ "specs", offsetof(struct sync_opts, specs) },
	{ "syncPolicyRoles", offsetof(struct sync_opts, sync_policy_roles) },
};

static int apply_scalars(struct sync_opts *o, const char *file,
    const struct json *cfg, char **errstr)
{
	const struct json *v;
	size_t i;

	for (i = 0; i < sizeof(str_keys) / sizeof(str_keys[0]); i++) {
		if ((v = json_get(cfg, str_keys[i].key)) == NULL)
			continue;
		if (v->type != JSON_STRING) {
			xasprintf(errstr, "%s: %s must be a string", file,
			    str_keys[i].key);
			return -1;
		}
		set_str((char **)((char *)o + str_keys[i].off), v->u.str.ptr);
	}
	for (i = 0; i < sizeof(bool_keys) / sizeof(bool_keys[0]); i++) {
		if ((v = json_get(cfg, bool_keys[i].key)) == NULL)
			continue;
		if (v->type != JSON_TRUE && v->type != JSON_FALSE) {
			xasprintf(errstr, "%s: %s must be true or false", file,
			    bool_keys[i].key);
			return -1;
		}
		*(bool *)((char *)o + bool_keys[i].off) = v->type == JSON_TRUE;
	}
	if ((v = json_get(cfg, "maxPushRetries")) != NULL) {
		if (v->type != JSON_NUMBER || v->u.num < 0) {
			xasprintf(errstr,
			    "%s: maxPushRetries must be a number >= 0", file);
			return -1;
		}
		o->max_push_retries = (long)v->u.num;
	}
	return 0;
}

/* seedPath: a path, or an array of them (joined with the paths of the
 * files it extends, as directus-sync's deepmerge joins arrays). */
static int seed_paths_from_json(struct sync_opts *o, const char *file,
    const struct json *v, char **errstr)
{
	size_t i;

	if (v->type == JSON_STRING) {
		sync_opts_seed_path(o, v->u.str.ptr, false);
		return 0;
	}
	for (i = 0; v->type == JSON_ARRAY && i < v->u.arr.len; i++)
		if (json_str(v->u.arr.items[i]) == NULL)
			break;
	if (v->type != JSON_ARRAY || i < v->u.arr.len) {
		xasprintf(errstr,
		    "%s: seedPath must be a path or an array of paths", file);
		return -1;
	}
	for (i = 0; i < v->u.arr.len; i++)
		sync_opts_seed_path(o, json_str(v->u.arr.items[i]), true);
	return 0;
}

static sync_js_reader js_reader;

void sync_opts_set_js_reader(sync_js_reader reader)
{
	js_reader = reader;
}

struct json *sync_js_read(const char *path, char **errstr)
{
	if (js_reader == NULL) {
		xasprintf(errstr, "%s: no reader of JavaScript configs", path);
		return NULL;
	}
	return js_reader(path, errstr);
}

static int hook_point_of(const char *name, int row)
{
	int p;

	for (p = 0; p < HOOK_POINTS; p++)
		if (strcmp(name, sync_hook_point_name((enum hook_point)p)) == 0)
			break;
	if (p == HOOK_POINTS ||
	    (row == HOOK_SNAPSHOT && p != HOOK_LOAD && p != HOOK_SAVE))
		return -1;
	return p;
}

static int hook_row_of(const char *name)
{
	return strcmp(name, "snapshot") == 0 ? HOOK_SNAPSHOT :
					       colls_index(name);
}

static int hooks_row(struct sync_opts *o, const char *what, const char *js,
    int row, const struct json_member *m, char **errstr)
{
	size_t i;

	if (m->val->type != JSON_OBJECT) {
		xasprintf(errstr, "%s.%s must be an object of hooks", what,
		    m->key);
		return -1;
	}
	for (i = 0; i < m->val->u.obj.len; i++) {
		const struct json_member *h = &m->val->u.obj.members[i];
		int p = hook_point_of(h->key, row);
		bool fn = js && json_get_true(h->val, "$function");

		if (p < 0) {
			xasprintf(errstr, "%s.%s.%s: not a hook (%s)", what,
			    m->key, h->key,
			    row == HOOK_SNAPSHOT ? "onLoad or onSave" :
						   "onQuery, onDump, onSave "
						   "or onLoad");
			return -1;
		}
		if (!fn &&
		    (h->val->type != JSON_STRING || h->val->u.str.len == 0)) {
			xasprintf(errstr,
			    "%s.%s.%s must be a command (a string)%s", what,
			    m->key, h->key, js ? " or a function" : "");
			return -1;
		}
		sync_opts_set_hook(o, row, (enum hook_point)p,
		    fn ? NULL : h->val->u.str.ptr, fn ? js : NULL);
	}
	return 0;
}

int sync_opts_hooks_from_json(struct sync_opts *o, const char *what,
    const char *js_file, const struct json *v, char **errstr)
{
	size_t i;

	if (v->type != JSON_OBJECT) {
		xasprintf(errstr, "%s must be an object", what);
		return -1;
	}
	for (i = 0; i < v->u.obj.len; i++) {
		const struct json_member *m = &v->u.obj.members[i];
		int row = hook_row_of(m->key);

		if (strcmp(m->key, "timeout") == 0) {
			if (m->val->type != JSON_NUMBER || m->val->u.num <= 0 ||
			    m->val->u.num > 86400) {
				xasprintf(errstr,
				    "%s.timeout must be a number of seconds "
				    "from 0 to 86400",
				    what);
				return -1;
			}
			o->hook_timeout = m->val->u.num;
			continue;
		}
		if (row < 0 && js_file)
			continue; /* directus-sync ignores it too */
		if (row < 0) {
			xasprintf(errstr,
			    "%s.%s: not a collection dsync syncs nor "
			    "\"snapshot\"",
			    what, m->key);
			return -1;
		}
		if (hooks_row(o, what, js_file, row, m, errstr) < 0)
			return -1;
	}
	return 0;
}

/* Apply one config object's known keys. */
static int apply_object(struct sync_opts *o, const char *file,
    const char *js_file, const struct json *cfg, char **errstr)
{
	const struct json *v;

	if (apply_scalars(o, file, cfg, errstr) < 0)
		return -1;
	if ((v = json_get(cfg, "excludeCollections")) != NULL &&
	    list_from_json(file, "excludeCollections", v, false, &o->exclude,
		errstr) < 0)
		return -1;
	if ((v = json_get(cfg, "onlyCollections")) != NULL &&
	    list_from_json(file, "onlyCollections", v, false, &o->only,
		errstr) < 0)
		return -1;
	if ((v = json_get(cfg, "hooks")) != NULL) {
		char *what;
		int rc;

		xasprintf(&what, "%s: hooks", file);
		rc = sync_opts_hooks_from_json(o, what, js_file, v, errstr);
		free(what);
		if (rc < 0)
			return -1;
	}
	if ((v = json_get(cfg, "seedPath")) != NULL &&
	    seed_paths_from_json(o, file, v, errstr) < 0)
		return -1;
	if ((v = json_get(cfg, "preserveIds")) != NULL) {
		if (v->type == JSON_STRING &&
		    (strcmp(v->u.str.ptr, "all") == 0 ||
			strcmp(v->u.str.ptr, "*") == 0))
			return add_collection(file, "all", 3, true,
			    &o->preserve, errstr);
		if (list_from_json(file, "preserveIds", v, true, &o->preserve,
			errstr) < 0)
			return -1;
	}
	return 0;
}

static bool is_js(const char *path)
{
	size_t n = strlen(path);

	return (n > 3 && strcmp(path + n - 3, ".js") == 0) ||
	    (n > 4 && strcmp(path + n - 4, ".cjs") == 0);
}

/* A config file's object: JSON as it is, JavaScript through the reader. */
static struct json *read_config(const char *path, char **errstr)
{
	char *data = NULL, *perr = NULL;
	struct json *cfg;
	size_t len, n = strlen(path);
	int rc;

	if (n > 4 && strcmp(path + n - 4, ".mjs") == 0) {
		xasprintf(errstr,
		    "%s: an ES module config cannot be loaded (directus-sync "
		    "loads its config with require: use .js or .cjs)",
		    path);
		return NULL;
	}
	if (is_js(path) && js_reader == NULL) {
		xasprintf(errstr,
		    "%s: dsync reads JSON config files only here "
		    "(directus-sync.config.json); a JavaScript config cannot "
		    "be loaded",
		    path);
		return NULL;
	}
	if (is_js(path))
		return js_reader(path, errstr);
	if ((rc = fs_read_file(path, &data, &len)) < 0) {
		xasprintf(errstr, "cannot read config file %s: %s", path,
		    strerror(-rc));
		return NULL;
	}
	if ((cfg = json_parse(data, len, &perr)) == NULL) {
		xasprintf(errstr, "config file %s: %s", path, perr);
		free(perr);
	}
	explicit_bzero(data, len);
	free(data);
	return cfg;
}

static int load_file(struct sync_opts *o, const char *path, int depth,
    char **errstr);

/* The files a config extends, first (the child wins). */
static int load_extends(struct sync_opts *o, const char *path, int depth,
    const struct json *ext, char **errstr)
{
	char *copy = xstrdup(path), *dir = xstrdup(dirname(copy));
	size_t i;
	int rc = 0;

	free(copy);
	if (ext->type != JSON_ARRAY) {
		xasprintf(errstr,
		    "config file %s: extends must be an array of paths", path);
		rc = -1;
	}
	for (i = 0; rc == 0 && i < ext->u.arr.len; i++) {
		const char *p = json_str(ext->u.arr.items[i]);
		char *full;

		if (p == NULL) {
			xasprintf(errstr,
			    "config file %s: extends[%zu] must be a string",
			    path, i);
			rc = -1;
			break;
		}
		full = p[0] == '/' ? xstrdup(p) : fs_join(dir, p);
		rc = load_file(o, full, depth + 1, errstr);
		free(full);
	}
	free(dir);
	return rc;
}

static int load_file(struct sync_opts *o, const char *path, int depth,
    char **errstr)
{
	struct json *cfg, *ext;
	char *abs = NULL;
	int rc = -1;

	if (depth > MAX_EXTENDS_DEPTH) {
		xasprintf(errstr, "%s: \"extends\" nests too deep", path);
		return -1;
	}
	if ((cfg = read_config(path, errstr)) == NULL)
		return -1;
	if (cfg->type != JSON_OBJECT) {
		xasprintf(errstr, "config file %s: expected a JSON object",
		    path);
		goto fail;
	}
	if ((ext = json_get(cfg, "extends")) != NULL &&
	    load_extends(o, path, depth, ext, errstr) < 0)
		goto fail;
	/* The bridge finds a JavaScript hook by its file's full path. */
	if (is_js(path) && (abs = realpath(path, NULL)) == NULL)
		abs = xstrdup(path);
	rc = apply_object(o, path, abs, cfg, errstr);
fail:
	free(abs);
	json_free_wipe(cfg);
	return rc;
}

int sync_opts_load_file(struct sync_opts *o, const char *path, char **errstr)
{
	return load_file(o, path, 0, errstr);
}

int sync_opts_validate_url(const struct sync_opts *o, char **errstr)
{
	if (o->url == NULL || o->url[0] == '\0') {
		*errstr = xstrdup(
		    "no Directus URL: give -u/--directus-url, "
		    "DIRECTUS_URL or directusUrl in the config file");
		return -1;
	}
	if (strncmp(o->url, "http://", 7) != 0 &&
	    strncmp(o->url, "https://", 8) != 0) {
		xasprintf(errstr,
		    "Directus URL '%s' must start with http:// or https://",
		    o->url);
		return -1;
	}
	if (o->ca_file != NULL) {
		char *e = NULL;

		if (sync_opts_check_ca_file(o->ca_file, &e) < 0) {
			xasprintf(errstr,
			    "the CA file (--ca-file, DSYNC_CA_FILE) %s", e);
			free(e);
			return -1;
		}
	}
	return 0;
}

char *sync_opts_url_shown(const char *url)
{
	const char *host = strstr(url, "://"), *at;
	char *out;

	host = host ? host + 3 : url;
	at = strchr(host, '@');
	if (at == NULL || at >= host + strcspn(host, "/?#"))
		return xstrdup(url);
	xasprintf(&out, "%.*s%s", (int)(host - url), url, at + 1);
	return out;
}

/* Checked here rather than at the first request, where libcurl says
 * only "error setting certificate file". */
int sync_opts_check_ca_file(const char *path, char **errstr)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int fd, rc;

	/* O_NONBLOCK: a FIFO must not hang the start. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) <
		0 ||
	    fstat(fd, &st) < 0) {
		xasprintf(errstr, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if (!S_ISREG(st.st_mode)) {
		xasprintf(errstr, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_size > ((off_t)64 << 20)) {
		xasprintf(errstr, "%s: larger than 64 MiB: not a CA bundle",
		    path);
		return -1;
	}
	if ((rc = fs_read_file(path, &text, &len)) < 0) {
		xasprintf(errstr, "%s: %s", path, strerror(-rc));
		return -1;
	}
	/* "BEGIN CERTIFICATE" or OpenSSL's "BEGIN TRUSTED CERTIFICATE". */
	if (memmem(text, len, "-----BEGIN ", 11) == NULL ||
	    memmem(text, len, "CERTIFICATE-----", 16) == NULL) {
		xasprintf(errstr,
		    "%s: holds no PEM certificate (-----BEGIN "
		    "CERTIFICATE-----)",
		    path);
		free(text);
		return -1;
	}
	free(text);
	return 0;
}

int sync_opts_validate(const struct sync_opts *o, char **errstr)
{
	if (sync_opts_validate_url(o, errstr) < 0)
		return -1;
	if ((o->token == NULL || o->token[0] == '\0') &&
	    (o->email == NULL || o->password == NULL)) {
		*errstr = xstrdup(
		    "no credentials: give -t/--directus-token "
		    "(DIRECTUS_TOKEN), or -e and -p (DIRECTUS_ADMIN_EMAIL and "
		    "DIRECTUS_ADMIN_PASSWORD)");
		return -1;
	}
	return 0;
}
