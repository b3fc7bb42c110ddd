/*
 * test_conf: dsyncd.conf as a user meets it: the example file and the
 * defaults, every refusal with its file:line and setting, the credential
 * ways and the permission rules, includes, and conf_print read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "colls.h"
#include "conf.h"
#include "fsutil.h"
#include "xmalloc.h"

#define SECRET "tok-Secret-4711"
#define HOOK_KEY "hook-Key-0815" /* a webhook's HMAC key */

static char tmpdir[] = "/tmp/dsync-test-conf.XXXXXX";

/* Enough of a CA file for the checks at load (curl reads it later). */
#define PEM \
	"# a CA\n-----BEGIN CERTIFICATE-----\nMIIBdTCCARugAwIBAgIU\n" \
	"-----END CERTIFICATE-----\n"

/* "directus = {...}; dump_path" with a good token file, for the tests of
 * everything else. */
#define BASE \
	"directus = { url = \"http://127.0.0.1:8055\"; " \
	"token_file = \"token\"; };\ndump_path = \"dump\";\n"

static char *tmp_path(const char *name)
{
	return fs_join(tmpdir, name);
}

static char *write_tmp(const char *name, const char *text, mode_t mode)
{
	char *path = tmp_path(name);
	char *slash = strrchr(path, '/');

	*slash = '\0';
	assert_int_equal(fs_mkdirs(path, 0700), 0);
	*slash = '/';
	assert_int_equal(fs_write_file(path, text, strlen(text)), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

/* Loads text as tmpdir/dsyncd.conf (mode 0600). */
static int load(struct conf *c, const char *text, char **err)
{
	char *path = write_tmp("dsyncd.conf", text, 0600);
	int rc;

	conf_init(c);
	*err = NULL;
	rc = conf_load(c, path, err);
	free(path);
	return rc;
}

static void load_ok(struct conf *c, const char *text)
{
	char *err;

	if (load(c, text, &err) < 0) {
		print_error("unexpected error: %s\n", err);
		fail();
	}
}

/* The load fails, and its message holds each of the NULL-ended parts
 * and never the secret. */
static void expect_error(const char *text, ...)
{
	struct conf c;
	const char *part;
	char *err;
	va_list ap;

	if (load(&c, text, &err) == 0) {
		print_error("loaded, expected an error, for:\n%s\n", text);
		fail();
	}
	assert_non_null(err);
	va_start(ap, text);
	while ((part = va_arg(ap, const char *)) != NULL)
		if (strstr(err, part) == NULL) {
			print_error("message '%s' lacks '%s'\n", err, part);
			fail();
		}
	va_end(ap);
	assert_null(strstr(err, SECRET));
	free(err);
	conf_clear(&c);
}

/* Not inlined: once inlined, GCC 12 takes the string open_memstream
 * made for a pointer to the local that held it (-Wdangling-pointer). */
__attribute__((noinline)) static char *printed(const struct conf *c)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	conf_print(c, f);
	fclose(f);
	return out;
}

static char *replace(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	size_t off;
	char *out;

	if (p == NULL) {
		print_error("'%s' not found\n", from);
		fail();
	}
	off = (size_t)(p - s);
	xasprintf(&out, "%.*s%s%s", (int)off, s, to, s + off + strlen(from));
	return out;
}

/* The whole line that holds what. */
static char *replace_line(const char *s, const char *what, const char *to)
{
	const char *p = strstr(s, what), *b, *e;
	char *out;

	assert_non_null(p);
	for (b = p; b > s && b[-1] != '\n'; b--)
		;
	e = p + strcspn(p, "\n");
	xasprintf(&out, "%.*s%s%s", (int)(b - s), s, to, e);
	return out;
}

static unsigned bit(const char *name)
{
	return COLLS_BIT(colls_index(name));
}

static int setup(void **state)
{
	char *p;

	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	p = write_tmp("token", SECRET "\n", 0600);
	free(p);
	p = write_tmp("ca.pem", PEM, 0644);
	free(p);
	unsetenv("CREDENTIALS_DIRECTORY");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return fs_rmtree(tmpdir);
}

static void check_defaults(const struct conf *c)
{
	size_t i;

	assert_string_equal(c->sync.collections_path, "collections");
	assert_string_equal(c->sync.snapshot_path, "snapshot");
	assert_string_equal(c->sync.specs_path, "specs");
	assert_true(c->sync.collections && c->sync.snapshot && c->sync.split &&
	    c->sync.specs);
	assert_int_equal(c->sync.only, 0);
	assert_int_equal(c->sync.exclude, 0);
	assert_int_equal(c->sync.preserve, 0);
	assert_false(c->sync.sort_json);
	assert_int_equal(c->sync.id_map, IDMAP_AUTO);
	assert_true(c->sync.sync_policy_roles);
	assert_false(c->sync.force);
	assert_int_equal(c->sync.max_push_retries, 20);
	assert_true(c->sync.lock_wait == 30.0);
	assert_int_equal(c->sync.max_body, (size_t)256 << 20);
	assert_int_equal(c->sync.max_deletes, 10);
	assert_int_equal(c->nheaders, 0);
	assert_int_equal(c->sync.nheaders, 0);
	assert_true(c->timeout == 300.0);
	assert_true(c->max_response_mb == 256.0);
	assert_string_equal(c->state_dir, "/var/lib/dsyncd");
	assert_int_equal(c->watch, CONF_WATCH_TREE);
	assert_true(c->debounce == 1.0);
	assert_true(c->poll_interval == 60.0);
	assert_int_equal(c->poll_full_every, 10);
	assert_true(c->backoff_max == 300.0);
	assert_int_equal(c->policy_default, CONF_POLICY_PUSH);
	assert_int_equal(c->policy_schema, CONF_POLICY_PUSH);
	for (i = 0; i < COLL_COUNT; i++)
		assert_int_equal(c->policy[i], CONF_POLICY_PUSH);
	assert_false(c->allow_deletes);
	assert_int_equal(c->max_deletes, 10);
	assert_false(c->allow_schema_deletes);
	assert_string_equal(c->control_socket, "/run/dsyncd/control.sock");
	assert_int_equal(c->control_mode, 0660);
	assert_null(c->control_group);
	assert_int_equal(c->control_gid, (gid_t)-1);
	assert_string_equal(c->log_level, "info");
	assert_false(c->sync.debug);
	assert_int_equal(c->initial, CONF_INITIAL_REPORT);
	assert_false(c->git.commit);
	assert_string_equal(c->git.author_name, "dsync");
	assert_string_equal(c->git.author_email, "dsync@localhost");
	assert_null(c->git.branch);
	assert_null(c->git.push_remote);
	assert_null(c->git.push_branch);
	assert_null(c->ca_file);
	assert_true(c->tls_verify);
	assert_null(c->sync.ca_file);
	assert_false(c->sync.insecure);
	assert_false(c->dumpable);
	assert_null(c->metrics_listen);
	assert_null(c->notify);
	assert_int_equal(c->nnotify, 0);
}

/* Into *out: a pointer returned from a local makes gcc 12 warn. */
static void example_text(char **out)
{
	const char *env = getenv("DSYNC_CONF_EXAMPLE");
	char *path, *dir = xstrdup(__FILE__), *slash;
	size_t len;

	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else
		strcpy(dir, ".");
	if (env)
		path = xstrdup(env);
	else
		xasprintf(&path, "%s/../../config/dsyncd.conf.example", dir);
	if (fs_read_file(path, out, &len) < 0) {
		print_error("cannot read %s (set DSYNC_CONF_EXAMPLE)\n", path);
		fail();
	}
	free(path);
	free(dir);
}

/* The example holds every setting, each with its default. */
static void test_example(void **state)
{
	static const char *const names[] = { "directus", "url", "token_file",
		"token_env", "token", "email", "password_file", "headers",
		"timeout", "max_response_mb", "dump_path", "collections_path",
		"snapshot_path", "specs_path", "collections", "snapshot",
		"split", "specs", "only_collections", "exclude_collections",
		"preserve_ids", "sort_json", "id_map", "sync_policy_roles",
		"force", "max_push_retries", "lock_wait", "state_dir", "watch",
		"debounce", "poll", "interval", "full_every", "backoff_max",
		"policy", "default", "schema", "control", "socket", "mode",
		"group", "allow_deletes", "max_deletes", "allow_schema_deletes",
		"log_level", "initial", "git", "commit", "author_name",
		"author_email", "branch", "push", "ca_file", "tls_verify",
		"dumpable", "metrics", "listen", "notify", "events", "format",
		"secret_file", "hooks", "js_config", "on_query", "seed",
		"enabled", "paths" };
	struct conf c, d;
	char *text = NULL, *t, *p1, *p2, *tok;
	size_t i;

	(void)state;
	example_text(&text);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *pat;

		xasprintf(&pat, "%s =", names[i]);
		if (strstr(text, pat) == NULL) {
			print_error("the example lacks '%s'\n", pat);
			fail();
		}
		free(pat);
	}
	t = replace(text, "token_file = \"/etc/dsyncd/token\";",
	    "token_file = \"token\";");
	load_ok(&c, t);
	check_defaults(&c);
	assert_string_equal(c.url, "http://127.0.0.1:8055");
	assert_string_equal(c.sync.url, "http://127.0.0.1:8055");
	assert_string_equal(c.sync.dump_path, "/srv/directus-config");
	assert_string_equal(c.token, SECRET);
	tok = tmp_path("token");
	assert_non_null(strstr(c.token_source, tok));

	/* The same as a file that gives nothing but the required. */
	load_ok(&d,
	    "directus = { url = \"http://127.0.0.1:8055\"; "
	    "token_file = \"token\"; };\ndump_path = \"/srv/directus-config\";\n");
	p1 = printed(&c);
	p2 = printed(&d);
	assert_string_equal(p1, p2);
	free(p1);
	free(p2);
	free(tok);
	conf_clear(&c);
	conf_clear(&d);
	free(t);
	free(text);
}

static void test_defaults(void **state)
{
	struct conf c;
	char *p;

	(void)state;
	load_ok(&c, BASE);
	check_defaults(&c);
	p = tmp_path("dump");
	assert_string_equal(c.sync.dump_path, p);
	free(p);
	p = tmp_path("dsyncd.conf");
	assert_string_equal(c.path, p);
	free(p);
	assert_string_equal(c.token, SECRET);
	assert_string_equal(c.sync.token, SECRET);
	assert_null(c.email);
	assert_null(c.sync.password);
	conf_clear(&c);

	/* conf_init alone: the same defaults. */
	conf_init(&c);
	check_defaults(&c);
	assert_null(c.url);
	assert_null(c.sync.dump_path);
	conf_clear(&c);
}

static void test_unknown(void **state)
{
	(void)state;
	expect_error(BASE "\nmax_delete = 5;\n",
	    "dsyncd.conf:4: unknown "
	    "setting 'max_delete' (did you mean 'max_deletes'?)",
	    NULL);
	expect_error("directus = {\n url = \"http://h\";\n token_file = "
		     "\"token\";\n tokn_env = \"X\";\n};\ndump_path = \"d\";\n",
	    "dsyncd.conf:4: unknown setting 'directus.tokn_env' (did you "
	    "mean 'directus.token_env'?)",
	    NULL);
	expect_error(BASE "poll = {\n  intervall = 5;\n};\n",
	    "dsyncd.conf:4: unknown setting 'poll.intervall' (did you mean "
	    "'poll.interval'?)",
	    NULL);
	expect_error(BASE "control = { sokcet = \"/run/x\"; };\n",
	    ":3: unknown setting 'control.sokcet' (did you mean "
	    "'control.socket'?)",
	    NULL);
	/* Known in another group. */
	expect_error(BASE "timeout = 5;\n",
	    ":3: unknown setting 'timeout' (did you mean 'directus.timeout'?)",
	    NULL);
	expect_error(BASE "frobnicate = true;\n",
	    ":3: unknown setting 'frobnicate'", NULL);
	expect_error(BASE "allow_delete = true;\n",
	    "'allow_delete' (did you mean 'allow_deletes'?)", NULL);
}

