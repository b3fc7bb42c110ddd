/*
 * fuzz_dump: the dump tree read back (daemon/sync/load.c), with the
 * options and context the CLI sets up (sync_opts_init, ctx.opts and a log
 * callback) and no session: nothing here talks to a network.
 *
 * The dump tree lives in a private temporary directory made once per
 * process. One file holds the input, hard-linked at every place the
 * loader reads:
 *
 *   collections/policies.json   load_collection (policies: the 3.4 form
 *                               brought to 3.5 as well)
 *   snapshot/snapshot.json      load_snapshot_text, --no-split
 *   snapshot/info.json          load_snapshot_text, split: info, then
 *   snapshot/collections/c.json   one file of each sub-tree (the fields
 *   snapshot/fields/c/f.json      one a level down, as a pull writes
 *   snapshot/relations/c/r.json   them)
 *
 * Besides what the sanitizers catch: items that load are objects with
 * unique, non-empty "_syncId" strings, and a snapshot text that loads is
 * JSON (an object), unless nested deeper than the JSON reader goes.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collections.h"
#include "fsutil.h"
#include "json.h"
#include "load.h"
#include "sync.h"
#include "xmalloc.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, \
			    "fuzz_dump: check failed at %s:%d: %s\n", \
			    __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

static char *tmpdir;
static int input_fd = -1;
static struct sync_opts opts_split, opts_whole;
static struct sync_ctx ctx_split, ctx_whole;
static const struct coll_rule *policies;
static size_t nfields;

static void log_cb(void *arg, enum sync_level level, const char *msg)
{
	(void)arg;
	(void)level;
	CHECK(msg != NULL);
}

static void field_cb(void *arg, const struct json *f)
{
	(void)arg;
	CHECK(f != NULL && f->type == JSON_OBJECT);
	nfields++;
}

static void remove_tmpdir(void)
{
	if (tmpdir)
		fs_rmtree(tmpdir);
}

static void mkdir_in(const char *rel)
{
	char *p = fs_join(tmpdir, rel);

	CHECK(fs_mkdirs(p, 0700) == 0);
	free(p);
}

static void link_in(const char *rel)
{
	char *from = fs_join(tmpdir, "collections/policies.json");
	char *to = fs_join(tmpdir, rel);

	CHECK(link(from, to) == 0);
	free(from);
	free(to);
}

/* The options of a CLI run on the tree at tmpdir. */
static void setup_ctx(struct sync_opts *o, struct sync_ctx *c, bool split)
{
	sync_opts_init(o);
	free(o->dump_path);
	o->dump_path = xstrdup(tmpdir);
	o->split = split;
	memset(c, 0, sizeof(*c));
	c->opts = o;
	c->log = log_cb;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = getenv("TMPDIR");
	char *tmpl, *input;

	(void)argc;
	(void)argv;
	xasprintf(&tmpl, "%s/dsync-fuzz-dump.XXXXXX",
	    base && *base == '/' ? base : "/tmp");
	CHECK(mkdtemp(tmpl) != NULL);
	tmpdir = tmpl;
	atexit(remove_tmpdir);
	mkdir_in("collections");
	mkdir_in("snapshot/collections");
	mkdir_in("snapshot/fields/c");
	mkdir_in("snapshot/relations/c");
	input = fs_join(tmpdir, "collections/policies.json");
	input_fd = open(input, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(input_fd >= 0);
	free(input);
	link_in("snapshot/snapshot.json");
	link_in("snapshot/info.json");
	link_in("snapshot/collections/c.json");
	link_in("snapshot/fields/c/f.json");
	link_in("snapshot/relations/c/r.json");
	setup_ctx(&opts_split, &ctx_split, true);
	setup_ctx(&opts_whole, &ctx_whole, false);
	CHECK((policies = coll_find("policies")) != NULL);
	return 0;
}

static void check_items(const struct json *items)
{
	size_t i, j;

	CHECK(items != NULL && items->type == JSON_ARRAY);
	for (i = 0; i < items->u.arr.len; i++) {
		const struct json *it = items->u.arr.items[i];
		const char *sid = json_str(json_get(it, "_syncId"));

		CHECK(it->type == JSON_OBJECT && sid != NULL && *sid != '\0');
		/* quadratic, but inputs are small */
		for (j = 0; j < i && j < 64; j++)
			CHECK(strcmp(sid,
				  json_str(json_get(items->u.arr.items[j],
				      "_syncId"))) != 0);
	}
}

/* JSON, or nested deeper than json_parse reads (the lists wrap each
 * file's object one level further down). */
static void check_text(char *text)
{
	char *err = NULL;
	struct json *v = json_parse(text, strlen(text), &err);

	if (v == NULL && strstr(err, "nesting too deep") != NULL) {
		free(err);
		free(text);
		return;
	}
	if (v == NULL)
		fprintf(stderr,
		    "fuzz_dump: snapshot text is not JSON: %s\n%.2000s\n", err,
		    text);
	CHECK(v != NULL && v->type == JSON_OBJECT);
	json_free(v);
	free(text);
}

static void snapshot(const struct sync_ctx *ctx)
{
	char *text = NULL, *err = NULL;

	nfields = 0;
	if (load_snapshot_text(ctx, tmpdir, &text, field_cb, NULL, &err) < 0) {
		CHECK(err != NULL && text == NULL);
		free(err);
		return;
	}
	CHECK(err == NULL && text != NULL);
	check_text(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json *items = NULL;
	char *err = NULL;

	CHECK(ftruncate(input_fd, 0) == 0);
	CHECK(pwrite(input_fd, data, size, 0) == (ssize_t)size);

	if (load_collection(&ctx_split, tmpdir, policies, &items, &err) < 0) {
		CHECK(err != NULL && items == NULL);
		free(err);
	} else {
		CHECK(err == NULL);
		check_items(items);
		json_free(items);
	}
	snapshot(&ctx_whole);
	snapshot(&ctx_split);
	return 0;
}
