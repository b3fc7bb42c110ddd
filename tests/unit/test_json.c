/*
 * test_json: the parser and writer against node itself. Every expected
 * byte comes from JSON.parse + JSON.stringify run at test time, so the
 * writer is held to exactly what the reference tool would write.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "buf.h"
#include "json.h"
#include "xmalloc.h"
#include "node_ref.h"

/* Each input line is "x" and a hex-encoded JSON text; each output line is
 * "ERR" if JSON.parse threw, or the hex
 * of JSON.stringify(v, null, 2), a space and the hex of JSON.stringify(v),
 * after the keys were sorted with localeCompare if argv[3] is "sort". */
static const char node_script[] =
    "const fs = require('fs');\nconst sort = process.argv[3] === 'sort';\n"
    "const hex = (s) => Buffer.from(s, 'utf8').toString('hex');\n"
    "function sortKeys(v) {\n  if (Array.isArray(v))\n"
    "    return v.map(sortKeys);\n  if (v === null || typeof v !== 'object')\n"
    "    return v;\n  const o = {};\n"
    "  for (const k of Object.keys(v).sort((a, b) => a.localeCompare(b)))\n"
    "    o[k] = sortKeys(v[k]);\n  return o;\n}\nconst out = [];\n"
    "for (const l of fs.readFileSync(process.argv[2], 'latin1')"
    ".split('\\n')) {\n  if (l === '')\n    continue;\n  let v;\n  try {\n"
    "    v = JSON.parse(Buffer.from(l.slice(1), 'hex').toString('utf8'));\n"
    "  } catch (e) {\n    out.push('ERR');\n    continue;\n  }\n  if (sort)\n"
    "    v = sortKeys(v);\n  out.push(hex(JSON.stringify(v, null, 2)) + ' ' +\n"
    "      hex(JSON.stringify(v)));\n}\n"
    "process.stdout.write(out.join('\\n') + '\\n');\n";

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

static size_t rng_below(struct rng *r, size_t n)
{
	return (size_t)(rng_next(r) % n);
}

struct texts {
	char **v;
	size_t *len;
	size_t n, cap;
};

static void texts_addn(struct texts *t, const char *s, size_t len)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
		t->len = xreallocarray(t->len, t->cap, sizeof(*t->len));
	}
	t->v[t->n] = xstrndup(s, len);
	t->len[t->n++] = len;
}

static void texts_add(struct texts *t, const char *s)
{
	texts_addn(t, s, strlen(s));
}

static void texts_free(struct texts *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	free(t->len);
}

static void add_hex(struct buf *b, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf_addf(b, "%02x", (unsigned char)s[i]);
}

/* Runs the node script on the texts; its output lands in out. */
static void run_node(const struct texts *t, bool sort, struct buf *out)
{
	struct buf in;
	size_t i;

	buf_init(&in);
	for (i = 0; i < t->n; i++) {
		buf_addc(&in, 'x');
		add_hex(&in, t->v[i], t->len[i]);
		buf_addc(&in, '\n');
	}
	node_run("the JSON tests", node_script, sizeof(node_script) - 1,
	    in.data, in.len, sort ? "sort" : "plain", out);
	buf_clear(&in);
}

static void show(const char *what, const char *s, size_t len)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < len && i < 400; i++) {
		if ((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f)
			buf_addc(&b, s[i]);
		else
			buf_addf(&b, "\\x%02x", (unsigned char)s[i]);
	}
	print_error("%s [%zu] %s%s\n", what, len, b.data ? b.data : "",
	    len > 400 ? "..." : "");
	buf_clear(&b);
}

/* Parses and writes each text (after json_sort_keys if sort), comparing
 * with node's bytes; returns the number of texts checked. */
