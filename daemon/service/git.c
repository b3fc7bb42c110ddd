/*
 * git: the repository that holds the dump tree, read by running the git
 * program (never by parsing .git ourselves, except for the files that say
 * an operation is in progress). Runs on the worker thread or at start-up;
 * git's output is read whole, its stderr kept for messages.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "fsutil.h"
#include "service.h"
#include "xmalloc.h"

extern char **environ;

/* Read both pipes to their end. */
static void drain(int out, int err, struct buf *o, struct buf *e)
{
	struct pollfd p[2] = { { out, POLLIN, 0 }, { err, POLLIN, 0 } };
	char chunk[8192];
	int open = 2;

	while (open > 0) {
		int i;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < 2; i++) {
			ssize_t r;

			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP |
			    POLLERR)))
				continue;
			r = read(p[i].fd, chunk, sizeof(chunk));
			if (r > 0)
				buf_add(i ? e : o, chunk, (size_t)r);
			else if (r == 0 || errno != EINTR) {
				p[i].fd = -1;
				open--;
			}
		}
	}
}

/*
 * Run git with argv (argv[0] is "git") in dir, with extra environment
 * entries env (NULL-terminated, may be NULL). *out gets stdout; on a
 * failure *errstr has git's stderr.
 */
static int run_git(const char *dir, char *const argv[], char *const env[],
    struct buf *out, char **errstr)
{
	posix_spawn_file_actions_t fa;
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, status, rc = -1;
	char **envp = NULL, **args;
	struct buf err;
	size_t ne = 0, k = 0, na = 0;
	pid_t pid;

	buf_init(&err);
	/* The tree may belong to another user than the daemon's (a checkout
	 * shared with a group): git would refuse it as "dubious". */
	while (argv[na])
		na++;
	args = xcalloc(na + 3, sizeof(char *));
	args[0] = "git";
	args[1] = "-c";
	args[2] = "safe.directory=*";
	for (k = 1; k < na; k++)
		args[k + 2] = argv[k];
	k = 0;
	while (environ[ne])
		ne++;
	/* Ours first: the first of two same names wins in getenv. */
	envp = xcalloc(ne + 9, sizeof(char *));
	envp[k++] = "GIT_TERMINAL_PROMPT=0";
	envp[k++] = "LC_ALL=C";
	/* Reads must not rewrite the repository's index. */
	envp[k++] = "GIT_OPTIONAL_LOCKS=0";
	for (size_t i = 0; env && env[i] && k < 8; i++)
		envp[k++] = env[i];
	for (size_t i = 0; environ[i]; i++)
		envp[k++] = environ[i];
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		xasprintf(errstr, "git: pipe: %s", strerror(errno));
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	posix_spawn_file_actions_addchdir_np(&fa, dir);
	rc = posix_spawnp(&pid, "git", &fa, NULL, args, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	if (rc != 0) {
		xasprintf(errstr, "cannot run git: %s", strerror(rc));
		rc = -1;
		goto out;
	}
	drain(po[0], pe[0], out, &err);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		while (err.len && (err.data[err.len - 1] == '\n'))
			err.data[--err.len] = '\0';
		xasprintf(errstr, "git %s: %s", argv[1], err.len ? err.data :
		    "failed");
		rc = -1;
		goto out;
	}
	rc = 0;
out:
	for (k = 0; k < 2; k++) {
		if (po[k] >= 0)
			close(po[k]);
		if (pe[k] >= 0)
			close(pe[k]);
	}
	free(envp);
	free(args);
	buf_clear(&err);
	return rc;
}

/* The output's first line, or NULL. */
static char *first_line(struct buf *b)
{
	size_t n = strcspn(b->data ? b->data : "", "\n");

	return n ? xstrndup(b->data, n) : NULL;
}

bool git_find(const char *dir, char **toplevel, char **gitdir)
{
	char *argv[] = { "git", "rev-parse", "--show-toplevel",
	    "--absolute-git-dir", NULL };
	struct buf out;
	char *err = NULL, *nl;
	bool ok = false;

	buf_init(&out);
	if (run_git(dir, argv, NULL, &out, &err) == 0 && out.len &&
	    (nl = strchr(out.data, '\n')) != NULL) {
		*toplevel = xstrndup(out.data, (size_t)(nl - out.data));
		*gitdir = xstrndup(nl + 1, strcspn(nl + 1, "\n"));
		ok = **gitdir != '\0';
		if (!ok) {
			free(*toplevel);
			free(*gitdir);
		}
	}
	free(err);
	buf_clear(&out);
	return ok;
}

bool git_busy(const char *gitdir)
{
	static const char *const marks[] = { "index.lock", "MERGE_HEAD",
	    "rebase-merge", "rebase-apply", "CHERRY_PICK_HEAD",
	    "REVERT_HEAD", "BISECT_LOG", "HEAD.lock" };
	size_t i;

	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		char *p = fs_join(gitdir, marks[i]);
		struct stat st;
		bool there = lstat(p, &st) == 0;

		free(p);
		if (there)
			return true;
	}
	return false;
}

