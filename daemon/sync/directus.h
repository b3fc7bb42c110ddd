/*
 * directus: the Directus REST client of the engine. Wraps http with JSON
 * bodies, Directus error decoding ({"errors":[{message, extensions.code}]})
 * and messages that name the request, never the credentials. One dx is
 * one session: it may serve many runs, and a login session renews its
 * access token by itself (see dx_login).
 */
#ifndef DSYNC_DIRECTUS_H
#define DSYNC_DIRECTUS_H

#include <stdatomic.h>
#include <stdbool.h>

#include "http.h"
#include "json.h"
#include "result.h"

struct dx;

enum {
	DX_ALLOW_404 = 1 << 0, /* a 404 is an answer, not an error */
	DX_RAW = 1 << 1,       /* keep the body as text, do not parse */
	DX_ALLOW_403 = 1 << 2, /* a 403 is an answer, not an error */
	DX_SECRET = 1 << 3,    /* body and answer hold credentials: wiped
				 * after use, never retried */
	DX_NO_AUTH = 1 << 4,   /* sent without the session's token (an
				 * expired one would refuse a login) */
};

struct dx_call {
	/* in */
	const char *method;
	char *path;		       /* owned */
	struct json *body;	       /* owned, may be NULL */
	char *raw_body;		       /* owned: a body already in JSON text,
				 * used instead of body (set after init) */
	const struct http_part *parts; /* borrowed: a multipart body
					* (set after init) */
	size_t nparts;
	unsigned flags;
	/* Called when this call has its answer, while the others of the
	 * batch may still run; a failure fails the batch with *errstr. */
	int (*done)(struct dx_call *c, void *arg, char **errstr);
	void *done_arg;
	/* out */
	long status;
	struct json *result; /* owned: parsed body, NULL if empty or raw */
	char *raw;	     /* owned: body text with DX_RAW */
	size_t rawlen;
	char *error;	    /* owned: why this call failed, or NULL */
	char *code;	    /* owned: Directus' error code, or NULL */
	int fail;	    /* with error: an enum sync_result */
	double retry_after; /* with error: the answer's Retry-After in
				 * seconds (at most DX_RETRY_AFTER_MAX), or 0 */
};

struct dx *dx_new(const char *url);
void dx_free(struct dx *dx);
struct http *dx_http(struct dx *dx);
/* The User-Agent of every request (copied) and the time limit of each,
 * in seconds (0: none). */
void dx_set_client(struct dx *dx, const char *user_agent, long timeout);
/* Each request as one line, "GET /path -> 200 (12 ms)", to cb (never its
 * headers or body); NULL: none. */
void dx_set_trace(struct dx *dx, void (*cb)(void *arg, const char *line),
    void *arg);
/* Each finished request to cb, from the thread that runs the session:
 * its method and HTTP status (0: no answer, a transport failure); NULL:
 * none. */
void dx_set_counter(struct dx *dx,
    void (*cb)(void *arg, const char *method, long status), void *arg);
/* The requests this session has sent; may be read from another thread
 * while it runs. */
unsigned long dx_requests(const struct dx *dx);

/* Authenticate: a static token, or a login with email and password.
 * Secrets are copied and wiped on free. A login session keeps them: the
 * access token (15 minutes by default) is renewed through
 * /auth/refresh shortly before it expires, and on a 401 TOKEN_EXPIRED
 * the session renews (refresh, else a new login) and the calls that got
 * it are sent again, without the caller noticing. */
void dx_set_token(struct dx *dx, const char *token);
int dx_login(struct dx *dx, const char *email, const char *password,
    char **errstr);
/* Facts about the instance that a session reuses for a while instead of
 * asking on every run (its version, whether the mapping extension
 * answers): NULL when unknown or older than DX_MEMO_AGE seconds. A
 * request that gets no answer forgets them all (the server may have been
 * restarted, upgraded). */
#define DX_MEMO_AGE 300.0
const char *dx_memo_get(struct dx *dx, const char *key);
void dx_memo_set(struct dx *dx, const char *key, const char *value);

/*
 * Retry-After: a failed call whose answer carries one (Directus sends it
 * with 429 when its rate limiter refuses, a proxy with 503) tells the
 * session how long to leave the server alone. The session keeps the
 * largest of its failed calls since the last dx_clear_retry_after, so
 * that a caller that retries (the daemon) waits at least that long.
 * A value above DX_RETRY_AFTER_MAX (one hour) is taken as one hour: a
 * hostile or broken server cannot park the daemon for days.
 */
#define DX_RETRY_AFTER_MAX 3600.0
double dx_retry_after(const struct dx *dx);
void dx_clear_retry_after(struct dx *dx);

/* Whether to renew before expiry (default true; tests turn it off to
 * reach the 401 path). */
void dx_set_early_renewal(struct dx *dx, bool on);
/* Times the session renewed its token (refresh or login). */
unsigned long dx_renewals(const struct dx *dx);

void dx_call_init(struct dx_call *c, const char *method, char *path,
    struct json *body, unsigned flags);
void dx_call_clear(struct dx_call *c);

/* Run calls in parallel. Returns 0 if each got a 2xx (or an allowed 404)
 * and a parseable body; otherwise the enum sync_result of the first
 * failed call, and *errstr names it: method, path, status, Directus code
 * and message. */
int dx_run(struct dx *dx, struct dx_call *calls, size_t n, char **errstr);

/* One call; on success *out gets the parsed body (may be NULL for 204). */
int dx_request(struct dx *dx, const char *method, const char *path,
    struct json *body, struct json **out, char **errstr);

/* The "data" member of a Directus response (borrowed), or NULL. */
struct json *dx_data(struct json *result);

/* Percent-encode s for a query value or a path segment; caller frees. */
char *dx_escape(const char *s);

/* The result for an HTTP status that is not an answer (401 and 403:
 * SYNC_EAUTH, 429 and 5xx: SYNC_ESERVER, others: SYNC_EPROTO). */
int dx_status_result(long status);

/* Version of the server (GET /server/info), refusing anything below 11. */
int dx_check_version(struct dx *dx, char **version, char **errstr);

#endif
