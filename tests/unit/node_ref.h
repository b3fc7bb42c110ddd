/*
 * node_ref: node as the reference of the unit tests that hold the C code
 * to what JavaScript does (test_json, test_collate).
 */
#ifndef DSYNC_TESTS_NODE_REF_H
#define DSYNC_TESTS_NODE_REF_H

#include <stddef.h>

/*
 * The node program: $NODE, else node on PATH, else /usr/bin/node. A
 * missing node fails the test that needs it (named by who): the reference
 * is required, never skipped.
 */
char *node_find(const char *who);

/* Writes len bytes of data to path, failing the test on any error. */
void write_file(const char *path, const char *data, size_t len);

#endif
