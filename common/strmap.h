/*
 * strmap: a hash map from NUL-terminated strings to borrowed pointers, with
 * owned copies of the keys. Used for SyncID lookups (local id -> row,
 * sync id -> row) that must stay O(1) with thousands of items.
 */
#ifndef DSYNC_STRMAP_H
#define DSYNC_STRMAP_H

#include <stddef.h>

struct strmap;

struct strmap *strmap_new(void);
void strmap_free(struct strmap *m);
/* Inserts or replaces; the key is copied, the value borrowed. */
void strmap_put(struct strmap *m, const char *key, void *val);
void *strmap_get(const struct strmap *m, const char *key);
/* Removes key; returns its value or NULL. */
void *strmap_del(struct strmap *m, const char *key);
size_t strmap_len(const struct strmap *m);

#endif
