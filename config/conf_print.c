/*
 * conf_print: the effective configuration, for dsyncd -n, in the file's
 * syntax: every setting of the tables, in their order, with its value;
 * each secret shows as "(set)", with where it came from.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"
#include "xmalloc.h"

static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch == '\t')
			fputs("\\t", f);
		else if (ch == '\r')
			fputs("\\r", f);
		else if (ch == '\f')
			fputs("\\f", f);
		else if (ch < ' ' || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* Text in a comment: one line. */
static void put_comment(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < ' ' || *s == 0x7f ? '?' : *s, f);
}

/* The shortest form that reads back the same, always with a '.' or an
 * exponent. */
static void put_double(FILE *f, double v)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	fputs(buf, f);
	if (strpbrk(buf, ".e") == NULL)
		fputs(".0", f);
}

static void indent(FILE *f, int depth)
{
	fprintf(f, "%*s", depth * 2, "");
}

static void put_colls(FILE *f, unsigned set)
{
	size_t i, n = 0;

	fputc('[', f);
	for (i = 0; i < COLL_COUNT; i++)
		if (set & COLLS_BIT(i))
			fprintf(f, "%s \"%s\"", n++ ? "," : "", colls_names[i]);
	fputs(n ? " ]" : "]", f);
}

/* A header may hold a secret (a proxy's key): its value is shown as
 * "(set)", its name as it is. */
static void put_headers(const struct conf *c, FILE *f)
{
	size_t i;

	fputc('[', f);
	for (i = 0; i < c->nheaders; i++) {
		const char *colon = strchr(c->headers[i], ':');
		char *shown = colon ?
		    xstrndup(c->headers[i], (size_t)(colon - c->headers[i])) :
		    xstrdup(c->headers[i]);
		char *full;

		xasprintf(&full, "%s: (set)", shown);
		fputs(i ? ", " : " ", f);
		put_string(f, full);
		free(full);
		free(shown);
	}
	fputs(c->nheaders ? " ]" : "]", f);
}

/* hooks: the timeout, the JavaScript config, then each row's commands
 * (a function of the JavaScript config shows as "(js_config)"). */
static void put_hooks(const struct conf *c, FILE *f, int depth)
{
	static const char *const names[] = { "on_query", "on_dump", "on_save",
		"on_load" };
	int row, p;

	fputs("{\n", f);
	indent(f, depth + 1);
	fputs("timeout = ", f);
	put_double(f, c->sync.hook_timeout);
	fputs(";\n", f);
	if (c->hooks_js_config) {
		indent(f, depth + 1);
		fputs("js_config = ", f);
		put_string(f, c->hooks_js_config);
		fputs(";\n", f);
	}
	for (row = 0; row <= COLL_COUNT; row++) {
		bool any = false;

		for (p = 0; p < HOOK_POINTS; p++) {
			const struct sync_hook *h = &c->sync.hooks[row][p];

			if (!h->cmd && !h->js_file)
				continue;
			if (!any) {
				indent(f, depth + 1);
				fprintf(f, "%s = { ", sync_hook_row_name(row));
			}
			any = true;
			fprintf(f, "%s = ", names[p]);
			put_string(f, h->cmd ? h->cmd : "(js_config)");
			fputs("; ", f);
		}
		if (any)
			fputs("};\n", f);
	}
	indent(f, depth);
	fputc('}', f);
}

static void put_events(FILE *f, unsigned set)
{
	size_t i, n = 0;

	fputc('[', f);
	for (i = 0; i < CONF_EV_COUNT; i++)
		if (set & (1u << i))
			fprintf(f, "%s \"%s\"", n++ ? "," : "",
			    conf_event_names[i]);
	fputs(n ? " ]" : "]", f);
}

/* notify: each URL as "(set)" (it may hold a key), each secret_file as
 * its path (the key it holds never). */
static void put_notify(const struct conf *c, FILE *f, int depth)
{
	size_t i;

	if (c->nnotify == 0) {
		fputs("()", f);
		return;
	}
	fputs("(\n", f);
	for (i = 0; i < c->nnotify; i++) {
		const struct conf_notify *n = &c->notify[i];

		indent(f, depth + 1);
		fputs("{\n", f);
		indent(f, depth + 2);
		fputs("url = \"" PLACEHOLDER "\";  # a secret\n", f);
		indent(f, depth + 2);
		fputs("events = ", f);
		put_events(f, n->events);
		fputs(";\n", f);
		indent(f, depth + 2);
		fprintf(f, "format = \"%s\";\n",
		    n->format == CONF_NOTIFY_SLACK ?
			conf_notify_format_names[CONF_NOTIFY_SLACK] :
			conf_notify_format_names[CONF_NOTIFY_JSON]);
		indent(f, depth + 2);
		if (n->secret_file) {
			fputs("secret_file = ", f);
			put_string(f, n->secret_file);
			fputs(";  # read: the key (set)\n", f);
		} else {
			fputs("# secret_file: not set (no signature)\n", f);
		}
		indent(f, depth + 1);
		fputs(i + 1 < c->nnotify ? "},\n" : "}\n", f);
	}
	indent(f, depth);
	fputc(')', f);
}

