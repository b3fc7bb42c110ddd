/*
 * strmap: open addressing with linear probing and tombstones, FNV-1a hash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "strmap.h"
#include "xmalloc.h"

#define TOMB ((char *)1)

struct slot {
	char *key; /* NULL: empty; TOMB: deleted */
	void *val;
};

struct strmap {
	struct slot *slots;
	size_t cap, len, used; /* used counts tombstones too */
};

struct strmap *strmap_new(void)
{
	struct strmap *m = xcalloc(1, sizeof(*m));

	m->cap = 16;
	m->slots = xcalloc(m->cap, sizeof(struct slot));
	return m;
}

void strmap_free(struct strmap *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->cap; i++)
		if (m->slots[i].key && m->slots[i].key != TOMB)
			free(m->slots[i].key);
	free(m->slots);
	free(m);
}

static struct slot *find(const struct strmap *m, const char *key)
{
	size_t i = hash_string(key) & (m->cap - 1);

	for (;;) {
		struct slot *s = &m->slots[i];

		if (s->key == NULL)
			return NULL;
		if (s->key != TOMB && strcmp(s->key, key) == 0)
			return s;
		i = (i + 1) & (m->cap - 1);
	}
}

static void rehash(struct strmap *m, size_t cap)
{
	struct slot *old = m->slots;
	size_t oldcap = m->cap, i;

	m->slots = xcalloc(cap, sizeof(struct slot));
	m->cap = cap;
	m->used = m->len;
	for (i = 0; i < oldcap; i++) {
		size_t j;

		if (old[i].key == NULL || old[i].key == TOMB)
			continue;
		j = hash_string(old[i].key) & (cap - 1);
		while (m->slots[j].key)
			j = (j + 1) & (cap - 1);
		m->slots[j] = old[i];
	}
	free(old);
}

void strmap_put(struct strmap *m, const char *key, void *val)
{
	struct slot *s = find(m, key);
	size_t i;

	if (s) {
		s->val = val;
		return;
	}
	if ((m->used + 1) * 4 >= m->cap * 3)
		rehash(m, m->len * 4 >= m->cap ? m->cap * 2 : m->cap);
	i = hash_string(key) & (m->cap - 1);
	while (m->slots[i].key && m->slots[i].key != TOMB)
		i = (i + 1) & (m->cap - 1);
	if (m->slots[i].key == NULL)
		m->used++;
	m->slots[i].key = xstrdup(key);
	m->slots[i].val = val;
	m->len++;
}

void *strmap_get(const struct strmap *m, const char *key)
{
	struct slot *s = find(m, key);

	return s ? s->val : NULL;
}

void *strmap_del(struct strmap *m, const char *key)
{
	struct slot *s = find(m, key);
	void *val;

	if (s == NULL)
		return NULL;
	val = s->val;
	free(s->key);
	s->key = TOMB;
	s->val = NULL;
	m->len--;
	return val;
}

size_t strmap_len(const struct strmap *m)
{
	return m->len;
}
