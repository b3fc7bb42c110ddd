/*
 * control: the control socket. Newline-delimited JSON requests (see
 * common/proto.h), checked in a strict order: length, JSON, version,
 * command, then the peer's uid (SO_PEERCRED) for commands that change
 * anything. Commands that run a job (diff, push, pull, sync) answer when
 * the job is done; the connection may close meanwhile. Junk, an
 * oversized line or a half-closed connection never stops the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "log.h"
#include "proto.h"
#include "service.h"
#include "xmalloc.h"

struct control {
	struct daemon *d;
	struct evconnlistener *listener;
	char *path;
};

struct control_client {
	struct control *c;
	struct bufferevent *bev;
	uid_t uid;
	pid_t pid;
	int refs;
	bool waiting; /* a reply is owed */
	long wait_id;
	bool closing; /* close once the output is written */
};

static void read_cb(struct bufferevent *bev, void *arg);

static void client_free(struct control_client *cl)
{
	if (cl->bev)
		bufferevent_free(cl->bev);
	cl->bev = NULL;
	if (--cl->refs == 0)
		free(cl);
}

void control_client_put(struct control_client *cl)
{
	if (cl && --cl->refs == 0)
		free(cl);
}

static void send_line(struct control_client *cl, char *line, size_t len)
{
	if (cl->bev)
		bufferevent_write(cl->bev, line, len);
	free(line);
}

static void reply_error(struct control_client *cl, long id, const char *code,
    const char *msg)
{
	size_t len;
	char *line = proto_reply_error(id, code, msg, &len);

	send_line(cl, line, len);
}

void control_reply(struct control_client *cl, struct json *result,
    const char *code, const char *message)
{
	size_t len;

	if (cl->bev && cl->waiting) {
		if (result) {
			char *line = proto_reply_ok(cl->wait_id, result, &len);

			send_line(cl, line, len);
		} else
			reply_error(cl, cl->wait_id, code, message);
		cl->waiting = false;
		if (cl->closing) {
			/* Flushed by the write callback, then freed. */
			bufferevent_enable(cl->bev, EV_WRITE);
		} else {
			bufferevent_enable(cl->bev, EV_READ);
			/* Lines that came while it waited. */
			if (evbuffer_get_length(bufferevent_get_input(cl->bev)))
				read_cb(cl->bev, cl);
		}
	} else
		json_free(result);
	control_client_put(cl);
}

/* --- the commands --- */

enum { DONE, DEFERRED, FAILED };

typedef int (*handler_fn)(struct daemon *d, struct control_client *cl,
    const struct json *args, struct json **result, char **msg);

static int cmd_status(struct daemon *d, struct control_client *cl,
    const struct json *args, struct json **result, char **msg)
{
	*result = daemon_status_json(d);
	return DONE;
}

static int cmd_version(struct daemon *d, struct control_client *cl,
    const struct json *args, struct json **result, char **msg)
{
	*result = json_new_object();
	json_set(*result, "version", json_new_string(DSYNC_VERSION));
	json_set(*result, "protocol", json_new_number(PROTO_VERSION));
	return DONE;
}

static int cmd_history(struct daemon *d, struct control_client *cl,
    const struct json *args, struct json **result, char **msg)
{
	const struct json *n = json_get(args, "n");
	size_t want = 20;

	if (n &&
	    (n->type != JSON_NUMBER || n->u.num < 1 ||
		n->u.num > HISTORY_KEEP)) {
		xasprintf(msg, "n must be a number from 1 to %d", HISTORY_KEEP);
		return FAILED;
	}
	if (n)
		want = (size_t)n->u.num;
	*result = json_new_object();
	json_set(*result, "jobs",
	    state_history_load(d->conf->conf.state_dir, want));
	json_set(*result, "notices",
	    notices_webhooks(d) ? webhooks_json(notices_webhooks(d)) :
				  json_new_null());
	return DONE;
}

static int run_job_cmd(struct daemon *d, struct control_client *cl,
    enum job_kind kind, char **msg)
{
	if (d->stopping) {
		*msg = xstrdup("the daemon is stopping");
		return FAILED;
	}
	if (d->paused && (kind == JOB_PUSH || kind == JOB_PULL)) {
		xasprintf(msg,
		    "paused%s%s: nothing is written until 'dsyncctl resume'",
		    d->pause_reason && *d->pause_reason ? " — " : "",
		    d->pause_reason ? d->pause_reason : "");
		return FAILED;
	}
	cl->refs++;
	daemon_trigger(d, kind, TRIG_CONTROL, ~0u, true, cl);
	return DEFERRED;
}

