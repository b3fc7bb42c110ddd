/*
 * fuzz_proto: the control protocol's parsers (common/proto.c) and the
 * JSON reader and writer under them (common/json.c). Each input is given
 * to proto_parse_request, as the daemon reads a request line, and to
 * proto_parse_reply, as dsyncctl reads the daemon's answer. Besides what
 * the sanitizers catch, a line that parses must come back the same
 * through the writer: the request or reply written again parses, with the
 * same id, cmd or code, and JSON written, read and written again gives
 * the same bytes (compact and indented).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, \
			    "fuzz_proto: check failed at %s:%d: %s\n", \
			    __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

/* json_write(v) read back and written again: the same bytes. */
static void check_writer(const struct json *v)
{
	int indent;

	for (indent = 0; indent < 2; indent++) {
		size_t n1, n2;
		char *s1 = json_write(v, indent, &n1), *s2, *err = NULL;
		struct json *back = json_parse(s1, n1, &err);

		if (back == NULL)
			fprintf(stderr,
			    "fuzz_proto: written JSON does not "
			    "parse: %s\n%.2000s\n",
			    err, s1);
		CHECK(back != NULL);
		s2 = json_write(back, indent, &n2);
		CHECK(n1 == n2 && memcmp(s1, s2, n1) == 0);
		json_free(back);
		free(s1);
		free(s2);
	}
	{
		struct json *c = json_copy(v);

		CHECK(json_equal(v, c));
		json_free(c);
	}
}

static char *written(const struct json *v)
{
	return json_write(v, false, NULL);
}

static void fuzz_request(const char *line, size_t len)
{
	struct proto_request req, again;
	const char *code = NULL;
	char *err = NULL, *out, *a1, *a2;
	size_t olen;
	long id = -1, id2 = -1;

	if (proto_parse_request(line, len, &req, &id, &code, &err) < 0) {
		CHECK(code != NULL && err != NULL);
		CHECK(req.cmd == NULL && req.args == NULL);
		free(err);
		return;
	}
	CHECK(err == NULL);
	CHECK(req.cmd != NULL && req.args != NULL &&
	    req.args->type == JSON_OBJECT);
	CHECK(id == req.id);
	(void)proto_find(req.cmd);
	check_writer(req.args);

	/* as dsyncctl would send it */
	out = proto_request_line(req.id, req.cmd, json_copy(req.args), &olen);
	CHECK(olen > 0 && out[olen - 1] == '\n' &&
	    memchr(out, '\n', olen - 1) == NULL);
	if (olen - 1 < PROTO_MAX_LINE) {
		if (proto_parse_request(out, olen - 1, &again, &id2, &code,
			&err) < 0)
			fprintf(stderr,
			    "fuzz_proto: written request refused: %s: %s\n",
			    code, err);
		CHECK(err == NULL);
		CHECK(again.id == req.id && id2 == req.id);
		CHECK(strcmp(again.cmd, req.cmd) == 0);
		a1 = written(req.args);
		a2 = written(again.args);
		CHECK(strcmp(a1, a2) == 0);
		free(a1);
		free(a2);
		proto_request_clear(&again);
	}
	free(out);
	proto_request_clear(&req);
}

static void fuzz_reply(const char *line, size_t len)
{
	struct json *result = NULL, *again = NULL;
	char *err = NULL, *out, *r1, *r2;
	size_t olen;
	long id = -1, id2 = -1;
	bool ok = true, ok2;

	if (proto_parse_reply(line, len, &id, &ok, &result, &err) < 0) {
		CHECK(err != NULL && result == NULL && !ok);
		free(err);
		return;
	}
	CHECK(err == NULL && result != NULL);
	check_writer(result);

	/* as the daemon would answer */
	if (ok) {
		out = proto_reply_ok(id, json_copy(result), &olen);
	} else {
		CHECK(result->type == JSON_OBJECT &&
		    json_str(json_get(result, "code")) != NULL);
		out = proto_reply_error(id, json_str(json_get(result, "code")),
		    json_str(json_get(result, "message")), &olen);
	}
	CHECK(olen > 0 && out[olen - 1] == '\n');
	if (olen < PROTO_MAX_REPLY) {
		if (proto_parse_reply(out, olen, &id2, &ok2, &again, &err) < 0)
			fprintf(stderr,
			    "fuzz_proto: written reply refused: %s\n", err);
		CHECK(err == NULL);
		CHECK(id2 == id && ok2 == ok);
		if (ok) {
			r1 = written(result);
			r2 = written(again);
			CHECK(strcmp(r1, r2) == 0);
			free(r1);
			free(r2);
		} else {
			CHECK(strcmp(json_str(json_get(again, "code")),
				  json_str(json_get(result, "code"))) == 0);
		}
		json_free(again);
	}
	free(out);
	json_free(result);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;

	fuzz_request(line, size);
	fuzz_reply(line, size);
	return 0;
}
