/*
 * ctl_diff: dsyncctl diff, the plan the daemon sends printed as the lines
 * of dsyncd diff (daemon/report.c) from the JSON: the schema entries,
 * each collection's creates, updates and deletes (-p: with the values),
 * then the count, which gives the exit status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "xmalloc.h"

static const char *schema_verb(const struct json *e)
{
	const struct json *recs = ctl_jarr(e, "diff");

	if (recs && recs->u.arr.len == 1 &&
	    json_get(recs->u.arr.items[0], "path") == NULL) {
		const char *k = ctl_jstr(recs->u.arr.items[0], "kind");

		if (k && k[0] == 'N')
			return "create";
		if (k && k[0] == 'D')
			return "delete";
	}
	return "update";
}

static const char *kind_word(const struct json *rec)
{
	const char *k = ctl_jstr(rec, "kind");

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
static void put_value(const struct json *v)
{
	size_t len;
	char *s = json_write(v, false, &len);

	if (len > 120)
		printf("%.117s...", s);
	else
		fputs(s, stdout);
	free(s);
}

static void schema_entry(const char *what, const struct json *e,
    bool detail)
{
	const char *verb = schema_verb(e), *coll = ctl_jstr(e, "collection"),
	    *field = ctl_jstr(e, "field"), *rel = ctl_jstr(e,
	    "related_collection");
	const struct json *recs = ctl_jarr(e, "diff"), *path;
	char *name;
	size_t i, k;

	xasprintf(&name, "%s%s%s%s%s", coll ? coll : "?", field ? "." : "",
	    field ? field : "", rel ? " -> " : "", rel ? rel : "");
	printf("  %c%s %s ", verb[0] - 'a' + 'A', verb + 1, what);
	ctl_put_safe(stdout, name);
	putchar('\n');
	free(name);
	if (!detail || strcmp(verb, "update") != 0 || recs == NULL)
		return;
	for (i = 0; i < recs->u.arr.len; i++) {
		const struct json *rec = recs->u.arr.items[i];

		printf("      %s ", kind_word(rec));
		path = ctl_jarr(rec, "path");
		for (k = 0; path && k < path->u.arr.len; k++) {
			char *s = json_scalar_string(path->u.arr.items[k]);

			if (k)
				putchar('.');
			ctl_put_safe(stdout, s ? s : "?");
			free(s);
		}
		if (json_get(rec, "rhs")) {
			fputs(" = ", stdout);
			put_value(json_get(rec, "rhs"));
		}
		putchar('\n');
	}
}

/* The name of an item as plan_label gives it (daemon/sync/plan.c). */
static char *item_label(const char *coll, const struct json *item)
{
	const char *name = ctl_jstr(item, "name");
	char *s;

	if (strcmp(coll, "permissions") == 0) {
		xasprintf(&s, "%s %s", ctl_jstr(item, "collection") ?
		    ctl_jstr(item, "collection") : "?", ctl_jstr(item,
		    "action") ? ctl_jstr(item, "action") : "?");
		return s;
	}
	if (strcmp(coll, "translations") == 0) {
		xasprintf(&s, "%s (%s)", ctl_jstr(item, "key") ?
		    ctl_jstr(item, "key") : "?", ctl_jstr(item, "language") ?
		    ctl_jstr(item, "language") : "?");
		return s;
	}
	if (strcmp(coll, "operations") == 0 && ctl_jstr(item, "key"))
		return xstrdup(ctl_jstr(item, "key"));
	if (strcmp(coll, "presets") == 0 && ctl_jstr(item, "collection") &&
	    name == NULL)
		return xstrdup(ctl_jstr(item, "collection"));
	if (strcmp(coll, "settings") == 0)
		return xstrdup("settings");
	return name ? xstrdup(name) : NULL;
}

/* An item's name: its own "name" member when the daemon sends one, its
 * item, else the summary's first items (updates carry no item). */
