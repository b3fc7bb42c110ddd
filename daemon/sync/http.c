/*
 * http: libcurl multi transport. One multi handle per client keeps its
 * connection cache between batches, so a whole pull runs over a few
 * kept-alive connections. Easy handles are pooled and reused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http.h"
#include "result.h"
#include "xmalloc.h"

#define HTTP_MAX_PARALLEL 32

struct http {
	CURLM *multi;
	CURL *pool[HTTP_MAX_PARALLEL];
	char *base;
	char *auth; /* "Authorization: Bearer ..." */
	char *user_agent;
	char **headers;
	size_t nheaders;
	char *ca_file; /* NULL: libcurl's defaults */
	bool insecure; /* no TLS verification */
	bool insecure_told;
	int parallel;
	long timeout;
	atomic_int *cancel;
	size_t max_body;
	http_trace_cb trace;
	void *trace_arg;
	atomic_ulong count;
};

struct slot {
	CURL *easy;
	struct curl_slist *hdrs;
	curl_mime *mime;
	struct http_req *req;
	size_t max_body;
	bool too_large;
	char errbuf[CURL_ERROR_SIZE];
};

int http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void http_global_cleanup(void)
{
	curl_global_cleanup();
}

struct http *http_new(const char *base_url)
{
	struct http *h = xcalloc(1, sizeof(*h));
	size_t len = strlen(base_url);

	while (len > 0 && base_url[len - 1] == '/')
		len--;
	h->base = xstrndup(base_url, len);
	h->multi = curl_multi_init();
	if (h->multi == NULL)
		abort();
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS,
	    (long)HTTP_MAX_PARALLEL);
	h->parallel = 16;
	h->timeout = 300;
	h->max_body = HTTP_DEFAULT_MAX_BODY;
	atomic_init(&h->count, 0);
	return h;
}

void http_free(struct http *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < HTTP_MAX_PARALLEL; i++)
		if (h->pool[i])
			curl_easy_cleanup(h->pool[i]);
	curl_multi_cleanup(h->multi);
	if (h->auth) {
		explicit_bzero(h->auth, strlen(h->auth));
		free(h->auth);
	}
	for (i = 0; i < h->nheaders; i++)
		free(h->headers[i]);
	free(h->headers);
	free(h->ca_file);
	free(h->user_agent);
	free(h->base);
	free(h);
}

void http_set_token(struct http *h, const char *token)
{
	if (h->auth) {
		explicit_bzero(h->auth, strlen(h->auth));
		free(h->auth);
		h->auth = NULL;
	}
	if (token)
		xasprintf(&h->auth, "Authorization: Bearer %s", token);
}

void http_set_parallel(struct http *h, int n)
{
	h->parallel = n < 1 ? 1 : n > HTTP_MAX_PARALLEL ? HTTP_MAX_PARALLEL : n;
}

void http_set_timeout(struct http *h, long seconds)
{
	h->timeout = seconds;
}

void http_set_cancel(struct http *h, atomic_int *flag)
{
	h->cancel = flag;
}

void http_set_max_body(struct http *h, size_t bytes)
{
	h->max_body = bytes ? bytes : HTTP_DEFAULT_MAX_BODY;
}

void http_set_trace(struct http *h, http_trace_cb cb, void *arg)
{
	h->trace = cb;
	h->trace_arg = arg;
}

void http_set_user_agent(struct http *h, const char *ua)
{
	free(h->user_agent);
	h->user_agent = ua ? xstrdup(ua) : NULL;
}

void http_add_header(struct http *h, const char *header)
{
	h->headers = xreallocarray(h->headers, h->nheaders + 1, sizeof(char *));
	h->headers[h->nheaders++] = xstrdup(header);
}

void http_set_tls(struct http *h, const char *ca_file, bool verify)
{
	free(h->ca_file);
	h->ca_file = ca_file ? xstrdup(ca_file) : NULL;
	h->insecure = !verify;
}

bool http_tls_warn_once(struct http *h)
{
	if (!h->insecure || h->insecure_told)
		return false;
	h->insecure_told = true;
	return true;
}

unsigned long http_count(const struct http *h)
{
	return atomic_load(&((struct http *)h)->count);
}

void http_req_init(struct http_req *r, const char *method, char *path,
    char *body)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->path = path;
	r->body = body;
	r->bodylen = body ? strlen(body) : 0;
	buf_init(&r->resp);
}

void http_req_clear(struct http_req *r)
{
	if (r->secret) {
		if (r->body)
			explicit_bzero(r->body, r->bodylen);
		buf_wipe(&r->resp);
	}
	free(r->path);
	free(r->body);
	free(r->error);
	buf_clear(&r->resp);
	r->path = r->body = r->error = NULL;
}

