/*
 * watch: inotify on the whole dump tree (new directories included) and
 * on the repository's git directory, with a debounce: changes are
 * collected until the tree has been quiet for the debounce and no git
 * operation is in progress, then handed over in one call, so that a
 * checkout that touches many files gives one job. .git internals,
 * dsync's staging directory and editor temporaries are not changes.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dump.h"
#include "fsutil.h"
#include "log.h"
#include "service.h"
#include "strmap.h"
#include "xmalloc.h"

#define TREE_MASK \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | \
	    IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF)
#define GIT_MASK \
	(IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | \
	    IN_CLOSE_WRITE | IN_MODIFY)
#define BUSY_RECHECK 0.2

struct wdir {
	int wd;
	char *rel; /* relative to the tree; NULL: a git directory */
};

struct watch {
	struct event_base *base;
	char *root, *gitdir;
	int fd;
	struct event *ev, *quiet;
	double debounce;
	struct wdir *dirs;
	size_t ndirs, cap;
	struct strmap *changed; /* rel -> (void *)1 */
	char **order;		/* the changed paths, in order */
	size_t norder, ocap;
	bool head, overflow, muted;
	void (*on_changed)(void *arg, char **paths, size_t n);
	void (*on_head)(void *arg);
	void *arg;
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Names that are never a change of the dump: editors' temporaries and
 * swap files, and atomic writers' temporary files. */
static bool temporary(const char *name)
{
	static const char *const suffixes[] = { "~", ".swp", ".swx", ".swo",
		".tmp", ".kate-swp", ".bak", ".orig", ".rej" };
	size_t i;

	if (name[0] == '#' || strncmp(name, ".#", 2) == 0 ||
	    strcmp(name, "4913") == 0 ||
	    strncmp(name, ".goutputstream-", 15) == 0 ||
	    strncmp(name, ".~lock.", 7) == 0 || strstr(name, ".tmp-") ||
	    strstr(name, ".dsync-"))
		return true;
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (ends_with(name, suffixes[i]))
			return true;
	return false;
}

/* Directories the tree watch never enters. */
static bool skipped_dir(const char *name)
{
	return strcmp(name, ".git") == 0 || strcmp(name, DUMP_STAGING_DIR) == 0;
}

static struct wdir *find_wd(struct watch *w, int wd)
{
	size_t i;

	for (i = 0; i < w->ndirs; i++)
		if (w->dirs[i].wd == wd)
			return &w->dirs[i];
	return NULL;
}

static void note(struct watch *w, const char *rel)
{
	if (strmap_get(w->changed, rel))
		return;
	strmap_put(w->changed, rel, (void *)1);
	if (w->norder == w->ocap) {
		w->ocap = w->ocap ? w->ocap * 2 : 32;
		w->order = xreallocarray(w->order, w->ocap, sizeof(char *));
	}
	w->order[w->norder++] = xstrdup(rel);
}

static int add_wd(struct watch *w, const char *path, const char *rel,
    uint32_t mask)
{
	int wd = inotify_add_watch(w->fd, path, mask);
	struct wdir *d;

	if (wd < 0)
		return -errno;
	if ((d = find_wd(w, wd)) != NULL) {
		free(d->rel);
		d->rel = rel ? xstrdup(rel) : NULL;
		return 0;
	}
	if (w->ndirs == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 64;
		w->dirs = xreallocarray(w->dirs, w->cap, sizeof(*w->dirs));
	}
	w->dirs[w->ndirs].wd = wd;
	w->dirs[w->ndirs++].rel = rel ? xstrdup(rel) : NULL;
	return 0;
}

/* Watch the directory rel and those below it; with note_files, the
 * files found count as changed (a directory that appeared, or was moved
 * in, with files in it before its watch was set). */
static int add_tree(struct watch *w, const char *rel, bool note_files)
{
	char *path = rel[0] ? fs_join(w->root, rel) : xstrdup(w->root);
	DIR *d;
	struct dirent *de;
	int rc;

	rc = add_wd(w, path, rel, TREE_MASK);
	if (rc < 0 || (d = opendir(path)) == NULL) {
		free(path);
		return rc < 0 ? rc : 0;
	}
	while ((de = readdir(d)) != NULL) {
		char *r, *full;
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 || temporary(de->d_name))
			continue;
		r = rel[0] ? fs_join(rel, de->d_name) : xstrdup(de->d_name);
		full = fs_join(path, de->d_name);
		if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (!skipped_dir(de->d_name))
				add_tree(w, r, note_files);
		} else if (note_files)
			note(w, r);
		free(full);
		free(r);
	}
	closedir(d);
	free(path);
	return 0;
}

static void arm(struct watch *w, double seconds)
{
	struct timeval tv;

	tv.tv_sec = (time_t)seconds;
	tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
	event_add(w->quiet, &tv);
}

