/*
 * node_ref: node run on a script and its input (see node_ref.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "node_ref.h"
#include "xmalloc.h"

static char *node_find(const char *who)
{
	const char *path = getenv("PATH"), *env = getenv("NODE");
	const char *p, *e;
	char *cand;

	if (env != NULL && *env != '\0')
		return xstrdup(env);
	for (p = path; p && *p; p = *e ? e + 1 : e) {
		e = strchr(p, ':');
		if (e == NULL)
			e = p + strlen(p);
		xasprintf(&cand, "%.*s/node", (int)(e - p), p);
		if (access(cand, X_OK) == 0)
			return cand;
		free(cand);
	}
	if (access("/usr/bin/node", X_OK) == 0)
		return xstrdup("/usr/bin/node");
	fail_msg("node not found (not in $NODE, on PATH or /usr/bin/node): "
		 "%s need it as the reference",
	    who);
	return NULL;
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

void node_run(const char *who, const char *script, size_t slen,
    const char *input, size_t ilen, const char *arg, struct buf *out)
{
	char dir[] = "/tmp/dsync-node.XXXXXX";
	char *node, *spath, *dpath, *cmd, chunk[4096];
	size_t n;
	FILE *p;
	int st;

	node = node_find(who);
	assert_non_null(mkdtemp(dir));
	xasprintf(&spath, "%s/script.js", dir);
	xasprintf(&dpath, "%s/data", dir);
	write_file(spath, script, slen);
	write_file(dpath, input ? input : "", ilen);
	xasprintf(&cmd, "'%s' '%s' '%s' %s", node, spath, dpath,
	    arg ? arg : "");
	p = popen(cmd, "r");
	assert_non_null(p);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		buf_add(out, chunk, n);
	st = pclose(p);
	unlink(spath);
	unlink(dpath);
	rmdir(dir);
	free(cmd);
	free(spath);
	free(dpath);
	free(node);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("node failed (status %d)", st);
}
