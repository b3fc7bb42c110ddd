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

			if (p[i].fd < 0 ||
			    !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
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

/* git's arguments: argv with "-c safe.directory=*" after argv[0]. The
 * tree may belong to another user than the daemon's (a checkout shared
 * with a group): git would refuse it as "dubious". */
static char **git_args(char *const argv[])
{
	size_t na = 0, k;
	char **args;

	while (argv[na])
		na++;
	args = xcalloc(na + 3, sizeof(char *));
	args[0] = "git";
	args[1] = "-c";
	args[2] = "safe.directory=*";
	for (k = 1; k < na; k++)
		args[k + 2] = argv[k];
	return args;
}

/* git's environment: ours first (the first of two same names wins in
 * getenv), then env (at most 5), then the daemon's. */
static char **git_env(char *const env[])
{
	size_t ne = 0, k = 0, i;
	char **envp;

	while (environ[ne])
		ne++;
	envp = xcalloc(ne + 9, sizeof(char *));
	envp[k++] = "GIT_TERMINAL_PROMPT=0";
	envp[k++] = "LC_ALL=C";
	/* Reads must not rewrite the repository's index. */
	envp[k++] = "GIT_OPTIONAL_LOCKS=0";
	for (i = 0; env && env[i] && k < 8; i++)
		envp[k++] = env[i];
	for (i = 0; environ[i]; i++)
		envp[k++] = environ[i];
	return envp;
}

/* All of in to fd (git reads all its input before it writes:
 * hash-object), then fd closed. */
static void feed(int fd, const char *in, size_t inlen)
{
	while (inlen > 0) {
		ssize_t w = write(fd, in, inlen);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		in += w;
		inlen -= (size_t)w;
	}
	close(fd);
}

/* git's exit: 0, or -1 with its stderr (err) in *errstr. */
static int git_status(pid_t pid, const char *cmd, struct buf *err,
    char **errstr)
{
	int status;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	while (err->len && (err->data[err->len - 1] == '\n'))
		err->data[--err->len] = '\0';
	xasprintf(errstr, "git %s: %s", cmd, err->len ? err->data : "failed");
	return -1;
}

/*
 * Run git with argv (argv[0] is "git") in dir, with extra environment
 * entries env (NULL-terminated, may be NULL). *out gets stdout; on a
 * failure *errstr has git's stderr.
 */
static int run_git_in(const char *dir, char *const argv[], char *const env[],
    const char *in, size_t inlen, struct buf *out, char **errstr)
{
	posix_spawn_file_actions_t fa;
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, pi[2] = { -1, -1 };
	char **envp = git_env(env), **args = git_args(argv);
	struct buf err;
	size_t k;
	pid_t pid;
	int rc = -1;

	buf_init(&err);
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 ||
	    (in && pipe2(pi, O_CLOEXEC) < 0)) {
		xasprintf(errstr, "git: pipe: %s", strerror(errno));
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	if (in)
		posix_spawn_file_actions_adddup2(&fa, pi[0], 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY,
		    0);
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
	if (in) {
		close(pi[0]);
		feed(pi[1], in, inlen);
		pi[0] = pi[1] = -1;
	}
	drain(po[0], pe[0], out, &err);
	rc = git_status(pid, argv[1], &err, errstr);
out:
	for (k = 0; k < 2; k++) {
		if (po[k] >= 0)
			close(po[k]);
		if (pe[k] >= 0)
			close(pe[k]);
		if (pi[k] >= 0)
			close(pi[k]);
	}
	free(envp);
	free(args);
	buf_clear(&err);
	return rc;
}

static int run_git(const char *dir, char *const argv[], char *const env[],
    struct buf *out, char **errstr)
{
	return run_git_in(dir, argv, env, NULL, 0, out, errstr);
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
static void split_z(const struct buf *b, size_t skip, char ***paths, size_t *n)
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
		p = xstrndup(out.data ? out.data : "",
		    strcspn(out.data ? out.data : "", "\n"));
	buf_clear(&out);
	return p;
}

int git_uncommitted(const char *dir, char ***paths, size_t *n, char **errstr)
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

/* --- commits of dsync's own changes --- */

/* The first line of git's output for argv, in *line. */
static int git_line(const char *dir, char *const argv[], char *const env[],
    char **line, char **errstr)
{
	struct buf out;
	int rc;

	buf_init(&out);
	rc = run_git(dir, argv, env, &out, errstr);
	*line = rc == 0 ? first_line(&out) : NULL;
	buf_clear(&out);
	if (rc == 0 && *line == NULL) {
		xasprintf(errstr, "git %s: no output", argv[1]);
		rc = -1;
	}
	return rc;
}

int git_show(const char *dir, const char *rev, const char *rel, char **data,
    size_t *len, char **errstr)
{
	char *prefix = git_prefix(dir, errstr), *spec;
	char *argv[] = { "git", "cat-file", "blob", NULL, NULL };
	char *err = NULL;
	struct buf out;
	int rc;

	if (prefix == NULL)
		return -1;
	xasprintf(&spec, "%s:%s%s", rev, prefix, rel);
	argv[3] = spec;
	buf_init(&out);
	rc = run_git(dir, argv, NULL, &out, &err);
	if (rc == 0) {
		*data = buf_steal(&out, len);
	} else {
		/* Absent at that revision: not an error. */
		*data = NULL;
		*len = 0;
		rc = 1;
		free(err);
	}
	buf_clear(&out);
	free(spec);
	free(prefix);
	return rc;
}

/* The blob of path in the real index, or NULL when it has none. */
static char *index_blob(const char *top, const char *path)
{
	char *argv[] = { "git", "ls-files", "-s", "--", (char *)path, NULL };
	struct buf out;
	char *err = NULL, *blob = NULL;

	buf_init(&out);
	if (run_git(top, argv, NULL, &out, &err) == 0 && out.len > 47)
		blob = xstrndup(out.data + 7, 40);
	free(err);
	buf_clear(&out);
	return blob;
}

static char *tree_blob(const char *top, const char *rev, const char *path)
{
	char *spec, *line = NULL, *err = NULL;
	char *argv[] = { "git", "rev-parse", "--verify", "-q", NULL, NULL };

	xasprintf(&spec, "%s:%s", rev, path);
	argv[4] = spec;
	if (git_line(top, argv, NULL, &line, &err) < 0)
		free(err);
	free(spec);
	return line;
}

/* Each change into the private index (envidx), as a blob or a removal. */
static int stage_changes(const char *top, const char *prefix, char *envidx,
    const struct git_change *ch, size_t n, char **blobs, char **errstr)
{
	char *env[] = { envidx, NULL };
	size_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		char *path, *info;

		xasprintf(&path, "%s%s", prefix, ch[i].rel);
		if (ch[i].data) {
			char *hash[] = { "git", "hash-object", "-w", "--stdin",
				NULL };
			struct buf out;

			buf_init(&out);
			rc = run_git_in(top, hash, NULL, ch[i].data, ch[i].len,
			    &out, errstr);
			blobs[i] = rc == 0 ? first_line(&out) : NULL;
			buf_clear(&out);
			if (rc == 0) {
				char *upd[] = { "git", "update-index", "--add",
					"--cacheinfo", NULL, NULL };

				xasprintf(&info, "100644,%s,%s", blobs[i],
				    path);
				upd[4] = info;
				rc = run_git(top, upd, env, &out, errstr);
				buf_clear(&out);
				free(info);
			}
		} else {
			char *rm[] = { "git", "update-index", "--force-remove",
				"--", path, NULL };
			struct buf out;

			buf_init(&out);
			rc = run_git(top, rm, env, &out, errstr);
			buf_clear(&out);
		}
		free(path);
	}
	return rc;
}

