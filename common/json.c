/*
 * json: the ordered JSON tree, its yajl-based parser and a writer that
 * reproduces JavaScript's JSON.stringify byte for byte, number formatting
 * included. Dumps are compared and diffed as text, so every byte counts.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "buf.h"
#include "collate.h"
#include "json.h"
#include "xmalloc.h"

/* Deeper input is refused: freeing and writing recurse once per level. */
#define JSON_MAX_DEPTH 10000

/* Objects with more members than this are deduplicated and compared by
 * sorting instead of pairwise. */
#define SMALL_OBJECT 16

static struct json *json_alloc(enum json_type type)
{
	struct json *v = xcalloc(1, sizeof(*v));

	v->type = type;
	return v;
}

struct json *json_new_null(void)
{
	return json_alloc(JSON_NULL);
}

struct json *json_new_bool(bool b)
{
	return json_alloc(b ? JSON_TRUE : JSON_FALSE);
}

struct json *json_new_number(double d)
{
	struct json *v = json_alloc(JSON_NUMBER);

	v->u.num = d;
	return v;
}

struct json *json_new_string(const char *s)
{
	return json_new_stringn(s, strlen(s));
}

struct json *json_new_stringn(const char *s, size_t n)
{
	struct json *v = json_alloc(JSON_STRING);

	v->u.str.ptr = xstrndup(s, n);
	v->u.str.len = n;
	return v;
}

struct json *json_new_array(void)
{
	return json_alloc(JSON_ARRAY);
}

struct json *json_new_object(void)
{
	return json_alloc(JSON_OBJECT);
}

/* Exact sizes: a copy is usually kept, not grown. */
struct json *json_copy(const struct json *v)
{
	struct json *c;
	size_t i;

	if (v == NULL)
		return NULL;
	switch (v->type) {
	case JSON_STRING:
		return json_new_stringn(v->u.str.ptr, v->u.str.len);
	case JSON_ARRAY:
		c = json_alloc(JSON_ARRAY);
		c->u.arr.cap = c->u.arr.len = v->u.arr.len;
		c->u.arr.items = xreallocarray(NULL, c->u.arr.cap,
		    sizeof(*c->u.arr.items));
		for (i = 0; i < v->u.arr.len; i++)
			c->u.arr.items[i] = json_copy(v->u.arr.items[i]);
		return c;
	case JSON_OBJECT:
		c = json_alloc(JSON_OBJECT);
		c->u.obj.cap = c->u.obj.len = v->u.obj.len;
		c->u.obj.members = xreallocarray(NULL, c->u.obj.cap,
		    sizeof(*c->u.obj.members));
		for (i = 0; i < v->u.obj.len; i++) {
			const struct json_member *m = &v->u.obj.members[i];

			c->u.obj.members[i].key = xstrndup(m->key, m->keylen);
			c->u.obj.members[i].keylen = m->keylen;
			c->u.obj.members[i].val = json_copy(m->val);
		}
		return c;
	default:
		c = json_alloc(v->type);
		c->u = v->u;
		return c;
	}
}

void json_free(struct json *v)
{
	size_t i;

	if (v == NULL)
		return;
	switch (v->type) {
	case JSON_STRING:
		free(v->u.str.ptr);
		break;
	case JSON_ARRAY:
		for (i = 0; i < v->u.arr.len; i++)
			json_free(v->u.arr.items[i]);
		free(v->u.arr.items);
		break;
	case JSON_OBJECT:
		for (i = 0; i < v->u.obj.len; i++) {
			free(v->u.obj.members[i].key);
			json_free(v->u.obj.members[i].val);
		}
		free(v->u.obj.members);
		break;
	default:
		break;
	}
	free(v);
}

void json_free_wipe(struct json *v)
{
	size_t i;

	if (v == NULL)
		return;
	if (v->type == JSON_STRING)
		explicit_bzero(v->u.str.ptr, v->u.str.len);
	else if (v->type == JSON_ARRAY)
		for (i = 0; i < v->u.arr.len; i++) {
			json_free_wipe(v->u.arr.items[i]);
			v->u.arr.items[i] = NULL;
		}
	else if (v->type == JSON_OBJECT)
		for (i = 0; i < v->u.obj.len; i++) {
			explicit_bzero(v->u.obj.members[i].key,
			    v->u.obj.members[i].keylen);
			json_free_wipe(v->u.obj.members[i].val);
			v->u.obj.members[i].val = NULL;
		}
	json_free(v);
}

void json_array_append(struct json *arr, struct json *item)
{
	if (arr->u.arr.len == arr->u.arr.cap) {
		arr->u.arr.cap = arr->u.arr.cap ? arr->u.arr.cap * 2 : 4;
		arr->u.arr.items = xreallocarray(arr->u.arr.items,
		    arr->u.arr.cap, sizeof(*arr->u.arr.items));
	}
	arr->u.arr.items[arr->u.arr.len++] = item;
}

