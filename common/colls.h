/*
 * colls: the Directus system collections dsync keeps, by name, in the
 * reference's processing order, and which of them keep their ids: the
 * vocabulary that the configuration, the options and the engine share.
 * The engine's rules for each (daemon/sync/collections.c) are in this
 * order; sets of collections are bit sets over it.
 */
#ifndef DSYNC_COLLS_H
#define DSYNC_COLLS_H

#define COLL_COUNT 11

enum coll_preserve {
	COLL_PRESERVE_NEVER,
	COLL_PRESERVE_OPTIONAL,
	COLL_PRESERVE_ALWAYS,
};

extern const char *const colls_names[COLL_COUNT];
extern const enum coll_preserve colls_preserve[COLL_COUNT];

/* The index of a collection by name, or -1. */
int colls_index(const char *name);
/* Its bit in a set. */
#define COLLS_BIT(i) (1u << (i))

#endif
