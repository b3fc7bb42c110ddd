/*
 * colls: the names and the id rule of the collections (see colls.h).
 */
#include <string.h>

#include "colls.h"

const char *const colls_names[COLL_COUNT] = {
	"settings",
	"folders",
	"translations",
	"flows",
	"operations",
	"roles",
	"policies",
	"permissions",
	"dashboards",
	"panels",
	"presets",
};

const enum coll_preserve colls_preserve[COLL_COUNT] = {
	COLL_PRESERVE_NEVER,	/* settings */
	COLL_PRESERVE_ALWAYS,	/* folders: file fields point at them */
	COLL_PRESERVE_OPTIONAL, /* translations */
	COLL_PRESERVE_ALWAYS,	/* flows: webhook URLs hold their ids */
	COLL_PRESERVE_OPTIONAL, /* operations */
	COLL_PRESERVE_OPTIONAL, /* roles */
	COLL_PRESERVE_OPTIONAL, /* policies */
	COLL_PRESERVE_NEVER,	/* permissions: integer ids */
	COLL_PRESERVE_OPTIONAL, /* dashboards */
	COLL_PRESERVE_OPTIONAL, /* panels */
	COLL_PRESERVE_NEVER,	/* presets: integer ids */
};

int colls_index(const char *name)
{
	int i;

	for (i = 0; name && i < COLL_COUNT; i++)
		if (strcmp(colls_names[i], name) == 0)
			return i;
	return -1;
}
