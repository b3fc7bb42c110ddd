/*
 * uuid: version 4 UUIDs from the kernel's random bytes (getrandom, or
 * /dev/urandom where it is missing), the SyncIDs and item ids that dsync
 * gives.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>
#include <unistd.h>

#include "uuid.h"
#include "xmalloc.h"

/* getrandom(2) with flags 0 does not return EAGAIN; should some kernel do
 * it anyway, this many tries before /dev/urandom is used. EINTR is always
 * retried. */
#define EAGAIN_TRIES 100

/* Like an allocation failure: no entropy is not something to recover
 * from, so the process ends (as xmalloc's oom()). */
static void __attribute__((noreturn)) no_entropy(int gr_err, int ur_err)
{
	fprintf(stderr,
	    "dsync: no random bytes for a uuid "
	    "(getrandom: %s; /dev/urandom: %s)\n",
	    strerror(gr_err), strerror(ur_err));
	abort();
}

/* Fills b[0..n) from /dev/urandom: 0, or an errno value. */
static int urandom_fill(unsigned char *b, size_t n)
{
	int fd, err = 0;

	do
		fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return errno;
	while (n > 0) {
		ssize_t r = read(fd, b, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? errno : EIO;
			break;
		}
		b += r;
		n -= (size_t)r;
	}
	close(fd);
	return err;
}

/* Fills b[0..n) with random bytes, or ends the process. */
static void random_fill(unsigned char *b, size_t n)
{
	size_t got = 0;
	int again = 0, err, uerr;

	while (got < n) {
		ssize_t r = getrandom(b + got, n - got, 0);

		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN && ++again < EAGAIN_TRIES)
			continue;
		/* ENOSYS (old kernel, seccomp filter), EPERM, ...: the
		 * device gives the same bytes. */
		err = r < 0 ? errno : EIO;
		uerr = urandom_fill(b + got, n - got);
		if (uerr != 0)
			no_entropy(err, uerr);
		return;
	}
}

char *uuid_v4(void)
{
	unsigned char b[16];
	char *s;

	random_fill(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	xasprintf(&s,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
	    b[11], b[12], b[13], b[14], b[15]);
	return s;
}
