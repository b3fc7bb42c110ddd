/*
 * hook: directus-sync's hooks, as programs. A hook is a command run by
 * /bin/sh, or a function of a JavaScript config called through the
 * bridge (node, scripts/hook-bridge.cjs). It gets the data as JSON on
 * standard input and answers the changed data as JSON on standard
 * output, within opts->hook_timeout seconds. A failure, a timeout or an
 * answer of the wrong shape is an error that names the hook and what it
 * was given; nothing is written from it. A point without a hook costs
 * nothing: no process is started.
 */
#ifndef DSYNC_HOOK_H
#define DSYNC_HOOK_H

#include <stdbool.h>

#include "json.h"
#include "sync.h"

/* Whether row (a collection's index, or HOOK_SNAPSHOT) has a hook at p. */
bool hook_set(const struct sync_opts *o, int row, enum hook_point p);

/* Run the hook of row at p on *data (taken), which is replaced by its
 * answer: an object for onQuery and the snapshot's hooks, an array of
 * objects for the others. Without a hook, nothing happens. */
int hook_run(const struct sync_ctx *ctx, int row, enum hook_point p,
    struct json **data, char **errstr);

/* A directus-sync.config.js or .cjs read through the bridge: its object,
 * functions as {"$function": true} (sync_opts_set_js_reader's reader). */
struct json *hook_read_js_config(const char *path, char **errstr);

/* The bridge: the node program and the script (DSYNC_NODE, else "node"
 * from PATH; DSYNC_HOOK_BRIDGE, else the installed one). */
const char *hook_node(void);
const char *hook_bridge(void);

#endif