/*
 * Where a person's index holds the version of old HEAD for a path we
 * committed (nothing of theirs staged there), it takes the new one, so
 * that `git status` shows their working-tree edits only, not our commit
 * undone. What they staged stays as it is.
 */
static void follow_index(const char *top, const char *prefix,
    const char *old_head, const struct git_change *ch, size_t n,
    char *const *blobs)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *path, *have, *was;
		struct buf out;
		char *err = NULL;

		xasprintf(&path, "%s%s", prefix, ch[i].rel);
		have = index_blob(top, path);
		was = tree_blob(top, old_head, path);
		buf_init(&out);
		if ((have == NULL && was == NULL) ||
		    (have && was && strcmp(have, was) == 0)) {
			if (blobs[i]) {
				char *info;
				char *upd[] = { "git", "update-index", "--add",
					"--cacheinfo", NULL, NULL };

				xasprintf(&info, "100644,%s,%s", blobs[i],
				    path);
				upd[4] = info;
				run_git(top, upd, NULL, &out, &err);
				free(info);
			} else if (have) {
				char *rm[] = { "git", "update-index",
					"--force-remove", "--", path, NULL };

				run_git(top, rm, NULL, &out, &err);
			}
		}
		free(err);
		buf_clear(&out);
		free(have);
		free(was);
		free(path);
	}
}

/* HEAD on branch (NULL: any): 0, or 1 with the reason. */
static int on_branch(const char *top, const char *branch, char **errstr)
{
	char *sym[] = { "git", "symbolic-ref", "-q", "--short", "HEAD", NULL };
	char *cur = NULL, *e2 = NULL;
	int rc = 0;

	if (branch == NULL)
		return 0;
	if (git_line(top, sym, NULL, &cur, &e2) < 0 ||
	    strcmp(cur, branch) != 0) {
		xasprintf(errstr,
		    "HEAD is on %s, not on %s: no commit until it is",
		    cur ? cur : "no branch", branch);
		rc = 1;
	}
	free(e2);
	free(cur);
	return rc;
}

/* The tree of head with the changes, built in a private index (the
 * person's own is never rewritten here), and head's own tree. */
