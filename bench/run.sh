#!/usr/bin/env bash
# bench/run.sh - the daemon against PostgreSQL itself, side by side in one run.
#
# One PostgreSQL (fsync on), one plan of --tasks tasks (17 lead units), and at
# --connections each, one after the other:
#   wrk      GET /v1/tasks/{id}              vs  pgbench -S -M prepared
#   wrk      POST /v1/tasks/{id}/updates     vs  pgbench -N -M prepared
#            (the full answer, and with Prefer: return=minimal)
#   wrk      GET /v1/tasks?plan=…&limit=50   vs  pgbench -S
#   wrk      GET /v1/plans/{id}/summary      vs  pgbench -S   (counts, overdue, unit ranking)
#   wrk      a mixed load (bench/mixed.lua)
# then the reads table (issue 10; target: every read >= 500 req/s): list of
# 50, summary and ranking (running quarter, last quarter) with the live state
# and as of a past day (as_of: the plan rebuilt from the journal on a miss),
# list and summary also with the document cache off (SIGHUP with
# [cache] documents = 0), next to the single-task read (bench/path.lua);
# then the daemon's peak RSS over those loads, and the RSS of a fresh daemon
# holding --idle idle keep-alive connections (bench/idle.py). Every workload
# runs --runs times; the table shows the median of each figure, the ratio
# daemon/pgbench of the medians, the target and whether it is met, and the
# load average before and after (daemon rates: 2xx answers per second).
# Targets (issue 13) are printed, not asserted; after them a profile per
# answer (daemon and PostgreSQL CPU, WAL bytes, connections/rate) and, for
# each target not met, the reason measured in the run.
#
# usage: bash bench/run.sh [--connections 64] [--duration 10] [--tasks 2000]
#                          [--runs 3] [--idle 10000] [--workers 2]
#                          [--quick | --reports | --only idle | --only import]
#                          [--import-rows 100000] [--help]
# --quick: only the single-task read and the reads table (no pgbench, reports,
# mixed load, nginx or idle connections).
# --reports: only the progress reports against pgbench -N: the full answer
# (bench/report.lua) and `Prefer: return=minimal` (bench/report_minimal.lua),
# each run alternating with pgbench -N so that the ratios compare neighbours.
# --only idle: only the idle connections (no plan, no loads), --runs times,
# each with a fresh daemon; prints every run and the medians.
# --only import: only the big CSV import (bench/import.py): --import-rows rows
# uploaded as a job until done, against PostgreSQL's own COPY of the same
# rows into the same tables (indexes, foreign keys, journal), --runs times
# alternating; the medians and the ratio (issue 15: 100,000 rows < 10 s).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
conns=64 duration=10 ntasks=2000 threads=2 runs=3 idle=10000 workers=2 quick=0 reports=0 only= import_rows=100000
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) conns=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --tasks) ntasks=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --idle) idle=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --only) only=$2; shift 2 ;;
    --reports) reports=1; shift ;;
    --import-rows) import_rows=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$only" in ''|idle|import) ;; *) echo "bench: --only takes idle or import" >&2; exit 2 ;; esac

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
stop_daemon() {
  if [ -n "$daemon_pid" ]; then
    kill "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
    daemon_pid=""
  fi
}
cleanup() {
  stop_daemon
  bash "$root/scripts/pg.sh" destroy "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
load_before=$(loadavg)

echo "== starting PostgreSQL"
base=$(bash "$root/scripts/pg.sh" start "$work/pg" "$port" | tail -1)
conninfo="${base/dbname=postgres/dbname=plantrack}"
pgconn="${base/dbname=postgres/dbname=pgbench}"
psql "$base" -qc "CREATE DATABASE plantrack" -c "CREATE DATABASE pgbench"
"$bin" migrate --db "$conninfo" >/dev/null
token=$("$bin" token create --name bench --role admin --db "$conninfo" | tail -1)

# The daemon: info log (as deployed) to a file, the pool of 8 per worker.
# max_connections twice --idle: above 3/4 of it the keep-alive timeout drops to 2 s.
cat > "$work/plantrackd.conf" <<CONF
[server]
max_connections = $((idle * 2 + 1000))
max_connections_per_address = 0
keepalive_timeout = 300
read_timeout = 300
[database]
pool = 8
CONF
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
start_daemon() {
  "$bin" serve --config "$work/plantrackd.conf" --db "$conninfo" --listen "127.0.0.1:$http_port" \
      --workers "$1" 2>>"$work/daemon.log" &
  daemon_pid=$!
  for _ in $(seq 100); do curl -fs "127.0.0.1:$http_port/readyz" >/dev/null && return 0; sleep 0.1; done
  echo "bench: the daemon did not become ready" >&2; tail "$work/daemon.log" >&2; exit 1
}
rss_kb() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }

# A fresh daemon holding $idle idle keep-alive connections: sets rss_start,
# rss_idle (kB) and idle_alive.
idle_measure() {
  echo "== $idle idle keep-alive connections"
  start_daemon "$workers"
  rss_start=$(rss_kb "$daemon_pid" VmRSS)
  python3 "$here/idle.py" 127.0.0.1 "$http_port" "$idle" 6 > "$work/idle.out" 2>&1 &
  idle_pid=$!
  for _ in $(seq 600); do grep -q '^open' "$work/idle.out" 2>/dev/null && break; sleep 0.1; done
  sleep 2
  rss_idle=$(rss_kb "$daemon_pid" VmRSS)
  wait "$idle_pid" || true
  idle_alive=$(awk '$1=="alive" {print $2}' "$work/idle.out")
  stop_daemon
}
per_conn() { awk -v a="$1" -v b="$2" -v n="$idle" 'BEGIN{printf "%.2f", (a-b)/n}'; }

if [ "$only" = idle ]; then
  starts=() idles=()
  for i in $(seq "$runs"); do
    idle_measure
    echo "   idle run $i: before ${rss_start} kB, with $idle_alive/$idle connections ${rss_idle} kB," \
      "$(per_conn "$rss_idle" "$rss_start") kB per connection (load $(loadavg))"
    starts+=("$rss_start"); idles+=("$rss_idle")
  done
  rss_start=$(printf '%s\n' "${starts[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  rss_idle=$(printf '%s\n' "${idles[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo
  echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(uname -r)"
  echo "load average: before $load_before, at the end $(loadavg)"
  echo "medians of $runs runs, $workers workers: RSS with $idle idle connections" \
    "$(awk -v k="$rss_idle" 'BEGIN{printf "%.1f", k/1024}') MB (target < 32 MB);" \
    "before them $(awk -v k="$rss_start" 'BEGIN{printf "%.1f", k/1024}') MB; $(per_conn "$rss_idle" "$rss_start") kB per connection"
  exit 0
fi

if [ "$only" = import ]; then
  echo "== CSV import of $import_rows rows, $runs runs (daemon job, then PostgreSQL's COPY)"
  sed -i 's/^\[server\]$/[server]\nmax_import_body = 33554432/' "$work/plantrackd.conf"
  start_daemon "$workers"
  python3 "$here/import.py" "http://127.0.0.1:$http_port" "$token" "$conninfo" "$import_rows" "$runs"
  grep -o 'import job [^"]*' "$work/daemon.log" | sed 's/^/   /'
  stop_daemon
  echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(uname -r)"
  echo "load average: before $load_before, at the end $(loadavg)"
  exit 0
fi

echo "== creating a plan with $ntasks tasks"
year=$(date +%Y)
python3 - "$ntasks" "$year" > "$work/plan.json" <<'PY'
import json, sys
n, year = int(sys.argv[1]), int(sys.argv[2])
tasks = [{"title": f"任务{i}", "lead_unit": f"单位{i % 17}", "due_date": f"{year}-12-31",
          "targets": [{"label": "项目", "value": 10, "unit": "项"}]} for i in range(n)]
print(json.dumps({"title": "bench", "year": year, "tasks": tasks}))
PY
start_daemon "$workers"
plan=$(curl -fs -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  --data-binary @"$work/plan.json" "127.0.0.1:$http_port/v1/plans" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
psql "$conninfo" -Atc "SELECT id FROM tasks" > "$work/ids.txt"
export BENCH_TOKEN=$token BENCH_IDS=$work/ids.txt BENCH_PLAN=$plan

echo "== pgbench -i"
[ "$quick" = 1 ] || pgbench -q -i -s 10 "$pgconn" >/dev/null 2>&1

# wrk: "Requests/sec", the 99% latency line in ms, non-2xx count.
wrk_run() {
  wrk -t"$threads" -c"$conns" -d"${duration}s" --latency -s "$here/$1" \
      "http://127.0.0.1:$http_port" > "$work/wrk.out"
  local rps p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' "$work/wrk.out")
  errors=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.out")
  # the rate of 2xx answers: a saturated daemon answers 503 (queue full) fast
  rps=$(awk -v e="${errors:-0}" '/requests in/ {t=$4; sub(/,$/,"",t);
      if (t ~ /ms$/) {sub(/ms$/,"",t); t/=1000} else if (t ~ /m$/) {sub(/m$/,"",t); t*=60} else sub(/s$/,"",t);
      printf "%.2f", ($1 - e) / t}' "$work/wrk.out")
  echo "$rps ${p99:-0} ${errors:-0}"
}

# pgbench: tps and the 99th percentile from the per-transaction log, in ms.
pgbench_run() {
  rm -f "$work"/pgbench_log.*
  (cd "$work" && pgbench -n "$1" -M prepared -c "$conns" -j "$threads" -T "$duration" -l \
      "$pgconn" > "$work/pgbench.out" 2>&1)
  local tps p99
  tps=$(awk '/^tps/ {print $3; exit}' "$work/pgbench.out")
  p99=$(cat "$work"/pgbench_log.* | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {i=int(NR*0.99); if (i<1) i=1; printf "%.2f", a[i]/1000}')
  echo "$tps $p99 0"
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# The profile of a run: CPU ticks of the daemon (all its threads) and of
# PostgreSQL (the postmaster, its live children, and the children that exited,
# through the postmaster's cutime/cstime), and the WAL position.
clk_tck=$(getconf CLK_TCK)
cpu_daemon() { if [ -n "$daemon_pid" ]; then awk '{print $14 + $15}' "/proc/$daemon_pid/stat"; else echo 0; fi; }
cpu_pg() {
  local pm c
  pm=$(head -1 "$work/pg/data/postmaster.pid")
  { awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat"
    for c in $(pgrep -P "$pm"); do awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || true; done
  } | awk '{s += $1} END {print s + 0}'
}
wal_lsn() { psql "$base" -Atc "SELECT pg_current_wal_lsn()"; }
wal_bytes() { psql "$base" -Atc "SELECT pg_wal_lsn_diff('$2', '$1')"; }

# measure NAME KIND ARG: runs it $runs times; sets NAME_rps, NAME_p99, NAME_err (medians; errors summed)
# and the profile NAME_dcpu, NAME_pcpu (daemon's and PostgreSQL's CPU ms per answer), NAME_wal (WAL bytes per answer).
measure() {
  local name=$1 kind=$2 arg=$3 out rs=() ps=() es=0 ds=() pcs=() ws=() d0 p0 w0 n i
  for i in $(seq "$runs"); do
    d0=$(cpu_daemon); p0=$(cpu_pg); w0=$(wal_lsn)
    if [ "$kind" = wrk ]; then out=$(wrk_run "$arg"); else out=$(pgbench_run "$arg"); fi
    read -r r p e <<<"$out"
    n=$(awk -v r="$r" -v d="$duration" 'BEGIN {n = r * d; print (n < 1) ? 1 : n}')
    ds+=("$(awk -v a="$d0" -v b="$(cpu_daemon)" -v n="$n" -v t="$clk_tck" 'BEGIN {printf "%.3f", (b - a) * 1000 / t / n}')")
    pcs+=("$(awk -v a="$p0" -v b="$(cpu_pg)" -v n="$n" -v t="$clk_tck" 'BEGIN {printf "%.3f", (b - a) * 1000 / t / n}')")
    ws+=("$(awk -v w="$(wal_bytes "$w0" "$(wal_lsn)")" -v n="$n" 'BEGIN {printf "%.0f", w / n}')")
    rs+=("$r"); ps+=("$p"); es=$((es + ${e:-0}))
    echo "   $name run $i: $r/s p99 $p ms (load $(loadavg))"
  done
  printf -v "${name}_rps" '%s' "$(printf '%s\n' "${rs[@]}" | median)"
  printf -v "${name}_p99" '%s' "$(printf '%s\n' "${ps[@]}" | median)"
  printf -v "${name}_err" '%s' "$es"
  printf -v "${name}_dcpu" '%s' "$(printf '%s\n' "${ds[@]}" | median)"
  printf -v "${name}_pcpu" '%s' "$(printf '%s\n' "${pcs[@]}" | median)"
  printf -v "${name}_wal" '%s' "$(printf '%s\n' "${ws[@]}" | median)"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN{ok = (op == ">=") ? (v >= t) : (v < t); print ok ? "met" : "NOT met"}'; }

# --reports: full report, pgbench -N, minimal report, in turn, $runs times.
if [ "$reports" = 1 ]; then
  echo "== reports: $conns connections, ${duration}s each, $runs runs, $workers workers"
  for i in $(seq "$runs"); do
    for spec in "rep wrk report.lua" "upd pgbench -N" "repm wrk report_minimal.lua"; do
      read -r name kind arg <<<"$spec"
      runs=1 measure "${name}_$i" "$kind" "$arg"
    done
  done
  echo
  echo "machine: $(nproc) CPUs, $(uname -r); load average: before $load_before, at the end $(loadavg)"
  echo "$conns connections, ${duration}s each; plan of $ntasks tasks; ratios against the pgbench -N run between"
  echo
  printf '| %-4s | %12s | %12s | %12s | %9s | %9s |\n' run "report" "pgbench -N" "minimal" "ratio" "ratio min"
  printf '|------|-------------:|-------------:|-------------:|----------:|----------:|\n'
  for i in $(seq "$runs"); do
    a=rep_${i}_rps; b=upd_${i}_rps; c=repm_${i}_rps; ea=rep_${i}_err; ec=repm_${i}_err
    printf '| %-4s | %12.0f | %12.0f | %12.0f | %9s | %9s |\n' "$i" "${!a}" "${!b}" "${!c}" \
      "$(ratio "${!a}" "${!b}")" "$(ratio "${!c}" "${!b}")"
    [ "${!ea}${!ec}" = 00 ] || echo "(run $i: non-2xx full ${!ea}, minimal ${!ec})"
  done
  exit 0
fi

echo "== running: $conns connections, ${duration}s each, $runs runs, $threads load threads, $workers workers"
measure get wrk get_task.lua
if [ "$quick" = 0 ]; then
  measure sel pgbench -S
  measure rep wrk report.lua
  measure repm wrk report_minimal.lua
  measure upd pgbench -N
  measure lst wrk list.lua
  measure sum wrk summary.lua
  measure mix wrk mixed.lua
  measure hz wrk healthz.lua
fi

# The reads table: the running quarter and the one before it (the plan is of
# this year; in the first quarter "last quarter" is this one's first month),
# the past day is the last day of that period.
month=$(date +%-m)
qn=$(( (month - 1) / 3 + 1 ))
cur_period="${year}Q$qn"
if [ "$qn" -gt 1 ]; then
  past_period="${year}Q$((qn - 1))"
  past_day=$(date -d "$year-$(printf %02d $(( (qn - 1) * 3 - 2 )))-01 +3 months -1 day" +%F)
else
  past_period="${year}-01"
  past_day="$year-01-01"
fi
reads=(
  "list|/v1/tasks?plan=$plan&limit=50|list of 50 (cache)"
  "list_past|/v1/tasks?plan=$plan&limit=50&as_of=$past_day|list of 50 as_of $past_day"
  "sum|/v1/plans/$plan/summary|summary (cache)"
  "sum_past|/v1/plans/$plan/summary?as_of=$past_day|summary as_of $past_day"
  "rank|/v1/plans/$plan/ranking?period=$cur_period|ranking $cur_period (as of today)"
  "rank_past|/v1/plans/$plan/ranking?period=$past_period|ranking $past_period (as of its end)"
)
reads_nocache=(
  "list_nc|/v1/tasks?plan=$plan&limit=50|list of 50 (no cache)"
  "sum_nc|/v1/plans/$plan/summary|summary (no cache)"
)
measure_reads() {
  local spec name path
  for spec in "$@"; do
    IFS='|' read -r name path _ <<<"$spec"
    curl -fs -o /dev/null -H "Authorization: Bearer $token" "127.0.0.1:$http_port$path" \
      || echo "bench: GET $path failed" >&2
    BENCH_PATH=$path measure "r_$name" wrk path.lua
  done
}
measure_reads "${reads[@]}"
# the document cache off (a live setting): the list and summary computed every time
printf '[cache]\ndocuments = 0\n' >> "$work/plantrackd.conf"
kill -HUP "$daemon_pid"
sleep 1
measure_reads "${reads_nocache[@]}"

load_peak=$(loadavg)
rss_load=$(rss_kb "$daemon_pid" VmHWM)
curl -fs -H "Authorization: Bearer $token" "127.0.0.1:$http_port/v1/tasks?plan=$plan&limit=50" > "$work/list.json"
list_bytes=$(stat -c %s "$work/list.json")
stop_daemon
sed -i '/^\[cache\]$/,$d' "$work/plantrackd.conf"

reads_table() {
  echo
  echo "reads of the $ntasks-task plan (target: every one >= 500 req/s), next to the single-task read:"
  echo
  printf '| %-44s | %9s | %8s | %7s | %-7s |\n' "GET" "req/s" "p99 ms" "vs GET" ">= 500"
  printf '|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..46})" "----------:" "---------:" "--------:" "---------"
  printf '| %-44s | %9.0f | %8.2f | %7s | %-7s |\n' "/v1/tasks/{id} (cache)" "$get_rps" "$get_p99" "1.00" \
    "$(verdict "$get_rps" '>=' 500)"
  local spec name _path label v p e
  for spec in "${reads[@]}" "${reads_nocache[@]}"; do
    IFS='|' read -r name _path label <<<"$spec"
    v=r_${name}_rps; p=r_${name}_p99; e=r_${name}_err
    printf '| %-44s | %9.0f | %8.2f | %7s | %-7s |\n' "$label" "${!v}" "${!p}" "$(ratio "${!v}" "$get_rps")" \
      "$( [ "${!e}" = 0 ] && verdict "${!v}" '>=' 500 || echo "NOT met (${!e} non-2xx)")"
  done
}

# The same bytes as a static file from nginx: what this machine can send in
# answers of that size, whatever computes them.
ngx="-"
if [ "$quick" = 0 ] && command -v nginx >/dev/null 2>&1; then
  mkdir -p "$work/static" "$work/nginx"
  cp "$work/list.json" "$work/static/list.json"
  chmod -R a+rX "$work/static"
  cat > "$work/nginx/nginx.conf" <<NGX
worker_processes $workers;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  server { listen 127.0.0.1:$http_port; root $work/static; default_type application/json; }
}
NGX
  nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
  ngx_pid=$!
  for _ in $(seq 50); do curl -fs -o /dev/null "127.0.0.1:$http_port/list.json" && break; sleep 0.1; done
  measure ngx wrk static.lua
  kill "$ngx_pid" 2>/dev/null || true
  wait "$ngx_pid" 2>/dev/null || true
fi

if [ "$quick" = 0 ]; then
  idle_measure
fi
load_after=$(loadavg)

mb() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }

# Where each answer's time goes (medians of the runs): CPU per answer in the
# daemon and in PostgreSQL, WAL per answer, and the mean time an answer takes
# at that rate with every connection busy (Little's law: connections / rate).
profile_table() {
  echo
  echo "profile per answer (medians of the runs; the machine's 2 CPUs also run wrk or pgbench):"
  echo
  printf '| %-38s | %12s | %12s | %9s | %10s |\n' "workload" "daemon CPU ms" "PG CPU ms" "WAL bytes" "conns/rate"
  printf '|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..40})" "--------------:" "--------------:" "----------:" "-----------:"
  local w n label
  for w in "get|daemon GET /v1/tasks/{id}" "sel|pgbench -S" "rep|daemon POST .../updates" "repm|daemon POST .../updates, minimal" "upd|pgbench -N" \
           "lst|daemon list of 50" "sum|daemon summary" "mix|daemon mixed" "hz|daemon /healthz"; do
    IFS='|' read -r n label <<<"$w"
    local d=${n}_dcpu p=${n}_pcpu wl=${n}_wal r=${n}_rps
    [ -n "${!r:-}" ] || continue
    printf '| %-38s | %12s | %12s | %9s | %7s ms |\n' "$label" "${!d}" "${!p}" "${!wl}" \
      "$(awk -v c="$conns" -v r="${!r}" 'BEGIN {printf "%.2f", c * 1000 / r}')"
  done
}

# For each target not met, the measured reason, from this run's figures.
why_not_met() {
  local any=0
  echo
  echo "targets not met, and why (from this run's figures):"
  if [ "$(verdict "$r_get" '>=' 0.7)" != met ] || [ "$(verdict "$get_p99" '<' 10)" != met ]; then
    any=1
    echo "- single-task read: $(awk -v r="$get_rps" 'BEGIN {printf "%.0f", r}')/s, p99 $get_p99 ms. With $conns connections always busy an"
    echo "  answer waits connections/rate = $(awk -v c="$conns" -v r="$get_rps" 'BEGIN {printf "%.1f", c * 1000 / r}') ms on average (Little's law); PostgreSQL alone, at the"
    echo "  same $conns connections in this run, has p99 $sel_p99 ms. A p99 under 10 ms at $conns connections needs"
    echo "  more than $conns / 10 ms = $((conns * 100)) answers/s with little spread: CPUs not shared with the load"
    echo "  generator and the database (load average here: $load_peak)."
  fi
  if [ "$(verdict "$r_rep" '>=' 1.0)" != met ] || [ "$(verdict "$r_repm" '>=' 1.0)" != met ]; then
    any=1
    echo "- progress report: ratio $r_rep (full answer), $r_repm (Prefer: return=minimal). Per report"
    echo "  $(awk -v a="$rep_pcpu" -v m="$repm_pcpu" -v b="$upd_pcpu" 'BEGIN {printf "%.2f ms (minimal %.2f ms) of PostgreSQL CPU against %.2f ms per pgbench -N transaction", a, m, b}'),"
    echo "  $rep_wal (minimal $repm_wal) against $upd_wal bytes of WAL, plus $rep_dcpu ms in the daemon: a report writes"
    echo "  the task, its history row, its event and a journal entry (two images of the task row compared) and"
    echo "  re-evaluates the task; pgbench -N is three updates and an insert. Equal rates need a report that"
    echo "  costs PostgreSQL no more than a pgbench -N transaction (batching concurrent reports into one call,"
    echo "  journaling only the changed fields), or database CPUs not shared with the daemon."
  fi
  if [ "${idle_alive:-0}" -lt "$idle" ] || [ "$(verdict "$rss_idle" '<' 32768)" != met ]; then
    any=1
    echo "- idle connections: $(mb "$rss_start") MB before, $(mb "$rss_idle") MB with $idle_alive; under 32 MB needs at most"
    echo "  $(awk -v b="$rss_start" -v n="$idle" 'BEGIN {printf "%.2f", (32768 - b) / n}') kB per connection over that base; this run measured $(awk -v a="$rss_idle" -v b="$rss_start" -v n="$idle" 'BEGIN{printf "%.2f", (a-b)/n}') kB (see bench/README.md for where it goes)."
  fi
  [ "$any" = 1 ] || echo "- none: every target met"
}

if [ "$quick" = 1 ]; then
  echo
  echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(uname -r)"
  echo "load average: before $load_before, after the loads $load_peak, at the end $load_after"
  echo "medians of $runs runs, $conns connections, ${duration}s each; plan of $ntasks tasks (--quick: no reports written before)"
  reads_table
  exit 0
fi
r_get=$(ratio "$get_rps" "$sel_rps"); r_rep=$(ratio "$rep_rps" "$upd_rps"); r_repm=$(ratio "$repm_rps" "$upd_rps")
r_lst=$(ratio "$lst_rps" "$sel_rps"); r_sum=$(ratio "$sum_rps" "$sel_rps")

echo
echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo), $(uname -r), $(postgres -V 2>/dev/null || /usr/lib/postgresql/15/bin/postgres -V)"
echo "load average: before $load_before, after the loads $load_peak, at the end $load_after"
echo "medians of $runs runs, $conns connections, ${duration}s each; plan of $ntasks tasks"
echo
printf '| %-38s | %9s | %8s | %6s | %-16s | %-7s |\n' "workload" "req/s" "p99 ms" "ratio" "target" ""
printf '|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..40})" "----------:" "---------:" "-------:" "------------------" "---------"
row() { printf '| %-38s | %9.0f | %8.2f | %6s | %-16s | %-7s |\n' "$@"; }
row "daemon GET /v1/tasks/{id}" "$get_rps" "$get_p99" "$r_get" ">= 0.70, p99 < 10" \
    "$( [ "$(verdict "$r_get" '>=' 0.7)" = met ] && [ "$(verdict "$get_p99" '<' 10)" = met ] && echo met || echo 'NOT met')"
row "pgbench -S -M prepared" "$sel_rps" "$sel_p99" "" "" ""
row "daemon POST /v1/tasks/{id}/updates" "$rep_rps" "$rep_p99" "$r_rep" ">= 1.00" "$(verdict "$r_rep" '>=' 1.0)"
row "daemon report (return=minimal)" "$repm_rps" "$repm_p99" "$r_repm" ">= 1.00" "$(verdict "$r_repm" '>=' 1.0)"
row "pgbench -N -M prepared" "$upd_rps" "$upd_p99" "" "" ""
row "daemon GET /v1/tasks?plan=...&limit=50" "$lst_rps" "$lst_p99" "$r_lst" ">= 0.25 of -S" "$(verdict "$r_lst" '>=' 0.25)"
row "daemon GET /v1/plans/{id}/summary" "$sum_rps" "$sum_p99" "$r_sum" ">= 0.25 of -S" "$(verdict "$r_sum" '>=' 0.25)"
row "daemon mixed (80/8/4/8)" "$mix_rps" "$mix_p99" "" "" ""
row "daemon GET /healthz (reference)" "$hz_rps" "$hz_p99" "$(ratio "$hz_rps" "$sel_rps")" "" ""
[ -n "${ngx_rps:-}" ] && row "nginx static $list_bytes B = list (reference)" "$ngx_rps" "$ngx_p99" "$(ratio "$ngx_rps" "$sel_rps")" "" ""
printf '| %-38s | %9s | %8s | %6s | %-16s | %-7s |\n' "RSS peak under the loads above" "$(mb "$rss_load") MB" "" "" "< 64 MB" "$(verdict "$rss_load" '<' 65536)"
printf '| %-38s | %9s | %8s | %6s | %-16s | %-7s |\n' "RSS with $idle_alive/$idle idle conns" "$(mb "$rss_idle") MB" "" "" "< 32 MB" \
  "$( [ "${idle_alive:-0}" -ge "$idle" ] && verdict "$rss_idle" '<' 32768 || echo 'NOT met')"
echo
echo "(idle daemon before the connections: $(mb "$rss_start") MB; $(per_conn "$rss_idle" "$rss_start") kB per connection)"
echo "(non-2xx responses: GET $get_err, POST $rep_err, POST minimal $repm_err, list $lst_err, summary $sum_err, mixed $mix_err)"
profile_table
why_not_met
reads_table
