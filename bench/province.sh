#!/usr/bin/env bash
# bench/province.sh - the province's weekly reporting peak against the
# scale-out test setup (docs/scaling.md), bounded in time.
#
# Starts one PostgreSQL primary (fsync on) and a streaming standby made with
# pg_basebackup -R, two daemons that read from the standby, and haproxy in
# front; loads --plans sub-district plans of --tasks tasks each; then drives
# bench/province.lua (10% reports, 90% reads) through haproxy with wrk for
# --duration seconds, --runs times, and prints the medians against what the
# province needs at its peak (the arithmetic is in docs/scaling.md):
#   3,000 sub-districts x 200 tasks, one report per task per week, half of
#   them in a 4-hour window, a burst factor of 5 → 104 reports/s, with nine
#   reads per report.
#
# usage: bash bench/province.sh [--plans 60] [--tasks 200] [--duration 20]
#                               [--connections 64] [--runs 3] [--no-replica]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
plans=60 tasks=200 duration=20 conns=64 runs=3 replica=1
while [ $# -gt 0 ]; do
  case "$1" in
    --plans) plans=$2; shift 2 ;;
    --tasks) tasks=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --no-replica) replica=0; shift ;;
    *) echo "province: unknown option $1" >&2; exit 2 ;;
  esac
done
command -v haproxy >/dev/null || { echo "province: haproxy missing (bash scripts/deps.sh)" >&2; exit 1; }

bash "$root/scripts/deps.sh" >/dev/null
cmake -S "$root" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build-bench" -j"$(nproc)" --target plantrackd >/dev/null
bin="$root/build-bench/plantrackd"

