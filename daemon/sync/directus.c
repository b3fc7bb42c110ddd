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
#include <time.h>

#include "buf.h"
#include "directus.h"
#include "xmalloc.h"

struct dx {
	struct http *http;
	/* A login session: kept to renew the access token. */
	char *email, *password, *refresh;
	struct timespec expires; /* CLOCK_MONOTONIC */
	double ttl;		 /* seconds, as the login said */
	bool session, early;
	unsigned long renewals;
	double retry_after;		     /* the largest Retry-After seen */
	void (*trace)(void *, const char *); /* dx_set_trace */
	void *trace_arg;
	void (*count)(void *, const char *, long); /* dx_set_counter */
	void *count_arg;
	struct memo {
		char *key, *value;
		double at;
	} memo[4];
};

static void wipe_str(char **s)
{
	xfree_secret(*s);
	*s = NULL;
}

struct dx *dx_new(const char *url)
{
	struct dx *dx = xcalloc(1, sizeof(*dx));

	dx->http = http_new(url);
	dx->early = true;
	return dx;
}

static double mono_now(void);

static void memo_clear(struct dx *dx)
{
	size_t i;

	for (i = 0; i < sizeof(dx->memo) / sizeof(dx->memo[0]); i++) {
		free(dx->memo[i].key);
		free(dx->memo[i].value);
		memset(&dx->memo[i], 0, sizeof(dx->memo[i]));
	}
}

const char *dx_memo_get(struct dx *dx, const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(dx->memo) / sizeof(dx->memo[0]); i++)
		if (dx->memo[i].key && strcmp(dx->memo[i].key, key) == 0)
			return mono_now() - dx->memo[i].at < DX_MEMO_AGE ?
			    dx->memo[i].value :
			    NULL;
	return NULL;
}

void dx_memo_set(struct dx *dx, const char *key, const char *value)
{
	size_t i, free_slot = 0, oldest = 0;

	for (i = 0; i < sizeof(dx->memo) / sizeof(dx->memo[0]); i++) {
		if (dx->memo[i].key && strcmp(dx->memo[i].key, key) == 0)
			break;
		if (dx->memo[i].key == NULL)
			free_slot = i;
		if (dx->memo[i].at < dx->memo[oldest].at)
			oldest = i;
	}
	if (i == sizeof(dx->memo) / sizeof(dx->memo[0]))
		i = dx->memo[free_slot].key == NULL ? free_slot : oldest;
	free(dx->memo[i].key);
	free(dx->memo[i].value);
	dx->memo[i].key = xstrdup(key);
	dx->memo[i].value = xstrdup(value);
	dx->memo[i].at = mono_now();
}

void dx_free(struct dx *dx)
{
	if (dx == NULL)
		return;
	memo_clear(dx);
	http_free(dx->http);
	free(dx->email);
	wipe_str(&dx->password);
	wipe_str(&dx->refresh);
	free(dx);
}

struct http *dx_http(struct dx *dx)
{
	return dx->http;
}

void dx_set_client(struct dx *dx, const char *user_agent, long timeout)
{
	http_set_user_agent(dx->http, user_agent);
	http_set_timeout(dx->http, timeout);
}

/* Each finished request: to dx_set_counter's callback, and as one line
 * to dx_set_trace's. */
static void on_request(void *arg, const struct http_req *r)
{
	struct dx *dx = arg;
	char *line;

	if (dx->count)
		dx->count(dx->count_arg, r->method, r->error ? 0 : r->status);
	if (dx->trace == NULL)
		return;
	if (r->error)
		xasprintf(&line, "%s %s -> %s (%.0f ms)", r->method, r->path,
		    r->error, r->seconds * 1000);
	else
		xasprintf(&line, "%s %s -> %ld (%.0f ms)", r->method, r->path,
		    r->status, r->seconds * 1000);
	dx->trace(dx->trace_arg, line);
	free(line);
}

static void hook(struct dx *dx)
{
	bool any = dx->trace != NULL || dx->count != NULL;

	http_set_trace(dx->http, any ? on_request : NULL, any ? dx : NULL);
}

void dx_set_trace(struct dx *dx, void (*cb)(void *arg, const char *line),
    void *arg)
{
	dx->trace = cb;
	dx->trace_arg = arg;
	hook(dx);
}

void dx_set_counter(struct dx *dx,
    void (*cb)(void *arg, const char *method, long status), void *arg)
{
	dx->count = cb;
	dx->count_arg = arg;
	hook(dx);
}

unsigned long dx_requests(const struct dx *dx)
{
	return http_count(dx->http);
}

