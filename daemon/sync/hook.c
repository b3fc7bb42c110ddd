/*
 * hook: one hook run as a program (see hook.h): posix_spawn, the input
 * written and the answer read together through poll (a hook may answer
 * before it has read everything), a deadline, the run's cancel flag, and
 * the whole process group killed when either passes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "hook.h"
#include "xmalloc.h"

#ifndef DSYNC_BRIDGE_PATH
#define DSYNC_BRIDGE_PATH "/usr/share/dsync/hook-bridge.cjs"
#endif

#define HOOK_MAX_ERR 4096 /* stderr kept for the message */

extern char **environ;

bool hook_set(const struct sync_opts *o, int row, enum hook_point p)
{
	return row >= 0 && row <= COLL_COUNT && (unsigned)p < HOOK_POINTS &&
	    (o->hooks[row][p].cmd || o->hooks[row][p].js_file);
}

const char *hook_node(void)
{
	const char *n = getenv("DSYNC_NODE");

	return n && *n ? n : "node";
}

const char *hook_bridge(void)
{
	const char *b = getenv("DSYNC_HOOK_BRIDGE");

	return b && *b ? b : DSYNC_BRIDGE_PATH;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The environment of the hook: ours, with DSYNC_HOOK and
 * DSYNC_COLLECTION (what it runs for). */
static char **hook_env(const char *point, const char *row, char **own)
{
	size_t n = 0, i, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = xcalloc(n + 3, sizeof(char *));
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "DSYNC_HOOK=", 11) != 0 &&
		    strncmp(environ[i], "DSYNC_COLLECTION=", 17) != 0)
			env[k++] = environ[i];
	xasprintf(&own[0], "DSYNC_HOOK=%s", point);
	xasprintf(&own[1], "DSYNC_COLLECTION=%s", row);
	env[k++] = own[0];
	env[k++] = own[1];
	return env;
}

struct child {
	pid_t pid;
	int in, out, err; /* our ends, -1 once closed */
	struct buf o, e;
	size_t max;
	bool too_large;
};

