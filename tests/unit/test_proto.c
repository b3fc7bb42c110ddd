/*
 * test_proto: the control protocol's lines. Requests and replies come
 * back as they were written, every malformed request gets its code and a
 * message (and the id when it could be read), junk never crashes the
 * parser, and the command table is the one the help prints.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "json.h"
#include "proto.h"
#include "xmalloc.h"

static struct json *parse(const char *s)
{
	struct json *v = json_parse(s, strlen(s), NULL);

	assert_non_null(v);
	return v;
}

/* The line is one line: its only newline is its last byte. */
static void assert_one_line(const char *line, size_t len)
{
	assert_true(len > 0);
	assert_int_equal(strlen(line), len);
	assert_int_equal(line[len - 1], '\n');
	assert_ptr_equal(memchr(line, '\n', len), line + len - 1);
}

static void test_request_round_trip(void **state)
{
	struct proto_request req;
	const char *code = NULL;
	char *err = NULL, *line;
	size_t len;
	long id = -1;

	(void)state;
	line = proto_request_line(7, "status", NULL, &len);
	assert_string_equal(line,
	    "{\"v\":1,\"id\":7,\"cmd\":\"status\",\"args\":{}}\n");
	assert_one_line(line, len);
	assert_int_equal(proto_parse_request(line, len - 1, &req, &id, &code,
			     &err),
	    0);
	assert_null(err);
	assert_int_equal(id, 7);
	assert_int_equal(req.id, 7);
	assert_string_equal(req.cmd, "status");
	assert_int_equal(req.args->type, JSON_OBJECT);
	assert_int_equal(req.args->u.obj.len, 0);
	proto_request_clear(&req);
	assert_null(req.cmd);
	assert_null(req.args);
	proto_request_clear(&req); /* twice is harmless */
	free(line);
}

static void test_request_args_round_trip(void **state)
{
	struct json *args = parse(
	    "{\"reason\":\"deploy \\\"v2\\\"\\nline two"
	    " \\u00e9\\u2028\",\"n\":20,\"deep\":{\"a\":[1,null,true]}}");
	struct json *copy = json_copy(args);
	struct proto_request req;
	const char *code;
	char *err, *line;
	size_t len;
	long id;

	(void)state;
	line = proto_request_line(-42, "pause", args, &len);
	assert_one_line(line, len);
	assert_int_equal(proto_parse_request(line, len - 1, &req, &id, &code,
			     &err),
	    0);
	assert_int_equal(req.id, -42);
	assert_string_equal(req.cmd, "pause");
	assert_true(json_equal(req.args, copy));
	proto_request_clear(&req);
	json_free(copy);
	free(line);

	/* the largest id every JSON reader holds exactly */
	line = proto_request_line(9007199254740991L, "diff", NULL, &len);
	assert_int_equal(proto_parse_request(line, len - 1, &req, &id, &code,
			     &err),
	    0);
	assert_int_equal(req.id, 9007199254740991L);
	proto_request_clear(&req);
	free(line);
}

static void test_reply_round_trip(void **state)
{
	struct json *res = parse(
	    "{\"state\":\"in-sync\",\"pending\":{},"
	    "\"uptime\":3600.5,\"job\":null,\"name\":\"a\\nb\"}");
	struct json *copy = json_copy(res), *got;
	char *err, *line;
	size_t len;
	long id;
	bool ok;

	(void)state;
	line = proto_reply_ok(12, res, &len);
	assert_string_equal(line,
	    "{\"v\":1,\"id\":12,\"ok\":true,\"result\":"
	    "{\"state\":\"in-sync\",\"pending\":{},\"uptime\":3600.5,"
	    "\"job\":null,\"name\":\"a\\nb\"}}\n");
	assert_one_line(line, len);
	assert_int_equal(proto_parse_reply(line, len, &id, &ok, &got, &err), 0);
	assert_null(err);
	assert_int_equal(id, 12);
	assert_true(ok);
	assert_true(json_equal(got, copy));
	json_free(got);
	/* without its newline too */
	assert_int_equal(proto_parse_reply(line, len - 1, &id, &ok, &got, &err),
	    0);
	json_free(got);
	json_free(copy);
	free(line);

	line = proto_reply_ok(3, NULL, &len);
	assert_string_equal(line,
	    "{\"v\":1,\"id\":3,\"ok\":true,\"result\":null}\n");
	assert_int_equal(proto_parse_reply(line, len, &id, &ok, &got, &err), 0);
	assert_true(ok);
	assert_int_equal(got->type, JSON_NULL);
	json_free(got);
	free(line);
}

