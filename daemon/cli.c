/*
 * cli: argument parsing, option merging and logging for the one-shot
 * commands. Options may come before or after the command, as with
 * directus-sync; the merge order is defaults, config file, environment,
 * then flags.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "collections.h"
#include "conf.h"
#include "options.h"
#include "plan.h"
#include "plan_text.h"
#include "hook.h"
#include "seed.h"
#include "service.h"
#include "three.h"
#include "sync.h"
#include "xmalloc.h"

enum {
	OPT_SORT_JSON = 256,
	OPT_DUMP_PATH,
	OPT_COLLECTIONS_PATH,
	OPT_SNAPSHOT_PATH,
	OPT_SPECS_PATH,
	OPT_NO_COLLECTIONS,
	OPT_NO_SNAPSHOT,
	OPT_NO_SPLIT,
	OPT_NO_SPECS,
	OPT_NO_SYNC_POLICY_ROLES,
	OPT_PRESERVE_IDS,
	OPT_PRETTY_DIFF,
	OPT_MAX_PUSH_RETRIES,
	OPT_ID_MAP,
	OPT_JSON,
	OPT_MAX_DELETES,
	OPT_COLLECTION,
	OPT_ID,
	OPT_KEEP,
	OPT_INTERVAL,
	OPT_TIMEOUT,
	OPT_SUCCESSES,
	OPT_LOCK_WAIT,
	OPT_MAX_RESPONSE_MB,
	OPT_REQUEST_TIMEOUT,
	OPT_BASE,
	OPT_WRITE_BASE,
	OPT_CA_FILE,
	OPT_INSECURE,
	OPT_SEED_PATH,
};

static const struct option long_opts[] = {
	{ "debug", no_argument, NULL, 'd' },
	{ "sort-json", no_argument, NULL, OPT_SORT_JSON },
	{ "directus-url", required_argument, NULL, 'u' },
	{ "directus-token", required_argument, NULL, 't' },
	{ "directus-email", required_argument, NULL, 'e' },
	{ "directus-password", required_argument, NULL, 'p' },
	{ "config-path", required_argument, NULL, 'c' },
	{ "header", required_argument, NULL, 'H' },
	{ "ca-file", required_argument, NULL, OPT_CA_FILE },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "dump-path", required_argument, NULL, OPT_DUMP_PATH },
	{ "collections-path", required_argument, NULL, OPT_COLLECTIONS_PATH },
	{ "snapshot-path", required_argument, NULL, OPT_SNAPSHOT_PATH },
	{ "specs-path", required_argument, NULL, OPT_SPECS_PATH },
	{ "exclude-collections", required_argument, NULL, 'x' },
	{ "only-collections", required_argument, NULL, 'o' },
	{ "no-collections", no_argument, NULL, OPT_NO_COLLECTIONS },
	{ "no-snapshot", no_argument, NULL, OPT_NO_SNAPSHOT },
	{ "no-split", no_argument, NULL, OPT_NO_SPLIT },
	{ "no-specs", no_argument, NULL, OPT_NO_SPECS },
	{ "no-sync-policy-roles", no_argument, NULL, OPT_NO_SYNC_POLICY_ROLES },
	{ "preserve-ids", required_argument, NULL, OPT_PRESERVE_IDS },
	{ "force", no_argument, NULL, 'f' },
	{ "pretty-diff", no_argument, NULL, OPT_PRETTY_DIFF },
	{ "max-push-retries", required_argument, NULL, OPT_MAX_PUSH_RETRIES },
	{ "id-map", required_argument, NULL, OPT_ID_MAP },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "collection", required_argument, NULL, OPT_COLLECTION },
	{ "id", required_argument, NULL, OPT_ID },
	{ "keep", required_argument, NULL, OPT_KEEP },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "successes", required_argument, NULL, OPT_SUCCESSES },
	{ "max-deletes", required_argument, NULL, OPT_MAX_DELETES },
	{ "lock-wait", required_argument, NULL, OPT_LOCK_WAIT },
	{ "max-response-mb", required_argument, NULL, OPT_MAX_RESPONSE_MB },
	{ "request-timeout", required_argument, NULL, OPT_REQUEST_TIMEOUT },
	{ "base", required_argument, NULL, OPT_BASE },
	{ "write-base", required_argument, NULL, OPT_WRITE_BASE },
	{ "seed-path", required_argument, NULL, OPT_SEED_PATH },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};
static const char short_opts[] = "+du:t:e:p:c:H:x:o:fhV";

static const char usage_main[] =
    "Usage: dsyncd [options] command      one-shot, as directus-sync\n"
    "       dsyncd [-f FILE] [-n] [-d]     the daemon (see dsyncd.conf(5))\n\n"
    "Keeps a Directus instance's configuration in sync with a dump tree in git.\n"
    "Without a command, dsyncd runs as a daemon in the foreground, with the\n"
    "configuration in FILE (default " CONF_DEFAULT_PATH
    "); -n checks the file\n"
    "and prints the effective configuration, -d logs debug messages.\n\n"
    "Commands:\n"
    "  pull      write the instance's schema, specs and configuration to the dump\n"
    "  diff      show what a push would change (exit 0: none, 2: some)\n"
    "  push      make the instance match the dump\n"
    "  seed      diff or push the seed data (items of one's own collections,\n"
    "            users and files; see dsyncd seed --help)\n"
    "  helpers   untrack, remove-permission-duplicates, wait-server-ready\n\n"
    "Global options:\n  -d, --debug                     log debug messages\n"
    "  --sort-json                     sort object keys in collection and snapshot files\n"
    "  -u, --directus-url <url>        Directus URL (env DIRECTUS_URL)\n"
    "  -t, --directus-token <token>    admin static token (env DIRECTUS_TOKEN)\n"
    "  -e, --directus-email <email>    admin email, with -p (env DIRECTUS_ADMIN_EMAIL)\n"
    "  -p, --directus-password <pw>    admin password (env DIRECTUS_ADMIN_PASSWORD)\n"
    "  -c, --config-path <path>        directus-sync config file (default: first of\n"
    "                                  ./directus-sync.config.{js,cjs,json}; .js and\n"
    "                                  .cjs are read with node, see HOOKS in dsyncd(8))\n"
    "  -H, --header <name: value>      extra HTTP header for every request (repeatable)\n"
    "  --ca-file <file>                https: trust only the CAs (PEM) in file, not the\n"
    "                                  system's (env DSYNC_CA_FILE)\n"
    "  --insecure                      do not verify TLS certificates (warned each run)\n"
    "  --lock-wait <seconds>           wait for another run on the same dump tree to end\n"
    "                                  (default 0: refuse at once, naming its pid)\n"
    "  --max-response-mb <n>           refuse an answer larger than n MiB (default 256)\n"
    "  --request-timeout <seconds>     give up on a request after that long (default 300)\n"
    "  -h, --help                      this help; 'dsyncd <command> --help' for a command\n"
    "  -V, --version                   print the version\n\n"
    "Exit status: 0 done, 1 error (diff: 0 no differences, 2 differences, 1 error).\n";

static const char usage_diff[] =
    "Usage: dsyncd diff [options]\n\n"
    "Compare the dump tree with the instance and print what a push would do:\n"
    "the schema changes, then per collection the items to create, to update\n"
    "(with the fields that differ), to delete (tracked items the dump no longer\n"
    "has), and dangling map rows. Nothing is written to the instance.\n\n"
    "Options:\n"
    "  --dump-path <path>              dump root (default ./directus-config)\n"
    "  --collections-path <path>       under the dump root (default collections)\n"
    "  --snapshot-path <path>          under the dump root (default snapshot)\n"
    "  -x, --exclude-collections <a,b> collections to leave out\n"
    "  -o, --only-collections <a,b>    collections to process (default all)\n"
    "  --no-collections                skip the collections\n"
    "  --no-snapshot                   skip the schema\n"
    "  --no-split                      the snapshot is one snapshot.json\n"
    "  --no-sync-policy-roles          leave policies' role links out\n"
    "  -f, --force                     compare the schema across Directus versions\n"
    "  --pretty-diff                   show the values that would be written\n"
    "  --json                          print the whole plan as JSON on stdout\n"
    "  --base <dir>                    compare three ways, with the last agreed state\n"
    "                                  kept in <dir>: each difference is dump-changed,\n"
    "                                  instance-changed or a conflict\n"
    "  --write-base <agreed|dump|instance>\n"
    "                                  with --base: then write the base: what agrees\n"
    "                                  now, or the dump or the instance as it is\n"
    "  --id-map <auto|extension|collection>\n"
    "                                  where SyncIDs live (see dsyncd pull --help)\n"
    "\nExit status: 0 no differences, 2 differences, 1 error.\n";

static const char usage_push[] =
    "Usage: dsyncd push [options]\n\n"
    "Make the instance match the dump: the schema first, then the items to\n"
    "create (in dependency order), to update and to delete. Only items dsync\n"
    "tracks (with a map row) are ever updated or deleted. Every read is done,\n"
    "and the dump checked, before the first write.\n\nOptions:\n"
    "  --dump-path <path>              dump root (default ./directus-config)\n"
    "  --collections-path <path>       under the dump root (default collections)\n"
    "  --snapshot-path <path>          under the dump root (default snapshot)\n"
    "  -x, --exclude-collections <a,b> collections to leave out\n"
    "  -o, --only-collections <a,b>    collections to process (default all)\n"
    "  --no-collections                skip the collections\n"
    "  --no-snapshot                   skip the schema\n"
    "  --no-split                      the snapshot is one snapshot.json\n"
    "  --no-sync-policy-roles          leave policies' role links alone\n"
    "  --preserve-ids <a,b|all|*>      new items get their SyncID as id\n"
    "  -f, --force                     apply the schema across Directus versions\n"
    "  --max-push-retries <n>          passes at most (default 20, 0: no limit)\n"
    "  --max-deletes <n>               refuse a push that would delete more than n\n"
    "                                  items, before any write\n"
    "  --id-map <auto|extension|collection>\n"
    "                                  where SyncIDs live (see dsyncd pull --help)\n";

static const char usage_helpers[] =
    "Usage: dsyncd helpers <helper> [options]\n\n"
    "  untrack --collection <name> --id <local id>\n"
    "        forget the SyncID of one item (its map row); the next pull gives\n"
    "        it a new one. <name> is the map table: roles, permissions, ...\n"
    "  remove-permission-duplicates [--keep first|last]\n"
    "        delete all but one permission of each (policy, collection,\n"
    "        action), keeping the last (default) or the first by id\n"
    "  wait-server-ready [--interval 5] [--timeout 90] [--successes 1]\n"
    "        poll /server/health until it answers \"ok\" --successes times\n"
    "        in a row, --interval seconds apart; fail after --timeout seconds.\n"
    "        Needs no credentials.\n";

static const char usage_seed[] =
    "Usage: dsyncd seed diff|push [options]\n\n"
    "Seed data: items of one's own collections, directus_users and\n"
    "directus_files, in JSON files under the seed paths (directus-sync's\n"
    "format: {collection, meta, data}, each item with a \"_sync_id\"). It is\n"
    "only pushed: never pulled, never written back to a file. Items are\n"
    "tracked in the SyncID map (tables items::<collection>, users, files).\n\n"
    "  diff    what a push would create, update and delete (exit 0: nothing,\n"
    "          2: changes, 1: error)\n"
    "  push    read everything, check every reference, then create in\n"
    "          dependency order, update and delete, as each seed's meta allows\n\n"
    "Options:\n"
    "  --seed-path <path>              a seed file or directory (repeatable;\n"
    "                                  default ./directus-config/seed, not\n"
    "                                  under --dump-path)\n"
    "  --json                          diff: print the plan as JSON\n"
    "  --pretty-diff                   diff: show the values that would be written\n"
    "  --max-deletes <n>               push: refuse to delete more than n items,\n"
    "                                  before any write\n"
    "  --id-map <auto|extension|collection>\n"
    "                                  where SyncIDs live (see dsyncd pull --help)\n";

static const char usage_pull[] =
    "Usage: dsyncd pull [options]\n\n"
    "Write the instance's schema snapshot, specs and the 11 configuration\n"
    "collections to the dump tree, giving every item a SyncID. Only files whose\n"
    "content changes are written, all or nothing: a failure changes nothing.\n"
    "\nOptions:\n"
    "  --dump-path <path>              dump root (default ./directus-config)\n"
    "  --collections-path <path>       under the dump root (default collections)\n"
    "  --snapshot-path <path>          under the dump root (default snapshot)\n"
    "  --specs-path <path>             under the dump root (default specs)\n"
    "  -x, --exclude-collections <a,b> collections to leave out\n"
    "  -o, --only-collections <a,b>    collections to process (default all)\n"
    "  --no-collections                skip the collections\n"
    "  --no-snapshot                   skip the schema snapshot\n"
    "  --no-split                      one snapshot.json instead of one file per item\n"
    "  --no-specs                      skip the GraphQL and OpenAPI specs\n"
    "  --no-sync-policy-roles          leave policies' role links out\n"
    "  --preserve-ids <a,b|all|*>      SyncIDs of new items are their ids (dashboards,\n"
    "                                  operations, panels, policies, roles, translations)\n"
    "  --id-map <auto|extension|collection>\n"
    "                                  where SyncIDs live: the directus-extension-sync\n"
    "                                  routes, or dsync's own hidden collection\n"
    "                                  dsync_id_map; auto prefers the extension\n"
    "  --base <dir>                    a three-way pull: only what changed on the\n"
    "                                  instance since the base in <dir> is written,\n"
    "                                  in the bytes of a pull; an edit of the dump not\n"
    "                                  yet pushed, and conflicts, stay as they are\n"
    "Collections: settings, folders, translations, flows, operations, roles,\n"
    "policies, permissions, dashboards, panels, presets.\n";

struct cli {
	struct sync_opts opts;
	const char *command;
	int level; /* highest level printed */
	struct timespec start;
	bool json;		  /* diff --json */
	char *base;		  /* diff --base */
	int write_base;		  /* diff --write-base: enum three_base
					 * + 1, 0: no */
	char *collection, *id;	  /* helpers untrack */
	bool keep_first;	  /* remove-permission-duplicates */
	double interval, timeout; /* wait-server-ready */
	long successes;
};

