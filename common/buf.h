/*
 * buf: a growable byte buffer, always NUL-terminated so that its contents
 * can be used as a C string when they hold no NUL.
 */
#ifndef DSYNC_BUF_H
#define DSYNC_BUF_H

#include <stddef.h>

struct buf {
	char *data;
	size_t len, cap;
};

void buf_init(struct buf *b);
void buf_clear(struct buf *b); /* frees the storage */
void buf_reset(struct buf *b); /* len = 0, keeps the storage */
void buf_add(struct buf *b, const void *p, size_t n);
/* The same for secrets: storage is never left behind unwiped when it
 * grows. */
void buf_add_secret(struct buf *b, const void *p, size_t n);
/* Zeroes the storage, then frees it. */
void buf_wipe(struct buf *b);
void buf_addc(struct buf *b, char c);
void buf_adds(struct buf *b, const char *s);
void buf_addf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hands the storage to the caller (never NULL) and resets b. */
char *buf_steal(struct buf *b, size_t *lenp);

#endif
