/*
 * directus: requests to Directus and the decoding of its answers. Every
 * error message built here has the form
 *   "GET /policies?limit=-1: HTTP 401 INVALID_CREDENTIALS: <message>"
 * so that a user can tell which request failed and why.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "directus.h"
#include "xmalloc.h"

struct dx {
	struct http *http;
};

struct dx *dx_new(const char *url)
{
	struct dx *dx = xcalloc(1, sizeof(*dx));

	dx->http = http_new(url);
	return dx;
}

void dx_free(struct dx *dx)
{
	if (dx == NULL)
		return;
	http_free(dx->http);
	free(dx);
}

struct http *dx_http(struct dx *dx)
{
	return dx->http;
}

void dx_set_token(struct dx *dx, const char *token)
{
	http_set_token(dx->http, token);
}

void dx_call_init(struct dx_call *c, const char *method, char *path,
    struct json *body, unsigned flags)
{
	memset(c, 0, sizeof(*c));
	c->method = method;
	c->path = path;
	c->body = body;
	c->flags = flags;
}

void dx_call_clear(struct dx_call *c)
{
	free(c->path);
	json_free(c->body);
	free(c->raw_body);
	c->raw_body = NULL;
	json_free(c->result);
	free(c->raw);
	free(c->error);
	c->path = c->raw = c->error = NULL;
	c->body = c->result = NULL;
}

/* Strip the query from a path for messages, keeping them short. */
static void path_for_message(struct buf *b, const char *path)
{
	size_t n = strlen(path);

	if (n > 200) {
		buf_add(b, path, 200);
		buf_adds(b, "...");
	} else
		buf_adds(b, path);
}

/* Build the message for a failed call from its status and body. */
static char *call_error(const struct dx_call *c, const struct http_req *r,
    const char *why)
{
	struct buf b;
	struct json *body = NULL, *errs, *e0;
	const char *code = NULL, *msg = NULL;

	buf_init(&b);
	buf_addf(&b, "%s ", c->method);
	path_for_message(&b, c->path);
	if (r->error) {
		buf_addf(&b, ": %s", r->error);
		return buf_steal(&b, NULL);
	}
	buf_addf(&b, ": HTTP %ld", r->status);
	if (r->resp.len)
		body = json_parse(r->resp.data, r->resp.len, NULL);
	if (body && body->type == JSON_OBJECT) {
		errs = json_get(body, "errors");
		if (errs && errs->type == JSON_ARRAY && errs->u.arr.len > 0) {
			e0 = errs->u.arr.items[0];
			msg = json_str(json_get(e0, "message"));
			code = json_str(json_get(json_get(e0, "extensions"),
			    "code"));
		} else
			msg = json_str(json_get(body, "message"));
	}
	if (code)
		buf_addf(&b, " %s", code);
	if (msg)
		buf_addf(&b, ": %s", msg);
	else if (why)
		buf_addf(&b, ": %s", why);
	else if (r->status == 404)
		buf_adds(&b, ": not found");
	json_free(body);
	return buf_steal(&b, NULL);
}

/* One finished transfer: check the status, parse the body, free the text
 * (keeping the peak low), then hand the answer to the call's callback. */
static void call_done(struct http_req *r, void *arg)
{
	struct dx_call *c = arg;
	char *perr = NULL;

	c->status = r->status;
	if (r->error || r->status < 200 || (r->status >= 300 &&
	    !(r->status == 404 && (c->flags & DX_ALLOW_404)) &&
	    !(r->status == 403 && (c->flags & DX_ALLOW_403)))) {
		c->error = call_error(c, r, NULL);
		return;
	}
	if (c->flags & DX_RAW)
		c->raw = buf_steal(&r->resp, &c->rawlen);
	else if (r->resp.len > 0) {
		c->result = json_parse(r->resp.data, r->resp.len, &perr);
		if (c->result == NULL) {
			struct buf b;

			buf_init(&b);
			buf_addf(&b, "%s ", c->method);
			path_for_message(&b, c->path);
			buf_addf(&b, ": HTTP %ld: response is not JSON (%s)",
			    r->status, perr);
			c->error = buf_steal(&b, NULL);
			free(perr);
			return;
		}
		buf_clear(&r->resp);
	}
	if (c->done && c->done(c, c->done_arg, &c->error) < 0 &&
	    c->error == NULL)
		c->error = xstrdup("failed");
}

