#!/bin/sh
# Stands in for a browser test when node is not installed: skipped (77) on a
# developer machine, a failure in CI (CI=true).
if [ "${CI:-}" = true ]; then echo "FAIL: node is not installed (scripts/deps.sh)"; exit 1; fi
echo "skipped: node is not installed (scripts/deps.sh)"; exit 77
