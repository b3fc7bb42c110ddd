#!/usr/bin/env bash
# The test library every integration test stands on (tests/lib/
# directus.sh and seed.mjs): instances with and without the extension,
# the seed pulled by the reference CLI, the same schema from the same
# seed, a restart that keeps the database and the port.
# versions: all
exec bash "$(dirname "$0")/../lib/selftest.sh"
