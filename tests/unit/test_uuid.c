/*
 * test_uuid: uuid_v4's format and uniqueness, and its sources of random
 * bytes. The executable is linked with -Wl,--wrap=getrandom, so every
 * getrandom call of common/uuid.c lands in __wrap_getrandom below, which
 * passes it on or fails as the static 'mode' says; and with
 * -Wl,--wrap=open64 (open, with meson's 64-bit file offsets), so that
 * opening /dev/urandom can fail as it does when no descriptor is left,
 * without an RLIMIT_NOFILE of 0 (which valgrind does not allow).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "uuid.h"

enum mode {
	REAL,	       /* __real_getrandom */
	ENOSYS_ALWAYS, /* -1 ENOSYS, as on a kernel without the call */
	EINTR_FIRST,   /* -1 EINTR for the first 3 calls, then real */
	ONE_BYTE,      /* real, but at most 1 byte per call */
};

static enum mode mode = REAL;
static int calls;

ssize_t __real_getrandom(void *buf, size_t len, unsigned int flags);
ssize_t __wrap_getrandom(void *buf, size_t len, unsigned int flags);

ssize_t __wrap_getrandom(void *buf, size_t len, unsigned int flags)
{
	calls++;
	switch (mode) {
	case ENOSYS_ALWAYS:
		errno = ENOSYS;
		return -1;
	case EINTR_FIRST:
		if (calls <= 3) {
			errno = EINTR;
			return -1;
		}
		break;
	case ONE_BYTE:
		if (len > 1)
			len = 1;
		break;
	case REAL:
		break;
	}
	return __real_getrandom(buf, len, flags);
}

static int no_files; /* open64 fails with EMFILE */

int __real_open64(const char *path, int flags, ...);
int __wrap_open64(const char *path, int flags, ...);

int __wrap_open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;

	if (no_files) {
		errno = EMFILE;
		return -1;
	}
	va_start(ap, flags);
	m = (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
	va_end(ap);
	return __real_open64(path, flags, m);
}

static int reset(void **state)
{
	mode = REAL;
	calls = 0;
	return 0;
}

static int is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx, lower-case hex. */
static void assert_uuid_v4(const char *s)
{
	size_t i;

	assert_non_null(s);
	assert_int_equal(strlen(s), 36);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(s[i], '-');
		else if (!is_lower_hex(s[i]))
			fail_msg("uuid %s: byte %zu is '%c'", s, i, s[i]);
	}
	assert_int_equal(s[14], '4');
	if (strchr("89ab", s[19]) == NULL)
		fail_msg("uuid %s: variant nibble '%c'", s, s[19]);
}

static void test_format(void **state)
{
	int i;

	for (i = 0; i < 200; i++) {
		char *s = uuid_v4();

		assert_uuid_v4(s);
		free(s);
	}
	/* the wrap is in place: the real getrandom was reached through it */
	assert_true(calls >= 200);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_unique(void **state)
{
	enum { N = 1000 };
	char *v[N];
	int i;

	for (i = 0; i < N; i++)
		v[i] = uuid_v4();
	qsort(v, N, sizeof(v[0]), cmp);
	for (i = 1; i < N; i++)
		if (strcmp(v[i - 1], v[i]) == 0)
			fail_msg("uuid %s returned twice", v[i]);
	for (i = 0; i < N; i++)
		free(v[i]);
}

/* getrandom keeps failing with ENOSYS: the bytes come from /dev/urandom
 * (before the fix, uuid_v4 spun forever here). */
static void test_enosys_urandom(void **state)
{
	char *a, *b;

	mode = ENOSYS_ALWAYS;
	a = uuid_v4();
	b = uuid_v4();
	assert_uuid_v4(a);
	assert_uuid_v4(b);
	assert_string_not_equal(a, b);
	assert_true(calls >= 2);
	free(a);
	free(b);
}

static void test_eintr_retried(void **state)
{
	char *s;

	mode = EINTR_FIRST;
	s = uuid_v4();
	assert_uuid_v4(s);
	assert_int_equal(calls, 4);
	free(s);
}

static void test_short_reads(void **state)
{
	char *s;

	mode = ONE_BYTE;
	s = uuid_v4();
	assert_uuid_v4(s);
	assert_int_equal(calls, 16);
	free(s);
}

/* Neither getrandom nor /dev/urandom (no file descriptors left): the
 * process aborts with a message on stderr instead of spinning. */
static void test_no_entropy_aborts(void **state)
{
	int fds[2], status;
	char msg[512];
	ssize_t n, len = 0;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		mode = ENOSYS_ALWAYS;
		no_files = 1;
		free(uuid_v4());
		_exit(0);
	}
	close(fds[1]);
	while (len < (ssize_t)sizeof(msg) - 1 &&
	    (n = read(fds[0], msg + len, sizeof(msg) - 1 - (size_t)len)) > 0)
		len += n;
	msg[len] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
		fail_msg("child status %#x, stderr: %s", status, msg);
	if (strstr(msg, "dsync: no random bytes") == NULL ||
	    strstr(msg, "getrandom: ") == NULL ||
	    strstr(msg, "/dev/urandom: ") == NULL)
		fail_msg("unexpected message: %s", msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_format, reset),
		cmocka_unit_test_setup(test_unique, reset),
		cmocka_unit_test_setup(test_enosys_urandom, reset),
		cmocka_unit_test_setup(test_eintr_retried, reset),
		cmocka_unit_test_setup(test_short_reads, reset),
		cmocka_unit_test_setup(test_no_entropy_aborts, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
