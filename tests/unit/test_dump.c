/*
 * Unit tests of the dump tree's update and lock: unchanged files keep
 * their inode and mtime, stale owned files go and others stay, and an
 * update is all or nothing across a crash (the process dies at a chosen
 * rename, before or after the journal's commit point) and a failed flush
 * (syncfs and write failures, injected with the linker's --wrap).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "dump.h"
#include "fsutil.h"
#include "result.h"
#include "xmalloc.h"

int __real_rename(const char *from, const char *to);
int __wrap_rename(const char *from, const char *to);
int __real_syncfs(int fd);
int __wrap_syncfs(int fd);

static int die_at_rename; /* 0: never; n: SIGKILL at the nth rename */
static int renames;
static int syncfs_errno; /* 0: the real syncfs */

int __wrap_rename(const char *from, const char *to)
{
	/* A real crash: no exit handlers, and nothing for a leak checker
	 * to count in a process that died on purpose. */
	if (die_at_rename && ++renames == die_at_rename)
		raise(SIGKILL);
	return __real_rename(from, to);
}

int __wrap_syncfs(int fd)
{
	if (syncfs_errno) {
		errno = syncfs_errno;
		return -1;
	}
	return __real_syncfs(fd);
}

static char root[256];

static void put(const char *rel, const char *text)
{
	char *p = fs_join(root, rel), *d = xstrdup(p);

	*strrchr(d, '/') = '\0';
	assert_int_equal(fs_mkdirs(d, 0755), 0);
	assert_int_equal(fs_write_file(p, text, strlen(text)), 0);
	free(d);
	free(p);
}

static char *get(const char *rel)
{
	char *p = fs_join(root, rel), *data = NULL;
	size_t len;

	if (fs_read_file(p, &data, &len) < 0)
		data = NULL;
	free(p);
	return data;
}

static void assert_file(const char *rel, const char *text)
{
	char *got = get(rel);

	if (text == NULL) {
		if (got)
			fail_msg("%s exists, holding \"%s\"", rel, got);
		return;
	}
	if (got == NULL)
		fail_msg("%s is missing", rel);
	assert_string_equal(got, text);
	free(got);
}

static bool exists(const char *rel)
{
	char *p = fs_join(root, rel);
	struct stat st;
	bool e = lstat(p, &st) == 0;

	free(p);
	return e;
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/dsync-test-dump.XXXXXX");
	assert_non_null(mkdtemp(root));
	put("snapshot/info.json", "info1");
	put("snapshot/fields/a/x.json", "ax1");
	put("snapshot/fields/b/y.json", "by1");
	put("collections/flows.json", "flows1");
	put("collections/roles.json", "roles1");
	put("README.md", "mine");
	die_at_rename = renames = syncfs_errno = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fs_rmtree(root);
	return 0;
}

static struct dump_stage *begin(void)
{
	struct dump_stage *s = NULL;
	char *err = NULL;

	assert_int_equal(dump_stage_begin(root, &s, &err), 0);
	dump_stage_own_dir(s, "snapshot");
	dump_stage_own_file(s, "collections/flows.json");
	dump_stage_own_file(s, "collections/roles.json");
	return s;
}

/* The update of the tests: info and flows change, fields/b goes. */
static void stage_update(struct dump_stage *s)
{
	char *err = NULL;

	assert_int_equal(dump_stage_write(s, "snapshot/info.json", "info2", 5,
			     &err),
	    0);
	assert_int_equal(dump_stage_write(s, "snapshot/fields/a/x.json", "ax1",
			     3, &err),
	    0);
	assert_int_equal(dump_stage_write(s, "collections/flows.json", "flows2",
			     6, &err),
	    0);
	assert_int_equal(dump_stage_write(s, "collections/roles.json", "roles1",
			     6, &err),
	    0);
}

static void assert_old(void)
{
	assert_file("snapshot/info.json", "info1");
	assert_file("snapshot/fields/b/y.json", "by1");
	assert_file("collections/flows.json", "flows1");
	assert_file("README.md", "mine");
}

static void assert_new(void)
{
	assert_file("snapshot/info.json", "info2");
	assert_file("snapshot/fields/a/x.json", "ax1");
	assert_file("snapshot/fields/b/y.json", NULL);
	assert_false(exists("snapshot/fields/b"));
	assert_file("collections/flows.json", "flows2");
	assert_file("collections/roles.json", "roles1");
	assert_file("README.md", "mine");
	assert_false(exists(DUMP_STAGING_DIR));
}