static void set_headers(struct http *h, struct slot *s,
    const struct http_req *req)
{
	size_t i;

	s->hdrs = curl_slist_append(NULL, "Accept: application/json");
	if (req->body && req->parts == NULL)
		s->hdrs = curl_slist_append(s->hdrs,
		    "Content-Type: application/json");
	if (h->auth && !req->no_auth)
		s->hdrs = curl_slist_append(s->hdrs, h->auth);
	for (i = 0; i < h->nheaders; i++)
		s->hdrs = curl_slist_append(s->hdrs, h->headers[i]);
	/* Without this curl sends "Expect: 100-continue" on large bodies. */
	s->hdrs = curl_slist_append(s->hdrs, "Expect:");
	curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->hdrs);
}

/* A multipart/form-data body: the fields, then the file, read by
 * libcurl as it sends (an unreadable file fails the request). */
static void set_mime(struct slot *s, const struct http_req *req)
{
	size_t i;

	s->mime = curl_mime_init(s->easy);
	for (i = 0; i < req->nparts; i++) {
		const struct http_part *p = &req->parts[i];
		curl_mimepart *part = curl_mime_addpart(s->mime);

		curl_mime_name(part, p->name);
		if (p->file) {
			curl_mime_filedata(part, p->file);
			if (p->filename)
				curl_mime_filename(part, p->filename);
			if (p->type)
				curl_mime_type(part, p->type);
		} else
			curl_mime_data(part, p->value ? p->value : "",
			    CURL_ZERO_TERMINATED);
	}
	curl_easy_setopt(s->easy, CURLOPT_MIMEPOST, s->mime);
}

/* Returning less than given aborts the transfer: past the body limit. */
static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct slot *s = arg;
	struct http_req *req = s->req;
	size_t n = size * nmemb;

	if (req->resp.len + n > s->max_body) {
		s->too_large = true;
		return 0;
	}
	if (req->secret) {
		buf_add_secret(&req->resp, ptr, n);
		return n;
	}
	buf_add(&req->resp, ptr, n);
	return n;
}

static int xfer_cb(void *arg, curl_off_t dlt, curl_off_t dln, curl_off_t ult,
    curl_off_t uln)
{
	atomic_int *cancel = arg;

	return cancel && atomic_load(cancel) ? 1 : 0;
}

/* Prepare a pooled easy handle for one request. */
static void slot_setup(struct http *h, struct slot *s, CURL **pooled,
    struct http_req *req)
{
	char *url;

	if (*pooled == NULL)
		*pooled = curl_easy_init();
	if (*pooled == NULL)
		abort();
	s->easy = *pooled;
	s->req = req;
	s->max_body = h->max_body;
	s->too_large = false;
	s->errbuf[0] = '\0';
	curl_easy_reset(s->easy);

