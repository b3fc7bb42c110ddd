/*
 * dsyncctl: the control client. argv → the one command table (proto_cmds) →
 * one request line on the daemon's socket → one reply line → printed for
 * people by the command's printer (ctl.h; the one-line ones are here) or
 * as JSON with --json → an exit status scripts can test.
 */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "ctl.h"
#include "proto.h"
#include "xmalloc.h"

#define CTL_SOCKET "/run/dsyncd/control.sock"
#define CTL_RUNDIR "/run/dsyncd"
#define CTL_TIMEOUT 30.0 /* seconds, for commands that do not wait */
#define CTL_HISTORY 20	 /* history -n default */

/* --- the one-line commands --- */

static int print_pause(struct ctl *c, const struct json *r)
{
	const struct json *p = json_get_obj(r, "paused");
	struct buf b;

	buf_init(&b);
	if (p == NULL)
		buf_adds(&b, "not paused: writes go on");
	else {
		buf_adds(&b, "paused since ");
		ctl_add_time(&b, json_get_str(p, "since"), true);
		if (json_get_str(p, "reason") && *json_get_str(p, "reason")) {
			buf_adds(&b, ": ");
			text_add_safe(&b, json_get_str(p, "reason"));
		}
		buf_adds(&b, "; polls go on");
	}
	puts(b.data);
	buf_clear(&b);
	return EXIT_OK;
}

static int print_reload(struct ctl *c, const struct json *r)
{
	fputs("reloaded ", stdout);
	text_put_safe(stdout,
	    json_get_str(r, "config") ? json_get_str(r, "config") :
					"the configuration");
	putchar('\n');
	return EXIT_OK;
}

static int print_version(struct ctl *c, const struct json *r)
{
	double d = 0;

	fputs("dsyncd ", stdout);
	text_put_safe(stdout,
	    json_get_str(r, "version") ? json_get_str(r, "version") : "?");
	if (json_get_num(r, "protocol", &d))
		printf(", protocol %.0f", d);
	printf(" (dsyncctl %s, protocol %d)\n", DSYNC_VERSION, PROTO_VERSION);
	return EXIT_OK;
}

/* A command this dsyncctl has no printer for (a newer table). */
static int print_other(struct ctl *c, const struct json *r)
{
	char *s = json_write(r, true, NULL);

	puts(s);
	free(s);
	return EXIT_OK;
}

/* --- the command table --- */

static int exit_zero(const struct json *r)
{
	return EXIT_OK;
}

/* How dsyncctl prints each command of proto_cmds, by the same index. */
static const struct ctl_cmd {
	int (*print)(struct ctl *, const struct json *);
	int (*exit_of)(const struct json *);
} ctl_cmds[PROTO_NCMDS] = {
	[PROTO_CMD_STATUS] = { ctl_status_print, ctl_status_exit },
	[PROTO_CMD_DIFF] = { ctl_diff_print, ctl_diff_exit },
	[PROTO_CMD_HISTORY] = { ctl_history_print, exit_zero },
	[PROTO_CMD_VERSION] = { print_version, exit_zero },
	[PROTO_CMD_PUSH] = { ctl_history_job, ctl_history_job_exit },
	[PROTO_CMD_PULL] = { ctl_history_job, ctl_history_job_exit },
	[PROTO_CMD_SYNC] = { ctl_history_job, ctl_history_job_exit },
	[PROTO_CMD_PAUSE] = { print_pause, exit_zero },
	[PROTO_CMD_RESUME] = { print_pause, exit_zero },
	[PROTO_CMD_RELOAD] = { print_reload, exit_zero },
	[PROTO_CMD_RESOLVE] = { ctl_history_job, ctl_history_job_exit },
	[PROTO_CMD_ADOPT] = { ctl_history_job, ctl_history_job_exit },
};

/* The printer of c's command; a command with none (a table that grew
 * without a printer) prints its result as JSON. */
static const struct ctl_cmd *ctl_find(const struct ctl *c)
{
	static const struct ctl_cmd other = { print_other, exit_zero };
	const struct ctl_cmd *p = &ctl_cmds[c->pc - proto_cmds];

	return p->print ? p : &other;
}

static bool takes(const struct ctl *c, unsigned what)
{
	return c->pc && (c->pc->takes & what);
}

/* --- the socket --- */

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Connected to the daemon, or -1 with the message printed. The send
 * timeout bounds connect() too on a Unix socket (a full backlog). */
