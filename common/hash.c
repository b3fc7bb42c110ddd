/*
 * hash: FNV-1a over bytes or a NUL-terminated string (see hash.h).
 */
#include "hash.h"

#define FNV_OFFSET 1469598103934665603ULL
#define FNV_PRIME 1099511628211ULL

uint64_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = FNV_OFFSET;

	while (n--) {
		h ^= *s++;
		h *= FNV_PRIME;
	}
	return h;
}

uint64_t hash_string(const char *s)
{
	uint64_t h = FNV_OFFSET;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= FNV_PRIME;
	}
	return h;
}