void dx_set_token(struct dx *dx, const char *token)
{
	http_set_token(dx->http, token);
}

void dx_set_early_renewal(struct dx *dx, bool on)
{
	dx->early = on;
}

unsigned long dx_renewals(const struct dx *dx)
{
	return dx->renewals;
}

double dx_retry_after(const struct dx *dx)
{
	return dx->retry_after;
}

void dx_clear_retry_after(struct dx *dx)
{
	dx->retry_after = 0;
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

/* The answer of a call, forgotten before it is sent again. */
static void call_reset(struct dx_call *c)
{
	if (c->flags & DX_SECRET)
		json_free_wipe(c->result);
	else
		json_free(c->result);
	free(c->raw);
	free(c->error);
	free(c->code);
	c->result = NULL;
	c->raw = c->error = c->code = NULL;
	c->status = 0;
	c->fail = 0;
	c->rawlen = 0;
	c->retry_after = 0;
}

void dx_call_clear(struct dx_call *c)
{
	call_reset(c);
	free(c->path);
	if (c->flags & DX_SECRET)
		json_free_wipe(c->body);
	else
		json_free(c->body);
	free(c->raw_body);
	c->raw_body = NULL;
	c->path = NULL;
	c->body = NULL;
}

int dx_status_result(long status)
{
	if (status == 401 || status == 403)
		return SYNC_EAUTH;
	if (status == 429 || status >= 500)
		return SYNC_ESERVER;
	return SYNC_EPROTO;
}

/* Directus 12's refusals of what its license does not allow (custom
 * permission rules; more flows or collections than it counts): no retry
 * changes them. */
static bool license_refusal(const char *code)
{
	return code &&
	    (strcmp(code, "RESOURCE_RESTRICTED") == 0 ||
		strcmp(code, "LIMIT_EXCEEDED") == 0);
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

/* Build the message for a failed call from its status and body, and
 * keep Directus' error code. */
static char *call_error(struct dx_call *c, const struct http_req *r)
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
			code = json_str(
			    json_get(json_get(e0, "extensions"), "code"));
		} else
			msg = json_str(json_get(body, "message"));
	}
	if (code) {
		buf_addf(&b, " %s", code);
		c->code = xstrdup(code);
	}
	if (msg)
		buf_addf(&b, ": %s", msg);
	else if (r->status == 404)
		buf_adds(&b, ": not found");
	if (license_refusal(code))
		buf_adds(&b, " (refused by the instance's Directus license)");
	if (r->retry_after > DX_RETRY_AFTER_MAX)
		buf_addf(&b, " (Retry-After: %.0f s, taken as %.0f s)",
		    r->retry_after, DX_RETRY_AFTER_MAX);
	else if (r->retry_after > 0)
		buf_addf(&b, " (Retry-After: %.0f s)", r->retry_after);
	if (c->flags & DX_SECRET)
		json_free_wipe(body);
	else
		json_free(body);
	return buf_steal(&b, NULL);
}

static bool status_ok(const struct dx_call *c, long status)
{
	if (status >= 200 && status < 300)
		return true;
	return (status == 404 && (c->flags & DX_ALLOW_404)) ||
	    (status == 403 && (c->flags & DX_ALLOW_403));
}

/*
 * A 2xx answer that holds Directus' error form, {"errors": [...]}, and no
 * "data" (a proxy or an extension that answers 200 to a failure) is a
 * failure: its message says so and names Directus' code and message.
 */
static bool error_body(struct dx_call *c, long status)
{
	const struct json *errs, *e0;
	const char *code, *msg;
	struct buf b;

	if (c->result == NULL || c->result->type != JSON_OBJECT ||
	    json_get(c->result, "data") != NULL)
		return false;
	errs = json_get(c->result, "errors");
	if (errs == NULL || errs->type != JSON_ARRAY || errs->u.arr.len == 0)
		return false;
	e0 = errs->u.arr.items[0];
	msg = json_str(json_get(e0, "message"));
	code = json_str(json_get(json_get(e0, "extensions"), "code"));
	buf_init(&b);
	buf_addf(&b, "%s ", c->method);
	path_for_message(&b, c->path);
	buf_addf(&b, ": HTTP %ld with an error instead of data", status);
	if (code) {
		buf_addf(&b, ": %s", code);
		c->code = xstrdup(code);
	}
	if (msg)
		buf_addf(&b, ": %s", msg);
	c->error = buf_steal(&b, NULL);
	return true;
}

/* One finished transfer: check the status, parse the body, free the text
 * (keeping the peak low), then hand the answer to the call's callback. */