static size_t check_texts(const struct texts *t, bool sort)
{
	struct buf out, want;
	char *line, *next, *sp, *got, *err;
	struct json *v;
	size_t i, k, glen, bad = 0;
	unsigned int byte;

	buf_init(&out);
	buf_init(&want);
	run_node(t, sort, &out);
	line = out.data;
	assert_non_null(line);
	for (i = 0; i < t->n; i++) {
		next = strchr(line, '\n');
		assert_non_null(next);
		*next = '\0';
		v = json_parse(t->v[i], t->len[i], &err);
		if (strcmp(line, "ERR") == 0) {
			if (v != NULL && bad++ < 10)
				show("node rejects, json_parse accepts:",
				    t->v[i], t->len[i]);
			json_free(v);
			free(err);
			line = next + 1;
			continue;
		}
		if (v == NULL) {
			if (bad++ < 10) {
				show("json_parse rejects:", t->v[i], t->len[i]);
				print_error("  %s\n", err);
			}
			free(err);
			line = next + 1;
			continue;
		}
		if (sort)
			json_sort_keys(v);
		for (k = 0; k < 2; k++) {
			sp = k == 0 ? strchr(line, ' ') : line + strlen(line);
			assert_non_null(sp);
			buf_reset(&want);
			for (; line < sp; line += 2) {
				assert_int_equal(sscanf(line, "%2x", &byte), 1);
				buf_addc(&want, (char)byte);
			}
			line = sp + 1;
			got = json_write(v, k == 0, &glen);
			if ((glen != want.len ||
				(glen > 0 &&
				    memcmp(got, want.data, glen) != 0)) &&
			    bad++ < 10) {
				show("input:", t->v[i], t->len[i]);
				show("  node:", want.data ? want.data : "",
				    want.len);
				show("  ours:", got, glen);
			}
			free(got);
		}
		json_free(v);
		line = next + 1;
	}
	buf_clear(&out);
	buf_clear(&want);
	assert_int_equal(bad, 0);
	return t->n;
}

static const char *const corpus[] = {
	"{\"a\":{\"b\":[1,2,{\"c\":[]}],\"d\":{}},\"e\":[[],[{}]],\"f\":null}",
	"[true,false,null,[[[[]]]],{\"x\":{\"y\":{\"z\":{}}}}]",
	"{}",
	"[]",
	"[{}]",
	"{\"\":\"\"}",
	"\"\"",
	"null",
	"true",
	"42",
	"\"just a string\"",
	" \n\t [ 1 , 2 ] \r\n ",
	"\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"",
	"[\"\\u0000\",\"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\"]",
	"[\"\\u000b\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\"]",
	"[\"\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\"]",
	"[\"\\u001d\\u001e\\u001f\\u0020\\u007f\\u0080\\u009f\\u00a0\"]",
	"{\"a\\u0000b\":\"c\\u0000d\",\"\\n\":\"\\t\"}",
	"[\"é\",\"日本語\",\"😀\",\"\\ud83d\\ude00\",\"\\u00e9\",\"\xc2\x80\"]",
	"[\"\\u2028\\u2029\",\"\xe2\x80\xa8\xe2\x80\xa9\",\"\\ufeff\\uffff\"]",
	"[\"/ </script> \\u003c \\u0026 '\", \"\\uDBFF\\uDFFF\"]",
	"[\"\\udc00\", \"x\\udfffy\", \"\\ud800\", \"\\ud800x?\"]",
	"[\"\\ud800\\u0041\", \"\\\\\\ud83d\\ude00\\\\\", \"?\\\"\\udbff\"]",
	"{\"\\ud800\":1,\"\\ud83d\\ude00?\":[\"\\udbff\\udbff\\udfff\"]}",
	"[0, -0, 1e21, 1e-7, 0.1, 1.7976931348623157e308, 5e-324]",
	"[123456789012345678901234567890, 1.0, 2.50, -1.5e-10]",
	"[9007199254740991, 9007199254740992, 9007199254740993, "
	"9007199254740994, -9007199254740993, 18014398509481985]",
	"[1e400, -1e400, 1e-400, -1e-400, 2.4703282292062328e-324]",
	"[1e20, 1e21, 1.5e21, 123e-20, 0.000001, 0.0000001, 1.5e300]",
	"[4.35, 100, 1.5, 0.5, -0.0, 2e-7, 1.2345678901234567e-7, 1E2]",
	"[0.30000000000000004, 1.1, 2.675, 1e23, 9.999999999999999e22]",
	"[5e-7, 5e-6, 123456.789e3, 1e+2, 1E-2, 0e5, -0e-5, 100e-2]",
	"[2.2250738585072014e-308, 2.225073858507201e-308, 4.9e-324]",
	"[1.7976931348623157e+308, 1.7976931348623158e+308, "
	"1.7976931348623159e+308]",
	"[12345678901234567890, 98765432109876543210, 1e16, 1.2e16]",
	"[0.1e1, 0.01e2, 10e-1, 3.14159265358979323846264338327950288]",
	"{\"a\":1,\"b\":2,\"a\":3}",
	"{\"a\":1,\"a\":2,\"a\":{\"x\":1,\"x\":[1]}}",
	"{\"b\":1,\"10\":2,\"2\":3,\"01\":4,\"4294967295\":5,\"0\":6,"
	"\"4294967294\":7,\"-1\":8,\"1.5\":9,\"a\":10,\"2\":11}",
	"{\"__proto__\":1,\"constructor\":2,\"toString\":3}",
	/* rejected by both */
	"",
	"   ",
	"[1,]",
	"{\"a\":1,}",
	"[1] 2",
	"{\"a\" 1}",
	"[01]",
	"[1.]",
	"nul",
	"\"abc",
	"[\"a\x01\"]",
	"[.5]",
	"[+1]",
	"[NaN]",
	"{'a':1}",
	"[1 2]",
	"\"\\x\"",
	"{1:2}",
	"[1}",
	"{\"a\":1]",
};