static void test_reply_error_round_trip(void **state)
{
	struct json *got;
	char *err, *line;
	size_t len;
	long id;
	bool ok = true;

	(void)state;
	line = proto_reply_error(5, PROTO_E_DENIED,
	    "push needs root or the daemon's user\n(uid 1000)", &len);
	assert_string_equal(line,
	    "{\"v\":1,\"id\":5,\"ok\":false,\"error\":"
	    "{\"code\":\"denied\",\"message\":\"push needs root or the "
	    "daemon's user\\n(uid 1000)\"}}\n");
	assert_one_line(line, len);
	assert_int_equal(proto_parse_reply(line, len, &id, &ok, &got, &err), 0);
	assert_false(ok);
	assert_int_equal(id, 5);
	assert_string_equal(json_str(json_get(got, "code")), "denied");
	assert_string_equal(json_str(json_get(got, "message")),
	    "push needs root or the daemon's user\n(uid 1000)");
	json_free(got);
	free(line);

	/* NULL code and message still give a reply a client can read */
	line = proto_reply_error(0, NULL, NULL, &len);
	assert_string_equal(line,
	    "{\"v\":1,\"id\":0,\"ok\":false,\"error\":"
	    "{\"code\":\"failed\",\"message\":\"\"}}\n");
	free(line);
}

struct bad_request {
	const char *line;
	const char *code;
	long id;	 /* what *id must hold */
	const char *msg; /* a part of the message */
};

static void check_bad(const char *line, size_t len, const char *want_code,
    long want_id, const char *want_msg)
{
	struct proto_request req;
	const char *code = NULL;
	char *err = NULL;
	long id = -1;

	if (proto_parse_request(line, len, &req, &id, &code, &err) != -1)
		fail_msg("accepted: %.200s", line);
	assert_null(req.cmd);
	assert_null(req.args);
	assert_non_null(code);
	assert_non_null(err);
	if (strcmp(code, want_code) != 0)
		fail_msg("%.200s: code %s, want %s (%s)", line, code, want_code,
		    err);
	if (id != want_id)
		fail_msg("%.200s: id %ld, want %ld", line, id, want_id);
	if (want_msg && strstr(err, want_msg) == NULL)
		fail_msg("%.200s: message \"%s\" lacks \"%s\"", line, err,
		    want_msg);
	assert_null(memchr(err, '\n', strlen(err)));
	free(err);
}

