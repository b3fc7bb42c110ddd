/*
 * dump: the dump tree on disk: its lock, and its update by a pull.
 *
 * Every run on a dump tree holds its lock, an exclusive flock(2) on the
 * tree's directory, so that a pull never rewrites a tree that a push is
 * reading. A pull stages its files and changes only those whose bytes
 * differ (an unchanged file keeps its inode and mtime; a pull that
 * changes nothing writes nothing at all), through a journal that makes
 * the update all or nothing: see dump.c.
 */
#ifndef DSYNC_DUMP_H
#define DSYNC_DUMP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* Where a pull stages its files, inside the tree (so on the same file
 * system, and writable wherever the tree is). It holds a .gitignore of
 * "*", so git never shows it; a watcher of the tree should ignore it. */
#define DUMP_STAGING_DIR ".dsync-staging"

struct dump_lock;

/* Lock the dump tree at path, waiting up to wait seconds (0: not at all)
 * for another holder, and stopping early when *cancel is raised. A
 * symbolic link is followed: the lock and every write are on its target.
 * create: make the directory when it is missing (pull); it is removed
 * again on release if it is still empty. Refusals name the holder's pid
 * (SYNC_ELOCKED). Once locked, an update that a crash interrupted is
 * completed, or one that had not reached its commit point discarded. */
int dump_lock_acquire(const char *path, bool create, double wait,
    atomic_int *cancel, struct dump_lock **out, char **errstr);
/* The tree's real path (symbolic links resolved). */
const char *dump_lock_root(const struct dump_lock *l);
/* Whether the lock completed an interrupted update. */
bool dump_lock_recovered(const struct dump_lock *l);
/* NULL is a no-op. */
void dump_lock_release(struct dump_lock *l);

struct dump_stage;

/* Start an update of the tree at root (locked by the caller). */
int dump_stage_begin(const char *root, struct dump_stage **out, char **errstr);
/* Every file under the directory rel belongs to this update: those it
 * does not write or keep are removed at commit, with the directories
 * left empty. rel must not be the tree itself. */
void dump_stage_own_dir(struct dump_stage *s, const char *rel);
/* The same for one file. */
void dump_stage_own_file(struct dump_stage *s, const char *rel);
/* The new contents of the file at rel. Equal to the live file: nothing
 * is written. */
int dump_stage_write(struct dump_stage *s, const char *rel, const char *data,
    size_t len, char **errstr);
/* The directory rel exists after the commit. */
int dump_stage_write_dir(struct dump_stage *s, const char *rel, char **errstr);
/* The live file at rel stays as it is; -ENOENT if there is none. */
int dump_stage_keep(struct dump_stage *s, const char *rel);
/* Read the live file at rel (NULL data if absent). */
int dump_stage_read_old(struct dump_stage *s, const char *rel, char **data,
    size_t *len);
/* Files written to the staging directory so far (those that change). */
size_t dump_stage_changes(const struct dump_stage *s);
/* Carry the update out, all or nothing; *changed (may be NULL) tells
 * whether any file changed. Frees s. */
int dump_stage_commit(struct dump_stage *s, bool *changed, char **errstr);
/* Drop the update; the tree stays as it was. Frees s; NULL is a no-op. */
void dump_stage_abort(struct dump_stage *s);

/* "./x//y/" -> "x/y", "." -> "": a relative path as the tree names it;
 * caller frees. */
char *dump_norm_rel(const char *p);
/* Reject paths that would leave the dump tree (absolute or with ".."). */
int dump_check_relpath(const char *what, const char *rel, char **errstr);
/* Whether name can be one file name in the tree: not empty, "." or "..",
 * no '/', no control character. what names it in the message. */
int dump_check_name(const char *what, const char *name, char **errstr);

#endif