static void test_corpus(void **state)
{
	struct texts t = { 0 };
	size_t i;

	for (i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++)
		texts_add(&t, corpus[i]);
	print_message("json: %zu corpus texts\n", check_texts(&t, false));
	texts_free(&t);
}

/* Objects large enough for the sorting dedup path, with repeats. */
static void test_big_duplicates(void **state)
{
	struct texts t = { 0 };
	struct rng r = { 99 };
	struct buf b;
	size_t i, j, n;

	buf_init(&b);
	for (i = 0; i < 20; i++) {
		n = 5 + rng_below(&r, 60);
		buf_reset(&b);
		buf_addc(&b, '{');
		for (j = 0; j < n; j++)
			buf_addf(&b, "%s\"k%zu\":%zu", j ? "," : "",
			    rng_below(&r, n / 2 + 1), j);
		buf_addc(&b, '}');
		texts_addn(&t, b.data, b.len);
	}
	buf_clear(&b);
	check_texts(&t, false);
	texts_free(&t);
}

/* Doubles: every power of two (the asymmetric rounding interval), random
 * bit patterns, and short decimals in all exponent ranges. */
static void test_numbers(void **state)
{
	struct texts t = { 0 };
	struct rng r = { 0x1234567 };
	struct buf b;
	uint64_t bits;
	double d;
	int e, i, j;

	buf_init(&b);
	for (e = -1074; e <= 1023; e += 100) {
		buf_reset(&b);
		buf_addc(&b, '[');
		for (j = e; j < e + 100 && j <= 1023; j++)
			buf_addf(&b, "%s%.17g", j > e ? "," : "", ldexp(1, j));
		buf_addc(&b, ']');
		texts_addn(&t, b.data, b.len);
	}
	for (i = 0; i < 100; i++) {
		buf_reset(&b);
		buf_addc(&b, '[');
		for (j = 0; j < 100; j++) {
			bits = rng_next(&r);
			memcpy(&d, &bits, sizeof(d));
			if (isnan(d) || isinf(d))
				d = 1;
			buf_addf(&b, "%s%.17g", j ? "," : "", d);
		}
		buf_addc(&b, ']');
		texts_addn(&t, b.data, b.len);
	}
	for (i = 0; i < 60; i++) {
		buf_reset(&b);
		buf_addc(&b, '[');
		for (j = 0; j < 100; j++)
			buf_addf(&b, "%s%s%zu.%zue%d", j ? "," : "",
			    rng_below(&r, 2) ? "-" : "", rng_below(&r, 1000),
			    rng_below(&r, 100000), (int)rng_below(&r, 60) - 30);
		buf_addc(&b, ']');
		texts_addn(&t, b.data, b.len);
	}
	buf_clear(&b);
	print_message("json: %zu number arrays (%zu numbers)\n",
	    check_texts(&t, false), t.n * 100);
	texts_free(&t);
}