static int ctl_connect(const struct ctl *c)
{
	struct sockaddr_un sa;
	int fd, e;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(c->socket) >= sizeof(sa.sun_path)) {
		fprintf(stderr,
		    "dsyncctl: %s: socket path too long (at most %zu bytes)\n",
		    c->socket, sizeof(sa.sun_path) - 1);
		return -1;
	}
	strcpy(sa.sun_path, c->socket);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		fprintf(stderr, "dsyncctl: socket: %s\n", strerror(errno));
		return -1;
	}
	if (c->timeout > 0) {
		struct timeval tv;

		tv.tv_sec = (time_t)c->timeout;
		tv.tv_usec = (suseconds_t)((c->timeout - (double)tv.tv_sec) *
		    1e6);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	e = errno;
	if (e == ENOENT || e == ECONNREFUSED)
		fprintf(stderr, "dsyncctl: no daemon answers on %s: %s\n",
		    c->socket, strerror(e));
	else if (e == EAGAIN || e == EWOULDBLOCK || e == EINPROGRESS)
		fprintf(stderr,
		    "dsyncctl: %s: the daemon does not accept the "
		    "connection (waited %g s)\n",
		    c->socket, c->timeout);
	else if (e == EACCES || e == EPERM)
		fprintf(stderr,
		    "dsyncctl: cannot connect to %s: %s (root and "
		    "the members of the socket's group may)\n",
		    c->socket, strerror(e));
	else
		fprintf(stderr, "dsyncctl: cannot connect to %s: %s\n",
		    c->socket, strerror(e));
	close(fd);
	return -1;
}

static int send_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read up to the first newline into b, within the deadline (0: none).
 * Returns 0, or -1 with *errstr. */
static int read_line(const struct ctl *c, int fd, struct buf *b, char **errstr)
{
	double deadline = c->timeout > 0 ? now_mono() + c->timeout : 0;
	char chunk[16384], *nl;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int ms, rc;

	for (;;) {
		ms = -1;
		if (deadline) {
			double left = deadline - now_mono();

			if (left <= 0)
				goto timeout;
			ms = left > 3600 ? 3600 * 1000 : (int)(left * 1000) + 1;
		}
		if ((rc = poll(&pfd, 1, ms)) < 0 && errno != EINTR) {
			xasprintf(errstr, "poll: %s", strerror(errno));
			return -1;
		}
		if (rc <= 0)
			continue;
		if ((n = read(fd, chunk, sizeof(chunk))) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			xasprintf(errstr, "reading the reply: %s",
			    strerror(errno));
			return -1;
		}
		if (n == 0) {
			xasprintf(errstr, "the daemon closed the connection %s",
			    b->len ? "in the middle of its reply" :
				     "without a reply");
			return -1;
		}
		if ((nl = memchr(chunk, '\n', (size_t)n)) != NULL)
			n = nl - chunk + 1;
		buf_add(b, chunk, (size_t)n);
		if (b->len > PROTO_MAX_REPLY) {
			xasprintf(errstr, "the reply is over %d bytes",
			    PROTO_MAX_REPLY);
			return -1;
		}
		if (nl)
			return 0;
	}
timeout:
	xasprintf(errstr, "no reply from %s within %g s (--timeout)", c->socket,
	    c->timeout);
	return -1;
}

/* The request's args from the command line. */
static struct json *request_args(const struct ctl *c)
{
	struct json *a = json_new_object();

	if (takes(c, PROTO_TAKES_COUNT))
		json_set(a, "n", json_new_number((double)c->history_n));
	if (takes(c, PROTO_TAKES_REASON) && c->reason)
		json_set(a, "reason", json_new_string(c->reason));
	if (c->keep)
		json_set(a, "keep", json_new_string(c->keep));
	if (c->all)
		json_set(a, "all", json_new_bool(true));
	if (c->collection)
		json_set(a, "collection", json_new_string(c->collection));
	if (c->sync_id)
		json_set(a, "_syncId", json_new_string(c->sync_id));
	return a;
}

