/*
 * test_load: reading the dump back (errors name the file, with line and
 * column; [] is none; 3.4.1 policies), the diff of two items and the
 * nested form of policies' access rows as the plan computes them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fsutil.h"
#include "load.h"
#include "plan.h"
#include "xmalloc.h"

static char tmpdir[] = "/tmp/dsync-test-load.XXXXXX";
static struct sync_opts opts;
static struct sync_ctx ctx;
static int warnings;

static void log_cb(void *arg, enum sync_level level, const char *msg)
{
	(void)arg;
	(void)msg;
	if (level == SYNC_WARN)
		warnings++;
}

static void put(const char *rel, const char *text)
{
	char *path = fs_join(tmpdir, rel), *dir = xstrdup(path);

	*strrchr(dir, '/') = '\0';
	assert_int_equal(fs_mkdirs(dir, 0755), 0);
	assert_int_equal(fs_write_file(path, text, strlen(text)), 0);
	free(dir);
	free(path);
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(tmpdir));
	sync_opts_init(&opts);
	free(opts.dump_path);
	opts.dump_path = xstrdup(tmpdir);
	memset(&ctx, 0, sizeof(ctx));
	ctx.opts = &opts;
	ctx.log = log_cb;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fs_rmtree(tmpdir);
	sync_opts_clear(&opts);
	return 0;
}

static void expect_error(const char *coll, const char *needle)
{
	struct json *items = NULL;
	char *err = NULL;

	assert_int_equal(load_collection(&ctx, opts.dump_path, coll_find(coll),
			     &items, &err),
	    SYNC_EDUMP);
	assert_null(items);
	assert_non_null(err);
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", err, needle);
	free(err);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("flows", "collections/flows.json: no such file");
	put("collections/flows.json",
	    "[\n  {\"_syncId\": \"a\",\n  \"name\": ");
	expect_error("flows", "collections/flows.json: line 3, column");
	put("collections/flows.json", "{\"a\": 1}\n");
	expect_error("flows", "expected an array of items");
	put("collections/flows.json", "[{\"name\": \"x\"}]\n");
	expect_error("flows", "item 1 has no \"_syncId\"");
	put("collections/flows.json", "[{\"_syncId\": \"\"}]\n");
	expect_error("flows", "item 1: \"_syncId\" is empty");
	put("collections/flows.json",
	    "[{\"_syncId\": \"a\"}, {\"_syncId\": \"a\"}]");
	expect_error("flows", "items 1 and 2 have the same _syncId a");
}

/* Fields of the wrong JSON type, named with the item and its SyncID. */
static void test_types(void **state)
{
	struct json *items = NULL;
	char *err = NULL;

	(void)state;
	put("collections/flows.json", "\"x\"");
	expect_error("flows", "expected an array of items, not a string");
	put("collections/flows.json", "[{\"_syncId\": {\"a\": 1}}]");
	expect_error("flows",
	    "item 1: \"_syncId\" is an object; expected a non-empty string");
	put("collections/flows.json", "[3]");
	expect_error("flows", "item 1 is a number, not an object");
	put("collections/flows.json", "[{\"_syncId\": \"a\", \"name\": 5}]");
	expect_error("flows",
	    "item 1 (_syncId a): \"name\" is a number; "
	    "expected a string or null");
	put("collections/operations.json",
	    "[{\"_syncId\": \"a\", \"key\": \"k\", \"position_x\": 1.5}]");
	expect_error("operations",
	    "\"position_x\" is a number that is not an "
	    "integer; expected an integer or null");
	put("collections/policies.json",
	    "[{\"_syncId\": \"p\", \"roles\": \"x\"}]");
	expect_error("policies",
	    "\"roles\" is a string; expected an array of access rows");
	put("collections/policies.json",
	    "[{\"_syncId\": \"p\", \"roles\": [{\"role\": 5}]}]");
	expect_error("policies",
	    "\"roles\": element 1 has a \"role\" that is "
	    "neither a SyncID nor null");
	put("collections/permissions.json",
	    "[{\"_syncId\": \"p\", \"fields\": [1]}]");
	expect_error("permissions",
	    "\"fields\" is an array; expected an "
	    "array of strings, a string or null");
	put("collections/settings.json",
	    "[{\"_syncId\": \"a\"}, {\"_syncId\": \"b\"}]");
	expect_error("settings", "holds 2 items; settings is one item");
	/* What Directus allows passes, null too where the column is marked
	 * not nullable (a flow made without an icon), and fields it does
	 * not type (json columns, new ones) are not checked. */
	put("collections/flows.json",
	    "[{\"_syncId\": \"a\", \"name\": "
	    "\"n\", \"icon\": null, \"status\": null}]");
	assert_int_equal(load_collection(&ctx, opts.dump_path,
			     coll_find("flows"), &items, &err),
	    0);
	json_free(items);
	put("collections/operations.json",
	    "[{\"_syncId\": \"a\", \"name\": "
	    "null, \"key\": \"k\", \"position_x\": 20, \"resolve\": null, "
	    "\"options\": 5, \"new_column\": [{}]}]");
	assert_int_equal(load_collection(&ctx, opts.dump_path,
			     coll_find("operations"), &items, &err),
	    0);
	json_free(items);
	put("collections/permissions.json",
	    "[{\"_syncId\": \"p\", "
	    "\"fields\": [\"*\"], \"policy\": \"x\"}, {\"_syncId\": \"q\", "
	    "\"fields\": null}, {\"_syncId\": \"r\", \"fields\": \"a,b\"}]");
	assert_int_equal(load_collection(&ctx, opts.dump_path,
			     coll_find("permissions"), &items, &err),
	    0);
	json_free(items);
}

