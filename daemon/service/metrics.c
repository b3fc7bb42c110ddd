/*
 * metrics: the Prometheus scrape (metrics.listen), served from the loop
 * by libevent's HTTP server. GET /metrics answers the text exposition
 * format, built anew from struct daemon and the counters below at each
 * scrape; every other path is a 404. The counters are the loop's, but
 * for the requests to Directus, which the worker counts atomically.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "buf.h"
#include "log.h"
#include "options.h"
#include "service.h"
#include "xmalloc.h"

#define N_KINDS 6    /* enum job_kind */
#define N_TRIGGERS 9 /* enum job_trigger */
#define N_RESULTS 11 /* -rc of enum sync_result */
#define N_METHODS 5  /* GET, POST, PATCH, DELETE, other */
#define N_CODES 601  /* 0-599 by status; 600: no answer */
#define CODE_ERROR 600

static const double buckets[] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
	120, 300 };
#define N_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))

static const char *const methods[N_METHODS] = { "GET", "POST", "PATCH",
	"DELETE", "other" };
static const char *const states[] = { "in-sync", "pending", "drifted",
	"conflict", "syncing", "paused", "degraded", "error" };
static const char *const actions[3] = { "create", "update", "delete" };

struct metrics {
	struct evhttp *http;
	char *unix_path; /* the socket to remove at close */
	const struct daemon *d;
	time_t start_wall;
	unsigned long jobs[N_KINDS][N_TRIGGERS][N_RESULTS];
	unsigned long dur_count[N_KINDS], dur_le[N_KINDS][N_BUCKETS];
	double dur_sum[N_KINDS];
	unsigned long polls[N_RESULTS];
	time_t last_success[N_KINDS];
	unsigned long written[2][3]; /* to_instance, to_tree */
	unsigned long commits;
	unsigned long scrapes;
	atomic_ulong requests[N_METHODS][N_CODES]; /* the worker's */
};

static unsigned result_index(int rc)
{
	return rc <= 0 && rc > -N_RESULTS ? (unsigned)-rc : 1;
}

struct metrics *metrics_new(const struct daemon *d)
{
	struct metrics *m = xcalloc(1, sizeof(*m));
	size_t i, k;

	m->d = d;
	m->start_wall = time(NULL);
	for (i = 0; i < N_METHODS; i++)
		for (k = 0; k < N_CODES; k++)
			atomic_init(&m->requests[i][k], 0);
	return m;
}

/* From the worker's thread: one request to Directus. */
void metrics_request(void *arg, const char *method, long status)
{
	struct metrics *m = arg;
	size_t i;

	for (i = 0; i < N_METHODS - 1; i++)
		if (strcmp(method, methods[i]) == 0)
			break;
	atomic_fetch_add_explicit(&m->requests[i][status > 0 &&
					      status < CODE_ERROR ?
					  status :
					  CODE_ERROR],
	    1, memory_order_relaxed);
}

/* A finished job, on the loop: the jobs of the history (not a poll's
 * probe, not the read of the repository), the polls, the items written
 * and the commits. */
void metrics_job(struct metrics *m, const struct job *j)
{
	unsigned r = result_index(j->rc), k = (unsigned)j->kind;
	size_t b;

	if (m == NULL)
		return;
	if (j->kind == JOB_PROBE || j->trigger == TRIG_FULL)
		m->polls[r]++;
	if (j->rc == 0 && j->kind != JOB_GIT)
		m->last_success[k] = time(NULL);
	if (j->kind == JOB_PROBE || j->kind == JOB_GIT)
		return;
	m->jobs[k][j->trigger][r]++;
	m->dur_count[k]++;
	m->dur_sum[k] += j->duration;
	for (b = 0; b < N_BUCKETS; b++)
		if (j->duration <= buckets[b])
			m->dur_le[k][b]++;
	m->written[0][0] += j->created;
	m->written[0][1] += j->updated;
	m->written[0][2] += j->deleted;
	for (b = 0; b < 3; b++)
		m->written[1][b] += j->tree_counts[b];
	if (j->commit)
		m->commits++;
}

/* A label value: backslash, double quote and line feed escaped. */
static void label(struct buf *o, const char *v)
{
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_addc(o, '\\');
		if (*v == '\n') {
			buf_adds(o, "\\n");
			continue;
		}
		buf_addc(o, *v);
	}
}