static void stat_of(const char *rel, struct stat *st)
{
	char *p = fs_join(root, rel);

	assert_int_equal(stat(p, st), 0);
	free(p);
}

static void test_unchanged_touches_nothing(void **state)
{
	struct dump_stage *s = begin();
	struct stat before, after, dbefore, dafter;
	char *err = NULL;
	bool changed = true;

	(void)state;
	stat_of("collections/roles.json", &before);
	stat_of("", &dbefore);
	assert_int_equal(dump_stage_write(s, "snapshot/info.json", "info1", 5,
			     &err),
	    0);
	assert_int_equal(dump_stage_write(s, "snapshot/fields/a/x.json", "ax1",
			     3, &err),
	    0);
	assert_int_equal(dump_stage_write(s, "snapshot/fields/b/y.json", "by1",
			     3, &err),
	    0);
	assert_int_equal(dump_stage_write(s, "collections/flows.json", "flows1",
			     6, &err),
	    0);
	assert_int_equal(dump_stage_write(s, "collections/roles.json", "roles1",
			     6, &err),
	    0);
	assert_int_equal(dump_stage_write_dir(s, "collections", &err), 0);
	assert_int_equal(dump_stage_commit(s, &changed, &err), 0);
	assert_false(changed);
	stat_of("collections/roles.json", &after);
	stat_of("", &dafter);
	assert_int_equal(before.st_ino, after.st_ino);
	assert_int_equal(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
	assert_int_equal(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
	/* Not even a staging directory came and went in the root. */
	assert_int_equal(dbefore.st_mtim.tv_nsec, dafter.st_mtim.tv_nsec);
	assert_false(exists(DUMP_STAGING_DIR));
}

static void test_update(void **state)
{
	struct dump_stage *s = begin();
	struct stat before, after;
	char *err = NULL;
	bool changed = false;

	(void)state;
	stat_of("collections/roles.json", &before);
	stage_update(s);
	assert_int_equal(dump_stage_commit(s, &changed, &err), 0);
	assert_true(changed);
	assert_new();
	stat_of("collections/roles.json", &after);
	assert_int_equal(before.st_ino, after.st_ino);
}

static void test_paths_refused(void **state)
{
	struct dump_stage *s = begin();
	char *err = NULL;

	(void)state;
	assert_int_equal(dump_stage_write(s, "../x.json", "x", 1, &err),
	    SYNC_EDUMP);
	free(err);
	err = NULL;
	assert_int_equal(dump_stage_write(s, "/etc/x", "x", 1, &err),
	    SYNC_EDUMP);
	free(err);
	err = NULL;
	assert_int_equal(dump_stage_write(s, "a//b", "x", 1, &err), SYNC_EDUMP);
	free(err);
	err = NULL;
	assert_int_equal(dump_check_name("name", "../../x", &err), SYNC_EPROTO);
	assert_non_null(strstr(err, "../../x"));
	free(err);
	err = NULL;
	assert_int_equal(dump_check_name("name", "a\033[31m", &err),
	    SYNC_EPROTO);
	free(err);
	assert_int_equal(dump_check_name("name", "articles", &err), 0);
	dump_stage_abort(s);
	assert_old();
	assert_false(exists(DUMP_STAGING_DIR));
}

/* Run the update in a child that dies at the nth rename; returns once
 * it is gone. */
static void crash_at(int n)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct dump_stage *s = begin();
		char *err = NULL;

		die_at_rename = n;
		stage_update(s);
		dump_stage_commit(s, NULL, &err);
		_exit(3); /* the rename was never reached */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
}

static void relock(bool *recovered)
{
	struct dump_lock *l = NULL;
	char *err = NULL;

	assert_int_equal(dump_lock_acquire(root, false, 0, NULL, &l, &err), 0);
	*recovered = dump_lock_recovered(l);
	dump_lock_release(l);
}

static void test_crash_before_commit_point(void **state)
{
	bool rec;

	(void)state;
	/* Rename 1 is the journal's, the commit point. */
	crash_at(1);
	assert_old();
	assert_true(exists(DUMP_STAGING_DIR));
	relock(&rec);
	assert_false(rec);
	assert_old();
	assert_false(exists(DUMP_STAGING_DIR));
}

static void test_crash_after_commit_point(void **state)
{
	bool rec;

	(void)state;
	/* Renames 2 and 3 move info.json and flows.json: die at the
	 * second, half the tree new, half old. */
	crash_at(3);
	assert_file("snapshot/info.json", "info2");
	assert_file("collections/flows.json", "flows1");
	relock(&rec);
	assert_true(rec);
	assert_new();
}

static void test_flush_failure(void **state)
{
	struct dump_stage *s = begin();
	char *err = NULL;

	(void)state;
	stage_update(s);
	syncfs_errno = EIO;
	assert_int_equal(dump_stage_commit(s, NULL, &err), SYNC_EIO);
	assert_non_null(strstr(err, "Input/output error"));
	free(err);
	assert_old();
	assert_false(exists(DUMP_STAGING_DIR));
}

static void test_lock_names_holder(void **state)
{
	struct dump_lock *a = NULL, *b = NULL;
	char *err = NULL, want[64];
	pid_t pid;
	int fds[2], status;
	char c;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		if (dump_lock_acquire(root, false, 0, NULL, &a, &err) < 0)
			_exit(1);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &c, 1), 1);
	assert_int_equal(dump_lock_acquire(root, false, 0, NULL, &b, &err),
	    SYNC_ELOCKED);
	snprintf(want, sizeof(want), "in use by pid %ld", (long)pid);
	if (strstr(err, want) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", err, want);
	free(err);
	err = NULL;
	/* Waiting gives up after the time given. */
	assert_int_equal(dump_lock_acquire(root, false, 0.3, NULL, &b, &err),
	    SYNC_ELOCKED);
	free(err);
	err = NULL;
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(fds[0]);
	assert_int_equal(dump_lock_acquire(root, false, 0, NULL, &b, &err), 0);
	dump_lock_release(b);
}