static const char key_alpha[] = "_-0123456789abcdefABCDEF.é";

static void random_key(struct rng *r, struct buf *b)
{
	size_t i, n = rng_below(r, 6);

	buf_addc(b, '"');
	if (rng_below(r, 8) == 0) {
		buf_addf(b, "%zu", rng_below(r, 30));
	} else {
		for (i = 0; i < n; i++) {
			char c = key_alpha[rng_below(r, sizeof(key_alpha) - 1)];

			/* keep the two bytes of é together */
			if ((unsigned char)c >= 0x80)
				buf_adds(b, "é");
			else
				buf_addc(b, c);
		}
	}
	buf_addc(b, '"');
}

static void random_value(struct rng *r, struct buf *b, int depth)
{
	static const char *const strs[] = {
		"\"\"",
		"\"x\"",
		"\"a\\nb\"",
		"\"\\u0001\"",
		"\"\\u2028\"",
		"\"日本\"",
		"\"\\\"q\\\"\"",
		"\"😀\"",
	};
	size_t i, n;

	switch (depth > 4 ? rng_below(r, 6) : rng_below(r, 9)) {
	case 0:
		buf_adds(b, "null");
		break;
	case 1:
		buf_adds(b, rng_below(r, 2) ? "true" : "false");
		break;
	case 2:
		buf_addf(b, "%.*g", (int)rng_below(r, 17) + 1,
		    ((double)(int64_t)rng_next(r)) / 1e9);
		break;
	case 3:
		buf_addf(b, "%zu", rng_below(r, 100000));
		break;
	case 4:
	case 5:
		buf_adds(b, strs[rng_below(r, 8)]);
		break;
	case 6:
		n = rng_below(r, 5);
		buf_addc(b, '[');
		for (i = 0; i < n; i++) {
			if (i)
				buf_adds(b, rng_below(r, 2) ? "," : " ,\n ");
			random_value(r, b, depth + 1);
		}
		buf_addc(b, ']');
		break;
	default:
		n = rng_below(r, 7);
		buf_addc(b, '{');
		for (i = 0; i < n; i++) {
			if (i)
				buf_addc(b, ',');
			random_key(r, b);
			buf_adds(b, rng_below(r, 2) ? ":" : " : ");
			random_value(r, b, depth + 1);
		}
		buf_addc(b, '}');
		break;
	}
}

static void make_random_docs(struct texts *t, uint64_t seed, size_t n)
{
	struct rng r = { seed };
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < n; i++) {
		buf_reset(&b);
		random_value(&r, &b, 0);
		texts_addn(t, b.data, b.len);
	}
	buf_clear(&b);
}

static void test_random_docs(void **state)
{
	struct texts t = { 0 };

	make_random_docs(&t, 777, 600);
	print_message("json: %zu random documents\n", check_texts(&t, false));
	texts_free(&t);
}

/* json_sort_keys against Object.keys().sort(localeCompare), recursively;
 * index-like keys stay first, as JavaScript objects keep them. */