static void test_types(void **state)
{
	struct conf c;

	(void)state;
	expect_error(BASE "allow_deletes = 1;\n",
	    "dsyncd.conf:3: allow_deletes must be true or false", NULL);
	expect_error(BASE "force = \"yes\";\n",
	    ":3: force must be true or false", NULL);
	expect_error(BASE "max_deletes = 5.0;\n",
	    ":3: max_deletes must be an integer from -1 to 1000000", NULL);
	expect_error(BASE "poll = { full_every = \"3\"; };\n",
	    ":3: poll.full_every must be an integer", NULL);
	expect_error(BASE "debounce = \"2\";\n",
	    ":3: debounce must be a number of seconds from 0.05 to 3600", NULL);
	expect_error(BASE "state_dir = \"\";\n",
	    ":3: state_dir must not be empty", NULL);
	expect_error(BASE "specs_path = 5;\n",
	    ":3: specs_path must be a string", NULL);
	expect_error(BASE "watch = \"commit\";\n",
	    ":3: watch: unknown value "
	    "'commit' (did you mean 'commits'?; expected tree or commits)",
	    NULL);
	expect_error(BASE "id_map = 1;\n",
	    ":3: id_map must be one of auto, extension or collection", NULL);
	expect_error(BASE "log_level = \"trace\";\n",
	    ":3: log_level: unknown value 'trace'", NULL);
	expect_error(BASE "poll = 5;\n", ":3: poll must be a group", NULL);
	expect_error(BASE "policy = { collections = [ \"flows\" ]; };\n",
	    ":3: policy.collections must be a group", NULL);
	expect_error(BASE "only_collections = \"flows\";\n",
	    ":3: only_collections must be a list", NULL);
	expect_error(BASE "only_collections = [ 1 ];\n",
	    ":3: only_collections[0] must be a collection name", NULL);
	expect_error("directus = { url = \"ftp://h\"; token_file = \"token\"; "
		     "};\ndump_path = \"d\";\n",
	    "dsyncd.conf:1: directus.url must be an http:// or https:// URL",
	    NULL);
	expect_error("directus = { url = \"\"; token_file = \"token\"; "
		     "};\ndump_path = \"d\";\n",
	    "dsyncd.conf:1: directus.url is empty: set it to the address of "
	    "the Directus instance (http:// or https://)",
	    NULL);
	expect_error("directus = { url = \"http://h\"; token_file = \"token\";"
		     "\n headers = [ \"X-Ok: 1\", \"no colon " SECRET
		     "\" ]; };\ndump_path = \"d\";\n",
	    "dsyncd.conf:2: directus.headers[1] must "
	    "be a string \"Name: value\"",
	    NULL);
	expect_error("directus = { url = \"http://h\"; token_file = \"token\";"
		     "\n headers = ( \"X-A: b\\r\\nX-B: " SECRET "\" ); };\n"
		     "dump_path = \"d\";\n",
	    "dsyncd.conf:2: directus.headers[0]", NULL);
	expect_error("directus = 1;\n", ":1: directus must be a group", NULL);

	/* Integers where numbers are expected; lists as well as arrays. */
	load_ok(&c,
	    "directus = { url = \"http://h\"; token_file = \"token\"; "
	    "timeout = 10; };\ndump_path = \"d\";\ndebounce = 2;\nlock_wait = "
	    "0;\npoll = { interval = 120; backoff_max = 600; };\n");
	assert_true(c.debounce == 2.0);
	assert_true(c.sync.lock_wait == 0.0);
	assert_true(c.poll_interval == 120.0);
	assert_true(c.backoff_max == 600.0);
	assert_true(c.timeout == 10.0);
	conf_clear(&c);
}

static void test_duplicate_group(void **state)
{
	(void)state;
	/* libconfig refuses a second "directus" itself. */
	expect_error(BASE "directus = { timeout = 10; };\n",
	    "dsyncd.conf:3:", "duplicate", NULL);
}

static void test_ranges(void **state)
{
	(void)state;
	expect_error(BASE "debounce = 0.01;\n",
	    ":3: debounce must be a number of seconds from 0.05 to 3600", NULL);
	expect_error(BASE "debounce = 1e300;\n", ":3: debounce", NULL);
	expect_error(BASE "debounce = 1e400;\n", ":3: debounce", NULL);
	expect_error(BASE "poll = { interval = 0.5; };\n",
	    ":3: poll.interval must be a number of seconds from 1 to 86400",
	    NULL);
	expect_error(BASE "poll = { full_every = 100001; };\n",
	    ":3: poll.full_every must be an integer from 0 to 100000", NULL);
	expect_error(BASE "poll = { full_every = -1; };\n",
	    ":3: poll.full_every", NULL);
	expect_error(BASE "poll = {\n interval = 60;\n backoff_max = 30;\n};\n",
	    ":5: poll.backoff_max must not be less than poll.interval", NULL);
	expect_error(BASE "poll = { backoff_max = 86401; };\n",
	    ":3: poll.backoff_max", NULL);
	expect_error(BASE "max_deletes = -2;\n",
	    ":3: max_deletes must be an integer from -1 to 1000000", NULL);
	expect_error(BASE "max_deletes = 1000001;\n", ":3: max_deletes", NULL);
	expect_error("directus = { url = \"http://h\"; token_file = \"token\";"
		     " timeout = 3601; };\ndump_path = \"d\";\n",
	    ":1: directus.timeout must be a number of seconds from 1 to 3600",
	    NULL);
	expect_error("directus = { url = \"http://h\"; token_file = \"token\";"
		     " max_response_mb = 0; };\ndump_path = \"d\";\n",
	    ":1: directus.max_response_mb must be a number of MiB from 0.001 "
	    "to 65536",
	    NULL);
	expect_error(BASE "lock_wait = 3601;\n", ":3: lock_wait", NULL);
	expect_error(BASE "lock_wait = -1;\n", ":3: lock_wait", NULL);
	expect_error(BASE "max_push_retries = 1001;\n",
	    ":3: max_push_retries must be an integer from 0 to 1000", NULL);

	/* Values libconfig 1.5 would wrap into range: never accepted. */
	expect_error(BASE "max_deletes = 4294967306;\n",
	    "dsyncd.conf:3: max_deletes: integer out of range", NULL);
	expect_error(BASE "max_deletes = 4294967295;\n",
	    ":3: max_deletes: integer out of range", NULL);
	expect_error(BASE "max_deletes = 0xFFFFFFFF;\n",
	    ":3: max_deletes: integer out of range", NULL);
	expect_error(BASE "max_deletes = 0xFFFFFFFFFFFFFFFFL;\n",
	    ":3: max_deletes: integer out of range", NULL);
	expect_error(BASE "max_deletes = 99999999999999999999;\n",
	    ":3: max_deletes: integer out of range", NULL);
	expect_error(BASE "max_deletes = -99999999999999999999L;\n",
	    ":3: max_deletes: integer out of range", NULL);
	expect_error(BASE "max_deletes = 2147483648L;\n",
	    ":3: max_deletes must be an integer from -1 to 1000000", NULL);
	expect_error(BASE "poll = {\n full_every = 4294967297;\n};\n",
	    ":4: poll.full_every: integer out of range", NULL);
	expect_error(BASE "debounce = 4294967297;\n",
	    ":3: debounce: integer out of range", NULL);
	expect_error(BASE "headers_x = [ 1, 2, 3000000000 ];\n",
	    ":3: headers_x: integer out of range", NULL);
}

static void test_range_edges(void **state)
{
	struct conf c;

	(void)state;
	load_ok(&c,
	    BASE "max_deletes = -1;\ndebounce = 0.05;\nlock_wait = "
		 "3600;\nmax_push_retries = 0;\npoll = { interval = 86400; "
		 "full_every = 0; };\nallow_deletes = true;\n");
	assert_int_equal(c.max_deletes, -1);
	assert_int_equal(c.sync.max_deletes, -1);
	assert_true(c.debounce == 0.05);
	assert_true(c.sync.lock_wait == 3600.0);
	assert_int_equal(c.sync.max_push_retries, 0);
	assert_true(c.poll_interval == 86400.0);
	/* No backoff_max given: it follows a longer interval. */
	assert_true(c.backoff_max == 86400.0);
	assert_int_equal(c.poll_full_every, 0);
	assert_true(c.allow_deletes);
	conf_clear(&c);

	load_ok(&c,
	    "directus = { url = \"https://h.example/\"; token_file = "
	    "\"token\"; max_response_mb = 0.5; timeout = 1; };\n"
	    "dump_path = \"/abs/dump\";\nmax_deletes = 0x10;\n");
	assert_int_equal(c.sync.max_body, (size_t)512 << 10);
	assert_string_equal(c.sync.dump_path, "/abs/dump");
	assert_int_equal(c.max_deletes, 16);
	conf_clear(&c);
}

static void test_mode(void **state)
{
	struct conf c;

	(void)state;
	load_ok(&c, BASE "control = { mode = \"0640\"; };\n");
	assert_int_equal(c.control_mode, 0640);
	conf_clear(&c);
	load_ok(&c, BASE "control = { mode = \"600\"; };\n");
	assert_int_equal(c.control_mode, 0600);
	conf_clear(&c);
	expect_error(BASE "control = { mode = \"0778\"; };\n",
	    ":3: control.mode must be an octal mode in a string", NULL);
	expect_error(BASE "control = { mode = \"01777\"; };\n",
	    ":3: control.mode", NULL);
	expect_error(BASE "control = { mode = \"rw\"; };\n", ":3: control.mode",
	    NULL);
	expect_error(BASE "control = { mode = 0660; };\n",
	    ":3: control.mode must be an octal mode in a string",
	    "read as decimal", NULL);
}

static void test_group(void **state)
{
	struct group *g = getgrgid(getgid());
	struct conf c;
	char *text;

	(void)state;
	expect_error(BASE "control = {\n  group = \"dsync-no-such-group\";\n"
			  "};\n",
	    "dsyncd.conf:4: control.group: unknown group 'dsync-no-such-group'",
	    NULL);
	if (g == NULL)
		return;
	xasprintf(&text, BASE "control = { group = \"%s\"; };\n", g->gr_name);
	load_ok(&c, text);
	assert_string_equal(c.control_group, g->gr_name);
	assert_int_equal(c.control_gid, getgid());
	conf_clear(&c);
	free(text);
}

static void test_collections(void **state)
{
	struct conf c;

	(void)state;
	load_ok(&c,
	    BASE
	    "only_collections = [ \"flows\", \"operations\" ];\n"
	    "exclude_collections = ( \"presets\" );\npreserve_ids = \"all\";\n");
	assert_int_equal(c.sync.only, bit("flows") | bit("operations"));
	assert_int_equal(c.sync.exclude, bit("presets"));
	assert_int_equal(c.sync.preserve,
	    bit("translations") | bit("operations") | bit("roles") |
		bit("policies") | bit("dashboards") | bit("panels"));
	conf_clear(&c);
	load_ok(&c, BASE "preserve_ids = [ \"roles\" ];\n");
	assert_int_equal(c.sync.preserve, bit("roles"));
	conf_clear(&c);

	expect_error(BASE
	    "only_collections = [\n  \"flows\",\n  \"flowz\" ];\n",
	    "dsyncd.conf:5: only_collections: unknown collection 'flowz'",
	    NULL);
	expect_error(BASE "exclude_collections = [ \"\" ];\n",
	    ":3: exclude_collections[0] must be a collection name", NULL);
	expect_error(BASE "preserve_ids = [ \"settings\" ];\n",
	    ":3: preserve_ids: unknown collection 'settings'", NULL);
	expect_error(BASE "preserve_ids = \"some\";\n",
	    ":3: preserve_ids must be a list of collection names, or \"all\"",
	    NULL);
}