static void expect_snapshot_error(const char *needle)
{
	char *err = NULL, *text = NULL;

	assert_int_equal(load_snapshot_text(&ctx, opts.dump_path, &text, NULL,
			     NULL, &err),
	    SYNC_EDUMP);
	assert_null(text);
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", err, needle);
	free(err);
}

/* Snapshot files of the wrong shape. */
static void test_snapshot_shapes(void **state)
{
	char *p;

	(void)state;
	p = fs_join(tmpdir, "snapshot");
	fs_rmtree(p);
	free(p);
	put("snapshot/info.json", "[]");
	expect_snapshot_error("snapshot/info.json: expected an object, not an "
			      "array");
	put("snapshot/info.json", "{\"directus\": \"11.11.0\"}");
	expect_snapshot_error("snapshot/info.json: \"version\" is missing");
	put("snapshot/info.json", "{\"version\": 1}");
	expect_snapshot_error("snapshot/info.json: no \"directus\"");
	put("snapshot/info.json", "{\"version\": 1, \"directus\": 11}");
	expect_snapshot_error("\"directus\" is a number; expected a non-empty "
			      "string");
	put("snapshot/info.json",
	    "{\"version\": 1, \"directus\": "
	    "\"11.11.0\", \"vendor\": \"sqlite\"}");
	put("snapshot/collections/a.json", "[]");
	expect_snapshot_error("snapshot/collections/a.json: expected an "
			      "object, not an array");
	put("snapshot/collections/a.json",
	    "{\"collection\": \"a\", \"meta\": \"x\"}");
	expect_snapshot_error("\"meta\" is a string; expected an object or "
			      "null");
	put("snapshot/collections/a.json",
	    "{\"collection\": \"a\", \"meta\": null, \"schema\": {}}");
	put("snapshot/fields/a/id.json", "{\"collection\": \"a\"}");
	expect_snapshot_error("snapshot/fields/a/id.json: no \"field\"");
	put("snapshot/fields/a/id.json",
	    "{\"collection\": \"a\", \"field\": \"id\", \"type\": 3}");
	expect_snapshot_error("\"type\" is a number");
	put("snapshot/fields/a/id.json",
	    "{\"collection\": \"a\", "
	    "\"field\": \"id\", \"type\": \"integer\"}");
	put("snapshot/relations/a/b.json",
	    "{\"collection\": \"a\", "
	    "\"field\": \"b\", \"related_collection\": []}");
	expect_snapshot_error(
	    "snapshot/relations/a/b.json: "
	    "\"related_collection\" is an array; expected a non-empty string "
	    "or null");
	put("snapshot/relations/a/b.json",
	    "{\"collection\": \"a\", "
	    "\"field\": \"b\", \"related_collection\": null}");
	{
		char *err = NULL, *text = NULL;

		assert_int_equal(load_snapshot_text(&ctx, opts.dump_path, &text,
				     NULL, NULL, &err),
		    0);
		free(text);
	}
	p = fs_join(tmpdir, "snapshot");
	fs_rmtree(p);
	free(p);
}

static void test_empty_is_none(void **state)
{
	struct json *items = NULL;
	char *err = NULL;

	(void)state;
	put("collections/roles.json", "[]\n");
	assert_int_equal(load_collection(&ctx, opts.dump_path,
			     coll_find("roles"), &items, &err),
	    0);
	assert_int_equal(items->type, JSON_ARRAY);
	assert_int_equal(items->u.arr.len, 0);
	json_free(items);
}

