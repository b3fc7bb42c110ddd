/*
 * conf: dsyncd.conf, the daemon's configuration (libconfig syntax), read
 * into a struct with defaults and validated: an unknown setting, a wrong
 * type or a value out of range is an error naming the file and line, so
 * that a typo cannot turn a guard off. The engine's options (struct
 * sync_opts, common/options.h) come out of it with the same meaning as
 * the CLI's flags; the daemon adds what is its own (jobs.c).
 */
#ifndef DSYNC_CONF_H
#define DSYNC_CONF_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "colls.h"
#include "options.h"

#define CONF_DEFAULT_PATH "/etc/dsyncd/dsyncd.conf"

enum conf_policy {
	CONF_POLICY_PUSH,   /* git is the truth: apply the dump, correct
				 * drift back to it */
	CONF_POLICY_REPORT, /* write nothing; show the differences */
	CONF_POLICY_IGNORE, /* neither compare nor write */
	CONF_POLICY_PULL,   /* Directus is the truth: its changes are
				 * written into the tree (and committed);
				 * the tree's are left pending */
	CONF_POLICY_SYNC,   /* both: the tree's changes are pushed, the
				 * instance's written into the tree */
};

/* What the first start does without a base (no record yet of a state on
 * which both sides agreed). */
enum conf_initial {
	CONF_INITIAL_REPORT, /* show the differences, write nothing */
	CONF_INITIAL_PUSH,   /* take the instance as the base: the tree's
				 * differences are pushed */
	CONF_INITIAL_PULL,   /* take the tree as the base: the instance's
				 * differences are written into it */
};

/* git = { ... }: committing what the daemon wrote into the tree. */
struct conf_git {
	bool commit;	    /* default false */
	char *author_name;  /* default "dsync" */
	char *author_email; /* default "dsync@localhost" */
	char *branch;	    /* NULL: any branch */
	char *push_remote;  /* push = "REMOTE BRANCH"; NULL: none */
	char *push_branch;
};

enum conf_watch {
	CONF_WATCH_TREE,    /* any saved change of the dump tree */
	CONF_WATCH_COMMITS, /* only when HEAD moves */
};

/* What a webhook (notify = ( { ... } );) is told of: bit (1u << event) of
 * struct conf_notify's events. */
enum conf_event {
	CONF_EV_DRIFT,		   /* a change made in Directus */
	CONF_EV_CONFLICT,	   /* both sides changed an item */
	CONF_EV_CONFLICT_RESOLVED, /* dsyncctl resolve decided one */
	CONF_EV_HELD,		   /* a delete or schema delete waits for
				    * allow_deletes or allow_schema_deletes */
	CONF_EV_JOB_FAILED,
	CONF_EV_DEGRADED,  /* Directus unreachable or failing: retried */
	CONF_EV_RECOVERED, /* it answers again */
	CONF_EV_COMMIT,	   /* the daemon committed the instance's changes */
	CONF_EV_GIT_PUSH_FAILED,
	CONF_EV_PAUSED,
	CONF_EV_RESUMED,
	CONF_EV_CONFIG_ERROR, /* a reload refused */
	CONF_EV_COUNT
};
#define CONF_EV_ALL ((1u << CONF_EV_COUNT) - 1)

/* "drift", "conflict", ..., "config_error", NULL: by enum conf_event. */
extern const char *const conf_event_names[];

enum conf_notify_format {
	CONF_NOTIFY_JSON,  /* dsync's own JSON body */
	CONF_NOTIFY_SLACK, /* a message for a Slack incoming webhook */
};

#define CONF_NOTIFY_MAX 16 /* entries of notify */

/* One webhook: notify = ( { url = "https://..."; ... }, ... ); */
struct conf_notify {
	char *url;	 /* http:// or https://; a secret (Slack's URLs
			  * hold their key): never printed, never in an
			  * error; wiped when freed */
	unsigned events; /* bit (1u << enum conf_event); CONF_EV_ALL when
			  * "events" is not given */
	enum conf_notify_format format; /* default json */
	char *secret;	   /* the HMAC-SHA256 key read from secret_file
			    * (one trailing newline removed); NULL: none;
			    * wiped when freed */
	char *secret_file; /* its path, absolute, for conf_print; NULL:
			    * none */
};

struct conf {
	char *path; /* the file read */

