/*
 * node_ref: finding node, and the files its scripts read (see
 * node_ref.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "node_ref.h"
#include "xmalloc.h"

char *node_find(const char *who)
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

void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}