char *git_head(const char *dir)
{
	char *argv[] = { "git", "rev-parse", "--verify", "-q", "HEAD", NULL };
	struct buf out;
	char *err = NULL, *head = NULL;

	buf_init(&out);
	if (run_git(dir, argv, NULL, &out, &err) == 0)
		head = first_line(&out);
	free(err);
	buf_clear(&out);
	return head;
}

/* NUL-separated output into a list. */
static void split_z(const struct buf *b, size_t skip, char ***paths,
    size_t *n)
{
	size_t off = 0, cap = 0;

	*paths = NULL;
	*n = 0;
	while (b->data && off < b->len) {
		const char *s = b->data + off;
		size_t len = strnlen(s, b->len - off);

		if (len > skip) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 16;
				*paths = xreallocarray(*paths, cap,
				    sizeof(char *));
			}
			(*paths)[(*n)++] = xstrdup(s + skip);
		}
		off += len + 1;
	}
}

/* dir's path inside its work tree ("sub/", or "" at the top). */
static char *git_prefix(const char *dir, char **errstr)
{
	char *argv[] = { "git", "rev-parse", "--show-prefix", NULL };
	struct buf out;
	char *p = NULL;

	buf_init(&out);
	if (run_git(dir, argv, NULL, &out, errstr) == 0)
		p = xstrndup(out.data ? out.data : "", strcspn(out.data ?
		    out.data : "", "\n"));
	buf_clear(&out);
	return p;
}

int git_uncommitted(const char *dir, char ***paths, size_t *n,
    char **errstr)
{
	char *argv[] = { "git", "status", "--porcelain=v1", "-z",
	    "--untracked-files=all", "--no-renames", "--", ".", NULL };
	char *prefix = git_prefix(dir, errstr);
	struct buf out;
	size_t i, pl;
	int rc = -1;

	*paths = NULL;
	*n = 0;
	if (prefix == NULL)
		return -1;
	buf_init(&out);
	/* Porcelain paths are relative to the top of the work tree. */
	if ((rc = run_git(dir, argv, NULL, &out, errstr)) == 0) {
		split_z(&out, 3, paths, n);
		pl = strlen(prefix);
		for (i = 0; i < *n; i++)
			if (strncmp((*paths)[i], prefix, pl) == 0)
				memmove((*paths)[i], (*paths)[i] + pl,
				    strlen((*paths)[i] + pl) + 1);
	}
	buf_clear(&out);
	free(prefix);
	return rc;
}

int git_changed(const char *dir, const char *from, const char *to,
    char ***paths, size_t *n, char **errstr)
{
	char *argv[] = { "git", "diff", "--name-only", "-z", "--relative",
	    (char *)from, (char *)to, "--", ".", NULL };
	struct buf out;
	int rc;

	buf_init(&out);
	rc = run_git(dir, argv, NULL, &out, errstr);
	if (rc == 0)
		split_z(&out, 0, paths, n);
	buf_clear(&out);
	return rc;
}

int git_export(const char *dir, const char *rev, const char *dest,
    char **errstr)
{
	char *top = NULL, *gitdir = NULL, *prefix = NULL, *tree = NULL;
	char *idx = NULL, *envidx = NULL, *pfx = NULL;
	struct buf out;
	int rc = -1;

	buf_init(&out);
	if (!git_find(dir, &top, &gitdir)) {
		xasprintf(errstr, "%s is not in a git work tree", dir);
		goto out;
	}
	if ((prefix = git_prefix(dir, errstr)) == NULL)
		goto out;
	fs_rmtree(dest);
	if ((rc = fs_mkdirs(dest, 0700)) < 0) {
		xasprintf(errstr, "cannot create %s: %s", dest, strerror(-rc));
		rc = -1;
		goto out;
	}
	rc = -1;
	/* A private index, so that the repository's own is never touched. */
	xasprintf(&idx, "%s.index", dest);
	unlink(idx);
	xasprintf(&envidx, "GIT_INDEX_FILE=%s", idx);
	xasprintf(&tree, "%s:%s", rev, prefix);
	xasprintf(&pfx, "--prefix=%s/", dest);
	{
		char *rt[] = { "git", "read-tree", tree, NULL };
		char *co[] = { "git", "checkout-index", "-a", "-f", pfx, NULL };
		char *env[] = { envidx, NULL };

		if (run_git(top, rt, env, &out, errstr) < 0 ||
		    run_git(top, co, env, &out, errstr) < 0)
			goto out;
	}
	rc = 0;
out:
	if (idx)
		unlink(idx);
	free(idx);
	free(envidx);
	free(tree);
	free(pfx);
	free(prefix);
	free(top);
	free(gitdir);
	buf_clear(&out);
	return rc;
}

void git_free_paths(char **paths, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}
