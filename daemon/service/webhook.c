/*
 * webhook: the delivery of notices (notify = ( ... ) in dsyncd.conf) on a
 * thread of its own, so that a slow or failing receiver never holds up a
 * job or the loop. The loop queues a notice per webhook that wants its
 * event; the thread POSTs them in order, each try limited to 10 s, and
 * tries a failed one again after 2, 4, 8 and 16 s; after the fifth
 * failure it is dropped with a log line. A full queue (256) drops the
 * newest. URLs and secrets are never logged: a webhook is named by its
 * place in the list.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "log.h"
#include "service.h"
#include "xmalloc.h"

#define QUEUE_MAX 256
#define TRIES 5
#define TRY_SECONDS 10L

struct notice {
	char *url, *secret; /* copies, wiped when freed */
	char *body;
	size_t len;
	enum conf_event ev;
	size_t hook; /* its place in notify (from 1) */
	int tries;
	double due; /* monotonic */
};

struct webhooks {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct notice *q[QUEUE_MAX]; /* in the order queued */
	size_t nq;
	bool quit;
	atomic_int abort; /* read by libcurl's progress callback */
	unsigned long sent[CONF_EV_COUNT], failed[CONF_EV_COUNT];
	unsigned long dropped;
	char *last_error; /* the last failure, for status */
	time_t last_error_at;
	enum conf_event last_error_ev;
};

static void notice_free(struct notice *n)
{
	xfree_secret(n->url);
	xfree_secret(n->secret);
	free(n->body);
	free(n);
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static int progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c,
    curl_off_t d)
{
	struct webhooks *w = arg;

	(void)a, (void)b, (void)c, (void)d;
	return atomic_load(&w->abort) ? 1 : 0;
}

/* "sha256=" and the hex HMAC-SHA256 of the body under the secret. */
static struct curl_slist *signature(struct curl_slist *h,
    const struct notice *n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;
	char line[64 + 2 * EVP_MAX_MD_SIZE], *p;

	if (n->secret == NULL ||
	    HMAC(EVP_sha256(), n->secret, (int)strlen(n->secret),
		(const unsigned char *)n->body, n->len, md, &len) == NULL)
		return h;
	p = line + snprintf(line, sizeof(line), "X-Dsync-Signature: sha256=");
	for (i = 0; i < len; i++)
		p += snprintf(p, 3, "%02x", md[i]);
	return curl_slist_append(h, line);
}

/* One try: 0 when the receiver answered 2xx; else the reason in *why. */
static int post(struct webhooks *w, const struct notice *n, char *why,
    size_t wlen)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	CURLcode rc;
	long status = 0;

	if (c == NULL) {
		snprintf(why, wlen, "libcurl: no handle");
		return -1;
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "User-Agent: dsyncd/" DSYNC_VERSION);
	h = signature(h, n);
	curl_easy_setopt(c, CURLOPT_URL, n->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, n->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)n->len);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, TRY_SECONDS);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, w);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) /* never curl's error buffer: it names the URL */
		snprintf(why, wlen, "%s", curl_easy_strerror(rc));
	else if (status < 200 || status > 299)
		snprintf(why, wlen, "answered HTTP %ld", status);
	return rc == CURLE_OK && status >= 200 && status <= 299 ? 0 : -1;
}

/* Under the lock: the first notice due (taken off the queue), or NULL
 * and how long to wait for one (-1: none queued). */
static struct notice *take_due(struct webhooks *w, double *wait)
{
	double now = times_mono(), first = -1;
	struct notice *n;
	size_t i;

	for (i = 0; i < w->nq; i++) {
		n = w->q[i];
		if (n->due <= now) {
			memmove(&w->q[i], &w->q[i + 1],
			    (w->nq - i - 1) * sizeof(w->q[0]));
			w->nq--;
			return n;
		}
		if (first < 0 || n->due < first)
			first = n->due;
	}
	*wait = first < 0 ? -1 : first - now;
	return NULL;
}

/* Under the lock: n at the end of the queue, or dropped when it is full. */
static void queue(struct webhooks *w, struct notice *n)
{
	if (w->nq == QUEUE_MAX) {
		w->dropped++;
		w->failed[n->ev]++;
		log_warnx("webhook %zu: the queue is full (%d notices): the %s "
			  "notice is dropped",
		    n->hook, QUEUE_MAX, conf_event_names[n->ev]);
		notice_free(n);
		return;
	}
	w->q[w->nq++] = n;
	pthread_cond_signal(&w->cv);
}

/* After a try: counted, tried again later, or dropped. */
static void tried(struct webhooks *w, struct notice *n, int rc, const char *why)
{
	pthread_mutex_lock(&w->mu);
	if (rc == 0) {
		w->sent[n->ev]++;
		notice_free(n);
	} else {
		free(w->last_error);
		xasprintf(&w->last_error, "webhook %zu, %s notice: %s", n->hook,
		    conf_event_names[n->ev], why);
		w->last_error_at = time(NULL);
		w->last_error_ev = n->ev;
		if (++n->tries >= TRIES || w->quit) {
			w->failed[n->ev]++;
			log_warnx(
			    "webhook %zu: the %s notice is dropped after %d "
			    "tries: %s",
			    n->hook, conf_event_names[n->ev], n->tries, why);
			notice_free(n);
		} else {
			log_info("webhook %zu: the %s notice failed (%s); "
				 "again in %d s",
			    n->hook, conf_event_names[n->ev], why,
			    1 << n->tries);
			n->due = times_mono() + (double)(1 << n->tries);
			queue(w, n);
		}
	}
	pthread_mutex_unlock(&w->mu);
}

