/*
 * result: what the engine's functions return. 0 is success; a failure is
 * one of the negative values below, so that a caller (the daemon's
 * worker) can choose between retrying, backing off and reporting without
 * reading the message. -1 stays "failed" for anything not classified.
 */
#ifndef DSYNC_RESULT_H
#define DSYNC_RESULT_H

enum sync_result {
	SYNC_OK = 0,
	SYNC_EFAIL = -1,     /* failed, for another reason */
	SYNC_ECANCELED = -2, /* the run's cancel flag was raised */
	SYNC_EAUTH = -3,     /* 401/403: credentials refused, or the
				 * token may not do this */
	SYNC_EUNREACH = -4,  /* no answer: refused, unreachable, timed
				 * out, or cut off mid-answer */
	SYNC_ESERVER = -5,   /* 429 or 5xx: Directus failed or is busy */
	SYNC_EPROTO = -6,    /* an answer that cannot be used: another
				 * 4xx, not JSON, the wrong shape, too
				 * large */
	SYNC_EDUMP = -7,     /* the dump tree is invalid */
	SYNC_EGUARD = -8,    /* refused before any write: --max-deletes,
				 * unresolved references */
	SYNC_ELOCKED = -9,   /* another run holds the dump tree's lock */
	SYNC_EIO = -10,	     /* the local file system failed */
};

/* A short, stable name for scripts and status ("ok", "cancelled",
 * "auth", "unreachable", "server", "protocol", "dump", "guard",
 * "locked", "io", "failed"). */
const char *sync_result_name(int rc);
/* Whether retrying later may help (unreachable, server, locked). */
int sync_result_transient(int rc);

#endif
