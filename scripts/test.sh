#!/usr/bin/env bash
# scripts/test.sh - build and run every test against a throwaway PostgreSQL.
#
#   bash scripts/test.sh                 build/        (RelWithDebInfo)
#   bash scripts/test.sh --sanitize      build-asan/   (AddressSanitizer + UBSan)
#   bash scripts/test.sh --fuzz          build-fuzz/   (clang, libFuzzer targets + sanitizers, fuzz
#                                                      tests only; skipped when clang is missing)
#   bash scripts/test.sh --tsan          build-tsan/   (clang, ThreadSanitizer; the threaded subset:
#                                                      unit, foundation, tasks, reload storm, ...)
#   bash scripts/test.sh ... -- ARGS     extra arguments for ctest (e.g. -R integration)
#
# Installs missing packages (scripts/deps.sh), configures and builds, starts a
# PostgreSQL cluster in a temporary directory (scripts/pg.sh --fast), runs
# `ctest --output-on-failure -j2` with
#   PLANTRACK_TEST_PG      libpq conninfo of the cluster (database postgres, superuser)
#   PLANTRACK_TEST_PG_DIR  the pg.sh directory of the cluster
#   PLANTRACK_SCRIPTS      this scripts directory
# and removes the cluster whatever happens. Exits with ctest's status.
set -euo pipefail

scripts=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$scripts/.." && pwd)

mode=plain
ctest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sanitize) mode=sanitize; shift ;;
    --fuzz) mode=fuzz; shift ;;
    --tsan) mode=tsan; shift ;;
    --) shift; ctest_args=("$@"); break ;;
    -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done

bash "$scripts/deps.sh"

cmake_args=()
case "$mode" in
  plain)
    build=$root/build
    ;;
  sanitize)
    build=$root/build-asan
    cmake_args+=(-DPLANTRACK_SANITIZE=ON)
    ;;
  fuzz)
    if ! command -v clang >/dev/null 2>&1; then
      echo "test.sh: clang not found, skipping the fuzz build"
      exit 0
    fi
    build=$root/build-fuzz
    export CC=clang
    cmake_args+=(-DPLANTRACK_FUZZ=ON -DPLANTRACK_SANITIZE=ON)
    ;;
  tsan)
    if ! command -v clang >/dev/null 2>&1; then
      echo "test.sh: clang not found, skipping the ThreadSanitizer build"
      exit 0
    fi
    build=$root/build-tsan
    export CC=clang
    cmake_args+=(-DPLANTRACK_TSAN=ON)
    ;;
esac

if [ "$mode" = tsan ]; then
  # Report every race (a report makes the process exit 66 at the end, which
  # the tests see as a failed stop), with both stacks.
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=0:second_deadlock_stack=1:history_size=4}
elif [ "$mode" != plain ]; then
  # Stop at the first error, with a stack; report leaks at exit.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=0:print_stacktrace=1:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:report_error_type=1}
  export LSAN_OPTIONS=${LSAN_OPTIONS:-print_suppressions=0}
fi

echo "== configure ${build#"$root"/} ($mode)"
cmake -S "$root" -B "$build" "${cmake_args[@]}" >/dev/null
echo "== build ${build#"$root"/}"
cmake --build "$build" -j"$(nproc)"

work=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$work" ]; then
    bash "$scripts/pg.sh" destroy "$work/pg" >/dev/null 2>&1 || \
      echo "test.sh: could not remove the test cluster in $work/pg" >&2
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

work=$(mktemp -d /tmp/plantrack-test.XXXXXX)
chmod 755 "$work"    # the postgres user must be able to enter it when we are root
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "== PostgreSQL in $work/pg (port $port)"
conninfo=$(bash "$scripts/pg.sh" start "$work/pg" "$port" --fast | tail -n 1)

export PLANTRACK_TEST_PG=$conninfo
# the fault tests scale their time limits and skip RSS measurements in sanitizer builds
case "$mode" in
  sanitize|fuzz) export PLANTRACK_SANITIZER=asan ;;
  tsan) export PLANTRACK_SANITIZER=tsan ;;
  *) export PLANTRACK_SANITIZER= ;;
esac
export PLANTRACK_TEST_PG_DIR=$work/pg
export PLANTRACK_SCRIPTS=$scripts

# The fuzz build exists to fuzz: the other tests already ran in the plain and
# sanitizer builds, so it runs only the fuzz targets unless told otherwise.
if [ "$mode" = fuzz ] && [ ${#ctest_args[@]} -eq 0 ]; then
  ctest_args=(-R '^fuzz\.')
fi
# ThreadSanitizer is about the threads: the unit tests, the HTTP tests that
# drive both workers, the reload storm, the webhook deliverer's destination
# checks, the import job thread (it reads sheets beside the workers); not the
# tests that time retries (8x slower here).
if [ "$mode" = tsan ] && [ ${#ctest_args[@]} -eq 0 ]; then
  ctest_args=(-R '^(unit\.|integration\.test_(foundation|tasks)$|fault\.test_(reload_storm|reload_bad_config|webhook_ssrf|http_strict|import_event_loop|import_backlog)$)')
fi
echo "== ctest in ${build#"$root"/}"
status=0
(cd "$build" && ctest --output-on-failure -j2 "${ctest_args[@]}") || status=$?
if [ "$status" -eq 0 ]; then
  echo "== tests passed ($mode)"
else
  echo "== tests FAILED ($mode): ctest exit $status" >&2
fi
exit "$status"
