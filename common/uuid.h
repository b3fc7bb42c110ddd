/*
 * uuid: random (version 4) UUIDs, as crypto.randomUUID() makes them.
 */
#ifndef DSYNC_UUID_H
#define DSYNC_UUID_H

/* A new lower-case UUID v4 string; caller frees. */
char *uuid_v4(void);

#endif
