/*
 * fuzz_conf: dsyncd.conf read by conf_load (config/conf*.c, libconfig
 * under it). The input is written to dsyncd.conf (mode 0600) in a private
 * temporary directory made once per process, beside the files a config
 * may name: token files (good, readable by others, empty, with a NUL),
 * a password file, a CA file and one that is not, includes (a good one,
 * one readable by others holding a token, a loop), a directory and a
 * FIFO. When a file loads, its conf_print, with the credential line
 * pointed at the token file, must load again and print the same.
 *
 * Nothing outside the directory is read or written: an input with an
 * @include and ".." is skipped (libconfig opens includes itself, always
 * under the include directory, which is this one), and the loader's own
 * open(2), fopen(3) and stat(2) (wrapped at link time: -Wl,--wrap)
 * refuse any other path, and any writing, while conf_load runs. The
 * environment is emptied but for the sanitizers' variables and a few
 * made here (DIRECTUS_TOKEN for token_env, CREDENTIALS_DIRECTORY
 * pointing inside the directory), and getgrnam_r answers from a fake
 * group table (dsync, big), so that no real secret, environment or name
 * service is ever looked at.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "fsutil.h"
#include "xmalloc.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
const char *__lsan_default_suppressions(void);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, \
			    "fuzz_conf: check failed at %s:%d: %s\n", \
			    __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

static char *tmpdir; /* absolute, no symbolic link inside */
static size_t tmplen;
static char *conf_path, *printed_path;
static bool confined; /* the wrappers refuse paths outside */

/*
 * libconfig 1.5 leaks the text of a string token that stands where its
 * grammar wants none ('x = 1 "a";', 'x = 1 "";', or '"a"' alone): its
 * parser drops the token without freeing it, a few bytes per refused
 * file. Not this project's leak, and nothing it can free: the scanner's
 * allocations of token text (strbuf_append, and libconfig_yylex for "")
 * are not reported. Any other leak is, libconfig's settings included.
 */
const char *__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

/* ---- the wrapped calls ---- */

int __real_open(const char *path, int flags, ...);
int __real_open64(const char *path, int flags, ...);
int __real_stat(const char *path, struct stat *st);
int __real_stat64(const char *path, struct stat64 *st);
int __wrap_open(const char *path, int flags, ...);
int __wrap_open64(const char *path, int flags, ...);
int __wrap_stat(const char *path, struct stat *st);
int __wrap_stat64(const char *path, struct stat64 *st);
FILE *__real_fopen(const char *path, const char *mode);
FILE *__real_fopen64(const char *path, const char *mode);
FILE *__wrap_fopen(const char *path, const char *mode);
FILE *__wrap_fopen64(const char *path, const char *mode);
int __wrap_getgrnam_r(const char *name, struct group *grp, char *buf,
    size_t buflen, struct group **result);

/* Inside the temporary directory, and no ".." component. */
static bool allowed(const char *path)
{
	const char *p;

	if (!confined)
		return true;
	if (path == NULL || strncmp(path, tmpdir, tmplen) != 0 ||
	    path[tmplen] != '/')
		return false;
	for (p = path; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == path || p[-1] == '/') &&
		    (p[2] == '/' || p[2] == '\0'))
			return false;
	return true;
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ?
	    (mode_t)va_arg(ap, int) :
	    0;
}

/* Both opens: refused outside the allowed paths, and for writing while
 * confined; otherwise the real one. */
static int open_checked(int (*real)(const char *, int, ...), const char *path,
    int flags, mode_t mode)
{
	if (!allowed(path) || (confined && (flags & O_ACCMODE) != O_RDONLY)) {
		errno = EACCES;
		return -1;
	}
	return real(path, flags, mode);
}

int __wrap_open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return open_checked(__real_open, path, flags, mode);
}

int __wrap_open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return open_checked(__real_open64, path, flags, mode);
}

int __wrap_stat(const char *path, struct stat *st)
{
	if (!allowed(path)) {
		errno = EACCES;
		return -1;
	}
	return __real_stat(path, st);
}

int __wrap_stat64(const char *path, struct stat64 *st)
{
	if (!allowed(path)) {
		errno = EACCES;
		return -1;
	}
	return __real_stat64(path, st);
}