static void test_policies(void **state)
{
	struct conf c;
	size_t i;

	(void)state;
	load_ok(&c,
	    BASE
	    "policy = {\n  collections = { flows = \"push\"; "
	    "presets = \"ignore\"; };\n  default = \"report\";\n  schema = "
	    "\"ignore\";\n};\n");
	assert_int_equal(c.policy_default, CONF_POLICY_REPORT);
	assert_int_equal(c.policy_schema, CONF_POLICY_IGNORE);
	for (i = 0; i < COLL_COUNT; i++) {
		const char *n = colls_names[i];

		assert_int_equal(c.policy[i],
		    strcmp(n, "flows") == 0	  ? CONF_POLICY_PUSH :
			strcmp(n, "presets") == 0 ? CONF_POLICY_IGNORE :
						    CONF_POLICY_REPORT);
	}
	conf_clear(&c);

	expect_error(BASE "policy = {\n  collections = {\n    flow = "
			  "\"report\";\n  };\n};\n",
	    "dsyncd.conf:5: policy.collections: "
	    "unknown collection 'flow' (did you mean 'flows'?)",
	    NULL);
	expect_error(BASE "policy = { collections = { gizmos = \"report\"; "
			  "}; };\n",
	    ":3: policy.collections: unknown collection 'gizmos'", NULL);
	expect_error(BASE "policy = { collections = { flows = \"reprot\"; "
			  "}; };\n",
	    ":3: policy.collections.flows: unknown value 'reprot' "
	    "(did you mean 'report'?; expected push, report, ignore, pull or "
	    "sync)",
	    NULL);
	expect_error(BASE "policy = {\n  default = \"mirror\";\n};\n",
	    "dsyncd.conf:4: policy.default: unknown value 'mirror' (expected "
	    "push, report, ignore, pull or sync)",
	    NULL);
	expect_error(BASE "policy = { schema = \"pul\"; };\n",
	    ":3: policy.schema: unknown value 'pul' (did you mean 'pull'?",
	    NULL);
	expect_error(BASE "policy = { collections = { roles = \"synch\"; "
			  "}; };\n",
	    ":3: policy.collections.roles: unknown value 'synch' "
	    "(did you mean 'sync'?",
	    NULL);
	expect_error(BASE "policy = { default = 1; };\n",
	    ":3: policy.default "
	    "must be one of push, report, ignore, pull or sync (a string)",
	    NULL);
	assert_string_equal(conf_policy_name(CONF_POLICY_PUSH), "push");
	assert_string_equal(conf_policy_name(CONF_POLICY_REPORT), "report");
	assert_string_equal(conf_policy_name(CONF_POLICY_IGNORE), "ignore");
	assert_string_equal(conf_policy_name(CONF_POLICY_PULL), "pull");
	assert_string_equal(conf_policy_name(CONF_POLICY_SYNC), "sync");
}

/* pull and sync, per collection, for the schema and as the default. */
static void test_policies_pull_sync(void **state)
{
	struct conf c;
	size_t i;

	(void)state;
	load_ok(&c,
	    BASE "policy = {\n  schema = \"sync\";\n  collections = "
		 "{ flows = \"pull\"; operations = \"sync\"; roles = "
		 "\"report\"; };\n};\n");
	assert_int_equal(c.policy_default, CONF_POLICY_PUSH);
	assert_int_equal(c.policy_schema, CONF_POLICY_SYNC);
	for (i = 0; i < COLL_COUNT; i++) {
		const char *n = colls_names[i];

		assert_int_equal(c.policy[i],
		    strcmp(n, "flows") == 0	     ? CONF_POLICY_PULL :
			strcmp(n, "operations") == 0 ? CONF_POLICY_SYNC :
			strcmp(n, "roles") == 0	     ? CONF_POLICY_REPORT :
						       CONF_POLICY_PUSH);
	}
	conf_clear(&c);

	load_ok(&c,
	    BASE "policy = { default = \"pull\"; schema = \"pull\"; "
		 "collections = { presets = \"push\"; }; };\n");
	assert_int_equal(c.policy_default, CONF_POLICY_PULL);
	assert_int_equal(c.policy_schema, CONF_POLICY_PULL);
	for (i = 0; i < COLL_COUNT; i++)
		assert_int_equal(c.policy[i],
		    strcmp(colls_names[i], "presets") == 0 ? CONF_POLICY_PUSH :
							     CONF_POLICY_PULL);
	conf_clear(&c);

	load_ok(&c, BASE "policy = { default = \"sync\"; };\n");
	assert_int_equal(c.policy_default, CONF_POLICY_SYNC);
	assert_int_equal(c.policy_schema, CONF_POLICY_PUSH);
	for (i = 0; i < COLL_COUNT; i++)
		assert_int_equal(c.policy[i], CONF_POLICY_SYNC);
	conf_clear(&c);
}

static void test_initial(void **state)
{
	static const struct {
		const char *name;
		enum conf_initial v;
	} cases[] = {
		{ "report", CONF_INITIAL_REPORT },
		{ "push", CONF_INITIAL_PUSH },
		{ "pull", CONF_INITIAL_PULL },
	};
	struct conf c;
	size_t i;

	(void)state;
	load_ok(&c, BASE);
	assert_int_equal(c.initial, CONF_INITIAL_REPORT);
	conf_clear(&c);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text;

		xasprintf(&text, BASE "initial = \"%s\";\n", cases[i].name);
		load_ok(&c, text);
		assert_int_equal(c.initial, cases[i].v);
		assert_string_equal(conf_initial_name(c.initial),
		    cases[i].name);
		conf_clear(&c);
		free(text);
	}
	expect_error(BASE "\ninitial = \"sync\";\n",
	    "dsyncd.conf:4: "
	    "initial: unknown value 'sync' (expected report, push or pull)",
	    NULL);
	expect_error(BASE "initial = \"pul\";\n",
	    ":3: initial: unknown "
	    "value 'pul' (did you mean 'pull'?; expected report, push or pull)",
	    NULL);
	expect_error(BASE "initial = true;\n",
	    ":3: initial must be one of report, push or pull (a string)", NULL);
	expect_error(BASE "inital = \"push\";\n",
	    ":3: unknown setting 'inital' (did you mean 'initial'?)", NULL);
	assert_string_equal(conf_initial_name(CONF_INITIAL_REPORT), "report");
	assert_string_equal(conf_initial_name(CONF_INITIAL_PUSH), "push");
	assert_string_equal(conf_initial_name(CONF_INITIAL_PULL), "pull");
}

static void test_git_defaults(void **state)
{
	struct conf c;

	(void)state;
	conf_init(&c);
	assert_false(c.git.commit);
	assert_string_equal(c.git.author_name, "dsync");
	assert_string_equal(c.git.author_email, "dsync@localhost");
	assert_null(c.git.branch);
	assert_null(c.git.push_remote);
	assert_null(c.git.push_branch);
	conf_clear(&c);
	assert_null(c.git.author_name);

	/* An empty group, or part of one: the rest keeps its default. */
	load_ok(&c, BASE "git = { };\n");
	assert_false(c.git.commit);
	assert_string_equal(c.git.author_name, "dsync");
	assert_string_equal(c.git.author_email, "dsync@localhost");
	assert_null(c.git.branch);
	assert_null(c.git.push_remote);
	conf_clear(&c);
	load_ok(&c, BASE "git = { commit = true; };\n");
	assert_true(c.git.commit);
	assert_string_equal(c.git.author_name, "dsync");
	assert_string_equal(c.git.author_email, "dsync@localhost");
	assert_null(c.git.branch);
	assert_null(c.git.push_remote);
	assert_null(c.git.push_branch);
	conf_clear(&c);
}

static void test_git(void **state)
{
	struct conf c;

	(void)state;
	load_ok(&c,
	    BASE
	    "git = {\n  commit = true;\n  author_name = "
	    "\"dsync staging\";\n  author_email = "
	    "\"dsync@staging.example.org\";\n  branch = \"main\";\n  push = "
	    "\"origin main\";\n};\n");
	assert_true(c.git.commit);
	assert_string_equal(c.git.author_name, "dsync staging");
	assert_string_equal(c.git.author_email, "dsync@staging.example.org");
	assert_string_equal(c.git.branch, "main");
	assert_string_equal(c.git.push_remote, "origin");
	assert_string_equal(c.git.push_branch, "main");
	conf_clear(&c);

	/* Blanks around and between the two words. */
	load_ok(&c,
	    BASE "git = { commit = true; push = \"  upstream\t "
		 "release/2.x \"; };\n");
	assert_string_equal(c.git.push_remote, "upstream");
	assert_string_equal(c.git.push_branch, "release/2.x");
	assert_null(c.git.branch);
	conf_clear(&c);
}

static void test_git_errors(void **state)
{
	(void)state;
	expect_error(BASE "git = {\n  commit = true;\n  push = \"origin\";\n"
			  "};\n",
	    "dsyncd.conf:5: git.push must be two words, \"REMOTE "
	    "BRANCH\" (such as \"origin main\"), not one",
	    NULL);
	expect_error(BASE "git = {\n  commit = true;\n  push = \"origin main "
			  "extra\";\n};\n",
	    "dsyncd.conf:5: git.push must be two words", "not three or more",
	    NULL);
	expect_error(BASE "git = {\n  push = \"origin main\";\n};\n",
	    "dsyncd.conf:4: git.push needs git.commit = true", NULL);
	expect_error(BASE "git = {\n  commit = false;\n  push = \"origin "
			  "main\";\n};\n",
	    "dsyncd.conf:5: git.push needs git.commit = true", NULL);
	expect_error(BASE "git = {\n  author_email = \"dsync.localhost\";\n"
			  "};\n",
	    "dsyncd.conf:4: git.author_email must be an email address "
	    "(with an '@')",
	    NULL);
	expect_error(BASE "git = {\n  author_name = \"dsync <x@y>\";\n};\n",
	    "dsyncd.conf:4: git.author_name must not hold '<', '>', a line "
	    "break",
	    NULL);
	expect_error(BASE "git = {\n\n  comit = true;\n};\n",
	    "dsyncd.conf:5: unknown setting 'git.comit' (did you mean "
	    "'git.commit'?)",
	    NULL);
}

/* The git settings' rules, each way they can be broken. */
static void test_git_rules(void **state)
{
	(void)state;
	expect_error(BASE "git = { commit = true; push = \"\"; };\n",
	    ":3: git.push must not be empty", NULL);
	expect_error(BASE "git = { commit = true; push = \" \"; };\n",
	    ":3: git.push must not be empty", NULL);
	expect_error(BASE "git = { commit = true; push = \"-f main\"; };\n",
	    ":3: git.push: the remote must not start with '-'", NULL);
	expect_error(BASE "git = { commit = true; push = \"origin --all\"; "
			  "};\n",
	    ":3: git.push: the branch must not start with '-'", NULL);
	expect_error(BASE "git = { commit = true; push = \"origin\\nmain\"; "
			  "};\n",
	    ":3: git.push must not hold a line break", NULL);
	expect_error(BASE "git = { commit = true; push = [ \"origin\", "
			  "\"main\" ]; };\n",
	    ":3: git.push must be a string: \"REMOTE BRANCH\"", NULL);
	expect_error(BASE "git = { author_name = \"\"; };\n",
	    ":3: git.author_name must not be empty", NULL);
	expect_error(BASE "git = { author_name = \"a>b\"; };\n",
	    ":3: git.author_name must not hold '<', '>'", NULL);
	expect_error(BASE "git = { author_name = \"a\\nb\"; };\n",
	    ":3: git.author_name must not hold '<', '>', a line break", NULL);
	expect_error(BASE "git = { author_email = \"<a@b>\"; };\n",
	    ":3: git.author_email must not hold '<', '>'", NULL);
	expect_error(BASE "git = { author_email = \"a@b\\n\"; };\n",
	    ":3: git.author_email must not hold", NULL);
	expect_error(BASE "git = { author_email = \"\"; };\n",
	    ":3: git.author_email must not be empty", NULL);
	expect_error(BASE "git = { branch = \"\"; };\n",
	    ":3: git.branch must not be empty", NULL);
	expect_error(BASE "git = { branch = \"-main\"; };\n",
	    ":3: git.branch must not start with '-'", NULL);
	expect_error(BASE "git = { branch = \"ma<in\"; };\n",
	    ":3: git.branch must not hold '<', '>'", NULL);
	expect_error(BASE "git = { branch = \"my branch\"; };\n",
	    ":3: git.branch must be a branch name (no spaces)", NULL);
	expect_error(BASE "git = { commit = \"yes\"; };\n",
	    ":3: git.commit must be true or false", NULL);
	expect_error(BASE "git = { author_name = 5; };\n",
	    ":3: git.author_name must be a string", NULL);
	expect_error(BASE "git = true;\n", ":3: git must be a group", NULL);
}

