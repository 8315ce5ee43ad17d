#!/usr/bin/env bash
# tests/docs/redocly_lint.sh - docs/openapi.json passes `redocly lint` (the
# recommended rules, @redocly/cli pinned in package.json) with no error and no
# warning. Exit 77 (skipped) when the npm packages are not installed, unless CI=true.
set -uo pipefail
root=${PLANTRACK_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
cli=$root/node_modules/.bin/redocly
if [ ! -x "$cli" ] || ! command -v node >/dev/null 2>&1; then
  if [ "${CI:-}" = true ]; then echo "FAIL: @redocly/cli is not installed (scripts/deps.sh runs npm ci)"; exit 1; fi
  echo "skipped: @redocly/cli is not installed (scripts/deps.sh runs npm ci)"; exit 77
fi
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
out=$("$cli" lint "$root/docs/openapi.json" 2>&1)
rc=$?
# (the box is the CLI's notice about the Node.js version, not about the document)
out=$(echo "$out" | grep -v -e '^ *║' -e '^ *╔' -e '^ *╚')
echo "$out"
if [ $rc -ne 0 ]; then echo "FAIL: redocly lint exited $rc"; exit 1; fi
if echo "$out" | grep -qE 'You have [0-9]+ warnings?|[0-9]+ errors?|Warning was generated'; then
  echo "FAIL: redocly lint reported warnings"; exit 1
fi
echo "1 passed, 0 failed"
