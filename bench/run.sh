#!/usr/bin/env bash
# bench/run.sh - the daemon against PostgreSQL itself, side by side in one run.
#
# wrk drives GET /v1/tasks/{id} and POST /v1/tasks/{id}/updates on the daemon;
# pgbench drives -S (select only) and -N (simple update) with prepared
# statements on the same PostgreSQL cluster; both at the same connection
# count. Prints requests/s, p99 latency and the ratio daemon/pgbench.
#
# usage: bash bench/run.sh [--connections 64] [--duration 10] [--tasks 1000]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
conns=64 duration=10 ntasks=1000 threads=2
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) conns=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --tasks) ntasks=$2; shift 2 ;;
    *) echo "bench: unknown option $1" >&2; exit 2 ;;
  esac
done

bash "$root/scripts/deps.sh"
echo "== building (Release)"
cmake -S "$root" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build-bench" -j"$(nproc)" --target plantrackd >/dev/null
bin="$root/build-bench/plantrackd"

work=$(mktemp -d /tmp/plantrack-bench.XXXXXX)
chmod 755 "$work"
port=$((56000 + RANDOM % 1000))
http_port=$((18000 + RANDOM % 1000))
daemon_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
  bash "$root/scripts/pg.sh" destroy "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "== starting PostgreSQL"
base=$(bash "$root/scripts/pg.sh" start "$work/pg" "$port" | tail -1)
conninfo="${base/dbname=postgres/dbname=plantrack}"
pgconn="${base/dbname=postgres/dbname=pgbench}"
psql "$base" -qc "CREATE DATABASE plantrack" -c "CREATE DATABASE pgbench"
"$bin" migrate --db "$conninfo" >/dev/null
token=$("$bin" token create --name bench --role admin --db "$conninfo" | tail -1)

echo "== creating a plan with $ntasks tasks"
python3 - "$ntasks" > "$work/plan.json" <<'PY'
import json, sys
n = int(sys.argv[1])
tasks = [{"title": f"任务{i}", "lead_unit": f"单位{i % 17}", "due_date": "2026-12-31",
          "targets": [{"label": "项目", "value": 10, "unit": "项"}]} for i in range(n)]
print(json.dumps({"title": "bench", "year": 2026, "tasks": tasks}))
PY
"$bin" serve --db "$conninfo" --listen "127.0.0.1:$http_port" --pool 8 2>"$work/daemon.log" &
daemon_pid=$!
for _ in $(seq 50); do curl -fs "127.0.0.1:$http_port/readyz" >/dev/null && break; sleep 0.2; done
curl -fs -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  --data-binary @"$work/plan.json" "127.0.0.1:$http_port/v1/plans" >/dev/null
psql "$conninfo" -Atc "SELECT id FROM tasks" > "$work/ids.txt"
export BENCH_TOKEN=$token BENCH_IDS=$work/ids.txt

echo "== pgbench -i"
pgbench -q -i -s 10 "$pgconn" >/dev/null 2>&1

# wrk: "Requests/sec" and the 99% latency line, in ms.
wrk_run() {
  local script=$1
  wrk -t"$threads" -c"$conns" -d"${duration}s" --latency -s "$here/$script" \
      "http://127.0.0.1:$http_port" > "$work/wrk.out"
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' "$work/wrk.out")
  local errors
  errors=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.out")
  echo "$rps ${p99:-0} ${errors:-0}"
}

# pgbench: tps and the 99th percentile from the per-transaction log, in ms.
pgbench_run() {
  local mode=$1
  rm -f "$work"/pgbench_log.*
  (cd "$work" && pgbench -n "$mode" -M prepared -c "$conns" -j "$threads" -T "$duration" -l \
      "$pgconn" > "$work/pgbench.out" 2>&1)
  local tps p99
  tps=$(awk '/^tps/ {print $3; exit}' "$work/pgbench.out")
  p99=$(cat "$work"/pgbench_log.* | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {i=int(NR*0.99); if (i<1) i=1; printf "%.2f", a[i]/1000}')
  echo "$tps $p99"
}

echo "== running: $conns connections, ${duration}s each, $threads load threads"
read -r get_rps get_p99 get_err < <(wrk_run get_task.lua)
read -r sel_tps sel_p99 < <(pgbench_run -S)
read -r rep_rps rep_p99 rep_err < <(wrk_run report.lua)
read -r upd_tps upd_p99 < <(pgbench_run -N)

printf '\n%-36s %12s %10s %8s\n' "workload" "req/s" "p99 ms" "ratio"
printf '%-36s %12.0f %10.2f %8s\n' "daemon GET /v1/tasks/{id}" "$get_rps" "$get_p99" "$(awk -v a="$get_rps" -v b="$sel_tps" 'BEGIN{printf "%.2f", a/b}')"
printf '%-36s %12.0f %10.2f\n' "pgbench -S -M prepared" "$sel_tps" "$sel_p99"
printf '%-36s %12.0f %10.2f %8s\n' "daemon POST /v1/tasks/{id}/updates" "$rep_rps" "$rep_p99" "$(awk -v a="$rep_rps" -v b="$upd_tps" 'BEGIN{printf "%.2f", a/b}')"
printf '%-36s %12.0f %10.2f\n' "pgbench -N -M prepared" "$upd_tps" "$upd_p99"
echo "(non-2xx responses: GET $get_err, POST $rep_err)"