/* Unknown git settings: names near the right one, or in another group. */
static void test_git_names(void **state)
{
	(void)state;
	expect_error(BASE "git = { email = \"a@b\"; };\n",
	    ":3: unknown "
	    "setting 'git.email' (did you mean 'git.author_email'?)",
	    NULL);
	expect_error(BASE "git = { name = \"a\"; };\n",
	    ":3: unknown setting 'git.name' (did you mean 'git.author_name'?)",
	    NULL);
	expect_error(BASE "git = { brnach = \"main\"; };\n",
	    ":3: unknown setting 'git.brnach' (did you mean 'git.branch'?)",
	    NULL);
	expect_error(BASE "commit = true;\n",
	    ":3: unknown setting 'commit' (did you mean 'git.commit'?)", NULL);
	expect_error(BASE "git = { url = \"http://h\"; };\n",
	    ":3: unknown setting 'git.url' (did you mean 'directus.url'?)",
	    NULL);
}

static void test_required(void **state)
{
	(void)state;
	expect_error("directus = { token_file = \"token\"; };\ndump_path = "
		     "\"d\";\n",
	    "dsyncd.conf: directus.url is required", NULL);
	expect_error("dump_path = \"d\";\n", "directus.url is required", NULL);
	expect_error("directus = { url = \"http://h\"; token_file = "
		     "\"token\"; };\n",
	    "dsyncd.conf: dump_path is required", NULL);
	expect_error("directus = { url = \"http://h\"; };\ndump_path = "
		     "\"d\";\n",
	    "dsyncd.conf: no Directus credential", "directus.token_file",
	    "directus.token_env", "directus.token,",
	    "directus.email with directus.password_file",
	    "$CREDENTIALS_DIRECTORY/token", NULL);
	expect_error(
	    "directus = {\n url = \"http://h\";\n token_file = "
	    "\"token\";\n token_env = \"HOME\";\n};\ndump_path = \"d\";\n",
	    "dsyncd.conf:4: directus.token_file and directus.token_env: give "
	    "one credential, not two",
	    NULL);
	expect_error(
	    "directus = {\n url = \"http://h\";\n token = \"" SECRET
	    "\";\n email = \"a@b.c\";\n password_file = \"token\";\n};\n"
	    "dump_path = \"d\";\n",
	    "dsyncd.conf:4: directus.token and "
	    "directus.email: give one credential",
	    NULL);
	expect_error("directus = {\n url = \"http://h\";\n email = \"a@b.c\";"
		     "\n};\ndump_path = \"d\";\n",
	    "dsyncd.conf:3: directus.email needs directus.password_file", NULL);
	expect_error("directus = {\n url = \"http://h\";\n password_file = "
		     "\"token\";\n};\ndump_path = \"d\";\n",
	    "dsyncd.conf:3: directus.password_file needs directus.email", NULL);
	expect_error("directus = { url = \"http://h\"; token_file = \"\"; };\n"
		     "dump_path = \"d\";\n",
	    ":1: directus.token_file must not be empty", NULL);
}

static void test_syntax(void **state)
{
	char *p;

	(void)state;
	expect_error("directus = {\n  url = \"http://h\";\n  timeout = ;\n};\n",
	    "dsyncd.conf:3: syntax error", NULL);
	expect_error("a = 1;\nb = = 2;\n", "dsyncd.conf:2: syntax error", NULL);
	expect_error("directus = { token = \"" SECRET "\" x; };\n",
	    "dsyncd.conf:1: syntax error", NULL);
	expect_error("directus = { token = \"" SECRET "\n",
	    "dsyncd.conf:", NULL);
	p = write_tmp("bad.conf", "x = 1;\ny = [ ;\n", 0600);
	free(p);
	expect_error(BASE "@include \"bad.conf\"\n", "bad.conf:2: syntax error",
	    NULL);
	expect_error("", "directus.url is required", NULL);
}

static void test_missing_file(void **state)
{
	struct conf c;
	char *err = NULL, *p = tmp_path("nope.conf");

	(void)state;
	conf_init(&c);
	assert_int_equal(conf_load(&c, p, &err), -1);
	assert_non_null(strstr(err, "nope.conf: No such file or directory"));
	free(err);
	conf_clear(&c);
	conf_init(&c);
	err = NULL;
	assert_int_equal(conf_load(&c, tmpdir, &err), -1);
	assert_non_null(strstr(err, "not a regular file"));
	free(err);
	conf_clear(&c);
	free(p);
}

static void test_include(void **state)
{
	char *p, *main_path, *err = NULL, cwd[4096];
	struct conf c;

	(void)state;
	p = write_tmp("etc/conf.d/extra.conf",
	    "# shared\nmax_deletes = 3;\n@include \"conf.d/more.conf\"\n",
	    0600);
	free(p);
	p = write_tmp("etc/conf.d/more.conf", "sort_json = true;\n", 0600);
	free(p);
	main_path = write_tmp("etc/dsyncd.conf",
	    "directus = {\n  url = "
	    "\"http://h\";\n  token_file = \"../token\";\n};\ndump_path = "
	    "\"dump\";\n@include \"conf.d/extra.conf\"\n",
	    0600);
	/* From another directory: relative to the file's. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir("/"), 0);
	conf_init(&c);
	if (conf_load(&c, main_path, &err) < 0) {
		print_error("%s\n", err);
		fail();
	}
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(c.max_deletes, 3);
	assert_true(c.sync.sort_json);
	assert_string_equal(c.token, SECRET);
	p = tmp_path("etc/dump");
	assert_string_equal(c.sync.dump_path, p);
	free(p);
	conf_clear(&c);
	free(main_path);

	/* Errors in an included file name it. */
	p = write_tmp("inc-bad.conf", "sort_json = true;\nmax_delets = 3;\n",
	    0600);
	free(p);
	expect_error(BASE "@include \"inc-bad.conf\"\n",
	    "inc-bad.conf:2: "
	    "unknown setting 'max_delets' (did you mean 'max_deletes'?)",
	    NULL);
	p = write_tmp("inc-grp.conf", "  timeout = \"x\";\n", 0600);
	free(p);
	expect_error(
	    "directus = {\n url = \"http://h\"; token_file = \"token\";"
	    "\n@include \"inc-grp.conf\"\n};\ndump_path = \"d\";\n",
	    "inc-grp.conf:1: directus.timeout must be a number", NULL);
	expect_error(BASE "@include \"missing.conf\"\n",
	    "dsyncd.conf:3: @include \"missing.conf\"",
	    "No such file or directory", NULL);
	expect_error(BASE "@include \"etc\"\n",
	    "dsyncd.conf:3: @include \"etc\"", "not a regular file", NULL);
	expect_error(BASE "@include \"/etc/passwd\"\n",
	    "dsyncd.conf:3: "
	    "@include \"/etc/passwd\": give the path relative to",
	    NULL);
	/* An @include in a comment or a string is none. */
	{
		struct conf d;

		load_ok(&d,
		    BASE
		    "# @include \"missing.conf\"\n/*\n@include "
		    "\"missing.conf\"\n*/\nstate_dir = \"@include \\\"x\\\"\";\n");
		conf_clear(&d);
	}
}

static void test_include_loop(void **state)
{
	char *p;
	int i;

	(void)state;
	p = write_tmp("self.conf", "@include \"self.conf\"\n", 0600);
	free(p);
	expect_error(BASE "@include \"self.conf\"\n",
	    "self.conf:1: @include \"self.conf\": an include loop: ",
	    "self.conf -> ", NULL);
	p = write_tmp("loop-a.conf",
	    "force = true;\n@include \"loop-b.conf\"\n", 0600);
	free(p);
	p = write_tmp("loop-b.conf", "@include \"loop-a.conf\"\n", 0600);
	free(p);
	expect_error(BASE "@include \"loop-a.conf\"\n",
	    "loop-b.conf:1: @include \"loop-a.conf\": an include loop: ",
	    "loop-a.conf -> ", "loop-b.conf -> ", NULL);
	/* The main file itself, included again. */
	p = write_tmp("main-loop.conf", BASE "@include \"main-loop.conf\"\n",
	    0600);
	{
		struct conf c;
		char *err = NULL;

		conf_init(&c);
		assert_int_equal(conf_load(&c, p, &err), -1);
		assert_non_null(strstr(err,
		    "main-loop.conf:3: @include "
		    "\"main-loop.conf\": an include loop"));
		free(err);
		conf_clear(&c);
	}
	free(p);

	/* Ten levels are libconfig's limit, and work. */
	for (i = 1; i <= 11; i++) {
		char name[32], text[64];

		snprintf(name, sizeof(name), "chain%d.conf", i);
		snprintf(text, sizeof(text),
		    i == 10 || i == 11 ? "force = true;\n" :
					 "@include \"chain%d.conf\"\n",
		    i + 1);
		p = write_tmp(name, text, 0600);
		free(p);
	}
	{
		struct conf c;

		load_ok(&c, BASE "@include \"chain1.conf\"\n");
		assert_true(c.sync.force);
		conf_clear(&c);
	}
	p = write_tmp("chain10.conf", "@include \"chain11.conf\"\n", 0600);
	free(p);
	expect_error(BASE "@include \"chain1.conf\"\n",
	    "chain10.conf:1: @include \"chain11.conf\": includes nest deeper",
	    NULL);
}

/* Values far out of any range: refused with the setting and line, not
 * stored (a 10 MB path would fail only when it is used). */
static void test_huge_values(void **state)
{
	size_t n = (size_t)10 << 20;
	char *big = xmalloc(n + 1), *text;

	(void)state;
	memset(big, 'x', n);
	big[n] = '\0';
	expect_error(BASE "poll = { interval = 1e308; };\n",
	    "dsyncd.conf:3: "
	    "poll.interval must be a number of seconds from 1 to 86400",
	    NULL);
	expect_error(BASE "max_deletes = 123456789012345678901234567890;\n",
	    "dsyncd.conf:3: max_deletes: integer out of range", NULL);
	expect_error(BASE "max_deletes = 9000000000L;\n",
	    "dsyncd.conf:3: max_deletes must be an integer from -1 to 1000000",
	    NULL);
	xasprintf(&text, BASE "state_dir = \"/%s\";\n", big);
	expect_error(text,
	    "dsyncd.conf:3: state_dir is too long (10485761 "
	    "bytes; at most 8192)",
	    NULL);
	free(text);
	xasprintf(&text, BASE "state_dir = \"/%.5000s\";\n", big);
	expect_error(text, "dsyncd.conf:3: state_dir is too long for a path",
	    NULL);
	free(text);
	xasprintf(&text,
	    "directus = { url = \"http://h/%s\"; token_file = "
	    "\"token\"; };\ndump_path = \"d\";\n",
	    big);
	expect_error(text, "dsyncd.conf:1: directus.url is too long", NULL);
	free(text);
	xasprintf(&text,
	    "directus = { url = \"http://h\"; token_file = "
	    "\"token\"; headers = [ \"X-A: %s\" ]; };\ndump_path = \"d\";\n",
	    big);
	expect_error(text, "directus.headers[0] is too long", NULL);
	free(text);
	xasprintf(&text,
	    BASE "git = { commit = true; push = \"origin %s\"; };\n", big);
	expect_error(text, "dsyncd.conf:3: git.push is too long", NULL);
	free(text);
	free(big);
}