/* An error reply on stderr: "dsyncctl: push: the message (the code)". */
static void print_refusal(const struct ctl *c, const struct json *error)
{
	struct buf m;

	buf_init(&m);
	text_add_safe(&m,
	    json_get_str(error, "message") ? json_get_str(error, "message") :
					     "refused");
	buf_adds(&m, " (");
	text_add_safe(&m, json_get_str(error, "code"));
	buf_addc(&m, ')');
	fprintf(stderr, "dsyncctl: %s: %s\n", c->cmd, m.data);
	buf_clear(&m);
}

/* Send the request, read the reply: 0 with *result, or an exit status
 * with the message printed. */
static int exchange(struct ctl *c, struct json **result)
{
	const long id = 1;
	struct buf b;
	char *line, *err = NULL;
	size_t len;
	long rid;
	bool ok;
	int fd, rc = EXIT_ERR;

	if ((fd = ctl_connect(c)) < 0)
		return EXIT_ERR;
	buf_init(&b);
	line = proto_request_line(id, c->cmd, request_args(c), &len);
	if (send_all(fd, line, len) < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			xasprintf(&err,
			    "sending the request: no room within %g s",
			    c->timeout);
		else
			xasprintf(&err, "sending the request: %s",
			    strerror(errno));
		goto fail;
	}
	if (read_line(c, fd, &b, &err) < 0)
		goto fail;
	if (proto_parse_reply(b.data, b.len, &rid, &ok, result, &err) < 0) {
		char *e = err;

		xasprintf(&err, "the daemon's reply is not valid: %s", e);
		free(e);
		goto fail;
	}
	if (rid != id && rid != 0) {
		xasprintf(&err, "a reply to request %ld, not %ld", rid, id);
		json_free(*result);
		*result = NULL;
		goto fail;
	}
	if (!ok) {
		print_refusal(c, *result);
		json_free(*result);
		*result = NULL;
		goto done;
	}
	rc = EXIT_OK;
	goto done;
fail:
	fprintf(stderr, "dsyncctl: %s: %s\n", c->cmd, err);
done:
	free(err);
	free(line);
	buf_clear(&b);
	close(fd);
	return rc;
}

/* --- argv --- */

static void usage(FILE *f)
{
	size_t i, pass;

	fprintf(f,
	    "Usage: dsyncctl [-s SOCKET | -i NAME] [--json] "
	    "[--timeout SECONDS] COMMAND [ARGS]\n"
	    "       dsyncctl --help | --version\n\n"
	    "Ask the running dsyncd how things stand, or tell it what to "
	    "do.\n");
	for (pass = 0; pass < 2; pass++) {
		fputs(pass == 0 ?
			"\nCommands that read:\n" :
			"\nCommands that change something (root or dsyncd's user "
			"only):\n",
		    f);
		for (i = 0; i < PROTO_NCMDS; i++) {
			const struct proto_cmd *p = &proto_cmds[i];
			char name[96];

			if (p->access != (pass ? PROTO_WRITE : PROTO_READ))
				continue;
			snprintf(name, sizeof(name), "%s%s%s", p->name,
			    *p->args ? " " : "", p->args);
			if (strlen(name) < 16)
				fprintf(f, "  %-16s%s\n", name, p->help);
			else
				fprintf(f, "  %s\n  %-16s%s\n", name, "",
				    p->help);
		}
	}
	fprintf(f,
	    "\nOptions:\n"
	    "  -s, --socket SOCKET    the daemon's socket (default " CTL_SOCKET
	    ")\n  -i, --instance NAME    dsyncd@NAME's socket: " CTL_RUNDIR
	    "/NAME/control.sock\n"
	    "      --json             print the daemon's result as JSON\n"
	    "      --timeout SECONDS  wait at most this long for the reply "
	    "(default %g;\n"
	    "                         0: no limit, the default of push, pull "
	    "and sync)\n"
	    "  -n N                   history: the last N jobs (default %d)\n"
	    "  -p, --pretty-diff      diff: the values that differ too\n"
	    "      --keep SIDE        resolve, adopt: the side that wins, dump "
	    "or instance\n      --all              resolve: every conflict\n"
	    "  -h, --help             this help\n"
	    "  -V, --version          dsyncctl's version\n\n"
	    "Exit status: 0 ok. status: 0 in sync, 2 differences wait or conflict, 1 "
	    "degraded, error\n"
	    "or no daemon. diff: 0 none, 2 some, 1 error. push, pull, sync: "
	    "0 when the\njob's result is ok, else 1. See dsyncctl(8).\n",
	    CTL_TIMEOUT, CTL_HISTORY);
}

