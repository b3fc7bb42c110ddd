/*
 * test_schema: the snapshot split (file names, "_2" suffixes for names
 * that clash once lower-cased, info.json holding everything else) and the
 * filter that keeps the SyncID map collections out of dumps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"
#include "result.h"
#include "schema.h"
#include "xmalloc.h"

struct files {
	char *names[32];
	char *bodies[32];
	size_t n;
};

static int collect_cb(void *arg, const char *rel, const struct json *content,
    char **errstr)
{
	struct files *f = arg;

	assert_true(f->n < 32);
	f->names[f->n] = xstrdup(rel);
	f->bodies[f->n] = json_write(content, false, NULL);
	f->n++;
	return 0;
}

static void files_free(struct files *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->names[i]);
		free(f->bodies[i]);
	}
}

static struct json *parse(const char *s)
{
	char *err = NULL;
	struct json *v = json_parse(s, strlen(s), &err);

	if (v == NULL)
		fail_msg("parse: %s", err);
	return v;
}

static void test_split_names_and_suffixes(void **state)
{
	struct json *snap = parse(
	    "{\"version\":1,\"directus\":\"11.11.0\",\"vendor\":\"sqlite\","
	    "\"collections\":[{\"collection\":\"profile\"},"
	    "{\"collection\":\"Profile\"},{\"collection\":\"articles\"}],"
	    "\"fields\":[{\"collection\":\"profile\",\"field\":\"content\"},"
	    "{\"collection\":\"profile\",\"field\":\"Content\"},"
	    "{\"collection\":\"profile\",\"field\":\"CONTENT\"},"
	    "{\"collection\":\"articles\",\"field\":\"id\"}],"
	    "\"relations\":[{\"collection\":\"articles\",\"field\":\"author\","
	    "\"related_collection\":\"authors\"}],\"systemFields\":[]}");
	struct files f = { 0 };
	static const char *const want[] = {
		"info.json",
		"collections/profile.json",
		"collections/Profile_2.json",
		"collections/articles.json",
		"fields/profile/content.json",
		"fields/profile/Content_2.json",
		"fields/profile/CONTENT_3.json",
		"fields/articles/id.json",
		"relations/articles/author.json",
	};
	size_t i;

	assert_int_equal(schema_split(snap, collect_cb, &f, NULL), 0);
	assert_int_equal(f.n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < f.n; i++)
		assert_string_equal(f.names[i], want[i]);
	/* info.json: everything but the three arrays, in API order. */
	assert_string_equal(f.bodies[0],
	    "{\"version\":1,\"directus\":\"11.11.0\","
	    "\"vendor\":\"sqlite\",\"systemFields\":[]}");
	assert_string_equal(f.bodies[2], "{\"collection\":\"Profile\"}");
	files_free(&f);
	json_free(snap);
}

static void test_filter_map_collections(void **state)
{
	struct json *snap = parse(
	    "{\"collections\":[{\"collection\":\"directus_sync_id_map\"},"
	    "{\"collection\":\"a\"},{\"collection\":\"dsync_id_map\"}],"
	    "\"fields\":[{\"collection\":\"dsync_id_map\",\"field\":\"x\"},"
	    "{\"collection\":\"a\",\"field\":\"id\"}]}");
	char *out;

	schema_filter(snap);
	out = json_write(snap, false, NULL);
	assert_string_equal(out,
	    "{\"collections\":[{\"collection\":\"a\"}],"
	    "\"fields\":[{\"collection\":\"a\",\"field\":\"id\"}],"
	    "\"relations\":[]}");
	free(out);
	json_free(snap);
}

/* An answer that is not a whole snapshot is refused, naming what is
 * wrong: never read as a schema without collections. */
static void test_check_snapshot(void **state)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "{}",
		    "GET /x: the snapshot's \"collections\" is missing, "
		    "not an array" },
		{ "{\"collections\":[],\"fields\":{},\"relations\":[]}",
		    "GET /x: the snapshot's \"fields\" is an object, not an "
		    "array" },
		{ "{\"collections\":[],\"fields\":[],\"relations\":null}",
		    "GET /x: the snapshot's \"relations\" is null, not an "
		    "array" },
		{ "\"x\"", "GET /x: no snapshot object in the answer" },
	};
	struct json *snap;
	char *err = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snap = parse(bad[i].text);
		assert_int_equal(schema_check_snapshot("GET /x", snap, &err),
		    SYNC_EPROTO);
		assert_string_equal(err, bad[i].msg);
		free(err);
		err = NULL;
		json_free(snap);
	}
	assert_int_equal(schema_check_snapshot("GET /x", NULL, &err),
	    SYNC_EPROTO);
	free(err);
	err = NULL;
	snap = parse("{\"version\":1,\"collections\":[],\"fields\":[],"
		     "\"relations\":[]}");
	assert_int_equal(schema_check_snapshot("GET /x", snap, &err), 0);
	assert_null(err);
	json_free(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_names_and_suffixes),
		cmocka_unit_test(test_filter_map_collections),
		cmocka_unit_test(test_check_snapshot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
