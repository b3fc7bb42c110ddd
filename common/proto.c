/*
 * proto: the control protocol's command table, and the reading and
 * writing of its request and reply lines. Shared by dsyncd and dsyncctl;
 * it never logs: what is wrong with a line goes back as a code and a
 * message for the caller to send or print.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "xmalloc.h"

const struct proto_cmd proto_cmds[PROTO_NCMDS] = {
	[PROTO_CMD_STATUS] = { "status", PROTO_READ, 0, "",
	    "show where things stand" },
	[PROTO_CMD_DIFF] = { "diff", PROTO_READ, PROTO_TAKES_PRETTY, "",
	    "the differences between the dump and the instance, now" },
	[PROTO_CMD_HISTORY] = { "history", PROTO_READ, PROTO_TAKES_COUNT,
	    "[-n N]", "the last jobs" },
	[PROTO_CMD_VERSION] = { "version", PROTO_READ, 0, "",
	    "the daemon's version and protocol" },
	[PROTO_CMD_PUSH] = { "push", PROTO_WRITE, PROTO_WAITS, "",
	    "push the dump now and wait for the result" },
	[PROTO_CMD_PULL] = { "pull", PROTO_WRITE, PROTO_WAITS, "",
	    "pull the instance into the dump tree now" },
	[PROTO_CMD_SYNC] = { "sync", PROTO_WRITE, PROTO_WAITS, "",
	    "run a full job now: diff, then apply the policy" },
	[PROTO_CMD_PAUSE] = { "pause", PROTO_WRITE, PROTO_TAKES_REASON,
	    "[reason]", "stop every write; polls go on" },
	[PROTO_CMD_RESUME] = { "resume", PROTO_WRITE, 0, "",
	    "end a pause: writes go on" },
	[PROTO_CMD_RELOAD] = { "reload", PROTO_WRITE, 0, "",
	    "read the configuration file again" },
	[PROTO_CMD_RESOLVE] = { "resolve", PROTO_WRITE,
	    PROTO_WAITS | PROTO_TAKES_KEEP | PROTO_TAKES_ALL | PROTO_TAKES_ITEM,
	    "COLLECTION SYNCID|--all --keep dump|instance",
	    "decide a conflict: push the dump's or pull the instance's" },
	[PROTO_CMD_ADOPT] = { "adopt", PROTO_WRITE,
	    PROTO_WAITS | PROTO_TAKES_KEEP, "--keep dump|instance",
	    "take the current state as the base; the kept side wins" },
};

const size_t proto_ncmds = PROTO_NCMDS;

const struct proto_cmd *proto_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < PROTO_NCMDS; i++)
		if (strcmp(proto_cmds[i].name, name) == 0)
			return &proto_cmds[i];
	return NULL;
}

const char *proto_takers(unsigned what)
{
	static char out[256];
	size_t i, n = 0, len = 0;

	for (i = 0; i < PROTO_NCMDS; i++)
		n += (proto_cmds[i].takes & what) != 0;
	out[0] = '\0';
	for (i = 0; i < PROTO_NCMDS; i++) {
		if (!(proto_cmds[i].takes & what))
			continue;
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s",
		    len == 0	 ? "" :
			--n == 1 ? " and " :
				   ", ",
		    proto_cmds[i].name);
		if (len >= sizeof(out))
			break;
	}
	return out;
}

/* An id is an integer a double holds exactly, so that it comes back as
 * it was sent whatever the peer's JSON library. */
static bool id_value(const struct json *v, long *id)
{
	if (v == NULL || v->type != JSON_NUMBER || !isfinite(v->u.num) ||
	    v->u.num != floor(v->u.num) || fabs(v->u.num) > PROTO_MAX_ID)
		return false;
	*id = (long)v->u.num;
	return true;
}

/* The type of a value, for messages: "a string", "null". */
static const char *type_name(const struct json *v)
{
	static const char *const names[] = {
		[JSON_NULL] = "null",
		[JSON_FALSE] = "false",
		[JSON_TRUE] = "true",
		[JSON_NUMBER] = "a number",
		[JSON_STRING] = "a string",
		[JSON_ARRAY] = "an array",
		[JSON_OBJECT] = "an object",
	};

	return v == NULL ? "missing" : names[v->type];
}

/* Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF), which yajl does not check in full. Returns the offset
 * of the first bad byte, or len. */
static size_t utf8_bad(const unsigned char *s, size_t len)
{
	size_t i = 0, n, k;
	unsigned long cp;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			n = 1, cp = s[i] & 0x1f;
		else if (s[i] >= 0xe0 && s[i] <= 0xef)
			n = 2, cp = s[i] & 0x0f;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			n = 3, cp = s[i] & 0x07;
		else
			return i;
		if (len - i <= n)
			return i;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return i;
		i += n + 1;
	}
	return len;
}

/* The checks every line goes through before its members: the cap,
 * UTF-8 (strict: requests only; a reply is taken as yajl reads it),
 * JSON, an object. Returns the tree or NULL with *code and *errstr. */
static struct json *parse_object(const char *line, size_t len, size_t max,
    bool strict, const char *what, const char **code, char **errstr)
{
	struct json *root;
	char *err = NULL;
	size_t bad;

	if (len >= max) {
		*code = PROTO_E_TOO_LONG;
		xasprintf(errstr,
		    "a %s line of %zu bytes is over the limit of %zu", what,
		    len + 1, max);
		return NULL;
	}
	if (len == 0) {
		*code = PROTO_E_BAD_REQUEST;
		xasprintf(errstr, "an empty line is not a %s", what);
		return NULL;
	}
	if (strict &&
	    (bad = utf8_bad((const unsigned char *)line, len)) < len) {
		*code = PROTO_E_BAD_REQUEST;
		xasprintf(errstr, "the %s is not UTF-8: byte %zu is 0x%02x",
		    what, bad + 1, (unsigned char)line[bad]);
		return NULL;
	}
	if ((root = json_parse(line, len, &err)) == NULL) {
		*code = PROTO_E_BAD_REQUEST;
		xasprintf(errstr, "the %s is not JSON: %s", what,
		    err ? err : "parse error");
		free(err);
		return NULL;
	}
	if (root->type != JSON_OBJECT) {
		*code = PROTO_E_BAD_REQUEST;
		xasprintf(errstr, "the %s is %s, not an object", what,
		    type_name(root));
		json_free(root);
		return NULL;
	}
	return root;
}

/* "v" must be the number PROTO_VERSION. */
static bool version_ok(const struct json *root)
{
	const struct json *v = json_get(root, "v");

	return v != NULL && v->type == JSON_NUMBER && v->u.num == PROTO_VERSION;
}

/* who: the side reading, "the daemon" or "this client". */
static char *version_message(const struct json *root, const char *what,
    const char *who)
{
	const struct json *v = json_get(root, "v");
	char *s, *msg;

	if (v == NULL) {
		xasprintf(&msg, "the %s has no \"v\"; %s speaks protocol %d",
		    what, who, PROTO_VERSION);
		return msg;
	}
	s = json_write(v, false, NULL);
	if (strlen(s) > 40)
		strcpy(s + 37, "...");
	xasprintf(&msg, "the %s is of protocol %s; %s speaks protocol %d", what,
	    s, who, PROTO_VERSION);
	free(s);
	return msg;
}

int proto_parse_request(const char *line, size_t len, struct proto_request *req,
    long *id, const char **code, char **errstr)
{
	struct json *root, *v;

	memset(req, 0, sizeof(*req));
	*id = 0;
	*errstr = NULL;
	root = parse_object(line, len, PROTO_MAX_LINE, true, "request", code,
	    errstr);
	if (root == NULL)
		return -1;
	/* the id first, so that even a refusal answers to it */
	v = json_get(root, "id");
	if (v != NULL && !id_value(v, id))
		*id = 0;
	if (!version_ok(root)) {
		*code = PROTO_E_BAD_VERSION;
		*errstr = version_message(root, "request", "the daemon");
		goto fail;
	}
	if (!id_value(v, &req->id)) {
		*code = PROTO_E_BAD_REQUEST;
		if (v && v->type == JSON_NUMBER)
			xasprintf(errstr,
			    "\"id\" must be an integer of at most 2^53 - 1");
		else
			xasprintf(errstr, "\"id\" must be an integer, not %s",
			    type_name(v));
		goto fail;
	}
	v = json_get(root, "cmd");
	if (v == NULL || v->type != JSON_STRING) {
		*code = PROTO_E_BAD_REQUEST;
		xasprintf(errstr, "\"cmd\" must be a string, not %s",
		    type_name(v));
		goto fail;
	}
	if (strlen(v->u.str.ptr) != v->u.str.len) {
		*code = PROTO_E_BAD_REQUEST;
		xasprintf(errstr, "\"cmd\" holds a NUL character");
		goto fail;
	}
	req->cmd = xstrdup(v->u.str.ptr);
	v = json_take(root, "args");
	if (v != NULL && v->type != JSON_OBJECT) {
		*code = PROTO_E_BAD_ARGS;
		xasprintf(errstr, "\"args\" must be an object, not %s",
		    type_name(v));
		json_free(v);
		goto fail;
	}
	req->args = v ? v : json_new_object();
	json_free(root);
	return 0;
fail:
	json_free(root);
	proto_request_clear(req);
	return -1;
}