static void test_sort_keys(void **state)
{
	struct texts t = { 0 };

	texts_add(&t,
	    "{\"b\":1,\"B\":2,\"a\":{\"z\":1,\"_y\":2,\"-x\":3},"
	    "\"A\":[{\"d\":1,\"c\":2}],\"10\":0,\"9\":0,\"a-b\":0,\"a_b\":0}");
	texts_add(&t,
	    "{\"_sync_default_admin_role\":1,"
	    "\"3f2504e0-4f89-41d3-9a0c-0305e82c3301-articles-read\":2,"
	    "\"3F2504E0-4f89-41d3-9a0c-0305e82c3301-articles-read\":3,"
	    "\"log_1\":4,\"trigger-flow\":5,\"Log_1\":6,\"log1\":7}");
	make_random_docs(&t, 4242, 600);
	print_message("json: %zu documents sorted\n", check_texts(&t, true));
	texts_free(&t);
}

static struct json *parse_ok(const char *s)
{
	char *err = NULL;
	struct json *v = json_parse(s, strlen(s), &err);

	if (v == NULL)
		fail_msg("parse of %s failed: %s", s, err);
	assert_null(err);
	return v;
}

static void assert_writes(const struct json *v, const char *want)
{
	size_t len;
	char *got = json_write(v, false, &len);

	assert_string_equal(got, want);
	assert_int_equal(len, strlen(want));
	free(got);
}

static void test_equal(void **state)
{
	struct json *a = parse_ok("{\"a\":1,\"b\":[1,{\"c\":null,"
				  "\"d\":\"x\"}]}");
	struct json *b = parse_ok("{\"b\":[1,{\"d\":\"x\",\"c\":null}],"
				  "\"a\":1.0}");
	struct json *c = parse_ok("{\"b\":[{\"d\":\"x\",\"c\":null},1],"
				  "\"a\":1}");
	struct json *d = parse_ok("{\"a\":1,\"b\":[1,{\"c\":null,"
				  "\"d\":\"y\"}]}");
	struct json *e = parse_ok("{\"a\":1,\"b\":[1,{\"c\":null}]}");
	struct json *s1 = json_new_stringn("a\0b", 3);
	struct json *s2 = json_new_stringn("a\0c", 3);
	struct json *big1 = json_new_object(), *big2 = json_new_object();
	char key[16];
	int i;

	assert_true(json_equal(a, b));
	assert_true(json_equal(b, a));
	assert_false(json_equal(a, c));
	assert_false(json_equal(a, d));
	assert_false(json_equal(a, e));
	assert_false(json_equal(e, a));
	assert_false(json_equal(s1, s2));
	assert_true(json_equal(s1, s1));
	assert_true(json_equal(NULL, NULL));
	assert_false(json_equal(a, NULL));
	for (i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		json_set(big1, key, json_new_number(i));
		snprintf(key, sizeof(key), "k%d", 39 - i);
		json_set(big2, key, json_new_number(39 - i));
	}
	assert_true(json_equal(big1, big2));
	json_set(big2, "k7", json_new_number(8));
	assert_false(json_equal(big1, big2));
	json_set(big2, "k7", json_new_number(7));
	assert_true(json_equal(big1, big2));
	json_del(big2, "k7");
	json_set(big2, "k7x", json_new_number(7));
	assert_false(json_equal(big1, big2));
	json_free(a);
	json_free(b);
	json_free(c);
	json_free(d);
	json_free(e);
	json_free(s1);
	json_free(s2);
	json_free(big1);
	json_free(big2);
}

