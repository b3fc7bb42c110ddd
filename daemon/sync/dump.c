/*
 * dump: the lock of a dump tree and its all-or-nothing update.
 *
 * An update is staged in <tree>/.dsync-staging: each file whose bytes
 * change is written there under a number. At commit, a journal listing
 * every directory to make, file to move in and file to remove is written
 * and flushed with the staged files; its rename into place is the commit
 * point. Then the moves and removals are carried out and the staging
 * directory removed. A crash before the commit point leaves the old tree
 * and a staging directory that the next lock discards; a crash after it
 * leaves a journal that the next lock carries out again (every step can
 * be repeated) before anything reads the tree.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "dump.h"
#include "fsutil.h"
#include "result.h"
#include "strmap.h"
#include "xmalloc.h"

#define JOURNAL "journal"

/* --- paths --- */

int dump_check_relpath(const char *what, const char *rel, char **errstr)
{
	const char *p = rel;

	if (rel[0] == '/') {
		xasprintf(errstr, "%s '%s' must be relative to the dump path",
		    what, rel);
		return SYNC_EDUMP;
	}
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			xasprintf(errstr,
			    "%s '%s' must stay inside the dump path (no '..')",
			    what, rel);
			return SYNC_EDUMP;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	return 0;
}

int dump_check_name(const char *what, const char *name, char **errstr)
{
	const unsigned char *p;
	char *shown;

	if (name == NULL || name[0] == '\0' || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0) {
		xasprintf(errstr, "%s \"%s\" cannot be a file name in the dump",
		    what, name ? name : "(none)");
		return SYNC_EPROTO;
	}
	for (p = (const unsigned char *)name; *p; p++)
		if (*p == '/' || *p < 0x20 || *p == 0x7f)
			break;
	if (*p == '\0')
		return 0;
	/* The name is shown with its control characters as '?'. */
	shown = xstrdup(name);
	for (p = (unsigned char *)shown; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*(unsigned char *)p = '?';
	xasprintf(errstr,
	    "%s \"%s\" cannot be a file name in the dump (it "
	    "holds a '/' or a control character)",
	    what, shown);
	free(shown);
	return SYNC_EPROTO;
}

/* "collections" / "./x//y/" -> "x/y": relative paths as the dump tree
 * names them, so that carried-over files can be told apart. */
char *dump_norm_rel(const char *p)
{
	struct buf b;

	buf_init(&b);
	while (*p) {
		size_t n = strcspn(p, "/");

		if (!(n == 0 || (n == 1 && p[0] == '.'))) {
			if (b.len)
				buf_addc(&b, '/');
			buf_add(&b, p, n);
		}
		p += n;
		while (*p == '/')
			p++;
	}
	return buf_steal(&b, NULL);
}

/* Whether rel is a clean relative path: no empty, "." or ".."
 * component, no leading or trailing '/'. */
static bool clean_rel(const char *rel)
{
	const char *p = rel;

	if (*p == '\0')
		return false;
	for (;;) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p == '\0')
			return true;
		p++;
	}
}

static int fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0 && errno != EINVAL)
		rc = -errno;
	close(fd);
	return rc;
}

static char *parent_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* --- the journal: records of kind, number and path, NUL-separated --- */

enum op_kind {
	OP_MKDIR = 'M',	 /* make the directory rel */
	OP_WRITE = 'W',	 /* move staged file n to rel */
	OP_DELETE = 'D', /* remove the file rel */
	OP_RMDIR = 'R',	 /* remove the directory rel if empty */
};

struct op {
	char kind;
	unsigned n;
	char *rel;
};

struct ops {
	struct op *v;
	size_t len, cap;
};

static void ops_add(struct ops *o, char kind, unsigned n, const char *rel)
{
	if (o->len == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 32;
		o->v = xreallocarray(o->v, o->cap, sizeof(*o->v));
	}
	o->v[o->len].kind = kind;
	o->v[o->len].n = n;
	o->v[o->len++].rel = xstrdup(rel);
}

