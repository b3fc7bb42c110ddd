/*
 * directus: the Directus REST client of the engine. Wraps http with JSON
 * bodies, Directus error decoding ({"errors":[{message, extensions.code}]})
 * and messages that name the request, never the credentials.
 */
#ifndef DSYNC_DIRECTUS_H
#define DSYNC_DIRECTUS_H

#include <stdatomic.h>
#include <stdbool.h>

#include "http.h"
#include "json.h"

struct dx;

enum {
	DX_ALLOW_404 = 1 << 0,	/* a 404 is an answer, not an error */
	DX_RAW = 1 << 1,	/* keep the body as text, do not parse */
	DX_ALLOW_403 = 1 << 2,	/* a 403 is an answer, not an error */
};

struct dx_call {
	/* in */
	const char *method;
	char *path;		/* owned */
	struct json *body;	/* owned, may be NULL */
	char *raw_body;		/* owned: a body already in JSON text,
				 * used instead of body (set after init) */
	unsigned flags;
	/* Called when this call has its answer, while the others of the
	 * batch may still run; a failure fails the batch with *errstr. */
	int (*done)(struct dx_call *c, void *arg, char **errstr);
	void *done_arg;
	/* out */
	long status;
	struct json *result;	/* owned: parsed body, NULL if empty or raw */
	char *raw;		/* owned: body text with DX_RAW */
	size_t rawlen;
	char *error;		/* owned: why this call failed, or NULL */
};

struct dx *dx_new(const char *url);
void dx_free(struct dx *dx);
struct http *dx_http(struct dx *dx);

/* Authenticate: a static token, or a login with email and password.
 * Secrets are copied and wiped on free. */
void dx_set_token(struct dx *dx, const char *token);
int dx_login(struct dx *dx, const char *email, const char *password,
    char **errstr);

void dx_call_init(struct dx_call *c, const char *method, char *path,
    struct json *body, unsigned flags);
void dx_call_clear(struct dx_call *c);

/* Run calls in parallel. Returns 0 if each got a 2xx (or an allowed 404)
 * and a parseable body; otherwise -1 and *errstr names the first failed
 * request: method, path, status, Directus code and message. */
int dx_run(struct dx *dx, struct dx_call *calls, size_t n, char **errstr);

/* One call; on success *out gets the parsed body (may be NULL for 204). */
int dx_request(struct dx *dx, const char *method, const char *path,
    struct json *body, struct json **out, char **errstr);

/* The "data" member of a Directus response (borrowed), or NULL. */
struct json *dx_data(struct json *result);

/* Percent-encode s for a query value or a path segment; caller frees. */
char *dx_escape(const char *s);

/* Version of the server (GET /server/info), refusing anything below 11. */
int dx_check_version(struct dx *dx, char **version, char **errstr);

#endif
