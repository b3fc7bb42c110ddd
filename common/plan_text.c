/*
 * plan_text: the one renderer of a plan for people (see plan_text.h). It
 * reads the plan's JSON leniently: any member may be missing or of
 * another type, as in a reply from another version of the daemon.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_text.h"
#include "xmalloc.h"

void text_add_safe(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			buf_addf(b, "\\x%02x", *p);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			buf_addf(b, "\\u%04x", p[1]);
			p++;
		} else if (*p == '\\')
			buf_adds(b, "\\\\");
		else
			buf_addc(b, (char)*p);
	}
}

void text_put_safe(FILE *f, const char *s)
{
	struct buf b;

	buf_init(&b);
	text_add_safe(&b, s);
	fputs(b.data ? b.data : "", f);
	buf_clear(&b);
}

const char *plan_text_schema_verb(const struct json *e)
{
	const struct json *recs = json_get_arr(e, "diff");

	if (recs && recs->u.arr.len == 1 &&
	    json_get(recs->u.arr.items[0], "path") == NULL) {
		const char *k = json_get_str(recs->u.arr.items[0], "kind");

		if (k && k[0] == 'N')
			return "create";
		if (k && k[0] == 'D')
			return "delete";
	}
	return "update";
}

char *plan_text_schema_name(const struct json *e)
{
	const char *coll = json_get_str(e, "collection");
	const char *field = json_get_str(e, "field");
	const char *rel = json_get_str(e, "related_collection");
	char *s;

	xasprintf(&s, "%s%s%s%s%s", coll ? coll : "?", field ? "." : "",
	    field ? field : "", rel ? " -> " : "", rel ? rel : "");
	return s;
}

static const char *kind_word(const struct json *rec)
{
	const char *k = json_get_str(rec, "kind");

	if (k == NULL)
		return "Change";
	switch (k[0]) {
	case 'N':
		return "Add";
	case 'D':
		return "Remove";
	case 'A':
		return "Change in array";
	default:
		return "Set";
	}
}

/* A value on one line, cut at 120 characters. */
static void put_value(FILE *f, const struct json *v)
{
	size_t len;
	char *s = json_write(v, false, &len);

	if (len > 120)
		fprintf(f, "%.117s...", s);
	else
		fputs(s, f);
	free(s);
}

/* A record's path, "a.b.0". */
static void put_path(FILE *f, const struct json *path)
{
	size_t k;

	for (k = 0; path && k < path->u.arr.len; k++) {
		char *s = json_scalar_string(path->u.arr.items[k]);

		if (k)
			fputc('.', f);
		text_put_safe(f, s ? s : "?");
		free(s);
	}
}

/* One schema entry: create, delete or update of a collection, field or
 * relation; with detail, an update's records. */
static void schema_entry(FILE *f, const char *what, const struct json *e,
    bool detail)
{
	const char *verb = plan_text_schema_verb(e);
	const struct json *recs = json_get_arr(e, "diff");
	char *name = plan_text_schema_name(e);
	size_t i;

	fprintf(f, "  %c%s %s ", verb[0] - 'a' + 'A', verb + 1, what);
	text_put_safe(f, name);
	fputc('\n', f);
	free(name);
	if (!detail || strcmp(verb, "update") != 0 || recs == NULL)
		return;
	for (i = 0; i < recs->u.arr.len; i++) {
		const struct json *rec = recs->u.arr.items[i];

		fprintf(f, "      %s ", kind_word(rec));
		put_path(f, json_get_arr(rec, "path"));
		if (json_get(rec, "rhs")) {
			fputs(" = ", f);
			put_value(f, json_get(rec, "rhs"));
		}
		fputc('\n', f);
	}
}

/* One item: sign, verb, collection, SyncID, name, id; the keys that
 * differ, or with detail their values on lines of their own. */
