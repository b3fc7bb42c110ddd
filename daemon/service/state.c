/*
 * state: the state directory: its lock (one daemon per directory), the
 * pause flag kept across restarts, and the bounded history of jobs, one
 * JSON object per line. Every file is replaced atomically.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fsutil.h"
#include "service.h"
#include "xmalloc.h"

#define PAUSE_FILE "paused.json"
#define HISTORY_FILE "history.jsonl"
#define LOCK_FILE "dsyncd.lock"

int state_open(const char *dir, int *lockfd, char **errstr)
{
	char *path;
	int fd, rc;

	if ((rc = fs_mkdirs(dir, 0750)) < 0) {
		xasprintf(errstr, "state directory %s: %s", dir, strerror(-rc));
		return -1;
	}
	path = fs_join(dir, LOCK_FILE);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		xasprintf(errstr, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		xasprintf(errstr, "%s: %s", path,
		    errno == EWOULDBLOCK ?
			"another dsyncd runs with this state directory" :
			strerror(errno));
		close(fd);
		free(path);
		return -1;
	}
	free(path);
	*lockfd = fd;
	return 0;
}

int state_load_pause(const char *dir, char **reason, time_t *since)
{
	char *path = fs_join(dir, PAUSE_FILE), *data;
	struct json *v;
	size_t len;
	int rc;

	*reason = NULL;
	*since = 0;
	rc = fs_read_file(path, &data, &len);
	free(path);
	if (rc < 0)
		return rc == -ENOENT ? 0 : rc;
	v = json_parse(data, len, NULL);
	free(data);
	/* A pause file that does not parse still means paused. */
	*reason = json_str(json_get(v, "reason")) ?
	    xstrdup(json_str(json_get(v, "reason"))) :
	    xstrdup("");
	if (json_get(v, "since") && json_get(v, "since")->type == JSON_NUMBER)
		*since = (time_t)json_get(v, "since")->u.num;
	json_free(v);
	return 1;
}

int state_save_pause(const char *dir, const char *reason, time_t since,
    char **errstr)
{
	struct json *v = json_new_object();
	char *path = fs_join(dir, PAUSE_FILE), *text;
	size_t len;
	int rc;

	json_set(v, "reason", json_new_string(reason ? reason : ""));
	json_set(v, "since", json_new_number((double)since));
	text = json_write(v, false, &len);
	rc = fs_write_file_atomic(path, text, len);
	if (rc < 0)
		xasprintf(errstr, "%s: %s", path, strerror(-rc));
	free(text);
	free(path);
	json_free(v);
	return rc < 0 ? -1 : 0;
}

int state_clear_pause(const char *dir, char **errstr)
{
	char *path = fs_join(dir, PAUSE_FILE);
	int rc = 0;

	if (unlink(path) < 0 && errno != ENOENT) {
		xasprintf(errstr, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	free(path);
	return rc;
}

/* The lines of the history file, the last keep of them. */
static char **read_lines(const char *path, size_t keep, size_t *n)
{
	char *data, *p, *nl, **lines = NULL;
	size_t len, cap = 0, count = 0, i;

	*n = 0;
	if (fs_read_file(path, &data, &len) < 0)
		return NULL;
	for (p = data; p < data + len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(data + len - p));
		if (nl == NULL)
			break; /* a torn last line is dropped */
		if (count == cap) {
			cap = cap ? cap * 2 : 64;
			lines = xreallocarray(lines, cap, sizeof(*lines));
		}
		lines[count++] = xstrndup(p, (size_t)(nl - p));
	}
	free(data);
	if (count > keep) {
		for (i = 0; i < count - keep; i++)
			free(lines[i]);
		memmove(lines, lines + (count - keep), keep * sizeof(*lines));
		count = keep;
	}
	*n = count;
	return lines;
}

int state_history_append(const char *dir, const struct json *entry,
    char **errstr)
{
	char *path = fs_join(dir, HISTORY_FILE), **lines, *text;
	struct buf b;
	size_t n, i;
	int rc;

	lines = read_lines(path, HISTORY_KEEP - 1, &n);
	buf_init(&b);
	for (i = 0; i < n; i++) {
		buf_adds(&b, lines[i]);
		buf_addc(&b, '\n');
		free(lines[i]);
	}
	free(lines);
	text = json_write(entry, false, NULL);
	buf_adds(&b, text);
	buf_addc(&b, '\n');
	free(text);
	rc = fs_write_file_atomic(path, b.data, b.len);
	if (rc < 0)
		xasprintf(errstr, "%s: %s", path, strerror(-rc));
	buf_clear(&b);
	free(path);
	return rc < 0 ? -1 : 0;
}

struct json *state_history_load(const char *dir, size_t n)
{
	char *path = fs_join(dir, HISTORY_FILE), **lines;
	struct json *arr = json_new_array();
	size_t count, i;

	lines = read_lines(path, n, &count);
	for (i = 0; i < count; i++) {
		struct json *v = json_parse(lines[i], strlen(lines[i]), NULL);

		if (v && v->type == JSON_OBJECT)
			json_array_append(arr, v);
		else
			json_free(v);
		free(lines[i]);
	}
	free(lines);
	free(path);
	return arr;
}