static void put_credentials(const struct conf *c, FILE *f, int depth)
{
	indent(f, depth);
	if (c->token) {
		fputs("token = \"" PLACEHOLDER "\";  # from ", f);
		put_comment(f, c->token_source ? c->token_source : "");
		fputc('\n', f);
	} else if (c->email) {
		fputs("email = ", f);
		put_string(f, c->email);
		fputs(";\n", f);
		indent(f, depth);
		fputs("password = \"" PLACEHOLDER "\";  # from ", f);
		put_comment(f, c->password_source ? c->password_source : "");
		fputc('\n', f);
	} else {
		fputs("# no credential\n", f);
	}
}

static void print_keys(const struct conf *c, FILE *f, const struct key *keys,
    int depth);

static void print_value(const struct conf *c, FILE *f, const struct key *k,
    const void *p, int depth)
{
	size_t i;

	switch (k->type) {
	case KEY_GROUP:
		fputs("{\n", f);
		print_keys(c, f, k->arg, depth + 1);
		indent(f, depth);
		fputc('}', f);
		break;
	case KEY_BOOL:
		fputs(*(const bool *)p ? "true" : "false", f);
		break;
	case KEY_LONG:
		fprintf(f, "%ld", *(const long *)p);
		break;
	case KEY_UINT:
		fprintf(f, "%u", *(const unsigned *)p);
		break;
	case KEY_FLOAT:
		put_double(f, *(const double *)p);
		break;
	case KEY_ENUM:
		fprintf(f, "\"%s\"",
		    ((const char *const *)k->arg)[*(const int *)p]);
		break;
	case KEY_COLLS:
	case KEY_PRESERVE:
		put_colls(f, *(const unsigned *)p);
		break;
	case KEY_HEADERS:
		put_headers(c, f);
		break;
	case KEY_MODE:
		fprintf(f, "\"%04o\"", (unsigned)*(const mode_t *)p);
		break;
	case KEY_PUSH: {
		char *both;

		xasprintf(&both, "%s %s", c->git.push_remote,
		    c->git.push_branch);
		put_string(f, both);
		free(both);
		break;
	}
	case KEY_NOTIFY:
		put_notify(c, f, depth);
		break;
	case KEY_HOOKS:
		put_hooks(c, f, depth);
		break;
	case KEY_SEEDPATHS:
		fputc('[', f);
		for (i = 0; i < c->nseed_paths; i++) {
			fputs(i ? ", " : " ", f);
			put_string(f, c->seed_paths[i]);
		}
		fputs(c->nseed_paths ? " ]" : "]", f);
		break;
	case KEY_POLICIES:
		fputs("{\n", f);
		for (i = 0; i < COLL_COUNT; i++) {
			indent(f, depth + 1);
			fprintf(f, "%s = \"%s\";\n", colls_names[i],
			    conf_policy_name(c->policy[i]));
		}
		indent(f, depth);
		fputc('}', f);
		break;
	default:
		put_string(f, *(char *const *)p);
		break;
	}
}

static void print_keys(const struct conf *c, FILE *f, const struct key *keys,
    int depth)
{
	const struct key *k;

	for (k = keys; k->name; k++) {
		const void *p = k->off == NO_FIELD ? NULL :
						     (const char *)c + k->off;

		if (k->type == KEY_CRED) {
			if (strcmp(k->name, "token_file") == 0)
				put_credentials(c, f, depth);
			continue;
		}
		indent(f, depth);
		if (k->type == KEY_GROUPNAME && c->control_group == NULL) {
			fprintf(f, "# %s: none (the daemon's own)\n", k->name);
			continue;
		}
		if (k->type == KEY_BRANCH && c->git.branch == NULL) {
			fprintf(f, "# %s: not set (any branch)\n", k->name);
			continue;
		}
		if (k->type == KEY_PUSH && c->git.push_remote == NULL) {
			fprintf(f, "# %s: not set (no git push)\n", k->name);
			continue;
		}
		if (k->type == KEY_LISTEN && c->metrics_listen == NULL) {
			fprintf(f, "# %s: not set (no metrics listener)\n",
			    k->name);
			continue;
		}
		if (k->type == KEY_CAFILE && c->ca_file == NULL) {
			fprintf(f, "# %s: not set (libcurl's default CAs)\n",
			    k->name);
			continue;
		}
		if ((k->type == KEY_STR || k->type == KEY_PATH ||
			k->type == KEY_URL || k->type == KEY_WORD ||
			k->type == KEY_GROUPNAME || k->type == KEY_AUTHOR ||
			k->type == KEY_EMAIL) &&
		    *(char *const *)p == NULL) {
			fprintf(f, "# %s: not set\n", k->name);
			continue;
		}
		fprintf(f, "%s = ", k->name);
		print_value(c, f, k, p, depth);
		fputs(";\n", f);
	}
}

void conf_print(const struct conf *c, FILE *f)
{
	fputs("# dsyncd: the effective configuration", f);
	if (c->path) {
		fputs(" of ", f);
		put_comment(f, c->path);
	}
	fputs("\n# Each secret shows as \"" PLACEHOLDER
	      "\", with where it came from.\n",
	    f);
	print_keys(c, f, conf_keys, 0);
}
