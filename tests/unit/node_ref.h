/*
 * node_ref: node as the reference of the unit tests that hold the C code
 * to what JavaScript does (test_json, test_collate).
 */
#ifndef DSYNC_TESTS_NODE_REF_H
#define DSYNC_TESTS_NODE_REF_H

#include <stddef.h>

#include "buf.h"

/*
 * Runs node on script (slen bytes) with the path of a file holding input
 * (ilen bytes) and arg (NULL: none) as its arguments, both files in a
 * temporary directory removed afterwards; node's standard output lands in
 * out. Node is $NODE, else node on PATH, else /usr/bin/node: a missing
 * node, or one that fails, fails the test (who names the tests that need
 * it); the reference is required, never skipped.
 */
void node_run(const char *who, const char *script, size_t slen,
    const char *input, size_t ilen, const char *arg, struct buf *out);

#endif
