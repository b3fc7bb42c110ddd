/*
 * times: the daemon's two clocks: the monotonic one, for delays and
 * durations, and the wall clock as ISO 8601 in UTC, for people and for
 * the replies of the control socket.
 */
#include <time.h>

#include "service.h"

double times_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Thread-safe: a rotating set of buffers, so that a few can be used in
 * one expression. */
char *times_iso(time_t t)
{
	static __thread char bufs[4][32];
	static __thread int k;
	struct tm tm;
	char *b = bufs[k++ % 4];

	gmtime_r(&t, &tm);
	strftime(b, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return b;
}