	xasprintf(&url, "%s%s", h->base, req->path);
	curl_easy_setopt(s->easy, CURLOPT_URL, url);
	free(url);
	set_headers(h, s, req);
	curl_easy_setopt(s->easy, CURLOPT_CUSTOMREQUEST, req->method);
	if (strcmp(req->method, "GET") == 0)
		curl_easy_setopt(s->easy, CURLOPT_HTTPGET, 1L);
	/* A write never rides a kept-alive connection: on one that the
	 * server closed without an answer (an idle timeout, or a crash after
	 * the write), libcurl would send the request again by itself, and
	 * the write could happen twice. On a new connection it does not;
	 * the caller sees the error and decides. That connection is closed
	 * after the write, not kept: the cache stays at the reads' ones
	 * instead of growing by a descriptor per write up to its cap. */
	if (strcmp(req->method, "GET") != 0) {
		curl_easy_setopt(s->easy, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(s->easy, CURLOPT_FORBID_REUSE, 1L);
	}
	if (req->parts)
		set_mime(s, req);
	else if (req->body) {
		curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)req->bodylen);
	}
	curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(s->easy, CURLOPT_TIMEOUT, h->timeout);
	curl_easy_setopt(s->easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(s->easy, CURLOPT_USERAGENT,
	    h->user_agent ? h->user_agent : "dsync/" DSYNC_VERSION);
	curl_easy_setopt(s->easy, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(s->easy, CURLOPT_XFERINFOFUNCTION, xfer_cb);
	curl_easy_setopt(s->easy, CURLOPT_XFERINFODATA, h->cancel);
	curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
	curl_easy_setopt(s->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	/* libcurl's defaults, made explicit: only http_set_tls turns them
	 * off. */
	curl_easy_setopt(s->easy, CURLOPT_SSL_VERIFYPEER,
	    h->insecure ? 0L : 1L);
	curl_easy_setopt(s->easy, CURLOPT_SSL_VERIFYHOST,
	    h->insecure ? 0L : 2L);
	/* Exactly these CAs: libcurl would search its default directory
	 * (Debian's /etc/ssl/certs) besides CAINFO. */
	if (h->ca_file) {
		curl_easy_setopt(s->easy, CURLOPT_CAINFO, h->ca_file);
		curl_easy_setopt(s->easy, CURLOPT_CAPATH, NULL);
	}
	curl_multi_add_handle(h->multi, s->easy);
	atomic_fetch_add(&h->count, 1);
}

static void slot_done(struct http *h, struct slot *s, CURLcode rc)
{
	struct http_req *req = s->req;

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &req->status);
	curl_easy_getinfo(s->easy, CURLINFO_TOTAL_TIME, &req->seconds);
	req->retry_after = 0;
	{
		/* libcurl reads both forms: delta-seconds, and an HTTP date
		 * (turned into seconds from now). */
		curl_off_t ra = 0;

		if (curl_easy_getinfo(s->easy, CURLINFO_RETRY_AFTER, &ra) ==
			CURLE_OK &&
		    ra > 0)
			req->retry_after = (double)ra;
	}
	if (rc != CURLE_OK) {
		req->status = 0;
		free(req->error);
		if (s->too_large) {
			if (s->max_body >= (1 << 20))
				xasprintf(&req->error,
				    "the answer is larger "
				    "than the limit of %zu MiB (see "
				    "--max-response-mb)",
				    s->max_body >> 20);
			else
				xasprintf(&req->error,
				    "the answer is larger "
				    "than the limit of %zu KiB (see "
				    "--max-response-mb)",
				    s->max_body >> 10);
			req->fail = SYNC_EPROTO;
		} else {
			const char *why = s->errbuf[0] ? s->errbuf :
							 curl_easy_strerror(rc);

			/* The ways around it, for the usual cause: a private
			 * CA or a self-signed certificate. */
			if (rc == CURLE_PEER_FAILED_VERIFICATION &&
			    strstr(why, "target host name") != NULL)
				xasprintf(&req->error,
				    "%s (the URL must name "
				    "a host the certificate was issued for)",
				    why);
			else if (rc == CURLE_PEER_FAILED_VERIFICATION)
				xasprintf(&req->error,
				    "%s (the server's "
				    "certificate is not trusted: give its CA "
				    "with --ca-file or DSYNC_CA_FILE, in "
				    "dsyncd.conf directus.ca_file)",
				    why);
			else
				req->error = xstrdup(why);
			req->fail = rc == CURLE_ABORTED_BY_CALLBACK ?
			    SYNC_ECANCELED :
			    SYNC_EUNREACH;
		}
	}
	curl_multi_remove_handle(h->multi, s->easy);
	curl_slist_free_all(s->hdrs);
	s->hdrs = NULL;
	curl_mime_free(s->mime);
	s->mime = NULL;
	s->req = NULL;
	if (h->trace)
		h->trace(h->trace_arg, req);
	if (req->done)
		req->done(req, req->done_arg);
}

int http_run(struct http *h, struct http_req *reqs, size_t n)
{
	struct slot slots[HTTP_MAX_PARALLEL];
	size_t next = 0, active = 0, i;
	int running, failed = 0, cancelled = 0, par = h->parallel;

	memset(slots, 0, sizeof(slots));
	for (;;) {
		/* Fill free slots while requests remain. */
		for (i = 0; i < (size_t)par && next < n; i++) {
			if (slots[i].req)
				continue;
			if (h->cancel && atomic_load(h->cancel)) {
				cancelled = 1;
				break;
			}
			reqs[next].status = 0;
			reqs[next].fail = 0;
			slot_setup(h, &slots[i], &h->pool[i], &reqs[next]);
			next++;
			active++;
		}
		if (active == 0)
			break;
		curl_multi_perform(h->multi, &running);
		for (;;) {
			int left;
			CURLMsg *m = curl_multi_info_read(h->multi, &left);
			struct slot *s;

			if (m == NULL)
				break;
			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &s);
			if (m->data.result == CURLE_ABORTED_BY_CALLBACK &&
			    h->cancel && atomic_load(h->cancel))
				cancelled = 1;
			else if (m->data.result != CURLE_OK)
				failed = 1;
			slot_done(h, s, m->data.result);
			active--;
		}
		if (active > 0 && running > 0)
			curl_multi_poll(h->multi, NULL, 0, 1000, NULL);
	}
	/* Requests never started because of a cancel get an error too. */
	for (; next < n; next++) {
		free(reqs[next].error);
		reqs[next].error = xstrdup("cancelled");
		reqs[next].fail = SYNC_ECANCELED;
	}
	if (cancelled)
		return -ECANCELED;
	return failed ? -EIO : 0;
}
