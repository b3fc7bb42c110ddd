/*
 * fsutil: the file-system primitives of the dump tree: recursive mkdir and
 * removal, whole-file read and write, and a hard-linked copy of a tree.
 * All return 0 or -errno and never print.
 */
#ifndef DSYNC_FSUTIL_H
#define DSYNC_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

int fs_mkdirs(const char *path, mode_t mode);
int fs_rmtree(const char *path);
/* Reads a whole file; *data is NUL-terminated and owned by the caller. */
int fs_read_file(const char *path, char **data, size_t *len);
/* Creates or truncates path and writes len bytes. */
int fs_write_file(const char *path, const void *data, size_t len);
/* Writes path through a temporary file and rename(2): readers see the old
 * or the new contents, never a part. */
int fs_write_file_atomic(const char *path, const void *data, size_t len);
/* Recreates the tree under src at dst with hard links (copies when links
 * are impossible), leaving out every relative path for which skip returns
 * true. dst must exist. */
int fs_link_tree(const char *src, const char *dst,
    bool (*skip)(const char *rel, void *arg), void *arg);
/* Joins two path parts with one '/'; caller frees. */
char *fs_join(const char *a, const char *b);

#endif