static int build_tree(const char *top, const char *gitdir, const char *prefix,
    const char *head, const struct git_change *ch, size_t n, char **blobs,
    char **tree, char **old_tree, char **errstr)
{
	char *rt[] = { "git", "read-tree", (char *)head, NULL };
	char *wt[] = { "git", "write-tree", NULL };
	char *ht[] = { "git", "rev-parse", NULL, NULL };
	char *idx, *envidx, *spec;
	char *env[] = { NULL, NULL };
	struct buf out;
	int rc = -1;

	xasprintf(&idx, "%s/dsync-commit.index", gitdir);
	unlink(idx);
	xasprintf(&envidx, "GIT_INDEX_FILE=%s", idx);
	env[0] = envidx;
	buf_init(&out);
	if (run_git(top, rt, env, &out, errstr) < 0 ||
	    stage_changes(top, prefix, envidx, ch, n, blobs, errstr) < 0 ||
	    git_line(top, wt, env, tree, errstr) < 0)
		goto out;
	xasprintf(&spec, "%s^{tree}", head);
	ht[2] = spec;
	rc = git_line(top, ht, NULL, old_tree, errstr);
	free(spec);
out:
	buf_clear(&out);
	unlink(idx);
	free(idx);
	free(envidx);
	return rc < 0 ? -1 : 0;
}

/* A commit of tree on head, by name and email, and HEAD moved to it
 * (only if it is still head). */
static int make_commit(const char *top, const char *tree, const char *head,
    const char *message, const char *name, const char *email, char **commit,
    char **errstr)
{
	char *ct[] = { "git", "commit-tree", (char *)tree, "-p", (char *)head,
		"-m", (char *)message, NULL };
	char *ur[] = { "git", "update-ref", "-m", "dsync", "HEAD", NULL,
		(char *)head, NULL };
	char *env[5];
	struct buf out;
	size_t i;
	int rc = -1;

	xasprintf(&env[0], "GIT_AUTHOR_NAME=%s", name);
	xasprintf(&env[1], "GIT_AUTHOR_EMAIL=%s", email);
	xasprintf(&env[2], "GIT_COMMITTER_NAME=%s", name);
	xasprintf(&env[3], "GIT_COMMITTER_EMAIL=%s", email);
	env[4] = NULL;
	buf_init(&out);
	if (git_line(top, ct, env, commit, errstr) == 0) {
		ur[5] = *commit;
		rc = run_git(top, ur, NULL, &out, errstr);
	}
	buf_clear(&out);
	for (i = 0; i < 4; i++)
		free(env[i]);
	return rc;
}

int git_commit_changes(const char *dir, const struct git_change *ch, size_t n,
    const char *name, const char *email, const char *message,
    const char *branch, char **sha, char **errstr)
{
	char *top = NULL, *gitdir = NULL, *prefix = NULL, *head = NULL;
	char *tree = NULL, *old_tree = NULL, *commit = NULL;
	char **blobs = xcalloc(n + 1, sizeof(char *));
	size_t i;
	int rc = -1;

	*sha = NULL;
	if (!git_find(dir, &top, &gitdir)) {
		xasprintf(errstr, "%s is not in a git work tree", dir);
		goto out;
	}
	if (git_busy(gitdir)) {
		xasprintf(errstr, "a git operation is in progress in %s", top);
		rc = 1;
		goto out;
	}
	if ((prefix = git_prefix(dir, errstr)) == NULL ||
	    (head = git_head(dir)) == NULL) {
		if (*errstr == NULL)
			xasprintf(errstr, "%s: no commit to build on (HEAD)",
			    top);
		goto out;
	}
	if ((rc = on_branch(top, branch, errstr)) != 0)
		goto out;
	rc = -1;
	if (build_tree(top, gitdir, prefix, head, ch, n, blobs, &tree,
		&old_tree, errstr) < 0)
		goto out;
	if (strcmp(tree, old_tree) == 0) {
		rc = 0; /* nothing to commit */
		goto out;
	}
	if (make_commit(top, tree, head, message, name, email, &commit,
		errstr) < 0)
		goto out;
	follow_index(top, prefix, head, ch, n, blobs);
	*sha = commit;
	commit = NULL;
	rc = 0;
out:
	for (i = 0; i < n; i++)
		free(blobs[i]);
	free(blobs);
	free(top);
	free(gitdir);
	free(prefix);
	free(head);
	free(tree);
	free(old_tree);
	free(commit);
	return rc;
}

int git_push_to(const char *dir, const char *remote, const char *branch,
    char **errstr)
{
	char *argv[] = { "git", "push", "-q", (char *)remote, NULL, NULL };
	char *spec;
	struct buf out;
	int rc;

	xasprintf(&spec, "HEAD:refs/heads/%s", branch);
	argv[4] = spec;
	buf_init(&out);
	rc = run_git(dir, argv, NULL, &out, errstr);
	buf_clear(&out);
	free(spec);
	return rc;
}