static char *change_label(const char *coll, const struct json *ch,
    const struct json *summary)
{
	const struct json *first = ctl_jarr(ctl_jobj(ctl_jobj(summary,
	    "collections"), coll), "first");
	const char *sid = ctl_jstr(ch, "_syncId");
	size_t i;

	if (ctl_jstr(ch, "name"))
		return xstrdup(ctl_jstr(ch, "name"));
	if (ctl_jobj(ch, "item") || strcmp(coll, "settings") == 0)
		return item_label(coll, ctl_jobj(ch, "item"));
	for (i = 0; sid && first && i < first->u.arr.len; i++) {
		const struct json *it = first->u.arr.items[i];

		if (ctl_jstr(it, "_syncId") && strcmp(ctl_jstr(it, "_syncId"),
		    sid) == 0 && ctl_jstr(it, "name"))
			return xstrdup(ctl_jstr(it, "name"));
	}
	return NULL;
}

static void change_line(const char *coll, const struct json *ch, char sign,
    const char *verb, bool detail, const struct json *summary)
{
	const struct json *diff = ctl_jobj(ch, "changes");
	char *label = change_label(coll, ch, summary);
	size_t i;

	printf("  %c %-6s %s ", sign, verb, coll);
	ctl_put_safe(stdout, ctl_jstr(ch, "_syncId") ? ctl_jstr(ch,
	    "_syncId") : "?");
	if (label) {
		fputs(" \"", stdout);
		ctl_put_safe(stdout, label);
		putchar('"');
	}
	if (ctl_jstr(ch, "id")) {
		fputs(" (id ", stdout);
		ctl_put_safe(stdout, ctl_jstr(ch, "id"));
		putchar(')');
	}
	free(label);
	if (diff && !detail) {
		fputs(": ", stdout);
		for (i = 0; i < diff->u.obj.len; i++) {
			if (i)
				fputs(", ", stdout);
			ctl_put_safe(stdout, diff->u.obj.members[i].key);
		}
	}
	putchar('\n');
	for (i = 0; diff && detail && i < diff->u.obj.len; i++) {
		fputs("      ", stdout);
		ctl_put_safe(stdout, diff->u.obj.members[i].key);
		fputs(" = ", stdout);
		put_value(diff->u.obj.members[i].val);
		putchar('\n');
	}
}

static void diff_collection(const char *name, const struct json *o,
    bool detail, const struct json *summary)
{
	static const char *const keys[] = { "create", "update", "delete" };
	static const char signs[] = "+~-";
	const struct json *a;
	double unchanged = 0;
	size_t i, k;

	ctl_jnum(o, "unchanged", &unchanged);
	printf("%s: %.0f to create, %.0f to update, %.0f to delete, %.0f "
	    "unchanged", name, ctl_jcount(o, "create"), ctl_jcount(o, "update"),
	    ctl_jcount(o, "delete"), unchanged);
	if (ctl_jcount(o, "dangling") != 0)
		printf(", %.0f dangling map row(s)", ctl_jcount(o, "dangling"));
	putchar('\n');
	for (k = 0; k < 3; k++)
		for (i = 0; (a = ctl_jarr(o, keys[k])) && i < a->u.arr.len; i++)
			change_line(name, a->u.arr.items[i], signs[k], keys[k],
			    detail, summary);
}

/* The plan's "changes", the summary's, or what the plan lists. */
static double plan_changes(const struct json *plan,
    const struct json *summary)
{
	const struct json *colls = ctl_jobj(plan, "collections");
	double n = 0;
	size_t i;

	if (ctl_jnum(plan, "changes", &n) || ctl_jnum(summary, "changes", &n))
		return n;
	n = ctl_jcount(ctl_jobj(plan, "schema"), "changes");
	for (i = 0; colls && i < colls->u.obj.len; i++) {
		const struct json *o = colls->u.obj.members[i].val;

		n += ctl_jcount(o, "create") + ctl_jcount(o, "update") +
		    ctl_jcount(o, "delete");
	}
	return n;
}