static int cmd_diff(struct daemon *d, struct control_client *cl,
    const struct json *args, struct json **result, char **msg)
{
	return run_job_cmd(d, cl, JOB_DIFF, msg);
}

static int cmd_push(struct daemon *d, struct control_client *cl,
    const struct json *args, struct json **result, char **msg)
{
	return run_job_cmd(d, cl, JOB_PUSH, msg);
}

static int cmd_pull(struct daemon *d, struct control_client *cl,
    const struct json *args, struct json **result, char **msg)
{
	return run_job_cmd(d, cl, JOB_PULL, msg);
}

static int cmd_sync(struct daemon *d, struct control_client *cl,
    const struct json *args, struct json **result, char **msg)
{
	return run_job_cmd(d, cl, JOB_SYNC, msg);
}

/* --keep: KEEP_DUMP, KEEP_INSTANCE, or 0 with *msg. */
static int keep_arg(const struct json *args, char **msg)
{
	const char *k = json_str(json_get(args, "keep"));

	if (k && strcmp(k, "dump") == 0)
		return KEEP_DUMP;
	if (k && strcmp(k, "instance") == 0)
		return KEEP_INSTANCE;
	*msg = xstrdup("keep must be \"dump\" or \"instance\"");
	return 0;
}

static int writes_refused(struct daemon *d, char **msg)
{
	if (d->stopping) {
		*msg = xstrdup("the daemon is stopping");
		return 1;
	}
	if (d->paused) {
		xasprintf(msg,
		    "paused%s%s: nothing is written until 'dsyncctl resume'",
		    d->pause_reason && *d->pause_reason ? " — " : "",
		    d->pause_reason ? d->pause_reason : "");
		return 1;
	}
	return 0;
}

/* Whether the last comparison knows a difference of this item. */
static bool known(const struct daemon *d, const char *coll, const char *key)
{
	size_t i;

	for (i = 0; d->three && i < d->three->u.arr.len; i++) {
		const struct json *e = d->three->u.arr.items[i];
		const char *c = json_str(json_get(e, "collection"));
		const char *k = c ? json_str(json_get(e, "_syncId")) :
				    json_str(json_get(e, "unit"));

		if (k && strcmp(k, key) == 0 &&
		    ((c == NULL && strcmp(coll, "schema") == 0) ||
			(c && strcmp(c, coll) == 0)))
			return true;
	}
	return false;
}

/* resolve {"collection", "_syncId", "keep"} or {"all": true, "keep"};
 * the collection "schema" with a unit path for a schema unit. */
static int cmd_resolve(struct daemon *d, struct control_client *cl,
    const struct json *args, struct json **result, char **msg)
{
	const char *coll = json_str(json_get(args, "collection"));
	const char *sid = json_str(json_get(args, "_syncId"));
	const struct json *all = json_get(args, "all");
	struct strmap *keep = NULL;
	int k;

	if ((k = keep_arg(args, msg)) == 0 || writes_refused(d, msg))
		return FAILED;
	if (all && all->type == JSON_TRUE) {
		if (sides_count(d, "conflict") == 0) {
			*msg = xstrdup("no conflict is known (dsyncctl diff "
				       "compares again)");
			return FAILED;
		}
	} else {
		if (coll == NULL || sid == NULL || *sid == '\0') {
			*msg = xstrdup("resolve needs a collection and a "
				       "SyncID (or all)");
			return FAILED;
		}
		if (strcmp(coll, "schema") != 0 && coll_find(coll) == NULL) {
			xasprintf(msg, "unknown collection '%s'", coll);
			return FAILED;
		}
		if (!known(d, coll, sid)) {
			xasprintf(msg,
			    "%s %s: no difference is known for it "
			    "(dsyncctl diff compares again)",
			    coll, sid);
			return FAILED;
		}
		keep = strmap_new();
		if (strcmp(coll, "schema") == 0)
			strmap_put(keep, sid, (void *)(long)k);
		else {
			char *key = plan_skip_key(coll, sid);

			strmap_put(keep, key, (void *)(long)k);
			free(key);
		}
	}
	cl->refs++;
	daemon_resolve(d, keep, keep ? 0 : k, false, cl);
	return DEFERRED;
}