/* Requests the protocol refuses: the error, the id answered, the message. */
static const struct bad_request request_errors[] = {
	{ "not json", PROTO_E_BAD_REQUEST, 0, "not JSON: line 1" },
	{ "{\"v\":1,\"id\":1,", PROTO_E_BAD_REQUEST, 0, "not JSON" },
	{ "{\"v\":1,\"id\":1,\"cmd\":\"status\"} x", PROTO_E_BAD_REQUEST, 0,
	    "not JSON" },
	{ "[1,2]", PROTO_E_BAD_REQUEST, 0, "an array, not an object" },
	{ "\"status\"", PROTO_E_BAD_REQUEST, 0, "a string" },
	{ "null", PROTO_E_BAD_REQUEST, 0, "null, not an object" },
	{ "7", PROTO_E_BAD_REQUEST, 0, "a number" },
	{ "true", PROTO_E_BAD_REQUEST, 0, "true" },
	{ "   ", PROTO_E_BAD_REQUEST, 0, "not JSON" },
	/* v */
	{ "{\"id\":3,\"cmd\":\"status\"}", PROTO_E_BAD_VERSION, 3, "no \"v\"" },
	{ "{\"v\":2,\"id\":3,\"cmd\":\"status\"}", PROTO_E_BAD_VERSION, 3,
	    "protocol 2; the daemon speaks protocol 1" },
	{ "{\"v\":\"1\",\"id\":3,\"cmd\":\"status\"}", PROTO_E_BAD_VERSION, 3,
	    "protocol \"1\"" },
	{ "{\"v\":1.5,\"id\":3,\"cmd\":\"status\"}", PROTO_E_BAD_VERSION, 3,
	    "1.5" },
	{ "{\"v\":true,\"id\":3,\"cmd\":\"status\"}", PROTO_E_BAD_VERSION, 3,
	    NULL },
	{ "{\"v\":null,\"id\":3,\"cmd\":\"status\"}", PROTO_E_BAD_VERSION, 3,
	    NULL },
	{ "{\"v\":[1],\"id\":3,\"cmd\":\"status\"}", PROTO_E_BAD_VERSION, 3,
	    NULL },
	{ "{\"v\":0,\"cmd\":\"status\"}", PROTO_E_BAD_VERSION, 0, NULL },
	/* a bad version with a bad id: the id is not guessed */
	{ "{\"v\":2,\"id\":1.5,\"cmd\":\"status\"}", PROTO_E_BAD_VERSION, 0,
	    NULL },
	/* id */
	{ "{\"v\":1,\"cmd\":\"status\"}", PROTO_E_BAD_REQUEST, 0,
	    "\"id\" must be an integer, not missing" },
	{ "{\"v\":1,\"id\":\"7\",\"cmd\":\"status\"}", PROTO_E_BAD_REQUEST, 0,
	    "not a string" },
	{ "{\"v\":1,\"id\":null,\"cmd\":\"status\"}", PROTO_E_BAD_REQUEST, 0,
	    "not null" },
	{ "{\"v\":1,\"id\":[7],\"cmd\":\"status\"}", PROTO_E_BAD_REQUEST, 0,
	    "not an array" },
	{ "{\"v\":1,\"id\":1.5,\"cmd\":\"status\"}", PROTO_E_BAD_REQUEST, 0,
	    "integer" },
	{ "{\"v\":1,\"id\":-0.25,\"cmd\":\"status\"}", PROTO_E_BAD_REQUEST, 0,
	    "integer" },
	{ "{\"v\":1,\"id\":1e300,\"cmd\":\"status\"}", PROTO_E_BAD_REQUEST, 0,
	    "2^53" },
	{ "{\"v\":1,\"id\":-1e300,\"cmd\":\"status\"}", PROTO_E_BAD_REQUEST, 0,
	    "2^53" },
	{ "{\"v\":1,\"id\":9007199254740992,\"cmd\":\"status\"}",
	    PROTO_E_BAD_REQUEST, 0, "2^53" },
	{ "{\"v\":1,\"id\":1e400,\"cmd\":\"status\"}", PROTO_E_BAD_REQUEST, 0,
	    NULL },
	/* cmd */
	{ "{\"v\":1,\"id\":4}", PROTO_E_BAD_REQUEST, 4,
	    "\"cmd\" must be a string, not missing" },
	{ "{\"v\":1,\"id\":4,\"cmd\":5}", PROTO_E_BAD_REQUEST, 4,
	    "not a number" },
	{ "{\"v\":1,\"id\":4,\"cmd\":null}", PROTO_E_BAD_REQUEST, 4,
	    "not null" },
	{ "{\"v\":1,\"id\":4,\"cmd\":[\"status\"]}", PROTO_E_BAD_REQUEST, 4,
	    "not an array" },
	{ "{\"v\":1,\"id\":4,\"cmd\":\"status\\u0000x\"}", PROTO_E_BAD_REQUEST,
	    4, "NUL" },
	/* args */
	{ "{\"v\":1,\"id\":6,\"cmd\":\"pause\",\"args\":[]}", PROTO_E_BAD_ARGS,
	    6, "\"args\" must be an object, not an array" },
	{ "{\"v\":1,\"id\":6,\"cmd\":\"pause\",\"args\":\"why\"}",
	    PROTO_E_BAD_ARGS, 6, "a string" },
	{ "{\"v\":1,\"id\":6,\"cmd\":\"pause\",\"args\":null}",
	    PROTO_E_BAD_ARGS, 6, "null" },
	{ "{\"v\":1,\"id\":6,\"cmd\":\"pause\",\"args\":0}", PROTO_E_BAD_ARGS,
	    6, "a number" },
};