static void ops_clear(struct ops *o)
{
	size_t i;

	for (i = 0; i < o->len; i++)
		free(o->v[i].rel);
	free(o->v);
	memset(o, 0, sizeof(*o));
}

static char *journal_text(const struct ops *o, size_t *len)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	buf_adds(&b, "dsync-journal 1");
	buf_addc(&b, '\0');
	for (i = 0; i < o->len; i++) {
		buf_addf(&b, "%c%u", o->v[i].kind, o->v[i].n);
		buf_addc(&b, '\0');
		buf_adds(&b, o->v[i].rel);
		buf_addc(&b, '\0');
	}
	return buf_steal(&b, len);
}

/* Read a journal back; a torn or foreign one is refused. */
static int journal_parse(const char *data, size_t len, struct ops *o)
{
	const char *p = data, *end = data + len;
	size_t n = strnlen(p, len);

	if (n == len || strcmp(p, "dsync-journal 1") != 0)
		return -1;
	p += n + 1;
	while (p < end) {
		const char *rec = p, *rel;
		char kind;
		char *e;
		unsigned long num;

		n = strnlen(rec, (size_t)(end - rec));
		if (rec + n == end || n < 2)
			return -1;
		kind = rec[0];
		num = strtoul(rec + 1, &e, 10);
		if (e != rec + n || num > UINT_MAX)
			return -1;
		rel = rec + n + 1;
		n = strnlen(rel, (size_t)(end - rel));
		if (rel + n == end || !clean_rel(rel) ||
		    (kind != OP_MKDIR && kind != OP_WRITE &&
			kind != OP_DELETE && kind != OP_RMDIR))
			return -1;
		ops_add(o, kind, (unsigned)num, rel);
		p = rel + n + 1;
	}
	return 0;
}

/* Flush the directories that hold the changes: each target's
 * directory and, for directories made on the way, their parents up to
 * the root. */
static int flush_dirs(const char *root, const struct ops *o, char **errstr)
{
	struct strmap *seen = strmap_new();
	size_t i, rl = strlen(root);
	int rc = 0;

	for (i = 0; i < o->len && rc == 0; i++) {
		char *to = fs_join(root, o->v[i].rel);
		char *d = o->v[i].kind == OP_MKDIR ? to : parent_of(to);

		if (d != to)
			free(to);
		while (rc == 0 && strlen(d) >= rl && !strmap_get(seen, d)) {
			char *up = parent_of(d);

			strmap_put(seen, d, (void *)1);
			if ((rc = fsync_dir(d)) == -ENOENT)
				rc = 0;
			else if (rc < 0)
				xasprintf(errstr, "flushing %s: %s", d,
				    strerror(-rc));
			free(d);
			d = up;
		}
		free(d);
	}
	strmap_free(seen);
	return rc;
}

/* Carry the journal out. Every step may have been done already by an
 * interrupted run: a staged file that is gone was moved, a file to
 * remove that is gone was removed. */
static int journal_apply(const char *root, const char *stage,
    const struct ops *o, char **errstr)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < o->len && rc == 0; i++) {
		const struct op *op = &o->v[i];
		char *to = fs_join(root, op->rel), *dir = parent_of(to);
		char *from = NULL, num[16];

		switch (op->kind) {
		case OP_MKDIR:
			rc = fs_mkdirs(to, 0755);
			break;
		case OP_WRITE:
			snprintf(num, sizeof(num), "%u", op->n);
			from = fs_join(stage, num);
			if ((rc = fs_mkdirs(dir, 0755)) < 0)
				break;
			if (rename(from, to) < 0 && errno != ENOENT)
				rc = -errno;
			break;
		case OP_DELETE:
			if (unlink(to) < 0 && errno != ENOENT)
				rc = -errno;
			break;
		case OP_RMDIR:
			if (rmdir(to) < 0 && errno != ENOENT &&
			    errno != ENOTEMPTY && errno != EEXIST)
				rc = -errno;
			break;
		}
		if (rc < 0)
			xasprintf(errstr,
			    "updating %s: %s: %s (the update "
			    "will be completed by the next run)",
			    root, op->rel, strerror(-rc));
		free(from);
		free(dir);
		free(to);
	}
	if (rc == 0)
		rc = flush_dirs(root, o, errstr);
	return rc < 0 ? SYNC_EIO : 0;
}

