/*
 * options: the settings of one sync run (pull, diff, push), merged the way
 * directus-sync merges them: defaults, then the JSON config file, then the
 * environment and global flags, then the command's flags.
 */
#ifndef DSYNC_OPTIONS_H
#define DSYNC_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

/* Where SyncIDs live (--id-map). */
enum idmap_backend {
	IDMAP_AUTO,	  /* the extension when it answers */
	IDMAP_EXTENSION,  /* directus-extension-sync's routes */
	IDMAP_COLLECTION, /* a collection of dsync's own */
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
