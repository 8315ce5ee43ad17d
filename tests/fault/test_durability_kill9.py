"""Durability: plantrackd killed with SIGKILL under a 16-client write load
loses no acknowledged write and duplicates none.

Each client creates tasks, one at a time, each with its own Idempotency-Key.
Mid-load the daemon is killed (-9) and started again on the same port; every
write whose answer never came is retried with the same key. Then every title
must exist exactly once, and every write acknowledged before the kill must be
among them. PostgreSQL runs with fsync and synchronous_commit on."""
import signal
import uuid

from faultlib import *  # noqa: F401,F403
from faultlib import Daemon, Database, Load, http, pg_cluster, plan_with_task, run, skip_without_pg, wait_until

skip_without_pg()
CLIENTS = 16


def test_kill9_under_write_load_loses_and_duplicates_nothing():
    with pg_cluster(fast=False) as pg:
        db = Database(pg.conninfo)
        d = Daemon(db)
        d.start()
        tok = d.token("supervisor")
        plan_id, _ = plan_with_task(d, tok)
        prefix = "dur-" + uuid.uuid4().hex[:8]

        def write(i, n):
            title = "%s-%02d-%05d" % (prefix, i, n)
            key = str(uuid.uuid4())
            r = http("POST", d.url + "/v1/tasks", token=tok, timeout=10,
                     headers={"Idempotency-Key": key},
                     body={"plan_id": plan_id, "title": title, "lead_unit": "社会事务办"})
            if r.status == 0:
                time.sleep(0.05)  # the daemon is gone; do not spin
            return (title, key, r.status)

        load = Load(write, CLIENTS).start()
        time.sleep(3)
        acked_before = sum(1 for _, _, s in list(load.results) if s == 201)
        d.signal(signal.SIGKILL)
        d.proc.wait(10)
        time.sleep(0.5)
        results = load.stop()
        assert acked_before > 50, "the load did not get going (%d writes)" % acked_before
        acked = {t for t, _, s in results if s == 201}
        unknown = [(t, k) for t, k, s in results if s != 201]
        bad = [s for _, _, s in results if s not in (0, 201, 503)]
        assert not bad, "unexpected answers under load: %s" % sorted(set(bad))

        d.start()
        for title, key in unknown:  # retry what was never answered, with the same key
            for _ in range(50):
                r = http("POST", d.url + "/v1/tasks", token=tok, headers={"Idempotency-Key": key},
                         body={"plan_id": plan_id, "title": title, "lead_unit": "社会事务办"})
                if r.status == 201 or r.status == 200:
                    break
                time.sleep(0.1)
            assert r.status in (200, 201), (title, r)
        rows = db.psql("SELECT title, count(*) FROM tasks WHERE title LIKE '%s-%%' GROUP BY title" % prefix)
        counts = dict(line.split("|") for line in rows.split("\n") if line)
        dup = {t: c for t, c in counts.items() if int(c) != 1}
        lost = acked - set(counts)
        print("writes acknowledged %d, unanswered then retried %d, rows %d"
              % (len(acked), len(unknown), len(counts)))
        assert not lost, "acknowledged writes lost: %s" % sorted(lost)[:5]
        assert not dup, "duplicated writes: %s" % list(dup.items())[:5]
        assert len(counts) == len(acked) + len(unknown)
        assert d.stop() == 0


run(globals())