/* adopt {"keep"}: the base from the current state, the kept side wins. */
static int cmd_adopt(struct daemon *d, struct control_client *cl,
    const struct json *args, struct json **result, char **msg)
{
	int k;

	if ((k = keep_arg(args, msg)) == 0 || writes_refused(d, msg))
		return FAILED;
	cl->refs++;
	daemon_resolve(d, NULL, k, true, cl);
	return DEFERRED;
}

static struct json *pause_json(const struct daemon *d)
{
	struct json *o = json_new_object(), *p;

	if (!d->paused) {
		json_set(o, "paused", json_new_null());
		return o;
	}
	p = json_new_object();
	json_set(p, "since", json_new_string(times_iso(d->pause_since)));
	json_set(p, "reason",
	    json_new_string(d->pause_reason ? d->pause_reason : ""));
	json_set(o, "paused", p);
	return o;
}

static int cmd_pause(struct daemon *d, struct control_client *cl,
    const struct json *args, struct json **result, char **msg)
{
	const struct json *r = json_get(args, "reason");

	if (r && r->type != JSON_STRING) {
		*msg = xstrdup("reason must be a string");
		return FAILED;
	}
	if (daemon_pause(d, r ? r->u.str.ptr : "", msg) < 0)
		return FAILED;
	*result = pause_json(d);
	return DONE;
}

static int cmd_resume(struct daemon *d, struct control_client *cl,
    const struct json *args, struct json **result, char **msg)
{
	if (daemon_resume(d, msg) < 0)
		return FAILED;
	*result = pause_json(d);
	return DONE;
}

static int cmd_reload(struct daemon *d, struct control_client *cl,
    const struct json *args, struct json **result, char **msg)
{
	if (daemon_reload(d, msg) < 0)
		return FAILED;
	*result = json_new_object();
	json_set(*result, "config", json_new_string(d->conf_path));
	return DONE;
}

/* The handler of each command of proto_cmds, by the same index. */
static const handler_fn handlers[PROTO_NCMDS] = {
	[PROTO_CMD_STATUS] = cmd_status,
	[PROTO_CMD_DIFF] = cmd_diff,
	[PROTO_CMD_HISTORY] = cmd_history,
	[PROTO_CMD_VERSION] = cmd_version,
	[PROTO_CMD_PUSH] = cmd_push,
	[PROTO_CMD_PULL] = cmd_pull,
	[PROTO_CMD_SYNC] = cmd_sync,
	[PROTO_CMD_PAUSE] = cmd_pause,
	[PROTO_CMD_RESUME] = cmd_resume,
	[PROTO_CMD_RELOAD] = cmd_reload,
	[PROTO_CMD_RESOLVE] = cmd_resolve,
	[PROTO_CMD_ADOPT] = cmd_adopt,
};

bool control_handles(const struct proto_cmd *cmd)
{
	return cmd && cmd >= proto_cmds && cmd < proto_cmds + PROTO_NCMDS &&
	    handlers[cmd - proto_cmds] != NULL;
}

/* One request line. Returns whether to read on (false: a reply is
 * owed by a job, or the connection must close). */