void json_array_remove(struct json *arr, size_t i)
{
	if (i >= arr->u.arr.len)
		return;
	json_free(arr->u.arr.items[i]);
	memmove(arr->u.arr.items + i, arr->u.arr.items + i + 1,
	    (arr->u.arr.len - i - 1) * sizeof(*arr->u.arr.items));
	arr->u.arr.len--;
}

/* Appends a member, taking ownership of key and val. */
static void object_append(struct json *obj, char *key, size_t keylen,
    struct json *val)
{
	struct json_member *m;

	if (obj->u.obj.len == obj->u.obj.cap) {
		obj->u.obj.cap = obj->u.obj.cap ? obj->u.obj.cap * 2 : 4;
		obj->u.obj.members = xreallocarray(obj->u.obj.members,
		    obj->u.obj.cap, sizeof(*obj->u.obj.members));
	}
	m = &obj->u.obj.members[obj->u.obj.len++];
	m->key = key;
	m->keylen = keylen;
	m->val = val;
}

static struct json_member *object_find(const struct json *obj, const char *key)
{
	size_t i, n;

	if (obj == NULL || obj->type != JSON_OBJECT)
		return NULL;
	n = strlen(key);
	for (i = 0; i < obj->u.obj.len; i++)
		if (obj->u.obj.members[i].keylen == n &&
		    memcmp(obj->u.obj.members[i].key, key, n) == 0)
			return &obj->u.obj.members[i];
	return NULL;
}

/* Drops member m (already emptied by the caller), keeping the order. */
static void object_remove(struct json *obj, struct json_member *m)
{
	size_t i = (size_t)(m - obj->u.obj.members);

	free(m->key);
	memmove(m, m + 1, (obj->u.obj.len - i - 1) * sizeof(*m));
	obj->u.obj.len--;
}

struct json *json_get(const struct json *obj, const char *key)
{
	struct json_member *m = object_find(obj, key);

	return m ? m->val : NULL;
}

void json_set(struct json *obj, const char *key, struct json *val)
{
	struct json_member *m = object_find(obj, key);

	if (m != NULL) {
		json_free(m->val);
		m->val = val;
		return;
	}
	object_append(obj, xstrdup(key), strlen(key), val);
}

bool json_del(struct json *obj, const char *key)
{
	struct json_member *m = object_find(obj, key);

	if (m == NULL)
		return false;
	json_free(m->val);
	object_remove(obj, m);
	return true;
}

struct json *json_take(struct json *obj, const char *key)
{
	struct json_member *m = object_find(obj, key);
	struct json *v;

	if (m == NULL)
		return NULL;
	v = m->val;
	object_remove(obj, m);
	return v;
}

const char *json_str(const struct json *v)
{
	return v != NULL && v->type == JSON_STRING ? v->u.str.ptr : NULL;
}

bool json_is_null(const struct json *v)
{
	return v == NULL || v->type == JSON_NULL;
}

static int key_cmp(const struct json_member *a, const struct json_member *b)
{
	size_t n = a->keylen < b->keylen ? a->keylen : b->keylen;
	int c = memcmp(a->key, b->key, n);

	if (c != 0)
		return c;
	return a->keylen < b->keylen ? -1 : a->keylen > b->keylen;
}

/* Byte order of keys, then position: equal keys stay in input order. */
static int member_ptr_cmp(const void *pa, const void *pb)
{
	const struct json_member *a = *(const struct json_member *const *)pa;
	const struct json_member *b = *(const struct json_member *const *)pb;
	int c = key_cmp(a, b);

	if (c != 0)
		return c;
	return a < b ? -1 : a > b;
}

/* Members sorted by key, for comparing and deduplicating big objects. */
static struct json_member **sorted_members(const struct json *obj)
{
	struct json_member **p;
	size_t i;

	p = xreallocarray(NULL, obj->u.obj.len, sizeof(*p));
	for (i = 0; i < obj->u.obj.len; i++)
		p[i] = &obj->u.obj.members[i];
	qsort(p, obj->u.obj.len, sizeof(*p), member_ptr_cmp);
	return p;
}