int dx_run(struct dx *dx, struct dx_call *calls, size_t n, char **errstr)
{
	struct http_req *reqs;
	size_t i;
	int rc = 0, hrc;

	if (n == 0)
		return 0;
	reqs = xcalloc(n, sizeof(*reqs));
	for (i = 0; i < n; i++) {
		char *body = NULL;

		if (calls[i].raw_body) {
			body = calls[i].raw_body;
			calls[i].raw_body = NULL;
		} else if (calls[i].body)
			body = json_write(calls[i].body, false, NULL);
		http_req_init(&reqs[i], calls[i].method, calls[i].path, body);
		reqs[i].done = call_done;
		reqs[i].done_arg = &calls[i];
	}
	hrc = http_run(dx->http, reqs, n);
	if (hrc == -ECANCELED) {
		if (errstr)
			*errstr = xstrdup("cancelled");
		rc = -1;
	}
	for (i = 0; rc == 0 && i < n; i++) {
		if (calls[i].error == NULL)
			continue;
		if (errstr)
			*errstr = xstrdup(calls[i].error);
		rc = -1;
	}
	for (i = 0; i < n; i++) {
		reqs[i].path = NULL;	/* owned by the call */
		http_req_clear(&reqs[i]);
	}
	free(reqs);
	return rc;
}

int dx_request(struct dx *dx, const char *method, const char *path,
    struct json *body, struct json **out, char **errstr)
{
	struct dx_call c;
	int rc;

	dx_call_init(&c, method, xstrdup(path), body, 0);
	rc = dx_run(dx, &c, 1, errstr);
	if (rc == 0 && out) {
		*out = c.result;
		c.result = NULL;
	}
	dx_call_clear(&c);
	return rc;
}

struct json *dx_data(struct json *result)
{
	return result ? json_get(result, "data") : NULL;
}

char *dx_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b;

	buf_init(&b);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-_.~", ch))
			buf_addc(&b, (char)ch);
		else {
			buf_addc(&b, '%');
			buf_addc(&b, hex[ch >> 4]);
			buf_addc(&b, hex[ch & 15]);
		}
	}
	return buf_steal(&b, NULL);
}

int dx_login(struct dx *dx, const char *email, const char *password,
    char **errstr)
{
	struct json *body = json_new_object(), *res = NULL;
	const char *tok;
	int rc = -1;

	json_set(body, "email", json_new_string(email));
	json_set(body, "password", json_new_string(password));
	if (dx_request(dx, "POST", "/auth/login", body, &res, errstr) < 0)
		goto fail;
	tok = json_str(json_get(dx_data(res), "access_token"));
	if (tok == NULL) {
		*errstr = xstrdup("POST /auth/login: no access_token in the "
		    "response");
		goto fail;
	}
	dx_set_token(dx, tok);
	rc = 0;
fail:
	json_free(res);
	return rc;
}

/* Parse "11.11.0" into numbers; missing parts count as 0. */
static void parse_version(const char *v, long out[3])
{
	int i;
	char *end;

	for (i = 0; i < 3; i++) {
		out[i] = 0;
		if (*v == '\0')
			continue;
		out[i] = strtol(v, &end, 10);
		v = end;
		if (*v == '.')
			v++;
	}
}

int dx_check_version(struct dx *dx, char **version, char **errstr)
{
	struct json *res = NULL;
	const char *v;
	long parts[3];
	int rc = -1;

	if (dx_request(dx, "GET", "/server/info", NULL, &res, errstr) < 0)
		goto fail;
	v = json_str(json_get(dx_data(res), "version"));
	if (v == NULL) {
		*errstr = xstrdup("GET /server/info: no version in the answer "
		    "(is the token an admin token?)");
		goto fail;
	}
	parse_version(v, parts);
	if (parts[0] < 11) {
		xasprintf(errstr, "Directus %s is not supported: dsync needs "
		    "Directus 11.0.0 or later", v);
		goto fail;
	}
	if (version)
		*version = xstrdup(v);
	rc = 0;
fail:
	json_free(res);
	return rc;
}
