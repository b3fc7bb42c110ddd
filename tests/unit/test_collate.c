/*
 * test_collate: collate_compare against node's own String.localeCompare.
 * Node is run at test time on fixed and seeded pseudo-random strings; it
 * sorts them and compares chosen pairs, and the C side must agree exactly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "buf.h"
#include "collate.h"
#include "xmalloc.h"
#include "node_ref.h"

/* Reads the data file named by argv[2]: "S <hex>" lines are the strings,
 * "P <i> <j>" lines the pairs. Prints the stable localeCompare order as
 * indices, then one of "<=>" per pair. */
static const char node_script[] =
    "const fs = require('fs');\nconst strs = [], pairs = [];\n"
    "for (const l of fs.readFileSync(process.argv[2], 'latin1')"
    ".split('\\n')) {\n  const f = l.split(' ');\n  if (f[0] === 'S')\n"
    "    strs.push(Buffer.from(f[1], 'hex').toString('utf8'));\n"
    "  else if (f[0] === 'P')\n    pairs.push([+f[1], +f[2]]);\n}\n"
    "const idx = strs.map((s, i) => i);\n"
    "idx.sort((a, b) => strs[a].localeCompare(strs[b]));\n"
    "const sg = pairs.map(([i, j]) => {\n"
    "  const c = strs[i].localeCompare(strs[j]);\n"
    "  return c < 0 ? '<' : c > 0 ? '>' : '=';\n}).join('');\n"
    "process.stdout.write(idx.join(' ') + '\\n' + sg + '\\n');\n";

struct corpus {
	char **strs;
	size_t n, cap;
	uint32_t (*pairs)[2];
	size_t npairs, pcap;
};

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

static size_t rng_below(struct rng *r, size_t n)
{
	return (size_t)(rng_next(r) % n);
}

static void corpus_add(struct corpus *c, const char *s)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->strs = xreallocarray(c->strs, c->cap, sizeof(*c->strs));
	}
	c->strs[c->n++] = xstrdup(s);
}

static void corpus_pair(struct corpus *c, size_t i, size_t j)
{
	if (c->npairs == c->pcap) {
		c->pcap = c->pcap ? c->pcap * 2 : 1024;
		c->pairs = xreallocarray(c->pairs, c->pcap, sizeof(*c->pairs));
	}
	c->pairs[c->npairs][0] = (uint32_t)i;
	c->pairs[c->npairs][1] = (uint32_t)j;
	c->npairs++;
}

static void corpus_free(struct corpus *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->strs[i]);
	free(c->strs);
	free(c->pairs);
}

/* Runs node on the corpus; returns its output (two lines) in out. */
static void run_node(const struct corpus *c, struct buf *out)
{
	struct buf in;
	const unsigned char *s;
	size_t i;

	buf_init(&in);
	for (i = 0; i < c->n; i++) {
		buf_adds(&in, "S ");
		for (s = (const unsigned char *)c->strs[i]; *s; s++)
			buf_addf(&in, "%02x", *s);
		buf_addc(&in, '\n');
	}
	for (i = 0; i < c->npairs; i++)
		buf_addf(&in, "P %u %u\n", c->pairs[i][0], c->pairs[i][1]);
	node_run("the collation tests", node_script, sizeof(node_script) - 1,
	    in.data, in.len, NULL, out);
	buf_clear(&in);
}

static void show(const char *what, const char *s)
{
	struct buf b;

	buf_init(&b);
	for (; *s; s++) {
		if ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f)
			buf_addc(&b, *s);
		else
			buf_addf(&b, "\\x%02x", (unsigned char)*s);
	}
	print_error("%s \"%s\"\n", what, b.data ? b.data : "");
	buf_clear(&b);
}

/* Stable, like Array.prototype.sort: ties keep their input order. */
static void merge_sort(size_t *v, size_t *tmp, size_t n, char **strs)
{
	size_t h = n / 2, i = 0, j = h, k = 0;

	if (n < 2)
		return;
	merge_sort(v, tmp, h, strs);
	merge_sort(v + h, tmp, n - h, strs);
	while (i < h && j < n) {
		if (collate_compare(strs[v[j]], strs[v[i]]) < 0)
			tmp[k++] = v[j++];
		else
			tmp[k++] = v[i++];
	}
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof(*v));
}

static int sign(int c)
{
	return c < 0 ? -1 : c > 0;
}