static void change_line(FILE *f, const char *coll, const struct json *ch,
    char sign, const char *verb, bool detail)
{
	const struct json *diff = json_get_obj(ch, "changes");
	const char *label = json_get_str(ch, "name");
	size_t i;

	fprintf(f, "  %c %-6s %s ", sign, verb, coll);
	text_put_safe(f,
	    json_get_str(ch, "_syncId") ? json_get_str(ch, "_syncId") : "?");
	if (label) {
		fputs(" \"", f);
		text_put_safe(f, label);
		fputc('"', f);
	}
	if (json_get_str(ch, "id")) {
		fputs(" (id ", f);
		text_put_safe(f, json_get_str(ch, "id"));
		fputc(')', f);
	}
	if (diff && !detail) {
		fputs(": ", f);
		for (i = 0; i < diff->u.obj.len; i++) {
			if (i)
				fputs(", ", f);
			text_put_safe(f, diff->u.obj.members[i].key);
		}
	}
	fputc('\n', f);
	for (i = 0; diff && detail && i < diff->u.obj.len; i++) {
		fputs("      ", f);
		text_put_safe(f, diff->u.obj.members[i].key);
		fputs(" = ", f);
		put_value(f, diff->u.obj.members[i].val);
		fputc('\n', f);
	}
}

static void collection(FILE *f, const char *name, const struct json *o,
    bool detail)
{
	static const char *const keys[] = { "create", "update", "delete" };
	static const char signs[] = "+~-";
	const struct json *a;
	double unchanged = 0;
	size_t i, k;

	json_get_num(o, "unchanged", &unchanged);
	fprintf(f,
	    "%s: %.0f to create, %.0f to update, %.0f to delete, %.0f "
	    "unchanged",
	    name, json_get_count(o, "create"), json_get_count(o, "update"),
	    json_get_count(o, "delete"), unchanged);
	if (json_get_count(o, "dangling") != 0)
		fprintf(f, ", %.0f dangling map row(s)",
		    json_get_count(o, "dangling"));
	fputc('\n', f);
	for (k = 0; k < 3; k++)
		for (i = 0; (a = json_get_arr(o, keys[k])) && i < a->u.arr.len;
		     i++)
			change_line(f, name, a->u.arr.items[i], signs[k],
			    keys[k], detail);
}

double plan_text_changes(const struct json *plan, const struct json *summary)
{
	const struct json *colls = json_get_obj(plan, "collections");
	double n = 0;
	size_t i;

	if (json_get_num(plan, "changes", &n) ||
	    json_get_num(summary, "changes", &n))
		return n;
	n = json_get_count(json_get_obj(plan, "schema"), "changes");
	for (i = 0; colls && i < colls->u.obj.len; i++) {
		const struct json *o = colls->u.obj.members[i].val;

		n += json_get_count(o, "create") + json_get_count(o, "update") +
		    json_get_count(o, "delete");
	}
	return n;
}

double plan_text_print(FILE *f, const struct json *plan, bool detail,
    const struct json *summary)
{
	static const char *const parts[] = { "collections", "fields",
		"relations" };
	static const char *const what[] = { "collection", "field", "relation" };
	const struct json *schema = json_get_obj(plan, "schema");
	const struct json *sd = json_get_obj(schema, "diff");
	const struct json *colls = json_get_obj(plan, "collections"), *a;
	double changes;
	size_t i, k;

	if (schema) {
		if (sd == NULL)
			fputs("schema: no changes\n", f);
		else
			fprintf(f, "schema: %.0f change(s)\n",
			    json_get_count(schema, "changes"));
		for (i = 0; sd && i < 3; i++)
			for (k = 0; (a = json_get_arr(sd, parts[i])) &&
			     k < a->u.arr.len;
			     k++)
				schema_entry(f, what[i], a->u.arr.items[k],
				    detail);
	}
	for (i = 0; colls && i < colls->u.obj.len; i++)
		if (colls->u.obj.members[i].val->type == JSON_OBJECT)
			collection(f, colls->u.obj.members[i].key,
			    colls->u.obj.members[i].val, detail);
	changes = plan_text_changes(plan, summary);
	if (changes == 0)
		fputs("No differences.\n", f);
	else
		fprintf(f, "%.0f difference(s).\n", changes);
	return changes;
}