static int print_plan(const struct json *plan, bool detail,
    const struct json *summary)
{
	static const char *const parts[] = { "collections", "fields",
	    "relations" };
	static const char *const what[] = { "collection", "field",
	    "relation" };
	const struct json *schema = ctl_jobj(plan, "schema"), *sd =
	    ctl_jobj(schema, "diff"), *colls = ctl_jobj(plan, "collections"),
	    *a;
	double changes = 0;
	size_t i, k;

	if (schema) {
		if (sd == NULL)
			puts("schema: no changes");
		else
			printf("schema: %.0f change(s)\n", ctl_jcount(schema,
			    "changes"));
		for (i = 0; sd && i < 3; i++)
			for (k = 0; (a = ctl_jarr(sd, parts[i])) && k <
			    a->u.arr.len; k++)
				schema_entry(what[i], a->u.arr.items[k],
				    detail);
	}
	for (i = 0; colls && i < colls->u.obj.len; i++)
		if (colls->u.obj.members[i].val->type == JSON_OBJECT)
			diff_collection(colls->u.obj.members[i].key,
			    colls->u.obj.members[i].val, detail, summary);
	changes = plan_changes(plan, summary);
	if (changes == 0)
		puts("No differences.");
	else
		printf("%.0f difference(s).\n", changes);
	return changes == 0 ? EXIT_OK : EXIT_DIFF;
}

/* 0 no differences, 2 some, 1 no plan: as ctl_diff_print, silently. */
int ctl_diff_exit(const struct json *r)
{
	if (ctl_jobj(r, "plan") == NULL && ctl_jobj(r, "summary") == NULL)
		return EXIT_ERR;
	return plan_changes(ctl_jobj(r, "plan"), ctl_jobj(r, "summary")) == 0 ?
	    EXIT_OK : EXIT_DIFF;
}

/* The class of each difference: which side changed since the base. */
static void print_two_way(const struct json *tw)
{
	const struct json *a = ctl_jarr(tw, "differences");
	size_t i;

	if (a == NULL || a->u.arr.len == 0)
		return;
	printf("\nBy side (since the base, the last state both agreed on)%s:\n",
	    ctl_jtrue(tw, "base") ? "" : "; no base yet");
	for (i = 0; i < a->u.arr.len; i++) {
		const struct json *e = a->u.arr.items[i];
		const char *coll = ctl_jstr(e, "collection");

		fputs("  ", stdout);
		printf("%-16s ", ctl_jstr(e, "class") ? ctl_jstr(e, "class") :
		    "?");
		ctl_put_safe(stdout, coll ? coll : "schema");
		putchar(' ');
		ctl_put_safe(stdout, coll ? (ctl_jstr(e, "_syncId") ?
		    ctl_jstr(e, "_syncId") : "(no SyncID)") : ctl_jstr(e,
		    "unit"));
		if (coll && ctl_jstr(e, "name")) {
			fputs(" \"", stdout);
			ctl_put_safe(stdout, ctl_jstr(e, "name"));
			putchar('"');
		}
		if (ctl_jstr(e, "by")) {
			fputs(" (by ", stdout);
			ctl_put_safe(stdout, ctl_jstr(e, "by"));
			if (ctl_jstr(e, "at")) {
				fputs(" at ", stdout);
				ctl_put_safe(stdout, ctl_jstr(e, "at"));
			}
			putchar(')');
		}
		putchar('\n');
	}
}

int ctl_diff_print(struct ctl *c, const struct json *r)
{
	int rc;

	if (ctl_jobj(r, "plan") == NULL && ctl_jobj(r, "summary") == NULL) {
		fprintf(stderr, "dsyncctl: diff: the reply holds no plan\n");
		return EXIT_ERR;
	}
	rc = print_plan(ctl_jobj(r, "plan"), c->pretty_diff, ctl_jobj(r,
	    "summary"));
	print_two_way(ctl_jobj(r, "two_way"));
	return rc;
}
