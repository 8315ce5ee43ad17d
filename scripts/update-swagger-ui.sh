#!/usr/bin/env bash
# scripts/update-swagger-ui.sh - copies the Swagger UI files that /docs serves
# from node_modules/swagger-ui-dist (the version package.json pins) into
# web/docs/, with its LICENSE and NOTICE. Run after changing the pin and
# `npm install`; commit the result (ctest docs.swagger_ui_pinned checks it).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dist=$root/node_modules/swagger-ui-dist
[ -f "$dist/package.json" ] || { echo "update-swagger-ui: run npm ci first" >&2; exit 1; }
for f in swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE; do
  cp "$dist/$f" "$root/web/docs/$f"
done
echo "update-swagger-ui: web/docs/ now has swagger-ui-dist $(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$dist/package.json" | head -n 1)"
