#!/usr/bin/env bash
# scripts/pg.sh - a private PostgreSQL 15 cluster in a directory of its own.
#
#   pg.sh start DIR PORT [--fast]   initdb DIR/data if missing, start, wait until
#                                   ready, print the libpq conninfo on stdout:
#                                   host=DIR/sock port=PORT user=postgres dbname=postgres
#   pg.sh stop DIR                  stop it (fast shutdown); no-op if not running
#   pg.sh destroy DIR               stop it and rm -rf DIR
#   pg.sh status DIR                exit 0 if running (prints the conninfo), 3 if not
#
# The cluster listens only on a unix socket in DIR/sock (listen_addresses=''),
# trusts every local connection, and its superuser is "postgres". --fast turns
# off fsync, synchronous_commit and full_page_writes: throwaway test clusters only.
# As root, the cluster runs as the postgres system user (initdb refuses root):
# DIR is chowned to it and every parent of DIR must be searchable by it.
# Otherwise the cluster runs as the calling user. PG_BINDIR overrides where the
# server binaries are (default /usr/lib/postgresql/15/bin).
set -euo pipefail

die() { echo "pg.sh: $*" >&2; exit 1; }
usage() { echo "usage: pg.sh start DIR PORT [--fast] | stop DIR | destroy DIR | status DIR" >&2; exit 2; }

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
dir=$(realpath -m -- "$dir")
[ -n "$dir" ] && [ "$dir" != "/" ] || die "refusing to use / as the cluster directory"

bindir=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
if [ ! -x "$bindir/pg_ctl" ]; then
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/pg_ctl" ]; then
    bindir=$(pg_config --bindir)
  else
    die "PostgreSQL server binaries not found in $bindir (install postgresql-15 or set PG_BINDIR)"
  fi
fi

data=$dir/data
sock=$dir/sock
logfile=$dir/postgresql.log

# as_pg CMD...: run a command as the cluster's owner, from a directory it can read.
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || die "running as root but there is no postgres system user (install postgresql-15)"
  as_pg() { (cd / && runuser -u postgres -- "$@"); }
else
  as_pg() { (cd / && "$@"); }
fi

# The first ancestor of $1 the cluster owner cannot search, if any.
unreachable_parent() {
  local p=$1 parts=() acc=""
  IFS=/ read -r -a parts <<<"${p#/}"
  for part in "${parts[@]}"; do
    acc="$acc/$part"
    [ -d "$acc" ] || break
    if ! as_pg test -x "$acc"; then
      echo "$acc"
      return 0
    fi
  done
  return 1
}

running() { [ -f "$data/postmaster.pid" ] && as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; }
running_port() { sed -n 4p "$data/postmaster.pid" 2>/dev/null; }
conninfo() { echo "host=$sock port=$1 user=postgres dbname=postgres"; }