static void test_request_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(request_errors) / sizeof(request_errors[0]); i++)
		check_bad(request_errors[i].line,
		    strlen(request_errors[i].line), request_errors[i].code,
		    request_errors[i].id, request_errors[i].msg);
}

static void test_request_empty(void **state)
{
	(void)state;
	check_bad("", 0, PROTO_E_BAD_REQUEST, 0, "empty line");
	/* a NULL pointer with no length is an empty line too */
	check_bad(NULL, 0, PROTO_E_BAD_REQUEST, 0, "empty line");
}

/* A valid request padded with x's inside its args to len bytes. */
static char *padded_request(size_t len)
{
	static const char pre[] = "{\"v\":1,\"id\":9,\"cmd\":\"pause\","
				  "\"args\":{\"reason\":\"";
	static const char post[] = "\"}}";
	struct buf b;

	buf_init(&b);
	buf_adds(&b, pre);
	while (b.len < len - strlen(post))
		buf_addc(&b, 'x');
	buf_adds(&b, post);
	assert_int_equal(b.len, len);
	return buf_steal(&b, NULL);
}

static void test_request_too_long(void **state)
{
	struct proto_request req;
	const char *code;
	char *err, *s;
	long id;

	(void)state;
	/* 70,000 bytes of valid JSON: the cap comes first */
	s = padded_request(70000);
	check_bad(s, 70000, PROTO_E_TOO_LONG, 0,
	    "70001 bytes is over the limit of 65536");
	free(s);
	/* 70,000 bytes of junk */
	s = xmalloc(70000);
	memset(s, '{', 70000);
	check_bad(s, 70000, PROTO_E_TOO_LONG, 0, NULL);
	free(s);
	/* with its newline, a line of exactly PROTO_MAX_LINE bytes is
	 * accepted; one byte more is not */
	s = padded_request(PROTO_MAX_LINE - 1);
	assert_int_equal(proto_parse_request(s, PROTO_MAX_LINE - 1, &req, &id,
			     &code, &err),
	    0);
	assert_int_equal(id, 9);
	assert_int_equal(strlen(json_str(json_get(req.args, "reason"))),
	    PROTO_MAX_LINE - 1 -
		strlen("{\"v\":1,\"id\":9,\"cmd\":\"pause\","
		       "\"args\":{\"reason\":\"\"}}"));
	proto_request_clear(&req);
	free(s);
	s = padded_request(PROTO_MAX_LINE);
	check_bad(s, PROTO_MAX_LINE, PROTO_E_TOO_LONG, 0, NULL);
	free(s);
}

