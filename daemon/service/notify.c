/*
 * notify: the one funnel for sd_notify. READY, RELOADING, STOPPING and
 * STATUS go out when the daemon says so; WATCHDOG=1 from a timer of the
 * loop itself, at half the period systemd asks for, so that a hung loop
 * (not a long job on the worker) gets the service restarted. Outside
 * systemd (no NOTIFY_SOCKET) every call is a no-op.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "service.h"
#include "xmalloc.h"

static struct event *watchdog_ev;
static char *last_status;

static void watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	sd_notify(0, "WATCHDOG=1");
}

void notify_init(struct event_base *base)
{
	uint64_t usec = 0;
	struct timeval tv;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return;
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	watchdog_ev = event_new(base, -1, EV_PERSIST, watchdog_cb, NULL);
	event_add(watchdog_ev, &tv);
	sd_notify(0, "WATCHDOG=1");
	log_debug("watchdog: every %.1f s", (double)usec / 1e6);
}

void notify_ready(void)
{
	sd_notify(0, "READY=1");
}

void notify_reloading(void)
{
	struct timespec ts;
	char *msg;

	/* systemd 253 wants MONOTONIC_USEC with RELOADING=1; 252 ignores
	 * it. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	xasprintf(&msg, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
		(unsigned long long)ts.tv_nsec / 1000);
	sd_notify(0, msg);
	free(msg);
}

void notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void notify_status(const char *fmt, ...)
{
	va_list ap;
	char *s, *msg;

	va_start(ap, fmt);
	xvasprintf(&s, fmt, ap);
	va_end(ap);
	if (last_status && strcmp(last_status, s) == 0) {
		free(s);
		return;
	}
	free(last_status);
	last_status = s;
	xasprintf(&msg, "STATUS=%s", s);
	sd_notify(0, msg);
	free(msg);
}

void notify_done(void)
{
	if (watchdog_ev)
		event_free(watchdog_ev);
	watchdog_ev = NULL;
	free(last_status);
	last_status = NULL;
}