static void test_edit_order(void **state)
{
	struct json *o = parse_ok("{\"a\":1,\"b\":2,\"c\":3,\"d\":4}");
	struct json *v, *arr;

	json_set(o, "b", json_new_string("x"));
	assert_writes(o, "{\"a\":1,\"b\":\"x\",\"c\":3,\"d\":4}");
	json_set(o, "e", json_new_bool(true));
	assert_writes(o, "{\"a\":1,\"b\":\"x\",\"c\":3,\"d\":4,\"e\":true}");
	assert_true(json_del(o, "c"));
	assert_false(json_del(o, "c"));
	assert_writes(o, "{\"a\":1,\"b\":\"x\",\"d\":4,\"e\":true}");
	v = json_take(o, "a");
	assert_non_null(v);
	assert_int_equal(v->type, JSON_NUMBER);
	assert_true(v->u.num == 1);
	json_free(v);
	assert_null(json_take(o, "a"));
	assert_writes(o, "{\"b\":\"x\",\"d\":4,\"e\":true}");
	assert_string_equal(json_str(json_get(o, "b")), "x");
	assert_null(json_get(o, "zz"));
	assert_null(json_str(json_get(o, "d")));
	assert_true(json_is_null(json_get(o, "zz")));
	arr = json_new_array();
	json_array_append(arr, json_new_number(1));
	json_array_append(arr, json_new_null());
	json_array_append(arr, json_new_number(3));
	json_array_remove(arr, 1);
	json_set(o, "arr", arr);
	assert_writes(o, "{\"b\":\"x\",\"d\":4,\"e\":true,\"arr\":[1,3]}");
	v = json_copy(o);
	assert_true(json_equal(o, v));
	json_del(o, "arr");
	assert_writes(v, "{\"b\":\"x\",\"d\":4,\"e\":true,\"arr\":[1,3]}");
	json_free(v);
	json_free(o);
}

static void assert_parse_error(const char *text, size_t len, const char *where)
{
	char *err = NULL;
	struct json *v = json_parse(text, len, &err);

	assert_null(v);
	assert_non_null(err);
	if (strstr(err, where) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, where);
	free(err);
}

static void test_errors(void **state)
{
	static const char trailing[] = "{\n  \"a\": 1,\n}";
	char *deep;
	struct json *v;
	char *err;
	size_t i;

	assert_parse_error(trailing, strlen(trailing), "line 3, column 1");
	assert_parse_error("", 0, "line 1, column 1");
	assert_parse_error("  \n ", 4, "line 2, column 2");
	assert_parse_error("[1] x", 5, "line 1, column 5");
	assert_parse_error("[1,\n2", 5, "line 2");
	assert_parse_error("{\"é\": 1 2}", 11, "line 1, column 9");
	assert_parse_error("[\"a\x01\"]", 6, "line 1, column 4");
	assert_parse_error("[1]\0", 4, "line 1, column 4");
	assert_parse_error("[1 true]", 8, "line 1, column 4");
	assert_parse_error("{\"a\":1 \"bc\":2}", 15, "line 1, column 8");
	assert_parse_error("{\"a\":1,\n\n    ]", 14, "line 3, column 5");
	assert_parse_error("[1,2\n", 5, "line 2, column 1");
	/* A character that starts no token is pointed at itself. */
	assert_parse_error("@", 1, "line 1, column 1: invalid char");
	assert_parse_error("[1,@]", 5, "line 1, column 4: invalid char");
	assert_parse_error("{\n  @\n}", 7, "line 2, column 3: invalid char");
	assert_parse_error("[\"é\", @]", 9, "line 1, column 7: invalid char");
	/* node would read invalid UTF-8 as U+FFFD; refusing it is safer */
	assert_parse_error("[\"\xff\"]", 5, "invalid bytes in UTF8");

	deep = xmalloc(40001);
	memset(deep, '[', 20000);
	memset(deep + 20000, ']', 20000);
	assert_parse_error(deep, 40000, "nesting too deep");
	v = json_parse(deep + 20000 - 5000, 10000, &err);
	assert_non_null(v);
	json_free(v);
	free(deep);
	for (i = 0; i < 3; i++) {
		v = json_parse("{\"a\":[1,{\"b\":2}]}", 17, &err);
		assert_non_null(v);
		assert_null(err);
		json_free(v);
	}
}

/* Surrogate halves that meet, from raw CESU-8 bytes (which yajl lets
 * through) and escapes: one character, as in JavaScript, written as its
 * UTF-8, and the same once read back (fuzz_proto found "\ud800\udc00"
 * written, which reads back as the character). */
