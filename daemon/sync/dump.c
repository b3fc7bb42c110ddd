/*
 * dump: staging and swapping dump trees. The staging directory is a
 * sibling (same file system, so rename and link work), named
 * ".<name>.dsync-XXXXXX", and is removed on every failure path.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dump.h"
#include "fsutil.h"
#include "xmalloc.h"

struct dump_stage {
	char *dump;		/* the live tree */
	char *stage;		/* the staging tree */
	int lockfd;		/* the parent directory, flock'ed */
	bool had_old;
};

/* Under the lock no other run stages this tree, so any staging directory
 * of it is what a crash left behind. */
static void remove_stale(const char *parent, const char *base)
{
	DIR *d = opendir(parent);
	struct dirent *de;
	char *prefix;

	if (d == NULL)
		return;
	xasprintf(&prefix, ".%s.dsync-", base);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0 &&
		    strlen(de->d_name) == strlen(prefix) + 6) {
			char *p = fs_join(parent, de->d_name);

			fs_rmtree(p);
			free(p);
		}
	}
	free(prefix);
	closedir(d);
}

int dump_check_relpath(const char *what, const char *rel, char **errstr)
{
	const char *p = rel;

	if (rel[0] == '/') {
		xasprintf(errstr, "%s '%s' must be relative to the dump path",
		    what, rel);
		return -1;
	}
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			xasprintf(errstr, "%s '%s' must stay inside the dump "
			    "path (no '..')", what, rel);
			return -1;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	return 0;
}

int dump_stage_begin(const char *dump_path,
    bool (*skip)(const char *rel, void *arg), void *arg,
    struct dump_stage **out, char **errstr)
{
	struct dump_stage *s = xcalloc(1, sizeof(*s));
	char *copy = xstrdup(dump_path), *dir, *base, *tmpl, *parent;
	size_t len = strlen(copy);
	struct stat st;
	int rc;

	s->lockfd = -1;
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	s->dump = xstrdup(copy);
	dir = dirname(copy);
	if ((rc = fs_mkdirs(dir, 0755)) < 0) {
		xasprintf(errstr, "cannot create %s: %s", dir, strerror(-rc));
		goto fail;
	}
	s->lockfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->lockfd < 0 || flock(s->lockfd, LOCK_EX | LOCK_NB) < 0) {
		xasprintf(errstr, "%s: %s", dir, errno == EWOULDBLOCK ?
		    "another dsyncd run is writing a dump here" :
		    strerror(errno));
		goto fail;
	}
	free(copy);
	copy = xstrdup(s->dump);
	base = basename(copy);
	dir = xstrdup(s->dump);
	parent = dirname(dir);
	remove_stale(parent, base);
	xasprintf(&tmpl, "%s/.%s.dsync-XXXXXX", parent, base);
	free(dir);
	if (mkdtemp(tmpl) == NULL) {
		xasprintf(errstr, "cannot create a staging directory beside %s:"
		    " %s", s->dump, strerror(errno));
		free(tmpl);
		goto fail;
	}
	s->stage = tmpl;
	if (stat(s->dump, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			xasprintf(errstr, "dump path %s is not a directory",
			    s->dump);
			goto fail;
		}
		s->had_old = true;
		chmod(s->stage, st.st_mode & 07777);
		if ((rc = fs_link_tree(s->dump, s->stage, skip, arg)) < 0) {
			xasprintf(errstr, "cannot carry %s over into the new "
			    "tree: %s", s->dump, strerror(-rc));
			goto fail;
		}
	} else
		chmod(s->stage, 0755);
	free(copy);
	*out = s;
	return 0;
fail:
	free(copy);
	dump_stage_abort(s);
	return -1;
}

int dump_stage_write(struct dump_stage *s, const char *rel, const char *data,
    size_t len, char **errstr)
{
	char *path = fs_join(s->stage, rel), *dir = xstrdup(path);
	int rc;

	rc = fs_mkdirs(dirname(dir), 0755);
	/* Never write through a hard link into the old tree. */
	if (rc == 0 && unlink(path) < 0 && errno != ENOENT)
		rc = -errno;
	if (rc == 0)
		rc = fs_write_file(path, data, len);
	if (rc < 0)
		xasprintf(errstr, "cannot write %s/%s: %s", s->dump, rel,
		    strerror(-rc));
	free(dir);
	free(path);
	return rc < 0 ? -1 : 0;
}

int dump_stage_write_dir(struct dump_stage *s, const char *rel,
    char **errstr)
{
	char *path = fs_join(s->stage, rel);
	int rc = fs_mkdirs(path, 0755);

	if (rc < 0)
		xasprintf(errstr, "cannot create %s/%s: %s", s->dump, rel,
		    strerror(-rc));
	free(path);
	return rc < 0 ? -1 : 0;
}

int dump_stage_keep(struct dump_stage *s, const char *rel)
{
	char *from = fs_join(s->dump, rel), *to = fs_join(s->stage, rel);
	char *dir = xstrdup(to);
	int rc = fs_mkdirs(dirname(dir), 0755);

	if (rc == 0) {
		unlink(to);
		if (link(from, to) < 0)
			rc = -errno;
	}
	free(dir);
	free(from);
	free(to);
	return rc;
}

int dump_stage_read_old(struct dump_stage *s, const char *rel, char **data,
    size_t *len)
{
	char *path = fs_join(s->dump, rel);
	int rc = fs_read_file(path, data, len);

	free(path);
	if (rc == -ENOENT) {
		*data = NULL;
		return 0;
	}
	return rc;
}

int dump_stage_commit(struct dump_stage *s, char **errstr)
{
	int fd, rc = -1;

	/* One syncfs flushes every staged file before the swap. */
	fd = open(s->stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		syncfs(fd);
		close(fd);
	}
	if (s->had_old) {
		if (renameat2(AT_FDCWD, s->stage, AT_FDCWD, s->dump,
		    RENAME_EXCHANGE) < 0) {
			xasprintf(errstr, "cannot swap the new tree into %s: %s",
			    s->dump, strerror(errno));
			goto fail;
		}
		/* The old tree now sits at the staging path. */
		fs_rmtree(s->stage);
	} else if (rename(s->stage, s->dump) < 0) {
		xasprintf(errstr, "cannot move the new tree to %s: %s",
		    s->dump, strerror(errno));
		goto fail;
	}
	free(s->stage);
	s->stage = NULL;
	rc = 0;
fail:
	dump_stage_abort(s);
	return rc;
}

void dump_stage_abort(struct dump_stage *s)
{
	if (s == NULL)
		return;
	if (s->stage) {
		fs_rmtree(s->stage);
		free(s->stage);
	}
	if (s->lockfd >= 0)
		close(s->lockfd);
	free(s->dump);
	free(s);
}