work=$(mktemp -d /tmp/plantrack-province.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  bash "$root/scripts/pg.sh" destroy "$work/standby" >/dev/null 2>&1 || true
  bash "$root/scripts/pg.sh" destroy "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else (cd / && "$@"); fi; }
load_before=$(loadavg)

port=$((57000 + RANDOM % 500)); sport=$((port + 500))
base=$(bash "$root/scripts/pg.sh" start "$work/pg" "$port" | tail -1)
conninfo="${base/dbname=postgres/dbname=plantrack}"
psql "$base" -qc "CREATE DATABASE plantrack"
"$bin" migrate --db "$conninfo" >/dev/null
token=$("$bin" token create --name province --role supervisor --db "$conninfo" | tail -1)

cfg="$work/plantrackd.conf"
printf '[database]\npool = 8\n' > "$cfg"
if [ "$replica" = 1 ]; then
  echo "== standby (pg_basebackup -R)"
  mkdir -p "$work/standby"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$work/standby"
  as_pg pg_basebackup -D "$work/standby/data" -R -X stream -c fast -d "$base"
  sbase=$(bash "$root/scripts/pg.sh" start "$work/standby" "$sport" | tail -1)
  printf 'replica = %s\n' "${sbase/dbname=postgres/dbname=plantrack}" >> "$cfg"
fi

hp=()
for i in 0 1; do
  hp[$i]=$((19000 + RANDOM % 1000 + i * 1000))
  "$bin" serve --config "$cfg" --db "$conninfo" --listen "127.0.0.1:${hp[$i]}" --workers 1 \
      2>>"$work/daemon$i.log" &
  pids+=($!)
done
lb=$((21000 + RANDOM % 1000))
cat > "$work/haproxy.cfg" <<CFG
global
    maxconn 4000
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
frontend api
    bind 127.0.0.1:$lb
    default_backend daemons
backend daemons
    balance roundrobin
    http-reuse always
    option httpchk GET /readyz
    server d0 127.0.0.1:${hp[0]} check inter 1s
    server d1 127.0.0.1:${hp[1]} check inter 1s
CFG
haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -fs "127.0.0.1:$lb/readyz" >/dev/null && break; sleep 0.1; done

echo "== loading $plans sub-district plans of $tasks tasks"
python3 - "$plans" "$tasks" "127.0.0.1:$lb" "$token" > "$work/ids.txt" <<'PY'
import json, sys, urllib.request
plans, tasks, host, token = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
for p in range(plans):
    doc = {"title": "街道%d 2026年重点工作" % p, "year": 2026,
           "tasks": [{"title": "任务%d-%d" % (p, i), "lead_unit": "街道%d科室%d" % (p, i % 12),
                      "start_date": "2026-01-01", "due_date": "2026-%02d-28" % (1 + i % 12),
                      "cadence": "weekly", "targets": [{"label": "项目", "value": 10, "unit": "项"}]}
                     for i in range(tasks)]}
    req = urllib.request.Request("http://%s/v1/plans" % host, json.dumps(doc).encode(),
                                 {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    plan = json.load(urllib.request.urlopen(req, timeout=120))
    for t in plan["tasks"]:
        print(plan["id"], t["id"])
PY
# Per plan a writer token (the office's staff) and a reader token (its leaders):
# a token that just wrote reads from the primary, the others may use the standby.
python3 - "$work/ids.txt" "$work/tokens.sql" > "$work/rows.txt" <<'PY'
import hashlib, secrets, sys
rows = [l.split() for l in open(sys.argv[1])]
toks, sql = {}, open(sys.argv[2], "w")
for plan, task in rows:
    if plan not in toks:
        toks[plan] = ("pt_" + secrets.token_hex(20), "pt_" + secrets.token_hex(20))
        for tok, role in zip(toks[plan], ("supervisor", "viewer")):
            sql.write("INSERT INTO api_tokens (name, role, token_sha256) VALUES ('province-%s-%s', '%s', '%s');\n"
                      % (role, plan[:8], role, hashlib.sha256(tok.encode()).hexdigest()))
    print(plan, task, *toks[plan])
PY
psql "$conninfo" -q -f "$work/tokens.sql"
mv "$work/rows.txt" "$work/ids.txt"
export BENCH_TOKEN=$token BENCH_IDS=$work/ids.txt
sleep 1   # the standby replays the load

echo "== the peak: $conns connections, ${duration}s, $runs runs"
rps=() p99s=() errs=0
for i in $(seq "$runs"); do
  wrk -t2 -c"$conns" -d"${duration}s" --latency -s "$here/province.lua" "http://127.0.0.1:$lb" > "$work/wrk.out"
  r=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")
  p=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' "$work/wrk.out")
  e=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.out"); errs=$((errs + ${e:-0}))
  rps+=("$r"); p99s+=("$p")
  echo "   run $i: $r req/s, p99 $p ms (load $(loadavg))"
done
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m_rps=$(printf '%s\n' "${rps[@]}" | median); m_p99=$(printf '%s\n' "${p99s[@]}" | median)
reports=$(awk -v r="$m_rps" 'BEGIN{printf "%.0f", r*0.10}')
need=$(awk 'BEGIN{printf "%.0f", 3000*200*0.5/(4*3600)*5}')
replicated=$(for p in 0 1; do curl -fs "127.0.0.1:${hp[$p]}/metrics" | awk '/^plantrack_replica_reads_total/ {print $2}'; done | paste -sd+ | bc)
echo
echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); load average before $load_before, after $(loadavg)"
echo "setup: 1 primary$( [ "$replica" = 1 ] && echo ' + 1 streaming standby'), 2 daemons (1 worker each) behind haproxy; $plans plans x $tasks tasks"
printf '| %-44s | %10s |\n' "figure (median of $runs runs)" "value"
printf '|%s|%s|\n' "----------------------------------------------" "-----------:"
printf '| %-44s | %10.0f |\n' "requests/s through haproxy (10% reports)" "$m_rps"
printf '| %-44s | %10s |\n' "of which progress reports/s" "$reports"
printf '| %-44s | %10s |\n' "p99 ms" "$m_p99"
printf '| %-44s | %10s |\n' "province peak needs reports/s" "$need"
printf '| %-44s | %10s |\n' "headroom (reports/s measured / needed)" "$(awk -v a="$reports" -v b="$need" 'BEGIN{printf "%.1fx", a/b}')"
printf '| %-44s | %10s |\n' "reads served by the standby (all runs)" "${replicated:-0}"
printf '| %-44s | %10s |\n' "non-2xx responses" "$errs"