static void wait_for_work(struct webhooks *w, double wait)
{
	struct timespec ts;
	double s;

	if (wait < 0) {
		pthread_cond_wait(&w->cv, &w->mu);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s = (double)ts.tv_sec + ts.tv_nsec / 1e9 + wait;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	pthread_cond_timedwait(&w->cv, &w->mu, &ts);
}

static void *run(void *arg)
{
	struct webhooks *w = arg;
	struct notice *n;
	char why[256];
	double wait;
	int rc;

	pthread_mutex_lock(&w->mu);
	while (!w->quit) {
		if ((n = take_due(w, &wait)) == NULL) {
			wait_for_work(w, wait);
			continue;
		}
		pthread_mutex_unlock(&w->mu);
		why[0] = '\0';
		rc = post(w, n, why, sizeof(why));
		tried(w, n, rc, why);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct webhooks *webhooks_start(void)
{
	struct webhooks *w = xcalloc(1, sizeof(*w));
	pthread_condattr_t ca;

	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&w->abort, 0);
	if (pthread_create(&w->thread, NULL, run, w) != 0)
		fatalx("webhooks: cannot start a thread: %s", strerror(errno));
	return w;
}

/* At exit: a try under way is cut off, what waits is dropped (logged). */
void webhooks_stop(struct webhooks *w)
{
	size_t i;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->quit = true;
	atomic_store(&w->abort, 1);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	if (w->nq)
		log_warnx("webhooks: %zu notice(s) not delivered at exit",
		    w->nq);
	for (i = 0; i < w->nq; i++)
		notice_free(w->q[i]);
	free(w->last_error);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

void webhooks_send(struct webhooks *w, const struct conf *c, enum conf_event ev,
    const char *json_body, const char *slack_body)
{
	size_t i;

	pthread_mutex_lock(&w->mu);
	for (i = 0; i < c->nnotify; i++) {
		const struct conf_notify *h = &c->notify[i];
		struct notice *n;

		if (!(h->events & (1u << ev)))
			continue;
		n = xcalloc(1, sizeof(*n));
		n->url = xstrdup(h->url);
		n->secret = h->secret ? xstrdup(h->secret) : NULL;
		n->body = xstrdup(
		    h->format == CONF_NOTIFY_SLACK ? slack_body : json_body);
		n->len = strlen(n->body);
		n->ev = ev;
		n->hook = i + 1;
		n->due = times_mono();
		queue(w, n);
	}
	pthread_mutex_unlock(&w->mu);
}

/* {"sent": n, "failed": n, "queued": n, "last_failure": {"at", "event",
 * "error"} or null}, for status and history. */
struct json *webhooks_json(struct webhooks *w)
{
	struct json *o = json_new_object(), *f;
	unsigned long sent = 0, failed = 0;
	size_t i;

	pthread_mutex_lock(&w->mu);
	for (i = 0; i < CONF_EV_COUNT; i++) {
		sent += w->sent[i];
		failed += w->failed[i];
	}
	json_set(o, "sent", json_new_number((double)sent));
	json_set(o, "failed", json_new_number((double)failed));
	json_set(o, "queued", json_new_number((double)w->nq));
	if (w->last_error) {
		f = json_new_object();
		json_set(f, "at", json_new_string(times_iso(w->last_error_at)));
		json_set(f, "event",
		    json_new_string(conf_event_names[w->last_error_ev]));
		json_set(f, "error", json_new_string(w->last_error));
		json_set(o, "last_failure", f);
	} else
		json_set(o, "last_failure", json_new_null());
	pthread_mutex_unlock(&w->mu);
	return o;
}

/* dsync_notices_total{event,result="sent|failed"}. */
void webhooks_metrics(struct webhooks *w, struct buf *o)
{
	size_t i;

	buf_adds(o,
	    "# HELP dsync_notices_total Notices to the webhooks of "
	    "notify, by event: sent, or failed (dropped after their "
	    "tries, or a full queue).\n"
	    "# TYPE dsync_notices_total counter\n");
	pthread_mutex_lock(&w->mu);
	for (i = 0; i < CONF_EV_COUNT; i++) {
		buf_addf(o,
		    "dsync_notices_total{event=\"%s\",result=\"sent\"} "
		    "%lu\n",
		    conf_event_names[i], w->sent[i]);
		buf_addf(o,
		    "dsync_notices_total{event=\"%s\",result=\"failed\"} %lu\n",
		    conf_event_names[i], w->failed[i]);
	}
	pthread_mutex_unlock(&w->mu);
}
