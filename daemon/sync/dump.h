/*
 * dump: the dump tree on disk. A pull builds the new tree in a staging
 * directory beside the old one (files dsync does not rewrite are carried
 * over as hard links), then swaps the two with one renameat2(EXCHANGE):
 * a failure or a crash before the swap leaves the old tree as it was.
 */
#ifndef DSYNC_DUMP_H
#define DSYNC_DUMP_H

#include <stdbool.h>
#include <stddef.h>

struct dump_stage;

/* Start a staging tree for dump_path. Every path under which skip(rel)
 * returns true is left out of the carried-over files. */
int dump_stage_begin(const char *dump_path,
    bool (*skip)(const char *rel, void *arg), void *arg,
    struct dump_stage **out, char **errstr);
/* Write a file (parents created) at rel in the staging tree. */
int dump_stage_write(struct dump_stage *s, const char *rel, const char *data,
    size_t len, char **errstr);
/* Make sure the directory rel exists in the staging tree. */
int dump_stage_write_dir(struct dump_stage *s, const char *rel,
    char **errstr);
/* Carry the old tree's file at rel over unchanged (hard link); returns
 * -ENOENT if the old tree has no such file. */
int dump_stage_keep(struct dump_stage *s, const char *rel);
/* Read the old tree's file at rel (NULL data if absent). */
int dump_stage_read_old(struct dump_stage *s, const char *rel, char **data,
    size_t *len);
/* Flush and swap the staging tree in; frees s. */
int dump_stage_commit(struct dump_stage *s, char **errstr);
/* Remove the staging tree; frees s. NULL is a no-op. */
void dump_stage_abort(struct dump_stage *s);

/* Reject paths that would leave the dump tree (absolute or with ".."). */
int dump_check_relpath(const char *what, const char *rel, char **errstr);

#endif
