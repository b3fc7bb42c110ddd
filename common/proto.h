/*
 * proto: the control protocol between dsyncd and dsyncctl, shared by
 * both. Newline-delimited JSON over a SOCK_STREAM Unix socket, one
 * request per line, one reply per request:
 *
 *   {"v":1,"id":7,"cmd":"status","args":{}}
 *   {"v":1,"id":7,"ok":true,"result":{...}}
 *   {"v":1,"id":7,"ok":false,"error":{"code":"denied","message":"..."}}
 *
 * A line is at most PROTO_MAX_LINE bytes with its newline. The server
 * checks, in this order: the line's length, that it is a JSON object,
 * "v" (PROTO_VERSION, else bad_version), "id" (a number), "cmd" (a
 * string naming a command), "args" (an object, may be absent), then the
 * peer's right to the command (denied).
 */
#ifndef DSYNC_PROTO_H
#define DSYNC_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"

#define PROTO_VERSION 1
#define PROTO_MAX_LINE (64 * 1024)
/* A reply line is at most this long with its newline: a diff's plan can
 * be big. A request stays under PROTO_MAX_LINE. */
#define PROTO_MAX_REPLY (PROTO_MAX_LINE * 16)
/* Ids are integers of at most this magnitude (2^53 - 1), which every
 * JSON reader holds exactly. */
#define PROTO_MAX_ID 9007199254740991.0

/* Error codes of a reply. */
#define PROTO_E_BAD_REQUEST "bad_request" /* not a valid request */
#define PROTO_E_BAD_VERSION "bad_version" /* another "v" */
#define PROTO_E_TOO_LONG "too_long"	  /* line over the cap */
#define PROTO_E_UNKNOWN "unknown_command"
#define PROTO_E_DENIED "denied" /* not allowed to this uid */
#define PROTO_E_BAD_ARGS "bad_args"
#define PROTO_E_FAILED "failed" /* the command ran and failed */
#define PROTO_E_SHUTDOWN "shutting_down"

/* Who may run a command. */
enum proto_access {
	PROTO_READ,  /* the socket's group (anyone who can connect) */
	PROTO_WRITE, /* root or the daemon's own uid */
};

/* The commands, in the order of proto_cmds: the daemon's handlers and
 * dsyncctl's printers are tables indexed by these. */
enum proto_cmd_id {
	PROTO_CMD_STATUS,
	PROTO_CMD_DIFF,
	PROTO_CMD_HISTORY,
	PROTO_CMD_VERSION,
	PROTO_CMD_PUSH,
	PROTO_CMD_PULL,
	PROTO_CMD_SYNC,
	PROTO_CMD_PAUSE,
	PROTO_CMD_RESUME,
	PROTO_CMD_RELOAD,
	PROTO_CMD_RESOLVE,
	PROTO_CMD_ADOPT,
	PROTO_NCMDS
};

/* What a command takes: on dsyncctl's command line, and in its "args". */
enum {
	PROTO_TAKES_COUNT = 1 << 0,  /* -n N: "n" */
	PROTO_TAKES_PRETTY = 1 << 1, /* -p: the values too (not sent) */
	PROTO_TAKES_REASON = 1 << 2, /* the rest of the line: "reason" */
	PROTO_TAKES_KEEP = 1 << 3,   /* --keep dump|instance, needed: "keep" */
	PROTO_TAKES_ALL = 1 << 4,    /* --all: "all" */
	PROTO_TAKES_ITEM = 1 << 5,   /* COLLECTION SYNCID, or --all:
					 * "collection", "_syncId" */
	PROTO_WAITS = 1 << 6,	     /* answers when its job ends: no
					 * default timeout */
};

/* The one table of the commands: the daemon checks requests against it
 * and dispatches through its handlers indexed by the same entries;
 * dsyncctl parses its arguments and prints its help from it. */
struct proto_cmd {
	const char *name;
	enum proto_access access; /* PROTO_WRITE: it changes something */
	unsigned takes;		  /* PROTO_TAKES_*, PROTO_WAITS */
	const char *args;	  /* for help: "[reason]", "" */
	const char *help;	  /* one line */
};

extern const struct proto_cmd proto_cmds[PROTO_NCMDS];
extern const size_t proto_ncmds;

/* The command named name, or NULL; proto_cmds + its enum proto_cmd_id. */
const struct proto_cmd *proto_find(const char *name);
/* The names of the commands that take what ("resolve and adopt"), for
 * messages. Static storage. */
const char *proto_takers(unsigned what);

struct proto_request {
	long id;
	char *cmd;	   /* owned */
	struct json *args; /* owned, an object (empty when absent) */
};

/* Parse one line (without its newline). On error returns -1 and sets
 * *code (one of the PROTO_E_ codes, static) and *errstr (caller frees);
 * *id gets the request's id when it could be read, else 0. Members
 * other than v, id, cmd and args are ignored; "args": null is refused
 * (bad_args) like any other non-object. A cmd holding U+0000 is a
 * bad_request; an unknown one is the caller's (proto_find). */
int proto_parse_request(const char *line, size_t len, struct proto_request *req,
    long *id, const char **code, char **errstr);
void proto_request_clear(struct proto_request *req);

/* A request line (with its newline); caller frees. Takes args (may be
 * NULL). */
char *proto_request_line(long id, const char *cmd, struct json *args,
    size_t *len);
/* Reply lines (with their newline); caller frees. ok takes result. */
char *proto_reply_ok(long id, struct json *result, size_t *len);
char *proto_reply_error(long id, const char *code, const char *message,
    size_t *len);

/* A reply line parsed (its newline may be there or not, at most
 * PROTO_MAX_REPLY bytes with it): *ok, and *result (owned: the result,
 * or the error object {"code","message"}, where "code" is a string and
 * "message" may be missing). -1 with *errstr on a line that is not a
 * reply of this version. */
int proto_parse_reply(const char *line, size_t len, long *id, bool *ok,
    struct json **result, char **errstr);

#endif