cmd_start() {
  local port=$1 fast=$2
  case "$port" in
    ''|*[!0-9]*) die "PORT must be a number, got '$port'" ;;
  esac
  [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "PORT out of range: $port"
  # unix socket paths are limited to 107 bytes
  local sockpath="$sock/.s.PGSQL.$port"
  [ ${#sockpath} -le 107 ] || die "socket path too long (${#sockpath} > 107 bytes): $sockpath; use a shorter DIR"

  mkdir -p "$dir" || die "cannot create $dir"
  if [ "$(id -u)" -eq 0 ]; then
    local bad
    if bad=$(unreachable_parent "$(dirname "$dir")"); then
      die "the postgres user cannot enter $bad (give it o+x, or put the cluster elsewhere)"
    fi
    [ "$(stat -c %U "$dir")" = postgres ] || chown postgres:postgres "$dir"
  fi
  as_pg test -w "$dir" || die "$(id -un 2>/dev/null || echo the cluster owner) cannot write to $dir"

  if running; then
    local rp
    rp=$(running_port)
    [ "$rp" = "$port" ] || die "a cluster is already running in $dir on port $rp, not $port"
    conninfo "$port"
    return 0
  fi

  if [ ! -f "$data/PG_VERSION" ]; then
    [ ! -e "$data" ] || [ -z "$(ls -A "$data" 2>/dev/null)" ] || die "$data exists but is not a PostgreSQL data directory"
    echo "pg.sh: initdb $data" >&2
    local locale=C.UTF-8
    locale -a 2>/dev/null | grep -qix 'c\.utf-\?8' || locale=C
    if ! as_pg "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale="$locale" \
         >"$dir/initdb.log" 2>&1; then
      tail -n 15 "$dir/initdb.log" >&2
      die "initdb failed (full output in $dir/initdb.log)"
    fi
    echo "include_if_exists = 'plantrack.conf'" | as_pg tee -a "$data/postgresql.conf" >/dev/null
  fi

  as_pg mkdir -p "$sock"
  {
    echo "# written by scripts/pg.sh at every start"
    echo "listen_addresses = ''"
    echo "port = $port"
    echo "unix_socket_directories = '$sock'"
    echo "unix_socket_permissions = 0777"
    echo "max_connections = 200"
    echo "logging_collector = off"
    echo "log_min_messages = warning"
    if [ "$fast" = 1 ]; then
      echo "fsync = off"
      echo "synchronous_commit = off"
      echo "full_page_writes = off"
    fi
  } | as_pg tee "$data/plantrack.conf" >/dev/null

  if [ "$(id -u)" -eq 0 ]; then
    touch "$logfile" && chown postgres:postgres "$logfile"
  fi
  if ! as_pg "$bindir/pg_ctl" -D "$data" -l "$logfile" -w -t 60 -s start >/dev/null 2>"$dir/pg_ctl.err"; then
    cat "$dir/pg_ctl.err" >&2
    tail -n 15 "$logfile" >&2 || true
    die "PostgreSQL in $dir did not start (log: $logfile)"
  fi

  for _ in $(seq 100); do
    if "$bindir/pg_isready" -q -h "$sock" -p "$port" -U postgres -d postgres; then
      conninfo "$port"
      return 0
    fi
    sleep 0.1
  done
  die "PostgreSQL in $dir started but does not accept connections (log: $logfile)"
}

cmd_stop() {
  [ -d "$data" ] || return 0
  running || return 0
  as_pg "$bindir/pg_ctl" -D "$data" -m fast -w -t 60 -s stop >/dev/null 2>&1 && return 0
  as_pg "$bindir/pg_ctl" -D "$data" -m immediate -w -t 30 -s stop >/dev/null 2>&1 && return 0
  local pid
  pid=$(sed -n 1p "$data/postmaster.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; then
    sleep 0.5
    return 0
  fi
  echo "pg.sh: could not stop PostgreSQL in $dir" >&2
  return 1
}

case "$cmd" in
  start)
    [ $# -ge 3 ] || usage
    fast=0
    [ $# -lt 4 ] || { [ "$4" = --fast ] && fast=1; } || usage
    cmd_start "$3" "$fast"
    ;;
  stop)
    [ $# -eq 2 ] || usage
    cmd_stop || exit 1
    ;;
  destroy)
    [ $# -eq 2 ] || usage
    [ -e "$dir" ] || exit 0
    # only remove what looks like ours: nothing in DIR but what pg.sh puts there
    for entry in "$dir"/* "$dir"/.[!.]*; do
      [ -e "$entry" ] || continue
      case "${entry##*/}" in
        data|sock|postgresql.log|initdb.log|pg_ctl.err) ;;
        *) die "$dir holds ${entry##*/}, which pg.sh did not make; not removing it" ;;
      esac
    done
    if [ -e "$data" ] && [ ! -f "$data/PG_VERSION" ]; then
      die "$data is not a PostgreSQL data directory; not removing $dir"
    fi
    cmd_stop || true
    rm -rf "$dir"
    ;;
  status)
    [ $# -eq 2 ] || usage
    if running; then conninfo "$(running_port)"; else exit 3; fi
    ;;
  *) usage ;;
esac
