/*
 * test_git: the daemon's commits into the repository that holds the dump
 * (daemon/service/git.c), against the real git program in a fresh
 * repository per test. What is checked is what a person would see in
 * that repository afterwards: `git log`, `git show`, `git status`, the
 * index and the work tree. The dump tree is a subdirectory (dump/) of
 * the repository, as it is for most teams.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "service.h"
#include "xmalloc.h"

static char repo[PATH_MAX];
static char dump[PATH_MAX + 8];

/* Run a shell command in the repository; its stdout (trailing newline
 * removed), or NULL when it failed. */
static char *sh(const char *fmt, ...)
{
	char cmd[4096], *out = NULL;
	size_t cap = 0, len = 0;
	va_list ap;
	FILE *p;
	int c;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	{
		char full[PATH_MAX + 4200];

		snprintf(full, sizeof(full), "cd '%s' && { %s ; }", repo, cmd);
		p = popen(full, "r");
	}
	assert_non_null(p);
	while ((c = fgetc(p)) != EOF) {
		if (len + 2 > cap) {
			cap = cap ? cap * 2 : 256;
			out = xreallocarray(out, cap, 1);
		}
		out[len++] = (char)c;
	}
	if (out == NULL)
		out = xstrdup("");
	out[len] = '\0';
	while (len && out[len - 1] == '\n')
		out[--len] = '\0';
	if (pclose(p) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static void sh_ok(const char *cmd)
{
	char *o = sh("%s", cmd);

	if (o == NULL)
		fail_msg("command failed: %s", cmd);
	free(o);
}

static void expect(const char *cmd, const char *want)
{
	char *o = sh("%s", cmd);

	if (o == NULL)
		fail_msg("command failed: %s", cmd);
	if (strcmp(o, want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", cmd, o, want);
	free(o);
}

static int setup(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(repo, sizeof(repo), "%s/dsync-git.XXXXXX",
	    t && *t ? t : "/tmp");
	if (mkdtemp(repo) == NULL)
		return -1;
	snprintf(dump, sizeof(dump), "%s/dump", repo);
	sh_ok("git init -q -b main . && git config user.name Person && "
	      "git config user.email person@example.org && mkdir dump && "
	      "printf 'a1\\n' > dump/a.json && printf 'b1\\n' > dump/b.json && "
	      "printf 'readme\\n' > README && git add -A && "
	      "git commit -qm initial");
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", repo);
	return system(cmd) == 0 ? 0 : -1;
}

static int commit(const struct git_change *ch, size_t n, const char *branch,
    char **sha, char **err)
{
	*sha = NULL;
	*err = NULL;
	return git_commit_changes(dump, ch, n, "dsync on staging",
	    "dsync@staging.example.org",
	    "dsync: pull from staging\n\ncollections/a.json: 1 changed", branch,
	    sha, err);
}

/* The change is committed, with the author, the message and the parent,
 * and only it: the file's bytes in HEAD are the ones given. */
static void test_commit_one_file(void **state)
{
	struct git_change ch[] = { { "a.json", "a2\n", 3 } };
	char *sha, *err, *head;

	(void)state;
	sh_ok("printf 'a2\\n' > dump/a.json");
	assert_int_equal(commit(ch, 1, "main", &sha, &err), 0);
	assert_null(err);
	assert_non_null(sha);
	head = sh("git rev-parse HEAD");
	assert_string_equal(sha, head);
	free(head);
	expect("git log --format=%an/%ae/%cn -1",
	    "dsync on staging/dsync@staging.example.org/dsync on staging");
	expect("git log --format=%s -1", "dsync: pull from staging");
	expect("git log --format=%b -1", "collections/a.json: 1 changed");
	expect("git rev-list --count HEAD", "2");
	expect("git show --format= --name-only HEAD", "dump/a.json");
	expect("git show HEAD:dump/a.json", "a2");
	/* The work tree and the index agree with HEAD: nothing left over. */
	expect("git status --porcelain", "");
	free(sha);
}

/* A person's edit of another file, staged or not, is not committed and
 * stays as it was; git status shows it, and only it. */
static void test_person_edits_stay(void **state)
{
	struct git_change ch[] = { { "a.json", "a2\n", 3 } };
	char *sha, *err;

	(void)state;
	sh_ok("printf 'b-staged\\n' > dump/b.json && git add dump/b.json && "
	      "printf 'b-worktree\\n' > dump/b.json && "
	      "printf 'edited\\n' > README && printf 'a2\\n' > dump/a.json");
	assert_int_equal(commit(ch, 1, "main", &sha, &err), 0);
	assert_non_null(sha);
	expect("git show --format= --name-only HEAD", "dump/a.json");
	expect("git show HEAD:dump/b.json", "b1");
	expect("git show HEAD:README", "readme");
	/* Staged stays staged, the work tree keeps its bytes. */
	expect("git show :dump/b.json", "b-staged");
	expect("cat dump/b.json", "b-worktree");
	expect("cat README", "edited");
	expect("git status --porcelain | sort", " M README\nMM dump/b.json");
	free(sha);
}

/* What the person staged for the very file we commit is theirs: it stays
 * in the index. */
static void test_staged_same_file_kept(void **state)
{
	struct git_change ch[] = { { "a.json", "a-ours\n", 7 } };
	char *sha, *err;

	(void)state;
	sh_ok("printf 'a-theirs\\n' > dump/a.json && git add dump/a.json");
	assert_int_equal(commit(ch, 1, "main", &sha, &err), 0);
	assert_non_null(sha);
	expect("git show HEAD:dump/a.json", "a-ours");
	expect("git show :dump/a.json", "a-theirs");
	free(sha);
}

/* A new file and a removed one, in one commit. */
static void test_add_and_remove(void **state)
{
	struct git_change ch[] = {
		{ "c.json", "c1\n", 3 },
		{ "b.json", NULL, 0 },
	};
	char *sha, *err;

	(void)state;
	sh_ok("printf 'c1\\n' > dump/c.json && rm dump/b.json");
	assert_int_equal(commit(ch, 2, "main", &sha, &err), 0);
	assert_non_null(sha);
	expect("git show --format= --name-status HEAD | sort",
	    "A\tdump/c.json\nD\tdump/b.json");
	expect("git status --porcelain", "");
	free(sha);
}

/* Changes HEAD already holds make no commit. */
static void test_nothing_to_commit(void **state)
{
	struct git_change ch[] = { { "a.json", "a1\n", 3 } };
	char *sha, *err;

	(void)state;
	assert_int_equal(commit(ch, 1, "main", &sha, &err), 0);
	assert_null(sha);
	assert_null(err);
	expect("git rev-list --count HEAD", "1");
}

/* A merge in progress, or HEAD on another branch: wait (1), commit
 * nothing, say why. */
static void test_waits(void **state)
{
	struct git_change ch[] = { { "a.json", "a2\n", 3 } };
	char *sha, *err;

	(void)state;
	sh_ok("git rev-parse HEAD > .git/MERGE_HEAD");
	assert_int_equal(commit(ch, 1, "main", &sha, &err), 1);
	assert_null(sha);
	assert_non_null(strstr(err, "in progress"));
	free(err);
	sh_ok("rm .git/MERGE_HEAD && git checkout -q -b feature");
	assert_int_equal(commit(ch, 1, "main", &sha, &err), 1);
	assert_null(sha);
	assert_non_null(strstr(err, "feature"));
	free(err);
	expect("git rev-list --count --all", "1");
	/* Without a branch named, the commit goes where HEAD is. */
	assert_int_equal(commit(ch, 1, NULL, &sha, &err), 0);
	assert_non_null(sha);
	expect("git rev-list --count feature", "2");
	expect("git rev-list --count main", "1");
	free(sha);
}

/* git_show reads a file of a revision, relative to the dump tree; absent
 * is 1, not an error. */
static void test_show(void **state)
{
	char *data = NULL, *err = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(git_show(dump, "HEAD", "a.json", &data, &len, &err),
	    0);
	assert_int_equal(len, 3);
	assert_memory_equal(data, "a1\n", 3);
	free(data);
	assert_int_equal(git_show(dump, "HEAD", "none.json", &data, &len, &err),
	    1);
	assert_null(data);
}

/* The commit is pushed to the remote's branch; a push that fails (no
 * such remote) says so. */
static void test_push(void **state)
{
	struct git_change ch[] = { { "a.json", "a2\n", 3 } };
	char *sha, *err = NULL, *remote_head;

	(void)state;
	sh_ok("git init -q --bare remote.git && "
	      "git remote add origin \"$PWD/remote.git\"");
	assert_int_equal(commit(ch, 1, "main", &sha, &err), 0);
	if (git_push_to(dump, "origin", "main", &err) != 0)
		fail_msg("push: %s", err);
	remote_head = sh("git --git-dir=remote.git rev-parse main");
	assert_non_null(remote_head);
	assert_string_equal(remote_head, sha);
	free(remote_head);
	free(sha);
	assert_int_equal(git_push_to(dump, "nowhere", "main", &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err, "git push"));
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commit_one_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_person_edits_stay, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_staged_same_file_kept,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_and_remove, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_nothing_to_commit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_show, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