/* Compares the C order and pair signs with node's. */
static void check_corpus(const struct corpus *c)
{
	struct buf out;
	size_t *order, *tmp, i, bad = 0;
	char *p, *end;
	const char *signs;
	int want, got;
	unsigned long v;

	buf_init(&out);
	run_node(c, &out);
	order = xcalloc(c->n + 1, sizeof(*order));
	tmp = xcalloc(c->n + 1, sizeof(*tmp));
	for (i = 0; i < c->n; i++)
		order[i] = i;
	merge_sort(order, tmp, c->n, c->strs);

	p = out.data;
	assert_non_null(p);
	for (i = 0; i < c->n; i++) {
		v = strtoul(p, &end, 10);
		assert_true(end != p);
		p = end;
		if (v != order[i] && bad++ < 5) {
			print_error("sort position %zu differs:\n", i);
			show("  node:", c->strs[v]);
			show("  C:   ", c->strs[order[i]]);
		}
	}
	assert_int_equal(*p, '\n');
	signs = p + 1;
	assert_true(strlen(signs) == c->npairs + 1);
	for (i = 0; i < c->npairs; i++) {
		want = signs[i] == '<' ? -1 : signs[i] == '>' ? 1 : 0;
		got = sign(collate_compare(c->strs[c->pairs[i][0]],
		    c->strs[c->pairs[i][1]]));
		if (want != got && bad++ < 10) {
			print_error("pair sign differs: node %d, C %d\n", want,
			    got);
			show("  a:", c->strs[c->pairs[i][0]]);
			show("  b:", c->strs[c->pairs[i][1]]);
		}
	}
	print_message("collate: %zu strings sorted, %zu pairs checked\n", c->n,
	    c->npairs);
	free(order);
	free(tmp);
	buf_clear(&out);
	assert_int_equal(bad, 0);
}

/* Every pair of the corpus, or n random ones if that is fewer. */
static void add_pairs(struct corpus *c, struct rng *r, size_t n)
{
	size_t i, j;

	if (c->n * c->n <= n) {
		for (i = 0; i < c->n; i++)
			for (j = 0; j < c->n; j++)
				corpus_pair(c, i, j);
		return;
	}
	for (i = 0; i < n; i++)
		corpus_pair(c, rng_below(r, c->n), rng_below(r, c->n));
}

/* Orders the reference tool's docs and dumps rely on; no node needed. */
static void test_known_order(void **state)
{
	static const char *const order[] = {
		"",
		"\t",
		" ",
		"_",
		"_sync_default_admin_role",
		"-",
		",",
		";",
		":",
		"!",
		"?",
		".",
		"'",
		"\"",
		"(",
		")",
		"[",
		"]",
		"{",
		"}",
		"@",
		"*",
		"/",
		"\\",
		"&",
		"#",
		"%",
		"`",
		"^",
		"+",
		"<",
		"=",
		">",
		"|",
		"~",
		"$",
		"0",
		"1",
		"10",
		"9",
		"a_b",
		"a-b",
		"A-c",
		"ab",
		"b",
		"B",
		"log_1",
		"Log_1",
		"log-1",
		"log1",
		"trigger",
		"trigger-flow",
		"triggerflow",
		"z",
		"Z",
	};
	size_t i;

	for (i = 0; i + 1 < sizeof(order) / sizeof(order[0]); i++) {
		if (collate_compare(order[i], order[i + 1]) >= 0 ||
		    collate_compare(order[i + 1], order[i]) <= 0) {
			show("out of order:", order[i]);
			show("          vs:", order[i + 1]);
			fail();
		}
	}
	assert_int_equal(collate_compare("abc", "abc"), 0);
	assert_int_equal(collate_compare("a\001b", "ab"), 0);
	assert_true(collate_compare("a\tb", "ab") < 0);
}

/* Every printable ASCII character, plus the whitespace controls, against
 * every other, alone and in two-character strings. */
static void test_ascii_all(void **state)
{
	struct corpus c = { 0 };
	struct rng r = { 42 };
	char s[4];
	int x, y;

	for (x = 0x07; x < 0x80; x++) {
		if (x >= 0x0e && x < 0x20)
			continue;
		s[0] = (char)x;
		s[1] = '\0';
		corpus_add(&c, s);
		for (y = 0x20; y < 0x7f; y += 3) {
			s[1] = (char)y;
			s[2] = '\0';
			corpus_add(&c, s);
		}
	}
	add_pairs(&c, &r, 60000);
	check_corpus(&c);
	corpus_free(&c);
}

static const char *const biased =
    "_-0123456789abcdefABCDEF._-0123456789abcdefABCDEF.";

/* Random strings like SyncIDs, operation and permission keys, with long
 * shared prefixes so that late and case-only differences are exercised. */