/* One event of the tree. */
static void tree_event(struct watch *w, const struct wdir *d,
    const struct inotify_event *e)
{
	char *rel;

	if (e->len == 0 || temporary(e->name) || skipped_dir(e->name))
		return;
	rel = d->rel[0] ? fs_join(d->rel, e->name) : xstrdup(e->name);
	if ((e->mask & IN_ISDIR) && (e->mask & (IN_CREATE | IN_MOVED_TO)) &&
	    !skipped_dir(e->name))
		add_tree(w, rel, !w->muted);
	else if (!(e->mask & IN_ISDIR) && !w->muted)
		note(w, rel);
	free(rel);
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct watch *w = arg;
	char buf[64 * 1024]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	char *p;
	bool any = false;

	(void)what;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (p = buf; p < buf + n;) {
			const struct inotify_event *e = (const void *)p;
			struct wdir *d;

			p += sizeof(*e) + e->len;
			if (e->mask & IN_Q_OVERFLOW) {
				w->overflow = !w->muted;
				any = true;
				continue;
			}
			if ((d = find_wd(w, e->wd)) == NULL ||
			    (e->mask & IN_IGNORED))
				continue;
			if (d->rel == NULL) {
				w->head = true; /* the git directory */
				any = true;
			} else {
				tree_event(w, d, e);
				any = true;
			}
		}
	}
	if (any)
		arm(w, w->debounce);
}

/* The tree has been quiet: hand the changes over, unless git is busy. */
static void quiet_cb(evutil_socket_t fd, short what, void *arg)
{
	struct watch *w = arg;
	char **paths;
	size_t n;

	(void)fd;
	(void)what;
	if (w->gitdir && git_busy(w->gitdir)) {
		arm(w, BUSY_RECHECK);
		return;
	}
	if (w->overflow || w->norder) {
		paths = w->overflow ? NULL : w->order;
		n = w->overflow ? 0 : w->norder;
		w->on_changed(w->arg, paths, n);
		git_free_paths(w->order, w->norder);
		w->order = NULL;
		w->norder = w->ocap = 0;
		strmap_free(w->changed);
		w->changed = strmap_new();
		w->overflow = false;
	}
	if (w->head) {
		w->head = false;
		if (w->on_head)
			w->on_head(w->arg);
	}
}

/* The git directory, its reflogs and its branches: HEAD moving, and
 * index.lock coming and going. */
static void add_git(struct watch *w)
{
	static const char *const sub[] = { "", "logs", "refs/heads" };
	size_t i;

	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		char *p = sub[i][0] ? fs_join(w->gitdir, sub[i]) :
				      xstrdup(w->gitdir);

		if (add_wd(w, p, NULL, GIT_MASK) < 0 && i == 0)
			log_warn("watch %s", p);
		free(p);
	}
}

struct watch *watch_new(struct event_base *base, const char *root,
    const char *gitdir, double debounce,
    void (*changed)(void *arg, char **paths, size_t n), void (*head)(void *arg),
    void *arg, char **errstr)
{
	struct watch *w = xcalloc(1, sizeof(*w));
	int rc;

	w->base = base;
	w->root = xstrdup(root);
	w->gitdir = gitdir ? xstrdup(gitdir) : NULL;
	w->debounce = debounce;
	w->on_changed = changed;
	w->on_head = head;
	w->arg = arg;
	w->changed = strmap_new();
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		xasprintf(errstr, "inotify: %s", strerror(errno));
		watch_free(w);
		return NULL;
	}
	if ((rc = add_tree(w, "", false)) < 0) {
		xasprintf(errstr, "watch %s: %s%s", root, strerror(-rc),
		    rc == -ENOSPC ? " (raise fs.inotify.max_user_watches)" :
				    "");
		watch_free(w);
		return NULL;
	}
	if (w->gitdir)
		add_git(w);
	w->ev = event_new(base, w->fd, EV_READ | EV_PERSIST, read_cb, w);
	w->quiet = evtimer_new(base, quiet_cb, w);
	event_add(w->ev, NULL);
	log_debug("watching %s (%zu directories)%s%s", root, w->ndirs,
	    w->gitdir ? ", git directory " : "", w->gitdir ? w->gitdir : "");
	return w;
}

void watch_mute(struct watch *w, bool on)
{
	if (w)
		w->muted = on;
}

void watch_free(struct watch *w)
{
	size_t i;

	if (w == NULL)
		return;
	if (w->ev)
		event_free(w->ev);
	if (w->quiet)
		event_free(w->quiet);
	if (w->fd >= 0)
		close(w->fd);
	for (i = 0; i < w->ndirs; i++)
		free(w->dirs[i].rel);
	free(w->dirs);
	git_free_paths(w->order, w->norder);
	strmap_free(w->changed);
	free(w->root);
	free(w->gitdir);
	free(w);
}
