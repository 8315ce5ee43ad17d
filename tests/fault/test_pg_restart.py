"""Durability: PostgreSQL restarted under write load, with a fast and with an
immediate shutdown (pg_ctl restart -m fast / -m immediate).

Writers retry each task creation with the same Idempotency-Key until it is
acknowledged. While PostgreSQL is away the daemon answers 503 with
Retry-After (never 500 or a dropped connection), it is writing again within
2 s of PostgreSQL accepting connections, and afterwards every write exists
exactly once."""
import uuid

from faultlib import *  # noqa: F401,F403
from faultlib import (Daemon, Database, Load, http, limit, pg_cluster, pg_ctl, plan_with_task, run,
                      skip_without_pg)

skip_without_pg()
CLIENTS = 8


def restart_under_load(mode):
    with pg_cluster(fast=False) as pg:
        db = Database(pg.conninfo)
        d = Daemon(db)
        d.start()
        tok = d.token("supervisor")
        plan_id, _ = plan_with_task(d, tok)
        prefix = "rst-%s-%s" % (mode, uuid.uuid4().hex[:6])
        answers = []
        last_ok = [0.0]

        def write(i, n):
            title = "%s-%02d-%05d" % (prefix, i, n)
            key = str(uuid.uuid4())
            deadline = time.time() + 30
            while time.time() < deadline:
                r = http("POST", d.url + "/v1/tasks", token=tok, timeout=10, headers={"Idempotency-Key": key},
                         body={"plan_id": plan_id, "title": title, "lead_unit": "社会事务办"})
                answers.append((r.status, r.headers.get("Retry-After")))
                if r.status in (200, 201):
                    last_ok[0] = time.time()
                    return title
                time.sleep(0.05)
            return None

        load = Load(write, CLIENTS).start()
        time.sleep(1.5)
        p = pg_ctl(pg, "restart", "-m", mode)
        assert p.returncode == 0, p.stderr
        back = time.time()
        ok = wait_until(lambda: last_ok[0] > back, timeout=10, interval=0.01)
        recovery = last_ok[0] - back
        time.sleep(1)
        titles = load.stop()
        print("%s restart: %d answers, first write %.3f s after PostgreSQL was back, statuses %s"
              % (mode, len(answers), recovery, sorted({s for s, _ in answers})))
        assert ok and recovery < limit(2.0), "writing again %.2f s after the restart" % recovery
        assert None not in titles, "a write was not acknowledged within 30 s"
        odd = [s for s, _ in answers if s not in (200, 201, 503)]
        assert not odd, "answers other than 2xx/503 during the restart: %s" % sorted(set(odd))
        assert all(ra for s, ra in answers if s == 503), "a 503 without Retry-After"
        rows = db.psql("SELECT title, count(*) FROM tasks WHERE title LIKE '%s-%%' GROUP BY title" % prefix)
        counts = dict(line.split("|") for line in rows.split("\n") if line)
        assert set(counts) == set(titles), "lost: %s" % sorted(set(titles) - set(counts))[:5]
        assert all(c == "1" for c in counts.values()), "duplicated writes"
        assert d.stop() == 0


def test_fast_restart():
    restart_under_load("fast")


def test_immediate_restart():
    restart_under_load("immediate")


run(globals())