static bool read_only(const char *mode)
{
	return strcmp(mode, "r") == 0 || strcmp(mode, "re") == 0;
}

FILE *__wrap_fopen(const char *path, const char *mode)
{
	if (!allowed(path) || (confined && !read_only(mode))) {
		errno = EACCES;
		return NULL;
	}
	return __real_fopen(path, mode);
}

FILE *__wrap_fopen64(const char *path, const char *mode)
{
	if (!allowed(path) || (confined && !read_only(mode))) {
		errno = EACCES;
		return NULL;
	}
	return __real_fopen64(path, mode);
}

/* Groups "dsync" (4242) and "big" (4343, whose entry needs a 4 KiB
 * buffer, for the ERANGE loop); "broken" fails; any other is unknown. */
int __wrap_getgrnam_r(const char *name, struct group *grp, char *buf,
    size_t buflen, struct group **result)
{
	static char *no_members[] = { NULL };
	gid_t gid;

	*result = NULL;
	if (strcmp(name, "dsync") == 0)
		gid = 4242;
	else if (strcmp(name, "big") == 0)
		gid = 4343;
	else if (strcmp(name, "broken") == 0)
		return EIO;
	else
		return 0;
	if ((gid == 4343 && buflen < 4096) || buflen < strlen(name) + 2)
		return ERANGE;
	memset(grp, 0, sizeof(*grp));
	strcpy(buf, name);
	grp->gr_name = buf;
	grp->gr_passwd = buf + strlen(name); /* "" */
	grp->gr_gid = gid;
	grp->gr_mem = no_members;
	*result = grp;
	return 0;
}

/* ---- the directory ---- */

static void put(const char *name, const char *text, size_t len, mode_t mode)
{
	char *path = fs_join(tmpdir, name);

	CHECK(fs_write_file(path, text, len) == 0);
	CHECK(chmod(path, mode) == 0);
	free(path);
}

static void put_str(const char *name, const char *text, mode_t mode)
{
	put(name, text, strlen(text), mode);
}

/* Every variable but the sanitizers' goes; then the made ones. */
static void clean_environment(void)
{
	static const char *const keep[] = { "ASAN_OPTIONS", "UBSAN_OPTIONS",
		"LSAN_OPTIONS", "ASAN_SYMBOLIZER_PATH", "LLVM_SYMBOLIZER_PATH",
		"PATH", NULL };
	char *saved[8] = { NULL };
	size_t i;

	for (i = 0; keep[i]; i++)
		if (getenv(keep[i]))
			saved[i] = xstrdup(getenv(keep[i]));
	CHECK(clearenv() == 0);
	for (i = 0; keep[i]; i++)
		if (saved[i]) {
			setenv(keep[i], saved[i], 1);
			free(saved[i]);
		}
	setenv("DIRECTUS_TOKEN", "fuzz-env-token", 1);
	setenv("EMPTY_TOKEN", "", 1);
	setenv("BAD_TOKEN", "fuzz\ntoken", 1);
}