static const char *level_name(enum sync_level l)
{
	switch (l) {
	case SYNC_ERR:
		return "ERROR";
	case SYNC_WARN:
		return "WARN";
	case SYNC_INFO:
		return "INFO";
	default:
		return "DEBUG";
	}
}

static void log_line(struct cli *c, enum sync_level level, const char *msg)
{
	struct timeval tv;
	struct tm tm;

	if ((int)level > c->level)
		return;
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	fprintf(stderr, "[%02d:%02d:%02d.%03ld] %s: %s\n", tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (long)tv.tv_usec / 1000, level_name(level),
	    msg);
}

static void log_cb(void *arg, enum sync_level level, const char *msg)
{
	log_line(arg, level, msg);
}

static void logf_cli(struct cli *c, enum sync_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void logf_cli(struct cli *c, enum sync_level level, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	log_line(c, level, msg);
	free(msg);
}

static void trace_cb(void *arg, const char *line)
{
	logf_cli(arg, SYNC_DEBUG, "%s", line);
}

static int set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
	return 0;
}

/* Apply one parsed flag to the options. */
/* --NAME's value: an integer of at least min. */
static int long_flag(const char *name, const char *arg, long min, long *out,
    char **errstr)
{
	char *end;

	errno = 0;
	*out = strtol(arg, &end, 10);
	if (errno || *end || *out < min) {
		xasprintf(errstr, "--%s '%s': expected a number >= %ld", name,
		    arg, min);
		return -1;
	}
	return 0;
}