static void test_request_bad_utf8(void **state)
{
	static const char *const lines[] = {
		"{\"v\":1,\"id\":1,\"cmd\":\"st\xff\"}",
		"{\"v\":1,\"id\":1,\"cmd\":\"\xc3\"}",
		"{\"v\":1,\"id\":1,\"cmd\":\"\xed\xa0\x80\"}", /* surrogate */
		"{\"v\":1,\"id\":1,\"cmd\":\"\xc0\xaf\"}",     /* overlong */
		"{\"v\":1,\"id\":1,\"cmd\":\"\xe0\x80\xaf\"}",
		"{\"v\":1,\"id\":1,\"cmd\":\"\xf0\x80\x80\xaf\"}",
		"{\"v\":1,\"id\":1,\"cmd\":\"\xf4\x90\x80\x80\"}", /* > U+10FFFF */
		"{\"v\":1,\"id\":1,\"cmd\":\"\xe2\x82\"}", /* cut short */
		"{\"v\":1,\"id\":1,\"cmd\":\"x\"}\xe2\x82",
		"{\"v\":1,\"id\":1,\"cmd\":\"status\",\"args\":{\"\xfe\":1}}",
		"\xef\xbb\xbf{\"v\":1,\"id\":1,\"cmd\":\"status\"}", /* BOM */
		"\x80",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		check_bad(lines[i], strlen(lines[i]), PROTO_E_BAD_REQUEST, 0,
		    NULL);
	/* NUL bytes in the line itself */
	check_bad("{\"v\":1,\0\"id\":1}", 15, PROTO_E_BAD_REQUEST, 0, NULL);
	check_bad("\0\0\0", 3, PROTO_E_BAD_REQUEST, 0, NULL);
}

static void test_request_deep(void **state)
{
	struct buf b;
	size_t i;

	(void)state;
	/* 10,000 '[' alone */
	buf_init(&b);
	for (i = 0; i < 10000; i++)
		buf_addc(&b, '[');
	check_bad(b.data, b.len, PROTO_E_BAD_REQUEST, 0, "not JSON");
	/* closed: as deep as the parser takes, and not an object */
	for (i = 0; i < 10000; i++)
		buf_addc(&b, ']');
	check_bad(b.data, b.len, PROTO_E_BAD_REQUEST, 0,
	    "an array, not an object");
	/* one deeper than it takes */
	buf_reset(&b);
	for (i = 0; i < 10001; i++)
		buf_addc(&b, '[');
	for (i = 0; i < 10001; i++)
		buf_addc(&b, ']');
	check_bad(b.data, b.len, PROTO_E_BAD_REQUEST, 0, "nesting too deep");
	buf_reset(&b);
	/* deep inside a request's args */
	buf_adds(&b, "{\"v\":1,\"id\":8,\"cmd\":\"pause\",\"args\":");
	for (i = 0; i < 20000; i++)
		buf_adds(&b, "{\"a\":");
	check_bad(b.data, b.len, PROTO_E_TOO_LONG, 0, NULL);
	buf_reset(&b);
	buf_adds(&b, "{\"v\":1,\"id\":8,\"cmd\":\"pause\",\"args\":");
	for (i = 0; i < 12000; i++)
		buf_addc(&b, '[');
	for (i = 0; i < 12000; i++)
		buf_addc(&b, ']');
	buf_addc(&b, '}');
	check_bad(b.data, b.len, PROTO_E_BAD_REQUEST, 0, "nesting too deep");
	/* deep but within the parser's limit: args is not an object */
	buf_reset(&b);
	buf_adds(&b, "{\"v\":1,\"id\":8,\"cmd\":\"pause\",\"args\":");
	for (i = 0; i < 5000; i++)
		buf_addc(&b, '[');
	for (i = 0; i < 5000; i++)
		buf_addc(&b, ']');
	buf_addc(&b, '}');
	check_bad(b.data, b.len, PROTO_E_BAD_ARGS, 8, NULL);
	buf_clear(&b);
}

static void test_request_lenient_parts(void **state)
{
	static const char *const lines[] = {
		/* members it does not know are ignored */
		"{\"v\":1,\"id\":1,\"cmd\":\"status\",\"args\":{},\"x\":[1]}",
		/* JSON whitespace, a CR before the newline */
		" {\"cmd\" : \"status\", \"id\" : 1, \"v\" : 1}\r",
		/* 1.0 and 1e0 are the number 1 */
		"{\"v\":1.0,\"id\":1e0,\"cmd\":\"status\"}",
		/* UTF-8 of two, three and four bytes */
		"{\"v\":1,\"id\":1,\"cmd\":\"status\",\"args\":{\"r\":"
		"\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"}}",
	};
	struct proto_request req;
	const char *code, *line;
	char *err;
	long id;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		assert_int_equal(proto_parse_request(lines[i], strlen(lines[i]),
				     &req, &id, &code, &err),
		    0);
		assert_int_equal(req.id, 1);
		assert_string_equal(req.cmd, "status");
		assert_int_equal(req.args->type, JSON_OBJECT);
		proto_request_clear(&req);
	}
	/* an unknown command is the caller's to refuse */
	line = "{\"v\":1,\"id\":2,\"cmd\":\"frobnicate\"}";
	assert_int_equal(proto_parse_request(line, strlen(line), &req, &id,
			     &code, &err),
	    0);
	assert_string_equal(req.cmd, "frobnicate");
	assert_null(proto_find(req.cmd));
	proto_request_clear(&req);
}

/* Random bytes, and valid requests with bytes changed: every answer is
 * either a request or a code with a message, never a crash or a leak. */
