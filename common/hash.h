/*
 * hash: FNV-1a, 64 bits: the strmap's buckets, the daemon's fingerprints
 * of files it wrote and of the instance's presets. Not for anything an
 * attacker picks to collide with.
 */
#ifndef DSYNC_HASH_H
#define DSYNC_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t hash_bytes(const void *p, size_t n);
uint64_t hash_string(const char *s);

#endif