/* Small objects pairwise; big ones sorted by key so it stays n log n. */
bool json_equal(const struct json *a, const struct json *b)
{
	struct json_member **pa, **pb;
	struct json *bv;
	size_t i, j;
	bool eq = true;

	if (a == NULL || b == NULL)
		return a == b;
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case JSON_NUMBER:
		return a->u.num == b->u.num ||
		    (isnan(a->u.num) && isnan(b->u.num));
	case JSON_STRING:
		return a->u.str.len == b->u.str.len &&
		    memcmp(a->u.str.ptr, b->u.str.ptr, a->u.str.len) == 0;
	case JSON_ARRAY:
		if (a->u.arr.len != b->u.arr.len)
			return false;
		for (i = 0; i < a->u.arr.len; i++)
			if (!json_equal(a->u.arr.items[i], b->u.arr.items[i]))
				return false;
		return true;
	case JSON_OBJECT:
		if (a->u.obj.len != b->u.obj.len)
			return false;
		if (a->u.obj.len <= SMALL_OBJECT) {
			for (i = 0; i < a->u.obj.len; i++) {
				bv = NULL;
				for (j = 0; j < b->u.obj.len; j++) {
					if (key_cmp(&a->u.obj.members[i],
						&b->u.obj.members[j]) == 0) {
						bv = b->u.obj.members[j].val;
						break;
					}
				}
				if (bv == NULL ||
				    !json_equal(a->u.obj.members[i].val, bv))
					return false;
			}
			return true;
		}
		pa = sorted_members(a);
		pb = sorted_members(b);
		for (i = 0; eq && i < a->u.obj.len; i++)
			eq = key_cmp(pa[i], pb[i]) == 0 &&
			    json_equal(pa[i]->val, pb[i]->val);
		free(pa);
		free(pb);
		return eq;
	default:
		return true;
	}
}

/* String(v): what a template or an id map gets for a scalar. */
char *json_scalar_string(const struct json *v)
{
	char buf[32];

	if (v == NULL)
		return NULL;
	if (v->type == JSON_STRING)
		return xstrndup(v->u.str.ptr, v->u.str.len);
	if (v->type != JSON_NUMBER)
		return NULL;
	if (isnan(v->u.num))
		return xstrdup("NaN");
	if (isinf(v->u.num))
		return xstrdup(v->u.num > 0 ? "Infinity" : "-Infinity");
	json_format_number(v->u.num, buf);
	return xstrdup(buf);
}

/* Stable merge sort of members by collate_compare of their keys. */
static void sort_members(struct json_member *m, struct json_member *tmp,
    size_t n)
{
	size_t h = n / 2, i = 0, j = h, k = 0;

	if (n < 2)
		return;
	sort_members(m, tmp, h);
	sort_members(m + h, tmp, n - h);
	if (collate_compare(m[h - 1].key, m[h].key) <= 0)
		return;
	while (i < h && j < n) {
		if (collate_compare(m[j].key, m[i].key) < 0)
			tmp[k++] = m[j++];
		else
			tmp[k++] = m[i++];
	}
	while (i < h)
		tmp[k++] = m[i++];
	/* the tail m[j..n) is already in place */
	memcpy(m, tmp, k * sizeof(*m));
}

/* Children first, so that one walk suffices. */
void json_sort_keys(struct json *v)
{
	struct json_member *tmp;
	size_t i;

	if (v == NULL)
		return;
	if (v->type == JSON_ARRAY) {
		for (i = 0; i < v->u.arr.len; i++)
			json_sort_keys(v->u.arr.items[i]);
	} else if (v->type == JSON_OBJECT) {
		for (i = 0; i < v->u.obj.len; i++)
			json_sort_keys(v->u.obj.members[i].val);
		if (v->u.obj.len < 2)
			return;
		tmp = xreallocarray(NULL, v->u.obj.len, sizeof(*tmp));
		sort_members(v->u.obj.members, tmp, v->u.obj.len);
		free(tmp);
	}
}

/*
 * Parsing. yajl reports events; containers are attached to their parent
 * when they open, so the root owns everything built so far and an error
 * needs only json_free(root).
 *
 * Where this differs from JSON.parse: invalid UTF-8 is an error (node,
 * reading a file as UTF-8, would have replaced it with U+FFFD), and
 * nesting deeper than JSON_MAX_DEPTH is refused. Numbers go through
 * strtod and the writer through printf, so LC_NUMERIC must stay "C".
 */
struct parse_ctx {
	struct json *root;
	struct json **stack; /* open containers */
	size_t depth, cap;
	char *key; /* pending object key, owned */
	size_t keylen;
	bool too_deep;
	yajl_handle h;
	const char *buf; /* the whole input */
};

/* Shrinks a finished container: doubling can leave half of it unused. */
static void shrink(struct json *v)
{
	if (v->type == JSON_ARRAY && v->u.arr.cap > v->u.arr.len &&
	    v->u.arr.len > 0) {
		v->u.arr.items = xreallocarray(v->u.arr.items, v->u.arr.len,
		    sizeof(*v->u.arr.items));
		v->u.arr.cap = v->u.arr.len;
	} else if (v->type == JSON_OBJECT && v->u.obj.cap > v->u.obj.len &&
	    v->u.obj.len > 0) {
		v->u.obj.members = xreallocarray(v->u.obj.members, v->u.obj.len,
		    sizeof(*v->u.obj.members));
		v->u.obj.cap = v->u.obj.len;
	}
}