static void test_request_junk(void **state)
{
	static const char alphabet[] = "{}[]\":,0123456789.eE-+ \\/untrlfasvid"
				       "cmd\x80\xff\n\t";
	static const char *const base =
	    "{\"v\":1,\"id\":77,\"cmd\":\"history\",\"args\":{\"n\":5}}";
	uint64_t r = 0x9e3779b97f4a7c15ull;
	char line[256];
	size_t i, k, n;

	(void)state;
	for (i = 0; i < 20000; i++) {
		struct proto_request req;
		const char *code = NULL;
		char *err = NULL;
		long id;

		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		if (i % 2) {
			n = r % sizeof(line);
			for (k = 0; k < n; k++) {
				r ^= r << 13;
				r ^= r >> 7;
				r ^= r << 17;
				line[k] = alphabet[r % (sizeof(alphabet) - 1)];
			}
		} else {
			n = strlen(base);
			memcpy(line, base, n);
			for (k = 0; k < 1 + r % 3; k++)
				line[(r >> (8 * (k + 1))) % n] =
				    alphabet[(r >> (4 * k)) %
					(sizeof(alphabet) - 1)];
		}
		if (proto_parse_request(line, n, &req, &id, &code, &err) == 0) {
			assert_null(err);
			assert_non_null(req.cmd);
			assert_int_equal(req.args->type, JSON_OBJECT);
			proto_request_clear(&req);
		} else {
			assert_non_null(code);
			assert_non_null(err);
			assert_null(req.cmd);
			free(err);
		}
	}
}

static void check_bad_reply(const char *line, const char *msg)
{
	struct json *res = (struct json *)1;
	char *err = NULL;
	long id;
	bool ok = true;

	if (proto_parse_reply(line, strlen(line), &id, &ok, &res, &err) != -1)
		fail_msg("accepted reply: %.200s", line);
	assert_false(ok);
	assert_null(res);
	assert_non_null(err);
	if (msg && strstr(err, msg) == NULL)
		fail_msg("%.200s: message \"%s\" lacks \"%s\"", line, err, msg);
	free(err);
}

static void test_reply_errors(void **state)
{
	const char *line;
	struct buf b;
	struct json *res;
	char *err;
	long id;
	bool ok;

	(void)state;
	check_bad_reply("", "empty line");
	check_bad_reply("\n", "empty line");
	check_bad_reply("HTTP/1.1 400 Bad Request", "not JSON");
	check_bad_reply("[]", "not an object");
	check_bad_reply("{\"id\":1,\"ok\":true,\"result\":{}}", "no \"v\"");
	check_bad_reply("{\"v\":2,\"id\":1,\"ok\":true,\"result\":{}}",
	    "protocol 2");
	check_bad_reply("{\"v\":1,\"ok\":true,\"result\":{}}", "\"id\"");
	check_bad_reply("{\"v\":1,\"id\":0.5,\"ok\":true,\"result\":{}}",
	    "\"id\"");
	check_bad_reply("{\"v\":1,\"id\":1,\"result\":{}}", "\"ok\"");
	check_bad_reply("{\"v\":1,\"id\":1,\"ok\":1,\"result\":{}}", "\"ok\"");
	check_bad_reply("{\"v\":1,\"id\":1,\"ok\":true}", "no \"result\"");
	check_bad_reply("{\"v\":1,\"id\":1,\"ok\":false}", "\"error\"");
	check_bad_reply("{\"v\":1,\"id\":1,\"ok\":false,\"error\":\"x\"}",
	    "\"error\"");
	check_bad_reply("{\"v\":1,\"id\":1,\"ok\":false,\"error\":{}}",
	    "\"code\"");
	check_bad_reply(
	    "{\"v\":1,\"id\":1,\"ok\":false,\"error\":{\"code\":3}}",
	    "\"code\"");

	/* an error without a message is still an error reply */
	line =
	    "{\"v\":1,\"id\":1,\"ok\":false,\"error\":{\"code\":\"denied\"}}";
	assert_int_equal(proto_parse_reply(line, strlen(line), &id, &ok, &res,
			     &err),
	    0);
	assert_false(ok);
	assert_string_equal(json_str(json_get(res, "code")), "denied");
	json_free(res);

	/* a reply far over a request's cap (a big diff) is read */
	buf_init(&b);
	buf_adds(&b, "{\"v\":1,\"id\":1,\"ok\":true,\"result\":{\"s\":\"");
	while (b.len < PROTO_MAX_LINE * 4)
		buf_adds(&b, "0123456789abcdef");
	buf_adds(&b, "\"}}\n");
	assert_int_equal(proto_parse_reply(b.data, b.len, &id, &ok, &res, &err),
	    0);
	assert_true(ok);
	json_free(res);
	/* and one over PROTO_MAX_REPLY is not */
	buf_reset(&b);
	buf_adds(&b, "{\"v\":1,\"id\":1,\"ok\":true,\"result\":{\"s\":\"");
	while (b.len < PROTO_MAX_REPLY)
		buf_adds(&b, "0123456789abcdef");
	buf_adds(&b, "\"}}\n");
	check_bad_reply(b.data, "over the limit");
	buf_clear(&b);
}

