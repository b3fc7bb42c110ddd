#!/usr/bin/env bash
# The fault-injecting proxy the failure tests stand on (tests/faults/
# proxy.py), against a small echo server: every flag, forwarding,
# keep-alive, signals. No Directus.
exec bash "$(dirname "$0")/../faults/selftest.sh"
