/*
 * log: the program's log, on stderr. Under journald (JOURNAL_STREAM
 * names stderr) each line starts with sd-daemon's "<N>" priority prefix,
 * so that journald keeps levels; otherwise lines carry a timestamp and
 * the level. Safe to call from any thread. Library code never logs.
 */
#ifndef DSYNC_LOG_H
#define DSYNC_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERR = 3, /* syslog's numbers */
	LOG_LEVEL_WARN = 4,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

/* name prefixes plain lines ("dsyncd"); level is the highest printed. */
void log_init(const char *name, enum log_level level);
void log_set_level(enum log_level level);
bool log_journald(void);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* log_warn adds strerror(errno). */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Start-up failures and broken invariants only: log, then exit(1). */
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
