/*
 * collate: string ordering as JavaScript's a.localeCompare(b) gives it under
 * Node's ICU in the en-US locale (CLDR root collation, tertiary strength).
 * The reference tool sorts dump items and, with --sort-json, object keys this
 * way, so byte-identical dumps need the same order.
 */
#ifndef DSYNC_COLLATE_H
#define DSYNC_COLLATE_H

/* <0, 0 or >0 like strcmp, for UTF-8 strings. */
int collate_compare(const char *a, const char *b);

#endif
