/*
 * Unit tests of the plan summary (plain data a loop can keep after the
 * plan is gone) and of the result names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plan.h"
#include "xmalloc.h"

static struct json *parse(const char *s)
{
	struct json *v = json_parse(s, strlen(s), NULL);

	assert_non_null(v);
	return v;
}

static void add(struct plan_list *l, const char *sid, const char *item)
{
	struct plan_change *c = plan_list_push(l);

	c->sync_id = xstrdup(sid);
	c->item = item ? parse(item) : NULL;
}

/* A plan as plan_build leaves it: 7 flow creates, an update and a
 * delete of permissions, and a schema diff of three entries. */
static void make_plan(struct plan *p)
{
	char sid[16], item[64];
	int i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < COLL_COUNT; i++)
		p->c[i].rule = &coll_rules[i];
	p->c[3].selected = true; /* flows */
	p->c[7].selected = true; /* permissions */
	for (i = 0; i < 7; i++) {
		snprintf(sid, sizeof(sid), "flow-%d", i);
		snprintf(item, sizeof(item), "{\"name\":\"Flow %d\"}", i);
		add(&p->c[3].create, sid, item);
	}
	p->c[3].unchanged = 2;
	add(&p->c[7].update, "perm-1",
	    "{\"collection\":\"articles\",\"action\":\"read\"}");
	add(&p->c[7].del, "perm-2",
	    "{\"collection\":\"tags\",\"action\":\"delete\"}");
	p->c[7].dangling = xcalloc(1, sizeof(char *));
	p->c[7].dangling[0] = xstrdup("gone");
	p->c[7].ndangling = 1;
	p->schema = true;
	p->schema_diff = parse(
	    "{\"collections\":[{\"collection\":\"news\","
	    "\"diff\":[{\"kind\":\"N\",\"rhs\":{}}]}],\"fields\":[{"
	    "\"collection\":\"news\",\"field\":\"title\",\"diff\":[{\"kind\":"
	    "\"N\",\"rhs\":{}}]},{\"collection\":\"articles\",\"field\":"
	    "\"body\",\"diff\":[{\"kind\":\"E\",\"path\":[\"meta\",\"note\"],"
	    "\"lhs\":\"a\",\"rhs\":\"b\"}]}],\"relations\":[]}");
	p->schema_changes = 3;
	p->changes = 9;
}

static void test_summary(void **state)
{
	struct plan p;
	struct plan_summary s;

	(void)state;
	make_plan(&p);
	plan_summarize(&p, &s);
	plan_free(&p); /* the summary needs nothing of the plan */
	assert_int_equal(s.changes, 12);
	assert_true(s.schema);
	assert_int_equal(s.schema_changes, 3);
	assert_int_equal(s.schema_collections, 1);
	assert_int_equal(s.schema_fields, 2);
	assert_int_equal(s.nschema_first, 3);
	assert_string_equal(s.schema_first[0], "create collection news");
	assert_string_equal(s.schema_first[1], "create field news.title");
	assert_string_equal(s.schema_first[2], "update field articles.body");
	assert_true(s.c[3].selected);
	assert_string_equal(s.c[3].name, "flows");
	assert_int_equal(s.c[3].create, 7);
	assert_int_equal(s.c[3].unchanged, 2);
	assert_int_equal(s.c[3].nfirst, PLAN_SUMMARY_FIRST);
	assert_int_equal(s.c[3].first[0].kind, '+');
	assert_string_equal(s.c[3].first[4].sync_id, "flow-4");
	assert_string_equal(s.c[3].first[4].label, "Flow 4");
	assert_int_equal(s.c[7].update, 1);
	assert_int_equal(s.c[7].del, 1);
	assert_int_equal(s.c[7].dangling, 1);
	assert_int_equal(s.c[7].nfirst, 2);
	assert_int_equal(s.c[7].first[0].kind, '~');
	assert_string_equal(s.c[7].first[0].label, "articles read");
	assert_int_equal(s.c[7].first[1].kind, '-');
	assert_false(s.c[0].selected);
	plan_summary_clear(&s);
}

static void test_summary_json(void **state)
{
	struct plan p;
	struct plan_summary s;
	struct json *j;
	char *text;

	(void)state;
	make_plan(&p);
	plan_summarize(&p, &s);
	plan_free(&p);
	j = plan_summary_json(&s);
	text = json_write(j, false, NULL);
	assert_non_null(strstr(text, "\"changes\":12"));
	assert_non_null(strstr(text,
	    "\"permissions\":{\"create\":0,"
	    "\"update\":1,\"delete\":1,\"unchanged\":0,\"dangling\":1,"
	    "\"first\":[{\"kind\":\"~\",\"_syncId\":\"perm-1\",\"name\":"
	    "\"articles read\"}"));
	/* Only the compared collections appear. */
	assert_null(strstr(text, "\"settings\""));
	free(text);
	json_free(j);
	plan_summary_clear(&s);
}

static void test_result_names(void **state)
{
	(void)state;
	assert_string_equal(sync_result_name(0), "ok");
	assert_string_equal(sync_result_name(SYNC_ECANCELED), "cancelled");
	assert_string_equal(sync_result_name(SYNC_EAUTH), "auth");
	assert_string_equal(sync_result_name(SYNC_EUNREACH), "unreachable");
	assert_string_equal(sync_result_name(SYNC_EGUARD), "guard");
	assert_string_equal(sync_result_name(-1), "failed");
	assert_int_equal(dx_status_result(401), SYNC_EAUTH);
	assert_int_equal(dx_status_result(403), SYNC_EAUTH);
	assert_int_equal(dx_status_result(429), SYNC_ESERVER);
	assert_int_equal(dx_status_result(503), SYNC_ESERVER);
	assert_int_equal(dx_status_result(400), SYNC_EPROTO);
	assert_true(sync_result_transient(SYNC_EUNREACH));
	assert_true(sync_result_transient(SYNC_ELOCKED));
	assert_false(sync_result_transient(SYNC_EDUMP));
	assert_false(sync_result_transient(SYNC_EGUARD));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_summary_json),
		cmocka_unit_test(test_result_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
