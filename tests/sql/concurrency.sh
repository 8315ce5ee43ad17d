#!/usr/bin/env bash
# tests/sql/concurrency.sh CONNINFO - concurrency checks against a database
# that already has the migrations and the smoke.sql data:
#  * 20 concurrent pt_task_report calls on one task all land (version +20, 20 history rows)
#  * a duplicate Idempotency-Key arriving while the first is still running -> PT409,
#    and after the first commits the same key replays its answer
set -euo pipefail
conn=$1
psql_=(psql -X -q -v ON_ERROR_STOP=1 "$conn")
pgbench=${PGBENCH:-$(command -v pgbench || echo /usr/lib/postgresql/15/bin/pgbench)}
q() { "${psql_[@]}" -tAc "$1"; }

tid=$(q "SELECT id FROM tasks WHERE title = '增设网格驿站'")
before=$(q "SELECT version FROM tasks WHERE id = '$tid'")
hist=$(q "SELECT count(*) FROM updates WHERE task_id = '$tid'")
script=$(mktemp)
trap 'rm -f "$script"' EXIT
cat >"$script" <<SQL
SELECT status FROM pt_task_report(jsonb_build_object('actor', '{"name":"bench","role":"admin"}'::jsonb,
  'cfg', '{}'::jsonb, 'id', '$tid', 'if_match', null,
  'report', jsonb_build_object('note', '并发' || :client_id, 'progress', 100)));
SQL
"$pgbench" -n -c 20 -j 20 -t 1 -f "$script" "$conn" >/dev/null
after=$(q "SELECT version FROM tasks WHERE id = '$tid'")
hist2=$(q "SELECT count(*) FROM updates WHERE task_id = '$tid'")
notes=$(q "SELECT count(DISTINCT note) FROM updates WHERE task_id = '$tid' AND note LIKE '并发%'")
[ "$after" -eq $((before + 20)) ] || { echo "FAILED: version $before -> $after, wanted +20"; exit 1; }
[ "$hist2" -eq $((hist + 20)) ] && [ "$notes" -eq 20 ] || { echo "FAILED: history $hist -> $hist2, notes $notes"; exit 1; }
echo "ok: 20 concurrent reports landed (version $before -> $after)"

# concurrent duplicate Idempotency-Key
call="SELECT status FROM pt_idem(NULL, 'slow-key', 'h', 'pt_task_report', jsonb_build_object('actor', '{\"name\":\"x\",\"role\":\"admin\"}'::jsonb, 'id', '$tid', 'report', '{\"note\":\"slow\"}'::jsonb))"
( "${psql_[@]}" -tA -c "BEGIN" -c "$call" -c "SELECT pg_sleep(2)" -c "COMMIT" >/dev/null ) &
first=$!
sleep 0.7
dup=$( ("${psql_[@]}" -tAc "$call" 2>&1 || true) | head -1)
case "$dup" in *"Request in progress"*) echo "ok: concurrent duplicate -> PT409" ;;
  *) echo "FAILED: concurrent duplicate gave: $dup"; exit 1 ;; esac
wait $first
replay=$(q "$call")
[ "$replay" = 201 ] || { echo "FAILED: replay gave $replay"; exit 1; }
[ "$(q "SELECT count(*) FROM updates WHERE note = 'slow'")" = 1 ] || { echo "FAILED: slow report ran twice"; exit 1; }
echo "ok: replay after commit, one history row"