static void head(struct buf *o, const char *name, const char *type,
    const char *help)
{
	buf_addf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_state(struct buf *o, const struct daemon *d)
{
	const struct conf *c = &d->conf->conf;
	const char *why, *state = daemon_state(d, &why);
	char *url;
	size_t i;

	head(o, "dsync_info", "gauge",
	    "dsyncd's version, the instance's Directus version and URL.");
	buf_addf(o, "dsync_info{version=\"%s\",directus_version=\"",
	    DSYNC_VERSION);
	label(o, d->version);
	buf_adds(o, "\",url=\"");
	url = sync_opts_url_shown(c->url); /* without user and password */
	label(o, url);
	free(url);
	buf_adds(o, "\"} 1\n");
	head(o, "dsync_state", "gauge",
	    "1 for the daemon's state (dsyncctl status), 0 for the others.");
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		buf_addf(o, "dsync_state{state=\"%s\"} %d\n", states[i],
		    strcmp(state, states[i]) == 0);
	head(o, "dsync_paused", "gauge", "1 while paused (dsyncctl pause).");
	buf_addf(o, "dsync_paused %d\n", d->paused);
	head(o, "dsync_conflicts", "gauge",
	    "Items changed on both sides, waiting for dsyncctl resolve.");
	buf_addf(o, "dsync_conflicts %zu\n", sides_count(d, "conflict"));
}

/* As status's "pending": per collection compared, and the schema. */
static void put_pending(struct buf *o, const struct daemon *d)
{
	size_t i;

	head(o, "dsync_pending", "gauge",
	    "Differences between the dump and the instance, per collection "
	    "(and schema), from the last comparison.");
	for (i = 0; d->have_diffs && i < COLL_COUNT; i++) {
		const struct plan_summary_coll *sc = &d->diffs.c[i];

		if (sc->selected)
			buf_addf(o, "dsync_pending{collection=\"%s\"} %zu\n",
			    sc->name, sc->create + sc->update + sc->del);
	}
	if (d->have_diffs && d->diffs.schema)
		buf_addf(o, "dsync_pending{collection=\"schema\"} %zu\n",
		    d->diffs.schema_changes);
}

/* Deletes a push would make and holds back: allow_deletes (or for the
 * schema allow_schema_deletes) is false. */
static void put_held(struct buf *o, const struct daemon *d)
{
	const char *name;
	size_t i, n;

	head(o, "dsync_held_deletes", "gauge",
	    "Deletes held back: allow_deletes (schema: allow_schema_deletes) "
	    "is false.");
	for (i = 0; i <= COLL_COUNT; i++)
		if (daemon_held_deletes(d, i, &name, &n))
			buf_addf(o,
			    "dsync_held_deletes{collection=\"%s\"} %zu\n", name,
			    n);
}

static void put_jobs(struct buf *o, const struct metrics *m)
{
	size_t k, t, r, b;

	head(o, "dsync_jobs_total", "counter",
	    "Jobs ended, by kind, trigger and result (as dsyncctl history).");
	for (k = 0; k < N_KINDS; k++)
		for (t = 0; t < N_TRIGGERS; t++)
			for (r = 0; r < N_RESULTS; r++)
				if (m->jobs[k][t][r])
					buf_addf(o,
					    "dsync_jobs_total{kind=\"%s\","
					    "trigger=\"%s\",result=\"%s\"} "
					    "%lu\n",
					    job_kind_name(k),
					    job_trigger_name(t),
					    sync_result_name(-(int)r),
					    m->jobs[k][t][r]);
	head(o, "dsync_job_duration_seconds", "histogram",
	    "How long jobs took, by kind.");
	for (k = 0; k < N_KINDS; k++) {
		if (k == JOB_PROBE || k == JOB_GIT)
			continue;
		for (b = 0; b < N_BUCKETS; b++)
			buf_addf(o,
			    "dsync_job_duration_seconds_bucket{kind=\"%s\","
			    "le=\"%g\"} %lu\n",
			    job_kind_name(k), buckets[b], m->dur_le[k][b]);
		buf_addf(o,
		    "dsync_job_duration_seconds_bucket{kind=\"%s\","
		    "le=\"+Inf\"} %lu\n",
		    job_kind_name(k), m->dur_count[k]);
		buf_addf(o,
		    "dsync_job_duration_seconds_sum{kind=\"%s\"} %.6f\n"
		    "dsync_job_duration_seconds_count{kind=\"%s\"} %lu\n",
		    job_kind_name(k), m->dur_sum[k], job_kind_name(k),
		    m->dur_count[k]);
	}
}

static void put_requests(struct buf *o, struct metrics *m)
{
	size_t i, c, r;
	unsigned long n;

	head(o, "dsync_requests_total", "counter",
	    "Requests to Directus, by method and HTTP status (error: no "
	    "answer).");
	for (i = 0; i < N_METHODS; i++)
		for (c = 0; c < N_CODES; c++) {
			n = atomic_load_explicit(&m->requests[i][c],
			    memory_order_relaxed);
			if (n == 0)
				continue;
			buf_addf(o, "dsync_requests_total{method=\"%s\",",
			    methods[i]);
			if (c == CODE_ERROR)
				buf_addf(o, "code=\"error\"} %lu\n", n);
			else
				buf_addf(o, "code=\"%zu\"} %lu\n", c, n);
		}
	head(o, "dsync_polls_total", "counter",
	    "Polls of the instance (the probe, or a full comparison), by "
	    "result.");
	for (r = 0; r < N_RESULTS; r++)
		if (m->polls[r] || r == 0)
			buf_addf(o, "dsync_polls_total{result=\"%s\"} %lu\n",
			    sync_result_name(-(int)r), m->polls[r]);
}

static void put_work(struct buf *o, const struct daemon *d,
    const struct metrics *m)
{
	size_t k, a;

	head(o, "dsync_last_success_timestamp_seconds", "gauge",
	    "When a job of this kind last succeeded (Unix time).");
	for (k = 0; k < N_KINDS; k++)
		if (m->last_success[k])
			buf_addf(o,
			    "dsync_last_success_timestamp_seconds{kind=\"%s\"} "
			    "%lld\n",
			    job_kind_name(k), (long long)m->last_success[k]);
	head(o, "dsync_items_written_total", "counter",
	    "Items written: to the instance (a push) or into the tree.");
	for (k = 0; k < 2; k++)
		for (a = 0; a < 3; a++)
			buf_addf(o,
			    "dsync_items_written_total{direction=\"%s\","
			    "action=\"%s\"} %lu\n",
			    k ? "to_tree" : "to_instance", actions[a],
			    m->written[k][a]);
	head(o, "dsync_git_commits_total", "counter",
	    "Commits the daemon made in the dump tree.");
	buf_addf(o, "dsync_git_commits_total %lu\n", m->commits);
	head(o, "dsync_git_push_pending", "gauge",
	    "1 while a commit waits for a git push that failed.");
	buf_addf(o, "dsync_git_push_pending %d\n", d->git_push_pending);
}

static unsigned long open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned long n = 0;

	if (dir == NULL)
		return 0;
	while ((e = readdir(dir)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(dir);
	return n - 1; /* less the one opendir holds */
}

/* The process_* family, as Prometheus' client libraries name them. */
static void put_process(struct buf *o, const struct metrics *m)
{
	struct rusage ru;
	struct rlimit rl;
	unsigned long vsz = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f) {
		if (fscanf(f, "%lu %lu", &vsz, &rss) != 2)
			vsz = rss = 0;
		fclose(f);
	}
	getrusage(RUSAGE_SELF, &ru);
	head(o, "process_cpu_seconds_total", "counter",
	    "User and system CPU time spent, in seconds.");
	buf_addf(o, "process_cpu_seconds_total %.3f\n",
	    (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		(double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	head(o, "process_resident_memory_bytes", "gauge",
	    "Resident memory size, in bytes.");
	buf_addf(o, "process_resident_memory_bytes %lu\n",
	    rss * (unsigned long)sysconf(_SC_PAGESIZE));
	head(o, "process_virtual_memory_bytes", "gauge",
	    "Virtual memory size, in bytes.");
	buf_addf(o, "process_virtual_memory_bytes %lu\n",
	    vsz * (unsigned long)sysconf(_SC_PAGESIZE));
	head(o, "process_open_fds", "gauge", "Open file descriptors.");
	buf_addf(o, "process_open_fds %lu\n", open_fds());
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		head(o, "process_max_fds", "gauge",
		    "The most open file descriptors allowed.");
		buf_addf(o, "process_max_fds %llu\n",
		    (unsigned long long)rl.rlim_cur);
	}
	head(o, "process_start_time_seconds", "gauge",
	    "When the process started (Unix time).");
	buf_addf(o, "process_start_time_seconds %lld\n",
	    (long long)m->start_wall);
}

void metrics_render(struct metrics *m, struct buf *o)
{
	put_state(o, m->d);
	put_pending(o, m->d);
	put_held(o, m->d);
	put_jobs(o, m);
	put_requests(o, m);
	put_work(o, m->d, m);
	if (notices_webhooks(m->d))
		webhooks_metrics(notices_webhooks(m->d), o);
	put_process(o, m);
}

static void scrape(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	struct evbuffer *out = evbuffer_new();
	struct buf b;

	if (out == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	if (path == NULL || strcmp(path, "/metrics") != 0) {
		evbuffer_add_printf(out, "not found: try /metrics\n");
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", "text/plain; charset=utf-8");
		evhttp_send_reply(req, HTTP_NOTFOUND, "Not Found", out);
		evbuffer_free(out);
		return;
	}
	m->scrapes++;
	buf_init(&b);
	metrics_render(m, &b);
	evbuffer_add(out, b.data, b.len);
	buf_clear(&b);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", out);
	evbuffer_free(out);
}

/* A Unix socket at path, mode 0660, a stale one replaced. */
static int unix_listener(const char *path, char **errstr)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		xasprintf(errstr, "%s: too long for a Unix socket", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		xasprintf(errstr, "socket: %s", strerror(errno));
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		xasprintf(errstr, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0660) < 0 || listen(fd, 128) < 0) {
		xasprintf(errstr, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int bind_http(struct metrics *m, const char *listen, char **errstr)
{
	char *host = NULL, *path = NULL;
	unsigned port = 0;
	int fd, rc = -1;

	if (conf_listen_parse(listen, &host, &port, &path) < 0) {
		xasprintf(errstr, "metrics.listen: %s: not HOST:PORT or a path",
		    listen);
		return -1;
	}
	if (path) {
		if ((fd = unix_listener(path, errstr)) >= 0 &&
		    evhttp_accept_socket_with_handle(m->http, fd) == NULL) {
			close(fd);
			xasprintf(errstr, "%s: libevent refused the socket",
			    path);
		} else if (fd >= 0) {
			m->unix_path = path;
			path = NULL;
			rc = 0;
		}
	} else if (evhttp_bind_socket_with_handle(m->http, host,
		       (ev_uint16_t)port) == NULL)
		xasprintf(errstr, "metrics.listen: cannot listen on %s: %s",
		    listen, strerror(errno ? errno : EADDRINUSE));
	else
		rc = 0;
	free(host);
	free(path);
	return rc;
}

int metrics_listen(struct metrics *m, struct event_base *base,
    const char *listen, char **errstr)
{
	metrics_close(m);
	if (listen == NULL)
		return 0;
	m->http = evhttp_new(base);
	if (m->http == NULL) {
		xasprintf(errstr, "libevent: no HTTP server");
		return -1;
	}
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(m->http, 10);
	evhttp_set_max_headers_size(m->http, 16384);
	evhttp_set_max_body_size(m->http, 0);
	evhttp_set_gencb(m->http, scrape, m);
	if (bind_http(m, listen, errstr) < 0) {
		evhttp_free(m->http);
		m->http = NULL;
		return -1;
	}
	log_info("metrics on %s%s", m->unix_path ? "" : "http://", listen);
	return 0;
}

void metrics_close(struct metrics *m)
{
	if (m == NULL || m->http == NULL)
		return;
	evhttp_free(m->http);
	m->http = NULL;
	if (m->unix_path) {
		unlink(m->unix_path);
		free(m->unix_path);
		m->unix_path = NULL;
	}
}

void metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	metrics_close(m);
	free(m);
}