/* --NAME's value: a number from lo to hi; what says it in the error. */
static int double_flag(const char *name, const char *arg, double lo, double hi,
    const char *what, double *out, char **errstr)
{
	char *end;

	errno = 0;
	*out = strtod(arg, &end);
	if (errno || *end || end == arg || !(*out >= lo) || *out > hi) {
		xasprintf(errstr, "--%s '%s': expected %s", name, arg, what);
		return -1;
	}
	return 0;
}

/* --NAME's value: one of words (NULL-terminated); *idx its index. */
static int word_flag(const char *name, const char *arg,
    const char *const *words, const char *what, int *idx, char **errstr)
{
	for (*idx = 0; words[*idx]; (*idx)++)
		if (strcmp(arg, words[*idx]) == 0)
			return 0;
	xasprintf(errstr, "--%s '%s': expected %s", name, arg, what);
	return -1;
}

static int add_header(struct sync_opts *o, const char *arg, char **errstr)
{
	if (strchr(arg, ':') == NULL) {
		xasprintf(errstr, "--header '%s': expected 'Name: value'", arg);
		return -1;
	}
	o->headers = xreallocarray(o->headers, o->nheaders + 1, sizeof(char *));
	o->headers[o->nheaders++] = xstrdup(arg);
	return 0;
}

/* A flag of the commands' own (not the engine's options). */
static int apply_cli_flag(struct cli *c, int ch, const char *arg, char **errstr)
{
	static const char *const bases[] = { "agreed", "dump", "instance",
		NULL };
	static const char *const keeps[] = { "first", "last", NULL };
	long n;
	int i, rc;

	switch (ch) {
	case OPT_BASE:
		return set_str(&c->base, arg);
	case OPT_WRITE_BASE:
		/* the order of enum three_base */
		rc = word_flag("write-base", arg, bases,
		    "agreed, dump or instance", &i, errstr);
		c->write_base = rc == 0 ? i + 1 : c->write_base;
		return rc;
	case OPT_JSON:
		c->json = true;
		return 0;
	case OPT_COLLECTION:
		return set_str(&c->collection, arg);
	case OPT_ID:
		return set_str(&c->id, arg);
	case OPT_KEEP:
		rc = word_flag("keep", arg, keeps, "first or last", &i, errstr);
		c->keep_first = rc == 0 ? i == 0 : c->keep_first;
		return rc;
	case OPT_INTERVAL:
		return double_flag("interval", arg, 0, 1e7, "seconds",
		    &c->interval, errstr);
	case OPT_TIMEOUT:
		return double_flag("timeout", arg, 0, 1e7, "seconds",
		    &c->timeout, errstr);
	case OPT_SUCCESSES:
		rc = long_flag("successes", arg, 1, &n, errstr);
		c->successes = n;
		return rc;
	}
	return 0;
}