static void call_done(struct http_req *r, void *arg)
{
	struct dx_call *c = arg;
	char *perr = NULL;
	int rc;

	c->status = r->status;
	if (r->error || !status_ok(c, r->status)) {
		c->error = call_error(c, r);
		c->fail = r->error ? (r->fail ? r->fail : SYNC_EUNREACH) :
		    license_refusal(c->code) ? SYNC_EGUARD :
					       dx_status_result(r->status);
		if (r->error == NULL && r->retry_after > 0)
			c->retry_after = r->retry_after > DX_RETRY_AFTER_MAX ?
			    DX_RETRY_AFTER_MAX :
			    r->retry_after;
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
			c->fail = SYNC_EPROTO;
			free(perr);
			return;
		}
		if (c->flags & DX_SECRET)
			buf_wipe(&r->resp);
		else
			buf_clear(&r->resp);
		/* Only a 2xx: a 404 or 403 the call allows (DX_ALLOW_404,
		 * DX_ALLOW_403) is Directus' error form by right. */
		if (r->status >= 200 && r->status < 300 &&
		    error_body(c, r->status)) {
			c->fail = SYNC_EPROTO;
			return;
		}
	}
	if (c->done && (rc = c->done(c, c->done_arg, &c->error)) < 0) {
		if (c->error == NULL)
			c->error = xstrdup("failed");
		c->fail = rc < SYNC_EFAIL ? rc : SYNC_EPROTO;
	}
}

/* Send calls[idx[0..n)] once; their answers land in the calls. Returns
 * http_run's result. */