/* After a lock: finish or discard what an interrupted update left. */
static int recover(const char *root, bool *recovered, char **errstr)
{
	char *stage = fs_join(root, DUMP_STAGING_DIR);
	char *jpath = fs_join(stage, JOURNAL), *data = NULL;
	struct ops o;
	size_t len;
	int rc = 0;
	struct stat st;

	memset(&o, 0, sizeof(o));
	*recovered = false;
	if (lstat(stage, &st) < 0)
		goto out;
	if (fs_read_file(jpath, &data, &len) == 0) {
		if (journal_parse(data, len, &o) < 0) {
			xasprintf(errstr,
			    "%s: not a journal of dsync's; "
			    "remove the directory %s",
			    jpath, stage);
			rc = SYNC_EIO;
			goto out;
		}
		if ((rc = journal_apply(root, stage, &o, errstr)) < 0)
			goto out;
		*recovered = true;
	}
	if ((rc = fs_rmtree(stage)) < 0) {
		xasprintf(errstr, "cannot remove %s: %s", stage, strerror(-rc));
		rc = SYNC_EIO;
	}
out:
	ops_clear(&o);
	free(data);
	free(jpath);
	free(stage);
	return rc;
}

/* --- the lock --- */

struct dump_lock {
	char *root;
	int fd;
	bool created, recovered;
};

/* The pid holding a flock on the inode of fd, from /proc/locks; 0 if it
 * cannot be told. */
static long lock_holder(int fd)
{
	struct stat st;
	FILE *f;
	char line[256];
	long pid = 0;

	if (fstat(fd, &st) < 0 || (f = fopen("/proc/locks", "re")) == NULL)
		return 0;
	while (pid == 0 && fgets(line, sizeof(line), f)) {
		long p;
		unsigned maj, min;
		unsigned long ino;
		char type[16];

		if (strstr(line, "->"))
			continue; /* a waiter, not a holder */
		if (sscanf(line, "%*d: %15s %*s %*s %ld %x:%x:%lu", type, &p,
			&maj, &min, &ino) != 5 ||
		    strcmp(type, "FLOCK") != 0)
			continue;
		if (ino == (unsigned long)st.st_ino &&
		    maj == major(st.st_dev) && min == minor(st.st_dev))
			pid = p;
	}
	fclose(f);
	return pid;
}

static char *holder_text(int fd)
{
	long pid = lock_holder(fd);
	char *path, *comm = NULL, *s;
	size_t len;

	if (pid <= 0)
		return xstrdup("another process");
	xasprintf(&path, "/proc/%ld/comm", pid);
	if (fs_read_file(path, &comm, &len) == 0) {
		while (len > 0 && (comm[len - 1] == '\n'))
			comm[--len] = '\0';
		xasprintf(&s, "pid %ld (%s)", pid, comm);
	} else
		xasprintf(&s, "pid %ld", pid);
	free(comm);
	free(path);
	return s;
}