void proto_request_clear(struct proto_request *req)
{
	free(req->cmd);
	json_free(req->args);
	memset(req, 0, sizeof(*req));
}

/* The line of a JSON object, compact, with its newline; takes o. */
static char *line_of(struct json *o, size_t *len)
{
	size_t n;
	char *s = json_write(o, false, &n), *line;

	json_free(o);
	line = xreallocarray(s, n + 2, 1);
	line[n] = '\n';
	line[n + 1] = '\0';
	if (len)
		*len = n + 1;
	return line;
}

static struct json *head(long id)
{
	struct json *o = json_new_object();

	json_set(o, "v", json_new_number(PROTO_VERSION));
	json_set(o, "id", json_new_number((double)id));
	return o;
}

char *proto_request_line(long id, const char *cmd, struct json *args,
    size_t *len)
{
	struct json *o = head(id);

	json_set(o, "cmd", json_new_string(cmd));
	json_set(o, "args", args ? args : json_new_object());
	return line_of(o, len);
}

char *proto_reply_ok(long id, struct json *result, size_t *len)
{
	struct json *o = head(id);

	json_set(o, "ok", json_new_bool(true));
	json_set(o, "result", result ? result : json_new_null());
	return line_of(o, len);
}

char *proto_reply_error(long id, const char *code, const char *message,
    size_t *len)
{
	struct json *o = head(id), *e = json_new_object();

	json_set(e, "code", json_new_string(code ? code : PROTO_E_FAILED));
	json_set(e, "message", json_new_string(message ? message : ""));
	json_set(o, "ok", json_new_bool(false));
	json_set(o, "error", e);
	return line_of(o, len);
}

int proto_parse_reply(const char *line, size_t len, long *id, bool *ok,
    struct json **result, char **errstr)
{
	struct json *root, *v;
	const char *code;

	*id = 0;
	*ok = false;
	*result = NULL;
	*errstr = NULL;
	if (len > 0 && line[len - 1] == '\n')
		len--;
	root = parse_object(line, len, PROTO_MAX_REPLY, false, "reply", &code,
	    errstr);
	if (root == NULL)
		return -1;
	if (!version_ok(root)) {
		*errstr = version_message(root, "reply", "this client");
		goto fail;
	}
	if (!id_value(json_get(root, "id"), id)) {
		xasprintf(errstr, "the reply's \"id\" is %s, not an integer",
		    type_name(json_get(root, "id")));
		goto fail;
	}
	v = json_get(root, "ok");
	if (v == NULL || (v->type != JSON_TRUE && v->type != JSON_FALSE)) {
		xasprintf(errstr, "the reply's \"ok\" is %s, not true or false",
		    type_name(v));
		goto fail;
	}
	*ok = v->type == JSON_TRUE;
	if (*ok) {
		if ((*result = json_take(root, "result")) == NULL) {
			xasprintf(errstr, "the reply has no \"result\"");
			goto fail;
		}
	} else {
		v = json_get(root, "error");
		if (v == NULL || v->type != JSON_OBJECT ||
		    json_str(json_get(v, "code")) == NULL) {
			xasprintf(errstr,
			    "the reply's \"error\" is not an "
			    "object with a \"code\"");
			goto fail;
		}
		*result = json_take(root, "error");
	}
	json_free(root);
	return 0;
fail:
	json_free(root);
	*ok = false;
	return -1;
}
