/*
 * sync: what every entry point shares: the session they run on, their
 * log, and the start and end of a run (cancel flag, request count, the
 * dump tree's lock).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync.h"
#include "xmalloc.h"

const char *sync_result_name(int rc)
{
	switch (rc) {
	case SYNC_OK:
		return "ok";
	case SYNC_ECANCELED:
		return "cancelled";
	case SYNC_EAUTH:
		return "auth";
	case SYNC_EUNREACH:
		return "unreachable";
	case SYNC_ESERVER:
		return "server";
	case SYNC_EPROTO:
		return "protocol";
	case SYNC_EDUMP:
		return "dump";
	case SYNC_EGUARD:
		return "guard";
	case SYNC_ELOCKED:
		return "locked";
	case SYNC_EIO:
		return "io";
	default:
		return "failed";
	}
}

int sync_result_transient(int rc)
{
	return rc == SYNC_EUNREACH || rc == SYNC_ESERVER || rc == SYNC_ELOCKED;
}

void sync_logf(const struct sync_ctx *ctx, enum sync_level level,
    const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (ctx->log == NULL)
		return;
	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	ctx->log(ctx->log_arg, level, msg);
	free(msg);
}

int sync_check_instance(struct sync_ctx *ctx, struct sync_stats *st,
    char **errstr)
{
	const char *known = dx_memo_get(ctx->dx, "version");
	char *version = NULL;
	int rc;

	if (known)
		version = xstrdup(known);
	else if ((rc = dx_check_version(ctx->dx, &version, errstr)) < 0)
		return rc;
	else
		dx_memo_set(ctx->dx, "version", version);
	sync_logf(ctx, SYNC_DEBUG, "Directus %s is compatible", version);
	if (st)
		snprintf(st->directus_version, sizeof(st->directus_version),
		    "%s", version);
	free(version);
	return 0;
}

bool sync_cancelled(const struct sync_ctx *ctx)
{
	return ctx->cancel && atomic_load(ctx->cancel);
}

struct dx *sync_session(const struct sync_opts *o)
{
	struct dx *dx = dx_new(o->url);
	size_t i;

	for (i = 0; i < o->nheaders; i++)
		http_add_header(dx_http(dx), o->headers[i]);
	http_set_max_body(dx_http(dx), o->max_body);
	if (o->timeout > 0)
		http_set_timeout(dx_http(dx), (long)o->timeout);
	http_set_tls(dx_http(dx), o->ca_file, !o->insecure);
	return dx;
}

int sync_connect(const struct sync_opts *o, struct dx **out, char **errstr)
{
	struct dx *dx = sync_session(o);
	int rc;

	if (o->token && o->token[0])
		dx_set_token(dx, o->token);
	else if ((rc = dx_login(dx, o->email, o->password, errstr)) < 0) {
		dx_free(dx);
		return rc;
	}
	*out = dx;
	return 0;
}

/* Once per session, so once per command and, in the daemon, at start
 * and after each reload. */
static void tls_warning(const struct sync_ctx *ctx)
{
	char *u = sync_opts_url_shown(ctx->opts->url ? ctx->opts->url : "");

	sync_logf(ctx, SYNC_WARN, "TLS verification is off for URL: %s", u);
	free(u);
}

int sync_run_begin(struct sync_run *r, struct sync_ctx *ctx,
    struct sync_stats *st, unsigned flags, char **errstr)
{
	const struct sync_opts *o = ctx->opts;
	int rc;

	memset(r, 0, sizeof(*r));
	r->ctx = ctx;
	r->st = st ? st : &r->own;
	memset(r->st, 0, sizeof(*r->st));
	r->start = http_count(dx_http(ctx->dx));
	http_set_cancel(dx_http(ctx->dx), ctx->cancel);
	if (http_tls_warn_once(dx_http(ctx->dx)))
		tls_warning(ctx);
	if (!(flags & RUN_LOCK))
		return 0;
	if (ctx->lock) {
		r->root = dump_lock_root(ctx->lock);
		return 0;
	}
	rc = dump_lock_acquire(o->dump_path, (flags & RUN_LOCK_CREATE) != 0,
	    o->lock_wait, ctx->cancel, &r->lock, errstr);
	if (rc < 0) {
		http_set_cancel(dx_http(ctx->dx), NULL);
		return rc;
	}
	r->root = dump_lock_root(r->lock);
	if (dump_lock_recovered(r->lock))
		sync_logf(ctx, SYNC_WARN,
		    "%s: completed an update of the dump "
		    "tree that was interrupted",
		    r->root);
	return 0;
}

int sync_run_end(struct sync_run *r, int rc)
{
	struct sync_ctx *ctx = r->ctx;

	r->st->requests = http_count(dx_http(ctx->dx)) - r->start;
	http_set_cancel(dx_http(ctx->dx), NULL);
	dump_lock_release(r->lock);
	r->lock = NULL;
	r->root = NULL;
	if (rc < 0 && sync_cancelled(ctx))
		rc = SYNC_ECANCELED;
	return rc;
}
