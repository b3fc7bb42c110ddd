/*
 * conf_secret: the Directus credential, exactly one of directus.token_file,
 * token_env, token (inline), email with password_file, or systemd's
 * $CREDENTIALS_DIRECTORY/token; and the files of the other secrets (a
 * webhook's notify[N].secret_file). A file that holds a secret must be its
 * owner's alone; every buffer that held one is wiped.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "conf_int.h"
#include "fsutil.h"
#include "xmalloc.h"

#define SECRET_MAX ((size_t)64 << 10) /* a token or password file */

/* A secret file, less one trailing newline. Refused: a file that gives
 * any permission to the users that mask names (077: group and others). */
static int read_secret(const char *path, mode_t mask, char **out, char **errstr)
{
	char *buf;
	size_t len, size;
	mode_t mode;

	if (conf_read_file(path, SECRET_MAX, &buf, &size, &mode, errstr) < 0)
		return -1;
	len = size;
	if (mode & mask) {
		xasprintf(errstr,
		    "%s: %s by other users (mode %04o); chmod 600 it", path,
		    mode & mask & 044 ? "readable" : "accessible",
		    (unsigned)(mode & 07777));
		goto fail;
	}
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (len == 0 || memchr(buf, '\0', len) != NULL) {
		xasprintf(errstr, "%s: %s", path,
		    len ? "holds a NUL byte" : "empty");
		goto fail;
	}
	*out = xstrndup(buf, len);
	explicit_bzero(buf, size);
	free(buf);
	return 0;
fail:
	explicit_bzero(buf, size);
	free(buf);
	return -1;
}

int conf_secret_file(const char *path, char **out, char **errstr)
{
	char *v = NULL;

	if (read_secret(path, 077, &v, errstr) < 0)
		return -1;
	xfree_secret(*out);
	*out = v;
	return 0;
}

/* A token goes into an HTTP header: no control characters. */
static bool token_ok(const char *t)
{
	for (; *t; t++)
		if ((unsigned char)*t < ' ' || *t == 0x7f)
			return false;
	return true;
}

static int token_from_file(struct load *l, const config_setting_t *s)
{
	char *path = conf_resolve(l, config_setting_get_string(s)), *e = NULL;
	int rc = -1;

	if (read_secret(path, 077, &l->c->token, &e) < 0) {
		conf_at(l, s, "%s", e);
		goto fail;
	}
	if (!token_ok(l->c->token)) {
		conf_at(l, s,
		    "%s: the token holds a line break or another "
		    "control character",
		    path);
		goto fail;
	}
	xasprintf(&l->c->token_source, "file %s", path);
	rc = 0;
fail:
	free(e);
	free(path);
	return rc;
}

static int token_from_env(struct load *l, const config_setting_t *s)
{
	const char *name = config_setting_get_string(s);
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		return conf_at(l, s,
		    "directus.token_env: the environment variable %s is %s",
		    name, v ? "empty" : "not set");
	if (!token_ok(v))
		return conf_at(l, s,
		    "directus.token_env: the token in %s "
		    "holds a line break or another control character",
		    name);
	l->c->token = xstrdup(v);
	xasprintf(&l->c->token_source, "environment %s", name);
	return 0;
}

/* An inline token: the file holding it must be its owner's alone. */
static int token_inline(struct load *l, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);
	const char *src = config_setting_source_file(s);
	char *file = src ? conf_resolve(l, src) : xstrdup(l->c->path);
	struct stat st;
	mode_t mode = l->mode;
	int rc = -1;

	if (strcmp(v, PLACEHOLDER) == 0) {
		conf_at(l, s,
		    "directus.token is \"%s\", the placeholder that "
		    "the printed configuration shows: give the token itself, "
		    "or directus.token_file",
		    PLACEHOLDER);
		goto fail;
	}
	if (!token_ok(v)) {
		conf_at(l, s,
		    "directus.token holds a line break or another "
		    "control character");
		goto fail;
	}
	if (src != NULL) {
		if (stat(file, &st) < 0) {
			conf_at(l, s, "%s: %s", file, strerror(errno));
			goto fail;
		}
		mode = st.st_mode;
	}
	if (mode & 077) {
		conf_at(l, s,
		    "%s holds directus.token and is %s by other "
		    "users (mode %04o); chmod 600 it, or use "
		    "directus.token_file",
		    file, mode & 044 ? "readable" : "accessible",
		    (unsigned)(mode & 07777));
		goto fail;
	}
	l->c->token = xstrdup(v);
	l->c->token_source = xstrdup("inline");
	rc = 0;
