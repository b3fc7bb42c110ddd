/*
 * http: the HTTP transport of the engine, on a libcurl multi handle. Batches
 * of independent requests run in parallel over kept-alive connections; the
 * caller waits for the whole batch. No request or response is ever logged
 * here, and the Authorization header never leaves this file.
 */
#ifndef DSYNC_HTTP_H
#define DSYNC_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* A response body larger than this fails its request (the default of
 * http_set_max_body): far above any real configuration. */
#define HTTP_DEFAULT_MAX_BODY ((size_t)256 << 20)

struct http;

/* One part of a multipart/form-data body (an upload): a field, or with
 * file, the file's content read from that path. Borrowed. */
struct http_part {
	const char *name;
	const char *value;    /* a field's value */
	const char *file;     /* or: the path of the file sent */
	const char *filename; /* the file's name as sent */
	const char *type;     /* the file's media type */
};

struct http_req {
	/* in */
	const char *method; /* "GET", "POST", "PATCH", "DELETE" */
	char *path;	    /* owned: path and query after the base URL */
	char *body;	    /* owned, may be NULL */
	size_t bodylen;
	const struct http_part *parts; /* borrowed: a multipart body,
					* instead of body */
	size_t nparts;
	bool secret;  /* body and answer hold credentials: both
				 * are wiped when the request is cleared */
	bool no_auth; /* sent without the bearer token */
	/* out */
	long status;	    /* HTTP status, 0 if no response */
	struct buf resp;    /* response body */
	char *error;	    /* owned: transport error text, or NULL */
	int fail;	    /* with error: SYNC_ECANCELED, SYNC_EUNREACH
				 * or SYNC_EPROTO (body over the limit) */
	double seconds;	    /* total time of the transfer */
	double retry_after; /* the answer's Retry-After, in seconds from
				 * now (delta-seconds or an HTTP date), as
				 * the server sent it; 0 when it has none */
	/* Called as soon as this transfer ends, before the batch does. */
	void (*done)(struct http_req *r, void *arg);
	void *done_arg;
};

/* Called after each finished transfer (for debug logs and counters). */
typedef void (*http_trace_cb)(void *arg, const struct http_req *req);

/* libcurl's global set-up: once, in main, before any thread starts.
 * Returns 0, or -1 when libcurl cannot start. */
int http_global_init(void);
void http_global_cleanup(void);

struct http *http_new(const char *base_url);
void http_free(struct http *h);

/* The bearer token sent with every request; copied, NULL clears it. */
void http_set_token(struct http *h, const char *token);
/* Requests in flight at once within one batch (default 16: Directus
 * overlaps their database reads; measured fastest of 6, 16 and 32). */
void http_set_parallel(struct http *h, int n);
/* Per-request time limit in seconds (0: none; default 300). */
void http_set_timeout(struct http *h, long seconds);
/* While *flag is non-zero, transfers are aborted and new ones refused;
 * NULL unbinds it. */
void http_set_cancel(struct http *h, atomic_int *flag);
/* Largest response body accepted, in bytes (0: the default). */
void http_set_max_body(struct http *h, size_t bytes);
void http_set_trace(struct http *h, http_trace_cb cb, void *arg);
/* The User-Agent of every request (default "dsync/VERSION"); copied. */
void http_set_user_agent(struct http *h, const char *ua);
/* Extra header sent with every request ("Name: value"); copied. */
void http_add_header(struct http *h, const char *header);
/* TLS for https:// URLs. Verification is on by default: the server's
 * certificate chain must lead to a trusted CA, and its name must match
 * the URL's host. ca_file (PEM, copied) holds the CAs trusted, and only
 * those (NULL: libcurl's default bundle and directory); verify false
 * turns both checks off. */
void http_set_tls(struct http *h, const char *ca_file, bool verify);
/* True once per handle when verification is off: for the one warning
 * of a session. */
bool http_tls_warn_once(struct http *h);

/* Run n requests, at most the parallel limit at once, and wait for all.
 * A request that is not a GET goes out on a connection of its own, never
 * on a kept-alive one: libcurl sends a request again, unasked, when a
 * reused connection closes before any answer, and a write whose answer
 * was lost would then be applied twice.
 * Returns 0 when every request got an HTTP response (whatever its status),
 * -ECANCELED when cancelled, -EIO when a transfer failed (req->error says
 * why). A failed batch still runs its remaining requests. */
int http_run(struct http *h, struct http_req *reqs, size_t n);

/* Number of transfers started since http_new; may be read from another
 * thread while a batch runs. */
unsigned long http_count(const struct http *h);

void http_req_init(struct http_req *r, const char *method, char *path,
    char *body);
void http_req_clear(struct http_req *r);

#endif