/* Attaches v to the open container (or makes it the root) and opens it
 * if it is one; 0 stops yajl when the nesting is too deep. */
static int add_value(struct parse_ctx *ctx, struct json *v)
{
	struct json *top;

	if (ctx->depth == 0) {
		ctx->root = v;
	} else {
		top = ctx->stack[ctx->depth - 1];
		if (top->type == JSON_ARRAY) {
			json_array_append(top, v);
		} else {
			object_append(top, ctx->key, ctx->keylen, v);
			ctx->key = NULL;
		}
	}
	if (v->type != JSON_ARRAY && v->type != JSON_OBJECT)
		return 1;
	if (ctx->depth >= JSON_MAX_DEPTH) {
		ctx->too_deep = true;
		return 0;
	}
	if (ctx->depth == ctx->cap) {
		ctx->cap = ctx->cap ? ctx->cap * 2 : 16;
		ctx->stack = xreallocarray(ctx->stack, ctx->cap,
		    sizeof(*ctx->stack));
	}
	ctx->stack[ctx->depth++] = v;
	return 1;
}

static int on_null(void *ctx)
{
	return add_value(ctx, json_new_null());
}

static int on_boolean(void *ctx, int b)
{
	return add_value(ctx, json_new_bool(b));
}

/* The raw token through strtod: correctly rounded, as JSON.parse is,
 * including 1e400 becoming Infinity (written back as null). */
static int on_number(void *ctx, const char *s, size_t len)
{
	char small[64], *p = small;
	double d;

	if (len >= sizeof(small))
		p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	d = strtod(p, NULL);
	if (p != small)
		free(p);
	return add_value(ctx, json_new_number(d));
}

static int hex4(const char *p)
{
	int v = 0, i;

	for (i = 0; i < 4; i++)
		v = v << 4 |
		    (p[i] <= '9' ? p[i] - '0' : (p[i] | 0x20) - 'a' + 10);
	return v;
}

static void add_utf8(struct buf *b, unsigned cp)
{
	char u[4];

	if (cp < 0x80) {
		buf_addc(b, (char)cp);
		return;
	}
	if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 4);
	}
}

/* Decodes the body of a string token that yajl has already validated.
 * Unpaired surrogates are kept in their 3-byte form, which the writer
 * turns back into \udxxx as JSON.stringify does. */
static char *decode_raw(const char *p, size_t n, size_t *lenp)
{
	struct buf b;
	size_t i, run = 0;
	int cp, lo;

	buf_init(&b);
	for (i = 0; i < n; i++) {
		if (p[i] != '\\')
			continue;
		buf_add(&b, p + run, i - run);
		switch (p[++i]) {
		case 'b':
			buf_addc(&b, '\b');
			break;
		case 'f':
			buf_addc(&b, '\f');
			break;
		case 'n':
			buf_addc(&b, '\n');
			break;
		case 'r':
			buf_addc(&b, '\r');
			break;
		case 't':
			buf_addc(&b, '\t');
			break;
		case 'u':
			cp = hex4(p + i + 1);
			i += 4;
			if (cp >= 0xd800 && cp <= 0xdbff && i + 6 < n &&
			    p[i + 1] == '\\' && p[i + 2] == 'u' &&
			    (lo = hex4(p + i + 3)) >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				i += 6;
			}
			add_utf8(&b, (unsigned)cp);
			break;
		default:
			buf_addc(&b, p[i]);
		}
		run = i + 1;
	}
	buf_add(&b, p + run, n - run);
	return buf_steal(&b, lenp);
}

/*
 * A high surrogate's 3-byte form followed by a low one's is one
 * character, as those two code units are in JavaScript: it becomes the
 * character's 4-byte form, in place. Such a pair comes from raw CESU-8
 * bytes, which yajl lets through, next to each other or to an escape
 * ("\xed\xa0\x80\\udc00"); kept apart, the writer would print it as
 * "\ud800\udc00", which reads back as the character.
 */
static void join_surrogates(char *str, size_t *lenp)
{
	unsigned char *p = (unsigned char *)str;
	size_t n = *lenp, i, o;
	unsigned long cp;

	if (memchr(str, 0xed, n) == NULL)
		return;
	for (i = o = 0; i < n;) {
		if (n - i >= 6 && p[i] == 0xed && p[i + 1] >= 0xa0 &&
		    p[i + 1] <= 0xaf && (p[i + 2] & 0xc0) == 0x80 &&
		    p[i + 3] == 0xed && p[i + 4] >= 0xb0 && p[i + 4] <= 0xbf &&
		    (p[i + 5] & 0xc0) == 0x80) {
			cp = 0x10000 +
			    (((p[i + 1] & 0x0ful) << 6 | (p[i + 2] & 0x3fu))
				<< 10) +
			    ((p[i + 4] & 0x0ful) << 6 | (p[i + 5] & 0x3fu));
			p[o++] = (unsigned char)(0xf0 | cp >> 18);
			p[o++] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
			p[o++] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
			p[o++] = (unsigned char)(0x80 | (cp & 0x3f));
			i += 6;
		} else {
			p[o++] = p[i++];
		}
	}
	p[o] = '\0';
	*lenp = o;
}