static void test_token_file(void **state)
{
	struct conf c;
	char *p, *msg;

	(void)state;
	p = write_tmp("token644", SECRET "\n", 0644);
	xasprintf(&msg, "%s: readable by other users (mode 0644); chmod 600 it",
	    p);
	expect_error("directus = {\n url = \"http://h\";\n token_file = "
		     "\"token644\";\n};\ndump_path = \"d\";\n",
	    "dsyncd.conf:3: ", msg, NULL);
	free(msg);
	free(p);
	p = write_tmp("token640", SECRET "\n", 0640);
	free(p);
	expect_error("directus = { url = \"http://h\"; token_file = "
		     "\"token640\"; };\ndump_path = \"d\";\n",
	    "token640: readable by other users (mode 0640)", NULL);
	p = write_tmp("token602", SECRET "\n", 0602);
	free(p);
	expect_error("directus = { url = \"http://h\"; token_file = "
		     "\"token602\"; };\ndump_path = \"d\";\n",
	    "token602: accessible by other users (mode 0602)", NULL);

	p = write_tmp("token-crlf", SECRET "\r\n", 0400);
	load_ok(&c,
	    "directus = { url = \"http://h\"; token_file = "
	    "\"token-crlf\"; };\ndump_path = \"d\";\n");
	assert_string_equal(c.token, SECRET);
	assert_string_equal(c.sync.token, SECRET);
	assert_string_equal(c.token_source + 5, p);
	assert_memory_equal(c.token_source, "file ", 5);
	conf_clear(&c);
	free(p);
	p = write_tmp("token-bare", SECRET, 0600);
	free(p);
	load_ok(&c,
	    "directus = { url = \"http://h\"; token_file = "
	    "\"token-bare\"; };\ndump_path = \"d\";\n");
	assert_string_equal(c.token, SECRET);
	conf_clear(&c);

	p = write_tmp("token-empty", "\n", 0600);
	free(p);
	expect_error("directus = { url = \"http://h\"; token_file = "
		     "\"token-empty\"; };\ndump_path = \"d\";\n",
	    "token-empty: empty", NULL);
	p = write_tmp("token-2lines", SECRET "\n\n", 0600);
	free(p);
	expect_error("directus = { url = \"http://h\"; token_file = "
		     "\"token-2lines\"; };\ndump_path = \"d\";\n",
	    "token-2lines: the token holds a line break", NULL);
	expect_error("directus = { url = \"http://h\"; token_file = "
		     "\"no-such-token\"; };\ndump_path = \"d\";\n",
	    "no-such-token: No such file or directory", NULL);
	{
		char *big = xmalloc(70000);

		memset(big, 'a', 69999);
		big[69999] = '\0';
		p = write_tmp("token-big", big, 0600);
		free(p);
		free(big);
	}
	expect_error("directus = { url = \"http://h\"; token_file = "
		     "\"token-big\"; };\ndump_path = \"d\";\n",
	    "token-big: larger than 64 KiB", NULL);
	expect_error("directus = { url = \"http://h\"; token_file = \"etc\"; "
		     "};\ndump_path = \"d\";\n",
	    "etc: not a regular file", NULL);
	/* A FIFO is refused at once, not waited on. */
	p = tmp_path("token-fifo");
	assert_int_equal(mkfifo(p, 0600), 0);
	free(p);
	expect_error("directus = { url = \"http://h\"; token_file = "
		     "\"token-fifo\"; };\ndump_path = \"d\";\n",
	    "token-fifo: not a regular file", NULL);
}

static void test_inline_token(void **state)
{
	static const char text[] = "directus = {\n url = \"http://h\";\n"
				   " token = \"" SECRET
				   "\";\n};\ndump_path = \"d\";\n";
	struct conf c;
	char *p, *err = NULL;

	(void)state;
	p = write_tmp("inline644.conf", text, 0644);
	conf_init(&c);
	assert_int_equal(conf_load(&c, p, &err), -1);
	assert_non_null(strstr(err, "inline644.conf:3: "));
	assert_non_null(strstr(err,
	    "inline644.conf holds directus.token and "
	    "is readable by other users (mode 0644); chmod 600 it"));
	assert_null(strstr(err, SECRET));
	free(err);
	conf_clear(&c);
	free(p);

	load_ok(&c, text);
	assert_string_equal(c.token, SECRET);
	assert_string_equal(c.sync.token, SECRET);
	assert_string_equal(c.token_source, "inline");
	conf_clear(&c);

	/* In an include: that file's mode counts. */
	p = write_tmp("inline-inc.conf", "token = \"" SECRET "\";\n", 0604);
	free(p);
	expect_error("directus = {\n url = \"http://h\";\n@include "
		     "\"inline-inc.conf\"\n};\ndump_path = \"d\";\n",
	    "inline-inc.conf holds directus.token and is readable by other "
	    "users (mode 0604)",
	    NULL);

	expect_error("directus = { url = \"http://h\"; token = \"(set)\"; };\n"
		     "dump_path = \"d\";\n",
	    ":1: directus.token is \"(set)\", the placeholder", NULL);
	expect_error("directus = { url = \"http://h\"; token = \"" SECRET
		     "\\n\"; };\ndump_path = \"d\";\n",
	    ":1: directus.token holds a line break", NULL);
}

static void test_token_env(void **state)
{
	static const char text[] =
	    "directus = {\n url = \"http://h\";\n"
	    " token_env = \"DSYNC_TEST_TOKEN\";\n};\ndump_path = \"d\";\n";
	struct conf c;

	(void)state;
	setenv("DSYNC_TEST_TOKEN", SECRET, 1);
	load_ok(&c, text);
	assert_string_equal(c.token, SECRET);
	assert_string_equal(c.sync.token, SECRET);
	assert_string_equal(c.token_source, "environment DSYNC_TEST_TOKEN");
	conf_clear(&c);
	setenv("DSYNC_TEST_TOKEN", "", 1);
	expect_error(text,
	    "dsyncd.conf:3: directus.token_env: the "
	    "environment variable DSYNC_TEST_TOKEN is empty",
	    NULL);
	setenv("DSYNC_TEST_TOKEN", SECRET "\n", 1);
	expect_error(text,
	    ":3: directus.token_env: the token in "
	    "DSYNC_TEST_TOKEN holds a line break",
	    NULL);
	unsetenv("DSYNC_TEST_TOKEN");
	expect_error(text,
	    "dsyncd.conf:3: directus.token_env: the "
	    "environment variable DSYNC_TEST_TOKEN is not set",
	    NULL);
}

static void test_credentials_directory(void **state)
{
	static const char text[] = "directus = { url = \"http://h\"; };\n"
				   "dump_path = \"d\";\n";
	struct conf c;
	char *dir = tmp_path("creds"), *p;

	(void)state;
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	expect_error(text, "no Directus credential", NULL);
	p = write_tmp("creds/token", SECRET "\n", 0400);
	load_ok(&c, text);
	assert_string_equal(c.token, SECRET);
	assert_string_equal(c.sync.token, SECRET);
	assert_string_equal(c.token_source,
	    "credential $CREDENTIALS_DIRECTORY/token");
	conf_clear(&c);
	/* systemd's ACL shows as group bits. */
	assert_int_equal(chmod(p, 0440), 0);
	load_ok(&c, text);
	conf_clear(&c);
	assert_int_equal(chmod(p, 0444), 0);
	expect_error(text, "creds/token: readable by other users (mode 0444)",
	    NULL);
	/* A credential given in the file wins. */
	load_ok(&c, BASE);
	assert_non_null(strstr(c.token_source, "file "));
	conf_clear(&c);
	unsetenv("CREDENTIALS_DIRECTORY");
	expect_error(text, "no Directus credential", NULL);
	free(p);
	free(dir);
}

static void test_login(void **state)
{
	static const char text[] =
	    "directus = {\n url = \"http://h\";\n"
	    " email = \"admin@example.com\";\n password_file = \"pw\";\n};\n"
	    "dump_path = \"d\";\n";
	struct conf c;
	char *p, *out;

	(void)state;
	p = write_tmp("pw", SECRET "\n", 0600);
	load_ok(&c, text);
	assert_null(c.token);
	assert_null(c.sync.token);
	assert_string_equal(c.email, "admin@example.com");
	assert_string_equal(c.password, SECRET);
	assert_string_equal(c.sync.email, "admin@example.com");
	assert_string_equal(c.sync.password, SECRET);
	assert_string_equal(c.password_source + 5, p);
	out = printed(&c);
	assert_null(strstr(out, SECRET));
	assert_non_null(strstr(out, "email = \"admin@example.com\";"));
	assert_non_null(strstr(out, "password = \"(set)\";  # from file "));
	free(out);
	conf_clear(&c);
	assert_int_equal(chmod(p, 0660), 0);
	expect_error(text, "dsyncd.conf:4: ",
	    "pw: readable by other users (mode 0660); chmod 600 it", NULL);
	free(p);
}

/* directus.ca_file must be there, readable and PEM when the file is
 * loaded; tls_verify turns verification off for the engine. */
static void test_tls(void **state)
{
	struct conf c;
	char *p, *q, *text;

	(void)state;
	load_ok(&c,
	    "directus = { url = \"https://h\"; token_file = \"token\";"
	    " ca_file = \"ca.pem\"; };\ndump_path = \"d\";\n");
	p = tmp_path("ca.pem");
	assert_string_equal(c.ca_file, p);
	assert_string_equal(c.sync.ca_file, p);
	assert_true(c.tls_verify);
	assert_false(c.sync.insecure);
	conf_clear(&c);

	/* Absolute, and with verification off. */
	xasprintf(&text,
	    "directus = { url = \"https://h\"; token_file = "
	    "\"token\"; ca_file = \"%s\"; tls_verify = false; };\n"
	    "dump_path = \"d\";\n",
	    p);
	load_ok(&c, text);
	assert_string_equal(c.sync.ca_file, p);
	assert_false(c.tls_verify);
	assert_true(c.sync.insecure);
	conf_clear(&c);
	free(text);
	free(p);

	/* Missing, a directory, not PEM, empty: the file and line named. */
	q = tmp_path("nope.pem");
	xasprintf(&text,
	    "dsyncd.conf:3: directus.ca_file: %s: No such file or directory",
	    q);
	expect_error(
	    "directus = {\n url = \"https://h\"; token_file = "
	    "\"token\";\n ca_file = \"nope.pem\";\n};\ndump_path = \"d\";\n",
	    text, NULL);
	free(text);
	free(q);
	expect_error("directus = { url = \"https://h\"; token_file = \"token\";"
		     "\n ca_file = \".\"; };\ndump_path = \"d\";\n",
	    "dsyncd.conf:2: directus.ca_file: ", ": not a regular file", NULL);
	p = write_tmp("token.pem", "not a certificate\n", 0644);
	expect_error("directus = { url = \"https://h\"; token_file = \"token\";"
		     "\n ca_file = \"token.pem\"; };\ndump_path = \"d\";\n",
	    "dsyncd.conf:2: directus.ca_file: ",
	    "token.pem: holds no PEM certificate", NULL);
	free(p);
	expect_error("directus = { url = \"https://h\"; token_file = \"token\";"
		     " ca_file = \"\"; };\ndump_path = \"d\";\n",
	    ":1: directus.ca_file must not be empty", NULL);
	expect_error("directus = { url = \"https://h\"; token_file = \"token\";"
		     " ca_file = true; };\ndump_path = \"d\";\n",
	    ":1: directus.ca_file must be a string", NULL);
	/* Unreadable: root reads it anyway. */
	if (geteuid() != 0) {
		p = write_tmp("locked.pem", PEM, 0);
		expect_error(
		    "directus = { url = \"https://h\"; token_file = "
		    "\"token\"; ca_file = \"locked.pem\"; };\ndump_path = "
		    "\"d\";\n",
		    ":1: directus.ca_file: ", "locked.pem: Permission denied",
		    NULL);
		free(p);
	}
	expect_error("directus = { url = \"https://h\"; token_file = \"token\";"
		     " tls_verify = \"no\"; };\ndump_path = \"d\";\n",
	    ":1: directus.tls_verify must be true or false", NULL);
	expect_error(BASE "tls_verify = false;\n",
	    ":3: unknown setting "
	    "'tls_verify' (did you mean 'directus.tls_verify'?)",
	    NULL);
	expect_error(BASE "ca_file = \"ca.pem\";\n",
	    ":3: unknown setting 'ca_file' (did you mean 'directus.ca_file'?)",
	    NULL);
}