/* A flag of what the dump holds, or else the commands' own. */
static int apply_dump_flag(struct cli *c, int ch, const char *arg,
    char **errstr)
{
	struct sync_opts *o = &c->opts;

	switch (ch) {
	case OPT_DUMP_PATH:
		return set_str(&o->dump_path, arg);
	case OPT_COLLECTIONS_PATH:
		return set_str(&o->collections_path, arg);
	case OPT_SNAPSHOT_PATH:
		return set_str(&o->snapshot_path, arg);
	case OPT_SPECS_PATH:
		return set_str(&o->specs_path, arg);
	case 'x':
		return sync_opts_parse_collections("--exclude-collections", arg,
		    false, &o->exclude, errstr);
	case 'o':
		return sync_opts_parse_collections("--only-collections", arg,
		    false, &o->only, errstr);
	case OPT_NO_COLLECTIONS:
		o->collections = false;
		return 0;
	case OPT_NO_SNAPSHOT:
		o->snapshot = false;
		return 0;
	case OPT_NO_SPLIT:
		o->split = false;
		return 0;
	case OPT_NO_SPECS:
		o->specs = false;
		return 0;
	case OPT_NO_SYNC_POLICY_ROLES:
		o->sync_policy_roles = false;
		return 0;
	case OPT_PRESERVE_IDS:
		return sync_opts_parse_collections("--preserve-ids", arg, true,
		    &o->preserve, errstr);
	case OPT_SEED_PATH:
		sync_opts_seed_path(o, arg, true);
		return 0;
	}
	return apply_cli_flag(c, ch, arg, errstr);
}

/* A flag of the engine's options, or else the dump's or the commands'. */
static int apply_flag(struct cli *c, int ch, const char *arg, char **errstr)
{
	static const char *const maps[] = { "auto", "extension", "collection",
		NULL };
	struct sync_opts *o = &c->opts;
	double mb;
	int i, rc;

	switch (ch) {
	case 'd':
		o->debug = true;
		return 0;
	case OPT_SORT_JSON:
		o->sort_json = true;
		return 0;
	case 'u':
		return set_str(&o->url, arg);
	case 't':
		return set_str(&o->token, arg);
	case 'e':
		return set_str(&o->email, arg);
	case 'p':
		return set_str(&o->password, arg);
	case OPT_CA_FILE:
		return set_str(&o->ca_file, arg);
	case OPT_INSECURE:
		o->insecure = true;
		return 0;
	case 'H':
		return add_header(o, arg, errstr);
	case 'f':
		o->force = true;
		return 0;
	case OPT_PRETTY_DIFF:
		o->pretty_diff = true;
		return 0;
	case OPT_MAX_PUSH_RETRIES:
		return long_flag("max-push-retries", arg, 0,
		    &o->max_push_retries, errstr);
	case OPT_MAX_DELETES:
		return long_flag("max-deletes", arg, 0, &o->max_deletes,
		    errstr);
	case OPT_LOCK_WAIT:
		return double_flag("lock-wait", arg, 0, 1e7, "seconds",
		    &o->lock_wait, errstr);
	case OPT_MAX_RESPONSE_MB:
		rc = double_flag("max-response-mb", arg, 0.001, 65536,
		    "a number of MiB from 0.001 to 65536", &mb, errstr);
		if (rc == 0)
			o->max_body = (size_t)(mb * 1048576);
		return rc;
	case OPT_REQUEST_TIMEOUT:
		return double_flag("request-timeout", arg, 1, 86400,
		    "a number of seconds from 1 to 86400", &o->timeout, errstr);
	case OPT_ID_MAP:
		rc = word_flag("id-map", arg, maps,
		    "auto, extension or collection", &i, errstr);
		if (rc == 0)
			o->id_map = (enum idmap_backend)i;
		return rc;
	}
	return apply_dump_flag(c, ch, arg, errstr);
}

/* The config file: -c, else the first default path that exists. */
static int load_config(struct cli *c, const char *explicit_path, char **errstr)
{
	static const char *const defaults[] = { "./directus-sync.config.js",
		"./directus-sync.config.cjs", "./directus-sync.config.json" };
	size_t i;

	if (explicit_path) {
		if (access(explicit_path, F_OK) < 0) {
			xasprintf(errstr, "config file %s: %s", explicit_path,
			    strerror(errno));
			return -1;
		}
		logf_cli(c, SYNC_DEBUG, "Loaded config file from %s",
		    explicit_path);
		return sync_opts_load_file(&c->opts, explicit_path, errstr);
	}
	for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		if (access(defaults[i], F_OK) < 0)
			continue;
		logf_cli(c, SYNC_DEBUG, "Loaded config file from %s",
		    defaults[i]);
		return sync_opts_load_file(&c->opts, defaults[i], errstr);
	}
	logf_cli(c, SYNC_DEBUG, "No config file found");
	return 0;
}

/* Like directus-sync (dotenv): KEY=value lines of ./.env become
 * environment variables unless they are already set. */
