/*
 * test_options: collection lists, the JSON config file (extends, arrays
 * joined, JavaScript configs refused) and validation messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "collections.h"
#include "options.h"
#include "xmalloc.h"

static char tmpdir[] = "/tmp/dsync-test-options.XXXXXX";

static char *write_tmp(const char *name, const char *text)
{
	char *path;
	FILE *f;

	xasprintf(&path, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static unsigned bit(const char *name)
{
	return coll_bit(coll_find(name));
}

/* The engine's rules follow the shared names, one for one. */
static void test_rules_order(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < COLL_COUNT; i++) {
		assert_string_equal(coll_rules[i].name, colls_names[i]);
		assert_ptr_equal(coll_find(colls_names[i]), &coll_rules[i]);
		assert_int_equal(coll_bit(&coll_rules[i]), COLLS_BIT(i));
	}
	assert_null(coll_find("users"));
	assert_int_equal(colls_index("users"), -1);
	assert_int_equal(colls_index(NULL), -1);
}

static void test_lists(void **state)
{
	unsigned set = 0;
	char *err = NULL;

	assert_int_equal(sync_opts_parse_collections("-o", "flows, operations",
			     false, &set, &err),
	    0);
	assert_int_equal(set, bit("flows") | bit("operations"));
	assert_int_equal(sync_opts_parse_collections("-o", "flows,nope", false,
			     &set, &err),
	    -1);
	assert_non_null(strstr(err, "unknown collection 'nope'"));
	free(err);
	set = 0;
	assert_int_equal(sync_opts_parse_collections("--preserve-ids", "all",
			     true, &set, &err),
	    0);
	assert_int_equal(set,
	    bit("dashboards") | bit("operations") | bit("panels") |
		bit("policies") | bit("roles") | bit("translations"));
	/* Integer ids can never be preserved. */
	assert_int_equal(sync_opts_parse_collections("--preserve-ids",
			     "permissions", true, &set, &err),
	    -1);
	free(err);
}

static void test_selected(void **state)
{
	struct sync_opts o;

	sync_opts_init(&o);
	assert_int_equal(sync_opts_selected(&o), (1u << COLL_COUNT) - 1);
	o.only = bit("flows") | bit("roles");
	o.exclude = bit("roles");
	assert_int_equal(sync_opts_selected(&o), bit("flows"));
	o.collections = false;
	assert_int_equal(sync_opts_selected(&o), 0);
	assert_true(sync_opts_preserves(&o, "flows"));
	assert_false(sync_opts_preserves(&o, "roles"));
	sync_opts_clear(&o);
}

static void test_config_file(void **state)
{
	struct sync_opts o;
	char *err = NULL;
	char *base = write_tmp("base.json",
	    "{\"directusUrl\":\"http://a\","
	    "\"excludeCollections\":[\"presets\"],\"split\":false}");
	char *child = write_tmp("child.json",
	    "{\"extends\":[\"./base.json\"],"
	    "\"directusUrl\":\"http://b\",\"excludeCollections\":[\"panels\"],"
	    "\"dumpPath\":\"./cfg\",\"unknownKey\":1}");
	char *js = write_tmp("directus-sync.config.js", "module.exports={}");
	char *bad = write_tmp("bad.json", "{\n  \"debug\": true,\n}");

	sync_opts_init(&o);
	assert_int_equal(sync_opts_load_file(&o, child, &err), 0);
	assert_string_equal(o.url, "http://b");
	assert_string_equal(o.dump_path, "./cfg");
	assert_false(o.split);
	assert_int_equal(o.exclude, bit("presets") | bit("panels"));
	assert_int_equal(sync_opts_load_file(&o, js, &err), -1);
	assert_non_null(strstr(err, "JSON config files only"));
	free(err);
	assert_int_equal(sync_opts_load_file(&o, bad, &err), -1);
	assert_non_null(strstr(err, "bad.json"));
	assert_non_null(strstr(err, "line 3"));
	free(err);
	sync_opts_clear(&o);
	unlink(base);
	unlink(child);
	unlink(js);
	unlink(bad);
	free(base);
	free(child);
	free(js);
	free(bad);
}

/* seedPath merges as directus-sync's deepmerge: an array joins an array
 * and replaces a single path (the default); a path replaces all. */
