/*
 * conf_int.h: what the files of the configuration loader share: the
 * settings tables' line (struct key), one conf_load's state (struct load),
 * and the helpers each part calls. Private to config/; conf.h is the
 * interface.
 */
#ifndef DSYNC_CONF_INT_H
#define DSYNC_CONF_INT_H

#include <libconfig.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"

#define CONF_MAX_FILE ((size_t)16 << 20) /* a config or include file */
#define CONF_MAX_STRING \
	((size_t)8192)	    /* a string setting; paths:
						 * PATH_MAX */
#define PLACEHOLDER "(set)" /* a secret, in conf_print */
#define NO_FIELD SIZE_MAX

enum key_type {
	KEY_GROUP, /* arg: the group's table */
	KEY_BOOL,
	KEY_LONG,   /* lo..hi */
	KEY_UINT,   /* lo..hi */
	KEY_FLOAT,  /* lo..hi, integers accepted; arg: the unit */
	KEY_STR,    /* not empty */
	KEY_PATH,   /* not empty; relative to the file's directory; hi:
			 * longest (0: any) */
	KEY_CAFILE, /* a KEY_PATH to a PEM file that must be readable at
			 * load */
	KEY_URL,
	KEY_ENUM,     /* arg: the names, index stored as an int */
	KEY_WORD,     /* arg: the names, the string stored */
	KEY_COLLS,    /* collection names: a bit set */
	KEY_PRESERVE, /* the same, or "all" */
	KEY_HEADERS,
	KEY_MODE,      /* an octal string */
	KEY_GROUPNAME, /* resolved after the walk */
	KEY_CRED,      /* checked as a string here, read after the walk */
	KEY_POLICIES,  /* policy.collections */
	KEY_AUTHOR,    /* git: not empty; no '<', '>' or control character */
	KEY_EMAIL,     /* the same, with an '@' */
	KEY_BRANCH,    /* the same, no space, not starting with '-' */
	KEY_PUSH,      /* git.push: "REMOTE BRANCH", into git.push_remote and
			 * git.push_branch */
	KEY_LISTEN,    /* metrics.listen: checked by conf_listen_split */
	KEY_NOTIFY,    /* notify: a list of webhook groups (notify_keys) */
	KEY_SEEDPATHS, /* seed.paths: relative paths inside the dump tree */
	KEY_HOOKS,     /* hooks: { timeout; js_config; ROW = { on_...; }; } */
};

struct key {
	const char *name;
	enum key_type type;
	size_t off; /* in struct conf */
	double lo, hi;
	const void *arg;
};

struct conf_group {
	const char *prefix;
	const struct key *keys;
};

/* One conf_load. */
struct load {
	struct conf *c;
	char *dir;	     /* the file's directory, absolute */
	mode_t mode;	     /* the file's */
	unsigned policy_set; /* collections named in policy.collections */
	char **errstr;
};

/* conf.c: the tables. */
extern const char *const conf_policy_names[]; /* by enum conf_policy */
/* By enum conf_notify_format: "json", "slack". */
extern const char *const conf_notify_format_names[];
extern const struct key conf_keys[];	      /* the file's, in print order */
extern const struct conf_group conf_groups[]; /* every group's table */
extern const size_t conf_ngroups;

/* conf.c: "file:line: message", for a setting; returns -1. */
int conf_at(const struct load *l, const config_setting_t *s, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
/* conf.c: p taken from the file's directory. */
char *conf_resolve(const struct load *l, const char *p);
/* conf.c: a regular file's contents (NUL-terminated, *len bytes to wipe);
 * *mode gets its mode. Messages start with the path. */
int conf_read_file(const char *path, size_t max, char **out, size_t *len,
    mode_t *mode, char **errstr);

/* conf.c: conf_listen_parse, and *why says what is wrong when it fails
 * ("a port out of 1..65535"). */
int conf_listen_split(const char *listen, char **host, unsigned *port,
    char **path, const char **why);
/* conf.c: frees c->notify, wiping the secrets. */
void conf_notify_clear(struct conf *c);

/* conf_text.c: the text pass, then libconfig's parse of text. */
int conf_text_parse(struct load *l, config_t *cfg, const char *text);

/* conf_value.c: every member of group g must be one of keys; stored. */
int conf_value_walk(struct load *l, const config_setting_t *g,
    const struct key *keys, const char *prefix);

/* conf_secret.c: exactly one credential, then read it. */
int conf_secret_load(struct load *l, const config_t *cfg);
/* conf_secret.c: a file holding a secret, the rules of a token file's
 * (its owner's alone, not empty, one trailing newline removed). Messages
 * start with the path. */
int conf_secret_file(const char *path, char **out, char **errstr);

#endif