static void test_lock_creates_and_follows_links(void **state)
{
	struct dump_lock *l = NULL;
	char *err = NULL, *fresh = fs_join(root, "new/tree"), *link;
	char *target = fs_join(root, "snapshot");

	(void)state;
	assert_int_equal(dump_lock_acquire(fresh, true, 0, NULL, &l, &err), 0);
	dump_lock_release(l);
	/* Created, left empty: removed again. */
	assert_false(exists("new/tree"));
	link = fs_join(root, "link");
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(dump_lock_acquire(link, false, 0, NULL, &l, &err), 0);
	assert_string_equal(dump_lock_root(l), target);
	dump_lock_release(l);
	assert_int_equal(dump_lock_acquire(fresh, false, 0, NULL, &l, &err),
	    SYNC_EDUMP);
	free(err);
	free(fresh);
	free(link);
	free(target);
}

/* A link planted in the tree, to a directory or a file outside it: the
 * update is refused before anything moves, and nothing is written
 * there. */
static void test_links_refused(void **state)
{
	char outside[] = "/tmp/dsync-test-outside.XXXXXX";
	char *link, *victim, *err = NULL, *data = NULL;
	struct dump_stage *s;
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(outside));
	victim = fs_join(outside, "passwd");
	assert_int_equal(fs_write_file(victim, "root:x:0:0\n", 11), 0);
	link = fs_join(root, "snapshot/fields");
	fs_rmtree(link);
	assert_int_equal(symlink(outside, link), 0);
	s = begin();
	assert_int_equal(dump_stage_write(s, "snapshot/fields/a/x.json", "x", 1,
			     &err),
	    0);
	assert_int_equal(dump_stage_commit(s, NULL, &err), SYNC_EDUMP);
	assert_non_null(strstr(err, "is a symbolic link"));
	assert_non_null(strstr(err, "snapshot/fields"));
	free(err);
	err = NULL;
	assert_false(exists("snapshot/fields/a"));
	assert_false(exists(DUMP_STAGING_DIR));
	/* A link in place of a file. */
	free(link);
	link = fs_join(root, "collections/flows.json");
	unlink(link);
	assert_int_equal(symlink(victim, link), 0);
	s = begin();
	assert_int_equal(dump_stage_write(s, "collections/flows.json", "new", 3,
			     &err),
	    0);
	assert_int_equal(dump_stage_commit(s, NULL, &err), SYNC_EDUMP);
	assert_non_null(
	    strstr(err, "collections/flows.json: it is a symbolic link"));
	free(err);
	assert_int_equal(fs_read_file(victim, &data, &len), 0);
	assert_int_equal(len, 11);
	assert_memory_equal(data, "root:x:0:0\n", 11);
	free(data);
	fs_rmtree(outside);
	free(victim);
	free(link);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unchanged_touches_nothing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_update, setup, teardown),
		cmocka_unit_test_setup_teardown(test_links_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_paths_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crash_before_commit_point,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_after_commit_point,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_failure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lock_names_holder, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_lock_creates_and_follows_links, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