static bool handle_line(struct control_client *cl, const char *line, size_t len)
{
	struct daemon *d = cl->c->d;
	struct proto_request req;
	const struct proto_cmd *cmd;
	const char *code;
	char *err = NULL;
	struct json *result = NULL;
	handler_fn fn;
	long id = 0;
	int rc;
	size_t rlen;

	if (proto_parse_request(line, len, &req, &id, &code, &err) < 0) {
		reply_error(cl, id, code, err);
		free(err);
		return true;
	}
	cmd = proto_find(req.cmd);
	fn = control_handles(cmd) ? handlers[cmd - proto_cmds] : NULL;
	if (fn == NULL) {
		xasprintf(&err, "unknown command '%.64s' (see dsyncctl --help)",
		    req.cmd);
		reply_error(cl, req.id, PROTO_E_UNKNOWN, err);
	} else if (cmd->access == PROTO_WRITE && cl->uid != 0 &&
	    cl->uid != geteuid()) {
		xasprintf(&err,
		    "'%s' changes the daemon's state: only root or "
		    "uid %ld may run it (you are uid %ld)",
		    req.cmd, (long)geteuid(), (long)cl->uid);
		reply_error(cl, req.id, PROTO_E_DENIED, err);
		log_info("control: %s from uid %ld (pid %ld) refused", req.cmd,
		    (long)cl->uid, (long)cl->pid);
	} else {
		if (cmd->access == PROTO_WRITE)
			log_info("control: %s from uid %ld (pid %ld)", req.cmd,
			    (long)cl->uid, (long)cl->pid);
		cl->wait_id = req.id;
		rc = fn(d, cl, req.args, &result, &err);
		if (rc == DONE) {
			char *out = proto_reply_ok(req.id, result, &rlen);

			send_line(cl, out, rlen);
		} else if (rc == FAILED)
			reply_error(cl, req.id, PROTO_E_FAILED, err);
		else {
			cl->waiting = true;
			free(err);
			proto_request_clear(&req);
			return false;
		}
	}
	free(err);
	proto_request_clear(&req);
	return true;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct control_client *cl = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (!cl->waiting && !cl->closing) {
		struct evbuffer_ptr eol;
		size_t eol_len = 0, len;
		char *line;

		eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
		if (eol.pos < 0) {
			if (evbuffer_get_length(in) >= PROTO_MAX_LINE) {
				reply_error(cl, 0, PROTO_E_TOO_LONG,
				    "request line too long");
				cl->closing = true;
				bufferevent_disable(bev, EV_READ);
			}
			return;
		}
		len = (size_t)eol.pos;
		if (len + 1 > PROTO_MAX_LINE) {
			evbuffer_drain(in, len + 1);
			reply_error(cl, 0, PROTO_E_TOO_LONG,
			    "request line too long");
			cl->closing = true;
			bufferevent_disable(bev, EV_READ);
			return;
		}
		line = xmalloc(len + 1);
		evbuffer_remove(in, line, len);
		evbuffer_drain(in, 1);
		line[len] = '\0';
		if (!handle_line(cl, line, len))
			bufferevent_disable(bev, EV_READ);
		free(line);
	}
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct control_client *cl = arg;

	if (cl->closing && !cl->waiting &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		client_free(cl);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct control_client *cl = arg;

	if (what & BEV_EVENT_EOF) {
		/* Half-closed: answer what was asked, then close. */
		cl->closing = true;
		if (cl->waiting)
			return;
		if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
			return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if (cl->waiting) {
			/* The job goes on; its reply is dropped. */
			bufferevent_free(cl->bev);
			cl->bev = NULL;
			cl->refs--;
			return;
		}
		client_free(cl);
	}
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct control *c = arg;
	struct control_client *cl;
	struct ucred cred;
	socklen_t len = sizeof(cred);

	(void)l;
	(void)sa;
	(void)socklen;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		log_warn("control: SO_PEERCRED");
		close(fd);
		return;
	}
	cl = xcalloc(1, sizeof(*cl));
	cl->c = c;
	cl->uid = cred.uid;
	cl->pid = cred.pid;
	cl->refs = 1;
	cl->bev = bufferevent_socket_new(evconnlistener_get_base(l), fd,
	    BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(cl->bev, read_cb, write_cb, event_cb, cl);
	/* Reading stops at a full line's cap plus a little. */
	bufferevent_setwatermark(cl->bev, EV_READ, 0, PROTO_MAX_LINE + 4096);
	bufferevent_enable(cl->bev, EV_READ | EV_WRITE);
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	(void)l;
	(void)arg;
	log_warn("control: accept");
}

/* A socket file left by a daemon that died: nobody answers on it. */
static bool stale(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool dead;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	dead = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	    errno == ECONNREFUSED;
	close(fd);
	return dead;
}

struct control *control_open(struct event_base *base, const char *path,
    mode_t mode, gid_t gid, struct daemon *d, char **errstr)
{
	struct control *c;
	struct sockaddr_un sa;
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		xasprintf(errstr, "control socket %s: path too long", path);
		return NULL;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode) || !stale(path)) {
			xasprintf(errstr, "control socket %s: %s", path,
			    S_ISSOCK(st.st_mode) ?
				"another dsyncd answers on it" :
				"exists and is not a socket");
			return NULL;
		}
		unlink(path);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, mode) < 0 ||
	    (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0) ||
	    listen(fd, 64) < 0) {
		xasprintf(errstr, "control socket %s: %s", path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->d = d;
	c->path = xstrdup(path);
	c->listener = evconnlistener_new(base, accept_cb, c,
	    LEV_OPT_CLOSE_ON_FREE, -1, fd);
	evconnlistener_set_error_cb(c->listener, accept_error_cb);
	return c;
}

void control_close(struct control *c)
{
	if (c == NULL)
		return;
	evconnlistener_free(c->listener);
	unlink(c->path);
	free(c->path);
	free(c);
}