static int bad_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* A usage error: the message, a pointer to --help, -1. */
static int bad_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("dsyncctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'dsyncctl --help'.\n", stderr);
	return -1;
}

static int parse_timeout(struct ctl *c, const char *s)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || end == s || *end || !(d >= 0) || d > 86400 * 365)
		return bad_usage("--timeout: '%s' is not a number of seconds",
		    s);
	c->timeout = d;
	c->timeout_set = true;
	return 0;
}

static int parse_count(struct ctl *c, const char *s)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || end == s || *end || n < 1 || n > 1000000)
		return bad_usage("-n: '%s' is not a number of jobs", s);
	c->history_n = n;
	return 0;
}

static const struct option long_opts[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "instance", required_argument, NULL, 'i' },
	{ "json", no_argument, NULL, 'j' },
	{ "timeout", required_argument, NULL, 't' },
	{ "pretty-diff", no_argument, NULL, 'p' },
	{ "keep", required_argument, NULL, 'k' },
	{ "all", no_argument, NULL, 'a' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* One run of getopt over argv (argv[0] is the program or the command).
 * Returns 0 (*next: the first argument left), 1 when done (help,
 * version), -1 on a usage error. */
static int parse_opts(struct ctl *c, int argc, char **argv, int *next,
    const char **sock, const char **inst)
{
	int ch;

	optind = 0; /* a full restart of glibc's getopt */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+s:i:n:phV", long_opts, NULL)) !=
	    -1) {
		switch (ch) {
		case 's':
			*sock = optarg;
			break;
		case 'i':
			*inst = optarg;
			break;
		case 'j':
			c->json = true;
			break;
		case 't':
			if (parse_timeout(c, optarg) < 0)
				return -1;
			break;
		case 'n':
			if (!takes(c, PROTO_TAKES_COUNT))
				return bad_usage("-n is an option of %s",
				    proto_takers(PROTO_TAKES_COUNT));
			if (parse_count(c, optarg) < 0)
				return -1;
			break;
		case 'k':
			if (!takes(c, PROTO_TAKES_KEEP))
				return bad_usage("--keep is an option of %s",
				    proto_takers(PROTO_TAKES_KEEP));
			if (strcmp(optarg, "dump") != 0 &&
			    strcmp(optarg, "instance") != 0)
				return bad_usage(
				    "--keep: '%s': dump or instance", optarg);
			c->keep = optarg;
			break;
		case 'a':
			if (!takes(c, PROTO_TAKES_ALL))
				return bad_usage("--all is an option of %s",
				    proto_takers(PROTO_TAKES_ALL));
			c->all = true;
			break;
		case 'p':
			if (!takes(c, PROTO_TAKES_PRETTY))
				return bad_usage("-p is an option of %s",
				    proto_takers(PROTO_TAKES_PRETTY));
			c->pretty_diff = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("dsyncctl %s (protocol %d)\n", DSYNC_VERSION,
			    PROTO_VERSION);
			return 1;
		default:
			if (optopt && strchr("sintk", optopt))
				return bad_usage("%s needs a value",
				    argv[optind - 1]);
			return bad_usage("unknown option '%s'",
			    argv[optind - 1]);
		}
	}
	*next = optind;
	return 0;
}

/* resolve COLLECTION SYNCID|--all --keep SIDE, adopt --keep SIDE: the
 * options may come after the names. */
static int decision_args(struct ctl *c, int argc, char **argv, int at)
{
	const char *pos[2];
	size_t npos = 0;
	int i;

	for (i = at; i < argc; i++) {
		const char *a = argv[i], *v = NULL;

		if (strcmp(a, "--all") == 0 && takes(c, PROTO_TAKES_ALL)) {
			c->all = true;
			continue;
		}
		if (strcmp(a, "--json") == 0) {
			c->json = true;
			continue;
		}
		if (strcmp(a, "--keep") == 0) {
			if (++i == argc)
				return bad_usage("--keep needs a value");
			v = argv[i];
		} else if (strncmp(a, "--keep=", 7) == 0)
			v = a + 7;
		if (v) {
			if (strcmp(v, "dump") != 0 &&
			    strcmp(v, "instance") != 0)
				return bad_usage("--keep: '%s': dump or "
						 "instance",
				    v);
			c->keep = v;
			continue;
		}
		if (a[0] == '-' && a[1])
			return bad_usage("%s: unknown option '%s'", c->cmd, a);
		if (npos == 2 || !takes(c, PROTO_TAKES_ITEM))
			return bad_usage("%s takes no argument '%s'", c->cmd,
			    a);
		pos[npos++] = a;
	}
	if (takes(c, PROTO_TAKES_ITEM)) {
		if (c->all ? npos != 0 : npos != 2)
			return bad_usage("%s: COLLECTION SYNCID, or --all",
			    c->cmd);
		if (npos == 2) {
			c->collection = pos[0];
			c->sync_id = pos[1];
		}
	}
	return 0;
}

