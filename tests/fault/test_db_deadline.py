"""Defect 4: no deadline of the daemon's own on database calls. With
PostgreSQL frozen (SIGSTOP) for 10 s, requests waited the whole 10 s
although statement_timeout was 5 s, and /readyz kept answering 200.

statement_timeout_ms = 2000 here, so the daemon's deadline per database call
(a little above it by default) must answer a request within 4 s with 503 or
504 problem+json, /readyz must turn 503 within 4 s, and after SIGCONT the
daemon serves again within 3 s (the stuck connections are recycled)."""
import signal
import threading

from faultlib import *  # noqa: F401,F403
from faultlib import Daemon, Database, http, limit, pg_cluster, pg_postgres_pids, plan_with_task, run, skip_without_pg

skip_without_pg()
FROZEN = 10


def test_frozen_postgresql_hits_the_daemon_deadline():
    with pg_cluster() as pg:
        db = Database(pg.conninfo)
        # no document cache: the reads below must reach the frozen database
        d = Daemon(db, config_text="[database]\nstatement_timeout_ms = 2000\n[cache]\ndocuments = 0\n")
        d.start()
        tok = d.token("supervisor")
        plan_id, task_id = plan_with_task(d, tok)
        assert http("GET", d.url + "/v1/tasks/" + task_id, token=tok).status == 200  # token cached
        pids = pg_postgres_pids(pg)
        results = {}

        def call(name, method, path, body=None):
            t0 = time.time()
            r = http(method, d.url + path, token=tok, body=body, timeout=FROZEN + 5)
            results[name] = (r, time.time() - t0)

        for p in pids:
            os.kill(p, signal.SIGSTOP)
        t_stop = time.time()
        try:
            threads = [threading.Thread(target=call, args=("read", "GET", "/v1/tasks/" + task_id)),
                       threading.Thread(target=call, args=("write", "POST", "/v1/tasks",
                                                           {"plan_id": plan_id, "title": "冻结", "lead_unit": "社会事务办"}))]
            for t in threads:
                t.start()
            not_ready = None
            while time.time() < t_stop + FROZEN:
                if not_ready is None and http("GET", d.url + "/readyz", timeout=2).status == 503:
                    not_ready = time.time() - t_stop
                time.sleep(0.1)
        finally:
            for p in pids:
                os.kill(p, signal.SIGCONT)
        t_cont = time.time()
        for t in threads:
            t.join(10)
        back = wait_until(lambda: http("GET", d.url + "/v1/tasks/" + task_id, token=tok, timeout=3).status == 200,
                          timeout=10, interval=0.05)
        back_after = time.time() - t_cont
        for name, (r, took) in sorted(results.items()):
            print("%s: %d after %.2f s (%s)" % (name, r.status, took, r.headers.get("Content-Type")))
        print("/readyz 503 after %s s; serving again %.2f s after SIGCONT" % (not_ready, back_after))
        for name, (r, took) in results.items():
            assert r.status in (503, 504), "%s answered %d" % (name, r.status)
            assert r.headers.get("Content-Type", "").startswith("application/problem+json"), r.headers
            assert took < min(limit(4.0), FROZEN - 0.5), "%s waited %.2f s on a frozen database (statement_timeout 2 s)" % (name, took)
        assert not_ready is not None and not_ready < min(limit(4.0), FROZEN - 0.5), "/readyz stayed 200 (503 after %s s)" % not_ready
        assert back and back_after < limit(3.0), "serving again %.2f s after SIGCONT" % back_after
        assert d.stop() == 0


run(globals())