static void test_ascii_random(void **state)
{
	static const char *const stems[] = {
		"",
		"_sync_default_admin_role",
		"log_1",
		"trigger-flow",
		"3f2504e0-4f89-41d3-9a0c-0305e82c3301",
		"3f2504e0-4f89-41d3-9a0c-0305e82c3301-articles-read",
		"3F2504E0-4F89-41D3-9A0C-0305E82C3301",
		"Item",
		"item",
	};
	struct corpus c = { 0 };
	struct rng r = { 0x5eed1234abcdULL };
	char s[96];
	size_t i, k, len, n;

	for (i = 0; i < 4000; i++) {
		n = 0;
		if (rng_below(&r, 3) == 0) {
			k = rng_below(&r, 9);
			len = strlen(stems[k]);
			memcpy(s, stems[k], len);
			n = rng_below(&r, len + 1);
		}
		len = rng_below(&r, 12);
		for (k = 0; k < len; k++) {
			switch (rng_below(&r, 10)) {
			case 0:
				s[n++] = (char)(0x20 + rng_below(&r, 95));
				break;
			case 1:
				s[n++] = "\t\n\001\037\177 "[rng_below(&r, 6)];
				break;
			default:
				s[n++] = biased[rng_below(&r, strlen(biased))];
			}
		}
		s[n] = '\0';
		corpus_add(&c, s);
	}
	add_pairs(&c, &r, 60000);
	check_corpus(&c);
	corpus_free(&c);
}

static size_t put_utf8(char *s, uint32_t cp)
{
	if (cp < 0x80) {
		s[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		s[0] = (char)(0xc0 | cp >> 6);
		s[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		s[0] = (char)(0xe0 | cp >> 12);
		s[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		s[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	s[0] = (char)(0xf0 | cp >> 18);
	s[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	s[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	s[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Characters collate.c documents as approximate. */
static int approximate(uint32_t cp)
{
	static const uint32_t list[] = {
		0xb7,
		0xbc,
		0xbd,
		0xbe,
		0xc6,
		0xdf,
		0xe6,
		0x132,
		0x133,
		0x152,
		0x153,
		0x18d,
		0x1be,
		0x1e2,
		0x1e3,
		0x1f1,
		0x1f2,
		0x1f3,
		0x1fc,
		0x1fd,
		0x238,
		0x239,
		0x387,
		0x2025,
		0x2026,
		/* unassigned */
		0x378,
		0x379,
		0x380,
		0x381,
		0x382,
		0x383,
		0x38b,
		0x38d,
		0x3a2,
	};
	size_t i;

	if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x483 && cp <= 0x489) ||
	    (cp >= 0x1c4 && cp <= 0x1cc))
		return 1;
	for (i = 0; i < sizeof(list) / sizeof(list[0]); i++)
		if (list[i] == cp)
			return 1;
	return 0;
}

/* The non-ASCII part of the table (minus the documented approximations)
 * and some Han, mixed with ASCII letters. Unlisted Han is not exact. */
static void test_non_ascii(void **state)
{
	static const uint32_t ranges[][2] = {
		{ 0xa0, 0x24f },
		{ 0x386, 0x3ce },
		{ 0x400, 0x4ff },
		{ 0x2010, 0x2027 },
		{ 0x20ac, 0x20ac },
		{ 0x4e00, 0x4e13 },
	};
	struct corpus c = { 0 };
	struct rng r = { 0xc0ffeeULL };
	uint32_t cps[1400], cp, lo, hi;
	char s[128];
	size_t ncp = 0, i, k, len, n;

	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		for (cp = ranges[i][0]; cp <= ranges[i][1]; cp++)
			if (!approximate(cp) && ncp < 1400)
				cps[ncp++] = cp;
	for (i = 0; i < 5000; i++) {
		/* runs from one small window so that accents of one base
		 * letter meet each other */
		lo = (uint32_t)rng_below(&r, ncp);
		hi = lo + 24 < ncp ? lo + 24 : (uint32_t)ncp;
		len = rng_below(&r, 7);
		for (k = n = 0; k < len; k++) {
			if (rng_below(&r, 3) == 0)
				s[n++] = "aAeEoOsS-_ 1"[rng_below(&r, 12)];
			else
				n += put_utf8(s + n,
				    cps[lo + rng_below(&r, hi - lo)]);
		}
		s[n] = '\0';
		corpus_add(&c, s);
	}
	add_pairs(&c, &r, 60000);
	check_corpus(&c);
	corpus_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_order),
		cmocka_unit_test(test_ascii_all),
		cmocka_unit_test(test_ascii_random),
		cmocka_unit_test(test_non_ascii),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
