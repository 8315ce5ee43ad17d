#!/usr/bin/env bash
# tests/sql/run.sh [PORT] - the SQL API tests on a throwaway PostgreSQL 15 cluster:
# applies migrations/*.sql in order (each in one transaction, as the runner does),
# then sql/api/*.sql into a fresh api schema in one transaction, runs smoke.sql
# (every pt_* function) and concurrency.sh with search_path = api, public (as
# every daemon connection has it), then removes the cluster.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
port=${1:-$((55000 + RANDOM % 1000))}
work=$(mktemp -d /tmp/pt-sqltest.XXXXXX)
chmod 755 "$work"
trap 'bash "$root/scripts/pg.sh" destroy "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT INT TERM
base=$(bash "$root/scripts/pg.sh" start "$work/pg" "$port" --fast | tail -1)
conn="${base/dbname=postgres/dbname=pt_sqltest}"
psql -X -q "$base" -c "CREATE DATABASE pt_sqltest"
# the runner creates schema_migrations itself; do the same here
psql -X -q "$conn" -c "CREATE TABLE schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), checksum text)"
for f in "$root"/migrations/[0-9][0-9][0-9][0-9]_*.sql; do
  PGOPTIONS="-c search_path=public" psql -X -q -v ON_ERROR_STOP=1 -1 "$conn" -f "$f" >/dev/null
  n=$(basename "$f"); sum=$(sha256sum "$f" | cut -d' ' -f1)
  psql -X -q "$conn" -c "INSERT INTO schema_migrations VALUES (${n%%_*}::int, '$n', now(), '$sum')"
  echo "applied $n"
done
api=(-c "SET check_function_bodies = off" -c "CREATE SCHEMA api")
for f in "$root"/sql/api/*.sql; do api+=(-f "$f"); done
psql -X -q -v ON_ERROR_STOP=1 -1 "$conn" "${api[@]}" >/dev/null
echo "applied sql/api"
export PGOPTIONS="-c search_path=api,public"
psql -X -q -v ON_ERROR_STOP=1 "$conn" -f "$here/smoke.sql"
bash "$here/concurrency.sh" "$conn"
echo "tests/sql: all passed"