static int spawn(struct child *ch, char *const argv[], char **env,
    char **errstr)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int pi[2], po[2], pe[2], rc;

	if (pipe2(pi, O_CLOEXEC) < 0 || pipe2(po, O_CLOEXEC) < 0 ||
	    pipe2(pe, O_CLOEXEC) < 0) {
		xasprintf(errstr, "pipe: %s", strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pi[0], 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	posix_spawnattr_init(&at);
	/* A group of its own: a timeout kills what the shell started. */
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&at, 0);
	rc = posix_spawnp(&ch->pid, argv[0], &fa, &at, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(pi[0]);
	close(po[1]);
	close(pe[1]);
	ch->in = pi[1];
	ch->out = po[0];
	ch->err = pe[0];
	if (rc != 0) {
		xasprintf(errstr, "cannot run %s: %s", argv[0], strerror(rc));
		return -1;
	}
	fcntl(ch->in, F_SETFL, O_NONBLOCK);
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Read what fd has into b; closed at end of file (or past max). */
static void take(int *fd, struct buf *b, size_t max, bool *over)
{
	char chunk[65536];
	ssize_t n = read(*fd, chunk, sizeof(chunk));

	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			close_fd(fd);
		return;
	}
	if (b->len + (size_t)n > max) {
		if (over)
			*over = true;
		close_fd(fd);
		return;
	}
	buf_add(b, chunk, (size_t)n);
}

/* Feed in, read out and err until both end; 1 on timeout or cancel. */
static int exchange(struct child *ch, const char *in, size_t inlen,
    double deadline, atomic_int *cancel)
{
	size_t off = 0;

	while (ch->out >= 0 || ch->err >= 0) {
		struct pollfd p[3] = { { ch->in, POLLOUT, 0 },
			{ ch->out, POLLIN, 0 }, { ch->err, POLLIN, 0 } };
		double left = deadline - now();

		if (left <= 0 || (cancel && atomic_load(cancel)))
			return 1;
		if (poll(p, 3, left > 0.1 ? 100 : (int)(left * 1000) + 1) < 0 &&
		    errno != EINTR)
			return 1;
		if (ch->in >= 0 && (p[0].revents & (POLLOUT | POLLERR))) {
			ssize_t n = write(ch->in, in + off, inlen - off);

			if (n > 0)
				off += (size_t)n;
			if ((n < 0 && errno != EAGAIN && errno != EINTR) ||
			    off == inlen)
				close_fd(&ch->in);
		}
		if (ch->out >= 0 && (p[1].revents & (POLLIN | POLLHUP)))
			take(&ch->out, &ch->o, ch->max, &ch->too_large);
		if (ch->err >= 0 && (p[2].revents & (POLLIN | POLLHUP)))
			take(&ch->err, &ch->e, HOOK_MAX_ERR, NULL);
	}
	close_fd(&ch->in);
	return 0;
}

/* After a run: its pipes, what it said, and its environment. */
static void child_clear(struct child *ch, char **env, char **own)
{
	close_fd(&ch->in);
	close_fd(&ch->out);
	close_fd(&ch->err);
	buf_clear(&ch->o);
	buf_clear(&ch->e);
	free(env);
	free(own[0]);
	free(own[1]);
}

/* The first line of what the hook said on stderr, for the message. */
static char *first_line(const struct buf *b)
{
	size_t n = 0;

	while (n < b->len && b->data[n] != '\n')
		n++;
	return n ? xstrndup(b->data, n) : NULL;
}

/* How the hook ended, as a message (NULL: exit 0). */
static char *ended(struct child *ch, int timed_out, double timeout)
{
	char *why = NULL, *line = first_line(&ch->e);
	int st = 0;

	if (timed_out)
		kill(-ch->pid, SIGKILL);
	while (waitpid(ch->pid, &st, 0) < 0 && errno == EINTR)
		;
	if (timed_out)
		xasprintf(&why, "did not answer within %g s (killed)", timeout);
	else if (WIFSIGNALED(st))
		xasprintf(&why, "was killed by signal %d", WTERMSIG(st));
	else if (WEXITSTATUS(st) != 0)
		xasprintf(&why, "exited with status %d", WEXITSTATUS(st));
	else if (ch->too_large)
		why = xstrdup("answered more than the response limit");
	if (why && line) {
		char *w;

		xasprintf(&w, "%s: %s", why, line);
		free(why);
		why = w;
	}
	free(line);
	return why;
}

/* What a JavaScript hook gets: the data, and how to reach the instance
 * for a hook that asks for a Directus client (a secret: wiped). */
static char *bridge_input(const struct sync_opts *o, const struct json *data,
    size_t *len)
{
	struct json *env = json_new_object(), *dx = json_new_object();
	struct json *h = json_new_array();
	char *text;
	size_t i;

	json_set(dx, "url", json_new_string(o->url ? o->url : ""));
	if (o->token)
		json_set(dx, "token", json_new_string(o->token));
	if (o->email && o->password) {
		json_set(dx, "email", json_new_string(o->email));
		json_set(dx, "password", json_new_string(o->password));
	}
	for (i = 0; i < o->nheaders; i++)
		json_array_append(h, json_new_string(o->headers[i]));
	json_set(dx, "headers", h);
	json_set(env, "directus", dx);
	json_set(env, "data", json_copy(data));
	text = json_write(env, false, len);
	json_free_wipe(env);
	return text;
}

/* The answer, parsed and of the point's shape. */
static struct json *answer(const struct buf *out, int row, enum hook_point p,
    char **why)
{
	struct json *v;
	char *perr = NULL;
	size_t i;

	if (out->len == 0) {
		*why = xstrdup(
		    "answered nothing (it must print the data as JSON)");
		return NULL;
	}
	if ((v = json_parse(out->data, out->len, &perr)) == NULL) {
		xasprintf(why, "answered something that is not JSON: %s", perr);
		free(perr);
		return NULL;
	}
	if (p == HOOK_QUERY || row == HOOK_SNAPSHOT) {
		if (v->type == JSON_OBJECT)
			return v;
		*why = xstrdup(p == HOOK_QUERY ?
			"answered no object (a query is an object)" :
			"answered no object (the snapshot is an object)");
	} else {
		for (i = 0; v->type == JSON_ARRAY && i < v->u.arr.len; i++)
			if (v->u.arr.items[i]->type != JSON_OBJECT)
				break;
		if (v->type == JSON_ARRAY && i == v->u.arr.len)
			return v;
		*why = xstrdup("answered no array of items (objects)");
	}
	json_free(v);
	return NULL;
}

int hook_run(const struct sync_ctx *ctx, int row, enum hook_point p,
    struct json **data, char **errstr)
{
	const struct sync_opts *o = ctx->opts;
	const struct sync_hook *h;
	struct child ch;
	char *own[2] = { NULL, NULL }, **env, *in, *why = NULL, rowbuf[16];
	const char *argv[8];
	size_t inlen;
	int tr = 0, rc = SYNC_EFAIL;
	double t0 = now();

	if (!hook_set(o, row, p))
		return 0;
	h = &o->hooks[row][p];
	memset(&ch, 0, sizeof(ch));
	ch.in = ch.out = ch.err = -1;
	ch.max = o->max_body ? o->max_body : (size_t)256 << 20;
	snprintf(rowbuf, sizeof(rowbuf), "%s", sync_hook_row_name(row));
	if (h->js_file) {
		argv[0] = hook_node();
		argv[1] = hook_bridge();
		argv[2] = "call";
		argv[3] = h->js_file;
		argv[4] = sync_hook_row_name(row);
		argv[5] = sync_hook_point_name(p);
		argv[6] = NULL;
		in = bridge_input(o, *data, &inlen);
	} else {
		argv[0] = "/bin/sh";
		argv[1] = "-c";
		argv[2] = h->cmd;
		argv[3] = NULL;
		in = json_write(*data, false, &inlen);
	}
	env = hook_env(sync_hook_point_name(p), sync_hook_row_name(row), own);
	if (spawn(&ch, (char *const *)argv, env, &why) == 0) {
		tr = exchange(&ch, in, inlen, t0 + o->hook_timeout,
		    ctx->cancel);
		why = ended(&ch, tr, o->hook_timeout);
	}
	explicit_bzero(in, inlen);
	free(in);
	if (why == NULL) {
		struct json *v = answer(&ch.o, row, p, &why);

		if (v) {
			json_free(*data);
			*data = v;
			rc = 0;
		}
	}
	if (rc < 0 && ctx->cancel && atomic_load(ctx->cancel))
		rc = SYNC_ECANCELED;
	if (rc < 0)
		xasprintf(errstr, "hook %s.%s%s%s%s: %s; nothing was written",
		    rowbuf, sync_hook_point_name(p), h->js_file ? " (" : "",
		    h->js_file ? h->js_file : "", h->js_file ? ")" : "", why);
	else
		sync_logf(ctx, SYNC_DEBUG, "hook %s.%s: %.2f s", rowbuf,
		    sync_hook_point_name(p), now() - t0);
	free(why);
	child_clear(&ch, env, own);
	return rc;
}

struct json *hook_read_js_config(const char *path, char **errstr)
{
	const char *argv[] = { hook_node(), hook_bridge(), "options", path,
		NULL };
	char *own[2] = { NULL, NULL }, **env = hook_env("options", "", own);
	struct json *v = NULL, *cfg = NULL;
	struct child ch;
	char *why = NULL;
	int tr;

	memset(&ch, 0, sizeof(ch));
	ch.in = ch.out = ch.err = -1;
	ch.max = (size_t)64 << 20;
	if (spawn(&ch, (char *const *)argv, env, &why) == 0) {
		tr = exchange(&ch, "", 0, now() + 60.0, NULL);
		why = ended(&ch, tr, 60.0);
	}
	if (why == NULL &&
	    ((v = json_parse(ch.o.data ? ch.o.data : "", ch.o.len, NULL)) ==
		    NULL ||
		(cfg = json_take(v, "config")) == NULL ||
		cfg->type != JSON_OBJECT))
		why = xstrdup("the bridge answered no config object");
	if (why)
		xasprintf(errstr,
		    "%s: a JavaScript config is read by dsync's bridge, which "
		    "needs node (%s %s): %s; or use a JSON config",
		    path, hook_node(), hook_bridge(), why);
	if (why && cfg) {
		json_free_wipe(cfg);
		cfg = NULL;
	}
	free(why);
	json_free_wipe(v);
	if (ch.o.data)
		explicit_bzero(ch.o.data, ch.o.len);
	child_clear(&ch, env, own);
	return cfg;
}