static void test_seed_paths(void **state)
{
	struct sync_opts o;
	char *err = NULL;
	char *arr = write_tmp("seed-arr.json",
	    "{\"seedPath\": [\"a\", \"b\"]}");
	char *one = write_tmp("seed-one.json", "{\"seedPath\": \"c\"}");
	char *ext = write_tmp("seed-ext.json",
	    "{\"extends\": [\"seed-arr.json\"], \"seedPath\": [\"d\"]}");
	char *bad = write_tmp("seed-bad.json", "{\"seedPath\": [1]}");

	(void)state;
	sync_opts_init(&o);
	assert_int_equal(o.nseed_paths, 1);
	assert_string_equal(o.seed_paths[0], "./directus-config/seed");
	assert_int_equal(sync_opts_load_file(&o, arr, &err), 0);
	assert_int_equal(o.nseed_paths, 2);
	assert_string_equal(o.seed_paths[1], "b");
	sync_opts_seed_path(&o, "flag", true); /* --seed-path: joined */
	assert_int_equal(o.nseed_paths, 3);
	assert_string_equal(o.seed_paths[2], "flag");
	assert_int_equal(sync_opts_load_file(&o, one, &err), 0);
	assert_int_equal(o.nseed_paths, 1);
	assert_string_equal(o.seed_paths[0], "c");
	sync_opts_clear(&o);

	sync_opts_init(&o);
	assert_int_equal(sync_opts_load_file(&o, ext, &err), 0);
	assert_int_equal(o.nseed_paths, 3); /* a, b from the parent, then d */
	assert_string_equal(o.seed_paths[0], "a");
	assert_string_equal(o.seed_paths[2], "d");
	assert_int_equal(sync_opts_load_file(&o, bad, &err), -1);
	assert_non_null(strstr(err, "seedPath must be a path or an array"));
	free(err);
	sync_opts_clear(&o);
	free(arr);
	free(one);
	free(ext);
	free(bad);
}

static void test_validate(void **state)
{
	struct sync_opts o;
	char *err = NULL;

	sync_opts_init(&o);
	assert_int_equal(sync_opts_validate(&o, &err), -1);
	assert_non_null(strstr(err, "no Directus URL"));
	free(err);
	o.url = xstrdup("http://127.0.0.1:8055");
	assert_int_equal(sync_opts_validate(&o, &err), -1);
	assert_non_null(strstr(err, "no credentials"));
	free(err);
	o.token = xstrdup("secret");
	assert_int_equal(sync_opts_validate(&o, &err), 0);
	sync_opts_clear(&o);
}

/* --ca-file and DSYNC_CA_FILE: checked before any request. */
static void test_ca_file(void **state)
{
	struct sync_opts o;
	char *err = NULL, *pem, *junk;

	(void)state;
	pem = write_tmp("ca.pem",
	    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
	junk = write_tmp("junk.pem", "-----BEGIN PRIVATE KEY-----\n");
	sync_opts_init(&o);
	o.url = xstrdup("https://h");
	o.token = xstrdup("secret");
	o.ca_file = xstrdup(pem);
	assert_int_equal(sync_opts_validate(&o, &err), 0);
	assert_false(o.insecure);
	free(o.ca_file);
	o.ca_file = xstrdup("/nonexistent/ca.pem");
	assert_int_equal(sync_opts_validate_url(&o, &err), -1);
	assert_string_equal(err,
	    "the CA file (--ca-file, DSYNC_CA_FILE) "
	    "/nonexistent/ca.pem: No such file or directory");
	free(err);
	free(o.ca_file);
	o.ca_file = xstrdup(junk);
	assert_int_equal(sync_opts_validate(&o, &err), -1);
	assert_non_null(strstr(err, "junk.pem: holds no PEM certificate"));
	free(err);
	free(o.ca_file);
	o.ca_file = xstrdup(tmpdir);
	assert_int_equal(sync_opts_check_ca_file(tmpdir, &err), -1);
	assert_non_null(strstr(err, ": not a regular file"));
	free(err);
	sync_opts_clear(&o);
	unlink(pem);
	unlink(junk);
	free(pem);
	free(junk);
}

/* URLs in messages: never the password. */
static void test_url_shown(void **state)
{
	static const char *const cases[][2] = {
		{ "https://h.example:8443/x", "https://h.example:8443/x" },
		{ "https://u:pw@h.example/x", "https://h.example/x" },
		{ "http://u@h", "http://h" },
		{ "https://h/a@b", "https://h/a@b" },
		{ "https://h?x=a@b", "https://h?x=a@b" },
		{ "", "" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *u = sync_opts_url_shown(cases[i][0]);

		assert_string_equal(u, cases[i][1]);
		free(u);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_order),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_selected),
		cmocka_unit_test(test_config_file),
		cmocka_unit_test(test_seed_paths),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_ca_file),
		cmocka_unit_test(test_url_shown),
	};
	int rc;

	if (mkdtemp(tmpdir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(tmpdir);
	return rc;
}