/*
 * The string yajl reports, or, when it may have come from a surrogate
 * escape, the string decoded afresh from the input: yajl turns a lone
 * high surrogate into '?' and pairs a high one with any \u escape after
 * it. Only strings holding '?' or a 4-byte character are suspect. During
 * the callback yajl's offset is just past the closing quote. Either way,
 * surrogate halves that meet are joined.
 */
static char *take_string(struct parse_ctx *ctx, const unsigned char *s,
    size_t len, size_t *lenp)
{
	size_t i, end, start;
	char *r;

	for (i = 0; i < len; i++)
		if (s[i] == '?' || s[i] >= 0xf0)
			break;
	if (i == len)
		goto plain;
	end = yajl_get_bytes_consumed(ctx->h);
	if (end < 2 || ctx->buf[end - 1] != '"')
		goto plain;
	/* the opening quote is the first one back not escaped by an odd
	 * run of backslashes */
	for (start = end - 1; start-- > 0;) {
		if (ctx->buf[start] != '"')
			continue;
		for (i = start; i > 0 && ctx->buf[i - 1] == '\\'; i--)
			;
		if ((start - i) % 2 == 0)
			break;
	}
	if (start == (size_t)-1 ||
	    memchr(ctx->buf + start, '\\', end - start) == NULL)
		goto plain;
	r = decode_raw(ctx->buf + start + 1, end - start - 2, lenp);
	goto done;
plain:
	*lenp = len;
	r = xstrndup((const char *)s, len);
done:
	join_surrogates(r, lenp);
	return r;
}

static int on_string(void *vctx, const unsigned char *s, size_t len)
{
	struct json *v = json_alloc(JSON_STRING);

	v->u.str.ptr = take_string(vctx, s, len, &v->u.str.len);
	return add_value(vctx, v);
}

static int on_map_key(void *vctx, const unsigned char *s, size_t len)
{
	struct parse_ctx *ctx = vctx;

	free(ctx->key);
	ctx->key = take_string(ctx, s, len, &ctx->keylen);
	return 1;
}

static int on_start_map(void *ctx)
{
	return add_value(ctx, json_new_object());
}

static int on_start_array(void *ctx)
{
	return add_value(ctx, json_new_array());
}

/*
 * JSON.parse keeps the last value of a repeated key at the position of its
 * first occurrence. Members are appended blindly while parsing; this fixes
 * them up once the object is complete, in O(n log n) for big objects.
 */
static void dedup_members(struct json *obj)
{
	struct json_member *m = obj->u.obj.members, **p, *first;
	size_t n = obj->u.obj.len, i, j, k;

	if (n < 2)
		return;
	if (n <= SMALL_OBJECT) {
		for (i = 0; i < n; i++) {
			if (m[i].key == NULL)
				continue;
			for (j = i + 1; j < n; j++) {
				if (m[j].key == NULL || key_cmp(&m[i], &m[j]))
					continue;
				json_free(m[i].val);
				m[i].val = m[j].val;
				free(m[j].key);
				m[j].key = NULL;
			}
		}
	} else {
		p = sorted_members(obj);
		for (i = 0; i < n; i = j) {
			first = p[i];
			for (j = i + 1; j < n && key_cmp(first, p[j]) == 0;
			     j++) {
				json_free(first->val);
				first->val = p[j]->val;
				free(p[j]->key);
				p[j]->key = NULL;
			}
		}
		free(p);
	}
	for (i = k = 0; i < n; i++)
		if (m[i].key != NULL)
			m[k++] = m[i];
	obj->u.obj.len = k;
}

static int on_end_container(void *vctx)
{
	struct parse_ctx *ctx = vctx;
	struct json *v = ctx->stack[--ctx->depth];

	if (v->type == JSON_OBJECT)
		dedup_members(v);
	shrink(v);
	return 1;
}

static const yajl_callbacks parse_callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_boolean,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_map_key,
	.yajl_end_map = on_end_container,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_end_container,
};

static bool json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool json_structural(char c)
{
	return c == '[' || c == ']' || c == '{' || c == '}' || c == ',' ||
	    c == ':';
}

/*
 * Where a grammar error starts. yajl's offset is sometimes just past the
 * offending token and sometimes moved back into it (by the length of its
 * value, which for a string leaves it inside the quotes), so the input is
 * re-tokenised and the token holding or ending at the offset is taken.
 */
