/*
 * options: the settings of one sync run (pull, diff, push), merged the way
 * directus-sync merges them: defaults, then the JSON config file, then the
 * environment and global flags, then the command's flags.
 */
#ifndef DSYNC_OPTIONS_H
#define DSYNC_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "colls.h"

/* Where SyncIDs live (--id-map). */
enum idmap_backend {
	IDMAP_AUTO,	  /* the extension when it answers */
	IDMAP_EXTENSION,  /* directus-extension-sync's routes */
	IDMAP_COLLECTION, /* a collection of dsync's own */
};

/* Where a hook runs (directus-sync's hooks): pull's query, pull's items
 * before and after they take their dump form, diff's and push's items
 * as read. The snapshot has load and save only. */
enum hook_point {
	HOOK_QUERY, /* onQuery */
	HOOK_DUMP,  /* onDump */
	HOOK_SAVE,  /* onSave */
	HOOK_LOAD,  /* onLoad */
	HOOK_POINTS,
};
#define HOOK_SNAPSHOT COLL_COUNT /* the snapshot's row of hooks[] */

/* One hook: a command (run by /bin/sh, the data as JSON on stdin, the
 * changed data as JSON on stdout), or a function of a JavaScript config,
 * called through the bridge (js_file: the config that defines it). */
struct sync_hook {
	char *cmd;
	char *js_file;
};

struct sync_opts {
	char *url;
	char *token; /* secret */
	char *email;
	char *password; /* secret */
	char *config_path;
	bool debug;
	bool sort_json;
	char *dump_path;
	char *collections_path;
	char *snapshot_path;
	char *specs_path;
	unsigned only; /* bit set over colls; 0: all */
	unsigned exclude;
	unsigned preserve; /* collections whose ids are kept */
	bool collections;
	bool snapshot;
	bool split;
	bool specs;
	bool sync_policy_roles;
	bool force;
	bool pretty_diff;
	long max_push_retries;
	long max_deletes; /* -1: no limit */
	enum idmap_backend id_map;
	char **headers; /* extra HTTP headers "Name: value" */
	size_t nheaders;
	char *ca_file;		  /* the CAs (PEM) trusted for https, and
				 * only they; NULL: libcurl's defaults */
	bool insecure;		  /* no TLS verification at all (false, the
				 * zero value: the peer's certificate chain
				 * and name are checked) */
	double lock_wait;	  /* seconds to wait for the dump's lock */
	double timeout;		  /* seconds a request may take (0: the
				 * transport's default, 300) */
	bool hold_deletes;	  /* push: leave the items to delete (counted
				 * in sync_stats.held_deletes) */
	bool hold_schema_deletes; /* push: leave the schema's deletes of
				 * collections, fields and relations */
	size_t max_body;	  /* largest answer accepted, bytes (0:
				 * HTTP_DEFAULT_MAX_BODY) */
	char **seed_paths;	  /* seed push and diff: files or
				 * directories, not under the dump */
	size_t nseed_paths;
	struct sync_hook hooks[COLL_COUNT + 1][HOOK_POINTS];
	double hook_timeout;  /* seconds a hook may take (default 60) */
	bool seed_paths_list; /* they came as a list (seedPath's
				 * array, --seed-path): more are added,
				 * where one string replaces them */
};

void sync_opts_init(struct sync_opts *o);
void sync_opts_clear(struct sync_opts *o); /* wipes the secrets */

/* The collections a run processes, as a bit set over colls. */
unsigned sync_opts_selected(const struct sync_opts *o);
/* Whether items of this collection keep their ids. */
bool sync_opts_preserves(const struct sync_opts *o, const char *coll);

/* Parse "a,b,c" into a bit set of collection names; what names the
 * option for messages. allow_all accepts "all" and "*", and only the
 * collections whose ids may be preserved. */
int sync_opts_parse_collections(const char *what, const char *list,
    bool preserve, unsigned *out, char **errstr);

/* Merge a directus-sync JSON config file (and the files it extends) into
 * o. A .js or .cjs file is refused with a clear message. */
int sync_opts_load_file(struct sync_opts *o, const char *path, char **errstr);

/* seedPath's merge: one path replaces the paths so far; a list is
 * added to a list, and replaces a single path (the default). */
void sync_opts_seed_path(struct sync_opts *o, const char *path, bool list);

/* "onQuery"... for a point; "flows"... or "snapshot" for a row. */
const char *sync_hook_point_name(enum hook_point p);
const char *sync_hook_row_name(int row);
/* Set a hook (copies; cmd or js_file NULL). */
void sync_opts_set_hook(struct sync_opts *o, int row, enum hook_point p,
    const char *cmd, const char *js_file);

/* How a JavaScript config (.js, .cjs) is read: the program sets a reader
 * (the bridge, which needs node); without one it is refused. The reader
 * returns the file's object as JSON, each function {"$function": true}. */
struct json;
typedef struct json *(*sync_js_reader)(const char *path, char **errstr);
void sync_opts_set_js_reader(sync_js_reader reader);
/* Read one through it (an error when there is none). */
struct json *sync_js_read(const char *path, char **errstr);

/* Set the hooks of a "hooks" object of a config: {ROW: {POINT: CMD}},
 * ROW a collection or "snapshot", POINT onQuery, onDump, onSave or
 * onLoad, CMD a command; with js_file (a JavaScript config), a function
 * {"$function": true} is called through the bridge, and rows dsync does
 * not know are left alone, as directus-sync leaves them. "timeout" is
 * hook_timeout. what names the object in messages ("FILE: hooks"). */
int sync_opts_hooks_from_json(struct sync_opts *o, const char *what,
    const char *js_file, const struct json *v, char **errstr);

/* Check the merged result (URL present, paths relative...). */
int sync_opts_validate(const struct sync_opts *o, char **errstr);
/* The same, without the credentials (helpers wait-server-ready). */
int sync_opts_validate_url(const struct sync_opts *o, char **errstr);

/* url without a user and password (https://u:pw@h/ gives https://h/),
 * for messages. */
char *sync_opts_url_shown(const char *url);

/* A CA file that curl can use: a regular file this process can read,
 * holding a PEM certificate. The message starts with the path. */
int sync_opts_check_ca_file(const char *path, char **errstr);

#endif
