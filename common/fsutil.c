/*
 * fsutil: file-system helpers used to build a dump tree beside the old one
 * and to carry the files dsync does not own into it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "xmalloc.h"

char *fs_join(const char *a, const char *b)
{
	char *p;
	size_t la = strlen(a);

	if (la == 0)
		return xstrdup(b);
	while (*b == '/')
		b++;
	xasprintf(&p, "%s%s%s", a, a[la - 1] == '/' ? "" : "/", b);
	return p;
}

int fs_mkdirs(const char *path, mode_t mode)
{
	char *p, *s;
	int rc = 0;

	/* As mkdir(""); the loop below starts after the first byte. */
	if (path[0] == '\0')
		return -ENOENT;
	p = xstrdup(path);
	for (s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			rc = -errno;
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	if (rc == 0) {
		struct stat st;

		if (stat(path, &st) < 0)
			return -errno;
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
	}
	return rc;
}

static int rmtree_at(int dfd, const char *name)
{
	int fd, rc = 0;
	DIR *d;
	struct dirent *de;

	if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if ((rc = rmtree_at(dirfd(d), de->d_name)) < 0)
			break;
	}
	closedir(d);
	if (rc == 0 && unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = -errno;
	return rc;
}

int fs_rmtree(const char *path)
{
	return rmtree_at(AT_FDCWD, path);
}

int fs_read_file(const char *path, char **data, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, n = 0;
	char *buf;
	ssize_t r;

	if (fd < 0)
		return -errno;
	buf = xmalloc(cap + 1);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			buf = xreallocarray(buf, cap + 1, 1);
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			close(fd);
			free(buf);
			return (int)r;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*data = buf;
	if (len)
		*len = n;
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int fs_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc;

	if (fd < 0)
		return -errno;
	rc = write_all(fd, data, len);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

int fs_write_file_atomic(const char *path, const void *data, size_t len)
{
	char *tmp;
	int fd, rc;

	xasprintf(&tmp, "%s.tmp-XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = -errno;
		free(tmp);
		return rc;
	}
	fchmod(fd, 0644);
	rc = write_all(fd, data, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

static int copy_file(const char *src, const char *dst, mode_t mode)
{
	char *data;
	size_t len;
	int rc = fs_read_file(src, &data, &len);

	if (rc < 0)
		return rc;
	rc = fs_write_file(dst, data, len);
	free(data);
	if (rc == 0)
		chmod(dst, mode & 07777);
	return rc;
}

static int link_tree(const char *src, const char *dst, const char *rel,
    bool (*skip)(const char *, void *), void *arg)
{
	DIR *d = opendir(src);
	struct dirent *de;
	int rc = 0;

	if (d == NULL)
		return errno == ENOENT ? 0 : -errno;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char *s, *t, *r;
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		r = rel[0] ? fs_join(rel, de->d_name) : xstrdup(de->d_name);
		if (skip && skip(r, arg)) {
			free(r);
			continue;
		}
		s = fs_join(src, de->d_name);
		t = fs_join(dst, de->d_name);
		if (lstat(s, &st) < 0)
			rc = -errno;
		else if (S_ISDIR(st.st_mode)) {
			if (mkdir(t, st.st_mode & 07777) < 0 && errno != EEXIST)
				rc = -errno;
			else
				rc = link_tree(s, t, r, skip, arg);
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlink(s, target, sizeof(target) - 1);

			if (n < 0)
				rc = -errno;
			else {
				target[n] = '\0';
				if (symlink(target, t) < 0)
					rc = -errno;
			}
		} else if (link(s, t) < 0)
			rc = copy_file(s, t, st.st_mode);
		free(s);
		free(t);
		free(r);
	}
	closedir(d);
	return rc;
}

int fs_link_tree(const char *src, const char *dst,
    bool (*skip)(const char *rel, void *arg), void *arg)
{
	return link_tree(src, dst, "", skip, arg);
}