static void nap(double s)
{
	struct timespec ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

/* flock, waiting up to wait seconds. */
static int take_flock(struct dump_lock *l, double wait, atomic_int *cancel,
    char **errstr)
{
	double waited = 0;
	char *who;

	for (;;) {
		if (flock(l->fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			xasprintf(errstr, "cannot lock %s: %s", l->root,
			    strerror(errno));
			return SYNC_EIO;
		}
		if (cancel && atomic_load(cancel)) {
			*errstr = xstrdup("cancelled");
			return SYNC_ECANCELED;
		}
		if (waited >= wait)
			break;
		nap(0.1);
		waited += 0.1;
	}
	who = holder_text(l->fd);
	if (wait > 0)
		xasprintf(errstr,
		    "the dump tree %s is in use by %s; gave up after %g s",
		    l->root, who, wait);
	else
		xasprintf(errstr,
		    "the dump tree %s is in use by %s; try "
		    "again when it is done (or wait for it with --lock-wait "
		    "SECONDS)",
		    l->root, who);
	free(who);
	return SYNC_ELOCKED;
}

int dump_lock_acquire(const char *path, bool create, double wait,
    atomic_int *cancel, struct dump_lock **out, char **errstr)
{
	struct dump_lock *l = xcalloc(1, sizeof(*l));
	char real[PATH_MAX];
	struct stat st;
	int rc;

	l->fd = -1;
	if (stat(path, &st) < 0) {
		if (errno != ENOENT || !create) {
			xasprintf(errstr, "dump path %s: %s", path,
			    strerror(errno));
			rc = errno == ENOENT ? SYNC_EDUMP : SYNC_EIO;
			goto fail;
		}
		if ((rc = fs_mkdirs(path, 0755)) < 0) {
			xasprintf(errstr, "cannot create the dump path %s: %s",
			    path, strerror(-rc));
			rc = SYNC_EIO;
			goto fail;
		}
		l->created = true;
	} else if (!S_ISDIR(st.st_mode)) {
		xasprintf(errstr, "dump path %s is not a directory", path);
		rc = SYNC_EDUMP;
		goto fail;
	}
	if (realpath(path, real) == NULL) {
		xasprintf(errstr, "dump path %s: %s", path, strerror(errno));
		rc = SYNC_EIO;
		goto fail;
	}
	l->root = xstrdup(real);
	l->fd = open(l->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->fd < 0) {
		xasprintf(errstr, "cannot open %s: %s", l->root,
		    strerror(errno));
		rc = SYNC_EIO;
		goto fail;
	}
	if ((rc = take_flock(l, wait, cancel, errstr)) < 0 ||
	    (rc = recover(l->root, &l->recovered, errstr)) < 0)
		goto fail;
	*out = l;
	return 0;
fail:
	dump_lock_release(l);
	return rc;
}

const char *dump_lock_root(const struct dump_lock *l)
{
	return l->root;
}

bool dump_lock_recovered(const struct dump_lock *l)
{
	return l->recovered;
}

void dump_lock_release(struct dump_lock *l)
{
	if (l == NULL)
		return;
	/* A tree this run created and left empty goes again. */
	if (l->created && l->root)
		rmdir(l->root);
	if (l->fd >= 0)
		close(l->fd);
	free(l->root);
	free(l);
}

/* --- the update --- */

struct dump_stage {
	char *root;
	char *stage; /* <root>/.dsync-staging, made on demand */
	bool stage_made;
	struct ops ops;	     /* OP_MKDIR and OP_WRITE so far */
	struct strmap *done; /* rel -> (void *)1: written or kept */
	char **own_dirs, **own_files;
	size_t nown_dirs, nown_files;
	unsigned next;
};

int dump_stage_begin(const char *root, struct dump_stage **out, char **errstr)
{
	struct dump_stage *s = xcalloc(1, sizeof(*s));

	(void)errstr; /* nothing can fail before the first write */
	s->root = xstrdup(root);
	s->stage = fs_join(root, DUMP_STAGING_DIR);
	s->done = strmap_new();
	*out = s;
	return 0;
}

void dump_stage_own_dir(struct dump_stage *s, const char *rel)
{
	s->own_dirs = xreallocarray(s->own_dirs, s->nown_dirs + 1,
	    sizeof(char *));
	s->own_dirs[s->nown_dirs++] = xstrdup(rel);
}

void dump_stage_own_file(struct dump_stage *s, const char *rel)
{
	s->own_files = xreallocarray(s->own_files, s->nown_files + 1,
	    sizeof(char *));
	s->own_files[s->nown_files++] = xstrdup(rel);
}

static int check_target(struct dump_stage *s, const char *rel, char **errstr)
{
	if (!clean_rel(rel) ||
	    strncmp(rel, DUMP_STAGING_DIR "/", strlen(DUMP_STAGING_DIR) + 1) ==
		0 ||
	    strcmp(rel, DUMP_STAGING_DIR) == 0) {
		xasprintf(errstr, "%s: '%s' is not a path inside the dump",
		    s->root, rel);
		return SYNC_EDUMP;
	}
	return 0;
}

static int make_stage(struct dump_stage *s, char **errstr)
{
	char *ign;
	int rc;

	if (s->stage_made)
		return 0;
	if (mkdir(s->stage, 0700) < 0) {
		xasprintf(errstr, "cannot create %s: %s", s->stage,
		    strerror(errno));
		return SYNC_EIO;
	}
	s->stage_made = true;
	ign = fs_join(s->stage, ".gitignore");
	rc = fs_write_file(ign, "*\n", 2);
	free(ign);
	if (rc < 0) {
		xasprintf(errstr, "cannot write in %s: %s", s->stage,
		    strerror(-rc));
		return SYNC_EIO;
	}
	return 0;
}

/* Whether the live file at path holds exactly data. */
static bool same_bytes(const char *path, const char *data, size_t len,
    mode_t *mode)
{
	struct stat st;
	char *old;
	size_t oldlen;
	bool same;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	*mode = st.st_mode & 07777;
	if ((size_t)st.st_size != len || fs_read_file(path, &old, &oldlen) < 0)
		return false;
	same = oldlen == len && memcmp(old, data, len) == 0;
	free(old);
	return same;
}

static int write_staged(const char *path, const char *data, size_t len,
    mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	int rc = 0;

	if (fd < 0)
		return -errno;
	while (len > 0 && rc == 0) {
		ssize_t w = write(fd, data, len);

		if (w < 0 && errno != EINTR)
			rc = -errno;
		else if (w > 0) {
			data += w;
			len -= (size_t)w;
		}
	}
	if (fchmod(fd, mode) < 0 && rc == 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

int dump_stage_write(struct dump_stage *s, const char *rel, const char *data,
    size_t len, char **errstr)
{
	char *live, *staged, num[16];
	mode_t mode = 0644;
	int rc;

	if ((rc = check_target(s, rel, errstr)) < 0)
		return rc;
	live = fs_join(s->root, rel);
	strmap_put(s->done, rel, (void *)1);
	if (same_bytes(live, data, len, &mode)) {
		free(live);
		return 0;
	}
	free(live);
	if ((rc = make_stage(s, errstr)) < 0)
		return rc;
	snprintf(num, sizeof(num), "%u", s->next);
	staged = fs_join(s->stage, num);
	rc = write_staged(staged, data, len, mode);
	free(staged);
	if (rc < 0) {
		xasprintf(errstr, "cannot write %s/%s: %s", s->root, rel,
		    strerror(-rc));
		return SYNC_EIO;
	}
	ops_add(&s->ops, OP_WRITE, s->next++, rel);
	return 0;
}

int dump_stage_write_dir(struct dump_stage *s, const char *rel, char **errstr)
{
	char *path;
	struct stat st;
	int rc;

	if ((rc = check_target(s, rel, errstr)) < 0)
		return rc;
	path = fs_join(s->root, rel);
	strmap_put(s->done, rel, (void *)1);
	if (stat(path, &st) < 0)
		ops_add(&s->ops, OP_MKDIR, 0, rel);
	else if (!S_ISDIR(st.st_mode)) {
		xasprintf(errstr, "%s is not a directory", path);
		rc = SYNC_EDUMP;
	}
	free(path);
	return rc;
}

int dump_stage_keep(struct dump_stage *s, const char *rel)
{
	char *path = fs_join(s->root, rel);
	struct stat st;
	int rc = 0;

	if (lstat(path, &st) < 0)
		rc = -errno;
	else
		strmap_put(s->done, rel, (void *)1);
	free(path);
	return rc;
}

int dump_stage_read_old(struct dump_stage *s, const char *rel, char **data,
    size_t *len)
{
	char *path = fs_join(s->root, rel);
	int rc = fs_read_file(path, data, len);

	free(path);
	if (rc == -ENOENT) {
		*data = NULL;
		return 0;
	}
	return rc;
}

/* The files under dir (rel) that this update neither writes nor keeps
 * become removals; directories left empty go after them. Returns
 * whether dir keeps anything. */
static bool collect_stale(struct dump_stage *s, const char *rel,
    struct ops *out)
{
	char *path = fs_join(s->root, rel);
	DIR *d = opendir(path);
	struct dirent *de;
	bool keeps = false;

	free(path);
	if (d == NULL)
		return true;
	while ((de = readdir(d)) != NULL) {
		char *r;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		r = fs_join(rel, de->d_name);
		if (de->d_type == DT_UNKNOWN) {
			char *full = fs_join(s->root, r);
			struct stat st;

			if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode))
				de->d_type = DT_DIR;
			free(full);
		}
		if (de->d_type == DT_DIR) {
			if (collect_stale(s, r, out) || strmap_get(s->done, r))
				keeps = true;
			else
				ops_add(out, OP_RMDIR, 0, r);
		} else if (strmap_get(s->done, r))
			keeps = true;
		else
			ops_add(out, OP_DELETE, 0, r);
		free(r);
	}
	closedir(d);
	return keeps;
}

/* Before the commit point: every move must be able to happen (no
 * directory where a file goes, no file where a directory goes). */
static int check_moves(struct dump_stage *s, const struct ops *o, char **errstr)
{
	size_t i;

	for (i = 0; i < o->len; i++) {
		char *path = fs_join(s->root, o->v[i].rel), *p;
		struct stat st;
		int rc = 0;

		if (o->v[i].kind == OP_WRITE && lstat(path, &st) == 0 &&
		    S_ISDIR(st.st_mode)) {
			xasprintf(errstr, "cannot write %s: it is a directory",
			    path);
			rc = SYNC_EDUMP;
		}
		/* A link planted in the tree would take the write (or the
		 * directory made for it) elsewhere, out of the tree. */
		if (rc == 0 &&
		    (o->v[i].kind == OP_WRITE || o->v[i].kind == OP_MKDIR) &&
		    lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
			xasprintf(errstr,
			    "cannot write %s: it is a symbolic "
			    "link (dsync writes no file through a link)",
			    path);
			rc = SYNC_EDUMP;
		}
		for (p = parent_of(path);
		     rc == 0 && strlen(p) > strlen(s->root);) {
			char *up;

			if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode)) {
				xasprintf(errstr,
				    "cannot write %s: %s is a "
				    "symbolic link (dsync writes no file "
				    "through a link)",
				    path, p);
				rc = SYNC_EDUMP;
			} else if (stat(p, &st) == 0 && !S_ISDIR(st.st_mode)) {
				xasprintf(errstr,
				    "cannot write %s: %s is not a directory",
				    path, p);
				rc = SYNC_EDUMP;
			}
			up = parent_of(p);
			free(p);
			p = up;
		}
		free(p);
		free(path);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Flush the staged files and write the journal: the commit point. */
static int write_journal(struct dump_stage *s, const struct ops *o,
    char **errstr)
{
	char *tmp = fs_join(s->stage, JOURNAL ".tmp");
	char *path = fs_join(s->stage, JOURNAL), *text;
	size_t len;
	int fd, rc = 0;

	fd = open(s->stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || syncfs(fd) < 0)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	if (rc < 0) {
		xasprintf(errstr, "flushing the new files of %s: %s", s->root,
		    strerror(-rc));
		goto out;
	}
	text = journal_text(o, &len);
	rc = fs_write_file(tmp, text, len);
	free(text);
	if (rc == 0) {
		fd = open(tmp, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) < 0)
			rc = -errno;
		if (fd >= 0)
			close(fd);
	}
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc == 0)
		rc = fsync_dir(s->stage);
	if (rc < 0)
		xasprintf(errstr, "writing the journal of %s: %s", s->root,
		    strerror(-rc));
out:
	free(tmp);
	free(path);
	return rc < 0 ? SYNC_EIO : 0;
}