static void test_dumpable(void **state)
{
	struct conf c;
	char *p;

	(void)state;
	load_ok(&c, BASE "dumpable = true;\n");
	assert_true(c.dumpable);
	conf_clear(&c);
	expect_error(BASE "dumpable = 1;\n",
	    ":3: dumpable must be true or false", NULL);
	expect_error(BASE "dumpabel = true;\n",
	    ":3: unknown setting 'dumpabel' (did you mean 'dumpable'?)", NULL);

	/* What the daemon reads before the whole file. */
	p = write_tmp("peek.conf", BASE "dumpable = true;\n", 0600);
	assert_true(conf_peek_dumpable(p));
	free(p);
	p = write_tmp("peek.conf", BASE, 0600);
	assert_false(conf_peek_dumpable(p));
	free(p);
	p = write_tmp("inc.conf", "dumpable = true;\n", 0600);
	free(p);
	p = write_tmp("peek.conf", BASE "@include \"inc.conf\"\n", 0600);
	assert_true(conf_peek_dumpable(p));
	free(p);
	p = write_tmp("peek.conf", BASE "dumpable = 1;\n", 0600);
	assert_false(conf_peek_dumpable(p));
	free(p);
	p = write_tmp("peek.conf", BASE "dumpable = true;\nx = = 1;\n", 0600);
	assert_false(conf_peek_dumpable(p));
	free(p);
	p = tmp_path("nope.conf");
	assert_false(conf_peek_dumpable(p));
	free(p);
}

/* conf_print shows no secret, and reads back to the same settings. */
/* A configuration that sets every setting, loaded into c. */
static void load_every_setting(struct conf *c)
{
	struct group *g = getgrgid(getgid());
	char *text;

	xasprintf(&text,
	    "directus = { url = \"https://h.example:8443/x\"; "
	    "token_file = \"token\";\n  headers = [ \"X-Quote: a \\\"b\\\" "
	    "\\\\ c\", \"X-Two: 2\" ]; timeout = 12.5; max_response_mb = 0.25; "
	    "ca_file = \"ca.pem\"; tls_verify = false; };\ndump_path = "
	    "\"dump dir\";\ncollections_path = \"c\";\n"
	    "snapshot = false;\nsplit = false;\nonly_collections = [ "
	    "\"roles\", \"flows\" ];\nexclude_collections = [ \"flows\" ];\n"
	    "preserve_ids = [ \"panels\" ];\nsort_json = true;\nid_map = "
	    "\"collection\";\nsync_policy_roles = false;\nforce = true;\n"
	    "max_push_retries = 3;\nlock_wait = 0.1;\nstate_dir = \"/s\";\n"
	    "watch = \"commits\";\ndebounce = 0.25;\npoll = { interval = 30; "
	    "full_every = 0; backoff_max = 90; };\npolicy = { default = "
	    "\"report\"; schema = \"ignore\"; collections = { flows = "
	    "\"push\"; presets = \"pull\"; panels = \"sync\"; }; };\n"
	    "initial = \"pull\";\nallow_deletes = true;\nmax_deletes = -1;\n"
	    "allow_schema_deletes = true;\ngit = { commit = true; author_name "
	    "= \"Dsync \\\"Bot\\\"\"; author_email = \"bot@example.org\"; "
	    "branch = \"main\"; push = \"origin  release\"; };\ncontrol = { "
	    "socket = \"ctl.sock\"; mode = \"0600\"; %s%s%s };\n"
	    "log_level = \"debug\";\ndumpable = true;\n"
	    "metrics = { listen = \"/run/dsyncd/metrics.sock\"; };\n",
	    g ? "group = \"" : "", g ? g->gr_name : "", g ? "\";" : "");
	load_ok(c, text);
	free(text);
}

/* What dsyncd -n prints of it: secrets as (set), every group. */
static void check_printed(const char *out)
{
	char *back, *p;

	assert_null(strstr(out, SECRET));
	assert_non_null(strstr(out, "  token = \"(set)\";  # from file /"));
	assert_non_null(strstr(out, "max_deletes = -1;\n"));
	assert_non_null(strstr(out, "  mode = \"0600\";\n"));
	assert_non_null(strstr(out, "    flows = \"push\";\n"));
	assert_non_null(strstr(out, "    roles = \"report\";\n"));
	assert_non_null(strstr(out, "\"X-Quote: (set)\""));
	assert_non_null(strstr(out, "    presets = \"pull\";\n"));
	assert_non_null(strstr(out, "    panels = \"sync\";\n"));
	assert_non_null(strstr(out, "\ninitial = \"pull\";\n"));
	assert_non_null(strstr(out,
	    "\ngit = {\n  commit = true;\n  "
	    "author_name = \"Dsync \\\"Bot\\\"\";\n  author_email = "
	    "\"bot@example.org\";\n  branch = \"main\";\n  push = \"origin "
	    "release\";\n};\n"));
	assert_null(strstr(out, "a \\\"b\\\""));
	p = tmp_path("ca.pem");
	xasprintf(&back, "  ca_file = \"%s\";\n  tls_verify = false;\n};\n", p);
	assert_non_null(strstr(out, back));
	free(back);
	free(p);
	assert_non_null(strstr(out, "\ndumpable = true;\n"));
	assert_non_null(strstr(out,
	    "\nmetrics = {\n  listen = \"/run/dsyncd/metrics.sock\";\n};\n"
	    "notify = ();\n"));
}

/* The placeholder handled, what was printed reads back the same. */
static void check_reads_back(const struct conf *cp, const char *out)
{
	const struct conf *c = cp;
	struct conf d;
	char *back, *again, *p;

	back = replace_line(out, "token = \"(set)\"",
	    "token_file = \"token\";");
	p = write_tmp("printed.conf", back, 0600);
	conf_init(&d);
	{
		char *err = NULL;

		if (conf_load(&d, p, &err) < 0) {
			print_error("%s\nin:\n%s\n", err, back);
			fail();
		}
	}
	again = printed(&d);
	assert_string_equal(strchr(out, '\n'), strchr(again, '\n'));
	assert_int_equal(d.sync.only, c->sync.only);
	assert_int_equal(d.control_gid, c->control_gid);
	assert_true(d.debounce == c->debounce && d.sync.lock_wait == 0.1);
	assert_int_equal(d.sync.max_body, c->sync.max_body);
	/* Header values are shown as (set): a header may hold a secret. */
	assert_string_equal(d.sync.headers[0], "X-Quote: (set)");
	assert_string_equal(d.sync.dump_path, c->sync.dump_path);
	assert_string_equal(d.control_socket, c->control_socket);
	assert_int_equal(d.initial, CONF_INITIAL_PULL);
	assert_true(d.git.commit);
	assert_string_equal(d.git.author_name, "Dsync \"Bot\"");
	assert_string_equal(d.git.author_email, "bot@example.org");
	assert_string_equal(d.git.branch, "main");
	assert_string_equal(d.git.push_remote, "origin");
	assert_string_equal(d.git.push_branch, "release");
	assert_int_equal(d.policy[colls_index("panels")], CONF_POLICY_SYNC);
	assert_string_equal(d.ca_file, c->ca_file);
	assert_false(d.tls_verify);
	assert_true(d.sync.insecure);
	assert_true(d.dumpable);
	assert_string_equal(d.metrics_listen, "/run/dsyncd/metrics.sock");
	free(again);
	conf_clear(&d);
	free(p);
	free(back);
}

/* As printed, the placeholder is refused, not taken for a token. */
static void check_placeholder_refused(const char *out)
{
	struct conf d;
	char *p;

	p = write_tmp("printed.conf", out, 0600);
	conf_init(&d);
	{
		char *err = NULL;

		assert_int_equal(conf_load(&d, p, &err), -1);
		assert_non_null(strstr(err, "placeholder"));
		free(err);
	}
	conf_clear(&d);
	free(p);
}

static void test_print(void **state)
{
	struct conf c;
	char *out;

	(void)state;
	load_every_setting(&c);
	assert_true(c.sync.debug);
	assert_int_equal(c.nheaders, 2);
	assert_string_equal(c.sync.headers[0], "X-Quote: a \"b\" \\ c");
	out = printed(&c);
	check_printed(out);
	check_reads_back(&c, out);
	check_placeholder_refused(out);
	free(out);
	conf_clear(&c);
}

static void test_print_defaults(void **state)
{
	struct conf c;
	char *out, *back, *again;

	(void)state;
	load_ok(&c, BASE);
	out = printed(&c);
	assert_non_null(strstr(out, "  # group: none (the daemon's own)\n"));
	assert_non_null(strstr(out, "headers = [];\n"));
	assert_non_null(strstr(out, "timeout = 300.0;\n"));
	assert_non_null(strstr(out,
	    "  max_response_mb = 256.0;\n  # ca_file: "
	    "not set (libcurl's default CAs)\n  tls_verify = true;\n};\n"));
	assert_non_null(
	    strstr(out, "\nlog_level = \"info\";\ndumpable = false;\n"));
	assert_non_null(strstr(out, "\ninitial = \"report\";\n"));
	assert_non_null(strstr(out,
	    "\nmetrics = {\n  # listen: not set (no metrics listener)\n};\n"
	    "notify = ();\n"));
	assert_non_null(strstr(out,
	    "\ngit = {\n  commit = false;\n  "
	    "author_name = \"dsync\";\n  author_email = \"dsync@localhost\";\n"
	    "  # branch: not set (any branch)\n"
	    "  # push: not set (no git push)\n};\n"));
	back = replace_line(out, "token = \"(set)\"",
	    "token_file = \"token\";");
	conf_clear(&c);
	load_ok(&c, back);
	again = printed(&c);
	assert_string_equal(strchr(out, '\n'), strchr(again, '\n'));
	conf_clear(&c);
	free(again);
	free(back);
	free(out);
}

/* metrics.listen: "HOST:PORT", "[IPV6]:PORT" or an absolute path. */
static void test_metrics_listen(void **state)
{
	static const char *const good[] = { "127.0.0.1:9464", "localhost:9464",
		"metrics.example-1.org:1", "[::1]:9464", "[2001:db8::2]:65535",
		"[::ffff:10.0.0.1]:80", "0.0.0.0:9464", "/run/x.sock",
		"/run/dsyncd/metrics.sock" };
	struct conf c;
	size_t i;

	(void)state;
	load_ok(&c, BASE "metrics = { };\n");
	assert_null(c.metrics_listen);
	conf_clear(&c);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *text;

		xasprintf(&text, BASE "metrics = { listen = \"%s\"; };\n",
		    good[i]);
		load_ok(&c, text);
		assert_string_equal(c.metrics_listen, good[i]);
		conf_clear(&c);
		free(text);
	}
}