static int exec_calls(struct dx *dx, struct dx_call *calls, const size_t *idx,
    size_t n)
{
	struct http_req *reqs = xcalloc(n, sizeof(*reqs));
	size_t i;
	int hrc;

	for (i = 0; i < n; i++) {
		struct dx_call *c = &calls[idx[i]];
		char *body = NULL;

		if (c->raw_body)
			body = xstrdup(c->raw_body);
		else if (c->body)
			body = json_write(c->body, false, NULL);
		http_req_init(&reqs[i], c->method, c->path, body);
		reqs[i].parts = c->parts;
		reqs[i].nparts = c->nparts;
		reqs[i].secret = (c->flags & DX_SECRET) != 0;
		reqs[i].no_auth = (c->flags & DX_NO_AUTH) != 0;
		reqs[i].done = call_done;
		reqs[i].done_arg = c;
	}
	hrc = http_run(dx->http, reqs, n);
	for (i = 0; i < n; i++) {
		const struct dx_call *c = &calls[idx[i]];

		if (c->error && c->retry_after > dx->retry_after)
			dx->retry_after = c->retry_after;
		reqs[i].path = NULL; /* owned by the call */
		http_req_clear(&reqs[i]);
	}
	free(reqs);
	return hrc;
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Take the tokens of a /auth/login or /auth/refresh answer. */
static int take_tokens(struct dx *dx, const char *what, struct json *res,
    char **errstr)
{
	struct json *d = dx_data(res);
	const char *tok = json_str(json_get(d, "access_token"));
	const char *ref = json_str(json_get(d, "refresh_token"));
	const struct json *exp = json_get(d, "expires");

	if (tok == NULL) {
		xasprintf(errstr, "POST %s: no access_token in the answer",
		    what);
		return SYNC_EPROTO;
	}
	dx_set_token(dx, tok);
	wipe_str(&dx->refresh);
	dx->refresh = ref ? xstrdup(ref) : NULL;
	/* "expires" is the access token's lifetime in milliseconds. */
	dx->ttl = exp && exp->type == JSON_NUMBER && exp->u.num > 0 ?
	    exp->u.num / 1000 :
	    0;
	dx->expires.tv_sec = 0;
	if (dx->ttl > 0) {
		double at = mono_now() + dx->ttl;

		dx->expires.tv_sec = (time_t)at;
		dx->expires.tv_nsec = (long)((at - (double)(time_t)at) * 1e9);
	}
	return 0;
}

/* One POST with a secret body, its answer's tokens taken. */
static int auth_post(struct dx *dx, const char *path, struct json *body,
    char **errstr)
{
	struct dx_call c;
	size_t zero = 0;
	int rc;

	dx_call_init(&c, "POST", xstrdup(path), body, DX_SECRET | DX_NO_AUTH);
	if (exec_calls(dx, &c, &zero, 1) == -ECANCELED) {
		*errstr = xstrdup("cancelled");
		rc = SYNC_ECANCELED;
	} else if (c.error) {
		*errstr = xstrdup(c.error);
		rc = c.fail ? c.fail : SYNC_EFAIL;
	} else
		rc = take_tokens(dx, path, c.result, errstr);
	dx_call_clear(&c);
	return rc;
}

static int login_now(struct dx *dx, char **errstr)
{
	struct json *body = json_new_object();

	json_set(body, "email", json_new_string(dx->email));
	json_set(body, "password", json_new_string(dx->password));
	return auth_post(dx, "/auth/login", body, errstr);
}

/* A fresh access token: through the refresh token, else a new login. */
static int renew(struct dx *dx, char **errstr)
{
	char *err = NULL;
	int rc = -1;

	if (dx->refresh) {
		struct json *body = json_new_object();

		json_set(body, "refresh_token", json_new_string(dx->refresh));
		json_set(body, "mode", json_new_string("json"));
		rc = auth_post(dx, "/auth/refresh", body, &err);
		if (rc == SYNC_ECANCELED || rc == SYNC_EUNREACH ||
		    rc == SYNC_ESERVER) {
			*errstr = err;
			return rc;
		}
		free(err);
	}
	if (rc < 0)
		rc = login_now(dx, errstr);
	if (rc == 0)
		dx->renewals++;
	return rc;
}

/* Renew early: when less than a fifth of the lifetime is left, at most a
 * minute and at least a second before expiry. */
static bool renew_due(const struct dx *dx)
{
	double margin = dx->ttl / 5, left;

	if (!dx->session || !dx->early || dx->expires.tv_sec == 0)
		return false;
	if (margin > 60)
		margin = 60;
	if (margin < 1)
		margin = 1;
	left = (double)dx->expires.tv_sec + (double)dx->expires.tv_nsec / 1e9 -
	    mono_now();
	return left < margin;
}

static bool token_expired(const struct dx_call *c)
{
	return c->status == 401 && c->code &&
	    strcmp(c->code, "TOKEN_EXPIRED") == 0;
}

int dx_run(struct dx *dx, struct dx_call *calls, size_t n, char **errstr)
{
	size_t *idx, i, nretry = 0;
	int rc, hrc;
	char *err = NULL;

	if (n == 0)
		return 0;
	if (renew_due(dx) && (rc = renew(dx, &err)) < 0)
		goto auth_failed;
	idx = xcalloc(n, sizeof(*idx));
	for (i = 0; i < n; i++)
		idx[i] = i;
	hrc = exec_calls(dx, calls, idx, n);
	/* Calls refused for an expired token are sent again, once, after
	 * the session renewed its token. */
	for (i = 0; dx->session && hrc != -ECANCELED && i < n; i++)
		if (token_expired(&calls[i]) && !(calls[i].flags & DX_SECRET))
			idx[nretry++] = i;
	if (nretry) {
		if ((rc = renew(dx, &err)) < 0) {
			free(idx);
			goto auth_failed;
		}
		for (i = 0; i < nretry; i++)
			call_reset(&calls[idx[i]]);
		hrc = exec_calls(dx, calls, idx, nretry);
	}
	free(idx);
	if (hrc == -ECANCELED) {
		if (errstr)
			*errstr = xstrdup("cancelled");
		return SYNC_ECANCELED;
	}
	for (i = 0; i < n; i++) {
		if (calls[i].error == NULL)
			continue;
		if (calls[i].fail == SYNC_EUNREACH)
			memo_clear(dx);
		if (errstr)
			*errstr = xstrdup(calls[i].error);
		return calls[i].fail ? calls[i].fail : SYNC_EFAIL;
	}
	return 0;
auth_failed:
	if (errstr)
		xasprintf(errstr, "renewing the session's access token: %s",
		    err);
	free(err);
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
	int rc;

	free(dx->email);
	wipe_str(&dx->password);
	dx->email = xstrdup(email ? email : "");
	dx->password = xstrdup(password ? password : "");
	rc = login_now(dx, errstr);
	dx->session = rc == 0;
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
	int rc;

	if ((rc = dx_request(dx, "GET", "/server/info", NULL, &res, errstr)) <
	    0)
		goto fail;
	v = json_str(json_get(dx_data(res), "version"));
	if (v == NULL) {
		/* Directus tells its version to administrators only. */
		*errstr = xstrdup("GET /server/info: no version in the answer "
				  "(is the token an admin token?)");
		rc = SYNC_EAUTH;
		goto fail;
	}
	parse_version(v, parts);
	if (parts[0] < 11) {
		xasprintf(errstr,
		    "Directus %s is not supported: dsync needs "
		    "Directus 11.0.0 or later",
		    v);
		rc = SYNC_EPROTO;
		goto fail;
	}
	if (version)
		*version = xstrdup(v);
	rc = 0;
fail:
	json_free(res);
	return rc;
}