static void load_dotenv(struct cli *c)
{
	FILE *f = fopen(".env", "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (f == NULL)
		return;
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *k = line, *v, *e;

		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		while (*k == ' ' || *k == '\t')
			k++;
		if (strncmp(k, "export ", 7) == 0)
			k += 7;
		if (*k == '#' || (v = strchr(k, '=')) == NULL)
			continue;
		for (e = v; e > k && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = '\0';
		v++;
		while (*v == ' ' || *v == '\t')
			v++;
		if ((*v == '"' || *v == '\'') && (e = strrchr(v + 1, *v))) {
			*e = '\0';
			v++;
		} else if ((e = strstr(v, " #")) != NULL)
			*e = '\0';
		if (*k)
			setenv(k, v, 0);
	}
	if (line) {
		explicit_bzero(line, cap);
		free(line);
	}
	fclose(f);
	logf_cli(c, SYNC_DEBUG, "Loaded ./.env");
}

/* A secret taken from the environment: copied, then its value is wiped
 * where it lies (the process's initial environment is what
 * /proc/PID/environ shows) and the variable removed, so that neither
 * /proc nor the git processes the daemon runs see it. dst NULL: only
 * wiped (the daemon, which reads its secrets from dsyncd.conf). */
static void take_secret_env(char **dst, const char *name)
{
	char *v = getenv(name);

	if (v == NULL)
		return;
	if (*v && dst)
		set_str(dst, v);
	explicit_bzero(v, strlen(v));
	unsetenv(name);
}

static void apply_env(struct sync_opts *o)
{
	const char *v;

	if ((v = getenv("DIRECTUS_URL")) && *v)
		set_str(&o->url, v);
	take_secret_env(&o->token, "DIRECTUS_TOKEN");
	if ((v = getenv("DIRECTUS_ADMIN_EMAIL")) && *v)
		set_str(&o->email, v);
	take_secret_env(&o->password, "DIRECTUS_ADMIN_PASSWORD");
	/* dsync's own, as --ca-file is. */
	if ((v = getenv("DSYNC_CA_FILE")) && *v)
		set_str(&o->ca_file, v);
}

/* An engine context for a command: connected (token or login), logging
 * through the CLI, tracing requests with --debug. */
static int open_ctx(struct cli *c, struct sync_ctx *ctx, struct dx **dx,
    char **err)
{
	int rc;

	memset(ctx, 0, sizeof(*ctx));
	ctx->opts = &c->opts;
	ctx->log = log_cb;
	ctx->log_arg = c;
	if ((rc = sync_connect(&c->opts, dx, err)) < 0)
		return rc;
	if (c->opts.debug)
		dx_set_trace(*dx, trace_cb, c);
	ctx->dx = *dx;
	return 0;
}

static double elapsed(const struct cli *c)
{
	struct timespec end;

	clock_gettime(CLOCK_MONOTONIC, &end);
	return (double)(end.tv_sec - c->start.tv_sec) +
	    (double)(end.tv_nsec - c->start.tv_nsec) / 1e9;
}

/* The end of every command: its error, if any, and the session. */
static int end_cmd(struct cli *c, struct dx *dx, int rc, char *err,
    const char *what)
{
	if (rc < 0)
		logf_cli(c, SYNC_ERR, "%s", err ? err : what);
	free(err);
	dx_free(dx);
	return rc < 0 ? 1 : 0;
}

/* pull --base: the instance's changes into the tree, and nothing else:
 * what changed in the dump, and conflicts, stay as they are. */
static int run_pull3(struct cli *c)
{
	struct sync_ctx ctx;
	struct three t;
	struct dx *dx = NULL;
	char *err = NULL;
	bool *take = NULL;
	size_t i, n = 0;
	int rc;

	memset(&t, 0, sizeof(t));
	if ((rc = open_ctx(c, &ctx, &dx, &err)) < 0 ||
	    (rc = sync_three(&ctx, c->base, NULL, &t, &err)) < 0)
		goto out;
	if (!t.have_base) {
		xasprintf(&err,
		    "no base of this instance and dump in %s: make "
		    "one with 'dsyncd diff --base %s --write-base agreed' (or "
		    "dump, or instance)",
		    c->base, c->base);
		rc = SYNC_EDUMP;
		goto out;
	}
	take = xcalloc(t.len + 1, sizeof(bool));
	for (i = 0; i < t.len; i++) {
		take[i] = t.v[i].cls == THREE_INSTANCE_CHANGED;
		if (t.v[i].cls == THREE_CONFLICT)
			logf_cli(c, SYNC_WARN,
			    "conflict, left as it is: %s %s%s%s%s",
			    t.v[i].rule ? t.v[i].rule->name : "schema",
			    t.v[i].key ? t.v[i].key : "",
			    t.v[i].label ? " \"" : "",
			    t.v[i].label ? t.v[i].label : "",
			    t.v[i].label ? "\"" : "");
	}
	if ((rc = three_write_tree(&ctx, &t, take, &n, &err)) < 0 ||
	    (rc = three_write_base(&ctx, &t, THREE_BASE_AGREED, c->base, NULL,
		 &err)) < 0)
		goto out;
	logf_cli(c, SYNC_INFO,
	    "Pulled %zu change(s) of the instance into %s; "
	    "left: %zu dump-changed, %zu conflict(s)",
	    n, c->opts.dump_path, t.counts[THREE_DUMP_CHANGED],
	    t.counts[THREE_CONFLICT]);
out:
	free(take);
	three_free(&t);
	return end_cmd(c, dx, rc, err, "pull failed");
}

static int run_pull(struct cli *c)
{
	struct sync_ctx ctx;
	struct sync_stats st;
	struct dx *dx = NULL;
	char *err = NULL;
	int rc;

	if (c->base)
		return run_pull3(c);
	if ((rc = open_ctx(c, &ctx, &dx, &err)) < 0 ||
	    (rc = sync_pull(&ctx, &st, &err)) < 0)
		return end_cmd(c, dx, rc, err, "pull failed");
	logf_cli(c, SYNC_INFO,
	    "Pulled %lu items into %s (%lu files, %s, %lu "
	    "requests, %lu new id maps, %.2f s)",
	    st.items, c->opts.dump_path, st.files,
	    st.tree_changed ? "changed" : "unchanged", st.requests,
	    st.map_rows_created, elapsed(c));
	logf_cli(c, SYNC_INFO, "Done!");
	return end_cmd(c, dx, 0, NULL, NULL);
}

/* Print the plan. A reader that went away (diff | head) is not an
 * error: its exit status is the diff's. */
static int print_plan(struct cli *c, const struct plan *plan, char **err)
{
	struct json *j = plan_json(plan);

	/* People read what dsyncctl diff prints, from the same JSON. */
	if (c->json) {
		size_t len;
		char *s = json_write(j, true, &len);

		printf("%s\n", s);
		free(s);
	} else
		plan_text_print(stdout, j, c->opts.pretty_diff, NULL);
	json_free(j);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno == EPIPE)
			return 0;
		xasprintf(err, "writing the diff to standard output: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* One line per difference of a three-way comparison. */
static void print_three(const struct cli *c, const struct three *t)
{
	size_t i, n = 0;

	if (!t->have_base)
		printf("no base in %s: differences are shown as \"differs\"\n",
		    c->base);
	for (i = 0; i < t->len; i++) {
		const struct three_item *it = &t->v[i];

		if (it->cls == THREE_IN_SYNC)
			continue;
		n++;
		if (it->rule)
			printf("  %-16s %-12s %s%s%s%s",
			    three_class_name(it->cls), it->rule->name,
			    it->key ? it->key : "(no SyncID)",
			    it->label ? " \"" : "", it->label ? it->label : "",
			    it->label ? "\"" : "");
		else
			printf("  %-16s %-12s %s", three_class_name(it->cls),
			    "schema", it->label ? it->label : it->key);
		if (it->who)
			printf(" (by %s%s%s)", it->who, it->when ? " at " : "",
			    it->when ? it->when : "");
		putchar('\n');
	}
	if (n == 0)
		printf("No differences.\n");
	else
		printf(
		    "%zu difference(s): %zu dump-changed, %zu "
		    "instance-changed, %zu conflict(s), %zu without a base\n",
		    n, t->counts[THREE_DUMP_CHANGED],
		    t->counts[THREE_INSTANCE_CHANGED],
		    t->counts[THREE_CONFLICT], t->counts[THREE_DIFFERS]);
}

/* diff --base: the three-way comparison, and --write-base. */
static int run_diff3(struct cli *c)
{
	struct sync_ctx ctx;
	struct three t;
	struct dx *dx = NULL;
	char *err = NULL;
	int rc;
	size_t n;

	memset(&t, 0, sizeof(t));
	if ((rc = open_ctx(c, &ctx, &dx, &err)) < 0 ||
	    (rc = sync_three(&ctx, c->base, NULL, &t, &err)) < 0)
		goto out;
	if (three_who(&ctx, &t, &err) < 0) {
		logf_cli(c, SYNC_WARN, "who changed what: %s", err);
		free(err);
		err = NULL;
	}
	if (c->json) {
		struct json *j = three_json(&t, true);
		char *text = json_write(j, true, NULL);

		printf("%s\n", text);
		free(text);
		json_free(j);
	} else
		print_three(c, &t);
	fflush(stdout);
	if (c->write_base &&
	    (rc = three_write_base(&ctx, &t,
		 (enum three_base)(c->write_base - 1), c->base, NULL, &err)) <
		0)
		goto out;
	if (c->write_base)
		logf_cli(c, SYNC_INFO, "base written to %s", c->base);
out:
	n = t.len - t.counts[THREE_IN_SYNC];
	three_free(&t);
	if (rc < 0)
		return end_cmd(c, dx, rc, err, "diff failed");
	end_cmd(c, dx, 0, NULL, NULL);
	return n ? 2 : 0;
}

static int run_diff(struct cli *c)
{
	struct sync_ctx ctx;
	struct sync_stats st;
	struct plan plan;
	struct dx *dx = NULL;
	char *err = NULL;
	int rc;

	if (c->base)
		return run_diff3(c);
	memset(&plan, 0, sizeof(plan));
	if ((rc = open_ctx(c, &ctx, &dx, &err)) < 0 ||
	    (rc = sync_diff(&ctx, NULL, &plan, &st, &err)) < 0 ||
	    (rc = print_plan(c, &plan, &err)) < 0) {
		plan_free(&plan);
		return end_cmd(c, dx, rc, err, "diff failed");
	}
	logf_cli(c, SYNC_DEBUG, "diff: %lu requests, %.2f s", st.requests,
	    elapsed(c));
	rc = plan.changes + plan.schema_changes ? 2 : 0;
	plan_free(&plan);
	end_cmd(c, dx, 0, NULL, NULL);
	return rc;
}

static int run_push(struct cli *c)
{
	struct sync_ctx ctx;
	struct sync_stats st;
	struct dx *dx = NULL;
	char *err = NULL;
	int rc;

	if ((rc = open_ctx(c, &ctx, &dx, &err)) < 0 ||
	    (rc = sync_push(&ctx, &st, &err)) < 0)
		return end_cmd(c, dx, rc, err, "push failed");
	logf_cli(c, SYNC_INFO,
	    "Pushed %s: %lu created, %lu updated, %lu "
	    "deleted (%lu pass(es), %lu requests, %.2f s)",
	    c->opts.dump_path, st.created, st.updated, st.deleted, st.passes,
	    st.requests, elapsed(c));
	logf_cli(c, SYNC_INFO, "Done!");
	return end_cmd(c, dx, 0, NULL, NULL);
}

static int helper_untrack(struct cli *c, struct sync_ctx *ctx, char **err)
{
	bool found;
	int rc;

	if (c->collection == NULL || c->id == NULL) {
		*err = xstrdup("untrack needs --collection and --id");
		return -1;
	}
	rc = sync_untrack(ctx, c->collection, c->id, &found, err);
	if (rc == 0 && !found)
		logf_cli(c, SYNC_WARN,
		    "[%s] %s has no map row: nothing to untrack", c->collection,
		    c->id);
	return rc;
}

static int helper_duplicates(struct cli *c, struct sync_ctx *ctx, char **err)
{
	size_t n;
	int rc = sync_remove_permission_duplicates(ctx, !c->keep_first, &n,
	    err);

	if (rc == 0)
		logf_cli(c, SYNC_INFO, "Deleted %zu duplicate permission(s)",
		    n);
	return rc;
}

static int run_helper(struct cli *c, const char *name)
{
	struct sync_ctx ctx;
	struct dx *dx = NULL;
	char *err = NULL;
	int rc = -1;

	memset(&ctx, 0, sizeof(ctx));
	ctx.opts = &c->opts;
	ctx.log = log_cb;
	ctx.log_arg = c;
	if (strcmp(name, "wait-server-ready") == 0) {
		/* No token: the server may not know it yet. */
		dx = sync_session(&c->opts);
		ctx.dx = dx;
		rc = sync_wait_ready(&ctx, c->interval, c->timeout,
		    (unsigned)c->successes, &err);
	} else if (strcmp(name, "untrack") == 0) {
		if ((rc = open_ctx(c, &ctx, &dx, &err)) == 0)
			rc = helper_untrack(c, &ctx, &err);
	} else if (strcmp(name, "remove-permission-duplicates") == 0) {
		if ((rc = open_ctx(c, &ctx, &dx, &err)) == 0)
			rc = helper_duplicates(c, &ctx, &err);
	} else
		xasprintf(&err,
		    "unknown helper '%s' (see 'dsyncd helpers --help')", name);
	if (rc == 0)
		logf_cli(c, SYNC_INFO, "Done!");
	return end_cmd(c, dx, rc, err, "helper failed");
}

/* seed diff: the plan, as diff prints one; 0 nothing to do, 2 changes. */
static int seed_diff_cmd(struct cli *c, struct sync_ctx *ctx,
    const struct seed_set *s, char **err)
{
	struct sync_stats st;
	struct json *plan = NULL;
	double n;
	int rc;

	if ((rc = seed_diff(ctx, s, &plan, &st, err)) < 0)
		return rc;
	if (c->json) {
		char *text = json_write(plan, true, NULL);

		printf("%s\n", text);
		free(text);
		n = json_get_count(plan, "changes");
	} else
		n = plan_text_print(stdout, plan, c->opts.pretty_diff, NULL);
	json_free(plan);
	if (fflush(stdout) != 0 && errno != EPIPE) {
		xasprintf(err, "writing the diff to standard output: %s",
		    strerror(errno));
		return -1;
	}
	logf_cli(c, SYNC_DEBUG, "seed diff: %lu requests, %.2f s", st.requests,
	    elapsed(c));
	return n > 0 ? 2 : 0;
}

static int run_seed(struct cli *c, const char *what)
{
	struct sync_ctx ctx;
	struct sync_stats st;
	struct seed_set s;
	struct dx *dx = NULL;
	char *err = NULL;
	int rc;

	memset(&s, 0, sizeof(s));
	if (strcmp(what, "diff") != 0 && strcmp(what, "push") != 0) {
		fprintf(stderr,
		    "dsyncd: unknown seed command '%s' (diff or push; see "
		    "'dsyncd seed --help')\n",
		    what);
		return 1;
	}
	if ((rc = open_ctx(c, &ctx, &dx, &err)) < 0 ||
	    (rc = seed_load(&ctx, c->opts.seed_paths, c->opts.nseed_paths, &s,
		 &err)) < 0)
		return end_cmd(c, dx, rc, err, "seed failed");
	if (strcmp(what, "diff") == 0) {
		rc = seed_diff_cmd(c, &ctx, &s, &err);
		seed_set_free(&s);
		if (rc < 0)
			return end_cmd(c, dx, rc, err, "seed diff failed");
		end_cmd(c, dx, 0, NULL, NULL);
		return rc;
	}
	rc = seed_push(&ctx, &s, &st, &err);
	seed_set_free(&s);
	if (rc < 0)
		return end_cmd(c, dx, rc, err, "seed push failed");
	logf_cli(c, SYNC_INFO,
	    "Seeded: %lu created, %lu updated, %lu deleted (%lu requests, "
	    "%.2f s)",
	    st.created, st.updated, st.deleted, st.requests, elapsed(c));
	logf_cli(c, SYNC_INFO, "Done!");
	return end_cmd(c, dx, 0, NULL, NULL);
}

static bool is_command(const char *w)
{
	return strcmp(w, "pull") == 0 || strcmp(w, "diff") == 0 ||
	    strcmp(w, "push") == 0 || strcmp(w, "helpers") == 0 ||
	    strcmp(w, "seed") == 0;
}

/* Whether argv holds a one-shot command: a word that is not an option
 * and not an option's value. */
static bool has_command(int argc, char **argv)
{
	static const char *const with_value[] = { "-u", "-t", "-e", "-p", "-c",
		"-H", "-x", "-o", "--directus-url", "--directus-token",
		"--directus-email", "--directus-password", "--config-path",
		"--header", "--dump-path", "--collections-path",
		"--snapshot-path", "--specs-path", "--exclude-collections",
		"--only-collections", "--preserve-ids", "--max-push-retries",
		"--id-map", "--collection", "--id", "--keep", "--interval",
		"--timeout", "--successes", "--max-deletes", "--lock-wait",
		"--max-response-mb", "--base", "--write-base", "--ca-file",
		"--request-timeout", "--seed-path" };
	int i;
	size_t k;

	for (i = 1; i < argc; i++) {
		bool value = false;

		if (strcmp(argv[i], "--") == 0)
			return i + 1 < argc;
		if (argv[i][0] != '-')
			return true;
		for (k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++)
			value |= strcmp(argv[i], with_value[k]) == 0;
		/* -f is --force of the commands, and the daemon's
		 * configuration file when no command follows it. */
		if ((strcmp(argv[i], "-f") == 0 ||
			strcmp(argv[i], "--config") == 0) &&
		    i + 1 < argc && !is_command(argv[i + 1]))
			value = true;
		i += value;
	}
	return false;
}

static const char usage_daemon[] =
    "Usage: dsyncd [-f FILE] [-n] [-d]\n\n"
    "  -f, --config FILE   the configuration (default " CONF_DEFAULT_PATH ")\n"
    "  -n, --check         check the file, print the effective configuration\n"
    "                      (secrets shown as (set)), and exit\n"
    "  -d, --debug         log debug messages\n"
    "  -h, --help          this help; 'dsyncd --help' lists the one-shot commands\n"
    "\nRuns in the foreground (systemd does the rest). Exit status: 0 stopped\n"
    "cleanly, 1 failure, 78 a configuration that does not load.\n";

/* main made the process not dumpable; this undoes it, when asked, for
 * core dumps or a debugger of the same user. */
static void set_dumpable(void)
{
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		perror("dsyncd: prctl(PR_SET_DUMPABLE, 1)");
}

/* dsyncd without a command: the daemon, or -n. */
static int daemon_cli(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "check", no_argument, NULL, 'n' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = CONF_DEFAULT_PATH;
	bool check = false;
	int ch;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "f:ndhV", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			path = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'd':
			setenv("DSYNCD_DEBUG", "1", 1);
			break;
		case 'h':
			fputs(usage_daemon, stdout);
			return 0;
		case 'V':
			printf("dsyncd %s\n", DSYNC_VERSION);
			return 0;
		default:
			if (optopt == 'f')
				fprintf(stderr,
				    "dsyncd: -f needs a configuration file\n");
			else
				fprintf(stderr, "dsyncd: unknown option %s\n",
				    argv[optind - 1]);
			fputs("Try 'dsyncd -h'.\n", stderr);
			return 1;
		}
	}
	if (check) {
		struct conf c;
		char *err = NULL;

		conf_init(&c);
		if (conf_load(&c, path, &err) < 0) {
			fprintf(stderr, "dsyncd: %s\n", err);
			free(err);
			conf_clear(&c);
			return 78;
		}
		conf_print(&c, stdout);
		if (!c.tls_verify) {
			char *u = sync_opts_url_shown(c.url);

			fprintf(stderr,
			    "dsyncd: warning: TLS verification is "
			    "off for URL: %s (tls_verify = false)\n",
			    u);
			free(u);
		}
		conf_clear(&c);
		printf("# %s: the configuration is valid\n", path);
		return 0;
	}
	if (conf_peek_dumpable(path))
		set_dumpable();
	take_secret_env(NULL, "DIRECTUS_TOKEN");
	take_secret_env(NULL, "DIRECTUS_ADMIN_PASSWORD");
	return daemon_main(path);
}