static void test_metrics_listen_errors(void **state)
{
	static const struct {
		const char *v, *why;
	} bad[] = {
		{ "run/x.sock",
		    "(got a relative path: a Unix socket's path "
		    "must start with '/')" },
		{ "./x.sock", "(got a relative path" },
		{ "x.sock",
		    "(got no ':PORT'; a Unix socket's path must start "
		    "with '/')" },
		{ "localhost", "(got no ':PORT'" },
		{ "localhost:", "(got no port after the ':')" },
		{ "127.0.0.1:0", "(got a port out of 1..65535)" },
		{ "127.0.0.1:65536", "(got a port out of 1..65535)" },
		{ "127.0.0.1:99999999999999999999", "(got a port out of " },
		{ "127.0.0.1:+80",
		    "(got a port that is not a decimal number)" },
		{ "127.0.0.1:-1", "(got a port that is not a decimal number)" },
		{ "127.0.0.1:0x50", "(got a port that is not a decimal" },
		{ ":9464", "(got no host before the ':')" },
		{ "::1:9464", "(got an IPv6 address without brackets" },
		{ "2001:db8::1:9464", "(got an IPv6 address without brackets" },
		{ "[::1]", "(got no ':PORT' after the ']')" },
		{ "[::1:9464", "(got a '[' without its ']')" },
		{ "[]:9464", "(got no valid IPv6 address in the brackets)" },
		{ "[127.0.0.1]:80", "(got no valid IPv6 address in the" },
		{ "[::1]:0", "(got a port out of 1..65535)" },
		{ "999.1.1.1:80", "(got a host that is not a valid IPv4" },
		{ "ho st:80",
		    "(got a host that is neither an IPv4 address nor "
		    "a host name" },
		{ "-h:80", "(got a host name that is not valid)" },
		{ "a..b:80", "(got a host name that is not valid)" },
		{ "/run/x\\n.sock", "(got a path with a control character)" },
	};
	char *text;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		xasprintf(&text, BASE "metrics = {\n  listen = \"%s\";\n};\n",
		    bad[i].v);
		expect_error(text,
		    "dsyncd.conf:4: metrics.listen must be HOST:PORT, "
		    "[IPV6]:PORT or an absolute path of a Unix socket (got ",
		    bad[i].why, NULL);
		free(text);
	}
}

/* metrics.listen: a Unix socket's length, and the setting's shape. */
static void test_metrics_listen_shape(void **state)
{
	char *text, *long_path;

	(void)state;
	/* sun_path: 107 bytes at most. */
	long_path = xmalloc(109);
	memset(long_path, 'x', 108);
	long_path[0] = '/';
	long_path[108] = '\0';
	xasprintf(&text, BASE "metrics = { listen = \"%s\"; };\n", long_path);
	expect_error(text, ":3: metrics.listen must be",
	    "(got a path too long for a Unix socket (at most 107 bytes))",
	    NULL);
	free(text);
	long_path[107] = '\0';
	xasprintf(&text, BASE "metrics = { listen = \"%s\"; };\n", long_path);
	{
		struct conf c;

		load_ok(&c, text);
		assert_string_equal(c.metrics_listen, long_path);
		conf_clear(&c);
	}
	free(text);
	free(long_path);
	expect_error(BASE "metrics = { listen = 9464; };\n",
	    ":3: metrics.listen must be a string", NULL);
	expect_error(BASE "metrics = { listen = \"\"; };\n",
	    ":3: metrics.listen is empty: leave it out", NULL);
	expect_error(BASE "metrics = \"127.0.0.1:9464\";\n",
	    ":3: metrics must be a group", NULL);
	expect_error(BASE "metrics = { lisen = \"127.0.0.1:9464\"; };\n",
	    ":3: unknown setting 'metrics.lisen' (did you mean "
	    "'metrics.listen'?)",
	    NULL);
	expect_error(BASE "listen = \"127.0.0.1:9464\";\n",
	    ":3: unknown setting 'listen' (did you mean 'metrics.listen'?)",
	    NULL);
}

/* One listen address through conf_listen_parse. */
static void parsed(const char *v, const char *host, unsigned port,
    const char *path)
{
	char *h = (char *)1, *p = (char *)1;
	unsigned n = 1;

	assert_int_equal(conf_listen_parse(v, &h, &n, &p), 0);
	if (host)
		assert_string_equal(h, host);
	else
		assert_null(h);
	assert_int_equal(n, port);
	if (path)
		assert_string_equal(p, path);
	else
		assert_null(p);
	free(h);
	free(p);
}

static void test_listen_parse(void **state)
{
	static const char *const bad[] = { "", "x", "x.sock", "run/x.sock",
		"127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "::1:9464",
		"::1", "[::1]", "[::1]:", "[x]:80", "h:80x", "1.2.3:80" };
	char *h, *p;
	unsigned n;
	size_t i;

	(void)state;
	parsed("127.0.0.1:9464", "127.0.0.1", 9464, NULL);
	parsed("localhost:1", "localhost", 1, NULL);
	parsed("metrics.example.org:65535", "metrics.example.org", 65535, NULL);
	parsed("[::1]:9464", "::1", 9464, NULL);
	parsed("[2001:db8::1]:80", "2001:db8::1", 80, NULL);
	parsed("/run/dsyncd/metrics.sock", NULL, 0, "/run/dsyncd/metrics.sock");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h = p = (char *)1;
		n = 1;
		if (conf_listen_parse(bad[i], &h, &n, &p) != -1) {
			print_error("'%s' parsed\n", bad[i]);
			fail();
		}
		assert_null(h);
		assert_null(p);
		assert_int_equal(n, 0);
	}
	h = p = (char *)1;
	assert_int_equal(conf_listen_parse(NULL, &h, &n, &p), -1);
	assert_null(h);
	assert_null(p);
}

/* Two webhooks: the first with its events, format and key. */
static void test_notify(void **state)
{
	struct conf c;
	char *p;

	(void)state;
	p = write_tmp("hook-secret", HOOK_KEY "\n", 0600);
	load_ok(&c,
	    BASE "notify = (\n  {\n    url = \"https://hooks.example.org/x\";\n"
		 "    events = [ \"drift\", \"conflict\", \"config_error\" ];\n"
		 "    format = \"json\";\n    secret_file = \"hook-secret\";\n"
		 "  },\n  { url = \"http://127.0.0.1:8080/hook\"; format = "
		 "\"slack\"; }\n);\n");
	assert_int_equal(c.nnotify, 2);
	assert_string_equal(c.notify[0].url, "https://hooks.example.org/x");
	assert_int_equal(c.notify[0].events,
	    (1u << CONF_EV_DRIFT) | (1u << CONF_EV_CONFLICT) |
		(1u << CONF_EV_CONFIG_ERROR));
	assert_int_equal(c.notify[0].format, CONF_NOTIFY_JSON);
	assert_string_equal(c.notify[0].secret, HOOK_KEY);
	assert_string_equal(c.notify[0].secret_file, p);
	assert_string_equal(c.notify[1].url, "http://127.0.0.1:8080/hook");
	assert_int_equal(c.notify[1].events, CONF_EV_ALL);
	assert_int_equal(c.notify[1].events, 0xfff);
	assert_int_equal(c.notify[1].format, CONF_NOTIFY_SLACK);
	assert_null(c.notify[1].secret);
	assert_null(c.notify[1].secret_file);
	conf_clear(&c);
	assert_null(c.notify);
	assert_int_equal(c.nnotify, 0);
	free(p);

	/* An absolute secret_file; every event by name; none at all. */
	xasprintf(&p,
	    BASE "notify = ( { url = \"http://h\"; secret_file = \"%s/"
		 "hook-secret\"; events = [ \"drift\", \"conflict\", "
		 "\"conflict_resolved\", \"held\", \"job_failed\", "
		 "\"degraded\", \"recovered\", \"commit\", \"git_push_failed\","
		 " \"paused\", \"resumed\", \"config_error\" ]; } );\n",
	    tmpdir);
	load_ok(&c, p);
	assert_int_equal(c.notify[0].events, CONF_EV_ALL);
	assert_string_equal(c.notify[0].secret, HOOK_KEY);
	conf_clear(&c);
	free(p);
	load_ok(&c, BASE "notify = ();\n");
	assert_int_equal(c.nnotify, 0);
	assert_null(c.notify);
	conf_clear(&c);
	load_ok(&c, BASE "notify = [];\n");
	assert_int_equal(c.nnotify, 0);
	assert_null(c.notify);
	conf_clear(&c);

	assert_string_equal(conf_event_names[CONF_EV_DRIFT], "drift");
	assert_string_equal(conf_event_names[CONF_EV_CONFLICT_RESOLVED],
	    "conflict_resolved");
	assert_string_equal(conf_event_names[CONF_EV_GIT_PUSH_FAILED],
	    "git_push_failed");
	assert_string_equal(conf_event_names[CONF_EV_CONFIG_ERROR],
	    "config_error");
	assert_null(conf_event_names[CONF_EV_COUNT]);
}

/* A URL that holds a key (Slack's do): in no message. */
#define HOOK_URL "https://hooks.slack.com/services/T0/B0/" SECRET

static void test_notify_errors(void **state)
{
	(void)state;
	expect_error(BASE "notify = (\n  { events = [ \"drift\" ]; }\n);\n",
	    "dsyncd.conf:4: notify[0].url is required", NULL);
	expect_error(BASE "notify = (\n  { url = \"https://h/x\"; },\n"
			  "  { format = \"json\"; }\n);\n",
	    "dsyncd.conf:5: notify[1].url is required", NULL);
	expect_error(BASE "notify = (\n  { url = \"ftp://" SECRET "@h\"; }\n"
			  ");\n",
	    "dsyncd.conf:4: notify[0].url must be an http:// or https:// URL",
	    NULL);
	expect_error(BASE "notify = ( { url = \"" HOOK_URL " x\"; } );\n",
	    ":3: notify[0].url must be an http:// or https:// URL", NULL);
	expect_error(BASE "notify = ( { url = \"\"; } );\n",
	    ":3: notify[0].url must not be empty", NULL);
	expect_error(BASE "notify = ( { url = \"(set)\"; } );\n",
	    ":3: notify[0].url is \"(set)\", the placeholder", NULL);
	expect_error(BASE "notify = ( { url = [ \"" HOOK_URL "\" ]; } );\n",
	    ":3: notify[0].url must be a string", NULL);
	expect_error(BASE "notify = (\n  { url = \"" HOOK_URL "\";\n"
			  "    events = [ \"drift\", \"drfit\" ]; }\n);\n",
	    "dsyncd.conf:5: notify[0].events[1]: unknown value 'drfit' "
	    "(did you mean 'drift'?; expected drift, conflict, "
	    "conflict_resolved, held, job_failed, degraded, recovered, "
	    "commit, git_push_failed, paused, resumed or config_error)",
	    NULL);
	expect_error(BASE "notify = ( { url = \"" HOOK_URL "\"; events = [ "
			  "\"push\" ]; } );\n",
	    ":3: notify[0].events[0]: unknown value 'push' (expected drift",
	    NULL);
	expect_error(BASE "notify = ( { url = \"" HOOK_URL "\"; events = "
			  "[]; } );\n",
	    ":3: notify[0].events is empty: leave it out for all events", NULL);
	expect_error(BASE "notify = ( { url = \"" HOOK_URL "\"; events = "
			  "\"drift\"; } );\n",
	    ":3: notify[0].events must be a list of event names", NULL);
	expect_error(BASE "notify = ( { url = \"" HOOK_URL "\"; events = "
			  "[ 1 ]; } );\n",
	    ":3: notify[0].events[0] must be one of drift, conflict", NULL);
}