	/* directus = { ... } */
	char *url;
	char *token;	       /* secret: read from token_file,
					 * token_env or
					 * $CREDENTIALS_DIRECTORY/token */
	char *token_source;    /* where it came from, for -n:
					 * "file /etc/dsyncd/token" */
	char *email;	       /* with password_file: a login session */
	char *password;	       /* secret */
	char *password_source; /* "file /etc/dsyncd/password" */
	char **headers;	       /* "Name: value" */
	size_t nheaders;
	double timeout; /* seconds per request */
	double max_response_mb;
	char *ca_file;	 /* CA bundle (PEM) for https;
					 * NULL: libcurl's default */
	bool tls_verify; /* default true */

	/* the dump and the engine's options */
	struct sync_opts sync; /* url, token, dump_path, paths,
					 * collections, split, sort_json,
					 * preserve, id_map, sync_policy_roles,
					 * force, max_deletes ... (owned) */

	char *state_dir; /* default /var/lib/dsyncd */

	enum conf_watch watch; /* default tree */
	double debounce;       /* seconds of quiet, default 1.0 */

	double poll_interval;	  /* poll = { interval = 60.0; */
	unsigned poll_full_every; /*          full_every = 10; }: a full
					 * diff every N polls (0: never) */
	double backoff_max;	  /* cap of the retry delay, default 300 */

	enum conf_policy policy_default;     /* policy.default */
	enum conf_policy policy_schema;	     /* policy.schema */
	enum conf_policy policy[COLL_COUNT]; /* policy.collections.NAME,
						 * else policy.default */

	bool allow_deletes;	   /* default false */
	long max_deletes;	   /* default 10; -1: no limit */
	bool allow_schema_deletes; /* default false */

	enum conf_initial initial; /* default report */
	struct conf_git git;

	char *control_socket; /* default /run/dsyncd/control.sock */
	mode_t control_mode;  /* default 0660 */
	char *control_group;  /* NULL: the daemon's own group */
	gid_t control_gid;    /* resolved; (gid_t)-1 when none */

	char *metrics_listen; /* metrics = { listen = ...; }: "HOST:PORT",
			       * "[IPV6]:PORT" or the absolute path of a
			       * Unix socket; NULL: off */

	char *hooks_js_config; /* hooks.js_config: a directus-sync.config.js
				* whose hook functions run (the commands
				* themselves are in sync.hooks) */
	bool seed_enabled;     /* seed = { enabled = false; */
	char **seed_paths;     /*         paths = [ "seed" ]; }: seed files
			     * or directories, relative to the dump tree */
	size_t nseed_paths;

	struct conf_notify *notify; /* notify = ( { ... }, ... ); */
	size_t nnotify;		    /* at most CONF_NOTIFY_MAX */

	char *log_level; /* "info" (default) or "debug" */
	bool dumpable;	 /* default false: PR_SET_DUMPABLE
					 * 0, no core dump, no ptrace by
					 * the same user (read at start
					 * only) */
};

void conf_init(struct conf *c);	 /* the defaults */
void conf_clear(struct conf *c); /* wipes the secrets */

/*
 * Read path into c (c initialised with conf_init). On error returns -1
 * and *errstr says what and where: "dsyncd.conf:12: unknown setting
 * 'max_delete' (did you mean 'max_deletes'?)". Also refused: a token
 * file, or a config file holding a secret, that users other than its
 * owner can read. Relative paths in the file are taken from the file's
 * directory (and made absolute). Either way, conf_clear c after.
 */
int conf_load(struct conf *c, const char *path, char **errstr);

/*
 * Whether path sets dumpable = true, read before the whole file is loaded
 * (the daemon decides it at start, before the token is read; see main.c).
 * Any error reads as false: conf_load reports it.
 */
bool conf_peek_dumpable(const char *path);

/* The effective configuration, in the file's syntax, every setting with
 * its value (secrets as "(set)"), for dsyncd -n. */
void conf_print(const struct conf *c, FILE *f);

/*
 * metrics.listen taken apart, for bind: 0 and either *host (an IPv6
 * address without its brackets) and *port, *path NULL; or *path (a Unix
 * socket), *host NULL and *port 0. The caller frees *host and *path. -1
 * when listen is malformed (NULL, or not one of the forms conf_load
 * accepts); then *host and *path are NULL.
 */
int conf_listen_parse(const char *listen, char **host, unsigned *port,
    char **path);

const char *conf_policy_name(enum conf_policy p);
const char *conf_initial_name(enum conf_initial i);

#endif
