/*
 * public: what an anonymous visitor may do, as a dump grants it and as an
 * instance will once a push is done. A policy is public when it holds an
 * access row whose role and user are both null. The checks here refuse a
 * dump that cannot say which policies those are, and a push that would
 * leave the public more than the dump grants; a pull labels the policy
 * that holds the row, correcting a map that names another.
 */
#ifndef DSYNC_PUBLIC_H
#define DSYNC_PUBLIC_H

#include <stdbool.h>

#include "idmap.h"
#include "json.h"
#include "placeholder.h"
#include "sync.h"

struct plan;

/* An access row with neither role nor user (a missing "user" counts as
 * null: directus-sync 3.4's form). */
bool public_is_row(const struct json *access);
/* Whether a policy (API or dump form, with "roles") holds such a row. */
bool public_holds(const struct json *policy);

/* The dump's policies as read from path, before 3.4 forms are
 * completed: 0, or SYNC_EDUMP with a message naming the policies when
 * the dump's public policy cannot be told without guessing. */
int public_check_dump(const struct json *policies, const char *path,
    char **errstr);

/* Before a push writes anything: 0, or SYNC_EGUARD with every policy and
 * permission that would give the public access the dump does not grant
 * (a public access row the dump does not govern, a permission no map row
 * names on a public policy). */
int public_check_push(const struct plan *p, char **errstr);

/* Whether the instance's policy lid gives the public its access now
 * (the plan's list, or the access rows ph_fetch read) or will once the
 * plan is carried out. */
bool public_now_or_after(const struct plan *p, const char *lid);

/* pull: when the map names as the public policy one that holds no public
 * access row while another holds one, swap the two policies' SyncIDs in
 * the map (and say so). list: the instance's policies, API form. */
int public_relabel(struct sync_ctx *ctx, struct idmap *map,
    struct placeholders *ph, const struct json *list, char **errstr);

#endif
