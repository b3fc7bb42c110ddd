/*
 * license: what the instance's Directus license lets it hold. Directus 12
 * runs without a key under its Core license: no custom permission rules
 * (a filter, validation, presets, fields other than "*"), at most 5
 * active flows and 25 active user collections. A push that would cross
 * one of them is refused before its first write, naming the items and
 * the limit, rather than half applied by Directus' refusals (403
 * RESOURCE_RESTRICTED and LIMIT_EXCEEDED).
 */
#ifndef DSYNC_LICENSE_H
#define DSYNC_LICENSE_H

#include <stdbool.h>

#include "json.h"
#include "sync.h"

struct plan;

struct license {
	bool known;	  /* GET /license answered (Directus 12 and later) */
	char *name;	  /* the license's name, or NULL */
	bool rules;	  /* custom permission rules allowed */
	long flows;	  /* active flows allowed; -1: no limit */
	long collections; /* active user collections allowed; -1 */
	long flows_used, collections_used; /* as GET /license counts them */
};

void license_init(struct license *l);
void license_clear(struct license *l);

/* The instance's license (nothing known below Directus 12, whose
 * version sync_check_instance learnt). */
int license_read(struct sync_ctx *ctx, struct license *l, char **errstr);

/* Whether a permission (API or dump form) holds what Directus calls a
 * custom rule: fields other than "*", or a filter, validation or presets
 * that is not empty. */
bool license_custom_rule(const struct json *perm);

/* Before a push writes anything: 0, or SYNC_EGUARD naming every
 * permission with custom rules it would write where the license refuses
 * them, and the flows and collections it would make active beyond the
 * license's limits. */
int license_check_push(const struct plan *p, const struct license *l,
    char **errstr);

/* license_read, then license_check_push: the instance's license against
 * plan p (0, a read's failure, or SYNC_EGUARD). */
int license_check(struct sync_ctx *ctx, const struct plan *p, char **errstr);

#endif