/* roles as written, for comparison. */
static void assert_roles(const struct json *item, const char *want)
{
	size_t len;
	char *s = json_write(json_get(item, "roles"), false, &len);

	assert_string_equal(s, want);
	free(s);
}

/* load policies.json holding text: the return code, and the error. */
static int load_policies(const char *text, struct json **items, char **err)
{
	*items = NULL;
	*err = NULL;
	put("collections/policies.json", text);
	return load_collection(&ctx, opts.dump_path, coll_find("policies"),
	    items, err);
}

/* 3.4's {"role": null} is the public access in the labelled policy, and
 * refuses the dump anywhere else (a link to a user, or a public access
 * the label missed: the form cannot tell). */
static void test_policies_341(void **state)
{
	struct json *items;
	char *err;

	(void)state;
	warnings = 0;
	assert_int_equal(
	    load_policies(
		"[{\"name\": \"p\", \"roles\": ["
		"{\"role\": \"r1\", \"sort\": 1}], \"_syncId\": \"p1\"}, "
		"{\"name\": \"public\", \"roles\": [{\"role\": null, "
		"\"sort\": 1}], \"_syncId\": \"_sync_default_public_policy\"}]",
		&items, &err),
	    0);
	assert_int_equal(warnings, 0);
	assert_roles(items->u.arr.items[0],
	    "[{\"role\":\"r1\",\"user\":null,\"sort\":1}]");
	assert_roles(items->u.arr.items[1],
	    "[{\"role\":null,\"user\":null,\"sort\":1}]");
	json_free(items);

	assert_int_equal(
	    load_policies(
		"[{\"name\": \"p\", \"roles\": ["
		"{\"role\": \"r1\", \"sort\": 1}, {\"role\": null, \"sort\": 2}],"
		" \"_syncId\": \"p1\"}, {\"name\": \"public\", \"roles\": ["
		"{\"role\": null, \"sort\": 1}], \"_syncId\": "
		"\"_sync_default_public_policy\"}]",
		&items, &err),
	    SYNC_EDUMP);
	assert_null(items);
	assert_non_null(strstr(err,
	    "policies.json: the public policy cannot "
	    "be told: policy p1 \"p\" holds an access row {\"role\": null} "
	    "without \"user\" (directus-sync 3.4's form)"));
	free(err);

	/* Without the policies' roles no access row is pushed: such an
	 * element is dropped, with a warning. */
	opts.sync_policy_roles = false;
	assert_int_equal(
	    load_policies(
		"[{\"name\": \"p\", \"roles\": ["
		"{\"role\": null, \"sort\": 2}], \"_syncId\": \"p1\"}]",
		&items, &err),
	    0);
	opts.sync_policy_roles = true;
	assert_int_equal(warnings, 1);
	assert_roles(items->u.arr.items[0], "[]");
	json_free(items);
}

/* The label on a policy without the public row while another holds it:
 * refused; a dump that grants the public nothing is not. */
static void test_policies_mislabelled(void **state)
{
	struct json *items;
	char *err;

	(void)state;
	assert_int_equal(
	    load_policies(
		"[{\"name\": \"Live\", \"roles\": [], "
		"\"_syncId\": \"_sync_default_public_policy\"}, {\"name\": "
		"\"Public\", \"roles\": [{\"role\": null, \"user\": null, "
		"\"sort\": 1}], \"_syncId\": \"p2\"}]",
		&items, &err),
	    SYNC_EDUMP);
	assert_non_null(strstr(err,
	    "_sync_default_public_policy \"Live\" is "
	    "labelled the public policy but holds no public access row (role "
	    "and user null), while p2 \"Public\" holds one"));
	free(err);

	assert_int_equal(
	    load_policies(
		"[{\"name\": \"Live\", \"roles\": [], "
		"\"_syncId\": \"_sync_default_public_policy\"}, {\"name\": "
		"\"Editors\", \"roles\": [{\"role\": \"r\", \"user\": null, "
		"\"sort\": 1}], \"_syncId\": \"p2\"}]",
		&items, &err),
	    0);
	json_free(items);

	/* Two public policies, the label on one of them: as Directus
	 * allows. */
	assert_int_equal(
	    load_policies(
		"[{\"name\": \"A\", \"roles\": "
		"[{\"role\": null, \"user\": null, \"sort\": 1}], \"_syncId\": "
		"\"_sync_default_public_policy\"}, {\"name\": \"B\", \"roles\": "
		"[{\"role\": null, \"user\": null, \"sort\": 2}], \"_syncId\": "
		"\"p2\"}]",
		&items, &err),
	    0);
	json_free(items);
}

static int nfields;

static void count_field(void *arg, const struct json *f)
{
	(void)arg;
	(void)f;
	nfields++;
}

