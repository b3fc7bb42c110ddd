/*
 * report: the human form of a plan. One line per change, its SyncID and
 * its name, so that a reviewer can find the item in the dump. Names come
 * from the instance: control characters are shown escaped, never sent to
 * the terminal.
 */
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "xmalloc.h"

/* s with control characters (C0, DEL, and the C1 range in UTF-8) as
 * \xNN, so that a name cannot move the cursor or recolour the screen. */
static void put_safe(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			fprintf(f, "\\u%04x", p[1]);
			p++;
		} else if (*p == '\\')
			fputs("\\\\", f);
		else
			fputc(*p, f);
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

static const char *kind_word(const struct json *rec)
{
	const char *k = json_str(json_get(rec, "kind"));

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

static void put_path(FILE *f, const struct json *path)
{
	size_t i;

	if (path == NULL || path->type != JSON_ARRAY)
		return;
	for (i = 0; i < path->u.arr.len; i++) {
		char *s = json_scalar_string(path->u.arr.items[i]);

		if (i)
			fputc('.', f);
		put_safe(f, s ? s : "?");
		free(s);
	}
}

/* One schema entry: create, delete or update of a collection, field or
 * relation, as Directus' deep-diff records say. */
static void schema_entry(FILE *f, const char *what, const struct json *e,
    bool detail)
{
	const struct json *recs = json_get(e, "diff");
	const char *verb = plan_schema_verb(e);
	char *name = plan_schema_name(e);
	size_t i;

	fprintf(f, "  %c%s %s ", verb[0] - 'a' + 'A', verb + 1, what);
	put_safe(f, name);
	fputc('\n', f);
	free(name);
	if (!detail || strcmp(verb, "update") != 0 || recs == NULL ||
	    recs->type != JSON_ARRAY)
		return;
	for (i = 0; i < recs->u.arr.len; i++) {
		const struct json *r = recs->u.arr.items[i];
		const struct json *rhs = json_get(r, "rhs");

		fprintf(f, "      %s ", kind_word(r));
		put_path(f, json_get(r, "path"));
		if (rhs) {
			fputs(" = ", f);
			put_value(f, rhs);
		}
		fputc('\n', f);
	}
}

static void change_line(FILE *f, const struct coll_plan *c,
    const struct plan_change *ch, char sign, const char *verb, bool detail)
{
	char *label = plan_label(c->rule, ch->item);

	fprintf(f, "  %c %-6s %s ", sign, verb, c->rule->name);
	put_safe(f, ch->sync_id);
	if (label) {
		fputs(" \"", f);
		put_safe(f, label);
		fputc('"', f);
	}
	if (ch->local_id) {
		fputs(" (id ", f);
		put_safe(f, ch->local_id);
		fputc(')', f);
	}
	free(label);
	if (ch->diff && !detail) {
		size_t i;

		fputs(": ", f);
		for (i = 0; i < ch->diff->u.obj.len; i++) {
			if (i)
				fputs(", ", f);
			put_safe(f, ch->diff->u.obj.members[i].key);
		}
	}
	fputc('\n', f);
	if (ch->diff && detail) {
		size_t i;

		for (i = 0; i < ch->diff->u.obj.len; i++) {
			fputs("      ", f);
			put_safe(f, ch->diff->u.obj.members[i].key);
			fputs(" = ", f);
			put_value(f, ch->diff->u.obj.members[i].val);
			fputc('\n', f);
		}
	}
}

void report_plan(FILE *f, const struct plan *p, bool detail)
{
	static const char *const parts[] = { "collections", "fields",
	    "relations" };
	static const char *const what[] = { "collection", "field",
	    "relation" };
	size_t i, k;

	if (p->schema) {
		if (p->schema_diff == NULL)
			fputs("schema: no changes\n", f);
		else
			fprintf(f, "schema: %zu change(s)\n",
			    p->schema_changes);
		for (i = 0; p->schema_diff && i < 3; i++) {
			const struct json *a = json_get(p->schema_diff,
			    parts[i]);

			for (k = 0; a && k < a->u.arr.len; k++)
				schema_entry(f, what[i], a->u.arr.items[k],
				    detail);
		}
	}
	for (i = 0; i < COLL_COUNT; i++) {
		const struct coll_plan *c = &p->c[i];

		if (!c->selected)
			continue;
		fprintf(f, "%s: %zu to create, %zu to update, %zu to delete, "
		    "%zu unchanged", c->rule->name, c->create.len,
		    c->update.len, c->del.len, c->unchanged);
		if (c->ndangling)
			fprintf(f, ", %zu dangling map row(s)", c->ndangling);
		fputc('\n', f);
		for (k = 0; k < c->create.len; k++)
			change_line(f, c, &c->create.v[k], '+', "create",
			    detail);
		for (k = 0; k < c->update.len; k++)
			change_line(f, c, &c->update.v[k], '~', "update",
			    detail);
		for (k = 0; k < c->del.len; k++)
			change_line(f, c, &c->del.v[k], '-', "delete", detail);
	}
	if (p->changes + p->schema_changes == 0)
		fputs("No differences.\n", f);
	else
		fprintf(f, "%zu difference(s).\n", p->changes +
		    p->schema_changes);
}
