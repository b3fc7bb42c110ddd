/*
 * ctl_diff: dsyncctl diff. The plan the daemon sends is printed by the
 * renderer dsyncd diff uses (common/plan_text.c), then the class of each
 * difference; the count gives the exit status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/* 0 no differences, 2 some, 1 no plan: as ctl_diff_print, silently. */
int ctl_diff_exit(const struct json *r)
{
	if (json_get_obj(r, "plan") == NULL &&
	    json_get_obj(r, "summary") == NULL)
		return EXIT_ERR;
	return plan_text_changes(json_get_obj(r, "plan"),
		   json_get_obj(r, "summary")) == 0 ?
	    EXIT_OK :
	    EXIT_DIFF;
}

/* The class of each difference: which side changed since the base. */
static void print_two_way(const struct json *tw)
{
	const struct json *a = json_get_arr(tw, "differences");
	size_t i;

	if (a == NULL || a->u.arr.len == 0)
		return;
	printf("\nBy side (since the base, the last state both agreed on)%s:\n",
	    json_get_true(tw, "base") ? "" : "; no base yet");
	for (i = 0; i < a->u.arr.len; i++) {
		const struct json *e = a->u.arr.items[i];
		const char *coll = json_get_str(e, "collection");

		fputs("  ", stdout);
		printf("%-16s ",
		    json_get_str(e, "class") ? json_get_str(e, "class") : "?");
		text_put_safe(stdout, coll ? coll : "schema");
		putchar(' ');
		text_put_safe(stdout,
		    coll ? (json_get_str(e, "_syncId") ?
				   json_get_str(e, "_syncId") :
				   "(no SyncID)") :
			   json_get_str(e, "unit"));
		if (coll && json_get_str(e, "name")) {
			fputs(" \"", stdout);
			text_put_safe(stdout, json_get_str(e, "name"));
			putchar('"');
		}
		if (json_get_str(e, "by")) {
			fputs(" (by ", stdout);
			text_put_safe(stdout, json_get_str(e, "by"));
			if (json_get_str(e, "at")) {
				fputs(" at ", stdout);
				text_put_safe(stdout, json_get_str(e, "at"));
			}
			putchar(')');
		}
		putchar('\n');
	}
}

int ctl_diff_print(struct ctl *c, const struct json *r)
{
	int rc;

	if (json_get_obj(r, "plan") == NULL &&
	    json_get_obj(r, "summary") == NULL) {
		fprintf(stderr, "dsyncctl: diff: the reply holds no plan\n");
		return EXIT_ERR;
	}
	rc = plan_text_print(stdout, json_get_obj(r, "plan"), c->pretty_diff,
		 json_get_obj(r, "summary")) == 0 ?
	    EXIT_OK :
	    EXIT_DIFF;
	print_two_way(json_get_obj(r, "two_way"));
	/* The seeds (seed.enabled), apart: what a push of them would do. */
	if (json_get_obj(r, "seed")) {
		fputs("seed:\n", stdout);
		if (plan_text_print(stdout, json_get_obj(r, "seed"),
			c->pretty_diff, NULL) != 0)
			rc = EXIT_DIFF;
	}
	return rc;
}