/* Options before the command, and the command's own after it (the
 * global ones are taken there too: dsyncctl status --json). Returns 0,
 * 1 when done (help, version), -1 on a usage error. */
static int parse_argv(struct ctl *c, int argc, char **argv, char **sockbuf)
{
	const char *inst = NULL, *sock = NULL;
	struct buf r;
	int rc, at, rest, i;

	if ((rc = parse_opts(c, argc, argv, &at, &sock, &inst)) != 0)
		return rc;
	if (at >= argc)
		return bad_usage("no command given");
	c->cmd = argv[at];
	if ((c->pc = proto_find(c->cmd)) == NULL)
		return bad_usage("unknown command '%s'", c->cmd);
	if ((rc = parse_opts(c, argc - at, argv + at, &rest, &sock, &inst)) !=
	    0)
		return rc;
	rest += at;
	if (takes(c, PROTO_TAKES_REASON) && rest < argc) {
		buf_init(&r);
		for (i = rest; i < argc; i++) {
			if (i > rest)
				buf_addc(&r, ' ');
			buf_adds(&r, argv[i]);
		}
		c->reason = buf_steal(&r, NULL);
	} else if (takes(c, PROTO_TAKES_KEEP)) {
		if (decision_args(c, argc, argv, rest) < 0)
			return -1;
	} else if (rest < argc)
		return bad_usage("%s takes no argument '%s'", c->cmd,
		    argv[rest]);
	if (takes(c, PROTO_TAKES_KEEP) && c->keep == NULL)
		return bad_usage("%s needs --keep dump|instance", c->cmd);
	if (sock && inst)
		return bad_usage("-s and -i: one or the other");
	if (inst) {
		if (!*inst || strchr(inst, '/') || strcmp(inst, ".") == 0 ||
		    strcmp(inst, "..") == 0)
			return bad_usage("-i: '%s' is not an instance name",
			    inst);
		xasprintf(sockbuf, CTL_RUNDIR "/%s/control.sock", inst);
		sock = *sockbuf;
	}
	c->socket = sock ? sock : CTL_SOCKET;
	if (!c->timeout_set)
		c->timeout = takes(c, PROTO_WAITS) ? 0 : CTL_TIMEOUT;
	return 0;
}

static void ctl_terminal(struct ctl *c)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
	struct winsize ws;

	c->tty = isatty(STDOUT_FILENO) == 1;
	c->colour = c->tty && (nc == NULL || *nc == '\0') &&
	    !(term && strcmp(term, "dumb") == 0);
	c->cols = 80;
	if (c->tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col >= 40)
		c->cols = ws.ws_col;
	c->now = time(NULL);
}

int main(int argc, char **argv)
{
	struct ctl c = { .history_n = CTL_HISTORY };
	struct json *result = NULL;
	char *sockbuf = NULL;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if ((rc = parse_argv(&c, argc, argv, &sockbuf)) != 0) {
		rc = rc > 0 ? EXIT_OK : EXIT_ERR;
		goto done;
	}
	ctl_terminal(&c);
	if ((rc = exchange(&c, &result)) != EXIT_OK)
		goto done;
	if (c.json) {
		char *s = json_write(result, true, NULL);

		puts(s);
		free(s);
		rc = ctl_find(&c)->exit_of(result);
	} else
		rc = ctl_find(&c)->print(&c, result);
	/* a reader that went away (dsyncctl diff | head) is not an error */
	if ((fflush(stdout) != 0 || ferror(stdout)) && errno != EPIPE) {
		fprintf(stderr, "dsyncctl: writing to standard output: %s\n",
		    strerror(errno));
		rc = EXIT_ERR;
	}
done:
	json_free(result);
	free(sockbuf);
	free(c.reason);
	return rc;
}