static size_t error_token(const char *buf, size_t len, size_t off)
{
	size_t i = 0, start;

	while (i < len) {
		while (i < len && json_space(buf[i]))
			i++;
		if (i == len)
			break;
		start = i;
		if (buf[i] == '"') {
			for (i++; i < len && buf[i] != '"'; i++)
				if (buf[i] == '\\')
					i++;
			i++;
		} else if (json_structural(buf[i])) {
			i++;
		} else {
			while (i < len && !json_space(buf[i]) &&
			    !json_structural(buf[i]) && buf[i] != '"')
				i++;
		}
		if (i > len)
			i = len;
		if (start >= off || off <= i)
			return start;
	}
	return off < len ? off : len;
}

/* "line L, column C: reason", L and C 1-based, C counting characters. */
static char *parse_error(const char *buf, size_t pos, const char *reason)
{
	size_t i, line = 1, col = 1;
	char *msg;

	for (i = 0; i < pos; i++) {
		if (buf[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
			col++;
		}
	}
	xasprintf(&msg, "line %zu, column %zu: %s", line, col, reason);
	return msg;
}

/* yajl's message without its "parse error: " prefix and final newline. */
static char *yajl_reason(yajl_handle h, const char *buf, size_t len,
    bool *lexical)
{
	unsigned char *e = yajl_get_error(h, 0, (const unsigned char *)buf,
	    len);
	const char *s = (const char *)e;
	char *r;
	size_t n;

	*lexical = strncmp(s, "lexical error: ", 15) == 0;
	if (*lexical)
		s += 15;
	else if (strncmp(s, "parse error: ", 13) == 0)
		s += 13;
	n = strlen(s);
	while (
	    n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '.'))
		n--;
	r = xstrndup(s, n);
	yajl_free_error(h, e);
	return r;
}

/* One yajl_parse over the whole buffer, so offsets index buf. */
struct json *json_parse(const char *buf, size_t len, char **errstr)
{
	struct parse_ctx ctx = { 0 };
	yajl_handle h;
	yajl_status st;
	size_t pos;
	char *reason;
	bool lexical = false, at_end = false;
	char *ignored = NULL;

	if (errstr == NULL)
		errstr = &ignored;
	*errstr = NULL;
	h = yajl_alloc(&parse_callbacks, NULL, &ctx);
	if (h == NULL)
		abort();
	ctx.h = h;
	ctx.buf = buf;
	st = yajl_parse(h, (const unsigned char *)buf, len);
	pos = yajl_get_bytes_consumed(h);
	if (st == yajl_status_ok) {
		st = yajl_complete_parse(h);
		/* what goes wrong only at the end is reported there */
		pos = len;
		at_end = true;
	}
	if (st == yajl_status_ok)
		goto done;
	if (ctx.too_deep)
		reason = xstrdup("nesting too deep");
	else
		reason = yajl_reason(h, buf, len, &lexical);
	/* a lexical error's offset is the bad byte itself, except that
	 * yajl has read past a character that starts no token ("[@]") */
	if (!lexical && !at_end)
		pos = error_token(buf, len, pos);
	else if (lexical && !at_end && pos > 0 &&
	    strncmp(reason, "invalid char ", 13) == 0)
		pos--;
	*errstr = parse_error(buf, pos, reason);
	free(reason);
	free(ignored);
	json_free(ctx.root);
	ctx.root = NULL;
done:
	free(ctx.key);
	free(ctx.stack);
	yajl_free(h);
	return ctx.root;
}

/*
 * Numbers. JavaScript prints the shortest digit string that reads back as
 * the same double, laid out by the rules of Number::toString.
 */

/* Digits of d > 0 with precision p into dig (no dot), exponent into *e;
 * true if they read back as d. Tries the next p-digit value up as well:
 * just above a power of two the lower neighbour can miss while the upper,
 * farther one still reads back. */
static bool shortest_try(double d, int p, char *dig, int *e)
{
	char s[40], t[40];
	int i, n;

	snprintf(s, sizeof(s), "%.*e", p - 1, d);
	dig[0] = s[0];
	for (i = 1; i < p; i++)
		dig[i] = s[i + 1];
	dig[p] = '\0';
	*e = atoi(strchr(s, 'e') + 1);
	if (strtod(s, NULL) == d)
		return true;
	if (strtod(s, NULL) > d)
		return false;
	for (i = p - 1; i >= 0 && dig[i] == '9'; i--)
		dig[i] = '0';
	if (i < 0) {
		dig[0] = '1';
		(*e)++;
	} else {
		dig[i]++;
	}
	n = snprintf(t, sizeof(t), "%c.%se%d", dig[0], dig + 1, *e);
	return n > 0 && strtod(t, NULL) == d;
}