size_t dump_stage_changes(const struct dump_stage *s)
{
	return s->next;
}

int dump_stage_commit(struct dump_stage *s, bool *changed, char **errstr)
{
	struct ops all;
	size_t i;
	int rc;

	memset(&all, 0, sizeof(all));
	if (changed)
		*changed = false;
	/* The order of the journal: directories, moves, removals, then
	 * the directories left empty (deepest first, as found). */
	for (i = 0; i < s->ops.len; i++)
		if (s->ops.v[i].kind == OP_MKDIR)
			ops_add(&all, OP_MKDIR, 0, s->ops.v[i].rel);
	for (i = 0; i < s->ops.len; i++)
		if (s->ops.v[i].kind == OP_WRITE)
			ops_add(&all, OP_WRITE, s->ops.v[i].n, s->ops.v[i].rel);
	{
		struct ops stale;
		size_t k;

		memset(&stale, 0, sizeof(stale));
		for (i = 0; i < s->nown_dirs; i++)
			collect_stale(s, s->own_dirs[i], &stale);
		for (i = 0; i < s->nown_files; i++) {
			char *p = fs_join(s->root, s->own_files[i]);
			struct stat st;

			if (!strmap_get(s->done, s->own_files[i]) &&
			    lstat(p, &st) == 0 && !S_ISDIR(st.st_mode))
				ops_add(&stale, OP_DELETE, 0, s->own_files[i]);
			free(p);
		}
		for (k = 0; k < stale.len; k++)
			if (stale.v[k].kind == OP_DELETE)
				ops_add(&all, OP_DELETE, 0, stale.v[k].rel);
		for (k = 0; k < stale.len; k++)
			if (stale.v[k].kind == OP_RMDIR)
				ops_add(&all, OP_RMDIR, 0, stale.v[k].rel);
		ops_clear(&stale);
	}
	if (all.len == 0) {
		rc = 0;
		goto out;
	}
	if ((rc = make_stage(s, errstr)) < 0 ||
	    (rc = check_moves(s, &all, errstr)) < 0 ||
	    (rc = write_journal(s, &all, errstr)) < 0)
		goto out;
	/* Past the commit point: a failure now is completed by the next
	 * run, so the staging directory stays. */
	if ((rc = journal_apply(s->root, s->stage, &all, errstr)) < 0) {
		s->stage_made = false;
		goto out;
	}
	if (changed)
		*changed = true;
out:
	ops_clear(&all);
	dump_stage_abort(s);
	return rc;
}

void dump_stage_abort(struct dump_stage *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (s->stage_made)
		fs_rmtree(s->stage);
	ops_clear(&s->ops);
	strmap_free(s->done);
	for (i = 0; i < s->nown_dirs; i++)
		free(s->own_dirs[i]);
	for (i = 0; i < s->nown_files; i++)
		free(s->own_files[i]);
	free(s->own_dirs);
	free(s->own_files);
	free(s->stage);
	free(s->root);
	free(s);
}