static int cmd_pull(struct cli *c, const char *arg)
{
	return run_pull(c);
}

static int cmd_diff(struct cli *c, const char *arg)
{
	return run_diff(c);
}

static int cmd_push(struct cli *c, const char *arg)
{
	return run_push(c);
}

/* The one-shot commands: name, --help text, words after the name (the
 * helper's), what runs it. */
static const struct cli_cmd {
	const char *name;
	const char *usage;
	int words;
	int (*run)(struct cli *, const char *arg);
} cli_cmds[] = {
	{ "pull", usage_pull, 0, cmd_pull },
	{ "diff", usage_diff, 0, cmd_diff },
	{ "push", usage_push, 0, cmd_push },
	{ "seed", usage_seed, 1, run_seed },
	{ "helpers", usage_helpers, 1, run_helper },
};

static const struct cli_cmd *cli_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < sizeof(cli_cmds) / sizeof(cli_cmds[0]); i++)
		if (strcmp(cli_cmds[i].name, name) == 0)
			return &cli_cmds[i];
	return NULL;
}

struct cli_args {
	struct {
		int ch;
		char *arg;
	} * flags; /* applied after the config */
	int nflags;
	char **words; /* the command and its words */
	int nwords;
	const char *config_path;
	bool help;
};

/* Options may stand before and after the command: the flags are
 * collected, to be applied after the config file. 0, 1 when done (-V),
 * -1 on a usage error (said). */
