#!/usr/bin/env bash
# scripts/restore.sh - restore a plantrack backup (pg_dump --format=custom)
# into a new, empty database.
#
#   bash scripts/restore.sh DUMP CONNINFO [--role ROLE]
#
# CONNINFO names the target database (libpq conninfo or URI; it must exist,
# e.g. `createdb --owner=plantrack --encoding=UTF8 --template=template0
# plantrack_restored`). The script refuses, and changes nothing, when
#   - DUMP is not a custom-format dump holding a plantrack schema, or
#   - the target already has a plantrack schema (schema_migrations or tasks)
#     or any other table in its public schema: restoring over it would mix
#     two histories, so restore into a new database and point the daemon at
#     it instead.
# Otherwise it runs pg_restore in one transaction (--exit-on-error,
# --no-owner; --role makes ROLE own what it creates) and prints the schema
# version and the number of plans, tasks and progress reports restored.
# Exit 0 restored, 1 refused or failed, 2 usage.
set -euo pipefail

usage() { echo "usage: restore.sh DUMP CONNINFO [--role ROLE]" >&2; exit 2; }
die() { echo "restore.sh: $*" >&2; exit 1; }

role=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --role) [ $# -ge 2 ] || usage; role=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "restore.sh: unknown option $1" >&2; usage ;;
    *) args+=("$1"); shift ;;
  esac
done
[ ${#args[@]} -eq 2 ] || usage
dump=${args[0]}
target=${args[1]}

command -v pg_restore >/dev/null 2>&1 || die "pg_restore not found (install postgresql-client-15)"
command -v psql >/dev/null 2>&1 || die "psql not found (install postgresql-client-15)"
[ -r "$dump" ] || die "$dump: cannot read it"

# 1. The dump: custom format, with plantrack's schema in it.
if ! list=$(pg_restore --list "$dump" 2>&1); then
  die "$dump is not a pg_dump custom-format archive (make one with pg_dump --format=custom): ${list##*$'\n'}"
fi
if ! grep -Eq ' TABLE (DATA )?public schema_migrations ' <<<"$list"; then
  die "$dump holds no plantrack schema (no public.schema_migrations table)"
fi

# 2. The target: reachable and without a schema of its own.
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$target" -c "$1"; }
if ! dbname=$(q "SELECT current_database()" 2>&1); then
  die "cannot connect to the target database: ${dbname##*$'\n'}"
fi
existing=$(q "SELECT coalesce((SELECT max(version)::text FROM public.schema_migrations), 'none')
              WHERE to_regclass('public.schema_migrations') IS NOT NULL
              UNION ALL SELECT 'tasks' WHERE to_regclass('public.tasks') IS NOT NULL" 2>/dev/null || true)
if [ -n "$existing" ]; then
  version=$(head -n 1 <<<"$existing")
  die "database \"$dbname\" already has a plantrack schema (version $version); restore.sh refuses to mix them: restore into a new, empty database and point the daemon at it"
fi
others=$(q "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')")
if [ "$others" != 0 ]; then
  die "database \"$dbname\" is not empty ($others relations in schema public); restore.sh refuses to mix them: restore into a new, empty database"
fi

# 3. Restore, all or nothing.
opts=(--exit-on-error --single-transaction --no-owner --dbname="$target")
[ -z "$role" ] || opts+=(--role="$role")
echo "restore.sh: restoring $dump into \"$dbname\"" >&2
if ! out=$(pg_restore "${opts[@]}" "$dump" 2>&1); then
  echo "$out" >&2
  die "pg_restore failed; nothing was restored (one transaction)"
fi
counts=$(q "SELECT (SELECT max(version) FROM schema_migrations) || ' ' || (SELECT count(*) FROM plans)
            || ' ' || (SELECT count(*) FROM tasks) || ' ' || (SELECT count(*) FROM updates)")
read -r version plans tasks updates <<<"$counts"
echo "restore.sh: restored schema version $version: $plans plans, $tasks tasks, $updates progress reports"
echo "restore.sh: point the daemon at it ([database] conninfo) and start it; its ExecStartPre migrates a dump from an older release"
