/*
 * json: an ordered, mutable JSON tree (parsed with yajl) and a writer whose
 * output is byte for byte what JavaScript's JSON.stringify(v, null, 2)
 * produces. Object members keep their input order, except that keys that
 * are array indices ("0", "17") are written first in numeric order, as
 * JavaScript objects order them; numbers keep their value as a double and
 * are printed the way JavaScript prints them.
 */
#ifndef DSYNC_JSON_H
#define DSYNC_JSON_H

#include <stddef.h>
#include <stdbool.h>

enum json_type {
	JSON_NULL,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json;

struct json_member {
	char *key;	  /* NUL-terminated, owned */
	size_t keylen;	  /* keys may hold U+0000 */
	struct json *val; /* owned */
};

struct json {
	enum json_type type;
	union {
		double num;
		struct {
			char *ptr; /* NUL-terminated, owned */
			size_t len;
		} str;
		struct {
			struct json **items;
			size_t len, cap;
		} arr;
		struct {
			struct json_member *members;
			size_t len, cap;
		} obj;
	} u;
};

/* Parsing. On error returns NULL and sets *errstr (caller frees) to a
 * message with line and column, e.g. "line 3, column 7: unexpected ']'".
 * errstr may be NULL. */
struct json *json_parse(const char *buf, size_t len, char **errstr);

/* Constructors; all allocation aborts on out-of-memory. */
struct json *json_new_null(void);
struct json *json_new_bool(bool b);
struct json *json_new_number(double d);
struct json *json_new_string(const char *s);		/* copies */
struct json *json_new_stringn(const char *s, size_t n); /* copies */
struct json *json_new_array(void);
struct json *json_new_object(void);
struct json *json_copy(const struct json *v); /* deep copy */
void json_free(struct json *v);		      /* NULL is a no-op */
/* The same, zeroing every string and key first (credentials). */
void json_free_wipe(struct json *v);

/* Arrays. json_array_append takes ownership of item. */
void json_array_append(struct json *arr, struct json *item);
/* Removes and frees element i. */
void json_array_remove(struct json *arr, size_t i);

/* Objects. Lookups return a borrowed pointer or NULL. */
struct json *json_get(const struct json *obj, const char *key);
/* Sets key: replaces the value in place if the key exists (keeps its
 * position), appends otherwise. Takes ownership of val. */
void json_set(struct json *obj, const char *key, struct json *val);
/* Removes and frees key; returns true if it was there. */
bool json_del(struct json *obj, const char *key);
/* Detaches key's value from obj and returns it (caller owns), or NULL. */
struct json *json_take(struct json *obj, const char *key);

/* Convenience accessors: NULL / fallback when the type does not match. */
const char *json_str(const struct json *v); /* JSON_STRING only */
bool json_is_null(const struct json *v);    /* NULL pointer counts */

/* Lenient readers of a tree that may hold anything (a reply, a plan):
 * obj's member key when it has that type, else NULL / false / 0. The
 * pointers are borrowed from obj. */
const struct json *json_get_nonnull(const struct json *obj, const char *key);
const struct json *json_get_obj(const struct json *obj, const char *key);
const struct json *json_get_arr(const struct json *obj, const char *key);
const char *json_get_str(const struct json *obj, const char *key);
bool json_get_num(const struct json *obj, const char *key, double *d);
/* A count: a number, else the length of an array, else 0. */
double json_get_count(const struct json *obj, const char *key);
bool json_get_true(const struct json *obj, const char *key);

/* Deep equality of JSON values: member order is ignored. */
bool json_equal(const struct json *a, const struct json *b);

/* The string JavaScript's String(v) gives for a number or a string
 * ("12", "1.5", "abc"); for other types NULL. Caller frees. */
char *json_scalar_string(const struct json *v);

/* Sort object keys recursively with collate_compare (--sort-json). Array
 * element order is never changed. */
void json_sort_keys(struct json *v);

/* Writing. JSON.stringify(v, null, 2) when indent is true, JSON.stringify(v)
 * otherwise. Returns a malloc'd NUL-terminated buffer; *lenp gets its
 * length. No trailing newline is added. */
char *json_write(const struct json *v, bool indent, size_t *lenp);

/* Format a double as JavaScript's Number.prototype.toString() does
 * ("1e+21", "0.1", "-0" prints "0", NaN/Infinity print "null" as in JSON).
 * buf must hold at least 32 bytes. Returns the length. */
size_t json_format_number(double d, char *buf);

#endif