static void remove_tmpdir(void)
{
	if (tmpdir)
		fs_rmtree(tmpdir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = getenv("TMPDIR");
	char *tmpl, *real, *creds;

	(void)argc;
	(void)argv;
	xasprintf(&tmpl, "%s/dsync-fuzz-conf.XXXXXX",
	    base && *base == '/' ? base : "/tmp");
	CHECK(mkdtemp(tmpl) != NULL);
	/* the wrappers compare the path as the loader builds it */
	CHECK((real = realpath(tmpl, NULL)) != NULL);
	free(tmpl);
	tmpdir = real;
	tmplen = strlen(tmpdir);
	atexit(remove_tmpdir);
	conf_path = fs_join(tmpdir, "dsyncd.conf");
	printed_path = fs_join(tmpdir, "printed.conf");

	put_str("token", "fuzz-file-token\n", 0600);
	put_str("token-open", "fuzz-file-token\n", 0644);
	put_str("token-empty", "\n", 0600);
	put("token-nul", "fuzz\0token\n", 11, 0600);
	put_str("token-ctl", "fuzz\ttoken\r\n", 0400);
	put_str("password", "fuzz-password\n", 0600);
	put_str("ca.pem",
	    "-----BEGIN CERTIFICATE-----\nMIIBfuzz\n"
	    "-----END CERTIFICATE-----\n",
	    0644);
	put_str("not-ca.pem", "fuzz\n", 0644);
	put_str("inc.conf", "log_level = \"debug\";\ndebounce = 2;\n", 0600);
	put_str("inc-token.conf", "token = \"fuzz-inline-token\";\n", 0600);
	put_str("inc-token-open.conf", "token = \"fuzz-inline-token\";\n",
	    0644);
	put_str("inc-big.conf", "max_deletes = 3000000000;\n", 0600);
	put_str("inc-loop.conf", "@include \"inc-loop.conf\"\n", 0600);
	{
		char *d = fs_join(tmpdir, "conf.d"),
		     *f = fs_join(tmpdir, "fifo");

		CHECK(mkdir(d, 0700) == 0);
		CHECK(mkfifo(f, 0600) == 0);
		free(d);
		free(f);
	}
	creds = fs_join(tmpdir, "creds");
	CHECK(mkdir(creds, 0700) == 0);
	put_str("creds/token", "fuzz-credential-token\n", 0600);

	clean_environment();
	setenv("CREDENTIALS_DIRECTORY", creds, 1);
	free(creds);
	return 0;
}

/* ---- one input ---- */

static int load(struct conf *c, const char *path, char **err)
{
	int rc;

	conf_init(c);
	*err = NULL;
	confined = true;
	rc = conf_load(c, path, err);
	confined = false;
	return rc;
}

static char *printed(const struct conf *c)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	CHECK(f != NULL);
	conf_print(c, f);
	CHECK(fclose(f) == 0);
	return out;
}

/* The credential line, as conf_print writes it, replaced by one that
 * reads back: the token (or the password) from its file here. */
static char *readable(const char *out)
{
	static const struct {
		const char *line, *with;
	} creds[] = {
		{ "\n  token = \"(set)\";", "\n  token_file = \"token\";" },
		{ "\n  password = \"(set)\";",
		    "\n  password_file = \"password\";" },
	};
	const char *p, *e;
	char *r;
	size_t i;

	for (i = 0; i < sizeof(creds) / sizeof(creds[0]); i++) {
		if ((p = strstr(out, creds[i].line)) == NULL)
			continue;
		e = strchr(p + 1, '\n');
		CHECK(e != NULL);
		xasprintf(&r, "%.*s%s%s", (int)(p - out), out, creds[i].with,
		    e);
		return r;
	}
	return xstrdup(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c, d;
	char *err = NULL, *out, *back, *again, *back2;

	/* libconfig opens includes itself: none may leave the directory */
	if (memmem(data, size, "@include", 8) != NULL &&
	    memmem(data, size, "..", 2) != NULL)
		return 0;
	put("dsyncd.conf", (const char *)data, size, 0600);
	if (load(&c, conf_path, &err) < 0) {
		CHECK(err != NULL && *err != '\0');
		free(err);
		conf_clear(&c);
		return 0;
	}
	CHECK(err == NULL);
	CHECK(c.url != NULL && c.sync.dump_path != NULL &&
	    (c.token != NULL || (c.email != NULL && c.password != NULL)));

	/* printed, it reads back the same */
	out = printed(&c);
	back = readable(out);
	put("printed.conf", back, strlen(back), 0600);
	if (load(&d, printed_path, &err) < 0) {
		fprintf(stderr,
		    "fuzz_conf: the printed configuration does not "
		    "load: %s\n--- printed:\n%.4000s\n",
		    err, back);
		CHECK(!"printed configuration loads");
	}
	again = printed(&d);
	back2 = readable(again);
	if (strcmp(strchr(back, '\n'), strchr(back2, '\n')) != 0) {
		fprintf(stderr,
		    "fuzz_conf: printed differently when read back"
		    "\n--- first:\n%.4000s\n--- then:\n%.4000s\n",
		    back, back2);
		CHECK(!"printed configuration reads back the same");
	}
	CHECK(d.control_gid == c.control_gid && d.sync.only == c.sync.only &&
	    d.sync.max_body == c.sync.max_body);
	free(back2);
	free(again);
	free(back);
	free(out);
	conf_clear(&d);
	conf_clear(&c);
	return 0;
}