static int collect_args(struct cli *c, int argc, char **argv,
    struct cli_args *a)
{
	int ch;

	opterr = 0;
	optind = 1;
	for (;;) {
		ch = getopt_long(argc, argv, short_opts, long_opts, NULL);
		if (ch == -1) {
			if (optind >= argc)
				return 0;
			a->words[a->nwords++] = argv[optind++];
			continue;
		}
		if (ch == '?' || ch == ':') {
			if (optopt)
				fprintf(stderr, "dsyncd: option -%c: %s\n",
				    optopt,
				    ch == ':' ? "needs a value" :
						"unknown option");
			else
				fprintf(stderr,
				    "dsyncd: unknown option or "
				    "missing value: %s\n",
				    argv[optind - 1]);
			fprintf(stderr, "Try 'dsyncd --help'.\n");
			return -1;
		}
		if (ch == 'h') {
			a->help = true;
			continue;
		}
		if (ch == 'V') {
			printf("dsyncd %s\n", DSYNC_VERSION);
			return 1;
		}
		if (ch == 'c') {
			a->config_path = optarg;
			continue;
		}
		if (ch == 'd')
			c->level = SYNC_DEBUG;
		a->flags[a->nflags].ch = ch;
		a->flags[a->nflags].arg = optarg ? xstrdup(optarg) : NULL;
		/* Secrets would stay visible in /proc/<pid>/cmdline. */
		if ((ch == 't' || ch == 'p') && optarg)
			explicit_bzero(optarg, strlen(optarg));
		a->nflags++;
	}
}

