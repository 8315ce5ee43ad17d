#!/usr/bin/env bash
# scripts/run.sh - one command from a fresh clone to a serving plantrackd.
#
# Installs what is missing (scripts/deps.sh), builds (Release, build/), starts a
# private PostgreSQL in .run/pg on port 55432 (kept between runs: the data is
# reused), creates the database "plantrack", applies the migrations, and on
# first start loads docs/examples/example-plan.txt and creates an admin token
# (saved in .run/admin-token, mode 600). Then serves in the foreground on
# 127.0.0.1:8080 (PLANTRACK_LISTEN overrides). Ctrl-C or SIGTERM stops the
# daemon and the PostgreSQL this script started.
set -euo pipefail

scripts=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$scripts/.." && pwd)
state=$root/.run
pgdir=$state/pg
pgport=${PLANTRACK_RUN_PG_PORT:-55432}
listen=${PLANTRACK_LISTEN:-127.0.0.1:8080}
token_file=$state/admin-token
example=$root/docs/examples/example-plan.txt

say() { echo "run: $*"; }
die() { echo "run: $*" >&2; exit 1; }

bash "$scripts/deps.sh"

say "building (Release) in build/"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
if ! cmake --build "$root/build" -j"$(nproc)" --target plantrackd >"$root/build/run-build.log" 2>&1; then
  grep -E 'error|Error' "$root/build/run-build.log" | head -n 20 >&2 || tail -n 20 "$root/build/run-build.log" >&2
  die "build failed (full log: build/run-build.log)"
fi
bin=$root/build/plantrackd

mkdir -p "$state"
if [ "$(id -u)" -eq 0 ]; then
  chmod 755 "$state"    # PostgreSQL runs as the postgres user and must enter it
fi

pg_started=0
daemon_pid=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  if [ "$pg_started" = 1 ]; then
    say "stopping PostgreSQL"
    bash "$scripts/pg.sh" stop "$pgdir" || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if bash "$scripts/pg.sh" status "$pgdir" >/dev/null 2>&1; then
  say "PostgreSQL already running in .run/pg (left running on exit)"
else
  say "starting PostgreSQL in .run/pg (port $pgport)"
  pg_started=1
fi
base=$(bash "$scripts/pg.sh" start "$pgdir" "$pgport" | tail -n 1)
db=${base/dbname=postgres/dbname=plantrack}

if [ "$(psql -X -At -d "$base" -c "SELECT 1 FROM pg_database WHERE datname = 'plantrack'")" != 1 ]; then
  say "creating database plantrack"
  psql -X -q -d "$base" -c "CREATE DATABASE plantrack" >/dev/null
fi

say "applying migrations"
"$bin" migrate --db "$db" >/dev/null || die "plantrackd migrate failed"

# A saved token is only good if this database knows it (.run/pg may be new).
token=""
if [ -s "$token_file" ]; then
  token=$(tail -n 1 "$token_file")
  sha=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
  known=$(psql -X -At -d "$db" -c "SELECT 1 FROM api_tokens WHERE token_sha256 = '$sha'" 2>/dev/null || true)
  if [ "$known" != 1 ]; then
    say "the saved admin token is unknown to this database; making a new one"
    token=""
  fi
fi

if [ -z "$token" ]; then
  if [ -f "$example" ]; then
    say "importing the example plan"
    if ! out=$("$bin" import "$example" --db "$db" 2>&1); then
      echo "run: warning: importing $example failed, going on without it:" >&2
      echo "$out" | tail -n 5 | sed 's/^/  /' >&2
    fi
  else
    echo "run: warning: $example is missing, no example plan loaded" >&2
  fi
  say "creating the admin token"
  token=$("$bin" token create --name admin --role admin --db "$db" | tail -n 1)
  [ -n "$token" ] || die "plantrackd token create printed no token"
  (umask 077 && printf '%s\n' "$token" > "$token_file")
  chmod 600 "$token_file"
fi

host=${listen%:*}
port=${listen##*:}
case "$host" in
  ''|0.0.0.0|'*'|'[::]'|::) url_host=127.0.0.1 ;;
  *) url_host=$host ;;
esac
url="http://$url_host:$port"

cat <<EOF

  plantrackd on $url   (dashboard: $url/)
  admin token: $token       (saved in .run/admin-token)
  try:  curl -s -H "Authorization: Bearer $token" $url/v1/plans

  Ctrl-C stops the daemon$([ "$pg_started" = 1 ] && echo " and PostgreSQL").

EOF

"$bin" serve --db "$db" --listen "$listen" &
daemon_pid=$!
status=0
wait "$daemon_pid" || status=$?
daemon_pid=""
say "plantrackd exited with status $status"
exit "$status"