fail:
	free(file);
	return rc;
}

static int login_from_file(struct load *l, const config_setting_t *email,
    const config_setting_t *pw)
{
	char *path = conf_resolve(l, config_setting_get_string(pw)), *e = NULL;
	int rc = -1;

	if (read_secret(path, 077, &l->c->password, &e) < 0) {
		conf_at(l, pw, "%s", e);
		goto fail;
	}
	l->c->email = xstrdup(config_setting_get_string(email));
	xasprintf(&l->c->password_source, "file %s", path);
	rc = 0;
fail:
	free(e);
	free(path);
	return rc;
}

/*
 * systemd's LoadCredential=: the directory is the service's alone, and
 * systemd grants its user read access through an ACL, whose mask shows
 * as the group bits: only the bits of others are checked.
 */
static int token_from_credentials(struct load *l)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	char *path = NULL, *e = NULL;
	struct stat st;
	int rc = -1;

	if (dir != NULL && *dir != '\0')
		path = fs_join(dir, "token");
	if (path == NULL ||
	    (stat(path, &st) < 0 && (errno == ENOENT || errno == ENOTDIR))) {
		xasprintf(l->errstr,
		    "%s: no Directus credential: set one of "
		    "directus.token_file, directus.token_env, directus.token, "
		    "or directus.email with directus.password_file (or give "
		    "the token as the systemd credential \"token\", read from "
		    "$CREDENTIALS_DIRECTORY/token%s)",
		    l->c->path,
		    path == NULL ? "; $CREDENTIALS_DIRECTORY is not set" : "");
		goto fail;
	}
	if (read_secret(path, 007, &l->c->token, &e) < 0) {
		xasprintf(l->errstr, "%s", e);
		goto fail;
	}
	if (!token_ok(l->c->token)) {
		xasprintf(l->errstr,
		    "%s: the token holds a line break or "
		    "another control character",
		    path);
		goto fail;
	}
	l->c->token_source = xstrdup("credential $CREDENTIALS_DIRECTORY/token");
	rc = 0;
fail:
	free(e);
	free(path);
	return rc;
}

/* Exactly one way, then read it. */
int conf_secret_load(struct load *l, const config_t *cfg)
{
	static const char *const names[] = { "directus.token_file",
		"directus.token_env", "directus.token", "directus.email",
		"directus.password_file" };
	const config_setting_t *s[5], *first = NULL, *second = NULL;
	int i, fi = 0, si = 0;

	for (i = 0; i < 5; i++)
		s[i] = config_lookup(cfg, names[i]);
	if ((s[3] == NULL) != (s[4] == NULL))
		return conf_at(l, s[3] ? s[3] : s[4],
		    "%s needs %s: a login takes both", names[s[3] ? 3 : 4],
		    names[s[3] ? 4 : 3]);
	for (i = 0; i < 4; i++)
		if (s[i] && first == NULL)
			first = s[fi = i];
		else if (s[i] && second == NULL)
			second = s[si = i];
	if (second)
		return conf_at(l, second,
		    "%s and %s: give one credential, not two", names[fi],
		    names[si]);
	if (s[0])
		return token_from_file(l, s[0]);
	if (s[1])
		return token_from_env(l, s[1]);
	if (s[2])
		return token_inline(l, s[2]);
	if (s[3])
		return login_from_file(l, s[3], s[4]);
	return token_from_credentials(l);
}