/* The command and its words: the command's entry, or NULL (said). */
static const struct cli_cmd *check_command(const struct cli_args *a)
{
	const struct cli_cmd *cmd;

	if (a->nwords == 0) {
		fprintf(stderr, "dsyncd: no command (see 'dsyncd --help')\n");
		return NULL;
	}
	if ((cmd = cli_find(a->words[0])) == NULL) {
		fprintf(stderr,
		    "dsyncd: unknown command '%s' (see 'dsyncd --help')\n",
		    a->words[0]);
		return NULL;
	}
	if (cmd->words == 1 && a->nwords != 2) {
		fprintf(stderr,
		    "dsyncd: %s needs one %s (see 'dsyncd %s --help')\n",
		    cmd->name,
		    strcmp(cmd->name, "seed") == 0 ? "of diff or push" :
						     "helper name",
		    cmd->name);
		return NULL;
	}
	if (cmd->words == 0 && a->nwords > 1) {
		fprintf(stderr, "dsyncd: unexpected argument '%s'\n",
		    a->words[1]);
		return NULL;
	}
	return cmd;
}

/* The options in directus-sync's order: the config file, .env, the
 * environment, the flags; then checked. */
static int configure(struct cli *c, const struct cli_args *a, char **err)
{
	int i;

	if (load_config(c, a->config_path, err) < 0)
		return -1;
	load_dotenv(c);
	apply_env(&c->opts);
	for (i = 0; i < a->nflags; i++)
		if (apply_flag(c, a->flags[i].ch, a->flags[i].arg, err) < 0)
			return -1;
	if (c->opts.debug)
		c->level = SYNC_DEBUG;
	if (a->nwords == 2 && strcmp(a->words[1], "wait-server-ready") == 0)
		return sync_opts_validate_url(&c->opts, err);
	return sync_opts_validate(&c->opts, err);
}

/* No command and no -h or -V alone: the daemon. */
static bool is_daemon(int argc, char **argv)
{
	int i;

	if (has_command(argc, argv))
		return false;
	/* -h and -V alone keep the one-shot help and version. */
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-V") == 0 ||
		    strcmp(argv[i], "--version") == 0)
			break;
	return i == argc || argc > 2;
}

static void cli_init(struct cli *c)
{
	memset(c, 0, sizeof(*c));
	c->interval = 5;
	c->timeout = 90;
	c->successes = 1;
	clock_gettime(CLOCK_MONOTONIC, &c->start);
	c->level = SYNC_INFO;
	sync_opts_init(&c->opts);
}

int cli_main(int argc, char **argv)
{
	struct cli c;
	struct cli_args a;
	const struct cli_cmd *cmd;
	char *err = NULL;
	int i, rc = 1;

	sync_opts_set_js_reader(hook_read_js_config);
	if (is_daemon(argc, argv))
		return daemon_cli(argc, argv);
	if (getenv("DSYNC_DUMPABLE") &&
	    strcmp(getenv("DSYNC_DUMPABLE"), "1") == 0)
		set_dumpable();
	cli_init(&c);
	memset(&a, 0, sizeof(a));
	a.flags = xcalloc((size_t)argc + 1, sizeof(*a.flags));
	a.words = xcalloc((size_t)argc + 1, sizeof(char *));
	if ((rc = collect_args(&c, argc, argv, &a)) != 0) {
		rc = rc > 0 ? 0 : 1;
		goto out;
	}
	c.command = a.nwords > 0 ? a.words[0] : NULL;
	if (a.help) {
		cmd = cli_find(c.command);
		fputs(cmd ? cmd->usage : usage_main, stdout);
		goto out;
	}
	rc = 1;
	if ((cmd = check_command(&a)) == NULL)
		goto out;
	if (configure(&c, &a, &err) < 0) {
		logf_cli(&c, SYNC_ERR, "%s", err);
		free(err);
		goto out;
	}
	rc = cmd->run(&c, a.nwords > 1 ? a.words[1] : NULL);
out:
	for (i = 0; i < a.nflags; i++) {
		if (a.flags[i].arg)
			explicit_bzero(a.flags[i].arg, strlen(a.flags[i].arg));
		free(a.flags[i].arg);
	}
	free(a.flags);
	free(a.words);
	free(c.collection);
	free(c.id);
	free(c.base);
	sync_opts_clear(&c.opts);
	return rc;
}