/* Integers below 2^53 print exactly; the rest need the shortest digits. */
size_t json_format_number(double d, char *buf)
{
	char dig[20], *o = buf;
	int lo = 1, hi = 17, mid, e, k, n, i;

	if (isnan(d) || isinf(d)) {
		memcpy(buf, "null", 5);
		return 4;
	}
	if (d == 0) {
		memcpy(buf, "0", 2);
		return 1;
	}
	if (d < 0) {
		*o++ = '-';
		d = -d;
	}
	if (d < 9007199254740992.0 && d == floor(d))
		return (size_t)(o - buf) + (size_t)sprintf(o, "%.0f", d);
	/* round-tripping is monotonic in the precision: bisect */
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (shortest_try(d, mid, dig, &e))
			hi = mid;
		else
			lo = mid + 1;
	}
	shortest_try(d, lo, dig, &e);
	k = lo;
	while (k > 1 && dig[k - 1] == '0')
		k--;
	n = e + 1;
	if (k <= n && n <= 21) {
		memcpy(o, dig, (size_t)k);
		o += k;
		for (i = k; i < n; i++)
			*o++ = '0';
	} else if (0 < n && n <= 21) {
		memcpy(o, dig, (size_t)n);
		o += n;
		*o++ = '.';
		memcpy(o, dig + n, (size_t)(k - n));
		o += k - n;
	} else if (-6 < n && n <= 0) {
		*o++ = '0';
		*o++ = '.';
		for (i = n; i < 0; i++)
			*o++ = '0';
		memcpy(o, dig, (size_t)k);
		o += k;
	} else {
		*o++ = dig[0];
		if (k > 1) {
			*o++ = '.';
			memcpy(o, dig + 1, (size_t)(k - 1));
			o += k - 1;
		}
		o += sprintf(o, "e%c%d", n - 1 < 0 ? '-' : '+',
		    n - 1 < 0 ? 1 - n : n - 1);
	}
	*o = '\0';
	return (size_t)(o - buf);
}

/*
 * Writing.
 */

static void write_spaces(struct buf *b, size_t n)
{
	static const char spaces[] = "                                ";

	while (n > 0) {
		size_t c = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;

		buf_add(b, spaces, c);
		n -= c;
	}
}

/* JSON.stringify's QuoteJSONString: the short escapes, \u00xx for other
 * controls, everything else raw. yajl hands a lone low surrogate over as
 * its 3-byte CESU form; JavaScript would print it as \udcxx. */
static void write_string(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i, run = 0;
	char esc[8];
	unsigned cp;

	buf_addc(b, '"');
	for (i = 0; i < len; i++) {
		unsigned char c = p[i];
		const char *e = NULL;
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\' &&
		    !(c == 0xed && i + 2 < len && p[i + 1] >= 0xa0 &&
			p[i + 1] <= 0xbf))
			continue;
		buf_add(b, s + run, i - run);
		switch (c) {
		case '"':
			e = "\\\"";
			break;
		case '\\':
			e = "\\\\";
			break;
		case '\b':
			e = "\\b";
			break;
		case '\f':
			e = "\\f";
			break;
		case '\n':
			e = "\\n";
			break;
		case '\r':
			e = "\\r";
			break;
		case '\t':
			e = "\\t";
			break;
		default:
			if (c == 0xed) {
				cp = 0xd000 | (p[i + 1] & 0x3fu) << 6 |
				    (p[i + 2] & 0x3fu);
				i += 2;
			} else {
				cp = c;
			}
			esc[0] = '\\';
			esc[1] = 'u';
			esc[2] = hex[cp >> 12 & 0xf];
			esc[3] = hex[cp >> 8 & 0xf];
			esc[4] = hex[cp >> 4 & 0xf];
			esc[5] = hex[cp & 0xf];
			e = esc;
			elen = 6;
		}
		buf_add(b, e, elen);
		run = i + 1;
	}
	buf_add(b, s + run, len - run);
	buf_addc(b, '"');
}

/* An array index key ("0".."4294967294", canonical): JavaScript objects
 * list those first, in numeric order, whatever the insertion order. */
