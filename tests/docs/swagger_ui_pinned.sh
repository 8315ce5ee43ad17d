#!/usr/bin/env bash
# tests/docs/swagger_ui_pinned.sh - the Swagger UI files committed in web/docs/
# (served at /docs, embedded with the rest of web/) are those of the
# swagger-ui-dist version pinned in package.json. To update: change the pin,
# npm install, then scripts/update-swagger-ui.sh.
# Exit 77 (skipped) when node_modules is not installed, unless CI=true.
set -uo pipefail
root=${PLANTRACK_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
dist=$root/node_modules/swagger-ui-dist
if [ ! -f "$dist/package.json" ]; then
  if [ "${CI:-}" = true ]; then echo "FAIL: swagger-ui-dist is not installed (scripts/deps.sh runs npm ci)"; exit 1; fi
  echo "skipped: swagger-ui-dist is not installed"; exit 77
fi
pinned=$(sed -n 's/.*"swagger-ui-dist": *"\([^"]*\)".*/\1/p' "$root/package.json")
have=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$dist/package.json" | head -n 1)
fail=0
[ "$pinned" = "$have" ] || { echo "FAIL: package.json pins swagger-ui-dist $pinned, node_modules has $have"; fail=1; }
for f in swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE; do
  cmp -s "$dist/$f" "$root/web/docs/$f" || { echo "FAIL: web/docs/$f differs from swagger-ui-dist $have (run scripts/update-swagger-ui.sh)"; fail=1; }
done
[ $fail -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $fail
