/*
 * test_fsutil: fs_mkdirs (empty path, nested and relative creates,
 * existing directories, a path through a regular file, "/") and fs_join.
 * Everything happens below a fresh mkdtemp directory, removed at the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fsutil.h"
#include "xmalloc.h"

static char tmp[PATH_MAX];

static int setup(void **state)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmp, sizeof(tmp), "%s/dsync-fsutil.XXXXXX",
	    t && *t ? t : "/tmp");
	return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
	return fs_rmtree(tmp) == 0 ? 0 : -1;
}

static char *at(const char *rel)
{
	return fs_join(tmp, rel);
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_mkdirs_empty(void **state)
{
	assert_int_equal(fs_mkdirs("", 0755), -ENOENT);
}

static void test_mkdirs_nested(void **state)
{
	char *p = at("a/b/c/d"), *q = at("a/b/c");

	assert_int_equal(fs_mkdirs(p, 0755), 0);
	assert_true(is_dir(p));
	assert_true(is_dir(q));
	free(p);
	free(q);
	/* trailing and doubled slashes */
	p = at("x//y/z/");
	assert_int_equal(fs_mkdirs(p, 0755), 0);
	free(p);
	p = at("x/y/z");
	assert_true(is_dir(p));
	free(p);
}

static void test_mkdirs_relative(void **state)
{
	char cwd[PATH_MAX];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmp), 0);
	assert_int_equal(fs_mkdirs("r/s", 0755), 0);
	assert_true(is_dir("r/s"));
	assert_int_equal(fs_mkdirs("t", 0755), 0);
	assert_true(is_dir("t"));
	assert_int_equal(chdir(cwd), 0);
}

static void test_mkdirs_existing(void **state)
{
	char *p = at("e/f");

	assert_int_equal(fs_mkdirs(p, 0755), 0);
	assert_int_equal(fs_mkdirs(p, 0755), 0);
	assert_int_equal(fs_mkdirs(tmp, 0755), 0);
	assert_true(is_dir(p));
	free(p);
}

static void test_mkdirs_through_file(void **state)
{
	char *f = at("file"), *p = at("file/sub/dir");
	int fd = open(f, O_WRONLY | O_CREAT | O_EXCL, 0644);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(fs_mkdirs(p, 0755), -ENOTDIR);
	/* the path is the file itself */
	assert_int_equal(fs_mkdirs(f, 0755), -ENOTDIR);
	free(f);
	free(p);
}

static void test_mkdirs_root(void **state)
{
	assert_int_equal(fs_mkdirs("/", 0755), 0);
	assert_int_equal(fs_mkdirs("//", 0755), 0);
}

static void join_is(const char *a, const char *b, const char *want)
{
	char *p = fs_join(a, b);

	assert_string_equal(p, want);
	free(p);
}

static void test_join(void **state)
{
	join_is("a", "b", "a/b");
	join_is("a/", "b", "a/b");
	join_is("a", "/b", "a/b");
	join_is("a/", "//b/c", "a/b/c");
	join_is("/", "b", "/b");
	join_is("/x/y", "z.json", "/x/y/z.json");
	/* an empty first part leaves the second as it is */
	join_is("", "b", "b");
	join_is("", "/b", "/b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mkdirs_empty),
		cmocka_unit_test(test_mkdirs_nested),
		cmocka_unit_test(test_mkdirs_relative),
		cmocka_unit_test(test_mkdirs_existing),
		cmocka_unit_test(test_mkdirs_through_file),
		cmocka_unit_test(test_mkdirs_root),
		cmocka_unit_test(test_join),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