static bool index_key(const struct json_member *m, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (m->keylen == 0 || m->keylen > 10 ||
	    (m->key[0] == '0' && m->keylen > 1))
		return false;
	for (i = 0; i < m->keylen; i++) {
		if (m->key[i] < '0' || m->key[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(m->key[i] - '0');
	}
	if (v > 4294967294ULL)
		return false;
	*out = (uint32_t)v;
	return true;
}

struct index_member {
	uint32_t index;
	size_t pos;
};

static int index_member_cmp(const void *pa, const void *pb)
{
	const struct index_member *a = pa, *b = pb;

	return a->index < b->index ? -1 : a->index > b->index;
}

/* Member positions in JavaScript's property order. NULL when that is
 * simply the stored order (no index keys), the common case. */
static size_t *property_order(const struct json *obj)
{
	struct index_member *im = NULL;
	size_t n = obj->u.obj.len, ni = 0, i, k, *order;
	uint32_t idx;

	for (i = 0; i < n; i++) {
		if (!index_key(&obj->u.obj.members[i], &idx))
			continue;
		if (im == NULL)
			im = xreallocarray(NULL, n, sizeof(*im));
		im[ni].index = idx;
		im[ni++].pos = i;
	}
	if (im == NULL)
		return NULL;
	qsort(im, ni, sizeof(*im), index_member_cmp);
	order = xreallocarray(NULL, n, sizeof(*order));
	for (i = 0; i < ni; i++)
		order[i] = im[i].pos;
	for (i = 0, k = ni; i < n; i++)
		if (!index_key(&obj->u.obj.members[i], &idx))
			order[k++] = i;
	free(im);
	return order;
}

/* JSON.stringify's SerializeJSONProperty with gap "  " or "". */
static void write_value(struct buf *b, const struct json *v, bool indent,
    size_t depth)
{
	const struct json_member *m;
	char num[32];
	size_t i, n, *order;

	if (v == NULL) {
		buf_add(b, "null", 4);
		return;
	}
	switch (v->type) {
	case JSON_NULL:
		buf_add(b, "null", 4);
		break;
	case JSON_FALSE:
		buf_add(b, "false", 5);
		break;
	case JSON_TRUE:
		buf_add(b, "true", 4);
		break;
	case JSON_NUMBER:
		n = json_format_number(v->u.num, num);
		buf_add(b, num, n);
		break;
	case JSON_STRING:
		write_string(b, v->u.str.ptr, v->u.str.len);
		break;
	case JSON_ARRAY:
		if (v->u.arr.len == 0) {
			buf_add(b, "[]", 2);
			break;
		}
		buf_addc(b, '[');
		for (i = 0; i < v->u.arr.len; i++) {
			if (i > 0)
				buf_addc(b, ',');
			if (indent) {
				buf_addc(b, '\n');
				write_spaces(b, 2 * (depth + 1));
			}
			write_value(b, v->u.arr.items[i], indent, depth + 1);
		}
		if (indent) {
			buf_addc(b, '\n');
			write_spaces(b, 2 * depth);
		}
		buf_addc(b, ']');
		break;
	case JSON_OBJECT:
		if (v->u.obj.len == 0) {
			buf_add(b, "{}", 2);
			break;
		}
		order = property_order(v);
		buf_addc(b, '{');
		for (i = 0; i < v->u.obj.len; i++) {
			m = &v->u.obj.members[order ? order[i] : i];
			if (i > 0)
				buf_addc(b, ',');
			if (indent) {
				buf_addc(b, '\n');
				write_spaces(b, 2 * (depth + 1));
			}
			write_string(b, m->key, m->keylen);
			buf_add(b, ": ", indent ? 2 : 1);
			write_value(b, m->val, indent, depth + 1);
		}
		free(order);
		if (indent) {
			buf_addc(b, '\n');
			write_spaces(b, 2 * depth);
		}
		buf_addc(b, '}');
		break;
	}
}

char *json_write(const struct json *v, bool indent, size_t *lenp)
{
	struct buf b;

	buf_init(&b);
	write_value(&b, v, indent, 0);
	return buf_steal(&b, lenp);
}

/* --- lenient readers --- */

const struct json *json_get_nonnull(const struct json *o, const char *key)
{
	const struct json *v = json_get(o, key);

	return v && v->type != JSON_NULL ? v : NULL;
}

const struct json *json_get_obj(const struct json *o, const char *key)
{
	const struct json *v = json_get(o, key);

	return v && v->type == JSON_OBJECT ? v : NULL;
}

const struct json *json_get_arr(const struct json *o, const char *key)
{
	const struct json *v = json_get(o, key);

	return v && v->type == JSON_ARRAY ? v : NULL;
}

const char *json_get_str(const struct json *o, const char *key)
{
	return json_str(json_get(o, key));
}

bool json_get_num(const struct json *o, const char *key, double *d)
{
	const struct json *v = json_get(o, key);

	if (v == NULL || v->type != JSON_NUMBER)
		return false;
	*d = v->u.num;
	return true;
}

double json_get_count(const struct json *o, const char *key)
{
	const struct json *v = json_get(o, key);

	if (v && v->type == JSON_NUMBER)
		return v->u.num;
	if (v && v->type == JSON_ARRAY)
		return (double)v->u.arr.len;
	return 0;
}

bool json_get_true(const struct json *o, const char *key)
{
	const struct json *v = json_get(o, key);

	return v && v->type == JSON_TRUE;
}
