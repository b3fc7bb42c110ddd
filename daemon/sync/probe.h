/*
 * probe: the daemon's cheap look at the instance between two full
 * comparisons: the newest activity row of the collections dsync keeps,
 * and a fingerprint of the presets (which leave no activity rows). What
 * moved since the last look says which collections a full job compares.
 */
#ifndef DSYNC_PROBE_H
#define DSYNC_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "sync.h"

/* Where a look left off. */
struct sync_mark {
	bool valid;
	long activity;	  /* the newest activity row seen */
	uint64_t presets; /* fingerprint of the global and role presets */
};

/* What moved since a mark: rows written by another client than this
 * session (another User-Agent), or other presets. */
struct sync_moved {
	bool moved;
	unsigned collections; /* bit set over coll_rules */
	bool schema;
};

/*
 * One look. With since valid: what moved after it, and the new mark in
 * *now (since's, moved on); without: only a mark. presets: whether the
 * presets are looked at. own_agent: the User-Agent of this session's
 * requests (its rows are not a change). A run of its own (cancel, count
 * in st).
 */
int sync_probe(struct sync_ctx *ctx, bool presets, const char *own_agent,
    const struct sync_mark *since, struct sync_mark *now,
    struct sync_moved *moved, struct sync_stats *st, char **errstr);

#endif