static void test_find(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < proto_ncmds; i++)
		assert_ptr_equal(proto_find(proto_cmds[i].name),
		    &proto_cmds[i]);
	assert_null(proto_find(NULL));
	assert_null(proto_find(""));
	assert_null(proto_find("STATUS"));
	assert_null(proto_find("status "));
	assert_null(proto_find("stat"));
	assert_null(proto_find("statuses"));
	assert_null(proto_find("help"));
	assert_int_equal(proto_find("pause")->access, PROTO_WRITE);
	assert_int_equal(proto_find("diff")->access, PROTO_READ);
}

static void test_table(void **state)
{
	static const struct {
		const char *name;
		enum proto_access access;
	} want[] = {
		{ "status", PROTO_READ },
		{ "diff", PROTO_READ },
		{ "history", PROTO_READ },
		{ "version", PROTO_READ },
		{ "push", PROTO_WRITE },
		{ "pull", PROTO_WRITE },
		{ "sync", PROTO_WRITE },
		{ "pause", PROTO_WRITE },
		{ "resume", PROTO_WRITE },
		{ "reload", PROTO_WRITE },
		{ "resolve", PROTO_WRITE },
		{ "adopt", PROTO_WRITE },
	};
	size_t i, k;

	(void)state;
	assert_int_equal(proto_ncmds, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < proto_ncmds; i++) {
		const struct proto_cmd *c = &proto_cmds[i];

		assert_string_equal(c->name, want[i].name);
		assert_int_equal(c->access, want[i].access);
		assert_non_null(c->args);
		assert_non_null(c->help);
		assert_true(strlen(c->help) > 0);
		assert_null(strchr(c->help, '\n'));
		/* the help's line stays within 80 columns */
		assert_true(2 + 16 + strlen(c->help) <= 80);
		for (k = 0; k < i; k++)
			if (strcmp(proto_cmds[k].name, c->name) == 0)
				fail_msg("%s twice in the table", c->name);
	}
	assert_string_equal(proto_find("pause")->args, "[reason]");
	assert_string_equal(proto_find("status")->help,
	    "show where things stand");
	/* What dsyncctl's messages say takes an option. */
	assert_string_equal(proto_takers(PROTO_TAKES_KEEP),
	    "resolve and adopt");
	assert_string_equal(proto_takers(PROTO_TAKES_COUNT), "history");
	assert_string_equal(proto_takers(PROTO_WAITS),
	    "push, pull, sync, resolve and adopt");
	assert_string_equal(proto_takers(0), "");
	assert_true(proto_find("resolve")->takes & PROTO_TAKES_ITEM);
	assert_false(proto_find("adopt")->takes & PROTO_TAKES_ITEM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_request_args_round_trip),
		cmocka_unit_test(test_reply_round_trip),
		cmocka_unit_test(test_reply_error_round_trip),
		cmocka_unit_test(test_request_errors),
		cmocka_unit_test(test_request_empty),
		cmocka_unit_test(test_request_too_long),
		cmocka_unit_test(test_request_bad_utf8),
		cmocka_unit_test(test_request_deep),
		cmocka_unit_test(test_request_lenient_parts),
		cmocka_unit_test(test_request_junk),
		cmocka_unit_test(test_reply_errors),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
