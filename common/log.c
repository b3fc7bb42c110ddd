/*
 * log: one line per message on stderr, written with a single write(2) so
 * that lines from the loop and the worker never mix.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "xmalloc.h"

static const char *log_name = "dsyncd";
static enum log_level log_max = LOG_LEVEL_INFO;
static bool journald;

/* JOURNAL_STREAM is "DEV:INODE" of the stream journald gave us. */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%lu:%lu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long)st.st_dev == dev &&
	    (unsigned long)st.st_ino == ino;
}

void log_init(const char *name, enum log_level level)
{
	log_name = name;
	log_max = level;
	journald = stderr_is_journal();
}

void log_set_level(enum log_level level)
{
	log_max = level;
}

bool log_journald(void)
{
	return journald;
}

static const char *level_word(enum log_level l)
{
	switch (l) {
	case LOG_LEVEL_ERR:
		return "error";
	case LOG_LEVEL_WARN:
		return "warning";
	case LOG_LEVEL_INFO:
		return "info";
	default:
		return "debug";
	}
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	struct buf b;
	struct timeval tv;
	struct tm tm;
	char *msg;
	ssize_t w;

	if (level > log_max)
		return;
	xvasprintf(&msg, fmt, ap);
	buf_init(&b);
	if (journald)
		buf_addf(&b, "<%d>%s\n", (int)level, msg);
	else {
		gettimeofday(&tv, NULL);
		localtime_r(&tv.tv_sec, &tm);
		buf_addf(&b, "%04d-%02d-%02d %02d:%02d:%02d.%03ld %s %s: %s\n",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, (long)tv.tv_usec / 1000, log_name,
		    level_word(level), msg);
	}
	w = write(STDERR_FILENO, b.data, b.len);
	(void)w;
	buf_clear(&b);
	free(msg);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int saved = errno;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	log_msg(LOG_LEVEL_WARN, "%s: %s", msg, strerror(saved));
	free(msg);
}

#define LOG_FN(fn, level) \
	void fn(const char *fmt, ...) \
	{ \
		va_list ap; \
\
		va_start(ap, fmt); \
		log_vmsg(level, fmt, ap); \
		va_end(ap); \
	}

LOG_FN(log_warnx, LOG_LEVEL_WARN)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_debug, LOG_LEVEL_DEBUG)

void fatal(const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int saved = errno;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	log_msg(LOG_LEVEL_ERR, "%s: %s", msg, strerror(saved));
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