static void test_surrogate_halves(void **state)
{
	static const char *const in[] = {
		"\"\xed\xa0\x80\\udc00\"",
		"\"\xed\xa0\x80\xed\xb0\x80\"",
		"\"\\ud800\xed\xb0\x80\"",
		"\"\\ud800\\udc00\"",
	};
	size_t i, len;
	char *out, *again;
	struct json *v;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		v = json_parse(in[i], strlen(in[i]), NULL);
		assert_non_null(v);
		assert_int_equal(v->u.str.len, 4);
		out = json_write(v, false, &len);
		assert_string_equal(out, "\"\xf0\x90\x80\x80\"");
		json_free(v);
		v = json_parse(out, len, NULL);
		again = json_write(v, false, NULL);
		assert_string_equal(again, out);
		free(again);
		free(out);
		json_free(v);
	}
	/* halves the other way round stay apart */
	v = json_parse("\"\xed\xb0\x80\xed\xa0\x80\"", 8, NULL);
	assert_non_null(v);
	out = json_write(v, false, NULL);
	assert_string_equal(out, "\"\\udc00\\ud800\"");
	free(out);
	json_free(v);
}

static void test_scalar_string(void **state)
{
	static const struct {
		double d;
		const char *s;
	} nums[] = {
		{ 0, "0" },
		{ -0.0, "0" },
		{ 12, "12" },
		{ 1.5, "1.5" },
		{ 0.1, "0.1" },
		{ 1e21, "1e+21" },
		{ 1e-7, "1e-7" },
		{ 123456789012345678901.0, "123456789012345680000" },
		{ 5e-324, "5e-324" },
		{ 100, "100" },
		{ -1.5e-10, "-1.5e-10" },
		{ 1.7976931348623157e308, "1.7976931348623157e+308" },
		{ 0.000001, "0.000001" },
		{ 1e20, "100000000000000000000" },
	};
	struct json *v;
	char buf[32], *s;
	size_t i;

	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		assert_int_equal(json_format_number(nums[i].d, buf),
		    strlen(nums[i].s));
		assert_string_equal(buf, nums[i].s);
		v = json_new_number(nums[i].d);
		s = json_scalar_string(v);
		assert_string_equal(s, nums[i].s);
		free(s);
		json_free(v);
	}
	assert_int_equal(json_format_number(NAN, buf), 4);
	assert_string_equal(buf, "null");
	assert_int_equal(json_format_number(-INFINITY, buf), 4);
	v = json_new_number(INFINITY);
	s = json_scalar_string(v);
	assert_string_equal(s, "Infinity");
	free(s);
	json_free(v);
	v = json_new_string("abc");
	s = json_scalar_string(v);
	assert_string_equal(s, "abc");
	free(s);
	json_free(v);
	v = json_new_bool(true);
	assert_null(json_scalar_string(v));
	json_free(v);
}

/* Large inputs must parse in linear-ish time: a quadratic member check
 * would take minutes here. */
static void test_large(void **state)
{
	struct buf b;
	struct json *v;
	char *err, *out;
	size_t i, len;

	buf_init(&b);
	buf_addc(&b, '{');
	for (i = 0; i < 200000; i++)
		buf_addf(&b, "%s\"key%zu\":[%zu,\"v\"]", i ? "," : "",
		    i % 150000, i);
	buf_addc(&b, '}');
	v = json_parse(b.data, b.len, &err);
	assert_non_null(v);
	assert_int_equal(v->u.obj.len, 150000);
	assert_string_equal(v->u.obj.members[7].key, "key7");
	assert_true(v->u.obj.members[7].val->u.arr.items[0]->u.num == 150007);
	out = json_write(v, true, &len);
	assert_true(len > b.len);
	free(out);
	json_free(v);
	buf_clear(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_big_duplicates),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_random_docs),
		cmocka_unit_test(test_sort_keys),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_edit_order),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_surrogate_halves),
		cmocka_unit_test(test_scalar_string),
		cmocka_unit_test(test_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
