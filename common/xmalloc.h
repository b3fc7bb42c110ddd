/*
 * xmalloc: allocation that cannot fail. On out-of-memory the process aborts
 * with a message: every caller can then treat allocation as infallible.
 */
#ifndef DSYNC_XMALLOC_H
#define DSYNC_XMALLOC_H

#include <stddef.h>
#include <stdarg.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Zero a secret string, then free it; NULL is a no-op. */
void xfree_secret(char *s);
int xasprintf(char **ret, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int xvasprintf(char **ret, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