static void test_snapshot(void **state)
{
	struct json *snap;
	char *err = NULL, *text = NULL;

	(void)state;
	assert_int_equal(load_snapshot_text(&ctx, opts.dump_path, &text, NULL,
			     NULL, &err),
	    SYNC_EDUMP);
	assert_non_null(strstr(err, "snapshot/info.json: no such file"));
	free(err);
	put("snapshot/info.json",
	    "{\"version\": 1, \"directus\": \"11.11.0\"}");
	put("snapshot/collections/b.json", "{\"collection\": \"b\"}");
	put("snapshot/collections/a.json", "{\"collection\": \"a\"}");
	put("snapshot/collections/m.json",
	    "{\"collection\": \"dsync_id_map\"}");
	put("snapshot/fields/a/id.json",
	    "{\"collection\": \"a\", \"field\": \"id\"}");
	nfields = 0;
	assert_int_equal(load_snapshot_text(&ctx, opts.dump_path, &text,
			     count_field, NULL, &err),
	    0);
	assert_int_equal(nfields, 1);
	/* Files in name order, the map collection left out. */
	assert_string_equal(text,
	    "{\"version\":1,\"directus\":\"11.11.0\","
	    "\"collections\":[{\"collection\":\"a\"},{\"collection\":\"b\"}],"
	    "\"fields\":[{\"collection\":\"a\",\"field\":\"id\"}],"
	    "\"relations\":[]}");
	snap = json_parse(text, strlen(text), NULL);
	assert_non_null(snap);
	json_free(snap);
	free(text);
	put("snapshot/fields/a/bad.json", "[1,");
	assert_int_equal(load_snapshot_text(&ctx, opts.dump_path, &text, NULL,
			     NULL, &err),
	    SYNC_EDUMP);
	assert_non_null(strstr(err, "snapshot/fields/a/bad.json: line 1"));
	free(err);
}

static struct json *parse(const char *s)
{
	struct json *v = json_parse(s, strlen(s), NULL);

	assert_non_null(v);
	return v;
}

static void test_item_diff(void **state)
{
	struct json *src, *tgt, *d;
	char *s;
	size_t len;

	(void)state;
	/* Order of members ignored, [] equals {}, keys only the instance
	 * has are no difference, _syncId and id ignored. */
	src = parse("{\"a\": {\"x\": 1, \"y\": [1, 2]}, \"b\": [], \"c\": 3,"
		    " \"_syncId\": \"s\"}");
	tgt = parse("{\"id\": 9, \"c\": 3, \"b\": {}, \"a\": {\"y\": [1, 2],"
		    " \"x\": 1}, \"extra\": true, \"_syncId\": \"s\"}");
	assert_null(plan_item_diff(src, tgt));
	json_free(tgt);
	/* Whole top-level values are sent; array order matters. */
	tgt = parse("{\"a\": {\"x\": 1, \"y\": [2, 1]}, \"b\": [], \"c\": 4}");
	d = plan_item_diff(src, tgt);
	assert_non_null(d);
	s = json_write(d, false, &len);
	assert_string_equal(s, "{\"a\":{\"x\":1,\"y\":[1,2]},\"c\":3}");
	free(s);
	json_free(d);
	json_free(tgt);
	/* A key missing on the instance is a difference. */
	tgt = parse("{\"a\": {\"x\": 1, \"y\": [1, 2]}, \"b\": []}");
	d = plan_item_diff(src, tgt);
	s = json_write(d, false, &len);
	assert_string_equal(s, "{\"c\":3}");
	free(s);
	json_free(d);
	json_free(tgt);
	json_free(src);
}

/* Directus 12's mask of a concealed value is never a difference: the
 * dump cannot hold the secret, and writing the mask would replace it. */
static void test_item_diff_mask(void **state)
{
	struct json *src, *tgt, *d;
	char *s;
	size_t len;

	(void)state;
	src = parse("{\"key\": \"**********\", \"name\": \"n\"}");
	tgt = parse("{\"key\": null, \"name\": \"n\"}");
	assert_null(plan_item_diff(src, tgt));
	json_free(tgt);
	tgt = parse("{\"name\": \"m\"}");
	d = plan_item_diff(src, tgt);
	s = json_write(d, false, &len);
	assert_string_equal(s, "{\"name\":\"n\"}");
	free(s);
	json_free(d);
	json_free(tgt);
	json_free(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_snapshot_shapes),
		cmocka_unit_test(test_empty_is_none),
		cmocka_unit_test(test_policies_341),
		cmocka_unit_test(test_policies_mislabelled),
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_item_diff),
		cmocka_unit_test(test_item_diff_mask),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