/* notify: the format, unknown keys, the list's shape, secret_file. */
static void test_notify_shape(void **state)
{
	char *p;

	(void)state;
	expect_error(BASE "notify = ( { url = \"" HOOK_URL "\"; format = "
			  "\"xml\"; } );\n",
	    ":3: notify[0].format: unknown value 'xml' (expected json or "
	    "slack)",
	    NULL);
	expect_error(BASE "notify = ( { url = \"" HOOK_URL "\"; format = "
			  "\"slak\"; } );\n",
	    ":3: notify[0].format: unknown value 'slak' (did you mean "
	    "'slack'?",
	    NULL);
	expect_error(BASE "notify = (\n  { url = \"" HOOK_URL "\";\n"
			  "    evnets = [ \"drift\" ]; }\n);\n",
	    "dsyncd.conf:5: unknown setting 'notify[0].evnets' (did you mean "
	    "'notify[0].events'?)",
	    NULL);
	expect_error(BASE "notify = ( { url = \"" HOOK_URL "\"; enabled = "
			  "false; } );\n",
	    ":3: unknown setting 'notify[0].enabled'", NULL);
	expect_error(BASE "notify = { url = \"" HOOK_URL "\"; };\n",
	    ":3: notify must be a list of groups: notify = ( { url = ", NULL);
	expect_error(BASE "notify = ( \"" HOOK_URL "\" );\n",
	    ":3: notify[0] must be a group", NULL);
	expect_error(BASE "notify = [ \"" HOOK_URL "\" ];\n",
	    ":3: notify must be a list of groups", NULL);
	expect_error(BASE "notfy = ();\n",
	    ":3: unknown setting 'notfy' (did you mean 'notify'?)", NULL);
	expect_error(BASE "notify = ( { url = \"" HOOK_URL "\"; secret_file "
			  "= \"\"; } );\n",
	    ":3: notify[0].secret_file must not be empty", NULL);
	p = write_tmp("hook-empty", "\n", 0600);
	free(p);
	expect_error(BASE "notify = ( { url = \"" HOOK_URL "\"; secret_file "
			  "= \"hook-empty\"; } );\n",
	    ":3: notify[0].secret_file: ", "hook-empty: empty", NULL);
	expect_error(BASE "notify = ( { url = \"" HOOK_URL "\"; secret_file "
			  "= \"no-such-hook-secret\"; } );\n",
	    ":3: notify[0].secret_file: ",
	    "no-such-hook-secret: No such file or directory", NULL);
}

/* secret_file: its owner's alone, like a token file. */
static void test_notify_secret_mode(void **state)
{
	char *p, *msg;

	(void)state;
	p = write_tmp("hook-644", HOOK_KEY "\n", 0644);
	xasprintf(&msg,
	    "dsyncd.conf:5: notify[0].secret_file: %s: readable by other "
	    "users (mode 0644); chmod 600 it",
	    p);
	expect_error(BASE "notify = (\n  { url = \"" HOOK_URL "\";\n"
			  "    secret_file = \"hook-644\"; }\n);\n",
	    msg, NULL);
	free(msg);
	free(p);
	p = write_tmp("hook-640", HOOK_KEY "\n", 0640);
	free(p);
	expect_error(BASE "notify = ( { url = \"" HOOK_URL "\"; secret_file "
			  "= \"hook-640\"; } );\n",
	    "hook-640: readable by other users (mode 0640)", NULL);
	p = write_tmp("hook-602", HOOK_KEY "\n", 0602);
	free(p);
	expect_error(BASE "notify = ( { url = \"" HOOK_URL "\"; secret_file "
			  "= \"hook-602\"; } );\n",
	    "hook-602: accessible by other users (mode 0602)", NULL);
}

/* At most 16 webhooks. */
static void test_notify_max(void **state)
{
	struct conf c;
	char *text, *t;
	int i;

	(void)state;
	text = xstrdup(BASE "notify = (\n");
	for (i = 0; i < 16; i++) {
		xasprintf(&t, "%s  { url = \"https://h/%d\"; }%s\n", text, i,
		    i < 15 ? "," : "");
		free(text);
		text = t;
	}
	xasprintf(&t, "%s);\n", text);
	load_ok(&c, t);
	assert_int_equal(c.nnotify, 16);
	assert_string_equal(c.notify[15].url, "https://h/15");
	conf_clear(&c);
	free(t);
	xasprintf(&t, "%s,  { url = \"https://h/16\"; }\n);\n", text);
	expect_error(t, "dsyncd.conf:3: notify has 17 entries: at most 16",
	    NULL);
	free(t);
	free(text);
}

/* conf_print: the URL and the key never; the rest, reading back. */
static void test_notify_print(void **state)
{
	struct conf c, d;
	char *p, *out, *back, *t, *again, *want;

	(void)state;
	p = write_tmp("hook-secret", HOOK_KEY "\n", 0600);
	load_ok(&c,
	    BASE "notify = ( { url = \"" HOOK_URL "\"; events = [ "
		 "\"held\", \"drift\" ]; format = \"slack\"; secret_file = "
		 "\"hook-secret\"; }, { url = \"https://h/" SECRET "\"; } );\n"
		 "metrics = { listen = \"[::1]:9464\"; };\n");
	out = printed(&c);
	assert_null(strstr(out, SECRET));
	assert_null(strstr(out, HOOK_KEY));
	assert_null(strstr(out, "hooks.slack.com"));
	xasprintf(&want,
	    "\nmetrics = {\n  listen = \"[::1]:9464\";\n};\nnotify = (\n"
	    "  {\n    url = \"(set)\";  # a secret\n    events = [ \"drift\", "
	    "\"held\" ];\n    format = \"slack\";\n    secret_file = \"%s\";"
	    "  # read: the key (set)\n  },\n  {\n    url = \"(set)\";  # a "
	    "secret\n    events = [ \"drift\", \"conflict\", "
	    "\"conflict_resolved\", \"held\", \"job_failed\", \"degraded\", "
	    "\"recovered\", \"commit\", \"git_push_failed\", \"paused\", "
	    "\"resumed\", \"config_error\" ];\n    format = \"json\";\n"
	    "    # secret_file: not set (no signature)\n  }\n);\n",
	    p);
	if (strstr(out, want) == NULL) {
		print_error("printed:\n%s\nlacks:\n%s\n", out, want);
		fail();
	}
	free(want);

	/* As printed, the placeholder is refused; with the URLs given
	 * back, it reads back the same. */
	back = replace_line(out, "token = \"(set)\"",
	    "token_file = \"token\";");
	t = write_tmp("printed.conf", back, 0600);
	conf_init(&d);
	{
		char *err = NULL;

		assert_int_equal(conf_load(&d, t, &err), -1);
		assert_non_null(strstr(err, "notify[0].url is \"(set)\""));
		free(err);
	}
	conf_clear(&d);
	free(t);
	t = replace_line(back, "url = \"(set)\"", "url = \"https://a\";");
	free(back);
	back = replace_line(t, "url = \"(set)\"", "url = \"https://b\";");
	free(t);
	load_ok(&d, back);
	assert_int_equal(d.nnotify, 2);
	assert_string_equal(d.notify[0].secret, HOOK_KEY);
	assert_int_equal(d.notify[0].events,
	    (1u << CONF_EV_HELD) | (1u << CONF_EV_DRIFT));
	assert_int_equal(d.notify[0].format, CONF_NOTIFY_SLACK);
	assert_int_equal(d.notify[1].events, CONF_EV_ALL);
	assert_string_equal(d.metrics_listen, "[::1]:9464");
	again = printed(&d);
	assert_string_equal(strchr(out, '\n'), strchr(again, '\n'));
	free(again);
	conf_clear(&d);
	free(back);
	free(out);
	conf_clear(&c);
	free(p);
}

/* Secrets in messages: none, whatever fails near them. */
/* hooks = { ... }: commands per collection and the snapshot, the
 * timeout, each refusal named; seed = { ... }: paths inside the tree. */
static void test_hooks_seed(void **state)
{
	struct conf c;

	(void)state;
	load_ok(&c,
	    BASE "hooks = { timeout = 5.0; flows = { on_query = "
		 "\"q\"; on_load = \"l\"; }; snapshot = { on_save = "
		 "\"s\"; }; };\n"
		 "seed = { enabled = true; paths = [ \"seed\", "
		 "\"more/seeds.json\" ]; };\n");
	assert_true(c.sync.hook_timeout == 5.0);
	assert_string_equal(c.sync.hooks[colls_index("flows")][HOOK_QUERY].cmd,
	    "q");
	assert_string_equal(c.sync.hooks[colls_index("flows")][HOOK_LOAD].cmd,
	    "l");
	assert_null(c.sync.hooks[colls_index("flows")][HOOK_SAVE].cmd);
	assert_string_equal(c.sync.hooks[HOOK_SNAPSHOT][HOOK_SAVE].cmd, "s");
	assert_true(c.seed_enabled);
	assert_int_equal(c.nseed_paths, 2);
	assert_string_equal(c.seed_paths[1], "more/seeds.json");
	conf_clear(&c);
	load_ok(&c, BASE);
	assert_false(c.seed_enabled);
	assert_string_equal(c.seed_paths[0], "seed");
	assert_true(c.sync.hook_timeout == 60.0);
	conf_clear(&c);
	expect_error(BASE "hooks = { flow = { on_load = \"x\"; }; };\n",
	    "dsyncd.conf:3", "unknown setting hooks.flow", NULL);
	expect_error(BASE "hooks = { flows = { onLoad = \"x\"; }; };\n",
	    "hooks.flows.onLoad: not a hook", NULL);
	expect_error(BASE "hooks = { snapshot = { on_query = \"x\"; }; };\n",
	    "hooks.snapshot.on_query: not a hook (on_load or on_save)", NULL);
	expect_error(BASE "hooks = { flows = { on_load = 1; }; };\n",
	    "hooks.flows.on_load must be a command", NULL);
	expect_error(BASE "hooks = { timeout = 0; };\n", "hooks.timeout", NULL);
	expect_error(BASE "seed = { paths = [ \"../up\" ]; };\n",
	    "seed.paths[0] must be a path inside the dump tree", NULL);
	expect_error(BASE "seed = { paths = \"seed\"; };\n",
	    "seed.paths must be a list of paths", NULL);
}

static void test_secret_never_in_errors(void **state)
{
	(void)state;
	expect_error("directus = { url = \"http://h\"; token = \"" SECRET
		     "\"; tokn = 1; };\ndump_path = \"d\";\n",
	    "unknown setting 'directus.tokn'", NULL);
	expect_error("directus = { url = \"http://h\"; token = \"" SECRET
		     "\"; token_file = \"token\"; };\ndump_path = \"d\";\n",
	    "give one credential", NULL);
	expect_error("directus = { url = \"http://h\"; token = [ \"" SECRET
		     "\" ]; };\ndump_path = \"d\";\n",
	    "directus.token must be a string", NULL);
	expect_error("directus = { url = \"http://u:" SECRET "@h\"; token = "
		     "\"" SECRET "\"; };\n",
	    "dump_path is required", NULL);
	expect_error("directus = { url = \"http://u:" SECRET "@h x\"; };\n",
	    "directus.url must be", NULL);
	expect_error("directus = { url = \"http://h\"; token = \"" SECRET
		     "\"; }\n;;\n",
	    "syntax error", NULL);
	expect_error(
	    "directus = { url = \"http://h\"; password_file = \"token\";"
	    " };\ndump_path = \"d\";\n",
	    "needs directus.email", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_hooks_seed),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_duplicate_group),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_range_edges),
		cmocka_unit_test(test_mode),
		cmocka_unit_test(test_group),
		cmocka_unit_test(test_collections),
		cmocka_unit_test(test_policies),
		cmocka_unit_test(test_policies_pull_sync),
		cmocka_unit_test(test_initial),
		cmocka_unit_test(test_git_defaults),
		cmocka_unit_test(test_git),
		cmocka_unit_test(test_git_errors),
		cmocka_unit_test(test_git_rules),
		cmocka_unit_test(test_git_names),
		cmocka_unit_test(test_required),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_include_loop),
		cmocka_unit_test(test_huge_values),
		cmocka_unit_test(test_token_file),
		cmocka_unit_test(test_inline_token),
		cmocka_unit_test(test_token_env),
		cmocka_unit_test(test_credentials_directory),
		cmocka_unit_test(test_login),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_dumpable),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_print_defaults),
		cmocka_unit_test(test_secret_never_in_errors),
		cmocka_unit_test(test_metrics_listen),
		cmocka_unit_test(test_metrics_listen_errors),
		cmocka_unit_test(test_metrics_listen_shape),
		cmocka_unit_test(test_listen_parse),
		cmocka_unit_test(test_notify),
		cmocka_unit_test(test_notify_errors),
		cmocka_unit_test(test_notify_shape),
		cmocka_unit_test(test_notify_secret_mode),
		cmocka_unit_test(test_notify_max),
		cmocka_unit_test(test_notify_print),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
